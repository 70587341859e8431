/*
 * h_run.c - the run methods: run/start, run/stop, run/stdin, run/resize, run/attach,
 * run/history, run/logs, run/get, run/latest, and the admins' admin/run/list
 * and admin/run/cancel. The engine is run.c; this file checks params and
 * access. run/latest alone works without signing in: a public project's
 * latest finished run, when its owner made runs public (sql/013_front.sql).
 */
#include "handlers.h"
#include "access.h"
#include "audit.h"
#include "db.h"
#include "dbcall.h"
#include "h_common.h"
#include "paths.h"
#include "rpc.h"
#include "run_follow.h"
#include "run_int.h"
#include "srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STDIN_MAX (64 * 1024)
#define START_MAX_FILES 200
/* A terminal's size: the default, and the most rows or columns. */
#define TTY_ROWS 24
#define TTY_COLS 80
#define TTY_MAX 1000
/* A run/logs page stops after about this much data (then "next" says where to go on). */
#define LOGS_PAGE_BYTES (1024 * 1024)

/* Who may see a run, live or stored: runit_sees_runs(), the owner, admins,
 * editors and viewers of its project now (sql/006_runs_access.sql). */
#define RUN_JOIN "FROM runs r JOIN projects p ON p.id = r.project_id JOIN users u ON u.id = $2 "
#define RUN_WHERE "WHERE r.id = $1 AND runit_sees_runs(r.project_id, $2, u.role = 'admin') "
#define RUN_VISIBLE RUN_JOIN RUN_WHERE

static int get_id(struct rpc_call *c, json_t *params, const char *key, long long *out)
{
	struct proto_error err;

	if (proto_get_int(params, key, 1, 1, PROTO_MAX_SAFE_INT, out, &err)) {
		rpc_fail_err(c, &err);
		return -1;
	}
	return 0;
}

/* rows and cols (each optional, 1..TTY_MAX) into term; -1 after a failure. */
static int get_size(struct rpc_call *c, json_t *params, int required, struct run_term *term)
{
	struct proto_error err;
	long long rows = TTY_ROWS, cols = TTY_COLS;

	if (proto_get_int(params, "rows", required, 1, TTY_MAX, &rows, &err) ||
	    proto_get_int(params, "cols", required, 1, TTY_MAX, &cols, &err)) {
		rpc_fail_err(c, &err);
		return -1;
	}
	term->rows = (unsigned)rows;
	term->cols = (unsigned)cols;
	return 0;
}

/* run/start's unsaved buffers checked (how many, their names, each a string), the
 * names put in NFC, before the start reaches the engine: a bad one cannot
 * make a good start of the same project give way (it would be the slot's
 * newest, run_start.c). 0, or -1 once answered. */
static int files_checked(struct rpc_call *c, json_t **files)
{
	const char *path, *why;
	char msg[400];
	json_t *v;

	if (!*files)
		return 0;
	if (json_object_size(*files) > START_MAX_FILES) {
		rpc_fail(c, PROTO_R_TOO_LARGE, "too many files", NULL);
		return -1;
	}
	json_object_foreach(*files, path, v)
	{
		if ((why = paths_invalid(path, strlen(path)))) {
			snprintf(msg, sizeof(msg), "invalid path: %s", why);
			rpc_fail(c, PROTO_R_INVALID_PATH, msg, NULL);
			return -1;
		}
		if (!json_is_string(v)) {
			rpc_fail(c, PROTO_R_INVALID_PARAMS, "files maps paths to strings", NULL);
			return -1;
		}
	}
	if (paths_nfc_keys(files, msg, sizeof(msg))) {
		rpc_fail(c, PROTO_R_INVALID_PATH, msg, NULL);
		return -1;
	}
	return 0;
}

