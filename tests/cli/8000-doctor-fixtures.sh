#!/usr/bin/env bash
# harness doctor on real Docker 20.10 outputs (tests/fixtures/doctor):
# builder and inline cache of BuildKit, BuildKit with inline cache and
# legacy images from config blobs, docker inspect and docker history lines;
# the advice a user acts on; exit codes for bad input.
set -u
. "$(dirname "$0")/lib.sh"
D=$FIXTURES/doctor
check() { # FILE BUILDER INLINE(true|false|null)
    "$HARNESS" doctor --format json "$D/$1" > out.json || die "$1: exit $?"
    [ "$(jq -r '.builder' out.json)" = "$2" ] || die "$1: builder $(cat out.json)"
    [ "$(jq -r '.inline_cache' out.json)" = "$3" ] || die "$1: inline_cache $(cat out.json)"
    [ "$(jq -r '.file' out.json)" = "$D/$1" ] || die "$1: file"
}
check buildkit-config.json buildkit false
check buildkit-inline-config.json buildkit true
check legacy-config.json legacy false
check buildkit-inspect.json buildkit null
check buildkit-inline-inspect.json buildkit null
check legacy-inspect.json legacy false
check buildkit-history.jsonl buildkit null
check buildkit-inline-history.jsonl buildkit null
check legacy-history.jsonl legacy false
# The advice: BuildKit --cache-from misses without inline cache, and the fix
# is the build arg; with inline cache it hits; legacy needs a pull first.
"$HARNESS" doctor --format json "$D/buildkit-config.json" > a.json
[ "$(jq -r '.advice[] | select(.setup == "buildkit-cache-from") | .hits' a.json)" = false ] ||
    die "buildkit without inline: $(cat a.json)"
jq -r '.advice[] | select(.setup == "buildkit-cache-from") | .fix' a.json |
    grep -q -- '--build-arg BUILDKIT_INLINE_CACHE=1' || die "no inline cache fix"
"$HARNESS" doctor --format json "$D/buildkit-inline-config.json" > a.json
[ "$(jq -r '.advice[] | select(.setup == "buildkit-cache-from") | .hits' a.json)" = true ] ||
    die "buildkit with inline: $(cat a.json)"
[ "$(jq -r '.advice[] | select(.setup == "legacy-cache-from") | .hits' a.json)" = false ] ||
    die "legacy from buildkit image"
"$HARNESS" doctor --format json "$D/legacy-inspect.json" > a.json
jq -r '.advice[] | select(.setup == "legacy-cache-from") | .fix' a.json |
    grep -q '^docker pull 127.0.0.1:5000/doctor-fixture:legacy' || die "legacy pull fix: $(cat a.json)"
[ "$(jq -r '.advice[] | select(.setup == "buildkit-cache-from") | .hits' a.json)" = false ] ||
    die "buildkit from legacy image"
# Several files: a JSON array, one object each; text names each file.
"$HARNESS" doctor --format json "$D/legacy-config.json" "$D/buildkit-history.jsonl" > a.json ||
    die "two files"
[ "$(jq -r 'length' a.json)" = 2 ] || die "array: $(cat a.json)"
"$HARNESS" doctor "$D/buildkit-config.json" > t.txt || die "text"
grep -q '^  builder: buildkit' t.txt || die "text builder: $(cat t.txt)"
grep -q '^  inline cache: no' t.txt || die "text inline: $(cat t.txt)"
grep -q '^  BuildKit --cache-from: no hits: ' t.txt || die "text advice: $(cat t.txt)"
# Malformed input: FILE:LINE and exit 4; the good files are still reported.
printf '{"CreatedBy":"a","Comment":""}\n{"CreatedBy":\n' > bad.jsonl
"$HARNESS" doctor --format json "$D/legacy-config.json" bad.jsonl > o 2> err
[ $? -eq 4 ] || die "malformed: exit"
grep -q "^harness: bad.jsonl:2: malformed JSON" err || die "message: $(cat err)"
[ "$(jq -r '.builder' o)" = legacy ] || die "good file not reported: $(cat o)"
"$HARNESS" doctor "$D/legacy-manifest.json" 2> err; [ $? -eq 4 ] || die "manifest: exit"
grep -q "a registry manifest, not an image config" err || die "manifest message: $(cat err)"
"$HARNESS" doctor missing.json 2> err; [ $? -eq 3 ] || die "missing file: exit"
# Usage and an unreachable registry.
"$HARNESS" doctor 2> err; [ $? -eq 2 ] || die "no args: exit"
"$HARNESS" doctor --format xml x 2> err; [ $? -eq 2 ] || die "bad format: exit"
"$HARNESS" doctor --image app:1 2> err; [ $? -eq 2 ] || die "no registry: exit"
"$HARNESS" doctor --image app:1 --registry 127.0.0.1:1 2> err; [ $? -eq 3 ] || die "unreachable: exit"
grep -q "^harness: registry: cannot reach '127.0.0.1:1'" err || die "unreachable message: $(cat err)"
exit 0
