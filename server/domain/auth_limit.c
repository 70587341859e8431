/*
 * auth_limit.c - login and sign-up limits over the login_attempts table
 * (see auth_limit.h). The lock formula lives here in C (unit-testable); SQL
 * only counts. Rows older than a day are deleted now and then, piggy-backed
 * on the checks, so no timer is needed.
 */
#include "auth_limit.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "proto.h"
#include "srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 96
#define CLEANUP_EVERY_MS (10 * 60 * 1000)

struct lim_req {
	struct srv *srv;
	auth_limit_cb cb;
	auth_signup_limit_cb signup_cb;
	void *arg;
	int failures;
};

long long auth_limit_lock_ms(const struct config *cfg, long long failures)
{
	long long ms = cfg->login_lock_base_ms;

	if (failures < cfg->login_lock_after)
		return 0;
	for (long long i = cfg->login_lock_after; i < failures; i++) {
		if (ms >= cfg->login_lock_max_ms)
			break;
		ms *= 2;
	}
	return ms < cfg->login_lock_max_ms ? ms : cfg->login_lock_max_ms;
}

long long auth_limit_retry_s(long long wait_ms)
{
	long long s = (wait_ms + 999) / 1000;

	return s < 1 ? 1 : s;
}

/* 'login-user:<name>', the name lower-cased (ASCII) and cut to 64 bytes on a
 * character boundary: the same key whether or not such a user exists. */
static void name_key(const char *name, char out[KEY_MAX])
{
	size_t n = strlen(name);
	int w;

	if (n > 64)
		n = proto_utf8_valid_prefix(name, 64);
	w = snprintf(out, KEY_MAX, "login-user:%.*s", (int)n, name);
	for (int i = 11; i < w && out[i]; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] - 'A' + 'a');
}

static void addr_key(const char *prefix, const char *ip, char out[KEY_MAX])
{
	snprintf(out, KEY_MAX, "%s%s", prefix, ip && *ip ? ip : "unknown");
}

static void cleaned(void *arg, PGresult *res, const char *err)
{
	if (!res)
		log_json(LOG_WARN, "login_attempts cleanup failed",
			 json_pack("{s:s}", "error", err));
}

static void maybe_cleanup(struct srv *srv)
{
	static int64_t last;
	int64_t now = srv_now_ms();

	if (last && now - last < CLEANUP_EVERY_MS)
		return;
	last = now;
	db_query(srv->db, "DELETE FROM login_attempts WHERE at < now() - interval '1 day'", 0, NULL,
		 cleaned, NULL);
}

static struct lim_req *lim_new(struct srv *srv, auth_limit_cb cb, void *arg)
{
	struct lim_req *r = calloc(1, sizeof(*r));

	if (r) {
		r->srv = srv;
		r->cb = cb;
		r->arg = arg;
	}
	return r;
}

static void checked(void *arg, PGresult *res, const char *err)
{
	struct lim_req *r = arg;
	long long n, since_ms, lock_ms, wait = 0, addr_wait = 0;

	if (!res || PQntuples(res) != 1) {
		r->cb(r->arg, 0, 0, err ? err : "no answer");
		free(r);
		return;
	}
	n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	since_ms = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	if (!PQgetisnull(res, 0, 2))
		addr_wait = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	lock_ms = auth_limit_lock_ms(&r->srv->cfg, n);
	if (lock_ms > since_ms)
		wait = lock_ms - since_ms;
	if (addr_wait > wait)
		wait = addr_wait;
	r->cb(r->arg, wait, (int)(n > 1000000 ? 1000000 : n), NULL);
	free(r);
}

int auth_limit_login_check(struct srv *srv, const char *name, const char *ip, auth_limit_cb cb,
			   void *arg)
{
	struct lim_req *r = lim_new(srv, cb, arg);
	char ukey[KEY_MAX], akey[KEY_MAX], win[16], max[16];
	const char *p[4] = {ukey, akey, win, max};

	if (!r)
		return -1;
	name_key(name, ukey);
	addr_key("login-addr:", ip, akey);
	snprintf(win, sizeof(win), "%d", srv->cfg.login_addr_window_s);
	snprintf(max, sizeof(max), "%d", srv->cfg.login_addr_max);
	/* n: failures since the name's last success (within a day);
	 * since: ms since the newest of them; addr: ms until the address has
	 * fewer than addr_max failures in its window (NULL: it has fewer now). */
	if (db_query(srv->db,
		     "WITH acct AS (SELECT count(*) AS n, max(at) AS last FROM login_attempts "
		     "  WHERE key = $1 AND NOT success AND at > now() - interval '1 day' "
		     "  AND at > coalesce((SELECT max(at) FROM login_attempts "
		     "                     WHERE key = $1 AND success), '-infinity')), "
		     "addr AS (SELECT at FROM login_attempts WHERE key = $2 AND NOT success "
		     "  AND at > now() - make_interval(secs => $3::int) "
		     "  ORDER BY at DESC OFFSET $4::int - 1 LIMIT 1) "
		     "SELECT acct.n, coalesce(floor(extract(epoch FROM now() - acct.last) * 1000), "
		     "0)::bigint, "
		     "  (SELECT ceil(extract(epoch FROM at + make_interval(secs => $3::int) - "
		     "now()) * 1000)::bigint "
		     "   FROM addr) "
		     "FROM acct",
		     4, p, checked, r)) {
		free(r);
		return -1;
	}
	maybe_cleanup(srv);
	return 0;
}

