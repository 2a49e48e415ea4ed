#!/usr/bin/env bash
# harness staleness on a hand-made history whose answer is worked out by
# hand: the apt-get step runs at the first commit and is reused by every
# later one under `local` (4 commits, 10 days at the last), runs on every
# build under `none`; editing the step starts a new entry; RUN steps that
# fetch nothing are left out.
set -u
. "$(dirname "$0")/lib.sh"
mkdir repo && cd repo && git init -q -b main .
printf 'FROM debian:12\nRUN apt-get update && apt-get install -y curl\nRUN git clone https://example.com/x.git /x\nCOPY . /app\nRUN make -C /app\n' > Dockerfile
printf '.git\n' > .dockerignore
echo 0 > app.txt
c() { # DAY MESSAGE
    GIT_AUTHOR_DATE="2026-01-$(printf %02d "$1")T00:00:00Z" GIT_COMMITTER_DATE="2026-01-$(printf %02d "$1")T00:00:00Z" \
        git commit -qam "$2"
}
git add -A && c 1 one
for d in 2 3 4 11; do echo $d > app.txt; c $d "code $d"; done
sed -i 's/install -y curl/install -y curl git/' Dockerfile && c 13 "add git"
echo 14 > app.txt && c 14 "code 14"
cd ..
"$HARNESS" replay --repo repo --strategy local,none --db s.db > /dev/null || die "replay"
"$HARNESS" staleness --db s.db --format json > s.json || die "staleness exit $?"
q() { jq -r "$1" s.json; }
# local, the first apt-get step: ran at commit 0 (day 1), hit at commits 1-4
# (days 2, 3, 4, 11): longest reuse 4 commits, 10 days; it left the
# Dockerfile at commit 5, so "last" is its last build (commit 4).
a='.steps[] | select(.strategy == "local" and (.instruction | test("curl$")))'
[ "$(q "$a | .fetch")" = apt-get ] || die "kind: $(cat s.json)"
[ "$(q "$a | [.builds, .runs, .hits, .max_commits, .max_days, .last_commits, .last_days] | @csv")" = \
  '5,1,4,4,10,4,10' ] || die "local apt-get: $(q "$a")"
# the edited step: runs at commit 5, reused at commit 6 (one day later)
b='.steps[] | select(.strategy == "local" and (.instruction | test("curl git$")))'
[ "$(q "$b | [.builds, .runs, .hits, .max_commits, .max_days, .last_commits, .last_days] | @csv")" = \
  '2,1,1,1,1,1,1' ] || die "local edited: $(q "$b")"
# git clone after it: runs whenever the apt-get step above it runs
g='.steps[] | select(.strategy == "local" and .fetch == "git clone")'
[ "$(q "$g | [.builds, .runs, .max_commits, .max_days] | @csv")" = '7,2,4,10' ] ||
    die "git clone: $(q "$g")"
# none: every build runs every step, nothing is stale
[ "$(q '[.steps[] | select(.strategy == "none") | .hits] | add')" = 0 ] || die "none hits"
[ "$(q '[.steps[] | select(.strategy == "none")] | length')" = 3 ] || die "none entries"
# RUN make fetches nothing: not listed
[ "$(q '[.steps[] | select(.instruction | test("make"))] | length')" = 0 ] || die "make listed"
"$HARNESS" staleness --db s.db --format csv > s.csv || die "csv"
[ "$(head -1 s.csv)" = "strategy,stage,line,fetch,instruction,builds,runs,hits,max_commits,max_days,last_commits,last_days" ] ||
    die "csv header: $(head -1 s.csv)"
grep -q '^local,0,2,apt-get,"RUN apt-get update && apt-get install -y curl",5,1,4,4,10.00,4,10.00$' s.csv ||
    die "csv row: $(cat s.csv)"
"$HARNESS" staleness --db s.db > s.txt || die "text"
grep -q '^local$' s.txt || die "text: $(cat s.txt)"
# harness report shows the same beside the cost (JSON and the page).
"$HARNESS" report --db s.db --format json > r.json || die "report json"
[ "$(jq -c '[.staleness.steps[] | select(.strategy == "local" and .fetch == "apt-get")] | .[0] | [.runs, .hits, .max_commits, .max_days]' r.json)" = '[1,4,4,10]' ] ||
    die "report staleness: $(jq .staleness r.json)"
"$HARNESS" report --db s.db --out page > /dev/null || die "report html"
grep -q 'id="staleness"' page/index.html || die "no staleness section"
grep -q 'RUN apt-get update &amp;&amp; apt-get install -y curl</code>' page/index.html ||
    die "staleness row missing from the page"
# The repository moved: --repo finds it; without it a clear error, exit 3.
mv repo moved
"$HARNESS" staleness --db s.db 2> err; [ $? -eq 3 ] || die "moved repo: exit"
grep -q "^hint: give the replayed repository with --repo DIR" err || die "hint: $(cat err)"
"$HARNESS" report --db s.db --format json > r.json || die "report without the repository"
jq -e '.staleness.note | startswith("not computed: ")' r.json > /dev/null || die "note: $(jq .staleness r.json)"
"$HARNESS" staleness --db s.db --repo moved --format json | jq -e '.steps | length == 6' >/dev/null ||
    die "--repo"
"$HARNESS" staleness --db nope.db 2> err; [ $? -eq 3 ] || die "no db: exit"
[ ! -e nope.db ] || die "created a database"
"$HARNESS" staleness 2> err; [ $? -eq 2 ] || die "no --db: exit"
"$HARNESS" staleness --db s.db --run 99 2> err; [ $? -eq 3 ] || die "unknown run: exit"
exit 0
