/*
 * room.c - project t->rooms (see room.h): two small hash tables, t->rooms by
 * project id and, for room_leave_all(), the projects of each session.
 * Both hold plain ids; the tables are freed when they become empty.
 */
#include "room.h"
#include "bus.h"
#include "sess.h"
#include "srv.h"

#include <stdlib.h>
#include <string.h>

#define NBUCKETS 1024

struct room {
	struct room *next;
	long long project_id;
	uint64_t *members;
	unsigned *flags; /* ROOM_* of each member, beside it */
	size_t n, cap;
};

struct sess_rooms {
	struct sess_rooms *next;
	uint64_t sess_id;
	long long projects[ROOM_MAX_PER_SESS];
	size_t n;
};

/* The server's t->rooms (srv->rooms). */
struct room_table {
	struct room **rooms;	     /* by project id */
	struct sess_rooms **by_sess; /* by session id */
	size_t nrooms, nsess;
	room_left_fn on_left;
	room_relay_fn relay;
};

static size_t hash64(uint64_t v)
{
	return (size_t)((v * 0x9E3779B97F4A7C15ULL) >> 40) % NBUCKETS;
}

static struct room *room_find(struct room_table *t, long long pid, struct room ***link)
{
	struct room **pp;

	if (!t->rooms)
		return NULL;
	for (pp = &t->rooms[hash64((uint64_t)pid)]; *pp; pp = &(*pp)->next)
		if ((*pp)->project_id == pid) {
			if (link)
				*link = pp;
			return *pp;
		}
	return NULL;
}

static struct sess_rooms *sr_find(struct room_table *t, uint64_t sid, struct sess_rooms ***link)
{
	struct sess_rooms **pp;

	if (!t->by_sess)
		return NULL;
	for (pp = &t->by_sess[hash64(sid)]; *pp; pp = &(*pp)->next)
		if ((*pp)->sess_id == sid) {
			if (link)
				*link = pp;
			return *pp;
		}
	return NULL;
}

static void tables_maybe_free(struct room_table *t)
{
	if (t->nrooms == 0 && t->rooms) {
		free(t->rooms);
		t->rooms = NULL;
	}
	if (t->nsess == 0 && t->by_sess) {
		free(t->by_sess);
		t->by_sess = NULL;
	}
}

/* Remove sid from the member list of project pid; frees an empty room. */
static void room_remove_member(struct room_table *t, long long pid, uint64_t sid)
{
	struct room **link, *r = room_find(t, pid, &link);

	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		if (r->members[i] == sid) {
			r->members[i] = r->members[--r->n];
			r->flags[i] = r->flags[r->n];
			break;
		}
	}
	if (r->n == 0) {
		*link = r->next;
		free(r->members);
		free(r->flags);
		free(r);
		t->nrooms--;
	}
}

/* Remove pid from the session's list; frees an empty entry. */
static void sr_remove_project(struct room_table *t, uint64_t sid, long long pid)
{
	struct sess_rooms **link, *e = sr_find(t, sid, &link);

	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++) {
		if (e->projects[i] == pid) {
			e->projects[i] = e->projects[--e->n];
			break;
		}
	}
	if (e->n == 0) {
		*link = e->next;
		free(e);
		t->nsess--;
	}
}

void room_set_flags(struct srv *srv, long long pid, uint64_t sid, unsigned flags)
{
	struct room *r = room_find(srv->rooms, pid, NULL);

	for (size_t i = 0; r && i < r->n; i++)
		if (r->members[i] == sid)
			r->flags[i] = flags;
}

int room_join(struct srv *srv, long long pid, struct sess *s, unsigned flags)
{
	struct room *r, *new_r = NULL;
	struct sess_rooms *e, *new_e = NULL;

	struct room_table *t = srv->rooms;

	if (!t->rooms && !(t->rooms = calloc(NBUCKETS, sizeof(*t->rooms))))
		goto out_nomem;
	if (!t->by_sess && !(t->by_sess = calloc(NBUCKETS, sizeof(*t->by_sess))))
		goto out_nomem;
	e = sr_find(t, s->id, NULL);
	if (e) {
		for (size_t i = 0; i < e->n; i++)
			if (e->projects[i] == pid) {
				room_set_flags(srv, pid, s->id, flags);
				return 0;
			}
		if (e->n >= ROOM_MAX_PER_SESS)
			return -2;
	}
	r = room_find(t, pid, NULL);
	if (!r) {
		if (!(new_r = calloc(1, sizeof(*new_r))))
			goto out_nomem;
		new_r->project_id = pid;
		r = new_r;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 4;
		uint64_t *m = realloc(r->members, cap * sizeof(*m));
		unsigned *f;
		if (!m)
			goto out_free_new;
		r->members = m;
		f = realloc(r->flags, cap * sizeof(*f));
		if (!f)
			goto out_free_new;
		r->flags = f;
		r->cap = cap;
	}
	if (!e) {
		if (!(new_e = calloc(1, sizeof(*new_e))))
			goto out_free_new;
		new_e->sess_id = s->id;
		new_e->next = t->by_sess[hash64(s->id)];
		t->by_sess[hash64(s->id)] = new_e;
		t->nsess++;
		e = new_e;
	}
	if (new_r) {
		new_r->next = t->rooms[hash64((uint64_t)pid)];
		t->rooms[hash64((uint64_t)pid)] = new_r;
		t->nrooms++;
	}
	r->flags[r->n] = flags;
	r->members[r->n++] = s->id;
	e->projects[e->n++] = pid;
	return 0;

out_free_new:
	if (new_r) {
		free(new_r->members);
		free(new_r->flags);
		free(new_r);
	}
out_nomem:
	tables_maybe_free(t);
	return -1;
}

