#!/usr/bin/env bash
# Fuzz a parser with libFuzzer for SECONDS (default 600).
#   tests/fuzz/run.sh [TARGET] [SECONDS]
# TARGET is dockerfile (default: the Dockerfile front end), buildlog (the
# build log and docker history parsers), lint (the linter, whatif
# rewrites and the RUN reader of the output model), scenario (scenario files), pricing (pricing profiles), image
# (harness doctor's readers: image configs, docker inspect, docker history
# lines, registry manifests, HTTP responses), calib (the build model's
# calibration readers and model files, every input to each), or one
# calibration reader alone, with its own seeds and the whole time:
# calib-plain (BuildKit plain logs, CI timestamps), calib-rawjson,
# calib-legacy, calib-history (docker history JSON lines), calib-manifest,
# calib-model (model files); or real (ci/real-build's recorded builds,
# harness verify --real), or idlist (the id lists of the results database,
# as a report reads them).  Builds build-fuzz/fuzz_TARGET with
# clang -fsanitize=fuzzer,address,undefined.  The working corpus is
# build-fuzz/corpus (dockerfile) or build-fuzz/corpus-TARGET, seeded from
# the committed minimized corpus (tests/fuzz/corpus, or
# tests/fuzz/corpus-TARGET) and the real-world fixtures.  Crash reproducers
# land in build-fuzz/artifacts/ (artifacts-TARGET/); copy them to the
# fixtures once fixed.  MERGE=1 afterwards minimizes the working corpus back
# into the committed one.
set -eu
target=dockerfile
case ${1:-} in
'' | *[!0-9]*) [ $# -gt 0 ] && { target=$1; shift; } ;;
esac
secs=${1:-600}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/build-fuzz
CLANG=${CLANG:-$(command -v clang-14 || command -v clang)}
common=("$root/harness/buf.c" "$root/harness/err.c" "$root/harness/arena.c")
libs=() defs=() main= dictname=
case $target in
dockerfile)
    corpus=$out/corpus committed=$root/tests/fuzz/corpus
    artifacts=$out/artifacts
    srcs=("$root"/harness/dockerfile*.c "$root/harness/shlex.c")
    seeds=("$root"/tests/fixtures/dockerfiles/good/*.Dockerfile)
    ;;
buildlog)
    corpus=$out/corpus-buildlog committed=$root/tests/fuzz/corpus-buildlog
    artifacts=$out/artifacts-buildlog
    srcs=("$root/harness/buildlog.c" "$root"/harness/dockerfile*.c
          "$root/harness/shlex.c")
    seeds=("$root"/tests/fixtures/real/*.log "$root"/tests/fixtures/real/*.txt)
    ;;
lint)
    corpus=$out/corpus-lint committed=$root/tests/fuzz/corpus-lint
    artifacts=$out/artifacts-lint
    srcs=("$root"/harness/dockerfile*.c "$root/harness/shlex.c"
          "$root/harness/lint.c" "$root/harness/lint_deps.c"
          "$root/harness/shcmd.c" "$root/harness/runreads.c"
          "$root/harness/ignore.c" "$root/harness/sha256.c")
    seeds=("$root"/tests/fixtures/dockerfiles/good/*.Dockerfile
           "$root"/tests/fixtures/lint/*/Dockerfile)
    ;;
