#!/usr/bin/env bash
# harness synth: same seed, same history; a non-empty --out is refused;
# usage errors exit 2.
set -eu

"$HARNESS" synth --out a --commits 40 --seed 7 --template node >out-a
"$HARNESS" synth --out b --commits 40 --seed 7 --template node >out-b
"$HARNESS" synth --out c --commits 40 --seed 8 --template node >/dev/null

ha=$(git -C a rev-parse HEAD)
hb=$(git -C b rev-parse HEAD)
hc=$(git -C c rev-parse HEAD)
[ "$ha" = "$hb" ] || { echo "same seed, different heads: $ha $hb"; exit 1; }
[ "$ha" != "$hc" ] || { echo "different seeds, same head $ha"; exit 1; }
grep -q "main $ha\$" out-a || { echo "summary lacks the head:"; cat out-a; exit 1; }
[ "$(git -C a rev-list --count HEAD)" = 40 ]
[ -f a/Dockerfile ] && [ -f a/package-lock.json ] && [ -f a/.dockerignore ]
[ -z "$(git -C a status --porcelain)" ]

# refuses a folder in use, exit 3, and leaves it alone
mkdir used && echo keep >used/notes.txt
if "$HARNESS" synth --out used 2>err; then echo "wrote into a used folder"; exit 1; else rc=$?; fi
[ "$rc" = 3 ] || { echo "exit $rc, want 3"; exit 1; }
grep -q "not empty 'used'" err
[ "$(ls -A used)" = notes.txt ]

# usage errors
set +e
"$HARNESS" synth --commits 3 2>err; rc=$?
[ "$rc" = 2 ] && grep -q -- "--out DIR is required" err || { echo "no --out: $rc"; cat err; exit 1; }
"$HARNESS" synth --out x --template rust 2>err; rc=$?
[ "$rc" = 2 ] && grep -q "unknown template 'rust'" err || { echo "template: $rc"; exit 1; }
"$HARNESS" synth --out x --mix code=0 2>err; rc=$?
[ "$rc" = 2 ] || { echo "mix: $rc"; exit 1; }
[ ! -e x ] || { echo "usage error created the folder"; exit 1; }
"$HARNESS" synth --help | grep -q "^usage: harness synth --out DIR"
