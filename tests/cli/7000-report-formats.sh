#!/usr/bin/env bash
# harness report: the JSON contract, Markdown and CSV tables, a read-only
# database, pricing profiles and usage errors.
set -u
. "$(dirname "$0")/lib.sh"
make_python_repo repo
"$HARNESS" replay --repo repo --db h.db -q --strategy none,local,inline,s3 || die "replay"
sum=$(md5sum h.db)

"$HARNESS" report --db h.db --format json > r.json || die "json exit"
for k in strategy builds failed hit_rate build_minutes billed_minutes compute_usd \
    storage_usd transfer_usd total_usd per_build_usd monthly_usd saving_vs_none_usd; do
    jq -e ".strategies[0] | has(\"$k\")" r.json >/dev/null || die "json lacks $k"
done
jq -e '.run.id == 1 and .run.commits == 5 and (.strategies | length) == 4' r.json >/dev/null || die "json run: $(jq -c .run r.json)"
jq -e '.pricing.name == "github-actions" and (.pricing.date | length) > 0 and (.pricing.sources | length) > 0' r.json >/dev/null || die "json pricing"
# total is the sum of its parts; every job of 5 is billed whole minutes
jq -e 'all(.strategies[]; ((.compute_usd + .storage_usd + .transfer_usd) - .total_usd | fabs) < 0.0002)' r.json >/dev/null || die "total != sum"
jq -e 'all(.strategies[]; .billed_minutes == (.billed_minutes | floor) and .billed_minutes >= .builds)' r.json >/dev/null || die "per-job rounding"
jq -e '.strategies[] | select(.strategy == "none") | .saving_vs_none_usd == 0 and .break_even == "baseline"' r.json >/dev/null || die "none row"
jq -e '.strategies[] | select(.strategy == "local") | .hit_rate > 0 and .estimated' r.json >/dev/null || die "local row"
# the monthly figures are at list price and the verdict agrees with the
# monthly saving; the account's free minutes are shown apart
jq -e 'all(.strategies[]; .monthly_usd > 0 and .monthly_after_allowance_usd <= .monthly_usd
       and (.break_even == "baseline" or ((.break_even == "pays") == (.monthly_saving_vs_none_usd > 0))))' r.json >/dev/null \
    || die "monthly figures: $(jq -c '.strategies[] | [.strategy, .monthly_usd, .monthly_after_allowance_usd, .monthly_saving_vs_none_usd, .break_even]' r.json)"

"$HARNESS" report --db h.db --format md > r.md || die "md exit"
grep -q '^| strategy | builds | hit rate |' r.md || die "md header: $(head -5 r.md)"
[ "$(grep -c '^| ' r.md)" -eq 5 ] || die "md rows: $(cat r.md)"
grep -q 'estimate' r.md || die "md does not say the figures are estimates"
"$HARNESS" report --db h.db > r2.md && cmp -s r.md r2.md || die "md is not the default format"
# money as a reader expects it: dollars and cents with thousands separators
# (a million builds a month), a cost per build to two significant digits, no
# four-decimal monthly figures; the CSV keeps the exact figure
"$HARNESS" report --db h.db --builds-per-month 1000000 > big.md || die "md 100000"
row=$(grep '^| local |' big.md)
echo "$row" | grep -Eq '\| \$[0-9]{1,3}(,[0-9]{3})+\.[0-9]{2} \|' || die "no \$1,234.56 in: $row"
echo "$row" | grep -Eq '\| \$0\.0[0-9]*[1-9][0-9]? \|' || die "per build: $row"
grep -Eq '[0-9]\.[0-9]{3,}' <(grep '^| ' big.md | cut -d'|' -f6-9,11-12,14) && die "sub-cent digits in cents columns: $(cat big.md)"
"$HARNESS" report --db h.db --builds-per-month 1000000 --format csv > big.csv || die "csv 100000"
m=$(jq -r '.strategies[] | select(.strategy == "local") | .monthly_usd' <("$HARNESS" report --db h.db --builds-per-month 1000000 --format json))
grep '^"repo",1,"local"' big.csv | cut -d, -f16 | grep -Eq "^${m%.*}\.[0-9]{3,}$" || die "csv monthly not exact: $(grep local big.csv) vs $m"

