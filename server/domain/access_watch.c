/*
 * access_watch.c - checking again the sessions that watch a project when
 * access to it may have shrunk (access_watch.h).
 */
#include "access_watch.h"
#include "access.h"
#include "auth_sess.h"
#include "db.h"
#include "log.h"
#include "presence.h"
#include "room.h"
#include "run.h"
#include "run_follow.h"
#include "sess.h"
#include "srv.h"

#include <stdlib.h>
#include <string.h>

struct check {
	struct srv *srv;
	long long project;
	uint64_t *sids;
	size_t n;
	void (*done)(void *arg);
	void *arg;
};

static void check_free(struct check *k)
{
	if (k->done)
		k->done(k->arg);
	free(k->sids);
	free(k);
}

/* The access name of (user, admin) in the answer, or NULL; *found says
 * whether the pair was asked about at all. */
static const char *access_of(PGresult *res, long long user, int admin, int *found)
{
	*found = 0;
	for (int i = 0; i < PQntuples(res); i++) {
		if (PQgetisnull(res, i, 0) || strtoll(PQgetvalue(res, i, 0), NULL, 10) != user ||
		    (PQgetvalue(res, i, 1)[0] == 't') != admin)
			continue;
		*found = 1;
		return PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2);
	}
	return NULL;
}

/* s may no longer see project; gone says the project itself is gone, which
 * its members hear as "deleted" whichever comes first, this check or the
 * deleting handler's broadcast (the NOTIFY can overtake it). */
static void lost(struct srv *srv, long long project, struct sess *s, int gone)
{
	int member = room_is_member(srv, project, s->id);

	run_unwatch_project(srv, project, s->id);
	run_follow_unwatch_project(srv, project, s->id);
	if (!member)
		return;
	room_leave(srv, project, s->id);
	presence_left(srv, project, s->id);
	sess_notify(s, "project/changed",
		    json_pack("{s:I, s:s}", "project", (json_int_t)project, "op",
			      gone ? "deleted" : "access_lost"));
}

static void checked(void *arg, PGresult *res, const char *err)
{
	struct check *k = arg;
	int exists = 0;

	if (!res) {
		log_json(LOG_WARN, "cannot check access to a project again",
			 json_pack("{s:I, s:s}", "project", (json_int_t)k->project, "error",
				   err ? err : ""));
		check_free(k);
		return;
	}
	for (int i = 0; i < PQntuples(res); i++)
		if (PQgetisnull(res, i, 0) && !PQgetisnull(res, i, 2))
			exists = 1;
	for (size_t i = 0; i < k->n; i++) {
		struct sess *s = sess_find(k->srv, k->sids[i]);
		const char *name;
		int found;

		if (!s || s->closing)
			continue;
		name = access_of(res, s->user_id, s->role >= PROTO_ROLE_ADMIN, &found);
		if (!found)
			continue; /* signed in as someone else meanwhile: not ours to judge */
		if (!name) {
			lost(k->srv, k->project, s, !exists);
		} else if (!access_sees_runs(name)) {
			room_set_flags(k->srv, k->project, s->id, 0);
			run_unwatch_project(k->srv, k->project, s->id);
			run_follow_unwatch_project(k->srv, k->project, s->id);
		} else {
			room_set_flags(k->srv, k->project, s->id, ROOM_SEES_RUNS);
		}
	}
	if (!exists)
		run_cancel_project(k->srv, k->project, "cancelled", "project_deleted",
				   "the project was deleted");
	check_free(k);
}

