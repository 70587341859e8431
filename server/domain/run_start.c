/*
 * run_start.c - run/start from request to launched run: check access, the
 * runtime, the quota and the platform; save unsaved buffers; claim the
 * (user, project) slot; snapshot the files and env; insert the run row.
 *
 * The slot is how "one active run per (user, project)" holds inside one
 * server: a start that finds the slot busy cancels the active run
 * ("replaced") and waits; only the newest waiting start goes on (an older
 * one is answered CONFLICT, superseded). Across servers the database's
 * one_active_run index refuses the second row; the start then asks the
 * other server to cancel through NOTIFY runit_run_cancel and tries again.
 */
#include "run_int.h"
#include "run_image.h"
#include "run_queue.h"
#include "db.h"
#include "dbcall.h"
#include "sess.h"
#include "log.h"
#include "metrics.h"
#include "room.h"
#include "rpc.h"
#include "srv.h"
#include "bus.h"

#include <stdlib.h>
#include <string.h>

#define CONFLICT_RETRY_MS 250
#define CONFLICT_RETRIES 40

struct start_req;

struct start_req {
	struct rpc_call *c;
	struct run_engine *eng;
	struct run_slot *slot;
	long long user_id, project_id;
	json_t *files; /* unsaved buffers, or NULL */
	long long runtime_id;
	char runtime_code[72];
	char image[256];
	json_t *build_cmd, *run_cmd;
	long long wall_ms, memory, cpus, pids, output;
	long long disk_bytes, disk_inodes;
	long long build_wall_ms, cache_bytes;
	char cache_vol[64];
	int network;
	struct run_term term; /* run/start's tty, rows, cols */
	struct run_platform rp;
	char cands[1024];   /* through the queue: the engines with the image */
	long long position; /* placed: 0; waiting: from 1; -1: placed elsewhere */
	json_t *snapshot, *env;
	struct run_pool pool; /* the user's pool, once the row is in */
	int attempts;
	uv_timer_t retry;
	int holds_slot;
	unsigned cancels; /* slot->cancels when it began */
};

static void gate(struct start_req *q);
static void insert_row(struct start_req *q);

/* ---------- slots ---------- */

/* The replaced run's row is finished: the start waiting for the slot goes on. */
static void let_go_done(void *arg, PGresult *res, const char *err)
{
	struct run_slot *slot = arg;
	struct start_req *next;

	run_db_ignore(NULL, res, err);
	slot->letting_go = 0;
	slot->busy = 0;
	next = slot->waiting;
	slot->waiting = NULL;
	if (next)
		gate(next);
	else
		run_slot_maybe_free(slot->eng, slot);
}

/*
 * A newer start replaces the slot's run: the run is told to die and lets go
 * of the slot at once; its row is finished now (the one_active_run index
 * then lets the next row in) and the waiting start goes on, while the old
 * container is killed and removed and its last events and run/exit go out
 * after (run.c).
 */
static void replace_active(struct run_slot *slot)
{
	struct run *old = slot->active;
	char id[24];
	const char *p[2] = {id, NULL};

	if (!old || slot->letting_go)
		return;
	old->kill_later = 1; /* after the new run's first byte: run_kill_replaced() */
	run_cancel(old, "replaced", "replaced by a newer run");
	if (slot->active != old) /* it was released at once (nothing to wait for) */
		return;
	slot->active = NULL;
	old->slot = NULL;
	slot->letting_go = 1;
	run_emit_exit_now(old);
	snprintf(id, sizeof(id), "%lld", old->id);
	p[1] = old->reason;
	if (db_query(slot->eng->srv->db,
		     "UPDATE runs SET state = 'finished', reason = $2, finished_at = now() "
		     "WHERE id = $1 AND state <> 'finished'",
		     2, p, let_go_done, slot))
		let_go_done(slot, NULL, "database unavailable");
}

static void req_free_cb(uv_handle_t *h)
{
	free(h->data);
}

/* The request is done (answered): let go of it and of the slot if it held it. */
static void req_done(struct start_req *q)
{
	struct run_slot *slot = q->slot;
	struct start_req *next = NULL;

	slot->starts--;
	if (slot->latest == q)
		slot->latest = NULL;
	if (slot->waiting == q)
		slot->waiting = NULL;
	if (q->holds_slot && !slot->active && !slot->letting_go) {
		slot->busy = 0;
		next = slot->waiting;
		slot->waiting = NULL;
	}
	json_decref(q->files);
	json_decref(q->build_cmd);
	json_decref(q->run_cmd);
	json_decref(q->snapshot);
	json_decref(q->env);
	uv_close((uv_handle_t *)&q->retry, req_free_cb);
	if (next)
		gate(next);
	else
		run_slot_maybe_free(q->eng, slot);
}

