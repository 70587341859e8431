/*
 * plat_swarm.c - the "swarm" platform: every container is a Docker Swarm
 * replicated job (a service in ReplicatedJob mode, one completion, never
 * restarted), created through the swarm manager's Engine API, so the
 * cluster's scheduler places it. Everything after the task's container
 * exists (attach, stdin, files, wait, stop, inspect, list, resize, images,
 * volumes) is the "docker" platform's operation on that container: it is
 * the same Engine API, on the node that runs it. This backend is a struct
 * plat_docker with its own table: only create, start and remove differ.
 * docs/platforms/swarm.md has the design and what differs from "docker".
 *
 * create: GET /images/{image}/json for the image's id (a service given a
 * tag makes the node try to pull it from its registry first; given the id,
 * the node uses what it has), POST /services/create (plat_swarm_spec.c),
 * then GET /tasks of the service every SW_POLL_MS until its task's
 * container runs: its id is the platform's container id. Until then the
 * create can fail with the task's error (no such image on the node, no
 * resources), and the service is removed.
 *
 * start: a service starts at once and cannot receive files before, so the
 * container's command is a gate (plat_swarm_spec.c) that waits for a marker
 * file in the workspace; plat_start() puts it there (PUT archive), the gate
 * removes it once the engine has finished writing it, and execs the
 * program. Files put before the start are in the workspace before any user
 * code runs, as platform.h asks of both kinds of workspace.
 *
 * remove: the container (forced, with its anonymous volumes), then its
 * service (named by the container's com.docker.swarm.service.id label).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plat_swarm_int.h"
#include "plat_tar.h"

#define SW_POLL_MS 100

/* A container created and not started yet: where its gate looks. */
struct sw_gate {
	struct sw_gate *next;
	char id[72];
	char *dir;
	unsigned long uid, gid;
};

struct plat_swarm {
	struct plat_docker d; /* first: the docker operations work on it */
	struct sw_create *creates;
	struct sw_gate *gates;
};

/* One plat_create() in flight. */
struct sw_create {
	struct sw_create *next;
	struct plat_swarm *s;
	json_t *svc;
	char *image;
	char *image_path; /* GET /images/{image}/json */
	char *dir;
	unsigned long uid, gid;
	bool runtime; /* spec.runtime was asked for */
	bool network; /* spec.network */
	char service[72];
	plat_create_cb cb;
	void *arg;
	struct dk_req *req; /* in flight, or NULL */
	uv_timer_t timer;
	uint64_t deadline; /* uv_now() */
	char msg[512];
};

static struct plat_swarm *sw(struct plat *p)
{
	return (struct plat_swarm *)p;
}

static void sw_timer_closed(uv_handle_t *h)
{
	free(h->data);
}

