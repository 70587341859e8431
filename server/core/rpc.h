/*
 * rpc.h - dispatch of inbound JSON-RPC frames to method handlers, and the
 * one way handlers answer: an rpc_call that carries the session id and the
 * request id, never a session pointer, so an answer that arrives after the
 * session closed is dropped safely.
 *
 * Handlers have proto_handler_fn's shape: void h(void *ctx, struct proto_msg *msg)
 * where ctx is a struct rpc_call * that the handler now owns. msg and its
 * params live only until the handler returns: a handler that goes
 * asynchronous copies (or json_incref()s) what it needs. Every call ends in
 * exactly one rpc_reply() or rpc_fail(), which frees it.
 */
#ifndef RUNIT_RPC_H
#define RUNIT_RPC_H

#include <stdint.h>
#include <jansson.h>
#include "proto.h"
#include "log.h"

struct srv;
struct sess;

/* A session's requests not yet answered: web.c reads no more of its
 * messages while it has this many (RUNIT_WS_ADDR_CALLS bounds its address's). */
#define RPC_SESS_CALLS_MAX 16

struct rpc_call {
	struct srv *srv;
	uint64_t sess_id;
	json_t *id;	   /* owned; NULL for a client notification */
	char method[48];   /* for logs */
	long long user_id; /* caller, as authenticated when the frame arrived (0: none) */
	enum proto_role role;
	char ip[64];
	char req_id[32];    /* "<session>-<n>": names this request in every log line */
	int64_t t_start_ms; /* when the frame arrived (srv_now_ms) */
};

/* The session, or NULL when it has gone away since the frame arrived. */
struct sess *rpc_sess(struct rpc_call *c);

void rpc_reply(struct rpc_call *c, json_t *result_steal);
void rpc_fail(struct rpc_call *c, enum proto_reason reason, const char *message,
	      json_t *extra_data_steal);
/* Fail with the proto_error a param reader filled in. */
void rpc_fail_err(struct rpc_call *c, const struct proto_error *err);

/* Parse, check role, dispatch one complete inbound text message. */
void rpc_dispatch(struct sess *s, const char *buf, size_t len);
/* Answer an inbound frame that was refused before parsing (too large, binary). */
void rpc_reject(struct sess *s, enum proto_reason reason, const char *message);

/*
 * Log a line about this request: fields (stolen, may be NULL) plus the
 * request's context (request_id, method, session, user_id). Never put
 * params values in fields: they may hold passwords, tokens, codes, env
 * values or file contents.
 */
void rpc_log(const struct rpc_call *c, enum log_level lvl, const char *msg, json_t *fields);

#endif
