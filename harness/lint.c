/*
 * lint.c - the cache-hazard rules.  Each check walks the parsed Dockerfile
 * and adds findings; the RUN scripts are read through shcmd (words of
 * simple commands).  The dependency-order analysis is shared with the
 * whatif rewrite (lint_fix.c) through lint_deps_find().
 */
#include "lint.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lint_deps.h"
#include "shcmd.h"

const struct lint_rule lint_rules[LINT_NRULES] = {
    [LINT_PIP_UPGRADE] = { "pip-upgrade", LINT_WARNING,
                           "pip install --upgrade in a cached layer",
                           "The upgrade runs once; the cache then keeps that version until an "
                           "earlier step changes.  Pin the version so that a new pin re-runs "
                           "the step, or bust exactly this layer on purpose with an ARG just "
                           "before the RUN." },
    [LINT_APT_UPDATE_ALONE] = { "apt-update-alone", LINT_WARNING,
                                "package index updated in a RUN of its own",
                                "The cache keeps the index of the day the layer was built; a later "
                                "RUN that installs reuses it and fetches stale or vanished packages. "
                                "Update and install in the same RUN." },
    [LINT_GIT_CLONE] = { "git-clone", LINT_WARNING,
                         "git clone of a moving branch in a RUN",
                         "The RUN is keyed on its text, never on the remote: the cache keeps "
                         "the first clone forever.  Pin a tag or commit, or use a git source "
                         "(ADD https://host/repo.git#ref), which BuildKit keys on the commit." },
    [LINT_CURL_PIPE_SH] = { "curl-pipe-sh", LINT_WARNING,
                            "script downloaded and piped to a shell",
                            "The RUN is keyed on its text: a new script at the URL is never "
                            "fetched while the layer is cached, and an unverified one runs when "
                            "it misses.  Download a pinned version with ADD --checksum." },
    [LINT_ADD_URL] = { "add-url-no-checksum", LINT_WARNING,
                       "ADD <url> without --checksum",
                       "The file is downloaded or revalidated on every build and a new "
                       "file at the URL busts every later step.  Pin it with "
                       "ADD --checksum=sha256:<digest>." },
    [LINT_UNPINNED_INSTALL] = { "unpinned-install", LINT_WARNING,
                                "package installed without a version",
                                "The cache keeps whatever version was current when the layer was "
                                "built, different on every runner that misses.  Pin the version." },
    [LINT_FLOATING_BASE] = { "floating-base", LINT_WARNING,
                             "base image on a floating tag",
                             "latest, no tag or a major-only tag moves under the cache: runners "
                             "that pulled it at different times build from different bases.  Pin "
                             "a full version, or a digest (image:tag@sha256:...)." },
    [LINT_COPY_BEFORE_DEPS] = { "copy-before-deps", LINT_WARNING,
                                "whole context copied before dependencies are installed",
                                "Any change in the context busts the install.  Copy only the "
                                "dependency manifests, install, then copy the rest." },
    [LINT_DOCKERIGNORE_MISSING] = { "dockerignore-missing", LINT_WARNING,
                                    "COPY of the whole context without a .dockerignore",
                                    "Everything in the folder is sent and hashed, .git included, whose "
                                    "content differs on every CI checkout: the COPY misses on every "
                                    "build.  Add a .dockerignore with .git and build outputs." },
    [LINT_DOCKERIGNORE_GIT] = { "dockerignore-git", LINT_WARNING,
                                ".dockerignore lets .git into the context",
                                "A CI checkout's .git differs on every build: a COPY of the whole "
                                "context misses every time.  Add .git to .dockerignore." },
    [LINT_ARG_EARLY] = { "arg-early", LINT_WARNING,
                         "ARG declared long before its first use",
                         "An ARG is in the environment of every later RUN of its stage, so a "
                         "new value busts them all.  Declare it just before the instruction "
                         "that uses it." },
    [LINT_CACHE_MOUNT] = { "cache-mount-ephemeral", LINT_INFO,
                           "RUN cache mount on ephemeral runners",
                           "Cache mounts live on the builder and are never exported by inline, "
                           "registry, gha, s3 or local-dir caches: on a fresh runner they start "
                           "empty.  Keep them for persistent runners." },
    [LINT_INLINE_MULTISTAGE] = { "inline-cache-multistage", LINT_WARNING,
                                 "inline cache with a multi-stage build",
                                 "Inline cache exports only the final stage's layers (mode=min): the "
                                 "builder stages re-run on every runner that starts cold.  Export a "
                                 "registry cache with mode=max." },
    [LINT_BUST_ONE_LAYER] = { "bust-one-layer", LINT_INFO,
                              "how to refresh exactly one layer",
                              "To refresh one step on purpose, declare ARG REFRESH just before "
                              "it and pass --build-arg REFRESH=$(date +%Y-%m-%d); fetch files with "
                              "ADD --checksum or a git source; or rebuild one stage with "
                              "docker build --no-cache-filter STAGE." },
};

