/*
 * db_pool.c - non-blocking PostgreSQL connections on the server's libuv loop.
 *
 * Each connection is a PGconn in non-blocking mode whose socket is watched by
 * a uv_poll_t: connecting with PQconnectStart/PQconnectPoll, sending with
 * PQsendQueryParams and PQflush (UV_WRITABLE while libpq has unsent data),
 * receiving with PQconsumeInput/PQisBusy/PQgetResult on UV_READABLE. Requests
 * wait in one FIFO; the kick handle (a uv_idle_t) hands the head to the first
 * idle connection on the next loop turn, which also guarantees that no
 * callback ever runs from inside db_query()/db_acquire(). A connection that
 * breaks fails its in-flight query and reconnects with back-off; a connection
 * returned still inside a transaction is rolled back before reuse. One extra
 * connection, created on the first db_listen(), carries LISTEN/NOTIFY.
 *
 * Memory: every uv handle lives inside the pool, a connection, or a watch;
 * db_pool_free() closes them all and the pool is freed by the last close
 * callback, so the loop must run once more after db_pool_free().
 */
#include "db.h"
#include "metrics.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB_QUEUE_TIMEOUT_MS 5000
#define DB_CONNECT_TIMEOUT_MS 10000
#define DB_BACKOFF_MIN_MS 100
#define DB_BACKOFF_MAX_MS 5000
#define DB_PROBE_LIMIT_MS 2000
#define DB_MAX_PARAMS 65535

enum req_kind { REQ_QUERY, REQ_ACQUIRE };
enum conn_state { CONN_DOWN, CONN_CONNECTING, CONN_READY };

/* A query or an acquire, queued or in flight. Owns its copies of the SQL and
 * parameters (one allocation). */
struct db_req {
	struct db_req *next;
	enum req_kind kind;
	int internal; /* pool's own (probe, ROLLBACK, LISTEN): not counted */
	int simple;   /* PQsendQuery (several statements, no parameters) */
	const char *sql;
	int nparams;
	const char **params;
	db_cb cb;
	db_acquire_cb acb;
	void *arg;
	uint64_t deadline; /* loop time by which a queued request fails */
	uint64_t t_new;	   /* uv_hrtime() at db_query(): for the latency metric */
};

/* A uv_poll_t on one libpq socket; replaced when the socket changes. */
struct db_watch {
	uv_poll_t poll;
	struct db_pool *pool;
	struct db_conn *conn; /* NULL once closing */
	int fd;
};

struct db_conn {
	struct db_pool *pool;
	PGconn *pg;
	struct db_watch *watch;
	uv_timer_t timer; /* back-off before reconnecting; connect timeout */
	unsigned backoff_ms;
	enum conn_state state;
	int want_write;	    /* PQflush has more to send */
	int held;	    /* given out by db_acquire() */
	int broken;	    /* lost while held: reconnect on db_release() */
	int listener;	    /* the LISTEN connection, not in the pool */
	int was_up;	    /* has been connected before */
	int reconnected;    /* listener: tell subscribers after re-LISTEN */
	struct db_req *cur; /* in flight */
	PGresult *res;	    /* result collected for cur */
};

struct db_sub {
	struct db_sub *next;
	char *channel;
	void (*cb)(void *arg, const char *channel, const char *payload);
	void *arg;
};

struct db_pool {
	uv_loop_t *loop;
	char *conninfo;
	int size;
	struct db_conn **conns;
	struct db_conn *listener;
	struct db_sub *subs;
	int listen_dirty; /* a channel was added while LISTEN was in flight */
	struct db_req *qhead, *qtail;
	int queued;
	uv_idle_t kick;
	uv_timer_t queue_timer;
	uv_timer_t health_timer;
	uv_timer_t probe_timer;
	int health_on;
	int probe_pending;
	uint64_t probe_started;
	int healthy;
	int up;		 /* pool connections in CONN_READY */
	int down_logged; /* an outage was reported; report recovery */
	unsigned long long queries, errors;
	int open_handles;
	int closing;
};

/* What db_last_sqlstate()/db_last_constraint() report during a callback. */
static char g_sqlstate[6];
static char g_constraint[64];

