/*
 * h_admin_users.c - admin methods on user accounts: admin/user/list,
 * admin/user/disable, admin/user/enable, admin/user/reset_totp and
 * admin/user/set_quota. The table says PROTO_ROLE_ADMIN, so rpc_dispatch()
 * checks the role on every frame; every change is written to the audit log.
 * Disabling a user revokes all their login sessions and closes their open
 * websockets (session/ended, then close code 4010), on every instance.
 */
#include "handlers.h"
#include "audit.h"
#include "auth_limit.h"
#include "auth_sess.h"
#include "db.h"
#include "rpc.h"
#include "run.h"
#include "srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_MAX 200

struct admin_req {
	struct rpc_call *c;
	long long id;
	json_t *detail; /* for the audit entry; owned */
};

static struct admin_req *admin_req_new(struct rpc_call *c, long long id)
{
	struct admin_req *r = calloc(1, sizeof(*r));

	if (!r) {
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return NULL;
	}
	r->c = c;
	r->id = id;
	return r;
}

static void admin_req_free(struct admin_req *r)
{
	json_decref(r->detail);
	free(r);
}

/* Every write-method's start: read {id}, or fail the call. */
static int read_id(struct rpc_call *c, json_t *params, long long *id)
{
	struct proto_error err;

	if (proto_get_int(params, "id", 1, 1, PROTO_MAX_SAFE_INT, id, &err)) {
		rpc_fail_err(c, &err);
		return -1;
	}
	return 0;
}

static void target_of(long long id, char out[32])
{
	snprintf(out, 32, "user:%lld", id);
}

static json_t *int_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col)
		   ? json_null()
		   : json_integer((json_int_t)strtoll(PQgetvalue(res, row, col), NULL, 10));
}

