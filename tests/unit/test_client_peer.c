/*
 * test_client_peer.c: libbaobao (client/client.c) against a scripted peer
 * that is not baobaod: a forked child on 127.0.0.1 that floods, stalls or
 * sends garbage, so the library's own deadlines and checks can be pinned
 * down where a real server never misbehaves.
 *
 * Pins down: bb_call's timeout holds while the peer floods notifications
 * (every poll finds bytes to read, which once kept bb_wait waiting for as
 * long as the flood lasted); bb_send's write timeout holds while the peer
 * reads nothing and floods (the same, in write_all); a reply that is not
 * msgpack, or that declares four billion elements, breaks the connection
 * with protocol_error instead of waiting or allocating; a reply split into
 * single bytes is matched by msgid; an error map whose text is not UTF-8 is
 * protocol_error (as a result's would be), a good one is copied whole. Not
 * for: anything a real server does (tests/integration).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "baobao.h"

/* The peer never runs longer than this (it is killed after each test). A
 * client whose deadline did not hold would return only when the peer dies,
 * so the slack below must stay well under it. */
#define PEER_LIFETIME_S 40
/* The client's timeout in the deadline tests, and how much later than it
 * the call must have returned: generous, because under ASan on two shared
 * cores a flooding peer can starve the client for seconds (2.5 s was once
 * not enough while other test suites ran); a deadline that does not hold
 * shows as PEER_LIFETIME_S. */
#define CLIENT_TIMEOUT_MS 300
#define CLIENT_SLACK_MS 15000

typedef void (*peer_fn)(int fd);

typedef struct peer {
    pid_t pid;
    char addr[32];
} peer;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes all of buf; false once the client is gone. */
static int send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        p += n;
        len -= (size_t)n;
    }
    return 1;
}

/* Listens on 127.0.0.1 (any port), forks; the child accepts one connection
 * and runs fn on it. */
static void peer_start(peer *p, peer_fn fn)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(ls >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(ls, 4), 0);
    socklen_t al = sizeof a;
    assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &al), 0);
    snprintf(p->addr, sizeof p->addr, "127.0.0.1:%u", ntohs(a.sin_port));
    p->pid = fork();
    assert_true(p->pid >= 0);
    if (p->pid == 0) {
        alarm(PEER_LIFETIME_S);
        int fd = accept(ls, NULL, NULL);
        close(ls);
        if (fd >= 0)
            fn(fd);
        _exit(0);
    }
    close(ls);
}

static void peer_stop(peer *p)
{
    kill(p->pid, SIGKILL);
    int st;
    while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
        ;
}

/* [2, "tick", []] back to back, as fast as the client takes them, never
 * reading what the client sends. */
static void flood_notifications(int fd)
{
    static const unsigned char tick[] = {0x93, 0x02, 0xa4, 't', 'i', 'c', 'k', 0x90};
    unsigned char buf[sizeof tick * 4096];
    for (size_t i = 0; i < sizeof buf; i += sizeof tick)
        memcpy(buf + i, tick, sizeof tick);
    while (send_all(fd, buf, sizeof buf))
        ;
}

static void test_wait_times_out_while_peer_floods(void **state)
{
    (void)state;
    peer p;
    peer_start(&p, flood_notifications);
    bb_error err;
    bb_client *c = bb_connect(p.addr, 5000, &err);
    assert_non_null(c);
    bb_set_timeout(c, CLIENT_TIMEOUT_MS);
    bb_reply *r = NULL;
    int64_t t0 = now_ms();
    int rc = bb_call(c, "server.info", NULL, 0, &r, &err);
    int64_t took = now_ms() - t0;
    bb_close(c);
    peer_stop(&p);
    assert_null(r);
    assert_int_equal(rc, BB_C_ETIMEOUT);
    assert_string_equal(err.code, "timeout");
    assert_true(took < CLIENT_TIMEOUT_MS + CLIENT_SLACK_MS);
}

static void test_send_times_out_while_peer_floods_and_never_reads(void **state)
{
    (void)state;
    peer p;
    peer_start(&p, flood_notifications);
    bb_error err;
    bb_client *c = bb_connect(p.addr, 5000, &err);
    assert_non_null(c);
    bb_set_timeout(c, CLIENT_TIMEOUT_MS);
    /* More than the loopback socket buffers hold, so the write blocks. */
    size_t len = 32u * 1024u * 1024u;
    char *args = malloc(len);
    assert_non_null(args);
    args[0] = (char)0xdb; /* str32 header, then the bytes: never parsed */
    uint32_t body = (uint32_t)(len - 5);
    args[1] = (char)(body >> 24);
    args[2] = (char)(body >> 16);
    args[3] = (char)(body >> 8);
    args[4] = (char)body;
    memset(args + 5, 'a', len - 5);
    uint32_t id = 0;
    int64_t t0 = now_ms();
    int rc = bb_send(c, "server.info", args, len, &id, &err);
    int64_t took = now_ms() - t0;
    free(args);
    bb_close(c);
    peer_stop(&p);
    assert_int_equal(rc, BB_C_ETIMEOUT);
    assert_true(took < CLIENT_TIMEOUT_MS + CLIENT_SLACK_MS);
}

