#!/usr/bin/env bash
# The report reads the steps and transfers that builds share (schema 5
# lists) once per distinct list: its figures must be those of the steps
# and transfers views, run by run, in a database holding two runs; and the
# same from the same rows in a schema 6 file (a row per list position)
# and in lists it cannot parse itself.
set -u
. "$(dirname "$0")/lib.sh"
make_python_repo repo
(cd repo && printf 'FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nRUN apt-get update && apt-get install -y curl\nCOPY . .\nRUN python -m compileall .\n' > Dockerfile &&
    git commit -qam "apt" && echo 'print(9)' > app.py && git commit -qam nine)
"$HARNESS" replay --repo repo --db h.db -q --strategy none,local,inline,gha,s3 || die "replay 1"
"$HARNESS" replay --repo repo --db h.db -q --strategy local,cache-from-legacy --runners 2 || die "replay 2"
[ "$(sqlite3 h.db 'select count(*) from runs')" = 2 ] || die "two runs"
for run in 1 2; do
    # staleness: builds, runs and hits of each RUN step that fetches
    "$HARNESS" staleness --db h.db --run $run --format json > s.json || die "staleness $run"
    got=$(jq -r '.steps[] | [.strategy, .line, .runs, .hits] | @tsv' s.json | sort)
    want=$(sqlite3 -separator $'\t' h.db "select b.strategy, s.line, sum(s.outcome = 'miss'), sum(s.outcome = 'hit')
        from builds b join steps s on s.build_id = b.id
        where b.run_id = $run and b.status = 'ok' and s.instruction = 'RUN' and s.outcome in ('hit', 'miss')
          and s.line in (4, 5) group by 1, 2" | sort)
    [ -n "$got" ] && [ "$got" = "$want" ] || die "run $run staleness: got
$got
want
$want"
    # transfers: the requests of each strategy (one a blob moved)
    "$HARNESS" report --db h.db --run $run --format json > r.json || die "report $run"
    got=$(jq -r '.strategies[] | [.strategy, .requests] | @tsv' r.json | sort)
    want=$(sqlite3 -separator $'\t' h.db "select b.strategy, count(t.build_id) from builds b
        left join transfers t on t.build_id = b.id where b.run_id = $run group by 1" | sort)
    [ "$got" = "$want" ] || die "run $run requests: got
$got
want
$want"
    # misses: the HTML's table against the view query
    rm -rf out && "$HARNESS" report --db h.db --run $run --out out > /dev/null || die "html $run"
    sed -n '/id="misses"/,/<\/table>/p' out/index.html | grep -o '<tr><td>[a-z0-9-]*' | sed 's/<tr><td>//' > m.txt
    [ -s m.txt ] || die "run $run: no misses listed"
    while read -r st; do
        n=$(sqlite3 h.db "select count(*) from builds b join steps s on s.build_id = b.id
            where b.run_id = $run and b.strategy = '$st' and s.outcome = 'miss'")
        [ "$n" -gt 0 ] || die "run $run: $st listed without a miss"
    done < m.txt
    top=$(sqlite3 h.db "select b.strategy from builds b join steps s on s.build_id = b.id
        where b.run_id = $run and s.outcome = 'miss' and b.strategy not in ('none', 'no-cache', 'no-cache-legacy')
        group by b.strategy, s.line, s.instruction, coalesce(s.reason, '')
        order by sum(s.seconds) desc, 1, s.line limit 1")
    [ "$(head -1 m.txt)" = "$top" ] || die "run $run: top miss $(head -1 m.txt), views say $top"
done

# The same report and staleness from the schema 6 file of the same rows,
# read as it is (never migrated), and from a schema 7 file whose lists
# carry explicit positions and spaces (read through the views)
cp h.db h6.db && sqlite3 h6.db < "$FIXTURES/schema/7-to-6.sql" || die "make a schema 6 file"
cp h.db h7b.db && sqlite3 h7b.db "UPDATE step_packs SET positions = (SELECT json_group_array(key) FROM json_each(items));
    UPDATE transfer_packs SET items = replace(items, ',', ' , ')" || die "make a schema 7 file with positions"
sum6=$(md5sum h6.db)
for run in 1 2; do
    for db in h.db h6.db h7b.db; do
        "$HARNESS" report --db $db --run $run --format json | jq -S 'del(.run.db, .run.schema)' > "r-$db.json" || die "report $db run $run"
        "$HARNESS" staleness --db $db --run $run --format json > "s-$db.json" || die "staleness $db run $run"
    done
    jq -e '.strategies | length > 0' r-h.db.json >/dev/null || die "run $run: no strategies"
    cmp -s r-h.db.json r-h6.db.json || die "run $run: schema 6 report differs: $(diff r-h.db.json r-h6.db.json | head)"
    cmp -s r-h.db.json r-h7b.db.json || die "run $run: report through the views differs: $(diff r-h.db.json r-h7b.db.json | head)"
    cmp -s s-h.db.json s-h6.db.json || die "run $run: schema 6 staleness differs"
    cmp -s s-h.db.json s-h7b.db.json || die "run $run: staleness through the views differs"
done
[ "$(md5sum h6.db)" = "$sum6" ] && [ "$(sqlite3 h6.db 'PRAGMA user_version')" = 6 ] || die "the report changed the schema 6 file"
exit 0
