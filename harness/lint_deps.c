/*
 * lint_deps.c - dependency installs after the whole context is copied
 * (rule copy-before-deps), and the rewrites of `harness whatif`
 * (lint_rewrite): manifests first, early ARGs moved down, one layer busted.
 *
 * A dependency step belongs to an ecosystem (pip, npm, go...) that names
 * its manifests and, for build commands that fetch as they go (go build,
 * cargo build, mvn package), a separate fetch command that needs only the
 * manifests.  The fix copies the manifests to where the whole context
 * went, runs the install (or fetch) there, then copies the rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lint_deps.h"

enum eco {
    ECO_PIP,
    ECO_PIPENV,
    ECO_POETRY,
    ECO_UV,
    ECO_NPM,
    ECO_YARN,
    ECO_PNPM,
    ECO_GO,
    ECO_CARGO,
    ECO_MAVEN,
    ECO_MAVENW,
    ECO_GRADLE,
    ECO_GRADLEW,
    ECO_BUNDLER,
    ECO_COMPOSER,
    ECO_DOTNET,
    ECO_COUNT
};

struct eco_spec {
    const char *name;
    const char *need;     /* manifests, space separated */
    const char *optional; /* copied when present */
    const char *fetch;    /* the manifest-only fetch; NULL: the install */
};

static const struct eco_spec ecos[ECO_COUNT] = {
    [ECO_PIP] = { "pip", "", "", NULL },
    [ECO_PIPENV] = { "pipenv", "Pipfile", "Pipfile.lock", NULL },
    [ECO_POETRY] = { "poetry", "pyproject.toml", "poetry.lock",
                     "poetry install --no-root" },
    [ECO_UV] = { "uv", "pyproject.toml", "uv.lock",
                 "uv sync --no-install-project" },
    [ECO_NPM] = { "npm", "package.json",
                  "package-lock.json npm-shrinkwrap.json .npmrc", NULL },
    [ECO_YARN] = { "yarn", "package.json", "yarn.lock .yarnrc .yarnrc.yml",
                   NULL },
    [ECO_PNPM] = { "pnpm", "package.json", "pnpm-lock.yaml .npmrc", NULL },
    [ECO_GO] = { "go", "go.mod", "go.sum", "go mod download" },
    [ECO_CARGO] = { "cargo", "Cargo.toml", "Cargo.lock",
                    "mkdir -p src && echo 'fn main() {}' > src/main.rs && "
                    "cargo fetch && rm -rf src" },
    [ECO_MAVEN] = { "maven", "pom.xml", "", "mvn -B dependency:go-offline" },
    [ECO_MAVENW] = { "maven", "pom.xml mvnw .mvn", "",
                     "./mvnw -B dependency:go-offline" },
    [ECO_GRADLE] = { "gradle", "",
                     "build.gradle build.gradle.kts settings.gradle "
                     "settings.gradle.kts gradle.properties",
                     "gradle dependencies --no-daemon" },
    [ECO_GRADLEW] = { "gradle", "gradlew gradle",
                      "build.gradle build.gradle.kts settings.gradle "
                      "settings.gradle.kts gradle.properties",
                      "./gradlew dependencies --no-daemon" },
    [ECO_BUNDLER] = { "bundler", "Gemfile", "Gemfile.lock", NULL },
    [ECO_COMPOSER] = { "composer", "composer.json", "composer.lock",
                       "composer install --no-scripts --no-autoloader" },
    [ECO_DOTNET] = { "dotnet", "*.csproj", "*.sln NuGet.Config",
                     "dotnet restore" },
};

enum dep_kind { DEP_NONE, DEP_INSTALL, DEP_BUILD };

static int word_in(const struct shcmd *c, size_t from, const char *w)
{
    const char *const one[] = { w, NULL };
    return shcmd_has_word(c, from, one);
}

