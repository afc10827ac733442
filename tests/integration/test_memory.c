/*
 * test_memory.c: the server-wide input memory budget (input_budget_bytes,
 * PROTOCOL.md section 2): unfinished messages on many connections together
 * cannot hold more input buffer than the budget; a connection whose message
 * the budget cannot cover is told `connection.closing` (unavailable) and
 * closed, while the connections already holding their share finish; the
 * budget comes back when a big message is handled or its connection ends;
 * idle and small connections never touch it.
 *
 * Not for: max_message_bytes itself (test_protocol_edge.c). Raw bytes only,
 * as there: nothing is fixed up before the server sees it.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

#define SHORT_MS 5000        /* a reply that must come "at once" */
#define EOF_MS 8000          /* the server closing after a refusal */
#define KIB 1024u
#define BIG_BODY (900u * KIB) /* the str inside a "big" message */
#define PART (600u * KIB)     /* what is sent of it before stopping */
#define TRICKLE (32u * KIB)   /* bytes per write when trickling */
#define IDLE_CONNS 200

static const char *const budget_sets[] = {"input_budget_bytes=1048576",
                                          "max_message_bytes=1048576", NULL};

/* [0, msgid, "server.info", [{"x": <str32 of body bytes>}]]: a message of
 * about body bytes that the server frames whole before answering it (with
 * invalid_argument for the unknown key x: any answer by msgid will do). */
static void pack_big(it_buf *b, uint32_t msgid, size_t body)
{
    it_req(b, msgid, "server.info", 1);
    it_str(b, "x");
    unsigned char h[5] = {0xdb, (unsigned char)(body >> 24), (unsigned char)(body >> 16),
                          (unsigned char)(body >> 8), (unsigned char)body};
    msgpack_sbuffer_write(&b->sb, (const char *)h, sizeof h);
    char *pad = malloc(body);
    if (pad == NULL)
        abort();
    memset(pad, 'a', body);
    msgpack_sbuffer_write(&b->sb, pad, body);
    free(pad);
}

/* Sends bytes[from, to) in TRICKLE pieces with a pause between them. Returns
 * the bytes written (short when the server stopped taking them). */
static size_t trickle(it_conn *c, const char *bytes, size_t from, size_t to)
{
    size_t off = from;
    while (off < to) {
        size_t n = to - off < TRICKLE ? to - off : TRICKLE;
        ssize_t w = it_send_some(c, bytes + off, n, 1000);
        if (w <= 0)
            break;
        off += (size_t)w;
        it_sleep_ms(5);
    }
    return off - from;
}

/* The next message is the response to msgid (not a refusal for size or
 * budget). 0 or -1. */
static int expect_answer(it_conn *c, uint32_t msgid, int timeout_ms)
{
    it_msg m;
    char d[800];
    int r = it_recv(c, timeout_ms, &m);
    if (r != IT_RECV_MSG) {
        it_note("msgid %u: no reply (%d)", msgid, r);
        return -1;
    }
    int rc = 0;
    if (m.kind != 1 || m.msgid != msgid || strcmp(m.code, "unavailable") == 0 ||
        strcmp(m.code, "message_too_large") == 0) {
        it_note("msgid %u: got %s", msgid, it_describe(&m, d, sizeof d));
        rc = -1;
    }
    it_msg_free(&m);
    return rc;
}

static int second_big_message_refused_first_finishes_budget_comes_back(void)
{
    it_server *s = it_server_start(budget_sets);
    IT_CHECK(s != NULL);
    it_buf big;
    it_buf_init(&big);
    pack_big(&big, 11, BIG_BODY);
    IT_CHECK(big.sb.size < 1048576 && big.sb.size > PART);

    it_conn *small = it_connect_anon(s->port);
    IT_CHECK(small != NULL);
    IT_CHECK(it_expect_alive(small) == 0);

    /* A holds 600 KiB of its message: its buffer takes most of the budget. */
    it_conn *a = it_connect_anon(s->port);
    IT_CHECK(a != NULL);
    IT_CHECK(trickle(a, big.sb.data, 0, PART) == PART);
    it_sleep_ms(300);
    IT_CHECK(it_expect_alive(small) == 0);

    /* B (and C) want as much: the budget cannot cover them. */
    for (int i = 0; i < 2; i++) {
        it_conn *b = it_connect_anon(s->port);
        IT_CHECK(b != NULL);
        (void)trickle(b, big.sb.data, 0, PART); /* the server stops taking it */
        IT_CHECK(it_expect_closing(b, "unavailable", SHORT_MS) == 0);
        IT_CHECKF(it_wait_eof(b, EOF_MS), "refused connection %d not closed", i);
        it_close(b);
        IT_CHECK(it_expect_alive(small) == 0);
    }
    IT_CHECK(it_server_log_has(s, "event=input_budget_exhausted"));

    /* A still finishes its message and gets its answer, and stays open. */
    IT_CHECK(trickle(a, big.sb.data, PART, big.sb.size) == big.sb.size - PART);
    IT_CHECK(expect_answer(a, 11, IT_REPLY_TIMEOUT_MS) == 0);
    IT_CHECK(it_expect_alive(a) == 0);

    /* Handled: its share came back while A stays open. A new connection
     * sends a whole big message, twice (the second after the first is
     * handled), while A holds a new partial one in its base buffer. */
    IT_CHECK(trickle(a, big.sb.data, 0, 20u * KIB) == 20u * KIB);
    it_conn *d = it_connect_anon(s->port);
    IT_CHECK(d != NULL);
    for (int i = 0; i < 2; i++) {
        IT_CHECK(trickle(d, big.sb.data, 0, big.sb.size) == big.sb.size);
        IT_CHECK(expect_answer(d, 11, IT_REPLY_TIMEOUT_MS) == 0);
    }
    IT_CHECK(it_expect_alive(small) == 0);

    /* D now holds 600 KiB, and then E can hold nothing big, until D ends
     * with its partial message held: its share comes back on close. */
    it_close(a);
    it_sleep_ms(200);
    IT_CHECK(trickle(d, big.sb.data, 0, PART) == PART);
    it_sleep_ms(300);
    it_conn *e = it_connect_anon(s->port);
    IT_CHECK(e != NULL);
    (void)trickle(e, big.sb.data, 0, PART);
    IT_CHECK(it_expect_closing(e, "unavailable", SHORT_MS) == 0);
    IT_CHECK(it_wait_eof(e, EOF_MS));
    it_close(e);
    it_close(d);
    it_sleep_ms(300);
    it_conn *f = it_connect_anon(s->port);
    IT_CHECK(f != NULL);
    IT_CHECK(trickle(f, big.sb.data, 0, big.sb.size) == big.sb.size);
    IT_CHECK(expect_answer(f, 11, IT_REPLY_TIMEOUT_MS) == 0);
    it_close(f);

    IT_CHECK(it_expect_alive(small) == 0);
    it_buf_free(&big);
    int st = it_server_stop(s, IT_STOP_TIMEOUT_MS);
    IT_CHECKF(st == 0, "baobaod exit status %d", st);
    return 0;
}

