/*
 * request.h: what a method handler sees of one request.
 *
 * The dispatcher (dispatch.c) parses the envelope, finds the method,
 * checks its arguments against the spec (args.c) and calls its handler
 * with the checked values (method.h). The handler usually starts a
 * statement (mstmt_query) and eventually answers exactly once with
 * req_reply_error or req_result_begin/_end. The argument map and
 * everything borrowed from it are freed when the handler returns: copy
 * what the callback needs (the pool copies its values).
 *
 * A request may outlive its connection (the client hung up while the query
 * ran): answering then is still required, and silently drops the bytes.
 */
#ifndef BB_REQUEST_H
#define BB_REQUEST_H

#include <msgpack.h>
#include <stdint.h>
#include "bb_errors.h"

typedef struct request request;
struct server;

/* Request id and connection id, for log lines. */
uint32_t req_msgid(const request *req);
uint64_t req_conn_id(const request *req);
/* The server (config, pool, loop): borrowed, lives longer than any request. */
struct server *req_server(const request *req);

/* Answers with an error; field may be NULL. Ends the request (req is freed). */
void req_reply_error(request *req, bb_err code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Starts a success answer: returns a packer positioned where the result
 * value goes. Pack exactly one value, then call req_result_end, which sends
 * it and ends the request. */
msgpack_packer *req_result_begin(request *req);
void req_result_end(request *req);

#endif
