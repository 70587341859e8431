/*
 * run.c - the run lifecycle (run.h): create a hardened container whose
 * /workspace and /tmp are capped RAM filesystems, attach, start it (its
 * command waits for one line on stdin), put the saved files into its fresh
 * workspace, let the program go, take its output in (first byte, build
 * marker, output limit), enforce the wall clock, and always end with the
 * container removed (or handed to run_sweep.c), the row finished and one
 * run/exit sent. Output on its way out is in run_stream.c, the start request
 * (loading, saving, slot claiming) in run_start.c, warm containers in
 * run_warm.c, stopping the container in run_kill.c.
 */
#include "run_int.h"
#include "run_image.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "room.h"
#include "srv.h"
#include "bus.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

/* output is coalesced for at most this long before a run/log goes out */
#define FLUSH_MS 5
/* the most of one run/log: large output goes in fewer, larger frames (the
 * cost is per frame: one send per reader) */
#define RUN_CHUNK_MAX (64 * 1024)

/* ---------- ending ---------- */

static void finalize(struct run *r);
static void feed(struct run *r, int stream, const char *buf, size_t len);
static void on_wall(uv_timer_t *t);

/* Once nothing is pending: finalize(), then, once what it stored is in too,
 * the row's finish. */
static void maybe_finalize(struct run *r)
{
	if (!r->ending || r->pending || r->row_ending)
		return;
	if (!r->finalized) {
		finalize(r);
	} else {
		r->row_ending = 1;
		run_finish_db(r);
	}
}

void run_op_done(struct run *r)
{
	r->pending--;
	maybe_finalize(r);
}

/*
 * Begin the end of a run with this reason (the first reason wins). The
 * container is killed if it exists; finalize() runs once nothing is pending.
 */
void run_end(struct run *r, const char *reason, const char *message)
{
	run_end_code(r, reason, NULL, message);
}

void run_end_code(struct run *r, const char *reason, const char *code, const char *message)
{
	if (r->ending) {
		maybe_finalize(r);
		return;
	}
	r->ending = 1;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	snprintf(r->code, sizeof(r->code), "%s", code ? code : "");
	if (message)
		snprintf(r->message, sizeof(r->message), "%s", message);
	uv_timer_stop(&r->wall);
	run_pace_stop(r); /* a stopped program's output is not waited for */
	if (r->state != RS_QUEUED)
		run_set_state(r, RS_STOPPING);
	if (r->cid[0] && !r->exited) {
		r->pending++;
		run_kill(r);
	}
	maybe_finalize(r);
}

void run_cancel(struct run *r, const char *reason, const char *message)
{
	run_end(r, reason, message);
}

static void close_timer_cb(uv_handle_t *h)
{
	struct run *r = h->data;

	if (--r->handles_open == 0) {
		runout_release(&r->out);
		run_ring_clear(r);
		json_decref(r->run_cmd);
		json_decref(r->build_cmd);
		json_decref(r->env);
		json_decref(r->snapshot);
		free(r->held);
		free(r->marker_scan); /* a build that printed no marker */
		free(r->watchers);
		/* a run with much output left freed memory glibc would keep */
		if (r->out_bytes > (1 << 20))
			malloc_trim(0);
		free(r);
	}
}

/* The row is finished and the container gone: close the timers, then free. */
static void run_free(struct run *r)
{
	uv_timer_stop(&r->flush);
	uv_close((uv_handle_t *)&r->wall, close_timer_cb);
	uv_close((uv_handle_t *)&r->flush, close_timer_cb);
	uv_close((uv_handle_t *)&r->pace, close_timer_cb);
	uv_close((uv_handle_t *)&r->next_due, close_timer_cb);
}

static void removed(void *arg, const struct plat_err *err)
{
	struct run *r = arg;

	if (err) {
		log_json(LOG_WARN, "removing a container failed",
			 json_pack("{s:I, s:I, s:s, s:s}", "run_id", (json_int_t)r->id, "user_id",
				   (json_int_t)r->user_id, "container", r->cid, "error",
				   err->message));
		if (err->code != PLAT_E_CANCELED) /* tried again until it answers */
			run_sweep_add(r->eng, r->plat, r->cid);
	}
	metrics_run_container(&r->mx, 0);
	r->removing = 0;
	r->eng->removing--;
	if (r->released && !r->wait_open)
		run_free(r);
}

