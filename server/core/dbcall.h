/*
 * dbcall.h - run one SQL statement that answers a request in one jsonb
 * value, {"ok": result} or {"error": "REASON", "message": "...", "data": {}},
 * the shape of the runit_* functions in sql/002_projects.sql, and turn it
 * into the JSON-RPC answer. Failures of the statement itself (database
 * down, a CHECK violated) become UNAVAILABLE, INVALID_PARAMS, CONFLICT,
 * INVALID_PATH or INTERNAL.
 */
#ifndef RUNIT_DBCALL_H
#define RUNIT_DBCALL_H

#include <jansson.h>
#include "proto.h"

struct rpc_call;

/*
 * Runs exactly once. ok non-NULL (borrowed): the statement answered ok and
 * the callback must end c (rpc_reply or rpc_fail). ok NULL: c has already
 * been answered with the error and freed; only clean up arg.
 */
typedef void (*dbcall_fn)(void *arg, struct rpc_call *c, json_t *ok);

/*
 * Send sql with params (copied). done NULL: reply with the ok value as the
 * result. On -1 (nothing sent) c has been failed with UNAVAILABLE and done
 * does not run.
 */
int dbcall(struct rpc_call *c, const char *sql, int nparams, const char *const *params,
	   dbcall_fn done, void *arg);

/* End c with a runit_* function's answer doc (borrowed; NULL or not an
 * object: INTERNAL), as dbcall does: done runs as dbcall_fn says. */
void dbcall_answer(struct rpc_call *c, json_t *doc, dbcall_fn done, void *arg);
/* End c with the failure of its statement (err, and the SQLSTATE the pool
 * reports during this callback), as dbcall does: done runs with NULL. */
void dbcall_fail(struct rpc_call *c, const char *err, dbcall_fn done, void *arg);

/* The reason whose wire name is s ("NOT_FOUND"), or PROTO_R_INTERNAL. */
enum proto_reason dbcall_reason(const char *s);

/* The SQLSTATE of the files trigger's refusal of a path that clashes with
 * another file (sql/005_paths.sql): INVALID_PATH, the message names it. */
#define DBCALL_SQLSTATE_PATH "RP001"

/* A statement failure (SQLSTATE from db_last_sqlstate(pool)) as a reason. */
enum proto_reason dbcall_sqlstate_reason(const char *sqlstate);

#endif
