/*
 * plat_docker_engine.c - plat_engine() for the Docker API backends: what the
 * engine says about itself, from GET /version (Os, Arch, Version,
 * ApiVersion, KernelVersion) and then GET /info (OperatingSystem, NCPU,
 * MemTotal, Swarm.LocalNodeState, Swarm.Nodes). Podman's compatible socket
 * answers both the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plat_docker_int.h"

/* The /version answer, kept while /info is asked. */
struct dk_eng {
	plat_engine_cb cb;
	void *arg;
	json_t *version;
};

static const char *eng_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static void dk_info_finish(struct dk_req *r, const struct plat_err *err)
{
	struct dk_eng *g = r->ctx;
	struct plat_engine eng;
	struct plat_err e;
	json_t *info = NULL, *sw;

	if (!err)
		info = dk_resp_json(r, &e);
	if (!err && !info)
		err = &e;
	if (err) {
		g->cb(g->arg, NULL, err);
		goto out;
	}
	sw = json_object_get(info, "Swarm");
	eng.os = eng_str(g->version, "Os");
	eng.arch = eng_str(g->version, "Arch");
	eng.version = eng_str(g->version, "Version");
	eng.api_version = eng_str(g->version, "ApiVersion");
	eng.kernel = eng_str(g->version, "KernelVersion");
	eng.operating_system = eng_str(info, "OperatingSystem");
	eng.swarm = eng_str(sw, "LocalNodeState");
	eng.swarm_nodes = (int)json_integer_value(json_object_get(sw, "Nodes"));
	eng.ncpu = (int)json_integer_value(json_object_get(info, "NCPU"));
	eng.mem_total = (int64_t)json_integer_value(json_object_get(info, "MemTotal"));
	g->cb(g->arg, &eng, NULL);
out:
	json_decref(info);
	json_decref(g->version);
	free(g);
}

static void dk_version_finish(struct dk_req *r, const struct plat_err *err)
{
	struct dk_eng *g = r->ctx;
	struct dk_req *next;
	struct plat_err e;
	int rc;

	if (!err) {
		g->version = dk_resp_json(r, &e);
		if (!g->version)
			err = &e;
	}
	if (err) {
		g->cb(g->arg, NULL, err);
		free(g);
		return;
	}
	next = dk_req_new(r->d, "GET", "/info", NULL, 0, dk_info_finish);
	if (next)
		next->ctx = g;
	rc = dk_send(next, (long)r->d->op_timeout_ms);
	if (rc < 0) {
		e = (struct plat_err){rc, 0, plat_strerror(rc)};
		g->cb(g->arg, NULL, &e);
		json_decref(g->version);
		free(g);
	}
}

int dk_engine(struct plat *p, plat_engine_cb cb, void *arg)
{
	struct plat_docker *d = (struct plat_docker *)p;
	struct dk_eng *g;
	struct dk_req *r;
	int rc;

	if (!cb)
		return PLAT_E_INVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return PLAT_E_NOMEM;
	g->cb = cb;
	g->arg = arg;
	r = dk_req_new(d, "GET", "/version", NULL, 0, dk_version_finish);
	if (r)
		r->ctx = g;
	rc = dk_send(r, (long)d->op_timeout_ms);
	if (rc < 0)
		free(g);
	return rc;
}
