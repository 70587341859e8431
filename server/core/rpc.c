/*
 * rpc.c - turn one inbound text message into one handler call (or one error
 * frame), with the role check that every method declares in the table.
 */
#include "rpc.h"
#include "errmon.h"
#include "sess.h"
#include "srv.h"
#include "log.h"
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

/* A client that sends this many refused frames in a row is cut off. */
#define RPC_MAX_BAD_IN_ROW 200

/* Numbers the requests of this process: request ids are "<session>-<n>". */

struct sess *rpc_sess(struct rpc_call *c)
{
	struct sess *s = sess_find(c->srv, c->sess_id);

	return (s && !s->closing) ? s : NULL;
}

void rpc_log(const struct rpc_call *c, enum log_level lvl, const char *msg, json_t *fields)
{
	json_t *o;

	if (!log_enabled(lvl)) {
		json_decref(fields);
		return;
	}
	o = json_pack("{s:s, s:s, s:I, s:I}", "request_id", c->req_id, "method", c->method,
		      "session", (json_int_t)c->sess_id, "user_id", (json_int_t)c->user_id);
	if (o && fields)
		json_object_update(o, fields);
	json_decref(fields);
	log_json(lvl, msg, o);
}

/* Errors the caller caused are worth an info line; ours or a dependency's a warning. */
static enum log_level fail_level(enum proto_reason r)
{
	if (r == PROTO_R_INTERNAL || r == PROTO_R_UNAVAILABLE || r == PROTO_R_PLATFORM_UNAVAILABLE)
		return LOG_WARN;
	return LOG_INFO;
}

static void call_free(struct rpc_call *c)
{
	struct sess *s = sess_find(c->srv, c->sess_id);

	if (s && s->calls)
		s->calls--;
	if (c->srv->call_count)
		c->srv->call_count(c->srv, c->ip, -1);
	json_decref(c->id);
	free(c);
}

void rpc_reply(struct rpc_call *c, json_t *result)
{
	struct sess *s = rpc_sess(c);
	size_t len;

	if (!result)
		result = json_object();
	if (log_enabled(LOG_DEBUG))
		rpc_log(
		    c, LOG_DEBUG, "request done",
		    json_pack("{s:I}", "duration_ms", (json_int_t)(srv_now_ms() - c->t_start_ms)));
	if (s && c->id) {
		char *f = proto_result(c->id, result, &len);
		sess_send(s, f, len);
	}
	json_decref(result);
	call_free(c);
}

static void send_error(struct sess *s, json_t *id, enum proto_reason reason, const char *message,
		       json_t *extra)
{
	size_t len;
	char *f = proto_error_frame(id, reason, message, extra, &len);

	metrics_error(reason);
	sess_send(s, f, len);
}

void rpc_fail(struct rpc_call *c, enum proto_reason reason, const char *message, json_t *extra)
{
	struct sess *s = rpc_sess(c);

	/* never params: they may hold passwords, tokens, codes, env values, code */
	rpc_log(c, fail_level(reason), "request failed",
		json_pack("{s:s, s:s, s:s, s:I}", "reason", proto_reason_str(reason), "error",
			  message ? message : "", "ip", c->ip, "duration_ms",
			  (json_int_t)(srv_now_ms() - c->t_start_ms)));
	if (reason == PROTO_R_INTERNAL) /* ours: the admins' error panel lists it */
		errmon_rpc_internal(c->srv, c->method, message, c->user_id, c->req_id);
	if (s && c->id)
		send_error(s, c->id, reason, message, extra);
	json_decref(extra);
	call_free(c);
}

void rpc_fail_err(struct rpc_call *c, const struct proto_error *err)
{
	rpc_fail(c, err->reason, err->message, NULL);
}

static void note_bad_frame(struct sess *s)
{
	if (++s->bad_in_row >= RPC_MAX_BAD_IN_ROW) {
		log_json(LOG_WARN, "closing flooding client",
			 json_pack("{s:I, s:s}", "session", (json_int_t)s->id, "ip", s->ip));
		sess_close(s, 4009, "too many invalid frames");
	}
}

/* An error sent before any handler ran (bad frame, unknown method, role). */
static void log_refused(struct sess *s, const char *method, enum proto_reason reason,
			const char *message)
{
	if (!log_enabled(LOG_INFO))
		return;
	log_json(LOG_INFO, "request refused",
		 json_pack("{s:s*, s:s, s:s, s:I, s:I, s:s}", "method", method, "reason",
			   proto_reason_str(reason), "error", message ? message : "", "session",
			   (json_int_t)s->id, "user_id", (json_int_t)s->user_id, "ip", s->ip));
}

void rpc_reject(struct sess *s, enum proto_reason reason, const char *message)
{
	log_refused(s, NULL, reason, message);
	send_error(s, NULL, reason, message, NULL);
	note_bad_frame(s);
}

void rpc_dispatch(struct sess *s, const char *buf, size_t len)
{
	struct proto_msg msg;
	struct proto_error err;
	const struct proto_method *m;
	struct rpc_call *c;

	if (proto_parse(buf, len, &s->srv->limits, &msg, &err)) {
		log_refused(s, NULL, err.reason, err.message);
		send_error(s, msg.id, err.reason, err.message, NULL);
		proto_msg_release(&msg);
		note_bad_frame(s);
		return;
	}
	m = s->srv->method_find ? s->srv->method_find(msg.method) : NULL;
	if (!m) {
		char name[48];
		snprintf(name, sizeof(name), "%s", msg.method ? msg.method : "");
		name[proto_utf8_valid_prefix(name, strlen(name))] = '\0';
		log_refused(s, name, PROTO_R_METHOD_NOT_FOUND, "unknown method");
		if (msg.id)
			send_error(s, msg.id, PROTO_R_METHOD_NOT_FOUND, "unknown method", NULL);
		proto_msg_release(&msg);
		note_bad_frame(s);
		return;
	}
	s->bad_in_row = 0;
	if (m->role > s->role) {
		enum proto_reason r =
		    s->role == PROTO_ROLE_ANON ? PROTO_R_UNAUTHENTICATED : PROTO_R_FORBIDDEN;
		const char *why =
		    r == PROTO_R_UNAUTHENTICATED ? "sign in first" : "this needs the admin role";
		log_refused(s, m->name, r, why);
		if (msg.id)
			send_error(s, msg.id, r, why, NULL);
		proto_msg_release(&msg);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		proto_msg_release(&msg);
		return;
	}
	c->srv = s->srv;
	c->sess_id = s->id;
	c->id = msg.id ? json_incref(msg.id) : NULL;
	snprintf(c->method, sizeof(c->method), "%s", msg.method);
	c->user_id = s->user_id;
	c->role = s->role;
	snprintf(c->ip, sizeof(c->ip), "%s", s->ip);
	snprintf(c->req_id, sizeof(c->req_id), "%llu-%llu", (unsigned long long)s->id,
		 ++s->srv->req_seq);
	c->t_start_ms = srv_now_ms();
	s->calls++;
	if (s->srv->call_count)
		s->srv->call_count(s->srv, s->ip, 1);
	if (log_enabled(LOG_DEBUG))
		rpc_log(c, LOG_DEBUG, "request", NULL);
	m->handler(c, &msg);
	proto_msg_release(&msg);
}
