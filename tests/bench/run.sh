#!/usr/bin/env bash
# make bench: harness's speed as ratios to a baseline run in the same go.
#
# The baseline is `git log --raw --first-parent` over the same commits: the
# cost of reading what changed in each commit, which is the least any
# replay must do.  Figures:
#   keys/<builder>   harness keys --range over every commit (issue 3: <= 3x)
#   replay all       harness replay --strategy all, database writes
#                    included (issue 4: <= 10x, peak memory < 200 MB)
# Each timing is the best of BENCH_RUNS runs (default 3) to damp noise.
# BENCH_COMMITS and BENCH_FILES size the generated history (10000, 3000).
set -eu
: "${HARNESS:?set HARNESS to the harness binary}"
commits=${BENCH_COMMITS:-10000}
files=${BENCH_FILES:-3000}
runs=${BENCH_RUNS:-3}
work=${BENCH_DIR:-$(mktemp -d /tmp/harness-bench.XXXXXX)}
repo=$work/repo

now() { date +%s.%N; }
# best wall time of $runs runs of "$@" (output discarded)
best() {
    local b="" t0 t1 d i
    for i in $(seq "$runs"); do
        t0=$(now); "$@" >/dev/null 2>&1; t1=$(now)
        d=$(echo "$t1 - $t0" | bc -l)
        if [ -z "$b" ] || [ "$(echo "$d < $b" | bc -l)" = 1 ]; then b=$d; fi
    done
    printf '%.3f' "$b"
}
peak_kb() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1; }

if [ ! -d "$repo/.git" ]; then
    echo "bench: generating $commits commits over $files files in $repo"
    t0=$(now)
    "$HARNESS" synth --out "$repo" --commits "$commits" --files "$files" \
        --seed 7 --template python >/dev/null
    printf 'bench: synth took %.1f s\n' "$(echo "$(now) - $t0" | bc -l)"
fi
n=$(git -C "$repo" rev-list --count --first-parent HEAD)
base=$(best git -C "$repo" log --raw --first-parent --format=%H)
kb=$(best "$HARNESS" keys --repo "$repo" --range HEAD --first-parent --builder buildkit --format json)
kl=$(best "$HARNESS" keys --repo "$repo" --range HEAD --first-parent --builder legacy --format json)
replay_once() { rm -f "$work/b.db" "$work/b.db-wal" "$work/b.db-shm"; "$HARNESS" replay --repo "$repo" --first-parent --strategy all --db "$work/b.db" -q; }
rp=$(best replay_once)
rm -f "$work/b.db"*
mem=$(peak_kb "$HARNESS" replay --repo "$repo" --first-parent --strategy all --db "$work/m.db" -q)
rows=$(sqlite3 "$work/m.db" 'select count(*) from steps')
builds=$(sqlite3 "$work/m.db" 'select count(*) from builds')
ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }
echo
echo "bench: $n commits, $files files; best of $runs runs"
printf '%-28s %9s %9s %12s\n' "what" "seconds" "ratio" "commits/s"
printf '%-28s %9s %9s %12.0f\n' "git log --raw --first-parent" "$base" "1.00" "$(echo "$n / $base" | bc -l)"
printf '%-28s %9s %9s %12.0f\n' "keys --builder buildkit" "$kb" "$(ratio "$kb" "$base")" "$(echo "$n / $kb" | bc -l)"
printf '%-28s %9s %9s %12.0f\n' "keys --builder legacy" "$kl" "$(ratio "$kl" "$base")" "$(echo "$n / $kl" | bc -l)"
printf '%-28s %9s %9s %12.0f\n' "replay --strategy all" "$rp" "$(ratio "$rp" "$base")" "$(echo "$n / $rp" | bc -l)"
echo "replay: $builds builds, $rows step rows, peak memory $((mem / 1024)) MB"
[ -n "${BENCH_DIR:-}" ] || rm -rf "$work"
