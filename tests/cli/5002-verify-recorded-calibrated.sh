#!/usr/bin/env bash
# harness verify --real: the real Docker 20.10 builds recorded once
# (tests/fixtures/accuracy) compared with the simulation without an engine,
# first uncalibrated, then calibrated from the scenario's first builds'
# logs, docker history and manifest as replay takes them: the calibrated
# run reports different figures, closer to the real ones (build seconds
# and bytes).  Malformed --real or calibration files exit 4 before any
# engine is looked for.
set -u
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
fx=$root/tests/fixtures/accuracy
HARNESS_REGISTRY_ADDR=127.0.0.1:5010 "$root/ci/conformance-scenarios" scen good-order > /dev/null ||
    die "could not write the scenarios"
sc=good-order
want=$(jq -r --arg sc "$sc" 'select(.scenario == $sc) | .commit' "$fx/real.jsonl" | tail -1)
[ "$(git -C "scen/$sc" rev-parse HEAD)" = "$want" ] || die "scenario does not reproduce the recorded commits"
common=(--repo "scen/$sc" --real "$fx/real.jsonl" --registry 127.0.0.1:5010
        --docker-host unix:///nonexistent.sock -q)
"$HARNESS" verify "${common[@]}" --db plain.db > plain.txt 2> err || die "uncalibrated: $(cat plain.txt err)"
"$HARNESS" verify "${common[@]}" --db cal.db --timings "$fx/logs/$sc-none-0.ci.log" \
    --timings "$fx/logs/$sc-local-legacy-0.ci.log" --layers "$fx/logs/$sc-local-0.history.jsonl" \
    --manifest "$fx/logs/$sc-local-0.manifest.json" > cal.txt 2> err || die "calibrated: $(cat cal.txt err)"
grep -q '^model: docker-20.10, not calibrated' plain.txt || die "model line: $(cat plain.txt)"
grep -q '^model: docker-20.10, calibrated 4 of 4 RUN/COPY/ADD steps' cal.txt || die "model line: $(cat cal.txt)"
# every step agrees either way: calibration moves figures, not decisions
for f in plain.txt cal.txt; do
    [ "$(grep -cE '^(none|local|local-legacy|cache-from-legacy|cache-from-buildkit|inline) +12 +0 +12 ' $f)" -eq 6 ] ||
        die "want 6 rows of 12 compared builds: $(cat $f)"
    grep -q '60/60' $f && grep -q '108/108' $f || die "steps: $(cat $f)"
done
# field 9 build s real, 10 model, 11 error; the bytes column is the last
row() { grep -E "^$2 " "$1" | tr -d '|' | awk '{print $'"$3"'}'; }
closer=0
for s in none local local-legacy cache-from-legacy cache-from-buildkit inline; do
    r=$(row cal.txt $s 6); [ "$r" = "$(row plain.txt $s 6)" ] || die "$s: real seconds differ"
    p=$(row plain.txt $s 7); c=$(row cal.txt $s 7)
    [ "$p" != "$c" ] || die "$s: calibration left the build seconds at $p"
    awk -v r="$r" -v p="$p" -v c="$c" 'BEGIN { d1 = p - r; d2 = c - r; exit !((d2 < 0 ? -d2 : d2) < (d1 < 0 ? -d1 : d1)) }' &&
        closer=$((closer + 1))
    grep -E "^$s " cal.txt | grep -q '| 12/12 (' || die "$s: calibrated bytes not all within bound: $(cat cal.txt)"
    grep -E "^$s " plain.txt | grep -q '| 12/12 (' && die "$s: uncalibrated bytes within bound (the 50 MB base?)"
done
# the strategies' errors in build seconds add up to less too (each row's
# error counted whole: over- and under-predictions do not cancel), and most
# rows are closer
tot() { grep -E '^(none|local|cache-from|inline)' "$1" | tr -d '|' | awk '{d = $7 - $6; e += (d < 0 ? -d : d)} END {print e}'; }
awk -v a="$(tot cal.txt)" -v b="$(tot plain.txt)" 'BEGIN { exit !(a < b) }' ||
    die "calibrated total error $(tot cal.txt) s not below uncalibrated $(tot plain.txt) s"
[ "$closer" -ge 4 ] || die "only $closer of 6 strategies closer: $(cat plain.txt cal.txt)"
[ "$(sqlite3 cal.db 'select count(*) from real_builds')" = 72 ] || die "recorded builds not stored"
# the two runs are different simulations (calibration is part of the run's options)
[ "$(sqlite3 cal.db "select count(*) from runs where options like '%\"timings\"%'")" = 1 ] || die "run options"
# --format json: the same figures
"$HARNESS" verify "${common[@]}" --db cal.db --format json --timings "$fx/logs/$sc-none-0.log" \
    --layers "$fx/logs/$sc-local-0.history.jsonl" --manifest "$fx/logs/$sc-local-0.manifest.json" > cal.json ||
    die "json: exit $?"
jq -e '.recorded and (.strategies | length == 6) and all(.strategies[]; .bytes.within_bound == 12
       and .bytes.builds == 12 and .build_seconds.real > 0 and .pull_push_seconds.builds == 12
       and .steps == .steps_agree and (.disagreements | length == 0))' cal.json > /dev/null ||
    die "json: $(cat cal.json)"
[ "$(jq -r '.strategies[] | select(.strategy == "none") | .build_seconds.real * 10 | round / 10' cal.json)" = "$(row cal.txt none 6)" ] ||
    die "json and text differ: $(jq -c '.strategies[0]' cal.json) / $(grep '^none ' cal.txt)"
# malformed and foreign files: FILE:LINE, exit 4, no engine asked
printf '{"strategy":"none","commit":"abc","status":"ok","seconds_build":1}\n' > bad.jsonl
"$HARNESS" verify "${common[@]/$fx\/real.jsonl/bad.jsonl}" --db x.db > out 2> err; rc=$?
[ $rc -eq 4 ] || die "bad --real: exit $rc $(cat err)"
grep -q '^harness: bad.jsonl:1: "commit" must be a full commit id' err || die "bad --real message: $(cat err)"
"$HARNESS" verify --repo "scen/$sc" --real "$fx/logs/$sc-local-0.manifest.json" -q --db x.db 2> err; rc=$?
[ $rc -eq 4 ] || die "manifest as --real: exit $rc"
grep -q "$sc-local-0.manifest.json:1: not a JSON object of ci/real-build's real.jsonl" err || die "foreign --real: $(cat err)"
"$HARNESS" verify --repo "scen/$sc" --docker-host unix:///nonexistent.sock --db x.db \
    --timings "$fx/logs/$sc-local-0.manifest.json" 2> err; rc=$?
[ $rc -eq 4 ] || die "manifest as --timings: exit $rc, want 4 before the engine check: $(cat err)"
grep -q "^harness: .*$sc-local-0.manifest.json:1: " err || die "manifest as --timings: $(cat err)"
exit 0
