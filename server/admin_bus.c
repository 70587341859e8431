/*
 * admin_bus.c - admin/subscribe and the events behind it (admin_bus.h), and
 * the session actions of the dashboard (list, kick).
 */
#include "admin_bus.h"
#include "audit.h"
#include "db.h"
#include "log.h"
#include "rpc.h"
#include "run.h"
#include "run_plat.h"
#include "sess.h"
#include "srv.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static long long seq;
static uint64_t *subs;
static size_t nsubs, capsubs;

long long bus_seq(void)
{
	return seq;
}

void bus_unsubscribe(uint64_t sess_id)
{
	for (size_t i = 0; i < nsubs; i++) {
		if (subs[i] == sess_id) {
			subs[i] = subs[--nsubs];
			return;
		}
	}
}

void bus_subscribe(struct sess *s)
{
	for (size_t i = 0; i < nsubs; i++)
		if (subs[i] == s->id)
			return;
	if (nsubs == capsubs) {
		size_t cap = capsubs ? capsubs * 2 : 8;
		uint64_t *n = realloc(subs, cap * sizeof(*n));
		if (!n)
			return;
		subs = n;
		capsubs = cap;
	}
	subs[nsubs++] = s->id;
}

void bus_publish(struct srv *srv, const char *topic, const char *kind, json_t *data)
{
	struct timeval tv;
	json_t *p;
	char *frame;
	size_t len;

	seq++;
	if (!nsubs) {
		json_decref(data);
		return;
	}
	gettimeofday(&tv, NULL);
	p = json_pack("{s:I, s:s, s:s, s:I, s:o}", "seq", (json_int_t)seq, "topic", topic, "kind",
		      kind, "at", (json_int_t)tv.tv_sec * 1000 + tv.tv_usec / 1000, "data",
		      data ? data : json_object());
	frame = proto_notify_steal("admin/event", p, &len);
	if (!frame)
		return;
	for (size_t i = 0; i < nsubs;) {
		struct sess *s = sess_find(srv, subs[i]);
		char *copy;
		if (!s || s->closing) {
			subs[i] = subs[--nsubs];
			continue;
		}
		if (s->q_bytes + len > srv->cfg.out_queue_bytes / 2) {
			/* behind: drop it, and say so (there is room below the hard limit) */
			subs[i] = subs[--nsubs];
			sess_notify(s, "admin/resubscribe",
				    json_pack("{s:s, s:I}", "reason", "overflow", "last_seq",
					      (json_int_t)seq - 1));
			continue;
		}
		copy = malloc(len + 1);
		if (copy) {
			memcpy(copy, frame, len + 1);
			sess_send(s, copy, len);
		}
		i++;
	}
	free(frame);
}

/* ---- methods ---- */

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
				plats, json_pack("{s:I, s:s, s:s, s:s, s:b, s:b, s:s, s:I}", "id",
						 (json_int_t)strtoll(PQgetvalue(res, i, 0), NULL, 10),
						 "name", PQgetvalue(res, i, 1), "kind",
						 PQgetvalue(res, i, 2), "endpoint", PQgetvalue(res, i, 3),
						 "enabled", PQgetvalue(res, i, 4)[0] == 't', "default",
						 PQgetvalue(res, i, 5)[0] == 't', "health",
						 run_plat_health(strtoll(PQgetvalue(res, i, 0), NULL, 10)),
						 "active_runs",
						 (json_int_t)run_count_on_platform(
							 sn->c->srv,
							 strtoll(PQgetvalue(res, i, 0), NULL, 10))));
	}
	if (s)
		bus_subscribe(s);
	rpc_reply(sn->c, json_pack("{s:I, s:o, s:o, s:o, s:{s:I, s:I}}", "seq",
				   (json_int_t)sn->seq, "runs", sn->runs, "sessions", sn->sessions,
				   "platforms", plats, "totals", "sessions",
				   (json_int_t)json_array_size(sn->sessions), "active_runs",
				   (json_int_t)json_array_size(sn->runs)));
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
	sn->seq = seq;
	sn->runs = json_array();
	sn->sessions = json_array();
	run_foreach(c->srv, add_run, sn->runs);
	sess_foreach(c->srv, add_sess, sn->sessions);
	if (db_query(c->srv->db,
		     "SELECT id, name, kind, endpoint, enabled, is_default FROM platforms ORDER BY id",
		     0, NULL, platforms_read, sn))
		platforms_read(sn, NULL, "database unavailable");
}

static void h_unsubscribe(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;

	bus_unsubscribe(c->sess_id);
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

const struct proto_method admin_bus_methods[] = {
	{ "admin/subscribe", PROTO_ROLE_ADMIN, h_subscribe },
	{ "admin/unsubscribe", PROTO_ROLE_ADMIN, h_unsubscribe },
	{ "admin/session/list", PROTO_ROLE_ADMIN, h_session_list },
	{ "admin/session/kick", PROTO_ROLE_ADMIN, h_session_kick },
};
const size_t admin_bus_methods_count = sizeof(admin_bus_methods) / sizeof(admin_bus_methods[0]);
