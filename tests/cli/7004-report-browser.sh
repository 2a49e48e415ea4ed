#!/usr/bin/env bash
# The HTML report in a real browser: headless Chromium loads index.html and
# every chart image decodes at its full size.  (ci/install-deps installs
# Debian's chromium; without it this test says so and passes.)
set -u
. "$(dirname "$0")/lib.sh"
browser=$(command -v chromium || command -v chromium-browser) || { echo "SKIP: chromium is not installed"; exit 0; }
make_python_repo repo
"$HARNESS" replay --repo repo --db h.db -q --strategy none,local,inline || die "replay"
"$HARNESS" report --db h.db --out out >/dev/null || die "report"
# The page allows no script (its Content-Security-Policy); this copy adds
# one that records what the browser made of each image.
sed -e '/Content-Security-Policy/d' \
    -e 's|</body>|<script>window.addEventListener("load", function () { var r = []; document.querySelectorAll("img").forEach(function (i) { r.push(i.getAttribute("src") + "=" + i.naturalWidth + "x" + i.naturalHeight + (i.complete ? "" : "-incomplete")); }); document.body.setAttribute("data-images", r.join(" ")); });</script></body>|' \
    out/index.html > out/probe.html
# A fresh profile each try; a browser that crashes or stalls on a loaded
# machine gets a second try (with a generous timeout) before the test fails.
for try in 1 2; do
    rm -rf profile
    timeout 300 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-dev-shm-usage --user-data-dir="$PWD/profile" --virtual-time-budget=10000 --dump-dom \
        "file://$PWD/out/probe.html" > dom.html 2>browser.log
    rc=$?
    images=$(sed -n 's/.*data-images="\([^"]*\)".*/\1/p' dom.html)
    [ "$rc" -eq 0 ] && [ -n "$images" ] && break
    echo "chromium try $try: exit $rc, $(tail -3 browser.log)" >&2
done
[ "$rc" -eq 0 ] || die "chromium failed (exit $rc): $(tail -3 browser.log)"
[ -n "$images" ] || die "the page did not load: $(head -c 300 dom.html)"
for c in cost billed seconds hits pulled pushed; do
    printf '%s\n' $images | grep -q "^$c.svg=960x480$" || die "$c.svg did not render: $images"
done
grep -q 'What each caching strategy costs' dom.html || die "no heading in the DOM"
exit 0