static const char *const severity_names[] = { "info", "warning", "error" };

const char *lint_severity_name(enum lint_severity s)
{
    return severity_names[s];
}

int lint_rule_parse(enum lint_rule_id *out, const char *s)
{
    for (int i = 0; i < LINT_NRULES; i++)
        if (!strcmp(lint_rules[i].id, s)) {
            *out = (enum lint_rule_id)i;
            return 0;
        }
    return ERR_NOTFOUND;
}

static void add(struct lint_report *r, enum lint_rule_id rule,
                enum lint_severity sev, int line, const char *fix,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void add(struct lint_report *r, enum lint_rule_id rule,
                enum lint_severity sev, int line, const char *fix,
                const char *fmt, ...)
{
    struct buf m = BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    buf_vprintf(&m, fmt, ap);
    va_end(ap);
    XGROW(r->v, r->cap, r->n + 1);
    r->v[r->n].rule = rule;
    r->v[r->n].severity = sev;
    r->v[r->n].line = line;
    r->v[r->n].message = buf_detach(&m);
    r->v[r->n].fix = xstrdup(fix);
    r->n++;
}

/* ===== RUN scripts ===== */

static int is_shell(const char *p)
{
    static const char *const sh[] = { "sh",  "bash", "ash", "dash",
                                      "zsh", "ksh",  NULL };
    for (size_t i = 0; sh[i]; i++)
        if (!strcmp(p, sh[i]))
            return 1;
    return 0;
}

void lint_run_script(struct shcmd_script *s, const struct df_instr *in)
{
    memset(s, 0, sizeof(*s));
    if (in->json) {
        if (in->nargs >= 3 && !strcmp(in->args[1], "-c")) {
            const char *slash = strrchr(in->args[0], '/');
            if (is_shell(slash ? slash + 1 : in->args[0])) {
                shcmd_parse(s, in->args[2]);
                return;
            }
        }
        shcmd_add_argv(s, in->args, in->nargs);
        return;
    }
    for (size_t i = 0; i < in->nargs; i++)
        shcmd_parse(s, in->args[i]);
    for (size_t i = 0; i < in->nheredocs; i++)
        shcmd_parse(s, in->heredocs[i].content);
}

static int prog_is(const struct shcmd *c, const char *name)
{
    return !strcmp(shcmd_prog(c), name);
}

/* pip, pip3, pip3.12, python -m pip, python3 -m pip, uv pip: the index of
 * the word after "pip" (the subcommand), or 0. */
static size_t pip_sub(const struct shcmd *c)
{
    const char *p = shcmd_prog(c);

    if (!strncmp(p, "pip", 3) && strspn(p + 3, "0123456789.") == strlen(p + 3))
        return 1;
    if (!strncmp(p, "python", 6) && c->n > 2 && !strcmp(c->w[1], "-m") &&
        !strcmp(c->w[2], "pip"))
        return 3;
    if (!strcmp(p, "uv") && c->n > 1 && !strcmp(c->w[1], "pip"))
        return 2;
    return 0;
}

/* pip install options that take a value (when not written --opt=value). */
static int pip_opt_takes_value(const char *o)
{
    static const char *const v[] = { "-r",
                                     "--requirement",
                                     "-c",
                                     "--constraint",
                                     "-e",
                                     "--editable",
                                     "-i",
                                     "--index-url",
                                     "--extra-index-url",
                                     "-f",
                                     "--find-links",
                                     "-t",
                                     "--target",
                                     "--prefix",
                                     "--root",
                                     "--src",
                                     "--cache-dir",
                                     "--trusted-host",
                                     "--platform",
                                     "--python-version",
                                     "--only-binary",
                                     "--no-binary",
                                     "--progress-bar",
                                     "--timeout",
                                     "--retries",
                                     "--log",
                                     "--implementation",
                                     "--abi",
                                     "--proxy",
                                     "--upgrade-strategy",
                                     "--python",
                                     "--config-settings",
                                     "-C",
                                     NULL };
    for (size_t i = 0; v[i]; i++)
        if (!strcmp(o, v[i]))
            return 1;
    return 0;
}

/* A local path, archive or URL rather than a package name. */
static int is_path_spec(const char *w)
{
    size_t n = strlen(w);

    return w[0] == '.' || w[0] == '/' || w[0] == '~' || strchr(w, '/') ||
           (n > 4 && !strcmp(w + n - 4, ".whl")) ||
           (n > 7 && !strcmp(w + n - 7, ".tar.gz")) ||
           (n > 4 && !strcmp(w + n - 4, ".zip"));
}

struct pip_install {
    int upgrade;
    const char *unpinned; /* first package without == */
    char **reqs;          /* -r files */
    size_t nreqs;
    int has_path; /* installs a local path: needs the sources */
};

/* Read a `pip install` command; 0 if c is not one. */
static int pip_install_read(const struct shcmd *c, struct pip_install *pi)
{
    size_t i = pip_sub(c);

    memset(pi, 0, sizeof(*pi));
    if (!i || i >= c->n || strcmp(c->w[i], "install"))
        return 0;
    for (i++; i < c->n; i++) {
        const char *w = c->w[i];
        if (!strcmp(w, "-U") || !strcmp(w, "--upgrade")) {
            pi->upgrade = 1;
        } else if (!strcmp(w, "-r") || !strcmp(w, "--requirement")) {
            if (i + 1 < c->n) {
                XGROW(pi->reqs, pi->nreqs, pi->nreqs + 1);
                pi->reqs[pi->nreqs - 1] = c->w[++i];
            }
        } else if (!strncmp(w, "--requirement=", 14)) {
            XGROW(pi->reqs, pi->nreqs, pi->nreqs + 1);
            pi->reqs[pi->nreqs - 1] = c->w[i] + 14;
        } else if (!strcmp(w, "-e") || !strcmp(w, "--editable")) {
            i++;
            pi->has_path = 1;
        } else if (w[0] == '-') {
            if (!strchr(w, '=') && pip_opt_takes_value(w))
                i++;
        } else if (is_path_spec(w)) {
            pi->has_path = 1;
        } else if (!strstr(w, "==") && !strchr(w, '@') && !strchr(w, '$') &&
                   !pi->unpinned) {
            pi->unpinned = w;
        }
    }
    return 1;
}

static void pip_install_release(struct pip_install *pi)
{
    free(pi->reqs);
}

/* npm/yarn/pnpm global installs and go/cargo/gem installs: the first
 * unpinned package, or NULL. */
static const char *unpinned_tool_install(const struct shcmd *c)
{
    const char *p = shcmd_prog(c);
    size_t i;

    if ((!strcmp(p, "npm") || !strcmp(p, "pnpm")) && c->n > 2) {
        static const char *const global[] = { "-g", "--global",
                                              "--location=global", NULL };
        if (strcmp(c->w[1], "install") && strcmp(c->w[1], "i") &&
            strcmp(c->w[1], "add"))
            return NULL;
        if (!shcmd_has_word(c, 2, global))
            return NULL;
        for (i = 2; i < c->n; i++) {
            const char *w = c->w[i], *at;
            if (w[0] == '-' || strchr(w, '$'))
                continue;
            at = strchr(w + 1, '@');
            if (!at || !strcmp(at, "@latest") || !strcmp(at, "@next"))
                return w;
        }
        return NULL;
    }
    if (!strcmp(p, "yarn") && c->n > 3 && !strcmp(c->w[1], "global") &&
        !strcmp(c->w[2], "add")) {
        for (i = 3; i < c->n; i++) {
            const char *w = c->w[i], *at = strchr(w + 1, '@');
            if (w[0] != '-' && !strchr(w, '$') &&
                (!at || !strcmp(at, "@latest")))
                return w;
        }
        return NULL;
    }
    if (!strcmp(p, "go") && c->n > 2 && !strcmp(c->w[1], "install")) {
        for (i = 2; i < c->n; i++) {
            const char *at = strrchr(c->w[i], '@');
            if (at && (!strcmp(at, "@latest") || !strcmp(at, "@master") ||
                       !strcmp(at, "@main") || !strcmp(at, "@HEAD")))
                return c->w[i];
        }
        return NULL;
    }
    if ((!strcmp(p, "cargo") || !strcmp(p, "gem")) && c->n > 2 &&
        !strcmp(c->w[1], "install")) {
        static const char *const pinned[] = { "--version", "--vers", "-v",
                                              "--path",    "--rev",  "--tag",
                                              NULL };
        const char *name = NULL;
        for (i = 2; i < c->n; i++) {
            const char *w = c->w[i];
            if (w[0] == '-') {
                if (!strncmp(w, "--version=", 10) || !strncmp(w, "--vers=", 7))
                    return NULL;
                if (!strchr(w, '=') && i + 1 < c->n &&
                    (!strcmp(w, "--root") || !strcmp(w, "--git") ||
                     !strcmp(w, "--branch") || !strcmp(w, "-i") ||
                     !strcmp(w, "--install-dir") || !strcmp(w, "--features") ||
                     !strcmp(w, "--target") || !strcmp(w, "--profile") ||
                     !strcmp(w, "-j") || !strcmp(w, "--jobs")))
                    i++;
                continue;
            }
            if (!name && !strchr(w, '@') && !strchr(w, ':') && !strchr(w, '$'))
                name = w;
        }
        if (name && !shcmd_has_word(c, 2, pinned))
            return name;
    }
    return NULL;
}

static int looks_pinned_ref(const char *w)
{
    size_t n = strlen(w), hex = strspn(w, "0123456789abcdef");

    if (strchr(w, '$'))
        return 1; /* chosen by an ARG: refreshed on purpose */
    if (hex == n && n >= 7)
        return 1;
    if (w[0] == 'v' && isdigit((unsigned char)w[1]))
        return 1;
    return isdigit((unsigned char)w[0]) && strchr(w, '.');
}

/* git clone without a pinned ref, and not followed by a checkout of one. */
static int git_clone_unpinned(const struct shcmd_script *s, size_t k)
{
    const struct shcmd *c = &s->c[k];
    size_t i = 1;

    while (i < c->n && c->w[i][0] == '-') {
        if (!strcmp(c->w[i], "-C") || !strcmp(c->w[i], "-c"))
            i++;
        i++;
    }
    if (i >= c->n || strcmp(c->w[i], "clone"))
        return -1;
    for (i++; i < c->n; i++) {
        const char *w = c->w[i];
        if ((!strcmp(w, "-b") || !strcmp(w, "--branch") ||
             !strcmp(w, "--revision")) &&
            i + 1 < c->n && looks_pinned_ref(c->w[i + 1]))
            return 0;
        if ((!strncmp(w, "--branch=", 9) && looks_pinned_ref(w + 9)) ||
            (!strncmp(w, "--revision=", 11) && looks_pinned_ref(w + 11)))
            return 0;
    }
    for (size_t j = k + 1; j < s->n; j++) {
        const struct shcmd *d = &s->c[j];
        if (!prog_is(d, "git"))
            continue;
        for (i = 1; i + 1 < d->n; i++)
            if ((!strcmp(d->w[i], "checkout") || !strcmp(d->w[i], "reset") ||
                 !strcmp(d->w[i], "fetch") || !strcmp(d->w[i], "switch")) &&
                looks_pinned_ref(d->w[d->n - 1]))
                return 0;
    }
    return 1;
}

static int is_interpreter(const char *p)
{
    return is_shell(p) || !strncmp(p, "python", 6) || !strcmp(p, "perl") ||
           !strcmp(p, "ruby") || !strcmp(p, "node");
}

static int is_fetcher(const char *p)
{
    return !strcmp(p, "curl") || !strcmp(p, "wget");
}

/* curl ... | sh, or sh -c "$(curl ...)". */
static int pipes_download_to_shell(const struct shcmd_script *s, size_t k)
{
    const struct shcmd *c = &s->c[k];

    if (k > 0 && c->piped && is_interpreter(shcmd_prog(c)) &&
        is_fetcher(shcmd_prog(&s->c[k - 1])))
        return 1;
    if (is_interpreter(shcmd_prog(c)))
        for (size_t i = 1; i < c->n; i++)
            if (strstr(c->w[i], "$(curl") || strstr(c->w[i], "$(wget") ||
                strstr(c->w[i], "`curl") || strstr(c->w[i], "`wget"))
                return 1;
    return 0;
}

static int is_pkg_index_update(const struct shcmd *c)
{
    return c->n >= 2 &&
           ((prog_is(c, "apt-get") || prog_is(c, "apt") || prog_is(c, "apk")) &&
            !strcmp(
                c->w[shcmd_next_arg(c, 1) < c->n ? shcmd_next_arg(c, 1) : 1],
                "update"));
}

static int is_pkg_install(const struct shcmd *c)
{
    size_t i = shcmd_next_arg(c, 1);
    const char *w = i < c->n ? c->w[i] : "";

    if (prog_is(c, "apt-get") || prog_is(c, "apt"))
        return !strcmp(w, "install") || !strcmp(w, "upgrade") ||
               !strcmp(w, "dist-upgrade") || !strcmp(w, "full-upgrade");
    if (prog_is(c, "apk"))
        return !strcmp(w, "add") || !strcmp(w, "upgrade");
    return 0;
}

/* apt-get install / apk add of packages without a version. */
static int unpinned_system_install(const struct shcmd *c)
{
    size_t i = shcmd_next_arg(c, 1);

    if (!is_pkg_install(c) || i >= c->n)
        return 0;
    if (strcmp(c->w[i], "install") && strcmp(c->w[i], "add"))
        return 0;
    for (i++; i < c->n; i++) {
        const char *w = c->w[i];
        if (w[0] == '-' || strchr(w, '$') || strchr(w, '/'))
            continue;
        if (!strchr(w, '='))
            return 1;
    }
    return 0;
}

static int text_busts_nothing(const char *t)
{
    return strstr(t, "$(date") || strstr(t, "`date") || strstr(t, "$RANDOM") ||
           strstr(t, "${RANDOM}") || strstr(t, "$(uuidgen") ||
           strstr(t, "/proc/sys/kernel/random/uuid");
}

/* The instruction just before in (same stage) is an ARG: the user has a
 * knob to refresh this step on purpose. */
static int has_refresh_arg(const struct df_file *df, size_t idx)
{
    return idx > 0 && df->instrs[idx - 1].kind == DF_ARG &&
           df->instrs[idx - 1].stage == df->instrs[idx].stage;
}

static const char *const refresh_fix =
    "to refresh only this step on purpose, declare ARG REFRESH just before "
    "it and pass --build-arg REFRESH=$(date +%Y-%m-%d), or rebuild its "
    "stage with docker build --no-cache-filter STAGE";

static void check_run(struct lint_report *r, const struct df_file *df,
                      size_t idx)
{
    const struct df_instr *in = &df->instrs[idx];
    struct shcmd_script s;
    int knob = has_refresh_arg(df, idx);
    int updates = 0, installs = 0, sys_unpinned = 0;
    struct buf fix = BUF_INIT;

    lint_run_script(&s, in);
    for (size_t k = 0; k < s.n; k++) {
        const struct shcmd *c = &s.c[k];
        struct pip_install pi;
        const char *pkg;

        updates += is_pkg_index_update(c);
        installs += is_pkg_install(c);
        sys_unpinned |= unpinned_system_install(c);
        if (pip_install_read(c, &pi)) {
            if (pi.upgrade && !knob) {
                buf_reset(&fix);
                buf_printf(&fix, "pin the version (pip install '%s==X.Y'); %s",
                           pi.unpinned ? pi.unpinned : "pkg", refresh_fix);
                add(r, LINT_PIP_UPGRADE, LINT_WARNING, in->line, buf_cstr(&fix),
                    "pip install --upgrade%s%s runs once: the cache keeps "
                    "the version of the day this layer was built",
                    pi.unpinned ? " " : "", pi.unpinned ? pi.unpinned : "");
            } else if (pi.unpinned && !knob) {
                buf_reset(&fix);
                buf_printf(&fix,
                           "pin it (pip install '%s==X.Y') or install from a "
                           "requirements file with pinned versions",
                           pi.unpinned);
                add(r, LINT_UNPINNED_INSTALL, LINT_WARNING, in->line,
                    buf_cstr(&fix),
                    "pip install %s has no version: the cache keeps the one "
                    "current when the layer was built, and each runner that "
                    "misses gets a newer one",
                    pi.unpinned);
            }
            pip_install_release(&pi);
        } else if ((pkg = unpinned_tool_install(c)) && !knob) {
            buf_reset(&fix);
            buf_printf(&fix, "pin the version (e.g. %s@X.Y.Z, or --version)",
                       pkg);
            add(r, LINT_UNPINNED_INSTALL, LINT_WARNING, in->line,
                buf_cstr(&fix),
                "%s installs %s without a version: the cache keeps the one "
                "current when the layer was built",
                shcmd_prog(c), pkg);
        }
        if (prog_is(c, "git") && git_clone_unpinned(&s, k) == 1 && !knob)
            add(r, LINT_GIT_CLONE, LINT_WARNING, in->line,
                "pin a tag or commit (git clone --branch v1.2.3, or git "
                "checkout <sha>), or use a git source: ADD "
                "https://host/repo.git#<ref> /dest, keyed on the commit",
                "git clone of a branch: the RUN is keyed on its text, so the "
                "cache keeps the first clone and never sees new commits");
        if (pipes_download_to_shell(&s, k) && !knob)
            add(r, LINT_CURL_PIPE_SH, LINT_WARNING, in->line,
                "download a pinned version with ADD --checksum=sha256:<digest> "
                "<url> /tmp/install.sh, then RUN sh /tmp/install.sh",
                "%s piped to %s: the cache keeps the script of the first "
                "build and a changed one is never fetched until the layer "
                "misses",
                shcmd_prog(&s.c[k > 0 && c->piped ? k - 1 : k]), shcmd_prog(c));
    }
    if (updates && !installs)
        add(r, LINT_APT_UPDATE_ALONE, LINT_WARNING, in->line,
            "update and install in one RUN: RUN apt-get update && apt-get "
            "install -y --no-install-recommends PKG... && rm -rf "
            "/var/lib/apt/lists/*",
            "the package index is updated in a RUN of its own: the cache "
            "keeps that index, and the RUN that installs later fetches from "
            "a stale one");
    if (sys_unpinned && !knob)
        add(r, LINT_BUST_ONE_LAYER, LINT_INFO, in->line, refresh_fix,
            "system packages are installed without versions: the cache keeps "
            "them, security updates included, until an earlier step changes");
    for (size_t a = 0; a < in->nargs; a++)
        if (!in->json && text_busts_nothing(in->args[a]))
            add(r, LINT_BUST_ONE_LAYER, LINT_INFO, in->line,
                "declare ARG CACHEBUST just before this RUN and pass "
                "--build-arg CACHEBUST=$(date +%s)",
                "date or random output in a RUN never busts the cache: the "
                "step is keyed on its text, not on what the shell prints");
    buf_release(&fix);
    shcmd_script_release(&s);
}

static void check_cache_mounts(struct lint_report *r, const struct df_instr *in,
                               const struct lint_context *lc)
{
    if (lc->ephemeral == 0)
        return;
    for (size_t f = 0; f < in->nflags; f++)
        if (!strcmp(in->flags[f].name, "mount") &&
            strstr(in->flags[f].value, "type=cache")) {
            add(r, LINT_CACHE_MOUNT,
                lc->ephemeral > 0 ? LINT_WARNING : LINT_INFO, in->line,
                "keep the mount for persistent runners; on ephemeral ones "
                "rely on the exported layer cache (or restore the mount's "
                "folder from the CI cache and inject it)",
                "the cache mount of this RUN lives on the builder and is "
                "never exported: on an ephemeral runner it starts empty on "
                "every build");
            return;
        }
}

/* ===== ADD <url> ===== */

static int is_url(const char *s)
{
    return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8);
}

