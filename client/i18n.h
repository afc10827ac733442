/*
 * i18n.h: the language of the `baobao` command's people-facing text.
 *
 * Every text a person reads (help, messages, prompts, table headers) is
 * written in English in the source and wrapped: _("text") where it is
 * used, N_("text") where it is only stored (tables) and translated when
 * printed. The Chinese is in po/zh_CN.po (gettext, built by meson's i18n
 * module). Codes, option names, JSON and logs are never translated.
 *
 * Not for: the library (libbaobao speaks codes only) or the server.
 */
#ifndef BB_CLI_I18N_H
#define BB_CLI_I18N_H

#include <stdbool.h>

/* The text domain and its catalogue: po/ (meson's i18n module). */
#define CLI_TEXT_DOMAIN "baobao"

/* Which language a name means: 1 Chinese ("zh", "zh_CN", "zh-CN.UTF-8",
 * any case), 0 English ("en...", "C", "POSIX"), -1 neither. For --lang,
 * $BAOBAO_LANG and the locale variables alike. */
int cli_lang_parse(const char *name);

/* Chooses the language once, at start: lang (--lang), else $BAOBAO_LANG,
 * else the locale ($LC_ALL, $LC_MESSAGES, $LANG, the first that is set):
 * "zh..." is Chinese, anything else English. Also sets LC_CTYPE (the
 * user's when it is UTF-8, else C.UTF-8) and, for Chinese, what glibc's
 * gettext needs to use the catalogue; when there is no catalogue, or
 * gettext does not use it, the language is English (said on stderr when
 * Chinese was asked for by lang or $BAOBAO_LANG, not by the locale).
 * Returns 0, or -1 when lang names neither language (nothing is changed
 * then). A $BAOBAO_LANG that names neither is warned about on stderr and
 * the locale decides. */
int cli_i18n_init(const char *lang);
/* Whether the chosen language is Chinese. */
bool cli_lang_zh(void);
/* The text in the chosen language (msgid itself when untranslated, in
 * English, or for ""). Static storage: never freed. */
const char *cli_tr(const char *msgid) __attribute__((format_arg(1)));

#define _(s) cli_tr(s)
/* Without parentheses, so that it may initialize a char array too:
 * static const char help[] = N_("..."). Only ever a string literal. */
#define N_(s) s

#endif
