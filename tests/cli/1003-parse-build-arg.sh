#!/usr/bin/env bash
# --build-arg overrides ARG defaults (global and per stage) and feeds FROM.
set -u
cat > Dockerfile <<'DF'
ARG TAG=3.18
FROM alpine:${TAG}
ARG MODE=debug
ARG UNDECLARED_IN_STAGE
ENV M=$MODE
DF
out=$("$HARNESS" parse --build-arg TAG=3.20 --build-arg MODE=release Dockerfile) || exit 1
fail=0
printf '%s\n' "$out" | grep -q '"base": "alpine:3.20"' || { echo "FROM not overridden"; fail=1; }
printf '%s\n' "$out" | grep -q '"vars": \[{"name": "M", "value": "release"}\]' || { echo "ENV M not release"; fail=1; }
out=$("$HARNESS" parse Dockerfile) || exit 1
printf '%s\n' "$out" | grep -q '"base": "alpine:3.18"' || { echo "default lost"; fail=1; }
printf '%s\n' "$out" | grep -q '"vars": \[{"name": "M", "value": "debug"}\]' || { echo "ENV M not debug"; fail=1; }
exit $fail