static void fail(struct start_req *q, enum proto_reason reason, const char *msg)
{
	rpc_fail(q->c, reason, msg, NULL);
	req_done(q);
}

/* RUN_QUOTA: checked when the start is read, and again, under a lock, by
 * runit_run_insert_pooled() (sql/020_pool.sql) when the row goes in. */
static void quota_reached(struct start_req *q, long long active, long long limit)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "you already have %lld active runs (the limit is %lld)", active,
		 limit);
	rpc_fail(q->c, PROTO_R_RUN_QUOTA, msg, json_pack("{s:I}", "limit", (json_int_t)limit));
	req_done(q);
}

/* Reasons after which the same person, still here, likely runs again soon. */
static int warm_worthy(struct run_engine *eng, const struct run *r)
{
	struct sess *s = sess_find(eng->srv, r->starter_sess);

	if (!s || s->closing || !r->plat) /* no plat: it never left the queue */
		return 0;
	return r->id && (!strcmp(r->reason, "exited") || !strcmp(r->reason, "stopped") ||
			 !strcmp(r->reason, "timeout") || !strcmp(r->reason, "output_limit") ||
			 !strcmp(r->reason, "oom") || !strcmp(r->reason, "build_failed") ||
			 !strcmp(r->reason, "build_timeout"));
}

void run_slot_released(struct run_engine *eng, struct run *r)
{
	struct run_slot *slot = r->slot;
	struct start_req *next;

	if (!slot)
		return;
	if (!r->id) { /* a warm container went away */
		if (slot->warm == r)
			slot->warm = NULL;
		run_slot_maybe_free(eng, slot);
		return;
	}
	if (r->go_sent) /* its program ran: refill, if its start did not */
		run_prep_refill(eng, r);
	slot->active = NULL;
	slot->busy = 0;
	next = slot->waiting;
	slot->waiting = NULL;
	if (!next && !slot->warm && warm_worthy(eng, r) && !eng->srv->stopping) {
		slot->warm = run_warm_prepare(eng, r);
		if (slot->warm)
			slot->warm->slot = slot;
	}
	if (next)
		gate(next);
	else
		run_slot_maybe_free(eng, slot);
}

/* ---------- steps ---------- */

/* A prepared container made for q's configuration (run_prep.c), if any;
 * with ready_only one whose program already waits for "go". */
static struct run *take_prepared(struct start_req *q, int ready_only)
{
	struct run want;

	memset(&want, 0, sizeof(want));
	want.eng = q->eng;
	want.runtime_id = q->runtime_id;
	snprintf(want.image, sizeof(want.image), "%s", q->image);
	want.build_cmd = q->build_cmd;
	want.run_cmd = q->run_cmd;
	want.memory_bytes = q->memory;
	want.nano_cpus = q->cpus;
	want.pids = q->pids;
	want.disk_bytes = q->disk_bytes;
	want.disk_inodes = q->disk_inodes;
	want.network = q->network;
	want.plat = q->rp.plat;
	snprintf(want.oci_runtime, sizeof(want.oci_runtime), "%s", q->rp.oci_runtime);
	want.cache_bytes = q->cache_bytes;
	snprintf(want.cache_vol, sizeof(want.cache_vol), "%s", q->cache_vol);
	want.tty = q->term.tty;
	want.pool = q->pool;
	return run_prep_take(q->eng, &want, ready_only);
}

