#!/usr/bin/env bash
# harness lint --repo: findings ranked by what their steps cost over the
# replayed history.  On a bad-order Python history of N commits under
# `local`, the pip install after COPY . . runs on every build (the COPY
# misses each time: .git is in the context): N misses of the model's pip
# figure for each commit (`harness model --rev`, from its requirements.txt),
# so copy-before-deps comes first with their sum in minutes.
set -u
. "$(dirname "$0")/lib.sh"
"$HARNESS" synth --out app --commits 20 --template bad-order >/dev/null || die "synth"
"$HARNESS" lint --repo app --format json app/Dockerfile > out.json; rc=$?
[ "$rc" = 1 ] || die "exit $rc"
want=$(for c in $(git -C app rev-list HEAD); do
    "$HARNESS" model --repo app --rev "$c" --format json | jq '[.steps[] | select(.instruction == "RUN")][0].seconds'
done | awk '{ s += $1 } END { printf "%.3f", s / 60 }')
jq -e --argjson want "$want" '.findings[0].rule == "copy-before-deps" and .findings[0].cost.builds == 20
       and .findings[0].cost.misses == 20 and (.findings[0].cost.minutes - $want | fabs) < 0.05
       and .findings[0].cost.usd == null' out.json >/dev/null || die "first (want $want minutes): $(jq -c '.findings[0]' out.json)"
mins=$(jq -r '.findings[0].cost.minutes' out.json | awk '{ printf "%.1f", $1 }')
jq -e '.findings[1].rule == "dockerignore-git" and .findings[1].cost.misses == 20
       and .findings[1].cost.minutes < 1' out.json >/dev/null || die "second: $(jq -c '.findings[1]' out.json)"
jq -e '[.findings[].cost.minutes] | . == (sort | reverse)' out.json >/dev/null || die "not ranked"
"$HARNESS" lint --repo app --pricing github-actions --format json app/Dockerfile > usd.json
jq -e '.findings[0].cost.usd > 0' usd.json >/dev/null || die "usd: $(jq -c '.findings[0].cost' usd.json)"
"$HARNESS" lint --repo app app/Dockerfile | grep -q "^  cost: missed in 20 of 20 builds, $mins minutes (local)\$" || die "text cost"
"$HARNESS" lint --repo app --format sarif app/Dockerfile | jq -e '.runs[0].results[0].message.text | contains("missed in 20 of 20 builds")' >/dev/null || die "sarif cost"
printf 'FROM python:3.12-slim\n' > outside.Dockerfile
"$HARNESS" lint --repo app outside.Dockerfile 2>/dev/null; [ $? = 2 ] || die "file outside the repository"
"$HARNESS" lint --range HEAD app/Dockerfile 2>/dev/null; [ $? = 2 ] || die "--range without --repo"
exit 0
