#!/usr/bin/env bash
# harness keys: one record per commit of a range, keys stable for an
# unchanged step, changed for the step whose input changed.
set -u
. "$(dirname "$0")/lib.sh"
make_python_repo repo
"$HARNESS" keys --repo repo --range HEAD --format json > keys.jsonl || die "keys failed"
[ "$(wc -l < keys.jsonl)" -eq 5 ] || die "want 5 records"
k1=$(sed -n 1p keys.jsonl | jq -r '.steps[3].key')
k5=$(sed -n 5p keys.jsonl | jq -r '.steps[3].key')
[ "$k1" = "$k5" ] || die "RUN pip key changed although requirements did not"
c1=$(sed -n 1p keys.jsonl | jq -r '.steps[4].key')
c5=$(sed -n 5p keys.jsonl | jq -r '.steps[4].key')
[ "$c1" != "$c5" ] || die "COPY . . key did not change with app.py"
sed -n 1p keys.jsonl | jq -e '.steps[2].files == 1 and .steps[2].instruction == "COPY" and .steps[2].line == 3' >/dev/null || die "COPY requirements record"
# legacy keys differ from BuildKit keys
"$HARNESS" keys --repo repo --rev HEAD --builder legacy --format json | jq -e '.builder == "legacy" and (.steps | length) == 7' >/dev/null || die "legacy"
"$HARNESS" keys --repo repo --rev HEAD | grep -q "stage 0 line 5    COPY" || die "text format"
"$HARNESS" keys --repo repo 2>err; [ $? -eq 2 ] || die "no --rev/--range must be a usage error"
"$HARNESS" keys --repo repo --rev nosuch 2>err; [ $? -eq 3 ] || die "missing revision exit"
exit 0
