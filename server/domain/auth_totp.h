/*
 * auth_totp.h - time-based one-time passwords (RFC 6238 with liboath:
 * HMAC-SHA-1, 30-second steps, 6 digits, one step of clock skew either way)
 * and recovery codes. Pure functions: no database, no loop, so the window
 * and replay rules are unit-tested on their own (tests/unit/test_totp.c).
 *
 * Replay: the caller keeps the last accepted step per user
 * (users.totp_last_step) and passes it in; a code for that step or an
 * earlier one is refused even if it is otherwise right.
 */
#ifndef RUNIT_AUTH_TOTP_H
#define RUNIT_AUTH_TOTP_H

#include <stddef.h>
#include <time.h>

#define AUTH_TOTP_SECRET_LEN 20 /* bytes of HMAC key (160 bits, RFC 4226 §4) */
#define AUTH_TOTP_B32_LEN 32	/* base32 of 20 bytes, no padding */
#define AUTH_TOTP_STEP 30
#define AUTH_TOTP_DIGITS 6
#define AUTH_TOTP_WINDOW 1
#define AUTH_RECOVERY_CODES 10
#define AUTH_RECOVERY_CHARS 12 /* shown as xxxx-xxxx-xxxx; about 59 bits */

enum auth_totp_rc {
	AUTH_TOTP_OK = 0,
	AUTH_TOTP_MALFORMED = -1, /* not 6 digits (spaces allowed) */
	AUTH_TOTP_WRONG = -2,	  /* matches no step in the window */
	AUTH_TOTP_REPLAY = -3,	  /* right code, but its step was already used */
	AUTH_TOTP_ERROR = -4,	  /* liboath failed (never expected) */
};

/* liboath's global set-up; call once before the other functions. 0 or -1. */
int auth_totp_init(void);

/*
 * Check code against secret at time now. last_step < 0: no code was ever
 * accepted. On AUTH_TOTP_OK *step gets the matched step (store it as the
 * new last step); otherwise *step is left alone.
 */
int auth_totp_check(const unsigned char *secret, size_t len, time_t now, const char *code,
		    long long last_step, long long *step);

/* The code for secret at time now, NUL-terminated into out[7] (tests, tools). */
int auth_totp_code(const unsigned char *secret, size_t len, time_t now, char out[7]);

/* A new random secret. */
void auth_totp_secret_new(unsigned char secret[AUTH_TOTP_SECRET_LEN]);
/* base32 (RFC 4648) of a 20-byte secret into out[AUTH_TOTP_B32_LEN + 1]; 0 or -1. */
int auth_totp_base32(const unsigned char secret[AUTH_TOTP_SECRET_LEN],
		     char out[AUTH_TOTP_B32_LEN + 1]);
/*
 * otpauth://totp/run-it:<username>?secret=<b32>&issuer=run-it&algorithm=SHA1&digits=6&period=30
 * with the user name percent-encoded. 0, or -1 when out is too small.
 */
int auth_totp_uri(const char *username, const char *b32, char *out, size_t outsz);

/* A new recovery code, "xxxx-xxxx-xxxx", into out[AUTH_RECOVERY_CHARS + 3]. */
void auth_recovery_new(char out[AUTH_RECOVERY_CHARS + 3]);
/*
 * The canonical form of a typed recovery code (lower case, dashes and spaces
 * dropped) into out[AUTH_RECOVERY_CHARS + 1]; -1 when it cannot be one.
 */
int auth_recovery_normalize(const char *in, char out[AUTH_RECOVERY_CHARS + 1]);

#endif
