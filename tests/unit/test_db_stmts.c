/*
 * test_db_stmts.c - statements prepared by the pool's connections
 * (server/base/db_conn.c) against a live PostgreSQL: RUNIT_DATABASE_URL,
 * normally the private cluster of scripts/lib/pg.sh.
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
#include "pg_blocking.h"

static const char *g_url; /* RUNIT_DATABASE_URL */

/* A statement is prepared on a connection the first time it is sent there
 * and executed by name afterwards; a new connection prepares it again. */
static void statements_are_prepared_once_a_connection(void **state)
{
	struct fix *f = fix_new(g_url, 1);
	struct res r;
	const char *one[1] = {"1"}, *zero[1] = {"0"}, *five[1] = {"5"}, *big[1] = {"41"};
	char sql[320];
	int i;

	(void)state;
	q(f, &r, "SELECT $1::int + 1", 1, one);
	assert_string_equal(r.val, "2");
	q(f, &r, "SELECT $1::int + 1", 1, big);
	assert_string_equal(r.val, "42");
	q(f, &r,
	  "SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT $1::int + 1'", 0,
	  NULL);
	assert_string_equal(r.val, "1");
	/* an error when executing a prepared statement, then the same one works */
	q(f, &r, "SELECT 10 / $1::int", 1, zero);
	assert_false(r.ok);
	assert_string_equal(r.sqlstate, "22012");
	q(f, &r, "SELECT 10 / $1::int", 1, five);
	assert_string_equal(r.val, "2");
	/* an error when preparing: the query's error, and the connection goes on */
	q(f, &r, "SELEKT $1::int", 1, one);
	assert_false(r.ok);
	assert_string_equal(r.sqlstate, "42601");
	q(f, &r, "SELECT $1::int + 1", 1, five);
	assert_string_equal(r.val, "6");

	/* a connection that is replaced forgets what the old one prepared */
	q(f, &r, "SELECT pg_backend_pid()", 0, NULL);
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%s)", r.val);
	exec_blocking(g_url, sql);
	for (i = 0; i < 50; i++) {
		q(f, &r, "SELECT $1::int + 1", 1, one);
		if (r.ok)
			break;
		run_for(&f->loop, 200);
	}
	assert_true(r.ok);
	assert_string_equal(r.val, "2");
	q(f, &r, "SELECT count(*) FROM pg_prepared_statements", 0, NULL);
	assert_string_equal(r.val, "2"); /* that one and this one */
	fix_free(f);
}

/* More different statements than a connection prepares: the rest still run. */
static void statements_past_the_cap_go_unnamed(void **state)
{
	struct fix *f = fix_new(g_url, 1);
	struct res r;
	char sql[64], want[16];
	int i;

	(void)state;
	for (i = 0; i < 300; i++) {
		snprintf(sql, sizeof(sql), "SELECT %d + $1::int", i);
		snprintf(want, sizeof(want), "%d", i + 1);
		q(f, &r, sql, 1, (const char *const[]){"1"});
		assert_string_equal(r.val, want);
	}
	q(f, &r, "SELECT count(*) = 256 FROM pg_prepared_statements", 0, NULL);
	assert_string_equal(r.val, "t");
	fix_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(statements_are_prepared_once_a_connection),
	    cmocka_unit_test(statements_past_the_cap_go_unnamed),
	};

	g_url = getenv("RUNIT_DATABASE_URL");
	if (!g_url || !*g_url) {
		printf("SKIP: RUNIT_DATABASE_URL not set\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
