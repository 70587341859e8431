/*
 * auth_factor.c - checking and consuming a TOTP code or a recovery code
 * (see auth_factor.h). The code itself is checked on the loop thread: one
 * secretbox open and three HMAC-SHA-1s are microseconds of work.
 */
#include "auth_factor.h"
#include "db.h"
#include "log.h"
#include "srv.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct factor_req {
	auth_factor_cb cb;
	void *arg;
};

void auth_factor_secret_from_row(struct auth_factor_secret *fs, long long user_id,
				 const PGresult *res, int row, int col)
{
	size_t blen = 0, nlen = 0;
	const char *box = PQgetvalue(res, row, col), *nonce = PQgetvalue(res, row, col + 1);

	memset(fs, 0, sizeof(*fs));
	fs->user_id = user_id;
	fs->last_step =
	    PQgetisnull(res, row, col + 2) ? -1 : strtoll(PQgetvalue(res, row, col + 2), NULL, 10);
	if (PQgetisnull(res, row, col) || PQgetisnull(res, row, col + 1))
		return;
	if (sodium_hex2bin(fs->box, sizeof(fs->box), box, strlen(box), NULL, &blen, NULL) ||
	    blen != sizeof(fs->box) ||
	    sodium_hex2bin(fs->nonce, sizeof(fs->nonce), nonce, strlen(nonce), NULL, &nlen, NULL) ||
	    nlen != sizeof(fs->nonce))
		return;
	fs->have = 1;
}

int auth_factor_open(const struct auth_factor_secret *fs,
		     unsigned char secret[AUTH_TOTP_SECRET_LEN])
{
	if (!fs->have)
		return -1;
	if (secret_open(fs->box, sizeof(fs->box), fs->nonce, secret)) {
		log_json(LOG_ERROR, "cannot open a TOTP secret: was the server key changed?",
			 json_pack("{s:I}", "user_id", (json_int_t)fs->user_id));
		return -1;
	}
	return 0;
}

void auth_recovery_hash(long long user_id, const char *normalized, char hex[65])
{
	char msg[64];
	int n = snprintf(msg, sizeof(msg), "%lld:%s", user_id, normalized);

	secret_mac_hex(msg, (size_t)n, hex);
	sodium_memzero(msg, sizeof(msg));
}

/* One row back: the code was right and is now used up. */
static void consumed(void *arg, PGresult *res, const char *err)
{
	struct factor_req *r = arg;

	if (!res)
		r->cb(r->arg, AUTH_FACTOR_UNAVAILABLE);
	else
		r->cb(r->arg, PQntuples(res) == 1 ? AUTH_FACTOR_OK : AUTH_FACTOR_WRONG);
	free(r);
}

static int check_totp(struct srv *srv, const struct auth_factor_secret *fs, const char *code,
		      struct factor_req *r)
{
	unsigned char secret[AUTH_TOTP_SECRET_LEN];
	char uid[24], step_s[24];
	const char *p[2] = {uid, step_s};
	long long step = 0;
	int rc;

	if (auth_factor_open(fs, secret))
		return AUTH_FACTOR_WRONG;
	rc = auth_totp_check(secret, sizeof(secret), time(NULL), code, fs->last_step, &step);
	sodium_memzero(secret, sizeof(secret));
	if (rc != AUTH_TOTP_OK)
		return AUTH_FACTOR_WRONG;
	snprintf(uid, sizeof(uid), "%lld", fs->user_id);
	snprintf(step_s, sizeof(step_s), "%lld", step);
	/* The replay guard: the step only moves forward, whoever races. */
	if (db_query(srv->db,
		     "UPDATE users SET totp_last_step = $2 WHERE id = $1 AND totp_enabled "
		     "AND (totp_last_step IS NULL OR totp_last_step < $2) RETURNING id",
		     2, p, consumed, r))
		return AUTH_FACTOR_UNAVAILABLE;
	return 0;
}

static int check_recovery(struct srv *srv, long long user_id, const char *code,
			  struct factor_req *r)
{
	char norm[AUTH_RECOVERY_CHARS + 1], hash[65], uid[24];
	const char *p[2] = {uid, hash};

	if (auth_recovery_normalize(code, norm))
		return AUTH_FACTOR_WRONG;
	auth_recovery_hash(user_id, norm, hash);
	sodium_memzero(norm, sizeof(norm));
	snprintf(uid, sizeof(uid), "%lld", user_id);
	if (db_query(srv->db,
		     "UPDATE recovery_codes SET used_at = now() "
		     "WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING id",
		     2, p, consumed, r))
		return AUTH_FACTOR_UNAVAILABLE;
	return 0;
}

int auth_factor_check(struct srv *srv, const struct auth_factor_secret *fs, const char *totp,
		      const char *recovery, auth_factor_cb cb, void *arg)
{
	struct factor_req *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return AUTH_FACTOR_UNAVAILABLE;
	r->cb = cb;
	r->arg = arg;
	if (totp)
		rc = check_totp(srv, fs, totp, r);
	else if (recovery)
		rc = check_recovery(srv, fs->user_id, recovery, r);
	else
		rc = AUTH_FACTOR_WRONG;
	if (rc)
		free(r);
	return rc;
}
