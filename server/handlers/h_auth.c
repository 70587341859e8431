/*
 * h_auth.c - the account methods over the websocket: auth/signup,
 * auth/login, auth/logout, auth/password, auth/sessions and
 * auth/session/revoke. Login and sign-up themselves live in auth_login.c
 * (shared with the HTTP endpoints); a successful one returns a session
 * token and signs this websocket in. TOTP methods are in h_auth_totp.c.
 */
#include "handlers.h"
#include "audit.h"
#include "auth_hash.h"
#include "auth_limit.h"
#include "auth_login.h"
#include "auth_rules.h"
#include "auth_sess.h"
#include "db.h"
#include "log.h"
#include "rpc.h"
#include "sess.h"
#include "srv.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void fail_outcome(struct rpc_call *c, const struct auth_outcome *o)
{
	rpc_fail(c, o->reason, o->message, auth_outcome_data(o));
}

/* Signed in: this websocket becomes the user; the token goes back once. */
static void outcome(void *arg, const struct auth_outcome *o)
{
	struct rpc_call *c = arg;
	struct sess *s = rpc_sess(c);

	if (o->reason != PROTO_R_NONE) {
		fail_outcome(c, o);
		return;
	}
	if (s)
		auth_sess_sign_in(s, o->user_id, o->username, o->role, o->session_id);
	rpc_reply(c, json_pack("{s:{s:I, s:s, s:s}, s:s, s:I}", "user", "id",
			       (json_int_t)o->user_id, "username", o->username, "role", o->role,
			       "token", o->token, "expires_at", (json_int_t)o->expires_at));
}

static void login_or_signup(struct rpc_call *c, json_t *params, int signup)
{
	struct proto_error err;
	struct auth_login_in in = {0};
	struct auth_outcome now;
	struct sess *s = rpc_sess(c);
	int rc;

	if (proto_get_str(params, "username", 1, 256, &in.username, &err) ||
	    proto_get_str(params, "password", 1, 4096, &in.password, &err) ||
	    (!signup && (proto_get_str(params, "totp", 0, 15, &in.totp, &err) ||
			 proto_get_str(params, "recovery_code", 0, 63, &in.recovery_code, &err)))) {
		rpc_fail_err(c, &err);
		return;
	}
	in.ip = c->ip;
	in.user_agent = s ? s->user_agent : NULL;
	rc = signup ? auth_signup(c->srv, &in, outcome, c, &now)
		    : auth_login(c->srv, &in, outcome, c, &now);
	if (rc)
		fail_outcome(c, &now);
}

static void h_signup(void *ctx, struct proto_msg *msg)
{
	login_or_signup(ctx, msg->params, 1);
}

static void h_login(void *ctx, struct proto_msg *msg)
{
	login_or_signup(ctx, msg->params, 0);
}

/* ---- auth/logout ---- */

struct revoke_req {
	struct rpc_call *c;
	long long session_id;
	const char *reason;
};