void room_leave(struct srv *srv, long long pid, uint64_t sid)
{
	struct room_table *t = srv->rooms;

	room_remove_member(t, pid, sid);
	sr_remove_project(t, sid, pid);
	tables_maybe_free(t);
}

void room_leave_all(struct srv *srv, uint64_t sid)
{
	struct room_table *t = srv->rooms;
	struct sess_rooms **link, *e = sr_find(t, sid, &link);

	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++) {
		room_remove_member(t, e->projects[i], sid);
		if (t->on_left)
			t->on_left(srv, e->projects[i], sid);
	}
	*link = e->next;
	free(e);
	t->nsess--;
	tables_maybe_free(t);
}

/* A closed session leaves every room (bus topic "session", kind "closed"). */
static void on_session(void *arg, const struct bus_event *ev)
{
	if (!strcmp(ev->kind, "closed"))
		room_leave_all(arg,
			       (uint64_t)json_integer_value(json_object_get(ev->data, "session")));
}

int room_init(struct srv *srv, room_left_fn on_left)
{
	srv->rooms = calloc(1, sizeof(*srv->rooms));
	if (!srv->rooms)
		return -1;
	srv->rooms->on_left = on_left;
	return bus_on(srv, "session", on_session, srv);
}

void room_release(struct srv *srv)
{
	struct room_table *t = srv->rooms;

	if (!t)
		return;
	for (size_t b = 0; t->rooms && b < NBUCKETS; b++)
		while (t->rooms[b]) {
			struct room *r = t->rooms[b];
			t->rooms[b] = r->next;
			free(r->members);
			free(r->flags);
			free(r);
		}
	for (size_t b = 0; t->by_sess && b < NBUCKETS; b++)
		while (t->by_sess[b]) {
			struct sess_rooms *e = t->by_sess[b];
			t->by_sess[b] = e->next;
			free(e);
		}
	free(t->rooms);
	free(t->by_sess);
	free(t);
	srv->rooms = NULL;
}

void room_drop(struct srv *srv, long long pid)
{
	struct room_table *t = srv->rooms;
	struct room *r = room_find(t, pid, NULL);

	while (r && r->n > 0) {
		uint64_t sid = r->members[r->n - 1];
		int last = r->n == 1;

		room_remove_member(t, pid, sid); /* frees r with the last member */
		sr_remove_project(t, sid, pid);
		if (last)
			break;
	}
	tables_maybe_free(t);
}

static void deliver(struct srv *srv, long long pid, const char *method, json_t *params,
		    uint64_t except)
{
	struct room *r = room_find(srv->rooms, pid, NULL);
	struct sess_frame *f;
	size_t i = 0;

	if (!r || !(f = sess_frame_notify(method, params)))
		return;
	/* one frame for every member (a save's file/changed goes to each) */
	while (r && i < r->n) {
		uint64_t sid = r->members[i];
		struct sess *s = sess_find(srv, sid);

		if (!s) { /* gone without sess_free (cannot happen today): prune */
			int last = r->n == 1;
			room_leave(srv, pid, sid);
			if (last)
				break;
			continue; /* the last member moved into slot i */
		}
		i++;
		if (sid == except || s->closing)
			continue;
		sess_send_shared(s, f);
	}
	sess_frame_unref(f);
}

void room_broadcast(struct srv *srv, long long pid, const char *method, json_t *params,
		    uint64_t except)
{
	deliver(srv, pid, method, params, except);
	if (srv->rooms->relay)
		srv->rooms->relay(srv, pid, method, params, except, 0);
}

void room_broadcast_joined(struct srv *srv, long long pid, const char *method, json_t *params,
			   uint64_t sess_id)
{
	deliver(srv, pid, method, params, sess_id);
	if (srv->rooms->relay)
		srv->rooms->relay(srv, pid, method, params, sess_id, 1);
}

void room_deliver(struct srv *srv, long long pid, const char *method, json_t *params)
{
	deliver(srv, pid, method, params, 0);
}

void room_set_relay(struct srv *srv, room_relay_fn fn)
{
	srv->rooms->relay = fn;
}

size_t room_members(struct srv *srv, long long pid, uint64_t *out, size_t max)
{
	struct room_table *t = srv->rooms;
	struct room *r = room_find(t, pid, NULL);

	if (!r)
		return 0;
	for (size_t i = 0; i < r->n && i < max; i++)
		out[i] = r->members[i];
	return r->n;
}

int room_is_member(struct srv *srv, long long pid, uint64_t sid)
{
	struct sess_rooms *e = sr_find(srv->rooms, sid, NULL);

	for (size_t i = 0; e && i < e->n; i++)
		if (e->projects[i] == pid)
			return 1;
	return 0;
}

size_t room_members_with(struct srv *srv, long long pid, unsigned flags, uint64_t *out, size_t max)
{
	struct room *r = room_find(srv->rooms, pid, NULL);
	size_t n = 0;

	for (size_t i = 0; r && i < r->n; i++)
		if ((r->flags[i] & flags) == flags) {
			if (n < max)
				out[n] = r->members[i];
			n++;
		}
	return n;
}

void room_foreach_project(struct srv *srv, void (*fn)(struct srv *, long long, void *), void *arg)
{
	struct room_table *t = srv->rooms;
	long long *ids;
	size_t n = 0;

	if (!t->rooms || !(ids = malloc(t->nrooms * sizeof(*ids))))
		return;
	for (size_t b = 0; b < NBUCKETS; b++)
		for (struct room *r = t->rooms[b]; r && n < t->nrooms; r = r->next)
			ids[n++] = r->project_id;
	for (size_t i = 0; i < n; i++) /* fn may change the rooms */
		fn(srv, ids[i], arg);
	free(ids);
}
