/*
 * auth_limit.h - abuse limits on logins and sign-ups, kept in the
 * login_attempts table so that every server instance sees the same counts.
 *
 *  - per account name: after lock_after consecutive failures the name is
 *    locked for base_ms, doubling with each further failure up to max_ms.
 *    The key is the lower-cased name ('login-user:alice') whether or not
 *    such a user exists, so a lock says nothing about existence.
 *  - per client address: addr_max failed logins within addr_window_s
 *    refuse further logins from it ('login-addr:<ip>').
 *  - sign-ups: at most signup_addr_max attempts per address per hour
 *    ('signup-addr:<ip>'), and none while the signup_enabled setting is off.
 *
 * Attempts are counted when they START: auth_limit_login_reserve() decides
 * and records the attempt in one statement under a lock on its keys
 * (sql/004_limits.sql), before the password is checked. A reserved attempt
 * is pending and counts as a failure happening now; at its end it is kept
 * as a failure (auth_limit_login_failed: the lock runs from then), marked a
 * success (auth_limit_login_ok) or released (auth_limit_login_release: it
 * checked nothing, or nothing that counts against the name). So however
 * many requests run at once, on however many servers, at most the limit of
 * them reach the password check. Refused attempts are not counted: they
 * verify nothing.
 *
 * Callbacks run once on the loop thread, never from inside the call;
 * a -1 return means the callback will not run.
 */
#ifndef RUNIT_AUTH_LIMIT_H
#define RUNIT_AUTH_LIMIT_H

struct srv;
struct config;

/* A login attempt that may go ahead: its two rows (name, address). */
struct auth_limit_ticket {
	long long user_row, addr_row;
	int failures; /* the name's failures before this attempt */
};

/*
 * wait_ms: 0 when the attempt may go ahead (*t is its ticket, borrowed:
 * copy it), else how long to wait (t NULL, nothing recorded).
 * err: set when the database did not answer (t NULL).
 */
typedef void (*auth_limit_cb)(void *arg, long long wait_ms, const struct auth_limit_ticket *t,
			      const char *err);
/* err: NULL when the change is committed. */
typedef void (*auth_limit_done_cb)(void *arg, const char *err);

int auth_limit_login_reserve(struct srv *srv, const char *name, const char *ip, auth_limit_cb cb,
			     void *arg);
/* The attempt failed: it stays counted. Mirrors the name's lock into
 * users.failed_logins/locked_until for the admin list. */
int auth_limit_login_failed(struct srv *srv, const char *name, const struct auth_limit_ticket *t,
			    auth_limit_done_cb cb, void *arg);
/* The attempt succeeded: the name's failure count starts again from this
 * attempt's start, it is no failure of the address; last_login_at is set. */
int auth_limit_login_ok(struct srv *srv, const struct auth_limit_ticket *t, long long user_id,
			auth_limit_done_cb cb, void *arg);
/* The attempt is not counted after all (the password was right but the
 * login did not happen, or the check never ran). Fire and forget. */
void auth_limit_login_release(struct srv *srv, const struct auth_limit_ticket *t);
/* Forget the failures of a name (an admin re-enabled the account). Fire and forget. */
void auth_limit_login_forget(struct srv *srv, const char *name);

/* enabled: the signup_enabled setting. When enabled and wait_ms is 0 the
 * attempt has been counted. */
typedef void (*auth_signup_limit_cb)(void *arg, int enabled, long long wait_ms, const char *err);
int auth_limit_signup(struct srv *srv, const char *ip, auth_signup_limit_cb cb, void *arg);

/* Pure: the lock after `failures` consecutive failures (0 below lock_after). */
long long auth_limit_lock_ms(const struct config *cfg, long long failures);
/* Pure: whole seconds to tell the client, at least 1. */
long long auth_limit_retry_s(long long wait_ms);

#endif
