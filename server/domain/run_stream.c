/*
 * run_stream.c - a run's events on their way out: output chunks, status
 * changes and the exit, each with the run's next sequence number, sent to
 * every session watching (the project's room and run/attach callers), kept
 * in a bounded ring for run/attach and stored in run_logs for history.
 *
 * Pacing: every chunk is encoded once and the same bytes are queued for
 * every recipient (sess_send_shared). A recipient that keeps reading gets
 * every byte: when one's queue passes the high-water mark the run's output
 * is paused (plat_pause: the engine's buffers fill and the program blocks
 * on its write, as in a terminal) until the queue is down to the low-water
 * mark. The run's starter holds the program for as long as the run lives;
 * a watcher that holds it longer than PACE_LIMIT_MS is from then on a
 * lagging watcher: it no longer holds the program, and while its queue is
 * more than half full it is skipped rather than buffered, getting run/gap
 * {from, to} for what it missed (readable with run/logs) once it has room,
 * so a slow client never grows memory. A run that is being stopped is not
 * paced; one whose program exited is, for PACE_LIMIT_MS more at most.
 */
#include "run_int.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "room.h"
#include "rpc.h"
#include "sess.h"
#include "srv.h"

#include <stdlib.h>
#include <string.h>

#define RING_MAX_BYTES (512 * 1024)
/* Output kept in run_logs per run: history is capped, live output is not. */
#define STORE_MAX_BYTES (8LL << 20)
#define MAX_RECIPIENTS 256
/* how long a watcher (not the starter) may hold the program back */
#define PACE_LIMIT_MS 5000
/* how often a paused run looks again at its readers (one may have gone) */
#define PACE_CHECK_MS 200

void run_db_ignore(void *arg, PGresult *res, const char *err)
{
	if (!res)
		log_json(LOG_WARN, "run bookkeeping query failed",
			 json_pack("{s:s}", "error", err));
}

/* ---------- watchers ---------- */

static struct watcher *watcher_get(struct run *r, uint64_t sess, int add)
{
	for (size_t i = 0; i < r->nwatchers; i++)
		if (r->watchers[i].sess == sess)
			return &r->watchers[i];
	if (!add)
		return NULL;
	if (r->nwatchers == r->capwatchers) {
		size_t cap = r->capwatchers ? r->capwatchers * 2 : 4;
		struct watcher *w = realloc(r->watchers, cap * sizeof(*w));
		if (!w)
			return NULL;
		r->watchers = w;
		r->capwatchers = cap;
	}
	r->watchers[r->nwatchers] = (struct watcher){sess, 0, 0};
	return &r->watchers[r->nwatchers++];
}

int run_watch(struct run *r, uint64_t sess_id)
{
	return watcher_get(r, sess_id, 1) ? 0 : -1;
}

size_t run_project_watchers(struct srv *srv, long long project_id, uint64_t *out, size_t max)
{
	size_t n = 0;

	for (struct run *r = srv->runs ? srv->runs->runs : NULL; r; r = r->next) {
		if (!r->id || r->project_id != project_id)
			continue;
		for (size_t i = 0; i < r->nwatchers; i++) {
			size_t j;
			for (j = 0; j < n && j < max && out[j] != r->watchers[i].sess; j++)
				;
			if (j < n)
				continue;
			if (n < max)
				out[n] = r->watchers[i].sess;
			n++;
		}
	}
	return n;
}

void run_unwatch_project(struct srv *srv, long long project_id, uint64_t sess_id)
{
	for (struct run *r = srv->runs ? srv->runs->runs : NULL; r; r = r->next) {
		if (r->project_id != project_id)
			continue;
		for (size_t i = 0; i < r->nwatchers; i++) {
			if (r->watchers[i].sess == sess_id) {
				r->watchers[i] = r->watchers[--r->nwatchers];
				break;
			}
		}
	}
}

/* ---------- pacing ---------- */

static size_t pace_high(const struct srv *srv)
{
	return srv->cfg.out_queue_bytes / 4;
}

