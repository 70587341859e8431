/*
 * run_engine.c - the run engine as a whole: set it up (the hooks through
 * which the lower run files tell the upper ones, the cancel channel that
 * other instances use, reconciliation of what an earlier process of this
 * instance left behind) and end every run at shutdown. The top of the run
 * engine (run.h lists its files).
 */
#include "run_int.h"
#include "db.h"
#include "log.h"
#include "srv.h"

#include <stdlib.h>
#include <string.h>

static void cancel_notified(void *arg, const char *channel, const char *payload)
{
	struct srv *srv = arg;
	struct run *r;

	if (!payload)
		return; /* the listener reconnected: nothing to resynchronise here */
	r = run_find(srv, strtoll(payload, NULL, 10));
	if (r)
		run_cancel(r, "replaced", "replaced by a newer run (from another server)");
}

static void reconciled_rows(void *arg, PGresult *res, const char *err)
{
	if (res && PQntuples(res) > 0)
		log_json(LOG_WARN, "runs left active by an earlier server process were ended",
			 json_pack("{s:i}", "runs", PQntuples(res)));
}

static void leftover_removed(void *arg, const struct plat_err *err)
{
	(void)arg;
	(void)err;
}

static void leftovers_listed(void *arg, const struct plat_container *list, size_t n,
			     const struct plat_err *err)
{
	struct plat *p = arg;

	if (err) {
		log_json(LOG_WARN, "cannot list leftover containers",
			 json_pack("{s:s}", "error", err->message));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		log_json(LOG_INFO, "removing a leftover container",
			 json_pack("{s:s}", "container", list[i].id));
		plat_remove(p, list[i].id, leftover_removed, NULL);
	}
}

int run_engine_init(struct srv *srv)
{
	struct run_engine *eng = calloc(1, sizeof(*eng));
	struct plat_label match[1];
	const char *p[1];
	struct plat *plat;

	if (!eng)
		return -1;
	eng->srv = srv;
	eng->op_done = run_op_done;
	eng->release = run_release;
	eng->slot_released = run_slot_released;
	srv->runs = eng;
	db_listen(srv->db, "runit_run_cancel", cancel_notified, srv);
	run_plat_start_health(srv, 5000);
	/* Reconcile: what this instance left behind when it last stopped. */
	p[0] = srv->cfg.instance;
	db_query(srv->db,
		 "UPDATE runs SET state = 'finished', reason = 'error', finished_at = now(), "
		 "error_message = 'the server stopped during the run' "
		 "WHERE instance = $1 AND state <> 'finished' RETURNING id",
		 1, p, reconciled_rows, NULL);
	plat = run_plat_get(srv, "docker", srv->cfg.docker_host);
	match[0] = (struct plat_label){"run-it.instance", srv->cfg.instance};
	if (plat)
		plat_list(plat, match, 1, leftovers_listed, plat);
	return 0;
}

void run_engine_shutdown(struct srv *srv)
{
	struct run *r, *n;

	if (!srv->runs)
		return;
	for (r = srv->runs->runs; r; r = n) {
		n = r->next;
		run_end(r, "error", "the server is shutting down");
	}
}
