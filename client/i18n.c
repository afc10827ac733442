/*
 * i18n.c: choosing the language and looking texts up (i18n.h), with
 * glibc's gettext and the catalogue built from po/zh_CN.po.
 *
 * For: which language (--lang, $BAOBAO_LANG, the locale variables), where
 * the catalogue is, and the settings that make glibc use it. Not for: the
 * texts themselves (po/zh_CN.po) or how errors become sentences
 * (cli_call.c).
 *
 * gettext without a generated zh_CN locale. A fresh Debian (CI, a
 * container) has only C and C.UTF-8: setlocale(LC_MESSAGES, "") with
 * LANG=zh_CN.UTF-8 then fails, the locale stays "C", and in "C" glibc's
 * gettext ignores every catalogue and $LANGUAGE (dcigettext.c:
 * guess_category_value returns "C" before looking at $LANGUAGE). Any other
 * locale name, C.UTF-8 included, lets $LANGUAGE choose the catalogue
 * (tried: LC_MESSAGES=C.UTF-8 with LANGUAGE=zh_CN finds zh_CN/LC_MESSAGES/
 * baobao.mo; LC_MESSAGES=C does not). So for Chinese LC_MESSAGES is set to
 * C.UTF-8 and $LANGUAGE to zh_CN, whatever locales the machine has; and
 * the catalogue's codeset is bound to UTF-8, so the texts come out as
 * UTF-8 even when LC_CTYPE is plain ASCII. English never asks gettext: it
 * is the msgid itself.
 *
 * Width: tables and field blocks count columns with their own tables
 * (table.c), not wcwidth(), so they line up in any locale. LC_CTYPE is
 * still set to a UTF-8 locale (the user's when it is one, else C.UTF-8)
 * because line editing on a terminal (guided.c) reads multibyte input by
 * it. LC_NUMERIC and the rest stay "C": numbers are read and printed the
 * protocol's way in every language.
 */
#include "i18n.h"

#include <langinfo.h>
#include <libintl.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Set by meson (client/meson.build): where `meson install` puts the
 * catalogue, the build folder, and the catalogue folder inside it. */
#ifndef BB_LOCALEDIR
#define BB_LOCALEDIR "/usr/local/share/locale"
#endif
#ifndef BB_BUILD_ROOT
#define BB_BUILD_ROOT ""
#endif
#ifndef BB_BUILD_LOCALEDIR
#define BB_BUILD_LOCALEDIR ""
#endif

static bool g_zh;

int cli_lang_parse(const char *name)
{
    if (name == NULL)
        return -1;
    if (strncasecmp(name, "zh", 2) == 0 && (name[2] == '\0' || strchr("_-.@", name[2])))
        return 1;
    if (strncasecmp(name, "en", 2) == 0 && (name[2] == '\0' || strchr("_-.@", name[2])))
        return 0;
    /* "C", "C.UTF-8", "POSIX": the locale of no language. */
    if (strcmp(name, "POSIX") == 0 || (name[0] == 'C' && (name[1] == '\0' || name[1] == '.')))
        return 0;
    return -1;
}

/* The locale the user set for messages: the first of $LC_ALL,
 * $LC_MESSAGES, $LANG that is set and not empty (POSIX's order). */
static const char *locale_env(void)
{
    static const char *const vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v != NULL && v[0] != '\0')
            return v;
    }
    return NULL;
}

/* Whether dir holds our Chinese catalogue. */
static bool has_catalogue(const char *dir)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/zh_CN/LC_MESSAGES/%s.mo", dir, CLI_TEXT_DOMAIN);
    return n > 0 && (size_t)n < sizeof path && access(path, R_OK) == 0;
}

/* Whether this program is the one in the build folder (tests,
 * ./scripts/run): its catalogue is the build folder's, whatever an older
 * `meson install` left in the installed folder. */
static bool run_from_build(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    size_t rl = strlen(BB_BUILD_ROOT);
    if (n <= 0 || rl == 0)
        return false;
    exe[n] = '\0';
    return strncmp(exe, BB_BUILD_ROOT, rl) == 0 && exe[rl] == '/';
}

/*
 * Where the catalogue is: $BAOBAO_LOCALEDIR (a test or a packager says
 * so); else the build folder's when this program is the build folder's;
 * else the installed folder (LOCALEDIR of meson's prefix) when it has the
 * catalogue; else the build folder's, compiled in, so that a program
 * copied out of the build folder still speaks Chinese on the machine it
 * was built on.
 */