static void run_created(struct start_req *q, long long id)
{
	struct run_slot *slot = q->slot;
	struct run *r = NULL;
	json_t *ans;
	int adopted = 0;

	if (slot->warm && !q->position) {
		if (!run_warm_matches(slot->warm, q->image, q->build_cmd, q->run_cmd, q->env,
				      q->wall_ms, q->memory, q->cpus, q->pids, q->output,
				      q->disk_bytes, q->disk_inodes, q->network, q->rp.plat,
				      q->rp.oci_runtime, q->cache_bytes, q->term.tty)) {
			/* it lets go of the slot now: the slot may be freed before
			 * the cancelled container is gone */
			slot->warm->slot = NULL;
			run_cancel(slot->warm, "stopped", "configuration changed");
			slot->warm = NULL;
		} else if (!slot->warm->waiting && (r = take_prepared(q, 1))) {
			/* runs back to back: the slot's is still starting, the pool's
			 * is ready; the slot's waits for the next run */
			adopted = 1;
		} else {
			r = slot->warm;
			adopted = 1;
			slot->warm = NULL;
		}
	}
	if (!r && (r = take_prepared(q, 0)))
		adopted = 1;
	if (!r)
		r = run_new(q->eng);
	if (!r) {
		fail(q, PROTO_R_INTERNAL, "out of memory");
		return;
	}
	if (adopted) { /* same configuration: keep its copies; time starts now */
		json_decref(r->build_cmd);
		json_decref(r->run_cmd);
		json_decref(r->env);
		r->t_created = srv_now_ms();
		r->t_first_byte = -1;
		r->state = RS_QUEUED;
	}
	r->id = id;
	r->user_id = q->user_id;
	{
		struct sess *who = rpc_sess(q->c);

		snprintf(r->username, sizeof(r->username), "%s", who ? who->username : "");
	}
	r->project_id = q->project_id;
	r->runtime_id = q->runtime_id;
	r->platform_id = q->rp.id;
	r->plat = q->rp.plat;
	snprintf(r->oci_runtime, sizeof(r->oci_runtime), "%s", q->rp.oci_runtime);
	snprintf(r->runtime_code, sizeof(r->runtime_code), "%s", q->runtime_code);
	snprintf(r->image, sizeof(r->image), "%s", q->image);
	r->build_cmd = q->build_cmd;
	r->run_cmd = q->run_cmd;
	r->env = q->env;
	r->snapshot = q->snapshot;
	q->build_cmd = q->run_cmd = q->env = q->snapshot = NULL;
	r->wall_ms = q->wall_ms;
	r->memory_bytes = q->memory;
	r->nano_cpus = q->cpus;
	r->pids = q->pids;
	r->output_limit = q->output;
	r->disk_bytes = q->disk_bytes;
	r->disk_inodes = q->disk_inodes;
	r->build_wall_ms = q->build_wall_ms;
	r->cache_bytes = q->cache_bytes;
	snprintf(r->cache_vol, sizeof(r->cache_vol), "%s", q->cache_vol);
	r->network = q->network;
	r->pool = q->pool;
	r->tty = q->term.tty;
	r->rows = q->term.rows;
	r->cols = q->term.cols;
	r->slot = q->slot;
	q->slot->active = r;
	metrics_run_begin(&r->mx, q->rp.name[0] ? q->rp.name : "queue", r->runtime_code,
			  q->c->t_start_ms);
	bus_publish(q->eng->srv, "run", "queued",
		    json_pack("{s:I, s:I, s:s, s:I, s:s}", "run", (json_int_t)id, "user",
			      (json_int_t)r->user_id, "username", r->username, "project",
			      (json_int_t)r->project_id, "runtime", r->runtime_code));
	rpc_log(q->c, LOG_INFO, "run started",
		json_pack("{s:I, s:I, s:s, s:s}", "run_id", (json_int_t)id, "project",
			  (json_int_t)r->project_id, "runtime", r->runtime_code, "platform",
			  q->rp.name));

	/* the starter watches its run even if it has not opened the project */
	r->starter_sess = q->c->sess_id;
	run_watch(r, q->c->sess_id);
	ans = json_pack("{s:I, s:I, s:s, s:b}", "run", (json_int_t)id, "project",
			(json_int_t)r->project_id, "state", "queued", "tty", r->tty);
	run_queue_wait(r, q->position, ans); /* no engine had room: it waits */
	rpc_reply(q->c, ans);
	q->c = NULL;
	run_emit_status(r);
	if (q->cancels != slot->cancels) /* cancelled while it started */
		run_end_code(r, slot->cancel_reason,
			     slot->cancel_code[0] ? slot->cancel_code : NULL, slot->cancel_msg);
	else if (q->position < 0)
		run_end(r, "error", "the container engine it was placed on is not known here");
	else if (!q->position && adopted)
		run_launch_adopted(r);
	else if (!q->position)
		run_launch(r);
	if (q->slot->waiting) /* a newer start arrived meanwhile */
		replace_active(q->slot);
	req_done(q);
}

