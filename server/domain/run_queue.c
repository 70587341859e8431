/*
 * run_queue.c - several engines, placement and the fair queue (run_queue.h).
 *
 * The rule (README "Several engines"): a run goes to the enabled engine that
 * answered its last ping, has the runtime's image, has room (fewer active
 * runs than its max_containers) and has the fewest active runs; ties go to
 * the default engine, then the lowest id. When none has room the run waits
 * in one queue shared by every instance, served per user in turn
 * (runit_queue_dispatch, sql/019_engines.sql). Whoever frees room (a run
 * ends, an engine comes back, a timer while runs wait) dispatches; the
 * owners of the runs placed hear it on NOTIFY runit_queue, read their runs
 * (runit_queue_mine), launch the placed ones and tell the others' watchers
 * their new position.
 */
#include "run_int.h"
#include "run_queue.h"
#include "bus.h"
#include "db.h"
#include "log.h"
#include "srv.h"

#include <stdlib.h>
#include <string.h>

struct waiting {
	long long id, pos;
	unsigned long since; /* reads sent before it waited (run_queue.reads) */
};

struct run_queue {
	struct run_engine *eng;
	struct waiting *w;
	size_t n, cap;
	uv_timer_t timer;
	int busy, again;     /* a read of this instance's queued runs is out */
	unsigned long reads; /* reads sent so far (the one out is the last) */
	int dispatching;
	int stopping, refs;
};

/* ---------- the engines a run may go to ---------- */

struct cands_req {
	struct srv *srv;
	char image[256];
	struct run_cands c;
	long long ids[RUN_QUEUE_MAX_PLATS];
	int pending;
	run_cands_cb cb;
	void *arg;
};

struct look {
	struct cands_req *cr;
	long long id;
};

int run_queue_ids_text(const long long *ids, size_t n, char *out, size_t cap)
{
	size_t len = 0;
	int k;

	if (cap < 3)
		return -1;
	out[len++] = '{';
	for (size_t i = 0; i < n; i++) {
		k = snprintf(out + len, cap - len, "%s%lld", i ? "," : "", ids[i]);
		if (k < 0 || (size_t)k >= cap - len)
			return -1;
		len += (size_t)k;
	}
	if (len + 2 > cap)
		return -1;
	out[len++] = '}';
	out[len] = '\0';
	return 0;
}

static void cands_done(struct cands_req *cr)
{
	if (--cr->pending > 0)
		return;
	if (run_queue_ids_text(cr->ids, cr->c.n, cr->c.ids, sizeof(cr->c.ids)))
		snprintf(cr->c.ids, sizeof(cr->c.ids), "{}");
	cr->cb(cr->arg, &cr->c);
	free(cr);
}

static void looked(void *arg, const struct plat_err *err)
{
	struct look *lk = arg;
	struct cands_req *cr = lk->cr;

	if (!err)
		cr->ids[cr->c.n++] = lk->id;
	else if (err->code == PLAT_E_NOT_FOUND)
		cr->c.missing++;
	/* else the engine did not answer: not a candidate */
	free(lk);
	cands_done(cr);
}

/* The enabled rows as they are now (an admin's change counts at once):
 * each engine is asked for the image, but one that the health round found
 * down at this same endpoint (no wait for a dead TCP peer). */
