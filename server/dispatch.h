/*
 * dispatch.h: from a parsed request envelope to a method handler, and the
 * request object handlers answer through (request.h).
 *
 * client.c has already framed, decoded and parsed the envelope and checked
 * max_in_flight; dispatch_request creates the request (which references
 * the connection until it is answered), finds the method in the tables of
 * methods.h, and calls the handler with the argument map (an empty map
 * when params was []). An unknown method is answered `unknown_method`.
 *
 * Not for: reading bytes or limits (client.c), argument checks (params.c).
 */
#ifndef BB_DISPATCH_H
#define BB_DISPATCH_H

#include "bb_rpc.h"
#include "client.h"
#include "server.h"

/* msg must be a request (msg->type == BB_RPC_REQUEST); msg and what it
 * points to are borrowed and only used until this returns. */
void dispatch_request(server *s, client *c, const bb_rpc_msg *msg);

#endif