static void retry_insert(uv_timer_t *t)
{
	insert_row(t->data);
}

static void stale_finished(void *arg, PGresult *res, const char *err)
{
	struct start_req *q = arg;

	if (!res) {
		fail(q, PROTO_R_UNAVAILABLE, "database unavailable");
		return;
	}
	insert_row(q);
}

/* Another row is active for this (user, project): whose is it? */
static void conflict_read(void *arg, PGresult *res, const char *err)
{
	struct start_req *q = arg;
	const char *p[2];

	if (!res) {
		fail(q, PROTO_R_UNAVAILABLE, "database unavailable");
		return;
	}
	if (PQntuples(res) == 0) { /* it ended meanwhile */
		insert_row(q);
		return;
	}
	p[0] = PQgetvalue(res, 0, 0);
	p[1] = q->eng->srv->cfg.instance;
	if (!strcmp(PQgetvalue(res, 0, 1), q->eng->srv->cfg.instance) &&
	    !run_find(q->eng->srv, strtoll(p[0], NULL, 10))) {
		/* ours, but this process does not know it: left over, end it */
		if (db_query(q->eng->srv->db,
			     "SELECT runit_runs_abandon($2, $1, 'lost by the server')", 2, p,
			     stale_finished, q))
			fail(q, PROTO_R_UNAVAILABLE, "database unavailable");
		return;
	}
	if (++q->attempts > CONFLICT_RETRIES) {
		fail(q, PROTO_R_CONFLICT, "another server's run of this project did not end");
		return;
	}
	db_query(q->eng->srv->db, "SELECT pg_notify('runit_run_cancel', $1)", 1, p, run_db_ignore,
		 NULL);
	uv_timer_start(&q->retry, retry_insert, CONFLICT_RETRY_MS, 0);
}

static void row_inserted(void *arg, PGresult *res, const char *err)
{
	struct start_req *q = arg;
	char uid[24], pid[24];
	const char *p[2] = {uid, pid};

	if (res && run_pool_refused(q->c, res)) { /* POOL_FULL, answered */
		req_done(q);
		return;
	}
	if (res && PQgetisnull(res, 0, 0)) { /* the quota, held in the database */
		quota_reached(q, strtoll(PQgetvalue(res, 0, 1), NULL, 10),
			      strtoll(PQgetvalue(res, 0, 2), NULL, 10));
		return;
	}
	if (res && q->cands[0]) /* through the queue: placed, or waiting */
		q->position = run_queue_placed(q->eng->srv, res, &q->rp);
	if (res) {
		run_pool_read(q->eng->srv, res, q->user_id, &q->pool);
		run_created(q, strtoll(PQgetvalue(res, 0, 0), NULL, 10));
		return;
	}
	if (!strcmp(db_last_sqlstate(q->eng->srv->db), "23503")) { /* deleted meanwhile */
		fail(q, PROTO_R_NOT_FOUND, "no such project");
		return;
	}
	if (strcmp(db_last_sqlstate(q->eng->srv->db), "23505")) {
		fail(q, PROTO_R_UNAVAILABLE, "database unavailable");
		return;
	}
	snprintf(uid, sizeof(uid), "%lld", q->user_id);
	snprintf(pid, sizeof(pid), "%lld", q->project_id);
	if (db_query(q->eng->srv->db,
		     "SELECT id, instance FROM runs WHERE user_id = $1 AND project_id = $2 "
		     "AND state <> 'finished'",
		     2, p, conflict_read, q))
		fail(q, PROTO_R_UNAVAILABLE, "database unavailable");
}

static void insert_row(struct start_req *q)
{
	char uid[24], pid[24], rt[24], pl[24];
	char *snap;
	const char *p[6] = {uid, pid, rt, q->rp.id ? pl : NULL, q->eng->srv->cfg.instance, NULL};

	if (q->eng->srv->stopping) { /* no new run once the server stops */
		fail(q, PROTO_R_UNAVAILABLE, "the server is shutting down");
		return;
	}
	if (!(snap = json_dumps(q->snapshot, JSON_COMPACT))) {
		fail(q, PROTO_R_INTERNAL, "out of memory");
		return;
	}
	p[5] = snap;
	snprintf(uid, sizeof(uid), "%lld", q->user_id);
	snprintf(pid, sizeof(pid), "%lld", q->project_id);
	snprintf(rt, sizeof(rt), "%lld", q->runtime_id);
	snprintf(pl, sizeof(pl), "%lld", q->rp.id);
	/* the quota and the user's pool under one lock; with several engines,
	 * placed by the queue (run_pool.h, run_queue.c) */
	if (run_pool_insert(q->eng->srv, p, q->cands, q->cpus, q->memory, row_inserted, q))
		fail(q, PROTO_R_UNAVAILABLE, "database unavailable");
	free(snap);
}

