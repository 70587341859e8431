/*
 * metrics.h - the server's counters and gauges, rendered as Prometheus text
 * for GET /metrics. Updated on the loop thread only, so plain integers do.
 */
#ifndef RUNIT_METRICS_H
#define RUNIT_METRICS_H

#include <stddef.h>
#include "proto.h"

struct db_stats;

struct metrics {
	unsigned long long ws_opened_total;
	unsigned long long ws_closed_total;
	long long ws_open;
	unsigned long long frames_in_total;
	unsigned long long frames_out_total;
	unsigned long long bytes_in_total;
	unsigned long long bytes_out_total;
	unsigned long long slow_consumer_closes_total;
	unsigned long long http_requests_total;
	unsigned long long errors_total[PROTO_R_COUNT];
	unsigned long long runs_started_total;
	unsigned long long runs_finished_total[8]; /* by metrics_run_reasons[] */
	long long runs_active;
};

/* The reasons a run ends, in the order of runs_finished_total. */
extern const char *const metrics_run_reasons[8];
void metrics_run_finished(const char *reason);

extern struct metrics metrics;

static inline void metrics_error(enum proto_reason r)
{
	if ((unsigned)r < PROTO_R_COUNT)
		metrics.errors_total[r]++;
}

/* Prometheus text exposition format. Returns a malloc'd string (free it) and its length. */
char *metrics_render(const struct db_stats *db, size_t *len);

#endif
