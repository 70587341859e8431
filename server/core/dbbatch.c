/*
 * dbbatch.c - calls of one function sent together while the database is
 * busy (dbbatch.h).
 *
 * One statement of this kind at a time: a call made while none is out goes
 * at once, alone; calls made while one is out wait in a FIFO, and when it
 * returns they go, one alone or several as one many_sql statement (up to
 * MANY_MAX of them and about MANY_BYTES of parameters). So a lone client's
 * save goes at once, as before, and 100 clients' saves go in one
 * transaction at a time, each made of those that came while the one before
 * ran: their latency stays between one and two of those statements
 * (docs/decisions.md, "Saves": with two or four at a time the batches came
 * out uneven, 2 to 96 calls, and the p99 went up, not down).
 *
 * A statement out for wait_ms or more (a row lock held by someone else, a
 * huge file; RUNIT_SAVE_WAIT_MS for the saves) stops holding the others
 * back: the calls waiting then go beside it.
 */
#include "dbbatch.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "rpc.h"
#include "srv.h"

#include <stdlib.h>
#include <string.h>

#define MANY_MAX 256
#define MANY_BYTES (2u << 20) /* its JSON is written on the loop: a few ms */

/* A statement out: one call alone, or a many_sql one. */
struct flight {
	struct flight *prev, *next;
	uint64_t sent; /* loop time */
};

struct bcall {
	struct flight fl; /* while sent alone */
	struct bcall *next;
	struct dbbatch *b;
	struct rpc_call *c;
	dbcall_fn done;
	void *arg;
	size_t bytes;
	char **params; /* nparams copies, while waiting; NULL when sent at once */
};

/* A many_sql statement out: its calls, in the order sent. */
struct many {
	struct flight fl;
	struct dbbatch *b;
	struct bcall *calls;
	size_t n;
};

struct dbbatch {
	struct srv *srv;
	const char *one, *many;
	int nparams;
	uint64_t wait_ms;
	struct flight out; /* the statements out, oldest first (a ring) */
	struct bcall *head, *tail;
	uv_timer_t stuck;
	int freed;  /* dbbatch_free() was called */
	int closed; /* the timer has closed */
};

static void send_waiting(struct dbbatch *b);

static void bcall_free(struct bcall *k)
{
	for (int i = 0; k->params && i < k->b->nparams; i++)
		free(k->params[i]);
	free(k->params);
	free(k);
}

static void maybe_free(struct dbbatch *b)
{
	if (b->freed && b->closed && b->out.next == &b->out)
		free(b);
}

static void fly(struct dbbatch *b, struct flight *f)
{
	f->sent = uv_now(b->srv->loop);
	f->prev = b->out.prev;
	f->next = &b->out;
	b->out.prev->next = f;
	b->out.prev = f;
}

static void unfly(struct flight *f)
{
	f->prev->next = f->next;
	f->next->prev = f->prev;
}

/* A statement has returned: the waiting ones may go, or b goes. */
static void landed(struct dbbatch *b)
{
	if (b->freed)
		maybe_free(b);
	else
		send_waiting(b);
}

static void alone_done(void *arg, struct rpc_call *c, json_t *ok)
{
	struct bcall *k = arg;
	struct dbbatch *b = k->b;

	if (k->done)
		k->done(k->arg, c, ok);
	else if (ok)
		rpc_reply(c, json_incref(ok));
	unfly(&k->fl);
	bcall_free(k);
	landed(b);
}

/* k through dbcall (its params: k's copies, else those given). -1: c was
 * failed; done has run for a call that waited (k->params), not for one
 * sent as it came (dbbatch_call's caller then cleans up, as with dbcall). */
static int send_alone(struct dbbatch *b, struct bcall *k, const char *const *params)
{
	fly(b, &k->fl);
	if (dbcall(k->c, b->one, b->nparams, k->params ? (const char *const *)k->params : params,
		   alone_done, k)) {
		unfly(&k->fl);
		if (k->params && k->done)
			k->done(k->arg, NULL, NULL);
		bcall_free(k);
		return -1;
	}
	return 0;
}

static void many_done(void *arg, PGresult *res, const char *err)
{
	struct many *m = arg;
	struct dbbatch *b = m->b;
	json_t *arr = NULL;
	struct bcall *k, *next;
	size_t i = 0;
	int alone = 0;

	if (!res) {
		/* a statement failure (not the connection's): each alone, so that
		 * one call's failure is its own */
		alone = !b->freed &&
			dbcall_sqlstate_reason(db_last_sqlstate(b->srv->db)) != PROTO_R_UNAVAILABLE;
		log_json(alone ? LOG_WARN : LOG_INFO, "calls sent together failed",
			 json_pack("{s:s, s:s, s:I, s:b}", "sqlstate", db_last_sqlstate(b->srv->db),
				   "error", err ? err : "", "calls", (json_int_t)m->n, "sent_alone",
				   alone));
	} else if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
		metrics.db_together_total++;
		metrics.db_together_calls_total += m->n;
		arr = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
		if (json_array_size(arr) != m->n) {
			json_decref(arr);
			arr = NULL;
		}
	}
	for (k = m->calls; k; k = next, i++) {
		next = k->next;
		if (alone) {
			send_alone(b, k, NULL);
			continue;
		}
		if (!res)
			dbcall_fail(k->c, err, k->done, k->arg);
		else
			dbcall_answer(k->c, json_array_get(arr, i), k->done, k->arg);
		bcall_free(k);
	}
	json_decref(arr);
	unfly(&m->fl);
	free(m);
	landed(b);
}

