#!/usr/bin/env bash
# The GitHub Actions workflows in ci/nightly/ are valid YAML and wire the
# nightly together: every night on a schedule, the whole history checked
# out, the database restored from and saved to the cache under one key
# prefix, nightly.sh run, the report published; the fleet workflow fans
# out a matrix job per repository (harness run --only) and merges the
# databases into one report.  Every run: script passes bash -n.
set -u
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
python3 - "$root/ci/nightly" <<'PY' || die "workflow check failed"
import os, subprocess, sys, yaml
d = sys.argv[1]
def steps(job):
    return job["steps"]
def check(cond, what):
    if not cond:
        print("FAIL:", what); sys.exit(1)
def runs_parse(wf, name):
    for job in wf["jobs"].values():
        for s in steps(job):
            if "run" in s:
                r = subprocess.run(["bash", "-n"], input=s["run"], text=True)
                check(r.returncode == 0, f"{name}: step '{s.get('name')}' is not valid bash")
one = yaml.safe_load(open(os.path.join(d, "github-actions.yml")))
trig = one[True] if True in one else one["on"]  # YAML 1.1 reads 'on' as true
check("cron" in trig["schedule"][0], "nightly: no schedule")
job = one["jobs"]["nightly"]
ss = steps(job)
uses = [s.get("uses", "") for s in ss]
co = [s for s in ss if s.get("uses", "").startswith("actions/checkout")]
check(any(s.get("with", {}).get("fetch-depth") == 0 for s in co), "nightly: the history is not fetched whole")
restore = next(s for s in ss if s.get("uses", "").startswith("actions/cache/restore"))
save = next(s for s in ss if s.get("uses", "").startswith("actions/cache/save"))
check(restore["with"]["path"] == save["with"]["path"], "nightly: cache paths differ")
check(restore["with"]["key"] == save["with"]["key"], "nightly: cache keys differ")
check(save["with"]["key"].startswith(restore["with"]["restore-keys"].strip()), "nightly: restore-keys do not find last night's key")
night = next(s for s in ss if "nightly.sh" in s.get("run", ""))
check(night["env"]["STATE"] == save["with"]["path"], "nightly: the kept folder is not the database's")
check(any(u.startswith("actions/upload-artifact") for u in uses), "nightly: the report is not published")
check(uses.index(next(u for u in uses if u.startswith("actions/cache/restore"))) < ss.index(night), "nightly: cache restored after the replay")
runs_parse(one, "nightly")
fleet = yaml.safe_load(open(os.path.join(d, "github-actions-fleet.yml")))
rep = fleet["jobs"]["replay"]
check(rep["strategy"]["matrix"]["repo"], "fleet: no matrix")
check(any("--only" in s.get("run", "") and "matrix.repo" in s.get("run", "") for s in steps(rep)), "fleet: matrix jobs do not pick their repository")
check(fleet["jobs"]["report"]["needs"] == "replay", "fleet: the report does not wait for the replays")
check(any("--db" in s.get("run", "") and "GITHUB_STEP_SUMMARY" in s.get("run", "") for s in steps(fleet["jobs"]["report"])), "fleet: the databases are not merged into one report")
runs_parse(fleet, "fleet")
PY
bash -n "$root/ci/nightly/nightly.sh" || die "nightly.sh"
exit 0
