/*
 * db_conn.c - one non-blocking PostgreSQL connection on the server's libuv
 * loop. A PGconn in non-blocking mode whose socket is watched by a
 * uv_poll_t: connecting with PQconnectStart/PQconnectPoll, sending with
 * PQsendQueryPrepared and PQflush (UV_WRITABLE while libpq has unsent data),
 * receiving with PQconsumeInput/PQisBusy/PQgetResult on UV_READABLE.
 * A statement is prepared on a connection the first time it is sent there
 * (PQsendPrepare, then its execute once that is answered), so it is parsed
 * and planned once a connection, not once a call (a save's call costs
 * PostgreSQL about 80 us less: docs/decisions.md, "Saves"); past
 * DB_STMTS_MAX different statements, the rest go unnamed. A
 * connection that breaks fails its in-flight request and reconnects with
 * back-off; one that finishes a request inside a transaction it was not
 * held for is rolled back before reuse.
 *
 * The pool (db_pool.c) and LISTEN/NOTIFY (db_listen.c) sit above this file
 * and hear from it through p->hooks (db_int.h).
 */
#include "db_int.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void kick(struct db_pool *p)
{
	if (p->hooks.kick)
		p->hooks.kick(p);
}

static void handle_closed(struct db_pool *p)
{
	if (p->hooks.handle_closed)
		p->hooks.handle_closed(p);
}

static void on_conn_timer_closed(uv_handle_t *h)
{
	struct db_conn *c = h->data;

	handle_closed(c->pool);
}