static void conn_connect(struct db_conn *c);
static void conn_fail(struct db_conn *c, const char *why);
static void pool_kick(struct db_pool *p);
static void listener_send(struct db_pool *p);

static void notice_silent(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Completion of the pool's own ROLLBACK: conn_settle already ran. */
static void cb_ignore(void *arg, PGresult *res, const char *err)
{
	(void)arg;
	(void)res;
	(void)err;
}

/* prefix + src on one line: libpq's newlines and tabs become spaces, the
 * trailing ones go. */
static void copy_msg(char *dst, size_t n, const char *prefix, const char *src)
{
	int len = snprintf(dst, n, "%s%s", prefix, src ? src : "unknown error");
	size_t i, o = 0;

	if (len < 0) {
		dst[0] = '\0';
		return;
	}
	for (i = 0; dst[i]; i++) {
		char ch = dst[i] == '\n' || dst[i] == '\t' ? ' ' : dst[i];

		if (ch == ' ' && (o == 0 || dst[o - 1] == ' '))
			continue;
		dst[o++] = ch;
	}
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
}

/* ------------------------------------------------------------ requests */

static struct db_req *req_new(enum req_kind kind, const char *sql, int nparams,
			      const char *const *params)
{
	size_t sqllen = sql ? strlen(sql) + 1 : 0;
	size_t total = sizeof(struct db_req) + (size_t)nparams * sizeof(char *) + sqllen;
	struct db_req *r;
	char *s;
	int i;

	for (i = 0; i < nparams; i++)
		if (params[i])
			total += strlen(params[i]) + 1;
	r = calloc(1, total);
	if (!r)
		return NULL;
	r->t_new = uv_hrtime();
	r->kind = kind;
	r->nparams = nparams;
	r->params = (const char **)(r + 1);
	s = (char *)(r->params + nparams);
	for (i = 0; i < nparams; i++) {
		if (!params[i])
			continue;
		size_t l = strlen(params[i]) + 1;
		memcpy(s, params[i], l);
		r->params[i] = s;
		s += l;
	}
	if (sql) {
		memcpy(s, sql, sqllen);
		r->sql = s;
	}
	return r;
}

/* Runs the request's callback once and frees it. res is borrowed. */
static void req_deliver(struct db_pool *p, struct db_req *r, struct db_conn *c, PGresult *res,
			const char *err, const char *sqlstate, const char *constraint)
{
	if (!r->internal) {
		p->queries++;
		if (err)
			p->errors++;
		if (r->kind == REQ_QUERY)
			metrics_db_query((double)(uv_hrtime() - r->t_new) / 1e9);
	}
	snprintf(g_sqlstate, sizeof(g_sqlstate), "%s", sqlstate ? sqlstate : "");
	snprintf(g_constraint, sizeof(g_constraint), "%s", constraint ? constraint : "");
	if (r->kind == REQ_ACQUIRE)
		r->acb(r->arg, err ? NULL : c, err);
	else
		r->cb(r->arg, err ? NULL : res, err);
	g_sqlstate[0] = '\0';
	g_constraint[0] = '\0';
	free(r);
}

static void queue_push(struct db_pool *p, struct db_req *r, int front)
{
	if (front) {
		r->next = p->qhead;
		p->qhead = r;
		if (!p->qtail)
			p->qtail = r;
	} else {
		r->next = NULL;
		if (p->qtail)
			p->qtail->next = r;
		else
			p->qhead = r;
		p->qtail = r;
	}
	p->queued++;
}

static struct db_req *queue_pop(struct db_pool *p)
{
	struct db_req *r = p->qhead;

	if (!r)
		return NULL;
	p->qhead = r->next;
	if (!p->qhead)
		p->qtail = NULL;
	p->queued--;
	r->next = NULL;
	return r;
}

/* Fails the queued requests whose wait passed DB_QUEUE_TIMEOUT_MS. */
static void on_queue_timer(uv_timer_t *t)
{
	struct db_pool *p = t->data;
	uint64_t now = uv_now(p->loop);

	while (!p->closing && p->qhead && p->qhead->deadline <= now)
		req_deliver(p, queue_pop(p), NULL, NULL, "database unavailable", "08001", NULL);
	if (!p->closing && p->qhead)
		uv_timer_start(&p->queue_timer, on_queue_timer, p->qhead->deadline - now, 0);
}

/* Queues a new request for the next idle connection. */
static void queue_submit(struct db_pool *p, struct db_req *r)
{
	r->deadline = uv_now(p->loop) + DB_QUEUE_TIMEOUT_MS;
	queue_push(p, r, 0);
	if (!uv_is_active((uv_handle_t *)&p->queue_timer))
		uv_timer_start(&p->queue_timer, on_queue_timer, DB_QUEUE_TIMEOUT_MS, 0);
	pool_kick(p);
}

/* ------------------------------------------------------- handle closing */

static void pool_destroy(struct db_pool *p)
{
	struct db_sub *s, *next;
	int i;

	for (i = 0; i < p->size; i++)
		free(p->conns[i]);
	free(p->listener);
	for (s = p->subs; s; s = next) {
		next = s->next;
		free(s->channel);
		free(s);
	}
	free(p->conns);
	free(p->conninfo);
	free(p);
}

static void pool_handle_closed(struct db_pool *p)
{
	if (--p->open_handles == 0 && p->closing)
		pool_destroy(p);
}

static void on_pool_handle_closed(uv_handle_t *h)
{
	pool_handle_closed(h->data);
}

static void on_conn_timer_closed(uv_handle_t *h)
{
	struct db_conn *c = h->data;

	pool_handle_closed(c->pool);
}

static void on_watch_closed(uv_handle_t *h)
{
	struct db_watch *w = h->data;
	struct db_pool *p = w->pool;

	free(w);
	pool_handle_closed(p);
}

/* ------------------------------------------------------------- sockets */

static void on_poll(uv_poll_t *h, int status, int events);

static void watch_close(struct db_conn *c)
{
	struct db_watch *w = c->watch;

	if (!w)
		return;
	c->watch = NULL;
	w->conn = NULL;
	uv_close((uv_handle_t *)&w->poll, on_watch_closed);
}

/* Watches PQsocket() for events, following the socket when libpq replaced
 * it (it does while connecting: several addresses, SSL retry). */
static int watch_set(struct db_conn *c, int events)
{
	int fd = PQsocket(c->pg);
	struct db_watch *w;

	if (fd < 0)
		return -1;
	if (c->watch && c->watch->fd != fd)
		watch_close(c);
	if (!c->watch) {
		w = calloc(1, sizeof(*w));
		if (!w)
			return -1;
		if (uv_poll_init_socket(c->pool->loop, &w->poll, fd) < 0) {
			free(w);
			return -1;
		}
		w->poll.data = w;
		w->pool = c->pool;
		w->conn = c;
		w->fd = fd;
		c->pool->open_handles++;
		c->watch = w;
	}
	/* uv_poll_start re-registers the fd, so a new socket that reused the
	 * old number is watched too. */
	return uv_poll_start(&c->watch->poll, events, on_poll) < 0 ? -1 : 0;
}

/* --------------------------------------------------------- connections */

static void conn_close_pg(struct db_conn *c)
{
	watch_close(c); /* before PQfinish closes the socket under it */
	if (c->res) {
		PQclear(c->res);
		c->res = NULL;
	}
	if (c->pg) {
		PQfinish(c->pg);
		c->pg = NULL;
	}
	c->want_write = 0;
}

static void on_conn_timer(uv_timer_t *t)
{
	struct db_conn *c = t->data;

	if (c->pool->closing)
		return;
	if (c->state == CONN_CONNECTING)
		conn_fail(c, "connection attempt timed out");
	else if (c->state == CONN_DOWN && !c->held)
		conn_connect(c);
}

static void conn_schedule_reconnect(struct db_conn *c)
{
	unsigned delay = c->backoff_ms;

	if (c->pool->closing)
		return;
	c->backoff_ms =
	    c->backoff_ms * 2 > DB_BACKOFF_MAX_MS ? DB_BACKOFF_MAX_MS : c->backoff_ms * 2;
	uv_timer_start(&c->timer, on_conn_timer, delay, 0);
}

/*
 * The connection is unusable: drop it, fail its in-flight request (with
 * SQLSTATE 08006), and reconnect after the back-off - unless a caller holds
 * it, in which case it reconnects on db_release(), so that statements meant
 * for one transaction never land on a fresh session.
 */
static void conn_fail(struct db_conn *c, const char *why)
{
	struct db_pool *p = c->pool;
	struct db_req *r = c->cur;
	char reason[400], msg[512];

	copy_msg(reason, sizeof(reason), "", why); /* why may live in c->pg */
	snprintf(msg, sizeof(msg), "database connection lost: %s", reason);
	c->cur = NULL;
	conn_close_pg(c);
	if (c->state == CONN_READY && !c->listener) {
		if (--p->up == 0) {
			p->healthy = 0;
			fprintf(stderr, "run-it: db: %s; reconnecting\n", msg);
			p->down_logged = 1;
		}
	} else if (c->state != CONN_READY && p->up == 0 && !p->down_logged && !c->listener) {
		fprintf(stderr, "run-it: db: cannot connect to the database: %s; retrying\n",
			reason);
		p->down_logged = 1;
	}
	c->state = CONN_DOWN;
	if (c->held)
		c->broken = 1;
	else
		conn_schedule_reconnect(c);
	if (r)
		req_deliver(p, r, NULL, NULL, msg, "08006", NULL);
}

static void conn_ready(struct db_conn *c)
{
	struct db_pool *p = c->pool;

	uv_timer_stop(&c->timer);
	if (PQsetnonblocking(c->pg, 1) != 0 || watch_set(c, UV_READABLE) < 0) {
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	c->state = CONN_READY;
	c->backoff_ms = DB_BACKOFF_MIN_MS;
	c->reconnected = c->was_up;
	c->was_up = 1;
	if (c->listener) {
		listener_send(p);
		return;
	}
	if (p->up++ == 0 && p->down_logged) {
		fprintf(stderr, "run-it: db: connected again\n");
		p->down_logged = 0;
	}
	pool_kick(p);
}

/* Starts a connection attempt; the socket events drive conn_connect_step. */
static void conn_connect(struct db_conn *c)
{
	c->pg = PQconnectStart(c->pool->conninfo);
	if (!c->pg) {
		conn_fail(c, "out of memory");
		return;
	}
	PQsetNoticeProcessor(c->pg, notice_silent, NULL);
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	c->state = CONN_CONNECTING;
	uv_timer_start(&c->timer, on_conn_timer, DB_CONNECT_TIMEOUT_MS, 0);
	/* libpq: behave as if PQconnectPoll had returned PGRES_POLLING_WRITING */
	if (watch_set(c, UV_WRITABLE) < 0)
		conn_fail(c, "cannot watch the database socket");
}

static void conn_connect_step(struct db_conn *c)
{
	switch (PQconnectPoll(c->pg)) {
	case PGRES_POLLING_READING:
		if (watch_set(c, UV_READABLE) < 0)
			conn_fail(c, "cannot watch the database socket");
		break;
	case PGRES_POLLING_WRITING:
		if (watch_set(c, UV_WRITABLE) < 0)
			conn_fail(c, "cannot watch the database socket");
		break;
	case PGRES_POLLING_OK:
		conn_ready(c);
		break;
	default:
		conn_fail(c, PQerrorMessage(c->pg));
		break;
	}
}

/* Sends what libpq buffered; watches UV_WRITABLE until all is out. */
static int conn_flush(struct db_conn *c)
{
	int rc = PQflush(c->pg);
	int want;

	if (rc < 0)
		return -1;
	want = rc == 1;
	if (want != c->want_write) {
		c->want_write = want;
		if (watch_set(c, UV_READABLE | (want ? UV_WRITABLE : 0)) < 0)
			return -1;
	}
	return 0;
}

/* Puts r in flight on c. -1: nothing sent, r not taken. */
static int conn_send(struct db_conn *c, struct db_req *r)
{
	int ok;

	if (r->simple)
		ok = PQsendQuery(c->pg, r->sql);
	else
		ok = PQsendQueryParams(c->pg, r->sql, r->nparams, NULL,
				       (const char *const *)r->params, NULL, NULL, 0);
	if (!ok)
		return -1;
	c->cur = r;
	return 0;
}

/* A connection just finished a request outside db_acquire(): make it
 * idle again, rolling back a transaction it was left in. Never runs a
 * caller's callback. */
static void conn_settle(struct db_conn *c)
{
	struct db_req *r;

	switch (PQtransactionStatus(c->pg)) {
	case PQTRANS_IDLE:
		pool_kick(c->pool);
		return;
	case PQTRANS_INTRANS:
	case PQTRANS_INERROR:
		r = req_new(REQ_QUERY, "ROLLBACK", 0, NULL);
		if (!r) {
			conn_fail(c, "out of memory");
			return;
		}
		r->internal = 1;
		r->simple = 1;
		r->cb = cb_ignore;
		if (conn_send(c, r) < 0) {
			free(r);
			conn_fail(c, PQerrorMessage(c->pg));
			return;
		}
		if (conn_flush(c) < 0)
			conn_fail(c, PQerrorMessage(c->pg));
		return;
	default:
		conn_fail(c, "connection in an unexpected state");
		return;
	}
}

/* ------------------------------------------------------------- results */

static int res_ok(const PGresult *res)
{
	return PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK;
}

/* Keeps one result per request: the first error if any, else the last. */
static void conn_keep_result(struct db_conn *c, PGresult *res)
{
	if (c->res && !res_ok(c->res)) {
		PQclear(res);
		return;
	}
	PQclear(c->res);
	c->res = res;
}

/* All results of c->cur are in: hand them to its callback. */
static void conn_query_done(struct db_conn *c)
{
	struct db_pool *p = c->pool;
	struct db_req *r = c->cur;
	PGresult *res = c->res;
	char err[512];
	const char *e = NULL;
	char state[6] = "";
	char cons[64] = "";

	if (PQstatus(c->pg) == CONNECTION_BAD) {
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	c->cur = NULL;
	c->res = NULL;
	if (!res) {
		e = "no result from the database";
	} else if (!res_ok(res)) {
		const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		const char *ss = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		const char *cn = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);

		if (PQresultStatus(res) == PGRES_EMPTY_QUERY)
			primary = "empty query";
		copy_msg(err, sizeof(err), "", primary ? primary : PQresultErrorMessage(res));
		snprintf(state, sizeof(state), "%s", ss ? ss : "");
		snprintf(cons, sizeof(cons), "%s", cn ? cn : "");
		e = err;
	}
	if (!c->held)
		conn_settle(c);
	req_deliver(p, r, c, res, e, state, cons);
	PQclear(res);
}

/* Delivers NOTIFY messages to the db_listen() subscribers. -1: the pool
 * was freed by a subscriber. */
static int conn_drain_notifies(struct db_conn *c)
{
	struct db_pool *p = c->pool;
	PGnotify *n;
	struct db_sub *s;

	while (c->pg && (n = PQnotifies(c->pg)) != NULL) {
		for (s = p->subs; s && !p->closing; s = s->next)
			if (c->listener && strcmp(s->channel, n->relname) == 0)
				s->cb(s->arg, n->relname, n->extra);
		PQfreemem(n);
		if (p->closing)
			return -1;
	}
	return 0;
}

static void conn_read(struct db_conn *c)
{
	PGresult *res;
	ExecStatusType st;

	if (!PQconsumeInput(c->pg)) {
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	if (conn_drain_notifies(c) < 0 || !c->pg)
		return;
	while (c->cur && !PQisBusy(c->pg)) {
		res = PQgetResult(c->pg);
		if (!res) {
			conn_query_done(c);
			return;
		}
		st = PQresultStatus(res);
		if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
			PQclear(res);
			conn_fail(c, "COPY is not supported by the pool");
			return;
		}
		conn_keep_result(c, res);
	}
	if (!c->cur && PQstatus(c->pg) == CONNECTION_BAD)
		conn_fail(c, PQerrorMessage(c->pg));
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct db_watch *w = h->data;
	struct db_conn *c = w->conn;

	if (!c || !c->pg || c->pool->closing)
		return;
	if (c->state == CONN_CONNECTING) {
		/* an error here (refused) is for PQconnectPoll to see */
		conn_connect_step(c);
		return;
	}
	if (status < 0) { /* POLLERR: libuv stopped the watch */
		if (!PQconsumeInput(c->pg))
			conn_fail(c, PQerrorMessage(c->pg));
		else
			conn_fail(c, "socket error");
		return;
	}
	if ((events & UV_WRITABLE) && c->want_write && conn_flush(c) < 0) {
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	if (events & UV_READABLE)
		conn_read(c);
}

/* ------------------------------------------------------------ dispatch */

static struct db_conn *pool_idle_conn(struct db_pool *p)
{
	int i;

	for (i = 0; i < p->size; i++) {
		struct db_conn *c = p->conns[i];

		if (c->state == CONN_READY && !c->held && !c->cur)
			return c;
	}
	return NULL;
}

/* Hands queued requests, oldest first, to idle connections. */
static void pool_dispatch(struct db_pool *p)
{
	struct db_conn *c;
	struct db_req *r;

	while (!p->closing && p->qhead && (c = pool_idle_conn(p)) != NULL) {
		r = queue_pop(p);
		if (r->kind == REQ_ACQUIRE) {
			c->held = 1;
			req_deliver(p, r, c, NULL, NULL, NULL, NULL);
			continue;
		}
		if (conn_send(c, r) < 0) {
			/* nothing reached the server: the request keeps its place */
			queue_push(p, r, 1);
			conn_fail(c, PQerrorMessage(c->pg));
			continue;
		}
		if (conn_flush(c) < 0)
			conn_fail(c, PQerrorMessage(c->pg));
	}
}

static void on_kick(uv_idle_t *h)
{
	struct db_pool *p = h->data;

	uv_idle_stop(&p->kick);
	pool_dispatch(p);
}

/* Dispatch on the next loop turn (never inside a caller's call). */
static void pool_kick(struct db_pool *p)
{
	if (!p->closing && p->qhead)
		uv_idle_start(&p->kick, on_kick);
}

/* ---------------------------------------------------------- public API */

static struct db_conn *conn_new(struct db_pool *p, int listener)
{
	struct db_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->pool = p;
	c->listener = listener;
	c->backoff_ms = DB_BACKOFF_MIN_MS;
	uv_timer_init(p->loop, &c->timer);
	c->timer.data = c;
	p->open_handles++;
	return c;
}

struct db_pool *db_pool_new(uv_loop_t *loop, const char *conninfo, int size)
{
	struct db_pool *p;
	PQconninfoOption *opts;
	char *errmsg = NULL;
	int i;

	if (!loop || !conninfo || size < 1 || size > 256)
		return NULL;
	opts = PQconninfoParse(conninfo, &errmsg);
	if (!opts) {
		char msg[512];

		copy_msg(msg, sizeof(msg), "", errmsg ? errmsg : "out of memory");
		fprintf(stderr, "run-it: db: bad database URL: %s\n", msg);
		PQfreemem(errmsg);
		return NULL;
	}
	PQconninfoFree(opts);
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->conninfo = strdup(conninfo);
	p->conns = calloc((size_t)size, sizeof(*p->conns));
	if (!p->conninfo || !p->conns) {
		free(p->conninfo);
		free(p->conns);
		free(p);
		return NULL;
	}
	p->loop = loop;
	uv_idle_init(loop, &p->kick);
	uv_timer_init(loop, &p->queue_timer);
	uv_timer_init(loop, &p->health_timer);
	uv_timer_init(loop, &p->probe_timer);
	p->kick.data = p->queue_timer.data = p->health_timer.data = p->probe_timer.data = p;
	p->open_handles = 4;
	for (i = 0; i < size; i++) {
		p->conns[i] = conn_new(p, 0);
		if (!p->conns[i])
			break;
		p->size++;
	}
	if (p->size < size) {
		db_pool_free(p);
		return NULL;
	}
	for (i = 0; i < size; i++)
		conn_connect(p->conns[i]);
	return p;
}

static int params_ok(const char *sql, int nparams, const char *const *params)
{
	return sql && nparams >= 0 && nparams <= DB_MAX_PARAMS && (nparams == 0 || params);
}

int db_query(struct db_pool *p, const char *sql, int nparams, const char *const *params, db_cb cb,
	     void *arg)
{
	struct db_req *r;

	if (!p || p->closing || !cb || !params_ok(sql, nparams, params))
		return -1;
	r = req_new(REQ_QUERY, sql, nparams, params);
	if (!r)
		return -1;
	r->cb = cb;
	r->arg = arg;
	queue_submit(p, r);
	return 0;
}

int db_acquire(struct db_pool *p, db_acquire_cb cb, void *arg)
{
	struct db_req *r;

	if (!p || p->closing || !cb)
		return -1;
	r = req_new(REQ_ACQUIRE, NULL, 0, NULL);
	if (!r)
		return -1;
	r->acb = cb;
	r->arg = arg;
	queue_submit(p, r);
	return 0;
}

int db_conn_query(struct db_conn *c, const char *sql, int nparams, const char *const *params,
		  db_cb cb, void *arg)
{
	struct db_req *r;

	if (!c || c->pool->closing || !c->held || c->broken || c->cur || c->state != CONN_READY ||
	    !cb || !params_ok(sql, nparams, params))
		return -1;
	r = req_new(REQ_QUERY, sql, nparams, params);
	if (!r)
		return -1;
	r->cb = cb;
	r->arg = arg;
	if (conn_send(c, r) < 0) {
		free(r);
		conn_fail(c, PQerrorMessage(c->pg)); /* held: marks it broken */
		return -1;
	}
	if (conn_flush(c) < 0) {
		c->cur = NULL; /* the caller hears -1, not the callback */
		free(r);
		conn_fail(c, PQerrorMessage(c->pg));
		return -1;
	}
	return 0;
}

void db_release(struct db_conn *c)
{
	if (!c || !c->held)
		return;
	c->held = 0;
	if (c->pool->closing)
		return;
	if (c->broken) {
		c->broken = 0;
		conn_schedule_reconnect(c);
		return;
	}
	if (c->cur)
		return; /* conn_query_done settles it */
	conn_settle(c);
}

const char *db_last_sqlstate(void)
{
	return g_sqlstate;
}

const char *db_last_constraint(void)
{
	return g_constraint;
}

void db_pool_stats(const struct db_pool *p, struct db_stats *st)
{
	int i;

	memset(st, 0, sizeof(*st));
	if (!p)
		return;
	st->size = p->size;
	for (i = 0; i < p->size; i++) {
		const struct db_conn *c = p->conns[i];

		st->connected += c->state == CONN_READY;
		st->in_use += c->cur != NULL || c->held;
	}
	st->queued = p->queued;
	st->queries = p->queries;
	st->errors = p->errors;
	st->healthy = p->health_on ? p->healthy : st->connected > 0;
}

/* -------------------------------------------------------------- health */

static void on_probe_done(void *arg, PGresult *res, const char *err)
{
	struct db_pool *p = arg;

	p->probe_pending = 0;
	if (p->closing)
		return;
	uv_timer_stop(&p->probe_timer);
	p->healthy = !err && res && uv_now(p->loop) - p->probe_started <= DB_PROBE_LIMIT_MS;
}

static void on_probe_timer(uv_timer_t *t)
{
	struct db_pool *p = t->data;

	if (p->probe_pending)
		p->healthy = 0; /* stuck: unhealthy now, not at the queue timeout */
}

static void on_health_tick(uv_timer_t *t)
{
	struct db_pool *p = t->data;
	struct db_req *r;

	if (p->closing || p->probe_pending)
		return;
	r = req_new(REQ_QUERY, "SELECT 1", 0, NULL);
	if (!r) {
		p->healthy = 0;
		return;
	}
	r->internal = 1;
	r->cb = on_probe_done;
	r->arg = p;
	p->probe_pending = 1;
	p->probe_started = uv_now(p->loop);
	uv_timer_start(&p->probe_timer, on_probe_timer, DB_PROBE_LIMIT_MS, 0);
	queue_submit(p, r);
}

void db_pool_start_health(struct db_pool *p, unsigned interval_ms)
{
	if (!p || p->closing)
		return;
	if (interval_ms == 0)
		interval_ms = 1000;
	p->health_on = 1;
	uv_timer_start(&p->health_timer, on_health_tick, 0, interval_ms);
}

/* ------------------------------------------------------ LISTEN/NOTIFY */

/* A channel name we can double-quote safely: [A-Za-z_][A-Za-z0-9_]{0,62}. */
static int channel_ok(const char *s)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_";
	static const char alnum[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_0123456789";
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n <= 63 && strchr(alpha, s[0]) && strspn(s, alnum) == n;
}

static void on_listen_done(void *arg, PGresult *res, const char *err)
{
	struct db_conn *c = arg;
	struct db_pool *p = c->pool;
	struct db_sub *s;

	(void)res;
	if (p->closing)
		return;
	if (err) {
		if (c->state == CONN_READY) /* an SQL error, not a lost connection */
			fprintf(stderr, "run-it: db: LISTEN failed: %s\n", err);
		return;
	}
	if (p->listen_dirty) {
		listener_send(p);
		return;
	}
	if (c->reconnected) {
		/* notifications sent while we were away are lost: say so */
		c->reconnected = 0;
		for (s = p->subs; s && !p->closing; s = s->next)
			s->cb(s->arg, s->channel, NULL);
	}
}

/* LISTENs to every subscribed channel (again) on the listener connection. */
static void listener_send(struct db_pool *p)
{
	struct db_conn *c = p->listener;
	struct db_sub *s;
	struct db_req *r;
	size_t len = 1, off = 0;
	char *sql;

	if (!c || c->state != CONN_READY)
		return;
	if (c->cur) {
		p->listen_dirty = 1;
		return;
	}
	p->listen_dirty = 0;
	for (s = p->subs; s; s = s->next)
		len += strlen(s->channel) + sizeof("LISTEN \"\";");
	sql = malloc(len);
	if (!sql) {
		conn_fail(c, "out of memory");
		return;
	}
	for (s = p->subs; s; s = s->next) {
		int n = snprintf(sql + off, len - off, "LISTEN \"%s\";", s->channel);

		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
	sql[off] = '\0';
	r = req_new(REQ_QUERY, sql, 0, NULL);
	free(sql);
	if (!r) {
		conn_fail(c, "out of memory");
		return;
	}
	r->internal = 1;
	r->simple = 1;
	r->cb = on_listen_done;
	r->arg = c;
	if (conn_send(c, r) < 0) {
		free(r);
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	if (conn_flush(c) < 0)
		conn_fail(c, PQerrorMessage(c->pg));
}

int db_listen(struct db_pool *p, const char *channel,
	      void (*cb)(void *arg, const char *channel, const char *payload), void *arg)
{
	struct db_sub *s;

	if (!p || p->closing || !cb || !channel_ok(channel))
		return -1;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->channel = strdup(channel))) {
		free(s);
		return -1;
	}
	if (!p->listener) {
		p->listener = conn_new(p, 1);
		if (!p->listener) {
			free(s->channel);
			free(s);
			return -1;
		}
	}
	s->cb = cb;
	s->arg = arg;
	s->next = p->subs;
	p->subs = s;
	if (p->listener->state == CONN_READY)
		listener_send(p);
	else if (p->listener->state == CONN_DOWN && !p->listener->pg &&
		 !uv_is_active((uv_handle_t *)&p->listener->timer))
		conn_connect(p->listener);
	return 0;
}

/* ------------------------------------------------------------ shutdown */

static void conn_shutdown(struct db_conn *c)
{
	struct db_req *r = c->cur;

	c->cur = NULL;
	conn_close_pg(c);
	c->state = CONN_DOWN;
	uv_close((uv_handle_t *)&c->timer, on_conn_timer_closed);
	if (r)
		req_deliver(c->pool, r, NULL, NULL, "shutting down", NULL, NULL);
}

void db_pool_free(struct db_pool *p)
{
	struct db_req *r;
	int i;

	if (!p || p->closing)
		return;
	p->closing = 1;
	uv_close((uv_handle_t *)&p->kick, on_pool_handle_closed);
	uv_close((uv_handle_t *)&p->queue_timer, on_pool_handle_closed);
	uv_close((uv_handle_t *)&p->health_timer, on_pool_handle_closed);
	uv_close((uv_handle_t *)&p->probe_timer, on_pool_handle_closed);
	for (i = 0; i < p->size; i++)
		conn_shutdown(p->conns[i]);
	if (p->listener)
		conn_shutdown(p->listener);
	while ((r = queue_pop(p)) != NULL)
		req_deliver(p, r, NULL, NULL, "shutting down", NULL, NULL);
}
