/*
 * dispatch.h: from a parsed request envelope to a method handler, and the
 * request object handlers answer through (request.h).
 *
 * client.c has already framed, decoded and parsed the envelope and checked
 * max_in_flight; dispatch_request creates the request (which references
 * the connection until it is answered), finds the method among those
 * registered at start (dispatch_register: each a spec of proto/bb_spec.h
 * with its implementation row, method.h), applies the gate (login, roles)
 * and the spec's argument checks (args.c), and runs the implementation
 * with the checked arguments. An unknown method is answered
 * `unknown_method`.
 *
 * Not for: reading bytes or limits (client.c), what a method does
 * (server/methods/).
 */
#ifndef BB_DISPATCH_H
#define BB_DISPATCH_H

#include "bb_rpc.h"
#include "client.h"
#include "method.h"
#include "server.h"

/* The most methods one server registers. */
#define DISPATCH_MAX_METHODS 256

/* Registers the implementation rows of impls (ended by a NULL name), each
 * joined to the spec method of its name. Before the loop runs. Returns 0,
 * or -1 (logged) for a name the spec does not have, a name registered
 * twice, a row that neither has a handler nor a statement, or a full
 * table. */
__attribute__((warn_unused_result)) int dispatch_register(const method_impl *impls);
/* 0 when every method of the spec has an implementation; else -1, each
 * missing one logged. */
__attribute__((warn_unused_result)) int dispatch_check_complete(void);

/* msg must be a request (msg->type == BB_RPC_REQUEST); msg and what it
 * points to are borrowed and only used until this returns. */
void dispatch_request(server *s, client *c, const bb_rpc_msg *msg);

#endif
