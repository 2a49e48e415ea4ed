#!/usr/bin/env bash
# replay --engine docker-20.10 refuses, in its BuildKit builds, what
# dockerd 20.10's built-in Dockerfile frontend does not know, as the real
# engine 20.10.24 did (doc/cache-rules.md section 6): the build fails
# before any step runs, with the engine's message.  The default engine
# (current BuildKit) builds the same commits.
set -u
. "$(dirname "$0")/lib.sh"
mkdir repo && cd repo && git init -q -b main .
echo hello > a.txt
printf 'FROM alpine\nRUN echo first\nCOPY --link a.txt /a.txt\n' > Dockerfile
git add -A && git commit -qm link
printf 'FROM alpine\nRUN <<EOF\ntrue\nEOF\n' > Dockerfile && git commit -qam heredoc
printf 'FROM alpine\nRUN --network=none true\n' > Dockerfile && git commit -qam network
printf 'FROM alpine\nADD --checksum=sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 a.txt /a.txt\n' > Dockerfile
git commit -qam checksum
printf 'FROM alpine\nCOPY --chmod=644 a.txt /a.txt\nRUN --mount=type=cache,target=/c true\n' > Dockerfile
git commit -qam chmod-mount
cd ..
"$HARNESS" replay --repo repo --range main --db old.db -q --strategy local --engine docker-20.10 ||
    die "replay --engine docker-20.10 failed"
got=$(sqlite3 old.db "select seq || ' ' || status || ' ' || coalesce(error, '') from builds where strategy = 'local' order by seq")
want="0 failed Dockerfile:3: Unknown flag: link (dockerd 20.10's Dockerfile frontend)
1 failed Dockerfile:3: unknown instruction: TRUE (dockerd 20.10's Dockerfile frontend has no heredocs)
2 failed Dockerfile:2: Unknown flag: network (dockerd 20.10's Dockerfile frontend)
3 failed Dockerfile:2: Unknown flag: checksum (dockerd 20.10's Dockerfile frontend)
4 ok "
[ "$got" = "$want" ] || die "docker-20.10 builds:
$got"
# nothing ran in the refused build: not even the RUN before the COPY
ran=$(sqlite3 old.db "select count(*) from steps join builds on builds.id = steps.build_id where builds.seq = 0 and steps.outcome in ('hit', 'miss') and steps.step_index > 0")
[ "$ran" -eq 0 ] || die "$ran steps of the refused build ran"
# the steps it skipped name the line the engine refused, not the FROM
why=$(sqlite3 old.db "select distinct reason from steps join builds on builds.id = steps.build_id where builds.seq = 0 and builds.strategy = 'local' and steps.outcome = 'skipped'")
[ "$why" = "the build failed at line 3" ] || die "skipped steps of the refused build say: $why"
"$HARNESS" replay --repo repo --range main --db new.db -q --strategy local ||
    die "replay on the buildkit engine failed"
got=$(sqlite3 new.db "select group_concat(status, ' ') from (select status from builds where strategy = 'local' order by seq)")
[ "$got" = "ok ok ok ok ok" ] || die "buildkit engine statuses: $got"
exit 0
