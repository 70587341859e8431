/*
 * errmon.c - error monitoring (errmon.h): the queue that reports arrive in
 * (from any thread: the log hook), the ring of recent errors with their
 * fingerprints and counts, the rate limits, the rows of table errors and
 * the admin events. errmon_event.c scrubs and shapes; errmon_sentry.c
 * sends.
 */
#include "errmon.h"
#include "errmon_event.h"
#include "errmon_sentry.h"
#include "bus.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "srv.h"
#include "proto.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define EM_RING 100	    /* recent errors kept here */
#define EM_PENDING 64	    /* reports waiting for the loop */
#define EM_WINDOW_MS 60000  /* the same error again within this: counted */
#define EM_BURST 30	    /* new errors stored at once ... */
#define EM_REFILL_MS 2000   /* ... and one more every 2 s */
#define EM_TICK_MS 2000	    /* counts written and announced */
#define EM_PRUNE_MS 60000   /* old rows deleted */
#define EM_MESSAGE_MAX 2000 /* bytes of a message kept */
#define EM_CONTEXT_MAX 32768
#define EM_CLIENTS 128	  /* client/error budgets: sessions and addresses */
#define EM_SESSION_MAX 10 /* client/error per session per minute */
#define EM_ADDR_MAX 60	  /* ... and per address */

struct em_entry {
	uint64_t seq; /* 0: free */
	char fp[17];
	int64_t first_ms;   /* monotonic: the window's start */
	json_t *ev;	    /* the error as the panel shows it (owned) */
	long long row_id;   /* 0 while being inserted, -1 not stored */
	unsigned unflushed; /* repeats not yet written and announced */
};

struct em_client {
	char key[72];
	int64_t start_ms;
	int n;
};

struct errmon {
	struct srv *srv;
	uv_async_t async;
	uv_timer_t tick;
	int nhandles;
	uv_mutex_t lock; /* pending, npending, lost */
	json_t *pending[EM_PENDING];
	size_t npending;
	unsigned long long lost;
	struct em_entry ring[EM_RING];
	size_t ring_next;
	uint64_t next_seq;
	double tokens;
	int64_t tokens_ms;
	int64_t pruned_ms;
	struct em_client clients[EM_CLIENTS];
	struct errmon_sentry *sentry;
};

static long long wall_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void rfc3339(char out[64])
{
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000));
}

/* ---------- the queue: any thread in, the loop out ---------- */

static void enqueue(struct errmon *em, json_t *item)
{
	if (!item)
		return;
	uv_mutex_lock(&em->lock);
	if (em->npending < EM_PENDING) {
		em->pending[em->npending++] = item;
		item = NULL;
	} else {
		em->lost++;
	}
	uv_mutex_unlock(&em->lock);
	json_decref(item);
	uv_async_send(&em->async);
}

/* log.c's hook: a LOG_ERROR line, on whatever thread wrote it. */
static void on_log_error(void *arg, const json_t *line)
{
	struct errmon *em = arg;
	json_t *ctx = json_deep_copy(line);
	json_t *uid = json_object_get(line, "user_id");
	const char *msg = json_string_value(json_object_get(line, "msg"));

	if (!ctx)
		return;
	json_object_del(ctx, "time");
	json_object_del(ctx, "level");
	json_object_del(ctx, "msg");
	json_object_del(ctx, "user_id");
	enqueue(em, json_pack("{s:s, s:s, s:s, s:I, s:o}", "source", "server", "type", "",
			      "message", msg ? msg : "", "user_id",
			      (json_int_t)(json_is_integer(uid) ? json_integer_value(uid) : 0),
			      "context", ctx));
}

/* ---------- storing and announcing ---------- */

struct em_ins {
	struct errmon *em;
	uint64_t seq;
};

static struct em_entry *by_seq(struct errmon *em, uint64_t seq)
{
	for (size_t i = 0; i < EM_RING; i++)
		if (em->ring[i].seq == seq)
			return &em->ring[i];
	return NULL;
}

static void inserted(void *arg, PGresult *res, const char *err)
{
	struct em_ins *in = arg;
	struct errmon *em = in->em;
	struct em_entry *e = by_seq(em, in->seq);

	free(in);
	if (!e)
		return; /* pushed out of the ring meanwhile */
	if (res && PQntuples(res) == 1) {
		e->row_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		json_object_set_new(e->ev, "id", json_integer(e->row_id));
	} else {
		e->row_id = -1; /* never logged as an error: that would feed itself */
	}
	bus_publish(em->srv, "error", "new", json_deep_copy(e->ev));
}

