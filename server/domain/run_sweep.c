/*
 * run_sweep.c - containers this server must still remove: those an earlier
 * process of this instance left behind (it was killed or crashed), on every
 * platform row and the built-in engine, and those whose removal failed
 * because their platform did not answer (it may have been deleted since:
 * the connection stays in run_plat.c's registry). Each is removed once its
 * platform answers; what cannot be done now is tried again every interval.
 *
 * A container of this process is never taken for a leftover: every
 * container carries the label run-it.process with a random token of the
 * process that made it (run.c), so a container being created while the
 * sweep lists is not removed under its run. Below run_stream.c in the run
 * engine (run_int.h lists the order): it calls nothing of the engine.
 */
#include "run_int.h"
#include "db.h"
#include "log.h"
#include "srv.h"

#include <stdlib.h>
#include <string.h>

/* leftovers whose removal is retried: no more than this many are kept */
#define SWEEP_MAX_ITEMS 4096

struct sweep_item {
	struct sweep_item *next;
	struct run_sweep *sw;
	struct plat *plat;
	char cid[96];
	int busy;
};

/* An engine reconciled (done) or still to reconcile. */
struct sweep_ep {
	struct sweep_ep *next;
	struct run_sweep *sw;
	struct plat *plat;
	char endpoint[512];
	int done, busy;
};

struct run_sweep {
	struct srv *srv;
	char instance[64];
	char process[40];
	uv_timer_t timer;
	struct sweep_item *items;
	size_t nitems;
	struct sweep_ep *eps;
	int refs; /* the timer and every request in flight */
	int stopping;
};

static void sweep_unref(struct run_sweep *sw)
{
	if (--sw->refs > 0)
		return;
	for (struct sweep_item *it = sw->items, *n; it; it = n) {
		n = it->next;
		free(it);
	}
	for (struct sweep_ep *ep = sw->eps, *n; ep; ep = n) {
		n = ep->next;
		free(ep);
	}
	free(sw);
}

static void item_drop(struct run_sweep *sw, struct sweep_item *it)
{
	for (struct sweep_item **pp = &sw->items; *pp; pp = &(*pp)->next) {
		if (*pp == it) {
			*pp = it->next;
			sw->nitems--;
			free(it);
			return;
		}
	}
}

static void item_removed(void *arg, const struct plat_err *err)
{
	struct sweep_item *it = arg;
	struct run_sweep *sw = it->sw;

	it->busy = 0;
	if (!err) {
		log_json(LOG_INFO, "removed a container left behind",
			 json_pack("{s:s}", "container", it->cid));
		item_drop(sw, it);
	}
	sweep_unref(sw);
}

static void item_try(struct run_sweep *sw, struct sweep_item *it)
{
	if (it->busy || sw->stopping)
		return;
	sw->refs++;
	it->busy = 1;
	if (plat_remove(it->plat, it->cid, item_removed, it)) {
		it->busy = 0;
		sw->refs--;
	}
}

/* Keep cid of p to remove; why is logged (NULL: quietly). */
static void item_add(struct run_sweep *sw, struct plat *p, const char *cid, const char *why)
{
	struct sweep_item *it;

	for (it = sw->items; it; it = it->next)
		if (it->plat == p && !strcmp(it->cid, cid))
			return;
	if (sw->nitems >= SWEEP_MAX_ITEMS || !(it = calloc(1, sizeof(*it)))) {
		log_json(LOG_ERROR, "a container is left behind",
			 json_pack("{s:s}", "container", cid));
		return;
	}
	it->sw = sw;
	it->plat = p;
	snprintf(it->cid, sizeof(it->cid), "%s", cid);
	it->next = sw->items;
	sw->items = it;
	sw->nitems++;
	if (why)
		log_json(LOG_WARN, why, json_pack("{s:s}", "container", cid));
}

void run_sweep_add(struct run_engine *eng, struct plat *p, const char *cid)
{
	struct run_sweep *sw = eng->sweep;

	if (sw && !sw->stopping && cid[0])
		item_add(sw, p, cid, "a container will be removed when its platform answers");
}

/* ---------- reconciliation: what an earlier process left ---------- */

static const char *label_of(const struct plat_container *c, const char *key)
{
	for (size_t i = 0; i < c->nlabels; i++)
		if (!strcmp(c->labels[i].key, key))
			return c->labels[i].value;
	return NULL;
}