/* The end of a create: one callback, then it is unlisted and freed. */
static void sw_create_end(struct sw_create *c, const char *id, const struct plat_err *err)
{
	struct sw_create **pp;

	for (pp = &c->s->creates; *pp && *pp != c; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = c->next;
	c->cb(c->arg, id, err);
	json_decref(c->svc);
	free(c->image);
	free(c->image_path);
	free(c->dir);
	uv_timer_stop(&c->timer);
	c->timer.data = c;
	uv_close((uv_handle_t *)&c->timer, sw_timer_closed);
}

static void sw_create_fail(struct sw_create *c, int code, int http, const char *msg)
{
	struct plat_err e = {code, http, msg};

	sw_create_end(c, NULL, &e);
}

static void sw_ignore(struct dk_req *r, const struct plat_err *err)
{
	(void)r;
	(void)err;
}

/* Remove a service nobody waits for (a create that failed). */
static void sw_drop_service(struct plat_docker *d, const char *service)
{
	char *path = dk_strdup_printf("/services/%s", service);
	struct dk_req *r = path ? dk_req_new(d, "DELETE", path, NULL, 0, sw_ignore) : NULL;

	free(path);
	dk_send(r, (long)d->op_timeout_ms);
}

static int sw_request(struct sw_create *c, const char *method, const char *path, json_t *body,
		      dk_finish finish)
{
	struct plat_docker *d = &c->s->d;
	struct dk_req *r = body ? dk_req_new_json(d, method, path, body, finish)
				: dk_req_new(d, method, path, NULL, 0, finish);
	int rc;

	if (r)
		r->ctx = c;
	rc = dk_send(r, (long)d->op_timeout_ms);
	if (rc == 0)
		c->req = r;
	return rc;
}

static void sw_poll(uv_timer_t *t);

/* The service's task: running with a container, failed, or not yet. */
static void sw_tasks_finish(struct dk_req *r, const struct plat_err *err)
{
	struct sw_create *c = r->ctx;
	struct sw_gate *g;
	struct plat_err e;
	json_t *j, *st;
	const char *state, *cid, *why;
	char id[72];

	c->req = NULL;
	if (err) {
		if (err->code != PLAT_E_CANCELED)
			sw_drop_service(&c->s->d, c->service);
		sw_create_end(c, NULL, err);
		return;
	}
	j = dk_resp_json(r, &e);
	if (!j) {
		sw_drop_service(&c->s->d, c->service);
		sw_create_end(c, NULL, &e);
		return;
	}
	st = json_object_get(json_array_get(j, 0), "Status");
	state = json_string_value(json_object_get(st, "State"));
	cid = json_string_value(
	    json_object_get(json_object_get(st, "ContainerStatus"), "ContainerID"));
	why = json_string_value(json_object_get(st, "Err"));
	if (state && cid && *cid && !strcmp(state, "running")) {
		g = calloc(1, sizeof(*g));
		if (!g) {
			json_decref(j);
			sw_drop_service(&c->s->d, c->service);
			sw_create_fail(c, PLAT_E_NOMEM, 0, "out of memory");
			return;
		}
		snprintf(g->id, sizeof(g->id), "%s", cid);
		g->dir = c->dir;
		c->dir = NULL;
		g->uid = c->uid;
		g->gid = c->gid;
		g->next = c->s->gates;
		c->s->gates = g;
		snprintf(id, sizeof(id), "%s", g->id); /* the callback may remove g */
		sw_create_end(c, id, NULL);
		json_decref(j);
		return;
	}
	if (state && (!strcmp(state, "failed") || !strcmp(state, "rejected") ||
		      !strcmp(state, "complete") || !strcmp(state, "shutdown") ||
		      !strcmp(state, "orphaned") || !strcmp(state, "remove"))) {
		snprintf(c->msg, sizeof(c->msg), "swarm task %s: %s", state,
			 why && *why ? why : "no reason given");
		json_decref(j);
		sw_drop_service(&c->s->d, c->service);
		sw_create_fail(c,
			       strstr(c->msg, "No such image") ? PLAT_E_NOT_FOUND : PLAT_E_REJECTED,
			       0, c->msg);
		return;
	}
	json_decref(j);
	if (uv_now(c->s->d.loop) >= c->deadline) {
		snprintf(c->msg, sizeof(c->msg), "swarm task not running after %u ms (state %s)",
			 c->s->d.op_timeout_ms, state ? state : "none yet");
		sw_drop_service(&c->s->d, c->service);
		sw_create_fail(c, PLAT_E_TIMEOUT, 0, c->msg);
		return;
	}
	uv_timer_start(&c->timer, sw_poll, SW_POLL_MS, 0);
}

static void sw_poll(uv_timer_t *t)
{
	struct sw_create *c = t->data;
	char *filters, *esc = NULL, *path = NULL;
	int rc;

	filters = dk_strdup_printf("{\"service\":[\"%s\"]}", c->service);
	if (filters)
		esc = dk_escape(filters);
	if (esc)
		path = dk_strdup_printf("/tasks?filters=%s", esc);
	free(filters);
	curl_free(esc);
	rc = path ? sw_request(c, "GET", path, NULL, sw_tasks_finish) : PLAT_E_NOMEM;
	free(path);
	if (rc < 0) {
		if (rc != PLAT_E_CANCELED)
			sw_drop_service(&c->s->d, c->service);
		sw_create_fail(c, rc, 0, plat_strerror(rc));
	}
}

static void sw_service_finish(struct dk_req *r, const struct plat_err *err)
{
	struct sw_create *c = r->ctx;
	const char *id;
	struct plat_err e;
	json_t *j;

	c->req = NULL;
	if (err) {
		sw_create_end(c, NULL, err);
		return;
	}
	j = dk_resp_json(r, &e);
	id = json_string_value(json_object_get(j, "ID"));
	if (!id || !dk_valid_name(id) || strlen(id) >= sizeof(c->service)) {
		json_decref(j);
		snprintf(c->msg, sizeof(c->msg), "no usable ID in the service create answer");
		sw_create_fail(c, PLAT_E_PROTOCOL, (int)r->status, c->msg);
		return;
	}
	snprintf(c->service, sizeof(c->service), "%s", id);
	json_decref(j);
	c->timer.data = c;
	sw_poll(&c->timer);
}

static void sw_image_finish(struct dk_req *r, const struct plat_err *err)
{
	struct sw_create *c = r->ctx;
	json_t *j, *cs;
	struct plat_err e;
	const char *id;
	int rc;

	c->req = NULL;
	if (err) {
		sw_create_end(c, NULL, err);
		return;
	}
	if (c->runtime) {
		sw_create_fail(c, PLAT_E_UNSUPPORTED, 0,
			       "a swarm service cannot choose an OCI runtime: "
			       "set the nodes' default runtime instead");
		return;
	}
	j = dk_resp_json(r, &e);
	id = json_string_value(json_object_get(j, "Id"));
	cs = json_object_get(json_object_get(c->svc, "TaskTemplate"), "ContainerSpec");
	if (!id || json_object_set_new(cs, "Image", json_string(id))) {
		json_decref(j);
		snprintf(c->msg, sizeof(c->msg), "no image Id in the image's answer");
		sw_create_fail(c, PLAT_E_PROTOCOL, (int)r->status, c->msg);
		return;
	}
	json_decref(j);
	rc = sw_request(c, "POST", "/services/create", c->svc, sw_service_finish);
	if (rc < 0)
		sw_create_fail(c, rc, 0, plat_strerror(rc));
}

/*
 * No network: a service's task without networks gets the node's default
 * network, which is none only on a node whose dockerd runs with --bridge
 * none (the service API cannot ask for "none"). So the node must have no
 * "bridge" network, or the create is refused.
 */
static void sw_bridge_finish(struct dk_req *r, const struct plat_err *err)
{
	struct sw_create *c = r->ctx;
	int rc;

	c->req = NULL;
	if (err && err->code != PLAT_E_NOT_FOUND) {
		sw_create_end(c, NULL, err);
		return;
	}
	if (c->network) {
		sw_create_fail(c, PLAT_E_UNSUPPORTED, 0,
			       "runs with a network are not offered on swarm yet "
			       "(docs/platforms/swarm.md)");
		return;
	}
	if (!err) {
		sw_create_fail(c, PLAT_E_UNSUPPORTED, 0,
			       "this swarm node has a default bridge network, so its tasks "
			       "would have a network: run its dockerd with --bridge none "
			       "(docs/platforms/swarm.md)");
		return;
	}
	rc = sw_request(c, "GET", c->image_path, NULL, sw_image_finish);
	if (rc < 0)
		sw_create_fail(c, rc, 0, plat_strerror(rc));
}

static int sw_create(struct plat *p, const struct plat_spec *spec, plat_create_cb cb, void *arg)
{
	struct plat_swarm *s = sw(p);
	struct sw_create *c;
	char *path;
	int rc;

	/* the gate needs a workspace to look in */
	if (!cb || !spec || dk_check_spec(spec) < 0 || !spec->workspace ||
	    strlen(spec->workspace) > 1024)
		return PLAT_E_INVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return PLAT_E_NOMEM;
	c->svc = sw_service_json(spec);
	c->image = strdup(spec->image);
	c->dir = strdup(spec->workspace);
	path = dk_strdup_printf("/images/%s/json", spec->image);
	if (!c->svc || !c->image || !c->dir || !path) {
		json_decref(c->svc);
		free(c->image);
		free(c->dir);
		free(c);
		free(path);
		return PLAT_E_INVAL; /* a bad string, or no memory */
	}
	dk_user_ids(spec->user, &c->uid, &c->gid);
	c->runtime = spec->runtime != NULL;
	c->network = spec->network;
	c->s = s;
	c->cb = cb;
	c->arg = arg;
	uv_timer_init(s->d.loop, &c->timer);
	c->deadline = uv_now(s->d.loop) + s->d.op_timeout_ms;
	c->next = s->creates;
	s->creates = c;
	c->image_path = path;
	rc = sw_request(c, "GET", "/networks/bridge", NULL, sw_bridge_finish);
	if (rc < 0) {
		free(c->image_path);
		s->creates = c->next;
		json_decref(c->svc);
		free(c->image);
		free(c->dir);
		c->timer.data = c;
		uv_close((uv_handle_t *)&c->timer, sw_timer_closed);
	}
	return rc;
}

/* ---- start: open the gate ---- */

struct sw_start {
	struct plat_tar tar;
	plat_done_cb cb;
	void *arg;
};

static void sw_started(void *arg, const struct plat_err *err)
{
	struct sw_start *st = arg;

	st->cb(st->arg, err);
	plat_tar_release(&st->tar);
	free(st);
}

static struct sw_gate *sw_gate_take(struct plat_swarm *s, const char *id)
{
	struct sw_gate **pp, *g;

	for (pp = &s->gates; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->id, id)) {
			g = *pp;
			*pp = g->next;
			return g;
		}
	return NULL;
}

