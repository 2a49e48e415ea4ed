/*
 * test_lint.c - the cache-hazard rules on bad and good real-world shapes
 * (Python, Node, Go, Rust, Java, Ruby, multi-stage), and the whatif
 * rewrites.  Each row is a Dockerfile, the files of its context, its
 * .dockerignore, and the findings expected as "rule@line ..." in line
 * order ("" for a Dockerfile that follows the advice).
 */
#include "testutil.h"

#include "buf.h"
#include "context.h"
#include "dockerfile.h"
#include "lint.h"

struct lint_case {
    const char *name;
    const char *dockerfile;
    const char *files;  /* context files, space separated */
    const char *ignore; /* .dockerignore text, NULL: none */
    int ephemeral;      /* -1 unknown */
    const char *expect;
};

#define IGN ".git\nnode_modules\n"
#define PY  "requirements.txt app.py"

static const struct lint_case cases[] = {
    /* ---- Python ---- */
    { "python bad order",
      "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
      "RUN pip install --no-cache-dir -r requirements.txt\n"
      "CMD [\"python\", \"app.py\"]\n",
      PY, IGN, -1, "copy-before-deps@4" },
    { "python good order",
      "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
      "RUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\n"
      "CMD [\"python\", \"app.py\"]\n",
      PY, IGN, -1, "" },
    { "pip upgrade and unpinned tool",
      "FROM python:3.12-slim\nRUN pip install --upgrade pip && pip install "
      "poetry\n",
      "", NULL, -1, "pip-upgrade@2 unpinned-install@2" },
    { "pip pinned tools",
      "FROM python:3.12-slim\nRUN pip install 'pip==24.2' poetry==1.8.3 "
      "-r /tmp/req.txt > /dev/null\n",
      "", NULL, -1, "" },
    { "pip upgrade with a refresh ARG just before",
      "FROM python:3.12-slim\nARG PIP_REFRESH\n"
      "RUN python -m pip install -U pip\n",
      "", NULL, -1, "" },
    { "python without dockerignore",
      "FROM python:3.12.4-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
      "RUN pip install -r requirements.txt\nCOPY . .\n",
      PY, NULL, -1, "dockerignore-missing@5" },
    { "dockerignore that lets .git in",
      "FROM python:3.12.4-slim\nWORKDIR /app\nCOPY . /app\n", PY,
      "__pycache__\n*.pyc\n", -1, "dockerignore-git@3" },
    { "dockerignore with an exception for .git",
      "FROM python:3.12.4-slim\nWORKDIR /app\nCOPY . /app\n", PY,
      "*\n!app.py\n!.git\n", -1, "dockerignore-git@3" },
    { "dockerignore excluding everything but sources",
      "FROM python:3.12.4-slim\nWORKDIR /app\nCOPY . /app\n", PY,
      "*\n!app.py\n", -1, "" },
    /* ---- Node ---- */
    { "node bad order, build chained",
      "FROM node:20.11-slim\nWORKDIR /app\nCOPY . .\n"
      "RUN npm ci && npm run build\nCMD [\"node\", \"dist/index.js\"]\n",
      "package.json package-lock.json", IGN, -1, "copy-before-deps@4" },
    { "node good order",
      "FROM node:20.11-slim\nWORKDIR /app\nCOPY package*.json ./\n"
      "RUN npm ci\nCOPY . .\nRUN npm run build\n",
      "package.json package-lock.json", IGN, -1, "" },
    { "node global installs",
      "FROM node:20.11-slim\nRUN npm i -g pnpm && npm install --global "
      "typescript@5.4.5 && yarn global add serve@latest\n",
      "", NULL, -1, "unpinned-install@2 unpinned-install@2" },
    { "node base major only", "FROM node:20-alpine\nCMD [\"node\"]\n", "", NULL,
      -1, "floating-base@1" },
    /* ---- Go ---- */
    { "go build after the whole context",
      "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\n"
      "RUN CGO_ENABLED=0 go build -o /out/app ./cmd/app\n"
      "FROM gcr.io/distroless/static-debian12:nonroot\n"
      "COPY --from=build /out/app /app\n",
      "go.mod go.sum cmd/app/main.go", IGN, -1, "copy-before-deps@4" },
    { "go modules first",
      "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY go.mod go.sum ./\n"
      "RUN go mod download\nCOPY . .\n"
      "RUN CGO_ENABLED=0 go build -o /out/app ./cmd/app\n"
      "FROM gcr.io/distroless/static-debian12:nonroot\n"
      "COPY --from=build /out/app /app\n",
      "go.mod go.sum cmd/app/main.go", IGN, -1, "" },
    { "go install latest",
      "FROM golang:1.22.3\nRUN go install golang.org/x/tools/gopls@latest "
      "&& go install honnef.co/go/tools/cmd/staticcheck@v0.4.7\n",
      "", NULL, -1, "unpinned-install@2" },
    { "early ARG busts the module download",
      "FROM golang:1.22 AS build\nARG VERSION=dev\nWORKDIR /src\n"
      "COPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\n"
      "RUN go build -ldflags \"-X main.version=${VERSION}\" -o /app .\n",
      "go.mod go.sum", IGN, -1, "arg-early@2" },
    { "ARG just before its use",
      "FROM golang:1.22 AS build\nWORKDIR /src\n"
      "COPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\n"
      "ARG VERSION=dev\n"
      "RUN go build -ldflags \"-X main.version=$VERSION\" -o /app .\n",
      "go.mod go.sum", IGN, -1, "" },
    /* ---- Rust ---- */
    { "cargo build after the whole context",
      "FROM rust:1.77-slim AS build\nWORKDIR /app\nCOPY . .\n"
      "RUN cargo build --release\n"
      "FROM debian:bookworm-slim\nCOPY --from=build /app/target/release/app "
      "/usr/local/bin/app\n",
      "Cargo.toml Cargo.lock src/main.rs", ".git\ntarget\n", -1,
      "copy-before-deps@4" },
    { "cargo chef",
      "FROM rust:1.77-slim AS chef\nRUN cargo install cargo-chef --locked "
      "--version 0.1.66\nWORKDIR /app\n"
      "FROM chef AS planner\nCOPY . .\n"
      "RUN cargo chef prepare --recipe-path recipe.json\n"
      "FROM chef AS builder\n"
      "COPY --from=planner /app/recipe.json recipe.json\n"
      "RUN cargo chef cook --release --recipe-path recipe.json\n"
      "COPY . .\nRUN cargo build --release\n",
      "Cargo.toml Cargo.lock src/main.rs", ".git\ntarget\n", -1, "" },
    { "cargo install without version",
      "FROM rust:1.77\nRUN cargo install sqlx-cli --no-default-features\n", "",
      NULL, -1, "unpinned-install@2" },
    /* ---- Java ---- */
    { "maven package after the whole context",
      "FROM maven:3.9.6-eclipse-temurin-21 AS build\nWORKDIR /ws\n"
      "COPY . .\nRUN mvn -B package -DskipTests\n"
      "FROM eclipse-temurin:21.0.3_9-jre\n"
      "COPY --from=build /ws/target/app.jar /app.jar\n",
      "pom.xml src/Main.java", IGN, -1, "copy-before-deps@4" },
    { "maven offline first",
      "FROM maven:3.9.6-eclipse-temurin-21 AS build\nWORKDIR /ws\n"
      "COPY pom.xml .\nRUN mvn -B dependency:go-offline\nCOPY src ./src\n"
      "RUN mvn -B package -DskipTests\n"
      "FROM eclipse-temurin:21.0.3_9-jre\n"
      "COPY --from=build /ws/target/app.jar /app.jar\n",
      "pom.xml src/Main.java", IGN, -1, "" },
    { "java base on a major tag",
      "FROM eclipse-temurin:17-jre\nCOPY app.jar /app.jar\n", "app.jar", IGN,
      -1, "floating-base@1" },
    /* ---- Ruby ---- */
    { "bundle install after the whole context",
      "FROM ruby:3.3.1\nWORKDIR /app\nCOPY . .\nRUN bundle install\n",
      "Gemfile Gemfile.lock app.rb", IGN, -1, "copy-before-deps@4" },
    /* ---- network fetches ---- */
    { "apt update alone",
      "FROM debian:bookworm-slim\nRUN apt-get update\n"
      "RUN apt-get install -y curl=7.88.1-10\n",
      "", NULL, -1, "apt-update-alone@2" },
    { "apt update with install, unpinned",
      "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y "
      "--no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n",
      "", NULL, -1, "bust-one-layer@2" },
    { "apt with a refresh ARG just before",
      "FROM debian:bookworm-slim\nARG APT_REFRESH=2024-05-01\n"
      "RUN apt-get update && apt-get install -y --no-install-recommends "
      "curl\n",
      "", NULL, -1, "" },
    { "git clone of a branch",
      "FROM alpine:3.19\nRUN git clone https://github.com/o/r.git /src && "
      "make -C /src\n",
      "", NULL, -1, "git-clone@2" },
    { "git clone pinned",
      "FROM alpine:3.19\nRUN git clone --depth 1 --branch v1.4.2 "
      "https://github.com/o/r.git /src\n"
      "RUN git clone https://github.com/o/s.git /s && git -C /s checkout "
      "3f2a9c1d\n",
      "", NULL, -1, "" },
    { "curl piped to sh",
      "FROM ubuntu:22.04\nRUN curl -fsSL https://sh.rustup.rs | sh -s -- "
      "-y\nRUN sh -c \"$(wget -qO- https://x.example/install.sh)\"\n",
      "", NULL, -1, "curl-pipe-sh@2 curl-pipe-sh@3" },
    { "add url without checksum, git source and pinned url",
      "# syntax=docker/dockerfile:1.7\nFROM alpine:3.19\n"
      "ADD https://example.com/tool.tar.gz /tmp/\n"
      "ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2"
      "945d1036d1dc68d https://example.com/t2.tar.gz /tmp/\n"
      "ADD https://github.com/moby/buildkit.git#v0.13.2 /bk\n",
      "", NULL, -1, "add-url-no-checksum@3" },
    { "floating bases",
      "FROM ubuntu\nFROM nginx:latest\nFROM alpine:3.19.1@sha256:"
      "c5b1261d6d3e43071626931fc004f70149baeba2c8ec672bd4f27761f8e1ad6b\n"
      "FROM scratch\n",
      "", NULL, -1, "floating-base@1 floating-base@2" },
    { "date in a RUN never busts",
      "FROM alpine:3.19\nRUN echo $(date) > /built\n", "", NULL, -1,
      "bust-one-layer@2" },
    /* ---- cache setups ---- */
    { "cache mount on ephemeral runners",
      "FROM python:3.12-slim\nCOPY requirements.txt .\n"
      "RUN --mount=type=cache,target=/root/.cache/pip pip install -r "
      "requirements.txt\n",
      "requirements.txt", NULL, 1, "cache-mount-ephemeral@3" },
    { "cache mount on a persistent runner",
      "FROM python:3.12-slim\nCOPY requirements.txt .\n"
      "RUN --mount=type=cache,target=/root/.cache/pip pip install -r "
      "requirements.txt\n",
      "requirements.txt", NULL, 0, "" },
    { "inline cache with a builder stage",
      "ARG BUILDKIT_INLINE_CACHE=1\nFROM golang:1.22 AS build\nWORKDIR /s\n"
      "COPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\n"
      "RUN go build -o /app .\nFROM alpine:3.19\n"
      "COPY --from=build /app /app\n",
      "go.mod go.sum", IGN, -1, "inline-cache-multistage@1" },
    { "inline cache, one stage",
      "ARG BUILDKIT_INLINE_CACHE=1\nFROM python:3.12-slim\n"
      "COPY requirements.txt .\nRUN pip install -r requirements.txt\n",
      "requirements.txt", NULL, -1, "" },
};

