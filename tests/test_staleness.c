/*
 * test_staleness.c - which RUN commands fetch from the network, and the
 * reuse ages staleness_add() accumulates.
 */
#include "testutil.h"

#include "staleness.h"

static void staleness__names_the_fetcher_of_real_world_run_lines(void **state)
{
    static const struct {
        const char *run, *kind; /* kind NULL: fetches nothing */
    } cases[] = {
        { "RUN apt-get update && apt-get install -y --no-install-recommends "
          "curl ca-certificates && rm -rf /var/lib/apt/lists/*",
          "apt-get" },
        { "RUN apk add --no-cache git", "apk" },
        { "RUN pip install --no-cache-dir -r requirements.txt", "pip" },
        { "RUN python -m pip install --upgrade pip", "pip" },
        { "RUN pip3 install poetry==1.8.2", "pip" },
        { "RUN npm ci --omit=dev", "npm" },
        { "RUN yarn install --frozen-lockfile", "yarn" },
        { "RUN go mod download", "go" },
        { "RUN cargo build --release", "cargo" },
        { "RUN bundle install --jobs 4", "bundler" },
        { "RUN curl -fsSL https://deb.nodesource.com/setup_20.x | bash -",
          "curl" },
        { "RUN wget -q https://example.com/x.tgz", "wget" },
        { "RUN git clone --depth 1 https://github.com/org/repo /src",
          "git clone" },
        { "RUN ./gradlew build --no-daemon", "gradle" },
        { "RUN mvn -B package", "maven" },
        { "RUN dnf install -y gcc", "dnf" },
        { "RUN set -eux; \\ APT-GET   INSTALL -y x", "apt-get" },
        { "RUN make -j2", NULL },
        { "RUN python -m compileall .", NULL },
        { "RUN echo curling > /notes", NULL },
        { "RUN ./scripts/npm-install-check.sh", NULL },
        { "RUN go build -o /app ./cmd/app", NULL },
        { "RUN git rev-parse HEAD > /rev", NULL },
        { "RUN useradd -m app", NULL },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *k = staleness_fetch_kind(cases[i].run);
        if (!k != !cases[i].kind || (k && strcmp(k, cases[i].kind)))
            print_error("%s: got %s\n", cases[i].run, k ? k : "NULL");
        if (cases[i].kind) {
            assert_non_null(k);
            assert_string_equal(k, cases[i].kind);
        } else {
            assert_null(k);
        }
    }
}

static void staleness__ages_count_from_the_last_run(void **state)
{
    struct staleness s;
    const char *t = "RUN apt-get update";
    const int64_t day = 86400;

    (void)state;
    staleness_init(&s);
    staleness_add(&s, "local", 0, 0, 0, 2, t, 0);
    staleness_add(&s, "local", 1, 2 * day, 0, 2, t, 1);
    staleness_add(&s, "local", 2, 3 * day, 0, 2, t, 0); /* ran again */
    staleness_add(&s, "local", 3, 9 * day, 0, 2, t, 1);
    staleness_add(&s, "local", 4, 9 * day, 0, 2, "RUN make", 1);
    staleness_add(&s, "none", 0, 0, 0, 2, t, 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.entries[0].strategy, "local");
    assert_int_equal(s.entries[0].builds, 4);
    assert_int_equal(s.entries[0].runs, 2);
    assert_int_equal(s.entries[0].max_commits, 1);
    assert_true(s.entries[0].max_days > 5.99 && s.entries[0].max_days < 6.01);
    assert_int_equal(s.entries[0].last_commits, 1);
    assert_string_equal(s.entries[1].strategy, "none");
    assert_int_equal(s.entries[1].hits, 0);
    staleness_release(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(staleness__names_the_fetcher_of_real_world_run_lines),
        cmocka_unit_test(staleness__ages_count_from_the_last_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
