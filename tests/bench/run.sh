#!/usr/bin/env bash
# make bench: harness's speed as ratios to a baseline run in the same go.
#
# The baseline is `git log --raw --first-parent` over the same commits: the
# cost of reading what changed in each commit, which is the least any
# replay must do.  Figures:
#   keys/<builder>   harness keys --range over every commit (issue 3: <= 3x)
#   replay all       harness replay --strategy all, database writes
#                    included (issue 4: <= 10x, peak memory < 200 MB)
# Each timing is the best of BENCH_RUNS rounds (default 3) to damp noise;
# ratios are of wall time (the issues' figure) and of CPU time (user + sys:
# replay writes the database on a second thread, so its CPU exceeds wall).
# BENCH_COMMITS and BENCH_FILES size the generated history (10000, 3000).
set -eu
: "${HARNESS:?set HARNESS to the harness binary}"
commits=${BENCH_COMMITS:-10000}
files=${BENCH_FILES:-3000}
runs=${BENCH_RUNS:-3}
work=${BENCH_DIR:-$(mktemp -d /tmp/harness-bench.XXXXXX)}
repo=$work/repo

now() { date +%s.%N; }
# one run of "$@" (output discarded): "wall cpu" seconds (cpu = user + sys,
# which exceeds wall when a command uses both cores)
timed() {
    /usr/bin/time -o "$work/time.out" -f '%e %U %S' "$@" >/dev/null 2>&1
    awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$work/time.out"
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
# The machine's speed drifts over tens of seconds: each round times every
# command once, in turn, and each figure is the best over the rounds.
declare -A wall cpu
names=(base kb kl rp)
for i in $(seq "$runs"); do
    for w in "${names[@]}"; do
        case $w in
        base) t=$(timed git -C "$repo" log --raw --first-parent --format=%H) ;;
        kb) t=$(timed "$HARNESS" keys --repo "$repo" --range HEAD --first-parent --builder buildkit --format json) ;;
        kl) t=$(timed "$HARNESS" keys --repo "$repo" --range HEAD --first-parent --builder legacy --format json) ;;
        rp) rm -f "$work/b.db" "$work/b.db-wal" "$work/b.db-shm"
            t=$(timed "$HARNESS" replay --repo "$repo" --first-parent --strategy all --db "$work/b.db" -q) ;;
        esac
        read -r tw tc <<<"$t"
        if [ -z "${wall[$w]:-}" ] || [ "$(echo "$tw < ${wall[$w]}" | bc -l)" = 1 ]; then wall[$w]=$tw; fi
        if [ -z "${cpu[$w]:-}" ] || [ "$(echo "$tc < ${cpu[$w]}" | bc -l)" = 1 ]; then cpu[$w]=$tc; fi
    done
done
base=${wall[base]}
rm -f "$work/b.db"* "$work/m.db"*
mem=$(peak_kb "$HARNESS" replay --repo "$repo" --first-parent --strategy all --db "$work/m.db" -q)
rows=$(sqlite3 "$work/m.db" 'select count(*) from steps')
builds=$(sqlite3 "$work/m.db" 'select count(*) from builds')
ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }
echo
echo "bench: $n commits, $files files; best of $runs runs"
printf '%-28s %9s %9s %9s %9s %12s\n' "what" "seconds" "ratio" "cpu s" "cpu ratio" "commits/s"
row() {
    printf '%-28s %9s %9s %9s %9s %12.0f\n' "$1" "${wall[$2]}" \
        "$(ratio "${wall[$2]}" "$base")" "${cpu[$2]}" \
        "$(ratio "${cpu[$2]}" "${cpu[base]}")" "$(echo "$n / ${wall[$2]}" | bc -l)"
}
row "git log --raw --first-parent" base
row "keys --builder buildkit" kb
row "keys --builder legacy" kl
row "replay --strategy all" rp
echo "replay: $builds builds, $rows step rows, peak memory $((mem / 1024)) MB"
[ -n "${BENCH_DIR:-}" ] || rm -rf "$work"
