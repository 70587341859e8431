/*
 * run_cache.c - the cache volumes of deleted projects go. A project's cache
 * volume (runit-cache-<key>, run_build.c) lives on every platform its runs
 * used; when the project row goes, however it goes (project/delete, a
 * deleted user's projects, SQL), a trigger records the volume's name in
 * cache_volumes_gone (sql/010_build_cache.sql). Every interval this file
 * reads those names and removes each volume from the built-in engine and
 * every platform row; a name is forgotten once every platform said it is
 * gone. A volume still in use (the deleted project's last container is
 * being removed) or a platform that does not answer: tried again next time.
 * Every instance does it; removing twice is harmless. Calls nothing of the
 * run engine (run_int.h lists the order).
 */
#include "run_int.h"
#include "db.h"
#include "log.h"
#include "srv.h"

#include <stdlib.h>
#include <string.h>

#define CACHE_SWEEP_BATCH "32"

struct run_cache {
	struct srv *srv;
	uv_timer_t timer;
	int refs; /* the timer and every request in flight */
	int busy; /* a round is under way */
	int stopping;
};

/* One volume being removed from every platform. */
struct vol_job {
	struct run_cache *rc;
	char volume[64];
	int pending, failed;
};

static void cache_unref(struct run_cache *rc)
{
	if (--rc->refs == 0)
		free(rc);
}

static void forgotten(void *arg, PGresult *res, const char *err)
{
	struct run_cache *rc = arg;

	(void)res;
	(void)err;
	cache_unref(rc);
}

static void job_done(struct vol_job *j)
{
	struct run_cache *rc = j->rc;
	const char *p[1] = {j->volume};

	if (!j->failed && !rc->stopping) {
		log_json(LOG_INFO, "removed the cache volume of a deleted project",
			 json_pack("{s:s}", "volume", j->volume));
		rc->refs++;
		if (db_query(rc->srv->db, "DELETE FROM cache_volumes_gone WHERE volume = $1", 1, p,
			     forgotten, rc))
			rc->refs--;
	}
	free(j);
}

static void vol_removed(void *arg, const struct plat_err *err)
{
	struct vol_job *j = arg;
	struct run_cache *rc = j->rc;

	if (err) {
		j->failed = 1;
		if (err->code != PLAT_E_CANCELED && err->code != PLAT_E_CONFLICT)
			log_json(
			    LOG_WARN, "cannot remove a cache volume (tried again later)",
			    json_pack("{s:s, s:s}", "volume", j->volume, "error", err->message));
	}
	if (--j->pending == 0)
		job_done(j);
	cache_unref(rc);
}

/* The platforms to remove from: the built-in engine and every row (a JSON
 * array of [kind, endpoint]), each connection once (they are shared). */
static int plats_of(struct run_cache *rc, json_t *rows, struct plat **out, int max)
{
	int n = 0, k;
	struct plat *p;

	for (int i = -1; i < (int)json_array_size(rows) && n < max; i++) {
		json_t *row = i < 0 ? NULL : json_array_get(rows, (size_t)i);
		p = row ? run_plat_get(rc->srv, json_string_value(json_array_get(row, 0)),
				       json_string_value(json_array_get(row, 1)))
			: run_plat_get(rc->srv, "docker", rc->srv->cfg.docker_host);
		for (k = 0; p && k < n && out[k] != p; k++)
			;
		if (p && k == n)
			out[n++] = p;
	}
	return n;
}

static void names_read(void *arg, PGresult *res, const char *err)
{
	struct run_cache *rc = arg;
	struct plat *plats[64];
	json_t *names, *rows;
	size_t i;
	int np, k;

	(void)err;
	rc->busy = 0;
	if (!res || rc->stopping || PQntuples(res) != 1) {
		cache_unref(rc);
		return;
	}
	names = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	rows = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
	np = json_array_size(names) ? plats_of(rc, rows, plats, 64) : 0;
	json_decref(rows);
	for (i = 0; i < json_array_size(names); i++) {
		const char *v = json_string_value(json_array_get(names, i));
		struct vol_job *j;

		if (!v || !(j = calloc(1, sizeof(*j))))
			continue;
		j->rc = rc;
		snprintf(j->volume, sizeof(j->volume), "%s", v);
		j->pending = 1; /* until every removal is asked for */
		for (k = 0; k < np; k++) {
			if (!plats[k])
				continue;
			j->pending++;
			rc->refs++;
			if (plat_remove_volume(plats[k], j->volume, vol_removed, j)) {
				j->pending--;
				rc->refs--;
				j->failed = 1;
			}
		}
		if (--j->pending == 0)
			job_done(j);
	}
	json_decref(names);
	cache_unref(rc);
}

static void tick(uv_timer_t *t)
{
	struct run_cache *rc = t->data;

	if (rc->busy || rc->stopping)
		return;
	rc->busy = 1;
	rc->refs++;
	if (db_query(rc->srv->db,
		     "SELECT (SELECT coalesce(jsonb_agg(volume ORDER BY gone_at), '[]'::jsonb) FROM"
		     " (SELECT volume, gone_at FROM cache_volumes_gone ORDER BY gone_at"
		     " LIMIT " CACHE_SWEEP_BATCH ") g),"
		     " (SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_array(kind, endpoint)),"
		     " '[]'::jsonb) FROM platforms)",
		     0, NULL, names_read, rc)) {
		rc->busy = 0;
		rc->refs--;
	}
}

int run_cache_start(struct run_engine *eng, unsigned interval_ms)
{
	struct run_cache *rc = calloc(1, sizeof(*rc));

	if (!rc)
		return -1;
	rc->srv = eng->srv;
	rc->refs = 1;
	uv_timer_init(eng->srv->loop, &rc->timer);
	rc->timer.data = rc;
	uv_timer_start(&rc->timer, tick, interval_ms, interval_ms);
	eng->cache = rc;
	return 0;
}

static void timer_closed(uv_handle_t *h)
{
	cache_unref(h->data);
}

void run_cache_stop(struct run_engine *eng)
{
	struct run_cache *rc = eng->cache;

	if (!rc)
		return;
	eng->cache = NULL;
	rc->stopping = 1;
	uv_timer_stop(&rc->timer);
	uv_close((uv_handle_t *)&rc->timer, timer_closed);
}
