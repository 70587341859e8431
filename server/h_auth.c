/*
 * h_auth.c - auth/signup, auth/login, auth/logout over the websocket.
 * Passwords are hashed and verified on worker threads (auth_hash.c); a
 * successful login returns a session token and signs this websocket in.
 * Wrong user name and wrong password get the same answer.
 */
#include "handlers.h"
#include "auth_hash.h"
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

struct auth_req {
	struct rpc_call *c;
	char username[AUTH_USERNAME_MAX + 1];
	char *password;
	char totp[16];
	long long user_id;
	char role[8];
	int disabled;
	int totp_enabled;
};

static void req_free(struct auth_req *r)
{
	if (r->password) {
		sodium_memzero(r->password, strlen(r->password));
		free(r->password);
	}
	free(r);
}

/* Read username/password params into a new request; NULL after failing the call. */
static struct auth_req *req_new(struct rpc_call *c, json_t *params)
{
	struct proto_error err;
	const char *user, *pw, *totp = NULL;
	struct auth_req *r;

	if (proto_get_str(params, "username", 1, 256, &user, &err) ||
	    proto_get_str(params, "password", 1, 4096, &pw, &err) ||
	    proto_get_str(params, "totp", 0, 64, &totp, &err)) {
		rpc_fail_err(c, &err);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r || !(r->password = strdup(pw))) {
		free(r);
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return NULL;
	}
	r->c = c;
	snprintf(r->username, sizeof(r->username), "%s", user);
	if (totp)
		snprintf(r->totp, sizeof(r->totp), "%s", totp);
	if (strlen(user) > AUTH_USERNAME_MAX)
		r->username[0] = '\0'; /* cannot exist; still do the work of a login */
	return r;
}

static json_t *user_json(long long id, const char *username, const char *role)
{
	return json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "username", username, "role",
			 role);
}

/* Last step of signup and login: a session row, a token, this socket signed in. */
static void session_made(void *arg, const char *token, long long session_id,
			 long long expires_unix, const char *err)
{
	struct auth_req *r = arg;
	struct sess *s = rpc_sess(r->c);

	if (!token) {
		rpc_fail(r->c, PROTO_R_UNAVAILABLE, "could not create a session, try again", NULL);
		req_free(r);
		return;
	}
	if (s)
		auth_sess_sign_in(s, r->user_id, r->username, r->role, session_id);
	log_json(LOG_INFO, "signed in",
		 json_pack("{s:s, s:I, s:s}", "method", r->c->method, "user_id",
			   (json_int_t)r->user_id, "ip", r->c->ip));
	rpc_reply(r->c, json_pack("{s:o, s:s, s:I}", "user",
				  user_json(r->user_id, r->username, r->role), "token", token,
				  "expires_at", (json_int_t)expires_unix));
	req_free(r);
}

