/*
 * test_run_queue.c - run_queue.c's pure part: the candidate engines' ids as
 * the PostgreSQL array runit_run_enqueue() takes ("{1,2}"), never cut.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "run_queue.h"

static void test_ids_text(void **state)
{
	long long ids[3] = {7, 12, 9000000000LL};
	char out[64];

	(void)state;
	assert_int_equal(run_queue_ids_text(ids, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "{}");
	assert_int_equal(run_queue_ids_text(ids, 1, out, sizeof(out)), 0);
	assert_string_equal(out, "{7}");
	assert_int_equal(run_queue_ids_text(ids, 3, out, sizeof(out)), 0);
	assert_string_equal(out, "{7,12,9000000000}");
}

static void test_ids_text_too_small(void **state)
{
	long long ids[2] = {123, 456};
	char out[16];

	(void)state;
	/* "{123,456}" is 9 bytes and its NUL: 10 fit, 9 do not */
	assert_int_equal(run_queue_ids_text(ids, 2, out, 10), 0);
	assert_string_equal(out, "{123,456}");
	assert_int_equal(run_queue_ids_text(ids, 2, out, 9), -1);
	assert_int_equal(run_queue_ids_text(ids, 2, out, 5), -1);
	assert_int_equal(run_queue_ids_text(ids, 0, out, 2), -1);
	assert_int_equal(run_queue_ids_text(ids, 0, out, 3), 0);
	assert_string_equal(out, "{}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ids_text),
	    cmocka_unit_test(test_ids_text_too_small),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
