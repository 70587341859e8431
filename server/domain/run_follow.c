/*
 * run_follow.c - live output of other instances' runs (run_follow.h).
 *
 * A run followed here has one cursor for the project's room (its members
 * who may see runs, except those attached) and one per run/attach caller:
 * the next seq each is owed. A notice (run id, seq, project) raises what is
 * known to exist; a fetch reads the rows from the lowest cursor on and
 * hands each recipient its next rows in order. A missing row holds its
 * recipient back for RUN_FOLLOW_HOLE_MS (inserts from several connections
 * commit out of order), then becomes a run/gap. A run is let go once its
 * run/exit has reached everyone, or when nobody here follows it.
 */
#include "run_follow.h"
#include "run_int.h"
#include "db.h"
#include "log.h"
#include "room.h"
#include "rpc.h"
#include "sess.h"
#include "srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHANNEL "runit_run_log"
#define FETCH_ROWS 200
#define ATTACH_ROWS 5000
#define TICK_MS 500
#define IDLE_MS (15 * 60 * 1000) /* nothing heard of a run for this long: let go */
#define MAX_RECIPIENTS 256
/* A stored "queued" status carries the run's place in the queue now (the
 * owner stores one each time it moves): column 5 of the rows read. */
#define QUEUE_POSITION                                                                             \
	"CASE WHEN l.stream = 'status' AND l.data = 'queued' "                                     \
	"THEN runit_queue_position(l.run_id) END "
#define STR_(x) #x
#define RUN_FOLLOW_STR(x) STR_(x)

struct cursor {
	uint64_t sess; /* 0: the room */
	long long next;
	int64_t hole_ms; /* when the row at next was first found missing */
};

struct followed {
	struct followed *next;
	struct run_follows *fs;
	long long run_id, project_id;
	long long known;   /* highest seq notified */
	long long end_seq; /* the run/exit's seq, once delivered to someone */
	struct cursor room;
	struct cursor *att;
	size_t natt, cap;
	int busy, again, dead;
	int64_t heard_ms;
};

struct run_follows {
	struct srv *srv;
	struct followed *list;
	uv_timer_t timer;
	int refs; /* the timer and every fetch in flight */
	int stopping;
};

static void fs_unref(struct run_follows *fs)
{
	if (--fs->refs == 0)
		free(fs);
}

static struct followed *find(struct run_follows *fs, long long run_id)
{
	struct followed *f;

	for (f = fs->list; f && f->run_id != run_id; f = f->next)
		;
	return f;
}

static struct followed *add(struct run_follows *fs, long long run_id, long long project_id)
{
	struct followed *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->fs = fs;
	f->run_id = run_id;
	f->project_id = project_id;
	f->room.next = 1;
	f->heard_ms = srv_now_ms();
	f->next = fs->list;
	fs->list = f;
	return f;
}

