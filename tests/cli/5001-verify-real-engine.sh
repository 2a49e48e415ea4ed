#!/usr/bin/env bash
# On the engine of ci/docker-up (if it is up and no other run holds its
# lock): a two-commit history, built for real under local and local-legacy,
# agrees with the simulation step by step and is recorded.  Skips otherwise.
set -u
. "$(dirname "$0")/lib.sh"
STATE=${HARNESS_DOCKER_STATE:-/tmp/harness-docker}
[ -s "$STATE/env" ] || skip_live "no $STATE/env (ci/docker-up)"
# shellcheck disable=SC1091
. "$STATE/env"
/usr/bin/docker version >/dev/null 2>&1 || skip_live "engine at $DOCKER_HOST does not answer"
hold_engine_lock
exec 8> "$STATE/build.lock"
flock -n 8 || skip_live "another run holds $STATE/build.lock"
mkdir repo && cd repo && git init -q -b main .
printf 'FROM 127.0.0.1:5000/base:1\nWORKDIR /app\nCOPY dep.txt .\nRUN cat dep.txt > /dep\nCOPY . .\nRUN ls > /list\nLABEL a=1\n' > Dockerfile
printf '.git\n' > .dockerignore
echo 1 > dep.txt; echo a > main.sh
git add -A && git commit -qm one
echo b > main.sh && git commit -qam two
cd ..
"$HARNESS" verify --repo repo --strategy local,local-legacy,inline --sample 2 \
    --db v.db > out 2> err
rc=$?
[ $rc -eq 0 ] || die "exit $rc: $(cat out err)"
grep -Eq '^local +2 +0 +2 +10/10 ' out || die "local row: $(cat out)"
grep -Eq '^local-legacy +2 +0 +2 +12/12 ' out || die "local-legacy row: $(cat out)"
grep -q '^inline .*skipped: needs a registry' out || die "inline not skipped: $(cat out)"
[ "$(sqlite3 v.db 'SELECT count(*) FROM real_builds')" = 4 ] || die "real_builds"
[ "$(sqlite3 v.db "SELECT count(*) FROM real_steps WHERE outcome = 'hit' AND line = 4")" = 2 ] ||
    die "RUN line 4 should hit in the second build of both strategies"
ls v.db.logs/*/local-1-*.log >/dev/null || die "no kept log"
exit 0
