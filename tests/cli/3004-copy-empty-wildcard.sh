#!/usr/bin/env bash
# A COPY wildcard that matches nothing, as Docker 20.10 builds it:
# BuildKit copies the other sources (or nothing) and the build goes on; the
# legacy builder fails with "no source files were specified" only when no
# source matched at all.  A literal path that is missing fails both.  When
# a later commit adds a file the wildcard matches, the COPY misses.
set -u
. "$(dirname "$0")/lib.sh"
st() { # DB STRATEGY: the builds' statuses, in commit order
    sqlite3 "$1" "select group_concat(status, ' ') from (select status from builds where strategy = '$2' order by seq)"
}
mkdir repo && cd repo && git init -q -b main .
printf 'FROM busybox:1.36\nCOPY *.nothing /x/\nRUN ls /x\n' > Dockerfile
printf '.git\n' > .dockerignore
echo a > a.txt
git add -A && git commit -qm one
printf 'FROM busybox:1.36\nCOPY a.txt *.nothing /x/\nRUN ls /x\n' > Dockerfile
git commit -qam two
printf 'FROM busybox:1.36\nCOPY a.txt nothing.txt /x/\nRUN ls /x\n' > Dockerfile
git commit -qam three
printf 'FROM busybox:1.36\nCOPY a.txt *.nothing /x/\nRUN ls /x\n' > Dockerfile
git commit -qam four
echo b > b.nothing && git add b.nothing && git commit -qm five
cd ..
"$HARNESS" replay --repo repo --strategy local,local-legacy --db g.db -q || die "replay"
[ "$(st g.db local)" = "ok ok failed ok ok" ] || die "buildkit: $(st g.db local)"
[ "$(st g.db local-legacy)" = "failed ok failed ok ok" ] || die "legacy: $(st g.db local-legacy)"
sqlite3 g.db "select error from builds where strategy = 'local-legacy' and seq = 0" |
    grep -q 'Dockerfile:2: COPY failed: no source files were specified' ||
    die "legacy message: $(sqlite3 g.db 'select seq, error from builds where status = "failed"')"
sqlite3 g.db "select error from builds where strategy = 'local' and seq = 2" | grep -q "nothing.txt" ||
    die "a missing literal path: $(sqlite3 g.db 'select seq, error from builds where status = "failed"')"
# the wildcard's first match busts the COPY (commit five); commit four hits
o=$(sqlite3 g.db "select b.seq, s.outcome from builds b join steps s on s.build_id = b.id
    where b.strategy = 'local' and s.line = 2 and b.seq >= 3 order by b.seq")
[ "$o" = "$(printf '3|hit\n4|miss')" ] || die "COPY outcomes: $o"
exit 0