static void snapshot_read(void *arg, PGresult *res, const char *err)
{
	struct start_req *q = arg;

	if (!res) {
		fail(q, PROTO_R_UNAVAILABLE, "database unavailable");
		return;
	}
	q->snapshot = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	q->env = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
	if (!json_is_object(q->snapshot) || !json_is_object(q->env)) {
		fail(q, PROTO_R_INTERNAL, "cannot read the project's files");
		return;
	}
	insert_row(q);
}

/* The slot is ours: read the saved files as they are now. */
static void take_snapshot(struct start_req *q)
{
	char pid[24];
	const char *p[1] = {pid};

	snprintf(pid, sizeof(pid), "%lld", q->project_id);
	if (db_query(q->eng->srv->db,
		     "SELECT (SELECT coalesce(jsonb_object_agg(path, content), '{}'::jsonb) "
		     "FROM files WHERE project_id = $1), "
		     "(SELECT coalesce(jsonb_object_agg(name, value), '{}'::jsonb) "
		     "FROM env_vars WHERE project_id = $1)",
		     1, p, snapshot_read, q))
		fail(q, PROTO_R_UNAVAILABLE, "database unavailable");
}

/* Claim the slot, or cancel its run and wait, or give way to a newer start. */
static void gate(struct start_req *q)
{
	struct run_slot *slot = q->slot;

	if (slot->latest != q) {
		fail(q, PROTO_R_CONFLICT, "superseded by a newer run/start");
		return;
	}
	if (slot->busy) {
		if (slot->waiting && slot->waiting != q) {
			struct start_req *old = slot->waiting;
			slot->waiting = NULL;
			fail(old, PROTO_R_CONFLICT, "superseded by a newer run/start");
		}
		slot->waiting = q;
		replace_active(slot);
		return;
	}
	slot->busy = 1;
	q->holds_slot = 1;
	take_snapshot(q);
}

static void saved(void *arg, PGresult *res, const char *err)
{
	struct start_req *q = arg;
	json_t *ans, *files, *f, *e;
	struct sess *s;
	size_t i;

	if (!res) {
		fail(q, dbcall_sqlstate_reason(db_last_sqlstate(q->eng->srv->db)),
		     "the files could not be saved");
		return;
	}
	ans = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	if ((e = json_object_get(ans, "error"))) {
		json_t *data = json_object_get(ans, "data");
		rpc_fail(q->c, dbcall_reason(json_string_value(e)),
			 json_string_value(json_object_get(ans, "message")),
			 data ? json_incref(data) : NULL);
		json_decref(ans);
		req_done(q);
		return;
	}
	s = rpc_sess(q->c);
	files = json_object_get(json_object_get(ans, "ok"), "files");
	json_array_foreach(files, i, f)
	{
		json_t *n =
		    json_pack("{s:I, s:O, s:O, s:O, s:{s:I, s:s}}", "project",
			      (json_int_t)q->project_id, "path", json_object_get(f, "path"), "op",
			      json_object_get(f, "op"), "version", json_object_get(f, "version"),
			      "by", "id", (json_int_t)q->user_id, "username", s ? s->username : "");
		room_broadcast(q->eng->srv, q->project_id, "file/changed", n, 0);
		json_decref(n);
	}
	json_decref(ans);
	gate(q);
}

/*
 * Unsaved buffers are saved first, with file/save's limits and history
 * (runit_files_put), in one transaction: a run never loses code.
 */
