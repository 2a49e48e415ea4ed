#!/usr/bin/env bash
# What dockerd 20.10 did, measured with both builders (doc/conformance.md):
# a COPY source path follows symbolic links inside the context (in the
# middle of the path and at its end; an absolute target starts at the
# context root), a link leaving the context finds nothing; an error Docker
# reports while it builds a stage fails a BuildKit build only when the
# target needs that stage, and every legacy build.
set -u
. "$(dirname "$0")/lib.sh"
mkdir repo && cd repo || exit 1
git init -q -b main .
mkdir -p real/dir && echo content > real/dir/f.txt
ln -s real lnk; ln -s /real abs; ln -s ../real/dir real/up; ln -s /etc out
ln -s loop2 loop1; ln -s loop1 loop2
keys() { "$HARNESS" keys --repo . --rev HEAD --builder "$1" > ../out.txt 2>&1; }
for src in lnk/dir/f.txt real/up/f.txt abs/dir/f.txt; do
    printf 'FROM base\nCOPY %s /o/\n' "$src" > Dockerfile
    git add -A && git commit -qm "$src"
    keys buildkit || die "keys $src"
    grep -q 'build fails' ../out.txt && die "$src: $(cat ../out.txt)"
    grep -q '1 files, 8 bytes' ../out.txt || die "$src selects f.txt: $(cat ../out.txt)"
done
printf 'FROM base\nCOPY lnk /o/\n' > Dockerfile; git commit -qam dir
keys legacy && grep -q '2 files, 19 bytes' ../out.txt || die "final link: $(cat ../out.txt)"
for src in out/passwd loop1/x; do
    printf 'FROM base\nCOPY %s /o/\n' "$src" > Dockerfile; git commit -qam "$src"
    keys buildkit; grep -q "build fails: Dockerfile:2: file not found in build context: '$src'" ../out.txt ||
        die "$src should fail: $(cat ../out.txt)"
done
for bad in 'COPY missing.txt /x' 'WORKDIR ${U:?must be set}' 'VOLUME ${EMPTY}'; do
    printf 'FROM base AS unused\n%s\nFROM base AS final\nRUN echo ok\n' "$bad" > Dockerfile
    git commit -qam "$bad"
    keys buildkit || die "keys buildkit: $bad"
    grep -q 'build fails' ../out.txt && die "buildkit never builds the unused stage: $bad: $(cat ../out.txt)"
    keys legacy || die "keys legacy: $bad"
    grep -q 'build fails: Dockerfile:2: ' ../out.txt || die "legacy builds every stage: $bad: $(cat ../out.txt)"
    "$HARNESS" keys --repo . --rev HEAD --target unused > ../out.txt 2>&1
    grep -q 'build fails: Dockerfile:2: ' ../out.txt || die "target unused fails: $bad"
    "$HARNESS" parse Dockerfile > /dev/null 2> ../err.txt || die "parse: $bad"
    case $bad in COPY*) continue ;; esac
    grep -q 'warning: Dockerfile:2: ' ../err.txt || die "parse warns: $(cat ../err.txt)"
done
printf 'FROM base\nWORKDIR ${U:?must be set}\n' > Dockerfile
"$HARNESS" parse Dockerfile > /dev/null 2> ../err.txt; [ $? -eq 4 ] || die "parse of a failing target: exit 4"
grep -q '^harness: Dockerfile:2: U: must be set' ../err.txt || die "message: $(cat ../err.txt)"
exit 0
