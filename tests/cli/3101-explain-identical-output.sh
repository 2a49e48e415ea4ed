#!/usr/bin/env bash
# harness explain: a builder stage re-runs with identical output (its RUN
# reads only a.txt; b.txt changed), so the final COPY --from hits, and each
# RUN says which rule decided what its output depends on.
set -u
. "$(dirname "$0")/lib.sh"
mkdir -p repo/src && cd repo && git init -q -b main . || exit 1
cat > Dockerfile <<'DF'
FROM alpine AS builder
WORKDIR /src
COPY src/ /src/
RUN mkdir -p /out && sha256sum a.txt > /out/a.sum
FROM builder AS gen
RUN ./gen.sh > /out/gen.txt
FROM alpine
COPY --from=builder /out/a.sum /a.sum
COPY --from=gen /out/gen.txt /gen.txt
DF
printf '.git\n' > .dockerignore
echo a > src/a.txt; echo b > src/b.txt; printf '#!/bin/sh\necho gen\n' > src/gen.sh
git add -A && git commit -qm one
echo b2 > src/b.txt && git commit -qam two
cd ..
for b in buildkit legacy; do
    "$HARNESS" explain --repo repo HEAD~1 HEAD --builder $b > out || die "explain $b failed"
    grep -q "miss    RUN mkdir -p /out && sha256sum a.txt > /out/a.sum (line 4)" out || die "$b: the RUN re-runs: $(cat out)"
    grep -q "RUN output depends on: /src/a.txt (named by sha256sum)" out || die "$b: named rule: $(cat out)"
    grep -q "RUN output is conservative: it runs ./gen.sh, a program of the build, so it is new whenever the step runs again" out ||
        die "$b: conservative rule: $(cat out)"
    grep -q "hit     COPY --from=builder /out/a.sum /a.sum (line 8)" out || die "$b: identical output must hit: $(cat out)"
    grep -q "miss    COPY --from=gen /out/gen.txt /gen.txt (line 9)" out || die "$b: conservative output must miss: $(cat out)"
done
"$HARNESS" explain --repo repo HEAD~1 HEAD --builder buildkit --format json > out.json || die "json"
jq -e '.[0].steps[3].output == "depends on: /src/a.txt (named by sha256sum)" and .[0].steps[7].outcome == "hit"
       and (.[0].steps[7] | has("output") | not)' out.json >/dev/null || die "json output key: $(cat out.json)"
exit 0
