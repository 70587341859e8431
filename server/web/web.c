/*
 * web.c - websocket and HTTP callbacks for libwebsockets.
 *
 * The websocket protocol assembles fragments into one message (bounded by
 * RUNIT_MAX_FRAME), hands it to rpc_dispatch(), and drains the session's
 * outbound queue one lws_write() per WRITEABLE callback. The HTTP protocol
 * answers /healthz (the database and the container platforms) and /metrics;
 * everything else is a static file of the UI. ws_mask.c closes a websocket
 * whose client sends a frame that is not masked.
 */
#include "web.h"
#include "srv.h"
#include "sess.h"
#include "rpc.h"
#include "auth_sess.h"
#include "db.h"
#include "http_auth.h"
#include "log.h"
#include "metrics.h"
#include "netmask.h"
#include "run_plat.h"
#include "web_addrs.h"
#include "web_peer.h"
#include "ws_mask.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* ---------- websocket ---------- */

struct ws_pss {
	struct sess *s;
	int counted; /* in web_addrs under s->ip */
};

/*
 * Sessions lws reads nothing more from for now: their address went over
 * its budget (web_addrs.h) until a time, or they or their address have
 * too many requests unanswered (RPC_SESS_CALLS_MAX, RUNIT_WS_ADDR_CALLS),
 * which a database queue shared by everyone would otherwise hold: one
 * anonymous socket sending requests as fast as it could made everyone's
 * wait past the pool's timeout. An answer lets the session, or as many
 * of its address's sessions as there is room for, read again; a timer
 * does the rest, one more of an address each tick.
 */
struct held {
	uint64_t sess;
	int64_t until; /* the budget: not before then */
	int calls;     /* it waits for answers */
};
static struct held *held;
static size_t nheld, capheld;
static uv_timer_t hold_timer;
static int hold_timer_ready;
/* messages in pieces not yet whole (below) */
static unsigned nunfinished;
static uv_timer_t message_timer;
static int message_timer_ready;

/* Start t (made on first use) calling cb every ms, unless it runs already. */
static void tick_every(struct srv *srv, uv_timer_t *t, int *ready, uv_timer_cb cb, uint64_t ms)
{
	if (!*ready) {
		uv_timer_init(srv->loop, t);
		t->data = srv;
		*ready = 1;
	}
	if (!uv_is_active((uv_handle_t *)t))
		uv_timer_start(t, cb, ms, ms);
}

static int calls_over(struct srv *srv, struct sess *s)
{
	return s->calls >= RPC_SESS_CALLS_MAX ||
	       web_addrs_calls(s->ip, 0) >= srv->cfg.ws_addr_calls;
}

/* Reads held[i]'s session again (if it is still there) and forgets i. */
static void let_go(struct srv *srv, size_t i)
{
	struct sess *s = sess_find(srv, held[i].sess);

	if (s && !s->closing)
		lws_rx_flow_control(s->wsi, 1);
	held[i] = held[--nheld];
}

static void on_hold_timer(uv_timer_t *t)
{
	struct srv *srv = t->data;
	int64_t now = srv_now_ms();

	for (size_t i = 0; i < nheld;) {
		struct sess *s = sess_find(srv, held[i].sess);

		if (s && !s->closing &&
		    (held[i].until > now ||
		     (held[i].calls && (calls_over(srv, s) || !web_addrs_grant(s->ip, now))))) {
			i++;
			continue;
		}
		let_go(srv, i);
	}
	if (!nheld)
		uv_timer_stop(t);
}

/* s reads nothing more for wait_ms, or (calls) while calls_over(). */
static void hold(struct srv *srv, struct sess *s, long wait_ms, int calls)
{
	size_t i;

	for (i = 0; i < nheld && held[i].sess != s->id; i++)
		;
	if (i == nheld) {
		if (nheld == capheld) {
			size_t cap = capheld ? capheld * 2 : 16;
			struct held *h = realloc(held, cap * sizeof(*h));

			if (!h)
				return; /* not held: it goes on reading */
			held = h;
			capheld = cap;
		}
		held[nheld++] = (struct held){s->id, 0, 0};
	}
	if (wait_ms > 0)
		held[i].until = srv_now_ms() + wait_ms;
	if (calls && !held[i].calls) {
		held[i].calls = 1;
		metrics.ws_paused_calls_total++;
	}
	lws_rx_flow_control(s->wsi, 0);
	tick_every(srv, &hold_timer, &hold_timer_ready, on_hold_timer, 20);
}

