/*
 * run_plat.c - the registry of platform connections (run_plat.h).
 */
#include "run_plat.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "srv.h"
#include "bus.h"

#include <stdlib.h>
#include <string.h>

struct plat_entry {
	struct plat_entry *next;
	char endpoint[512];
	struct plat *plat;
};

static struct plat_entry *entries;

/*
 * The enabled platforms as the last probe round listed them (the built-in
 * RUNIT_DOCKER_HOST when no row is enabled), with what their last ping
 * said. A platform disabled or deleted leaves the list at the next round.
 */
struct health {
	long long id; /* platforms.id, 0 for the built-in one */
	int up;	      /* 1 up, 0 down, -1 no answer yet */
	int runs;     /* new runs go here: the one run_plat_pick() picks */
	char name[64];
};
static struct health healths[64];
static size_t nhealths;
static uv_timer_t health_timer;
static unsigned health_interval;
static int health_started;
static int health_busy;	 /* a round's query is out */
static int health_again; /* start another round as soon as it is back */

struct plat *run_plat_get(struct srv *srv, const char *kind, const char *endpoint)
{
	struct plat_entry *e;
	struct plat_config cfg = {0};

	for (e = entries; e; e = e->next)
		if (!strcmp(e->endpoint, endpoint))
			return e->plat;
	if (strcmp(kind, "docker") && strcmp(kind, "podman"))
		return NULL; /* swarm and kubernetes backends do not exist yet */
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	snprintf(e->endpoint, sizeof(e->endpoint), "%s", endpoint);
	cfg.backend = "docker"; /* podman serves the same API */
	cfg.endpoint = endpoint;
	cfg.stats = metrics_platform_api; /* latency and errors for /metrics */
	if (plat_new(srv->loop, &cfg, &e->plat)) {
		free(e);
		return NULL;
	}
	e->next = entries;
	entries = e;
	return e->plat;
}

void run_plat_free_all(struct srv *srv)
{
	if (health_started) {
		uv_timer_stop(&health_timer);
		uv_close((uv_handle_t *)&health_timer, NULL);
		health_started = 0;
	}
	struct plat_entry *e = entries, *n;

	for (; e; e = n) {
		n = e->next;
		plat_free(e->plat);
		free(e);
	}
	entries = NULL;
}

struct pick {
	struct srv *srv;
	struct run_platform rp;
	run_plat_cb cb;
	void *arg;
};

static void pinged(void *arg, const struct plat_info *info, const struct plat_err *err)
{
	struct pick *pk = arg;

	if (err) {
		log_json(LOG_WARN, "platform unavailable",
			 json_pack("{s:s, s:s}", "platform", pk->rp.name, "error", err->message));
		pk->cb(pk->arg, NULL, err->message);
	} else {
		pk->cb(pk->arg, &pk->rp, NULL);
	}
	free(pk);
}

static void row_read(void *arg, PGresult *res, const char *err)
{
	struct pick *pk = arg;
	const char *kind = "docker", *endpoint = pk->srv->cfg.docker_host;

	if (!res) {
		pk->cb(pk->arg, NULL, "database unavailable");
		free(pk);
		return;
	}
	snprintf(pk->rp.name, sizeof(pk->rp.name), "built-in");
	if (PQntuples(res) == 1) {
		pk->rp.id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		kind = PQgetvalue(res, 0, 1);
		endpoint = PQgetvalue(res, 0, 2);
		snprintf(pk->rp.oci_runtime, sizeof(pk->rp.oci_runtime), "%s",
			 PQgetvalue(res, 0, 3));
		snprintf(pk->rp.name, sizeof(pk->rp.name), "%s", PQgetvalue(res, 0, 4));
	}
	pk->rp.plat = run_plat_get(pk->srv, kind, endpoint);
	if (!pk->rp.plat) {
		pk->cb(pk->arg, NULL, "this kind of platform is not supported yet");
		free(pk);
		return;
	}
	if (plat_ping(pk->rp.plat, pinged, pk)) {
		pk->cb(pk->arg, NULL, "platform unavailable");
		free(pk);
	}
}

int run_plat_pick(struct srv *srv, run_plat_cb cb, void *arg)
{
	struct pick *pk = calloc(1, sizeof(*pk));

	if (!pk)
		return -1;
	pk->srv = srv;
	pk->cb = cb;
	pk->arg = arg;
	if (db_query(srv->db,
		     "SELECT id, kind, endpoint, coalesce(options->>'oci_runtime', ''), name "
		     "FROM platforms WHERE enabled ORDER BY is_default DESC, id LIMIT 1",
		     0, NULL, row_read, pk)) {
		free(pk);
		return -1;
	}
	return 0;
}

const char *run_plat_health(long long platform_id)
{
	for (size_t i = 0; i < nhealths; i++)
		if (healths[i].id == platform_id)
			return healths[i].up < 0 ? "unknown" : healths[i].up ? "up" : "down";
	return "unknown";
}

int run_plat_can_run(void)
{
	for (size_t i = 0; i < nhealths; i++)
		if (healths[i].runs)
			return healths[i].up == 1;
	return 0;
}

