/*
 * test_plat_live.h - what the live platform tests share: driving the libuv
 * loop until a callback has run (with a deadline), callbacks that record
 * results, one program run (create, put files, attach, start from ready,
 * collect output with stream marks, wait, remove), a hardened spec for the
 * busybox test image, and the group set-up that finds the engine
 * (RUNIT_DOCKER_HOST, of the platform kind RUNIT_TEST_PLAT_KIND: docker,
 * podman or swarm, docker by default) and image (RUNIT_TEST_SHELL_IMAGE)
 * or says why the tests skip (with RUNIT_TEST_PLAT_REQUIRED=1 the group
 * fails instead: scripts/test started the platform, it must answer), and
 * the teardown that removes whatever this run labelled.
 * Include once, after cmocka.h, from each test_plat_docker_*.c.
 */
#ifndef RUNIT_TEST_PLAT_LIVE_H
#define RUNIT_TEST_PLAT_LIVE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "plat_tar.h"
#include "platform.h"

#define UNUSED __attribute__((unused))

struct env {
	uv_loop_t loop;
	struct plat *p;
	const char *host;
	const char *kind;
	const char *image;
	char skip[1024]; /* why live tests cannot run, or "" */
	char label[64];	 /* runit.test value of this test run */
	char volume[64];
};

/* ---- driving the loop ---- */

static UNUSED void on_deadline(uv_timer_t *t)
{
	*(int *)t->data = 1;
}

/* Run the loop until *flag is set; fail after timeout_ms. */
static UNUSED void run_until(struct env *e, const int *flag, unsigned timeout_ms, const char *what)
{
	uv_timer_t t;
	int late = 0;

	uv_timer_init(&e->loop, &t);
	t.data = &late;
	uv_timer_start(&t, on_deadline, timeout_ms, 0);
	while (!*flag && !late)
		uv_run(&e->loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&e->loop, UV_RUN_NOWAIT);
	if (!*flag)
		fail_msg("timed out after %u ms waiting for %s", timeout_ms, what);
}

/* Let the loop run for ms, whatever happens meanwhile. */
static UNUSED void run_for(struct env *e, unsigned ms)
{
	uv_timer_t t;
	int fired = 0;

	uv_timer_init(&e->loop, &t);
	t.data = &fired;
	uv_timer_start(&t, on_deadline, ms, 0);
	while (!fired)
		uv_run(&e->loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&e->loop, UV_RUN_NOWAIT);
}

/* ---- generic callback results ---- */

struct res {
	int done;
	int code;
	int http;
	char msg[512];
	char id[96];
	struct plat_exit ex;
	char ex_error[256];
	struct plat_info info;
	char api[16];
	char server[96];
	int count; /* list */
	char first_label[128];
	int running; /* inspect */
};

static UNUSED void res_err(struct res *r, const struct plat_err *err)
{
	r->done = 1;
	r->code = err ? err->code : 0;
	r->http = err ? err->http_status : 0;
	snprintf(r->msg, sizeof(r->msg), "%s", err ? err->message : "");
}

static UNUSED void done_cb(void *arg, const struct plat_err *err)
{
	res_err(arg, err);
}

static UNUSED void ping_cb(void *arg, const struct plat_info *info, const struct plat_err *err)
{
	struct res *r = arg;

	res_err(r, err);
	if (info) {
		snprintf(r->api, sizeof(r->api), "%s", info->api_version);
		snprintf(r->server, sizeof(r->server), "%s", info->server);
	}
}

static UNUSED void create_cb(void *arg, const char *id, const struct plat_err *err)
{
	struct res *r = arg;

	res_err(r, err);
	snprintf(r->id, sizeof(r->id), "%s", id ? id : "");
}

static UNUSED void wait_cb(void *arg, const struct plat_exit *ex, const struct plat_err *err)
{
	struct res *r = arg;

	res_err(r, err);
	if (ex) {
		r->ex = *ex;
		snprintf(r->ex_error, sizeof(r->ex_error), "%s", ex->error);
	}
}

static UNUSED void inspect_cb(void *arg, const struct plat_state *st, const struct plat_err *err)
{
	struct res *r = arg;

	res_err(r, err);
	r->running = st ? st->running : -1;
}

static UNUSED void list_cb(void *arg, const struct plat_container *v, size_t n,
			   const struct plat_err *err)
{
	struct res *r = arg;

	res_err(r, err);
	r->count = (int)n;
	r->first_label[0] = '\0';
	for (size_t i = 0; n && i < v[0].nlabels; i++)
		if (!strcmp(v[0].labels[i].key, "runit.role"))
			snprintf(r->first_label, sizeof(r->first_label), "%s",
				 v[0].labels[i].value);
	if (n)
		snprintf(r->id, sizeof(r->id), "%s", v[0].id);
}

#define AWAIT(e, r, what) run_until((e), &(r)->done, 60000, (what))
#define OK_OR_FAIL(r)                                                                              \
	do {                                                                                       \
		if ((r)->code)                                                                     \
			fail_msg("%s (%d): %s", plat_strerror((r)->code), (r)->http, (r)->msg);    \
	} while (0)

