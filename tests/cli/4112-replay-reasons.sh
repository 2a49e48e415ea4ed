#!/usr/bin/env bash
# replay: a persistent runner's misses carry, commit after commit, the
# reasons `harness explain` gives for the same pair of commits (the replay
# works them out once per step for all strategies, a changed file once for
# both builders, and writes each text once per commit: a text of the
# commit before must never stay).
set -u
. "$(dirname "$0")/lib.sh"
"$HARNESS" synth --out repo --commits 10 --files 20 --seed 3 \
    --template python --label-every 2 >/dev/null || die "synth"
"$HARNESS" replay --repo repo --db r.db -q --strategy all || die "replay"
git -C repo rev-list --reverse HEAD > commits
for s in local-legacy:legacy local:buildkit; do
    st=${s%%:*} b=${s##*:}
    for k in $(seq 1 9); do
        prev=$(sed -n "${k}p" commits) cur=$(sed -n "$((k + 1))p" commits)
        want=$("$HARNESS" explain --repo repo "$prev" "$cur" --builder "$b" \
            --format json | jq -r '.[0].steps[] | select(.outcome == "miss")
                                   | "\(.line) \(.reason)"') ||
            die "explain $k"
        got=$(sqlite3 r.db "select s.line || ' ' || coalesce(s.reason, '')
            from builds b join steps s on s.build_id = b.id
            where b.strategy = '$st' and b.seq = $k and s.outcome = 'miss'
            order by s.step_index")
        echo "$want" | sed "s/^/$b /" >> compared
        [ "$got" = "$want" ] ||
            die "$st, commit $k: reasons differ: $(diff <(echo "$want") <(echo "$got"))"
    done
done
grep -q "follows a miss at line" compared || die "no \"follows a miss\" compared"
# a changed file, named for both builders' COPY (the replay finds it once)
for b in legacy buildkit; do
    grep -q "^$b [0-9]* src/.*\.py changed$" compared ||
        die "no changed file compared for $b"
done
[ "$(grep -c . compared)" -ge 50 ] || die "too few misses compared"
exit 0
