#!/usr/bin/env bash
# --base IMAGE=DIGEST@REV: a base tag that moved at REV changes every key
# from that commit on, and only from there.
set -u
. "$(dirname "$0")/lib.sh"
make_python_repo repo
third=$(git -C repo rev-parse HEAD~2)
"$HARNESS" keys --repo repo --range HEAD --format json \
    --base python:3.12-slim=sha256:aaa \
    --base "python:3.12-slim=sha256:bbb@$third" > k.jsonl || die "keys failed"
from() { sed -n "${1}p" k.jsonl | jq -r '.steps[0].key'; }
pip() { sed -n "${1}p" k.jsonl | jq -r '.steps[3].key'; }
[ "$(from 1)" = "$(from 2)" ] || die "FROM changed before the tag moved"
[ "$(from 2)" != "$(from 3)" ] || die "FROM did not change where the tag moved"
[ "$(from 3)" = "$(from 5)" ] || die "FROM changed after the move"
[ "$(pip 2)" != "$(pip 3)" ] || die "RUN pip did not follow the base"
"$HARNESS" keys --repo repo --rev HEAD --base 'python=sha256:x@nosuchrev' 2>err; [ $? -eq 3 ] || die "bad rev exit"
grep -q "nosuchrev" err || die "bad rev message"
"$HARNESS" keys --repo repo --rev HEAD --base 'python' 2>err; [ $? -eq 2 ] || die "bad --base usage"
exit 0
