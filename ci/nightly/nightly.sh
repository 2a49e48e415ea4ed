#!/usr/bin/env bash
# Nightly cost report for any CI: replay the checked-out branch's new commits
# into a database kept between runs, write the HTML report and the Markdown
# summary, and compare with last night.
#
#   ci/nightly/nightly.sh
#
# Settings (environment; all optional):
#   HARNESS      the harness binary (default: harness on PATH)
#   REPO         the repository's checkout, with its whole history (default: .)
#   RANGE        what to replay (default: HEAD, the branch checked out)
#   STATE        folder your CI keeps from one night to the next (a cache or
#                an artifact): holds harness.db (default: .harness)
#   OUT          report folder: index.html (with its charts), summary.md and,
#                from the second night on, compare.md
#                (default: harness-report)
#   STRATEGIES   strategies to replay (default: all)
#   PRICING      pricing profile name or file (default: github-actions)
#   THRESHOLD    percent a strategy's cost per build may rise, or its hit rate
#                fall, before the night counts as a regression (default: 5)
#   REPLAY_ARGS  more `harness replay` options, e.g. "--dockerfile docker/app.Dockerfile"
#   FAIL_ON_REGRESSION  1 (default): exit 1 on a regression; 0: report only
#
# The replay resumes the database's run (same repository, Dockerfile and
# options), so only the new commits' builds are written; the rows of the
# commits already there stay as they were.  Keep REPO, RANGE, STRATEGIES and
# REPLAY_ARGS the same every night, or a new run starts.
#
# Exit status: 0, 1 when the comparison with last night found a regression,
# 2-4 as harness (usage, runtime failure, malformed input).
set -u
HARNESS=${HARNESS:-harness}
REPO=${REPO:-.}
RANGE=${RANGE:-HEAD}
STATE=${STATE:-.harness}
OUT=${OUT:-harness-report}
STRATEGIES=${STRATEGIES:-all}
PRICING=${PRICING:-github-actions}
THRESHOLD=${THRESHOLD:-5}
FAIL_ON_REGRESSION=${FAIL_ON_REGRESSION:-1}
REPLAY_ARGS=${REPLAY_ARGS:-}
db=$STATE/harness.db
mkdir -p "$STATE" "$OUT" || exit 3

# last night's figures, before tonight's replay adds to them
last=""
if [ -s "$db" ]; then
    last=$STATE/last-night.db
    rm -f "$last" "$last-wal" "$last-shm"
    cp "$db" "$last" || exit 3
    if [ -e "$db-wal" ]; then cp "$db-wal" "$last-wal" || exit 3; fi
fi
commits() { "$HARNESS" report --db "$1" --format json 2>/dev/null | sed -n 's/.*"commits": *\([0-9]*\).*/\1/p' | head -1; }
before=0
[ -n "$last" ] && before=$(commits "$last")

# shellcheck disable=SC2086 # REPLAY_ARGS is a list of options
"$HARNESS" replay --repo "$REPO" --range "$RANGE" --first-parent \
    --strategy "$STRATEGIES" --db "$db" --quiet $REPLAY_ARGS || exit $?
echo "nightly: $(( $(commits "$db") - ${before:-0} )) new commits replayed into $db"

"$HARNESS" report --db "$db" --pricing "$PRICING" --out "$OUT" || exit $?
"$HARNESS" report --db "$db" --pricing "$PRICING" --format md > "$OUT/summary.md" || exit $?
regressed=0
if [ -n "$last" ]; then
    "$HARNESS" report --db "$db" --pricing "$PRICING" --format md \
        --compare "$last" --threshold "$THRESHOLD" > "$OUT/compare.md"
    rc=$?
    case $rc in
    0) ;;
    1) regressed=1 ;;
    *) exit $rc ;;
    esac
    rm -f "$last" "$last-wal" "$last-shm"
fi

# the job summary (GitHub Actions; the comparison holds the summary and
# the changes); other CIs show the log
md=$OUT/summary.md
[ -n "$last" ] && md=$OUT/compare.md
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    cat "$md" >> "$GITHUB_STEP_SUMMARY"
fi
cat "$md"
echo "nightly: report in $OUT/index.html"
if [ "$regressed" = 1 ]; then
    echo "nightly: a strategy got more expensive per build, or its hit rate fell, by more than $THRESHOLD% since last night" >&2
    [ "$FAIL_ON_REGRESSION" = 1 ] && exit 1
fi
exit 0
