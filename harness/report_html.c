/*
 * report_html.c - the HTML page of a report (written next: charts, misses,
 * assumptions).  Until then --format html says so.
 */
#include "report.h"

int report_write_html(struct report *r, const char *dir, struct err *err)
{
    (void)r;
    (void)dir;
    err_set(err, ERR_USAGE, "report: the HTML page is not available yet");
    err_hint(err, "use --format md, csv or json");
    return ERR_USAGE;
}
