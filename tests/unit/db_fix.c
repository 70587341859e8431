/*
 * db_fix.c - an event loop with a pool on it, and one query at a time
 * through that pool, for the unit tests of server/base/db_*.c (db_fix.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "db_fix.h"

/* The pool of the fixture under test (one at a time): on_res asks it for
 * the SQLSTATE of the failure it is reporting. */
static struct db_pool *g_pool_now;

static void on_deadline(uv_timer_t *t)
{
	*(int *)t->data = 1;
}

/* Runs the loop until *counter >= want or ms pass; 0 if reached. */
int run_until(uv_loop_t *loop, const int *counter, int want, unsigned ms)
{
	uv_timer_t t;
	int expired = 0;

	uv_timer_init(loop, &t);
	t.data = &expired;
	uv_timer_start(&t, on_deadline, ms, 0);
	while (*counter < want && !expired)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return *counter >= want ? 0 : -1;
}

/* Runs the loop for ms. */
void run_for(uv_loop_t *loop, unsigned ms)
{
	int never = 0;

	run_until(loop, &never, 1, ms);
}

struct fix *fix_new(const char *conninfo, int size)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	f->pool = db_pool_new(&f->loop, conninfo, size);
	assert_non_null(f->pool);
	g_pool_now = f->pool;
	return f;
}

/* Frees the pool, lets its handles close, and proves the loop is empty. */
void fix_free(struct fix *f)
{
	db_pool_free(f->pool);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	free(f);
}

void on_res(void *arg, PGresult *res, const char *err)
{
	struct res *r = arg;

	r->done++;
	r->ok = res != NULL;
	snprintf(r->sqlstate, sizeof(r->sqlstate), "%s", db_last_sqlstate(g_pool_now));
	snprintf(r->constraint, sizeof(r->constraint), "%s", db_last_constraint(g_pool_now));
	snprintf(r->err, sizeof(r->err), "%s", err ? err : "");
	if (res && PQntuples(res) > 0 && PQnfields(res) > 0) {
		r->isnull = PQgetisnull(res, 0, 0);
		snprintf(r->val, sizeof(r->val), "%s", PQgetvalue(res, 0, 0));
	}
}

/* Runs one query through the pool and waits for it. */
void q(struct fix *f, struct res *r, const char *sql, int n, const char *const *params)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(db_query(f->pool, sql, n, params, on_res, r), 0);
	assert_int_equal(run_until(&f->loop, &r->done, 1, 15000), 0);
}