static int is_git_url(const char *s)
{
    const char *hash = strchr(s, '#');
    size_t n = hash ? (size_t)(hash - s) : strlen(s);

    return !strncmp(s, "git@", 4) || !strncmp(s, "git://", 6) ||
           (n > 4 && !strncmp(s + n - 4, ".git", 4));
}

static void check_add(struct lint_report *r, const struct df_instr *in)
{
    if (in->nargs < 2 || df_instr_flag(in, "checksum"))
        return;
    for (size_t i = 0; i + 1 < in->nargs; i++)
        if (is_url(in->args[i]) && !is_git_url(in->args[i])) {
            add(r, LINT_ADD_URL, LINT_WARNING, in->line,
                "pin the file: ADD --checksum=sha256:<digest> <url> <dest> "
                "(a new file then fails loudly instead of busting the cache)",
                "ADD %s without --checksum: the file is downloaded or "
                "revalidated on every build, and a new file at the URL "
                "busts every later step",
                in->args[i]);
            return;
        }
}

/* ===== Base images ===== */

static int floating_channel(const char *tag)
{
    static const char *const names[] = { "latest",   "lts",  "stable",
                                         "current",  "edge", "rolling",
                                         "mainline", NULL };
    for (size_t i = 0; names[i]; i++)
        if (!strcmp(tag, names[i]))
            return 1;
    return !strncmp(tag, "latest-", 7);
}

