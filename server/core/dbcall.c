/*
 * dbcall.c - one statement, one jsonb answer, one JSON-RPC reply (dbcall.h).
 */
#include "dbcall.h"
#include "db.h"
#include "log.h"
#include "rpc.h"
#include "srv.h"

#include <stdlib.h>
#include <string.h>

struct dbcall_req {
	struct rpc_call *c;
	dbcall_fn done;
	void *arg;
};

enum proto_reason dbcall_reason(const char *s)
{
	for (int r = PROTO_R_NONE + 1; s && r < PROTO_R_COUNT; r++)
		if (!strcmp(proto_reason_str((enum proto_reason)r), s))
			return (enum proto_reason)r;
	return PROTO_R_INTERNAL;
}

enum proto_reason dbcall_sqlstate_reason(const char *st)
{
	if (!st || !*st)
		return PROTO_R_UNAVAILABLE;
	if (!strcmp(st, DBCALL_SQLSTATE_PATH))
		return PROTO_R_INVALID_PATH;
	if (!strcmp(st, "23505") || !strcmp(st, "23503") || !strcmp(st, "40001") ||
	    !strcmp(st, "40P01"))
		return PROTO_R_CONFLICT;
	if (!strncmp(st, "22", 2) || !strncmp(st, "23", 2))
		return PROTO_R_INVALID_PARAMS;
	if (!strncmp(st, "08", 2) || !strncmp(st, "57", 2) || !strncmp(st, "53", 2))
		return PROTO_R_UNAVAILABLE;
	return PROTO_R_INTERNAL;
}

void dbcall_answer(struct rpc_call *c, json_t *doc, dbcall_fn done, void *arg)
{
	json_t *ok = json_object_get(doc, "ok");
	json_t *e = json_object_get(doc, "error");

	if (!json_is_object(doc)) {
		rpc_fail(c, PROTO_R_INTERNAL, "unexpected answer from the database", NULL);
	} else if (ok && !e) {
		if (done)
			done(arg, c, ok);
		else
			rpc_reply(c, json_incref(ok));
		return;
	} else {
		rpc_fail(c, dbcall_reason(json_string_value(e)),
			 json_string_value(json_object_get(doc, "message")),
			 json_incref(json_object_get(doc, "data")));
	}
	if (done)
		done(arg, NULL, NULL);
}

void dbcall_fail(struct rpc_call *c, const char *err, dbcall_fn done, void *arg)
{
	enum proto_reason r = dbcall_sqlstate_reason(db_last_sqlstate(c->srv->db));

	if (r == PROTO_R_INTERNAL)
		rpc_log(c, LOG_ERROR, "statement failed",
			json_pack("{s:s, s:s}", "sqlstate", db_last_sqlstate(c->srv->db), "error",
				  err ? err : ""));
	rpc_fail(c, r,
		 r == PROTO_R_INVALID_PARAMS || r == PROTO_R_CONFLICT || r == PROTO_R_INVALID_PATH
		     ? err
		 : r == PROTO_R_UNAVAILABLE ? "database unavailable, try again"
					    : "internal error",
		 NULL);
	if (done)
		done(arg, NULL, NULL);
}

static void answered(void *arg, PGresult *res, const char *err)
{
	struct dbcall_req *q = arg;
	json_t *doc = NULL;

	if (!res)
		dbcall_fail(q->c, err, q->done, q->arg);
	else if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0) ||
		 !(doc = json_loads(PQgetvalue(res, 0, 0), 0, NULL)))
		dbcall_answer(q->c, NULL, q->done, q->arg);
	else
		dbcall_answer(q->c, doc, q->done, q->arg);
	json_decref(doc);
	free(q);
}

int dbcall(struct rpc_call *c, const char *sql, int nparams, const char *const *params,
	   dbcall_fn done, void *arg)
{
	struct dbcall_req *q = calloc(1, sizeof(*q));

	if (q) {
		q->c = c;
		q->done = done;
		q->arg = arg;
	}
	if (!q || db_query(c->srv->db, sql, nparams, params, answered, q)) {
		free(q);
		rpc_fail(c, PROTO_R_UNAVAILABLE, "database unavailable, try again", NULL);
		return -1;
	}
	return 0;
}