/* pip install -r FILE... (nothing else to install): the -r files. */
static int pip_requirements(const struct shcmd *c, size_t i, const char ***reqs,
                            size_t *nreqs)
{
    size_t cap = 0;

    *reqs = NULL;
    *nreqs = 0;
    for (i++; i < c->n; i++) {
        const char *w = c->w[i];
        if ((!strcmp(w, "-r") || !strcmp(w, "--requirement") ||
             !strcmp(w, "-c") || !strcmp(w, "--constraint")) &&
            i + 1 < c->n) {
            XGROW(*reqs, cap, *nreqs + 1);
            (*reqs)[(*nreqs)++] = c->w[++i];
        } else if (w[0] == '-') {
            if (!strchr(w, '=') &&
                (!strcmp(w, "-i") || !strcmp(w, "--index-url") ||
                 !strcmp(w, "--extra-index-url") || !strcmp(w, "-f") ||
                 !strcmp(w, "--find-links") || !strcmp(w, "--trusted-host") ||
                 !strcmp(w, "-t") || !strcmp(w, "--target") ||
                 !strcmp(w, "--prefix") || !strcmp(w, "--cache-dir") ||
                 !strcmp(w, "--timeout") || !strcmp(w, "-e") ||
                 !strcmp(w, "--editable")))
                i++;
            if (!strcmp(w, "-e") || !strcmp(w, "--editable"))
                goto none;
        } else if (w[0] == '.' || w[0] == '/') {
            goto none; /* installs the sources themselves */
        }
    }
    if (*nreqs)
        return 1;
none:
    free(*reqs);
    *reqs = NULL;
    *nreqs = 0;
    return 0;
}

static size_t pip_at(const struct shcmd *c)
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

/* The ecosystem and kind of one command. */
static enum dep_kind classify(const struct shcmd *c, enum eco *eco,
                              const char ***reqs, size_t *nreqs)
{
    const char *p = shcmd_prog(c);
    const char *sub = c->n > 1 ? c->w[1] : "";
    size_t at;

    *reqs = NULL;
    *nreqs = 0;
    if ((at = pip_at(c)) && at < c->n && !strcmp(c->w[at], "install")) {
        *eco = ECO_PIP;
        return pip_requirements(c, at, reqs, nreqs) ? DEP_INSTALL : DEP_NONE;
    }
    if (!strcmp(p, "pipenv") &&
        (!strcmp(sub, "install") || !strcmp(sub, "sync"))) {
        *eco = ECO_PIPENV;
        return DEP_INSTALL;
    }
    if (!strcmp(p, "poetry") && !strcmp(sub, "install")) {
        *eco = ECO_POETRY;
        return word_in(c, 2, "--no-root") ? DEP_INSTALL : DEP_BUILD;
    }
    if (!strcmp(p, "uv") && !strcmp(sub, "sync")) {
        *eco = ECO_UV;
        return word_in(c, 2, "--no-install-project") ? DEP_INSTALL : DEP_BUILD;
    }
    if (!strcmp(p, "npm") &&
        (!strcmp(sub, "ci") || !strcmp(sub, "install") || !strcmp(sub, "i"))) {
        if (word_in(c, 2, "-g") || word_in(c, 2, "--global") ||
            shcmd_next_arg(c, 2) < c->n)
            return DEP_NONE; /* installs named packages */
        *eco = ECO_NPM;
        return DEP_INSTALL;
    }
    if (!strcmp(p, "yarn") &&
        (c->n == 1 || !strcmp(sub, "install") ||
         (sub[0] == '-' && shcmd_next_arg(c, 1) >= c->n))) {
        *eco = ECO_YARN;
        return DEP_INSTALL;
    }
    if (!strcmp(p, "pnpm") && (!strcmp(sub, "install") || !strcmp(sub, "i")) &&
        !word_in(c, 2, "-g") && shcmd_next_arg(c, 2) >= c->n) {
        *eco = ECO_PNPM;
        return DEP_INSTALL;
    }
    if (!strcmp(p, "go")) {
        *eco = ECO_GO;
        if (!strcmp(sub, "mod") && c->n > 2 && !strcmp(c->w[2], "download"))
            return DEP_INSTALL;
        if (!strcmp(sub, "build") || !strcmp(sub, "test") ||
            !strcmp(sub, "vet") || !strcmp(sub, "generate") ||
            (!strcmp(sub, "install") &&
             !strchr(c->n > 2 ? c->w[c->n - 1] : "", '@')))
            return DEP_BUILD;
        return DEP_NONE;
    }
    if (!strcmp(p, "cargo")) {
        *eco = ECO_CARGO;
        if (!strcmp(sub, "fetch") ||
            (!strcmp(sub, "chef") && c->n > 2 && !strcmp(c->w[2], "cook")))
            return DEP_INSTALL;
        if (!strcmp(sub, "build") || !strcmp(sub, "test") ||
            (!strcmp(sub, "install") && word_in(c, 2, "--path")))
            return DEP_BUILD;
        return DEP_NONE;
    }
    if (!strcmp(p, "mvn") || !strcmp(p, "mvnw")) {
        *eco = !strcmp(p, "mvn") ? ECO_MAVEN : ECO_MAVENW;
        for (size_t i = 1; i < c->n; i++)
            if (!strncmp(c->w[i], "dependency:", 11))
                return DEP_INSTALL;
        for (size_t i = 1; i < c->n; i++)
            if (!strcmp(c->w[i], "package") || !strcmp(c->w[i], "install") ||
                !strcmp(c->w[i], "verify") || !strcmp(c->w[i], "compile") ||
                !strcmp(c->w[i], "test"))
                return DEP_BUILD;
        return DEP_NONE;
    }
    if (!strcmp(p, "gradle") || !strcmp(p, "gradlew")) {
        *eco = !strcmp(p, "gradle") ? ECO_GRADLE : ECO_GRADLEW;
        if (word_in(c, 1, "dependencies"))
            return DEP_INSTALL;
        if (word_in(c, 1, "build") || word_in(c, 1, "assemble") ||
            word_in(c, 1, "bootJar") || word_in(c, 1, "installDist") ||
            word_in(c, 1, "shadowJar") || word_in(c, 1, "jar"))
            return DEP_BUILD;
        return DEP_NONE;
    }
    if (!strcmp(p, "dotnet")) {
        *eco = ECO_DOTNET;
        if (!strcmp(sub, "restore"))
            return DEP_INSTALL;
        if (!strcmp(sub, "build") || !strcmp(sub, "publish") ||
            !strcmp(sub, "test"))
            return DEP_BUILD;
        return DEP_NONE;
    }
    if (!strcmp(p, "bundle") && !strcmp(sub, "install")) {
        *eco = ECO_BUNDLER;
        return DEP_INSTALL;
    }
    if (!strcmp(p, "composer") && !strcmp(sub, "install")) {
        *eco = ECO_COMPOSER;
        return word_in(c, 2, "--no-scripts") ? DEP_INSTALL : DEP_BUILD;
    }
    return DEP_NONE;
}