static size_t pace_low(const struct srv *srv)
{
	return srv->cfg.out_queue_bytes / 8;
}

/* 1 while reading the program's output may wait for its readers. */
static int pace_on(const struct run *r)
{
	if (!r->att || r->attach_ended || r->pace_off)
		return 0;
	return !r->ending || !strcmp(r->reason, "exited");
}

/* 1 when s must get every byte of r (the starter, or a watcher not lagging). */
static int must_read(struct run *r, const struct sess *s)
{
	struct watcher *w;

	if (s->id == r->starter_sess)
		return 1;
	w = watcher_get(r, s->id, 0);
	return !w || !w->lagging;
}

static size_t recipients(struct run *r, uint64_t *ids)
{
	struct srv *srv = r->eng->srv;
	size_t n = room_members_with(srv, r->project_id, ROOM_SEES_RUNS, ids, MAX_RECIPIENTS);

	if (n > MAX_RECIPIENTS)
		n = MAX_RECIPIENTS;
	for (size_t i = 0; i < r->nwatchers && n < MAX_RECIPIENTS; i++) {
		size_t j;
		for (j = 0; j < n && ids[j] != r->watchers[i].sess; j++)
			;
		if (j == n)
			ids[n++] = r->watchers[i].sess;
	}
	/* a run ended with a reason code (its user lost access, its pool
	 * shrank: sql/023) tells the session that started it why, even if that
	 * session no longer watches the project: run/exit has no output */
	if (r->state == RS_FINISHED && r->code[0] && r->starter_sess && n < MAX_RECIPIENTS) {
		size_t j;
		for (j = 0; j < n && ids[j] != r->starter_sess; j++)
			;
		if (j == n)
			ids[n++] = r->starter_sess;
	}
	return n;
}

static void pace_resume(struct run *r)
{
	r->paced = 0;
	uv_timer_stop(&r->pace);
	if (r->att && !r->attach_ended)
		plat_resume(r->att);
}

/*
 * A paused run looks at its readers: it goes on once none that must read
 * everything is above the low-water mark. Past PACE_LIMIT_MS the watchers
 * still holding it become lagging ones (and so does everyone once the
 * program exited).
 */
static void pace_check(struct run *r)
{
	struct srv *srv = r->eng->srv;
	uint64_t ids[MAX_RECIPIENTS];
	size_t n = recipients(r, ids), held = 0;
	int over = srv_now_ms() - r->paced_since >= PACE_LIMIT_MS;

	if (!r->paced)
		return;
	if (over && r->ending)
		r->pace_off = 1;
	for (size_t i = 0; i < n && pace_on(r); i++) {
		struct sess *s = sess_find(srv, ids[i]);
		if (!s || s->closing || s->q_bytes <= pace_low(srv) || !must_read(r, s))
			continue;
		if (over && s->id != r->starter_sess) {
			struct watcher *w = watcher_get(r, s->id, 1);
			if (w) {
				w->lagging = 1;
				continue;
			}
		}
		sess_want_drain(s, pace_low(srv));
		held++;
	}
	if (!held || !pace_on(r))
		pace_resume(r);
}

static void on_pace(uv_timer_t *t)
{
	pace_check(t->data);
}

/* s, which must read every byte, is past the high-water mark: pause r. */
static void pace_hold(struct run *r, struct sess *s)
{
	sess_want_drain(s, pace_low(s->srv));
	if (r->paced || !pace_on(r))
		return;
	r->paced = 1;
	r->paced_since = srv_now_ms();
	plat_pause(r->att);
	uv_timer_start(&r->pace, on_pace, PACE_CHECK_MS, PACE_CHECK_MS);
}

void run_on_sess_drained(struct srv *srv, struct sess *s)
{
	struct run *r, *n;

	(void)s;
	for (r = srv->runs ? srv->runs->runs : NULL; r; r = n) {
		n = r->next;
		if (r->paced)
			pace_check(r);
	}
}

void run_pace_stop(struct run *r)
{
	if (r->paced && !pace_on(r))
		pace_resume(r);
}

