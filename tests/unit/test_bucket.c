/*
 * test_bucket.c - the token bucket (server/base/bucket.c) that bounds what
 * one session does at a rate: a new bucket holds its burst, takes refill
 * at the rate (fractions kept), never past the burst, and an empty one
 * refuses without going into debt; a charge (what one address sends) may
 * go into debt and says how long it lasts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "bucket.h"

static int takes(struct bucket *b, int64_t now)
{
	int n = 0;

	while (!bucket_take(b, 10, 20, now))
		n++;
	return n;
}

static void a_new_bucket_holds_its_burst(void **state)
{
	struct bucket b = {0};

	(void)state;
	assert_int_equal(takes(&b, 1000), 20);
	assert_int_equal(bucket_take(&b, 10, 20, 1000), -1);
}

static void it_refills_at_the_rate_and_keeps_fractions(void **state)
{
	struct bucket b = {0};

	(void)state;
	takes(&b, 1000);
	assert_int_equal(takes(&b, 1050), 0); /* half a token */
	assert_int_equal(takes(&b, 1100), 1); /* the two halves */
	assert_int_equal(takes(&b, 1400), 3);
}

static void it_never_holds_more_than_its_burst(void **state)
{
	struct bucket b = {0};

	(void)state;
	takes(&b, 1000);
	assert_int_equal(takes(&b, 1000 + 3600 * 1000), 20);
}

static void a_refusal_costs_nothing(void **state)
{
	struct bucket b = {0};

	(void)state;
	takes(&b, 1000);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(bucket_take(&b, 10, 20, 1000), -1);
	assert_int_equal(takes(&b, 1100), 1);
}

static void a_charge_goes_into_debt_and_says_for_how_long(void **state)
{
	struct bucket b = {0};

	(void)state;
	assert_int_equal(bucket_charge(&b, 1000, 4000, 1000, 3000), 0);
	assert_false(bucket_full(&b, 1000, 4000, 1000));
	/* 1,000 left, 1,500 owed: 1.5 s at 1,000 a second */
	assert_int_equal(bucket_charge(&b, 1000, 4000, 1000, 2500), 1501);
	assert_int_equal(bucket_take(&b, 1000, 4000, 2000), -1);
	assert_int_equal(bucket_charge(&b, 1000, 4000, 2500, 0), 0);
	assert_false(bucket_full(&b, 1000, 4000, 6499));
	assert_true(bucket_full(&b, 1000, 4000, 6500));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_new_bucket_holds_its_burst),
	    cmocka_unit_test(it_refills_at_the_rate_and_keeps_fractions),
	    cmocka_unit_test(it_never_holds_more_than_its_burst),
	    cmocka_unit_test(a_refusal_costs_nothing),
	    cmocka_unit_test(a_charge_goes_into_debt_and_says_for_how_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
