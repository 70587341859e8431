/*
 * h_auth_totp.c - two-factor authentication methods: auth/totp/status,
 * auth/totp/begin (a new secret, sealed and kept as pending), auth/totp/confirm
 * (a first valid code turns it on and returns ten recovery codes, shown this
 * once and stored as keyed hashes) and auth/totp/disable (password and a
 * code). Secrets and codes are never logged.
 */
#include "handlers.h"
#include "audit.h"
#include "auth_factor.h"
#include "auth_hash.h"
#include "auth_limit.h"
#include "auth_rules.h"
#include "auth_totp.h"
#include "db.h"
#include "rpc.h"
#include "secret.h"
#include "sess.h"
#include "srv.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* An enrolment not confirmed within this long must be begun again. */
#define PENDING_MAX_S 900

static void uid_str(const struct rpc_call *c, char out[24])
{
	snprintf(out, 24, "%lld", c->user_id);
}

/* ---- auth/totp/status ---- */

static void status_read(void *arg, PGresult *res, const char *err)
{
	struct rpc_call *c = arg;

	if (!res || PQntuples(res) != 1) {
		rpc_fail(c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		return;
	}
	rpc_reply(c, json_pack("{s:b, s:b, s:i}", "enabled", PQgetvalue(res, 0, 0)[0] == 't',
			       "pending", PQgetvalue(res, 0, 1)[0] == 't', "recovery_codes_left",
			       (int)strtol(PQgetvalue(res, 0, 2), NULL, 10)));
}

static void h_totp_status(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	char uid[24], max_s[16];
	const char *p[2] = {uid, max_s};

	uid_str(c, uid);
	snprintf(max_s, sizeof(max_s), "%d", PENDING_MAX_S);
	if (db_query(
		c->srv->db,
		"SELECT totp_enabled, coalesce(totp_pending_nonce IS NOT NULL "
		"  AND totp_pending_at > now() - make_interval(secs => $2::int), false), "
		"  (SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL) "
		"FROM users WHERE id = $1",
		2, p, status_read, c))
		rpc_fail(c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
}

/* ---- auth/totp/begin ---- */

struct begin_req {
	struct rpc_call *c;
	char b32[AUTH_TOTP_B32_LEN + 1];
};

static void begun(void *arg, PGresult *res, const char *err)
{
	struct begin_req *r = arg;
	char uri[256];

	if (!res) {
		rpc_fail(r->c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
	} else if (PQntuples(res) != 1) {
		rpc_fail(r->c, PROTO_R_CONFLICT,
			 "two-factor authentication is already on; disable it first", NULL);
	} else if (auth_totp_uri(PQgetvalue(res, 0, 0), r->b32, uri, sizeof(uri))) {
		rpc_fail(r->c, PROTO_R_INTERNAL, "cannot build the otpauth URI", NULL);
	} else {
		rpc_reply(r->c, json_pack("{s:s, s:s, s:i, s:i, s:s, s:i}", "secret", r->b32, "uri",
					  uri, "digits", AUTH_TOTP_DIGITS, "period", AUTH_TOTP_STEP,
					  "algorithm", "SHA1", "expires_in_s", PENDING_MAX_S));
		sodium_memzero(uri, sizeof(uri));
	}
	sodium_memzero(r, sizeof(*r));
	free(r);
}

static void h_totp_begin(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct begin_req *r = calloc(1, sizeof(*r));
	unsigned char secret[AUTH_TOTP_SECRET_LEN], box[AUTH_TOTP_SECRET_LEN + SECRET_MAC_LEN],
	    nonce[SECRET_NONCE_LEN];
	char uid[24], box_hex[2 * sizeof(box) + 1], nonce_hex[2 * sizeof(nonce) + 1];
	const char *p[3] = {uid, box_hex, nonce_hex};

	if (!r) {
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return;
	}
	r->c = c;
	auth_totp_secret_new(secret);
	if (auth_totp_base32(secret, r->b32) || secret_seal(secret, sizeof(secret), box, nonce)) {
		sodium_memzero(secret, sizeof(secret));
		free(r);
		rpc_fail(c, PROTO_R_INTERNAL, "cannot make a secret", NULL);
		return;
	}
	sodium_memzero(secret, sizeof(secret));
	sodium_bin2hex(box_hex, sizeof(box_hex), box, sizeof(box));
	sodium_bin2hex(nonce_hex, sizeof(nonce_hex), nonce, sizeof(nonce));
	uid_str(c, uid);
	if (db_query(c->srv->db,
		     "UPDATE users SET totp_pending_secret_enc = decode($2, 'hex'), "
		     "  totp_pending_nonce = decode($3, 'hex'), totp_pending_at = now() "
		     "WHERE id = $1 AND NOT totp_enabled RETURNING username",
		     3, p, begun, r)) {
		sodium_memzero(r, sizeof(*r));
		free(r);
		rpc_fail(c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
	}
}

/* ---- auth/totp/confirm ---- */

struct confirm_req {
	struct rpc_call *c;
	char code[16];
	char codes[AUTH_RECOVERY_CODES][AUTH_RECOVERY_CHARS + 3];
};

static void confirm_free(struct confirm_req *r)
{
	sodium_memzero(r, sizeof(*r));
	free(r);
}

static void enabled(void *arg, PGresult *res, const char *err)
{
	struct confirm_req *r = arg;
	json_t *codes;

	if (!res) {
		rpc_fail(r->c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
	} else if (PQntuples(res) != 1 ||
		   strtol(PQgetvalue(res, 0, 0), NULL, 10) != AUTH_RECOVERY_CODES) {
		rpc_fail(r->c, PROTO_R_CONFLICT, "the enrolment changed meanwhile; begin again",
			 NULL);
	} else {
		codes = json_array();
		for (int i = 0; i < AUTH_RECOVERY_CODES; i++)
			json_array_append_new(codes, json_string(r->codes[i]));
		audit(r->c->srv, r->c->user_id, "user.totp_enable", NULL, NULL, r->c->ip);
		rpc_reply(r->c, json_pack("{s:b, s:o}", "enabled", 1, "recovery_codes", codes));
	}
	confirm_free(r);
}

/* The code matched the pending secret: turn it on with fresh recovery codes. */
static void enable(struct confirm_req *r, const char *nonce_hex, long long step)
{
	char uid[24], step_s[24], arr[AUTH_RECOVERY_CODES * 67 + 3], hash[65], norm[16];
	const char *p[4] = {uid, nonce_hex, step_s, arr};
	size_t n = 0;

	uid_str(r->c, uid);
	snprintf(step_s, sizeof(step_s), "%lld", step);
	arr[n++] = '{';
	for (int i = 0; i < AUTH_RECOVERY_CODES; i++) {
		auth_recovery_new(r->codes[i]);
		auth_recovery_normalize(r->codes[i], norm);
		auth_recovery_hash(r->c->user_id, norm, hash);
		n += (size_t)snprintf(arr + n, sizeof(arr) - n, "%s%s", i ? "," : "", hash);
	}
	arr[n++] = '}';
	arr[n] = '\0';
	sodium_memzero(norm, sizeof(norm));
	/* Guarded by the pending nonce: a begin racing with this confirm wins. */
	if (db_query(
		r->c->srv->db,
		"WITH u AS (UPDATE users SET totp_secret_enc = totp_pending_secret_enc, "
		"  totp_nonce = totp_pending_nonce, totp_enabled = true, totp_last_step = $3, "
		"  totp_pending_secret_enc = NULL, totp_pending_nonce = NULL, "
		"  totp_pending_at = NULL, updated_at = now() "
		"  WHERE id = $1 AND NOT totp_enabled AND totp_pending_nonce = decode($2, 'hex') "
		"  RETURNING id), "
		"d AS (DELETE FROM recovery_codes WHERE user_id IN (SELECT id FROM u)), "
		"i AS (INSERT INTO recovery_codes (user_id, code_hash) "
		"  SELECT u.id, h FROM u, unnest($4::text[]) AS h RETURNING 1) "
		"SELECT count(*) FROM i",
		4, p, enabled, r)) {
		rpc_fail(r->c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		confirm_free(r);
	}
}

static void pending_read(void *arg, PGresult *res, const char *err)
{
	struct confirm_req *r = arg;
	struct auth_factor_secret fs;
	unsigned char secret[AUTH_TOTP_SECRET_LEN];
	long long step = 0;
	int rc;

	if (!res || PQntuples(res) != 1) {
		rpc_fail(r->c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		confirm_free(r);
		return;
	}
	if (PQgetvalue(res, 0, 3)[0] == 't') {
		rpc_fail(r->c, PROTO_R_CONFLICT, "two-factor authentication is already on", NULL);
		confirm_free(r);
		return;
	}
	/* columns 0..2 have the AUTH_FACTOR_SECRET_COLS shape (last_step NULL) */
	auth_factor_secret_from_row(&fs, r->c->user_id, res, 0, 0);
	if (!fs.have || PQgetvalue(res, 0, 4)[0] != 't') {
		rpc_fail(r->c, PROTO_R_CONFLICT,
			 "no enrolment in progress (or it expired): call auth/totp/begin", NULL);
		confirm_free(r);
		return;
	}
	if (auth_factor_open(&fs, secret)) {
		rpc_fail(r->c, PROTO_R_INTERNAL, "cannot open the pending secret", NULL);
		confirm_free(r);
		return;
	}
	rc = auth_totp_check(secret, sizeof(secret), time(NULL), r->code, -1, &step);
	sodium_memzero(secret, sizeof(secret));
	if (rc != AUTH_TOTP_OK) {
		rpc_fail(r->c, PROTO_R_INVALID_PARAMS,
			 rc == AUTH_TOTP_MALFORMED
			     ? "a code is six digits"
			     : "the code does not match; check the device's clock",
			 NULL);
		confirm_free(r);
		return;
	}
	enable(r, PQgetvalue(res, 0, 1), step);
}

static void h_totp_confirm(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct proto_error err;
	struct confirm_req *r;
	const char *code;
	char uid[24], max_s[16];
	const char *p[2] = {uid, max_s};

	if (proto_get_str(msg->params, "code", 1, 15, &code, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return;
	}
	r->c = c;
	snprintf(r->code, sizeof(r->code), "%s", code);
	uid_str(c, uid);
	snprintf(max_s, sizeof(max_s), "%d", PENDING_MAX_S);
	if (db_query(
		c->srv->db,
		"SELECT encode(totp_pending_secret_enc, 'hex'), encode(totp_pending_nonce, 'hex'), "
		"  NULL::bigint, totp_enabled, "
		"  coalesce(totp_pending_at > now() - make_interval(secs => $2::int), false) "
		"FROM users WHERE id = $1",
		2, p, pending_read, r)) {
		rpc_fail(c, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		confirm_free(r);
	}
}

/* ---- auth/totp/disable ---- */

struct disable_req {
	struct rpc_call *c;
	char username[64]; /* as struct sess has it */
	char *password;
	char code[16], recovery[64];
	int has_code, has_recovery;
	struct auth_limit_ticket ticket;
	int held; /* the attempt is reserved and not yet kept as a failure */
	struct auth_factor_secret fs;
	const char *fail_msg;
};

static void disable_free(struct disable_req *r)
{
	if (r->password) {
		sodium_memzero(r->password, strlen(r->password));
		free(r->password);
	}
	sodium_memzero(r, sizeof(*r));
	free(r);
}

/* The right password and code, or no check at all, is no failed attempt. */
static void disable_release(struct disable_req *r)
{
	if (r->held)
		auth_limit_login_release(r->c->srv, &r->ticket);
	r->held = 0;
}

static void disable_fail(struct disable_req *r, enum proto_reason reason, const char *msg,
			 json_t *data)
{
	disable_release(r);
	rpc_fail(r->c, reason, msg, data);
	disable_free(r);
}

static void disabled_done(void *arg, PGresult *res, const char *err)
{
	struct disable_req *r = arg;

	if (!res) {
		disable_fail(r, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		return;
	}
	audit(r->c->srv, r->c->user_id, "user.totp_disable", NULL, NULL, r->c->ip);
	rpc_reply(r->c, json_pack("{s:b}", "enabled", 0));
	disable_free(r);
}

static void disable_failure_recorded(void *arg, const char *err)
{
	struct disable_req *r = arg;

	disable_fail(r, PROTO_R_FORBIDDEN, r->fail_msg, NULL);
}

static void disable_wrong(struct disable_req *r, const char *msg)
{
	r->fail_msg = msg;
	r->held = 0; /* it stays counted */
	if (auth_limit_login_failed(r->c->srv, r->username, &r->ticket, disable_failure_recorded,
				    r))
		disable_fail(r, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
}

static void disable_factor_checked(void *arg, int rc)
{
	struct disable_req *r = arg;
	char uid[24];
	const char *p[1] = {uid};

	if (rc == AUTH_FACTOR_UNAVAILABLE) {
		disable_fail(r, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		return;
	}
	if (rc != AUTH_FACTOR_OK) {
		disable_wrong(r, "wrong or already used one-time code");
		return;
	}
	disable_release(r);
	uid_str(r->c, uid);
	if (db_query(r->c->srv->db,
		     "WITH u AS (UPDATE users SET totp_enabled = false, totp_secret_enc = NULL, "
		     "  totp_nonce = NULL, totp_last_step = NULL, totp_pending_secret_enc = NULL, "
		     "  totp_pending_nonce = NULL, totp_pending_at = NULL, updated_at = now() "
		     "  WHERE id = $1 RETURNING id) "
		     "DELETE FROM recovery_codes WHERE user_id IN (SELECT id FROM u)",
		     1, p, disabled_done, r))
		disable_fail(r, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
}

static void disable_verified(void *arg, int match)
{
	struct disable_req *r = arg;
	int rc;

	if (match == AUTH_HASH_CANCELED) {
		disable_fail(r, PROTO_R_UNAVAILABLE, "the server is stopping", NULL);
		return;
	}
	if (match != 1) {
		disable_wrong(r, "the password is wrong");
		return;
	}
	rc = auth_factor_check(r->c->srv, &r->fs, r->has_code ? r->code : NULL,
			       r->has_recovery ? r->recovery : NULL, disable_factor_checked, r);
	if (rc)
		disable_factor_checked(r, rc);
}

static void disable_user_read(void *arg, PGresult *res, const char *err)
{
	struct disable_req *r = arg;

	if (!res || PQntuples(res) != 1) {
		disable_fail(r, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		return;
	}
	if (PQgetvalue(res, 0, 1)[0] != 't') {
		disable_fail(r, PROTO_R_CONFLICT, "two-factor authentication is not on", NULL);
		return;
	}
	auth_factor_secret_from_row(&r->fs, r->c->user_id, res, 0, 2);
	if (auth_verify_password(r->c->srv->loop, PQgetvalue(res, 0, 0), r->password,
				 disable_verified, r))
		disable_fail(r, PROTO_R_INTERNAL, "cannot verify now", NULL);
}

static void disable_reserved(void *arg, long long wait_ms, const struct auth_limit_ticket *t,
			     const char *err)
{
	struct disable_req *r = arg;
	char uid[24];
	const char *p[1] = {uid};

	if (err) {
		disable_fail(r, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
		return;
	}
	if (wait_ms > 0) {
		disable_fail(
		    r, PROTO_R_RATE_LIMITED, "too many failed attempts; wait and try again",
		    json_pack("{s:I}", "retry_after_s", (json_int_t)auth_limit_retry_s(wait_ms)));
		return;
	}
	r->ticket = *t;
	r->held = 1;
	uid_str(r->c, uid);
	if (db_query(r->c->srv->db,
		     "SELECT password_hash, totp_enabled, " AUTH_FACTOR_SECRET_COLS
		     " FROM users WHERE id = $1",
		     1, p, disable_user_read, r))
		disable_fail(r, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
}

static void h_totp_disable(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct sess *s = rpc_sess(c);
	struct proto_error err;
	const char *pw, *code = NULL, *recovery = NULL;
	struct disable_req *r;

	if (proto_get_str(msg->params, "password", 1, 4096, &pw, &err) ||
	    proto_get_str(msg->params, "code", 0, 15, &code, &err) ||
	    proto_get_str(msg->params, "recovery_code", 0, 63, &recovery, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	if (!code && !recovery) {
		rpc_fail(c, PROTO_R_INVALID_PARAMS, "missing param \"code\"", NULL);
		return;
	}
	if (!s) {
		rpc_fail(c, PROTO_R_INTERNAL, "session gone", NULL);
		return;
	}
	r = calloc(1, sizeof(*r));
	if (!r || !(r->password = strdup(pw))) {
		free(r);
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return;
	}
	r->c = c;
	snprintf(r->username, sizeof(r->username), "%s", s->username);
	if (code) {
		r->has_code = 1;
		snprintf(r->code, sizeof(r->code), "%s", code);
	} else {
		r->has_recovery = 1;
		snprintf(r->recovery, sizeof(r->recovery), "%s", recovery);
	}
	if (auth_limit_login_reserve(c->srv, r->username, c->ip, disable_reserved, r))
		disable_fail(r, PROTO_R_UNAVAILABLE, "database unavailable", NULL);
}

const struct proto_method auth_totp_methods[] = {
    {"auth/totp/status", PROTO_ROLE_USER, h_totp_status},
    {"auth/totp/begin", PROTO_ROLE_USER, h_totp_begin},
    {"auth/totp/confirm", PROTO_ROLE_USER, h_totp_confirm},
    {"auth/totp/disable", PROTO_ROLE_USER, h_totp_disable},
};
const size_t auth_totp_methods_count = sizeof(auth_totp_methods) / sizeof(auth_totp_methods[0]);
