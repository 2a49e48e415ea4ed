#!/usr/bin/env bash
# The build-time model against real Docker 20.10 builds recorded once
# (tests/fixtures/accuracy: ci/real-build's records of the conformance
# scenarios, and the logs, docker history and manifest of each scenario's
# first builds): replayed with that calibration, each strategy's total
# `docker build` seconds must be within 15% of the real wall time and every
# build's bytes pulled and pushed within 5% or 20 kB of what the registry
# saw.  Also: harness model shows where figures come from, and a malformed
# calibration file is refused with file:line and exit 4.
set -u
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
fx=$root/tests/fixtures/accuracy
# the fixtures were recorded against a registry at 127.0.0.1:5010
HARNESS_REGISTRY_ADDR=127.0.0.1:5010 "$root/ci/conformance-scenarios" scen > /dev/null ||
    die "could not write the scenarios"
for sc in good-order bad-order multistage; do
    want=$(jq -r --arg sc "$sc" 'select(.scenario == $sc) | .commit' "$fx/real.jsonl" | tail -1)
    [ "$(git -C "scen/$sc" rev-parse HEAD)" = "$want" ] ||
        die "scenario $sc does not reproduce the recorded commits (git version?)"
done
HARNESS=$HARNESS "$root/ci/accuracy" --real "$fx/real.jsonl" --logs "$fx/logs" \
    --scenarios scen --registry 127.0.0.1:5010 --out acc > table.txt 2> err.txt
rc=$?
[ $rc -eq 0 ] || die "model beyond the bounds (exit $rc): $(cat table.txt err.txt)"
[ "$(grep -c '^all ' table.txt)" -eq 6 ] || die "want 6 strategy totals: $(cat table.txt)"
# calibration changes the figures: without it the base image is 50 MB
sqlite3 acc/accuracy-good-order.db "select max(bytes_pulled) from builds" | grep -qx '[0-9]\{7\}' ||
    die "bytes not calibrated"
# harness model: every figure names its source
"$HARNESS" model --repo scen/good-order --engine docker-20.10 \
    --timings "$fx/logs/good-order-none-0.log" --layers "$fx/logs/good-order-local-0.history.jsonl" \
    --manifest "$fx/logs/good-order-local-0.manifest.json" > model.txt || die "model failed"
grep -q 'calibrated 4 of 4 RUN/COPY/ADD steps' model.txt || die "model note: $(cat model.txt)"
grep -E '^7 +0 +RUN .* calibrated .* calibrated ' model.txt > /dev/null || die "RUN not calibrated: $(cat model.txt)"
grep -q '^cold build' model.txt || die "no cold build total"
"$HARNESS" model --repo scen/good-order --format json --builder legacy | jq -e '.steps | length == 10' > /dev/null ||
    die "json steps"
# malformed calibration input: file:line, exit 4
printf '#1 [1/2] RUN x\n#1 DONE 1.x\n' > bad.log
"$HARNESS" model --repo scen/good-order --timings bad.log 2> err; [ $? -eq 4 ] || die "bad log exit"
grep -q "bad.log:2: malformed time" err || die "bad log message: $(cat err)"
printf '{"schemaVersion": 2}\n' > bad.json
"$HARNESS" replay --repo scen/good-order --manifest bad.json --db x.db -q 2> err; [ $? -eq 4 ] || die "bad manifest exit"
grep -q "bad.json:1: not an image manifest" err || die "bad manifest message: $(cat err)"
[ ! -s x.db ] || [ "$(sqlite3 x.db 'select count(*) from builds')" -eq 0 ] || die "a malformed file still replayed"
exit 0
