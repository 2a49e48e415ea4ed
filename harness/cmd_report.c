/*
 * cmd_report.c - `harness report`: what each strategy costs, from results
 * databases and a pricing profile (report.h).  Exit 1 when --compare finds
 * a regression beyond --threshold.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "err.h"
#include "opt.h"
#include "report.h"

/* A decimal number >= 0 ("5", "2.5"); ERR_USAGE naming the option. */
static int parse_number(const char *s, const char *opt, double *out,
                        struct err *err)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < 0)
        return err_set(err, ERR_USAGE,
                       "report: %s needs a number >= 0, not '%s'", opt, s);
    *out = v;
    return 0;
}

int cmd_report(int argc, char **argv)
{
    struct opt_list dbs = { NULL, 0, 0 };
    const char *pricing = NULL, *format = NULL, *out_dir = NULL;
    const char *compare = NULL, *threshold = NULL, *bpm = NULL;
    long run_id = 0;
    struct report_opts o;
    struct err err = ERR_INIT;
    char **args = NULL;
    int nargs = 0, rc, regressed = 0;

    const struct opt opts[] = {
        { "db", 0, OPT_LIST, &dbs, "FILE",
          "results database (repeat for a fleet: one per repository)" },
        { "run", 0, OPT_INT, &run_id, "ID",
          "run to report (default: the database's last run)" },
        { "pricing", 'p', OPT_STRING, &pricing, "NAME|FILE",
          "pricing profile: github-actions (default), cloud-build, "
          "codebuild, gitlab, azure-pipelines, remote-builder, or a JSON "
          "file" },
        { "format", 'f', OPT_STRING, &format, "FORMAT",
          "html, md, csv or json (default: html with --out, else md)" },
        { "out", 'o', OPT_STRING, &out_dir, "DIR",
          "write DIR/index.html (or DIR/report.FORMAT) instead of printing" },
        { "compare", 0, OPT_STRING, &compare, "FILE[:RUN]",
          "compare with an older database (its last run, or RUN)" },
        { "threshold", 0, OPT_STRING, &threshold, "PCT",
          "with --compare: exit 1 when a strategy's cost per build rose or "
          "its hit rate fell by more than PCT percent (default 5)" },
        { "builds-per-month", 0, OPT_STRING, &bpm, "N",
          "builds per month for the monthly figures (default: the "
          "history's own rate)" },
        OPT_END_ENTRY,
    };
    const struct opt_cmd cmd = {
        "report",
        "--db FILE [--db FILE]... [--run ID] [--pricing NAME|FILE] "
        "[--format html|md|csv|json] [--out DIR] [--compare FILE[:RUN]] "
        "[--threshold PCT] [--builds-per-month N]",
        "Price each caching strategy of a replay: money per build, in total "
        "and per month, with charts.",
        opts,
        0,
        0,
    };

    if ((rc = opt_run(&cmd, argc, argv, &args, &nargs)) >= 0)
        return rc;
    free(args);
    memset(&o, 0, sizeof(o));
    o.dbs = dbs.items;
    o.ndbs = dbs.n;
    o.run_id = run_id;
    o.pricing = pricing;
    o.out_dir = out_dir;
    o.compare = compare;
    o.threshold_pct = 5;
    o.format = out_dir ? REPORT_HTML : REPORT_MD;
    o.out = stdout;
    if (!dbs.n)
        err_set(&err, ERR_USAGE, "report: --db FILE is required");
    else if (format && report_format_parse(format, &o.format))
        err_set(&err, ERR_USAGE,
                "report: unknown format '%s' (html, md, csv, json)", format);
    else if (run_id < 0)
        err_set(&err, ERR_USAGE, "report: --run needs a run id >= 1");
    else if (threshold)
        parse_number(threshold, "--threshold", &o.threshold_pct, &err);
    if (!err.code && bpm &&
        !parse_number(bpm, "--builds-per-month", &o.builds_per_month, &err) &&
        o.builds_per_month <= 0)
        err_set(&err, ERR_USAGE, "report: --builds-per-month must be > 0");
    if (!err.code && o.format == REPORT_HTML && !out_dir)
        err_set(&err, ERR_USAGE, "report: --format html needs --out DIR");
    if (err.code) {
        err_print(&err);
        opt_print_usage(&cmd);
        opt_list_release(&dbs);
        return EXIT_USAGE;
    }
    rc = report_run(&o, &regressed, &err);
    opt_list_release(&dbs);
    if (rc) {
        err_print(&err);
        if (rc == ERR_USAGE)
            opt_print_usage(&cmd);
        return err_exit_code(rc);
    }
    return regressed ? EXIT_FINDINGS : EXIT_OK;
}