static void logged_out(void *arg, PGresult *res, const char *err)
{
	struct revoke_req *r = arg;

	if (!res) {
		rpc_fail(r->c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
	} else if (PQntuples(res) == 0 && strcmp(r->reason, AUTH_END_LOGGED_OUT)) {
		rpc_fail(r->c, PROTO_R_NOT_FOUND, "no such session of yours", NULL);
	} else {
		/* other websockets of the same login (other tabs) close too */
		auth_sess_end_session(r->c->srv, r->session_id, r->reason);
		rpc_reply(r->c, NULL);
	}
	free(r);
}

/* Revoke login session id of the caller; if it is this websocket's own,
 * this websocket is signed out first (it stays open, anonymous). */
static void revoke_session(struct rpc_call *c, long long id, const char *reason)
{
	struct revoke_req *r = calloc(1, sizeof(*r));
	struct sess *s = rpc_sess(c);
	char sid[24], uid[24];
	const char *p[2] = {sid, uid};

	if (!r || !s) {
		free(r);
		rpc_fail(c, PROTO_R_INTERNAL, s ? "out of memory" : "session gone", NULL);
		return;
	}
	r->c = c;
	r->session_id = id;
	r->reason = reason;
	if (s->auth_session_id == id)
		auth_sess_sign_out(s);
	snprintf(sid, sizeof(sid), "%lld", id);
	snprintf(uid, sizeof(uid), "%lld", c->user_id);
	if (db_query(c->srv->db,
		     "UPDATE sessions SET revoked_at = now() "
		     "WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING id",
		     2, p, logged_out, r)) {
		free(r);
		rpc_fail(c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
	}
}

static void h_logout(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct sess *s = rpc_sess(c);

	if (!s) {
		rpc_fail(c, PROTO_R_INTERNAL, "session gone", NULL);
		return;
	}
	revoke_session(c, s->auth_session_id, AUTH_END_LOGGED_OUT);
}

/* ---- auth/session/revoke ---- */

static void h_session_revoke(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct proto_error err;
	long long id;

	if (proto_get_int(msg->params, "id", 1, 1, PROTO_MAX_SAFE_INT, &id, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	revoke_session(c, id, AUTH_END_REVOKED);
}

/* ---- auth/sessions ---- */

struct list_req {
	struct rpc_call *c;
	long long current;
};

static void listed(void *arg, PGresult *res, const char *err)
{
	struct list_req *r = arg;
	json_t *arr;

	if (!res) {
		rpc_fail(r->c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		free(r);
		return;
	}
	arr = json_array();
	for (int i = 0; i < PQntuples(res); i++) {
		long long id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		json_array_append_new(
		    arr,
		    json_pack(
			"{s:I, s:I, s:I, s:I, s:o, s:o, s:b}", "id", (json_int_t)id, "created_at",
			(json_int_t)strtoll(PQgetvalue(res, i, 1), NULL, 10), "last_seen_at",
			(json_int_t)strtoll(PQgetvalue(res, i, 2), NULL, 10), "expires_at",
			(json_int_t)strtoll(PQgetvalue(res, i, 3), NULL, 10), "ip",
			PQgetisnull(res, i, 4) ? json_null() : json_string(PQgetvalue(res, i, 4)),
			"user_agent",
			PQgetisnull(res, i, 5) ? json_null() : json_string(PQgetvalue(res, i, 5)),
			"current", id == r->current));
	}
	rpc_reply(r->c, json_pack("{s:o}", "sessions", arr));
	free(r);
}

static void h_sessions(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct sess *s = rpc_sess(c);
	struct list_req *r = calloc(1, sizeof(*r));
	char uid[24];
	const char *p[1] = {uid};

	if (!r || !s) {
		free(r);
		rpc_fail(c, PROTO_R_INTERNAL, s ? "out of memory" : "session gone", NULL);
		return;
	}
	r->c = c;
	r->current = s->auth_session_id;
	snprintf(uid, sizeof(uid), "%lld", c->user_id);
	/* the live ones: not revoked, not expired, not idle too long */
	if (db_query(c->srv->db,
		     "SELECT id, extract(epoch FROM created_at)::bigint, "
		     "  extract(epoch FROM last_seen_at)::bigint, extract(epoch FROM "
		     "expires_at)::bigint, "
		     "  ip, user_agent FROM sessions "
		     "WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now() "
		     "  AND last_seen_at > now() - make_interval(secs => "
		     "    (SELECT value::bigint FROM settings WHERE key = 'session_idle_s')) "
		     "ORDER BY last_seen_at DESC, id DESC LIMIT 1000",
		     1, p, listed, r)) {
		free(r);
		rpc_fail(c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
	}
}

/* ---- auth/password ---- */

struct pw_req {
	struct rpc_call *c;
	char username[64]; /* as struct sess has it */
	long long keep_session;
	char *old_pw, *new_pw;
	struct auth_limit_ticket ticket;
	int held; /* the attempt is reserved and not yet kept as a failure */
};

static void pw_free(struct pw_req *r)
{
	if (r->old_pw) {
		sodium_memzero(r->old_pw, strlen(r->old_pw));
		free(r->old_pw);
	}
	if (r->new_pw) {
		sodium_memzero(r->new_pw, strlen(r->new_pw));
		free(r->new_pw);
	}
	free(r);
}

/* A right current password, or no check at all, is no failed attempt. */
static void pw_release(struct pw_req *r)
{
	if (r->held)
		auth_limit_login_release(r->c->srv, &r->ticket);
	r->held = 0;
}

static void pw_fail(struct pw_req *r, enum proto_reason reason, const char *msg, json_t *data)
{
	pw_release(r);
	rpc_fail(r->c, reason, msg, data);
	pw_free(r);
}

static void pw_changed(void *arg, PGresult *res, const char *err)
{
	struct pw_req *r = arg;
	int n;

	if (!res || PQntuples(res) != 1) {
		pw_fail(r, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		return;
	}
	n = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
	auth_sess_end_user(r->c->srv, r->c->user_id, r->keep_session, AUTH_END_PASSWORD_CHANGED);
	audit(r->c->srv, r->c->user_id, "user.password_change", NULL,
	      json_pack("{s:i}", "sessions_ended", n), r->c->ip);
	rpc_reply(r->c, json_pack("{s:i}", "sessions_ended", n));
	pw_free(r);
}

static void pw_hashed(void *arg, const char *hash)
{
	struct pw_req *r = arg;
	char uid[24], keep[24];
	const char *p[3] = {uid, hash, keep};

	if (!hash || !*hash) {
		pw_fail(r, hash ? PROTO_R_UNAVAILABLE : PROTO_R_INTERNAL,
			hash ? "the server is stopping" : "cannot hash the password now", NULL);
		return;
	}
	snprintf(uid, sizeof(uid), "%lld", r->c->user_id);
	snprintf(keep, sizeof(keep), "%lld", r->keep_session);
	/* New hash and the end of every other login session, in one statement. */
	if (db_query(r->c->srv->db,
		     "WITH u AS (UPDATE users SET password_hash = $2, updated_at = now() "
		     "  WHERE id = $1 RETURNING id), "
		     "r AS (UPDATE sessions SET revoked_at = now() "
		     "  WHERE user_id IN (SELECT id FROM u) AND id <> $3 AND revoked_at IS NULL "
		     "  RETURNING id) "
		     "SELECT count(*) FROM r",
		     3, p, pw_changed, r))
		pw_fail(r, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
}

static void pw_failure_recorded(void *arg, const char *err)
{
	pw_fail(arg, PROTO_R_FORBIDDEN, "the current password is wrong", NULL);
}

static void pw_verified(void *arg, int match)
{
	struct pw_req *r = arg;

	if (match == AUTH_HASH_CANCELED) {
		pw_fail(r, PROTO_R_UNAVAILABLE, "the server is stopping", NULL);
		return;
	}
	if (match != 1) {
		r->held = 0; /* it stays counted */
		if (auth_limit_login_failed(r->c->srv, r->username, &r->ticket, pw_failure_recorded,
					    r))
			pw_fail(r, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		return;
	}
	pw_release(r);
	if (auth_hash_password(r->c->srv->loop, r->new_pw, pw_hashed, r))
		pw_fail(r, PROTO_R_INTERNAL, "cannot hash the password now", NULL);
}

static void pw_user_found(void *arg, PGresult *res, const char *err)
{
	struct pw_req *r = arg;

	if (!res) {
		pw_fail(r, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		return;
	}
	if (auth_verify_password(r->c->srv->loop,
				 PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : NULL, r->old_pw,
				 pw_verified, r))
		pw_fail(r, PROTO_R_INTERNAL, "cannot verify now", NULL);
}

static void pw_reserved(void *arg, long long wait_ms, const struct auth_limit_ticket *t,
			const char *err)
{
	struct pw_req *r = arg;
	char uid[24];
	const char *p[1] = {uid};

	if (err) {
		pw_fail(r, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		return;
	}
	if (wait_ms > 0) {
		pw_fail(
		    r, PROTO_R_RATE_LIMITED, "too many failed attempts; wait and try again",
		    json_pack("{s:I}", "retry_after_s", (json_int_t)auth_limit_retry_s(wait_ms)));
		return;
	}
	r->ticket = *t;
	r->held = 1;
	snprintf(uid, sizeof(uid), "%lld", r->c->user_id);
	if (db_query(r->c->srv->db, "SELECT password_hash FROM users WHERE id = $1", 1, p,
		     pw_user_found, r))
		pw_fail(r, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
}

static void h_password(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct sess *s = rpc_sess(c);
	struct proto_error err;
	const char *old_pw, *new_pw, *why;
	struct pw_req *r;

	if (proto_get_str(msg->params, "old", 1, 4096, &old_pw, &err) ||
	    proto_get_str(msg->params, "new", 1, 4096, &new_pw, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	if ((why = auth_password_invalid(new_pw))) {
		rpc_fail(c, PROTO_R_INVALID_PARAMS, why, NULL);
		return;
	}
	if (!s) {
		rpc_fail(c, PROTO_R_INTERNAL, "session gone", NULL);
		return;
	}
	r = calloc(1, sizeof(*r));
	if (!r || !(r->old_pw = strdup(old_pw)) || !(r->new_pw = strdup(new_pw))) {
		if (r)
			pw_free(r);
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return;
	}
	r->c = c;
	r->keep_session = s->auth_session_id;
	snprintf(r->username, sizeof(r->username), "%s", s->username);
	/* a wrong current password counts against the account like a failed login */
	if (auth_limit_login_reserve(c->srv, r->username, c->ip, pw_reserved, r))
		pw_fail(r, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
}

const struct proto_method auth_methods[] = {
    {"auth/signup", PROTO_ROLE_ANON, h_signup},
    {"auth/login", PROTO_ROLE_ANON, h_login},
    {"auth/logout", PROTO_ROLE_USER, h_logout},
    {"auth/password", PROTO_ROLE_USER, h_password},
    {"auth/sessions", PROTO_ROLE_USER, h_sessions},
    {"auth/session/revoke", PROTO_ROLE_USER, h_session_revoke},
};
const size_t auth_methods_count = sizeof(auth_methods) / sizeof(auth_methods[0]);