static void send_gap(struct run *r, struct sess *s, struct watcher *w, long long seq)
{
	sess_notify(s, "run/gap",
		    json_pack("{s:I, s:I, s:I}", "run", (json_int_t)r->id, "from",
			      (json_int_t)w->gap_from, "to", (json_int_t)(seq - 1)));
	w->gap_from = 0;
}

/* A run/log may be skipped for s (a lagging watcher, or anyone once the run
 * is no longer paced) while its queue is more than half full; run/status and
 * run/exit never are. */
static void send_one(struct run *r, struct sess *s, struct sess_frame *f, long long seq,
		     int droppable)
{
	struct watcher *w = watcher_get(r, s->id, 0);
	int must = pace_on(r) && must_read(r, s);

	if (!must && droppable && s->q_bytes + f->len > s->srv->cfg.out_queue_bytes / 2) {
		w = w ? w : watcher_get(r, s->id, 1);
		if (w && !w->gap_from)
			w->gap_from = seq;
		return;
	}
	if (w && w->gap_from)
		send_gap(r, s, w, seq);
	if (sess_send_shared(s, f) == 0 && must && s->q_bytes > pace_high(s->srv))
		pace_hold(r, s);
}

/* Send a notification to the room's members who may see runs and to the
 * run's own watchers (its starter, run/attach callers), once each: one
 * encoded frame shared by all of them. */
static void broadcast(struct run *r, struct sess_frame *f, long long seq, int droppable)
{
	struct srv *srv = r->eng->srv;
	uint64_t ids[MAX_RECIPIENTS];
	size_t n = recipients(r, ids);

	for (size_t i = 0; i < n; i++) {
		struct sess *s = sess_find(srv, ids[i]);
		if (s && !s->closing)
			send_one(r, s, f, seq, droppable);
	}
}

/* ---------- ring ---------- */

/* The ring keeps the encoded frames themselves: a late watcher is sent the
 * same bytes (and memory) as everyone else. What it holds is counted as
 * encoded (escapes included), so RING_MAX_BYTES bounds its memory. */
#define RING_ITEM_BYTES(it) ((it)->f->len + 64)

static void ring_push(struct run *r, struct sess_frame *f, long long seq)
{
	struct ring_item *it = calloc(1, sizeof(*it));

	if (!it)
		return;
	it->seq = seq;
	it->f = f;
	f->refs++;
	if (r->ring_tail)
		r->ring_tail->next = it;
	else
		r->ring_head = it;
	r->ring_tail = it;
	r->ring_bytes += RING_ITEM_BYTES(it);
	while (r->ring_bytes > RING_MAX_BYTES && r->ring_head != r->ring_tail) {
		struct ring_item *h = r->ring_head;
		r->ring_head = h->next;
		r->ring_bytes -= RING_ITEM_BYTES(h);
		sess_frame_unref(h->f);
		free(h);
	}
}

void run_ring_clear(struct run *r)
{
	struct ring_item *it = r->ring_head, *n;

	for (; it; it = n) {
		n = it->next;
		sess_frame_unref(it->f);
		free(it);
	}
	r->ring_head = r->ring_tail = NULL;
	r->ring_bytes = 0;
}

/* ---------- events ---------- */

static void persisted(void *arg, PGresult *res, const char *err)
{
	struct run *r = arg;

	run_db_ignore(NULL, res, err);
	r->eng->op_done(r);
}

#define INSERT_LOG                                                                                 \
	"WITH a AS (SELECT set_config('synchronous_commit', 'off', true)) "                        \
	"INSERT INTO run_logs (run_id, seq, stream, data) SELECT $1::bigint, $2::bigint, $3, $4 "  \
	"FROM a"