/* srv->call_count: a request from ip came in or was answered. An answer
 * lets the held sessions of ip that may read again go, as many as their
 * address has room for. */
static void on_call_count(struct srv *srv, const char *ip, int delta)
{
	int room = srv->cfg.ws_addr_calls - web_addrs_calls(ip, delta);
	int64_t now = srv_now_ms();

	if (delta > 0)
		return;
	for (size_t i = 0; i < nheld && room > 0;) {
		struct sess *s = sess_find(srv, held[i].sess);

		if (!held[i].calls || !s || s->closing || strcmp(s->ip, ip) ||
		    held[i].until > now || s->calls >= RPC_SESS_CALLS_MAX) {
			i++;
			continue;
		}
		let_go(srv, i);
		room--;
	}
}

void web_wire(struct srv *srv)
{
	srv->call_count = on_call_count;
}

void web_release(void)
{
	free(held);
	held = NULL;
	nheld = capheld = 0;
	hold_timer_ready = 0; /* the loop's handles are closed by its owner */
	message_timer_ready = 0;
	nunfinished = 0;
}

/*
 * A message that comes in pieces (fragments, or more than lws reads at once)
 * is whole within RUNIT_WS_MESSAGE_S, or the websocket is closed (4012).
 * Its buffer, up to RUNIT_MAX_FRAME, is the session's meanwhile: a client
 * that sent a first fragment and then only answered pings held it for good,
 * 256 MB an address. A timer looks once a second while any is unfinished.
 */
static void message_ended(struct sess *s)
{
	if (!s->rx_since_ms)
		return;
	s->rx_since_ms = 0;
	nunfinished--;
}

/* The message in pieces is over (whole or given up): its buffer goes. */
static void rx_drop(struct sess *s)
{
	message_ended(s);
	free(s->rx);
	s->rx = NULL;
	s->rx_len = s->rx_cap = 0;
}

static void check_unfinished(struct sess *s, void *arg)
{
	int64_t began_before = *(int64_t *)arg;

	if (!s->rx_since_ms || s->closing || s->rx_since_ms > began_before)
		return;
	log_json(LOG_WARN, "closing a websocket whose message did not finish in time",
		 json_pack("{s:I, s:s, s:I}", "session", (json_int_t)s->id, "ip", s->ip, "received",
			   (json_int_t)s->rx_len));
	rx_drop(s); /* nothing more is read from it */
	metrics.ws_message_timeouts_total++;
	sess_close(s, 4012, "message not finished in time");
}

static void on_message_timer(uv_timer_t *t)
{
	struct srv *srv = t->data;
	int64_t began_before = srv_now_ms() - (int64_t)srv->cfg.ws_message_s * 1000;

	sess_foreach(srv, check_unfinished, &began_before);
	if (!nunfinished)
		uv_timer_stop(t);
}

static void message_started(struct srv *srv, struct sess *s)
{
	s->rx_since_ms = srv_now_ms();
	nunfinished++;
	tick_every(srv, &message_timer, &message_timer_ready, on_message_timer, 1000);
}

/* 0, or the HTTP status refusing the upgrade */
static unsigned check_upgrade(struct lws *wsi, struct srv *srv)
{
	char uri[256], origin[256], ip[64];

	if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0 ||
	    (strcmp(uri, "/ws") && strncmp(uri, "/ws?", 4)))
		return HTTP_STATUS_FORBIDDEN;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) > 0) {
		if (lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) < 0 ||
		    !config_origin_allowed(&srv->cfg, origin)) {
			log_json(LOG_WARN, "websocket refused: origin not allowed",
				 json_pack("{s:s}", "origin", origin));
			return HTTP_STATUS_FORBIDDEN;
		}
	}
	if ((int)srv->sess_count >= srv->cfg.max_sessions)
		return HTTP_STATUS_FORBIDDEN;
	web_peer_addr(wsi, &srv->cfg, ip, sizeof(ip));
	if (web_addrs_count(ip) >= srv->cfg.ws_addr_max) {
		/* counted, not logged: a flood would fill the log */
		metrics.ws_refused_addr_total++;
		return 429;
	}
	return 0;
}