static void remove_container(struct run *r)
{
	r->remove_on_exit = 0;
	uv_timer_stop(&r->wall);
	if (plat_remove(r->plat, r->cid, removed, r) == 0) {
		r->removing = 1;
		r->eng->removing++;
	} else {
		run_sweep_add(r->eng, r->plat, r->cid);
	}
}

static void on_remove_due(uv_timer_t *t)
{
	remove_container(t->data);
}

/*
 * Everything has stopped: flush; once that output is stored, the row is
 * finished with its run/exit stored (run/exit goes out after: run/logs then
 * has all of it) while the container is removed: the program's exit, not
 * the engine's teardown, ends the run for its user, and the slot is free
 * for the next run at once. The run is freed once both are done.
 *
 * A run that ended on the wrapper's notice has a container that is exiting
 * by itself: it is removed once the engine's wait (still open) says so, not
 * at once, which would have the engine kill it on the way out (one more
 * runtime call and teardown path for every run: docs/decisions.md, "A
 * container that exits by itself is not killed").
 */
static void finalize(struct run *r)
{
	r->finalized = 1;
	if (r->marker_len && !r->exit_sent) /* a build's output with no marker */
		feed(r, 1, r->marker_scan, r->marker_len);
	r->marker_len = 0;
	runout_flush(&r->out, 1);
	if (r->cid[0] && r->wait_dropped && r->wait_open && !r->eng->srv->stopping) {
		r->remove_on_exit = 1;
		uv_timer_start(&r->wall, on_remove_due, RUN_REMOVE_AFTER_EXIT_MS, 0);
	} else if (r->cid[0]) {
		remove_container(r);
	}
	maybe_finalize(r);
}

/* Called by run_stream.c once the row is finished: run/exit out, slot freed,
 * memory freed (once the container is gone too). */
void run_release(struct run *r)
{
	struct run_engine *eng = r->eng;

	if (r->id) { /* else a warm container that no run adopted */
		if (!r->exit_sent)
			run_emit_exit(r);
		bus_publish(eng->srv, "run", "ended",
			    json_pack("{s:I, s:I, s:s, s:I, s:s, s:s, s:o, s:I}", "run",
				      (json_int_t)r->id, "user", (json_int_t)r->user_id, "username",
				      r->username, "project", (json_int_t)r->project_id, "runtime",
				      r->runtime_code, "reason", r->reason, "exit_code",
				      r->have_exit ? json_integer(r->exit_code) : json_null(),
				      "output_bytes", (json_int_t)r->out_bytes));
	}
	run_unlink(r);
	eng->slot_released(eng, r);
	r->released = 1;
	if (!r->removing && !r->wait_open)
		run_free(r);
}

/* ---------- output in: first byte, the build marker, the limit ---------- */

static void on_flush(uv_timer_t *t)
{
	struct run *r = t->data;

	runout_flush(&r->out, 0);
}

static void feed(struct run *r, int stream, const char *buf, size_t len)
{
	long long room = r->output_limit - r->out_bytes;

	if (r->ending && !strcmp(r->reason, "output_limit"))
		return;
	if ((long long)len > room) {
		len = room > 0 ? (size_t)room : 0;
		if (len)
			runout_feed(&r->out, stream, buf, len);
		r->out_bytes += (long long)len;
		runout_flush(&r->out, 1);
		char msg[96];
		snprintf(msg, sizeof(msg), "output limit of %lld bytes reached", r->output_limit);
		run_end(r, "output_limit", msg);
		return;
	}
	r->out_bytes += (long long)len;
	runout_feed(&r->out, stream, buf, len);
	if (runout_pending(&r->out) && !uv_is_active((uv_handle_t *)&r->flush))
		uv_timer_start(&r->flush, on_flush, FLUSH_MS, 0);
}

