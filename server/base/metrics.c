/*
 * metrics.c - the figures behind /metrics (metrics.h) and their rendering in
 * the Prometheus text exposition format, version 0.0.4. Labelled families
 * keep their label values in small fixed tables, so a flood of platform
 * names or runtime codes cannot grow memory or the scrape.
 */
#include "metrics.h"
#include "db.h"
#include "platform.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct metrics metrics;

/* ---------- histograms ---------- */

#define HIST_MAX 16

struct hist {
	const char *name, *help;
	const double *le; /* upper bounds, ascending; +Inf is implied */
	size_t n;
	unsigned long long bucket[HIST_MAX + 1]; /* not cumulative; [n] is +Inf */
	unsigned long long count;
	double sum;
};

static const double le_run[] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800};
static const double le_wait[] = {0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30};
static const double le_db[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
			       0.1,    0.25,  0.5,    1,     2.5,  5};
static const double le_api[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
				0.25,  0.5,    1,     2.5,  5,	   10,	 30};
#define NB(a) (sizeof(a) / sizeof((a)[0]))

#define HIST(var, metric, text, bounds)                                                            \
	_Static_assert(NB(bounds) <= HIST_MAX, #bounds ": too many buckets");                      \
	static struct hist var = {.name = metric, .help = text, .le = bounds, .n = NB(bounds)}

HIST(h_run_duration, "runit_run_duration_seconds",
     "Run time from container start to the end of the run.", le_run);
HIST(h_first_byte, "runit_run_first_byte_seconds",
     "Time from run/start to the first byte of output.", le_wait);
HIST(h_queue_wait, "runit_run_queue_wait_seconds", "Time from run/start to the container started.",
     le_wait);
HIST(h_db_query, "runit_db_query_duration_seconds",
     "Database query time, from submission (queue wait included) to the answer.", le_db);
HIST(h_plat_api, "runit_platform_api_duration_seconds",
     "Container platform API request time until the answer began.", le_api);
static struct hist *const hists[] = {&h_run_duration, &h_first_byte, &h_queue_wait, &h_db_query,
				     &h_plat_api};

static void hist_observe(struct hist *h, double v)
{
	size_t i;

	if (!(v >= 0)) /* NaN and negatives: clock trouble, not data */
		v = 0;
	for (i = 0; i < h->n && v > h->le[i]; i++)
		;
	h->bucket[i]++;
	h->count++;
	h->sum += v;
}

/* ---------- runs, by platform and runtime ---------- */

static const char *const run_reasons[] = {"exited",	  "stopped",	   "replaced",	"timeout",
					  "oom",	  "output_limit",  "error",	"cancelled",
					  "build_failed", "build_timeout", "pool_full", "other"};
#define NREASONS NB(run_reasons)

struct plat_slot {
	char name[64];
	long long runs_active, containers_active;
};

struct run_series {
	int plat; /* index into plats */
	char runtime[72];
	unsigned long long started;
	unsigned long long ended[NREASONS];
};

/* [METRICS_MAX_PLATFORMS] is "other" */
static struct plat_slot plats[METRICS_MAX_PLATFORMS + 1];
static size_t nplats;
static int plat_other_used;
/* [METRICS_MAX_RUN_SERIES] is ("other", "other") */
static struct run_series series[METRICS_MAX_RUN_SERIES + 1];
static size_t nseries;

static int plat_slot(const char *name)
{
	size_t i;

	if (!name || !*name)
		name = "built-in";
	for (i = 0; i < nplats; i++)
		if (!strcmp(plats[i].name, name))
			return (int)i;
	if (nplats == METRICS_MAX_PLATFORMS || strlen(name) >= sizeof(plats[0].name)) {
		snprintf(plats[METRICS_MAX_PLATFORMS].name, sizeof(plats[0].name), "other");
		plat_other_used = 1;
		return METRICS_MAX_PLATFORMS;
	}
	snprintf(plats[nplats].name, sizeof(plats[nplats].name), "%s", name);
	return (int)nplats++;
}

static int series_slot(int plat, const char *runtime)
{
	size_t i;

	if (!runtime || !*runtime)
		runtime = "unknown";
	for (i = 0; i < nseries; i++)
		if (series[i].plat == plat && !strcmp(series[i].runtime, runtime))
			return (int)i;
	if (nseries == METRICS_MAX_RUN_SERIES || plat == METRICS_MAX_PLATFORMS ||
	    strlen(runtime) >= sizeof(series[0].runtime))
		return METRICS_MAX_RUN_SERIES;
	series[nseries].plat = plat;
	snprintf(series[nseries].runtime, sizeof(series[nseries].runtime), "%s", runtime);
	return (int)nseries++;
}

void metrics_run_begin(struct metrics_run *m, const char *platform, const char *runtime,
		       int64_t t_request_ms)
{
	int p;

	if (m->plat)
		return;
	p = plat_slot(platform);
	m->plat = p + 1;
	m->series = series_slot(p, runtime) + 1;
	m->t_request_ms = t_request_ms;
	plats[p].runs_active++;
	series[m->series - 1].started++;
}

void metrics_run_container(struct metrics_run *m, int present)
{
	present = !!present;
	if (!m->plat || m->ended || m->container == present)
		return;
	m->container = present;
	plats[m->plat - 1].containers_active += present ? 1 : -1;
}

void metrics_run_started(struct metrics_run *m, int64_t now_ms)
{
	if (!m->plat || m->queue_seen)
		return;
	m->queue_seen = 1;
	hist_observe(&h_queue_wait, (double)(now_ms - m->t_request_ms) / 1000.0);
}

void metrics_run_first_byte(struct metrics_run *m, int64_t now_ms)
{
	if (!m->plat || m->first_byte_seen)
		return;
	m->first_byte_seen = 1;
	hist_observe(&h_first_byte, (double)(now_ms - m->t_request_ms) / 1000.0);
}

void metrics_run_end(struct metrics_run *m, const char *reason, double duration_s)
{
	size_t r;

	if (!m->plat || m->ended)
		return;
	metrics_run_container(m, 0);
	m->ended = 1;
	for (r = 0; r < NREASONS - 1 && strcmp(reason ? reason : "", run_reasons[r]); r++)
		;
	series[m->series - 1].ended[r]++;
	plats[m->plat - 1].runs_active--;
	if (duration_s >= 0)
		hist_observe(&h_run_duration, duration_s);
}

/* ---------- logins, database, platform API ---------- */

static const char *const login_results[] = {"ok", "failed", "locked"};
static unsigned long long logins[NB(login_results)];

void metrics_login(const char *result)
{
	for (size_t i = 0; result && i < NB(login_results); i++)
		if (!strcmp(result, login_results[i]))
			logins[i]++;
}

void metrics_db_query(double seconds)
{
	hist_observe(&h_db_query, seconds);
}

/* The outcomes an API request can have; "other" last. */
static const struct {
	int code;
	const char *name;
} api_codes[] = {
    {PLAT_E_UNAVAILABLE, "unavailable"},
    {PLAT_E_TIMEOUT, "timeout"},
    {PLAT_E_NOT_FOUND, "not_found"},
    {PLAT_E_CONFLICT, "conflict"},
    {PLAT_E_REJECTED, "rejected"},
    {PLAT_E_ENGINE, "engine"},
    {PLAT_E_PROTOCOL, "protocol"},
    {PLAT_E_NOMEM, "nomem"},
    {PLAT_E_IO, "io"},
    {0, "other"},
};
static unsigned long long api_errors[NB(api_codes)];

void metrics_platform_api(const struct plat_api_stat *st)
{
	size_t i;

	hist_observe(&h_plat_api, st->seconds);
	if (!st->code)
		return;
	for (i = 0; i < NB(api_codes) - 1 && api_codes[i].code != st->code; i++)
		;
	api_errors[i]++;
}

void metrics_reset(void)
{
	memset(&metrics, 0, sizeof(metrics));
	memset(plats, 0, sizeof(plats));
	memset(series, 0, sizeof(series));
	nplats = nseries = 0;
	plat_other_used = 0;
	memset(logins, 0, sizeof(logins));
	memset(api_errors, 0, sizeof(api_errors));
	for (size_t i = 0; i < NB(hists); i++) {
		memset(hists[i]->bucket, 0, sizeof(hists[i]->bucket));
		hists[i]->count = 0;
		hists[i]->sum = 0;
	}
}

/* ---------- text ---------- */

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

/* A label value, escaped as the format wants (\\, \", \n). */
static void label(struct buf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			bprintf(b, "\\\\");
		else if (*v == '"')
			bprintf(b, "\\\"");
		else if (*v == '\n')
			bprintf(b, "\\n");
		else
			bprintf(b, "%c", *v);
	}
}