static void store(struct errmon *em, struct em_entry *e)
{
	struct em_ins *in = malloc(sizeof(*in));
	char uid[24], *ctx = json_dumps(json_object_get(e->ev, "context"), JSON_COMPACT);
	json_int_t user = json_integer_value(json_object_get(e->ev, "user_id"));
	const char *p[8];

	snprintf(uid, sizeof(uid), "%lld", (long long)user);
	p[0] = json_string_value(json_object_get(e->ev, "event_id"));
	p[1] = e->fp;
	p[2] = json_string_value(json_object_get(e->ev, "source"));
	p[3] = json_string_value(json_object_get(e->ev, "type"));
	p[4] = json_string_value(json_object_get(e->ev, "message"));
	p[5] = ctx && strlen(ctx) <= EM_CONTEXT_MAX ? ctx : "{\"truncated\":true}";
	p[6] = em->srv->cfg.instance;
	p[7] = user > 0 ? uid : NULL;
	if (!in || !ctx)
		goto out_not_stored;
	in->em = em;
	in->seq = e->seq;
	if (db_query(em->srv->db,
		     "INSERT INTO errors (event_id, fingerprint, source, level, type, message, "
		     "context, instance, user_id) VALUES ($1, $2, $3, 'error', $4, $5, $6::jsonb, "
		     "$7, $8) RETURNING id",
		     8, p, inserted, in))
		goto out_not_stored;
	free(ctx);
	return;

out_not_stored: /* still announced: the live panel shows it without an id */
	free(in);
	free(ctx);
	e->row_id = -1;
	bus_publish(em->srv, "error", "new", json_deep_copy(e->ev));
}

static void to_sentry(struct errmon *em, const struct em_entry *e)
{
	char ts[64], *env;
	struct errmon_meta m;
	json_t *event;
	size_t len;

	if (!em->sentry)
		return;
	rfc3339(ts);
	m.event_id = json_string_value(json_object_get(e->ev, "event_id"));
	m.timestamp = ts;
	m.release = "run-it@" RUNIT_VERSION;
	m.server_name = em->srv->cfg.instance;
	m.environment = em->srv->cfg.sentry_environment;
	event = errmon_sentry_event(e->ev, &m);
	env = event ? errmon_envelope(event, em->srv->cfg.sentry_dsn, ts, &len) : NULL;
	json_decref(event);
	if (env)
		errmon_sentry_send(em->sentry, env, len);
	else
		metrics.sentry_dropped_total++;
}

/* One more new error may be stored now (the token bucket). */
static int take_token(struct errmon *em)
{
	int64_t now = srv_now_ms();

	em->tokens += (double)(now - em->tokens_ms) / EM_REFILL_MS;
	em->tokens_ms = now;
	if (em->tokens > EM_BURST)
		em->tokens = EM_BURST;
	if (em->tokens < 1)
		return 0;
	em->tokens -= 1;
	return 1;
}

static void clip_utf8(char *s, size_t max)
{
	if (strlen(s) > max)
		s[proto_utf8_valid_prefix(s, max)] = '\0';
}

