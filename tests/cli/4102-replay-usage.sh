#!/usr/bin/env bash
# Usage errors exit 2 with a clear message; --help exits 0 on stdout.
set -u
. "$(dirname "$0")/lib.sh"
make_python_repo repo
"$HARNESS" replay --help | grep -q -- '--strategy LIST' || die "help lacks --strategy"
"$HARNESS" replay --repo repo --strategy bogus 2>err; [ $? -eq 2 ] || die "bad strategy: exit"
grep -q "unknown strategy 'bogus'" err || die "bad strategy message: $(cat err)"
grep -q "hint: strategies: none, local" err || die "no hint listing strategies"
"$HARNESS" replay --repo repo --runners 0 2>err; [ $? -eq 2 ] || die "runners 0"
"$HARNESS" replay --repo repo --engine podman 2>err; [ $? -eq 2 ] || die "engine"
"$HARNESS" replay --repo repo --cache-limit lots 2>err; [ $? -eq 2 ] || die "size"
grep -q "not a size: 'lots'" err || die "size message"
"$HARNESS" replay --repo nowhere --db h.db 2>err; [ $? -eq 3 ] || die "missing repo exit"
[ -s err ] || die "missing repo message"
"$HARNESS" replay --repo repo --range nosuchrev --db h.db 2>err; [ $? -eq 3 ] || die "bad range exit"
grep -q "nosuchrev" err || die "bad range message: $(cat err)"
exit 0
