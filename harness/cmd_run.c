/*
 * cmd_run.c - `harness run`: a scenario file end to end.  Each repository
 * it names is replayed into its own database (several at once with
 * --jobs, one process each), then one report is made from all of them.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "cmd.h"
#include "pricing.h"
#include "record.h"
#include "report.h"

struct run_args {
    long jobs;
    struct opt_list only;
    int no_report;
    int quiet;
    const char *format, *out, *pricing, *compare, *threshold, *bpm;
};

/* The repositories to replay: every one, or those --only names. */
static int select_repos(const struct scenario *sc, const struct run_args *a,
                        const struct scenario ***out, size_t *n,
                        struct err *err)
{
    const struct scenario *all = sc->has_repos ? sc->repos : sc;
    size_t nall = sc->has_repos ? sc->nrepos : 1, i, j;
    const struct scenario **sel = xcalloc(nall + 1, sizeof(*sel));

    *n = 0;
    if (!sc->has_repos && !sc->repo) {
        free(sel);
        err_set_at(err, ERR_PARSE, sc->path, 1,
                   "the scenario names no repository");
        err_hint(err, "give \"repo\" (with \"synth\" to generate it) or a "
                      "list of \"repositories\"");
        return ERR_PARSE;
    }
    for (i = 0; i < nall; i++) {
        int want = !a->only.n;
        for (j = 0; j < a->only.n && !want; j++)
            want = all[i].name && !strcmp(all[i].name, a->only.items[j]);
        if (want)
            sel[(*n)++] = &all[i];
    }
    for (j = 0; j < a->only.n; j++) {
        for (i = 0; i < nall; i++)
            if (all[i].name && !strcmp(all[i].name, a->only.items[j]))
                break;
        if (i == nall) {
            struct buf names = BUF_INIT;
            for (i = 0; i < nall; i++)
                buf_printf(&names, "%s%s", i ? ", " : "",
                           all[i].name ? all[i].name : "(unnamed)");
            err_set(err, ERR_USAGE, "run: %s has no repository '%s'", sc->path,
                    a->only.items[j]);
            err_hint(err, "repositories: %s", buf_cstr(&names));
            buf_release(&names);
            free(sel);
            return ERR_USAGE;
        }
    }
    /* two that generate the same folder at once would race */
    for (i = 0; i < *n; i++)
        for (j = 0; j < i; j++)
            if ((sel[i]->has_synth || sel[j]->has_synth) &&
                !strcmp(sel[i]->repo, sel[j]->repo)) {
                err_set_at(err, ERR_PARSE, sc->path,
                           scenario_line(sel[i], "repo"),
                           "repositories '%s' and '%s' share the folder "
                           "'%s' that one of them generates",
                           sel[j]->name, sel[i]->name, sel[i]->repo);
                free(sel);
                return ERR_PARSE;
            }
    *out = sel;
    return 0;
}

static volatile sig_atomic_t run_stop;

static void on_stop(int sig)
{
    (void)sig;
    run_stop = 1;
}

/* The worst of two exit codes: runtime failures over bad input over ok. */
static int worse(int a, int b)
{
    return a == EXIT_RUNTIME || b == EXIT_RUNTIME ? EXIT_RUNTIME
           : a > b                                ? a
                                                  : b;
}

/*
 * Replay sel[0..n) with at most jobs processes at once.  Each child
 * replays one repository into its own database and exits with the
 * replay's exit code; nothing is shared but the terminal.
 */
static int replay_parallel(const struct scenario *const *sel, size_t n,
                           long jobs, int quiet)
{
    pid_t *pids = xcalloc(n + 1, sizeof(*pids));
    size_t next = 0, running = 0, i;
    struct sigaction sa, old_int, old_term;
    int rc = EXIT_OK;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    while (next < n || running) {
        int status;
        pid_t pid;

        while (!run_stop && next < n && running < (size_t)jobs) {
            fflush(NULL);
            pid = fork();
            if (pid < 0) {
                fprintf(stderr, "harness: run: cannot start a process: %s\n",
                        strerror(errno));
                rc = EXIT_RUNTIME;
                run_stop = 1;
                break;
            }
            if (pid == 0) {
                int code;
                sigaction(SIGINT, &old_int, NULL);
                sigaction(SIGTERM, &old_term, NULL);
                code = cmd_replay_scenario(sel[next], quiet ? 2 : 1, NULL);
                fflush(NULL);
                _exit(code);
            }
            pids[next++] = pid;
            running++;
        }
        if (!running)
            break;
        pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno != EINTR)
                break;
            /* pass a stop on to the children: they end after a commit */
            for (i = 0; i < next; i++)
                if (pids[i] > 0)
                    kill(pids[i], SIGTERM);
            continue;
        }
        for (i = 0; i < next; i++)
            if (pids[i] == pid) {
                int code =
                    WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_RUNTIME;
                if (!WIFEXITED(status))
                    fprintf(stderr,
                            "harness: run: %s: replay killed by "
                            "signal %d\n",
                            sel[i]->name, WTERMSIG(status));
                rc = worse(rc, code);
                pids[i] = 0;
                running--;
            }
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (run_stop && next < n) {
        fprintf(stderr,
                "harness: run: stopped before %zu of %zu "
                "repositories; run the same command again to "
                "resume\n",
                n - next, n);
        rc = worse(rc, EXIT_RUNTIME);
    }
    free(pids);
    return rc;
}

