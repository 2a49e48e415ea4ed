#!/usr/bin/env bash
# Exit codes: 2 for usage errors (with the usage line), 3 for an unreadable
# file, 4 for a malformed Dockerfile.
set -u
fail=0
expect() { # want-rc description cmd...
    want=$1; shift; what=$1; shift
    "$@" >/dev/null 2>err.txt; rc=$?
    if [ "$rc" -ne "$want" ]; then echo "$what: exit $rc, want $want"; cat err.txt; fail=1; fi
}
printf 'FROM alpine\n' > ok.Dockerfile
expect 2 "no file" "$HARNESS" parse
grep -q '^usage: harness parse' err.txt || { echo "no usage line"; fail=1; }
expect 2 "two files" "$HARNESS" parse ok.Dockerfile ok.Dockerfile
expect 2 "bad format" "$HARNESS" parse --format yaml ok.Dockerfile
grep -q "unknown format 'yaml'" err.txt || { echo "no format message"; fail=1; }
expect 2 "unknown option" "$HARNESS" parse --nope ok.Dockerfile
expect 3 "missing file" "$HARNESS" parse does-not-exist.Dockerfile
grep -q "^harness: cannot open 'does-not-exist.Dockerfile'" err.txt || { echo "no open message"; cat err.txt; fail=1; }
expect 3 "a directory" "$HARNESS" parse .
printf 'FROM alpine\nBOGUS x\n' > bad.Dockerfile
expect 4 "malformed" "$HARNESS" parse bad.Dockerfile
grep -qx "harness: bad.Dockerfile:2: unknown instruction 'BOGUS'" err.txt || { echo "bad message"; cat err.txt; fail=1; }
expect 0 "text format" "$HARNESS" parse --format text ok.Dockerfile
exit $fail