/* While building, stdout is searched for the wrapper's marker line: what
 * comes before it is build output, what comes after is the program's. The
 * line ends with "\n", or "\r\n" through a terminal (ONLCR). */
static void scan_marker(struct run *r, const char *buf, size_t len)
{
	size_t ml = strlen(r->marker), keep, end = 0, nl = 0;
	char *p = realloc(r->marker_scan, r->marker_len + len + 1);
	char *hit;

	if (!p)
		return;
	r->marker_scan = p;
	memcpy(p + r->marker_len, buf, len);
	r->marker_len += len;
	p[r->marker_len] = '\0';
	hit = memmem(p, r->marker_len, r->marker, ml);
	end = hit ? (size_t)(hit - p) + ml : 0;
	if (hit && end < r->marker_len && p[end] == '\n')
		nl = 1;
	else if (hit && end + 1 < r->marker_len && p[end] == '\r' && p[end + 1] == '\n')
		nl = 2;
	if (nl) {
		size_t before = (size_t)(hit - p), after = end + nl;
		feed(r, 1, p, before);
		runout_flush(&r->out, 0);
		r->build_done = 1;
		run_set_running(r);
		if (!r->ending) /* the run's limit counts from the end of the build */
			uv_timer_start(&r->wall, on_wall, (uint64_t)r->wall_ms, 0);
		feed(r, 1, p + after, r->marker_len - after);
		free(r->marker_scan);
		r->marker_scan = NULL;
		r->marker_len = 0;
		return;
	}
	keep = r->marker_len < ml + 2 ? r->marker_len : ml + 2;
	feed(r, 1, p, r->marker_len - keep);
	memmove(p, p + r->marker_len - keep, keep);
	r->marker_len = keep;
}

/* Output of the program's, the notice taken out. */
static void take(struct run *r, enum plat_stream stream, const char *buf, size_t len)
{
	int first = r->t_first_byte < 0;

	if (!len || r->finalized || r->exit_sent)
		return;
	if (first) {
		r->t_first_byte = srv_now_ms() - r->t_created;
		metrics_run_first_byte(&r->mx, srv_now_ms());
	}
	if (r->build_cmd && !r->build_done && stream == PLAT_STDOUT)
		scan_marker(r, buf, len);
	else
		feed(r, stream == PLAT_STDERR ? 2 : 1, buf, len);
	if (first) {
		/* the first output goes out now, not FLUSH_MS later; then the
		 * engine gets the replaced run's kill, whose work would delay
		 * it, and the next containers wait for light output
		 * (docs/decisions.md, "Run again") */
		runout_flush(&r->out, 0);
		run_kill_replaced(r);
	}
	run_next_output(r, first, len);
}

static void take_stdout(void *arg, const char *buf, size_t len)
{
	take(arg, PLAT_STDOUT, buf, len);
}

static void take_stderr(void *arg, const char *buf, size_t len)
{
	take(arg, PLAT_STDERR, buf, len);
}

static void noticed(struct run *r);

static void run_on_output(void *arg, enum plat_stream stream, const char *buf, size_t len)
{
	struct run *r = arg;

	if (!len || r->finalized || !r->id) /* nothing counts before a run adopts it */
		return;
	if (r->tty && !r->tty_live) { /* a terminal: the wrapper's line goes */
		size_t k = run_input_skip(r, buf, len);
		buf += k;
		if (!(len -= k))
			return;
	}
	if (!r->go_sent)
		take(r, stream, buf, len);
	else if (stream == PLAT_STDOUT && run_notice_feed(&r->notice, buf, len, take_stdout, r))
		noticed(r);
	else if (stream == PLAT_STDERR && run_notice_feed(&r->notice_err, buf, len, take_stderr, r))
		noticed(r);
}

/* ---------- the container ---------- */

/*
 * The platform failed at what: the run ends with reason error and a message
 * of ours. The engine's own words (which may name hosts, paths and ids) go
 * to the log, for admins, not to the user.
 */