/* "20", "20-slim", "v3-alpine": a major version alone. */
static int major_only(const char *tag)
{
    const char *p = tag + (tag[0] == 'v');
    size_t d = strspn(p, "0123456789");

    return d > 0 && (p[d] == 0 || p[d] == '-');
}

static void check_from(struct lint_report *r, const struct df_file *df,
                       const struct df_stage *st)
{
    const char *img = st->base, *slash, *colon;
    const struct df_instr *in = &df->instrs[st->first];
    char *tag;

    if (st->base_stage >= 0 || !img || !*img || strchr(img, '@') ||
        strchr(img, '$') || !strcmp(img, "scratch"))
        return;
    slash = strrchr(img, '/');
    colon = strrchr(slash ? slash : img, ':');
    if (!colon) {
        add(r, LINT_FLOATING_BASE, LINT_WARNING, in->line,
            "name a full version (image:X.Y.Z) or pin a digest "
            "(image:tag@sha256:...) and bump it on purpose",
            "FROM %s has no tag, which means latest: the base moves under "
            "the cache and runners build from different bases",
            img);
        return;
    }
    tag = xstrdup(colon + 1);
    if (floating_channel(tag))
        add(r, LINT_FLOATING_BASE, LINT_WARNING, in->line,
            "name a full version (image:X.Y.Z) or pin a digest "
            "(image:tag@sha256:...) and bump it on purpose",
            "FROM %s is a floating tag: the base moves under the cache and "
            "runners build from different bases",
            img);
    else if (major_only(tag))
        add(r, LINT_FLOATING_BASE, LINT_INFO, in->line,
            "name at least major.minor (image:X.Y) or pin a digest",
            "FROM %s names a major version only: every minor release moves "
            "the base under the cache",
            img);
    free(tag);
}

