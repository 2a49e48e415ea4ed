/*
 * plot.h - charts drawn by gnuplot, run as an external program; the only
 * module that speaks gnuplot.
 *
 * Safety: gnuplot's language can run shell commands (system(), backquotes,
 * `!`), so nothing that comes from a database or a repository is ever
 * written into the script.  Figures and series names go to data files,
 * which gnuplot reads as data (names become legend and tick text through
 * columnheader() and xtic(), never code); the script is made of this
 * module's constant text, the chart's title and labels (constants of the
 * caller, checked here: a quote or backslash in them is refused), and
 * integers.  gnuplot runs in a private folder with fixed file names, so no
 * path appears in the script either; the SVGs are then moved into place.
 *
 * Ownership: everything in struct plot_chart is borrowed for the call.
 */
#ifndef HARNESS_PLOT_H
#define HARNESS_PLOT_H

#include <stddef.h>

#include "err.h"

enum plot_kind {
    PLOT_LINES,   /* one line per series over x */
    PLOT_STACKED, /* one stacked bar per row: x_labels, series stacked */
};

struct plot_chart {
    const char *file; /* output name in the folder: [a-z0-9-]+.svg */
    const char *title, *xlabel, *ylabel;
    enum plot_kind kind;
    size_t npoints;              /* x values (lines) or bars (stacked) */
    const double *x;             /* PLOT_LINES: npoints values */
    const char *const *x_labels; /* PLOT_STACKED: npoints bar names */
    size_t nseries;
    const char *const *names; /* nseries legend entries */
    const double *y;          /* [series * npoints + point] */
    int percent_y;            /* y axis from 0 to 100 */
    int money_y;              /* y tics as dollars: $1.50 */
};

/*
 * Draw the charts into dir/<file> with one gnuplot run (timeout 60 s).
 * Returns 0 with every chart written, or an error: ERR_NOTFOUND when
 * gnuplot is not installed, ERR_ENGINE when it failed (its message in
 * err), ERR_INVALID for a title or file name this module refuses, ERR_IO.
 */
int plot_render(const char *dir, const struct plot_chart *charts, size_t n,
                struct err *err);

#endif
