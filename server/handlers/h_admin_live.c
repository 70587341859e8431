/*
 * h_admin_live.c - the dashboard's live methods: admin/subscribe (a
 * snapshot of runs, sessions, platforms and runtime images, then every bus
 * event through admin_view.c), admin/unsubscribe, admin/session/list and
 * admin/session/kick.
 */
#include "handlers.h"
#include "admin_view.h"
#include "audit.h"
#include "bus.h"
#include "db.h"
#include "rpc.h"
#include "run.h"
#include "run_image.h"
#include "run_plat.h"
#include "sess.h"
#include "srv.h"

#include <stdlib.h>
#include <string.h>

static json_t *sess_json(struct sess *s)
{
	int64_t now = srv_now_ms();

	return json_pack("{s:I, s:o, s:s, s:s, s:I, s:I, s:I}", "session", (json_int_t)s->id,
			 "user", s->user_id ? json_integer(s->user_id) : json_null(), "username",
			 s->username, "ip", s->ip, "age_ms", (json_int_t)(now - s->opened_ms),
			 "idle_ms", (json_int_t)(now - s->last_active_ms), "queued_bytes",
			 (json_int_t)s->q_bytes);
}

static void add_sess(struct sess *s, void *arg)
{
	json_array_append_new(arg, sess_json(s));
}

static void add_run(struct run *r, void *arg)
{
	json_array_append_new(arg, run_describe(r));
}

struct snap {
	struct rpc_call *c;
	json_t *runs, *sessions;
	long long seq;
};

static void platforms_read(void *arg, PGresult *res, const char *err)
{
	struct snap *sn = arg;
	struct sess *s = rpc_sess(sn->c);
	json_t *plats = json_array();

	if (res) {
		for (int i = 0; i < PQntuples(res); i++)
			json_array_append_new(
			    plats,
			    json_pack("{s:I, s:s, s:s, s:s, s:b, s:b, s:s, s:I}", "id",
				      (json_int_t)strtoll(PQgetvalue(res, i, 0), NULL, 10), "name",
				      PQgetvalue(res, i, 1), "kind", PQgetvalue(res, i, 2),
				      "endpoint", PQgetvalue(res, i, 3), "enabled",
				      PQgetvalue(res, i, 4)[0] == 't', "default",
				      PQgetvalue(res, i, 5)[0] == 't', "health",
				      run_plat_health(sn->c->srv,
						      strtoll(PQgetvalue(res, i, 0), NULL, 10)),
				      "active_runs",
				      (json_int_t)run_count_on_platform(
					  sn->c->srv, strtoll(PQgetvalue(res, i, 0), NULL, 10))));
	}
	if (s)
		admin_view_add(sn->c->srv, s);
	rpc_reply(sn->c, json_pack("{s:I, s:o, s:o, s:o, s:o, s:{s:I, s:I}}", "seq",
				   (json_int_t)sn->seq, "runs", sn->runs, "sessions", sn->sessions,
				   "platforms", plats, "images", run_image_all(sn->c->srv),
				   "totals", "sessions", (json_int_t)json_array_size(sn->sessions),
				   "active_runs", (json_int_t)json_array_size(sn->runs)));
	free(sn);
}

static void h_subscribe(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct snap *sn = calloc(1, sizeof(*sn));

	if (!sn) {
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return;
	}
	sn->c = c;
	/* the snapshot is taken now; events after this seq follow it */
	sn->seq = bus_seq(c->srv);
	sn->runs = json_array();
	sn->sessions = json_array();
	run_foreach(c->srv, add_run, sn->runs);
	sess_foreach(c->srv, add_sess, sn->sessions);
	if (db_query(
		c->srv->db,
		"SELECT id, name, kind, endpoint, enabled, is_default FROM platforms ORDER BY id",
		0, NULL, platforms_read, sn))
		platforms_read(sn, NULL, "database unavailable");
}

static void h_unsubscribe(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;

	admin_view_remove(c->srv, c->sess_id);
	rpc_reply(c, NULL);
}

static void h_session_list(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	json_t *list = json_array();

	sess_foreach(c->srv, add_sess, list);
	rpc_reply(c, json_pack("{s:o}", "sessions", list));
}

static void h_session_kick(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct proto_error err;
	long long id;
	struct sess *s;
	char target[40];

	if (proto_get_int(msg->params, "session", 1, 1, PROTO_MAX_SAFE_INT, &id, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	s = sess_find(c->srv, (uint64_t)id);
	if (!s || s->closing) {
		rpc_fail(c, PROTO_R_NOT_FOUND, "no such session", NULL);
		return;
	}
	snprintf(target, sizeof(target), "session:%lld", id);
	audit(c->srv, c->user_id, "session.kick", target,
	      json_pack("{s:I}", "user", (json_int_t)s->user_id), c->ip);
	sess_notify(s, "session/ended", json_pack("{s:s}", "reason", "kicked_by_admin"));
	sess_close(s, 4011, "disconnected by an admin");
	rpc_reply(c, NULL);
}

const struct proto_method admin_live_methods[] = {
    {"admin/subscribe", PROTO_ROLE_ADMIN, h_subscribe},
    {"admin/unsubscribe", PROTO_ROLE_ADMIN, h_unsubscribe},
    {"admin/session/list", PROTO_ROLE_ADMIN, h_session_list},
    {"admin/session/kick", PROTO_ROLE_ADMIN, h_session_kick},
};
const size_t admin_live_methods_count = sizeof(admin_live_methods) / sizeof(admin_live_methods[0]);