/* One finding of the rule, with what the rewrite needs. */
struct dep_fix {
    size_t copy_idx, run_idx;
    enum eco eco;
    enum dep_kind kind;
    struct buf manifests; /* "COPY ... DEST\n" lines */
    struct buf fetch;     /* "RUN ...\n" before the whole COPY */
    struct buf rest;      /* the RUN without its install, or "" */
    int split;            /* the RUN loses its install commands */
    int rewritable;
    char why_not[160];
};

static void dep_fix_release(struct dep_fix *f)
{
    buf_release(&f->manifests);
    buf_release(&f->fetch);
    buf_release(&f->rest);
}

static int dest_is_workdir(const struct df_instr *copy)
{
    const char *d = copy->args[copy->nargs - 1];
    const char *wd = copy->state.workdir ? copy->state.workdir : "/";
    size_t n = strlen(d), w = strlen(wd);

    if (!strcmp(d, ".") || !strcmp(d, "./"))
        return 1;
    while (n > 1 && d[n - 1] == '/')
        n--;
    while (w > 1 && wd[w - 1] == '/')
        w--;
    return n == w && !strncmp(d, wd, n);
}

/* The flags of the whole COPY that the manifest COPY keeps. */
static void copy_flags(struct buf *b, const struct df_instr *copy)
{
    for (size_t i = 0; i < copy->nflags; i++)
        if (!strcmp(copy->flags[i].name, "chown") ||
            !strcmp(copy->flags[i].name, "chmod") ||
            !strcmp(copy->flags[i].name, "link")) {
            buf_adds(b, copy->flags[i].raw);
            buf_addch(b, ' ');
        }
}

static const char *dest_dir(const struct df_instr *copy, struct buf *tmp)
{
    const char *d = copy->args[copy->nargs - 1];

    buf_reset(tmp);
    if (!strcmp(d, ".") || !strcmp(d, "./")) {
        buf_adds(tmp, "./");
    } else {
        buf_adds(tmp, d);
        if (d[strlen(d) - 1] != '/')
            buf_addch(tmp, '/');
    }
    return buf_cstr(tmp);
}

static int probe(const struct lint_context *lc, const char *path)
{
    if (!lc || !lc->ctx_known || !lc->exists)
        return -1;
    return lc->exists(lc->arg, path) ? 1 : 0;
}