json_t *run_plat_health_all(void)
{
	json_t *all = json_array();

	for (size_t i = 0; i < nhealths; i++)
		json_array_append_new(all, json_pack("{s:s, s:s, s:b}", "name", healths[i].name,
						     "health", run_plat_health(healths[i].id),
						     "default", healths[i].runs));
	return all;
}

struct probe {
	struct srv *srv;
	long long id;
	char name[64];
};

/* A ping's answer for platform id, if it is still listed. */
static void set_health(struct srv *srv, long long id, const char *name, int up, const char *why)
{
	size_t i;

	for (i = 0; i < nhealths && healths[i].id != id; i++)
		;
	if (i == nhealths || healths[i].up == up)
		return;
	healths[i].up = up;
	log_json(up ? LOG_INFO : LOG_WARN, up ? "platform up" : "platform down",
		 json_pack("{s:I, s:s, s:s}", "platform", (json_int_t)id, "name", name, "error",
			   why ? why : ""));
	bus_publish(srv, "platform", up ? "up" : "down",
		    json_pack("{s:I, s:s, s:s}", "platform", (json_int_t)id, "name", name, "error",
			      why ? why : ""));
}

static void probed(void *arg, const struct plat_info *info, const struct plat_err *err)
{
	struct probe *pr = arg;

	if (err && err->code == PLAT_E_CANCELED) {
		free(pr);
		return;
	}
	set_health(pr->srv, pr->id, pr->name, err == NULL, err ? err->message : NULL);
	free(pr);
}

static void health_tick(uv_timer_t *t);

static void health_next(unsigned ms)
{
	if (health_started) /* not after run_plat_free_all() */
		uv_timer_start(&health_timer, health_tick, ms, 0);
}

/* List row i (or the built-in platform) with the health it had. */
static void list_one(struct health *out, const struct health *old, size_t nold, long long id,
		     const char *name, int runs)
{
	out->id = id;
	out->up = -1;
	out->runs = runs;
	snprintf(out->name, sizeof(out->name), "%s", name);
	for (size_t j = 0; j < nold; j++)
		if (old[j].id == id)
			out->up = old[j].up;
}

static void ping_one(struct srv *srv, const struct health *h, const char *kind,
		     const char *endpoint)
{
	struct plat *p = run_plat_get(srv, kind, endpoint);
	struct probe *pr;

	if (!p) {
		set_health(srv, h->id, h->name, 0, "this kind of platform is not supported yet");
		return;
	}
	pr = calloc(1, sizeof(*pr));
	if (!pr)
		return;
	pr->srv = srv;
	pr->id = h->id;
	snprintf(pr->name, sizeof(pr->name), "%s", h->name);
	if (plat_ping(p, probed, pr)) {
		set_health(srv, h->id, h->name, 0, "cannot ping");
		free(pr);
	}
}

static void rows_for_health(void *arg, PGresult *res, const char *err)
{
	struct srv *srv = arg;
	struct health old[sizeof(healths) / sizeof(healths[0])];
	size_t nold = nhealths, n;

	health_busy = 0;
	if (!res) { /* the database is away: keep the list, try again soon */
		health_next(health_again ? 0 : 1000);
		health_again = 0;
		return;
	}
	memcpy(old, healths, nold * sizeof(old[0]));
	n = (size_t)PQntuples(res);
	if (n > sizeof(healths) / sizeof(healths[0]))
		n = sizeof(healths) / sizeof(healths[0]);
	/* rows in run_plat_pick()'s order: the first one takes the runs */
	for (size_t i = 0; i < n; i++)
		list_one(&healths[i], old, nold, strtoll(PQgetvalue(res, (int)i, 0), NULL, 10),
			 PQgetvalue(res, (int)i, 3), i == 0);
	if (!n)
		list_one(&healths[n++], old, nold, 0, "built-in", 1);
	nhealths = n;
	for (size_t i = 0; i < n && PQntuples(res); i++)
		ping_one(srv, &healths[i], PQgetvalue(res, (int)i, 1), PQgetvalue(res, (int)i, 2));
	if (!PQntuples(res))
		ping_one(srv, &healths[0], "docker", srv->cfg.docker_host);
	health_next(health_again ? 0 : health_interval);
	health_again = 0;
}

static void health_tick(uv_timer_t *t)
{
	struct srv *srv = t->data;

	health_busy = 1;
	if (db_query(srv->db,
		     "SELECT id, kind, endpoint, name FROM platforms WHERE enabled"
		     " ORDER BY is_default DESC, id",
		     0, NULL, rows_for_health, srv)) {
		health_busy = 0;
		health_next(1000);
	}
}

/* An admin changed a platform here: probe now, not at the next round. */
static void on_config(void *arg, const struct bus_event *ev)
{
	if (strncmp(ev->kind, "platform.", 9) || !health_started)
		return;
	if (health_busy)
		health_again = 1;
	else
		health_next(0);
}

void run_plat_start_health(struct srv *srv, unsigned interval_ms)
{
	uv_timer_init(srv->loop, &health_timer);
	health_timer.data = srv;
	health_interval = interval_ms;
	health_started = 1;
	health_next(0); /* at once: a fresh server says "ok" as soon as it can */
	if (bus_on(srv, "config", on_config, srv))
		log_json(LOG_WARN, "platform changes wait for the next health round", NULL);
}
