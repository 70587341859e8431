/*
 * test_totp.c - the pure parts of accounts: TOTP codes against RFC 6238's
 * test vectors, the one-step skew window, replay refusal by step, code and
 * URI formats (server/auth_totp.c); recovery codes; the sealing of secrets
 * under the server key (server/secret.c); the login lock back-off
 * (server/auth_limit.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "auth_limit.h"
#include "auth_totp.h"
#include "config.h"
#include "secret.h"

/* RFC 6238 appendix B: the SHA-1 key. */
static const unsigned char rfc_key[20] = "12345678901234567890";

/* RFC 6238 appendix B, SHA-1 column, cut to our 6 digits (the low ones). */
static const struct {
	long long t;
	const char *code;
} rfc_vectors[] = {
    {59, "287082"},	    {1111111109, "081804"}, {1111111111, "050471"},
    {1234567890, "005924"}, {2000000000, "279037"}, {20000000000LL, "353130"},
};

static int setup(void **state)
{
	assert_int_equal(sodium_init() < 0 ? -1 : 0, 0);
	assert_int_equal(auth_totp_init(), 0);
	return 0;
}

static void codes_match_rfc6238_vectors(void **state)
{
	char out[7];

	for (size_t i = 0; i < sizeof(rfc_vectors) / sizeof(rfc_vectors[0]); i++) {
		assert_int_equal(auth_totp_code(rfc_key, 20, (time_t)rfc_vectors[i].t, out), 0);
		assert_string_equal(out, rfc_vectors[i].code);
	}
}

static void right_code_is_accepted_and_names_its_step(void **state)
{
	for (size_t i = 0; i < sizeof(rfc_vectors) / sizeof(rfc_vectors[0]); i++) {
		long long step = -5;
		time_t t = (time_t)rfc_vectors[i].t;

		assert_int_equal(auth_totp_check(rfc_key, 20, t, rfc_vectors[i].code, -1, &step),
				 AUTH_TOTP_OK);
		assert_int_equal(step, rfc_vectors[i].t / 30);
	}
}

static void one_step_of_skew_either_way_and_no_more(void **state)
{
	const time_t t = 1111111109; /* step 37037036, code 081804 */
	long long step;

	/* the device is one step ahead of or behind the server: accepted */
	step = 0;
	assert_int_equal(auth_totp_check(rfc_key, 20, t - 30, "081804", -1, &step), AUTH_TOTP_OK);
	assert_int_equal(step, 37037036);
	step = 0;
	assert_int_equal(auth_totp_check(rfc_key, 20, t + 30, "081804", -1, &step), AUTH_TOTP_OK);
	assert_int_equal(step, 37037036);
	/* two steps away: refused, and step is left alone */
	step = 7;
	assert_int_equal(auth_totp_check(rfc_key, 20, t - 60, "081804", -1, &step),
			 AUTH_TOTP_WRONG);
	assert_int_equal(auth_totp_check(rfc_key, 20, t + 60, "081804", -1, &step),
			 AUTH_TOTP_WRONG);
	assert_int_equal(step, 7);
}

static void used_step_and_earlier_steps_are_refused(void **state)
{
	const time_t t = 1111111109;
	char prev[7], next[7];
	long long step = 0;

	assert_int_equal(auth_totp_code(rfc_key, 20, t - 30, prev), 0);
	assert_int_equal(auth_totp_code(rfc_key, 20, t + 30, next), 0);
	/* the same code again, once its step is the last one used */
	assert_int_equal(auth_totp_check(rfc_key, 20, t, "081804", 37037036, &step),
			 AUTH_TOTP_REPLAY);
	/* the previous step's code is inside the window but older than the last used */
	assert_int_equal(auth_totp_check(rfc_key, 20, t, prev, 37037036, &step), AUTH_TOTP_REPLAY);
	/* the next step's code is newer: accepted */
	assert_int_equal(auth_totp_check(rfc_key, 20, t, next, 37037036, &step), AUTH_TOTP_OK);
	assert_int_equal(step, 37037037);
	/* and a code for an older last step still works */
	assert_int_equal(auth_totp_check(rfc_key, 20, t, "081804", 37037035, &step), AUTH_TOTP_OK);
	assert_int_equal(step, 37037036);
}

