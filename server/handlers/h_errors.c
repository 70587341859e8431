/*
 * h_errors.c - the error monitor's methods (errmon.h): client/error (a
 * browser reports an uncaught error; anyone, even signed out, within
 * strict size and rate limits), admin/error/list (the panel's page of
 * recent errors of every instance) and admin/error/test (an admin makes
 * the server record a test error, to check the panel and Sentry).
 */
#include "handlers.h"
#include "db.h"
#include "errmon.h"
#include "log.h"
#include "rpc.h"
#include "srv.h"

#include <stdlib.h>
#include <string.h>

#define FRAMES_MAX 50

/* Copy params[key] (a string of at most max bytes) into ctx; -1 after failing c. */
static int take_str(struct rpc_call *c, json_t *params, const char *key, size_t max, json_t *ctx)
{
	struct proto_error err;
	const char *v = NULL;

	if (proto_get_str(params, key, 0, max, &v, &err)) {
		rpc_fail_err(c, &err);
		return -1;
	}
	if (v && *v)
		json_object_set_new(ctx, key, json_string(v));
	return 0;
}

static int take_int(struct rpc_call *c, json_t *params, const char *key, json_t *ctx)
{
	struct proto_error err;
	long long v = -1;

	if (proto_get_int(params, key, 0, 0, 100000000, &v, &err)) {
		rpc_fail_err(c, &err);
		return -1;
	}
	if (v >= 0)
		json_object_set_new(ctx, key, json_integer(v));
	return 0;
}

/* frames: [{function, filename, lineno, colno}], innermost first. */
static int take_frames(struct rpc_call *c, json_t *params, json_t *ctx)
{
	struct proto_error err;
	json_t *arr = NULL, *out, *f;
	size_t i;

	if (proto_get_arr(params, "frames", 0, &arr, &err)) {
		rpc_fail_err(c, &err);
		return -1;
	}
	if (!arr)
		return 0;
	if (json_array_size(arr) > FRAMES_MAX) {
		rpc_fail(c, PROTO_R_TOO_LARGE, "at most 50 frames",
			 json_pack("{s:s, s:i, s:I}", "limit", "frames", "max", FRAMES_MAX, "size",
				   (json_int_t)json_array_size(arr)));
		return -1;
	}
	out = json_array();
	json_array_foreach(arr, i, f)
	{
		json_t *o = json_object();
		if (!json_is_object(f)) {
			json_decref(o);
			json_decref(out);
			rpc_fail(c, PROTO_R_INVALID_PARAMS, "frames: each frame is an object",
				 NULL);
			return -1;
		}
		if (take_str(c, f, "function", 200, o) || take_str(c, f, "filename", 500, o) ||
		    take_int(c, f, "lineno", o) || take_int(c, f, "colno", o)) {
			json_decref(o);
			json_decref(out);
			return -1;
		}
		json_array_append_new(out, o);
	}
	json_object_set_new(ctx, "frames", out);
	return 0;
}