/* ===== ARGs ===== */

static int is_automatic_arg(const char *name)
{
    static const char *const auto_args[] = {
        "TARGETPLATFORM", "TARGETOS",   "TARGETARCH",  "TARGETVARIANT",
        "BUILDPLATFORM",  "BUILDOS",    "BUILDARCH",   "BUILDVARIANT",
        "HTTP_PROXY",     "http_proxy", "HTTPS_PROXY", "https_proxy",
        "FTP_PROXY",      "ftp_proxy",  "NO_PROXY",    "no_proxy",
        "ALL_PROXY",      "all_proxy",  NULL
    };
    if (!strncmp(name, "BUILDKIT_", 9))
        return 1;
    for (size_t i = 0; auto_args[i]; i++)
        if (!strcmp(name, auto_args[i]))
            return 1;
    return 0;
}

static int ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* 1 if text references $name or ${name...}. */
static int references(const char *text, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = strchr(text, '$'); p; p = strchr(p + 1, '$')) {
        const char *q = p + 1;
        if (*q == '{')
            q++;
        if (!strncmp(q, name, n) && !ident_char(q[n]))
            return 1;
    }
    return 0;
}

static int instr_references(const struct df_instr *in, const char *name)
{
    if (references(in->original, name))
        return 1;
    for (size_t h = 0; h < in->nheredocs; h++)
        if (references(in->heredocs[h].content, name))
            return 1;
    return 0;
}

