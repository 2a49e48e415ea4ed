/*
 * record_real.c - ci/real-build's real.jsonl (see record_real.h).  A JSON
 * reader module: one of the includers of <jansson.h>.
 */
#include "record_real.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static int is_hex40(const char *s)
{
    size_t i;
    for (i = 0; i < 40; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return 0;
    return s[40] == '\0';
}

/* A number >= 0, or -1 when the key is absent or null. */
static int number(json_t *o, const char *key, double *out)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        *out = -1;
        return 0;
    }
    if (!json_is_number(v) || !isfinite(json_number_value(v)) ||
        json_number_value(v) < 0 || json_number_value(v) > 1e15)
        return -1;
    *out = json_number_value(v);
    return 0;
}

static int steps(struct record_real *r, json_t *a, const char **what)
{
    size_t i;
    json_t *e;

    if (!a || json_is_null(a))
        return 0;
    if (!json_is_array(a)) {
        *what = "\"steps\" must be an array";
        return -1;
    }
    r->steps = xcalloc(json_array_size(a) + 1, sizeof(*r->steps));
    json_array_foreach(a, i, e)
    {
        struct record_real_step *s = &r->steps[r->nsteps];
        json_t *line = json_object_get(e, "line");
        const char *ins = json_string_value(json_object_get(e, "instruction"));
        const char *out = json_string_value(json_object_get(e, "outcome"));
        if (!json_is_object(e) || !out) {
            *what = "a step needs \"outcome\"";
            return -1;
        }
        if (line && !json_is_null(line) &&
            (!json_is_integer(line) || json_integer_value(line) < 0 ||
             json_integer_value(line) > 1000000)) {
            *what = "a step's \"line\" must be a line number";
            return -1;
        }
        s->line = line ? (int)json_integer_value(line) : 0;
        snprintf(s->instruction, sizeof(s->instruction), "%s", ins ? ins : "");
        if (!strcmp(out, "hit"))
            s->outcome = 1;
        else if (!strcmp(out, "miss"))
            s->outcome = 2;
        else if (!strcmp(out, "none"))
            s->outcome = 0;
        else {
            *what = "a step's \"outcome\" must be hit, miss or none";
            return -1;
        }
        r->nsteps++;
    }
    return 0;
}

static int one(struct record_real *r, json_t *o, const char **what)
{
    const char *s = json_string_value(json_object_get(o, "strategy"));
    const char *c = json_string_value(json_object_get(o, "commit"));
    const char *st = json_string_value(json_object_get(o, "status"));
    double b, p, u, bp, bu;

    if (!s || !s[0] || strlen(s) >= sizeof(r->strategy)) {
        *what = "no \"strategy\"";
        return -1;
    }
    if (!c || strlen(c) != 40 || !is_hex40(c)) {
        *what = "\"commit\" must be a full commit id (40 lowercase hex)";
        return -1;
    }
    if (!st || (strcmp(st, "ok") && strcmp(st, "failed"))) {
        *what = "\"status\" must be \"ok\" or \"failed\"";
        return -1;
    }
    if (number(o, "seconds_build", &b) < 0 || b < 0 ||
        number(o, "seconds_pull", &p) < 0 ||
        number(o, "seconds_push", &u) < 0 ||
        number(o, "bytes_pulled", &bp) < 0 ||
        number(o, "bytes_pushed", &bu) < 0) {
        *what = "\"seconds_build\" (and seconds_pull, seconds_push, "
                "bytes_pulled, bytes_pushed when present) must be numbers "
                ">= 0";
        return -1;
    }
    snprintf(r->strategy, sizeof(r->strategy), "%s", s);
    memcpy(r->commit, c, 41);
    r->ok = !strcmp(st, "ok");
    r->seconds = b;
    r->pull_seconds = p;
    r->push_seconds = u;
    r->bytes_pulled = bp < 0 ? -1 : (int64_t)bp;
    r->bytes_pushed = bu < 0 ? -1 : (int64_t)bu;
    return steps(r, json_object_get(o, "steps"), what);
}

int record_real_parse(struct record_real **out, size_t *n, const char *path,
                      const char *text, size_t len, struct err *err)
{
    struct record_real *v = NULL;
    size_t cap = 0, cnt = 0, i = 0;
    int line = 0, rc = 0;

    *out = NULL;
    *n = 0;
    while (i < len && rc == 0) {
        size_t e = i, k;
        json_error_t je;
        json_t *o;
        const char *what = NULL;
        line++;
        while (e < len && text[e] != '\n')
            e++;
        for (k = i; k < e && isspace((unsigned char)text[k]); k++)
            ;
        if (k == e) {
            i = e + 1;
            continue;
        }
        o = json_loadb(text + i, e - i, JSON_REJECT_DUPLICATES, &je);
        if (!o || !json_is_object(o)) {
            rc = err_set_at(err, ERR_PARSE, path, line,
                            "not a JSON object of ci/real-build's "
                            "real.jsonl%s%s",
                            o ? "" : ": ", o ? "" : je.text);
            json_decref(o);
            break;
        }
        XGROW(v, cap, cnt + 1);
        memset(&v[cnt], 0, sizeof(v[cnt]));
        v[cnt].src_line = line;
        if (one(&v[cnt], o, &what) < 0)
            rc = err_set_at(err, ERR_PARSE, path, line, "%s", what);
        cnt++;
        json_decref(o);
        i = e + 1;
    }
    if (rc == 0 && cnt == 0)
        rc = err_set_at(err, ERR_PARSE, path, 1,
                        "no build records (ci/real-build writes one JSON "
                        "object per build)");
    if (rc < 0) {
        record_real_free(v, cnt);
        return rc;
    }
    *out = v;
    *n = cnt;
    return 0;
}

void record_real_free(struct record_real *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(r[i].steps);
    free(r);
}