struct files {
    const char *list;
};

static int has_file(void *arg, const char *path)
{
    const char *list = ((const struct files *)arg)->list;
    size_t n = strlen(path);

    for (const char *p = list; *p;) {
        size_t w = strcspn(p, " ");
        if (w == n && !strncmp(p, path, n))
            return 1;
        p += w;
        p += strspn(p, " ");
    }
    return 0;
}

static void context_for(const struct lint_case *c, struct lint_context *lc,
                        struct files *fl)
{
    memset(lc, 0, sizeof(*lc));
    fl->list = c->files;
    lc->ctx_known = 1;
    lc->exists = has_file;
    lc->arg = fl;
    lc->ephemeral = c->ephemeral;
    if (c->ignore) {
        struct ignore *ig = NULL;
        struct err err = ERR_INIT;
        assert_int_equal(ignore_parse(&ig, ".dockerignore", c->ignore,
                                      strlen(c->ignore), &err),
                         0);
        lc->ignore_file = ".dockerignore";
        lc->ignore_excludes_git = ignore_match(ig, ".git");
        ignore_free(ig);
    }
}

static char *findings_of(const char *text, const struct lint_context *lc)
{
    struct df_file *df = NULL;
    struct err err = ERR_INIT;
    struct lint_report rep;
    struct buf b = BUF_INIT;

    if (df_parse(&df, "Dockerfile", text, strlen(text), NULL, &err) < 0)
        fail_msg("parse: %s", err.msg);
    lint_run(&rep, df, lc);
    for (size_t i = 0; i < rep.n; i++) {
        const struct lint_finding *f = &rep.v[i];
        assert_true(f->message[0] && f->fix[0]);
        buf_printf(&b, "%s%s@%d", i ? " " : "", lint_rules[f->rule].id,
                   f->line);
    }
    lint_report_release(&rep);
    df_file_free(df);
    buf_adds(&b, "");
    return buf_detach(&b);
}

