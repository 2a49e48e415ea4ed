#!/usr/bin/env bash
# harness run ends in the report: the scenario's pricing, builds per month
# and format reach it; a fleet's report has each repository and the total;
# --compare's exit 1 comes through; a bad pricing profile is FILE:LINE.
set -u
. "$(dirname "$0")/lib.sh"
cat > one.json <<'JSON'
{
  "name": "svc",
  "repo": "svc",
  "synth": {"template": "node", "commits": 16, "files": 30, "seed": 4},
  "strategies": ["none", "local", "inline"],
  "pricing": "cloud-build",
  "builds_per_month": 1000,
  "db": "svc.db",
  "report": {"format": "json", "out": "out/svc"}
}
JSON
"$HARNESS" run one.json >stdout 2>err || die "run: $(cat err)"
[ -s out/svc/report.json ] || die "no report.json in the scenario's folder: $(ls -R out)"
jq -e '.pricing.name == "cloud-build"' out/svc/report.json >/dev/null || die "pricing not taken from the scenario"
jq -e '[.strategies[].strategy] == ["none", "local", "inline"]' out/svc/report.json >/dev/null || die "strategies: $(jq -c '[.strategies[].strategy]' out/svc/report.json)"
jq -e '.strategies[0].builds == 16 and .strategies[0].total_usd > 0' out/svc/report.json >/dev/null || die "figures"
jq -e '.run.builds_per_month == 1000' out/svc/report.json >/dev/null || die "builds_per_month not taken from the scenario"
grep -q '^| inline |' stdout || die "the Markdown summary is not printed after the report: $(cat stdout)"
# the command line wins: format, folder (- prints), builds per month
"$HARNESS" run one.json -q --format json --out - --builds-per-month 2000 > two.json || die "run --out -"
jq -e '.run.builds_per_month == 2000 and .pricing.name == "cloud-build"' two.json >/dev/null || die "--builds-per-month did not win: $(jq -c .run two.json)"
# --compare: against itself no regression; against a past where every
# build hit, exit 1 comes through
cp svc.db past.db
"$HARNESS" run one.json -q -f md -o - --compare past.db >/dev/null || die "compare with itself must exit 0"
sqlite3 past.db "update builds set steps_hit = steps_hit + steps_miss, steps_miss = 0" || die "sqlite3"
"$HARNESS" run one.json -q -f md -o - --compare past.db > cmp.md; [ $? -eq 1 ] || die "a fallen hit rate must exit 1"
# a fleet: each repository and the total
cat > fleet.json <<'JSON'
{
  "strategies": ["none", "inline"],
  "repositories": [
    {"name": "a", "repo": "a", "synth": {"template": "python", "commits": 10, "files": 20, "seed": 1}},
    {"name": "b", "repo": "b", "synth": {"template": "go-multistage", "commits": 8, "files": 20, "seed": 2}}
  ],
  "report": {"format": "json"}
}
JSON
"$HARNESS" run fleet.json --jobs 2 -q > fleet-report.json 2>err || die "fleet run: $(cat err)"
jq -e '.strategies[0].builds == 18' fleet-report.json >/dev/null || die "fleet total: $(jq -c '.strategies[0]' fleet-report.json)"
[ "$(jq '.repositories | length' fleet-report.json)" -eq 2 ] || die "fleet: per repository: $(jq -c 'keys' fleet-report.json)"
# bad pricing: the scenario's line, exit 4, nothing replayed
printf '{\n  "repo": "svc",\n  "db": "x.db",\n  "pricing": "aws-magic"\n}\n' > bad.json
"$HARNESS" run bad.json 2>err; [ $? -eq 4 ] || die "bad pricing exit"
grep -q "^harness: bad.json:4: .*aws-magic" err || die "bad pricing message: $(cat err)"
[ ! -e x.db ] || die "a bad pricing profile still replayed"
exit 0