scenario)
    corpus=$out/corpus-scenario committed=$root/tests/fuzz/corpus-scenario
    artifacts=$out/artifacts-scenario
    srcs=("$root/harness/record.c")
    seeds=("$root"/scenarios/*.json)
    libs=(-ljansson)
    ;;
pricing)
    corpus=$out/corpus-pricing committed=$root/tests/fuzz/corpus-pricing
    artifacts=$out/artifacts-pricing
    srcs=("$root/harness/pricing.c")
    seeds=("$root"/scenarios/pricing/*.json)
    libs=(-ljansson)
    ;;
image)
    corpus=$out/corpus-image committed=$root/tests/fuzz/corpus-image
    artifacts=$out/artifacts-image
    srcs=("$root/harness/image.c" "$root/harness/http.c"
          "$root/harness/buildlog.c" "$root"/harness/dockerfile*.c
          "$root/harness/shlex.c")
    seeds=("$root"/tests/fixtures/doctor/*)
    libs=(-ljansson)
    ;;
real)
    corpus=$out/corpus-real committed=$root/tests/fuzz/corpus-real
    artifacts=$out/artifacts-real
    srcs=("$root/harness/record_real.c")
    # one line of each scenario and strategy of the recorded builds
    mkdir -p "$out/seeds-real"
    i=0
    while IFS= read -r l; do
        i=$((i + 1))
        [ $((i % 12)) -eq 1 ] && printf '%s\n' "$l" > "$out/seeds-real/real-$i.jsonl"
    done < "$root/tests/fixtures/accuracy/real.jsonl"
    seeds=("$out"/seeds-real/*.jsonl)
    libs=(-ljansson)
    ;;
idlist)
    corpus=$out/corpus-idlist committed=$root/tests/fuzz/corpus-idlist
    artifacts=$out/artifacts-idlist
    srcs=("$root/harness/idlist.c")
    mkdir -p "$out/seeds-idlist"
    printf '[12,40,41]' > "$out/seeds-idlist/packed"
    printf ' [ 1 ,\n-2 , 0 ]' > "$out/seeds-idlist/spaced"
    printf '[]' > "$out/seeds-idlist/empty"
    seeds=("$out"/seeds-idlist/*)
    ;;
calib | calib-*)
    corpus=$out/corpus-$target committed=$root/tests/fuzz/corpus-$target
    artifacts=$out/artifacts-$target
    srcs=("$root/harness/calib.c" "$root/harness/record_model.c"
          "$root/harness/model.c" "$root/harness/buildlog.c"
          "$root"/harness/dockerfile*.c "$root/harness/shlex.c")
    libs=(-ljansson)
    main=$root/tests/fuzz/fuzz_calib.c
    fx=$root/tests/fixtures
    case $target in
    calib)
        seeds=("$fx"/accuracy/logs/* "$root"/scenarios/model/*.json
               "$fx"/real/*.log "$fx"/calib/*) ;;
    calib-plain)
        defs=(-DCALIB_READER=1) dictname=buildlog
        seeds=("$fx"/accuracy/logs/*-none-0.log "$fx"/real/buildkit-*.log
               "$fx"/calib/buildkit-*.log) ;;
    calib-rawjson)
        defs=(-DCALIB_READER=2)
        seeds=("$fx"/calib/*.rawjson) ;;
    calib-legacy)
        defs=(-DCALIB_READER=3) dictname=buildlog
        seeds=("$fx"/accuracy/logs/*-legacy-0.log "$fx"/real/legacy-*.log
               "$fx"/calib/legacy-*.log) ;;
    calib-history)
        defs=(-DCALIB_READER=4)
        seeds=("$fx"/accuracy/logs/*.history.jsonl "$fx"/doctor/*history.jsonl) ;;
    calib-manifest)
        defs=(-DCALIB_READER=5)
        seeds=("$fx"/accuracy/logs/*.manifest.json "$fx"/real/*manifest.json
               "$fx"/doctor/*manifest*.json) ;;
    calib-model)
        defs=(-DCALIB_READER=6)
        seeds=("$root"/scenarios/model/*.json) ;;
    *) echo "fuzz: unknown target '$target'" >&2; exit 2 ;;
    esac
    ;;
*) echo "fuzz: unknown target '$target' (dockerfile, buildlog, lint, scenario, pricing, image, calib, calib-plain, calib-rawjson, calib-legacy, calib-history, calib-manifest, calib-model, real or idlist)" >&2; exit 2 ;;
esac
dict=$root/tests/fuzz/${dictname:-$target}.dict
[ -n "$main" ] || main=$root/tests/fuzz/fuzz_$target.c
[ -e "$dict" ] || dict=
mkdir -p "$corpus" "$artifacts"
"$CLANG" -g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    ${defs[@]+"${defs[@]}"} -I"$root/harness" -o "$out/fuzz_$target" \
    "$main" "${srcs[@]}" "${common[@]}" -lm \
    ${libs[@]+"${libs[@]}"}
cp -n "$committed"/* "$corpus/" 2>/dev/null || true
for f in "${seeds[@]}"; do
    [ -e "$f" ] && cp -n "$f" "$corpus/seed-$(basename "$f")"
done
"$out/fuzz_$target" -max_total_time="$secs" -max_len=8192 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 \
    ${dict:+-dict="$dict"} \
    -artifact_prefix="$artifacts/" "$corpus"
if [ "${MERGE:-0}" = 1 ]; then
    rm -rf "$out/min-$target"
    mkdir -p "$out/min-$target" "$committed"
    "$out/fuzz_$target" -merge=1 "$out/min-$target" "$corpus"
    # keep the committed corpus modest: the 200 smallest merged inputs
    rm -f "$committed"/*
    ls -S -r "$out/min-$target" | head -200 | while read -r f; do
        cp "$out/min-$target/$f" "$committed/"
    done
fi