static void lint__every_rule_on_bad_and_good_shapes(void **state)
{
    int failed = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct lint_context lc;
        struct files fl;
        context_for(&cases[i], &lc, &fl);
        char *got = findings_of(cases[i].dockerfile, &lc);
        if (strcmp(got, cases[i].expect)) {
            print_error("%s: expected '%s', got '%s'\n", cases[i].name,
                        cases[i].expect, got);
            failed++;
        }
        free(got);
    }
    assert_int_equal(failed, 0);
}

static void lint__every_rule_is_tested(void **state)
{
    unsigned seen = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        for (int r = 0; r < LINT_NRULES; r++) {
            char pat[64];
            snprintf(pat, sizeof(pat), "%s@", lint_rules[r].id);
            if (strstr(cases[i].expect, pat))
                seen |= 1u << r;
        }
    for (int r = 0; r < LINT_NRULES; r++)
        if (!(seen & (1u << r)))
            fail_msg("rule %s has no bad example", lint_rules[r].id);
}

static void lint__unknown_context_skips_dockerignore_rules(void **state)
{
    char *got;

    (void)state;
    got = findings_of("FROM python:3.12.4-slim\nCOPY . .\n", NULL);
    assert_string_equal(got, "");
    free(got);
}

static void lint__messages_name_the_lines(void **state)
{
    const char *text = "FROM golang:1.22 AS build\nARG VERSION=dev\n"
                       "RUN go env\nRUN go version\nRUN echo $VERSION\n";
    struct df_file *df = NULL;
    struct err err = ERR_INIT;
    struct lint_report rep;

    (void)state;
    assert_int_equal(df_parse(&df, "D", text, strlen(text), NULL, &err), 0);
    lint_run(&rep, df, NULL);
    assert_int_equal(rep.n, 1);
    assert_non_null(strstr(rep.v[0].message, "busts 2 RUN steps"));
    assert_non_null(strstr(rep.v[0].message, "line 5"));
    assert_string_equal(rep.v[0].fix, "declare ARG VERSION just before line 5");
    assert_true(lint_report_failing(&rep));
    lint_report_release(&rep);
    df_file_free(df);
}