static int rx_append(struct sess *s, const void *in, size_t len)
{
	size_t need = s->rx_len + len;

	if (need > s->srv->cfg.max_frame) {
		s->rx_oversize = 1;
		return 0;
	}
	if (need + 1 > s->rx_cap) {
		size_t cap = s->rx_cap ? s->rx_cap : 4096;
		while (cap < need + 1)
			cap *= 2;
		char *p = realloc(s->rx, cap);
		if (!p)
			return -1;
		s->rx = p;
		s->rx_cap = cap;
	}
	memcpy(s->rx + s->rx_len, in, len);
	s->rx_len = need;
	return 0;
}

/* One whole message: a request to dispatch, or a rejection. */
static void rx_whole(struct sess *s, const char *buf, size_t len)
{
	metrics.frames_in_total++;
	metrics.bytes_in_total += len;
	s->last_active_ms = srv_now_ms();
	if (s->rx_oversize)
		rpc_reject(s, PROTO_R_TOO_LARGE, "message larger than the frame limit");
	else if (s->rx_binary)
		rpc_reject(s, PROTO_R_INVALID_REQUEST, "binary messages are not accepted");
	else
		rpc_dispatch(s, buf, len);
	s->rx_oversize = 0;
	s->rx_binary = 0;
}

/* A message that came in pieces (larger than lws's rx buffer, or
 * fragmented) is done. Its buffer goes: an idle session keeps none. */
static void rx_message_done(struct sess *s)
{
	message_ended(s); /* before it is handled, as the deadline counts */
	rx_whole(s, s->rx, s->rx_len);
	rx_drop(s);
}

static int cb_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		 size_t len)
{
	struct srv *srv = the_srv;
	struct ws_pss *pss;
	struct sess *s;

	if (reason == LWS_CALLBACK_FILTER_NETWORK_CONNECTION) {
		/* every accepted connection, before lws reads from it (user is
		 * lws's own, not a pss) */
		ws_mask_watch((int)(lws_intptr_t)in);
		return 0;
	}
	pss = user;
	s = pss ? pss->s : NULL;
	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
		unsigned status = check_upgrade(wsi, srv);

		if (!status)
			return 0;
		lws_return_http_status(wsi, status,
				       status == 429 ? "too many websockets from this address"
						     : "websocket refused");
		return 1;
	}

	case LWS_CALLBACK_ESTABLISHED:
		if (lws_is_ssl(wsi)) /* lws reads TLS with SSL_read: not ours to follow */
			ws_mask_forget(lws_get_socket_fd(wsi));
		else
			ws_mask_upgraded(lws_get_socket_fd(wsi));
		pss->s = sess_new(srv, wsi);
		if (!pss->s)
			return -1;
		web_peer_addr(wsi, &srv->cfg, pss->s->ip, sizeof(pss->s->ip));
		if (web_addrs_add(pss->s->ip, srv->cfg.ws_addr_bytes_s, srv_now_ms()))
			return -1;
		pss->counted = 1;
		sess_announce(pss->s);
		auth_sess_on_established(pss->s, wsi);
		metrics.ws_opened_total++;
		metrics.ws_open++;
		log_json(
		    LOG_DEBUG, "session opened",
		    json_pack("{s:I, s:s}", "session", (json_int_t)pss->s->id, "ip", pss->s->ip));
		return 0;

	case LWS_CALLBACK_RECEIVE: {
		long wait;

		if (!s || s->closing)
			return 0;
		if (pss->counted && (wait = web_addrs_spend(s->ip, len, srv_now_ms())) > 0)
			hold(srv, s, wait, 0); /* this piece is read; the next waits */
		if (lws_is_first_fragment(wsi))
			s->rx_binary = lws_frame_is_binary(wsi);
		if (!s->rx_len && lws_is_final_fragment(wsi) &&
		    !lws_remaining_packet_payload(wsi) && len <= s->srv->cfg.max_frame) {
			rx_whole(s, in, len); /* the common case: no copy, no buffer kept */
		} else {
			if (!s->rx_since_ms)
				message_started(srv, s);
			if (rx_append(s, in, len))
				return -1;
			if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi))
				rx_message_done(s);
		}
		if (pss->counted && !s->closing && calls_over(srv, s))
			hold(srv, s, 0, 1); /* until answers come */
		return 0;
	}

	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (!s)
			return 0;
		return sess_on_writable(s);

	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		/* the answer to our close frame (sess.c): the connection is done */
		return (s && s->close_sent) ? -1 : 0;

	case LWS_CALLBACK_CLOSED_HTTP: /* the UI's static files */
		ws_mask_forget(lws_get_socket_fd(wsi));
		break;

	case LWS_CALLBACK_CLOSED:
		ws_mask_forget(lws_get_socket_fd(wsi));
		if (s) {
			metrics.ws_closed_total++;
			metrics.ws_open--;
			log_json(LOG_DEBUG, "session closed",
				 json_pack("{s:I}", "session", (json_int_t)s->id));
			if (pss->counted)
				web_addrs_remove(s->ip);
			pss->counted = 0;
			message_ended(s);
			sess_free(s);
			pss->s = NULL;
		}
		return 0;

	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ---------- HTTP: /healthz, /metrics ---------- */