static void family(struct buf *b, const char *name, const char *type, const char *help)
{
	bprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counter(struct buf *b, const char *name, const char *help, unsigned long long v)
{
	family(b, name, "counter", help);
	bprintf(b, "%s %llu\n", name, v);
}

static void gauge(struct buf *b, const char *name, const char *help, long long v)
{
	family(b, name, "gauge", help);
	bprintf(b, "%s %lld\n", name, v);
}

static void hist_render(struct buf *b, const struct hist *h)
{
	unsigned long long cum = 0;

	family(b, h->name, "histogram", h->help);
	for (size_t i = 0; i < h->n; i++) {
		cum += h->bucket[i];
		bprintf(b, "%s_bucket{le=\"%g\"} %llu\n", h->name, h->le[i], cum);
	}
	bprintf(b, "%s_bucket{le=\"+Inf\"} %llu\n", h->name, h->count);
	bprintf(b, "%s_sum %.6f\n%s_count %llu\n", h->name, h->sum, h->name, h->count);
}

static void render_sessions(struct buf *b)
{
	gauge(b, "runit_websockets_open", "Open websocket sessions.", metrics.ws_open);
	counter(b, "runit_websockets_opened_total", "Websocket sessions opened.",
		metrics.ws_opened_total);
	counter(b, "runit_websockets_closed_total", "Websocket sessions closed.",
		metrics.ws_closed_total);
	counter(b, "runit_ws_frames_in_total", "Websocket messages received.",
		metrics.frames_in_total);
	counter(b, "runit_ws_frames_out_total", "Websocket messages sent.",
		metrics.frames_out_total);
	counter(b, "runit_ws_bytes_in_total", "Websocket payload bytes received.",
		metrics.bytes_in_total);
	counter(b, "runit_ws_bytes_out_total", "Websocket payload bytes sent.",
		metrics.bytes_out_total);
	counter(b, "runit_ws_slow_consumer_closes_total",
		"Sessions closed because their outbound queue overflowed.",
		metrics.slow_consumer_closes_total);
	counter(b, "runit_ws_refused_addr_total",
		"Websocket upgrades refused: their address had RUNIT_WS_ADDR_MAX open.",
		metrics.ws_refused_addr_total);
	counter(b, "runit_ws_paused_calls_total",
		"Times a websocket was not read while its requests, or its address's "
		"(RUNIT_WS_ADDR_CALLS), waited for their answers.",
		metrics.ws_paused_calls_total);
	counter(b, "runit_ws_message_timeouts_total",
		"Websockets closed (4012) because a message in pieces was not whole "
		"within RUNIT_WS_MESSAGE_S.",
		metrics.ws_message_timeouts_total);
	counter(b, "runit_http_requests_total", "HTTP requests answered by handlers.",
		metrics.http_requests_total);
	family(b, "runit_rpc_errors_total", "counter", "JSON-RPC errors sent, by reason.");
	for (int r = 1; r < PROTO_R_COUNT; r++)
		bprintf(b, "runit_rpc_errors_total{reason=\"%s\"} %llu\n",
			proto_reason_str((enum proto_reason)r), metrics.errors_total[r]);
	counter(b, "runit_file_saves_total", "Files saved with file/save.",
		metrics.file_saves_total);
	counter(b, "runit_db_together_total",
		"Statements that carried several calls sent together while the database was busy "
		"(file/save).",
		metrics.db_together_total);
	counter(b, "runit_db_together_calls_total", "Calls answered by those statements.",
		metrics.db_together_calls_total);
	gauge(b, "runit_db_together_waiting",
	      "Calls waiting for the one of their kind still in the database (file/save).",
	      metrics.db_together_waiting);
	gauge(b, "runit_collab_updates_bytes",
	      "What the updates kept for co-editors a little behind weigh, estimated, "
	      "over every open file (at most RUNIT_COLLAB_MEMORY).",
	      metrics.collab_updates_bytes);
	counter(
	    b, "runit_run_exits_noticed_total",
	    "Program exits told by the run's wrapper (the run ended without the engine's wait).",
	    metrics.runs_exit_notice_total);
	counter(b, "runit_run_exits_waited_total",
		"Program exits told by the engine's wait (a signal, or no notice).",
		metrics.runs_exit_wait_total);
	counter(b, "runit_room_relay_dropped_total",
		"Room events not relayed to the other instances (queue full or too large).",
		metrics.room_relay_dropped_total);
	counter(b, "runit_admin_relay_dropped_total",
		"Admin events not relayed to the other instances (queue full or too large).",
		metrics.admin_relay_dropped_total);
	family(b, "runit_errors_total", "counter",
	       "Errors collected by the error monitor, by source (server, browser).");
	bprintf(b, "runit_errors_total{source=\"server\"} %llu\n", metrics.errors_server_total);
	bprintf(b, "runit_errors_total{source=\"browser\"} %llu\n", metrics.errors_browser_total);
	counter(b, "runit_errors_dropped_total",
		"Errors not stored: over the rate limit or the queue of the error monitor.",
		metrics.errors_dropped_total);
	family(b, "runit_sentry_reports_total", "counter",
	       "Error reports to RUNIT_SENTRY_DSN, by result (sent, failed, dropped).");
	bprintf(b, "runit_sentry_reports_total{result=\"sent\"} %llu\n", metrics.sentry_sent_total);
	bprintf(b, "runit_sentry_reports_total{result=\"failed\"} %llu\n",
		metrics.sentry_failed_total);
	bprintf(b, "runit_sentry_reports_total{result=\"dropped\"} %llu\n",
		metrics.sentry_dropped_total);
	family(b, "runit_logins_total", "counter",
	       "Login attempts by result (ok, failed, locked: refused by a limit).");
	for (size_t i = 0; i < NB(login_results); i++)
		bprintf(b, "runit_logins_total{result=\"%s\"} %llu\n", login_results[i], logins[i]);
}

static const char *series_plat(size_t i)
{
	return i == METRICS_MAX_RUN_SERIES ? "other" : plats[series[i].plat].name;
}

static const char *series_runtime(size_t i)
{
	return i == METRICS_MAX_RUN_SERIES ? "other" : series[i].runtime;
}

/* Slots in use, and the "other" slot once something landed there. */
static int series_used(size_t i)
{
	return i < nseries || series[i].started;
}

static int plat_used(size_t i)
{
	return i < nplats || (i == METRICS_MAX_PLATFORMS && plat_other_used);
}

static void render_runs(struct buf *b)
{
	size_t i, r;

	family(b, "runit_runs_started_total", "counter", "Runs started, by platform and runtime.");
	for (i = 0; i <= METRICS_MAX_RUN_SERIES; i++) {
		if (!series_used(i))
			continue;
		bprintf(b, "runit_runs_started_total{platform=\"");
		label(b, series_plat(i));
		bprintf(b, "\",runtime=\"");
		label(b, series_runtime(i));
		bprintf(b, "\"} %llu\n", series[i].started);
	}
	family(b, "runit_runs_total", "counter",
	       "Runs finished, by platform, runtime and reason (exited, stopped, replaced, "
	       "timeout, oom, output_limit, error, cancelled, build_failed, build_timeout, "
	       "pool_full).");
	for (i = 0; i <= METRICS_MAX_RUN_SERIES; i++) {
		if (!series_used(i))
			continue;
		for (r = 0; r < NREASONS; r++) {
			bprintf(b, "runit_runs_total{platform=\"");
			label(b, series_plat(i));
			bprintf(b, "\",runtime=\"");
			label(b, series_runtime(i));
			bprintf(b, "\",reason=\"%s\"} %llu\n", run_reasons[r], series[i].ended[r]);
		}
	}
	family(b, "runit_runs_active", "gauge",
	       "Runs of this server not yet finished, by platform.");
	for (i = 0; i <= METRICS_MAX_PLATFORMS; i++) {
		if (!plat_used(i))
			continue;
		bprintf(b, "runit_runs_active{platform=\"");
		label(b, plats[i].name);
		bprintf(b, "\"} %lld\n", plats[i].runs_active);
	}
	family(b, "runit_containers_active", "gauge",
	       "Runs of this server that have a container, by platform.");
	for (i = 0; i <= METRICS_MAX_PLATFORMS; i++) {
		if (!plat_used(i))
			continue;
		bprintf(b, "runit_containers_active{platform=\"");
		label(b, plats[i].name);
		bprintf(b, "\"} %lld\n", plats[i].containers_active);
	}
	hist_render(b, &h_run_duration);
	hist_render(b, &h_first_byte);
	hist_render(b, &h_queue_wait);
}

static void render_backends(struct buf *b, const struct db_stats *db)
{
	if (db) {
		gauge(b, "runit_db_pool_size", "Configured database connections.", db->size);
		gauge(b, "runit_db_pool_connected", "Database connections up.", db->connected);
		gauge(b, "runit_db_pool_in_use", "Database connections busy.", db->in_use);
		gauge(b, "runit_db_queries_queued", "Queries waiting for a connection.",
		      db->queued);
		counter(b, "runit_db_queries_total", "Database queries completed.", db->queries);
		counter(b, "runit_db_query_errors_total", "Database queries failed.", db->errors);
		gauge(b, "runit_db_up", "1 when the last health probe answered.", db->healthy);
	}
	hist_render(b, &h_db_query);
	hist_render(b, &h_plat_api);
	family(b, "runit_platform_api_errors_total", "counter",
	       "Container platform API requests that failed, by error code.");
	for (size_t i = 0; i < NB(api_codes); i++)
		bprintf(b, "runit_platform_api_errors_total{code=\"%s\"} %llu\n", api_codes[i].name,
			api_errors[i]);
}

char *metrics_render(const struct db_stats *db, size_t *len)
{
	struct buf b = {malloc(16384), 0, 16384, 0};

	if (!b.p)
		return NULL;
	bprintf(&b,
		"# HELP runit_build_info Build information.\n# TYPE runit_build_info gauge\n"
		"runit_build_info{version=\"%s\"} 1\n",
		RUNIT_VERSION);
	render_sessions(&b);
	render_runs(&b);
	render_backends(&b, db);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}