/* ===== rewrites ===== */

static char *rewrite(const char *text, unsigned fixes, const char *files,
                     const char *bust_text)
{
    struct lint_context lc;
    struct files fl = { files };
    struct lint_rewrite_options o;
    struct buf out = BUF_INIT;
    struct err err = ERR_INIT;

    memset(&lc, 0, sizeof(lc));
    lc.ctx_known = files != NULL;
    lc.exists = has_file;
    lc.arg = &fl;
    lc.ephemeral = -1;
    memset(&o, 0, sizeof(o));
    o.fixes = fixes;
    o.lc = &lc;
    o.bust_text = bust_text;
    o.bust_value = "c0ffee";
    if (lint_rewrite(&out, "Dockerfile", text, strlen(text), &o, &err) < 0)
        fail_msg("rewrite: %s", err.msg);
    buf_adds(&out, "");
    return buf_detach(&out);
}

static void lint__rewrite_moves_pip_install_before_the_context(void **state)
{
    char *got;

    (void)state;
    got = rewrite("# app\nFROM python:3.12-slim\nARG PIP_DEFAULT_TIMEOUT=60\n"
                  "WORKDIR /app\nCOPY . .\n"
                  "RUN pip install --no-cache-dir -r requirements.txt\n"
                  "ENV LOG_LEVEL=info\nCMD [\"python\", \"src/main.py\"]\n",
                  1u << LINT_COPY_BEFORE_DEPS, "requirements.txt src/main.py",
                  NULL);
    assert_string_equal(
        got, "# app\nFROM python:3.12-slim\nARG PIP_DEFAULT_TIMEOUT=60\n"
             "WORKDIR /app\nCOPY requirements.txt ./\n"
             "RUN pip install --no-cache-dir -r requirements.txt\n"
             "COPY . .\nENV LOG_LEVEL=info\n"
             "CMD [\"python\", \"src/main.py\"]\n");
    free(got);
}

