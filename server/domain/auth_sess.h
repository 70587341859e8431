/*
 * auth_sess.h - login sessions: 256-bit random tokens (only their hash is
 * stored), creating a session row, and signing a websocket in from the
 * token its upgrade request carried (Authorization: Bearer or the
 * runit_session cookie).
 */
#ifndef RUNIT_AUTH_SESS_H
#define RUNIT_AUTH_SESS_H

#include <stdint.h>
#include "proto.h"

struct srv;
struct sess;
struct lws;

#define AUTH_TOKEN_LEN 43 /* base64url of 32 bytes, no padding */
#define AUTH_COOKIE "runit_session"

/* A fresh token and the hex of its hash (what the database keeps). */
void auth_token_new(char token[AUTH_TOKEN_LEN + 1], char hash_hex[65]);
/* Hash of a presented token; -1 when it cannot be a token of ours. */
int auth_token_hash(const char *token, char hash_hex[65]);

/*
 * Insert a session for user_id. cb gets the new token (borrowed) and the
 * session id, or token NULL and err. Never calls back from inside.
 */
typedef void (*auth_session_cb)(void *arg, const char *token, long long session_id,
				long long expires_unix, const char *err);
int auth_session_create(struct srv *srv, long long user_id, const char *ip, const char *user_agent,
			auth_session_cb cb, void *arg);

/*
 * Called when a websocket is established: if the upgrade carried a token,
 * reading from the socket is paused until the session is looked up, so the
 * first frame is already handled as that user.
 */
void auth_sess_on_established(struct sess *s, struct lws *wsi);

/* Make the websocket act as this user from now on. */
void auth_sess_sign_in(struct sess *s, long long user_id, const char *username, const char *role,
		       long long session_id);
void auth_sess_sign_out(struct sess *s);

/*
 * Start-up of the accounts side, before the loop runs: the server key
 * (secret.c), liboath, the LISTEN channel that carries session endings
 * between server instances, and the sweep that closes websockets whose
 * login session expired, was revoked or whose user was disabled elsewhere
 * (and keeps last_seen_at of live sessions fresh). 0, or -1 after one line
 * on stderr.
 */
int auth_init(struct srv *srv);

/*
 * Reasons a login session ends, sent in the session/ended notification
 * just before the websocket closes (code 4010 for account_disabled, 4011
 * for the others).
 */
#define AUTH_END_LOGGED_OUT "logged_out"
#define AUTH_END_REVOKED "revoked"
#define AUTH_END_PASSWORD_CHANGED "password_changed"
#define AUTH_END_EXPIRED "expired"
#define AUTH_END_ACCOUNT_DISABLED "account_disabled"
#define AUTH_CLOSE_DISABLED 4010
#define AUTH_CLOSE_SIGNED_OUT 4011

/*
 * Close the websockets signed in with login session session_id (or, for
 * _user, every login session of user_id but keep_session_id), on this
 * instance at once and on the others through NOTIFY. Call after the rows
 * are revoked in the database. reason: one of AUTH_END_*.
 */
void auth_sess_end_session(struct srv *srv, long long session_id, const char *reason);
void auth_sess_end_user(struct srv *srv, long long user_id, long long keep_session_id,
			const char *reason);

/* The channel those ends go out on (every instance hears its own too), and
 * the user whose account a notice on it says was disabled (0: none). */
#define AUTH_CHANNEL "runit_auth"
long long auth_sess_disabled_user(const char *payload);

#endif
