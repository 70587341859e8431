/*
 * auth_login.c - login and sign-up (see auth_login.h), and the second
 * factor check that login and auth/totp/disable share.
 *
 * Login, step by step, each step a callback on the loop thread:
 *   attempt reserved (auth_limit) -> user row -> argon2id verify (worker
 *   thread) -> disabled? -> TOTP or recovery code (consumed atomically in
 *   SQL) -> success recorded -> session row -> answer.
 * The attempt counts as a failure from its start, so attempts running at
 * once see each other; it is marked a success, kept as a failure, or
 * released when it ends any other way (finish()).
 */
#include "auth_login.h"
#include "auth_factor.h"
#include "auth_hash.h"
#include "auth_limit.h"
#include "auth_rules.h"
#include "auth_sess.h"
#include "auth_totp.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "secret.h"
#include "srv.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define MSG_WRONG "wrong user name or password"
#define MSG_LIMITED "too many failed attempts; wait and try again"

struct login {
	struct srv *srv;
	auth_outcome_cb cb;
	void *arg;
	int signup;
	char name[260];			      /* as typed: the limit key and the lookup */
	char username[AUTH_USERNAME_MAX + 1]; /* as stored */
	char *password;
	char totp[16];
	char recovery[64];
	int has_totp, has_recovery;
	char ip[64];
	char *ua;
	struct auth_limit_ticket ticket;
	int held; /* the ticket is neither marked a success nor kept as a failure yet */
	enum proto_reason fail_reason;
	const char *fail_message;
	/* the user row */
	long long user_id;
	char role[8];
	int disabled, totp_enabled;
	struct auth_factor_secret fs;
};

static void login_free(struct login *l)
{
	if (l->password) {
		sodium_memzero(l->password, strlen(l->password));
		free(l->password);
	}
	free(l->ua);
	sodium_memzero(l, sizeof(*l));
	free(l);
}

static void finish(struct login *l, enum proto_reason reason, const char *message,
		   long long retry_ms)
{
	struct auth_outcome o = {0};

	if (l->held)
		auth_limit_login_release(l->srv, &l->ticket);
	l->held = 0;
	o.reason = reason;
	o.message = message;
	if (reason == PROTO_R_RATE_LIMITED)
		o.retry_after_s = auth_limit_retry_s(retry_ms);
	l->cb(l->arg, &o);
	login_free(l);
}

json_t *auth_outcome_data(const struct auth_outcome *o)
{
	if (o->reason == PROTO_R_RATE_LIMITED)
		return json_pack("{s:I}", "retry_after_s", (json_int_t)o->retry_after_s);
	return NULL;
}

static void fill_now(struct auth_outcome *now, enum proto_reason r, const char *msg)
{
	memset(now, 0, sizeof(*now));
	now->reason = r;
	now->message = msg;
}

/* ---- the end of both procedures: a session ---- */

static void session_made(void *arg, const char *token, long long session_id, long long expires_unix,
			 const char *err)
{
	struct login *l = arg;
	struct auth_outcome o = {0};

	if (!token) {
		finish(l, PROTO_R_UNAVAILABLE, "could not create a session, try again", 0);
		return;
	}
	if (!l->signup)
		metrics_login("ok");
	log_json(LOG_INFO, l->signup ? "signed up" : "signed in",
		 json_pack("{s:I, s:s, s:I}", "user_id", (json_int_t)l->user_id, "ip", l->ip,
			   "auth_session", (json_int_t)session_id));
	o.reason = PROTO_R_NONE;
	o.user_id = l->user_id;
	o.username = l->username;
	o.role = l->role;
	o.token = token;
	o.session_id = session_id;
	o.expires_at = expires_unix;
	l->cb(l->arg, &o);
	login_free(l);
}

static void make_session(struct login *l)
{
	if (auth_session_create(l->srv, l->user_id, l->ip, l->ua, session_made, l))
		finish(l, PROTO_R_UNAVAILABLE, "database unavailable", 0);
}

/* ---- login ---- */

static void success_recorded(void *arg, const char *err)
{
	struct login *l = arg;

	if (err) {
		finish(l, PROTO_R_UNAVAILABLE, "database unavailable", 0);
		return;
	}
	make_session(l);
}

static void succeed(struct login *l)
{
	if (auth_limit_login_ok(l->srv, &l->ticket, l->user_id, success_recorded, l))
		finish(l, PROTO_R_UNAVAILABLE, "database unavailable", 0);
	else
		l->held = 0;
}

