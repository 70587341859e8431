/*
 * auth_limit.c - login and sign-up limits over the login_attempts table
 * (see auth_limit.h). The decisions are made by the SQL functions of
 * sql/004_limits.sql, atomically; the lock formula lives here in C
 * (unit-testable) and is handed to SQL as a schedule. Rows older than a day
 * are deleted now and then, piggy-backed on the reservations, so no timer is
 * needed.
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
	auth_limit_done_cb done_cb;
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
	int64_t now = srv_now_ms();

	if (srv->limits_cleaned_ms && now - srv->limits_cleaned_ms < CLEANUP_EVERY_MS)
		return;
	srv->limits_cleaned_ms = now;
	db_query(srv->db, "DELETE FROM login_attempts WHERE at < now() - interval '1 day'", 0, NULL,
		 cleaned, NULL);
}

static struct lim_req *lim_new(struct srv *srv, void *arg)
{
	struct lim_req *r = calloc(1, sizeof(*r));

	if (r) {
		r->srv = srv;
		r->arg = arg;
	}
	return r;
}

/* "{lock_ms(after),lock_ms(after+1),...}" up to the first that reaches the
 * maximum: the lock schedule runit_login_reserve() looks up. */
static void lock_schedule(const struct config *cfg, char *out, size_t outsz)
{
	size_t n = 0;
	long long ms = 0;
	int w;

	out[n++] = '{';
	for (long long f = cfg->login_lock_after; ms < cfg->login_lock_max_ms && n + 24 < outsz;
	     f++) {
		ms = auth_limit_lock_ms(cfg, f);
		w = snprintf(out + n, outsz - n, "%s%lld", f > cfg->login_lock_after ? "," : "",
			     ms);
		n += (size_t)w;
	}
	out[n++] = '}';
	out[n] = '\0';
}

static void reserved(void *arg, PGresult *res, const char *err)
{
	struct lim_req *r = arg;
	struct auth_limit_ticket t = {0};
	long long wait, n;

	if (!res || PQntuples(res) != 1) {
		r->cb(r->arg, 0, NULL, err ? err : "no answer");
		free(r);
		return;
	}
	wait = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	n = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	if (wait > 0) {
		r->cb(r->arg, wait, NULL, NULL);
	} else {
		t.user_row = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
		t.addr_row = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
		t.failures = (int)(n > 1000000 ? 1000000 : n);
		r->cb(r->arg, 0, &t, NULL);
	}
	free(r);
}

int auth_limit_login_reserve(struct srv *srv, const char *name, const char *ip, auth_limit_cb cb,
			     void *arg)
{
	struct lim_req *r = lim_new(srv, arg);
	char ukey[KEY_MAX], akey[KEY_MAX], after[16], locks[64 * 24], win[16], max[16];
	const char *p[6] = {ukey, akey, after, locks, max, win};

	if (!r)
		return -1;
	r->cb = cb;
	name_key(name, ukey);
	addr_key("login-addr:", ip, akey);
	snprintf(after, sizeof(after), "%d", srv->cfg.login_lock_after);
	lock_schedule(&srv->cfg, locks, sizeof(locks));
	snprintf(max, sizeof(max), "%d", srv->cfg.login_addr_max);
	snprintf(win, sizeof(win), "%d", srv->cfg.login_addr_window_s);
	if (db_query(srv->db,
		     "SELECT wait_ms, failures, user_row, addr_row "
		     "FROM runit_login_reserve($1, $2, $3::int, $4::bigint[], $5::int, $6::int)",
		     6, p, reserved, r)) {
		free(r);
		return -1;
	}
	maybe_cleanup(srv);
	return 0;
}

static void done(void *arg, PGresult *res, const char *err)
{
	struct lim_req *r = arg;

	if (r->done_cb)
		r->done_cb(r->arg, res ? NULL : err);
	free(r);
}

static void released(void *arg, PGresult *res, const char *err)
{
	if (!res)
		log_json(LOG_WARN, "login attempt release failed",
			 json_pack("{s:s}", "error", err));
}

static void row_ids(const struct auth_limit_ticket *t, char out[64])
{
	snprintf(out, 64, "{%lld,%lld}", t->user_row, t->addr_row);
}

int auth_limit_login_failed(struct srv *srv, const char *name, const struct auth_limit_ticket *t,
			    auth_limit_done_cb cb, void *arg)
{
	struct lim_req *r = lim_new(srv, arg);
	char lock[24], ids[64];
	const char *p[3] = {name, lock, ids};

	if (!r)
		return -1;
	r->done_cb = cb;
	snprintf(lock, sizeof(lock), "%lld", auth_limit_lock_ms(&srv->cfg, t->failures + 1LL));
	row_ids(t, ids);
	/* The rows already count; from now on as a failure at this time, so
	 * that a lock runs from the failure. users.failed_logins/locked_until
	 * mirror the lock for the admin list. */
	if (db_query(srv->db,
		     "WITH a AS (UPDATE login_attempts SET pending = false, at = clock_timestamp() "
		     "  WHERE id = ANY($3::bigint[])) "
		     "UPDATE users SET failed_logins = failed_logins + 1, "
		     "  locked_until = CASE WHEN $2::bigint > 0 "
		     "    THEN now() + $2::bigint * interval '1 millisecond' END "
		     "WHERE lower(username) = lower($1)",
		     3, p, done, r)) {
		free(r);
		return -1;
	}
	return 0;
}

int auth_limit_login_ok(struct srv *srv, const struct auth_limit_ticket *t, long long user_id,
			auth_limit_done_cb cb, void *arg)
{
	struct lim_req *r = lim_new(srv, arg);
	char urow[24], arow[24], uid[24];
	const char *p[3] = {urow, arow, uid};

	if (!r)
		return -1;
	r->done_cb = cb;
	snprintf(urow, sizeof(urow), "%lld", t->user_row);
	snprintf(arow, sizeof(arow), "%lld", t->addr_row);
	snprintf(uid, sizeof(uid), "%lld", user_id);
	/* The name's row marks where its count starts again; the address
	 * counts only failures, so its row goes. */
	if (db_query(
		srv->db,
		"WITH s AS (UPDATE login_attempts SET success = true, pending = false WHERE id = "
		"$1), "
		"d AS (DELETE FROM login_attempts WHERE id = $2) "
		"UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = now() "
		"WHERE id = $3",
		3, p, done, r)) {
		free(r);
		return -1;
	}
	return 0;
}

void auth_limit_login_release(struct srv *srv, const struct auth_limit_ticket *t)
{
	char ids[64];
	const char *p[1] = {ids};

	row_ids(t, ids);
	db_query(srv->db, "DELETE FROM login_attempts WHERE id = ANY($1::bigint[]) AND NOT success",
		 1, p, released, NULL);
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
	struct lim_req *r = lim_new(srv, arg);
	char key[KEY_MAX], max[16];
	const char *p[2] = {key, max};

	if (!r)
		return -1;
	r->signup_cb = cb;
	addr_key("signup-addr:", ip, key);
	snprintf(max, sizeof(max), "%d", srv->cfg.signup_addr_max);
	if (db_query(srv->db, "SELECT enabled, wait_ms FROM runit_signup_reserve($1, $2::int)", 2,
		     p, signup_checked, r)) {
		free(r);
		return -1;
	}
	maybe_cleanup(srv);
	return 0;
}
