#!/usr/bin/env bash
# Runs the cmocka suites given as arguments, then every tests/cli/*.sh, and
# ends with one line "tests: N passed, N failed".  Exit 1 if anything failed.
# CLI tests get $HARNESS (the binary) and $FIXTURES; they exit 0 on success.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export FIXTURES="$here/fixtures"
: "${HARNESS:?set HARNESS to the harness binary}"
export HARNESS
pass=0 fail=0 failed=""
for t in "$@"; do
    out=$("$t" 2>&1); rc=$?
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    p=${p:-0} f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    pass=$((pass + p)) fail=$((fail + f))
    if [ "$f" -ne 0 ]; then printf '%s\n' "$out"; echo "FAIL: $t"; failed="$failed $(basename "$t")"; else echo "ok: $t ($p tests)"; fi
done
for t in "$here"/cli/[0-9]*.sh; do
    [ -e "$t" ] || continue
    tmp=$(mktemp -d)
    if out=$(cd "$tmp" && bash "$t" 2>&1); then
        pass=$((pass + 1)); echo "ok: cli/$(basename "$t")"
    else
        fail=$((fail + 1)); printf '%s\n' "$out" | tail -30; echo "FAIL: cli/$(basename "$t")"
        failed="$failed cli/$(basename "$t")"
    fi
    rm -rf "$tmp"
done
echo "tests: $pass passed, $fail failed${failed:+ (failed:$failed)}"
[ "$fail" -eq 0 ]