static void sw_gate_free(struct sw_gate *g)
{
	if (g) {
		free(g->dir);
		free(g);
	}
}

static int sw_start(struct plat *p, const char *id, plat_done_cb cb, void *arg)
{
	struct plat_swarm *s = sw(p);
	struct sw_gate *g;
	struct sw_start *st;
	int rc;

	if (!cb || !id || !dk_valid_name(id))
		return PLAT_E_INVAL;
	g = sw_gate_take(s, id);
	if (!g) /* started already (or not made here): the engine's answer */
		return plat_docker_ops.start(p, id, cb, arg);
	st = calloc(1, sizeof(*st));
	if (!st) {
		rc = PLAT_E_NOMEM;
		goto out_fail;
	}
	st->cb = cb;
	st->arg = arg;
	/* the reference, then the marker dated before it (plat_swarm_int.h) */
	plat_tar_init(&st->tar, (unsigned)g->uid, (unsigned)g->gid, 2);
	rc = plat_tar_add_file(&st->tar, SW_START_REF, "", 0, 0600);
	st->tar.mtime = 1;
	if (!rc)
		rc = plat_tar_add_file(&st->tar, SW_START_MARK, "", 0, 0600);
	if (!rc)
		rc = plat_tar_finish(&st->tar);
	if (!rc)
		rc = plat_docker_ops.put_files(p, id, g->dir, st->tar.data, st->tar.len, sw_started,
					       st);
	if (rc < 0) {
		plat_tar_release(&st->tar);
		free(st);
		goto out_fail;
	}
	sw_gate_free(g);
	return 0;

out_fail:
	g->next = s->gates; /* it can be tried again */
	s->gates = g;
	return rc;
}