static void lint__rewrite_splits_install_from_build(void **state)
{
    char *got;

    (void)state;
    got = rewrite("FROM node:20.11-slim\nWORKDIR /app\n"
                  "COPY --chown=node:node . .\n"
                  "RUN npm ci \\\n  && npm run build\n",
                  1u << LINT_COPY_BEFORE_DEPS,
                  "package.json package-lock.json src/index.ts", NULL);
    assert_string_equal(got, "FROM node:20.11-slim\nWORKDIR /app\n"
                             "COPY --chown=node:node package.json "
                             "package-lock.json ./\nRUN npm ci\n"
                             "COPY --chown=node:node . .\nRUN npm run build\n");
    free(got);
}

static void lint__rewrite_fetches_go_modules_before_building(void **state)
{
    char *got;

    (void)state;
    got = rewrite("FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\n"
                  "RUN go build -o /app .\n",
                  1u << LINT_COPY_BEFORE_DEPS, "go.mod main.go", NULL);
    assert_string_equal(got, "FROM golang:1.22 AS build\nWORKDIR /src\n"
                             "COPY go.mod ./\nRUN go mod download\n"
                             "COPY . .\nRUN go build -o /app .\n");
    free(got);
}

static void lint__rewrite_leaves_what_it_cannot_move(void **state)
{
    const char *text = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
                       "RUN apt-get update && apt-get install -y gcc\n"
                       "RUN pip install -r requirements.txt\n";
    char *got;

    (void)state;
    got = rewrite(text, 1u << LINT_COPY_BEFORE_DEPS, "requirements.txt", NULL);
    assert_string_equal(got, text);
    free(got);
    /* a requirements file missing from the context: nothing to copy */
    text = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
           "RUN pip install -r requirements.txt\n";
    got = rewrite(text, 1u << LINT_COPY_BEFORE_DEPS, "app.py", NULL);
    assert_string_equal(got, text);
    free(got);
}

