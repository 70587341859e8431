/*
 * db_int.h - what the files of the database pool share; nothing outside
 * them includes it (db.h is the public header). The pool is five files,
 * lowest first; each calls only files listed above it, never one below:
 *
 *   db_req.c     a request: its own copy of the SQL and parameters, and the
 *                one run of its callback (counters, SQLSTATE, latency metric)
 *   db_conn.c    one connection on the loop: connect, watch the socket, send,
 *                read results, fail and reconnect with back-off
 *   db_pool.c    the pool: create and free, the FIFO queue with its timeout,
 *                dispatch to idle connections, the public query calls, stats
 *   db_health.c  the "SELECT 1" probe behind db_stats.healthy
 *   db_listen.c  LISTEN/NOTIFY on a connection of its own
 *
 * db_conn.c reaches the files above it only through struct db_hooks, which
 * they fill in: so no two files call each other (tests/layers/check).
 *
 * Memory: every uv handle lives inside the pool, a connection, or a watch.
 * db_pool_free() closes them all; the last close callback frees the pool,
 * its connections and its subscriptions (db_pool.c).
 */
#ifndef RUNIT_DB_INT_H
#define RUNIT_DB_INT_H

#include "db.h"

#include <stddef.h>
#include <stdint.h>

#define DB_QUEUE_TIMEOUT_MS 5000
#define DB_CONNECT_TIMEOUT_MS 10000
#define DB_BACKOFF_MIN_MS 100
#define DB_BACKOFF_MAX_MS 5000
#define DB_PROBE_LIMIT_MS 2000
#define DB_MAX_PARAMS 65535
/* statements a connection prepares at most; others go unnamed */
#define DB_STMTS_MAX 256

enum db_req_kind { DB_REQ_QUERY, DB_REQ_ACQUIRE };
enum db_conn_state { DB_CONN_DOWN, DB_CONN_CONNECTING, DB_CONN_READY };

/* A query or an acquire, queued or in flight. Owns its copies of the SQL and
 * parameters (one allocation). */
struct db_req {
	struct db_req *next;
	enum db_req_kind kind;
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
	enum db_conn_state state;
	int want_write;	    /* PQflush has more to send */
	int held;	    /* given out by db_acquire() */
	int broken;	    /* lost while held: reconnect on db_release() */
	int listener;	    /* the LISTEN connection, not in the pool */
	int was_up;	    /* has been connected before */
	int reconnected;    /* listener: tell subscribers after re-LISTEN */
	struct db_req *cur; /* in flight */
	PGresult *res;	    /* result collected for cur */
	/* statements prepared on this connection, named "s<index>" (db_conn.c) */
	char **stmts;
	int nstmts;
	int preparing; /* cur's statement is being prepared; its execute follows */
};

/* One db_listen() subscription. */
struct db_sub {
	struct db_sub *next;
	char *channel;
	void (*cb)(void *arg, const char *channel, const char *payload);
	void *arg;
};

/*
 * The calls db_conn.c makes upward, filled in by the files above it. A NULL
 * hook is not called.
 */
struct db_hooks {
	/* db_pool.c: a connection may be free: dispatch on the next loop turn */
	void (*kick)(struct db_pool *p);
	/* db_pool.c: one of the pool's uv handles has closed */
	void (*handle_closed)(struct db_pool *p);
	/* db_listen.c: the listener connection is up (again): LISTEN */
	void (*listener_ready)(struct db_pool *p);
	/* db_listen.c: a notification arrived on the listener connection */
	void (*notify)(struct db_pool *p, const char *channel, const char *payload);
};

/* The "SELECT 1" probe (db_health.c); its timers are the pool's handles. */
struct db_health {
	uv_timer_t tick_timer;	/* one probe per interval */
	uv_timer_t limit_timer; /* a probe still waiting after DB_PROBE_LIMIT_MS */
	int on;			/* db_pool_start_health() was called */
	int pending;		/* a probe is queued or in flight */
	uint64_t started;	/* loop time the probe was sent */
	int healthy;
};

struct db_pool {
	uv_loop_t *loop;
	char *conninfo;
	int size;
	struct db_conn **conns;
	struct db_hooks hooks;
	/* LISTEN/NOTIFY (db_listen.c) */
	struct db_conn *listener; /* created on the first db_listen() */
	struct db_sub *subs;
	int listen_dirty; /* a channel was added while LISTEN was in flight */
	/* the FIFO of requests waiting for a connection */
	struct db_req *qhead, *qtail;
	int queued;
	uv_idle_t kick;		/* dispatch on the next loop turn */
	uv_timer_t queue_timer; /* fails requests that waited too long */
	struct db_health health;
	int up;		 /* pool connections in DB_CONN_READY */
	int down_logged; /* an outage was reported; report recovery */
	unsigned long long queries, errors;
	/* what db_last_sqlstate()/db_last_constraint() report during a callback */
	char sqlstate[6];
	char constraint[64];
	int open_handles;
	int closing;
};

/* ---- db_req.c */

/* A request with copies of sql (may be NULL) and params; NULL: no memory. */
struct db_req *db__req_new(enum db_req_kind kind, const char *sql, int nparams,
			   const char *const *params);
/* Runs r's callback once (c for an acquire, res borrowed) and frees r;
 * sqlstate and constraint (may be NULL) are what db_last_sqlstate() and
 * db_last_constraint() report meanwhile. */
void db__req_deliver(struct db_pool *p, struct db_req *r, struct db_conn *c, PGresult *res,
		     const char *err, const char *sqlstate, const char *constraint);

/* ---- db_conn.c */

/* A connection of p, down; listener: the LISTEN connection. NULL: no memory. */
struct db_conn *db__conn_new(struct db_pool *p, int listener);
/* Starts connecting; socket events and the timer drive the rest. */
void db__conn_connect(struct db_conn *c);
/* Puts r in flight on c. -1: nothing sent, r not taken. */
int db__conn_send(struct db_conn *c, struct db_req *r);
/* Sends what libpq buffered; -1 on a socket error (then db__conn_fail). */
int db__conn_flush(struct db_conn *c);
/* Drops c, fails its in-flight request (08006), reconnects unless held. */
void db__conn_fail(struct db_conn *c, const char *why);
/* Send a statement of the pool's own (ROLLBACK, LISTEN) on c, outside the
 * queue; cb gets its answer. A failure to send fails c. */
void db__conn_internal(struct db_conn *c, const char *sql, db_cb cb, void *arg);
/* Reconnects after the back-off (a held connection that broke, released). */
void db__conn_schedule_reconnect(struct db_conn *c);
/* c finished a request outside db_acquire(): idle it, rolling back. */
void db__conn_settle(struct db_conn *c);
/* At db_pool_free(): closes c, fails its in-flight request "shutting down". */
void db__conn_shutdown(struct db_conn *c);

/* ---- db_pool.c */

/* Queues r (its callback never runs from inside this call). */
void db__queue_submit(struct db_pool *p, struct db_req *r);

#endif
