#!/usr/bin/env bash
# Scenario keys for the build-time model: "model", "timings", "layers",
# "manifest" (paths relative to the scenario file, a path or a list) and
# "cores", scenario-wide or per repository.  A scenario replays with the
# same figures as the same options on the command line, resumes its run
# from any folder, and bad values stop it with FILE:LINE and exit 4.
set -u
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
fx=$root/tests/fixtures/accuracy/logs
HARNESS_REGISTRY_ADDR=127.0.0.1:5010 "$root/ci/conformance-scenarios" scen good-order > /dev/null ||
    die "could not write the scenario repository"
mkdir -p sc/calib
cp "$fx/good-order-none-0.log" sc/calib/build.log
cp "$fx/good-order-local-0.history.jsonl" sc/calib/history.jsonl
cp "$fx/good-order-local-0.manifest.json" sc/calib/manifest.json
jq '.legacy.start.value = 2.5' "$root/scenarios/model/docker-20.10.json" > sc/model.json
# write_scenario FILE [LINE6 LINE7 LINE8 LINE9]: the scenario, lines 6 to 9
# (model, timings, layers, manifest) replaced when given
write_scenario() {
    local f=$1; shift
    {
        printf '{\n  "repo": "../scen/good-order",\n  "engine": "docker-20.10",\n'
        printf '  "strategies": ["none", "local"],\n  "db": "%s.db",\n' "$(basename "$f" .json)"
        printf '%s\n' "${1:-  \"model\": \"model.json\",}" "${2:-  \"timings\": [\"calib/build.log\"],}" \
            "${3:-  \"layers\": \"calib/history.jsonl\",}" "${4:-  \"manifest\": [\"calib/manifest.json\"]}"
        printf '}\n'
    } > "$f"
}
write_scenario sc/s.json '  "registry_note": null,'
"$HARNESS" replay --scenario sc/s.json -q 2> err; [ $? -eq 4 ] || die "unknown key: exit"
grep -q 'sc/s.json:6: unknown key .registry_note.' err || die "unknown key message: $(cat err)"
write_scenario sc/s.json
"$HARNESS" replay --scenario sc/s.json -q || die "scenario replay"
"$HARNESS" replay --repo scen/good-order --engine docker-20.10 --strategy none,local \
    --model sc/model.json --timings sc/calib/build.log --layers sc/calib/history.jsonl \
    --manifest sc/calib/manifest.json --db cli.db -q || die "command line replay"
"$HARNESS" replay --repo scen/good-order --engine docker-20.10 --strategy none,local --db plain.db -q ||
    die "plain replay"
q='select strategy, seq, seconds, bytes_pulled, bytes_pushed from builds order by strategy, seq'
[ "$(sqlite3 sc/s.db "$q")" = "$(sqlite3 cli.db "$q")" ] || die "the scenario's figures differ from the command line's"
[ "$(sqlite3 sc/s.db "$q")" != "$(sqlite3 plain.db "$q")" ] || die "the model keys changed nothing"
# the run records the paths as the file spells them, so it resumes from the
# scenario's own folder too
sqlite3 sc/s.db 'select options from runs' | grep -q '"timings":\["calib/build.log"\]' ||
    die "options: $(sqlite3 sc/s.db 'select options from runs')"
(cd sc && "$HARNESS" replay --scenario s.json -q) || die "rerun from the scenario's folder"
[ "$(sqlite3 sc/s.db 'select count(*) from runs')" = 1 ] || die "the rerun did not resume its run"
# the command line wins over the file
"$HARNESS" replay --scenario sc/s.json --db over.db --cores 1 -q || die "--cores over the file"
sqlite3 over.db 'select options from runs' | grep -q '"cores":1,' || die "--cores lost: $(sqlite3 over.db 'select options from runs')"

# a fleet: the top level's calibration goes to each repository, one may set its own
cat > sc/fleet.json <<'JSON'
{
  "engine": "docker-20.10", "strategies": ["local"],
  "timings": "calib/build.log", "cores": 2,
  "repositories": [
    {"name": "a", "repo": "../scen/good-order"},
    {"name": "b", "repo": "../scen/good-order", "timings": [], "cores": 3}
  ]
}
JSON
"$HARNESS" run sc/fleet.json --no-report 2> err; [ $? -eq 4 ] || die "empty list: exit"
grep -q 'sc/fleet.json:6: .timings. must be a file name or a list of them' err || die "empty list: $(cat err)"
sed -i 's/"timings": \[\], //' sc/fleet.json
"$HARNESS" run sc/fleet.json --no-report 2> err || die "fleet run: $(cat err)"
sqlite3 sc/a.db 'select options from runs' | grep -q '"cores":2,.*"timings":\["calib/build.log"\]' ||
    die "a: $(sqlite3 sc/a.db 'select options from runs')"
sqlite3 sc/b.db 'select options from runs' | grep -q '"cores":3,.*"timings":\["calib/build.log"\]' ||
    die "b: $(sqlite3 sc/b.db 'select options from runs')"

# bad values: the scenario's file and line, exit 4, nothing replayed
bad() { # WANT-MESSAGE LINE6 [LINE7 [LINE8 [LINE9]]]
    local want=$1; shift
    write_scenario sc/bad.json "$@"
    rm -f sc/bad.db
    "$HARNESS" replay --scenario sc/bad.json -q 2> err; rc=$?
    [ $rc -eq 4 ] || die "$*: exit $rc: $(cat err)"
    grep -q -- "$want" err || die "$*: message: $(cat err)"
    [ ! -s sc/bad.db ] || [ "$(sqlite3 sc/bad.db 'select count(*) from builds')" = 0 ] || die "$*: replayed"
}
m='  "model": "model.json",'
bad 'sc/bad.json:7: cannot read timings file .calib/nope.log.: No such file' "$m" '  "timings": ["calib/build.log", "calib/nope.log"],'
bad 'sc/bad.json:6: .model. must be a string' '  "model": 5,'
bad 'sc/bad.json:8: .layers. must be a file name or a list of them' "$m" '' '  "layers": [1],'
bad 'sc/bad.json:9: manifest file .calib. is not a file' "$m" '' '' '  "manifest": "calib"'
bad 'sc/bad.json:6: .cores. must be between 0 (unbounded) and 1024' '  "cores": 5000,'
bad 'sc/bad.json:6: .cores. must be a whole number' '  "cores": "four",'
printf '{"profile": "docker-20.10",\n "legacy": {"start": {"value": "x"}}}\n' > sc/badmodel.json
bad 'sc/badmodel.json:2: ' '  "model": "badmodel.json",'
# a malformed calibration file: its own file and line
printf '#1 [1/2] RUN x\n#1 DONE 1.x\n' > sc/calib/bad.log
bad 'calib/bad.log:2: malformed time' "$m" '  "timings": "calib/bad.log",'
# harness run refuses the same before replaying anything
write_scenario sc/bad.json "$m" '  "timings": "calib/nope.log",'
"$HARNESS" run sc/bad.json 2> err; [ $? -eq 4 ] || die "run: exit"
grep -q 'sc/bad.json:7: cannot read timings file' err || die "run: $(cat err)"
exit 0
