#!/usr/bin/env bash
# harness whatif on a generated bad-order Python history (COPY . . before
# pip install): the saving of copy-before-deps, checked by hand.
#
# By hand, under `local` (one persistent BuildKit runner), N commits:
#  before: FROM, WORKDIR, COPY . ., RUN pip per build.  FROM and WORKDIR hit
#    after the first build; COPY . . misses every build (the checkout's .git
#    is in the context), so RUN pip runs N times.  Hits: 2(N-1) of 4N.
#  after: FROM, WORKDIR, COPY requirements.txt, RUN pip, COPY . .  The
#    requirements COPY misses on the first build and the D commits that
#    change requirements.txt; RUN pip also misses when the ARG above it
#    changes: P runs.  Hits: 2(N-1) + (N-1-D) + (N-P) of 5N.
#  saving: N-P pip runs of PIP s each (the model's figure for this pip
#    install, as `harness model` prints it: doc/model.md), plus their
#    layer's export and push (at most 6 s more each: gzip of ~100 MB at
#    35 MB/s and its upload), less the new COPY
#    step (at most 0.3 s a build).
set -u
. "$(dirname "$0")/lib.sh"
"$HARNESS" synth --out app --commits 60 --template bad-order >/dev/null || die "synth"
cd app || exit 1
N=$(git rev-list --count HEAD)
# the root commit creates requirements.txt and the ARG: both lists have it
D=$(($(git log --format=%H -- requirements.txt | wc -l) - 1))
P=$({ git log --format=%H -- requirements.txt; git log -G'^ARG' --format=%H -- Dockerfile; } | sort -u | wc -l)
cd .. || exit 1
[ "$N" = 60 ] && [ "$D" -gt 0 ] && [ "$P" -lt 30 ] || die "unexpected history N=$N D=$D P=$P"

"$HARNESS" whatif --repo app --fix copy-before-deps --strategy local,inline --format json > out.json || die "whatif exit $?"
jq -e '(.strategies | length) == 2 and ([.strategies[] | keys] | unique) ==
       [["after_hit_rate","after_minutes","after_usd","before_hit_rate","before_minutes","before_usd","strategy"]]' out.json >/dev/null \
    || die "json shape: $(cat out.json)"
jq -e '.strategies[0].before_usd == null' out.json >/dev/null || die "usd without a profile"
want_before=$(awk -v n="$N" 'BEGIN { printf "%.4f", 2 * (n - 1) / (4 * n) }')
want_after=$(awk -v n="$N" -v d="$D" -v p="$P" 'BEGIN { printf "%.4f", (2 * (n - 1) + (n - 1 - d) + (n - p)) / (5 * n) }')
got_before=$(jq -r '.strategies[0] | .before_hit_rate' out.json)
got_after=$(jq -r '.strategies[0] | .after_hit_rate' out.json)
[ "$(printf %.4f "$got_before")" = "$want_before" ] || die "before hit rate $got_before, by hand $want_before"
[ "$(printf %.4f "$got_after")" = "$want_after" ] || die "after hit rate $got_after, by hand $want_after (N=$N D=$D P=$P)"
saved=$(jq -r '.strategies[0] | (.before_minutes - .after_minutes) * 60' out.json)
pip=$("$HARNESS" model --repo app --format json | jq '[.steps[] | select(.instruction == "RUN")][0].seconds')
[ -n "$pip" ] && [ "$pip" != null ] || die "no pip figure from harness model"
awk -v s="$saved" -v n="$N" -v p="$P" -v pip="$pip" 'BEGIN {
    lo = (n - p) * pip - n * 0.3; hi = (n - p) * (pip + 6)
    exit !(s >= lo && s <= hi) }' || die "saving ${saved}s outside the hand bounds for $((N - P)) pip runs"
jq -e '.strategies[1].after_minutes < .strategies[1].before_minutes' out.json >/dev/null || die "inline saves nothing"

# the same in money and as text and Markdown
"$HARNESS" whatif --repo app --fix copy-before-deps --strategy local --pricing github-actions --format json > usd.json || die "pricing"
jq -e '.strategies[0] | .after_usd < .before_usd and .before_usd > 0' usd.json >/dev/null || die "usd: $(cat usd.json)"
"$HARNESS" whatif --repo app --fix copy-before-deps --strategy local > out.txt || die "text"
grep -q '^whatif: copy-before-deps over 60 commits' out.txt || die "text head: $(cat out.txt)"
grep -q '^local ' out.txt || die "text row"
"$HARNESS" whatif --repo app --fix copy-before-deps --strategy local --format md | grep -q '^| `local` |' || die "md"

# --write: the fixed Dockerfile of the last commit, and its .dockerignore
"$HARNESS" whatif --repo app --fix copy-before-deps,dockerignore-git --strategy local --write fixed.Dockerfile >/dev/null || die "write"
grep -n '' fixed.Dockerfile | grep -q '^5:COPY requirements.txt ./$' || die "fixed: $(cat fixed.Dockerfile)"
grep -n '' fixed.Dockerfile | grep -q '^6:RUN pip install --no-cache-dir -r requirements.txt$' || die "fixed run"
grep -n '' fixed.Dockerfile | grep -q '^7:COPY . .$' || die "fixed copy"
grep -qx '.git' fixed.Dockerfile.dockerignore || die "no .git in the written .dockerignore"
"$HARNESS" lint --context app fixed.Dockerfile | grep -q copy-before-deps && die "the fixed Dockerfile still has the finding"

# an alternative Dockerfile: the fixed one, every commit
"$HARNESS" whatif --repo app --dockerfile-alt fixed.Dockerfile --strategy local --format json > alt.json || die "alt"
jq -e '.strategies[0].after_minutes < .strategies[0].before_minutes' alt.json >/dev/null || die "alt saves nothing"

# busting one layer every build costs
"$HARNESS" whatif --repo app --fix bust-one-layer=pip --strategy local --format json > bust.json || die "bust"
jq -e '.strategies[0] | .after_minutes >= .before_minutes' bust.json >/dev/null || die "bust: $(cat bust.json)"

# usage and malformed input
"$HARNESS" whatif --repo app --strategy local 2>/dev/null; [ $? = 2 ] || die "no --fix"
"$HARNESS" whatif --repo app --fix copy-before-deps --dockerfile-alt fixed.Dockerfile 2>/dev/null; [ $? = 2 ] || die "both"
"$HARNESS" whatif --repo app --fix nope 2>/dev/null; [ $? = 2 ] || die "unknown rule"
"$HARNESS" whatif --repo app --fix bust-one-layer 2>/dev/null; [ $? = 2 ] || die "bust without a layer"
"$HARNESS" whatif --repo app --fix floating-base 2>/dev/null; [ $? = 2 ] || die "rule without a rewrite"
printf 'FROM python:3.12\nCOPY onlyone\n' > broken.Dockerfile
"$HARNESS" whatif --repo app --dockerfile-alt broken.Dockerfile 2> err.txt; rc=$?
[ "$rc" = 4 ] || die "malformed alt: exit $rc"
grep -q '^harness: broken.Dockerfile:2: ' err.txt || die "alt message: $(cat err.txt)"
exit 0
