#!/usr/bin/env bash
# replay --scenario: a scenario file generates its repository, sets the
# options (the command line wins), and a bad file gets file:line and exit 4.
set -u
. "$(dirname "$0")/lib.sh"
cat > s.json <<'JSON'
{
  "description": "tiny",
  "repo": "gen",
  "synth": {"template": "node", "commits": 12, "files": 20, "seed": 5},
  "strategies": ["local", "inline"],
  "runners": 2,
  "db": "s.db"
}
JSON
"$HARNESS" replay --scenario s.json -q 2>err || die "scenario replay failed: $(cat err)"
[ -d gen/.git ] || die "synth block did not generate the repository"
[ "$(sqlite3 s.db 'select count(*) from builds')" -eq 24 ] || die "want 12 x 2 builds"
sqlite3 s.db 'select options from runs' | grep -q '"runners":2' || die "runners not taken from the file"
# the command line wins over the file
"$HARNESS" replay --scenario s.json -q --strategy none --db other.db || die "override failed"
[ "$(sqlite3 other.db "select group_concat(distinct strategy) from builds")" = none ] || die "--strategy did not win"
printf '{\n  "repo": "gen",\n  "runers": 3\n}\n' > bad.json
"$HARNESS" replay --scenario bad.json 2>err; [ $? -eq 4 ] || die "unknown key exit"
grep -q "bad.json:3: unknown key 'runers'" err || die "unknown key message: $(cat err)"
printf '{"repo": "gen",\n"strategies": [1]}' > bad2.json
"$HARNESS" replay --scenario bad2.json 2>err; [ $? -eq 4 ] || die "type exit"
grep -q "bad2.json:2: 'strategies' must be a list of names" err || die "type message: $(cat err)"
"$HARNESS" replay --scenario missing.json 2>err; [ $? -eq 3 ] || die "missing file exit"
exit 0