/* ---- one program run ---- */

struct run {
	struct env *e;
	struct plat *p; /* the platform to use; NULL: e->p */
	char id[96];
	struct plat_attach *att;
	unsigned flags;
	int ready, started, start_code, ended, end_code, pieces;
	char end_msg[256];
	char *log; /* "<1>text<2>text": stream marks when it changes */
	size_t log_len, log_cap;
	int last_stream;
	size_t out_bytes;
	int paused_hits; /* data callbacks while paused: must stay 0 */
	int paused;
	int pause_after; /* pause at the first piece when set */
	void (*on_data)(struct run *r, int stream, const char *buf, size_t len);
	char stdin_tail[64];
	int writes_done;
};

static UNUSED void log_add(struct run *r, const char *s, size_t n)
{
	if (r->log_len + n + 1 > r->log_cap) {
		size_t cap = r->log_cap ? r->log_cap : 4096;

		while (cap < r->log_len + n + 1)
			cap *= 2;
		r->log = realloc(r->log, cap);
		assert_non_null(r->log);
		r->log_cap = cap;
	}
	memcpy(r->log + r->log_len, s, n);
	r->log_len += n;
	r->log[r->log_len] = '\0';
}

static UNUSED void run_started(void *arg, const struct plat_err *err)
{
	struct run *r = arg;

	r->started = 1;
	r->start_code = err ? err->code : 0;
}

static UNUSED void run_ready(void *arg)
{
	struct run *r = arg;

	r->ready = 1;
	assert_int_equal(plat_start(r->p, r->id, run_started, r), 0);
}

static UNUSED void run_data(void *arg, enum plat_stream s, const char *buf, size_t len)
{
	struct run *r = arg;

	if (r->paused)
		r->paused_hits++;
	r->pieces++;
	if ((int)s != r->last_stream) {
		char mark[4] = {'<', (char)('0' + s), '>', 0};

		log_add(r, mark, 3);
		r->last_stream = s;
	}
	log_add(r, buf, len);
	r->out_bytes += len;
	if (r->on_data)
		r->on_data(r, s, buf, len);
	if (r->pause_after && !r->paused) {
		r->pause_after = 0;
		r->paused = 1;
		plat_pause(r->att);
	}
}

static UNUSED void run_end(void *arg, const struct plat_err *err)
{
	struct run *r = arg;

	r->ended = 1;
	r->end_code = err ? err->code : 0;
	snprintf(r->end_msg, sizeof(r->end_msg), "%s", err ? err->message : "");
	r->att = NULL;
}

static UNUSED const char *const no_env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp", NULL};

/* A hardened spec like the server's, for the test image. */
static UNUSED void spec_init(struct env *e, struct plat_spec *s, const char *const *argv,
			     struct plat_label *labels)
{
	memset(s, 0, sizeof(*s));
	s->image = e->image;
	s->argv = argv;
	s->env = no_env;
	s->workdir = "/workspace";
	s->user = "1000:1000";
	s->workspace = "/workspace";
	s->readonly_rootfs = true;
	s->init = true;
	s->tmp_bytes = 16 << 20;
	s->memory_bytes = 128 << 20;
	s->nano_cpus = 1000000000;
	s->pids_limit = 64;
	s->nofile = 256;
	s->fsize_bytes = 8 << 20;
	labels[0] = (struct plat_label){"runit.test", e->label};
	labels[1] = (struct plat_label){"runit.role", "live"};
	s->labels = labels;
	s->nlabels = 2;
}

/* Create, put files (tar may be NULL), attach, start from ready. */
static UNUSED void run_begin(struct env *e, struct run *r, const struct plat_spec *spec,
			     struct plat_tar *tar, unsigned flags)
{
	static const struct plat_attach_cbs cbs = {run_ready, run_data, run_end};
	struct res c = {0}, f = {0};

	r->e = e;
	if (!r->p)
		r->p = e->p;
	r->last_stream = -1;
	assert_int_equal(plat_create(r->p, spec, create_cb, &c), 0);
	assert_int_equal(c.done, 0); /* never from inside the call */
	AWAIT(e, &c, "create");
	OK_OR_FAIL(&c);
	snprintf(r->id, sizeof(r->id), "%s", c.id);
	if (tar) {
		assert_int_equal(
		    plat_put_files(r->p, r->id, "/workspace", tar->data, tar->len, done_cb, &f), 0);
		AWAIT(e, &f, "put files");
		OK_OR_FAIL(&f);
	}
	assert_int_equal(plat_attach(r->p, r->id, flags, &cbs, r, &r->att), 0);
	run_until(e, &r->started, 60000, "attach and start");
	if (r->start_code)
		fail_msg("start: %s", plat_strerror(r->start_code));
}

