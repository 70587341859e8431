/*
 * run_image.c - runtime images on the platform new runs go to (run_image.h):
 * the table of what was found there, its refresh at every platform health
 * round, the check run/start makes, and the admins' build (a child process
 * running images/build, its output published line by line) and pull.
 */
#include "run_image.h"
#include "run_plat.h"
#include "bus.h"
#include "db.h"
#include "log.h"
#include "srv.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#define IMG_MAX 128	       /* images followed (runtimes share images) */
#define JOB_TAIL 12	       /* last lines of a job kept for the dashboard */
#define JOB_MAX_LINES 5000     /* lines published per job; the rest are counted */
#define LINE_MAX_BYTES 400     /* a longer line is cut into pieces */
#define PULL_LINE_EVERY_MS 500 /* pull progress: at most this often per status */

struct run_images;

struct job {
	struct run_images *I;
	char image[256];
	const char *op; /* "build" or "pull" */
	long long by;
	int64_t started_ms;
	char tail[JOB_TAIL][LINE_MAX_BYTES + 1];
	unsigned ntail, lines, dropped;
	/* build: the child and its two output pipes */
	uv_process_t proc;
	uv_pipe_t pipe[2];
	char buf[2][LINE_MAX_BYTES + 1];
	size_t blen[2];
	char rbuf[4096];
	int handles; /* libuv handles still to close */
	int running; /* the child has not exited */
	int64_t exit_status;
	int term_signal;
	/* pull */
	char last_status[64];
	int64_t last_line_ms;
	char error[300];
	int failed;
};

struct img {
	char image[256];
	enum run_image_state state;
	int seen;
	struct job *job;
	unsigned present, missing; /* this round: up engines that have it, that lack it */
};

struct run_images {
	struct srv *srv;
	struct img v[IMG_MAX];
	size_t n;
	struct plat *plat; /* where new runs go, as of the last round */
	long long plat_id;
	int busy, again, pending;
	int stopping;
	int builds;
	char build_path[PATH_MAX];
};

const char *run_image_state_name(enum run_image_state st)
{
	return st == RUN_IMAGE_PRESENT	 ? "present"
	       : st == RUN_IMAGE_MISSING ? "missing"
					 : "unknown";
}

static struct img *find(struct run_images *I, const char *image)
{
	for (size_t i = 0; I && i < I->n; i++)
		if (!strcmp(I->v[i].image, image))
			return &I->v[i];
	return NULL;
}

static struct img *find_or_add(struct run_images *I, const char *image)
{
	struct img *e = find(I, image);

	if (e || I->n == IMG_MAX || strlen(image) >= sizeof(e->image))
		return e;
	e = &I->v[I->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->image, sizeof(e->image), "%s", image);
	e->state = RUN_IMAGE_UNKNOWN;
	return e;
}

enum run_image_state run_image_state(struct srv *srv, const char *image)
{
	struct img *e = find(srv->images, image);

	return e ? e->state : RUN_IMAGE_UNKNOWN;
}

/* What the platform said of image; a change is an admin event. */
static void set_state(struct run_images *I, const char *image, enum run_image_state st)
{
	struct img *e = find(I, image);
	if (!e || e->state == st || st == RUN_IMAGE_UNKNOWN)
		return; /* unknown: the platform did not answer; keep what we knew */
	e->state = st;
	if (st == RUN_IMAGE_MISSING)
		log_json(LOG_WARN, "a runtime's image is missing on the platform",
			 json_pack("{s:s}", "image", image));
	else
		log_json(LOG_INFO, "a runtime's image is on the platform",
			 json_pack("{s:s}", "image", image));
	bus_publish(I->srv, "image", run_image_state_name(st), json_pack("{s:s}", "image", image));
}

/* ---------- the refresh ---------- */

static void refresh(struct run_images *I);

struct look {
	struct run_images *I;
	char image[256];
};

static void round_done(struct run_images *I)
{
	/* several engines: present when an up engine has it (runs go there),
	 * missing when every one that answered lacks it */
	for (size_t i = 0; i < I->n && !I->stopping; i++)
		set_state(I, I->v[i].image,
			  I->v[i].present   ? RUN_IMAGE_PRESENT
			  : I->v[i].missing ? RUN_IMAGE_MISSING
					    : RUN_IMAGE_UNKNOWN);
	I->busy = 0;
	if (I->again && !I->stopping) {
		I->again = 0;
		refresh(I);
	}
}

