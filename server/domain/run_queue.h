/*
 * run_queue.h - several container engines: where a run goes, and the fair
 * queue of the runs no engine has room for (README "Several engines",
 * sql/019_engines.sql). The counts and the queue are in PostgreSQL, so they
 * hold across server instances; this file is one instance's part: the
 * engines that can take a run (up, with its image), the runs of this
 * instance that wait (their position told to their watchers), launching
 * them once placed, and ending the runs of an engine that went away.
 * Part of the run engine (run_int.h lists its order): above run_warm.c,
 * below run_start.c.
 */
#ifndef RUNIT_RUN_QUEUE_H
#define RUNIT_RUN_QUEUE_H

#include "run_plat.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

struct run;
struct run_engine;
struct srv;

#define RUN_QUEUE_MAX_PLATS 64

/* The engines a run of an image may go to, as this instance sees them. */
struct run_cands {
	int builtin;	/* no platform row: the built-in engine, no queue */
	size_t up;	/* enabled platforms that answered their last ping */
	size_t missing; /* of those, how many lack the image */
	char ids[1024]; /* the others, as a PostgreSQL array "{1,2}" */
	size_t n;	/* how many ids */
};

typedef void (*run_cands_cb)(void *arg, const struct run_cands *c);
/* Look image up on every up engine (an image inspect each, in parallel);
 * cb runs once, later. Non-zero when it cannot start (cb never runs). */
int run_queue_candidates(struct srv *srv, const char *image, run_cands_cb cb, void *arg);

/* runit_run_enqueue()'s answer (id, active, lim, platform_id, q_position):
 * 0 when placed (*rp is its platform), the position (from 1) when it
 * waits, -1 when placed on a platform this instance does not list. */
long long run_queue_placed(struct srv *srv, PGresult *res, struct run_platform *rp);

/* r (with a row, not placed) waits at position (from 1; else nothing
 * happens): run/start's answer gets the position, r's watchers are told it
 * as it changes (run/status queued, position); r is launched once placed. */
void run_queue_wait(struct run *r, long long position, json_t *answer);

/* Pure: put the digits of ids[0..n) into out as "{1,2,3}" (cap bytes);
 * -1 when it does not fit. */
int run_queue_ids_text(const long long *ids, size_t n, char *out, size_t cap);

int run_queue_start(struct run_engine *eng, unsigned interval_ms);
void run_queue_stop(struct run_engine *eng);

#endif
