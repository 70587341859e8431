/*
 * run_pool.h - the per-user resource pool of the run engine (issue 15;
 * sql/020_pool.sql): each user has a budget of CPU and memory; a run
 * reserves its runtime's CPU and memory from it when its row goes in (under
 * the per-user lock that holds the run quota, on any server instance) and
 * gives them back when its row is finished, however it ends. What is
 * reserved is the sum over the user's active run rows: no counter to drift.
 *
 * A run that does not fit is refused with POOL_FULL, naming the runs that
 * hold the pool (settings pool_full "refuse"; with "wait" the run queue
 * starts it once runit_pool_fits() says it fits). The kernel holds the pool
 * too: the user's containers go under one pool of the platform
 * (platform.h, spec.pool) with the budget as its limits.
 */
#ifndef RUNIT_RUN_POOL_H
#define RUNIT_RUN_POOL_H

#include "db.h"

#include <libpq-fe.h>

struct srv;
struct rpc_call;
struct plat_spec;

/* A run's pool as the platform sees it: the user's budget when the run
 * started (0: unlimited), and the pool's name ("u42"). set: 0 for none. */
struct run_pool {
	int set;
	long long cpu_millis, mem_bytes;
	char name[56];
};

/*
 * Insert a run row through the pool: params are runit_run_insert()'s six
 * (user, project, runtime, platform or NULL, instance, snapshot), nano_cpus
 * and mem_bytes the runtime's limits the run reserves. cb gets (id, active,
 * lim, pool) as runit_run_insert_pooled() returns them. With cands (the
 * engines that have the image, "{1,2}"; NULL or "" for none) the row goes
 * through the queue instead (runit_run_enqueue(): id, active, lim,
 * platform_id, q_position, pool). Returns db_query()'s.
 */
int run_pool_insert(struct srv *srv, const char *const params[6], const char *cands,
		    long long nano_cpus, long long mem_bytes, db_cb cb, void *arg);

/*
 * If the row did not go in because the run does not fit its user's pool,
 * answer c with POOL_FULL (the message names the projects whose runs hold
 * the pool; data: mode, budget, used, need, holders) and return 1; else 0.
 */
int run_pool_refused(struct rpc_call *c, PGresult *res);

/* The pool of a row that went in (user_id: whose), for the platform. */
void run_pool_read(struct srv *srv, PGresult *res, long long user_id, struct run_pool *out);

/* Put p into spec (pool name and limits); nothing when p is not set. */
void run_pool_spec(const struct run_pool *p, struct plat_spec *spec);

#endif