static void looked(void *arg, const struct plat_err *err)
{
	struct look *lk = arg;
	struct run_images *I = lk->I;
	struct img *e = find(I, lk->image);

	if (e && !err)
		e->present++;
	else if (e && err->code == PLAT_E_NOT_FOUND)
		e->missing++;
	free(lk);
	if (--I->pending == 0)
		round_done(I);
}

static void images_read(void *arg, PGresult *res, const char *err)
{
	struct run_images *I = arg;
	struct run_platform rp[16];
	int up[16];
	size_t i, j, np;

	if (!res || I->stopping || !I->plat) {
		round_done(I);
		return;
	}
	for (i = 0; i < I->n; i++)
		I->v[i].seen = 0;
	for (int r = 0; r < PQntuples(res); r++) {
		struct img *e = find_or_add(I, PQgetvalue(res, r, 0));
		if (e)
			e->seen = 1;
	}
	for (i = j = 0; i < I->n; i++) /* images no runtime uses go (unless a job runs) */
		if (I->v[i].seen || I->v[i].job)
			I->v[j++] = I->v[i];
	I->n = j;
	I->pending = 1;
	np = run_plat_list(I->srv, rp, up, sizeof(up) / sizeof(up[0]));
	for (i = 0; i < I->n; i++) {
		I->v[i].present = I->v[i].missing = 0;
		for (size_t k = 0; k < np; k++) {
			struct look *lk;

			if (up[k] == 0 || !(lk = calloc(1, sizeof(*lk))))
				continue; /* a down engine says nothing */
			lk->I = I;
			snprintf(lk->image, sizeof(lk->image), "%s", I->v[i].image);
			if (plat_ensure_image(rp[k].plat, lk->image, false, NULL, looked, lk))
				free(lk);
			else
				I->pending++;
		}
	}
	if (--I->pending == 0)
		round_done(I);
}

static void refresh(struct run_images *I)
{
	if (!I->plat || I->stopping)
		return;
	if (I->busy) {
		I->again = 1;
		return;
	}
	I->busy = 1;
	if (db_query(I->srv->db, "SELECT DISTINCT image FROM runtimes WHERE enabled ORDER BY image",
		     0, NULL, images_read, I))
		I->busy = 0;
}

/* run_plat.c's health round: the platform new runs go to. */
static void round_hook(struct srv *srv, struct plat *plat, long long platform_id)
{
	struct run_images *I = srv->images;

	if (!I || I->stopping)
		return;
	if (plat != I->plat) { /* another platform: what we knew is about the old one */
		for (size_t i = 0; i < I->n; i++)
			I->v[i].state = RUN_IMAGE_UNKNOWN;
		I->plat = plat;
		I->plat_id = platform_id;
	}
	refresh(I);
}

/* An admin changed a runtime here: its image may be new. */
static void on_config(void *arg, const struct bus_event *ev)
{
	if (!strncmp(ev->kind, "runtime.", 8))
		refresh(arg);
}

/* ---------- run/start's check ---------- */

struct chk {
	struct run_images *I;
	struct plat *plat;
	char image[256];
	run_image_cb cb;
	void *arg;
};

static void checked(void *arg, const struct plat_err *err)
{
	struct chk *ck = arg;
	enum run_image_state st = !err				  ? RUN_IMAGE_PRESENT
				  : err->code == PLAT_E_NOT_FOUND ? RUN_IMAGE_MISSING
								  : RUN_IMAGE_UNKNOWN;

	if (ck->plat == ck->I->plat && !ck->I->stopping)
		set_state(ck->I, ck->image, st);
	ck->cb(ck->arg, st);
	free(ck);
}

int run_image_check(struct srv *srv, struct plat *plat, const char *image, run_image_cb cb,
		    void *arg)
{
	struct run_images *I = srv->images;
	struct img *e = find(I, image);
	struct chk *ck;

	if (!I || !plat)
		return -1;
	if (plat == I->plat && e && e->state == RUN_IMAGE_PRESENT)
		return 1;
	ck = calloc(1, sizeof(*ck));
	if (!ck)
		return -1;
	ck->I = I;
	ck->plat = plat;
	ck->cb = cb;
	ck->arg = arg;
	snprintf(ck->image, sizeof(ck->image), "%s", image);
	if (plat_ensure_image(plat, ck->image, false, NULL, checked, ck)) {
		free(ck);
		return -1;
	}
	return 0;
}

void run_image_gone(struct srv *srv, struct plat *plat, const char *image)
{
	struct run_images *I = srv->images;

	if (I && plat == I->plat && !I->stopping)
		set_state(I, image, RUN_IMAGE_MISSING);
}

/* ---------- jobs: build and pull ---------- */

