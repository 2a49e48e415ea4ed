#!/usr/bin/env bash
# Calibration inputs as users have them, and what harness does with the
# wrong ones.  Real logs of a multi-stage build whose independent stages
# ran in parallel (tests/fixtures/calib: BuildKit plain with CI timestamp
# prefixes, the same as rawjson, legacy timed only by its CI timestamps)
# calibrate every RUN/COPY/ADD step.  A malformed or foreign file (another
# kind of calibration file, a binary, an empty file, a log or manifest or
# history of another Dockerfile's build) is refused with
# `harness: FILE:LINE: ...` and exit 4, by model, replay and verify alike;
# a log that is this build's but measured nothing (a legacy log without
# timestamps) is read with a warning "0 steps calibrated".
set -u
. "$(dirname "$0")/lib.sh"
fx=$FIXTURES
mkdir ms && cd ms && git init -q -b main .
cp "$fx/calib/multistage-parallel.Dockerfile" Dockerfile
echo requests==2.31 > deps.txt; mkdir src; echo 'int main(){}' > src/main.c; echo 'int f(){}' > src/util.c
git add -A && git commit -qm one && cd ..
# --- real logs of this build: every step calibrated, seconds as logged
for f in buildkit-multistage-parallel.ci.log buildkit-multistage-parallel.rawjson legacy-multistage.ci.log; do
    "$HARNESS" model --repo ms --rev HEAD --engine docker-20.10 --timings "$fx/calib/$f" > out 2> err ||
        die "$f: exit $?: $(cat err)"
    [ ! -s err ] || die "$f: stderr: $(cat err)"
    grep -q '^calibrated 7 of 7 RUN/COPY/ADD steps' out || die "$f: $(cat out)"
done
# seconds of the RUN at line $2 in `harness model` output $1, if calibrated
secs() { awk -v l="$2" '$1 == l && $3 == "RUN" && $5 == "calibrated" { print $4 }' "$1"; }
within() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v != "" && v >= lo && v <= hi) }'; }
"$HARNESS" model --repo ms --rev HEAD --timings "$fx/calib/buildkit-multistage-parallel.ci.log" > out
[ "$(secs out 4)" = 2.40 ] || die "deps RUN (#8 DONE 2.4s): $(cat out)"
[ "$(secs out 9)" = 3.40 ] || die "build RUN (#12 DONE 3.4s, interleaved with #8): $(cat out)"
"$HARNESS" model --repo ms --rev HEAD --timings "$fx/calib/buildkit-multistage-parallel.rawjson" > out
[ "$(secs out 9)" = 3.40 ] || die "rawjson build RUN: $(cat out)"
# legacy: a step lasts from its Step line to the next one's (CI timestamps:
# 2.8 s and 3.8 s with the legacy builder's container start and commit)
"$HARNESS" model --repo ms --rev HEAD --builder legacy --timings "$fx/calib/legacy-multistage.ci.log" > out
within "$(secs out 4)" 2.0 3.0 || die "legacy RUN sleep 2: $(cat out)"
within "$(secs out 9)" 3.0 4.0 || die "legacy RUN sleep 3: $(cat out)"
# --- refused: FILE:LINE, exit 4
acc=$fx/accuracy/logs
refuse() { # WANT-MESSAGE-REGEX COMMAND...
    local want=$1; shift
    "$@" > out 2> err; local rc=$?
    [ $rc -eq 4 ] || die "exit $rc, want 4: $* : $(cat err)"
    grep -Eq "^harness: $want" err || die "message for $*: $(cat err)"
}
M=("$HARNESS" model --repo ms --rev HEAD)
: > empty
printf 'x\0y\n' > bin.dat
refuse "[^ ]*good-order-local-0.manifest.json:1: not a JSON line of --progress=rawjson" "${M[@]}" --timings "$acc/good-order-local-0.manifest.json"
refuse "[^ ]*good-order-local-0.history.jsonl:1: no vertexes" "${M[@]}" --timings "$acc/good-order-local-0.history.jsonl"
refuse "empty:1: not a docker build log" "${M[@]}" --timings empty
refuse "bin.dat:1: binary data \(a NUL byte\), not a docker build log" "${M[@]}" --timings bin.dat
refuse "bin.dat:1: binary data" "${M[@]}" --layers bin.dat
refuse "bin.dat:1: binary data" "${M[@]}" --manifest bin.dat
refuse "empty:1: no history lines" "${M[@]}" --layers empty
refuse "empty:1: " "${M[@]}" --manifest empty
refuse "empty:1: " "${M[@]}" --model empty
refuse "[^ ]*good-order-none-0.log:1: not a JSON line of 'docker history" "${M[@]}" --layers "$acc/good-order-none-0.log"
refuse "[^ ]*good-order-none-0.log:1: " "${M[@]}" --manifest "$acc/good-order-none-0.log"
refuse "[^ ]*good-order-local-0.manifest.json:1: 'profile' must name a profile" "${M[@]}" --model "$acc/good-order-local-0.manifest.json"
# another Dockerfile's build: logs (BuildKit and legacy), history, manifest
refuse "[^ ]*good-order-none-0.log:[0-9]+: none of the log's 5 steps is an instruction of the Dockerfile" "${M[@]}" --timings "$acc/good-order-none-0.log"
refuse "[^ ]*good-order-local-legacy-0.log:[0-9]+: none of the log's [0-9]+ steps is an instruction" "${M[@]}" --timings "$acc/good-order-local-legacy-0.log"
refuse "[^ ]*good-order-local-0.history.jsonl:[0-9]+: history row .* does not match line" "${M[@]}" --layers "$acc/good-order-local-0.history.jsonl"
refuse "[^ ]*multistage-local-0.manifest.json:1: 3 layers, but the target stage makes 3 and its base image has one at least" "${M[@]}" --manifest "$acc/multistage-local-0.manifest.json"
# replay and verify read them the same way, before any work or engine
refuse "[^ ]*good-order-none-0.log:[0-9]+: none of the log's" "$HARNESS" replay --repo ms --timings "$acc/good-order-none-0.log" --db r.db -q
[ ! -e r.db ] || [ "$(sqlite3 r.db 'select count(*) from builds')" = 0 ] || die "replay went on"
refuse "bin.dat:1: binary data" "$HARNESS" verify --repo ms --docker-host unix:///nonexistent.sock --layers bin.dat --db v.db
[ ! -e v.db ] || die "verify created its database"
# a folder is not a file: an I/O error (exit 3), not a fallback
"${M[@]}" --timings . 2> err; [ $? -eq 3 ] || die "folder: exit"
grep -q "cannot read '.': Is a directory" err || die "folder: $(cat err)"
# --- this build's log that measures nothing: read, with a warning
sed 's/^[^ ]* //' "$fx/calib/legacy-multistage.ci.log" > legacy-untimed.log
"${M[@]}" --timings legacy-untimed.log > out 2> err || die "untimed legacy log: exit $?: $(cat err)"
grep -q '^harness: legacy-untimed.log: warning: 0 steps calibrated' err || die "no warning: $(cat err)"
grep -q '^calibrated 0 of 7 RUN/COPY/ADD steps' out || die "untimed: $(cat out)"
exit 0
