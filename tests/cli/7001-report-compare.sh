#!/usr/bin/env bash
# harness report --compare: exit 1 when a strategy's cost per build rose or
# its hit rate fell by more than --threshold, 0 otherwise.
set -u
. "$(dirname "$0")/lib.sh"
make_python_repo repo
"$HARNESS" replay --repo repo --db old.db -q --strategy none,local || die "replay old"
# the same project where every commit changes its dependencies: the
# install step misses every time
cp -r repo repo2
(cd repo2 && for i in 6 7 8 9; do echo "flask==3.$i" > requirements.txt; echo "print($i)" > app.py; git commit -qam "deps $i"; done)
"$HARNESS" replay --repo repo2 --db new.db -q --strategy none,local || die "replay new"

"$HARNESS" report --db old.db --compare old.db --format json > same.json; [ $? -eq 0 ] || die "same file: exit"
jq -e '.compare.regressed == false and (.compare.strategies | length) == 2' same.json >/dev/null || die "same: $(jq -c .compare same.json)"
"$HARNESS" report --db new.db --compare old.db:1 --format json > cmp.json; rc=$?
[ $rc -eq 1 ] || die "regression: exit $rc"
jq -e '.compare.regressed and (.compare.strategies[] | select(.strategy == "local") | .regressed and .hit_rate_change_pct < -5)' cmp.json >/dev/null || die "local not regressed: $(jq -c .compare cmp.json)"
"$HARNESS" report --db new.db --compare old.db > cmp.md; [ $? -eq 1 ] || die "md exit"
grep -q 'regressed' cmp.md || die "md does not say so"
"$HARNESS" report --db new.db --compare old.db --out page >/dev/null; [ $? -eq 1 ] || die "html exit"
grep -q 'Against an earlier run' page/index.html && grep -q 'a strategy regressed' page/index.html || die "html does not say so"
# the reverse is an improvement
"$HARNESS" report --db old.db --compare new.db >/dev/null; [ $? -eq 0 ] || die "improvement exits non-zero"
# a generous threshold lets it pass
"$HARNESS" report --db new.db --compare old.db --threshold 100000 >/dev/null; [ $? -eq 0 ] || die "threshold"
"$HARNESS" report --db new.db --compare old.db:7 2>err; [ $? -eq 3 ] || die "missing old run"
"$HARNESS" report --db new.db --compare old.db --threshold lots 2>err; [ $? -eq 2 ] || die "bad threshold"
exit 0
