/*
 * plat_docker.c - the "docker" platform: struct plat_ops implemented on the
 * Docker Engine API (also served by Podman's compatible socket), one HTTP
 * request per operation over the engine's unix socket, through libcurl's
 * multi interface on the server's libuv loop (plat_http.c). This file holds
 * the operations and the hardened container definition; requests live in
 * plat_docker_req.c, attach and stdin in plat_docker_attach.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plat_docker_int.h"

static struct plat_docker *dk(struct plat *p)
{
	return (struct plat_docker *)p;
}

static void dk_finish_done(struct dk_req *r, const struct plat_err *err)
{
	r->cb.done(r->arg, err);
}

/* ---- ping ---- */

static void dk_ping_finish(struct dk_req *r, const struct plat_err *err)
{
	struct plat_docker *d = r->d;
	struct plat_info info;
	struct plat_err e;
	char ver[16];
	int rc;

	if (err) {
		r->cb.ping(r->arg, NULL, err);
		return;
	}
	if (!d->pinned) {
		rc = dk_choose_version(r->api_version, ver, sizeof(ver));
		if (rc < 0) {
			snprintf(r->msg, sizeof(r->msg),
				 "engine API version \"%s\" not usable (need >= %d.%d)",
				 r->api_version, DK_MIN_MAJOR, DK_MIN_MINOR);
			e = (struct plat_err){rc, (int)r->status, r->msg};
			r->cb.ping(r->arg, NULL, &e);
			return;
		}
		memcpy(d->api_version, ver, sizeof(ver));
	}
	info.backend = "docker";
	info.api_version = d->api_version;
	info.server = r->server;
	r->cb.ping(r->arg, &info, NULL);
}

static int dk_ping(struct plat *p, plat_ping_cb cb, void *arg)
{
	struct plat_docker *d = dk(p);
	struct dk_req *r;

	if (!cb)
		return PLAT_E_INVAL;
	r = dk_req_new(d, "GET", "/_ping", NULL, 0, dk_ping_finish);
	if (r) {
		r->unversioned = true;
		r->cb.ping = cb;
		r->arg = arg;
	}
	return dk_send(r, (long)d->op_timeout_ms);
}

/* ---- images ---- */

/* Pull progress: one JSON object per line. */
static void dk_pull_line(struct dk_req *r, const char *line, size_t len)
{
	json_t *j = json_loadb(line, len, 0, NULL);
	const char *m;

	if (!j)
		return;
	m = json_string_value(json_object_get(j, "error"));
	if (m) {
		snprintf(r->msg, sizeof(r->msg), "%s", m);
		r->stream_error = true;
	} else if (r->progress) {
		json_t *pd = json_object_get(j, "progressDetail");
		json_t *cur = json_object_get(pd, "current");
		json_t *tot = json_object_get(pd, "total");
		const char *st = json_string_value(json_object_get(j, "status"));
		const char *id = json_string_value(json_object_get(j, "id"));
		struct plat_progress pr = {
		    st ? st : "",
		    id ? id : "",
		    json_is_integer(cur) ? json_integer_value(cur) : -1,
		    json_is_integer(tot) ? json_integer_value(tot) : -1,
		};
		r->progress(r->arg, &pr);
	}
	json_decref(j);
}

#define DK_PULL_LINE_MAX 65536

static size_t dk_pull_write(struct dk_req *r, const char *buf, size_t len)
{
	char *nl;
	size_t start = 0;

	if (r->resp_len + len > DK_PULL_LINE_MAX)
		return 0; /* a progress line this long is not a pull */
	if (!r->resp) {
		r->resp = malloc(DK_PULL_LINE_MAX + 1);
		if (!r->resp)
			return 0;
		r->resp_cap = DK_PULL_LINE_MAX + 1;
	}
	memcpy(r->resp + r->resp_len, buf, len);
	r->resp_len += len;
	while ((nl = memchr(r->resp + start, '\n', r->resp_len - start))) {
		dk_pull_line(r, r->resp + start, (size_t)(nl - r->resp) - start);
		start = (size_t)(nl - r->resp) + 1;
	}
	memmove(r->resp, r->resp + start, r->resp_len - start);
	r->resp_len -= start;
	r->resp[r->resp_len] = '\0';
	return len;
}

