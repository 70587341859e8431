/*
 * db.h - a small pool of non-blocking PostgreSQL connections driven by the
 * server's libuv loop. Queries go out with PQsendQueryParams; results come
 * back through callbacks on the loop thread. Nothing here ever blocks.
 *
 * Connections that fail (database restarted, network gone) are dropped and
 * reconnected with back-off; queries waiting in the FIFO are sent once a
 * connection is back, or fail after their queue timeout.
 *
 * The one public header of db_pool.c, db_conn.c, db_req.c, db_health.c and
 * db_listen.c (db_int.h, their private header, says which does what).
 */
#ifndef RUNIT_DB_H
#define RUNIT_DB_H

#include <libpq-fe.h>
#include <uv.h>

struct db_pool;
struct db_conn;

/*
 * Completion of a query. res is borrowed: valid during the call only, freed
 * by the pool afterwards. On failure res is NULL and err says why (a
 * borrowed message); on success err is NULL and res has status
 * PGRES_TUPLES_OK or PGRES_COMMAND_OK. A query that reached the server and
 * failed there (constraint, syntax) gives res NULL, err set and its
 * SQLSTATE (five characters) through db_last_sqlstate(pool).
 * Runs exactly once per accepted query, never from inside db_query().
 */
typedef void (*db_cb)(void *arg, PGresult *res, const char *err);

/*
 * conninfo as libpq takes it (URL or key=value). size >= 1. Connecting starts
 * at once, in the background; NULL on a malformed conninfo (one log line,
 * the value not shown) or no memory. Give a numeric host (127.0.0.1): libpq resolves
 * names with a blocking getaddrinfo().
 */
struct db_pool *db_pool_new(uv_loop_t *loop, const char *conninfo, int size);
/*
 * Closes connections; queued and in-flight callbacks run (from inside this
 * call) with err "shutting down". uv handles are closed, and the pool's
 * memory is freed by their close callbacks: run the loop afterwards (e.g.
 * uv_run(loop, UV_RUN_DEFAULT)) before uv_loop_close(). A db_conn still held
 * must not be used after this call.
 */
void db_pool_free(struct db_pool *p);

/*
 * One statement outside any transaction. params are copied; NULL entries are
 * SQL NULL. Returns 0 (cb will run once) or -1 (cb will not run).
 */
int db_query(struct db_pool *p, const char *sql, int nparams, const char *const *params, db_cb cb,
	     void *arg);

/*
 * Transactions: take one connection for a sequence of statements.
 * db_acquire() calls cb with a connection of its own (or NULL and err).
 * Then db_conn_query() any number of times, one at a time, and
 * db_release() when done (commit or roll back before releasing; a
 * connection released inside a transaction is rolled back).
 * db_conn_query() returns -1 while a statement is still in flight on c, or
 * once c was lost (its in-flight callback got SQLSTATE 08006): the pool never
 * reconnects a held connection under the caller, so release it and retry the
 * whole transaction on a new one. db_release() may be called with a
 * statement in flight: its callback still runs once, then the rollback.
 */
typedef void (*db_acquire_cb)(void *arg, struct db_conn *c, const char *err);
int db_acquire(struct db_pool *p, db_acquire_cb cb, void *arg);
int db_conn_query(struct db_conn *c, const char *sql, int nparams, const char *const *params,
		  db_cb cb, void *arg);
void db_release(struct db_conn *c);

/*
 * SQLSTATE of the failure p is reporting to the current callback, or ""
 * (borrowed: valid during that callback).
 * Besides the server's codes ("23505" unique violation, "23514" check
 * violation, ...), the pool reports "08006" when the connection was lost
 * with the query in flight (it may or may not have been committed) and
 * "08001" when the query waited 5 s in the queue without a connection
 * (err "database unavailable"; it never reached the server).
 */
const char *db_last_sqlstate(const struct db_pool *p);
/* Name of the constraint behind that failure ("one_active_run"), or "". */
const char *db_last_constraint(const struct db_pool *p);

/* Figures for /metrics and /healthz. */
struct db_stats {
	int size;		    /* connections configured */
	int connected;		    /* connections up */
	int in_use;		    /* connections running a query or held */
	int queued;		    /* queries waiting for a connection */
	unsigned long long queries; /* completed, ok or not */
	unsigned long long errors;  /* failed queries */
	int healthy;		    /* last probe answered within 2 s (without
				       db_pool_start_health: connected > 0) */
};
void db_pool_stats(const struct db_pool *p, struct db_stats *st);

/*
 * Run "SELECT 1" every interval_ms and remember whether the database
 * answered; db_pool_stats().healthy reflects the last probe.
 */
void db_pool_start_health(struct db_pool *p, unsigned interval_ms);

/*
 * LISTEN on channel ([A-Za-z_][A-Za-z0-9_]{0,62}, case-sensitive: send with
 * pg_notify('channel', payload)) over one dedicated connection, opened on the
 * first call and re-LISTENed after every reconnect. cb runs on the loop for
 * each notification (channel and payload borrowed). After a reconnect cb
 * runs once per subscription with payload NULL: notifications may have been
 * missed meanwhile, so resynchronise from the tables. Subscriptions last
 * until db_pool_free(). Returns 0, or -1 (bad channel name, no memory).
 */
int db_listen(struct db_pool *p, const char *channel,
	      void (*cb)(void *arg, const char *channel, const char *payload), void *arg);

#endif