static void leftovers_listed(void *arg, const struct plat_container *list, size_t n,
			     const struct plat_err *err)
{
	struct sweep_ep *ep = arg;
	struct run_sweep *sw = ep->sw;

	ep->busy = 0;
	if (err) {
		if (err->code != PLAT_E_CANCELED)
			log_json(LOG_WARN, "cannot list leftover containers (tried again later)",
				 json_pack("{s:s, s:s}", "platform", ep->endpoint, "error",
					   err->message));
		sweep_unref(sw);
		return;
	}
	ep->done = 1;
	for (size_t i = 0; i < n && !sw->stopping; i++) {
		const char *proc = label_of(&list[i], "run-it.process");

		if (proc && !strcmp(proc, sw->process))
			continue; /* ours: its run removes it */
		log_json(
		    LOG_INFO, "removing a leftover container",
		    json_pack("{s:s, s:s}", "container", list[i].id, "platform", ep->endpoint));
		item_add(sw, ep->plat, list[i].id, NULL);
	}
	for (struct sweep_item *it = sw->items; it; it = it->next)
		item_try(sw, it);
	sweep_unref(sw);
}

/* List the instance's containers on endpoint, unless done or under way. */
static void reconcile(struct run_sweep *sw, const char *kind, const char *endpoint)
{
	struct plat_label match[1] = {{"run-it.instance", sw->instance}};
	struct sweep_ep *ep;
	struct plat *p;

	for (ep = sw->eps; ep && strcmp(ep->endpoint, endpoint); ep = ep->next)
		;
	if (!ep) {
		if (!(ep = calloc(1, sizeof(*ep))))
			return;
		ep->sw = sw;
		snprintf(ep->endpoint, sizeof(ep->endpoint), "%s", endpoint);
		ep->next = sw->eps;
		sw->eps = ep;
	}
	if (ep->done || ep->busy || sw->stopping)
		return;
	p = run_plat_get(sw->srv, kind, endpoint);
	if (!p) { /* a kind without a backend yet: nothing of ours there */
		ep->done = 1;
		return;
	}
	ep->plat = p;
	sw->refs++;
	ep->busy = 1;
	if (plat_list(p, match, 1, leftovers_listed, ep)) {
		ep->busy = 0;
		sw->refs--;
	}
}

static void platforms_read(void *arg, PGresult *res, const char *err)
{
	struct run_sweep *sw = arg;

	if (!sw->stopping) {
		reconcile(sw, "docker", sw->srv->cfg.docker_host);
		for (int i = 0; res && i < PQntuples(res); i++)
			reconcile(sw, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
	}
	sweep_unref(sw);
}

static void tick(uv_timer_t *t)
{
	struct run_sweep *sw = t->data;

	for (struct sweep_item *it = sw->items; it; it = it->next)
		item_try(sw, it);
	sw->refs++;
	/* every row, enabled or not: a disabled platform may still hold ours */
	if (db_query(sw->srv->db, "SELECT DISTINCT kind, endpoint FROM platforms", 0, NULL,
		     platforms_read, sw))
		sw->refs--;
}

int run_sweep_start(struct run_engine *eng, unsigned interval_ms)
{
	struct run_sweep *sw = calloc(1, sizeof(*sw));

	if (!sw)
		return -1;
	sw->srv = eng->srv;
	snprintf(sw->instance, sizeof(sw->instance), "%s", eng->srv->cfg.instance);
	snprintf(sw->process, sizeof(sw->process), "%s", eng->process);
	sw->refs = 1;
	uv_timer_init(eng->srv->loop, &sw->timer);
	sw->timer.data = sw;
	uv_timer_start(&sw->timer, tick, 0, interval_ms);
	eng->sweep = sw;
	return 0;
}

static void timer_closed(uv_handle_t *h)
{
	sweep_unref(h->data);
}

void run_sweep_stop(struct run_engine *eng)
{
	struct run_sweep *sw = eng->sweep;

	if (!sw)
		return;
	eng->sweep = NULL;
	sw->stopping = 1;
	uv_timer_stop(&sw->timer);
	uv_close((uv_handle_t *)&sw->timer, timer_closed);
}
