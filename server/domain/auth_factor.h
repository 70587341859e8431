/*
 * auth_factor.h - the second factor of an account: its TOTP secret, sealed
 * under the server key (secret.h), and its recovery codes, stored as keyed
 * hashes. A code is consumed in the same SQL statement that checks it, so
 * two logins racing with one code cannot both succeed.
 */
#ifndef RUNIT_AUTH_FACTOR_H
#define RUNIT_AUTH_FACTOR_H

#include <libpq-fe.h>
#include "auth_totp.h"
#include "secret.h"

struct srv;

/* The users columns auth_factor_secret_from_row() reads, in this order. */
#define AUTH_FACTOR_SECRET_COLS                                                                    \
	"encode(totp_secret_enc, 'hex'), encode(totp_nonce, 'hex'), totp_last_step"

struct auth_factor_secret {
	long long user_id;
	int have; /* a sealed secret was read */
	unsigned char box[AUTH_TOTP_SECRET_LEN + SECRET_MAC_LEN];
	unsigned char nonce[SECRET_NONCE_LEN];
	long long last_step; /* -1: no code accepted yet */
};

/* Read AUTH_FACTOR_SECRET_COLS starting at column col of row. */
void auth_factor_secret_from_row(struct auth_factor_secret *fs, long long user_id,
				 const PGresult *res, int row, int col);
/* Unseal into secret; 0, or -1 (none, or sealed under another server key). */
int auth_factor_open(const struct auth_factor_secret *fs,
		     unsigned char secret[AUTH_TOTP_SECRET_LEN]);

enum {
	AUTH_FACTOR_OK = 0,
	AUTH_FACTOR_WRONG = -1,	      /* wrong, malformed or already used */
	AUTH_FACTOR_UNAVAILABLE = -2, /* the database did not answer */
};
typedef void (*auth_factor_cb)(void *arg, int rc);

/*
 * Check and consume a TOTP code (totp) or else a recovery code (recovery).
 * Returns 0: cb runs once later with the outcome. Returns AUTH_FACTOR_WRONG
 * or AUTH_FACTOR_UNAVAILABLE: decided now, cb will not run.
 */
int auth_factor_check(struct srv *srv, const struct auth_factor_secret *fs, const char *totp,
		      const char *recovery, auth_factor_cb cb, void *arg);

/* Keyed hash of a normalized recovery code of user_id (what is stored). */
void auth_recovery_hash(long long user_id, const char *normalized, char hex[65]);

#endif