int lint_arg_first_use(const struct df_file *df, size_t idx, const char *name,
                       size_t *runs_between)
{
    const struct df_instr *a = &df->instrs[idx];

    *runs_between = 0;
    for (size_t j = idx + 1; j < df->ninstrs; j++) {
        const struct df_instr *in = &df->instrs[j];
        if (in->stage != a->stage)
            break;
        if (instr_references(in, name))
            return (int)j;
        if (in->kind == DF_RUN)
            (*runs_between)++;
    }
    return -1;
}

static void check_args(struct lint_report *r, const struct df_file *df)
{
    for (size_t i = 0; i < df->ninstrs; i++) {
        const struct df_instr *in = &df->instrs[i];
        if (in->kind != DF_ARG || in->stage < 0)
            continue;
        for (size_t v = 0; v < in->nvars; v++) {
            const char *name = in->vars[v].name;
            size_t runs;
            int use;
            if (is_automatic_arg(name))
                continue;
            use = lint_arg_first_use(df, i, name, &runs);
            if (use < 0 || runs == 0)
                continue;
            {
                struct buf fix = BUF_INIT;
                buf_printf(&fix, "declare ARG %s just before line %d", name,
                           df->instrs[use].line);
                add(r, LINT_ARG_EARLY, LINT_WARNING, in->line, buf_cstr(&fix),
                    "ARG %s is in the environment of every later RUN: a new "
                    "value busts %zu RUN step%s before line %d, the first "
                    "that uses it",
                    name, runs, runs == 1 ? "" : "s", df->instrs[use].line);
                buf_release(&fix);
            }
        }
    }
}

