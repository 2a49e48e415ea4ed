#!/usr/bin/env bash
# harness run: a fleet scenario replays each repository into its own
# database; --jobs 3 (one process each) gives the same rows as --jobs 1;
# --only picks one repository (a CI matrix job); a rerun writes nothing;
# bad scenarios get FILE:LINE and exit 4.
set -u
. "$(dirname "$0")/lib.sh"
write_fleet() {
    mkdir -p "$1"
    cat > "$1/fleet.json" <<'JSON'
{
  "description": "three small services",
  "strategies": ["none", "local", "inline", "registry-max"],
  "first_parent": true,
  "repositories": [
    {"name": "api", "repo": "api",
     "synth": {"template": "python", "commits": 14, "files": 30, "seed": 1}},
    {"name": "web", "repo": "web", "runners": 2, "assign": "random",
     "synth": {"template": "node", "commits": 12, "files": 30, "seed": 2}},
    {"repo": "svc", "db": "svc-builds.db", "strategies": ["none", "gha"],
     "synth": {"template": "go-multistage", "commits": 10, "files": 30, "seed": 3}}
  ]
}
JSON
}
rows() { # every figure of every build, step and transfer, in write order
    sqlite3 "$1" "select r.repo, r.options, b.seq, b.commit_sha, b.strategy, b.status, b.seconds, b.bytes_pulled, b.bytes_pushed, b.steps_hit, b.steps_miss, b.registry_bytes, b.cache_bytes from builds b join runs r on r.id = b.run_id order by b.id;
                  select * from steps order by build_id, step_index; select * from transfers order by build_id, seq;"
}
write_fleet one; write_fleet three
(cd one && "$HARNESS" run fleet.json --no-report --jobs 1 -q) 2>err1 || die "run --jobs 1: $(cat err1)"
"$HARNESS" run three/fleet.json --no-report --jobs 3 2>err3 || die "run --jobs 3: $(cat err3)"
for db in api.db web.db svc-builds.db; do
    [ -s "three/$db" ] || die "--jobs 3 wrote no $db"
    [ "$(rows "one/$db" | md5sum)" = "$(rows "three/$db" | md5sum)" ] || die "$db differs between --jobs 1 and --jobs 3"
done
[ "$(sqlite3 three/api.db 'select count(*) from builds')" -eq 56 ] || die "api: want 14 x 4 builds"
[ "$(sqlite3 three/svc-builds.db "select group_concat(s) from (select distinct strategy s from builds order by s)")" = "gha,none" ] || die "svc's own strategies"
sqlite3 three/web.db 'select options from runs' | grep -q '"runners":2' || die "web's runners"
grep -q "run: web: 12 commits, 48 builds written" err3 || die "news line: $(cat err3)"
# a rerun resumes: nothing new to write, the rows unchanged
before=$(rows three/api.db | md5sum)
"$HARNESS" run three/fleet.json --no-report --jobs 2 2>err || die "rerun: $(cat err)"
grep -q "run: api: 14 commits, 0 builds written" err || die "rerun wrote builds: $(cat err)"
[ "$(rows three/api.db | md5sum)" = "$before" ] || die "rerun changed rows"
# --only: one repository, as a CI matrix job
write_fleet m
"$HARNESS" run m/fleet.json --no-report --only web -q 2>err || die "--only: $(cat err)"
[ -e m/web.db ] && [ ! -e m/api.db ] && [ ! -d m/api ] || die "--only replayed others: $(ls m)"
"$HARNESS" run m/fleet.json --only nope 2>err; [ $? -eq 2 ] || die "--only unknown exit"
grep -q "has no repository 'nope'" err && grep -q "repositories: api, web, svc" err || die "--only message: $(cat err)"
"$HARNESS" run m/fleet.json --jobs 0 2>/dev/null; [ $? -eq 2 ] || die "--jobs 0 exit"
# bad scenarios: file and line of the key, exit 4, nothing replayed
mkdir bad && cd bad || exit 1
printf '{\n  "strategies": ["none"],\n  "repositories": [\n    {"repo": "a", "strategies": ["none"]},\n    {"repo": "b",\n     "strategies": ["none", "lokal"]}\n  ]\n}\n' > s1.json
"$HARNESS" run s1.json 2>err; [ $? -eq 4 ] || die "bad strategy exit"
grep -q "^harness: s1.json:6: unknown strategy 'lokal'" err || die "bad strategy message: $(cat err)"
printf '{\n  "engine": "podman",\n  "repositories": [{"repo": "a"}]\n}\n' > s2.json
"$HARNESS" run s2.json 2>err; [ $? -eq 4 ] || die "inherited bad engine exit"
grep -q "^harness: s2.json:2: unknown engine 'podman'" err || die "engine message: $(cat err)"
printf '{\n  "repo": "a",\n  "synth": {"template": "cobol"}\n}\n' > s3.json
"$HARNESS" run s3.json 2>err; [ $? -eq 4 ] || die "bad template exit"
grep -q "^harness: s3.json:3: unknown synth template 'cobol'" err || die "template message: $(cat err)"
printf '{\n  "repo": "a",\n  "report": {"format": "pdf"}\n}\n' > s4.json
"$HARNESS" run s4.json 2>err; [ $? -eq 4 ] || die "bad format exit"
grep -q "^harness: s4.json:3: unknown report format 'pdf'" err || die "format message: $(cat err)"
printf '{\n  "repositories": [\n    {"repo": "a", "runers": 2}\n  ]\n}\n' > s5.json
"$HARNESS" run s5.json 2>err; [ $? -eq 4 ] || die "unknown key exit"
grep -q "^harness: s5.json:3: unknown key 'runers'" err || die "unknown key message: $(cat err)"
printf '{"description": "nothing"}\n' > s6.json
"$HARNESS" run s6.json 2>err; [ $? -eq 4 ] || die "no repository exit"
grep -q "names no repository" err || die "no repository message: $(cat err)"
[ -z "$(ls -d a b ./*.db 2>/dev/null)" ] || die "a bad scenario replayed something"
"$HARNESS" replay --scenario ../three/fleet.json 2>err; [ $? -eq 2 ] || die "replay of a fleet exit"
grep -q "harness run" err || die "replay of a fleet should point at run: $(cat err)"
exit 0