/*
 * Store one event. Until the row's finish is asked the insert counts as
 * pending, so the row is finished (and run/exit sent) only after every event
 * before it is readable with run/logs. Output (stdout, stderr: len bytes, not a C
 * string) past STORE_MAX_BYTES is not stored; other data is a C string.
 *
 * The insert commits without waiting for its WAL flush (INSERT_LOG): each
 * one NOTIFYs (runit_run_log, for the other instances), and a notifying
 * commit holds a database-wide lock until it is flushed, so a printing run
 * made every save and every other run's event wait behind its flushes. The
 * row's finish is a synchronous commit after these, which flushes them too:
 * a crash can lose only the last events of a run still in progress, which
 * the restart marks interrupted anyway.
 */
static void persist(struct run *r, long long seq, const char *stream, const char *data, size_t len)
{
	char rid[24], sq[24], *copy = NULL;
	const char *p[4] = {rid, sq, stream, data};

	if (!strcmp(stream, "stdout") || !strcmp(stream, "stderr")) {
		if (r->stored_bytes >= STORE_MAX_BYTES || !(copy = strndup(data, len)))
			return;
		p[3] = copy;
		r->stored_bytes += (long long)len;
	}
	snprintf(rid, sizeof(rid), "%lld", r->id);
	snprintf(sq, sizeof(sq), "%lld", seq);
	if (r->row_ending) {
		db_query(r->eng->srv->db, INSERT_LOG, 4, p, run_db_ignore, NULL);
	} else {
		r->pending++;
		if (db_query(r->eng->srv->db, INSERT_LOG, 4, p, persisted, r))
			r->pending--;
	}
	free(copy); /* db_query copied it */
}

/* One event of the run, numbered seq and encoded as text (owned; NULL: out
 * of memory, then it is only stored): kept in the ring, sent to every
 * recipient as one shared frame, and stored as data (bytes long, see
 * persist) unless stream is NULL. droppable: a run/log, which a lagging
 * watcher may skip. */
static void event_text(struct run *r, long long seq, char *text, size_t len, int droppable,
		       const char *stream, const char *data, size_t bytes)
{
	struct sess_frame *f = text ? sess_frame_new(text, len) : NULL;

	free(text);
	if (f) {
		ring_push(r, f, seq);
		broadcast(r, f, seq, droppable);
		sess_frame_unref(f);
	}
	if (stream)
		persist(r, seq, stream, data, bytes);
}

/* A notification other than output; data (a C string) is what is stored. */
static void event(struct run *r, const char *method, json_t *params, const char *stream,
		  const char *data)
{
	long long seq = json_integer_value(json_object_get(params, "seq"));
	size_t len = 0;
	char *text = proto_notify_steal(method, params, &len);

	event_text(r, seq, text, len, 0, stream, data, strlen(data));
}

void run_on_chunk(void *arg, int stream, const char *utf8, size_t len)
{
	struct run *r = arg;
	const char *name = stream == 2 ? "stderr" : "stdout";
	size_t n = 0;
	char *text;

	/* the frame for every recipient, written without a jansson object */
	text = proto_notify_log(r->id, ++r->seq, name, utf8, len, &n);
	event_text(r, r->seq, text, n, 1, name, utf8, len);
}

void run_emit_status(struct run *r)
{
	const char *state = run_state_name(r->state);

	json_t *p = json_pack("{s:I, s:I, s:I, s:s, s:{s:I, s:s}}", "run", (json_int_t)r->id, "seq",
			      (json_int_t)++r->seq, "project", (json_int_t)r->project_id, "state",
			      state, "by", "id", (json_int_t)r->user_id, "username", r->username);

	if (r->state == RS_QUEUED && r->queue_pos > 0) /* waiting for an engine (run_queue.c) */
		json_object_set_new(p, "position", json_integer(r->queue_pos));
	event(r, "run/status", p, "status", state);
}

static long long duration_ms(const struct run *r)
{
	if (!r->t_started)
		return 0;
	return (r->t_ended ? r->t_ended : srv_now_ms()) - r->t_started;
}

