/*
 * auth_limit.h - abuse limits on logins and sign-ups, kept in the
 * login_attempts table so that every server instance sees the same counts.
 *
 *  - per account name: after lock_after consecutive failures the name is
 *    locked for base_ms, doubling with each further failure up to max_ms.
 *    The key is the lower-cased name ('login-user:alice') whether or not
 *    such a user exists, so a lock says nothing about existence.
 *  - per client address: more than addr_max failed logins within
 *    addr_window_s refuse further logins from it ('login-addr:<ip>').
 *  - sign-ups: at most signup_addr_max attempts per address per hour
 *    ('signup-addr:<ip>'), and none while the signup_enabled setting is off.
 *
 * Refused attempts (while locked) are not counted: they verify nothing.
 * Callbacks run once on the loop thread, never from inside the call;
 * a -1 return means the callback will not run.
 */
#ifndef RUNIT_AUTH_LIMIT_H
#define RUNIT_AUTH_LIMIT_H

struct srv;
struct config;

/*
 * wait_ms: 0 when the attempt may go ahead, else how long to wait.
 * failures: the name's consecutive failures so far (pass it back to
 * auth_limit_login_failed). err: set when the database did not answer.
 */
typedef void (*auth_limit_cb)(void *arg, long long wait_ms, int failures, const char *err);

int auth_limit_login_check(struct srv *srv, const char *name, const char *ip, auth_limit_cb cb,
			   void *arg);
/* Record a failed attempt for name and ip (failures: what the check said). */
int auth_limit_login_failed(struct srv *srv, const char *name, const char *ip, int failures,
			    auth_limit_cb cb, void *arg);
/* Record a success: the name's failure count starts again; last_login_at is set. */
int auth_limit_login_ok(struct srv *srv, const char *name, long long user_id, auth_limit_cb cb,
			void *arg);
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