struct http_pss {
	unsigned char *body; /* LWS_PRE headroom, then len bytes */
	size_t len;
};

static int respond(struct lws *wsi, struct http_pss *pss, unsigned status, const char *ctype,
		   const char *text, size_t len)
{
	unsigned char hdr[LWS_PRE + 1024], *start = &hdr[LWS_PRE], *p = start,
					   *end = &hdr[sizeof(hdr) - 1];

	pss->body = malloc(LWS_PRE + len + 1);
	if (!pss->body)
		return -1;
	memcpy(pss->body + LWS_PRE, text, len);
	pss->len = len;
	if (lws_add_http_common_headers(wsi, status, ctype, (lws_filepos_t)len, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
					 (const unsigned char *)"no-store", 8, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
}

/*
 * "ok" (200): the database answers and so does the platform new runs go to.
 * "degraded" (200, or 503 with ?strict=1): the database answers, that
 * platform does not (or has not yet): accounts, projects and files work,
 * Run does not. "unavailable" (503): the database does not answer. README,
 * "HTTP endpoints", says why degraded is 200.
 */
static int serve_healthz(struct lws *wsi, struct http_pss *pss, struct srv *srv)
{
	struct db_stats st;
	char arg[32];
	const char *status = "ok", *strict;
	unsigned code = HTTP_STATUS_OK;
	json_t *body;
	char *text;
	int rc;

	db_pool_stats(srv->db, &st);
	if (!st.healthy) {
		status = "unavailable";
		code = HTTP_STATUS_SERVICE_UNAVAILABLE;
	} else if (!run_plat_can_run(srv)) {
		status = "degraded";
		strict = lws_get_urlarg_by_name(wsi, "strict=", arg, sizeof(arg));
		if (strict && !strcmp(strict, "1"))
			code = HTTP_STATUS_SERVICE_UNAVAILABLE;
	}
	body = json_pack("{s:s, s:s, s:o, s:s, s:I}", "status", status, "database",
			 st.healthy ? "up" : "down", "platforms", run_plat_health_all(srv),
			 "version", RUNIT_VERSION, "uptime_s",
			 (json_int_t)((srv_now_ms() - srv->started_ms) / 1000));
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text)
		return -1;
	rc = respond(wsi, pss, code, "application/json", text, strlen(text));
	free(text);
	return rc;
}

static int serve_metrics(struct lws *wsi, struct http_pss *pss, struct srv *srv)
{
	struct db_stats st;
	char auth[256], want[256], peer[64];
	size_t len;
	char *text;
	int rc;

	if (srv->cfg.metrics_allow_n) {
		peer[0] = '\0';
		lws_get_peer_simple(wsi, peer, sizeof(peer));
		if (!netmask_match(srv->cfg.metrics_allow, srv->cfg.metrics_allow_n, peer)) {
			static const char msg[] =
			    "{\"error\":\"metrics not served to this address\"}";
			log_json(LOG_INFO, "metrics refused: address not allowed",
				 json_pack("{s:s}", "ip", peer));
			return respond(wsi, pss, HTTP_STATUS_FORBIDDEN, "application/json", msg,
				       sizeof(msg) - 1);
		}
	}
	if (srv->cfg.metrics_token) {
		snprintf(want, sizeof(want), "Bearer %s", srv->cfg.metrics_token);
		/* constant time: the comparison must not tell how much of a guess was right */
		if (lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION) < 0 ||
		    strlen(auth) != strlen(want) || sodium_memcmp(auth, want, strlen(want))) {
			static const char msg[] = "{\"error\":\"metrics token required\"}";
			return respond(wsi, pss, HTTP_STATUS_UNAUTHORIZED, "application/json", msg,
				       sizeof(msg) - 1);
		}
	}
	db_pool_stats(srv->db, &st);
	text = metrics_render(&st, &len);
	if (!text)
		return -1;
	rc = respond(wsi, pss, HTTP_STATUS_OK, "text/plain; version=0.0.4; charset=utf-8", text,
		     len);
	free(text);
	return rc;
}

