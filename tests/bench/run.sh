#!/usr/bin/env bash
# make bench: harness's speed as ratios to a baseline run in the same go.
#
# The baseline is `git log --raw --first-parent` over the same commits: the
# cost of reading what changed in each commit, which is the least any
# replay must do.  Figures:
#   keys/<builder>   harness keys --range over every commit (issue 3: <= 3x)
#   replay all       harness replay --strategy all, database writes
#                    included (<= 10x, peak memory < 200 MB), strategies
#                    simulated on every core (--threads default)
#   replay -j 1      the same on one simulation thread (bench set only):
#                    what the second core brings
# Each timing is the best of BENCH_RUNS rounds (default 3) to damp noise;
# ratios are of wall time (the issues' figure) and of CPU time (user + sys:
# replay writes the database on a second thread, so its CPU exceeds wall).
# Peak memory (maximum resident set) is measured on a separate replay into a
# fresh file.
#
# Histories (BENCH_SETS, default "bench long-dockerfile 40k"):
#   bench            BENCH_COMMITS (10000) commits over BENCH_FILES (3000)
#                    files, a one-line Dockerfile edit now and then
#   long-dockerfile  the same, and a LABEL appended to the Dockerfile every
#                    50th commit (about 100 legacy metadata steps a build by
#                    the end; synth --label-every 50)
#   40k              the bench history at 40,000 commits (one round, replay
#                    only: BENCH_RUNS_LONG, default 1); its peak memory must
#                    stay within 1.5 times the bench's
# BENCH_DIR keeps the generated histories for the next run.
set -eu
: "${HARNESS:?set HARNESS to the harness binary}"
commits=${BENCH_COMMITS:-10000}
files=${BENCH_FILES:-3000}
runs=${BENCH_RUNS:-3}
runs_long=${BENCH_RUNS_LONG:-1}
sets=${BENCH_SETS:-bench long-dockerfile 40k}
work=${BENCH_DIR:-$(mktemp -d /tmp/harness-bench.XXXXXX)}

now() { date +%s.%N; }
# one run of "$@" (output discarded): "wall cpu" seconds (cpu = user + sys,
# which exceeds wall when a command uses both cores)
timed() {
    /usr/bin/time -o "$work/time.out" -f '%e %U %S' "$@" >/dev/null 2>&1
    awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$work/time.out"
}
peak_kb() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1; }
ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }

# gen DIR COMMITS [synth options...]: generate a history unless kept
gen() {
    local dir=$1 n=$2 t0
    shift 2
    if [ ! -d "$dir/.git" ]; then
        echo "bench: generating $n commits over $files files in $dir $*"
        t0=$(now)
        "$HARNESS" synth --out "$dir" --commits "$n" --files "$files" \
            --seed 7 --template python "$@" >/dev/null
        printf 'bench: synth took %.1f s\n' "$(echo "$(now) - $t0" | bc -l)"
    fi
}

declare -A peak
# one history: NAME DIR ROUNDS WHAT... (WHAT: kb kl rp)
bench_one() {
    local label=$1 repo=$2 rounds=$3 i w t tw tc mem rows builds n base
    shift 3
    local names=(base "$@")
    declare -A wall cpu
    n=$(git -C "$repo" rev-list --count --first-parent HEAD)
    # The machine's speed drifts over tens of seconds: each round times
    # every command once, in turn, and each figure is the best over the
    # rounds.
    for i in $(seq "$rounds"); do
        for w in "${names[@]}"; do
            case $w in
            base) t=$(timed git -C "$repo" log --raw --first-parent --format=%H) ;;
            kb) t=$(timed "$HARNESS" keys --repo "$repo" --range HEAD --first-parent --builder buildkit --format json) ;;
            kl) t=$(timed "$HARNESS" keys --repo "$repo" --range HEAD --first-parent --builder legacy --format json) ;;
            rp) rm -f "$work/b.db" "$work/b.db-wal" "$work/b.db-shm"
                t=$(timed "$HARNESS" replay --repo "$repo" --first-parent --strategy all --db "$work/b.db" -q) ;;
            r1) rm -f "$work/b.db" "$work/b.db-wal" "$work/b.db-shm"
                t=$(timed "$HARNESS" replay --repo "$repo" --first-parent --strategy all --db "$work/b.db" -q --threads 1) ;;
            esac
            read -r tw tc <<<"$t"
            if [ -z "${wall[$w]:-}" ] || [ "$(echo "$tw < ${wall[$w]}" | bc -l)" = 1 ]; then wall[$w]=$tw; fi
            if [ -z "${cpu[$w]:-}" ] || [ "$(echo "$tc < ${cpu[$w]}" | bc -l)" = 1 ]; then cpu[$w]=$tc; fi
        done
    done
    base=${wall[base]}
    rm -f "$work/b.db"* "$work/m.db"*
    mem=$(peak_kb "$HARNESS" replay --repo "$repo" --first-parent --strategy all --db "$work/m.db" -q)
    peak[$label]=$mem
    rows=$(sqlite3 "$work/m.db" 'select count(*) from steps')
    builds=$(sqlite3 "$work/m.db" 'select count(*) from builds')
    rm -f "$work/m.db"*
    echo
    echo "bench $label: $n commits, $files files; best of $rounds runs"
    printf '%-28s %9s %9s %9s %9s %12s\n' "what" "seconds" "ratio" "cpu s" "cpu ratio" "commits/s"
    row() {
        printf '%-28s %9s %9s %9s %9s %12.0f\n' "$1" "${wall[$2]}" \
            "$(ratio "${wall[$2]}" "$base")" "${cpu[$2]}" \
            "$(ratio "${cpu[$2]}" "${cpu[base]}")" "$(echo "$n / ${wall[$2]}" | bc -l)"
    }
    row "git log --raw --first-parent" base
    for w in "$@"; do
        case $w in
        kb) row "keys --builder buildkit" kb ;;
        kl) row "keys --builder legacy" kl ;;
        rp) row "replay --strategy all" rp ;;
        r1) row "replay ... --threads 1" r1 ;;
        esac
    done
    echo "replay ($label): $builds builds, $rows step rows, peak memory $((mem / 1024)) MB; load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

for s in $sets; do
    case $s in
    bench) gen "$work/repo" "$commits"
           bench_one bench "$work/repo" "$runs" kb kl rp r1 ;;
    long-dockerfile) gen "$work/repo-labels" "$commits" --label-every 50
           bench_one long-dockerfile "$work/repo-labels" "$runs" rp ;;
    40k) gen "$work/repo-40k" 40000
           bench_one 40k "$work/repo-40k" "$runs_long" rp ;;
    *) echo "bench: unknown set '$s' (bench, long-dockerfile, 40k)" >&2; exit 2 ;;
    esac
done
if [ -n "${peak[bench]:-}" ] && [ -n "${peak[40k]:-}" ]; then
    echo
    echo "peak memory: 40k / bench = $(ratio "${peak[40k]}" "${peak[bench]}") (at most 1.50)"
fi
[ -n "${BENCH_DIR:-}" ] || rm -rf "$work"