/* ---- remove: the container, then its service ---- */

static void sw_service_gone(struct dk_req *r, const struct plat_err *err)
{
	if (err && err->code == PLAT_E_NOT_FOUND)
		err = NULL;
	r->cb.done(r->arg, err);
}

/* A plat_remove() between its steps. */
struct sw_rm {
	struct plat_docker *d;
	plat_done_cb cb;
	void *arg;
	char *service;	 /* or NULL: not a task's container */
	json_t *volumes; /* the names of its anonymous volumes */
	size_t pending;	 /* volume deletes out */
};

static void sw_rm_free(struct sw_rm *rm)
{
	free(rm->service);
	json_decref(rm->volumes);
	free(rm);
}

/* The container and its volumes are gone: its service goes too. */
static void sw_service_step(struct sw_rm *rm)
{
	struct dk_req *del;
	char *path;
	int rc;

	if (!rm->service) {
		rm->cb(rm->arg, NULL);
		sw_rm_free(rm);
		return;
	}
	path = dk_strdup_printf("/services/%s", rm->service);
	del = path ? dk_req_new(rm->d, "DELETE", path, NULL, 0, sw_service_gone) : NULL;
	free(path);
	if (del) {
		del->cb.done = rm->cb;
		del->arg = rm->arg;
	}
	rc = dk_send(del, (long)rm->d->op_timeout_ms);
	if (rc < 0) {
		struct plat_err e = {rc, 0, plat_strerror(rc)};

		rm->cb(rm->arg, &e);
	}
	sw_rm_free(rm);
}

static void sw_volume_gone(struct dk_req *r, const struct plat_err *err)
{
	struct sw_rm *rm = r->ctx;

	(void)err; /* absent or still in use: nothing more to do here */
	if (--rm->pending == 0)
		sw_service_step(rm);
}

/*
 * The container is gone. A swarm node makes the volume of a task's mount
 * itself, before the container: an unnamed mount left one unused volume
 * per mount behind (found here), so the service names them
 * (plat_swarm_spec.c, SW_VOLUME_PREFIX) and they go here, by name; then
 * the service.
 */
static void sw_container_gone(void *arg, const struct plat_err *err)
{
	struct sw_rm *rm = arg;
	struct dk_req *del;
	json_t *v;
	size_t i;
	char *path;

	if (err) {
		rm->cb(rm->arg, err);
		sw_rm_free(rm);
		return;
	}
	rm->pending = 1; /* this loop's own, so no step runs before it ends */
	json_array_foreach(rm->volumes, i, v)
	{
		path = dk_strdup_printf("/volumes/%s", json_string_value(v));
		del = path ? dk_req_new(rm->d, "DELETE", path, NULL, 0, sw_volume_gone) : NULL;
		free(path);
		if (del)
			del->ctx = rm;
		if (dk_send(del, (long)rm->d->op_timeout_ms) == 0)
			rm->pending++;
	}
	if (--rm->pending == 0)
		sw_service_step(rm);
}