/* Keep line (made valid UTF-8 for JSON), publish it unless too many were. */
static void job_line(struct job *j, const char *s, size_t len)
{
	char *t = j->tail[j->ntail++ % JOB_TAIL];
	json_t *str;

	while (len && (s[len - 1] == '\r' || s[len - 1] == '\n'))
		len--;
	if (len > LINE_MAX_BYTES)
		len = LINE_MAX_BYTES;
	memcpy(t, s, len);
	t[len] = '\0';
	str = json_stringn(t, len);
	if (!str) { /* not UTF-8: keep the ASCII, mark the rest */
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)t[i] >= 0x80)
				t[i] = '?';
		str = json_stringn(t, len);
	}
	if (j->lines++ < JOB_MAX_LINES && !j->I->stopping)
		bus_publish(j->I->srv, "image", "progress",
			    json_pack("{s:s, s:s, s:o}", "image", j->image, "op", j->op, "line",
				      str ? str : json_string("")));
	else {
		j->dropped++;
		json_decref(str);
	}
}

static void job_finish(struct job *j)
{
	struct run_images *I = j->I;
	struct img *e = find(I, j->image);
	int ok = !j->failed;

	if (e && e->job == j)
		e->job = NULL;
	if (!strcmp(j->op, "build"))
		I->builds--;
	log_json(ok ? LOG_INFO : LOG_WARN, ok ? "image job done" : "image job failed",
		 json_pack("{s:s, s:s, s:s, s:I}", "image", j->image, "op", j->op, "error",
			   j->error, "duration_ms", (json_int_t)(srv_now_ms() - j->started_ms)));
	if (!I->stopping) {
		bus_publish(I->srv, "image", "done",
			    json_pack("{s:s, s:s, s:b, s:o, s:I, s:I}", "image", j->image, "op",
				      j->op, "ok", ok, "error",
				      ok ? json_null() : json_string(j->error), "lines",
				      (json_int_t)j->lines, "duration_ms",
				      (json_int_t)(srv_now_ms() - j->started_ms)));
		refresh(I); /* the image may be there now */
	}
	free(j);
}

static struct job *job_new(struct run_images *I, struct img *e, const char *op, long long by)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->I = I;
	j->op = op;
	j->by = by;
	j->started_ms = srv_now_ms();
	snprintf(j->image, sizeof(j->image), "%s", e->image);
	e->job = j;
	bus_publish(
	    I->srv, "image", "started",
	    json_pack("{s:s, s:s, s:I}", "image", j->image, "op", op, "by", (json_int_t)by));
	return j;
}

static void build_handle_closed(uv_handle_t *h)
{
	struct job *j = h->data;

	if (--j->handles)
		return;
	if (j->exit_status || j->term_signal || j->failed) {
		/* images/build's last line says why ("images: error: ...") */
		const char *last = j->ntail ? j->tail[(j->ntail - 1) % JOB_TAIL] : "";
		if (!j->failed && *last)
			snprintf(j->error, sizeof(j->error), "%.*s", (int)sizeof(j->error) - 1,
				 last);
		else if (!j->failed)
			snprintf(j->error, sizeof(j->error),
				 "images/build failed (exit status %lld%s)",
				 (long long)j->exit_status, j->term_signal ? ", killed" : "");
		j->failed = 1;
	}
	job_finish(j);
}

static void build_exited(uv_process_t *p, int64_t status, int term_signal)
{
	struct job *j = p->data;

	j->running = 0;
	j->exit_status = status;
	j->term_signal = term_signal;
	uv_close((uv_handle_t *)p, build_handle_closed);
}

static void build_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct job *j = h->data; /* one buffer: each read is split into lines at once */

	(void)suggested;
	*buf = uv_buf_init(j->rbuf, sizeof(j->rbuf));
}

static void build_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct job *j = s->data;
	int k = (uv_pipe_t *)s == &j->pipe[1];

	for (ssize_t i = 0; i < nread; i++) {
		char c = buf->base[i];
		if (c != '\n')
			j->buf[k][j->blen[k]++] = c;
		if (c == '\n' || j->blen[k] == LINE_MAX_BYTES) {
			job_line(j, j->buf[k], j->blen[k]);
			j->blen[k] = 0;
		}
	}
	if (nread < 0) { /* EOF or an error: the rest of the line, then close */
		if (j->blen[k])
			job_line(j, j->buf[k], j->blen[k]);
		j->blen[k] = 0;
		uv_close((uv_handle_t *)s, build_handle_closed);
	}
}