/* Unlink f; freed now, or by its fetch's callback when one is out. */
static void drop(struct followed *f)
{
	struct followed **pp;

	for (pp = &f->fs->list; *pp && *pp != f; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = f->next;
	if (f->busy) {
		f->dead = 1;
		return;
	}
	free(f->att);
	free(f);
}

static int attached(const struct followed *f, uint64_t sess)
{
	for (size_t i = 0; i < f->natt; i++)
		if (f->att[i].sess == sess)
			return 1;
	return 0;
}

/* The room members owed the room's rows (attached ones have their own). */
static size_t room_recipients(struct followed *f, uint64_t *ids)
{
	size_t n = room_members_with(f->fs->srv, f->project_id, ROOM_SEES_RUNS, ids,
				     MAX_RECIPIENTS),
	       k = 0;

	if (n > MAX_RECIPIENTS)
		n = MAX_RECIPIENTS;
	for (size_t i = 0; i < n; i++)
		if (!attached(f, ids[i]))
			ids[k++] = ids[i];
	return k;
}

static void send_to(struct srv *srv, const uint64_t *ids, size_t n, const char *method,
		    json_t *params)
{
	for (size_t i = 0; i < n; i++) {
		struct sess *s = sess_find(srv, ids[i]);

		if (s && !s->closing)
			sess_notify(s, method, json_incref(params));
	}
}

/* A stored status is only its state: add the project, who started the
 * run and, while it waits, its place in the queue, as run_emit_status()
 * says it on the run's own instance. */
static void status_whole(json_t *note, long long project_id, PGresult *res, int row)
{
	json_object_set_new(note, "project", json_integer(project_id));
	if (PQnfields(res) > 5 && !PQgetisnull(res, row, 5))
		json_object_set_new(note, "position",
				    json_integer(strtoll(PQgetvalue(res, row, 5), NULL, 10)));
	json_object_set_new(note, "by",
			    json_pack("{s:I, s:s}", "id",
				      (json_int_t)strtoll(PQgetvalue(res, row, 3), NULL, 10),
				      "username", PQgetvalue(res, row, 4)));
}

/* Hand the rows to one cursor's sessions (ids), in order. */
static void deliver(struct followed *f, struct cursor *c, const uint64_t *ids, size_t n,
		    PGresult *res)
{
	struct srv *srv = f->fs->srv;
	int64_t now = srv_now_ms();

	for (int i = 0; i < PQntuples(res); i++) {
		long long seq = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		const char *method;
		json_t *note;

		if (seq < c->next)
			continue;
		if (seq > c->next) {
			if (!c->hole_ms)
				c->hole_ms = now;
			if (now - c->hole_ms < RUN_FOLLOW_HOLE_MS)
				return; /* it may still be committed */
			note = json_pack("{s:I, s:I, s:I}", "run", (json_int_t)f->run_id, "from",
					 (json_int_t)c->next, "to", (json_int_t)(seq - 1));
			send_to(srv, ids, n, "run/gap", note);
			json_decref(note);
		}
		note = run_row_note(f->run_id, seq, PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
				    &method);
		if (note && !strcmp(method, "run/status"))
			status_whole(note, f->project_id, res, i);
		if (note) {
			send_to(srv, ids, n, method, note);
			json_decref(note);
		}
		if (!strcmp(PQgetvalue(res, i, 1), "meta"))
			f->end_seq = seq;
		c->next = seq + 1;
		c->hole_ms = 0;
	}
	if (c->next <= f->known && !c->hole_ms)
		c->hole_ms = now; /* notified, not yet readable */
}

static int finished(struct followed *f, size_t nroom)
{
	if (!f->end_seq || (nroom && f->room.next <= f->end_seq))
		return 0;
	for (size_t i = 0; i < f->natt; i++)
		if (f->att[i].next <= f->end_seq)
			return 0;
	return 1;
}

static void fetch(struct followed *f);
static void rows_in(struct followed *f, PGresult *res);

static void fetched(void *arg, PGresult *res, const char *err)
{
	struct followed *f = arg;
	struct run_follows *fs = f->fs;

	f->busy = 0;
	if (f->dead) { /* dropped meanwhile: already unlinked */
		free(f->att);
		free(f);
	} else if (!res) {
		log_json(LOG_WARN, "cannot read another instance's run output",
			 json_pack("{s:I, s:s}", "run", (json_int_t)f->run_id, "error",
				   err ? err : "")); /* the tick tries again */
	} else {
		rows_in(f, res);
	}
	fs_unref(fs);
}

/* The fetched rows to every recipient; fetch again if there is more. */
static void rows_in(struct followed *f, PGresult *res)
{
	uint64_t ids[MAX_RECIPIENTS];
	size_t nroom;

	nroom = room_recipients(f, ids);
	if (nroom)
		deliver(f, &f->room, ids, nroom, res);
	else if (PQntuples(res)) /* nobody in the room: it follows from now on */
		f->room.next = strtoll(PQgetvalue(res, PQntuples(res) - 1, 0), NULL, 10) + 1;
	for (size_t i = 0; i < f->natt; i++)
		deliver(f, &f->att[i], &f->att[i].sess, 1, res);
	if (finished(f, nroom)) {
		drop(f);
		return;
	}
	if (f->again || PQntuples(res) == FETCH_ROWS) {
		f->again = 0;
		fetch(f);
	}
}

static long long lowest(const struct followed *f, int room)
{
	long long lo = room ? f->room.next : 0;

	for (size_t i = 0; i < f->natt; i++)
		if (!lo || f->att[i].next < lo)
			lo = f->att[i].next;
	return lo;
}

static void fetch(struct followed *f)
{
	uint64_t ids[MAX_RECIPIENTS];
	char rid[24], from[24];
	const char *p[2] = {rid, from};
	long long lo = lowest(f, room_recipients(f, ids) > 0);

	if (f->busy) {
		f->again = 1;
		return;
	}
	if (!lo)
		lo = f->room.next;
	snprintf(rid, sizeof(rid), "%lld", f->run_id);
	snprintf(from, sizeof(from), "%lld", lo);
	if (f->fs->stopping)
		return;
	f->busy = 1;
	f->fs->refs++;
	if (db_query(
		f->fs->srv->db,
		"SELECT l.seq, l.stream, l.data, r.user_id, u.username, " QUEUE_POSITION
		"FROM run_logs l JOIN runs r ON r.id = l.run_id JOIN users u ON u.id = r.user_id "
		"WHERE l.run_id = $1 AND l.seq >= $2 "
		"ORDER BY l.seq LIMIT " RUN_FOLLOW_STR(FETCH_ROWS),
		2, p, fetched, f)) {
		f->busy = 0;
		f->fs->refs--;
	}
}

/* "<run> <seq> <project>" from the run_logs trigger. */
static void notified(void *arg, const char *channel, const char *payload)
{
	struct srv *srv = arg;
	struct run_follows *fs = srv->follows; /* NULL once released */
	long long run, seq, project;
	struct followed *f;
	uint64_t ids[1];

	(void)channel;
	if (!fs)
		return;
	if (!payload) { /* reconnected: catch up on everything followed */
		for (f = fs->list; f; f = f->next)
			fetch(f);
		return;
	}
	if (sscanf(payload, "%lld %lld %lld", &run, &seq, &project) != 3 || run_find(fs->srv, run))
		return; /* ours: run_stream.c sends it */
	f = find(fs, run);
	if (!f) {
		if (!room_members_with(fs->srv, project, ROOM_SEES_RUNS, ids, 1))
			return; /* nobody here watches the project */
		if (!(f = add(fs, run, project)))
			return;
		/* from the start when it has just started; else from about now
		 * (rows may commit a little out of order) */
		f->room.next = seq > 16 ? seq - 16 : 1;
	}
	if (seq > f->known)
		f->known = seq;
	f->heard_ms = srv_now_ms();
	fetch(f);
}

static void tick(uv_timer_t *t)
{
	struct run_follows *fs = t->data;
	int64_t now = srv_now_ms();
	uint64_t ids[MAX_RECIPIENTS];

	for (struct followed *f = fs->list, *n; f; f = n) {
		size_t nroom = room_recipients(f, ids);

		n = f->next;
		/* attachers whose session went */
		for (size_t i = 0; i < f->natt;)
			if (!sess_find(fs->srv, f->att[i].sess))
				f->att[i] = f->att[--f->natt];
			else
				i++;
		if ((!nroom && !f->natt) || now - f->heard_ms > IDLE_MS || finished(f, nroom))
			drop(f);
		else if (f->room.hole_ms || lowest(f, nroom > 0) <= f->known)
			fetch(f);
		else
			for (size_t i = 0; i < f->natt; i++)
				if (f->att[i].hole_ms)
					fetch(f);
	}
}

/* ---------- run/attach ---------- */

struct attach {
	struct rpc_call *c;
	long long run_id, project_id, from, position;
	char state[16];
};

static void attach_rows(void *arg, PGresult *res, const char *err)
{
	struct attach *a = arg;
	struct srv *srv = a->c->srv;
	struct run_follows *fs = srv->follows;
	struct sess *s = rpc_sess(a->c);
	struct cursor cur = {0, a->from, 0};
	struct followed *f;
	json_t *ans;

	(void)err;
	if (!res || !s || !fs) {
		rpc_fail(a->c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		free(a);
		return;
	}
	f = find(fs, a->run_id);
	if (!f && !(f = add(fs, a->run_id, a->project_id))) {
		rpc_fail(a->c, PROTO_R_INTERNAL, "out of memory", NULL);
		free(a);
		return;
	}
	cur.sess = s->id;
	/* what is stored now, holes marked at once: the replay is not live */
	cur.hole_ms = srv_now_ms() - RUN_FOLLOW_HOLE_MS;
	deliver(f, &cur, &cur.sess, 1, res);
	cur.hole_ms = 0;
	if (!attached(f, s->id) && f->natt == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 4;
		struct cursor *n = realloc(f->att, cap * sizeof(*n));
		if (n) {
			f->att = n;
			f->cap = cap;
		}
	}
	if (!attached(f, s->id) && f->natt < f->cap)
		f->att[f->natt++] = cur;
	ans = json_pack("{s:I, s:s, s:I, s:b}", "run", (json_int_t)a->run_id, "state",
			f->end_seq && cur.next > f->end_seq ? "finished" : a->state, "last_seq",
			(json_int_t)(cur.next - 1), "live", 1);
	if (a->position > 0 && !(f->end_seq && cur.next > f->end_seq))
		json_object_set_new(ans, "position", json_integer(a->position));
	rpc_reply(a->c, ans);
	free(a);
}

void run_follow_attach(struct srv *srv, struct rpc_call *c, long long run_id, long long project_id,
		       const char *state, long long position, long long from_seq)
{
	struct attach *a = calloc(1, sizeof(*a));
	char rid[24], from[24];
	const char *p[2] = {rid, from};

	if (!a) {
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return;
	}
	a->c = c;
	a->run_id = run_id;
	a->project_id = project_id;
	a->from = from_seq < 1 ? 1 : from_seq;
	a->position = position;
	snprintf(a->state, sizeof(a->state), "%s", state);
	snprintf(rid, sizeof(rid), "%lld", run_id);
	snprintf(from, sizeof(from), "%lld", a->from);
	if (db_query(
		srv->db,
		"SELECT l.seq, l.stream, l.data, r.user_id, u.username, " QUEUE_POSITION
		"FROM run_logs l JOIN runs r ON r.id = l.run_id JOIN users u ON u.id = r.user_id "
		"WHERE l.run_id = $1 AND l.seq >= $2 "
		"ORDER BY l.seq LIMIT " RUN_FOLLOW_STR(ATTACH_ROWS),
		2, p, attach_rows, a)) {
		free(a);
		rpc_fail(c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
	}
}

void run_follow_unwatch_project(struct srv *srv, long long project_id, uint64_t sess_id)
{
	struct run_follows *fs = srv->follows;

	for (struct followed *f = fs ? fs->list : NULL; f; f = f->next) {
		if (f->project_id != project_id)
			continue;
		for (size_t i = 0; i < f->natt; i++)
			if (f->att[i].sess == sess_id) {
				f->att[i] = f->att[--f->natt];
				break;
			}
	}
}

int run_follow_init(struct srv *srv)
{
	struct run_follows *fs = calloc(1, sizeof(*fs));

	if (!fs)
		return -1;
	fs->srv = srv;
	fs->refs = 1;
	uv_timer_init(srv->loop, &fs->timer);
	fs->timer.data = fs;
	uv_timer_start(&fs->timer, tick, TICK_MS, TICK_MS);
	srv->follows = fs;
	return db_listen(srv->db, CHANNEL, notified, srv);
}

static void timer_closed(uv_handle_t *h)
{
	struct run_follows *fs = h->data;

	while (fs->list)
		drop(fs->list);
	fs_unref(fs);
}

void run_follow_release(struct srv *srv)
{
	struct run_follows *fs = srv->follows;

	if (!fs)
		return;
	srv->follows = NULL;
	fs->stopping = 1;
	uv_timer_stop(&fs->timer);
	uv_close((uv_handle_t *)&fs->timer, timer_closed);
}