static void recorded(void *arg, PGresult *res, const char *err)
{
	struct lim_req *r = arg;

	if (r->cb)
		r->cb(r->arg, 0, r->failures, res ? NULL : err);
	free(r);
}

int auth_limit_login_failed(struct srv *srv, const char *name, const char *ip, int failures,
			    auth_limit_cb cb, void *arg)
{
	struct lim_req *r = lim_new(srv, cb, arg);
	char ukey[KEY_MAX], akey[KEY_MAX], lock[24];
	const char *p[4] = {ukey, akey, name, lock};

	if (!r)
		return -1;
	r->failures = failures + 1;
	name_key(name, ukey);
	addr_key("login-addr:", ip, akey);
	snprintf(lock, sizeof(lock), "%lld", auth_limit_lock_ms(&srv->cfg, failures + 1));
	/* users.failed_logins/locked_until mirror the lock for the admin list. */
	if (db_query(srv->db,
		     "WITH a AS (INSERT INTO login_attempts (key) VALUES ($1), ($2)) "
		     "UPDATE users SET failed_logins = failed_logins + 1, "
		     "  locked_until = CASE WHEN $4::bigint > 0 "
		     "    THEN now() + $4::bigint * interval '1 millisecond' END "
		     "WHERE lower(username) = lower($3)",
		     4, p, recorded, r)) {
		free(r);
		return -1;
	}
	return 0;
}

int auth_limit_login_ok(struct srv *srv, const char *name, long long user_id, auth_limit_cb cb,
			void *arg)
{
	struct lim_req *r = lim_new(srv, cb, arg);
	char ukey[KEY_MAX], uid[24];
	const char *p[2] = {ukey, uid};

	if (!r)
		return -1;
	name_key(name, ukey);
	snprintf(uid, sizeof(uid), "%lld", user_id);
	if (db_query(
		srv->db,
		"WITH a AS (INSERT INTO login_attempts (key, success) VALUES ($1, true)) "
		"UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = now() "
		"WHERE id = $2",
		2, p, recorded, r)) {
		free(r);
		return -1;
	}
	return 0;
}

void auth_limit_login_forget(struct srv *srv, const char *name)
{
	char ukey[KEY_MAX];
	const char *p[1] = {ukey};

	name_key(name, ukey);
	db_query(srv->db, "DELETE FROM login_attempts WHERE key = $1 AND NOT success", 1, p,
		 cleaned, NULL);
}

static void signup_checked(void *arg, PGresult *res, const char *err)
{
	struct lim_req *r = arg;

	if (!res || PQntuples(res) != 1)
		r->signup_cb(r->arg, 0, 0, err ? err : "no answer");
	else
		r->signup_cb(r->arg, PQgetvalue(res, 0, 0)[0] == 't',
			     PQgetisnull(res, 0, 1) ? 0 : strtoll(PQgetvalue(res, 0, 1), NULL, 10),
			     NULL);
	free(r);
}

int auth_limit_signup(struct srv *srv, const char *ip, auth_signup_limit_cb cb, void *arg)
{
	struct lim_req *r = lim_new(srv, NULL, arg);
	char key[KEY_MAX], max[16];
	const char *p[2] = {key, max};

	if (!r)
		return -1;
	r->signup_cb = cb;
	addr_key("signup-addr:", ip, key);
	snprintf(max, sizeof(max), "%d", srv->cfg.signup_addr_max);
	/* Counted only when allowed, in the same statement as the count. */
	if (db_query(srv->db,
		     "WITH enabled AS (SELECT coalesce((SELECT value = 'true'::jsonb FROM settings "
		     "    WHERE key = 'signup_enabled'), false) AS v), "
		     "c AS (SELECT count(*) AS n FROM login_attempts "
		     "  WHERE key = $1 AND at > now() - interval '1 hour'), "
		     "w AS (SELECT at FROM login_attempts WHERE key = $1 "
		     "  AND at > now() - interval '1 hour' ORDER BY at DESC OFFSET $2::int - 1 "
		     "LIMIT 1), "
		     "ins AS (INSERT INTO login_attempts (key) SELECT $1 FROM enabled, c "
		     "  WHERE enabled.v AND c.n < $2::int RETURNING 1) "
		     "SELECT enabled.v, CASE WHEN c.n >= $2::int THEN "
		     "  (SELECT greatest(ceil(extract(epoch FROM at + interval '1 hour' - now()) * "
		     "1000), 1)::bigint "
		     "   FROM w) END "
		     "FROM enabled, c",
		     2, p, signup_checked, r)) {
		free(r);
		return -1;
	}
	maybe_cleanup(srv);
	return 0;
}
