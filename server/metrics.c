/*
 * metrics.c - render struct metrics (and the DB pool's figures) in the
 * Prometheus text exposition format, version 0.0.4.
 */
#include "metrics.h"
#include "db.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct metrics metrics;

const char *const metrics_run_reasons[8] = { "exited", "stopped",      "replaced", "timeout",
					     "oom",    "output_limit", "error",    "cancelled" };

void metrics_run_finished(const char *reason)
{
	metrics.runs_active--;
	for (int i = 0; i < 8; i++)
		if (!strcmp(reason, metrics_run_reasons[i]))
			metrics.runs_finished_total[i]++;
}

struct buf {
	char *p;
	size_t len, cap;
	int oom;
};

static void bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t ncap = b->cap * 2 + (size_t)n;
		char *np = realloc(b->p, ncap);
		if (!np) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
}

static void counter(struct buf *b, const char *name, const char *help, unsigned long long v)
{
	bprintf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name, v);
}

static void gauge(struct buf *b, const char *name, const char *help, long long v)
{
	bprintf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name, help, name, name, v);
}

char *metrics_render(const struct db_stats *db, size_t *len)
{
	struct buf b = { malloc(4096), 0, 4096, 0 };

	if (!b.p)
		return NULL;
	bprintf(&b, "# HELP runit_build_info Build information.\n# TYPE runit_build_info gauge\n"
		    "runit_build_info{version=\"%s\"} 1\n", RUNIT_VERSION);
	gauge(&b, "runit_websockets_open", "Open websocket sessions.", metrics.ws_open);
	counter(&b, "runit_websockets_opened_total", "Websocket sessions opened.",
		metrics.ws_opened_total);
	counter(&b, "runit_websockets_closed_total", "Websocket sessions closed.",
		metrics.ws_closed_total);
	counter(&b, "runit_ws_frames_in_total", "Websocket messages received.",
		metrics.frames_in_total);
	counter(&b, "runit_ws_frames_out_total", "Websocket messages sent.",
		metrics.frames_out_total);
	counter(&b, "runit_ws_bytes_in_total", "Websocket payload bytes received.",
		metrics.bytes_in_total);
	counter(&b, "runit_ws_bytes_out_total", "Websocket payload bytes sent.",
		metrics.bytes_out_total);
	counter(&b, "runit_ws_slow_consumer_closes_total",
		"Sessions closed because their outbound queue overflowed.",
		metrics.slow_consumer_closes_total);
	counter(&b, "runit_http_requests_total", "HTTP requests answered by handlers.",
		metrics.http_requests_total);
	bprintf(&b, "# HELP runit_rpc_errors_total JSON-RPC errors sent, by reason.\n"
		    "# TYPE runit_rpc_errors_total counter\n");
	for (int r = 1; r < PROTO_R_COUNT; r++)
		bprintf(&b, "runit_rpc_errors_total{reason=\"%s\"} %llu\n",
			proto_reason_str((enum proto_reason)r), metrics.errors_total[r]);
	gauge(&b, "runit_runs_active", "Runs of this server not yet finished.", metrics.runs_active);
	counter(&b, "runit_runs_started_total", "Runs started.", metrics.runs_started_total);
	bprintf(&b, "# HELP runit_runs_finished_total Runs finished, by reason.\n"
		    "# TYPE runit_runs_finished_total counter\n");
	for (int i = 0; i < 8; i++)
		bprintf(&b, "runit_runs_finished_total{reason=\"%s\"} %llu\n", metrics_run_reasons[i],
			metrics.runs_finished_total[i]);
	if (db) {
		gauge(&b, "runit_db_pool_size", "Configured database connections.", db->size);
		gauge(&b, "runit_db_pool_connected", "Database connections up.", db->connected);
		gauge(&b, "runit_db_pool_in_use", "Database connections busy.", db->in_use);
		gauge(&b, "runit_db_queries_queued", "Queries waiting for a connection.",
		      db->queued);
		counter(&b, "runit_db_queries_total", "Database queries completed.", db->queries);
		counter(&b, "runit_db_query_errors_total", "Database queries failed.", db->errors);
		gauge(&b, "runit_db_up", "1 when the last health probe answered.", db->healthy);
	}
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}
