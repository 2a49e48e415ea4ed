#!/usr/bin/env bash
# Repository text is untrusted: commit subjects, file names, the repository
# path and (in a crafted database) strategy names are escaped in HTML, CSV
# and Markdown, and none of it reaches gnuplot as code.
set -u
. "$(dirname "$0")/lib.sh"
repo='we|ird "repo" $(touch pwned-path)'
make_python_repo "$repo"
(
    cd "$repo" || exit 1
    echo 1 > "it's \"quoted\".txt"; git add -A; git commit -qm '<script>alert("x")</script>'
    echo 2 > "it's \"quoted\".txt"; git commit -qam '"; system("touch pwned-gp"); print "'
    echo 3 > "it's \"quoted\".txt"; git commit -qam '$(touch pwned-sh) `touch pwned-bq` | pipe *star* [link](http://x)'
) || die "hostile commits"
"$HARNESS" replay --repo "$repo" --db h.db -q --strategy none,local || die "replay"
# a crafted database: a strategy named like gnuplot and HTML code
cp h.db evil.db
sqlite3 evil.db "UPDATE builds SET strategy = 'x\"; system(\"touch pwned-st\"); \"<img src=x onerror=alert(1)>' WHERE strategy = 'local'" || die "craft"

"$HARNESS" report --db h.db --out out >/dev/null || die "html"
"$HARNESS" report --db evil.db --out evil >/dev/null || die "html of the crafted database"
ls pwned* "$repo"/pwned* out/pwned* evil/pwned* 2>/dev/null && die "something ran: $(ls pwned* "$repo"/pwned* 2>/dev/null)"
[ -s out/hits.svg ] && [ -s evil/billed.svg ] || die "no charts: $(grep -o 'No charts[^<]*' out/index.html evil/index.html)"
grep -q '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;' out/index.html || die "subject not escaped"
grep -q '<script' out/index.html evil/index.html && die "raw <script> in the page"
grep -q '<img src=x' evil/index.html && die "raw <img> from a strategy name"
grep -q '&lt;img src=x onerror=alert(1)&gt;' evil/index.html || die "strategy name not shown escaped"
grep -q '&quot;; system(&quot;touch pwned-gp&quot;); print &quot;' out/index.html || die "quotes in subject"
grep -q 'we|ird &quot;repo&quot; \$(touch pwned-path)' out/index.html || die "repo path: $(grep -o 'we|ird[^<]*' out/index.html | head -1)"
# the SVG legend carries the name as inert text, stripped of its quotes
grep -q 'system' evil/billed.svg && ! grep -q 'system("' evil/billed.svg || die "svg legend: $(grep -o 'x_[^<]*' evil/billed.svg | head -2)"

"$HARNESS" report --db evil.db --format md > r.md || die "md"
grep -q 'we\\|ird "repo" \\\$(touch pwned-path)' r.md || die "md repo path: $(sed -n 3p r.md)"
grep -q '&lt;img src=x onerror=alert(1)&gt;' r.md || die "md strategy: $(grep img r.md)"
[ "$(grep -c '^| ' r.md)" -eq 3 ] || die "md table broken: $(cat r.md)"
"$HARNESS" report --db evil.db --format csv > r.csv || die "csv"
grep -q '^"we|ird ""repo"" \$(touch pwned-path)",1,"x""; system(""touch pwned-st""); ""<img' r.csv || die "csv quoting: $(cat r.csv)"
# a formula cannot start a cell
sqlite3 evil.db "UPDATE builds SET strategy = '=HYPERLINK(\"http://x\")' WHERE strategy = 'none'"
"$HARNESS" report --db evil.db --format csv | grep -q ',"'"'"'=HYPERLINK(""http://x"")",' || die "csv formula: $("$HARNESS" report --db evil.db --format csv)"
"$HARNESS" report --db evil.db --format json | jq -e '.strategies | length == 2' >/dev/null || die "json of the crafted database"
ls pwned* "$repo"/pwned* 2>/dev/null && die "something ran"
exit 0
