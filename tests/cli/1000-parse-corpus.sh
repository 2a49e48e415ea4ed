#!/usr/bin/env bash
# harness parse over the Dockerfile corpus: every good file prints exactly
# its NAME.expected.json and exits 0; every bad file exits 4 (malformed
# input) with NAME.expected-error as the first stderr line, and no stdout.
set -u
dir="$FIXTURES/dockerfiles"
fail=0 n=0
cd "$dir/good" || exit 1
for f in *.Dockerfile; do
    n=$((n + 1))
    name=${f%.Dockerfile}
    out=$("$HARNESS" parse "$f" 2>/tmp/parse-err.$$); rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "good/$f: exit $rc: $(cat /tmp/parse-err.$$)"; fail=1; continue
    fi
    if ! diff -u "$name.expected.json" <(printf '%s\n' "$out") >/tmp/parse-diff.$$; then
        echo "good/$f: output differs:"; head -40 /tmp/parse-diff.$$; fail=1
    fi
done
[ "$n" -ge 40 ] || { echo "only $n good Dockerfiles"; fail=1; }
cd "$dir/bad" || exit 1
m=0
for f in *.Dockerfile; do
    m=$((m + 1))
    name=${f%.Dockerfile}
    out=$("$HARNESS" parse "$f" 2>/tmp/parse-err.$$); rc=$?
    if [ "$rc" -ne 4 ]; then echo "bad/$f: exit $rc, want 4"; fail=1; fi
    if [ -n "$out" ]; then echo "bad/$f: printed on stdout"; fail=1; fi
    got=$(head -1 /tmp/parse-err.$$)
    want=$(cat "$name.expected-error")
    if [ "$got" != "$want" ]; then
        echo "bad/$f: got '$got'"; echo "    want '$want'"; fail=1
    fi
    grep -q '^hint: ' /tmp/parse-err.$$ || { echo "bad/$f: no hint line"; }
done
[ "$m" -ge 15 ] || { echo "only $m bad Dockerfiles"; fail=1; }
rm -f /tmp/parse-err.$$ /tmp/parse-diff.$$
exit $fail