static void plat_failed(struct run *r, const char *what, const struct plat_err *err)
{
	char msg[sizeof(r->message)];

	if (r->ending) /* e.g. the kill of a cancel cut it short */
		return;
	log_json(LOG_WARN, what,
		 json_pack("{s:I, s:I, s:s, s:s, s:i}", "run_id", (json_int_t)r->id, "user_id",
			   (json_int_t)r->user_id, "image", r->image, "error", err->message,
			   "http_status", err->http_status));
	snprintf(msg, sizeof(msg), "%s (%s)", what, plat_strerror(err->code));
	/* the engine is gone: down at once, its runs end saying so (run_queue.c) */
	if (err->code == PLAT_E_UNAVAILABLE || err->code == PLAT_E_IO)
		run_plat_mark_down(r->eng->srv, r->platform_id, err->message);
	run_end(r, "error", msg);
}

static void on_wall(uv_timer_t *t)
{
	struct run *r = t->data;
	char msg[64];

	if (r->build_cmd && !r->build_done) {
		snprintf(msg, sizeof(msg), "the build timed out after %.1f s",
			 (double)r->build_wall_ms / 1000.0);
		run_end(r, "build_timeout", msg);
		return;
	}
	snprintf(msg, sizeof(msg), "timed out after %.1f s", (double)r->wall_ms / 1000.0);
	run_end(r, "timeout", msg);
}

/*
 * The container ended (exit_seen) and, with a build not known to be done,
 * its output ended too (the marker may arrive after the engine's answer to
 * wait): why. A build that ended without its marker failed; its output,
 * the compiler's messages, is the run's log.
 */
static void ended(struct run *r)
{
	char msg[64];

	if (r->oom_killed) {
		run_end(r, "oom", "out of memory");
	} else if (r->go_sent && r->id && r->build_cmd && !r->build_done) {
		snprintf(msg, sizeof(msg), "the build failed (exit code %d)", r->exit_code);
		run_end(r, "build_failed", msg);
	} else if (r->go_sent || !r->id) {
		run_end(r, "exited", NULL);
	} else {
		run_end(r, "error", "the container ended before the program started");
	}
}

static void waited(void *arg, const struct plat_exit *ex, const struct plat_err *err)
{
	struct run *r = arg;

	r->wait_open = 0;
	if (r->wait_dropped) { /* the run ended on the notice (noticed()) */
		r->eng->removing--;
		if (r->remove_on_exit) /* it exited: finalize() left it for now */
			remove_container(r);
		if (r->released && !r->removing)
			run_free(r);
		return;
	}
	r->exited = 1;
	if (err) {
		plat_failed(r, "lost the container", err);
	} else {
		r->exit_code = ex->exit_code;
		r->have_exit = r->go_sent; /* before "go" no program of the user ran */
		r->oom_killed = ex->oom_killed;
		r->exit_seen = 1;
		if (r->go_sent && r->id)
			metrics.runs_exit_wait_total++;
		if (!r->build_cmd || r->build_done || r->attach_ended || !r->att)
			ended(r);
	}
	run_op_done(r);
}

static void go_written(void *arg, const struct plat_err *err)
{
	struct run *r = arg;

	if (err && !r->ending)
		run_end(r, "error", "the program's input closed before it started");
	run_op_done(r);
}

/* Files whose tar is under this size go down stdin with the "go" line
 * (platform.h: at most 1 MiB may wait there; a terminal's are base64, a
 * third larger); larger ones by the archive call first. */
#define STDIN_FILES_MAX(r) ((r)->tty ? 640 * 1024 : 768 * 1024)

/* The files are in, or go with it: write "go", the files, the environment;
 * the program runs from here. */
