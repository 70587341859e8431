/*
 * db_pool.c - a small pool of non-blocking PostgreSQL connections on the
 * server's libuv loop (see db.h). Requests wait in one FIFO; the kick handle
 * (a uv_idle_t) hands the head to the first idle connection on the next
 * loop turn, which also guarantees that no callback ever runs from inside
 * db_query()/db_acquire(). A request that waits DB_QUEUE_TIMEOUT_MS without
 * a connection fails with SQLSTATE 08001.
 *
 * The rest of the pool: one connection in db_conn.c, the health probe in
 * db_health.c, LISTEN/NOTIFY in db_listen.c, requests in db_req.c (db_int.h
 * says which calls which). This file owns the pool's memory: db_pool_free()
 * closes every handle and the last close callback frees it all.
 */
#include "db_int.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void pool_kick(struct db_pool *p);

/* ------------------------------------------------------------- the FIFO */

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
		db__req_deliver(p, queue_pop(p), NULL, NULL, "database unavailable", "08001", NULL);
	if (!p->closing && p->qhead)
		uv_timer_start(&p->queue_timer, on_queue_timer, p->qhead->deadline - now, 0);
}

void db__queue_submit(struct db_pool *p, struct db_req *r)
{
	r->deadline = uv_now(p->loop) + DB_QUEUE_TIMEOUT_MS;
	queue_push(p, r, 0);
	if (!uv_is_active((uv_handle_t *)&p->queue_timer))
		uv_timer_start(&p->queue_timer, on_queue_timer, DB_QUEUE_TIMEOUT_MS, 0);
	pool_kick(p);
}

/* ------------------------------------------------------------ dispatch */

static struct db_conn *pool_idle_conn(struct db_pool *p)
{
	int i;

	for (i = 0; i < p->size; i++) {
		struct db_conn *c = p->conns[i];

		if (c->state == DB_CONN_READY && !c->held && !c->cur)
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
		if (r->kind == DB_REQ_ACQUIRE) {
			c->held = 1;
			db__req_deliver(p, r, c, NULL, NULL, NULL, NULL);
			continue;
		}
		if (db__conn_send(c, r) < 0) {
			/* nothing reached the server: the request keeps its place */
			queue_push(p, r, 1);
			db__conn_fail(c, PQerrorMessage(c->pg));
			continue;
		}
		if (db__conn_flush(c) < 0)
			db__conn_fail(c, PQerrorMessage(c->pg));
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

/* ---------------------------------------------------------- public API */

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
		/* libpq's message may quote the password: not shown */
		log_json(LOG_ERROR, "the database URL cannot be parsed (value not shown)", NULL);
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
	p->hooks.kick = pool_kick;
	p->hooks.handle_closed = pool_handle_closed;
	uv_idle_init(loop, &p->kick);
	uv_timer_init(loop, &p->queue_timer);
	uv_timer_init(loop, &p->health.tick_timer);
	uv_timer_init(loop, &p->health.limit_timer);
	p->kick.data = p->queue_timer.data = p;
	p->health.tick_timer.data = p->health.limit_timer.data = p;
	p->open_handles = 4;
	for (i = 0; i < size; i++) {
		p->conns[i] = db__conn_new(p, 0);
		if (!p->conns[i])
			break;
		p->size++;
	}
	if (p->size < size) {
		db_pool_free(p);
		return NULL;
	}
	for (i = 0; i < size; i++)
		db__conn_connect(p->conns[i]);
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
	r = db__req_new(DB_REQ_QUERY, sql, nparams, params);
	if (!r)
		return -1;
	r->cb = cb;
	r->arg = arg;
	db__queue_submit(p, r);
	return 0;
}

int db_acquire(struct db_pool *p, db_acquire_cb cb, void *arg)
{
	struct db_req *r;

	if (!p || p->closing || !cb)
		return -1;
	r = db__req_new(DB_REQ_ACQUIRE, NULL, 0, NULL);
	if (!r)
		return -1;
	r->acb = cb;
	r->arg = arg;
	db__queue_submit(p, r);
	return 0;
}

int db_conn_query(struct db_conn *c, const char *sql, int nparams, const char *const *params,
		  db_cb cb, void *arg)
{
	struct db_req *r;

	if (!c || c->pool->closing || !c->held || c->broken || c->cur ||
	    c->state != DB_CONN_READY || !cb || !params_ok(sql, nparams, params))
		return -1;
	r = db__req_new(DB_REQ_QUERY, sql, nparams, params);
	if (!r)
		return -1;
	r->cb = cb;
	r->arg = arg;
	if (db__conn_send(c, r) < 0) {
		free(r);
		db__conn_fail(c, PQerrorMessage(c->pg)); /* held: marks it broken */
		return -1;
	}
	if (db__conn_flush(c) < 0) {
		c->cur = NULL; /* the caller hears -1, not the callback */
		free(r);
		db__conn_fail(c, PQerrorMessage(c->pg));
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
		db__conn_schedule_reconnect(c);
		return;
	}
	if (c->cur)
		return; /* conn_query_done settles it */
	db__conn_settle(c);
}

const char *db_last_sqlstate(const struct db_pool *p)
{
	return p ? p->sqlstate : "";
}

const char *db_last_constraint(const struct db_pool *p)
{
	return p ? p->constraint : "";
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

		st->connected += c->state == DB_CONN_READY;
		st->in_use += c->cur != NULL || c->held;
	}
	st->queued = p->queued;
	st->queries = p->queries;
	st->errors = p->errors;
	st->healthy = p->health.on ? p->health.healthy : st->connected > 0;
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
	uv_close((uv_handle_t *)&p->health.tick_timer, on_pool_handle_closed);
	uv_close((uv_handle_t *)&p->health.limit_timer, on_pool_handle_closed);
	for (i = 0; i < p->size; i++)
		db__conn_shutdown(p->conns[i]);
	if (p->listener)
		db__conn_shutdown(p->listener);
	while ((r = queue_pop(p)) != NULL)
		db__req_deliver(p, r, NULL, NULL, "shutting down", NULL, NULL);
}