"$HARNESS" report --db h.db --format csv > r.csv || die "csv exit"
head -1 r.csv | grep -q '^repository,run,strategy,builds,failed,hit_rate,' || die "csv header"
[ "$(wc -l < r.csv)" -eq 5 ] || die "csv rows: $(cat r.csv)"
grep -q '^"repo",1,"local",5,0,' r.csv || die "csv local row: $(cat r.csv)"

"$HARNESS" report --db h.db --format json --out out > path.txt || die "--out json"
[ "$(cat path.txt)" = out/report.json ] && jq -e . out/report.json >/dev/null || die "--out wrote $(cat path.txt)"
# other profiles, and 1000 builds a month scale the monthly figures
"$HARNESS" report --db h.db --format json --pricing cloud-build --builds-per-month 1000 > c.json || die "cloud-build"
jq -e '.pricing.billing == "per-second" and .builds_per_month == 1000 and .run.builds_per_month_from == "option"' c.json >/dev/null || die "cloud-build json"
[ "$(md5sum h.db)" = "$sum" ] || die "the report wrote to the database"

# a schema 5 file (no pull and push seconds: its seconds include them) is
# read as it is, never migrated
cp h.db h5.db
sqlite3 h5.db < "$FIXTURES/schema/7-to-6.sql" || die "make a schema 6 file"
sqlite3 h5.db "ALTER TABLE builds DROP COLUMN pull_seconds; ALTER TABLE builds DROP COLUMN push_seconds;
    ALTER TABLE real_builds DROP COLUMN pull_seconds; ALTER TABLE real_builds DROP COLUMN push_seconds;
    PRAGMA user_version = 5; PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null || die "make a schema 5 file"
sum5=$(md5sum h5.db)
"$HARNESS" report --db h5.db --format json > r5.json || die "schema 5 report"
jq -e '.run.schema == 5 and (.run.job_seconds | startswith("seconds (transfers included)"))' r5.json >/dev/null || die "schema 5 run: $(jq -c .run r5.json)"
jq -e '.run.schema == 7 and (.run.job_seconds | startswith("pull_seconds + seconds"))' r.json >/dev/null || die "schema 7 run: $(jq -c .run r.json)"
[ "$(md5sum h5.db)" = "$sum5" ] || die "the report migrated or wrote a schema 5 file"
[ "$(sqlite3 h5.db 'PRAGMA user_version')" = 5 ] || die "schema 5 file migrated"

# errors
"$HARNESS" report 2>err; [ $? -eq 2 ] || die "no --db: exit"
grep -q -- '--db FILE is required' err || die "no --db message"
"$HARNESS" report --db h.db --format pdf 2>err; [ $? -eq 2 ] || die "bad format"
"$HARNESS" report --db h.db --format html 2>err; [ $? -eq 2 ] || die "html without --out"
"$HARNESS" report --db h.db --pricing nosuch 2>err; [ $? -eq 2 ] || die "unknown profile"
grep -q "unknown pricing profile 'nosuch'" err || die "profile message: $(cat err)"
printf '{"name": "mine", "date": "2026-01-01",\n "compute": {"runners": {"a": 0.01}},\n "sources": [{"figures": ["compute"], "url": "https://x"}],\n "disk": {"storage_usd_per_gb_month": "cheap"}}\n' > mine.json
"$HARNESS" report --db h.db --pricing mine.json 2>err; [ $? -eq 4 ] || die "bad profile exit"
grep -q "^harness: mine.json:4: 'storage_usd_per_gb_month' must be a number" err || die "bad profile message: $(cat err)"
echo 'not a database' > junk.db
"$HARNESS" report --db junk.db 2>err; [ $? -eq 3 ] || die "junk db exit"
grep -q 'not a harness database' err || die "junk db message"
"$HARNESS" report --db h.db --run 9 2>err; [ $? -eq 3 ] || die "missing run exit"
grep -q 'no builds in run 9' err || die "missing run message: $(cat err)"
exit 0