static void on_watch_closed(uv_handle_t *h)
{
	struct db_watch *w = h->data;
	struct db_pool *p = w->pool;

	free(w);
	handle_closed(p);
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

struct db_conn *db__conn_new(struct db_pool *p, int listener)
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

/* The prepared statements die with the session that prepared them. */
static void stmts_forget(struct db_conn *c)
{
	for (int i = 0; i < c->nstmts; i++)
		free(c->stmts[i]);
	free(c->stmts);
	c->stmts = NULL;
	c->nstmts = 0;
	c->preparing = 0;
}

static void conn_close_pg(struct db_conn *c)
{
	watch_close(c); /* before PQfinish closes the socket under it */
	stmts_forget(c);
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
	if (c->state == DB_CONN_CONNECTING)
		db__conn_fail(c, "connection attempt timed out");
	else if (c->state == DB_CONN_DOWN && !c->held)
		db__conn_connect(c);
}

void db__conn_schedule_reconnect(struct db_conn *c)
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
 * for one transaction never land on a fresh session. The pool's outage is
 * logged once, when its last connection goes or the first attempt fails.
 */
void db__conn_fail(struct db_conn *c, const char *why)
{
	struct db_pool *p = c->pool;
	struct db_req *r = c->cur;
	char reason[400], msg[512];

	log_oneline(reason, sizeof(reason), why); /* why may live in c->pg */
	snprintf(msg, sizeof(msg), "database connection lost: %s", reason);
	c->cur = NULL;
	conn_close_pg(c);
	if (c->state == DB_CONN_READY && !c->listener) {
		if (--p->up == 0) {
			p->health.healthy = 0;
			log_json(LOG_ERROR, "database connection lost; reconnecting",
				 json_pack("{s:s}", "error", reason));
			p->down_logged = 1;
		}
	} else if (c->state != DB_CONN_READY && p->up == 0 && !p->down_logged && !c->listener) {
		log_json(LOG_ERROR, "cannot connect to the database; retrying",
			 json_pack("{s:s}", "error", reason));
		p->down_logged = 1;
	}
	c->state = DB_CONN_DOWN;
	if (c->held)
		c->broken = 1;
	else
		db__conn_schedule_reconnect(c);
	if (r)
		db__req_deliver(p, r, NULL, NULL, msg, "08006", NULL);
}

static void conn_ready(struct db_conn *c)
{
	struct db_pool *p = c->pool;

	uv_timer_stop(&c->timer);
	if (PQsetnonblocking(c->pg, 1) != 0 || watch_set(c, UV_READABLE) < 0) {
		db__conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	c->state = DB_CONN_READY;
	c->backoff_ms = DB_BACKOFF_MIN_MS;
	c->reconnected = c->was_up;
	c->was_up = 1;
	if (c->listener) {
		if (p->hooks.listener_ready)
			p->hooks.listener_ready(p);
		return;
	}
	if (p->up++ == 0 && p->down_logged) {
		log_json(LOG_INFO, "database connected again", NULL);
		p->down_logged = 0;
	}
	kick(p);
}

void db__conn_connect(struct db_conn *c)
{
	c->pg = PQconnectStart(c->pool->conninfo);
	if (!c->pg) {
		db__conn_fail(c, "out of memory");
		return;
	}
	PQsetNoticeProcessor(c->pg, notice_silent, NULL);
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		db__conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	c->state = DB_CONN_CONNECTING;
	uv_timer_start(&c->timer, on_conn_timer, DB_CONNECT_TIMEOUT_MS, 0);
	/* libpq: behave as if PQconnectPoll had returned PGRES_POLLING_WRITING */
	if (watch_set(c, UV_WRITABLE) < 0)
		db__conn_fail(c, "cannot watch the database socket");
}

static void conn_connect_step(struct db_conn *c)
{
	switch (PQconnectPoll(c->pg)) {
	case PGRES_POLLING_READING:
		if (watch_set(c, UV_READABLE) < 0)
			db__conn_fail(c, "cannot watch the database socket");
		break;
	case PGRES_POLLING_WRITING:
		if (watch_set(c, UV_WRITABLE) < 0)
			db__conn_fail(c, "cannot watch the database socket");
		break;
	case PGRES_POLLING_OK:
		conn_ready(c);
		break;
	default:
		db__conn_fail(c, PQerrorMessage(c->pg));
		break;
	}
}

/* Watches UV_WRITABLE until all is out. */
int db__conn_flush(struct db_conn *c)
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

void db__conn_internal(struct db_conn *c, const char *sql, db_cb cb, void *arg)
{
	struct db_req *r = db__req_new(DB_REQ_QUERY, sql, 0, NULL);

	if (!r) {
		db__conn_fail(c, "out of memory");
		return;
	}
	r->internal = 1;
	r->simple = 1;
	r->cb = cb;
	r->arg = arg;
	if (db__conn_send(c, r) < 0) {
		free(r);
		db__conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	if (db__conn_flush(c) < 0)
		db__conn_fail(c, PQerrorMessage(c->pg));
}

static int stmt_find(const struct db_conn *c, const char *sql)
{
	for (int i = 0; i < c->nstmts; i++)
		if (!strcmp(c->stmts[i], sql))
			return i;
	return -1;
}

static int send_prepared(struct db_conn *c, struct db_req *r, int i)
{
	char name[16];

	snprintf(name, sizeof(name), "s%d", i);
	return PQsendQueryPrepared(c->pg, name, r->nparams, (const char *const *)r->params, NULL,
				   NULL, 0);
}

int db__conn_send(struct db_conn *c, struct db_req *r)
{
	char name[16];
	int ok, i;

	if (r->simple) {
		ok = PQsendQuery(c->pg, r->sql);
	} else if ((i = stmt_find(c, r->sql)) >= 0) {
		ok = send_prepared(c, r, i);
	} else if (c->nstmts < DB_STMTS_MAX) {
		snprintf(name, sizeof(name), "s%d", c->nstmts);
		ok = PQsendPrepare(c->pg, name, r->sql, r->nparams, NULL);
		c->preparing = ok;
	} else {
		ok = PQsendQueryParams(c->pg, r->sql, r->nparams, NULL,
				       (const char *const *)r->params, NULL, NULL, 0);
	}
	if (!ok)
		return -1;
	c->cur = r;
	return 0;
}

/*
 * cur's statement is prepared (c->res says how it went): remember it and
 * send its execute. 1 when sent; 0 when the preparation failed, whose error
 * is then cur's result; -1 when the connection failed.
 */
static int conn_prepared(struct db_conn *c)
{
	char **grown, *copy;

	c->preparing = 0;
	if (!c->res || PQresultStatus(c->res) != PGRES_COMMAND_OK)
		return 0;
	PQclear(c->res);
	c->res = NULL;
	grown = realloc(c->stmts, (size_t)(c->nstmts + 1) * sizeof(*grown));
	copy = strdup(c->cur->sql);
	if (grown)
		c->stmts = grown;
	if (!grown || !copy) {
		free(copy);
		db__conn_fail(c, "out of memory");
		return -1;
	}
	c->stmts[c->nstmts++] = copy;
	if (!send_prepared(c, c->cur, c->nstmts - 1) || db__conn_flush(c) < 0) {
		db__conn_fail(c, PQerrorMessage(c->pg));
		return -1;
	}
	return 1;
}

/* Never runs a caller's callback. */
void db__conn_settle(struct db_conn *c)
{

	switch (PQtransactionStatus(c->pg)) {
	case PQTRANS_IDLE:
		kick(c->pool);
		return;
	case PQTRANS_INTRANS:
	case PQTRANS_INERROR:
		db__conn_internal(c, "ROLLBACK", cb_ignore, NULL);
		return;
	default:
		db__conn_fail(c, "connection in an unexpected state");
		return;
	}
}

void db__conn_shutdown(struct db_conn *c)
{
	struct db_req *r = c->cur;

	c->cur = NULL;
	conn_close_pg(c);
	c->state = DB_CONN_DOWN;
	uv_close((uv_handle_t *)&c->timer, on_conn_timer_closed);
	if (r)
		db__req_deliver(c->pool, r, NULL, NULL, "shutting down", NULL, NULL);
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
		db__conn_fail(c, PQerrorMessage(c->pg));
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
		log_oneline(err, sizeof(err), primary ? primary : PQresultErrorMessage(res));
		snprintf(state, sizeof(state), "%s", ss ? ss : "");
		snprintf(cons, sizeof(cons), "%s", cn ? cn : "");
		e = err;
	}
	if (!c->held)
		db__conn_settle(c);
	db__req_deliver(p, r, c, res, e, state, cons);
	PQclear(res);
}

/* Hands NOTIFY messages to db_listen.c (those on a pool connection are
 * dropped). -1: the pool was freed by a subscriber. */
static int conn_drain_notifies(struct db_conn *c)
{
	struct db_pool *p = c->pool;
	PGnotify *n;

	while (c->pg && (n = PQnotifies(c->pg)) != NULL) {
		if (c->listener && p->hooks.notify)
			p->hooks.notify(p, n->relname, n->extra);
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
		db__conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	if (conn_drain_notifies(c) < 0 || !c->pg)
		return;
	while (c->cur && !PQisBusy(c->pg)) {
		res = PQgetResult(c->pg);
		if (!res && c->preparing) {
			int sent = conn_prepared(c);

			if (sent < 0)
				return;
			if (sent)
				continue;
		}
		if (!res) {
			conn_query_done(c);
			return;
		}
		st = PQresultStatus(res);
		if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
			PQclear(res);
			db__conn_fail(c, "COPY is not supported by the pool");
			return;
		}
		conn_keep_result(c, res);
	}
	if (!c->cur && PQstatus(c->pg) == CONNECTION_BAD)
		db__conn_fail(c, PQerrorMessage(c->pg));
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct db_watch *w = h->data;
	struct db_conn *c = w->conn;

	if (!c || !c->pg || c->pool->closing)
		return;
	if (c->state == DB_CONN_CONNECTING) {
		/* an error here (refused) is for PQconnectPoll to see */
		conn_connect_step(c);
		return;
	}
	if (status < 0) { /* POLLERR: libuv stopped the watch */
		if (!PQconsumeInput(c->pg))
			db__conn_fail(c, PQerrorMessage(c->pg));
		else
			db__conn_fail(c, "socket error");
		return;
	}
	if ((events & UV_WRITABLE) && c->want_write && db__conn_flush(c) < 0) {
		db__conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	if (events & UV_READABLE)
		conn_read(c);
}