static void save_buffers(struct start_req *q)
{
	char pid[24], uid[24], *files;
	int refused;
	const char *p[4] = {uid, q->c->role == PROTO_ROLE_ADMIN ? "true" : "false", pid, NULL};

	if (!q->files || !json_object_size(q->files)) {
		gate(q);
		return;
	}
	files = json_dumps(q->files, JSON_COMPACT);
	if (!files) {
		fail(q, PROTO_R_INTERNAL, "out of memory");
		return;
	}
	snprintf(pid, sizeof(pid), "%lld", q->project_id);
	snprintf(uid, sizeof(uid), "%lld", q->user_id);
	p[3] = files;
	refused = db_query(q->eng->srv->db,
			   "SELECT runit_files_put($1::bigint, $2::boolean, $3::bigint, $4::jsonb)",
			   4, p, saved, q);
	free(files); /* db_query copied it */
	/* the run it replaces dies now, its row finished while these are saved
	 * (queued after the save, not ahead of it with the run's last events) */
	if (refused)
		fail(q, PROTO_R_UNAVAILABLE, "database unavailable");
	else if (q->slot->latest == q)
		replace_active(q->slot);
}

/* Refused up front, nothing saved: the runtime's image is not there. */
static void image_checked(void *arg, enum run_image_state st)
{
	struct start_req *q = arg;
	char msg[400];

	if (st != RUN_IMAGE_MISSING) { /* unknown: the platform will say */
		save_buffers(q);
		return;
	}
	snprintf(msg, sizeof(msg),
		 "this runtime cannot run yet: its image %.200s is not installed on the "
		 "container platform (an admin can build or pull it from the dashboard)",
		 q->image);
	rpc_fail(q->c, PROTO_R_IMAGE_MISSING, msg,
		 json_pack("{s:s, s:s}", "image", q->image, "runtime", q->runtime_code));
	req_done(q);
}

static void platform_picked(void *arg, const struct run_platform *rp, const char *err)
{
	struct start_req *q = arg;
	int rc;

	if (!rp) {
		char msg[200];
		snprintf(msg, sizeof(msg), "the container platform is unavailable: %s", err);
		fail(q, PROTO_R_PLATFORM_UNAVAILABLE, msg);
		return;
	}
	q->rp = *rp;
	rc = run_image_check(q->eng->srv, rp->plat, q->image, image_checked, q);
	if (rc == 1)
		save_buffers(q);
	else if (rc < 0)
		fail(q, PROTO_R_INTERNAL, "out of memory");
}

/* The engines that can take the run (run_queue.c); none: refused now. No
 * platform row: the built-in engine, no queue. */
static void cands_ready(void *arg, const struct run_cands *c)
{
	struct start_req *q = arg;

	if (c->builtin && run_plat_pick(q->eng->srv, platform_picked, q))
		fail(q, PROTO_R_UNAVAILABLE, "database unavailable");
	else if (!c->builtin && !c->n && c->missing)
		image_checked(q, RUN_IMAGE_MISSING);
	else if (!c->builtin && !c->n)
		fail(q, PROTO_R_PLATFORM_UNAVAILABLE,
		     "the container platform is unavailable: no container engine answers");
	else if (!c->builtin && snprintf(q->cands, sizeof(q->cands), "%s", c->ids) > 0)
		save_buffers(q);
}

static long long col_ll(PGresult *res, int c)
{
	return strtoll(PQgetvalue(res, 0, c), NULL, 10);
}

static void loaded(void *arg, PGresult *res, const char *err)
{
	struct start_req *q = arg;

	if (!res) {
		fail(q, PROTO_R_UNAVAILABLE, "database unavailable");
		return;
	}
	if (PQntuples(res) != 1) {
		fail(q, PROTO_R_NOT_FOUND, "no such project");
		return;
	}
	if (PQgetvalue(res, 0, 15)[0] != 't') {
		fail(q, PROTO_R_FORBIDDEN,
		     "only the owner and editors run a project: fork it to run it");
		return;
	}
	if (PQgetvalue(res, 0, 2)[0] != 't') {
		fail(q, PROTO_R_RUNTIME_DISABLED, "this project's runtime is disabled by an admin");
		return;
	}
	if (col_ll(res, 13) >= col_ll(res, 12)) {
		quota_reached(q, col_ll(res, 13), col_ll(res, 12));
		return;
	}
	q->runtime_id = col_ll(res, 0);
	snprintf(q->runtime_code, sizeof(q->runtime_code), "%s", PQgetvalue(res, 0, 1));
	snprintf(q->image, sizeof(q->image), "%s", PQgetvalue(res, 0, 3));
	q->build_cmd = PQgetisnull(res, 0, 4) ? NULL : json_loads(PQgetvalue(res, 0, 4), 0, NULL);
	q->run_cmd = json_loads(PQgetvalue(res, 0, 5), 0, NULL);
	q->wall_ms = col_ll(res, 6);
	q->memory = col_ll(res, 7);
	q->cpus = col_ll(res, 8);
	q->pids = col_ll(res, 9);
	q->output = col_ll(res, 10);
	q->network = PQgetvalue(res, 0, 11)[0] == 't';
	q->disk_bytes = col_ll(res, 16);
	q->disk_inodes = col_ll(res, 17);
	q->build_wall_ms = col_ll(res, 18);
	q->cache_bytes = col_ll(res, 19);
	snprintf(q->cache_vol, sizeof(q->cache_vol), "%s", PQgetvalue(res, 0, 20));
	if (!json_is_array(q->run_cmd)) {
		fail(q, PROTO_R_INTERNAL, "the runtime's run command is unreadable");
		return;
	}
	if (run_queue_candidates(q->eng->srv, q->image, cands_ready, q))
		fail(q, PROTO_R_INTERNAL, "out of memory");
}