static void rows_read(void *arg, PGresult *res, const char *err)
{
	struct cands_req *cr = arg;
	int n = res ? PQntuples(res) : 0;

	cr->c.builtin = res && n == 0;
	for (int i = 0; i < n && i < RUN_QUEUE_MAX_PLATS; i++) {
		long long id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		struct plat *p =
		    run_plat_get(cr->srv, PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
		struct look *lk;

		if (!p || run_plat_down_at(cr->srv, id, PQgetvalue(res, i, 2)) ||
		    !(lk = calloc(1, sizeof(*lk))))
			continue;
		lk->cr = cr;
		lk->id = id;
		cr->pending++;
		cr->c.up++;
		if (plat_ensure_image(p, cr->image, false, NULL, looked, lk)) {
			cr->pending--;
			cr->c.up--;
			free(lk);
		}
	}
	cands_done(cr);
}

int run_queue_candidates(struct srv *srv, const char *image, run_cands_cb cb, void *arg)
{
	struct cands_req *cr = calloc(1, sizeof(*cr));

	if (!cr)
		return -1;
	cr->srv = srv;
	cr->cb = cb;
	cr->arg = arg;
	cr->pending = 1;
	snprintf(cr->image, sizeof(cr->image), "%s", image);
	if (db_query(srv->db,
		     "SELECT id, kind, endpoint FROM platforms WHERE enabled ORDER BY is_default "
		     "DESC, id",
		     0, NULL, rows_read, cr)) {
		free(cr);
		return -1;
	}
	return 0;
}

/* The platform of row k as the query read it: columns c (id), then kind,
 * endpoint, oci_runtime and name at c + 2 .. c + 5. */
static int row_platform(struct srv *srv, PGresult *res, int k, int c, struct run_platform *rp)
{
	memset(rp, 0, sizeof(*rp));
	rp->id = strtoll(PQgetvalue(res, k, c), NULL, 10);
	rp->plat = run_plat_get(srv, PQgetvalue(res, k, c + 2), PQgetvalue(res, k, c + 3));
	snprintf(rp->oci_runtime, sizeof(rp->oci_runtime), "%s", PQgetvalue(res, k, c + 4));
	snprintf(rp->name, sizeof(rp->name), "%s", PQgetvalue(res, k, c + 5));
	return rp->plat ? 0 : -1;
}

long long run_queue_placed(struct srv *srv, PGresult *res, struct run_platform *rp)
{
	if (PQgetisnull(res, 0, 3))
		return strtoll(PQgetvalue(res, 0, 4), NULL, 10);
	return row_platform(srv, res, 0, 3, rp) ? -1 : 0;
}

/* ---------- this instance's waiting runs ---------- */

static void q_unref(struct run_queue *Q)
{
	if (--Q->refs > 0)
		return;
	free(Q->w);
	free(Q);
}

static void w_drop(struct run_queue *Q, size_t i)
{
	Q->w[i] = Q->w[--Q->n];
}

void run_queue_wait(struct run *r, long long position, json_t *answer)
{
	struct run_queue *Q = r->eng->queue;

	if (position <= 0)
		return;
	json_object_set_new(answer, "position", json_integer(position));
	r->queue_pos = position;
	if (!Q || Q->stopping)
		return;
	if (Q->n == Q->cap) {
		size_t cap = Q->cap ? Q->cap * 2 : 16;
		struct waiting *w = realloc(Q->w, cap * sizeof(*w));

		if (!w) {
			run_end(r, "error", "out of memory");
			return;
		}
		Q->w = w;
		Q->cap = cap;
	}
	Q->w[Q->n++] = (struct waiting){r->id, position, Q->reads};
}

/* r was placed on the platform of row k: launch it there. */
static void place(struct run_queue *Q, struct run *r, PGresult *res, int k)
{
	struct run_platform rp;

	r->queue_pos = 0;
	if (r->ending)
		return;
	if (row_platform(Q->eng->srv, res, k, 1, &rp)) {
		run_end(r, "error", "this kind of platform is not supported yet");
		return;
	}
	r->platform_id = rp.id;
	r->plat = rp.plat;
	snprintf(r->oci_runtime, sizeof(r->oci_runtime), "%s", rp.oci_runtime);
	log_json(LOG_INFO, "queued run placed",
		 json_pack("{s:I, s:s}", "run_id", (json_int_t)r->id, "platform", rp.name));
	run_launch(r);
}

static void read_mine(struct run_queue *Q);

/* A waiting run's row left the queue without this instance: finished by
 * the database (sql/023_queue_access.sql: access or pool changed; or the
 * reaper) or deleted. Its NOTIFY runit_run_cancel ends it too; this covers a
 * notice missed while the listener reconnected. Same reason either way. */
static void gone_read(void *arg, PGresult *res, const char *err)
{
	struct srv *srv = arg;
	long long id = 0;
	struct run *r;

	(void)err;
	if (!res || PQntuples(res) != 1)
		return;
	id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	r = srv->runs ? run_find(srv, id) : NULL;
	if (!r || r->ending || r->state != RS_QUEUED || r->plat)
		return;
	if (PQgetvalue(res, 0, 4)[0] == 't')
		run_end_code(r, "cancelled", "deleted", "the run was deleted");
	else if (!PQgetisnull(res, 0, 1)) /* finished (else: still active, leave it) */
		run_end_code(r, PQgetvalue(res, 0, 1),
			     PQgetisnull(res, 0, 2) ? NULL : PQgetvalue(res, 0, 2),
			     PQgetvalue(res, 0, 3));
}

static void left_queue(struct srv *srv, struct run *r)
{
	char id[24];
	const char *p[1] = {id};

	if (r->ending || r->plat)
		return;
	snprintf(id, sizeof(id), "%lld", r->id);
	db_query(srv->db,
		 "SELECT $1::bigint, r.reason, r.end_code, coalesce(r.error_message, ''), "
		 "r.id IS NULL FROM (SELECT 1) one LEFT JOIN runs r ON r.id = $1",
		 1, p, gone_read, srv);
}

static void mine_read(void *arg, PGresult *res, const char *err)
{
	struct run_queue *Q = arg;
	struct srv *srv = Q->eng->srv;

	Q->busy = 0;
	if (Q->stopping || !res) {
		q_unref(Q);
		return;
	}
	for (size_t i = 0; i < Q->n;) {
		long long id = Q->w[i].id, pid = 0, pos = -1;
		struct run *r = run_find(srv, id);
		int row = 0;

		if (Q->w[i].since >= Q->reads) {
			/* it began waiting after this read was sent: its row may be
			 * newer than the read's snapshot, so the read says nothing of
			 * it (taken as gone, it was dropped and, once placed, never
			 * launched); the next read does */
			Q->again = 1;
			i++;
			continue;
		}
		for (int k = 0; k < PQntuples(res); k++)
			if (strtoll(PQgetvalue(res, k, 0), NULL, 10) == id) {
				row = k;
				pid = PQgetisnull(res, k, 1)
					  ? 0
					  : strtoll(PQgetvalue(res, k, 1), NULL, 10);
				pos = PQgetisnull(res, k, 2)
					  ? 0
					  : strtoll(PQgetvalue(res, k, 2), NULL, 10);
			}
		if (!r || r->ending || pos < 0) { /* it ended, or left the queue */
			if (r && pos < 0)
				left_queue(srv, r);
			w_drop(Q, i);
			continue;
		}
		if (pid) {
			w_drop(Q, i);
			place(Q, r, res, row);
			continue;
		}
		if (pos != Q->w[i].pos) {
			Q->w[i].pos = pos;
			r->queue_pos = pos;
			run_emit_status(r);
		}
		i++;
	}
	if (Q->again) {
		Q->again = 0;
		read_mine(Q);
	}
	q_unref(Q);
}

static void read_mine(struct run_queue *Q)
{
	const char *p[1] = {Q->eng->srv->cfg.instance};

	if (Q->stopping || !Q->n)
		return;
	if (Q->busy) {
		Q->again = 1;
		return;
	}
	Q->busy = 1;
	Q->reads++;
	Q->refs++;
	if (db_query(Q->eng->srv->db,
		     "SELECT id, platform_id, q_position, kind, endpoint, oci_runtime, name "
		     "FROM runit_queue_mine($1)",
		     1, p, mine_read, Q)) {
		Q->busy = 0;
		Q->refs--;
	}
}

/* ---------- dispatching ---------- */

static void dispatched(void *arg, PGresult *res, const char *err)
{
	struct run_queue *Q = arg;

	Q->dispatching = 0;
	if (!res && !Q->stopping)
		log_json(LOG_WARN, "the run queue was not dispatched",
			 json_pack("{s:s}", "error", err ? err : "database unavailable"));
	read_mine(Q); /* at once: our own runs need not wait for the NOTIFY */
	q_unref(Q);
}

static void dispatch(struct run_queue *Q)
{
	if (Q->stopping || Q->dispatching)
		return;
	Q->dispatching = 1;
	Q->refs++;
	if (db_query(Q->eng->srv->db, "SELECT count(*) FROM runit_queue_dispatch()", 0, NULL,
		     dispatched, Q)) {
		Q->dispatching = 0;
		Q->refs--;
	}
}

/* The queue of srv's engine; NULL once stopped (the bus and the listener
 * are told srv, never the queue: they outlive it). */
static struct run_queue *queue_of(void *srv_arg)
{
	struct srv *srv = srv_arg;

	return srv->runs ? srv->runs->queue : NULL;
}

static void notified(void *arg, const char *channel, const char *payload)
{
	struct run_queue *Q = queue_of(arg);

	if (Q)
		read_mine(Q);
}

static void tick(uv_timer_t *t)
{
	struct run_queue *Q = t->data;

	if (Q->n) /* something waits: room may have been freed elsewhere, unheard */
		dispatch(Q);
}

/* End this instance's runs (and warm containers) on an engine gone away. */
static void engine_gone(struct run_queue *Q, long long pid, const char *name)
{
	struct run *r, *n;
	char msg[160];

	snprintf(msg, sizeof(msg), "the container engine %s went away", name);
	for (r = Q->eng->runs; r; r = n) {
		n = r->next;
		if (pid && r->platform_id == pid && r->plat && !r->ending)
			run_end(r, r->id ? "error" : "stopped", msg);
	}
}

static void on_platform(void *arg, const struct bus_event *ev)
{
	struct run_queue *Q = queue_of(arg);
	json_t *id = json_object_get(ev->data, "platform");
	const char *name = json_string_value(json_object_get(ev->data, "name"));

	if (!Q)
		return;
	if (!strcmp(ev->kind, "down") && json_is_integer(id))
		engine_gone(Q, json_integer_value(id), name ? name : "?");
	dispatch(Q); /* up: room; down: positions may change */
}

/* An admin changed a platform here (its capacity, say): room may be there. */
static void on_config(void *arg, const struct bus_event *ev)
{
	struct run_queue *Q = queue_of(arg);

	if (Q && !strncmp(ev->kind, "platform.", 9))
		dispatch(Q);
}

static void on_run(void *arg, const struct bus_event *ev)
{
	struct run_queue *Q = queue_of(arg);

	if (Q && !strcmp(ev->kind, "ended"))
		dispatch(Q); /* its room goes to the next run */
}

int run_queue_start(struct run_engine *eng, unsigned interval_ms)
{
	struct run_queue *Q = calloc(1, sizeof(*Q));
	struct srv *srv = eng->srv;

	if (!Q)
		return -1;
	Q->eng = eng;
	Q->refs = 1;
	eng->queue = Q;
	uv_timer_init(srv->loop, &Q->timer);
	Q->timer.data = Q;
	uv_timer_start(&Q->timer, tick, interval_ms, interval_ms);
	if (db_listen(srv->db, "runit_queue", notified, srv) ||
	    bus_on(srv, "platform", on_platform, srv) || bus_on(srv, "run", on_run, srv) ||
	    bus_on(srv, "config", on_config, srv))
		log_json(LOG_WARN, "queued runs wait for the queue's timer", NULL);
	return 0;
}

static void timer_closed(uv_handle_t *h)
{
	q_unref(h->data);
}

void run_queue_stop(struct run_engine *eng)
{
	struct run_queue *Q = eng->queue;

	if (!Q)
		return;
	eng->queue = NULL;
	Q->stopping = 1;
	uv_timer_stop(&Q->timer);
	uv_close((uv_handle_t *)&Q->timer, timer_closed);
}
