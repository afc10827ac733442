/*
 * cli_session.h: the sessions `baobao login` keeps on this computer, and
 * logging in with one.
 *
 * `baobao login` asks the server to keep the session (session.login with
 * keep) and stores the token it gets in a private file: one line per
 * server and login. A later command that needs a login, when no password
 * is at hand ($BAOBAO_PASSWORD, `password` in the config file), logs in
 * with that token (session.resume) instead of asking for the password.
 * The file is $XDG_STATE_HOME/baobao/session, else
 * ~/.local/state/baobao/session; the folder is made 0700, the file 0600,
 * and the file is replaced whole (a new file renamed over it), under a
 * lock, so two commands never interleave their changes. A file that is
 * not a regular file owned by the caller with no group or other
 * permission bits is refused and not used (anyone who can read it can act
 * as its users).
 *
 * For: the file (find, put, remove) and the resume of cli_connect. Not
 * for: the password, the config file or the precedence of settings
 * (cli_auth.c), the commands login, logout and passwd (cli_user.c).
 * Errors of the file are BB_C_EARG with code "session_file_error" (exit
 * 2, like the config file's config_error; a code of the client's own,
 * never on the wire).
 */
#ifndef BB_CLI_SESSION_H
#define BB_CLI_SESSION_H

#include "cli.h"

/* One saved session; every string owned (the token wiped when freed). */
typedef struct cli_saved {
    char *server;     /* the server as the commands resolve it ("127.0.0.1:7420") */
    char *login;
    char *expires;    /* token_expires_at as the server sent it (UTC) */
    char *token;
} cli_saved;
void cli_saved_free(cli_saved *s);

/* The key of a resolved server (cli_settings' server, NULL = the default). */
const char *cli_saved_key(const char *server);
/* Seconds until expires (token_expires_at, UTC), 0 when past, -1 when it
 * does not parse. */
long long cli_saved_seconds_left(const char *expires);

/* Returns of cli_saved_find and cli_session_resume besides the BB_C_*
 * codes (which are 0 or negative). */
#define CLI_SAVED_NONE 1

/*
 * Finds the saved session of server for login, or, login NULL, the one
 * stored last for server. Expired entries are never found. BB_C_OK (*out
 * filled; free with cli_saved_free), CLI_SAVED_NONE, or an error (the
 * file refused or unreadable).
 */
BBI_WUR int cli_saved_find(const char *server, const char *login, cli_saved *out,
                           bb_error *err);
/*
 * Stores (or replaces) the session of server and login. *old_token, when
 * old_token is not NULL, receives the token it replaced (owned, wipe with
 * cli_password_free; NULL when none). BB_C_OK or an error.
 */
BBI_WUR int cli_saved_put(const char *server, const char *login, const char *token,
                          const char *expires, char **old_token, bb_error *err);
/* Removes the session of server and login (none: nothing). BB_C_OK or an
 * error. */
BBI_WUR int cli_saved_remove(const char *server, const char *login, bb_error *err);
/* Checks that the file could be written (its folder can be made, the
 * file, if any, is acceptable): so `baobao login` says so before asking
 * for a password. BB_C_OK or an error. */
BBI_WUR int cli_saved_check(bb_error *err);

/*
 * cli_connect's first try: when no password is at hand for the login the
 * command names (cli_password_given) and a session is saved for the
 * server (and that login, when one is named), connects and resumes it.
 * BB_C_OK: ctx->client is logged in, ctx->login and ctx->login_reply set.
 * CLI_SAVED_NONE: nothing to resume, or the server refused the token (the
 * entry is then removed, said on stderr, and ctx->login set to its login
 * for the password that follows); ctx->client is NULL. Other: the error
 * (the server unreachable, the address locked), ctx->client NULL.
 */
BBI_WUR int cli_session_resume(cli_ctx *ctx, const char *server, const bb_connect_opts *opts,
                               bb_error *err);

#endif
