#!/usr/bin/env bash
# kill -9 in the middle of a replay leaves only whole builds; running the
# same command again completes it without duplicates.
set -u
. "$(dirname "$0")/lib.sh"
"$HARNESS" synth --out repo --commits 1500 --files 60 --seed 3 >/dev/null || die "synth"
"$HARNESS" replay --repo repo --db h.db -q --first-parent &
pid=$!
# wait until the first batch is committed (however loaded the machine: up
# to 5 minutes, or until the replay ends), then kill without warning
for _ in $(seq 3000); do
    n=$(sqlite3 -readonly h.db 'select count(*) from builds' 2>/dev/null)
    [ "${n:-0}" -gt 0 ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
partial=$(sqlite3 h.db 'select count(*) from builds') || die "no builds table after the kill (waited for the first batch)"
[ "$partial" -lt 19500 ] || echo "note: the replay finished before the kill"
# every recorded build is whole: its steps_hit + steps_miss match its steps
bad=$(sqlite3 h.db "select count(*) from builds b where b.status = 'ok' and b.steps_hit + b.steps_miss != (select count(*) from steps s where s.build_id = b.id and s.outcome in ('hit','miss'))")
[ "${bad:-x}" = 0 ] || die "${bad:-?} partial builds after kill -9"
"$HARNESS" replay --repo repo --db h.db -q --first-parent || die "resume failed"
total=$(sqlite3 h.db 'select count(*) from builds')
ns=$(sqlite3 h.db 'select count(distinct strategy) from builds')
[ "$ns" -ge 11 ] || die "want every strategy, got $ns"
[ "$total" -eq $((1500 * ns)) ] || die "want 1500 x $ns builds after resume, got $total (partial was $partial)"
dups=$(sqlite3 h.db 'select count(*) from (select 1 from builds group by run_id, strategy, commit_sha having count(*) > 1)')
[ "$dups" -eq 0 ] || die "duplicates"
exit 0
