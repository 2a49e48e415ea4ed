#!/usr/bin/env bash
# ci/nightly/nightly.sh over two (then three) nights of a generated
# history: the first writes every build; the second, after new commits
# arrive by git pull, writes only theirs and leaves every row of the old
# commits byte-identical, writes the HTML report and the job summary, and
# compares with last night; a third night of dependency bumps is a
# regression (exit 1).
set -u
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
nightly=$root/ci/nightly/nightly.sh
"$HARNESS" synth --out upstream --commits 24 --files 30 --seed 5 >/dev/null || die "synth"
git clone -q upstream repo && git -C repo reset -q --hard HEAD~6 || die "clone"
export REPO=repo STATE=state OUT=report STRATEGIES=none,local,inline
export GITHUB_STEP_SUMMARY=$PWD/summary
rows() { # every figure of builds 1..$1, their steps and transfers
    sqlite3 state/harness.db "select id, commit_sha, seq, strategy, status, seconds, pull_seconds, push_seconds, bytes_pulled, bytes_pushed, steps_hit, steps_miss, registry_bytes, cache_bytes, step_list, transfer_list from builds where id <= $1 order by id;
        select * from steps where build_id <= $1 order by build_id, step_index;
        select * from transfers where build_id <= $1 order by build_id, seq;
        select * from commits order by sha;"
}
# night 1: everything
bash "$nightly" >out1 2>err1 || die "night 1: $(cat err1 out1)"
[ "$(sqlite3 state/harness.db 'select count(*) from builds')" -eq 54 ] || die "night 1: want 18 x 3 builds"
last=$(sqlite3 state/harness.db 'select max(id) from builds')
rows "$last" | grep -v '^[0-9a-f]\{40\}|' > night1-rows
sqlite3 state/harness.db 'select * from commits order by sha' > night1-commits
[ "$(wc -l < night1-commits)" -eq 18 ] || die "night 1: want 18 commits"
[ -s report/index.html ] || die "night 1: no HTML report"
grep -q '| inline |' report/summary.md || die "night 1: summary.md"
grep -q "18 new commits" out1 || die "night 1 news: $(cat out1)"
grep -q '| inline |' summary || die "night 1: nothing in the job summary"
# night 2: six new commits arrive
git -C repo pull -q --ff-only ../upstream main || die "pull"
: > summary
bash "$nightly" >out2 2>err2 || die "night 2: $(cat err2 out2)"
[ "$(sqlite3 state/harness.db 'select count(*) from builds')" -eq 72 ] || die "night 2: want 24 x 3 builds"
[ "$(sqlite3 state/harness.db 'select count(*) from runs')" -eq 1 ] || die "night 2 started a new run"
rows "$last" | grep -v '^[0-9a-f]\{40\}|' | cmp -s - night1-rows || die "night 2 changed the rows of night 1's builds"
sqlite3 state/harness.db 'select * from commits order by sha' | grep -Fxf night1-commits | cmp -s - night1-commits || die "night 2 changed night 1's commits"
[ "$(sqlite3 state/harness.db "select count(*) from builds where id > $last and seq < 18")" -eq 0 ] || die "night 2 wrote builds of old commits"
grep -q "6 new commits" out2 || die "night 2 news: $(cat out2)"
grep -q "Against state/last-night.db" report/compare.md || die "night 2: no comparison: $(cat report/compare.md)"
grep -q "Against state/last-night.db" summary || die "night 2: comparison not in the job summary"
[ ! -e state/last-night.db ] || die "last night's copy left in the kept state"
# night 3: every new commit bumps a dependency (the pip install step
# misses): the caches' cost per build rises
cd repo || exit 1
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
    echo "bumped-$i==1.$i" >> requirements.txt
    git commit -qam "deps: bump $i"
done
cd .. || exit 1
bash "$nightly" >out3 2>err3; rc=$?
[ "$rc" -eq 1 ] || die "night 3: a regression must exit 1, got $rc: $(cat err3)"
grep -q "more than 5% since last night" err3 || die "night 3 message: $(cat err3)"
FAIL_ON_REGRESSION=0 THRESHOLD=1000 bash "$nightly" >out4 2>err4 || die "report-only night: $(cat err4)"
exit 0
