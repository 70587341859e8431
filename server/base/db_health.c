/*
 * db_health.c - is the database answering? Every interval a "SELECT 1"
 * goes through the pool's own FIFO, like any query, so a pool whose
 * connections are all busy or held reads as unhealthy too: the probe must
 * come back within DB_PROBE_LIMIT_MS. db_stats.healthy reports the last
 * probe (db_pool.c). The timers are handles of the pool, opened and closed
 * with it.
 */
#include "db_int.h"

#include <stdlib.h>

static void on_probe_done(void *arg, PGresult *res, const char *err)
{
	struct db_pool *p = arg;
	struct db_health *h = &p->health;

	h->pending = 0;
	if (p->closing)
		return;
	uv_timer_stop(&h->limit_timer);
	h->healthy = !err && res && uv_now(p->loop) - h->started <= DB_PROBE_LIMIT_MS;
}

static void on_probe_limit(uv_timer_t *t)
{
	struct db_pool *p = t->data;

	if (p->health.pending)
		p->health.healthy = 0; /* stuck: unhealthy now, not at the queue timeout */
}

static void on_health_tick(uv_timer_t *t)
{
	struct db_pool *p = t->data;
	struct db_health *h = &p->health;
	struct db_req *r;

	if (p->closing || h->pending)
		return;
	r = db__req_new(DB_REQ_QUERY, "SELECT 1", 0, NULL);
	if (!r) {
		h->healthy = 0;
		return;
	}
	r->internal = 1;
	r->cb = on_probe_done;
	r->arg = p;
	h->pending = 1;
	h->started = uv_now(p->loop);
	uv_timer_start(&h->limit_timer, on_probe_limit, DB_PROBE_LIMIT_MS, 0);
	db__queue_submit(p, r);
}

void db_pool_start_health(struct db_pool *p, unsigned interval_ms)
{
	if (!p || p->closing)
		return;
	if (interval_ms == 0)
		interval_ms = 1000;
	p->health.on = 1;
	uv_timer_start(&p->health.tick_timer, on_health_tick, 0, interval_ms);
}
