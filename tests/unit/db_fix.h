/*
 * db_fix.h - an event loop with a pool on it, and one query at a time
 * through that pool, for the unit tests of server/base/db_*.c.
 */
#ifndef RUNIT_TEST_DB_FIX_H
#define RUNIT_TEST_DB_FIX_H

#include <libpq-fe.h>
#include <uv.h>

#include "db.h"

struct fix {
	uv_loop_t loop;
	struct db_pool *pool;
};

/* One query's outcome. */
struct res {
	int done;
	int ok;
	char val[256];
	int isnull;
	char sqlstate[6];
	char constraint[64];
	char err[256];
};

/* Runs the loop until *counter >= want or ms pass; 0 if reached. */
int run_until(uv_loop_t *loop, const int *counter, int want, unsigned ms);
/* Runs the loop for ms. */
void run_for(uv_loop_t *loop, unsigned ms);
/* A loop and a pool of size connections to conninfo on it. */
struct fix *fix_new(const char *conninfo, int size);
/* Frees the pool, lets its handles close, and proves the loop is empty. */
void fix_free(struct fix *f);
/* db_cb: fills the struct res at arg. */
void on_res(void *arg, PGresult *res, const char *err);
/* Runs one query through the pool and waits for it. */
void q(struct fix *f, struct res *r, const char *sql, int n, const char *const *params);

#endif
