/*
 * cli_opts.c: the command line of `baobao`: options of the form
 * `--name VALUE` or `--name=VALUE`, flags, repeatable options, positional
 * words, and integer arguments.
 *
 * For: turning argv into values or a usage error (exit 2) that names the
 * problem and points at `--help`, in the user's language; a mistyped
 * option gets the closest valid ones ("did you mean", suggest.h). Not for:
 * what the values mean (each command's file) or checking them against the
 * server's rules (the server does that, and its refusal is exit 1).
 */
#include "cli.h"

#include "i18n.h"
#include "input.h"
#include "suggest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI_MAX_TIMEOUT_MS 86400000   /* a day: anything longer is a typo */
/* Bytes of the list of valid options in a usage error. */
#define CLI_OPT_LIST_BYTES 1024

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fputs("baobao: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    char full[128];
    snprintf(full, sizeof full, "baobao%s%s", cmd[0] ? " " : "", cmd);
    fputc('\n', stderr);
    fprintf(stderr, _("Try '%s --help'.\n"), full);
    return CLI_EXIT_USAGE;
}

int cli_oom(void)
{
    fputs(_("baobao: out_of_memory: out of memory\n"), stderr);
    return CLI_EXIT_PROTOCOL;
}

int cli_int_arg(const char *cmd, const char *opt, const char *s, int64_t min, int64_t max,
                int64_t *out)
{
    /* The packer's reader (input.h): full-width digits, end spaces and
     * 万 forgiven as in every other number. */
    int64_t v;
    if (bbi_input_int(s, &v, NULL, 0) != BBI_IN_OK)
        return cli_usage_error(cmd, _("%s: \"%s\" is not an integer"), opt, s);
    if (v < min || v > max)
        return cli_usage_error(cmd, _("%s: %s is out of range (%" PRId64 "..%" PRId64 ")"),
                               opt, s, min, max);
    *out = (int64_t)v;
    return 0;
}

cli_opt *cli_get(cli_opt *opts, size_t nopts, const char *name)
{
    for (size_t i = 0; i < nopts; i++)
        if (strcmp(opts[i].name, name) == 0)
            return &opts[i];
    return NULL;
}

void cli_opts_free(cli_opt *opts, size_t nopts)
{
    for (size_t i = 0; i < nopts; i++) {
        free(opts[i].values);
        opts[i].values = NULL;
    }
}

/* The global options, accepted before the command and after it. */
static const struct {
    const char *name;
    bool flag;
} globals[] = {
    { "--server", false }, { "--timeout", false }, { "--json", true },
    { "--user", false },   { "--tls", true },      { "--ca", false },
    { "--server-name", false }, { "--color", false }, { "--lang", false },
};
#define NGLOBALS (sizeof globals / sizeof globals[0])

bool cli_is_global(const char *name)
{
    for (size_t k = 0; k < NGLOBALS; k++)
        if (strcmp(globals[k].name, name) == 0)
            return true;
    return strcmp(name, "--help") == 0;
}

/* The closest of the global options and opts to the option word[0..len)
 * (suggest_list). */
static void opt_suggestion(char *out, size_t cap, const char *word, size_t len,
                           const cli_opt *opts, size_t nopts)
{
    const char **cands = calloc(nopts + NGLOBALS + 1, sizeof *cands);
    char typed[SUGGEST_MAX_WORD + 1];
    out[0] = '\0';
    if (cands == NULL || len > SUGGEST_MAX_WORD) {
        free(cands);
        return;
    }
    size_t n = 0;
    for (size_t k = 0; k < nopts; k++)
        cands[n++] = opts[k].name;
    for (size_t k = 0; k < NGLOBALS; k++)
        cands[n++] = globals[k].name;
    cands[n++] = "--help";
    memcpy(typed, word, len);
    typed[len] = '\0';
    suggest_list(out, cap, typed, cands, n);
    free(cands);
}

/* Returns 1 when word was a global option (consuming its value), 0 when
 * not, or CLI_EXIT_USAGE. */
static int global_opt(cli_ctx *ctx, const char *cmd, const char *word, const char *inline_val,
                      int *i, int argc, char **argv)
{
    size_t nlen = inline_val != NULL ? (size_t)(inline_val - word - 1) : strlen(word);
    const char *name = NULL;
    bool flag = false;
    for (size_t k = 0; k < NGLOBALS; k++)
        if (strlen(globals[k].name) == nlen && strncmp(word, globals[k].name, nlen) == 0) {
            name = globals[k].name;
            flag = globals[k].flag;
        }
    if (name == NULL)
        return 0;
    if (flag) {
        if (inline_val != NULL)
            return cli_usage_error(cmd, _("%s takes no value"), name);
        if (strcmp(name, "--json") == 0)
            ctx->json = true;
        else
            ctx->tls = true;
        return 1;
    }
    const char *val = inline_val;
    if (val == NULL) {
        if (*i + 1 >= argc)
            return cli_usage_error(cmd, _("%s needs a value"), name);
        val = argv[++*i];
    }
    if (val[0] == '\0' && strcmp(name, "--timeout") != 0)
        return cli_usage_error(cmd, _("%s needs a value, not an empty word"), name);
    if (strcmp(name, "--server") == 0) {
        ctx->server = val;
    } else if (strcmp(name, "--user") == 0) {
        ctx->user = val;
    } else if (strcmp(name, "--ca") == 0) {
        ctx->ca = val;
        ctx->tls = true;   /* a CA file only means something with TLS */
    } else if (strcmp(name, "--server-name") == 0) {
        ctx->server_name = val;
    } else if (strcmp(name, "--color") == 0) {
        static const char *const whens[] = { "never", "always", "auto" };
        ctx->color = -2;
        for (int k = 0; k < 3; k++)
            if (strcmp(val, whens[k]) == 0)
                ctx->color = k < 2 ? k : -1;
        if (ctx->color == -2)
            return cli_usage_error(cmd, _("--color must be auto, always or never"));
    } else if (strcmp(name, "--lang") == 0) {
        /* The language was chosen from it before anything was printed
         * (cli.c reads --lang first, wherever it stands): here it is only
         * checked and skipped. */
        if (cli_lang_parse(val) < 0)
            return cli_usage_error(cmd, _("--lang must be zh or en"));
    } else {
        int64_t t;
        if (cli_int_arg(cmd, "--timeout", val, 1, CLI_MAX_TIMEOUT_MS, &t) != 0)
            return CLI_EXIT_USAGE;
        ctx->timeout_ms = (int)t;
    }
    return 1;
}