static const char *catalogue_dir(void)
{
    const char *env = getenv("BAOBAO_LOCALEDIR");
    if (env != NULL && env[0] != '\0')
        return env;
    if (run_from_build() && has_catalogue(BB_BUILD_LOCALEDIR))
        return BB_BUILD_LOCALEDIR;
    if (has_catalogue(BB_LOCALEDIR))
        return BB_LOCALEDIR;
    return BB_BUILD_LOCALEDIR[0] != '\0' ? BB_BUILD_LOCALEDIR : BB_LOCALEDIR;
}

/* LC_CTYPE: the user's when it is UTF-8, else C.UTF-8 (when the C library
 * has it). */
static void set_ctype(void)
{
    const char *got = setlocale(LC_CTYPE, "");
    if (got != NULL && strcasecmp(nl_langinfo(CODESET), "UTF-8") == 0)
        return;
    if (setlocale(LC_CTYPE, "C.UTF-8") == NULL && setlocale(LC_CTYPE, "C.utf8") == NULL)
        setlocale(LC_CTYPE, "C");
}

/* A text looked up once the catalogue is bound: when it comes back
 * untranslated, gettext is not using the catalogue (below). */
/* TRANSLATORS: never shown; only checked to be translated (any Chinese). */
#define I18N_PROBE N_("The Chinese catalogue is in use.")

/* Says, once, why the output is English although Chinese was asked for:
 * only when it was asked for by name (--lang, $BAOBAO_LANG), not for
 * every command of a user whose locale merely is Chinese. */
__attribute__((format(printf, 2, 3)))
static void say_english(bool asked, const char *fmt, ...)
{
    static bool said;
    if (!asked || said)
        return;
    said = true;
    va_list ap;
    va_start(ap, fmt);
    fputs("baobao: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("; speaking English\n", stderr);
    va_end(ap);
}

/* What glibc needs to look texts up in zh_CN (the file's opening
 * paragraph says why). False when there is no catalogue, or glibc does
 * not use it (no C.UTF-8 to set LC_MESSAGES to, nor a Chinese locale:
 * then $LANGUAGE is ignored and every text would come back English
 * while the sentences built here were Chinese): then everything is
 * English rather than a mix, said when Chinese was asked for by name. */
static bool use_catalogue(bool asked)
{
    const char *dir = catalogue_dir();
    if (!has_catalogue(dir)) {
        say_english(asked, "no Chinese catalogue in %s (zh_CN/LC_MESSAGES/%s.mo)", dir,
                    CLI_TEXT_DOMAIN);
        return false;
    }
    const char *was = getenv("LANGUAGE");
    char *old_language = was != NULL ? strdup(was) : NULL;
    if (setlocale(LC_MESSAGES, "C.UTF-8") == NULL && setlocale(LC_MESSAGES, "C.utf8") == NULL)
        setlocale(LC_MESSAGES, "");   /* an older C library: the user's, if any */
    setenv("LANGUAGE", "zh_CN", 1);
    bindtextdomain(CLI_TEXT_DOMAIN, dir);
    bind_textdomain_codeset(CLI_TEXT_DOMAIN, "UTF-8");
    bool works = strcmp(dgettext(CLI_TEXT_DOMAIN, I18N_PROBE), I18N_PROBE) != 0;
    if (!works) {
        /* As before: the user's $LANGUAGE for whatever this process runs. */
        if (old_language != NULL)
            setenv("LANGUAGE", old_language, 1);
        else
            unsetenv("LANGUAGE");
        say_english(asked, "the Chinese catalogue in %s (zh_CN/LC_MESSAGES/%s.mo) is not "
                    "used here (no C.UTF-8 or zh_CN locale, or a catalogue without "
                    "the texts of this program)", dir, CLI_TEXT_DOMAIN);
    }
    free(old_language);
    return works;
}

int cli_i18n_init(const char *lang)
{
    int which = -1;
    if (lang != NULL) {
        which = cli_lang_parse(lang);
        if (which < 0)
            return -1;
    }
    const char *env = getenv("BAOBAO_LANG");
    if (which < 0 && env != NULL && env[0] != '\0') {
        which = cli_lang_parse(env);
        if (which < 0)
            fprintf(stderr, "baobao: BAOBAO_LANG=%s is neither zh nor en; the locale "
                            "decides\n", env);
    }
    bool asked = which == 1;   /* by name: --lang or $BAOBAO_LANG */
    if (which < 0)
        which = cli_lang_parse(locale_env()) == 1 ? 1 : 0;
    set_ctype();
    g_zh = which == 1 && use_catalogue(asked);
    return 0;
}

bool cli_lang_zh(void)
{
    return g_zh;
}

const char *cli_tr(const char *msgid)
{
    /* "" is the catalogue's header in gettext: never looked up. */
    if (!g_zh || msgid == NULL || msgid[0] == '\0')
        return msgid;
    return dgettext(CLI_TEXT_DOMAIN, msgid);
}
