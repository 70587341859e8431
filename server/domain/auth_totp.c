/*
 * auth_totp.c - TOTP checks with liboath, secrets, otpauth:// URIs and
 * recovery codes (see auth_totp.h).
 */
#include "auth_totp.h"

#include <liboath/oath.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Recovery code alphabet: no 0/o, 1/l/i to misread. 31 symbols. */
static const char recovery_alphabet[] = "23456789abcdefghjkmnpqrstuvwxyz";

int auth_totp_init(void)
{
	return oath_init() == OATH_OK ? 0 : -1;
}

/* "123 456" -> "123456"; -1 unless exactly six digits remain. */
static int normalize_code(const char *in, char out[AUTH_TOTP_DIGITS + 1])
{
	size_t n = 0;

	for (; *in; in++) {
		if (*in == ' ')
			continue;
		if (*in < '0' || *in > '9' || n == AUTH_TOTP_DIGITS)
			return -1;
		out[n++] = *in;
	}
	out[n] = '\0';
	return n == AUTH_TOTP_DIGITS ? 0 : -1;
}

int auth_totp_check(const unsigned char *secret, size_t len, time_t now, const char *code,
		    long long last_step, long long *step)
{
	char otp[AUTH_TOTP_DIGITS + 1];
	uint64_t counter = 0;
	int pos = 0, rc;

	if (!code || normalize_code(code, otp))
		return AUTH_TOTP_MALFORMED;
	rc = oath_totp_validate3((const char *)secret, len, now, AUTH_TOTP_STEP,
				 OATH_TOTP_DEFAULT_START_TIME, AUTH_TOTP_WINDOW, &pos, &counter,
				 otp);
	if (rc == OATH_INVALID_OTP)
		return AUTH_TOTP_WRONG;
	if (rc < 0)
		return AUTH_TOTP_ERROR;
	if (last_step >= 0 && counter <= (uint64_t)last_step)
		return AUTH_TOTP_REPLAY;
	*step = (long long)counter;
	return AUTH_TOTP_OK;
}

int auth_totp_code(const unsigned char *secret, size_t len, time_t now, char out[7])
{
	return oath_totp_generate((const char *)secret, len, now, AUTH_TOTP_STEP,
				  OATH_TOTP_DEFAULT_START_TIME, AUTH_TOTP_DIGITS, out) == OATH_OK
		   ? 0
		   : -1;
}

void auth_totp_secret_new(unsigned char secret[AUTH_TOTP_SECRET_LEN])
{
	randombytes_buf(secret, AUTH_TOTP_SECRET_LEN);
}

int auth_totp_base32(const unsigned char secret[AUTH_TOTP_SECRET_LEN],
		     char out[AUTH_TOTP_B32_LEN + 1])
{
	char *b32 = NULL;
	size_t n = 0;

	if (oath_base32_encode((const char *)secret, AUTH_TOTP_SECRET_LEN, &b32, &n) != OATH_OK)
		return -1;
	if (n != AUTH_TOTP_B32_LEN) {
		free(b32);
		return -1;
	}
	memcpy(out, b32, n);
	out[n] = '\0';
	sodium_memzero(b32, n);
	free(b32);
	return 0;
}

int auth_totp_uri(const char *username, const char *b32, char *out, size_t outsz)
{
	static const char hex[] = "0123456789ABCDEF";
	char label[3 * 64 + 1];
	size_t n = 0;
	int w;

	/* RFC 3986 unreserved characters pass, the rest is percent-encoded. */
	for (const unsigned char *p = (const unsigned char *)username; *p; p++) {
		if (n + 4 > sizeof(label))
			return -1;
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			label[n++] = (char)*p;
		} else {
			label[n++] = '%';
			label[n++] = hex[*p >> 4];
			label[n++] = hex[*p & 15];
		}
	}
	label[n] = '\0';
	w = snprintf(
	    out, outsz,
	    "otpauth://totp/run-it:%s?secret=%s&issuer=run-it&algorithm=SHA1&digits=%d&period=%d",
	    label, b32, AUTH_TOTP_DIGITS, AUTH_TOTP_STEP);
	return (w < 0 || (size_t)w >= outsz) ? -1 : 0;
}

void auth_recovery_new(char out[AUTH_RECOVERY_CHARS + 3])
{
	size_t n = 0;

	for (int i = 0; i < AUTH_RECOVERY_CHARS; i++) {
		if (i && i % 4 == 0)
			out[n++] = '-';
		out[n++] = recovery_alphabet[randombytes_uniform(sizeof(recovery_alphabet) - 1)];
	}
	out[n] = '\0';
}

int auth_recovery_normalize(const char *in, char out[AUTH_RECOVERY_CHARS + 1])
{
	size_t n = 0;

	for (; *in; in++) {
		char ch = *in;
		if (ch == '-' || ch == ' ')
			continue;
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (n == AUTH_RECOVERY_CHARS || !strchr(recovery_alphabet, ch) || !ch)
			return -1;
		out[n++] = ch;
	}
	out[n] = '\0';
	return n == AUTH_RECOVERY_CHARS ? 0 : -1;
}
