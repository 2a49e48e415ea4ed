#!/usr/bin/env bash
# On the engine and registry of ci/docker-up (if they are up and the engine
# lock is free): build the doctor fixture image three ways, push them, and
# read each back with `harness doctor --image` over the registry API,
# including a manifest list.  Skips otherwise.
set -u
. "$(dirname "$0")/lib.sh"
STATE=${HARNESS_DOCKER_STATE:-/tmp/harness-docker}
root=$(cd "$(dirname "$0")/../.." && pwd)
[ -s "$STATE/env" ] || skip_live "no $STATE/env (ci/docker-up)"
# shellcheck disable=SC1091
. "$STATE/env"
/usr/bin/docker version >/dev/null 2>&1 || skip_live "engine at $DOCKER_HOST does not answer"
# Both locks: the engine's (make conformance) and the build runs' (verify,
# ci/real-build), which prune images.
hold_engine_lock
exec 8> "$STATE/build.lock"
flock -n 8 || skip_live "another run holds $STATE/build.lock"
"$root/ci/record-doctor-fixtures" rec > rec.log 2>&1 || die "recording: $(cat rec.log)"
R=127.0.0.1:5000
check() { # TAG BUILDER INLINE
    "$HARNESS" doctor --format json --image "doctor-fixture:$1" --registry $R > o.json ||
        die "$1: exit $?"
    [ "$(jq -r .builder o.json)" = "$2" ] || die "$1: $(cat o.json)"
    [ "$(jq -r .inline_cache o.json)" = "$3" ] || die "$1: $(cat o.json)"
    # the same answer as from the config blob saved with curl
    "$HARNESS" doctor --format json "rec/$1-config.json" > f.json
    [ "$(jq -c '[.builder, .inline_cache, .advice]' f.json)" = \
      "$(jq -c '[.builder, .inline_cache, .advice]' o.json | sed "s|$R/doctor-fixture:$1|IMAGE|g; s|doctor-fixture:$1|IMAGE|g")" ] ||
        die "$1: registry and file disagree"
}
check buildkit buildkit false
check buildkit-inline buildkit true
check legacy legacy false
"$HARNESS" doctor --format json --image "$R/doctor-fixture:multi" > o.json || die "list: exit"
[ "$(jq -r .platforms o.json)" = "linux/amd64 linux/arm64" ] || die "list: $(cat o.json)"
[ "$(jq -r .inline_cache o.json)" = true ] || die "list: amd64 entry not followed"
"$HARNESS" doctor --image doctor-fixture:nope --registry $R 2> err
[ $? -eq 3 ] || die "unknown tag: exit"
grep -q "HTTP 404" err || die "unknown tag: $(cat err)"
exit 0