static void dk_pull_finish(struct dk_req *r, const struct plat_err *err)
{
	struct plat_err e = {PLAT_E_PULL, 0, r->msg};

	if (err && (err->code == PLAT_E_UNAVAILABLE || err->code == PLAT_E_CANCELED)) {
		r->cb.done(r->arg, err);
		return;
	}
	if (err) {
		/* the engine refused before streaming: no such registry... */
		e.http_status = err->http_status;
		if (err->message != r->msg)
			snprintf(r->msg, sizeof(r->msg), "%s", err->message);
		r->cb.done(r->arg, &e);
		return;
	}
	if (r->resp_len && !r->stream_error)
		dk_pull_line(r, r->resp, r->resp_len);
	r->cb.done(r->arg, r->stream_error ? &e : NULL);
}

/* POST /images/create for image: name and tag apart, "latest" if none. */
static int dk_pull(struct plat_docker *d, const char *image, plat_progress_cb progress,
		   plat_done_cb cb, void *arg)
{
	const char *slash = strrchr(image, '/');
	const char *colon = strchr(slash ? slash : image, ':');
	bool digest = strchr(image, '@') != NULL;
	char *name, *from = NULL, *tag = NULL, *path = NULL;
	struct dk_req *r;

	name = digest || !colon ? strdup(image) : strndup(image, (size_t)(colon - image));
	if (name)
		from = dk_escape(name);
	if (!digest)
		tag = dk_escape(colon ? colon + 1 : "latest");
	if (from && (tag || digest))
		path = dk_strdup_printf("/images/create?fromImage=%s%s%s", from, tag ? "&tag=" : "",
					tag ? tag : "");
	free(name);
	curl_free(from);
	curl_free(tag);
	if (!path)
		return PLAT_E_NOMEM;
	r = dk_req_new(d, "POST", path, NULL, 0, dk_pull_finish);
	free(path);
	if (r) {
		r->on_write = dk_pull_write;
		r->cb.done = cb;
		r->arg = arg;
		r->progress = progress;
	}
	return dk_send(r, 0);
}

static void dk_image_finish(struct dk_req *r, const struct plat_err *err)
{
	int rc;

	if (err && err->code == PLAT_E_NOT_FOUND && r->flag) {
		rc = dk_pull(r->d, r->str, r->progress, r->cb.done, r->arg);
		if (rc < 0) {
			struct plat_err e = {rc, 0, plat_strerror(rc)};
			r->cb.done(r->arg, &e);
		}
		return;
	}
	r->cb.done(r->arg, err);
}

static int dk_ensure_image(struct plat *p, const char *image, bool pull, plat_progress_cb progress,
			   plat_done_cb cb, void *arg)
{
	struct plat_docker *d = dk(p);
	struct dk_req *r;
	char *path;

	if (!cb || !dk_valid_image(image))
		return PLAT_E_INVAL;
	path = dk_strdup_printf("/images/%s/json", image);
	if (!path)
		return PLAT_E_NOMEM;
	r = dk_req_new(d, "GET", path, NULL, 0, dk_image_finish);
	free(path);
	if (r) {
		r->str = strdup(image);
		if (!r->str) {
			dk_req_free(r);
			return PLAT_E_NOMEM;
		}
		r->flag = pull;
		r->cb.done = cb;
		r->arg = arg;
		r->progress = progress;
	}
	return dk_send(r, (long)d->op_timeout_ms);
}

/* ---- volumes ---- */

static int dk_ensure_volume(struct plat *p, const char *name, const struct plat_label *labels,
			    size_t nlabels, plat_done_cb cb, void *arg)
{
	struct plat_docker *d = dk(p);
	json_t *body, *lj;
	struct dk_req *r;

	if (!cb || !dk_valid_name(name) || (nlabels && !labels))
		return PLAT_E_INVAL;
	lj = dk_labels_json(labels, nlabels);
	body = json_object();
	if (!lj || !body || json_object_set_new(body, "Name", json_string(name)) ||
	    json_object_set_new(body, "Labels", lj)) {
		json_decref(body);
		return PLAT_E_INVAL;
	}
	/* creating a volume that exists is a no-op returning it */
	r = dk_req_new_json(d, "POST", "/volumes/create", body, dk_finish_done);
	json_decref(body);
	if (r) {
		r->cb.done = cb;
		r->arg = arg;
	}
	return dk_send(r, (long)d->op_timeout_ms);
}