/* Create the folders above path (the report makes the last one). */
static void make_parents(const char *path)
{
    char *p = xstrdup(path), *s;

    for (s = p + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        if (mkdir(p, 0777) < 0 && errno != EEXIST)
            break;
        *s = '/';
    }
    free(p);
}

/* A profile name stays a name; a file is found beside the scenario. */
static char *pricing_arg(const struct scenario *sc, const char *p)
{
    size_t n = strlen(p);

    if (strchr(p, '/') || (n > 5 && !strcmp(p + n - 5, ".json")))
        return scenario_path(sc, p);
    return xstrdup(p);
}

/* The scenario's pricing profile must exist: its line, exit 4. */
static int check_pricing(const struct scenario *sc, struct err *err)
{
    struct pricing p;
    char *arg;
    int rc;

    if (!sc->pricing)
        return 0;
    arg = pricing_arg(sc, sc->pricing);
    rc = pricing_load(&p, arg, err);
    free(arg);
    if (rc == 0) {
        pricing_release(&p);
        return 0;
    }
    if (rc == ERR_PARSE) /* its own file and line */
        return rc;
    {
        char msg[sizeof(err->msg)], hint[sizeof(err->hint)];
        memcpy(msg, err->msg, sizeof(msg));
        memcpy(hint, err->hint, sizeof(hint));
        err_set_at(err, ERR_PARSE, sc->path, scenario_line(sc, "pricing"),
                   "%s", msg);
        if (hint[0])
            err_hint(err, "%s", hint);
    }
    return ERR_PARSE;
}

static int parse_positive(const char *s, const char *opt, double *out,
                          struct err *err)
{
    char *end;

    *out = strtod(s, &end);
    if (end == s || *end || *out < 0)
        return err_set(err, ERR_USAGE, "run: %s needs a number >= 0, not '%s'",
                       opt, s);
    return 0;
}

/*
 * The report over the databases of sel: in the format and folder the
 * command line or the scenario asks for (default: an HTML page under
 * reports/NAME).  A report written to a folder is followed by the
 * Markdown summary on stdout.  Returns an exit code: 1 when --compare found a regression.
 */