static void h_client_error(void *ctx_, struct proto_msg *msg)
{
	struct rpc_call *c = ctx_;
	struct proto_error err;
	const char *message, *type = NULL;
	json_t *p = msg->params, *ctx;
	struct errmon_report r;

	if (proto_get_str(p, "message", 1, 2000, &message, &err) ||
	    proto_get_str(p, "type", 0, 100, &type, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	ctx = json_object();
	if (take_str(c, p, "kind", 32, ctx) || take_str(c, p, "route", 300, ctx) ||
	    take_str(c, p, "url", 500, ctx) || take_str(c, p, "user_agent", 400, ctx) ||
	    take_str(c, p, "stack", 16000, ctx) || take_int(c, p, "line", ctx) ||
	    take_int(c, p, "column", ctx) || take_frames(c, p, ctx)) {
		json_decref(ctx);
		return;
	}
	if (!errmon_client_allowed(c->srv, c->sess_id, c->ip)) {
		json_decref(ctx);
		rpc_fail(c, PROTO_R_RATE_LIMITED, "too many error reports; try again in a minute",
			 NULL);
		return;
	}
	r.source = "browser";
	r.type = type && *type ? type : "Error";
	r.message = message;
	r.user_id = c->user_id; /* the id only: never the name */
	r.context = ctx;
	errmon_report(c->srv, &r);
	rpc_reply(c, NULL);
}

static json_t *row_json(PGresult *res, int i)
{
	json_t *ctx = json_loads(PQgetvalue(res, i, 7), 0, NULL);

	return json_pack(
	    "{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:I, s:I, s:I}", "id",
	    (json_int_t)strtoll(PQgetvalue(res, i, 0), NULL, 10), "event_id", PQgetvalue(res, i, 1),
	    "fingerprint", PQgetvalue(res, i, 2), "source", PQgetvalue(res, i, 3), "level",
	    PQgetvalue(res, i, 4), "type", PQgetvalue(res, i, 5), "message", PQgetvalue(res, i, 6),
	    "context", ctx ? ctx : json_object(), "instance", PQgetvalue(res, i, 8), "user_id",
	    PQgetisnull(res, i, 9) ? json_null()
				   : json_integer(strtoll(PQgetvalue(res, i, 9), NULL, 10)),
	    "count", (json_int_t)strtoll(PQgetvalue(res, i, 10), NULL, 10), "first_at",
	    (json_int_t)strtoll(PQgetvalue(res, i, 11), NULL, 10), "last_at",
	    (json_int_t)strtoll(PQgetvalue(res, i, 12), NULL, 10));
}

struct list_req {
	struct rpc_call *c;
	int limit;
};

static void listed(void *arg, PGresult *res, const char *err)
{
	struct list_req *lr = arg;
	struct rpc_call *c = lr->c;
	json_t *list = json_array(), *next = json_null();
	int n;

	if (!res) {
		/* the database does not answer: this instance's own recent errors */
		json_decref(list);
		rpc_reply(c, json_pack("{s:o, s:n, s:b}", "errors", errmon_recent(c->srv), "next",
				       "partial", 1));
		free(lr);
		return;
	}
	n = PQntuples(res);
	for (int i = 0; i < n && i < lr->limit; i++)
		json_array_append_new(list, row_json(res, i));
	if (n > lr->limit) {
		json_decref(next);
		next = json_integer(strtoll(PQgetvalue(res, lr->limit - 1, 0), NULL, 10));
	}
	rpc_reply(c, json_pack("{s:o, s:o, s:b}", "errors", list, "next", next, "partial", 0));
	free(lr);
}

static void h_list(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct proto_error err;
	long long before = 0, limit = 50;
	struct list_req *lr;
	char b[24], l[24];
	const char *p[2] = {NULL, l};

	if (proto_get_int(msg->params, "before", 0, 1, PROTO_MAX_SAFE_INT, &before, &err) ||
	    proto_get_int(msg->params, "limit", 0, 1, 100, &limit, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	lr = malloc(sizeof(*lr));
	if (!lr) {
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return;
	}
	lr->c = c;
	lr->limit = (int)limit;
	snprintf(b, sizeof(b), "%lld", before);
	snprintf(l, sizeof(l), "%lld", limit + 1);
	p[0] = before ? b : NULL;
	if (db_query(
		c->srv->db,
		"SELECT id, event_id, fingerprint, source, level, type, message, context::text, "
		"instance, user_id, count, (extract(epoch FROM first_at) * 1000)::bigint, "
		"(extract(epoch FROM last_at) * 1000)::bigint FROM errors "
		"WHERE $1::bigint IS NULL OR id < $1::bigint ORDER BY id DESC LIMIT $2::integer",
		2, p, listed, lr))
		listed(lr, NULL, "database unavailable");
}

static void h_test(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct proto_error err;
	const char *kind = NULL;

	if (proto_get_str(msg->params, "kind", 1, 16, &kind, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	if (!strcmp(kind, "log")) {
		log_json(LOG_ERROR, "error monitoring test (admin/error/test)",
			 json_pack("{s:s, s:I}", "request_id", c->req_id, "user_id",
				   (json_int_t)c->user_id));
		rpc_reply(c, NULL);
	} else if (!strcmp(kind, "internal")) {
		rpc_fail(c, PROTO_R_INTERNAL, "error monitoring test (admin/error/test)", NULL);
	} else {
		rpc_fail(c, PROTO_R_INVALID_PARAMS, "kind: \"log\" or \"internal\"", NULL);
	}
}

const struct proto_method error_methods[] = {
    {"client/error", PROTO_ROLE_ANON, h_client_error},
    {"admin/error/list", PROTO_ROLE_ADMIN, h_list},
    {"admin/error/test", PROTO_ROLE_ADMIN, h_test},
};
const size_t error_methods_count = sizeof(error_methods) / sizeof(error_methods[0]);