static void handle(struct errmon *em, json_t *item)
{
	const char *hide = em->srv->cfg.sentry_dsn ? em->srv->cfg.sentry_key : NULL;
	const char *source = json_string_value(json_object_get(item, "source"));
	const char *type = json_string_value(json_object_get(item, "type"));
	json_t *ctx = json_object_get(item, "context");
	json_int_t uid = json_integer_value(json_object_get(item, "user_id"));
	char *msg = errmon_scrub_str(json_string_value(json_object_get(item, "message")), hide);
	int browser = source && !strcmp(source, "browser");
	unsigned char raw[16];
	char fp[17], event_id[33];
	struct em_entry *e;
	long long now = wall_ms();

	if (!msg)
		return;
	clip_utf8(msg, EM_MESSAGE_MAX);
	if (!json_is_object(ctx))
		ctx = NULL;
	errmon_scrub_json(ctx, hide);
	if (browser)
		metrics.errors_browser_total++;
	else
		metrics.errors_server_total++;
	errmon_fingerprint(browser ? "browser" : "server", type, msg, fp);
	for (size_t i = 0; i < EM_RING; i++) {
		e = &em->ring[i];
		if (e->seq && !strcmp(e->fp, fp) && srv_now_ms() - e->first_ms < EM_WINDOW_MS) {
			e->unflushed++;
			json_object_set_new(
			    e->ev, "count",
			    json_integer(json_integer_value(json_object_get(e->ev, "count")) + 1));
			json_object_set_new(e->ev, "last_at", json_integer(now));
			free(msg);
			return;
		}
	}
	if (!take_token(em)) {
		metrics.errors_dropped_total++;
		free(msg);
		return;
	}
	e = &em->ring[em->ring_next];
	em->ring_next = (em->ring_next + 1) % EM_RING;
	json_decref(e->ev);
	memset(e, 0, sizeof(*e));
	e->seq = ++em->next_seq;
	memcpy(e->fp, fp, sizeof(fp));
	e->first_ms = srv_now_ms();
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(event_id, sizeof(event_id), raw, sizeof(raw));
	ctx = ctx ? json_incref(ctx) : json_object();
	e->ev = json_pack(
	    "{s:n, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:i, s:I, s:I}", "id", "event_id",
	    event_id, "fingerprint", fp, "source", browser ? "browser" : "server", "level", "error",
	    "type", type ? type : "", "message", msg, "context", ctx, "instance",
	    em->srv->cfg.instance, "user_id", uid > 0 ? json_integer(uid) : json_null(), "count", 1,
	    "first_at", (json_int_t)now, "last_at", (json_int_t)now);
	free(msg);
	if (!e->ev) {
		e->seq = 0;
		return;
	}
	store(em, e);
	to_sentry(em, e);
}

static void on_async(uv_async_t *a)
{
	struct errmon *em = a->data;
	json_t *items[EM_PENDING];
	size_t n;
	unsigned long long lost;

	uv_mutex_lock(&em->lock);
	n = em->npending;
	memcpy(items, em->pending, n * sizeof(items[0]));
	em->npending = 0;
	lost = em->lost;
	em->lost = 0;
	uv_mutex_unlock(&em->lock);
	metrics.errors_dropped_total += lost;
	for (size_t i = 0; i < n; i++) {
		handle(em, items[i]);
		json_decref(items[i]);
	}
}

static void updated(void *arg, PGresult *res, const char *err)
{
	(void)arg;
	(void)res;
	(void)err; /* a count not written: the next repeat writes its own */
}

/* Every EM_TICK_MS: write and announce the repeats; now and then prune. */
static void on_tick(uv_timer_t *t)
{
	struct errmon *em = t->data;
	char id[24], n[24];
	const char *p[2] = {id, n};

	for (size_t i = 0; i < EM_RING; i++) {
		struct em_entry *e = &em->ring[i];
		if (!e->seq || !e->unflushed || e->row_id == 0)
			continue;
		if (e->row_id > 0) {
			snprintf(id, sizeof(id), "%lld", e->row_id);
			snprintf(n, sizeof(n), "%u", e->unflushed);
			db_query(em->srv->db,
				 "UPDATE errors SET count = count + $2::integer, last_at = now() "
				 "WHERE id = $1::bigint",
				 2, p, updated, NULL);
		}
		e->unflushed = 0;
		bus_publish(em->srv, "error", "repeat",
			    json_pack("{s:O, s:O, s:O, s:O}", "id", json_object_get(e->ev, "id"),
				      "event_id", json_object_get(e->ev, "event_id"), "count",
				      json_object_get(e->ev, "count"), "last_at",
				      json_object_get(e->ev, "last_at")));
	}
	if (srv_now_ms() - em->pruned_ms >= EM_PRUNE_MS) {
		em->pruned_ms = srv_now_ms();
		db_query(em->srv->db, "SELECT runit_errors_prune(2000, interval '30 days')", 0,
			 NULL, updated, NULL);
	}
}

/* ---------- the interface ---------- */