/* Success, or an answer that means the goal is already reached. Podman
 * answers a kill of a stopped container with a 500 of its own words. */
static void dk_finish_idempotent(struct dk_req *r, const struct plat_err *err)
{
	if (err && (err->http_status == 304 || (r->flag && err->code == PLAT_E_NOT_FOUND) ||
		    (r->str && err->code == PLAT_E_CONFLICT && strstr(err->message, r->str)) ||
		    (r->str && r->d->podman && !strcmp(r->str, "is not running") &&
		     strstr(err->message, "can only kill running containers"))))
		err = NULL;
	r->cb.done(r->arg, err);
}

/* dk_idempotent()'s flags */
#define DK_ABSENT_OK 1u /* "no such container" is success */
#define DK_LIMITED 2u	/* a start or removal: waits for a place (the gate) */

static int dk_idempotent(struct plat_docker *d, const char *method, char *path, unsigned flags,
			 const char *conflict_ok, plat_done_cb cb, void *arg, long timeout_ms)
{
	struct dk_req *r;

	if (!path)
		return PLAT_E_NOMEM;
	r = dk_req_new(d, method, path, NULL, 0, dk_finish_idempotent);
	free(path);
	if (!r)
		return PLAT_E_NOMEM;
	r->cb.done = cb;
	r->arg = arg;
	r->flag = flags & DK_ABSENT_OK;
	r->limited = flags & DK_LIMITED;
	if (conflict_ok && !(r->str = strdup(conflict_ok))) {
		dk_req_free(r);
		return PLAT_E_NOMEM;
	}
	return dk_send(r, timeout_ms);
}

static int dk_remove_volume(struct plat *p, const char *name, plat_done_cb cb, void *arg)
{
	struct plat_docker *d = dk(p);

	if (!cb || !dk_valid_name(name))
		return PLAT_E_INVAL;
	return dk_idempotent(d, "DELETE", dk_strdup_printf("/volumes/%s", name), DK_ABSENT_OK, NULL,
			     cb, arg, (long)d->op_timeout_ms);
}

/* ---- files, start, stop ---- */

static int dk_put_files(struct plat *p, const char *id, const char *dir, const void *tar,
			size_t len, plat_done_cb cb, void *arg)
{
	struct plat_docker *d = dk(p);
	struct dk_req *r;
	char *esc, *path;

	if (!cb || !dk_valid_name(id) || !dir || dir[0] != '/' || !tar || len < 1024 || len % 512)
		return PLAT_E_INVAL;
	esc = dk_escape(dir);
	if (!esc)
		return PLAT_E_NOMEM;
	/* never turn a directory into a file or back: fail instead */
	path = dk_strdup_printf("/containers/%s/archive?path=%s"
				"&noOverwriteDirNonDir=1",
				id, esc);
	curl_free(esc);
	if (!path)
		return PLAT_E_NOMEM;
	r = dk_req_new(d, "PUT", path, NULL, 0, dk_finish_done);
	free(path);
	if (!r)
		return PLAT_E_NOMEM;
	if (dk_req_header(r, "Content-Type: application/x-tar") < 0) {
		dk_req_free(r);
		return PLAT_E_NOMEM;
	}
	/* borrowed until the callback, as platform.h says: no copy */
	curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, tar);
	curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	r->cb.done = cb;
	r->arg = arg;
	return dk_send(r, (long)d->op_timeout_ms);
}

static int dk_start(struct plat *p, const char *id, plat_done_cb cb, void *arg)
{
	struct plat_docker *d = dk(p);

	if (!cb || !dk_valid_name(id))
		return PLAT_E_INVAL;
	/* 304: already started */
	return dk_idempotent(d, "POST", dk_strdup_printf("/containers/%s/start", id), DK_LIMITED,
			     NULL, cb, arg, (long)d->op_timeout_ms);
}

static int dk_stop(struct plat *p, const char *id, unsigned grace_s, plat_done_cb cb, void *arg)
{
	struct plat_docker *d = dk(p);

	if (!cb || !dk_valid_name(id) || grace_s > 3600)
		return PLAT_E_INVAL;
	if (grace_s == 0) /* 409 "is not running": already stopped */
		return dk_idempotent(d, "POST", dk_strdup_printf("/containers/%s/kill", id), 0,
				     "is not running", cb, arg, (long)d->op_timeout_ms);
	return dk_idempotent(d, "POST", dk_strdup_printf("/containers/%s/stop?t=%u", id, grace_s),
			     0, NULL, cb, arg, (long)d->op_timeout_ms + 1000L * grace_s);
}