static void let_go(struct run *r, const void *tar, size_t tar_len)
{
	char *buf;
	size_t len;

	if (run_build_payload(r, tar, tar_len, &buf, &len)) {
		run_end(r, "error", "cannot pack the project's files");
		return;
	}
	if (!r->att || plat_write_stdin(r->att, buf, len, go_written, r)) {
		sodium_memzero(buf, len);
		free(buf);
		run_end(r, "error", "the container does not answer");
		return;
	}
	sodium_memzero(buf, len); /* copied by the platform; it holds secrets */
	free(buf);
	r->pending++;
	r->go_sent = 1;
	run_input_flush(r); /* what run/stdin sent meanwhile */
	r->t_started = srv_now_ms();
	metrics_run_started(&r->mx, r->t_started);
	run_publish_started(r);
	run_next_go(r);
	run_set_state(r, r->build_cmd ? RS_BUILDING : RS_RUNNING);
	if (!r->ending) /* ending: its kill is on its way, or waits on the timer */
		uv_timer_start(&r->wall, on_wall,
			       (uint64_t)(r->build_cmd ? r->build_wall_ms : r->wall_ms), 0);
}

/* Large files went in by the archive call: now "go" and the environment. */
static void files_put(void *arg, const struct plat_err *err)
{
	struct run *r = arg;

	free(r->tar);
	r->tar = NULL;
	if (err)
		plat_failed(r, "cannot copy the files into the container", err);
	else if (!r->ending)
		let_go(r, NULL, 0);
	run_op_done(r);
}

/*
 * A run owns a started container whose program waits for "go": its files
 * go into its still empty workspace (no user code has run in it), down its
 * stdin with its environment (docs/decisions.md, "Files and environment
 * down stdin"), and the program goes. The workspace is a RAM filesystem that
 * exists only while the container runs, so the files cannot go in before
 * the start (platform.h, THE WORKSPACE DECISION).
 */
static void first_sized(void *arg, const struct plat_err *err);

static void put_files_and_go(struct run *r)
{
	/* a terminal gets the console's size first: the program may read it at once */
	if (r->tty && !r->sizable) {
		r->sizable = 1;
		if (run_input_sync_then(r, first_sized) == 0)
			return;
	}
	run_build_go_line(r);
	if (run_build_tar(r, &r->tar, &r->tar_len)) {
		run_end(r, "error", "cannot pack the project's files");
		return;
	}
	if (r->tar_len <= STDIN_FILES_MAX(r)) {
		let_go(r, r->tar, json_object_size(r->snapshot) ? r->tar_len : 0);
		free(r->tar);
		r->tar = NULL;
		return;
	}
	r->pending++;
	if (plat_put_files(r->plat, r->cid, "/workspace", r->tar, r->tar_len, files_put, r)) {
		r->pending--;
		free(r->tar);
		r->tar = NULL;
		run_end(r, "error", "cannot copy the files into the container");
	}
}

static void first_sized(void *arg, const struct plat_err *err)
{
	struct run *r = arg;

	run_input_sized(r, err); /* a failure leaves the size as it was */
	if (!r->ending)
		put_files_and_go(r);
	run_op_done(r);
}

static void started(void *arg, const struct plat_err *err)
{
	struct run *r = arg;

	if (err) {
		plat_failed(r, "cannot start the container", err);
		run_op_done(r);
		return;
	}
	r->started = 1;
	r->waiting = !r->ending;
	/* ended while its start was on its way (maybe in the engine's gate): the
	 * stop found nothing running; stop it now unless its kill waits (timer) */
	if (r->ending && !r->exited && r->kill_later != 2) {
		r->pending++;
		run_kill_now(r);
	}
	if (r->waiting && r->id) /* a run owns it: a fresh start, or adopted while starting */
		put_files_and_go(r);
	r->pending++;
	r->wait_open = 1;
	if (plat_wait(r->plat, r->cid, waited, r)) {
		r->pending--;
		r->wait_open = 0;
		run_end(r, "error", "cannot wait for the container");
	}
	run_op_done(r);
}

static void att_ready(void *arg)
{
	struct run *r = arg;

	if (r->ending)
		return;
	r->pending++;
	if (plat_start(r->plat, r->cid, started, r)) {
		r->pending--;
		run_end(r, "error", "cannot start the container");
	}
}