static void wrong_and_malformed_codes_are_told_apart(void **state)
{
	const time_t t = 1111111109;
	long long step = 0;
	static const char *const malformed[] = {"",	    "08180",  "0818045",
						"08180a",   "-81804", "0818 04x",
						"081804\n", "+81804", "０81804"};

	assert_int_equal(auth_totp_check(rfc_key, 20, t, "081805", -1, &step), AUTH_TOTP_WRONG);
	assert_int_equal(auth_totp_check(rfc_key, 20, t, "000000", -1, &step), AUTH_TOTP_WRONG);
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
		assert_int_equal(auth_totp_check(rfc_key, 20, t, malformed[i], -1, &step),
				 AUTH_TOTP_MALFORMED);
	assert_int_equal(auth_totp_check(rfc_key, 20, t, NULL, -1, &step), AUTH_TOTP_MALFORMED);
	/* spaces as authenticator apps show them are fine */
	assert_int_equal(auth_totp_check(rfc_key, 20, t, "081 804", -1, &step), AUTH_TOTP_OK);
}

static void secret_base32_and_otpauth_uri(void **state)
{
	unsigned char secret[AUTH_TOTP_SECRET_LEN], other[AUTH_TOTP_SECRET_LEN];
	char b32[AUTH_TOTP_B32_LEN + 1], uri[256], small[40];

	assert_int_equal(auth_totp_base32(rfc_key, b32), 0);
	assert_string_equal(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
	assert_int_equal(auth_totp_uri("ada.l_x-1", b32, uri, sizeof(uri)), 0);
	assert_string_equal(uri, "otpauth://totp/run-it:ada.l_x-1?secret="
				 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=run-it&algorithm=SHA1"
				 "&digits=6&period=30");
	/* anything outside the unreserved set is percent-encoded */
	assert_int_equal(auth_totp_uri("a b&c?d", b32, uri, sizeof(uri)), 0);
	assert_non_null(strstr(uri, "run-it:a%20b%26c%3Fd?secret="));
	assert_int_equal(auth_totp_uri("ada", b32, small, sizeof(small)), -1);
	/* new secrets are random */
	auth_totp_secret_new(secret);
	auth_totp_secret_new(other);
	assert_memory_not_equal(secret, other, sizeof(secret));
	assert_int_equal(auth_totp_base32(secret, b32), 0);
	assert_int_equal(strlen(b32), AUTH_TOTP_B32_LEN);
	assert_int_equal(strspn(b32, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), AUTH_TOTP_B32_LEN);
}

static void recovery_codes_have_one_shape_and_normalize(void **state)
{
	char code[AUTH_RECOVERY_CHARS + 3], norm[AUTH_RECOVERY_CHARS + 1], up[32];
	char seen[200][AUTH_RECOVERY_CHARS + 3];

	for (int i = 0; i < 200; i++) {
		auth_recovery_new(code);
		assert_int_equal(strlen(code), 14);
		assert_true(code[4] == '-' && code[9] == '-');
		for (int j = 0; j < i; j++)
			assert_string_not_equal(code, seen[j]);
		memcpy(seen[i], code, sizeof(code));
		assert_int_equal(auth_recovery_normalize(code, norm), 0);
		assert_int_equal(strlen(norm), 12);
		/* typed in capitals, with spaces instead of dashes: the same code */
		for (size_t k = 0; k <= strlen(code); k++)
			up[k] =
			    code[k] == '-' ? ' ' : (char)(code[k] >= 'a' ? code[k] - 32 : code[k]);
		assert_int_equal(auth_recovery_normalize(up, code), 0);
		assert_string_equal(code, norm);
	}
	assert_int_equal(auth_recovery_normalize("abcd-efgh-jkm", norm), -1);	/* short */
	assert_int_equal(auth_recovery_normalize("abcd-efgh-jkmnp", norm), -1); /* long */
	assert_int_equal(auth_recovery_normalize("abcd-efgh-jkm0", norm), -1);	/* 0 is not used */
	assert_int_equal(auth_recovery_normalize("'; DROP TABLE", norm), -1);
	assert_int_equal(auth_recovery_normalize("", norm), -1);
}

static void sealed_secrets_open_only_under_their_key(void **state)
{
	unsigned char key[32], box[AUTH_TOTP_SECRET_LEN + SECRET_MAC_LEN], nonce[SECRET_NONCE_LEN],
	    nonce2[SECRET_NONCE_LEN], out[AUTH_TOTP_SECRET_LEN];
	char h1[65], h2[65];

	memset(key, 7, sizeof(key));
	secret_set_key(key);
	assert_int_equal(secret_seal(rfc_key, 20, box, nonce), 0);
	assert_memory_not_equal(box, rfc_key, 20);
	assert_int_equal(secret_open(box, sizeof(box), nonce, out), 0);
	assert_memory_equal(out, rfc_key, 20);
	/* a fresh nonce every time */
	assert_int_equal(secret_seal(rfc_key, 20, box, nonce2), 0);
	assert_memory_not_equal(nonce, nonce2, sizeof(nonce));
	/* tampered box, wrong nonce, short box: refused */
	box[3] ^= 1;
	assert_int_equal(secret_open(box, sizeof(box), nonce2, out), -1);
	box[3] ^= 1;
	assert_int_equal(secret_open(box, sizeof(box), nonce, out), -1);
	assert_int_equal(secret_open(box, SECRET_MAC_LEN - 1, nonce2, out), -1);
	/* another server key cannot open it */
	secret_mac_hex("abc", 3, h1);
	key[0] = 8;
	secret_set_key(key);
	assert_int_equal(secret_open(box, sizeof(box), nonce2, out), -1);
	secret_mac_hex("abc", 3, h2);
	assert_string_not_equal(h1, h2);
	assert_int_equal(strlen(h1), 64);
}

static void login_lock_doubles_from_the_threshold_up_to_the_cap(void **state)
{
	struct config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.login_lock_after = 5;
	cfg.login_lock_base_ms = 1000;
	cfg.login_lock_max_ms = 900000;
	assert_int_equal(auth_limit_lock_ms(&cfg, 0), 0);
	assert_int_equal(auth_limit_lock_ms(&cfg, 4), 0);
	assert_int_equal(auth_limit_lock_ms(&cfg, 5), 1000);
	assert_int_equal(auth_limit_lock_ms(&cfg, 6), 2000);
	assert_int_equal(auth_limit_lock_ms(&cfg, 10), 32000);
	assert_int_equal(auth_limit_lock_ms(&cfg, 14), 512000);
	assert_int_equal(auth_limit_lock_ms(&cfg, 15), 900000);
	assert_int_equal(auth_limit_lock_ms(&cfg, 1000000), 900000);
	assert_int_equal(auth_limit_retry_s(1), 1);
	assert_int_equal(auth_limit_retry_s(1000), 1);
	assert_int_equal(auth_limit_retry_s(1001), 2);
	assert_int_equal(auth_limit_retry_s(0), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(codes_match_rfc6238_vectors),
	    cmocka_unit_test(right_code_is_accepted_and_names_its_step),
	    cmocka_unit_test(one_step_of_skew_either_way_and_no_more),
	    cmocka_unit_test(used_step_and_earlier_steps_are_refused),
	    cmocka_unit_test(wrong_and_malformed_codes_are_told_apart),
	    cmocka_unit_test(secret_base32_and_otpauth_uri),
	    cmocka_unit_test(recovery_codes_have_one_shape_and_normalize),
	    cmocka_unit_test(sealed_secrets_open_only_under_their_key),
	    cmocka_unit_test(login_lock_doubles_from_the_threshold_up_to_the_cap),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
