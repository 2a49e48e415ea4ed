#!/usr/bin/env bash
# harness lint: findings as text, JSON (the documented shape) and SARIF
# 2.1.0; exit 1 on warnings, 0 on a Dockerfile that follows the advice.
set -u
. "$(dirname "$0")/lib.sh"
cp -r "$FIXTURES/lint" fx
good=fx/python-good/Dockerfile bad=fx/python-bad/Dockerfile

out=$("$HARNESS" lint "$good") || die "good Dockerfile: exit $?"
[ -z "$out" ] || die "good Dockerfile has findings: $out"
"$HARNESS" lint fx/multistage-good/Dockerfile >/dev/null || die "multi-stage good: exit $?"

"$HARNESS" lint "$bad" > bad.txt; rc=$?
[ "$rc" = 1 ] || die "bad Dockerfile: exit $rc, want 1"
grep -q "^fx/python-bad/Dockerfile:4: warning: pip install --upgrade pip .* \[pip-upgrade\]$" bad.txt || die "no pip-upgrade: $(cat bad.txt)"
grep -q "^fx/python-bad/Dockerfile:5: warning: .*lets .git in.* \[dockerignore-git\]$" bad.txt || die "no dockerignore-git"
grep -q "^fx/python-bad/Dockerfile:6: warning: line 5 copies the whole context .* \[copy-before-deps\]$" bad.txt || die "no copy-before-deps"
grep -q "^  fix: copy only the manifests first: COPY requirements.txt ./, then RUN pip install --no-cache-dir -r requirements.txt, then COPY . .$" bad.txt || die "fix text: $(cat bad.txt)"

# JSON: one object per file, an array for several; exactly these keys
"$HARNESS" lint --format json "$good" > one.json; [ $? = 0 ] || die "json good exit"
jq -e '.file == "fx/python-good/Dockerfile" and .findings == []' one.json >/dev/null || die "json good: $(cat one.json)"
"$HARNESS" lint --format json "$good" "$bad" fx/node-bad/Dockerfile > many.json; [ $? = 1 ] || die "json bad exit"
jq -e 'type == "array" and length == 3' many.json >/dev/null || die "json array"
jq -e '[.[].findings[] | keys] | unique == [["fix","line","message","rule","severity"]]' many.json >/dev/null || die "json keys: $(cat many.json)"
jq -e '.[2].findings | map(.rule) == ["floating-base","unpinned-install","dockerignore-missing","copy-before-deps"]' many.json >/dev/null || die "node rules: $(jq -c '.[2].findings|map(.rule)' many.json)"
jq -e '.[1].findings | map(.line) == [4,5,6]' many.json >/dev/null || die "lines"

# SARIF 2.1.0 as GitHub code scanning reads it
"$HARNESS" lint --format sarif "$good" "$bad" > out.sarif; [ $? = 1 ] || die "sarif exit"
jq -e '.version == "2.1.0" and (.runs | length) == 1 and .runs[0].tool.driver.name == "harness"' out.sarif >/dev/null || die "sarif header"
jq -e '.runs[0] as $r | [$r.results[] | . as $x | $r.tool.driver.rules[$x.ruleIndex].id == $x.ruleId] | all' out.sarif >/dev/null || die "ruleIndex"
jq -e '[.runs[0].results[] | (.level | IN("note","warning","error")) and (.message.text | length > 0)
        and .locations[0].physicalLocation.artifactLocation.uri == "fx/python-bad/Dockerfile"
        and .locations[0].physicalLocation.region.startLine >= 1] | all and length == 3' out.sarif >/dev/null || die "sarif results: $(cat out.sarif)"
jq -e '[.runs[0].tool.driver.rules[] | .shortDescription.text and .help.text and .defaultConfiguration.level] | all' out.sarif >/dev/null || die "sarif rules"
"$HARNESS" lint --format sarif "$good" | jq -e '.runs[0].results == []' >/dev/null || die "sarif empty"

# --context: the .dockerignore of another folder
"$HARNESS" lint --context fx/python-good "$bad" | grep -q dockerignore-git && die "--context ignored"

# malformed input: file:line, exit 4; usage 2; unreadable 3
printf 'FROM python:3.12\nCOPY onlyone\n' > broken.Dockerfile
"$HARNESS" lint "$good" broken.Dockerfile 2> err.txt >/dev/null; rc=$?
[ "$rc" = 4 ] || die "malformed: exit $rc"
grep -q '^harness: broken.Dockerfile:2: ' err.txt || die "malformed message: $(cat err.txt)"
mkdir ign && printf 'FROM alpine:3.19\nCOPY . .\n' > ign/Dockerfile && printf 'ok\n[\n' > ign/.dockerignore
"$HARNESS" lint ign/Dockerfile 2> err.txt; rc=$?
[ "$rc" = 4 ] || die "bad .dockerignore: exit $rc"
grep -q '^harness: ign/.dockerignore:2: ' err.txt || die "dockerignore message: $(cat err.txt)"
"$HARNESS" lint --format xml "$good" 2>/dev/null; [ $? = 2 ] || die "unknown format"
"$HARNESS" lint 2>/dev/null; [ $? = 2 ] || die "no file"
"$HARNESS" lint --strategy nope "$good" 2>/dev/null; [ $? = 2 ] || die "unknown strategy"
"$HARNESS" lint missing/Dockerfile 2>/dev/null; [ $? = 3 ] || die "missing file"
"$HARNESS" lint --help | head -1 | grep -qx 'usage: harness lint \[--format text|json|sarif\] \[--context DIR\] \[--repo DIR \[--range R\]\] DOCKERFILE...' || die "usage line"
exit 0
