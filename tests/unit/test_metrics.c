/*
 * test_metrics.c - the figures behind /metrics (server/metrics.c): runs
 * counted by platform, runtime and reason with the label sets bounded
 * ("other" past the limits), active runs and containers going back to zero,
 * histograms cumulative with +Inf equal to _count, each run observed once,
 * label values escaped, logins and platform API errors by their labels.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metrics.h"
#include "platform.h"

static char *text;

static const char *render(void)
{
	size_t len;

	free(text);
	text = metrics_render(NULL, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	return text;
}

/* The value of the sample line that starts with "name{labels} " (or -1). */
static double sample(const char *series)
{
	size_t n = strlen(series);
	const char *p = render();

	while (p && *p) {
		if (!strncmp(p, series, n) && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return -1;
}

static int setup(void **state)
{
	metrics_reset();
	return 0;
}

static void a_run_is_counted_by_platform_runtime_and_reason(void **state)
{
	struct metrics_run m = {0};

	metrics_run_begin(&m, "local-docker", "python-3.11", 1000);
	assert_true(sample("runit_runs_active{platform=\"local-docker\"}") == 1);
	metrics_run_container(&m, 1);
	metrics_run_container(&m, 1); /* repeated: counted once */
	assert_true(sample("runit_containers_active{platform=\"local-docker\"}") == 1);
	metrics_run_started(&m, 1300);
	metrics_run_first_byte(&m, 1400);
	metrics_run_first_byte(&m, 9000); /* only the first counts */
	metrics_run_end(&m, "exited", 2.0);
	metrics_run_end(&m, "exited", 2.0); /* repeated: counted once */

	assert_true(
	    sample("runit_runs_started_total{platform=\"local-docker\",runtime=\"python-3.11\"}") ==
	    1);
	assert_true(sample("runit_runs_total{platform=\"local-docker\",runtime=\"python-3.11\","
			   "reason=\"exited\"}") == 1);
	assert_true(sample("runit_runs_total{platform=\"local-docker\",runtime=\"python-3.11\","
			   "reason=\"timeout\"}") == 0);
	assert_true(sample("runit_runs_active{platform=\"local-docker\"}") == 0);
	assert_true(sample("runit_containers_active{platform=\"local-docker\"}") == 0);
	assert_true(sample("runit_run_first_byte_seconds_count") == 1);
	assert_true(sample("runit_run_first_byte_seconds_sum") == 0.4);
	assert_true(sample("runit_run_first_byte_seconds_bucket{le=\"0.25\"}") == 0);
	assert_true(sample("runit_run_first_byte_seconds_bucket{le=\"0.5\"}") == 1);
	assert_true(sample("runit_run_queue_wait_seconds_count") == 1);
	assert_true(sample("runit_run_duration_seconds_count") == 1);
	assert_true(sample("runit_run_duration_seconds_bucket{le=\"+Inf\"}") == 1);
}

static void unknown_reason_and_unstarted_run(void **state)
{
	struct metrics_run m = {0};

	metrics_run_end(&m, "exited", 1); /* never begun: nothing */
	metrics_run_begin(&m, NULL, "sh", 0);
	metrics_run_end(&m, "weird", -1);
	assert_true(
	    sample("runit_runs_total{platform=\"built-in\",runtime=\"sh\",reason=\"other\"}") == 1);
	assert_true(sample("runit_run_duration_seconds_count") == 0);
}

static void label_sets_are_bounded(void **state)
{
	struct metrics_run m;
	char name[32], rt[32];

	for (int i = 0; i < 200; i++) {
		memset(&m, 0, sizeof(m));
		snprintf(name, sizeof(name), "plat%d", i % 40);
		snprintf(rt, sizeof(rt), "rt%d", i);
		metrics_run_begin(&m, name, rt, 0);
		metrics_run_end(&m, "exited", 1);
	}
	const char *t = render();
	size_t runs_total = 0, active = 0;
	for (const char *p = t; (p = strstr(p, "\nrunit_runs_total{")); p++)
		runs_total++;
	for (const char *p = t; (p = strstr(p, "\nrunit_runs_active{")); p++)
		active++;
	/* (64 pairs + "other") x 12 reasons; 16 platforms + "other" */
	assert_int_equal(runs_total, (METRICS_MAX_RUN_SERIES + 1) * 12);
	assert_int_equal(active, METRICS_MAX_PLATFORMS + 1);
	assert_true(
	    sample("runit_runs_total{platform=\"other\",runtime=\"other\",reason=\"exited\"}") ==
	    200 - METRICS_MAX_RUN_SERIES);
}

static void label_values_are_escaped(void **state)
{
	struct metrics_run m = {0};

	metrics_run_begin(&m, "a \"quoted\"\\name\nx", "rt", 0);
	assert_true(sample("runit_runs_active{platform=\"a \\\"quoted\\\"\\\\name\\nx\"}") == 1);
}

static void histogram_buckets_are_cumulative(void **state)
{
	double v[] = {0.0001, 0.003, 0.003, 0.2, 7, 1000};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		metrics_db_query(v[i]);
	assert_true(sample("runit_db_query_duration_seconds_bucket{le=\"0.0005\"}") == 1);
	assert_true(sample("runit_db_query_duration_seconds_bucket{le=\"0.005\"}") == 3);
	assert_true(sample("runit_db_query_duration_seconds_bucket{le=\"0.25\"}") == 4);
	assert_true(sample("runit_db_query_duration_seconds_bucket{le=\"5\"}") == 4);
	assert_true(sample("runit_db_query_duration_seconds_bucket{le=\"+Inf\"}") == 6);
	assert_true(sample("runit_db_query_duration_seconds_count") == 6);
}

static void logins_and_platform_errors_by_label(void **state)
{
	struct plat_api_stat ok = {0.01, 0, 200}, gone = {0.02, PLAT_E_NOT_FOUND, 404},
			     odd = {0.5, PLAT_E_EXISTS, 0};

	metrics_login("ok");
	metrics_login("failed");
	metrics_login("failed");
	metrics_login("locked");
	metrics_login("password123"); /* not a result: ignored */
	assert_true(sample("runit_logins_total{result=\"ok\"}") == 1);
	assert_true(sample("runit_logins_total{result=\"failed\"}") == 2);
	assert_true(sample("runit_logins_total{result=\"locked\"}") == 1);
	assert_null(strstr(render(), "password123"));

	metrics_platform_api(&ok);
	metrics_platform_api(&gone);
	metrics_platform_api(&odd);
	assert_true(sample("runit_platform_api_duration_seconds_count") == 3);
	assert_true(sample("runit_platform_api_errors_total{code=\"not_found\"}") == 1);
	assert_true(sample("runit_platform_api_errors_total{code=\"other\"}") == 1);
	assert_true(sample("runit_platform_api_errors_total{code=\"unavailable\"}") == 0);
}

static void file_saves_and_counter_names(void **state)
{
	metrics_file_saved();
	metrics_file_saved();
	assert_true(sample("runit_file_saves_total") == 2);
	/* every counter family ends in _total */
	for (const char *p = render(); (p = strstr(p, "# TYPE ")); p++) {
		const char *e = strchr(p, '\n');
		if (e - p > 8 && !strncmp(e - 8, " counter", 8))
			assert_memory_equal(e - 14, "_total", 6);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(a_run_is_counted_by_platform_runtime_and_reason, setup),
	    cmocka_unit_test_setup(unknown_reason_and_unstarted_run, setup),
	    cmocka_unit_test_setup(label_sets_are_bounded, setup),
	    cmocka_unit_test_setup(label_values_are_escaped, setup),
	    cmocka_unit_test_setup(histogram_buckets_are_cumulative, setup),
	    cmocka_unit_test_setup(logins_and_platform_errors_by_label, setup),
	    cmocka_unit_test_setup(file_saves_and_counter_names, setup),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(text);
	return rc;
}
