/*
 * plot.c - gnuplot charts (see plot.h for why nothing from the data
 * reaches the script).
 */
#include "plot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "proc.h"

/* Twelve distinguishable colours (strategies come in up to a dozen). */
static const char *const colours[] = {
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
    "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#000000", "#aec7e8",
};
#define NCOLOURS (sizeof(colours) / sizeof(colours[0]))

/* A title or label of ours: printable, no quote or backslash, so that it
 * is inert inside a double-quoted gnuplot string. */
static int safe_text(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == '"' || *s == '\\' || *s == '`' ||
            *s == '@' || *s == '$')
            return 0;
    return 1;
}

static int safe_file(const char *s)
{
    size_t n = strlen(s);

    if (n < 5 || strcmp(s + n - 4, ".svg"))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '.'))
            return 0;
    return 1;
}

/* A name as one data-file token: letters, digits, . _ - and + only (a
 * hostile strategy name loses the rest; it is a legend entry). */
static void add_token(struct buf *b, const char *s)
{
    size_t start = b->len;

    for (; *s && b->len - start < 96; s++) {
        char c = *s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+')
            buf_addch(b, c);
        else
            buf_addch(b, '_');
    }
    if (b->len == start)
        buf_addch(b, '_');
}

static void add_num(struct buf *b, double v)
{
    buf_printf(b, " %.6g", isfinite(v) ? v : 0.0);
}

static int write_text(const char *path, const struct buf *b, struct err *err)
{
    FILE *fp = fopen(path, "w");
    int ok;

    if (!fp)
        return err_set(err, ERR_IO, "cannot write '%s': %s", path,
                       strerror(errno));
    ok = fwrite(b->ptr ? b->ptr : "", 1, b->len, fp) == b->len;
    if (fclose(fp) || !ok)
        return err_set(err, ERR_IO, "cannot write '%s': %s", path,
                       strerror(errno));
    return 0;
}

/* The data file of chart i: a header of names, then one row per point. */
static void chart_data(struct buf *d, const struct plot_chart *c)
{
    size_t p, s;

    buf_adds(d, c->kind == PLOT_STACKED ? "name" : "x");
    for (s = 0; s < c->nseries; s++) {
        buf_addch(d, ' ');
        add_token(d, c->names[s]);
    }
    buf_addch(d, '\n');
    for (p = 0; p < c->npoints; p++) {
        if (c->kind == PLOT_STACKED)
            add_token(d, c->x_labels[p]);
        else
            buf_printf(d, "%.6g", isfinite(c->x[p]) ? c->x[p] : 0.0);
        for (s = 0; s < c->nseries; s++)
            add_num(d, c->y[s * c->npoints + p]);
        buf_addch(d, '\n');
    }
}

/* The script for chart i: constants, the chart's checked texts and
 * integers only. */
static void chart_script(struct buf *g, const struct plot_chart *c, size_t i)
{
    size_t s;

    buf_printf(g,
               "reset\nset terminal svg size 960,480 fixed noenhanced "
               "font 'sans,12' background '#ffffff'\n"
               "set output 'c%zu.svg'\n"
               "set title \"%s\"\nset xlabel \"%s\"\nset ylabel \"%s\"\n"
               "set key outside below center horizontal noenhanced maxcols 4\n"
               "set grid ytics lc rgb '#dddddd'\nset border 3\n"
               "set tics nomirror\nset datafile missing '?'\n",
               i, c->title, c->xlabel, c->ylabel);
    for (s = 0; s < NCOLOURS; s++)
        buf_printf(g, "set linetype %zu lc rgb '%s' lw 2 dt %zu\n", s + 1,
                   colours[s], s < 6 ? (size_t)1 : s - 4);
    if (c->money_y)
        buf_adds(g, "set format y '$%.2f'\n");
    if (c->percent_y)
        buf_adds(g, "set yrange [0:100]\n");
    else
        buf_adds(g, "set yrange [0:*]\n");
    if (c->kind == PLOT_STACKED) {
        buf_adds(g, "set style data histograms\n"
                    "set style histogram rowstacked\n"
                    "set style fill solid 0.85 border -1\n"
                    "set boxwidth 0.7\nset xtics rotate by -35 left\n");
        buf_printf(g, "plot 'c%zu.dat' using 2:xtic(1) title columnheader(2)",
                   i);
        for (s = 1; s < c->nseries; s++)
            buf_printf(g, ", '' using %zu title columnheader(%zu)", s + 2,
                       s + 2);
        buf_addch(g, '\n');
    } else {
        buf_printf(g,
                   "plot for [k=2:%zu] 'c%zu.dat' using 1:k with lines "
                   "title columnheader(k)\n",
                   c->nseries + 1, i);
    }
    buf_adds(g, "unset output\n");
}

