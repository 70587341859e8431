/*
 * run_reap.c - the work of a server instance that died, ended by the others
 * (sql/018_instances.sql). Every tick this instance says it is alive
 * (runit_instance_alive) and takes over the instances silent for longer than
 * RUNIT_INSTANCE_DEAD_S (runit_instances_reap: their runs end with reason
 * error, once, whichever instance notices first); it then lists their
 * containers (label run-it.instance) on every platform and hands them to
 * run_sweep.c, which removes them and retries until it can. So a killed
 * instance's runs end and its containers go within about 1.25 times the
 * dead time, not only when it restarts. Beside run_cache.c in the engine.
 */
#include "run_int.h"
#include "db.h"
#include "log.h"
#include "srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct run_reap {
	struct run_engine *eng;
	uv_timer_t timer;
	int refs; /* the timer and every request in flight */
	int stopping;
};

/* One dead instance's containers to list on one platform. */
struct reap_list {
	struct run_reap *rp;
	struct plat *plat;
	char instance[130];
};

static void reap_unref(struct run_reap *rp)
{
	if (--rp->refs == 0)
		free(rp);
}

static void listed(void *arg, const struct plat_container *list, size_t n,
		   const struct plat_err *err)
{
	struct reap_list *l = arg;
	struct run_reap *rp = l->rp;

	if (err) {
		if (err->code != PLAT_E_CANCELED)
			log_json(LOG_WARN, "cannot list a dead instance's containers",
				 json_pack("{s:s, s:s}", "instance", l->instance, "error",
					   err->message));
	} else if (!rp->stopping) {
		for (size_t i = 0; i < n; i++)
			run_sweep_add(rp->eng, l->plat, list[i].id);
		if (n)
			log_json(LOG_INFO, "removing a dead instance's containers",
				 json_pack("{s:s, s:I}", "instance", l->instance, "containers",
					   (json_int_t)n));
	}
	free(l);
	reap_unref(rp);
}

static void list_on(struct run_reap *rp, const char *instance, const char *kind,
		    const char *endpoint)
{
	struct plat *p = run_plat_get(rp->eng->srv, kind, endpoint);
	struct reap_list *l;
	struct plat_label match[1];

	if (!p || !(l = calloc(1, sizeof(*l))))
		return;
	l->rp = rp;
	l->plat = p;
	snprintf(l->instance, sizeof(l->instance), "%s", instance);
	match[0].key = "run-it.instance";
	match[0].value = l->instance;
	rp->refs++;
	if (plat_list(p, match, 1, listed, l)) {
		free(l);
		rp->refs--;
	}
}

/* The dead instances (rows of name, runs) and every platform row's kind,
 * endpoint: a set of rows each (see tick's SQL). */
static void reaped(void *arg, PGresult *res, const char *err)
{
	struct run_reap *rp = arg;
	struct srv *srv;

	/* stopping: the engine (rp->eng) may be gone; only rp is still ours */
	if (!res || rp->stopping) {
		if (err && !rp->stopping)
			log_json(LOG_WARN, "cannot look for dead instances",
				 json_pack("{s:s}", "error", err));
		reap_unref(rp);
		return;
	}
	srv = rp->eng->srv;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *dead = PQgetvalue(res, i, 0);

		long long runs;

		if (PQgetisnull(res, i, 1))
			continue;
		runs = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		/* one that stopped cleanly has no runs left: not worth a warning */
		log_json(runs ? LOG_WARN : LOG_INFO, "took over a dead server instance",
			 json_pack("{s:s, s:I}", "instance", dead, "runs_ended", (json_int_t)runs));
		list_on(rp, dead, "docker", srv->cfg.docker_host);
		for (int j = 0; j < PQntuples(res); j++)
			if (PQgetisnull(res, j, 1))
				list_on(rp, dead, PQgetvalue(res, j, 0), PQgetvalue(res, j, 2));
	}
	reap_unref(rp);
}

static void alive(void *arg, PGresult *res, const char *err)
{
	struct run_reap *rp = arg;
	struct srv *srv;
	char dead_s[16];
	const char *p[2];

	(void)res;
	if (err || rp->stopping) { /* stopping: rp->eng may be gone */
		if (err && !rp->stopping)
			log_json(LOG_WARN, "cannot say this instance is alive",
				 json_pack("{s:s}", "error", err));
		reap_unref(rp);
		return;
	}
	srv = rp->eng->srv;
	p[0] = srv->cfg.instance;
	p[1] = dead_s;
	snprintf(dead_s, sizeof(dead_s), "%d", srv->cfg.instance_dead_s);
	/* the dead (name, runs), then every platform row (kind, NULL, endpoint) */
	if (db_query(srv->db,
		     "SELECT name, runs::text, NULL FROM runit_instances_reap($1, $2::int) "
		     "UNION ALL SELECT DISTINCT kind, NULL, endpoint FROM platforms",
		     2, p, reaped, rp))
		reap_unref(rp);
}

static void tick(uv_timer_t *t)
{
	struct run_reap *rp = t->data;
	struct srv *srv = rp->eng->srv;
	const char *p[2] = {srv->cfg.instance, rp->eng->process};

	rp->refs++;
	if (db_query(srv->db, "SELECT runit_instance_alive($1, $2)", 2, p, alive, rp))
		rp->refs--;
}

int run_reap_start(struct run_engine *eng)
{
	struct run_reap *rp = calloc(1, sizeof(*rp));
	unsigned every = (unsigned)eng->srv->cfg.instance_dead_s * 250; /* a quarter, in ms */

	if (!rp)
		return -1;
	rp->eng = eng;
	rp->refs = 1;
	uv_timer_init(eng->srv->loop, &rp->timer);
	rp->timer.data = rp;
	uv_timer_start(&rp->timer, tick, 0, every);
	eng->reap = rp;
	return 0;
}

static void timer_closed(uv_handle_t *h)
{
	reap_unref(h->data);
}

void run_reap_stop(struct run_engine *eng)
{
	struct run_reap *rp = eng->reap;

	if (!rp)
		return;
	eng->reap = NULL;
	rp->stopping = 1;
	uv_timer_stop(&rp->timer);
	uv_close((uv_handle_t *)&rp->timer, timer_closed);
}