static json_t *exit_params(struct run *r, long long seq)
{
	json_t *p = json_pack("{s:I, s:I, s:I, s:s, s:I}", "run", (json_int_t)r->id, "seq",
			      (json_int_t)seq, "project", (json_int_t)r->project_id, "reason",
			      r->reason, "duration_ms", (json_int_t)duration_ms(r));

	json_object_set_new(p, "exit_code",
			    r->have_exit ? json_integer(r->exit_code) : json_null());
	json_object_set_new(p, "first_byte_ms",
			    r->t_first_byte >= 0 ? json_integer(r->t_first_byte) : json_null());
	if (r->message[0])
		json_object_set_new(p, "message", json_string(r->message));
	if (r->code[0])
		json_object_set_new(p, "code", json_string(r->code));
	return p;
}

/* run/exit to every recipient; stored too (store) unless the row's finish
 * stores it (run_finish_db) */
static void emit_exit(struct run *r, int store)
{
	json_t *p;
	size_t len = 0;
	char *data = NULL, *text;

	if (!r->t_ended)
		r->t_ended = srv_now_ms();
	p = exit_params(r, r->seq);
	if (store)
		data = json_dumps(p, JSON_COMPACT);
	r->state = RS_FINISHED;
	text = proto_notify_steal("run/exit", p, &len);
	event_text(r, r->seq, text, len, 0, NULL, NULL, 0);
	if (store)
		persist(r, r->seq, "meta", data ? data : "{}", 0);
	free(data);
	metrics_run_end(&r->mx, r->reason, r->t_started ? (double)duration_ms(r) / 1000.0 : -1);
	/* an "error" end is ours or the platform's: a warning, with its message */
	log_json(strcmp(r->reason, "error") ? LOG_INFO : LOG_WARN, "run ended",
		 json_pack("{s:I, s:I, s:I, s:s, s:s, s:I, s:I, s:s*}", "run_id", (json_int_t)r->id,
			   "user_id", (json_int_t)r->user_id, "project", (json_int_t)r->project_id,
			   "runtime", r->runtime_code, "reason", r->reason, "duration_ms",
			   (json_int_t)duration_ms(r), "output_bytes", (json_int_t)r->out_bytes,
			   "error", strcmp(r->reason, "error") ? NULL : r->message));
}

void run_emit_exit(struct run *r)
{
	emit_exit(r, 0);
}

/*
 * A replaced run's end is told at once, since the start that replaced it
 * finishes its row now: what it printed goes out, then run/exit, before
 * the new run's first event. What it prints while it is killed is dropped.
 */
void run_emit_exit_now(struct run *r)
{
	if (r->exit_sent || r->state == RS_FINISHED)
		return;
	runout_flush(&r->out, 1);
	r->exit_sent = 1;
	r->seq++; /* the run/exit's number, stored as last_seq */
	emit_exit(r, 1);
	/* until its kill (run_kill_replaced), the program blocks on its output
	 * rather than take CPU from the new run's start */
	if (r->kill_later == 2 && r->att && !r->attach_ended)
		plat_pause(r->att);
}

/* ---------- the row ---------- */

static void pruned(void *arg, PGresult *res, const char *err)
{
	run_db_ignore(arg, res, err);
}

static void row_finished(void *arg, PGresult *res, const char *err)
{
	struct run *r = arg;
	char pid[24];
	const char *p[1] = {pid};

	if (!res)
		log_json(LOG_ERROR, "cannot record the end of a run",
			 json_pack("{s:I, s:I, s:s}", "run_id", (json_int_t)r->id, "user_id",
				   (json_int_t)r->user_id, "error", err ? err : ""));
	snprintf(pid, sizeof(pid), "%lld", r->project_id);
	/* history: keep the last run_history_per_project finished runs */
	db_query(r->eng->srv->db,
		 "DELETE FROM runs WHERE project_id = $1 AND state = 'finished' AND id NOT IN "
		 "(SELECT id FROM runs WHERE project_id = $1 AND state = 'finished' "
		 "ORDER BY id DESC LIMIT (SELECT value::int FROM settings "
		 "WHERE key = 'run_history_per_project'))",
		 1, p, pruned, NULL);
	r->eng->release(r);
}

/*
 * The row is finished and, unless it went out already (replaced), its
 * run/exit stored with it, in one statement: whoever reads the finished row
 * reads how it ended. run/exit goes out once this is done (row_finished).
 */
