/*
 * cli_call.c: how `baobao` talks to the server: connecting, calling, the
 * one retry of a write, idempotency keys, what an error means as an exit
 * code.
 *
 * For: the rule that makes a retried write safe: every write carries an
 * idempotency key (random unless --idempotency-key gave one), and when its
 * outcome is unknown (timeout, connection_lost, unavailable) it is sent
 * again once, on a new connection, with the same bytes and so the same
 * key: the server then returns the first result instead of storing twice.
 * Every connection (the retry's too) logs in first, except for the commands
 * that need no login (server info): the server answers nothing else before.
 * Not for: building arguments or printing results (the command files), or
 * where the credentials come from (cli_auth.c).
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define CLI_RETRY_PAUSE_MS 300   /* before the one retry of a write */

/* session.login on the fresh connection; keeps the reply (the User) for
 * `baobao login`. */
static int login(cli_ctx *ctx, bb_error *err)
{
    bbi_kvs k = {.n = 0};
    bbi_kv_str(&k, "login", ctx->login);
    bbi_kv_str(&k, "password", ctx->password);
    bb_reply *r = NULL;
    int rc = bbi_call_kvs(ctx->client, "session.login", &k, &r, err);
    if (rc == BB_C_OK)
        rc = bbi_want_map(bb_reply_result(r), "session.login result", err);
    if (rc != BB_C_OK) {
        bb_reply_free(r);
        return rc;
    }
    bb_reply_free(ctx->login_reply);
    ctx->login_reply = r;
    return BB_C_OK;
}

int cli_connect(cli_ctx *ctx, bb_error *err)
{
    if (ctx->client != NULL)
        return BB_C_OK;
    const char *server;
    bb_connect_opts opts;
    int rc = cli_settings(ctx, &server, &opts, err);
    /* The password is asked for before connecting, so the server does not
     * wait on a person typing. */
    if (rc == BB_C_OK && !ctx->anonymous)
        rc = cli_credentials(ctx, err);
    if (rc != BB_C_OK)
        return rc;
    ctx->client = bb_connect_with(server, &opts, err);
    if (ctx->client == NULL)
        return err->rc;
    bb_set_timeout(ctx->client, ctx->timeout_ms);
    if (!ctx->anonymous && (rc = login(ctx, err)) != BB_C_OK) {
        cli_disconnect(ctx);
        return rc;
    }
    return BB_C_OK;
}

void cli_disconnect(cli_ctx *ctx)
{
    bb_close(ctx->client);
    ctx->client = NULL;
}

/* The outcomes after which a write may or may not have been done. */
static bool outcome_unknown(const bb_error *err)
{
    return err->rc == BB_C_ETIMEOUT ||
           (err->rc == BB_C_EIO && strcmp(err->code, "connection_lost") == 0) ||
           (err->rc == BB_C_ESERVER && strcmp(err->code, "unavailable") == 0);
}

int cli_call(cli_ctx *ctx, const char *method, const bbi_args *args, bool is_write,
             bb_reply **out, bb_error *err)
{
    *out = NULL;
    const void *data = args != NULL ? args->sb.data : NULL;
    size_t len = args != NULL ? args->sb.size : 0;
    for (int attempt = 0;; attempt++) {
        int rc = cli_connect(ctx, err);
        if (rc == BB_C_OK)
            rc = bb_call(ctx->client, method, data, len, out, err);
        if (rc == BB_C_OK || !is_write || attempt > 0 || !outcome_unknown(err))
            return rc;
        fprintf(stderr, "baobao: %s: %s; retrying once with the same idempotency key\n",
                err->code, err->message);
        cli_disconnect(ctx);
        /* After a timeout we already waited; otherwise give a restarting
         * server or database a moment rather than failing twice at once. */
        if (err->rc != BB_C_ETIMEOUT) {
            struct timespec ts = { .tv_sec = 0, .tv_nsec = CLI_RETRY_PAUSE_MS * 1000000L };
            nanosleep(&ts, NULL);
        }
    }
}

int cli_exit_code(const bb_error *err)
{
    switch (err->rc) {
    case BB_C_OK:
        return CLI_EXIT_OK;
    case BB_C_ETIMEOUT:
    case BB_C_EIO:
        return CLI_EXIT_UNREACHABLE;
    case BB_C_EARG:
        /* A bad --server / $BAOBAO_SERVER, config file or missing
         * credentials are a bad command line, not a refused request. */
        if (strcmp(err->field, "server") == 0 || strcmp(err->code, "config_error") == 0 ||
            strcmp(err->code, "no_credentials") == 0)
            return CLI_EXIT_USAGE;
        return CLI_EXIT_REFUSED;
    case BB_C_ESERVER:
        if (strcmp(err->code, "unavailable") == 0 || strcmp(err->code, "shutting_down") == 0)
            return CLI_EXIT_UNREACHABLE;
        if (strcmp(err->code, "internal") == 0)
            return CLI_EXIT_PROTOCOL;
        return CLI_EXIT_REFUSED;
    default:   /* BB_C_EPROTO, BB_C_ENOMEM */
        return CLI_EXIT_PROTOCOL;
    }
}

int cli_fail(const bb_error *err)
{
    if (err->field[0] != '\0')
        fprintf(stderr, "baobao: %s: %s (field: %s)\n", err->code, err->message, err->field);
    else
        fprintf(stderr, "baobao: %s: %s\n", err->code, err->message);
    return cli_exit_code(err);
}

/* Fills buf from the kernel's random source: getrandom, else /dev/urandom. */
static bool random_bytes(unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got == n)
        return true;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    return got == n;
}

void cli_new_key(char out[37])
{
    unsigned char b[16];
    if (!random_bytes(b, sizeof b)) {
        /* No randomness at all: a key unique enough for one process's retry. */
        unsigned long seed = (unsigned long)getpid() ^ (unsigned long)time(NULL);
        for (size_t i = 0; i < sizeof b; i++) {
            seed = seed * 6364136223846793005UL + 1442695040888963407UL;
            b[i] = (unsigned char)(seed >> 33);
        }
    }
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);   /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);   /* RFC 4122 variant */
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
}