static void failure_recorded(void *arg, const char *err)
{
	struct login *l = arg;

	if (err) {
		finish(l, PROTO_R_UNAVAILABLE, "database unavailable", 0);
		return;
	}
	metrics_login("failed");
	log_json(LOG_INFO, "login failed",
		 json_pack("{s:s, s:s, s:i}", "ip", l->ip, "why", l->fail_message, "failures",
			   l->ticket.failures + 1));
	finish(l, l->fail_reason, l->fail_message, 0);
}

/* The attempt stays counted against the name and the address; answer. */
static void fail_attempt(struct login *l, enum proto_reason reason, const char *message)
{
	l->fail_reason = reason;
	l->fail_message = message;
	l->held = 0;
	if (auth_limit_login_failed(l->srv, l->name, &l->ticket, failure_recorded, l))
		finish(l, PROTO_R_UNAVAILABLE, "database unavailable", 0);
}

static void factor_checked(void *arg, int rc)
{
	struct login *l = arg;

	if (rc == AUTH_FACTOR_OK)
		succeed(l);
	else if (rc == AUTH_FACTOR_UNAVAILABLE)
		finish(l, PROTO_R_UNAVAILABLE, "database unavailable", 0);
	else
		fail_attempt(l, PROTO_R_UNAUTHENTICATED, "wrong or already used one-time code");
}

static void verified(void *arg, int match)
{
	struct login *l = arg;
	int rc;

	if (match == AUTH_HASH_CANCELED) {
		finish(l, PROTO_R_UNAVAILABLE, "the server is stopping", 0);
		return;
	}
	if (match != 1 || !l->user_id) {
		fail_attempt(l, PROTO_R_UNAUTHENTICATED, MSG_WRONG);
		return;
	}
	if (l->disabled) {
		finish(l, PROTO_R_FORBIDDEN, "this account is disabled", 0);
		return;
	}
	if (!l->totp_enabled) {
		succeed(l);
		return;
	}
	if (!l->has_totp && !l->has_recovery) {
		finish(l, PROTO_R_MFA_REQUIRED, "a one-time code is required", 0);
		return;
	}
	rc = auth_factor_check(l->srv, &l->fs, l->has_totp ? l->totp : NULL,
			       l->has_recovery ? l->recovery : NULL, factor_checked, l);
	if (rc)
		factor_checked(l, rc); /* decided without the database */
}

static void user_found(void *arg, PGresult *res, const char *err)
{
	struct login *l = arg;
	const char *stored = NULL;

	if (!res) {
		finish(l, PROTO_R_UNAVAILABLE, "database unavailable", 0);
		return;
	}
	if (PQntuples(res) == 1) {
		l->user_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		stored = PQgetvalue(res, 0, 1);
		snprintf(l->role, sizeof(l->role), "%s", PQgetvalue(res, 0, 2));
		l->disabled = PQgetvalue(res, 0, 3)[0] == 't';
		l->totp_enabled = PQgetvalue(res, 0, 4)[0] == 't';
		snprintf(l->username, sizeof(l->username), "%s", PQgetvalue(res, 0, 5));
		auth_factor_secret_from_row(&l->fs, l->user_id, res, 0, 6);
	}
	if (auth_verify_password(l->srv->loop, stored, l->password, verified, l))
		finish(l, PROTO_R_INTERNAL, "cannot verify now", 0);
}

static void reserved(void *arg, long long wait_ms, const struct auth_limit_ticket *t,
		     const char *err)
{
	struct login *l = arg;
	const char *p[1] = {l->name};

	if (err) {
		finish(l, PROTO_R_UNAVAILABLE, "database unavailable", 0);
		return;
	}
	if (wait_ms > 0) {
		metrics_login("locked");
		log_json(LOG_INFO, "login refused: rate limited",
			 json_pack("{s:s, s:I}", "ip", l->ip, "wait_ms", (json_int_t)wait_ms));
		finish(l, PROTO_R_RATE_LIMITED, MSG_LIMITED, wait_ms);
		return;
	}
	l->ticket = *t;
	l->held = 1;
	if (db_query(l->srv->db,
		     "SELECT id, password_hash, role, disabled, totp_enabled, "
		     "username, " AUTH_FACTOR_SECRET_COLS
		     " FROM users WHERE lower(username) = lower($1)",
		     1, p, user_found, l))
		finish(l, PROTO_R_UNAVAILABLE, "database unavailable", 0);
}