static struct bcall *pop(struct dbbatch *b)
{
	struct bcall *k = b->head;

	b->head = k->next;
	if (!b->head)
		b->tail = NULL;
	k->next = NULL;
	metrics.db_together_waiting--;
	return k;
}

/* k's parameters as a JSON array; NULL when one is not UTF-8. */
static json_t *params_json(struct dbbatch *b, struct bcall *k)
{
	json_t *one = json_array();

	for (int i = 0; one && i < b->nparams; i++)
		if (json_array_append_new(one,
					  k->params[i] ? json_string(k->params[i]) : json_null())) {
			json_decref(one);
			one = NULL;
		}
	return one;
}

/* The waiting calls from the head as one many_sql statement, or the head
 * alone (one waiting, or it cannot go with others). */
static void send_many(struct dbbatch *b)
{
	struct many *m = calloc(1, sizeof(*m));
	json_t *list = json_array(), *one;
	struct bcall **tail = m ? &m->calls : NULL;
	size_t bytes = 0;
	char *lit = NULL;

	while (m && list && b->head && m->n < MANY_MAX &&
	       (!m->n || bytes + b->head->bytes <= MANY_BYTES) && (one = params_json(b, b->head))) {
		if (json_array_append_new(list, one))
			break;
		bytes += b->head->bytes;
		*tail = pop(b);
		tail = &(*tail)->next;
		m->n++;
	}
	if (m && m->n == 1) { /* back to the head: it goes alone */
		m->calls->next = b->head;
		b->head = m->calls;
		if (!b->tail)
			b->tail = m->calls;
		metrics.db_together_waiting++;
		m->n = 0;
	}
	if (!m || !m->n || !(lit = json_dumps(list, JSON_COMPACT))) {
		json_decref(list);
		for (struct bcall *k = m ? m->calls : NULL, *next; m && m->n && k; k = next) {
			next = k->next; /* no memory for the statement */
			dbcall_fail(k->c, "out of memory", k->done, k->arg);
			bcall_free(k);
		}
		free(m);
		if (b->head)
			send_alone(b, pop(b), NULL);
		return;
	}
	json_decref(list);
	m->b = b;
	fly(b, &m->fl);
	if (db_query(b->srv->db, b->many, 1, (const char *const *)&lit, many_done, m)) {
		/* not accepted (shutting down): the callback will not run */
		unfly(&m->fl);
		for (struct bcall *k = m->calls, *next; k; k = next) {
			next = k->next;
			dbcall_fail(k->c, "database unavailable", k->done, k->arg);
			bcall_free(k);
		}
		free(m);
	}
	free(lit);
}

static void on_stuck(uv_timer_t *t)
{
	send_waiting(t->data);
}

/* Statements out for less than wait_ms hold the waiting calls back. */
static void send_waiting(struct dbbatch *b)
{
	uint64_t now = uv_now(b->srv->loop);
	struct flight *f;

	while (b->head) {
		for (f = b->out.next; f != &b->out && now - f->sent >= b->wait_ms; f = f->next)
			;
		if (f != &b->out) { /* one holds them: check again when it would be stuck */
			uv_timer_start(&b->stuck, on_stuck, f->sent + b->wait_ms - now, 0);
			return;
		}
		send_many(b);
	}
}

struct dbbatch *dbbatch_new(struct srv *srv, const char *one_sql, const char *many_sql, int nparams,
			    int wait_ms)
{
	struct dbbatch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->srv = srv;
	b->one = one_sql;
	b->many = many_sql;
	b->nparams = nparams;
	b->wait_ms = wait_ms > 0 ? (uint64_t)wait_ms : 0;
	b->out.prev = b->out.next = &b->out;
	uv_timer_init(srv->loop, &b->stuck);
	b->stuck.data = b;
	return b;
}

int dbbatch_call(struct dbbatch *b, struct rpc_call *c, const char *const *params, dbcall_fn done,
		 void *arg)
{
	struct bcall *k = calloc(1, sizeof(*k));

	if (!k)
		goto fail;
	k->b = b;
	k->c = c;
	k->done = done;
	k->arg = arg;
	if (b->out.next == &b->out && !b->head)
		return send_alone(b, k, params);
	if (!(k->params = calloc((size_t)b->nparams, sizeof(*k->params))))
		goto fail;
	for (int i = 0; i < b->nparams; i++) {
		if (params[i] && !(k->params[i] = strdup(params[i])))
			goto fail;
		k->bytes += params[i] ? strlen(params[i]) : 0;
	}
	if (b->tail)
		b->tail->next = k;
	else
		b->head = k;
	b->tail = k;
	metrics.db_together_waiting++;
	send_waiting(b); /* those out may all be stuck */
	return 0;
fail:
	if (k)
		bcall_free(k);
	rpc_fail(c, PROTO_R_UNAVAILABLE, "database unavailable, try again", NULL);
	return -1;
}

static void timer_closed(uv_handle_t *h)
{
	struct dbbatch *b = h->data;

	b->closed = 1;
	maybe_free(b);
}

void dbbatch_free(struct dbbatch *b)
{
	if (!b)
		return;
	while (b->head) {
		struct bcall *k = pop(b);

		rpc_fail(k->c, PROTO_R_UNAVAILABLE, "the server is stopping", NULL);
		if (k->done)
			k->done(k->arg, NULL, NULL);
		bcall_free(k);
	}
	b->freed = 1;
	uv_close((uv_handle_t *)&b->stuck, timer_closed);
}