static int dk_remove(struct plat *p, const char *id, plat_done_cb cb, void *arg)
{
	struct plat_docker *d = dk(p);

	if (!cb || !dk_valid_name(id))
		return PLAT_E_INVAL;
	/* v=1 removes anonymous volumes (the workspace), never named ones */
	return dk_idempotent(d, "DELETE", dk_strdup_printf("/containers/%s?force=1&v=1", id),
			     DK_ABSENT_OK | DK_LIMITED, "already in progress", cb, arg,
			     (long)d->op_timeout_ms);
}

/* The terminal's size (platform.h, A TERMINAL): the engine sets it on the
 * pseudo-terminal's master, and the kernel tells the program (SIGWINCH). */
static int dk_resize(struct plat *p, const char *id, unsigned rows, unsigned cols, plat_done_cb cb,
		     void *arg)
{
	struct plat_docker *d = dk(p);

	if (!cb || !dk_valid_name(id) || rows < 1 || rows > 65535 || cols < 1 || cols > 65535)
		return PLAT_E_INVAL;
	return dk_idempotent(d, "POST",
			     dk_strdup_printf("/containers/%s/resize?h=%u&w=%u", id, rows, cols), 0,
			     NULL, cb, arg, (long)d->op_timeout_ms);
}

/* ---- inspect and wait ---- */

static const char *dk_jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* Fill st from GET /containers/{id}/json; -1 if it has no State. */
static int dk_parse_state(json_t *j, struct plat_state *st)
{
	json_t *s = json_object_get(j, "State");

	if (!json_is_object(s))
		return -1;
	st->status = dk_jstr(s, "Status");
	st->running = json_is_true(json_object_get(s, "Running"));
	st->exit_code = (int)json_integer_value(json_object_get(s, "ExitCode"));
	st->oom_killed = json_is_true(json_object_get(s, "OOMKilled"));
	st->pid = (int)json_integer_value(json_object_get(s, "Pid"));
	st->started_at = dk_jstr(s, "StartedAt");
	st->finished_at = dk_jstr(s, "FinishedAt");
	st->error = dk_jstr(s, "Error");
	return 0;
}

static void dk_inspect_finish(struct dk_req *r, const struct plat_err *err)
{
	struct plat_state st;
	struct plat_err e;
	json_t *j;

	if (err) {
		r->cb.inspect(r->arg, NULL, err);
		return;
	}
	j = dk_resp_json(r, &e);
	if (j && dk_parse_state(j, &st) < 0) {
		snprintf(r->msg, sizeof(r->msg), "no State in the inspect answer");
		e = (struct plat_err){PLAT_E_PROTOCOL, (int)r->status, r->msg};
		json_decref(j);
		j = NULL;
	}
	r->cb.inspect(r->arg, j ? &st : NULL, j ? NULL : &e);
	json_decref(j);
}

static int dk_inspect(struct plat *p, const char *id, plat_inspect_cb cb, void *arg)
{
	struct plat_docker *d = dk(p);
	struct dk_req *r;
	char *path;

	if (!cb || !dk_valid_name(id))
		return PLAT_E_INVAL;
	path = dk_strdup_printf("/containers/%s/json", id);
	if (!path)
		return PLAT_E_NOMEM;
	r = dk_req_new(d, "GET", path, NULL, 0, dk_inspect_finish);
	free(path);
	if (r) {
		r->cb.inspect = cb;
		r->arg = arg;
	}
	return dk_send(r, (long)d->op_timeout_ms);
}

/* What wait learnt, carried to the inspect that follows it. */
struct dk_wait {
	plat_wait_cb cb;
	void *arg;
	int exit_code;
	char error[256];
};

static void dk_wait_inspected(void *arg, const struct plat_state *st, const struct plat_err *err)
{
	struct dk_wait *w = arg;
	struct plat_exit ex = {w->exit_code, false, w->error};

	if (st)
		ex.oom_killed = st->oom_killed;
	w->cb(w->arg, err ? NULL : &ex, err);
	free(w);
}