static int cb_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		   size_t len)
{
	struct srv *srv = the_srv;
	struct http_pss *pss = user;
	char uri[128];

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		metrics.http_requests_total++;
		if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0)
			return -1;
		if (!strcmp(uri, "/healthz"))
			return serve_healthz(wsi, pss, srv) ? -1 : 0;
		if (!strcmp(uri, "/metrics"))
			return serve_metrics(wsi, pss, srv) ? -1 : 0;
		lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL);
		return -1;

	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (!pss->body)
			return -1;
		if (lws_write(wsi, pss->body + LWS_PRE, pss->len, LWS_WRITE_HTTP_FINAL) <
		    (int)pss->len)
			return -1;
		free(pss->body);
		pss->body = NULL;
		if (lws_http_transaction_completed(wsi))
			return -1;
		return 0;

	case LWS_CALLBACK_CLOSED_HTTP:
		ws_mask_forget(lws_get_socket_fd(wsi));
		free(pss->body);
		pss->body = NULL;
		return 0;

	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

const struct lws_protocols web_protocols[] = {
    /* first: websocket upgrades without a subprotocol land here */
    /* rx_buffer_size: lws allocates it for every connection, idle or not
     * (10,000 idle websockets: 10 MB at 1 KB each); a larger message
     * arrives in pieces (rx_append). tx_packet_size: the most one send()
     * takes (without it, rx_buffer_size would be that too); larger than a
     * run/log frame (64 KB of output), so one frame is one send(), not 16
     * sends of 4 KB, each with its own trip through the event loop (the
     * server's CPU for 50 MB of output to readers: -40 %, decisions.md) */
    {"runit", cb_ws, sizeof(struct ws_pss), 1024, 0, NULL, 256 * 1024},
    {"runit-http", cb_http, sizeof(struct http_pss), 0, 0, NULL, 0},
    {HTTP_AUTH_PROTOCOL, http_auth_callback, sizeof(struct http_auth_pss), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

void web_fd_limit(const struct config *cfg)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)cfg->max_sessions + 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur < want)
		log_json(LOG_WARN, "open files limited below the sessions allowed",
			 json_pack("{s:I, s:i}", "nofile", (json_int_t)rl.rlim_cur, "max_sessions",
				   cfg->max_sessions));
}

const struct lws_http_mount *web_mounts(const struct config *cfg,
					struct lws_http_mount m[WEB_NMOUNTS])
{
	struct lws_http_mount *healthz = &m[0], *metrics_m = &m[1], *auth = &m[2], *ui = &m[3];

	memset(m, 0, WEB_NMOUNTS * sizeof(*m));
	ui->mountpoint = "/";
	ui->mountpoint_len = 1;
	ui->origin = cfg->ui_dir;
	ui->def = "index.html";
	ui->origin_protocol = LWSMPRO_FILE;
	ui->cache_max_age = 0;

	/* POST /auth/signup, /auth/login, /auth/logout (http_auth.c) */
	auth->mountpoint = "/auth";
	auth->mountpoint_len = 5;
	auth->origin = HTTP_AUTH_PROTOCOL;
	auth->origin_protocol = LWSMPRO_CALLBACK;
	auth->mount_next = ui;

	metrics_m->mountpoint = "/metrics";
	metrics_m->mountpoint_len = 8;
	metrics_m->origin = "runit-http";
	metrics_m->origin_protocol = LWSMPRO_CALLBACK;
	metrics_m->mount_next = auth;

	healthz->mountpoint = "/healthz";
	healthz->mountpoint_len = 8;
	healthz->origin = "runit-http";
	healthz->origin_protocol = LWSMPRO_CALLBACK;
	healthz->mount_next = metrics_m;
	return healthz;
}
