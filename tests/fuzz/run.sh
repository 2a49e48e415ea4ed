#!/usr/bin/env bash
# Fuzz the Dockerfile front end with libFuzzer for SECONDS (default 600).
#   tests/fuzz/run.sh [SECONDS]
# Builds build-fuzz/fuzz_dockerfile with clang -fsanitize=fuzzer,address,
# undefined; the working corpus is build-fuzz/corpus, seeded from the
# committed minimized corpus (tests/fuzz/corpus) and the good Dockerfiles.
# Crash reproducers land in build-fuzz/artifacts/; copy them to
# tests/fixtures/dockerfiles/fuzz-crashes/ once fixed.  MERGE=1 afterwards
# minimizes the working corpus back into tests/fuzz/corpus.
set -eu
secs=${1:-600}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/build-fuzz
CLANG=${CLANG:-$(command -v clang-14 || command -v clang)}
mkdir -p "$out/corpus" "$out/artifacts"
"$CLANG" -g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I"$root/harness" -o "$out/fuzz_dockerfile" \
    "$root/tests/fuzz/fuzz_dockerfile.c" "$root/harness/dockerfile.c" \
    "$root/harness/shlex.c" "$root/harness/buf.c" "$root/harness/err.c"
cp -n "$root"/tests/fuzz/corpus/* "$out/corpus/" 2>/dev/null || true
for f in "$root"/tests/fixtures/dockerfiles/good/*.Dockerfile; do
    [ -e "$f" ] && cp -n "$f" "$out/corpus/seed-$(basename "$f")"
done
"$out/fuzz_dockerfile" -max_total_time="$secs" -max_len=8192 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 \
    -dict="$root/tests/fuzz/dockerfile.dict" \
    -artifact_prefix="$out/artifacts/" "$out/corpus"
if [ "${MERGE:-0}" = 1 ]; then
    mkdir -p "$out/min"
    "$out/fuzz_dockerfile" -merge=1 "$out/min" "$out/corpus"
    # keep the committed corpus modest: the 200 smallest merged inputs
    rm -f "$root"/tests/fuzz/corpus/*
    ls -S -r "$out/min" | head -200 | while read -r f; do
        cp "$out/min/$f" "$root/tests/fuzz/corpus/"
    done
fi
