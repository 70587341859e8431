/*
 * test_errmon.c - the pure half of error monitoring
 * (server/core/errmon_event.c) and the DSN parser behind RUNIT_SENTRY_DSN
 * (server/base/config.c): secrets scrubbed from text and context, one
 * fingerprint for errors that differ only in numbers, the Sentry event
 * and its envelope's framing, and the DSNs that must be refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "errmon_event.h"

static void scrubbed(const char *in, const char *hide, const char *want)
{
	char *out = errmon_scrub_str(in, hide);

	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

static void secrets_in_text_are_filtered(void **state)
{
	scrubbed("GET /x?token=abc123&page=2", NULL, "GET /x?token=[Filtered]&page=2");
	scrubbed("login password=hunter2 failed", NULL, "login password=[Filtered] failed");
	scrubbed("{\"password\": \"p4ss\", \"n\": 1}", NULL,
		 "{\"password\": \"[Filtered]\", \"n\": 1}");
	scrubbed("Authorization: Bearer eyJhbGciOi.x.y", NULL, "Authorization: [Filtered]");
	scrubbed("sent Bearer eyJhbGciOi.x.y", NULL, "sent Bearer [Filtered]");
	scrubbed("postgresql://runit:secret@db/runit", NULL, "postgresql://[Filtered]@db/runit");
	scrubbed("dsn key k3y in text", "k3y", "dsn key [Filtered] in text");
	/* not secrets: an exit code, a monkey, plain words */
	scrubbed("exit_code=3 monkey=1 x is undefined", NULL,
		 "exit_code=3 monkey=1 x is undefined");
	scrubbed("TOTP code: 123456", NULL, "TOTP code: [Filtered]");
}

static void secret_keys_are_filtered_in_context(void **state)
{
	json_t *ctx =
	    json_pack("{s:s, s:s, s:{s:s, s:i}, s:[s], s:i}", "route", "#/p/1?token=zz", "Cookie",
		      "runit_session=abc", "headers", "Authorization", "Basic dXNlcjpwYXNz",
		      "exit_code", 3, "list", "password=x", "line", 4);
	char *s;

	errmon_scrub_json(ctx, NULL);
	s = json_dumps(ctx, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s, "{\"Cookie\":\"[Filtered]\",\"headers\":{\"Authorization\":"
			       "\"[Filtered]\",\"exit_code\":3},\"line\":4,\"list\":[\"password=["
			       "Filtered]\"],\"route\":\"#/p/1?token=[Filtered]\"}");
	free(s);
	json_decref(ctx);
}

static void numbers_do_not_split_an_error(void **state)
{
	char a[17], b[17], c[17], d[17];

	errmon_fingerprint("server", "", "run 12 failed after 300 ms", a);
	errmon_fingerprint("server", "", "run 13 failed after 41 ms", b);
	errmon_fingerprint("browser", "", "run 12 failed after 300 ms", c);
	errmon_fingerprint("server", "", "run 12 stopped after 300 ms", d);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_string_not_equal(a, d);
	assert_int_equal(strlen(a), 16);
}

static void envelope_is_three_lines_with_the_right_length(void **state)
{
	json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:[{s:s, s:s, s:i, s:i}, {s:s}]}, "
			       "s:I}",
			       "source", "browser", "type", "TypeError", "message", "x é undefined",
			       "fingerprint", "0123456789abcdef", "context", "route", "#/p/7",
			       "frames", "function", "inner", "filename", "a.js", "lineno", 3,
			       "colno", 4, "function", "outer", "user_id", (json_int_t)42);
	struct errmon_meta m = {"0123456789abcdef0123456789abcdef", "2026-01-01T00:00:00.000Z",
				"run-it@0.1.0", "inst-1", "test"};
	json_t *e = errmon_sentry_event(ev, &m), *h, *ih, *body;
	size_t len;
	char *env = errmon_envelope(e, "http://k@h/1", "2026-01-01T00:00:01.000Z", &len);
	char *l1, *l2, *l3;

	assert_non_null(env);
	assert_int_equal(strlen(env), len);
	l1 = env;
	l2 = strchr(l1, '\n') + 1;
	l3 = strchr(l2, '\n') + 1;
	h = json_loadb(l1, (size_t)(l2 - l1 - 1), 0, NULL);
	ih = json_loadb(l2, (size_t)(l3 - l2 - 1), 0, NULL);
	assert_non_null(h);
	assert_non_null(ih);
	assert_string_equal(json_string_value(json_object_get(h, "event_id")), m.event_id);
	assert_string_equal(json_string_value(json_object_get(h, "dsn")), "http://k@h/1");
	assert_string_equal(json_string_value(json_object_get(ih, "type")), "event");
	/* length counts bytes (é is two), and a newline ends the payload */
	assert_int_equal(json_integer_value(json_object_get(ih, "length")), strlen(l3) - 1);
	body = json_loadb(l3, (size_t)json_integer_value(json_object_get(ih, "length")), 0, NULL);
	assert_non_null(body);
	assert_string_equal(json_string_value(json_object_get(body, "platform")), "javascript");
	assert_string_equal(json_string_value(json_object_get(body, "server_name")), "inst-1");
	assert_string_equal(json_string_value(json_object_get(json_object_get(body, "user"), "id")),
			    "42");
	{
		json_t *x = json_array_get(
		    json_object_get(json_object_get(body, "exception"), "values"), 0);
		json_t *fr = json_object_get(json_object_get(x, "stacktrace"), "frames");
		assert_string_equal(json_string_value(json_object_get(x, "type")), "TypeError");
		assert_int_equal(json_array_size(fr), 2);
		/* outermost first, as Sentry wants */
		assert_string_equal(
		    json_string_value(json_object_get(json_array_get(fr, 0), "function")), "outer");
	}
	json_decref(h);
	json_decref(ih);
	json_decref(body);
	json_decref(e);
	json_decref(ev);
	free(env);
}

static void dsns(void **state)
{
	char url[512], key[64];
	const char *why = NULL;

	assert_int_equal(config_parse_dsn("https://abc123@o1.ingest.sentry.io/4505", url,
					  sizeof(url), key, sizeof(key), &why),
			 0);
	assert_string_equal(url, "https://o1.ingest.sentry.io/api/4505/envelope/");
	assert_string_equal(key, "abc123");
	assert_int_equal(config_parse_dsn("http://k:legacysecret@127.0.0.1:8000/prefix/42", url,
					  sizeof(url), key, sizeof(key), &why),
			 0);
	assert_string_equal(url, "http://127.0.0.1:8000/prefix/api/42/envelope/");
	assert_string_equal(key, "k");
	static const char *bad[] = {
	    "ftp://k@h/1",	  "http://h/1",		 "http://@h/1",	   "http://k@/1",
	    "http://k@h",	  "http://k@h/",	 "http://k@h/abc", "http://k@h:0/1",
	    "http://k@h:99999/1", "http://k@h:/1",	 "http://k!@h/1",  "http://k@h/1?x=1",
	    "http://k@h h/1",	  "http://k@h/a/b/c/x1", "http://k@:80/1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(config_parse_dsn(bad[i], url, sizeof(url), key, sizeof(key), &why),
				 -1);
		assert_non_null(why);
		/* the reason never quotes the DSN (its key is a credential) */
		assert_null(strstr(why, "k@"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(secrets_in_text_are_filtered),
	    cmocka_unit_test(secret_keys_are_filtered_in_context),
	    cmocka_unit_test(numbers_do_not_split_an_error),
	    cmocka_unit_test(envelope_is_three_lines_with_the_right_length),
	    cmocka_unit_test(dsns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