static int image_name_tag(const char *image, char *name, size_t nn, char *tag, size_t nt)
{
	const char *p = image + 6, *colon;
	size_t ln, lt;

	if (strncmp(image, "runit/", 6) || !(colon = strchr(p, ':')))
		return -1;
	ln = (size_t)(colon - p);
	lt = strlen(colon + 1);
	if (ln == 0 || ln >= nn || ln > 32 || lt == 0 || lt >= nt || lt > 128 || p[0] < 'a' ||
	    p[0] > 'z' || colon[1] == '.' || colon[1] == '-')
		return -1;
	for (size_t i = 0; i < ln; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_-", p[i]))
			return -1;
	for (size_t i = 0; i < lt; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-",
			    colon[1 + i]))
			return -1;
	memcpy(name, p, ln);
	name[ln] = '\0';
	memcpy(tag, colon + 1, lt + 1);
	return 0;
}

#define FAIL(r, ...)                                                                               \
	do {                                                                                       \
		*reason = (r);                                                                     \
		snprintf(why, n, __VA_ARGS__);                                                     \
		return -1;                                                                         \
	} while (0)

/* The image's row, free of other jobs; NULL with the reason set. */
static struct img *job_slot(struct run_images *I, const char *image, const char **reason, char *why,
			    size_t n)
{
	struct img *e;

	*reason = "CONFLICT";
	if (!I || I->stopping) {
		*reason = "UNAVAILABLE";
		snprintf(why, n, "the server is stopping");
		return NULL;
	}
	e = find_or_add(I, image);
	if (!e) {
		*reason = "INTERNAL";
		snprintf(why, n, "too many images followed");
		return NULL;
	}
	if (e->job) {
		snprintf(why, n, "a %s of this image is already running", e->job->op);
		return NULL;
	}
	return e;
}

