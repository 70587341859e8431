/*
 * secret.c - the server key (see secret.h). The master key is never used
 * directly: two subkeys are derived from it with crypto_kdf, one for
 * secretbox, one for the keyed hashes, so the two uses cannot be confused.
 * The key file is created atomically (written to a temporary name, then
 * link()ed into place), so two instances starting together agree on one key.
 */
#include "secret.h"
#include "config.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_FILE "secret.key"
#define KDF_CONTEXT "runit-v1"

static unsigned char seal_key[crypto_secretbox_KEYBYTES];
static unsigned char mac_key[crypto_generichash_KEYBYTES];
static int have_key;

void secret_set_key(const unsigned char key[32])
{
	crypto_kdf_derive_from_key(seal_key, sizeof(seal_key), 1, KDF_CONTEXT, key);
	crypto_kdf_derive_from_key(mac_key, sizeof(mac_key), 2, KDF_CONTEXT, key);
	have_key = 1;
}

/* 64 hex digits (a trailing newline allowed) into 32 bytes. */
static int parse_hex_key(const char *text, size_t n, unsigned char key[32])
{
	size_t bin_len = 0;

	while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		n--;
	if (n != 64 || strspn(text, "0123456789abcdefABCDEF") < 64)
		return -1;
	if (sodium_hex2bin(key, 32, text, n, NULL, &bin_len, NULL) || bin_len != 32)
		return -1;
	return 0;
}

/* One error line about a file: msg, its path, and errno's text if err. */
static void file_error(const char *msg, const char *path, int err)
{
	json_t *f = json_pack("{s:s}", "path", path);

	if (f && err)
		json_object_set_new(f, "error", json_string(strerror(err)));
	log_json(LOG_ERROR, msg, f);
}

static int read_key_file(const char *path, unsigned char key[32])
{
	char text[130];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		file_error("the server key file is not a regular file", path, 0);
		return -2;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		close(fd);
		char mode[8];

		snprintf(mode, sizeof(mode), "%03o", (unsigned)(st.st_mode & 0777));
		log_json(LOG_ERROR, "the server key file lets others read it (chmod 600 it)",
			 json_pack("{s:s, s:s}", "path", path, "mode", mode));
		return -2;
	}
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 0 || parse_hex_key(text, (size_t)n, key)) {
		file_error("the server key file does not hold 64 hex digits", path, 0);
		sodium_memzero(text, sizeof(text));
		return -2;
	}
	sodium_memzero(text, sizeof(text));
	return 0;
}

/* Write a new key under a temporary name and link it into place. 1: someone
 * else's key won the race (read it instead). */
static int create_key_file(const char *dir, const char *path, unsigned char key[32])
{
	char tmp[1100], hex[65];
	int fd, rc = -1;

	if (mkdir(dir, 0700) && errno != EEXIST) {
		log_json(LOG_ERROR, "cannot create the data directory",
			 json_pack("{s:s, s:s, s:s}", "variable", "RUNIT_DATA_DIR", "path", dir,
				   "error", strerror(errno)));
		return -1;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >= (int)sizeof(tmp))
		return -1;
	randombytes_buf(key, 32);
	sodium_bin2hex(hex, sizeof(hex), key, 32);
	hex[64] = '\n';
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		file_error("cannot create the server key file", tmp, errno);
		goto out_wipe;
	}
	if (write(fd, hex, 65) != 65 || fsync(fd)) {
		file_error("cannot write the server key file", tmp, errno);
		close(fd);
		goto out_unlink;
	}
	close(fd);
	if (link(tmp, path) == 0)
		rc = 0;
	else if (errno == EEXIST)
		rc = 1;
	else
		file_error("cannot create the server key file", path, errno);
out_unlink:
	unlink(tmp);
out_wipe:
	sodium_memzero(hex, sizeof(hex));
	return rc;
}

int secret_init(const struct config *cfg)
{
	unsigned char key[32];
	char path[1100];
	const char *env = getenv("RUNIT_SECRET_KEY");
	int rc;

	if (sodium_init() < 0)
		return -1;
	if (env && *env) {
		if (parse_hex_key(env, strlen(env), key)) /* never echo the value */
			return config_error("RUNIT_SECRET_KEY", "expected 64 hex digits", NULL);
		secret_set_key(key);
		sodium_memzero(key, sizeof(key));
		return 0;
	}
	if (snprintf(path, sizeof(path), "%s/%s", cfg->data_dir, KEY_FILE) >= (int)sizeof(path))
		return config_error("RUNIT_DATA_DIR", "path too long", cfg->data_dir);
	rc = read_key_file(path, key);
	if (rc == 1) {
		rc = create_key_file(cfg->data_dir, path, key);
		if (rc == 1)
			rc = read_key_file(path, key);
	} else if (rc == -1) {
		file_error("cannot read the server key file", path, errno);
	}
	if (rc)
		return -1;
	secret_set_key(key);
	sodium_memzero(key, sizeof(key));
	return 0;
}

int secret_seal(const unsigned char *msg, size_t len, unsigned char *out,
		unsigned char nonce[SECRET_NONCE_LEN])
{
	if (!have_key)
		return -1;
	randombytes_buf(nonce, SECRET_NONCE_LEN);
	return crypto_secretbox_easy(out, msg, len, nonce, seal_key) ? -1 : 0;
}

int secret_open(const unsigned char *c, size_t clen, const unsigned char nonce[SECRET_NONCE_LEN],
		unsigned char *out)
{
	if (!have_key || clen < SECRET_MAC_LEN)
		return -1;
	return crypto_secretbox_open_easy(out, c, clen, nonce, seal_key) ? -1 : 0;
}

void secret_mac_hex(const void *msg, size_t len, char hex[65])
{
	unsigned char h[32];

	crypto_generichash(h, sizeof(h), msg, len, mac_key, sizeof(mac_key));
	sodium_bin2hex(hex, 65, h, sizeof(h));
}