static int in_flight_request_answered_after_budget_refusal(void)
{
    static const char *const sets[] = {"input_budget_bytes=0", "max_message_bytes=1048576",
                                       NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    /* With no budget at all, a message must fit the base buffer; a request
     * sent before the big one on the same connection is still answered. */
    it_conn *c = it_connect_anon(s->port);
    IT_CHECK(c != NULL);
    unsigned char info[32];
    size_t n = it_server_info_bytes(5, info);
    it_buf big;
    it_buf_init(&big);
    pack_big(&big, 12, BIG_BODY);
    IT_CHECK(it_send(c, info, n) == 0);
    (void)trickle(c, big.sb.data, 0, PART);
    it_msg m;
    char d[800];
    bool answered = false, closing = false;
    for (int i = 0; i < 2; i++) {
        IT_CHECK(it_recv(c, SHORT_MS, &m) == IT_RECV_MSG);
        if (m.kind == 1 && m.msgid == 5 && !m.is_error)
            answered = true;
        else if (m.kind == 2 && strcmp(m.method, "connection.closing") == 0 &&
                 strcmp(m.code, "unavailable") == 0)
            closing = true;
        else
            it_note("unexpected: %s", it_describe(&m, d, sizeof d));
        it_msg_free(&m);
    }
    IT_CHECK(answered && closing);
    IT_CHECK(it_wait_eof(c, EOF_MS));
    it_buf_free(&big);
    int st = it_server_stop(s, IT_STOP_TIMEOUT_MS);
    IT_CHECKF(st == 0, "baobaod exit status %d", st);
    return 0;
}

static int idle_and_small_connections_do_not_use_the_budget(void)
{
    it_server *s = it_server_start(budget_sets);
    IT_CHECK(s != NULL);
    static it_conn *conns[IDLE_CONNS];
    unsigned char info[32];
    size_t n = it_server_info_bytes(3, info);
    /* 200 connections: each asked something once, and each holds the start
     * of an unfinished small message (kept in its base buffer). */
    for (int i = 0; i < IDLE_CONNS; i++) {
        conns[i] = it_connect_anon(s->port);
        IT_CHECK(conns[i] != NULL);
        IT_CHECK(it_send(conns[i], info, n) == 0);
    }
    for (int i = 0; i < IDLE_CONNS; i++) {
        IT_CHECK(expect_answer(conns[i], 3, IT_REPLY_TIMEOUT_MS) == 0);
        IT_CHECK(it_send(conns[i], info, n / 2) == 0);
    }
    it_sleep_ms(200);
    /* A big message still fits, twice at once (budget 1 MiB: two 600 KiB
     * partials would not, one whole one does). */
    it_buf big;
    it_buf_init(&big);
    pack_big(&big, 13, BIG_BODY);
    it_conn *c = it_connect_anon(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(trickle(c, big.sb.data, 0, big.sb.size) == big.sb.size);
    IT_CHECK(expect_answer(c, 13, IT_REPLY_TIMEOUT_MS) == 0);
    IT_CHECK(!it_server_log_has(s, "input_budget_exhausted"));
    /* the small partial messages complete and are answered */
    for (int i = 0; i < IDLE_CONNS; i++) {
        IT_CHECK(it_send(conns[i], info + n / 2, n - n / 2) == 0);
        IT_CHECK(expect_answer(conns[i], 3, IT_REPLY_TIMEOUT_MS) == 0);
        it_close(conns[i]);
    }
    it_buf_free(&big);
    int st = it_server_stop(s, IT_STOP_TIMEOUT_MS);
    IT_CHECKF(st == 0, "baobaod exit status %d", st);
    return 0;
}

static const it_test tests[] = {
    {"second_big_message_refused_first_finishes_budget_comes_back",
     second_big_message_refused_first_finishes_budget_comes_back},
    {"in_flight_request_answered_after_budget_refusal",
     in_flight_request_answered_after_budget_refusal},
    {"idle_and_small_connections_do_not_use_the_budget",
     idle_and_small_connections_do_not_use_the_budget},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "memory", tests, sizeof tests / sizeof tests[0], NULL);
}
