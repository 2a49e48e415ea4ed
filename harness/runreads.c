/*
 * runreads.c - which files a RUN's output depends on; the rules are in
 * runreads.h and doc/cache-rules.md section 8.
 */
#include "runreads.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "shcmd.h"

/* Programs that read no file: their output is their command line's. */
static const char *const no_reads[] = {
    "echo", "printf", "true", "false", ":", "mkdir", "rm", "rmdir", "ln",
    "sleep", "set", "exit", "umask", "unset", "export", "sync", NULL,
};

/* Programs whose output is a function of the bytes of the files they
 * name (in the order named, or of a glob's matches). */
static const char *const content_readers[] = {
    "cat", "tac", "nl", "head", "tail", "wc", "sort", "uniq", "cksum",
    "sum", "md5sum", "sha1sum", "sha224sum", "sha256sum", "sha384sum",
    "sha512sum", "b2sum", "base64", "od", "hexdump", "xxd", "cut", "paste",
    "comm", "cmp", "diff", "grep", "tr", NULL,
};

/* Checksum programs: -c reads the files a list names. */
static const char *const sum_programs[] = {
    "cksum", "sum", "md5sum", "sha1sum", "sha224sum", "sha256sum",
    "sha384sum", "sha512sum", "b2sum", NULL,
};

/* Programs whose output also carries the names and modes of what they
 * name (a copy keeps the mode; a listing prints names). */
static const char *const meta_readers[] = {
    "cp", "mv", "install", "chmod", "chown", "chgrp", "touch", "ls", "find",
    "tar", NULL,
};

/* Interpreters: they run a script whose reads harness cannot see. */
static const char *const interpreters[] = {
    "sh", "bash", "dash", "ash", "zsh", "ksh", "python", "python3",
    "python2", "node", "perl", "ruby", "php", "java", "make", "gmake", NULL,
};

/* Folders a program is taken from by its absolute path. */
static const char *const bin_dirs[] = {
    "/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/local/bin/",
    "/usr/local/sbin/", NULL,
};

static int in_list(const char *w, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (!strcmp(w, list[i]))
            return 1;
    return 0;
}