#define SETTING(k) "(SELECT value::bigint FROM settings WHERE key = '" k "')"

/*
 * Everything run/start needs to know, in one statement: the runtime and its
 * limits (the runtime's own or the global settings; the disk's last), the
 * user's quota and active runs elsewhere (a first check: insert_row's
 * runit_run_insert_pooled() holds the quota and the pool under races), the largest file, and
 * whether the caller may run the project. $1 project, $2 user.
 */
/* clang-format off */
static const char load_sql[] =
	"SELECT rt.id, rt.code, rt.enabled, rt.image, rt.build_cmd, rt.run_cmd, "
	"coalesce(rt.wall_ms, " SETTING("default_wall_ms") "), "
	"coalesce(rt.memory_bytes, " SETTING("default_memory_bytes") "), "
	"coalesce(rt.nano_cpus, " SETTING("default_nano_cpus") "), "
	"coalesce(rt.pids, " SETTING("default_pids") "), "
	"coalesce(rt.output_bytes, " SETTING("default_output_bytes") "), "
	"rt.network_allowed, "
	"coalesce(u.max_active_runs, " SETTING("max_active_runs_per_user") "), "
	"(SELECT count(*) FROM runs WHERE user_id = $2 AND state <> 'finished' "
	"AND project_id <> $1), "
	SETTING("max_file_bytes") ", "
	"(p.owner_id = $2 OR u.role = 'admin' OR EXISTS (SELECT 1 FROM project_members m "
	"WHERE m.project_id = p.id AND m.user_id = $2 AND m.role = 'editor')), "
	"coalesce(rt.disk_bytes, " SETTING("default_disk_bytes") "), "
	"coalesce(rt.disk_inodes, " SETTING("default_disk_inodes") "), "
	"rt.build_wall_ms, rt.cache_bytes, runit_cache_volume(p.cache_key) "
	"FROM projects p JOIN runtimes rt ON rt.id = p.runtime_id JOIN users u ON u.id = $2 "
	"WHERE p.id = $1 AND (p.is_public OR p.owner_id = $2 OR u.role = 'admin' OR "
	"EXISTS (SELECT 1 FROM project_members m WHERE m.project_id = p.id "
	"AND m.user_id = $2))";
/* clang-format on */

void run_start(struct rpc_call *c, long long project_id, json_t *files, const struct run_term *term)
{
	struct run_engine *eng = c->srv->runs;
	struct start_req *q = calloc(1, sizeof(*q));
	char pid[24], uid[24];
	const char *p[2] = {pid, uid};

	if (!q) {
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return;
	}
	q->c = c;
	q->eng = eng;
	q->user_id = c->user_id;
	q->project_id = project_id;
	q->files = files ? json_incref(files) : NULL;
	q->term = *term;
	q->slot = run_slot_get(eng, c->user_id, project_id);
	uv_timer_init(c->srv->loop, &q->retry);
	q->retry.data = q;
	if (!q->slot) {
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		json_decref(q->files);
		uv_close((uv_handle_t *)&q->retry, req_free_cb);
		return;
	}
	q->slot->latest = q;
	q->slot->starts++;
	q->cancels = q->slot->cancels;
	snprintf(pid, sizeof(pid), "%lld", project_id);
	snprintf(uid, sizeof(uid), "%lld", c->user_id);
	if (db_query(c->srv->db, load_sql, 2, p, loaded, q))
		fail(q, PROTO_R_UNAVAILABLE, "database unavailable");
}
