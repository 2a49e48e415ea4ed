#!/usr/bin/env bash
# The man page is generated from each command's --help (ci/gen-man): the
# committed doc/harness.1 must match what the binary says now, and every
# command's usage line must be in it.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
HARNESS=$HARNESS "$root/ci/gen-man" "$PWD/harness.1" || { echo "gen-man failed"; exit 1; }
diff -u "$root/doc/harness.1" harness.1 || { echo "doc/harness.1 is stale: run 'make man'"; exit 1; }
for c in $("$HARNESS" --help | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p'); do
    [ "$c" = version ] && continue
    u=$("$HARNESS" "$c" --help | sed -n '1s/^usage: //p')
    sed 's/\\-/-/g' harness.1 | grep -qF -- "$u" || { echo "usage of $c missing from the man page"; exit 1; }
    "$HARNESS" "$c" --bogus-option >/dev/null 2>err; rc=$?
    [ "$rc" -eq 2 ] || { echo "$c: unknown option exits $rc, want 2"; exit 1; }
    grep -q "see 'harness $c --help'" err || { echo "$c: usage error lacks the --help pointer"; exit 1; }
done
"$HARNESS" --version | grep -q '^harness [0-9]' || { echo "--version"; exit 1; }
"$HARNESS" nosuchcommand 2>/dev/null; [ $? -eq 2 ] || { echo "unknown command must exit 2"; exit 1; }
exit 0