/* The names of the volumes the service named for its workspace and /tmp
 * (never a cache volume: "runit-cache-..."). */
static json_t *sw_task_volumes(json_t *container)
{
	json_t *out = json_array(), *m;
	const char *name, *type;
	size_t i;

	json_array_foreach(json_object_get(container, "Mounts"), i, m)
	{
		name = json_string_value(json_object_get(m, "Name"));
		type = json_string_value(json_object_get(m, "Type"));
		if (out && name && type && !strcmp(type, "volume") &&
		    !strncmp(name, SW_VOLUME_PREFIX, strlen(SW_VOLUME_PREFIX)))
			json_array_append_new(out, json_string(name));
	}
	return out;
}

/* The container's service, from its labels; then the container. */
static void sw_inspected(struct dk_req *r, const struct plat_err *err)
{
	struct sw_rm *rm;
	const char *svc = NULL;
	struct plat_err e;
	json_t *j = NULL;
	int rc;

	if (err) {
		r->cb.done(r->arg, err->code == PLAT_E_NOT_FOUND ? NULL : err);
		return;
	}
	j = dk_resp_json(r, &e);
	if (!j) {
		r->cb.done(r->arg, &e);
		return;
	}
	svc = json_string_value(
	    json_object_get(json_object_get(json_object_get(j, "Config"), "Labels"),
			    "com.docker.swarm.service.id"));
	rm = calloc(1, sizeof(*rm));
	rc = PLAT_E_NOMEM;
	if (rm) {
		rm->d = r->d;
		rm->cb = r->cb.done;
		rm->arg = r->arg;
		if (svc && dk_valid_name(svc))
			rm->service = strdup(svc);
		rm->volumes = sw_task_volumes(j);
		rc = plat_docker_ops.remove(&r->d->base, r->str, sw_container_gone, rm);
	}
	json_decref(j);
	if (rc < 0) {
		e = (struct plat_err){rc, 0, plat_strerror(rc)};
		r->cb.done(r->arg, &e);
		if (rm)
			sw_rm_free(rm);
	}
}

static int sw_remove(struct plat *p, const char *id, plat_done_cb cb, void *arg)
{
	struct plat_swarm *s = sw(p);
	struct dk_req *r;
	char *path;

	if (!cb || !id || !dk_valid_name(id))
		return PLAT_E_INVAL;
	sw_gate_free(sw_gate_take(s, id));
	path = dk_strdup_printf("/containers/%s/json", id);
	r = path ? dk_req_new(&s->d, "GET", path, NULL, 0, sw_inspected) : NULL;
	free(path);
	if (r && !(r->str = strdup(id))) {
		dk_req_free(r);
		r = NULL;
	}
	if (r) {
		r->cb.done = cb;
		r->arg = arg;
	}
	return dk_send(r, (long)s->d.op_timeout_ms);
}

/* ---- the backend ---- */

static void sw_destroy(struct plat *p)
{
	struct plat_swarm *s = sw(p);
	struct sw_create *c, *next;
	struct sw_gate *g;

	/* creates between two polls end now; those with a request out end
	 * when dk_fini() cancels it */
	for (c = s->creates; c; c = next) {
		next = c->next;
		if (!c->req)
			sw_create_fail(c, PLAT_E_CANCELED, 0, "canceled");
	}
	dk_fini(&s->d);
	while ((g = s->gates)) {
		s->gates = g->next;
		sw_gate_free(g);
	}
	free(s);
}

static struct plat_ops sw_ops;

int plat_swarm_new(uv_loop_t *loop, const struct plat_config *cfg, struct plat **out)
{
	struct plat_swarm *s;
	int rc;

	*out = NULL;
	if (!sw_ops.version) {
		sw_ops = plat_docker_ops;
		sw_ops.name = "swarm";
		sw_ops.destroy = sw_destroy;
		sw_ops.create = sw_create;
		sw_ops.start = sw_start;
		sw_ops.remove = sw_remove;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return PLAT_E_NOMEM;
	rc = dk_init(&s->d, loop, cfg, &sw_ops);
	if (rc < 0) {
		free(s);
		return rc;
	}
	s->d.stdin_closed = sw_stdin_closed;
	*out = &s->d.base;
	return 0;
}