static void dk_wait_finish(struct dk_req *r, const struct plat_err *err)
{
	struct dk_wait *w;
	struct plat_err e;
	json_t *j, *code;
	int rc;

	if (err) {
		r->cb.wait(r->arg, NULL, err);
		return;
	}
	j = dk_resp_json(r, &e);
	code = json_object_get(j, "StatusCode");
	if (!json_is_integer(code)) {
		if (j) {
			snprintf(r->msg, sizeof(r->msg), "no StatusCode in the wait answer");
			e = (struct plat_err){PLAT_E_PROTOCOL, (int)r->status, r->msg};
		}
		r->cb.wait(r->arg, NULL, &e);
		json_decref(j);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		e = (struct plat_err){PLAT_E_NOMEM, 0, "out of memory"};
		r->cb.wait(r->arg, NULL, &e);
		json_decref(j);
		return;
	}
	w->cb = r->cb.wait;
	w->arg = r->arg;
	w->exit_code = (int)json_integer_value(code);
	snprintf(w->error, sizeof(w->error), "%s", dk_jstr(json_object_get(j, "Error"), "Message"));
	json_decref(j);
	/* the OOM verdict is only in the container's state */
	rc = dk_inspect(&r->d->base, r->str, dk_wait_inspected, w);
	if (rc < 0) {
		e = (struct plat_err){rc, 0, plat_strerror(rc)};
		w->cb(w->arg, NULL, &e);
		free(w);
	}
}

static int dk_wait(struct plat *p, const char *id, plat_wait_cb cb, void *arg)
{
	struct plat_docker *d = dk(p);
	struct dk_req *r;
	char *path;

	if (!cb || !dk_valid_name(id))
		return PLAT_E_INVAL;
	path = dk_strdup_printf("/containers/%s/wait", id);
	if (!path)
		return PLAT_E_NOMEM;
	r = dk_req_new(d, "POST", path, NULL, 0, dk_wait_finish);
	free(path);
	if (r && !(r->str = strdup(id))) {
		dk_req_free(r);
		r = NULL;
	}
	if (r) {
		r->cb.wait = cb;
		r->arg = arg;
	}
	return dk_send(r, 0); /* as long as the program runs */
}

/* ---- list ---- */

static void dk_list_finish(struct dk_req *r, const struct plat_err *err)
{
	struct plat_container *v = NULL;
	struct plat_label *labels = NULL;
	struct plat_err e;
	size_t n = 0, nl = 0, i, k;
	const char *key;
	json_t *j, *c, *val;

	if (err) {
		r->cb.list(r->arg, NULL, 0, err);
		return;
	}
	j = dk_resp_json(r, &e);
	if (j && !json_is_array(j)) {
		snprintf(r->msg, sizeof(r->msg), "container list is not an array");
		e = (struct plat_err){PLAT_E_PROTOCOL, (int)r->status, r->msg};
		json_decref(j);
		j = NULL;
	}
	if (!j) {
		r->cb.list(r->arg, NULL, 0, &e);
		return;
	}
	n = json_array_size(j);
	json_array_foreach(j, i, c) nl += json_object_size(json_object_get(c, "Labels"));
	v = calloc(n ? n : 1, sizeof(*v));
	labels = calloc(nl ? nl : 1, sizeof(*labels));
	if (!v || !labels) {
		e = (struct plat_err){PLAT_E_NOMEM, 0, "out of memory"};
		r->cb.list(r->arg, NULL, 0, &e);
		goto out_free;
	}
	k = 0;
	json_array_foreach(j, i, c)
	{
		v[i].id = dk_jstr(c, "Id");
		v[i].state = dk_jstr(c, "State");
		v[i].labels = labels + k;
		json_object_foreach(json_object_get(c, "Labels"), key, val)
		{
			labels[k].key = key;
			labels[k].value = json_is_string(val) ? json_string_value(val) : "";
			k++;
			v[i].nlabels++;
		}
	}
	r->cb.list(r->arg, v, n, NULL);
out_free:
	free(v);
	free(labels);
	json_decref(j);
}