static void conservative(struct run_reads *rr, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void conservative(struct run_reads *rr, const char *fmt, ...)
{
    va_list ap;

    if (!rr->known)
        return; /* the first reason stands */
    rr->known = 0;
    rr->write_all = 1;
    va_start(ap, fmt);
    vsnprintf(rr->why, sizeof(rr->why), fmt, ap);
    va_end(ap);
}

static char *resolve(const char *cwd, const char *w)
{
    struct buf b = BUF_INIT;
    char *out;

    if (w[0] == '/')
        buf_adds(&b, w);
    else
        buf_printf(&b, "%s/%s", cwd, w);
    out = ignore_clean_path(buf_cstr(&b));
    buf_release(&b);
    return out;
}

static void add_read(struct run_reads *rr, const char *cwd, const char *w,
                     const char *by, int meta)
{
    char *p = resolve(cwd, w);

    for (size_t i = 0; i < rr->n; i++)
        if (!strcmp(rr->r[i].path, p)) {
            rr->r[i].meta |= meta;
            free(p);
            return;
        }
    XGROW(rr->r, rr->cap, rr->n + 1);
    rr->r[rr->n].path = p;
    rr->r[rr->n].by = xstrdup(by);
    rr->r[rr->n].meta = meta;
    rr->n++;
}

static void add_write(struct run_reads *rr, const char *cwd, const char *w)
{
    char *p = resolve(cwd, w);

    for (size_t i = 0; i < rr->nw; i++)
        if (!strcmp(rr->w[i], p)) {
            free(p);
            return;
        }
    XGROW(rr->w, rr->wcap, rr->nw + 1);
    rr->w[rr->nw++] = p;
}

/* Every word from `from` that is not an option (all words after "--"). */
static size_t add_args(struct run_reads *rr, const struct shcmd *c,
                       size_t from, const char *cwd, const char *by, int meta)
{
    size_t n = 0;
    int dashdash = 0;

    for (size_t i = from; i < c->n; i++) {
        const char *w = c->w[i];
        if (!dashdash && !strcmp(w, "--")) {
            dashdash = 1;
            continue;
        }
        if (!dashdash && w[0] == '-' && w[1])
            continue;
        if (!strcmp(w, "-"))
            continue; /* standard input */
        if (by)
            add_read(rr, cwd, w, by, meta);
        else
            add_write(rr, cwd, w);
        n++;
    }
    return n;
}

static int has_option(const struct shcmd *c, size_t from, const char *letters,
                      const char *const *longs)
{
    for (size_t i = from; i < c->n; i++) {
        const char *w = c->w[i];
        if (!strcmp(w, "--"))
            break;
        if (w[0] != '-' || !w[1])
            continue;
        if (w[1] == '-') {
            for (size_t k = 0; longs && longs[k]; k++)
                if (!strncmp(w, longs[k], strlen(longs[k])))
                    return 1;
            continue;
        }
        if (letters && strpbrk(w + 1, letters))
            return 1;
    }
    return 0;
}

static void rule_find(struct run_reads *rr, const struct shcmd *c, size_t a,
                      const char *cwd)
{
    static const char *const unsafe[] = {
        "-exec",  "-execdir", "-ok",   "-okdir", "-newer", "-mtime", "-mmin",
        "-ctime", "-cmin",    "-atime", "-amin", "-printf", "-fprintf",
        "-ls",    "-fls",     "-fprint", "-delete", NULL,
    };
    size_t i, dirs = 0;

    for (i = a; i < c->n; i++)
        if (in_list(c->w[i], unsafe)) {
            conservative(rr, "find %s runs commands or reads times",
                         c->w[i]);
            return;
        }
    for (i = a; i < c->n; i++) {
        const char *w = c->w[i];
        if (w[0] == '-' || w[0] == '!' || w[0] == '(')
            break;
        add_read(rr, cwd, w, "find", 1);
        dirs++;
    }
    if (!dirs)
        add_read(rr, cwd, ".", "find", 1);
}

static void rule_tar(struct run_reads *rr, const struct shcmd *c, size_t a,
                     const char *cwd)
{
    static const char *const creates[] = { "--create", "--append",
                                           "--update", NULL };
    static const char *const packs[] = { "--gzip", "--bzip2", "--xz",
                                         "--zstd", "--auto-compress",
                                         "--compress", "--lzma", NULL };
    static const char *const dirs[] = { "--directory", NULL };
    static const char *const mtime[] = { "--mtime", NULL };
    const char *bundle = a < c->n && c->w[a][0] != '-' ? c->w[a] : "";
    int create = strpbrk(bundle, "cru") || has_option(c, a, "cru", creates);
    int pack = strpbrk(bundle, "zjJaZ") || has_option(c, a, "zjJaZ", packs);
    int cdir = strchr(bundle, 'C') || has_option(c, a, "C", dirs);

    if (create && (!has_option(c, a, NULL, mtime) || pack || cdir)) {
        conservative(rr, "tar stores each file's modification time in the "
                         "archive");
        return;
    }
    add_args(rr, c, *bundle ? a + 1 : a, cwd, "tar", 1);
}

static void rule_go(struct run_reads *rr, const struct shcmd *c, size_t a,
                    const char *cwd)
{
    const char *sub = a < c->n ? c->w[a] : "";
    char top[512];
    const char *slash;

    if (!strcmp(sub, "mod") && a + 1 < c->n &&
        !strcmp(c->w[a + 1], "download") && a + 2 == c->n) {
        add_read(rr, cwd, "go.mod", "go mod download", 0);
        add_read(rr, cwd, "go.sum", "go mod download", 0);
        add_read(rr, cwd, "go.work", "go mod download", 0);
        add_read(rr, cwd, "go.work.sum", "go mod download", 0);
        return;
    }
    if (strcmp(sub, "build") && strcmp(sub, "install") && strcmp(sub, "vet")) {
        conservative(rr, "go %s is not a known go command", sub);
        return;
    }
    for (size_t i = a + 1; i < c->n; i++) {
        if (strchr(c->w[i], '@')) {
            conservative(rr, "go %s %s fetches a module", sub, c->w[i]);
            return;
        }
        if (!strcmp(c->w[i], "-C") || !strncmp(c->w[i], "-C=", 3) ||
            !strcmp(c->w[i], "-modfile") ||
            !strncmp(c->w[i], "-modfile=", 9) ||
            !strncmp(c->w[i], "-overlay", 8)) {
            conservative(rr, "go %s %s reads files elsewhere", sub, c->w[i]);
            return;
        }
    }
    /* The module may sit anywhere above the working directory, and a
     * replace directive may point next to it: the whole top folder. */
    slash = strchr(cwd + 1, '/');
    snprintf(top, sizeof(top), "%.*s",
             slash ? (int)(slash - cwd) : (int)strlen(cwd), cwd);
    add_read(rr, "/", top[0] ? top : "/", "go: the module's top folder", 1);
    rr->env = 1;
}

/* The program's name, or NULL (conservative) for a path to a script. */
static const char *program(struct run_reads *rr, const struct shcmd *c,
                           size_t *a)
{
    const char *w = c->w[0];

    *a = 1;
    if (strchr(w, '/')) {
        int sys = 0;
        for (size_t i = 0; bin_dirs[i]; i++)
            if (!strncmp(w, bin_dirs[i], strlen(bin_dirs[i])) &&
                !strchr(w + strlen(bin_dirs[i]), '/'))
                sys = 1;
        if (!sys) {
            conservative(rr, "it runs %s, a program of the build", w);
            return NULL;
        }
        w = shcmd_prog(c);
    }
    if (!strcmp(w, "busybox") && c->n > 1) {
        *a = 2;
        w = c->w[1];
    }
    return w;
}

static void one_command(struct run_reads *rr, const struct shcmd *c,
                        char **cwd)
{
    size_t a;
    const char *prog = program(rr, c, &a);

    if (!prog)
        return;
    /* where it writes: its redirections and every path it names */
    for (size_t i = 0; i < c->nredir; i++)
        if (strcmp(c->redir[i], "/dev/null"))
            add_write(rr, *cwd, c->redir[i]);
    if (!strcmp(prog, "go") ||
        (!strcmp(prog, "tar") && a < c->n &&
         (strpbrk(c->w[a][0] == '-' ? "" : c->w[a], "x") ||
          has_option(c, a, "x", NULL) ||
          has_option(c, a, NULL, (const char *const[]){ "--extract",
                                                        "--get", NULL }))))
        rr->write_all = 1;
    else
        add_args(rr, c, a, *cwd, NULL, 0);
    for (size_t i = a; i < c->n; i++)
        if (strpbrk(c->w[i], "*?[") && in_list(prog, no_reads)) {
            /* the shell expands the glob into names: a listing */
            add_read(rr, *cwd, c->w[i], prog, 1);
        }
    if (!strcmp(prog, "cd")) {
        if (c->n != a + 1 || !strcmp(c->w[a], "-") || c->piped) {
            conservative(rr, "cd without a folder");
            return;
        }
        char *next = resolve(*cwd, c->w[a]);
        free(*cwd);
        *cwd = next;
    } else if (in_list(prog, no_reads)) {
        /* nothing read */
    } else if (in_list(prog, content_readers)) {
        static const char *const check[] = { "--check", NULL };
        if (in_list(prog, sum_programs) && has_option(c, a, "c", check)) {
            conservative(rr, "%s -c reads the files its list names", prog);
            return;
        }
        if (!strcmp(prog, "grep") && has_option(c, a, "rR", NULL) &&
            add_args(rr, c, a, *cwd, prog, 0) < 2)
            add_read(rr, *cwd, ".", prog, 1);
        else
            add_args(rr, c, a, *cwd, prog, 0);
    } else if (!strcmp(prog, "find")) {
        rule_find(rr, c, a, *cwd);
    } else if (!strcmp(prog, "tar")) {
        rule_tar(rr, c, a, *cwd);
    } else if (!strcmp(prog, "ls")) {
        static const char *const times[] = { "--full-time", "--time", "-l",
                                             NULL };
        if (has_option(c, a, "lngotcu", times)) {
            conservative(rr, "ls with -l, -t or the like prints or sorts by "
                             "modification times");
            return;
        }
        if (!add_args(rr, c, a, *cwd, prog, 1))
            add_read(rr, *cwd, ".", prog, 1);
    } else if (in_list(prog, meta_readers)) {
        add_args(rr, c, a, *cwd, prog, 1);
    } else if (!strcmp(prog, "go")) {
        rule_go(rr, c, a, *cwd);
    } else if (in_list(prog, interpreters)) {
        conservative(rr, "%s runs a script harness does not read", prog);
    } else {
        conservative(rr, "%s is not a known command", prog);
    }
}

void run_reads_analyze(struct run_reads *out, const char *text,
                       char *const *argv, size_t argc, const char *cwd,
                       size_t heredocs)
{
    struct shcmd_script s = { NULL, 0, 0 };
    char *dir;

    memset(out, 0, sizeof(*out));
    out->known = 1;
    if (heredocs) {
        conservative(out, "its script is a heredoc");
        return;
    }
    if (text) {
        static const struct {
            const char *chars, *why;
        } shell[] = {
            { "$`", "it expands a variable or substitutes a command" },
            { "<", "it redirects its input" },
            { "()", "it runs a subshell or a function" },
            { "{}", "it has a brace group or expansion" },
            { "~", "it expands ~" },
        };
        for (size_t i = 0; i < sizeof(shell) / sizeof(shell[0]); i++)
            if (strpbrk(text, shell[i].chars)) {
                conservative(out, "%s", shell[i].why);
                return;
            }
        for (const char *q = strchr(text, '>'); q; q = strchr(q + 1, '>')) {
            const char *b = q;
            while (b > text && b[-1] >= '0' && b[-1] <= '9')
                b--;
            while (b > text && (b[-1] == ' ' || b[-1] == '\t'))
                b--;
            if (b == text || strchr(";&|\n", b[-1])) {
                conservative(out, "it has a redirection without a command");
                return;
            }
        }
        shcmd_parse(&s, text);
    } else {
        shcmd_add_argv(&s, argv, argc);
    }
    dir = xstrdup(cwd && *cwd ? cwd : "/");
    for (size_t i = 0; i < s.n && out->known; i++)
        one_command(out, &s.c[i], &dir);
    free(dir);
    shcmd_script_release(&s);
    if (!out->known) {
        for (size_t i = 0; i < out->n; i++) {
            free(out->r[i].path);
            free(out->r[i].by);
        }
        for (size_t i = 0; i < out->nw; i++)
            free(out->w[i]);
        out->n = out->nw = 0;
        out->env = 0;
        out->write_all = 1;
    }
}

void run_reads_release(struct run_reads *rr)
{
    for (size_t i = 0; i < rr->n; i++) {
        free(rr->r[i].path);
        free(rr->r[i].by);
    }
    free(rr->r);
    for (size_t i = 0; i < rr->nw; i++)
        free(rr->w[i]);
    free(rr->w);
    memset(rr, 0, sizeof(*rr));
}

void run_reads_describe(struct buf *b, const struct run_reads *rr)
{
    if (!rr->known) {
        buf_printf(b, "is conservative: %s, so it is new whenever the step "
                      "runs again",
                   rr->why);
        return;
    }
    if (!rr->n && !rr->env) {
        buf_adds(b, "depends on: no file (its command and tools only)");
        return;
    }
    buf_adds(b, "depends on: ");
    for (size_t i = 0; i < rr->n; i++)
        buf_printf(b, "%s%s (%s%s)", i ? ", " : "", rr->r[i].path,
                   strchr(rr->r[i].by, ':') ? "" : "named by ",
                   rr->r[i].by);
    if (rr->env)
        buf_adds(b, ", the environment");
}

/* Whether the first len bytes of a path component (as far as the 255 that
 * a pattern keeps) hold a glob metacharacter.  Without one a component is
 * compared as it is, with no copy: keys ask this of every WORKDIR and COPY
 * destination against every system folder. */
static int has_glob(const char *s, size_t len)
{
    for (size_t i = 0; i < len && i < 255; i++)
        if (s[i] == '*' || s[i] == '?' || s[i] == '[' || s[i] == '\\')
            return 1;
    return 0;
}

/* Compare the components of a and b up to the shorter one. */
int rr_paths_overlap(const char *a, const char *b)
{
    while (*a == '/')
        a++;
    while (*b == '/')
        b++;
    while (*a && *b) {
        size_t la = strcspn(a, "/"), lb = strcspn(b, "/");
        int m, ga = has_glob(a, la), gb = has_glob(b, lb);
        if (ga && gb) {
            m = 1; /* two patterns: assume they meet */
        } else if (ga || gb) {
            char ca[256], cb[256];
            snprintf(ca, sizeof(ca), "%.*s", (int)la, a);
            snprintf(cb, sizeof(cb), "%.*s", (int)lb, b);
            m = ignore_glob_match(ga ? ca : cb, ga ? cb : ca) != 0;
        } else {
            m = la == lb && !memcmp(a, b, la);
        }
        if (!m)
            return 0;
        a += la;
        b += lb;
        while (*a == '/')
            a++;
        while (*b == '/')
            b++;
    }
    return 1;
}

int rr_system_path(const char *dest)
{
    static const char *const sys[] = {
        "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc",
        "/opt", "/root", "/home", "/go", "/usr/bin", "/usr/sbin", "/usr/lib",
        "/usr/lib32", "/usr/lib64", "/usr/libexec", "/usr/include",
        "/usr/share", "/usr/local/bin", "/usr/local/sbin", "/usr/local/lib",
        "/usr/local/include", "/usr/local/share", "/usr/local/go",
        "/usr/local/etc", NULL,
    };

    for (size_t i = 0; sys[i]; i++)
        if (rr_paths_overlap(dest, sys[i]))
            return 1;
    return 0;
}
