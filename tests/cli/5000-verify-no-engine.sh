#!/usr/bin/env bash
# Without a reachable engine, verify says so and exits 3 without creating
# the database; usage errors exit 2; --help exits 0.
set -u
. "$(dirname "$0")/lib.sh"
make_python_repo repo
"$HARNESS" verify --help > help || die "help exit"
grep -q -- '--sample K' help || die "help lacks --sample"
grep -q -- '--docker-host URL' help || die "help lacks --docker-host"
"$HARNESS" verify --repo repo --docker-host unix:///nonexistent.sock --db h.db 2>err
rc=$?
[ $rc -eq 3 ] || die "no engine: exit $rc, want 3"
grep -q "no Docker engine at 'unix:///nonexistent.sock'" err || die "message: $(cat err)"
grep -q "^hint: " err || die "no hint line: $(cat err)"
[ ! -e h.db ] || die "database created without an engine"
[ ! -e h.db.logs ] || die "logs folder created without an engine"
"$HARNESS" verify --repo repo --strategy gha --docker-host unix:///nonexistent.sock 2>err
[ $? -eq 2 ] || die "unsupported strategy: exit"
grep -q "strategy 'gha' cannot be run on a Docker 20.10 engine" err || die "strategy message: $(cat err)"
"$HARNESS" verify --repo repo --sample 0 2>err; [ $? -eq 2 ] || die "sample 0"
exit 0
