/*
 * run_engine.c - the run engine as a whole: set it up (the hooks through
 * which the lower run files tell the upper ones, the cancel channel that
 * other instances use, reconciliation of what an earlier process of this
 * instance left behind), let a user's warm containers go with the user's
 * last session, and end every run and warm container at shutdown. The top
 * of the run engine (run_int.h lists its files).
 */
#include "run_int.h"
#include "run_queue.h"
#include "run_image.h"
#include "bus.h"
#include "db.h"
#include "log.h"
#include "sess.h"
#include "srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* how often what is left to remove is tried again */
#define SWEEP_INTERVAL_MS 5000

/* "<reason> <code> <message>": only the reasons the database gives. */
static void ended_elsewhere(struct run *r, const char *rest)
{
	char reason[16], code[32];
	int n = 0;

	if (sscanf(rest, "%15[a-z_] %31[a-z_] %n", reason, code, &n) != 2 || !n)
		return;
	if (strcmp(reason, "cancelled") && strcmp(reason, "pool_full"))
		return;
	run_end_code(r, reason, code, rest + n);
}

static void cancel_notified(void *arg, const char *channel, const char *payload)
{
	struct srv *srv = arg;
	const char *why;
	char *end;
	struct run *r;

	if (!payload)
		return; /* the listener reconnected: nothing to resynchronise here */
	/* "<run>" (a newer run replaces it), "<run> stopped|cancelled", or
	 * "<run> end <reason> <code> <message>": the database ended it
	 * (sql/023_queue_access.sql: its user lost access while it waited,
	 * its pool became too small, its row went) */
	r = run_find(srv, strtoll(payload, &end, 10));
	why = end;
	if (!r)
		return;
	if (!strncmp(why, " end ", 5)) {
		ended_elsewhere(r, why + 5);
		return;
	}
	if (!strcmp(why, " stopped"))
		run_cancel(r, "stopped", "stopped");
	else if (!strcmp(why, " cancelled"))
		run_cancel(r, "cancelled", "cancelled by an admin");
	else
		run_cancel(r, "replaced", "replaced by a newer run (from another server)");
}

static void reconciled_rows(void *arg, PGresult *res, const char *err)
{
	if (res && PQntuples(res) > 0)
		log_json(LOG_WARN, "runs left active by an earlier server process were ended",
			 json_pack("{s:i}", "runs", PQntuples(res)));
}

struct user_sessions {
	long long user_id;
	int open;
};

static void count_open(struct sess *s, void *arg)
{
	struct user_sessions *us = arg;

	us->open += s->user_id == us->user_id && !s->closing;
}

/*
 * A session closed: if it was its user's last one here, the user's warm
 * containers go now (they are for the person at the keyboard pressing Run
 * again), not after their idle time.
 */
static void session_event(void *arg, const struct bus_event *ev)
{
	struct run_engine *eng = arg;
	struct user_sessions us = {0, 0};
	struct run *r, *n;

	if (strcmp(ev->kind, "closed") || !json_is_integer(json_object_get(ev->data, "user")))
		return;
	us.user_id = json_integer_value(json_object_get(ev->data, "user"));
	sess_foreach(eng->srv, count_open, &us);
	if (us.open)
		return;
	for (r = eng->runs; r; r = n) {
		n = r->next;
		if (!r->id && !r->prep && r->user_id == us.user_id)
			run_end(r, "stopped", "its user left");
	}
}

/* A runtime, a platform or a setting changed: the prepared containers were
 * made for what was; the next runs prepare new ones (run_prep.c). */
static void config_event(void *arg, const struct bus_event *ev)
{
	(void)ev;
	run_prep_drop_all(arg, "the configuration changed");
}

/* End every run of a project, or of a user (access taken away). */
void run_cancel_project(struct srv *srv, long long project_id, const char *reason, const char *code,
			const char *message)
{
	struct run *r, *n;

	if (!srv->runs)
		return;
	run_slot_cancel(srv->runs, 0, project_id, reason, code, message);
	for (r = srv->runs->runs; r; r = n) {
		n = r->next;
		if (r->project_id == project_id)
			run_end_code(r, reason, code, message);
	}
}