/*
 * The wrapper's notice (run_notice.h): the program exited with this code.
 * Once every byte before it is in (the output ended, or the notice came on
 * each stream: through pipes stdout and stderr are two) the run ends
 * without waiting for the engine's teardown. 137 (SIGKILL) may be the
 * kernel's OOM killer, which only the engine's answer tells apart: that one
 * waits for it.
 */
static int notice_ends(const struct run *r)
{
	int all_in = r->attach_ended || r->tty || r->notice_err.seen;

	return r->notice.seen && all_in && r->notice.code != 137 && !r->ending && !r->exit_seen &&
	       r->id;
}

static void end_on_notice(struct run *r)
{
	r->exit_code = r->notice.code;
	r->have_exit = 1;
	r->exit_seen = 1;
	r->exited = 1; /* the wrapper is gone: nothing to stop */
	if (r->wait_open && !r->wait_dropped) {
		r->wait_dropped = 1;
		r->pending--;
		r->eng->removing++; /* shutdown waits for it as for a removal */
	}
	if (r->att && !r->attach_ended) /* its end (canceled) lets finalize() run */
		plat_detach(r->att);
	metrics.runs_exit_notice_total++;
	ended(r);
}

static void noticed(struct run *r)
{
	if (notice_ends(r))
		end_on_notice(r);
}

static void att_end(void *arg, const struct plat_err *err)
{
	struct run *r = arg;

	r->attach_ended = 1;
	r->att = NULL;
	if (r->id) {
		run_notice_flush(&r->notice, take_stdout, r);
		run_notice_flush(&r->notice_err, take_stderr, r);
	}
	if (err && err->code != PLAT_E_CANCELED)
		plat_failed(r, "lost the container's output", err);
	else if (r->exit_seen && !r->ending)
		ended(r);
	else if (notice_ends(r))
		end_on_notice(r);
	run_op_done(r);
}

static void created(void *arg, const char *id, const struct plat_err *err)
{
	static const struct plat_attach_cbs cbs = {att_ready, run_on_output, att_end};
	struct run *r = arg;
	char msg[sizeof(r->message)];

	if (err && err->code == PLAT_E_NOT_FOUND && !r->ending) {
		log_json(LOG_WARN, "the runtime's image is missing",
			 json_pack("{s:I, s:s, s:s}", "run_id", (json_int_t)r->id, "image",
				   r->image, "error", err->message));
		snprintf(msg, sizeof(msg),
			 "the runtime's image %.160s is not on the container platform: an admin "
			 "must build or pull it",
			 r->image);
		run_image_gone(r->eng->srv, r->plat, r->image);
		run_end(r, "error", msg);
	} else if (err) {
		plat_failed(r, "cannot create the container", err);
	}
	if (err) {
		run_op_done(r);
		return;
	}
	snprintf(r->cid, sizeof(r->cid), "%s", id);
	metrics_run_container(&r->mx, 1);
	if (r->id)
		run_db_set_container(r);
	if (r->ending) { /* cancelled while being created: remove it */
		run_op_done(r);
		return;
	}
	/* attach first: once ready it starts; its program waits for "go" */
	r->pending++;
	if (plat_attach(r->plat, r->cid, PLAT_ATTACH_STDIN | (r->tty ? PLAT_ATTACH_TTY : 0), &cbs,
			r, &r->att)) {
		r->pending--;
		run_end(r, "error", "cannot attach to the container");
	}
	run_op_done(r);
}

/*
 * Create, attach and start a container for r (a run whose row exists, or a
 * warm container): its program waits for "go", which comes once a run owns
 * it and its files are in.
 */
