#!/usr/bin/env bash
# Inputs that once crashed or upset the sanitizers (fuzz reproducers) and
# hostile shapes: harness parse must end with 0 or 4, never a signal.
set -u
fail=0
for f in "$FIXTURES"/dockerfiles/fuzz-crashes/*.Dockerfile "$FIXTURES"/../fuzz/corpus/*; do
    [ -e "$f" ] || continue
    "$HARNESS" parse "$f" >/dev/null 2>&1; rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ]; then echo "$(basename "$f"): exit $rc"; fail=1; fi
done
# a huge line, NUL bytes, binary garbage
{ printf 'FROM alpine\nRUN echo '; head -c 300000 /dev/zero | tr '\0' 'a'; printf '\n'; } > huge.Dockerfile
"$HARNESS" parse huge.Dockerfile >/dev/null || { echo "huge line: exit $?"; fail=1; }
printf 'FROM alpine\nRUN echo \0 x\n' > nul.Dockerfile
"$HARNESS" parse nul.Dockerfile >/dev/null 2>err.txt; rc=$?
[ "$rc" -eq 4 ] && grep -q 'nul.Dockerfile:2: NUL byte' err.txt || { echo "NUL: exit $rc"; cat err.txt; fail=1; }
head -c 20000 /dev/urandom > garbage.Dockerfile 2>/dev/null || true
"$HARNESS" parse garbage.Dockerfile >/dev/null 2>&1; rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 4 ] || { echo "garbage: exit $rc"; fail=1; }
exit $fail