static void lint__rewrite_moves_an_early_arg_down(void **state)
{
    char *got;

    (void)state;
    got = rewrite("FROM golang:1.22\nARG VERSION=0.0.0\nWORKDIR /src\n"
                  "RUN go mod download\n"
                  "RUN go build -ldflags \"-X main.v=${VERSION}\" .\n",
                  1u << LINT_ARG_EARLY, NULL, NULL);
    assert_string_equal(got, "FROM golang:1.22\nWORKDIR /src\n"
                             "RUN go mod download\nARG VERSION=0.0.0\n"
                             "RUN go build -ldflags \"-X main.v=${VERSION}\" "
                             ".\n");
    free(got);
}

static void lint__rewrite_busts_one_named_layer(void **state)
{
    char *got;

    (void)state;
    got = rewrite("FROM debian:bookworm-slim\nRUN echo a\n"
                  "RUN apt-get update && apt-get install -y curl\n"
                  "RUN echo b\n",
                  1u << LINT_BUST_ONE_LAYER, NULL, "apt-get");
    assert_string_equal(got, "FROM debian:bookworm-slim\nRUN echo a\n"
                             "ARG HARNESS_BUST=c0ffee\n"
                             "RUN apt-get update && apt-get install -y curl\n"
                             "RUN echo b\n");
    free(got);
}

static void lint__rewritten_dockerfile_has_no_finding_left(void **state)
{
    const char *text = "FROM python:3.12-slim\nARG REV=1\nWORKDIR /app\n"
                       "COPY . .\n"
                       "RUN pip install -r requirements.txt\n"
                       "RUN python -m compileall .\n"
                       "LABEL rev=$REV\n";
    struct lint_context lc;
    struct files fl = { "requirements.txt" };
    char *got, *left;

    (void)state;
    got = rewrite(text, (1u << LINT_COPY_BEFORE_DEPS) | (1u << LINT_ARG_EARLY),
                  fl.list, NULL);
    memset(&lc, 0, sizeof(lc));
    lc.ctx_known = 1;
    lc.exists = has_file;
    lc.arg = &fl;
    lc.ephemeral = -1;
    lc.ignore_file = ".dockerignore";
    lc.ignore_excludes_git = 1;
    left = findings_of(got, &lc);
    assert_string_equal(left, "");
    free(left);
    free(got);
}

static void lint__rewrite_reports_malformed_text_with_line(void **state)
{
    struct lint_rewrite_options o;
    struct buf out = BUF_INIT;
    struct err err = ERR_INIT;
    const char *text = "FROM alpine:3.19\nCOPY onlyone\n";

    (void)state;
    memset(&o, 0, sizeof(o));
    o.fixes = 1u << LINT_COPY_BEFORE_DEPS;
    assert_int_equal(
        lint_rewrite(&out, "Dockerfile", text, strlen(text), &o, &err),
        ERR_PARSE);
    assert_non_null(strstr(err.msg, "Dockerfile:2:"));
    buf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lint__every_rule_on_bad_and_good_shapes),
        cmocka_unit_test(lint__every_rule_is_tested),
        cmocka_unit_test(lint__unknown_context_skips_dockerignore_rules),
        cmocka_unit_test(lint__messages_name_the_lines),
        cmocka_unit_test(lint__rewrite_moves_pip_install_before_the_context),
        cmocka_unit_test(lint__rewrite_splits_install_from_build),
        cmocka_unit_test(lint__rewrite_fetches_go_modules_before_building),
        cmocka_unit_test(lint__rewrite_leaves_what_it_cannot_move),
        cmocka_unit_test(lint__rewrite_moves_an_early_arg_down),
        cmocka_unit_test(lint__rewrite_busts_one_named_layer),
        cmocka_unit_test(lint__rewritten_dockerfile_has_no_finding_left),
        cmocka_unit_test(lint__rewrite_reports_malformed_text_with_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