/* Fill f->manifests.  0 on success, -1 (why_not set) if a needed manifest
 * is missing from the context. */
static int manifests(struct dep_fix *f, const struct df_instr *copy,
                     const char *const *reqs, size_t nreqs,
                     const struct lint_context *lc)
{
    const struct eco_spec *e = &ecos[f->eco];
    struct buf files = BUF_INIT, dirs = BUF_INIT, tmp = BUF_INIT;
    const char *dest = dest_dir(copy, &tmp);
    char *list;
    int rc = 0, any = 0;

    for (size_t i = 0; i < nreqs; i++) {
        const char *slash = strrchr(reqs[i], '/');
        if (slash) {
            /* a requirements folder: -r files may include their siblings */
            char *dir = xstrndup(reqs[i], (size_t)(slash - reqs[i]));
            buf_adds(&dirs, "COPY ");
            copy_flags(&dirs, copy);
            buf_printf(&dirs, "%s/ %s%s/\n", dir, dest, dir);
            free(dir);
            if (probe(lc, reqs[i]) == 0) {
                snprintf(f->why_not, sizeof(f->why_not),
                         "%s is not in the context", reqs[i]);
                rc = -1;
            }
        } else {
            buf_printf(&files, " %s", reqs[i]);
            any = 1;
            if (probe(lc, reqs[i]) == 0) {
                snprintf(f->why_not, sizeof(f->why_not),
                         "%s is not in the context", reqs[i]);
                rc = -1;
            }
        }
    }
    list = xstrdup(e->need);
    for (char *t = strtok(list, " "); t; t = strtok(NULL, " ")) {
        buf_printf(&files, " %s", t);
        any = 1;
        if (probe(lc, t) == 0) {
            snprintf(f->why_not, sizeof(f->why_not), "%s is not in the context",
                     t);
            rc = -1;
        }
    }
    free(list);
    list = xstrdup(e->optional);
    for (char *t = strtok(list, " "); t; t = strtok(NULL, " ")) {
        int p = probe(lc, t);
        if (p == 1 || (p < 0 && (f->eco == ECO_NPM || f->eco == ECO_GO ||
                                 f->eco == ECO_CARGO || f->eco == ECO_YARN ||
                                 f->eco == ECO_POETRY))) {
            /* without the context, name the usual lock file */
            if (p < 0 && (!strcmp(t, ".npmrc") || !strcmp(t, ".yarnrc") ||
                          !strcmp(t, ".yarnrc.yml") ||
                          !strcmp(t, "npm-shrinkwrap.json")))
                continue;
            buf_printf(&files, " %s", t);
            any = 1;
        }
    }
    free(list);
    if (f->eco == ECO_GRADLE || f->eco == ECO_GRADLEW) {
        if (probe(lc, "build.gradle") < 0) {
            buf_adds(&files, " build.gradle* settings.gradle*");
            any = 1;
        }
        if (!any) {
            snprintf(f->why_not, sizeof(f->why_not),
                     "no build.gradle in the context");
            rc = -1;
        }
    }
    if (any) {
        buf_adds(&f->manifests, "COPY ");
        copy_flags(&f->manifests, copy);
        buf_printf(&f->manifests, "%s %s\n", buf_cstr(&files) + 1, dest);
    }
    buf_adds(&f->manifests, buf_cstr(&dirs));
    buf_release(&files);
    buf_release(&dirs);
    buf_release(&tmp);
    return rc;
}

/* Instructions that may sit between the whole COPY and the install when
 * the COPY moves below the install. */
static int movable_over(enum df_kind k)
{
    return k == DF_LABEL || k == DF_EXPOSE || k == DF_ENV || k == DF_ARG ||
           k == DF_MAINTAINER || k == DF_STOPSIGNAL || k == DF_HEALTHCHECK ||
           k == DF_CMD || k == DF_ENTRYPOINT || k == DF_VOLUME;
}

static void run_flags(struct buf *b, const struct df_instr *run)
{
    buf_adds(b, "RUN ");
    for (size_t i = 0; i < run->nflags; i++) {
        buf_adds(b, run->flags[i].raw);
        buf_addch(b, ' ');
    }
}

