/*
 * errmon.h - error monitoring: the server's own internal errors (every
 * LOG_ERROR line, through log.c's hook, and every INTERNAL answer, from
 * rpc.c) and the uncaught errors that browsers report (client/error) are
 * collected here. Each is scrubbed of secrets, grouped by fingerprint (the
 * same error again within a minute is counted, not stored again), rate
 * limited, kept in a ring of the recent ones, stored in PostgreSQL (table
 * errors, sql/014_errors.sql, pruned to a bound) so that the admins' panel
 * sees every instance's, published on the bus (topic "error", kinds "new"
 * and "repeat") for the live panel, and, with RUNIT_SENTRY_DSN, sent to a
 * Sentry-compatible service (errmon_sentry.c) without blocking the loop.
 *
 * Files: errmon.c (this interface), errmon_event.c (scrubbing, the
 * fingerprint, the Sentry event and envelope: pure), errmon_sentry.c (the
 * HTTP transport). Reports from other threads (the log hook) are queued
 * and handled on the loop; nothing here logs at LOG_ERROR itself, so an
 * error about error monitoring cannot feed itself.
 */
#ifndef RUNIT_ERRMON_H
#define RUNIT_ERRMON_H

#include <jansson.h>
#include <stdint.h>

struct srv;

/* One error to collect. Strings are copied; context is stolen (may be
 * NULL): what helps to find the cause (method, route, stack, ...). */
struct errmon_report {
	const char *source;  /* "server" or "browser" */
	const char *type;    /* "TypeError", "INTERNAL", or "" */
	const char *message; /* one line preferably */
	long long user_id;   /* 0: nobody signed in */
	json_t *context;
};

/* Set the log hook up, the timers, the Sentry transport (when configured).
 * 0, or -1 (out of memory). */
int errmon_init(struct srv *srv);
/* After db_pool_free(): the hook goes, pending reports are dropped. */
void errmon_release(struct srv *srv);

/* Collect one error (on the loop thread; handled on the next turn). */
void errmon_report(struct srv *srv, struct errmon_report *r);

/* rpc.c: an INTERNAL error answered to a client. */
void errmon_rpc_internal(struct srv *srv, const char *method, const char *message,
			 long long user_id, const char *req_id);

/* client/error's budget: 1 when session sess_id from ip may report one
 * more error now (at most 10 a minute per session, 60 per address). */
int errmon_client_allowed(struct srv *srv, uint64_t sess_id, const char *ip);

/* This instance's recent errors, newest first (new reference): what the
 * panel shows when the database does not answer. */
json_t *errmon_recent(struct srv *srv);

#endif