static int run_report(const struct run_args *a, const struct scenario *sc,
                      const struct scenario *const *sel, size_t nsel,
                      int64_t run_id)
{
    struct report_opts o;
    struct err err = ERR_INIT;
    const char **dbs = xcalloc(nsel + 1, sizeof(*dbs));
    char *out = NULL, *pricing = NULL;
    const char *format = a->format ? a->format : sc->report_format;
    size_t i;
    int regressed = 0, rc;

    memset(&o, 0, sizeof(o));
    o.format = REPORT_HTML;
    o.threshold_pct = 5;
    o.out = stdout;
    o.run_id = nsel == 1 ? run_id : 0;
    if (format && report_format_parse(format, &o.format) < 0)
        rc = err_set(&err, ERR_USAGE,
                     "run: unknown format '%s' (html, md, csv, json)", format);
    else if (a->threshold)
        rc = parse_positive(a->threshold, "--threshold", &o.threshold_pct,
                            &err);
    else
        rc = 0;
    if (!rc && a->bpm &&
        !(rc = parse_positive(a->bpm, "--builds-per-month",
                              &o.builds_per_month, &err)) &&
        o.builds_per_month <= 0)
        rc = err_set(&err, ERR_USAGE,
                     "run: --builds-per-month must be > 0");
    if (rc < 0) {
        err_print(&err);
        free(dbs);
        return EXIT_USAGE;
    }
    if (!a->bpm && sc->builds_per_month > 0)
        o.builds_per_month = (double)sc->builds_per_month;
    for (i = 0; i < nsel; i++)
        dbs[i] = sel[i]->db ? scenario_path(sel[i], sel[i]->db)
                            : xstrdup("harness.db");
    o.dbs = dbs;
    o.ndbs = nsel;
    if (a->out)
        out = strcmp(a->out, "-") ? xstrdup(a->out) : NULL;
    else if (sc->report_out)
        out = scenario_path(sc, sc->report_out);
    else if (o.format == REPORT_HTML) {
        struct buf b = BUF_INIT;
        buf_printf(&b, "reports/%s", sc->name ? sc->name : "run");
        out = buf_detach(&b);
    }
    o.out_dir = out;
    if (out)
        make_parents(out);
    if (a->pricing)
        pricing = xstrdup(a->pricing);
    else if (sc->pricing)
        pricing = pricing_arg(sc, sc->pricing);
    o.pricing = pricing;
    o.compare = a->compare;
    rc = report_run(&o, &regressed, &err);
    if (!rc && o.out_dir && !a->quiet) {
        /* the summary for the terminal or the CI log */
        int again = 0;
        printf("\n");
        o.format = REPORT_MD;
        o.out_dir = NULL;
        rc = report_run(&o, &again, &err);
    }
    if (rc < 0) {
        err_print(&err);
        rc = err_exit_code(rc);
    } else
        rc = regressed ? EXIT_FINDINGS : EXIT_OK;
    for (i = 0; i < nsel; i++)
        free((char *)dbs[i]);
    free(dbs);
    free(out);
    free(pricing);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    struct run_args a;
    struct scenario sc;
    struct err err = ERR_INIT;
    const struct scenario **sel = NULL;
    char **args = NULL;
    size_t nsel = 0, i;
    int64_t run_id = 0;
    int nargs = 0, rc, have_sc = 0;

    memset(&a, 0, sizeof(a));
    memset(&sc, 0, sizeof(sc));
    a.jobs = 1;
    {
        const struct opt opts[] = {
            { "jobs", 'j', OPT_INT, &a.jobs, "N",
              "replay up to N repositories at once, one process each "
              "(default: 1)" },
            { "only", 0, OPT_LIST, &a.only, "NAME",
              "replay only this repository of the scenario (repeatable; "
              "a CI matrix job)" },
            { "no-report", 0, OPT_BOOL, &a.no_report, NULL,
              "replay only; make the report later with harness report" },
            { "format", 'f', OPT_STRING, &a.format, "FORMAT",
              "report as html, md, csv or json (default: the scenario's, "
              "else html)" },
            { "out", 'o', OPT_STRING, &a.out, "DIR",
              "report folder, or - to print md, csv or json (default: the "
              "scenario's, else reports/NAME for html, else print)" },
            { "pricing", 'p', OPT_STRING, &a.pricing, "NAME|FILE",
              "pricing profile (default: the scenario's, else "
              "github-actions)" },
            { "builds-per-month", 0, OPT_STRING, &a.bpm, "N",
              "builds per month for the monthly figures (default: the "
              "scenario's, else the history's rate)" },
            { "compare", 0, OPT_STRING, &a.compare, "FILE[:RUN]",
              "compare with an older database (exit 1 on a regression)" },
            { "threshold", 0, OPT_STRING, &a.threshold, "PCT",
              "with --compare: the regression threshold in percent "
              "(default 5)" },
            { "quiet", 'q', OPT_BOOL, &a.quiet, NULL, "no progress lines, no summary after a report written to a folder" },
            OPT_END_ENTRY,
        };
        const struct opt_cmd cmd = {
            "run",
            "SCENARIO [--jobs N] [--only NAME]... [--no-report] "
            "[--format html|md|csv|json] [--out DIR] [--pricing NAME|FILE] "
            "[--compare FILE[:RUN]]",
            "Run a scenario file end to end: generate each repository it "
            "names that is\nmissing, replay each into its own database "
            "(rerunning resumes and writes only\nnew commits' builds), then "
            "report on all of them together.  The scenario's\nkeys are in "
            "the FILES section of the manual.",
            opts,
            1,
            1,
        };
        rc = opt_run(&cmd, argc, argv, &args, &nargs);
        if (rc >= 0)
            return rc;
        if (a.jobs < 1 || a.jobs > 256) {
            err_set(&err, ERR_USAGE, "run: --jobs must be between 1 and 256");
            err_print(&err);
            opt_print_usage(&cmd);
            rc = EXIT_USAGE;
            goto out;
        }
    }
    if (scenario_load(&sc, args[0], &err) < 0) {
        err_print(&err);
        rc = err_exit_code(err.code);
        goto out;
    }
    have_sc = 1;
    if (cli_scenario_check(&sc, &err) < 0 || check_pricing(&sc, &err) < 0 ||
        select_repos(&sc, &a, &sel, &nsel, &err) < 0) {
        err_print(&err);
        rc = err_exit_code(err.code);
        goto out;
    }
    rc = EXIT_OK;
    if (a.jobs == 1 || nsel == 1) {
        for (i = 0; i < nsel && rc != EXIT_RUNTIME; i++)
            rc = worse(rc, cmd_replay_scenario(sel[i], a.quiet ? 2 : 0, &run_id));
    } else
        rc = replay_parallel(sel, nsel, a.jobs, a.quiet);
    if (rc == EXIT_OK && !a.no_report)
        rc = run_report(&a, &sc, sel, nsel, run_id);
out:
    free(sel);
    free(args);
    opt_list_release(&a.only);
    if (have_sc)
        scenario_release(&sc);
    return rc;
}
