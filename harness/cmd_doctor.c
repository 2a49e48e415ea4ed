/*
 * cmd_doctor.c - `harness doctor`: read an existing image's config,
 * `docker inspect` output or `docker history` lines (or fetch its config
 * from a registry) and say which --cache-from setups will hit from it and
 * what flag to add.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cmd.h"
#include "doctor.h"
#include "image.h"
#include "opt.h"
#include "regclient.h"

static const char *inline_word(int v)
{
    return v == 1 ? "yes" : v == 0 ? "no" : "unknown";
}

static const char *hits_text(int v)
{
    return v == 1 ? "hits" : v == 0 ? "no hits" : "maybe";
}

static void print_text(struct buf *out, const char *source,
                       const struct image_facts *f, const char *ref)
{
    struct doctor_advice adv[DOCTOR_MAX_ADVICE];
    size_t n = doctor_advise(f, ref, adv);

    buf_printf(out, "%s:%s%s\n", source, f->ref[0] ? " " : "", f->ref);
    buf_printf(out, "  builder: %s", image_builder_name(f->builder));
    if (f->evidence[0])
        buf_printf(out, " (%s)", f->evidence);
    buf_printf(out, "\n  inline cache: %s", inline_word(f->inline_cache));
    if (f->cache_records >= 0)
        buf_printf(out, " (%d records)", f->cache_records);
    else if (f->inline_cache < 0)
        buf_printf(out, " (%s does not show it)",
                   f->input == IMAGE_INPUT_INSPECT ? "docker inspect"
                                                   : "docker history");
    buf_adds(out, "\n");
    for (size_t i = 0; i < n; i++) {
        buf_printf(out, "  %s: %s: %s\n", doctor_setup_title(adv[i].setup),
                   hits_text(adv[i].hits), adv[i].message);
        if (adv[i].fix[0])
            buf_printf(out, "    fix: %s\n", adv[i].fix);
    }
}

static void print_json(struct buf *out, const char *source,
                       const struct image_facts *f, const char *ref,
                       const struct regclient_image *img)
{
    struct doctor_advice adv[DOCTOR_MAX_ADVICE];
    size_t n = doctor_advise(f, ref, adv);
    static const char *const tri[] = { "null", "false", "true" };

    buf_adds(out, "{\"file\": ");
    buf_add_json_str(out, source);
    buf_adds(out, ", \"input\": ");
    buf_add_json_str(out, image_input_name(f->input));
    if (f->ref[0]) {
        buf_adds(out, ", \"image\": ");
        buf_add_json_str(out, f->ref);
    }
    if (img) {
        buf_adds(out, ", \"manifest_digest\": ");
        buf_add_json_str(out, img->manifest_digest);
        buf_adds(out, ", \"config_digest\": ");
        buf_add_json_str(out, img->config_digest);
        if (img->list_digest[0]) {
            buf_adds(out, ", \"platforms\": ");
            buf_add_json_str(out, img->platforms);
        }
    }
    buf_adds(out, ", \"builder\": ");
    buf_add_json_str(out, image_builder_name(f->builder));
    buf_adds(out, ", \"evidence\": ");
    buf_add_json_str(out, f->evidence);
    buf_printf(out, ", \"inline_cache\": %s", tri[f->inline_cache + 1]);
    if (f->cache_records >= 0)
        buf_printf(out, ", \"cache_records\": %d", f->cache_records);
    buf_adds(out, ", \"advice\": [");
    for (size_t i = 0; i < n; i++) {
        buf_adds(out, i ? ", {\"setup\": " : "{\"setup\": ");
        buf_add_json_str(out, adv[i].setup);
        buf_printf(out, ", \"hits\": %s, \"message\": ", tri[adv[i].hits + 1]);
        buf_add_json_str(out, adv[i].message);
        buf_adds(out, ", \"fix\": ");
        buf_add_json_str(out, adv[i].fix);
        buf_adds(out, "}");
    }
    buf_adds(out, "]}");
}

struct doctor_out {
    struct buf text;
    int json;
    size_t count;
};

static void emit(struct doctor_out *o, const char *source,
                 const struct image_facts *f, const char *ref,
                 const struct regclient_image *img)
{
    if (o->json) {
        buf_adds(&o->text, o->count ? ",\n" : "");
        print_json(&o->text, source, f, ref, img);
    } else {
        if (o->count)
            buf_adds(&o->text, "\n");
        print_text(&o->text, source, f, ref);
    }
    o->count++;
}

static int doctor_file(struct doctor_out *o, const char *path, struct err *err)
{
    struct buf text = BUF_INIT;
    struct image_facts *f = NULL;
    size_t n = 0;
    int rc;

    if ((rc = buf_read_file(&text, path, err)) < 0 ||
        (rc = image_read(&f, &n, path, text.ptr ? text.ptr : "", text.len,
                         err)) < 0)
        goto out;
    for (size_t i = 0; i < n; i++)
        emit(o, path, &f[i], f[i].ref, NULL);
out:
    free(f);
    buf_release(&text);
    return rc;
}

static int doctor_image(struct doctor_out *o, const char *ref,
                        const char *registry, double timeout, struct err *err)
{
    struct regclient_image img;
    struct image_facts *f = NULL;
    struct buf source = BUF_INIT;
    size_t n = 0;
    int rc;

    if ((rc = regclient_fetch(&img, registry, ref, timeout, err)) < 0)
        goto out;
    buf_printf(&source, "%s:%s/%s%s%s", img.host, img.port, img.name,
               img.reference[0] == 's' && strchr(img.reference, ':') ? "@"
                                                                     : ":",
               img.reference);
    if ((rc = image_read(&f, &n, buf_cstr(&source),
                         img.config.ptr ? img.config.ptr : "", img.config.len,
                         err)) < 0)
        goto out;
    for (size_t i = 0; i < n; i++)
        emit(o, buf_cstr(&source), &f[i], ref, &img);
out:
    free(f);
    buf_release(&source);
    regclient_image_release(&img);
    return rc;
}

int cmd_doctor(int argc, char **argv)
{
    const char *format = "text", *image = NULL, *registry = NULL;
    long timeout = 10;
    const struct opt opts[] = {
        { "format", 'f', OPT_STRING, &format, "FORMAT",
          "text (default) or json" },
        { "image", 0, OPT_STRING, &image, "REF",
          "fetch the manifest and config of REF from a registry" },
        { "registry", 0, OPT_STRING, &registry, "HOST:PORT",
          "the registry of --image (plain http; default: the host in REF)" },
        { "timeout", 0, OPT_INT, &timeout, "SECONDS",
          "limit for each registry request (default: 10)" },
        OPT_END_ENTRY,
    };
    const struct opt_cmd cmd = {
        "doctor",
        "[--format text|json] [--image REF [--registry HOST:PORT] [--timeout S]] "
        "[FILE...]",
        "Read an image's config (docker inspect output or the config blob "
        "of a registry) or its docker history --no-trunc --format "
        "'{{json .}}' lines, tell which builder made it and whether it "
        "carries inline cache, and say which --cache-from setups will hit "
        "from it and the flag to add.  Exit 0 when every input was read, 3 "
        "when the registry cannot be reached, 4 for a malformed file.",
        opts,
        0,
        -1,
    };
    struct doctor_out o = { BUF_INIT, 0, 0 };
    char **args = NULL;
    int nargs = 0, ret, worst = 0;

    if ((ret = opt_run(&cmd, argc, argv, &args, &nargs)) >= 0)
        goto out;
    if (strcmp(format, "text") && strcmp(format, "json")) {
        fprintf(stderr, "harness: doctor: unknown format '%s'\n", format);
        opt_print_usage(&cmd);
        ret = EXIT_USAGE;
        goto out;
    }
    if ((!nargs && !image) || (registry && !image) || timeout <= 0) {
        fprintf(stderr, "harness: doctor: %s\n",
                timeout <= 0 ? "--timeout must be positive"
                : registry   ? "--registry needs --image"
                             : "give FILE... or --image REF");
        opt_print_usage(&cmd);
        ret = EXIT_USAGE;
        goto out;
    }
    o.json = !strcmp(format, "json");
    for (int i = 0; i <= nargs; i++) {
        struct err err = ERR_INIT;
        int rc = i < nargs ? doctor_file(&o, args[i], &err)
                 : image
                     ? doctor_image(&o, image, registry, (double)timeout, &err)
                     : 0;
        if (rc < 0) {
            int code = err_exit_code(rc);
            err_print(&err);
            if (code == EXIT_USAGE)
                opt_print_usage(&cmd);
            if (code > worst)
                worst = code;
        }
    }
    if (o.json && o.count > 1) {
        fputs("[", stdout);
        fwrite(o.text.ptr, 1, o.text.len, stdout);
        fputs("]\n", stdout);
    } else if (o.count) {
        fwrite(o.text.ptr, 1, o.text.len, stdout);
        if (o.json)
            fputs("\n", stdout);
    }
    ret = worst;
out:
    buf_release(&o.text);
    free(args);
    return ret;
}