static struct login *login_new(struct srv *srv, const struct auth_login_in *in, auth_outcome_cb cb,
			       void *arg, struct auth_outcome *now)
{
	struct login *l = calloc(1, sizeof(*l));

	if (!l || !(l->password = strdup(in->password)) ||
	    (in->user_agent && !(l->ua = strdup(in->user_agent)))) {
		if (l)
			login_free(l);
		fill_now(now, PROTO_R_INTERNAL, "out of memory");
		return NULL;
	}
	l->srv = srv;
	l->cb = cb;
	l->arg = arg;
	snprintf(l->name, sizeof(l->name), "%s", in->username);
	snprintf(l->ip, sizeof(l->ip), "%s", in->ip ? in->ip : "");
	if (in->totp) {
		l->has_totp = 1;
		snprintf(l->totp, sizeof(l->totp), "%s", in->totp);
	}
	if (in->recovery_code) {
		l->has_recovery = 1;
		snprintf(l->recovery, sizeof(l->recovery), "%s", in->recovery_code);
	}
	return l;
}

int auth_login(struct srv *srv, const struct auth_login_in *in, auth_outcome_cb cb, void *arg,
	       struct auth_outcome *now)
{
	struct login *l;

	if (strlen(in->username) > 256 || strlen(in->password) > 4096 ||
	    (in->totp && strlen(in->totp) > 15) ||
	    (in->recovery_code && strlen(in->recovery_code) > 63)) {
		fill_now(now, PROTO_R_INVALID_PARAMS, "a field is too long");
		return -1;
	}
	l = login_new(srv, in, cb, arg, now);
	if (!l)
		return -1;
	if (auth_limit_login_reserve(srv, l->name, l->ip, reserved, l)) {
		login_free(l);
		fill_now(now, PROTO_R_UNAVAILABLE, "database unavailable");
		return -1;
	}
	return 0;
}

/* ---- sign-up ---- */

static void inserted(void *arg, PGresult *res, const char *err)
{
	struct login *l = arg;
	const char *state = db_last_sqlstate(l->srv->db);

	if (!res) {
		if (!strcmp(state, "23505"))
			finish(l, PROTO_R_CONFLICT, "that user name is taken", 0);
		else
			finish(l, PROTO_R_UNAVAILABLE, "database unavailable", 0);
		return;
	}
	if (PQntuples(res) != 1) {
		finish(l, PROTO_R_FORBIDDEN, "sign-up is turned off", 0);
		return;
	}
	l->user_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	snprintf(l->role, sizeof(l->role), "%s", PQgetvalue(res, 0, 1));
	snprintf(l->username, sizeof(l->username), "%s", PQgetvalue(res, 0, 2));
	bus_publish(
	    l->srv, "user", "signup",
	    json_pack("{s:I, s:s}", "user", (json_int_t)l->user_id, "username", l->username));
	make_session(l);
}

static void hashed(void *arg, const char *hash)
{
	struct login *l = arg;
	const char *p[2] = {l->name, hash};

	if (!hash || !*hash) {
		finish(l, hash ? PROTO_R_UNAVAILABLE : PROTO_R_INTERNAL,
		       hash ? "the server is stopping" : "cannot hash the password now", 0);
		return;
	}
	/* Inserted only while sign-up is on: one statement, no race with the setting. */
	if (db_query(
		l->srv->db,
		"INSERT INTO users (username, password_hash) SELECT $1, $2 "
		"WHERE (SELECT value = 'true'::jsonb FROM settings WHERE key = 'signup_enabled') "
		"RETURNING id, role, username",
		2, p, inserted, l))
		finish(l, PROTO_R_UNAVAILABLE, "database unavailable", 0);
}

static void signup_allowed(void *arg, int enabled, long long wait_ms, const char *err)
{
	struct login *l = arg;

	if (err)
		finish(l, PROTO_R_UNAVAILABLE, "database unavailable", 0);
	else if (!enabled)
		finish(l, PROTO_R_FORBIDDEN, "sign-up is turned off", 0);
	else if (wait_ms > 0)
		finish(l, PROTO_R_RATE_LIMITED, "too many sign-ups from this address; try later",
		       wait_ms);
	else if (auth_hash_password(l->srv->loop, l->password, hashed, l))
		finish(l, PROTO_R_INTERNAL, "cannot hash the password now", 0);
}

int auth_signup(struct srv *srv, const struct auth_login_in *in, auth_outcome_cb cb, void *arg,
		struct auth_outcome *now)
{
	struct login *l;
	const char *why;

	if ((why = auth_username_invalid(in->username)) ||
	    (why = auth_password_invalid(in->password))) {
		fill_now(now, PROTO_R_INVALID_PARAMS, why);
		return -1;
	}
	l = login_new(srv, in, cb, arg, now);
	if (!l)
		return -1;
	l->signup = 1;
	if (auth_limit_signup(srv, l->ip, signup_allowed, l)) {
		login_free(l);
		fill_now(now, PROTO_R_UNAVAILABLE, "database unavailable");
		return -1;
	}
	return 0;
}
