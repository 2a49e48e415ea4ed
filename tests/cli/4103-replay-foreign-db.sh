#!/usr/bin/env bash
# A file that is not a harness database is refused and left untouched.
set -u
. "$(dirname "$0")/lib.sh"
make_python_repo repo
echo "not a database" > notes.txt
cp notes.txt before
"$HARNESS" replay --repo repo --db notes.txt -q 2>err; rc=$?
[ "$rc" -eq 3 ] || die "exit $rc"
grep -q "notes.txt: not a harness database" err || die "message: $(cat err)"
cmp -s notes.txt before || die "file was modified"
sqlite3 other.db 'create table t(x); insert into t values (1)'
cp other.db other.before
"$HARNESS" replay --repo repo --db other.db -q 2>err; [ $? -eq 3 ] || die "foreign sqlite accepted"
cmp -s other.db other.before || die "foreign sqlite modified"
exit 0
