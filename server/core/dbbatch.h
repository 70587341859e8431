/*
 * dbbatch.h - calls of one runit_* function that go to the database
 * together while it is busy. A call made while no statement of its kind is
 * out goes at once, alone (dbcall.h); calls made while one is out wait, and
 * when it returns, all those waiting go as one statement: one transaction,
 * one commit, one round trip (docs/decisions.md, "Saves").
 * Each call still gets its own answer, exactly as dbcall gives it.
 * Loop thread only.
 */
#ifndef RUNIT_DBBATCH_H
#define RUNIT_DBBATCH_H

#include "dbcall.h"

struct srv;
struct dbbatch;

/*
 * one_sql takes nparams parameters and answers one call (as dbcall);
 * many_sql takes $1, a JSON array of such parameter lists (each an array of
 * nparams strings), and answers a jsonb array of as many answers, in order.
 * A statement failure of many_sql (not the connection's) sends each call
 * alone. A statement out for wait_ms or more no longer holds the calls
 * back (0: none does; each call goes as it comes). The strings are not
 * copied: keep them. NULL on no memory.
 */
struct dbbatch *dbbatch_new(struct srv *srv, const char *one_sql, const char *many_sql, int nparams,
			    int wait_ms);
/* As dbcall(c, one_sql, nparams, params, done, arg). */
int dbbatch_call(struct dbbatch *b, struct rpc_call *c, const char *const *params, dbcall_fn done,
		 void *arg);
/* Calls still waiting fail with UNAVAILABLE; those in flight end as the
 * pool ends them. Before the pool is freed. */
void dbbatch_free(struct dbbatch *b);

#endif
