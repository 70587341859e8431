/*
 * secret.h - the server key: 32 bytes that never enter the database. It
 * seals TOTP secrets at rest (libsodium secretbox) and keys the hashes of
 * recovery codes, so a copy of the database alone is not enough to log in.
 *
 * The key comes from RUNIT_SECRET_KEY (64 hex digits) or from
 * $RUNIT_DATA_DIR/secret.key, generated there on first run with mode 0600.
 * Several server instances sharing one database must share the key.
 */
#ifndef RUNIT_SECRET_H
#define RUNIT_SECRET_H

#include <stddef.h>
#include <sodium.h>

struct config;

#define SECRET_NONCE_LEN crypto_secretbox_NONCEBYTES /* 24 */
#define SECRET_MAC_LEN crypto_secretbox_MACBYTES     /* 16 */

/*
 * Load (or create) the key. Blocking file I/O: call once at start-up,
 * before the loop runs. Returns 0, or -1 after one log line.
 */
int secret_init(const struct config *cfg);

/*
 * Seal len bytes of msg: out gets len + SECRET_MAC_LEN bytes, nonce a fresh
 * random nonce. Returns 0, or -1 when no key is loaded.
 */
int secret_seal(const unsigned char *msg, size_t len, unsigned char *out,
		unsigned char nonce[SECRET_NONCE_LEN]);
/*
 * Open what secret_seal() made: out gets clen - SECRET_MAC_LEN bytes.
 * Returns 0, or -1 when the box was forged, damaged or sealed under another
 * key (RUNIT_SECRET_KEY changed), or clen is too short.
 */
int secret_open(const unsigned char *c, size_t clen, const unsigned char nonce[SECRET_NONCE_LEN],
		unsigned char *out);

/* Keyed BLAKE2b-256 of msg under a subkey of the server key, as 64 hex digits. */
void secret_mac_hex(const void *msg, size_t len, char hex[65]);

/* Test hook: use this key instead of loading one (unit tests). */
void secret_set_key(const unsigned char key[32]);

#endif