/* ===== Context and .dockerignore ===== */

static int lint_whole_context_source(const char *src)
{
    return !strcmp(src, ".") || !strcmp(src, "./") || !strcmp(src, "/") ||
           !strcmp(src, "*") || !strcmp(src, "./*") || !strcmp(src, "./.");
}

int lint_copies_whole_context(const struct df_instr *in)
{
    if ((in->kind != DF_COPY && in->kind != DF_ADD) ||
        df_instr_flag(in, "from") || in->nargs < 2)
        return 0;
    for (size_t i = 0; i + 1 < in->nargs; i++)
        if (lint_whole_context_source(in->args[i]))
            return 1;
    return 0;
}

static void check_ignore(struct lint_report *r, const struct df_file *df,
                         const struct lint_context *lc)
{
    const struct df_instr *first = NULL;

    if (!lc->ctx_known)
        return;
    for (size_t i = 0; i < df->ninstrs && !first; i++)
        if (lint_copies_whole_context(&df->instrs[i]))
            first = &df->instrs[i];
    if (!first)
        return;
    if (!lc->ignore_file)
        add(r, LINT_DOCKERIGNORE_MISSING, LINT_WARNING, first->line,
            "add a .dockerignore next to the Dockerfile with at least .git "
            "and build outputs (node_modules, target, __pycache__, dist)",
            "%s copies the whole context and there is no .dockerignore: "
            "everything is sent and hashed, .git included, whose content "
            "differs on every CI checkout, so this step misses every build",
            df_kind_name(first->kind));
    else if (!lc->ignore_excludes_git)
        add(r, LINT_DOCKERIGNORE_GIT, LINT_WARNING, first->line,
            "add a line .git to the .dockerignore",
            "%s copies the whole context and %s lets .git in: a CI "
            "checkout's .git differs on every build, so this step misses "
            "every time",
            df_kind_name(first->kind), lc->ignore_file);
}