static void h_start(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct proto_error err;
	struct run_term term = {0};
	long long project;
	json_t *files = NULL;

	if (get_id(c, msg->params, "project", &project))
		return;
	if (proto_get_obj(msg->params, "files", 0, &files, &err) ||
	    proto_get_bool(msg->params, "tty", 0, &term.tty, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	if (get_size(c, msg->params, 0, &term))
		return;
	if (!term.tty &&
	    (json_object_get(msg->params, "rows") || json_object_get(msg->params, "cols"))) {
		rpc_fail(c, PROTO_R_INVALID_PARAMS, "rows and cols need tty: true", NULL);
		return;
	}
	files = files ? json_incref(files) : NULL;
	if (!files_checked(c, &files))
		run_start(c, project, files, &term);
	json_decref(files);
}

/* The live run if the caller may act on it (its user or an admin). */
static struct run *own_run(struct rpc_call *c, json_t *params)
{
	long long id;
	struct run *r;

	if (get_id(c, params, "run", &id))
		return NULL;
	r = run_find(c->srv, id);
	if (!r || (r->user_id != c->user_id && c->role != PROTO_ROLE_ADMIN)) {
		rpc_fail(c, PROTO_R_NOT_FOUND, "no such active run", NULL);
		return NULL;
	}
	return r;
}

/* ---- a run of another instance: stopped through NOTIFY runit_run_cancel ---- */

struct remote_stop {
	struct rpc_call *c;
	long long id;
	const char *reason; /* "stopped" (its user) or "cancelled" (an admin) */
};

static void remote_notified(void *arg, PGresult *res, const char *err)
{
	struct rpc_call *c = arg;

	(void)err;
	if (!res)
		rpc_fail(c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
	else
		rpc_reply(c, NULL);
}

static void remote_row(void *arg, PGresult *res, const char *err)
{
	struct remote_stop *x = arg;
	struct rpc_call *c = x->c;
	char payload[48], target[32];
	const char *p[1] = {payload};
	long long user;

	(void)err;
	if (!res) {
		rpc_fail(c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		goto out;
	}
	user = PQntuples(res) == 1 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	if (!user || (user != c->user_id && c->role < PROTO_ROLE_ADMIN) ||
	    (!strcmp(x->reason, "cancelled") && c->role < PROTO_ROLE_ADMIN)) {
		rpc_fail(c, PROTO_R_NOT_FOUND, "no such active run", NULL);
		goto out;
	}
	if (!strcmp(x->reason, "cancelled")) {
		snprintf(target, sizeof(target), "run:%lld", x->id);
		audit(c->srv, c->user_id, "run.cancel", target,
		      json_pack("{s:I, s:I}", "user", (json_int_t)user, "project",
				(json_int_t)strtoll(PQgetvalue(res, 0, 1), NULL, 10)),
		      c->ip);
	}
	snprintf(payload, sizeof(payload), "%lld %s", x->id, x->reason);
	if (db_query(c->srv->db, "SELECT pg_notify('runit_run_cancel', $1)", 1, p, remote_notified,
		     c))
		rpc_fail(c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
out:
	free(x);
}

/* Not a run of this server: ask the one that runs it, if it is active. */
static void stop_remote(struct rpc_call *c, long long id, const char *reason)
{
	struct remote_stop *x = calloc(1, sizeof(*x));
	char rid[24];
	const char *p[1] = {rid};

	if (!x) {
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return;
	}
	x->c = c;
	x->id = id;
	x->reason = reason;
	snprintf(rid, sizeof(rid), "%lld", id);
	if (db_query(c->srv->db,
		     "SELECT user_id, project_id FROM runs WHERE id = $1 AND state <> 'finished'",
		     1, p, remote_row, x)) {
		free(x);
		rpc_fail(c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
	}
}

/*
 * The shared console (issue 14): besides the run's user and admins, the
 * project's editors and owner may stop a run; only the run's user (or an
 * admin) types into it. Others who see the project's runs (viewers, and
 * editors for input) get FORBIDDEN; anyone else NOT_FOUND, as if the run
 * did not exist. The access check is asynchronous, so the run is looked
 * up again afterwards.
 */
struct console_act {
	struct rpc_call *c;
	long long run;
	int stop; /* else stdin: data, len, eof */
	char *data;
	size_t len;
	int eof;
};

static void console_do(struct console_act *a, struct run *r)
{
	struct rpc_call *c = a->c;
	int rc;

	if (a->stop) {
		run_cancel(r, "stopped", "stopped");
		rpc_reply(c, NULL);
		return;
	}
	if (r->ending) {
		rpc_fail(c, PROTO_R_CONFLICT, "the program is not running", NULL);
		return;
	}
	rc = run_stdin(r, a->data, a->len, a->eof);
	if (rc == PLAT_E_AGAIN)
		rpc_fail(c, PROTO_R_RATE_LIMITED, "the program is not reading its input", NULL);
	else if (rc)
		rpc_fail(c, PROTO_R_CONFLICT, "the program's input is closed", NULL);
	else
		rpc_reply(c, NULL);
}

static void console_act_free(struct console_act *a)
{
	free(a->data);
	free(a);
}

static void console_checked(void *arg, enum proto_reason reason, const char *name,
			    const char *message)
{
	struct console_act *a = arg;
	struct run *r = run_find(a->c->srv, a->run);

	if (reason == PROTO_R_UNAVAILABLE)
		rpc_fail(a->c, reason, message, NULL);
	else if (!r || !name || !access_sees_runs(name))
		rpc_fail(a->c, PROTO_R_NOT_FOUND, "no such active run", NULL);
	else if (a->stop && reason == PROTO_R_NONE)
		console_do(a, r);
	else
		rpc_fail(a->c, PROTO_R_FORBIDDEN,
			 a->stop ? "viewers watch a run: only its user and the project's editors "
				   "may stop it"
				 : "only the run's user types into it",
			 NULL);
	console_act_free(a);
}

/* Act at once for the run's user or an admin, else after the check. */
static void console(struct console_act *a, json_t *params)
{
	struct rpc_call *c = a->c;
	struct run *r;

	if (get_id(c, params, "run", &a->run)) {
		console_act_free(a);
		return;
	}
	r = run_find(c->srv, a->run);
	if (!r && a->stop) {
		stop_remote(c, a->run, "stopped"); /* another instance runs it */
		console_act_free(a);
	} else if (!r) {
		rpc_fail(c, PROTO_R_NOT_FOUND, "no such active run", NULL);
		console_act_free(a);
	} else if (r->user_id == c->user_id || c->role == PROTO_ROLE_ADMIN) {
		console_do(a, r);
		console_act_free(a);
	} else if (access_check(c->srv, r->project_id, c->user_id, c->role,
				a->stop ? ACCESS_WRITE : ACCESS_READ, console_checked, a)) {
		rpc_fail(c, PROTO_R_UNAVAILABLE, "database unavailable, try again", NULL);
		console_act_free(a);
	}
}

static void h_stop(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct console_act *a = calloc(1, sizeof(*a));

	if (!a) {
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return;
	}
	a->c = c;
	a->stop = 1;
	console(a, msg->params);
}

static void h_stdin(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct proto_error err;
	const char *data = "";
	int eof = 0;
	struct console_act *a;

	if (proto_get_str(msg->params, "data", 0, STDIN_MAX, &data, &err) ||
	    proto_get_bool(msg->params, "eof", 0, &eof, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	if (!(a = calloc(1, sizeof(*a))) || !(a->data = strdup(data))) {
		free(a);
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return;
	}
	a->c = c;
	a->len = strlen(data);
	a->eof = eof;
	console(a, msg->params);
}

static void h_resize(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct run_term term;
	struct run *r;
	int rc;

	if (get_size(c, msg->params, 1, &term))
		return;
	r = own_run(c, msg->params);
	if (!r)
		return;
	rc = run_resize(r, term.rows, term.cols);
	if (rc == PLAT_E_UNSUPPORTED)
		rpc_fail(c, PROTO_R_CONFLICT,
			 "the run has no terminal (it was started without tty)", NULL);
	else if (rc)
		rpc_fail(c, PROTO_R_CONFLICT, "the program is not running", NULL);
	else
		rpc_reply(c, NULL);
}

/* ---- reads that check visibility in SQL first ---- */

struct visible_req {
	struct rpc_call *c;
	long long run, from, limit;
};

static int query_visible(struct rpc_call *c, const char *sql, long long run, db_cb cb,
			 struct visible_req *v)
{
	char rid[24], uid[24], a[24], b[24];
	const char *p[4] = {rid, uid, a, b};

	snprintf(rid, sizeof(rid), "%lld", run);
	snprintf(uid, sizeof(uid), "%lld", c->user_id);
	snprintf(a, sizeof(a), "%lld", v->from);
	snprintf(b, sizeof(b), "%lld", v->limit);
	return db_query(c->srv->db, sql,
			strstr(sql, "$4")   ? 4
			: strstr(sql, "$3") ? 3
					    : 2,
			p, cb, v);
}

static struct visible_req *vreq(struct rpc_call *c, long long run, long long from, long long limit)
{
	struct visible_req *v = calloc(1, sizeof(*v));

	if (!v) {
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return NULL;
	}
	v->c = c;
	v->run = run;
	v->from = from;
	v->limit = limit;
	return v;
}

static void attach_checked(void *arg, PGresult *res, const char *err)
{
	struct visible_req *v = arg;

	if (!res)
		rpc_fail(v->c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
	else if (PQntuples(res) != 1)
		rpc_fail(v->c, PROTO_R_NOT_FOUND, "no such run", NULL);
	else if (strcmp(PQgetvalue(res, 0, 1), "finished") && !run_find(v->c->srv, v->run))
		run_follow_attach(v->c->srv, v->c, v->run, strtoll(PQgetvalue(res, 0, 2), NULL, 10),
				  PQgetvalue(res, 0, 1),
				  PQgetisnull(res, 0, 3) ? 0
							 : strtoll(PQgetvalue(res, 0, 3), NULL, 10),
				  v->from); /* another instance runs it */
	else
		run_replay(v->c->srv, v->c, v->run, v->from);
	free(v);
}

static void h_attach(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct proto_error err;
	long long id, from = 1;
	struct visible_req *v;

	if (get_id(c, msg->params, "run", &id))
		return;
	if (proto_get_int(msg->params, "from_seq", 0, 0, PROTO_MAX_SAFE_INT, &from, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	if (!(v = vreq(c, id, from, 0)))
		return;
	if (query_visible(
		c, "SELECT r.id, r.state, r.project_id, runit_queue_position(r.id) " RUN_VISIBLE,
		id, attach_checked, v)) {
		rpc_fail(c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		free(v);
	}
}

static void logs_read(void *arg, PGresult *res, const char *err)
{
	struct visible_req *v = arg;
	json_t *chunks;
	int n;

	if (!res) {
		rpc_fail(v->c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		free(v);
		return;
	}
	n = PQntuples(res);
	if (n == 0 || PQgetisnull(res, 0, 0)) {
		rpc_fail(v->c, PROTO_R_NOT_FOUND, "no such run", NULL);
		free(v);
		return;
	}
	chunks = json_array();
	size_t bytes = 0;
	int i;
	for (i = 0; i < n; i++) {
		if (PQgetisnull(res, i, 1))
			continue; /* the visibility row of a run without logs */
		if (i >= v->limit || bytes > LOGS_PAGE_BYTES)
			break;
		bytes += (size_t)PQgetlength(res, i, 3);
		json_array_append_new(
		    chunks,
		    json_pack("{s:I, s:s, s:s}", "seq",
			      (json_int_t)strtoll(PQgetvalue(res, i, 1), NULL, 10), "stream",
			      PQgetvalue(res, i, 2), "data", PQgetvalue(res, i, 3)));
	}
	json_t *next = i < n && !PQgetisnull(res, i, 1)
			   ? json_integer(strtoll(PQgetvalue(res, i, 1), NULL, 10))
			   : json_null();
	rpc_reply(v->c, json_pack("{s:I, s:o, s:o}", "run", (json_int_t)v->run, "chunks", chunks,
				  "next", next));
	free(v);
}

static void h_logs(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct proto_error err;
	long long id, from = 1, limit = 500;
	struct visible_req *v;

	if (get_id(c, msg->params, "run", &id))
		return;
	if (proto_get_int(msg->params, "from", 0, 0, PROTO_MAX_SAFE_INT, &from, &err) ||
	    proto_get_int(msg->params, "limit", 0, 1, 5000, &limit, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	if (!(v = vreq(c, id, from, limit)))
		return;
	/* one row per chunk (limit + 1 to know the next), or one null row when visible and empty */
	if (query_visible(
		c,
		"SELECT r.id, l.seq, l.stream, l.data " RUN_JOIN
		"LEFT JOIN LATERAL (SELECT seq, stream, data FROM run_logs WHERE run_id = "
		"r.id AND seq >= $3 ORDER BY seq LIMIT $4::int + 1) l ON true " RUN_WHERE
		"ORDER BY l.seq",
		id, logs_read, v)) {
		rpc_fail(c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		free(v);
	}
}

static void got_run(void *arg, PGresult *res, const char *err)
{
	struct visible_req *v = arg;
	json_t *snap, *o;

	if (!res) {
		rpc_fail(v->c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		free(v);
		return;
	}
	if (PQntuples(res) != 1) {
		rpc_fail(v->c, PROTO_R_NOT_FOUND, "no such run", NULL);
		free(v);
		return;
	}
	o = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	if (v->limit) { /* run/get: with the code */
		snap = PQgetisnull(res, 0, 1) ? json_object()
					      : json_loads(PQgetvalue(res, 0, 1), 0, NULL);
		json_object_set_new(o, "files", snap ? snap : json_object());
	}
	if (PQnfields(res) > 2 && !PQgetisnull(res, 0, 2)) /* waiting: its place now */
		json_object_set_new(o, "position",
				    json_integer(strtoll(PQgetvalue(res, 0, 2), NULL, 10)));
	rpc_reply(v->c, o);
	free(v);
}

#define RUN_ROW_JSON                                                                               \
	"json_build_object('run', r.id, 'project', r.project_id, 'user', r.user_id, "              \
	"'username', (SELECT username FROM users WHERE id = r.user_id), 'state', r.state, "        \
	"'reason', r.reason, 'exit_code', r.exit_code, 'created_at', "                             \
	"extract(epoch FROM r.created_at)::bigint, 'duration_ms', r.duration_ms, "                 \
	"'first_byte_ms', r.first_byte_ms, 'output_bytes', r.output_bytes, 'last_seq', "           \
	"r.last_seq, 'error', r.error_message, 'runtime', (SELECT code FROM runtimes WHERE id = "  \
	"r.runtime_id), 'tty', r.tty, 'code', r.end_code)"

static void h_get(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	long long id;
	struct visible_req *v;

	if (get_id(c, msg->params, "run", &id))
		return;
	if (!(v = vreq(c, id, 0, 1)))
		return;
	if (query_visible(c,
			  "SELECT " RUN_ROW_JSON
			  ", r.code_snapshot, runit_queue_position(r.id) " RUN_VISIBLE,
			  id, got_run, v)) {
		rpc_fail(c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		free(v);
	}
}

static void history_read(void *arg, PGresult *res, const char *err)
{
	struct visible_req *v = arg;

	if (!res) {
		rpc_fail(v->c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
	} else if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		rpc_fail(v->c, PROTO_R_NOT_FOUND, "no such project", NULL);
	} else {
		json_t *runs = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
		rpc_reply(v->c, json_pack("{s:I, s:o}", "project", (json_int_t)v->run, "runs",
					  runs ? runs : json_array()));
	}
	free(v);
}

static void h_history(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct proto_error err;
	long long project, limit = 20;
	struct visible_req *v;

	if (get_id(c, msg->params, "project", &project))
		return;
	if (proto_get_int(msg->params, "limit", 0, 1, 100, &limit, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	if (!(v = vreq(c, project, limit, limit)))
		return;
	/* NULL when the project is not visible; else the newest runs first */
	if (query_visible(
		c,
		"SELECT CASE WHEN runit_sees_runs($1, $2, (SELECT role = 'admin' FROM users "
		"WHERE id = $2)) THEN (SELECT coalesce(json_agg(x.j ORDER BY x.id DESC), "
		"'[]') FROM (SELECT r.id, " RUN_ROW_JSON " AS j FROM runs r WHERE "
		"r.project_id = $1 ORDER BY r.id DESC LIMIT $3) x) END",
		project, history_read, v)) {
		rpc_fail(c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		free(v);
	}
}

/* run/latest: the newest finished run of a project and the start of its log
 * (runit_run_latest decides who may see it). */
static void h_latest(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct proto_error err;
	struct hc_who who;
	long long project, limit = 500;
	char lim[24];
	const char *p[4];

	if (get_id(c, msg->params, "project", &project))
		return;
	if (proto_get_int(msg->params, "limit", 0, 1, 5000, &limit, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	hc_who(c, project, &who);
	snprintf(lim, sizeof(lim), "%lld", limit);
	p[0] = who.uid;
	p[1] = who.is_admin;
	p[2] = who.pid;
	p[3] = lim;
	dbcall(c, "SELECT runit_run_latest($1::bigint, $2::boolean, $3::bigint, $4::int)", 4, p,
	       NULL, NULL);
}

/* ---- admins ---- */

static void describe_into(struct run *r, void *arg)
{
	json_array_append_new(arg, run_describe(r));
}

static void h_admin_list(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	json_t *list = json_array();

	run_foreach(c->srv, describe_into, list);
	rpc_reply(c, json_pack("{s:o}", "runs", list));
}

static void h_admin_cancel(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	long long id;
	struct run *r;
	char target[32];

	if (get_id(c, msg->params, "run", &id))
		return;
	r = run_find(c->srv, id);
	if (!r) {
		stop_remote(c, id, "cancelled");
		return;
	}
	snprintf(target, sizeof(target), "run:%lld", id);
	audit(c->srv, c->user_id, "run.cancel", target,
	      json_pack("{s:I, s:I}", "user", (json_int_t)r->user_id, "project",
			(json_int_t)r->project_id),
	      c->ip);
	run_cancel(r, "cancelled", "cancelled by an admin");
	rpc_reply(c, NULL);
}

const struct proto_method run_methods[] = {
    {"run/start", PROTO_ROLE_USER, h_start},
    {"run/stop", PROTO_ROLE_USER, h_stop},
    {"run/stdin", PROTO_ROLE_USER, h_stdin},
    {"run/resize", PROTO_ROLE_USER, h_resize},
    {"run/attach", PROTO_ROLE_USER, h_attach},
    {"run/logs", PROTO_ROLE_USER, h_logs},
    {"run/get", PROTO_ROLE_USER, h_get},
    {"run/history", PROTO_ROLE_USER, h_history},
    {"run/latest", PROTO_ROLE_ANON, h_latest},
    {"admin/run/list", PROTO_ROLE_ADMIN, h_admin_list},
    {"admin/run/cancel", PROTO_ROLE_ADMIN, h_admin_cancel},
};
const size_t run_methods_count = sizeof(run_methods) / sizeof(run_methods[0]);