/* Decide the fetch step and whether the RUN can lose its install. */
static void plan_fetch(struct dep_fix *f, const struct df_instr *run,
                       const struct shcmd_script *s, const unsigned char *mine)
{
    size_t nmine = 0;

    for (size_t k = 0; k < s->n; k++)
        nmine += mine[k];
    run_flags(&f->fetch, run);
    if (f->kind == DEP_BUILD || !nmine) {
        buf_printf(&f->fetch, "%s\n", ecos[f->eco].fetch);
        return;
    }
    f->split = !run->json && !run->nheredocs && shcmd_is_and_chain(s);
    for (size_t k = 0, first = 1; k < s->n; k++)
        if (mine[k]) {
            if (!first)
                buf_adds(&f->fetch, " && ");
            shcmd_format(&f->fetch, &s->c[k]);
            first = 0;
        }
    buf_addch(&f->fetch, '\n');
    if (!f->split)
        return;
    for (size_t k = 0, first = 1; k < s->n; k++)
        if (!mine[k]) {
            if (first)
                run_flags(&f->rest, run);
            else
                buf_adds(&f->rest, " && ");
            shcmd_format(&f->rest, &s->c[k]);
            first = 0;
        }
    if (f->rest.len)
        buf_addch(&f->rest, '\n');
}

/* Find every copy-before-deps case; *out is caller-freed with
 * dep_fixes_free(). */
static void find_fixes(struct dep_fix **out, size_t *n,
                       const struct df_file *df, const struct lint_context *lc)
{
    size_t cap = 0;

    *out = NULL;
    *n = 0;
    for (size_t st = 0; st < df->nstages; st++) {
        const struct df_stage *sg = &df->stages[st];
        unsigned char seen[ECO_COUNT] = { 0 };
        long whole = -1;
        for (size_t i = sg->first; i < sg->first + sg->count; i++) {
            const struct df_instr *in = &df->instrs[i];
            if (in->kind == DF_RUN) {
                struct shcmd_script s;
                lint_run_script(&s, in);
                unsigned char *mine = xcalloc(s.n + 1, 1);
                long hit = -1;
                const char **hreqs = NULL;
                size_t hnreqs = 0, hcap = 0;
                enum dep_kind hkind = DEP_NONE;
                for (size_t k = 0; k < s.n; k++) {
                    enum eco e = ECO_PIP;
                    const char **reqs;
                    size_t nreqs;
                    enum dep_kind kind = classify(&s.c[k], &e, &reqs, &nreqs);
                    if (kind == DEP_NONE) {
                        free(reqs);
                        continue;
                    }
                    if (whole < 0 || seen[e]) {
                        seen[e] = 1;
                        free(reqs);
                        continue;
                    }
                    if (hit < 0 || (long)e == hit) {
                        if (hit < 0) {
                            hit = e;
                            hkind = kind;
                        }
                        if (kind == DEP_INSTALL) {
                            mine[k] = 1;
                            hkind = DEP_INSTALL;
                            if (nreqs) {
                                XGROW(hreqs, hcap, hnreqs + nreqs);
                                memcpy(hreqs + hnreqs, reqs,
                                       nreqs * sizeof(*reqs));
                                hnreqs += nreqs;
                            }
                        }
                    }
                    free(reqs);
                }
                if (hit >= 0) {
                    struct dep_fix f;
                    const struct df_instr *copy = &df->instrs[whole];
                    memset(&f, 0, sizeof(f));
                    f.copy_idx = (size_t)whole;
                    f.run_idx = i;
                    f.eco = (enum eco)hit;
                    f.kind = hkind;
                    f.rewritable = 1;
                    seen[hit] = 1;
                    if (manifests(&f, copy, hreqs, hnreqs, lc) < 0)
                        f.rewritable = 0;
                    plan_fetch(&f, in, &s, mine);
                    if (!dest_is_workdir(copy)) {
                        f.rewritable = 0;
                        snprintf(f.why_not, sizeof(f.why_not),
                                 "the context goes to %s, not the WORKDIR",
                                 copy->args[copy->nargs - 1]);
                    }
                    for (size_t j = (size_t)whole + 1; j < i; j++)
                        if (!movable_over(df->instrs[j].kind)) {
                            f.rewritable = 0;
                            snprintf(f.why_not, sizeof(f.why_not),
                                     "line %d runs between the COPY and the "
                                     "install",
                                     df->instrs[j].line);
                            break;
                        }
                    XGROW(*out, cap, *n + 1);
                    (*out)[(*n)++] = f;
                }
                free(hreqs);
                free(mine);
                shcmd_script_release(&s);
            }
            if (whole < 0 && lint_copies_whole_context(in))
                whole = (long)i;
        }
    }
}