void run_launch(struct run *r)
{
	struct plat_spec spec = {0};
	const char *argv[600];
	const char *envv[8];
	struct plat_label labels[5];
	char name[128], uid[24], pid[24], rid[24];
	size_t ne = 0;

	run_set_state(r, RS_STARTING);
	if (r->eng->srv->stopping) { /* run_engine_shutdown() ended the others */
		run_end(r, "error", "the server is shutting down");
		return;
	}
	if (run_build_argv(r, argv, sizeof(argv) / sizeof(argv[0]))) {
		run_end(r, "error", "the runtime has no run command");
		return;
	}
	envv[ne++] = "HOME=/tmp";
	envv[ne++] = "PATH=/usr/local/bin:/usr/bin:/bin";
	envv[ne++] = "LANG=C.UTF-8";
	if (run_build_cached(r)) /* build caches (Go's GOCACHE) */
		envv[ne++] = "XDG_CACHE_HOME=/cache";
	/* the project's variables (its secrets) come down stdin with "go",
	 * never in the container's configuration: a container is created
	 * before it knows its run (run_prep.c) */
	envv[ne] = NULL;
	snprintf(uid, sizeof(uid), "%lld", r->user_id);
	snprintf(pid, sizeof(pid), "%lld", r->project_id);
	if (r->id)
		snprintf(rid, sizeof(rid), "%lld", r->id);
	else
		snprintf(rid, sizeof(rid), "%s", r->prep ? "prepared" : "warm");
	labels[0] = (struct plat_label){"run-it.instance", r->eng->srv->cfg.instance};
	labels[1] = (struct plat_label){"run-it.run", rid};
	labels[2] = (struct plat_label){"run-it.user", uid};
	labels[3] = (struct plat_label){"run-it.project", pid};
	/* which process of the instance made it: reconciliation (run_sweep.c) */
	labels[4] = (struct plat_label){"run-it.process", r->eng->process};
	snprintf(name, sizeof(name), "runit-%s-run-%lld", r->eng->srv->cfg.instance, r->id);

	spec.name = r->id ? name : NULL;
	spec.image = r->image;
	spec.argv = argv;
	spec.env = envv;
	spec.workdir = "/workspace";
	spec.user = "1000:1000";
	spec.workspace = "/workspace";
	if (run_build_cached(r)) { /* the project's own; never the workspace */
		spec.volume = r->cache_vol;
		spec.volume_path = "/cache";
	}
	run_build_limits(r, &spec);
	spec.labels = labels;
	spec.nlabels = 5;

	r->pending++;
	if (plat_create(r->plat, &spec, created, r)) {
		r->pending--;
		run_end(r, "error", "cannot create the container");
	}
}

/* ---------- adopting a warm container (run_warm.c) ---------- */

/*
 * A run adopted a warm container (created, attached, started or starting,
 * its program waiting on stdin): once it waits, put the files into its
 * still empty workspace and let it go.
 */
void run_launch_adopted(struct run *r)
{
	uv_timer_stop(&r->wall);
	run_set_state(r, RS_STARTING);
	if (r->cid[0]) { /* else created() records it */
		metrics_run_container(&r->mx, 1);
		run_db_set_container(r);
	}
	if (r->waiting)
		put_files_and_go(r); /* else started() does, once it waits */
}

struct run *run_new(struct run_engine *eng)
{
	struct run *r = calloc(1, sizeof(*r));
	unsigned char token[RUN_NOTICE_TOKEN_LEN / 2];

	if (!r)
		return NULL;
	r->eng = eng;
	r->t_created = srv_now_ms();
	r->t_first_byte = -1;
	uv_timer_init(eng->srv->loop, &r->wall);
	uv_timer_init(eng->srv->loop, &r->flush);
	uv_timer_init(eng->srv->loop, &r->pace);
	uv_timer_init(eng->srv->loop, &r->next_due);
	r->wall.data = r->flush.data = r->pace.data = r->next_due.data = r;
	r->handles_open = 4;
	runout_init(&r->out, RUN_CHUNK_MAX, run_on_chunk, r);
	randombytes_buf(token, sizeof(token));
	sodium_bin2hex(r->notice_token, sizeof(r->notice_token), token, sizeof(token));
	run_notice_init(&r->notice, r->notice_token);
	run_notice_init(&r->notice_err, r->notice_token);
	randombytes_buf(r->marker_raw, sizeof(r->marker_raw));
	snprintf(r->marker, sizeof(r->marker),
		 "\x1e"
		 "run-it-build-done-%08x%08x",
		 r->marker_raw[0], r->marker_raw[1]);
	r->next = eng->runs;
	eng->runs = r;
	return r;
}