void run_finish_db(struct run *r)
{
	if (!r->id) { /* a warm container: no row */
		r->eng->release(r);
		return;
	}
	char id[24], code[24], dur[24], fb[24], ob[24], seq[24], *meta = NULL;
	const char *p[10];

	if (!r->exit_sent) {
		json_t *ex;

		r->seq++; /* the run/exit's number, stored as last_seq */
		r->t_ended = srv_now_ms();
		ex = exit_params(r, r->seq);
		meta = json_dumps(ex, JSON_COMPACT);
		json_decref(ex);
	}
	snprintf(id, sizeof(id), "%lld", r->id);
	snprintf(code, sizeof(code), "%d", r->exit_code);
	snprintf(dur, sizeof(dur), "%lld", duration_ms(r));
	snprintf(fb, sizeof(fb), "%lld", (long long)r->t_first_byte);
	snprintf(ob, sizeof(ob), "%lld", r->out_bytes);
	snprintf(seq, sizeof(seq), "%lld", r->seq);
	p[0] = id;
	p[1] = r->reason;
	p[2] = r->have_exit ? code : NULL;
	p[3] = dur;
	p[4] = r->t_first_byte >= 0 ? fb : NULL;
	p[5] = ob;
	p[6] = seq;
	p[7] = r->message[0] ? r->message : NULL;
	p[8] = r->code[0] ? r->code : NULL;
	p[9] = r->exit_sent ? NULL : meta ? meta : "{}";
	if (db_query(
		r->eng->srv->db,
		"WITH u AS (UPDATE runs SET state = 'finished', reason = $2, exit_code = $3, "
		"finished_at = now(), duration_ms = $4, first_byte_ms = $5, output_bytes = $6, "
		"last_seq = $7, error_message = left($8, 4096), "
		"end_code = coalesce($9, end_code) WHERE id = $1 RETURNING id) "
		"INSERT INTO run_logs (run_id, seq, stream, data) "
		"SELECT id, $7, 'meta', $10 FROM u WHERE $10::text IS NOT NULL",
		10, p, row_finished, r)) {
		free(meta);
		row_finished(r, NULL, "database unavailable");
		return;
	}
	free(meta); /* db_query copied it */
}

void run_db_set_container(struct run *r)
{
	char id[24];
	const char *p[3] = {r->cid, id, r->tty ? "true" : "false"};

	snprintf(id, sizeof(id), "%lld", r->id);
	db_query(r->eng->srv->db, "UPDATE runs SET container_id = $1, tty = $3 WHERE id = $2", 3, p,
		 run_db_ignore, NULL);
}

/* ---------- run/attach ---------- */

/* A stored run_logs row as the notification it was. NULL when unknown. */
json_t *run_row_note(long long run_id, long long seq, const char *stream, const char *data,
		     const char **method)
{
	json_t *p;

	if (!strcmp(stream, "stdout") || !strcmp(stream, "stderr")) {
		*method = "run/log";
		return json_pack("{s:I, s:I, s:s, s:s}", "run", (json_int_t)run_id, "seq",
				 (json_int_t)seq, "stream", stream, "data", data);
	}
	if (!strcmp(stream, "status")) {
		*method = "run/status";
		return json_pack("{s:I, s:I, s:s}", "run", (json_int_t)run_id, "seq",
				 (json_int_t)seq, "state", data);
	}
	*method = "run/exit";
	p = json_loads(data, 0, NULL);
	return json_is_object(p) ? p : (json_decref(p), NULL);
}

struct replay {
	struct rpc_call *c;
	long long run_id, from, upto;
};