/* Send one query for r; on a refused query the call fails and r is freed. */
static void admin_query(struct admin_req *r, const char *sql, int n, const char *const *p, db_cb cb)
{
	if (db_query(r->c->srv->db, sql, n, p, cb, r)) {
		rpc_fail(r->c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		admin_req_free(r);
	}
}

/* A write-method on one user: the statement sql with $1 = id, answered
 * in cb (which ends the call and frees r). */
static void user_statement(struct rpc_call *c, long long id, const char *sql, db_cb cb)
{
	struct admin_req *r = admin_req_new(c, id);
	char id_s[24];
	const char *p[1] = {id_s};

	if (!r)
		return;
	snprintf(id_s, sizeof(id_s), "%lld", id);
	admin_query(r, sql, 1, p, cb);
}

/* 1 when the statement answered the user's row; else the call has failed
 * (UNAVAILABLE, or NOT_FOUND when there is no such user). */
static int user_row(struct admin_req *r, PGresult *res)
{
	if (!res)
		rpc_fail(r->c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
	else if (PQntuples(res) != 1)
		rpc_fail(r->c, PROTO_R_NOT_FOUND, "no such user", NULL);
	return res && PQntuples(res) == 1;
}

/* ---- admin/user/list ---- */

static void listed(void *arg, PGresult *res, const char *err)
{
	struct admin_req *r = arg;
	int n, limit = (int)r->id; /* the page size rides in id */
	json_t *users;

	if (!res) {
		rpc_fail(r->c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		admin_req_free(r);
		return;
	}
	users = json_array();
	n = PQntuples(res);
	for (int i = 0; i < n && i < limit; i++)
		json_array_append_new(
		    users,
		    json_pack(
			"{s:o, s:s, s:s, s:b, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
			"s:o, s:o, s:o}",
			"id", int_or_null(res, i, 0), "username", PQgetvalue(res, i, 1), "role",
			PQgetvalue(res, i, 2), "disabled", PQgetvalue(res, i, 3)[0] == 't',
			"totp_enabled", PQgetvalue(res, i, 4)[0] == 't', "created_at",
			int_or_null(res, i, 5), "last_login_at", int_or_null(res, i, 6),
			"failed_logins", int_or_null(res, i, 7), "locked_until",
			int_or_null(res, i, 8), "max_active_runs", int_or_null(res, i, 9),
			"max_projects", int_or_null(res, i, 10), "sessions",
			int_or_null(res, i, 11), "pool_cpu_millis", int_or_null(res, i, 12),
			"pool_mem_bytes", int_or_null(res, i, 13), "pool_used_cpu_millis",
			int_or_null(res, i, 14), "pool_used_mem_bytes", int_or_null(res, i, 15)));
	rpc_reply(r->c, json_pack("{s:o, s:o}", "users", users, "next",
				  n > limit ? int_or_null(res, limit - 1, 0) : json_null()));
	admin_req_free(r);
}

static void h_list(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct proto_error err;
	const char *query = NULL;
	long long after = 0, limit = 50;
	char after_s[24], limit_s[24];
	const char *p[3] = {after_s, NULL, limit_s};
	struct admin_req *r;

	if (proto_get_str(msg->params, "query", 0, 64, &query, &err) ||
	    proto_get_int(msg->params, "after", 0, 0, PROTO_MAX_SAFE_INT, &after, &err) ||
	    proto_get_int(msg->params, "limit", 0, 1, LIST_MAX, &limit, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	r = admin_req_new(c, limit);
	if (!r)
		return;
	snprintf(after_s, sizeof(after_s), "%lld", after);
	snprintf(limit_s, sizeof(limit_s), "%lld", limit + 1);
	p[1] = query && *query ? query : NULL;
	/* strpos, not LIKE: the search text is matched literally, wildcards and all */
	admin_query(r,
		    "SELECT u.id, u.username, u.role, u.disabled, u.totp_enabled, "
		    "  extract(epoch FROM u.created_at)::bigint, "
		    "  extract(epoch FROM u.last_login_at)::bigint, u.failed_logins, "
		    "  CASE WHEN u.locked_until > now() "
		    "    THEN extract(epoch FROM u.locked_until)::bigint END, "
		    "  u.max_active_runs, u.max_projects, "
		    "  (SELECT count(*) FROM sessions s WHERE s.user_id = u.id "
		    "    AND s.revoked_at IS NULL AND s.expires_at > now()), "
		    "  u.pool_cpu_millis, u.pool_mem_bytes, pu.cpu_millis, pu.mem_bytes "
		    "FROM users u CROSS JOIN LATERAL runit_pool_used(u.id) pu WHERE u.id > $1 "
		    "  AND ($2::text IS NULL OR strpos(lower(u.username), lower($2)) > 0) "
		    "ORDER BY u.id LIMIT $3",
		    3, p, listed);
}

/* ---- admin/user/disable ---- */

static void disabled(void *arg, PGresult *res, const char *err)
{
	struct admin_req *r = arg;
	char target[32];
	long long ended;

	if (user_row(r, res)) {
		ended = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		auth_sess_end_user(r->c->srv, r->id, 0, AUTH_END_ACCOUNT_DISABLED);
		run_cancel_user(r->c->srv, r->id);
		target_of(r->id, target);
		audit(r->c->srv, r->c->user_id, "user.disable", target,
		      json_pack("{s:s, s:I}", "username", PQgetvalue(res, 0, 0), "sessions_ended",
				(json_int_t)ended),
		      r->c->ip);
		rpc_reply(r->c, json_pack("{s:I, s:b, s:I}", "id", (json_int_t)r->id, "disabled", 1,
					  "sessions_ended", (json_int_t)ended));
	}
	admin_req_free(r);
}

static void h_disable(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	long long id;

	if (read_id(c, msg->params, &id))
		return;
	if (id == c->user_id) {
		rpc_fail(c, PROTO_R_FORBIDDEN, "you cannot disable your own account", NULL);
		return;
	}
	/* the flag and the end of every login session, in one statement */
	user_statement(c, id,
		       "WITH u AS (UPDATE users SET disabled = true, updated_at = now() "
		       "  WHERE id = $1 RETURNING id, username), "
		       "s AS (UPDATE sessions SET revoked_at = now() "
		       "  WHERE user_id IN (SELECT id FROM u) AND revoked_at IS NULL RETURNING id) "
		       "SELECT u.username, (SELECT count(*) FROM s) FROM u",
		       disabled);
}

/* ---- admin/user/enable ---- */

static void enabled(void *arg, PGresult *res, const char *err)
{
	struct admin_req *r = arg;
	char target[32];

	if (user_row(r, res)) {
		/* a fresh start: the name's failed logins are forgotten too */
		auth_limit_login_forget(r->c->srv, PQgetvalue(res, 0, 0));
		target_of(r->id, target);
		audit(r->c->srv, r->c->user_id, "user.enable", target,
		      json_pack("{s:s}", "username", PQgetvalue(res, 0, 0)), r->c->ip);
		rpc_reply(r->c, json_pack("{s:I, s:b}", "id", (json_int_t)r->id, "disabled", 0));
	}
	admin_req_free(r);
}

static void h_enable(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	long long id;

	if (read_id(c, msg->params, &id))
		return;
	user_statement(c, id,
		       "UPDATE users SET disabled = false, failed_logins = 0, locked_until = NULL, "
		       "  updated_at = now() WHERE id = $1 RETURNING username",
		       enabled);
}

/* ---- admin/user/reset_totp ---- */

static void totp_reset(void *arg, PGresult *res, const char *err)
{
	struct admin_req *r = arg;
	char target[32];

	if (user_row(r, res)) {
		target_of(r->id, target);
		audit(r->c->srv, r->c->user_id, "user.totp_reset", target,
		      json_pack("{s:s}", "username", PQgetvalue(res, 0, 0)), r->c->ip);
		rpc_reply(r->c,
			  json_pack("{s:I, s:b}", "id", (json_int_t)r->id, "totp_enabled", 0));
	}
	admin_req_free(r);
}

static void h_reset_totp(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	long long id;

	if (read_id(c, msg->params, &id))
		return;
	user_statement(
	    c, id,
	    "WITH u AS (UPDATE users SET totp_enabled = false, totp_secret_enc = NULL, "
	    "  totp_nonce = NULL, totp_last_step = NULL, totp_pending_secret_enc = NULL, "
	    "  totp_pending_nonce = NULL, totp_pending_at = NULL, updated_at = now() "
	    "  WHERE id = $1 RETURNING id, username), "
	    "d AS (DELETE FROM recovery_codes WHERE user_id IN (SELECT id FROM u)) "
	    "SELECT username FROM u",
	    totp_reset);
}

/* ---- admin/user/set_quota ---- */

/*
 * One quota param: absent (or null) leaves it alone; an integer in
 * [0, max] sets it; the string "default" clears it (the global setting
 * applies). *set: 1 when it changes; *val: the digits, or NULL for default.
 */
static int read_quota(struct rpc_call *c, json_t *params, const char *key, long long max, int *set,
		      char val[24])
{
	json_t *v = json_object_get(params, key);
	struct proto_error err;
	long long n;

	*set = 0;
	if (!v || json_is_null(v))
		return 0;
	*set = 1;
	if (json_is_string(v) && !strcmp(json_string_value(v), "default")) {
		val[0] = '\0';
		return 0;
	}
	if (!json_is_integer(v)) {
		rpc_fail(c, PROTO_R_INVALID_PARAMS, "a quota is an integer or \"default\"", NULL);
		return -1;
	}
	if (proto_get_int(params, key, 1, 0, max, &n, &err)) {
		rpc_fail_err(c, &err);
		return -1;
	}
	snprintf(val, 24, "%lld", n);
	return 0;
}

static void quota_set(void *arg, PGresult *res, const char *err)
{
	struct admin_req *r = arg;
	char target[32];
	json_t *q;

	if (user_row(r, res)) {
		q = json_pack("{s:o, s:o, s:o, s:o}", "max_active_runs", int_or_null(res, 0, 1),
			      "max_projects", int_or_null(res, 0, 2), "pool_cpu_millis",
			      int_or_null(res, 0, 3), "pool_mem_bytes", int_or_null(res, 0, 4));
		target_of(r->id, target);
		audit(r->c->srv, r->c->user_id, "user.set_quota", target,
		      json_pack("{s:s, s:O}", "username", PQgetvalue(res, 0, 0), "quota", q),
		      r->c->ip);
		json_object_set_new(q, "id", json_integer((json_int_t)r->id));
		rpc_reply(r->c, q);
	}
	admin_req_free(r);
}

static void h_set_quota(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct admin_req *r;
	long long id;
	int set_runs, set_projects, set_cpu, set_mem;
	char id_s[24], runs[24], projects[24], cpu[24], mem[24];
	const char *p[9];

	if (read_id(c, msg->params, &id) ||
	    read_quota(c, msg->params, "max_active_runs", 1000, &set_runs, runs) ||
	    read_quota(c, msg->params, "max_projects", 100000, &set_projects, projects) ||
	    read_quota(c, msg->params, "pool_cpu_millis", 1000000, &set_cpu, cpu) ||
	    read_quota(c, msg->params, "pool_mem_bytes", 1099511627776LL, &set_mem, mem))
		return;
	if (!set_runs && !set_projects && !set_cpu && !set_mem) {
		rpc_fail(c, PROTO_R_INVALID_PARAMS,
			 "give max_active_runs, max_projects, pool_cpu_millis or pool_mem_bytes",
			 NULL);
		return;
	}
	if (!(r = admin_req_new(c, id)))
		return;
	snprintf(id_s, sizeof(id_s), "%lld", id);
	p[0] = id_s;
	p[1] = set_runs ? "t" : "f";
	p[2] = set_runs && runs[0] ? runs : NULL;
	p[3] = set_projects ? "t" : "f";
	p[4] = set_projects && projects[0] ? projects : NULL;
	p[5] = set_cpu ? "t" : "f";
	p[6] = set_cpu && cpu[0] ? cpu : NULL;
	p[7] = set_mem ? "t" : "f";
	p[8] = set_mem && mem[0] ? mem : NULL;
	/* the pool's budget applies from the user's next run/start (sql/020) */
	admin_query(
	    r,
	    "UPDATE users SET "
	    "  max_active_runs = CASE WHEN $2::bool THEN $3::int ELSE max_active_runs END, "
	    "  max_projects = CASE WHEN $4::bool THEN $5::int ELSE max_projects END, "
	    "  pool_cpu_millis = CASE WHEN $6::bool THEN $7::bigint "
	    "    ELSE pool_cpu_millis END, "
	    "  pool_mem_bytes = CASE WHEN $8::bool THEN $9::bigint ELSE pool_mem_bytes END, "
	    "  updated_at = now() "
	    "WHERE id = $1 RETURNING username, max_active_runs, max_projects, "
	    "  pool_cpu_millis, pool_mem_bytes",
	    9, p, quota_set);
}

const struct proto_method admin_user_methods[] = {
    {"admin/user/list", PROTO_ROLE_ADMIN, h_list},
    {"admin/user/disable", PROTO_ROLE_ADMIN, h_disable},
    {"admin/user/enable", PROTO_ROLE_ADMIN, h_enable},
    {"admin/user/reset_totp", PROTO_ROLE_ADMIN, h_reset_totp},
    {"admin/user/set_quota", PROTO_ROLE_ADMIN, h_set_quota},
};
const size_t admin_user_methods_count = sizeof(admin_user_methods) / sizeof(admin_user_methods[0]);