int plot_render(const char *dir, const struct plot_chart *charts, size_t n,
                struct err *err)
{
    struct buf tmpl = BUF_INIT, path = BUF_INIT, d = BUF_INIT, g = BUF_INIT;
    struct buf log = BUF_INIT, to = BUF_INIT;
    struct proc_result pr;
    struct proc_options po;
    const char *argv[] = { "gnuplot", "charts.gp", NULL };
    char *work = NULL;
    size_t i;
    int rc = 0;

    for (i = 0; i < n; i++)
        if (!safe_text(charts[i].title) || !safe_text(charts[i].xlabel) ||
            !safe_text(charts[i].ylabel) || !safe_file(charts[i].file) ||
            !charts[i].nseries || !charts[i].npoints)
            return err_set(err, ERR_INVALID, "plot: chart %zu refused ('%s')",
                           i, charts[i].file);
    buf_printf(&tmpl, "%s/.plot-XXXXXX", dir);
    work = mkdtemp(tmpl.ptr);
    if (!work) {
        rc = err_set(err, ERR_IO, "cannot create a folder in '%s': %s", dir,
                     strerror(errno));
        goto out;
    }
    for (i = 0; i < n && !rc; i++) {
        buf_reset(&d);
        chart_data(&d, &charts[i]);
        buf_reset(&path);
        buf_printf(&path, "%s/c%zu.dat", work, i);
        rc = write_text(path.ptr, &d, err);
        chart_script(&g, &charts[i], i);
    }
    buf_reset(&path);
    buf_printf(&path, "%s/charts.gp", work);
    if (rc || (rc = write_text(path.ptr, &g, err)))
        goto out;
    memset(&po, 0, sizeof(po));
    po.cwd = work;
    po.timeout = 60;
    if ((rc = proc_capture(argv, &po, &log, &pr, err))) {
        if (rc == ERR_NOTFOUND)
            err_hint(err, "install gnuplot (Debian: gnuplot-nox) for charts");
        goto out;
    }
    if (!proc_ok(&pr)) {
        const char *msg = buf_cstr(&log);
        size_t len = strcspn(msg, "\n");
        rc = err_set(err, ERR_ENGINE, "gnuplot failed%s: %.*s",
                     pr.timed_out ? " (timed out)" : "",
                     (int)(len > 300 ? 300 : len), msg);
        goto out;
    }
    for (i = 0; i < n && !rc; i++) {
        buf_reset(&path);
        buf_printf(&path, "%s/c%zu.svg", work, i);
        buf_reset(&to);
        buf_printf(&to, "%s/%s", dir, charts[i].file);
        if (rename(path.ptr, to.ptr) < 0)
            rc = err_set(err, ERR_IO, "cannot write '%s': %s", to.ptr,
                         strerror(errno));
    }
out:
    if (work) {
        for (i = 0; i < n; i++) {
            buf_reset(&path);
            buf_printf(&path, "%s/c%zu.dat", work, i);
            unlink(path.ptr);
            buf_reset(&path);
            buf_printf(&path, "%s/c%zu.svg", work, i);
            unlink(path.ptr);
        }
        buf_reset(&path);
        buf_printf(&path, "%s/charts.gp", work);
        unlink(path.ptr);
        rmdir(work);
    }
    buf_release(&tmpl);
    buf_release(&path);
    buf_release(&d);
    buf_release(&g);
    buf_release(&log);
    buf_release(&to);
    return rc;
}