static void make_session(struct auth_req *r)
{
	if (auth_session_create(r->c->srv, r->user_id, r->c->ip, NULL, session_made, r)) {
		rpc_fail(r->c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		req_free(r);
	}
}

/* ---- auth/login ---- */

static void login_verified(void *arg, int match)
{
	struct auth_req *r = arg;

	if (!match || !r->user_id) {
		rpc_fail(r->c, PROTO_R_UNAUTHENTICATED, "wrong user name or password", NULL);
		req_free(r);
		return;
	}
	if (r->disabled) {
		rpc_fail(r->c, PROTO_R_FORBIDDEN, "this account is disabled", NULL);
		req_free(r);
		return;
	}
	if (r->totp_enabled) {
		/* TOTP verification lives in auth_totp.c (issue 3); until then refuse. */
		rpc_fail(r->c, PROTO_R_MFA_REQUIRED, "a one-time code is required", NULL);
		req_free(r);
		return;
	}
	make_session(r);
}

static void login_user_found(void *arg, PGresult *res, const char *err)
{
	struct auth_req *r = arg;
	const char *stored = NULL;

	if (!res) {
		rpc_fail(r->c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		req_free(r);
		return;
	}
	if (PQntuples(res) == 1) {
		r->user_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		stored = PQgetvalue(res, 0, 1);
		snprintf(r->role, sizeof(r->role), "%s", PQgetvalue(res, 0, 2));
		r->disabled = PQgetvalue(res, 0, 3)[0] == 't';
		r->totp_enabled = PQgetvalue(res, 0, 4)[0] == 't';
		snprintf(r->username, sizeof(r->username), "%s", PQgetvalue(res, 0, 5));
	}
	if (auth_verify_password(r->c->srv->loop, stored, r->password, login_verified, r)) {
		rpc_fail(r->c, PROTO_R_INTERNAL, "cannot verify now", NULL);
		req_free(r);
	}
}

static void h_login(void *ctx, struct proto_msg *msg)
{
	struct auth_req *r = req_new(ctx, msg->params);
	const char *p[1];

	if (!r)
		return;
	p[0] = r->username;
	if (db_query(r->c->srv->db,
		     "SELECT id, password_hash, role, disabled, totp_enabled, username "
		     "FROM users WHERE lower(username) = lower($1)",
		     1, p, login_user_found, r)) {
		rpc_fail(r->c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		req_free(r);
	}
}

/* ---- auth/signup ---- */

static void signup_inserted(void *arg, PGresult *res, const char *err)
{
	struct auth_req *r = arg;
	const char *state = db_last_sqlstate();

	if (!res) {
		if (!strcmp(state, "23505"))
			rpc_fail(r->c, PROTO_R_CONFLICT, "that user name is taken", NULL);
		else if (!strcmp(state, "P0001"))
			rpc_fail(r->c, PROTO_R_FORBIDDEN, "sign-up is turned off", NULL);
		else
			rpc_fail(r->c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		req_free(r);
		return;
	}
	if (PQntuples(res) != 1) {
		rpc_fail(r->c, PROTO_R_FORBIDDEN, "sign-up is turned off", NULL);
		req_free(r);
		return;
	}
	r->user_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	snprintf(r->role, sizeof(r->role), "%s", PQgetvalue(res, 0, 1));
	make_session(r);
}

static void signup_hashed(void *arg, const char *hash)
{
	struct auth_req *r = arg;
	const char *p[2] = { r->username, hash };

	if (!hash) {
		rpc_fail(r->c, PROTO_R_INTERNAL, "cannot hash the password now", NULL);
		req_free(r);
		return;
	}
	/* Inserted only while sign-up is on: one statement, no race with the setting. */
	if (db_query(r->c->srv->db,
		     "INSERT INTO users (username, password_hash) SELECT $1, $2 "
		     "WHERE (SELECT value = 'true' FROM settings WHERE key = 'signup_enabled') "
		     "RETURNING id, role",
		     2, p, signup_inserted, r)) {
		rpc_fail(r->c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		req_free(r);
	}
}

static void h_signup(void *ctx, struct proto_msg *msg)
{
	struct auth_req *r = req_new(ctx, msg->params);
	const char *why;

	if (!r)
		return;
	const char *user = NULL;
	proto_get_str(msg->params, "username", 1, 256, &user, &(struct proto_error){ 0 });
	if ((why = auth_username_invalid(user)) || (why = auth_password_invalid(r->password))) {
		rpc_fail(r->c, PROTO_R_INVALID_PARAMS, why, NULL);
		req_free(r);
		return;
	}
	if (auth_hash_password(r->c->srv->loop, r->password, signup_hashed, r)) {
		rpc_fail(r->c, PROTO_R_INTERNAL, "cannot hash the password now", NULL);
		req_free(r);
	}
}

/* ---- auth/logout ---- */

static void logged_out(void *arg, PGresult *res, const char *err)
{
	struct rpc_call *c = arg;

	if (!res) {
		rpc_fail(c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		return;
	}
	rpc_reply(c, NULL);
}

static void h_logout(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct sess *s = rpc_sess(c);
	char sid[24];
	const char *p[1] = { sid };

	if (!s) {
		rpc_fail(c, PROTO_R_INTERNAL, "session gone", NULL);
		return;
	}
	snprintf(sid, sizeof(sid), "%lld", s->auth_session_id);
	auth_sess_sign_out(s);
	if (db_query(c->srv->db, "UPDATE sessions SET revoked_at = now() WHERE id = $1", 1, p,
		     logged_out, c))
		rpc_fail(c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
}

const struct proto_method auth_methods[] = {
	{ "auth/signup", PROTO_ROLE_ANON, h_signup },
	{ "auth/login", PROTO_ROLE_ANON, h_login },
	{ "auth/logout", PROTO_ROLE_USER, h_logout },
};
const size_t auth_methods_count = sizeof(auth_methods) / sizeof(auth_methods[0]);
