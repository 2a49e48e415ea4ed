#!/usr/bin/env bash
# A commit whose COPY source is missing, and one whose Dockerfile does not
# parse, are recorded as failed builds; the replay goes on and the next
# good commit builds on the last successful image.
set -u
. "$(dirname "$0")/lib.sh"
make_python_repo repo
cd repo
git rm -q requirements.txt && git commit -qm "drop requirements"
git checkout -q HEAD~1 -- requirements.txt && git commit -qm "restore"
printf 'FROM python:3.12-slim\nFROBNICATE x\n' > Dockerfile && git commit -qam "broken"
git checkout -q HEAD~1 -- Dockerfile && git commit -qm "fixed"
cd ..
"$HARNESS" replay --repo repo --db h.db -q --strategy local,inline || die "replay failed"
st=$(sqlite3 h.db "select seq || ':' || status from builds where strategy = 'inline' order by seq" | tr '\n' ' ')
[ "$st" = "0:ok 1:ok 2:ok 3:ok 4:ok 5:failed 6:ok 7:failed 8:ok " ] || die "statuses: $st"
err=$(sqlite3 h.db "select error from builds where strategy = 'local' and seq = 5")
case "$err" in *"requirements.txt"*) ;; *) die "missing-source error: $err";; esac
err=$(sqlite3 h.db "select error from builds where strategy = 'local' and seq = 7")
case "$err" in *"Dockerfile:2"*) ;; *) die "parse error: $err";; esac
# build 8 equals build 6, the last successful one: a full hit locally
hits=$(sqlite3 h.db "select steps_miss from builds where strategy = 'local' and seq = 8")
[ "$hits" -eq 0 ] || die "build after failures missed $hits steps"
exit 0
