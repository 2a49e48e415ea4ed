/*
 * cmd_synth.c - `harness synth`: write a generated git history (synth.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmd.h"
#include "err.h"
#include "opt.h"
#include "synth.h"

static void progress(void *arg, long done, long total)
{
    (void)arg;
    fprintf(stderr, "\rsynth: %ld/%ld commits", done, total);
    if (done == total)
        fputc('\n', stderr);
}

/* Parse the string options into o; ERR_USAGE with err set. */
static int parse_values(struct synth_options *o, const char *seed,
                        const char *template_name, const char *mix,
                        struct err *err)
{
    char *end;

    if (seed) {
        errno = 0;
        o->seed = strtoull(seed, &end, 10);
        if (errno || end == seed || *end || *seed == '-')
            return err_set(err, ERR_USAGE,
                           "synth: --seed needs a whole number, not '%s'",
                           seed);
    }
    if (template_name &&
        synth_template_parse(template_name, &o->template_id) < 0)
        return err_set(err, ERR_USAGE,
                       "synth: unknown template '%s' (python, node, "
                       "go-multistage, bad-order)",
                       template_name);
    if (mix && synth_mix_parse(mix, &o->mix, err) < 0)
        return err->code;
    if (o->commits < 1)
        return err_set(err, ERR_USAGE, "synth: --commits must be at least 1");
    if (o->files < 1)
        return err_set(err, ERR_USAGE, "synth: --files must be at least 1");
    if (o->label_every < 0)
        return err_set(err, ERR_USAGE,
                       "synth: --label-every must be 0 (never) or more");
    return 0;
}

int cmd_synth(int argc, char **argv)
{
    struct synth_options o;
    struct synth_result res;
    struct err err = ERR_INIT;
    const char *seed = NULL, *template_name = NULL, *mix = NULL;
    char **args = NULL;
    int nargs = 0, rc;

    synth_options_init(&o);
    const struct opt opts[] = {
        { "out", 'o', OPT_STRING, &o.out, "DIR",
          "folder to create (must not exist or be empty)" },
        { "commits", 'n', OPT_INT, &o.commits, "N",
          "number of commits (default 100)" },
        { "files", 0, OPT_INT, &o.files, "N",
          "approximate files in the tree (default 50)" },
        { "mix", 0, OPT_STRING, &mix, "KIND=W,...",
          "commit kinds and weights (default "
          "code=70,deps=10,dockerfile=5,docs=15)" },
        { "seed", 0, OPT_STRING, &seed, "S",
          "random seed; same seed, same commit ids (default 1)" },
        { "template", 't', OPT_STRING, &template_name, "NAME",
          "python, node, go-multistage or bad-order (default python)" },
        { "branch", 'b', OPT_STRING, &o.branch, "NAME",
          "branch to create and check out (default main)" },
        { "label-every", 0, OPT_INT, &o.label_every, "N",
          "every Nth commit also appends a LABEL to the Dockerfile, which "
          "grows with the history (default 0: never)" },
        OPT_END_ENTRY,
    };
    const struct opt_cmd cmd = {
        "synth",
        "--out DIR [--commits N] [--files N] [--mix KIND=W,...] [--seed S] "
        "[--template NAME] [--branch NAME] [--label-every N]",
        "Write a realistic, deterministic git history with a Dockerfile.",
        opts,
        0,
        0,
    };

    if ((rc = opt_run(&cmd, argc, argv, &args, &nargs)) >= 0)
        return rc;
    free(args);
    if (!o.out)
        err_set(&err, ERR_USAGE, "synth: --out DIR is required");
    else
        parse_values(&o, seed, template_name, mix, &err);
    if (err.code) {
        err_print(&err);
        opt_print_usage(&cmd);
        return EXIT_USAGE;
    }
    if (isatty(STDERR_FILENO))
        o.progress = progress;
    if (synth_run(&o, &res, &err) < 0) {
        err_print(&err);
        return err_exit_code(err.code);
    }
    printf("%s: %ld commits (%ld code, %ld deps, %ld dockerfile, %ld docs), "
           "%ld files, %s %s\n",
           o.out, res.commits, res.kind_commits[SYNTH_CODE],
           res.kind_commits[SYNTH_DEPS], res.kind_commits[SYNTH_DOCKERFILE],
           res.kind_commits[SYNTH_DOCS], res.files, o.branch, res.head);
    return EXIT_OK;
}
