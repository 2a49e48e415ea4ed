#!/usr/bin/env bash
# harness explain: outcomes and first reasons, in words.
set -u
. "$(dirname "$0")/lib.sh"
make_python_repo repo
cd repo
chmod +x app.py && git commit -qam mode
printf 'FROM python:3.12-slim\nLABEL team=web\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\nRUN python -m compileall .\nCMD ["python", "app.py"]\n' > Dockerfile
git commit -qam label
cd ..
"$HARNESS" explain --repo repo HEAD~2 HEAD~1 > out || die "explain failed"
grep -q "miss    COPY . . (line 5): mode of app.py changed 0644 -> 0755" out || die "mode reason: $(cat out)"
"$HARNESS" explain --repo repo HEAD~1 HEAD --builder legacy > out || die "explain legacy"
grep -q "LABEL inserted at line 2 changes every later legacy step" out || die "label reason: $(cat out)"
grep -q "follows a miss at line 2" out || die "follows: $(cat out)"
"$HARNESS" explain --repo repo HEAD~1 HEAD --builder buildkit --format json > out.json || die "json"
jq -e '.[0].steps[1].outcome == "none" and .[0].steps[4].outcome == "hit"' out.json >/dev/null || die "buildkit LABEL must not bust: $(cat out.json)"
exit 0
