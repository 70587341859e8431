/*
 * run_plat.c - the registry of platform connections (run_plat.h).
 */
#include "run_plat.h"
#include "db.h"
#include "log.h"
#include "srv.h"

#include <stdlib.h>
#include <string.h>

struct plat_entry {
	struct plat_entry *next;
	char endpoint[512];
	struct plat *plat;
};

static struct plat_entry *entries;

struct plat *run_plat_get(struct srv *srv, const char *kind, const char *endpoint)
{
	struct plat_entry *e;
	struct plat_config cfg = { 0 };

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
