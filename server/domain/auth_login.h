/*
 * auth_login.h - the login and sign-up procedures, shared by the websocket
 * methods (h_auth.c) and the HTTP endpoints (http_auth.c): limits, password
 * verification on a worker thread, the second factor, the session row.
 *
 * Wrong user name and wrong password give the same answer after the same
 * work (an unknown name is verified against a dummy hash), and limits are
 * keyed by the name whether or not it exists, so no answer says whether a
 * user exists.
 */
#ifndef RUNIT_AUTH_LOGIN_H
#define RUNIT_AUTH_LOGIN_H

#include <jansson.h>
#include "proto.h"

struct srv;

/* What the caller read from the request; all borrowed for the call only. */
struct auth_login_in {
	const char *username;	   /* as typed, up to 256 bytes */
	const char *password;	   /* up to 4096 bytes */
	const char *totp;	   /* NULL, or the one-time code */
	const char *recovery_code; /* NULL, or a recovery code instead of totp */
	const char *ip;
	const char *user_agent; /* NULL when unknown */
};

/* The answer. Strings are borrowed: valid during the callback only. */
struct auth_outcome {
	enum proto_reason reason; /* PROTO_R_NONE: signed in */
	const char *message;	  /* readable, for errors */
	long long retry_after_s;  /* with PROTO_R_RATE_LIMITED */
	long long user_id;
	const char *username;
	const char *role;
	const char *token; /* the new session's token: hand it out, never log it */
	long long session_id;
	long long expires_at; /* unix seconds */
};

typedef void (*auth_outcome_cb)(void *arg, const struct auth_outcome *o);

/*
 * Start a login or a sign-up. Returns 0: cb runs once later (never from
 * inside). Returns -1: cb will not run and *now holds the answer (bad
 * input, no memory, database queue refused).
 */
int auth_login(struct srv *srv, const struct auth_login_in *in, auth_outcome_cb cb, void *arg,
	       struct auth_outcome *now);
int auth_signup(struct srv *srv, const struct auth_login_in *in, auth_outcome_cb cb, void *arg,
		struct auth_outcome *now);

/* error.data members for an outcome ({"retry_after_s": n} or NULL); new reference. */
json_t *auth_outcome_data(const struct auth_outcome *o);

#endif
