#!/usr/bin/env bash
# harness parse --help prints the usage line and the options on stdout, exit 0.
set -u
out=$("$HARNESS" parse --help) || { echo "exit $?"; exit 1; }
printf '%s\n' "$out" | head -1 | grep -qx 'usage: harness parse \[--format json|text\] \[--build-arg K=V\]... DOCKERFILE' \
    || { echo "bad usage line: $(printf '%s\n' "$out" | head -1)"; exit 1; }
for o in --format --build-arg --help; do
    printf '%s\n' "$out" | grep -q -- "$o" || { echo "missing $o"; exit 1; }
done
"$HARNESS" --help | grep -q '^  parse ' || { echo "parse not in harness --help"; exit 1; }
