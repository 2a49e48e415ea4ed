# Helpers sourced by CLI tests (not a test itself: its name has no digits).
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t
export GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' GIT_COMMITTER_DATE='2026-01-01T00:00:00Z'
die() { echo "FAIL: $*"; exit 1; }
# A small Python project with a few commits, in folder $1.
make_python_repo() {
    mkdir -p "$1" && cd "$1" || exit 1
    git init -q -b main .
    printf 'FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\nRUN python -m compileall .\nCMD ["python", "app.py"]\n' > Dockerfile
    printf '.git\n' > .dockerignore
    echo 'flask==3.0' > requirements.txt
    echo "print(1)" > app.py
    git add -A && git commit -qm one
    for i in 2 3 4 5; do echo "print($i)" > app.py; git commit -qam "code $i"; done
    cd - >/dev/null || exit 1
}
# Live tests on the engine of ci/docker-up.  skip_live REASON: skip, or fail
# when the caller requires the engine (HARNESS_REQUIRE_ENGINE=1, .ci/run).
skip_live() {
    [ "${HARNESS_REQUIRE_ENGINE:-0}" = 1 ] && die "engine required (HARNESS_REQUIRE_ENGINE=1): $*"
    echo "skipped: $*"; exit 0
}
# The shared engine lock /tmp/harness-docker.lock on fd 9, unless the caller
# holds it (HARNESS_DOCKER_LOCK_HELD=1 from .ci/run, or an fd inherited from
# `flock /tmp/harness-docker.lock ...`); skip_live when another run holds it.
hold_engine_lock() {
    local fd
    [ "${HARNESS_DOCKER_LOCK_HELD:-0}" = 1 ] && return 0
    for fd in /proc/$$/fd/*; do
        [ "$(readlink "$fd" 2>/dev/null)" = /tmp/harness-docker.lock ] && return 0
    done
    exec 9> /tmp/harness-docker.lock
    flock -n 9 || skip_live "another run holds /tmp/harness-docker.lock"
}