int errmon_init(struct srv *srv)
{
	struct errmon *em = calloc(1, sizeof(*em));

	if (!em)
		return -1;
	em->srv = srv;
	em->tokens = EM_BURST;
	em->tokens_ms = srv_now_ms();
	em->pruned_ms = srv_now_ms() - EM_PRUNE_MS;
	if (uv_mutex_init(&em->lock)) {
		free(em);
		return -1;
	}
	if (srv->cfg.sentry_dsn) {
		em->sentry = errmon_sentry_new(srv->loop, srv->cfg.sentry_url, srv->cfg.sentry_key);
		if (!em->sentry) {
			uv_mutex_destroy(&em->lock);
			free(em);
			return -1;
		}
	}
	uv_async_init(srv->loop, &em->async, on_async);
	uv_timer_init(srv->loop, &em->tick);
	em->async.data = em->tick.data = em;
	em->nhandles = 2;
	uv_timer_start(&em->tick, on_tick, EM_TICK_MS, EM_TICK_MS);
	srv->errmon = em;
	log_set_error_hook(on_log_error, em);
	return 0;
}

static void closed(uv_handle_t *h)
{
	struct errmon *em = h->data;

	if (--em->nhandles == 0) {
		uv_mutex_destroy(&em->lock);
		free(em);
	}
}

void errmon_release(struct srv *srv)
{
	struct errmon *em = srv->errmon;

	if (!em)
		return;
	log_set_error_hook(NULL, NULL);
	srv->errmon = NULL;
	errmon_sentry_free(em->sentry);
	em->sentry = NULL;
	for (size_t i = 0; i < em->npending; i++)
		json_decref(em->pending[i]);
	em->npending = 0;
	for (size_t i = 0; i < EM_RING; i++)
		json_decref(em->ring[i].ev);
	uv_timer_stop(&em->tick);
	uv_close((uv_handle_t *)&em->tick, closed);
	uv_close((uv_handle_t *)&em->async, closed);
}

void errmon_report(struct srv *srv, struct errmon_report *r)
{
	if (!srv->errmon) {
		json_decref(r->context);
		return;
	}
	enqueue(srv->errmon,
		json_pack("{s:s, s:s, s:s, s:I, s:o}", "source", r->source, "type",
			  r->type ? r->type : "", "message", r->message ? r->message : "",
			  "user_id", (json_int_t)r->user_id, "context",
			  r->context ? r->context : json_object()));
}

void errmon_rpc_internal(struct srv *srv, const char *method, const char *message,
			 long long user_id, const char *req_id)
{
	struct errmon_report r = {"server", "INTERNAL",
				  message && *message ? message : "internal error", user_id,
				  json_pack("{s:s, s:s}", "method", method, "request_id", req_id)};

	errmon_report(srv, &r);
}

static int client_take(struct errmon *em, const char *key, int max)
{
	int64_t now = srv_now_ms();
	struct em_client *c = NULL, *oldest = &em->clients[0];

	for (size_t i = 0; i < EM_CLIENTS; i++) {
		if (!strcmp(em->clients[i].key, key)) {
			c = &em->clients[i];
			break;
		}
		if (em->clients[i].start_ms < oldest->start_ms)
			oldest = &em->clients[i];
	}
	if (!c) {
		c = oldest;
		snprintf(c->key, sizeof(c->key), "%s", key);
		c->start_ms = now;
		c->n = 0;
	}
	if (now - c->start_ms >= 60000) {
		c->start_ms = now;
		c->n = 0;
	}
	if (c->n >= max)
		return 0;
	c->n++;
	return 1;
}

int errmon_client_allowed(struct srv *srv, uint64_t sess_id, const char *ip)
{
	char skey[32], akey[72];

	if (!srv->errmon)
		return 0;
	snprintf(skey, sizeof(skey), "s:%llu", (unsigned long long)sess_id);
	snprintf(akey, sizeof(akey), "a:%.64s", ip);
	/* the address first: a client that opens session after session still stops */
	return client_take(srv->errmon, akey, EM_ADDR_MAX) &&
	       client_take(srv->errmon, skey, EM_SESSION_MAX);
}

json_t *errmon_recent(struct srv *srv)
{
	struct errmon *em = srv->errmon;
	json_t *out = json_array();

	for (size_t k = 0; em && out && k < EM_RING; k++) {
		struct em_entry *e = &em->ring[(em->ring_next + EM_RING - 1 - k) % EM_RING];
		if (e->seq && e->ev)
			json_array_append(out, e->ev);
	}
	return out;
}