static void dep_fixes_free(struct dep_fix *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dep_fix_release(&v[i]);
    free(v);
}

void lint_deps_check(struct lint_report *r, const struct df_file *df,
                     const struct lint_context *lc)
{
    struct dep_fix *v;
    size_t n;

    find_fixes(&v, &n, df, lc);
    for (size_t i = 0; i < n; i++) {
        const struct dep_fix *f = &v[i];
        const struct df_instr *copy = &df->instrs[f->copy_idx];
        const struct df_instr *run = &df->instrs[f->run_idx];
        struct buf msg = BUF_INIT, fix = BUF_INIT;
        char *m = xstrdup(buf_cstr(&f->manifests));
        char *fe = xstrdup(buf_cstr(&f->fetch));

        /* one line each, for the message */
        for (char *p = m; *p; p++)
            if (*p == '\n')
                *p = p[1] ? ';' : 0;
        fe[strcspn(fe, "\n")] = 0;
        buf_printf(&msg,
                   "line %d copies the whole context before line %d %s the "
                   "%s dependencies: any change to any file re-runs it",
                   copy->line, run->line,
                   f->kind == DEP_INSTALL ? "installs" : "fetches",
                   ecos[f->eco].name);
        buf_printf(&fix, "copy only the manifests first: %s, then %s, then %s",
                   m, fe, copy->original);
        lint_report_add(r, LINT_COPY_BEFORE_DEPS, LINT_WARNING, run->line,
                        buf_cstr(&msg), buf_cstr(&fix));
        free(m);
        free(fe);
        buf_release(&msg);
        buf_release(&fix);
    }
    dep_fixes_free(v, n);
}

/* ===== Rewrites ===== */

struct edit {
    int line;   /* insert before this line, or first line removed */
    int end;    /* last line removed; 0: an insertion */
    char *text; /* inserted text (whole lines) */
};

struct edits {
    struct edit *v;
    size_t n, cap;
};

static void ed_insert(struct edits *e, int line, const char *text)
{
    XGROW(e->v, e->cap, e->n + 1);
    e->v[e->n].line = line;
    e->v[e->n].end = 0;
    e->v[e->n].text = xstrdup(text);
    e->n++;
}

static void ed_remove(struct edits *e, int line, int end)
{
    XGROW(e->v, e->cap, e->n + 1);
    e->v[e->n].line = line;
    e->v[e->n].end = end;
    e->v[e->n].text = NULL;
    e->n++;
}

static void edits_release(struct edits *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i].text);
    free(e->v);
    memset(e, 0, sizeof(*e));
}

/* The text of lines [from, to] (1-based), newline-terminated. */
static void lines_of(struct buf *out, const char *text, size_t len, int from,
                     int to)
{
    int line = 1;
    size_t i = 0;

    while (i < len && line <= to) {
        size_t j = i;
        while (j < len && text[j] != '\n')
            j++;
        if (line >= from) {
            buf_add(out, text + i, j - i);
            buf_addch(out, '\n');
        }
        i = j + 1;
        line++;
    }
}

static void apply(struct buf *out, const char *text, size_t len,
                  const struct edits *e)
{
    int line = 1;
    size_t i = 0;

    for (;;) {
        size_t j = i;
        int removed = 0;
        for (size_t k = 0; k < e->n; k++) {
            if (!e->v[k].end && e->v[k].line == line)
                buf_adds(out, e->v[k].text);
            if (e->v[k].end && line >= e->v[k].line && line <= e->v[k].end)
                removed = 1;
        }
        if (i >= len)
            break;
        while (j < len && text[j] != '\n')
            j++;
        if (!removed) {
            buf_add(out, text + i, j - i);
            if (j < len)
                buf_addch(out, '\n');
        }
        i = j + 1;
        line++;
        if (j >= len)
            break;
    }
}

