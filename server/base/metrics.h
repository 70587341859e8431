/*
 * metrics.h - the server's counters, gauges and histograms, rendered as
 * Prometheus text for GET /metrics. Updated on the loop thread only, so
 * plain integers do.
 *
 * Label values come from admins (platform names, runtime codes), so every
 * labelled family is bounded: at most METRICS_MAX_PLATFORMS platform values
 * and METRICS_MAX_RUN_SERIES (platform, runtime) pairs; anything past that
 * is counted under "other". Names follow Prometheus conventions: units in
 * the name (_seconds, _bytes), counters end in _total.
 */
#ifndef RUNIT_METRICS_H
#define RUNIT_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include "proto.h"

struct db_stats;
struct plat_api_stat;

#define METRICS_MAX_PLATFORMS 16
#define METRICS_MAX_RUN_SERIES 64

/* Plain counters and gauges that other files bump directly. */
struct metrics {
	unsigned long long ws_opened_total;
	unsigned long long ws_closed_total;
	long long ws_open;
	unsigned long long frames_in_total;
	unsigned long long frames_out_total;
	unsigned long long bytes_in_total;
	unsigned long long bytes_out_total;
	unsigned long long slow_consumer_closes_total;
	unsigned long long ws_refused_addr_total; /* RUNIT_WS_ADDR_MAX reached */
	unsigned long long ws_paused_calls_total; /* RUNIT_WS_ADDR_CALLS or a session's reached */
	unsigned long long ws_message_timeouts_total; /* RUNIT_WS_MESSAGE_S passed: closed */
	unsigned long long http_requests_total;
	unsigned long long errors_total[PROTO_R_COUNT];
	unsigned long long file_saves_total;
	unsigned long long db_together_total, db_together_calls_total; /* dbbatch.c */
	long long db_together_waiting;
	long long collab_updates_bytes; /* collab_file.c: the updates kept, estimated */
	/* runs whose end came from the wrapper's exit notice (run_notice.h),
	 * and those that waited for the engine's answer instead */
	unsigned long long runs_exit_notice_total, runs_exit_wait_total;
	unsigned long long room_relay_dropped_total;
	unsigned long long admin_relay_dropped_total;
	/* error monitoring (errmon.c): collected by source, dropped by the
	 * rate limit, and the reports to Sentry */
	unsigned long long errors_server_total, errors_browser_total;
	unsigned long long errors_dropped_total;
	unsigned long long sentry_sent_total, sentry_failed_total, sentry_dropped_total;
};

extern struct metrics metrics;

static inline void metrics_error(enum proto_reason r)
{
	if ((unsigned)r < PROTO_R_COUNT)
		metrics.errors_total[r]++;
}

/* A file/save that was written. */
static inline void metrics_file_saved(void)
{
	metrics.file_saves_total++;
}

/* A login attempt's outcome: "ok", "failed" or "locked" (refused by the
 * rate limit or a lock). Other values are ignored. */
void metrics_login(const char *result);

/* A database query finished (ok or not), seconds after db_query(). */
void metrics_db_query(double seconds);

/* A platform API request finished (plat_config.stats). */
void metrics_platform_api(const struct plat_api_stat *st);

/*
 * What the metrics know about one run; embedded in the run (zeroed) and
 * passed to every metrics_run_* call. Each call is safe to repeat: a run
 * is counted active once, its queue wait and first byte observed once, its
 * container counted while present, and metrics_run_end() undoes the rest.
 */
struct metrics_run {
	int plat;   /* 1 + platform slot; 0 before metrics_run_begin() */
	int series; /* 1 + (platform, runtime) slot */
	int container;
	int queue_seen, first_byte_seen, ended;
	int64_t t_request_ms; /* when run/start arrived (srv_now_ms) */
};

/* The run exists (its row is inserted): started, active on platform. */
void metrics_run_begin(struct metrics_run *m, const char *platform, const char *runtime,
		       int64_t t_request_ms);
/* The run's container was created (present 1) or removed (0). */
void metrics_run_container(struct metrics_run *m, int present);
/* The container started: observes the queue wait since run/start. */
void metrics_run_started(struct metrics_run *m, int64_t now_ms);
/* The first byte of output: observes the time since run/start. */
void metrics_run_first_byte(struct metrics_run *m, int64_t now_ms);
/* The run ended with reason; duration_s < 0 when it never started. */
void metrics_run_end(struct metrics_run *m, const char *reason, double duration_s);

/* Prometheus text exposition format 0.0.4. Returns a malloc'd string (free
 * it) and its length; NULL when out of memory. db may be NULL. */
char *metrics_render(const struct db_stats *db, size_t *len);

/* Forget everything (unit tests). */
void metrics_reset(void);

#endif