/* ===== Inline cache ===== */

static int inline_cache_arg(const struct df_file *df, int *line)
{
    for (size_t i = 0; i < df->ninstrs; i++) {
        const struct df_instr *in = &df->instrs[i];
        if (in->kind != DF_ARG)
            continue;
        for (size_t v = 0; v < in->nvars; v++)
            if (!strcmp(in->vars[v].name, "BUILDKIT_INLINE_CACHE") &&
                in->vars[v].value &&
                (!strcmp(in->vars[v].value, "1") ||
                 !strcmp(in->vars[v].value, "true"))) {
                *line = in->line;
                return 1;
            }
    }
    return 0;
}

/* 1 if a stage the target needs (other than itself and its bases) runs a
 * RUN: its work is not in the final image, so inline cache misses it. */
static int needs_builder_stage(const struct df_file *df, size_t target)
{
    unsigned char *need = xcalloc(df->nstages + 1, 1);
    int found = 0;

    need[target] = 1;
    for (size_t s = df->nstages; s-- > 0;) {
        const struct df_stage *st = &df->stages[s];
        if (!need[s])
            continue;
        if (st->base_stage >= 0)
            need[st->base_stage] = 1;
        for (size_t k = st->first; k < st->first + st->count; k++) {
            int from = df->instrs[k].from_stage;
            if (from >= 0 && (size_t)from < df->nstages)
                need[from] = 2;
        }
    }
    for (size_t s = 0; s < df->nstages && !found; s++) {
        const struct df_stage *st = &df->stages[s];
        if (need[s] != 2)
            continue;
        for (size_t k = st->first; k < st->first + st->count; k++)
            if (df->instrs[k].kind == DF_RUN)
                found = 1;
    }
    free(need);
    return found;
}

static void check_inline(struct lint_report *r, const struct df_file *df,
                         const struct lint_context *lc)
{
    int line = 0;
    size_t target;

    if (!df->nstages)
        return;
    target = df->nstages - 1;
    if (!inline_cache_arg(df, &line)) {
        if (!lc->inline_cache)
            return;
        line = df->instrs[df->stages[target].first].line;
    }
    if (!needs_builder_stage(df, target))
        return;
    add(r, LINT_INLINE_MULTISTAGE, LINT_WARNING, line,
        "export the cache of every stage: --cache-to "
        "type=registry,ref=IMAGE:buildcache,mode=max --cache-from "
        "type=registry,ref=IMAGE:buildcache",
        "inline cache exports only the final stage (mode=min): the builder "
        "stages it copies from re-run on every runner that starts cold");
}

/* ===== Driver ===== */

static int by_line(const void *a, const void *b)
{
    const struct lint_finding *x = a, *y = b;

    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return (int)x->rule - (int)y->rule;
}

void lint_run(struct lint_report *out, const struct df_file *df,
              const struct lint_context *lc)
{
    static const struct lint_context none = { 0, NULL, NULL, NULL, 0, -1, 0 };

    if (!lc)
        lc = &none;
    memset(out, 0, sizeof(*out));
    for (size_t s = 0; s < df->nstages; s++)
        check_from(out, df, &df->stages[s]);
    for (size_t i = 0; i < df->ninstrs; i++) {
        const struct df_instr *in = &df->instrs[i];
        if (in->kind == DF_RUN) {
            check_run(out, df, i);
            check_cache_mounts(out, in, lc);
        } else if (in->kind == DF_ADD) {
            check_add(out, in);
        }
    }
    check_args(out, df);
    check_ignore(out, df, lc);
    lint_deps_check(out, df, lc);
    check_inline(out, df, lc);
    if (out->n > 1)
        qsort(out->v, out->n, sizeof(*out->v), by_line);
}

void lint_report_add(struct lint_report *r, enum lint_rule_id rule,
                     enum lint_severity sev, int line, const char *message,
                     const char *fix)
{
    add(r, rule, sev, line, fix, "%s", message);
}

void lint_report_release(struct lint_report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].message);
        free(r->v[i].fix);
    }
    free(r->v);
    memset(r, 0, sizeof(*r));
}

int lint_report_failing(const struct lint_report *r)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].severity >= LINT_WARNING)
            return 1;
    return 0;
}
