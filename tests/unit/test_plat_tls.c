/*
 * test_plat_tls.c - the checks of a TCP platform's TLS material before it
 * is stored (plat_tls_check, platform.h) and what plat_new() asks of a
 * tcp:// endpoint: all three PEMs, a host and port. The PEMs below were made
 * once with the openssl CLI (an EC P-256 CA, a client certificate it
 * signed with its key, and one more key), valid for 100 years.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "platform.h"

static const char CA[] = "-----BEGIN CERTIFICATE-----\n"
			 "MIIBezCCASGgAwIBAgIUZxugCG0Uy8yQBKfDhdIoBdodAt4wCgYIKoZIzj0EAwIw\n"
			 "EjEQMA4GA1UEAwwHdW5pdCBDQTAgFw0yNjEyMDMwNzI2NDlaGA8yMTI2MTEwOTA3\n"
			 "MjY0OVowEjEQMA4GA1UEAwwHdW5pdCBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEH\n"
			 "A0IABN/Odk6H4bhvd6yIOpcgSdF8E4vkI5I3+yLYbFFx9+d+o3gMC01YHNsRWz48\n"
			 "PnXYXo/O8l7GabrwSTMDwYlefdyjUzBRMB0GA1UdDgQWBBSFPug4b9groMMKmtY2\n"
			 "j9ppgYwWNDAfBgNVHSMEGDAWgBSFPug4b9groMMKmtY2j9ppgYwWNDAPBgNVHRMB\n"
			 "Af8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQCX1zfFlD+DMbsgumPY1urtf4hw\n"
			 "DQ/cfWxQN0PvCOm6MgIgAcuylnyGGct3TLz8uOmQNLwTIxs4+Bd7DAReE9iO8pU=\n"
			 "-----END CERTIFICATE-----\n";

static const char CERT[] = "-----BEGIN CERTIFICATE-----\n"
			   "MIIBIzCBywIUTpQ4tSlHRLMM8h6SoIwD8Rp6WqswCgYIKoZIzj0EAwIwEjEQMA4G\n"
			   "A1UEAwwHdW5pdCBDQTAgFw0yNjEyMDMwNzI2NTBaGA8yMTI2MTEwOTA3MjY1MFow\n"
			   "FjEUMBIGA1UEAwwLdW5pdCBjbGllbnQwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC\n"
			   "AASMCRntm8+ENYKHqZZH7kFIHgRJpZ0IUrqBtDtV95WCYBTJDzvHDGi/orII/18j\n"
			   "8HUieEWUaOgJPVJ0JRh1vPI6MAoGCCqGSM49BAMCA0cAMEQCID31XhUSThsL+a6o\n"
			   "EWnO1s6s6+EXlzJn8jyxPDMlmRtuAiB8R5TFH8J1HW6pp3zD2gndgEpVDpLWM8ni\n"
			   "hOU4SZcU2g==\n"
			   "-----END CERTIFICATE-----\n";

static const char KEY[] = "-----BEGIN PRIVATE KEY-----\n"
			  "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgyhXpIng0Zhzg3P7h\n"
			  "0+u9sIjqDA06LyuJWv8BY4+0m2OhRANCAASMCRntm8+ENYKHqZZH7kFIHgRJpZ0I\n"
			  "UrqBtDtV95WCYBTJDzvHDGi/orII/18j8HUieEWUaOgJPVJ0JRh1vPI6\n"
			  "-----END PRIVATE KEY-----\n";

static const char OTHER_KEY[] = "-----BEGIN PRIVATE KEY-----\n"
				"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgU15CsPjrYM9LFspu\n"
				"JPu+XrIYmUbRAewYX/L8pdQcc8GhRANCAARUK44KHLtzMQw0oFmXr5dPPybIuL2/\n"
				"4PqOsWBttl+Ojn/zXNIS/qP6hiIDl11IY3ThkFPLg0ShS0daunrrGtLp\n"
				"-----END PRIVATE KEY-----\n";

static void test_tls_check_accepts_a_matching_set(void **state)
{
	char why[200] = "";
	(void)state;

	assert_int_equal(plat_tls_check(CA, CERT, KEY, why, sizeof(why)), 0);
	/* a CA bundle of two certificates is one CA text too */
	char two[4096];
	snprintf(two, sizeof(two), "%s%s", CA, CERT);
	assert_int_equal(plat_tls_check(two, CERT, KEY, why, sizeof(why)), 0);
}

static void test_tls_check_says_which_pem_is_wrong(void **state)
{
	char why[200];
	(void)state;

	assert_int_equal(plat_tls_check("garbage", CERT, KEY, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "tls_ca"));
	assert_int_equal(plat_tls_check(CA, KEY, KEY, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "tls_cert"));
	assert_int_equal(plat_tls_check(CA, CERT, CERT, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "tls_key is not"));
	assert_int_equal(plat_tls_check(CA, CERT, OTHER_KEY, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "does not belong"));
	/* a certificate whose base64 is broken */
	assert_int_equal(
	    plat_tls_check("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", CERT,
			   KEY, why, sizeof(why)),
	    -1);
	assert_int_equal(plat_tls_check(NULL, CERT, KEY, why, sizeof(why)), -1);
}

static void test_tcp_endpoint_needs_the_pems(void **state)
{
	uv_loop_t loop;
	struct plat *p = (struct plat *)1;
	struct plat_config cfg = {.endpoint = "tcp://127.0.0.1:2376"};
	(void)state;

	uv_loop_init(&loop);
	assert_int_equal(plat_new(&loop, &cfg, &p), PLAT_E_INVAL);
	assert_null(p);
	cfg.tls_ca = CA;
	cfg.tls_cert = CERT;
	assert_int_equal(plat_new(&loop, &cfg, &p), PLAT_E_INVAL); /* no key */
	cfg.tls_key = KEY;
	assert_int_equal(plat_new(&loop, &cfg, &p), 0);
	plat_free(p);
	for (const char *const *ep =
		 (const char *const[]){"https://engine.example", "tcp://[::1]:2376/",
				       "tcp://10.0.0.5", NULL};
	     *ep; ep++) {
		cfg.endpoint = *ep;
		assert_int_equal(plat_new(&loop, &cfg, &p), 0);
		plat_free(p);
	}
	for (const char *const *ep =
		 (const char *const[]){"tcp://", "tcp://user@host:1", "tcp://host:1/path", NULL};
	     *ep; ep++) {
		cfg.endpoint = *ep;
		assert_int_equal(plat_new(&loop, &cfg, &p), PLAT_E_INVAL);
	}
	assert_int_equal(plat_endpoint_is_tcp("tcp://h:1"), 1);
	assert_int_equal(plat_endpoint_is_tcp("https://h"), 1);
	assert_int_equal(plat_endpoint_is_tcp("unix:///x"), 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tls_check_accepts_a_matching_set),
	    cmocka_unit_test(test_tls_check_says_which_pem_is_wrong),
	    cmocka_unit_test(test_tcp_endpoint_needs_the_pems),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