static int dk_list(struct plat *p, const struct plat_label *match, size_t n, plat_list_cb cb,
		   void *arg)
{
	struct plat_docker *d = dk(p);
	json_t *f, *arr;
	char *fs = NULL, *esc = NULL, *path = NULL;
	struct dk_req *r;

	if (!cb || (n && !match))
		return PLAT_E_INVAL;
	arr = json_array();
	for (size_t i = 0; arr && i < n; i++) {
		char *one;

		if (!match[i].key || !*match[i].key) {
			json_decref(arr);
			return PLAT_E_INVAL;
		}
		one = match[i].value ? dk_strdup_printf("%s=%s", match[i].key, match[i].value)
				     : strdup(match[i].key);
		if (!one || json_array_append_new(arr, json_string(one)) < 0) {
			free(one);
			json_decref(arr);
			return PLAT_E_INVAL; /* not UTF-8, or no memory */
		}
		free(one);
	}
	f = arr ? json_pack("{s:o}", "label", arr) : NULL;
	if (f)
		fs = json_dumps(f, JSON_COMPACT);
	json_decref(f);
	if (fs)
		esc = dk_escape(fs);
	if (esc)
		path = dk_strdup_printf("/containers/json?all=1&filters=%s", esc);
	free(fs);
	curl_free(esc);
	if (!path)
		return PLAT_E_NOMEM;
	r = dk_req_new(d, "GET", path, NULL, 0, dk_list_finish);
	free(path);
	if (r) {
		r->cb.list = cb;
		r->arg = arg;
	}
	return dk_send(r, (long)d->op_timeout_ms);
}

/* ---- the backend ---- */

void dk_fini(struct plat_docker *d)
{
	d->destroying = true;
	/* every transfer ends here, negotiation included, which fails
	 * the requests waiting for it with PLAT_E_CANCELED */
	plat_http_free(d->http);
	dk_gate_release(d); /* what waited in the gate: canceled too */
	dk_free_where(d);
}

static void dk_destroy(struct plat *p)
{
	dk_fini(dk(p));
	free(p);
}

const struct plat_ops plat_docker_ops = {
    .version = PLAT_OPS_VERSION,
    .name = "docker",
    .destroy = dk_destroy,
    .ping = dk_ping,
    .ensure_image = dk_ensure_image,
    .ensure_volume = dk_ensure_volume,
    .remove_volume = dk_remove_volume,
    .create = dk_create,
    .put_files = dk_put_files,
    .start = dk_start,
    .attach = dk_attach,
    .write_stdin = dk_write_stdin,
    .close_stdin = dk_close_stdin,
    .pause = dk_pause,
    .resume = dk_resume,
    .detach = dk_detach,
    .stop = dk_stop,
    .wait = dk_wait,
    .inspect = dk_inspect,
    .remove = dk_remove,
    .list = dk_list,
    .resize = dk_resize,
    .engine = dk_engine,
};

int dk_init(struct plat_docker *d, uv_loop_t *loop, const struct plat_config *cfg,
	    const struct plat_ops *ops)
{
	int rc;

	d->base.ops = ops;
	d->loop = loop;
	d->op_timeout_ms = cfg->op_timeout_ms ? cfg->op_timeout_ms : 120000;
	d->connect_timeout_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms : 5000;
	d->max_ops = cfg->max_ops < 0 ? 0 : cfg->max_ops ? (unsigned)cfg->max_ops : DK_MAX_OPS;
	d->stats = cfg->stats;
	if (cfg->api_version) {
		rc = dk_choose_version(cfg->api_version, d->api_version, sizeof(d->api_version));
		if (rc < 0)
			return PLAT_E_INVAL;
		d->pinned = true;
	}
	rc = dk_where_init(d, cfg);
	if (rc < 0)
		return rc;
	rc = plat_http_new(loop, &d->http);
	if (rc < 0) {
		dk_free_where(d);
		return rc;
	}
	return 0;
}

int plat_podman_new(uv_loop_t *loop, const struct plat_config *cfg, struct plat **out)
{
	int rc = plat_docker_new(loop, cfg, out);

	if (rc == 0)
		((struct plat_docker *)*out)->podman = true;
	return rc;
}

int plat_docker_new(uv_loop_t *loop, const struct plat_config *cfg, struct plat **out)
{
	struct plat_docker *d;
	int rc;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return PLAT_E_NOMEM;
	rc = dk_init(d, loop, cfg, &plat_docker_ops);
	if (rc < 0) {
		free(d);
		return rc;
	}
	*out = &d->base;
	return 0;
}