int run_image_build(struct srv *srv, const char *image, long long by, const char **reason,
		    char *why, size_t n)
{
	struct run_images *I = srv->images;
	char name[40], tag[136];
	char *args[] = {I ? I->build_path : NULL, "--tag", tag, name, NULL};
	uv_stdio_container_t io[3];
	uv_process_options_t o = {0};
	struct img *e;
	struct job *j;
	int rc;

	if (image_name_tag(image, name, sizeof(name), tag, sizeof(tag)))
		FAIL("INVALID_PARAMS", "only images named runit/NAME:TAG are built here (from "
				       "images/NAME/recipe.sh); pull any other image");
	if (I && I->builds)
		FAIL("CONFLICT", "another image is being built: wait until it is done");
	if (I && !I->build_path[0])
		FAIL("UNAVAILABLE", "images/build is not installed with this server: pull instead");
	if (!(e = job_slot(I, image, reason, why, n)))
		return -1;
	if (!(j = job_new(I, e, "build", by)))
		FAIL("INTERNAL", "out of memory");
	io[0].flags = UV_IGNORE;
	for (int k = 0; k < 2; k++) {
		uv_pipe_init(srv->loop, &j->pipe[k], 0);
		j->pipe[k].data = j;
		io[k + 1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
		io[k + 1].data.stream = (uv_stream_t *)&j->pipe[k];
	}
	j->handles = 3;
	o.file = I->build_path;
	o.args = args;
	o.stdio = io;
	o.stdio_count = 3;
	o.exit_cb = build_exited;
	o.flags = UV_PROCESS_DETACHED; /* its own process group: shutdown ends it all */
	j->proc.data = j;
	I->builds++;
	rc = uv_spawn(srv->loop, &j->proc, &o);
	if (rc) {
		j->failed = 1;
		snprintf(j->error, sizeof(j->error), "cannot start images/build: %s",
			 uv_strerror(rc));
		uv_close((uv_handle_t *)&j->proc, build_handle_closed);
		for (int k = 0; k < 2; k++)
			uv_close((uv_handle_t *)&j->pipe[k], build_handle_closed);
		return 0; /* the job ends at once, as a failed one: the dashboard says why */
	}
	j->running = 1;
	for (int k = 0; k < 2; k++)
		uv_read_start((uv_stream_t *)&j->pipe[k], build_alloc, build_read);
	log_json(
	    LOG_INFO, "image build started",
	    json_pack("{s:s, s:I, s:i}", "image", image, "by", (json_int_t)by, "pid", j->proc.pid));
	return 0;
}

static void pull_progress(void *arg, const struct plat_progress *p)
{
	struct job *j = arg;
	char line[LINE_MAX_BYTES + 1];
	int64_t now = srv_now_ms();
	int n;

	if (!strcmp(j->last_status, p->status) && now - j->last_line_ms < PULL_LINE_EVERY_MS)
		return;
	snprintf(j->last_status, sizeof(j->last_status), "%s", p->status);
	j->last_line_ms = now;
	if (p->total > 0)
		n = snprintf(line, sizeof(line), "%s %s %lld/%lld bytes", p->status, p->id,
			     (long long)p->current, (long long)p->total);
	else
		n = snprintf(line, sizeof(line), "%s %s", p->status, p->id);
	job_line(j, line, n < 0 ? 0 : (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void pulled(void *arg, const struct plat_err *err)
{
	struct job *j = arg;

	if (err) {
		j->failed = 1;
		snprintf(j->error, sizeof(j->error), "the pull failed: %s",
			 err->code == PLAT_E_CANCELED ? "the server is stopping" : err->message);
	}
	job_finish(j);
}

int run_image_pull(struct srv *srv, const char *image, long long by, const char **reason, char *why,
		   size_t n)
{
	struct run_images *I = srv->images;
	struct img *e;
	struct job *j;

	if (I && !I->plat)
		FAIL("PLATFORM_UNAVAILABLE", "no container platform has answered yet");
	if (!(e = job_slot(I, image, reason, why, n)))
		return -1;
	if (!(j = job_new(I, e, "pull", by)))
		FAIL("INTERNAL", "out of memory");
	if (plat_ensure_image(I->plat, image, true, pull_progress, pulled, j)) {
		e->job = NULL;
		free(j);
		FAIL("PLATFORM_UNAVAILABLE", "the container platform refused the pull");
	}
	log_json(LOG_INFO, "image pull started",
		 json_pack("{s:s, s:I}", "image", image, "by", (json_int_t)by));
	return 0;
}

json_t *run_image_all(struct srv *srv)
{
	struct run_images *I = srv->images;
	json_t *all = json_array();

	for (size_t i = 0; I && i < I->n; i++) {
		struct job *j = I->v[i].job;
		json_t *job = json_null();
		if (j) {
			json_t *lines = json_array();
			unsigned first = j->ntail > JOB_TAIL ? j->ntail - JOB_TAIL : 0;
			for (unsigned k = first; k < j->ntail; k++)
				json_array_append_new(lines, json_string(j->tail[k % JOB_TAIL]));
			job = json_pack("{s:s, s:I, s:I, s:o}", "op", j->op, "by",
					(json_int_t)j->by, "age_ms",
					(json_int_t)(srv_now_ms() - j->started_ms), "lines", lines);
		}
		json_array_append_new(all,
				      json_pack("{s:s, s:s, s:o}", "image", I->v[i].image, "state",
						run_image_state_name(I->v[i].state), "job", job));
	}
	return all;
}

/* ---------- life ---------- */

/* images/build beside the binary's checkout ($RUNIT_ROOT, else three levels
 * up from build/server/run-it), if it is there. */
static void find_build(struct run_images *I)
{
	const char *root = getenv("RUNIT_ROOT");
	char exe[PATH_MAX - 32]; /* room for "/images/build" */
	ssize_t len;

	if (root && *root && strlen(root) < sizeof(exe)) {
		snprintf(I->build_path, sizeof(I->build_path), "%.*s/images/build",
			 (int)sizeof(exe) - 1, root);
	} else if ((len = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
		char *slash;
		exe[len] = '\0';
		for (int up = 0; up < 3 && (slash = strrchr(exe, '/')); up++)
			*slash = '\0';
		snprintf(I->build_path, sizeof(I->build_path), "%s/images/build", exe);
	}
	if (access(I->build_path, X_OK))
		I->build_path[0] = '\0';
}

int run_image_init(struct srv *srv)
{
	struct run_images *I = calloc(1, sizeof(*I));

	if (!I)
		return -1;
	I->srv = srv;
	find_build(I);
	srv->images = I;
	run_plat_on_round(srv, round_hook);
	return bus_on(srv, "config", on_config, I);
}

void run_image_shutdown(struct srv *srv)
{
	struct run_images *I = srv->images;

	if (!I)
		return;
	I->stopping = 1;
	for (size_t i = 0; i < I->n; i++) {
		struct job *j = I->v[i].job;
		if (!j || strcmp(j->op, "build") || !j->running)
			continue;
		/* the whole process group: images/build and its debootstrap, apt, docker */
		if (j->proc.pid > 0)
			kill(-j->proc.pid, SIGKILL);
	}
}

void run_image_release(struct srv *srv)
{
	free(srv->images);
	srv->images = NULL;
}