void run_cancel_user(struct srv *srv, long long user_id)
{
	static const char reason[] = "cancelled", code[] = "user_disabled",
			  message[] = "the account was disabled by an admin";
	struct run *r, *n;

	if (!srv->runs)
		return;
	run_slot_cancel(srv->runs, user_id, 0, reason, code, message);
	for (r = srv->runs->runs; r; r = n) {
		n = r->next;
		if (r->user_id == user_id)
			run_end_code(r, reason, code, message);
	}
}

static void disabled_read(void *arg, PGresult *res, const char *err)
{
	if (!res) {
		log_json(LOG_WARN, "cannot check the users of this server's runs",
			 json_pack("{s:s}", "error", err ? err : ""));
		return;
	}
	for (int i = 0; i < PQntuples(res); i++)
		run_cancel_user(arg, strtoll(PQgetvalue(res, i, 0), NULL, 10));
}

void run_cancel_disabled(struct srv *srv)
{
	struct run_engine *eng = srv->runs;
	const struct run *r;
	const struct run_slot *sl;
	size_t n = 0, len = 1, cap;
	char *ids;
	const char *p[1];

	if (!eng)
		return;
	for (r = eng->runs; r; r = r->next)
		n++;
	for (sl = eng->slots; sl; sl = sl->next)
		n++;
	cap = n * 22 + 3; /* "{", each id with its comma, "}", NUL */
	if (!n || !(ids = malloc(cap)))
		return;
	ids[0] = '{';
	for (r = eng->runs; r; r = r->next)
		if (r->user_id > 0)
			len += (size_t)snprintf(ids + len, cap - len, "%s%lld", len > 1 ? "," : "",
						r->user_id);
	for (sl = eng->slots; sl; sl = sl->next)
		if (sl->starts)
			len += (size_t)snprintf(ids + len, cap - len, "%s%lld", len > 1 ? "," : "",
						sl->user_id);
	strcpy(ids + len, "}");
	p[0] = ids;
	if (len > 1)
		db_query(srv->db, "SELECT id FROM users WHERE disabled AND id = ANY($1::bigint[])",
			 1, p, disabled_read, srv);
	free(ids);
}

int run_engine_init(struct srv *srv)
{
	struct run_engine *eng = calloc(1, sizeof(*eng));
	unsigned char token[8];
	const char *p[2];

	if (!eng)
		return -1;
	eng->srv = srv;
	eng->op_done = run_op_done;
	eng->release = run_release;
	eng->slot_released = run_slot_released;
	eng->running = run_slot_running;
	randombytes_buf(token, sizeof(token));
	sodium_bin2hex(eng->process, sizeof(eng->process), token, sizeof(token));
	srv->runs = eng;
	srv->sess_drained = run_on_sess_drained;
	db_listen(srv->db, "runit_run_cancel", cancel_notified, srv);
	bus_on(srv, "session", session_event, eng);
	bus_on(srv, "config", config_event, eng);
	if (run_image_init(srv)) /* before the first round: it checks the images */
		log_json(LOG_WARN, "runtime images are checked only at each platform round", NULL);
	run_plat_start_health(srv, 5000);
	/* Reconcile: the runs and containers this instance left when it last
	 * stopped. Rows agree with their stored logs (sql/007_disk.sql). */
	p[0] = srv->cfg.instance;
	p[1] = "the server stopped during the run";
	db_query(srv->db, "SELECT runit_runs_abandon($1, NULL, $2)", 2, p, reconciled_rows, NULL);
	if (run_cache_start(eng, SWEEP_INTERVAL_MS) || run_sweep_start(eng, SWEEP_INTERVAL_MS) ||
	    run_queue_start(eng, 2000))
		return -1;
	return run_reap_start(eng);
}

void run_engine_shutdown(struct srv *srv)
{
	struct run *r, *n;

	if (!srv->runs)
		return;
	run_reap_stop(srv->runs);
	run_queue_stop(srv->runs);
	run_sweep_stop(srv->runs);
	run_image_shutdown(srv);
	run_cache_stop(srv->runs);
	for (r = srv->runs->runs; r; r = n) {
		n = r->next;
		if (r->kill_later == 2) /* a replaced run: its kill waits no more */
			run_kill_replaced(r);
		run_end(r, "error", "the server is shutting down");
	}
}
