#!/usr/bin/env bash
# replay --threads N: the strategies are simulated on N threads, and the
# database holds the same rows, in the same order, for any N (a multistage
# history with a growing Dockerfile, over several batches of commits).
set -u
. "$(dirname "$0")/lib.sh"
"$HARNESS" synth --out repo --commits 60 --files 40 --seed 3 \
    --template go-multistage --label-every 4 >/dev/null || die "synth"
rows() { # every figure of every build, step and transfer, in write order
    sqlite3 "$1" "select b.seq, b.commit_sha, b.strategy, b.builder, b.status, b.seconds, b.pull_seconds, b.push_seconds, b.bytes_pulled, b.bytes_pushed, b.steps_hit, b.steps_miss, b.error, b.registry_bytes, b.cache_bytes from builds b order by b.id;
                  select * from steps order by build_id, step_index; select * from transfers order by build_id, seq; select * from commits order by sha;"
}
for j in 1 2 3; do
    "$HARNESS" replay --repo repo --db "t$j.db" -q --threads "$j" --runners 2 \
        --assign random --keep-tags 3 || die "replay --threads $j"
done
[ "$(sqlite3 t1.db 'select count(*) from builds')" -ge $((60 * 11)) ] || die "too few builds"
one=$(rows t1.db | md5sum)
[ "$(rows t2.db | md5sum)" = "$one" ] || die "--threads 2 rows differ from --threads 1"
[ "$(rows t3.db | md5sum)" = "$one" ] || die "--threads 3 rows differ from --threads 1"
# the same run whatever the threads: a rerun with another N resumes it
"$HARNESS" replay --repo repo --db t1.db -q -j 2 --runners 2 --assign random \
    --keep-tags 3 || die "rerun"
[ "$(sqlite3 t1.db 'select count(*) from runs')" -eq 1 ] || die "--threads made another run"
[ "$(rows t1.db | md5sum)" = "$one" ] || die "the rerun changed rows"
"$HARNESS" replay --repo repo --db t0.db -q --threads 0 2>err && die "--threads 0 accepted"
[ $? -eq 2 ] || die "--threads 0: want exit 2"
grep -q "threads must be between 1 and 256" err || die "message: $(cat err)"
exit 0
