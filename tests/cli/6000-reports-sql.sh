#!/usr/bin/env bash
# The SQL reports in reports/ run against a fresh database and agree with
# the replay summary.
set -u
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
make_python_repo repo
"$HARNESS" replay --repo repo --db h.db -q --strategy local,none || die "replay"
out=$(sqlite3 -csv h.db < "$root/reports/summary.sql") || die "summary.sql failed"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 2 ] || die "want 2 strategy rows: $out"
want=$("$HARNESS" replay --repo repo --db h.db --strategy local,none --format csv | sed -n 's/^local,\([0-9]*\),.*/\1/p')
got=$(printf '%s\n' "$out" | sed -n 's/^local,\([0-9]*\),.*/\1/p')
[ -n "$got" ] && [ "$got" = "$want" ] || die "builds: summary.sql $got, replay $want"
printf '%s\n' "$out" | grep -q '^none,5,0,0.0,' || die "none row: $out"
m=$(sqlite3 -csv h.db < "$root/reports/misses.sql") || die "misses.sql failed"
printf '%s\n' "$m" | grep -q '^local,COPY,"a copied file changed",4,' || die "misses: $m"
exit 0
