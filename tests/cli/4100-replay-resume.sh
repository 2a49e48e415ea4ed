#!/usr/bin/env bash
# Rerunning the same replay resumes: builds already recorded are not
# written again, and builds lost to an interruption are written.
set -u
. "$(dirname "$0")/lib.sh"
make_python_repo repo
"$HARNESS" replay --repo repo --db h.db -q || die "first replay failed"
n1=$(sqlite3 h.db 'select count(*) from builds')
ns=$(sqlite3 h.db 'select count(distinct strategy) from builds')
[ "$ns" -ge 11 ] || die "want every strategy, got $ns"
[ "$n1" -eq $((5 * ns)) ] || die "want 5 commits x $ns strategies = $((5 * ns)) builds, got $n1"
steps1=$(sqlite3 h.db 'select count(*) from steps')
dump1=$(sqlite3 h.db 'select b.strategy, b.seq, s.line, s.outcome, s.reason from builds b join steps s on s.build_id = b.id order by 1,2,3')
xf1=$(sqlite3 h.db 'select b.strategy, b.seq, t.seq, t.direction, t.digest, t.bytes, t.kind from builds b join transfers t on t.build_id = b.id order by 1,2,3')
# lose the last two commits' builds, as an interrupted replay would (their
# steps and transfers go with them: the views show only those of builds)
sqlite3 h.db "delete from builds where seq >= 3"
[ "$(sqlite3 h.db 'select count(*) from steps s join builds b on b.id = s.build_id where b.seq >= 3')" -eq 0 ] || die "steps of deleted builds"
[ "$(sqlite3 h.db 'select count(*) from builds')" -eq $((3 * ns)) ] || die "delete"
"$HARNESS" replay --repo repo --db h.db -q || die "resume failed"
[ "$(sqlite3 h.db 'select count(*) from builds')" -eq "$n1" ] || die "resume did not restore $n1 builds"
[ "$(sqlite3 h.db 'select count(*) from steps')" -eq "$steps1" ] || die "steps differ after resume"
dump2=$(sqlite3 h.db 'select b.strategy, b.seq, s.line, s.outcome, s.reason from builds b join steps s on s.build_id = b.id order by 1,2,3')
[ "$dump1" = "$dump2" ] || die "resumed rows differ from the first run"
xf2=$(sqlite3 h.db 'select b.strategy, b.seq, t.seq, t.direction, t.digest, t.bytes, t.kind from builds b join transfers t on t.build_id = b.id order by 1,2,3')
[ "$xf1" = "$xf2" ] || die "resumed transfers differ from the first run"
[ "$(sqlite3 h.db 'select count(*) from runs')" -eq 1 ] || die "resume created a second run"
# the same command again writes nothing new
"$HARNESS" replay --repo repo --db h.db -q || die "third replay failed"
[ "$(sqlite3 h.db 'select count(*) from builds')" -eq "$n1" ] || die "duplicates"
# other options are another run
"$HARNESS" replay --repo repo --db h.db -q --strategy local --runners 2 || die "second run"
[ "$(sqlite3 h.db 'select count(*) from runs')" -eq 2 ] || die "want 2 runs"
exit 0
