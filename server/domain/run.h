/*
 * run.h - the run engine: one execution of a project's saved code in a fresh
 * container, from run/start to run/exit (DESIGN.md section 3).
 *
 * At most one active run per (user, project): a new start cancels the
 * active one (reason "replaced") and begins only once its container is gone;
 * the database's one_active_run index holds the same rule across server
 * instances (a start that meets another instance's run asks it to cancel
 * through NOTIFY runit_run_cancel). Output is coalesced (run_out.h), given a
 * per-run sequence number, sent to every session watching the project, kept
 * in a bounded ring for run/attach and stored in run_logs for history.
 * Nothing above platforms/ knows which container engine runs the code.
 */
#ifndef RUNIT_RUN_H
#define RUNIT_RUN_H

#include <stdint.h>
#include <jansson.h>

struct srv;
struct rpc_call;
struct run;
struct run_engine;

/* Set up platforms, LISTEN for cross-instance cancels, reconcile leftovers. */
int run_engine_init(struct srv *srv);
/* Cancel every run and free (containers are removed asynchronously; the
 * caller runs the loop a little longer). */
void run_engine_shutdown(struct srv *srv);
/* Active runs of this server on a platform (platforms.id). */
#include <stddef.h>
size_t run_count_on_platform(struct srv *srv, long long platform_id);
/* 1 while runs are alive or starts are under way. */
int run_engine_busy(struct srv *srv);

/* A run of this server by id, or NULL. */
struct run *run_find(struct srv *srv, long long run_id);
long long run_id(const struct run *r);
long long run_user(const struct run *r);
long long run_project(const struct run *r);

/* Ask a run to end: reason is "stopped", "replaced", "cancelled", "timeout"... */
void run_cancel(struct run *r, const char *reason, const char *message);

/* Cancel every run (and warm container) of a project on this server; code:
 * the reason code (run/exit's code, runs.end_code), or NULL. */
void run_cancel_project(struct srv *srv, long long project_id, const char *reason, const char *code,
			const char *message);
/* Sessions watching a live run of the project (its starter, run/attach
 * callers): up to max ids into out; returns how many there are. */
size_t run_project_watchers(struct srv *srv, long long project_id, uint64_t *out, size_t max);
/* The session stops watching every run of the project (its access went). */
void run_unwatch_project(struct srv *srv, long long project_id, uint64_t sess_id);
/* Cancel every run and start under way of a user on this server: the
 * account was disabled (cancelled, user_disabled). */
void run_cancel_user(struct srv *srv, long long user_id);
/* Cancel the runs and starts on this server of every user whose account is
 * disabled (a disable this server may not have heard of: access_watch.c). */
void run_cancel_disabled(struct srv *srv);

/* Visit active runs (admin dashboard). */
void run_foreach(struct srv *srv, void (*fn)(struct run *, void *), void *arg);
json_t *run_describe(const struct run *r);

/* Methods (h_run.c uses these). run/attach and run/logs: the run's events
 * from from_seq on, live or stored (run_stream.c). */
void run_replay(struct srv *srv, struct rpc_call *c, long long run_id, long long from_seq);
/* tty: the program gets a terminal of rows x cols (1..1000); else pipes. */
struct run_term {
	int tty;
	unsigned rows, cols;
};
/* files: the unsaved buffers {path: text}, already checked (names valid and
 * in NFC, at most 200, each a string: h_run.c), or NULL. */
void run_start(struct rpc_call *c, long long project_id, json_t *files,
	       const struct run_term *term);
/* Input for the run's program; before the program starts it is held (at
 * most 1 MiB) and written once it does. eof closes a pipe; a terminal gets
 * Ctrl+D. 0, or a negative PLAT_E_* code: PLAT_E_AGAIN too much waits,
 * PLAT_E_CLOSED the input is closed (run_input.c). */
int run_stdin(struct run *r, const char *data, size_t len, int eof);
/* The console's new size (run/resize): PLAT_E_UNSUPPORTED without a
 * terminal, PLAT_E_CLOSED once the run ends. */
int run_resize(struct run *r, unsigned rows, unsigned cols);

#endif