static void replay_rows(void *arg, PGresult *res, const char *err)
{
	struct replay *rp = arg;
	struct sess *s = rpc_sess(rp->c);
	struct run *r = run_find(rp->c->srv, rp->run_id);
	long long expect = rp->from;
	struct ring_item *it;
	json_t *ans;

	if (!res) {
		rpc_fail(rp->c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		free(rp);
		return;
	}
	if (!s) {
		rpc_fail(rp->c, PROTO_R_INTERNAL, "session gone", NULL);
		free(rp);
		return;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		long long seq = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		const char *method;
		json_t *note = run_row_note(rp->run_id, seq, PQgetvalue(res, i, 1),
					    PQgetvalue(res, i, 2), &method);
		if (seq > expect)
			sess_notify(s, "run/gap",
				    json_pack("{s:I, s:I, s:I}", "run", (json_int_t)rp->run_id,
					      "from", (json_int_t)expect, "to",
					      (json_int_t)(seq - 1)));
		if (note)
			sess_notify(s, method, note);
		expect = seq + 1;
	}
	if (r) {
		for (it = r->ring_head; it; it = it->next) {
			if (it->seq < expect)
				continue;
			if (it->seq > expect)
				sess_notify(s, "run/gap",
					    json_pack("{s:I, s:I, s:I}", "run", (json_int_t)r->id,
						      "from", (json_int_t)expect, "to",
						      (json_int_t)(it->seq - 1)));
			sess_send_shared(s, it->f);
			expect = it->seq + 1;
		}
		run_watch(r, s->id);
	}
	ans = json_pack("{s:I, s:s, s:I, s:b}", "run", (json_int_t)rp->run_id, "state",
			r ? run_state_name(r->state) : "finished", "last_seq",
			(json_int_t)(expect - 1), "live", r != NULL);
	if (r && r->state == RS_QUEUED && r->queue_pos > 0) /* waiting: its place now */
		json_object_set_new(ans, "position", json_integer(r->queue_pos));
	rpc_reply(rp->c, ans);
	free(rp);
}

/*
 * Send what the caller missed from from_seq on (stored rows, then the ring),
 * marking holes with run/gap, then keep it watching if the run is live.
 * Sessions that are also in the project's room may see a few events twice:
 * clients ignore a seq they already have.
 */
void run_replay(struct srv *srv, struct rpc_call *c, long long run_id, long long from_seq)
{
	struct replay *rp = calloc(1, sizeof(*rp));
	char rid[24], from[24];
	const char *p[2] = {rid, from};

	if (!rp) {
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return;
	}
	rp->c = c;
	rp->run_id = run_id;
	rp->from = from_seq < 1 ? 1 : from_seq;
	snprintf(rid, sizeof(rid), "%lld", run_id);
	snprintf(from, sizeof(from), "%lld", rp->from);
	if (db_query(srv->db,
		     "SELECT seq, stream, data FROM run_logs WHERE run_id = $1 AND seq >= $2 "
		     "ORDER BY seq LIMIT 5000",
		     2, p, replay_rows, rp)) {
		free(rp);
		rpc_fail(c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
	}
}

/* ---------- state ---------- */

void run_set_state(struct run *r, enum run_state s)
{
	if (r->state == s || r->state == RS_FINISHED)
		return;
	if (!r->id) { /* a warm container: no run yet, nothing to tell */
		r->state = s;
		return;
	}
	r->state = s;
	run_emit_status(r);
	if (s != RS_FINISHED && s != RS_STOPPING) {
		char id[24];
		const char *p[2] = {run_state_name(s), id};
		snprintf(id, sizeof(id), "%lld", r->id);
		db_query(r->eng->srv->db,
			 "UPDATE runs SET state = $1, started_at = CASE WHEN $1 = 'running' "
			 "THEN coalesce(started_at, now()) ELSE started_at END "
			 "WHERE id = $2 AND state <> 'finished'",
			 2, p, run_db_ignore, NULL);
	}
}

void run_set_running(struct run *r)
{
	if (!r->ending)
		run_set_state(r, RS_RUNNING);
}

void run_publish_started(struct run *r)
{
	bus_publish(r->eng->srv, "run", "started",
		    json_pack("{s:I, s:I, s:s, s:I, s:s}", "run", (json_int_t)r->id, "user",
			      (json_int_t)r->user_id, "username", r->username, "project",
			      (json_int_t)r->project_id, "runtime", r->runtime_code));
}
