/*
 * staleness.c - network fetches whose cached result is reused, and for how
 * long (see staleness.h).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "staleness.h"

/* Word sequences that fetch from the network, matched on word boundaries
 * in the lower-cased command; the first match names the kind. */
static const struct {
    const char *words, *kind;
} fetchers[] = {
    { "apt-get install", "apt-get" },
    { "apt-get update", "apt-get" },
    { "apt-get upgrade", "apt-get" },
    { "apt-get dist-upgrade", "apt-get" },
    { "apt install", "apt" },
    { "apt update", "apt" },
    { "apk add", "apk" },
    { "apk update", "apk" },
    { "apk upgrade", "apk" },
    { "yum install", "yum" },
    { "dnf install", "dnf" },
    { "microdnf install", "dnf" },
    { "zypper install", "zypper" },
    { "pip install", "pip" },
    { "pip3 install", "pip" },
    { "pipenv install", "pip" },
    { "poetry install", "poetry" },
    { "uv pip install", "uv" },
    { "uv sync", "uv" },
    { "conda install", "conda" },
    { "npm install", "npm" },
    { "npm ci", "npm" },
    { "npm i", "npm" },
    { "yarn install", "yarn" },
    { "pnpm install", "pnpm" },
    { "go get", "go" },
    { "go mod download", "go" },
    { "go install", "go" },
    { "cargo install", "cargo" },
    { "cargo fetch", "cargo" },
    { "cargo build", "cargo" },
    { "gem install", "gem" },
    { "bundle install", "bundler" },
    { "composer install", "composer" },
    { "composer require", "composer" },
    { "dotnet restore", "dotnet" },
    { "mvn", "maven" },
    { "gradle", "gradle" },
    { "./gradlew", "gradle" },
    { "git clone", "git clone" },
    { "git fetch", "git clone" },
    { "git pull", "git clone" },
    { "curl", "curl" },
    { "wget", "wget" },
};

static int boundary(int c)
{
    return c == 0 || isspace(c) || c == ';' || c == '&' || c == '|' ||
           c == '(' || c == ')' || c == '`' || c == '"' || c == '\'' ||
           c == '\\';
}

/* Whether words occur in text (lower case) at word boundaries, with any
 * run of blanks between them. */
static int has_words(const char *text, const char *words)
{
    for (const char *p = text; *p; p++) {
        const char *t = p, *w = words;
        if (p != text && !boundary((unsigned char)p[-1]))
            continue;
        while (*w) {
            if (*w == ' ') {
                if (!isspace((unsigned char)*t))
                    break;
                while (isspace((unsigned char)*t))
                    t++;
                w++;
            } else if (*w == *t) {
                w++;
                t++;
            } else {
                break;
            }
        }
        if (!*w && boundary((unsigned char)*t))
            return 1;
    }
    return 0;
}

const char *staleness_fetch_kind(const char *run_text)
{
    char *low = xstrdup(run_text);
    const char *kind = NULL;

    for (char *p = low; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    for (size_t i = 0; i < sizeof(fetchers) / sizeof(fetchers[0]); i++)
        if (has_words(low, fetchers[i].words)) {
            kind = fetchers[i].kind;
            break;
        }
    free(low);
    return kind;
}

void staleness_init(struct staleness *s)
{
    memset(s, 0, sizeof(*s));
}

void staleness_release(struct staleness *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->entries[i].strategy);
        free(s->entries[i].text);
    }
    free(s->entries);
    memset(s, 0, sizeof(*s));
}

static struct staleness_entry *entry(struct staleness *s, const char *strategy,
                                     int64_t stage, const char *text,
                                     const char *kind)
{
    struct staleness_entry *e;

    if (s->strategy_start < s->n &&
        strcmp(s->entries[s->strategy_start].strategy, strategy))
        s->strategy_start = s->n;
    for (size_t i = s->strategy_start; i < s->n; i++)
        if (s->entries[i].stage == stage && !strcmp(s->entries[i].text, text))
            return &s->entries[i];
    xgrow((void **)&s->entries, &s->cap, s->n + 1, sizeof(*s->entries));
    e = &s->entries[s->n++];
    memset(e, 0, sizeof(*e));
    e->strategy = xstrdup(strategy);
    e->stage = stage;
    e->text = xstrdup(text);
    e->kind = kind;
    return e;
}

void staleness_add(struct staleness *s, const char *strategy, int64_t seq,
                   int64_t author_time, int64_t stage, int64_t line,
                   const char *text, int hit)
{
    const char *kind = staleness_fetch_kind(text);
    struct staleness_entry *e;

    if (!kind)
        return;
    e = entry(s, strategy, stage, text, kind);
    if (!e->builds) {
        e->run_seq = seq;
        e->run_time = author_time;
    }
    e->builds++;
    e->line = line;
    e->last_seq = seq;
    if (!hit) {
        e->runs++;
        e->seen_run = 1;
        e->run_seq = seq;
        e->run_time = author_time;
        e->last_commits = 0;
        e->last_days = 0;
        return;
    }
    e->hits++;
    e->last_commits = seq - e->run_seq;
    e->last_days = author_time > e->run_time
                       ? (double)(author_time - e->run_time) / 86400.0
                       : 0;
    if (e->last_commits > e->max_commits)
        e->max_commits = e->last_commits;
    if (e->last_days > e->max_days)
        e->max_days = e->last_days;
}
