#!/usr/bin/env bash
# The build-time model against real Docker 20.10 builds recorded once, as
# ci/accuracy judges them (calibrated from each scenario's first builds: the
# logs, docker history and manifest a user has, and the wall times their CI
# logs' timestamps carry):
#  - tests/fixtures/accuracy-idle (the idle machine the docker-20.10
#    profile was measured on, 232 builds): each strategy's total `docker
#    build` seconds within 15% of the real wall time, every build's bytes
#    within 5% or 20 kB;
#  - tests/fixtures/accuracy (the same machine loaded by other work, its
#    builds 2-5 times slower): the same through the machine factor of the
#    first builds' wall times, within 30% (the bound of a live
#    `make conformance`).
# Also: the same inputs give the same figures; harness model shows where
# figures come from and the machine factor; a malformed calibration file is
# refused with file:line and exit 4.
set -u
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)

# judge FIXTURES REGISTRY STRATEGIES SECONDS-BOUND
judge() {
    local fx=$1 reg=$2 n=$3 bound=$4 out=acc-$(basename "$1")
    HARNESS_REGISTRY_ADDR=$reg "$root/ci/conformance-scenarios" "scen-$reg" > /dev/null ||
        die "could not write the scenarios"
    for sc in good-order bad-order multistage; do
        want=$(jq -r --arg sc "$sc" 'select(.scenario == $sc) | .commit' "$fx/real.jsonl" | tail -1)
        [ "$(git -C "scen-$reg/$sc" rev-parse HEAD)" = "$want" ] ||
            die "scenario $sc does not reproduce the recorded commits (git version?)"
    done
    HARNESS=$HARNESS "$root/ci/accuracy" --real "$fx/real.jsonl" --logs "$fx/logs" \
        --scenarios "scen-$reg" --registry "$reg" --fail-seconds "$bound" --out "$out" \
        > "$out.txt" 2> "$out.err"
    rc=$?
    [ $rc -eq 0 ] || die "model beyond the bounds on $fx (exit $rc): $(cat "$out.txt" "$out.err")"
    [ "$(grep -c '^all ' "$out.txt")" -eq "$n" ] || die "want $n strategy totals: $(cat "$out.txt")"
    grep -q "seconds within ${bound}%" "$out.txt" || die "bound not printed: $(cat "$out.txt")"
}
judge "$root/tests/fixtures/accuracy-idle" 127.0.0.1:5000 8 15
judge "$root/tests/fixtures/accuracy" 127.0.0.1:5010 6 30
fx=$root/tests/fixtures/accuracy-idle
# calibration changes the figures: without it the base image is 50 MB
sqlite3 acc-accuracy-idle/accuracy-good-order-local.db "select max(bytes_pulled) from builds" |
    grep -qx '[0-9]\{7\}' || die "bytes not calibrated"
# deterministic: the same files give the same figures
cal=(--timings "$fx/logs/good-order-none-0.ci.log" --timings "$fx/logs/good-order-local-legacy-0.ci.log"
     --timings "$fx/logs/good-order-local-0.ci.log" --layers "$fx/logs/good-order-local-0.history.jsonl"
     --manifest "$fx/logs/good-order-local-0.manifest.json")
for i in 1 2; do
    "$HARNESS" replay --repo scen-127.0.0.1:5000/good-order --strategy local,local-legacy \
        --engine docker-20.10 "${cal[@]}" --db "det$i.db" > "det$i.txt" 2>&1 || die "replay: $(cat "det$i.txt")"
    sqlite3 "det$i.db" "select commit_sha, strategy, seconds, pull_seconds, push_seconds from builds
        order by 1, 2" > "det$i.rows"
done
cmp -s det1.rows det2.rows || die "same inputs, different seconds"
grep -q 'machine factor [0-9.]* from the logs' det1.txt || die "replay does not name the factor: $(cat det1.txt)"
# harness model: every figure names its source; stamped logs give the factor
"$HARNESS" model --repo scen-127.0.0.1:5000/good-order --engine docker-20.10 "${cal[@]}" > model.txt ||
    die "model failed"
grep -q 'calibrated 4 of 4 RUN/COPY/ADD steps' model.txt || die "model note: $(cat model.txt)"
grep -q 'machine factor [0-9.]* from the logs' model.txt || die "no machine factor: $(cat model.txt)"
grep -E '^7 +0 +RUN .* calibrated .* calibrated ' model.txt > /dev/null || die "RUN not calibrated: $(cat model.txt)"
grep -q '^cold build' model.txt || die "no cold build total"
# the factor makes the model reproduce the first builds it was taken from:
# the scaled cold build of each builder is near its log's wall time
"$HARNESS" model --repo scen-127.0.0.1:5000/good-order --engine docker-20.10 \
    --timings "$fx/logs/good-order-none-0.ci.log" > m1.txt || die "model (one log) failed"
wall=$(jq -r 'select(.scenario == "good-order" and .strategy == "none" and .seq == 0) | .seconds_build' \
    "$fx/real.jsonl")
cold=$(sed -n 's/^cold build.*: \([0-9.]*\) s$/\1/p' m1.txt)
awk -v w="$wall" -v c="$cold" 'BEGIN { d = (c - w) / w; exit !(d < 0.1 && d > -0.1) }' ||
    die "cold build $cold s, first build took $wall s: $(cat m1.txt)"
"$HARNESS" model --repo scen-127.0.0.1:5000/good-order --engine docker-20.10 \
    --timings "$fx/logs/good-order-none-0.log" > m0.txt || die "model (plain log) failed"
grep -q 'machine factor' m0.txt && die "a log without timestamps gave a factor: $(cat m0.txt)"
"$HARNESS" model --repo scen-127.0.0.1:5000/good-order --format json --builder legacy |
    jq -e '.steps | length == 10' > /dev/null || die "json steps"
# malformed calibration input: file:line, exit 4
printf '#1 [1/2] RUN x\n#1 DONE 1.x\n' > bad.log
"$HARNESS" model --repo scen-127.0.0.1:5000/good-order --timings bad.log 2> err; [ $? -eq 4 ] || die "bad log exit"
grep -q "bad.log:2: malformed time" err || die "bad log message: $(cat err)"
printf '2026-01-01T00:00:00Z $ docker build .\n2026-01-01T00:00:01Z #1 [1/2] RUN x\n2026-01-01T00:00:02Z #1 DONE x\n' > bad.ci.log
"$HARNESS" model --repo scen-127.0.0.1:5000/good-order --timings bad.ci.log 2> err; [ $? -eq 4 ] || die "bad CI log exit"
grep -q "bad.ci.log:3: malformed time" err || die "bad CI log message: $(cat err)"
printf '{"schemaVersion": 2}\n' > bad.json
"$HARNESS" replay --repo scen-127.0.0.1:5000/good-order --manifest bad.json --db x.db -q 2> err; [ $? -eq 4 ] ||
    die "bad manifest exit"
grep -q "bad.json:1: not an image manifest" err || die "bad manifest message: $(cat err)"
[ ! -s x.db ] || [ "$(sqlite3 x.db 'select count(*) from builds')" -eq 0 ] || die "a malformed file still replayed"
exit 0
