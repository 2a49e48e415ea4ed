#!/usr/bin/env bash
# The HTML report: index.html with its six charts; without gnuplot it still
# renders and says why it has no charts; a fleet of two databases.
set -u
. "$(dirname "$0")/lib.sh"
make_python_repo repo
"$HARNESS" replay --repo repo --db h.db -q --strategy none,local,gha || die "replay"
"$HARNESS" report --db h.db --out out > path.txt || die "html exit"
[ "$(cat path.txt)" = out/index.html ] || die "path printed: $(cat path.txt)"
for c in cost billed seconds hits pulled pushed; do
    grep -q "<img src=\"$c.svg\"" out/index.html || die "page lacks $c.svg"
    grep -q '<svg' "out/$c.svg" || die "$c.svg is not SVG"
done
grep -q 'Cumulative billed minutes' out/billed.svg || die "chart title"
grep -q 'steps from a cache, percent' out/hits.svg || die "axis label with unit"
for s in 'The most expensive misses' 'Assumptions and sources' 'estimate' 'github-actions'; do
    grep -q "$s" out/index.html || die "page lacks '$s'"
done
# misses rank the caching strategies: none misses every step by construction
sed -n '/id="misses"/,/<\/table>/p' out/index.html > misses.html
grep -q '<tr><td>local' misses.html || die "no misses of local: $(cat misses.html)"
grep -q '<tr><td>none' misses.html && die "none's misses listed: $(cat misses.html)"
ls -a out | grep -q '^\.plot' && die "gnuplot's working folder left behind"
[ "$(du -sk out | cut -f1)" -lt 2048 ] || die "report over 2 MB"
# no gnuplot on PATH: the page still renders and says why
PATH=/nonexistent "$HARNESS" report --db h.db --out bare >/dev/null || die "without gnuplot"
grep -q 'No charts: cannot run &#39;gnuplot&#39;: No such file' bare/index.html || die "no reason given: $(grep -o 'Charts.\{0,200\}' bare/index.html)"
grep -q 'install gnuplot' bare/index.html || die "no hint"
ls bare/*.svg 2>/dev/null && die "charts without gnuplot?"
# a fleet: per repository and in total
"$HARNESS" replay --repo repo --db h2.db -q --strategy none,local || die "replay 2"
"$HARNESS" report --db h.db --db h2.db --out fleet >/dev/null || die "fleet html"
grep -q 'A fleet of 2 repositories' fleet/index.html || die "fleet summary"
[ "$(grep -c '<h3>repo</h3>' fleet/index.html)" -eq 2 ] || die "per repository sections"
# the fleet's charts: its cost, its cost by repository (both named "repo":
# told apart by their place), and each repository's charts over its commits
for c in cost repos r1-billed r1-seconds r1-hits r1-pulled r1-pushed r2-billed r2-seconds r2-hits r2-pulled r2-pushed; do
    grep -q "<img src=\"$c.svg\"" fleet/index.html || die "fleet page lacks $c.svg"
    grep -q '<svg' "fleet/$c.svg" || die "fleet $c.svg is not SVG"
done
grep -q '>repo-1<' fleet/repos.svg && grep -q '>repo-2<' fleet/repos.svg || die "repositories in the legend: $(grep -o '>[^<]*<' fleet/repos.svg | sort -u | head -30)"
grep -q 'gha' fleet/r1-hits.svg || die "the first repository's chart lacks its gha run"
grep -q 'gha' fleet/r2-hits.svg && die "the second repository's chart shows the first's gha run"
grep -q 'repo: Cache hit rate over time' fleet/r2-hits.svg || die "the chart does not name its repository"
[ "$(sed -n '/id="charts"/,/id="repositories"/p' fleet/index.html | grep -c '<h3>repo <small>')" -eq 2 ] || die "charts per repository"
ls fleet/billed.svg 2>/dev/null && die "a fleet's first repository drawn as the fleet"
# misses and slowest commits for each repository of the fleet
[ "$(sed -n '/id="misses"/,/id="slowest"/p' fleet/index.html | grep -c '<h3>repo <small>')" -eq 2 ] || die "misses per repository"
[ "$(sed -n '/id="slowest"/,$p' fleet/index.html | grep -c '<h3>repo <small>')" -ge 2 ] || die "slowest per repository"
"$HARNESS" report --db h.db --db h2.db --format json > fleet.json || die "fleet json"
jq -e '(.repositories | length) == 2 and (.strategies[] | select(.strategy == "local") | .builds) == 10
       and (.strategies[] | select(.strategy == "gha") | .builds) == 5' fleet.json >/dev/null || die "fleet totals: $(jq -c '.strategies[] | [.strategy, .builds]' fleet.json)"
jq -e '(.strategies[] | select(.strategy == "local") | .total_usd) as $t
       | ([.repositories[].strategies[] | select(.strategy == "local") | .total_usd] | add) as $s
       | ($t - $s | fabs) < 0.001' fleet.json >/dev/null || die "fleet total is not the sum"
"$HARNESS" report --db h.db --db h2.db --run 1 2>/dev/null; [ $? -eq 2 ] || die "--run with two databases"
exit 0