/* Output to its end, then the exit; the container is removed. */
static UNUSED void run_finish(struct env *e, struct run *r, struct res *w)
{
	struct res rm = {0};

	run_until(e, &r->ended, 60000, "end of output");
	assert_int_equal(plat_wait(r->p, r->id, wait_cb, w), 0);
	AWAIT(e, w, "wait");
	assert_int_equal(plat_remove(r->p, r->id, done_cb, &rm), 0);
	AWAIT(e, &rm, "remove");
	OK_OR_FAIL(&rm);
}

static UNUSED void run_release(struct run *r)
{
	free(r->log);
	r->log = NULL;
}

static UNUSED void one_file(struct plat_tar *t, const char *path, const char *text, unsigned mode)
{
	plat_tar_init(t, PLAT_RUN_UID, PLAT_RUN_GID, time(NULL));
	assert_int_equal(plat_tar_add_file(t, path, text, strlen(text), mode), 0);
	assert_int_equal(plat_tar_finish(t), 0);
}

#define NEED_ENGINE(e)                                                                             \
	do {                                                                                       \
		if ((e)->skip[0]) {                                                                \
			print_message("SKIP: %s\n", (e)->skip);                                    \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

/* ---- set-up ----- */

static UNUSED int group_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct plat_config cfg = {0};
	struct res r = {0}, img = {0};
	int rc;

	if (!e)
		return -1;
	uv_loop_init(&e->loop);
	e->host = getenv("RUNIT_DOCKER_HOST");
	if (!e->host || !*e->host)
		e->host = "unix:///var/run/docker.sock";
	e->image = getenv("RUNIT_TEST_SHELL_IMAGE");
	if (!e->image || !*e->image)
		e->image = "runit/shell:latest";
	e->kind = getenv("RUNIT_TEST_PLAT_KIND");
	if (!e->kind || !*e->kind)
		e->kind = "docker";
	snprintf(e->label, sizeof(e->label), "live-%d-%ld", (int)getpid(), (long)time(NULL));
	snprintf(e->volume, sizeof(e->volume), "runit-test-%d", (int)getpid());
	cfg.endpoint = e->host;
	cfg.backend = e->kind;
	print_message("platform: %s at %s\n", e->kind, e->host);
	rc = plat_new(&e->loop, &cfg, &e->p);
	if (rc < 0) {
		snprintf(e->skip, sizeof(e->skip), "bad RUNIT_DOCKER_HOST %s: %s", e->host,
			 plat_strerror(rc));
		*state = e;
		return 0;
	}
	*state = e;
	if (plat_ping(e->p, ping_cb, &r) == 0)
		run_until(e, &r.done, 15000, "first ping");
	if (r.code) {
		snprintf(e->skip, sizeof(e->skip), "no %s engine at %s (%s)", e->kind, e->host,
			 r.msg);
		if (getenv("RUNIT_TEST_PLAT_REQUIRED") &&
		    !strcmp(getenv("RUNIT_TEST_PLAT_REQUIRED"), "1")) {
			print_message("FAIL: the platform must answer: %s\n", e->skip);
			return -1;
		}
		return 0;
	}
	plat_ensure_image(e->p, e->image, false, NULL, done_cb, &img);
	run_until(e, &img.done, 15000, "image check");
	if (img.code)
		snprintf(e->skip, sizeof(e->skip),
			 "image %s not on the engine "
			 "(build it with images/, or set RUNIT_TEST_SHELL_IMAGE): %s",
			 e->image, img.msg);
	if (e->skip[0] && getenv("RUNIT_TEST_PLAT_REQUIRED") &&
	    !strcmp(getenv("RUNIT_TEST_PLAT_REQUIRED"), "1")) {
		print_message("FAIL: the platform must answer: %s\n", e->skip);
		return -1;
	}
	return 0;
}

static UNUSED int removed;

static UNUSED void cleanup_removed(void *arg, const struct plat_err *err)
{
	removed++;
}

static UNUSED void cleanup_list(void *arg, const struct plat_container *v, size_t n,
				const struct plat_err *err)
{
	struct env *e = arg;

	for (size_t i = 0; i < n; i++) {
		print_message("cleanup: removing leftover %s\n", v[i].id);
		plat_remove(e->p, v[i].id, cleanup_removed, NULL);
	}
	removed = -(int)n;
}

static UNUSED int group_teardown(void **state)
{
	struct env *e = *state;
	struct plat_label match = {"runit.test", e->label};
	struct res rv = {0};
	int rc;

	if (e->p && !e->skip[0]) {
		removed = 1;
		plat_list(e->p, &match, 1, cleanup_list, e);
		while (removed > 0)
			uv_run(&e->loop, UV_RUN_ONCE);
		while (removed < 0)
			uv_run(&e->loop, UV_RUN_ONCE);
		plat_remove_volume(e->p, e->volume, done_cb, &rv);
		run_until(e, &rv.done, 30000, "volume cleanup");
	}
	plat_free(e->p);
	uv_run(&e->loop, UV_RUN_DEFAULT);
	rc = uv_loop_close(&e->loop);
	free(e);
	return rc == 0 ? 0 : -1; /* a handle left open fails the group */
}

#endif