/* "{1,2,3}" and "{t,f,t}" for the distinct (user, admin) pairs of sids. */
static int user_arrays(struct srv *srv, const uint64_t *sids, size_t n, char **users, char **admins)
{
	size_t cap = 3 + n * 22, ul = 1, al = 1; /* "{", the ids, "}", NUL */
	char *u = malloc(cap), *a = malloc(4 + n * 2);

	if (!u || !a) {
		free(u);
		free(a);
		return -1;
	}
	u[0] = a[0] = '{';
	for (size_t i = 0; i < n; i++) {
		struct sess *s = sess_find(srv, sids[i]);
		int dup = 0;

		/* a session not signed in is asked about as user 0: runit_access
		 * gives it 'public' or nothing */
		if (!s)
			continue;
		for (size_t j = 0; j < i && !dup; j++) {
			struct sess *o = sess_find(srv, sids[j]);
			dup = o && o->user_id == s->user_id && o->role == s->role;
		}
		if (dup)
			continue;
		ul += (size_t)snprintf(u + ul, cap - ul, "%s%lld", ul > 1 ? "," : "", s->user_id);
		al += (size_t)snprintf(a + al, 3, "%s%c", al > 1 ? "," : "",
				       s->role >= PROTO_ROLE_ADMIN ? 't' : 'f');
	}
	snprintf(u + ul, cap - ul, "}");
	snprintf(a + al, 2, "}");
	*users = u;
	*admins = a;
	return 0;
}

void access_watch_check(struct srv *srv, long long project_id, void (*done)(void *arg), void *arg)
{
	struct check *k = calloc(1, sizeof(*k));
	size_t nr = room_members(srv, project_id, NULL, 0);
	size_t nw = run_project_watchers(srv, project_id, NULL, 0);
	char pid[24], *users = NULL, *admins = NULL;
	const char *p[3];

	if (!k || !(k->sids = malloc((nr + nw + 1) * sizeof(*k->sids)))) {
		free(k);
		if (done)
			done(arg);
		return;
	}
	k->srv = srv;
	k->project = project_id;
	k->done = done;
	k->arg = arg;
	k->n = room_members(srv, project_id, k->sids, nr);
	k->n += run_project_watchers(srv, project_id, k->sids + k->n, nw);
	if (user_arrays(srv, k->sids, k->n, &users, &admins)) {
		check_free(k);
		return;
	}
	snprintf(pid, sizeof(pid), "%lld", project_id);
	p[0] = pid;
	p[1] = users;
	p[2] = admins;
	if (db_query(srv->db,
		     "SELECT x.u, x.a, runit_access($1::bigint, x.u, x.a) "
		     "FROM unnest($2::bigint[], $3::boolean[]) AS x(u, a) UNION ALL "
		     "SELECT NULL, NULL, CASE WHEN EXISTS (SELECT 1 FROM projects WHERE id = $1) "
		     "THEN 'exists' END",
		     3, p, checked, k))
		checked(k, NULL, "database unavailable");
	free(users);
	free(admins);
}

static void check_one(struct srv *srv, long long project, void *arg)
{
	(void)arg;
	access_watch_check(srv, project, NULL, NULL);
}

/* A NOTIFY from any instance (this one included: checking twice is
 * harmless); NULL after the listener reconnected: notices may have been
 * missed, so every watched project is checked. */
static void on_notify(void *arg, const char *channel, const char *payload)
{
	long long project = payload ? strtoll(payload, NULL, 10) : 0;

	(void)channel;
	if (!payload)
		room_foreach_project(arg, check_one, NULL);
	else if (project > 0)
		access_watch_check(arg, project, NULL, NULL);
}

/* An account disabled on any instance: its runs here, and its starts under
 * way, end as on the instance that disabled it (admin/user/disable; there
 * a second time, which ends nothing more). NULL after the listener
 * reconnected: a notice may have been missed, so every user with a run or
 * a start here is checked. */
static void on_auth_notify(void *arg, const char *channel, const char *payload)
{
	long long user = auth_sess_disabled_user(payload);

	(void)channel;
	if (!payload)
		run_cancel_disabled(arg);
	else if (user > 0)
		run_cancel_user(arg, user);
}

int access_watch_init(struct srv *srv)
{
	if (db_listen(srv->db, AUTH_CHANNEL, on_auth_notify, srv))
		return -1;
	return db_listen(srv->db, "runit_access", on_notify, srv);
}