int cli_parse(cli_ctx *ctx, int argc, char **argv, cli_opt *opts, size_t nopts,
              const char **pos, size_t maxpos, size_t *npos, const char *cmd, const char *help)
{
    *npos = 0;
    bool only_pos = false;
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i];
        if (only_pos || w[0] != '-' || w[1] == '\0') {
            if (*npos >= maxpos)
                return cli_usage_error(cmd, _("unexpected argument \"%s\""), w);
            pos[(*npos)++] = w;
            continue;
        }
        if (strcmp(w, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (strcmp(w, "-h") == 0 || strcmp(w, "--help") == 0) {
            /* The help texts are N_() marked where they are written. */
            fputs(_(help), stdout);
            return CLI_HELP_SHOWN;
        }
        const char *eq = strncmp(w, "--", 2) == 0 ? strchr(w, '=') : NULL;
        const char *inline_val = eq != NULL ? eq + 1 : NULL;
        int g = global_opt(ctx, cmd, w, inline_val, &i, argc, argv);
        if (g == 1)
            continue;
        if (g != 0)
            return g;
        size_t nlen = eq != NULL ? (size_t)(eq - w) : strlen(w);
        cli_opt *o = NULL;
        for (size_t k = 0; k < nopts; k++)
            if (strlen(opts[k].name) == nlen && strncmp(opts[k].name, w, nlen) == 0)
                o = &opts[k];
        if (o == NULL) {
            /* The closest options, and all the valid ones, so a typo is
             * fixed without reading the help. */
            char list[CLI_OPT_LIST_BYTES], near[CLI_OPT_LIST_BYTES];
            size_t used = 0;
            list[0] = '\0';
            for (size_t k = 0; k < nopts && used < sizeof list; k++) {
                int n = snprintf(list + used, sizeof list - used, "%s%s", k ? ", " : "",
                                 opts[k].name);
                used += n > 0 ? (size_t)n : 0;
            }
            opt_suggestion(near, sizeof near, w, nlen, opts, nopts);
            const char *valid = nopts > 0 ? list : _("none but the global options");
            if (near[0] != '\0')
                return cli_usage_error(cmd, _("unknown option \"%.*s\" (did you mean %s? "
                                              "valid: %s)"),
                                       (int)nlen, w, near, valid);
            return cli_usage_error(cmd, _("unknown option \"%.*s\" (valid: %s)"), (int)nlen, w,
                                   valid);
        }
        if (o->metavar == NULL) {
            if (inline_val != NULL)
                return cli_usage_error(cmd, _("%s takes no value"), o->name);
            o->count++;
            continue;
        }
        const char *val = inline_val;
        if (val == NULL) {
            if (i + 1 >= argc)
                return cli_usage_error(cmd, _("%s needs a value (%s)"), o->name, o->metavar);
            val = argv[++i];
        }
        if (o->count > 0 && !o->repeatable)
            return cli_usage_error(cmd, _("%s given twice"), o->name);
        if (o->repeatable) {
            if (o->values == NULL) {
                /* At most one value per word of argv. */
                o->values = calloc((size_t)argc, sizeof *o->values);
                if (o->values == NULL)
                    return cli_oom();
            }
            o->values[o->nvalues++] = val;
        }
        o->value = val;
        o->count++;
    }
    return 0;
}

int cli_parse_leading(cli_ctx *ctx, int argc, char **argv, const char *cmd, const char *help,
                      int *first)
{
    int i = 0;
    for (; i < argc; i++) {
        const char *w = argv[i];
        if (w[0] != '-' || w[1] == '\0')
            break;
        if (strcmp(w, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(w, "-h") == 0 || strcmp(w, "--help") == 0) {
            fputs(_(help), stdout);
            return CLI_HELP_SHOWN;
        }
        const char *eq = strncmp(w, "--", 2) == 0 ? strchr(w, '=') : NULL;
        int g = global_opt(ctx, cmd, w, eq != NULL ? eq + 1 : NULL, &i, argc, argv);
        if (g == 0) {
            /* Before a command or subcommand only the global options
             * stand: the closest of those. */
            char near[CLI_OPT_LIST_BYTES];
            size_t nlen = eq != NULL ? (size_t)(eq - w) : strlen(w);
            opt_suggestion(near, sizeof near, w, nlen, NULL, 0);
            if (near[0] != '\0')
                return cli_usage_error(cmd, _("unknown option \"%s\" (did you mean %s?)"), w,
                                       near);
            return cli_usage_error(cmd, _("unknown option \"%s\""), w);
        }
        if (g != 1)
            return g;
    }
    *first = i;
    return 0;
}

int cli_parse_word(cli_ctx *ctx, int argc, char **argv, const char *cmd, const char *help,
                   const char *missing, int *first)
{
    int rc = cli_parse_leading(ctx, argc, argv, cmd, help, first);
    if (rc == 0 && *first >= argc)
        rc = cli_usage_error(cmd, "%s", _(missing));
    return rc;
}