/* Reads the client's request and answers msgid 1 with `reply`, one byte per
 * send, then keeps the connection open. */
static const unsigned char *g_reply;
static size_t g_reply_len;

static void answer_bytewise(int fd)
{
    char buf[4096];
    if (recv(fd, buf, sizeof buf, 0) <= 0)
        return;
    for (size_t i = 0; i < g_reply_len; i++) {
        if (!send_all(fd, g_reply + i, 1))
            return;
        usleep(200);
    }
    while (recv(fd, buf, sizeof buf, 0) > 0)
        ;
}

static int call_against(const unsigned char *reply, size_t len, bb_error *err, bb_reply **r)
{
    g_reply = reply;
    g_reply_len = len;
    peer p;
    peer_start(&p, answer_bytewise);
    bb_client *c = bb_connect(p.addr, 5000, err);
    assert_non_null(c);
    bb_set_timeout(c, 5000);
    int rc = bb_call(c, "server.info", NULL, 0, r, err);
    bb_close(c);
    peer_stop(&p);
    return rc;
}

static void test_reply_split_into_bytes_is_matched(void **state)
{
    (void)state;
    /* [1, 1, nil, "ok"] */
    static const unsigned char reply[] = {0x94, 0x01, 0x01, 0xc0, 0xa2, 'o', 'k'};
    bb_error err;
    bb_reply *r = NULL;
    assert_int_equal(call_against(reply, sizeof reply, &err, &r), BB_C_OK);
    assert_non_null(r);
    const msgpack_object *res = bb_reply_result(r);
    assert_int_equal(res->type, MSGPACK_OBJECT_STR);
    assert_int_equal(res->via.str.size, 2);
    bb_reply_free(r);
}

static void test_reply_declaring_four_billion_elements_is_protocol_error(void **state)
{
    (void)state;
    /* [1, 1, nil, array32 of 0xffffffff] in 9 bytes */
    static const unsigned char reply[] = {0x94, 0x01, 0x01, 0xc0, 0xdd, 0xff, 0xff, 0xff, 0xff};
    bb_error err;
    bb_reply *r = NULL;
    assert_int_equal(call_against(reply, sizeof reply, &err, &r), BB_C_EPROTO);
    assert_null(r);
    assert_string_equal(err.code, "protocol_error");
}

static void test_reply_that_is_not_msgpack_is_protocol_error(void **state)
{
    (void)state;
    static const unsigned char reply[] = {0x94, 0x01, 0x01, 0xc1};
    bb_error err;
    bb_reply *r = NULL;
    assert_int_equal(call_against(reply, sizeof reply, &err, &r), BB_C_EPROTO);
    assert_null(r);
}

static void test_error_reply_with_invalid_utf8_is_protocol_error(void **state)
{
    (void)state;
    /* [1, 1, {"code": "internal", "message": "\xff\xfe"}, nil] */
    static const unsigned char reply[] = {
        0x94, 0x01, 0x01, 0x82, 0xa4, 'c', 'o', 'd', 'e', 0xa8, 'i', 'n', 't', 'e', 'r',
        'n', 'a', 'l', 0xa7, 'm', 'e', 's', 's', 'a', 'g', 'e', 0xa2, 0xff, 0xfe, 0xc0};
    bb_error err;
    bb_reply *r = NULL;
    assert_int_equal(call_against(reply, sizeof reply, &err, &r), BB_C_EPROTO);
    assert_null(r);
    assert_string_equal(err.code, "protocol_error");
}

static void test_error_reply_is_copied_whole(void **state)
{
    (void)state;
    /* [1, 1, {"code": "not_found", "message": "赤壁", "field": "id"}, nil] */
    static const unsigned char reply[] = {
        0x94, 0x01, 0x01, 0x83, 0xa4, 'c', 'o', 'd', 'e', 0xa9, 'n', 'o', 't', '_', 'f', 'o',
        'u', 'n', 'd', 0xa7, 'm', 'e', 's', 's', 'a', 'g', 'e', 0xa6, 0xe8, 0xb5, 0xa4, 0xe5,
        0xa3, 0x81, 0xa5, 'f', 'i', 'e', 'l', 'd', 0xa2, 'i', 'd', 0xc0};
    bb_error err;
    bb_reply *r = NULL;
    assert_int_equal(call_against(reply, sizeof reply, &err, &r), BB_C_ESERVER);
    assert_null(r);
    assert_string_equal(err.code, "not_found");
    assert_string_equal(err.message, "赤壁");
    assert_string_equal(err.field, "id");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wait_times_out_while_peer_floods),
        cmocka_unit_test(test_send_times_out_while_peer_floods_and_never_reads),
        cmocka_unit_test(test_reply_split_into_bytes_is_matched),
        cmocka_unit_test(test_reply_declaring_four_billion_elements_is_protocol_error),
        cmocka_unit_test(test_reply_that_is_not_msgpack_is_protocol_error),
        cmocka_unit_test(test_error_reply_with_invalid_utf8_is_protocol_error),
        cmocka_unit_test(test_error_reply_is_copied_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