static int rewrite_deps(struct edits *e, const struct df_file *df,
                        const char *text, size_t len,
                        const struct lint_context *lc)
{
    struct dep_fix *v;
    size_t n;
    int made = 0;

    find_fixes(&v, &n, df, lc);
    for (size_t i = 0; i < n; i++) {
        const struct dep_fix *f = &v[i];
        const struct df_instr *copy = &df->instrs[f->copy_idx];
        const struct df_instr *run = &df->instrs[f->run_idx];
        struct buf block = BUF_INIT;
        if (!f->rewritable)
            continue;
        /* one fix per whole COPY: a second ecosystem waits for the next
         * pass (lint_rewrite parses again) */
        int dup = 0;
        for (size_t k = 0; k < i; k++)
            if (v[k].rewritable && v[k].copy_idx == f->copy_idx)
                dup = 1;
        if (dup)
            continue;
        buf_adds(&block, buf_cstr(&f->manifests));
        buf_adds(&block, buf_cstr(&f->fetch));
        lines_of(&block, text, len, copy->line, copy->end_line);
        ed_remove(e, copy->line, copy->end_line);
        ed_insert(e, run->line, buf_cstr(&block));
        if (f->split) {
            ed_remove(e, run->line, run->end_line);
            if (f->rest.len)
                ed_insert(e, run->line, buf_cstr(&f->rest));
        }
        buf_release(&block);
        made++;
    }
    dep_fixes_free(v, n);
    return made;
}

static int rewrite_args(struct edits *e, const struct df_file *df,
                        const char *text, size_t len)
{
    int made = 0;

    for (size_t i = 0; i < df->ninstrs; i++) {
        const struct df_instr *in = &df->instrs[i];
        size_t runs;
        int use;
        if (in->kind != DF_ARG || in->stage < 0 || in->nvars != 1)
            continue;
        use = lint_arg_first_use(df, i, in->vars[0].name, &runs);
        if (use < 0 || runs == 0)
            continue;
        struct buf b = BUF_INIT;
        lines_of(&b, text, len, in->line, in->end_line);
        ed_remove(e, in->line, in->end_line);
        ed_insert(e, df->instrs[use].line, buf_cstr(&b));
        buf_release(&b);
        made++;
    }
    return made;
}

static int rewrite_bust(struct edits *e, const struct df_file *df,
                        const struct lint_rewrite_options *o)
{
    for (size_t i = 0; i < df->ninstrs; i++) {
        const struct df_instr *in = &df->instrs[i];
        if (in->kind != DF_RUN)
            continue;
        if (o->bust_line
                ? in->line == o->bust_line
                : (o->bust_text && strstr(in->original, o->bust_text))) {
            struct buf b = BUF_INIT;
            buf_printf(&b, "ARG HARNESS_BUST=%s\n",
                       o->bust_value ? o->bust_value : "1");
            ed_insert(e, in->line, buf_cstr(&b));
            buf_release(&b);
            return 1;
        }
    }
    return 0;
}

int lint_rewrite(struct buf *out, const char *path, const char *text,
                 size_t len, const struct lint_rewrite_options *o,
                 struct err *err)
{
    static const enum lint_rule_id order[] = { LINT_COPY_BEFORE_DEPS,
                                               LINT_ARG_EARLY,
                                               LINT_BUST_ONE_LAYER };
    struct buf cur = BUF_INIT;
    int total = 0, rc = 0;

    buf_add(&cur, text, len);
    for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
        if (!(o->fixes & (1u << order[k])))
            continue;
        /* a pass per rule (and a few for several ecosystems), each on the
         * text the previous one left */
        for (int pass = 0; pass < 4; pass++) {
            struct df_file *df = NULL;
            struct edits e = { NULL, 0, 0 };
            struct buf next = BUF_INIT;
            int made = 0;
            if ((rc = df_parse(&df, path, buf_cstr(&cur), cur.len, NULL, err)) <
                0)
                goto out;
            if (order[k] == LINT_COPY_BEFORE_DEPS)
                made = rewrite_deps(&e, df, buf_cstr(&cur), cur.len, o->lc);
            else if (order[k] == LINT_ARG_EARLY)
                made = rewrite_args(&e, df, buf_cstr(&cur), cur.len);
            else
                made = rewrite_bust(&e, df, o);
            if (made) {
                apply(&next, buf_cstr(&cur), cur.len, &e);
                buf_release(&cur);
                cur = next;
                total += made;
            }
            edits_release(&e);
            df_file_free(df);
            if (!made || order[k] != LINT_COPY_BEFORE_DEPS)
                break;
        }
    }
    buf_add(out, buf_cstr(&cur), cur.len);
    rc = total;
out:
    buf_release(&cur);
    return rc;
}
