/*
 * test_proto_emit.c - outbound frames and the reason table: exact bytes of
 * each frame kind, ownership (borrowed vs stolen), round trips through
 * proto_parse and jansson, and that hostile content still yields valid JSON.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto.h"

/*
 * Check an emitted frame against the expected text and free it. len is a
 * pointer, read here, because the frame's call is an argument beside it.
 */
static void expect_frame(char *got, const size_t *len, const char *want)
{
	assert_non_null(got);
	assert_string_equal(got, want);
	assert_int_equal(*len, strlen(want));
	free(got);
}

/* Load an emitted frame back with jansson (strict: no NUL, no dups). */
static json_t *reload(char *frame, const size_t *len)
{
	json_error_t je;
	json_t *v;

	assert_non_null(frame);
	v = json_loadb(frame, *len, JSON_REJECT_DUPLICATES, &je);
	if (!v)
		print_error("not JSON: %s: %s\n", je.text, frame);
	assert_non_null(v);
	free(frame);
	return v;
}

/* ---- reason table ---- */

static void test_every_reason_has_a_unique_upper_case_name(void **state)
{
	int r, q;
	(void)state;

	for (r = 0; r < PROTO_R_COUNT; r++) {
		const char *name = proto_reason_str((enum proto_reason)r);
		const char *c;

		assert_non_null(name);
		assert_true(name[0] != '\0');
		for (c = name; *c; c++)
			assert_true((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
				    *c == '_');
		for (q = 0; q < r; q++)
			assert_string_not_equal(name, proto_reason_str((enum proto_reason)q));
	}
	assert_string_equal(proto_reason_str(PROTO_R_TOO_LARGE), "TOO_LARGE");
	assert_string_equal(proto_reason_str(PROTO_R_BATCH_UNSUPPORTED), "BATCH_UNSUPPORTED");
	assert_string_equal(proto_reason_str(PROTO_R_PLATFORM_UNAVAILABLE), "PLATFORM_UNAVAILABLE");
	assert_string_equal(proto_reason_str(PROTO_R_SLOW_CONSUMER), "SLOW_CONSUMER");
	assert_string_equal(proto_reason_str(PROTO_R_IMAGE_MISSING), "IMAGE_MISSING");
	assert_string_equal(proto_reason_str(PROTO_R_POOL_FULL), "POOL_FULL");
	assert_string_equal(proto_reason_str(PROTO_R_TLS_REQUIRED), "TLS_REQUIRED");
	assert_string_equal(proto_reason_str(PROTO_R_TLS_INVALID), "TLS_INVALID");
}

static void test_reason_codes_follow_json_rpc_classes(void **state)
{
	static const enum proto_reason parse[] = {PROTO_R_PARSE_ERROR, PROTO_R_INVALID_UTF8,
						  PROTO_R_TOO_DEEP, PROTO_R_DUPLICATE_KEY,
						  PROTO_R_NUMBER_TOO_LARGE};
	static const enum proto_reason app[] = {
	    PROTO_R_UNAUTHENTICATED, PROTO_R_FORBIDDEN,	       PROTO_R_NOT_FOUND,
	    PROTO_R_CONFLICT,	     PROTO_R_INVALID_PATH,     PROTO_R_RATE_LIMITED,
	    PROTO_R_RUN_QUOTA,	     PROTO_R_RUNTIME_DISABLED, PROTO_R_PLATFORM_UNAVAILABLE,
	    PROTO_R_MFA_REQUIRED,    PROTO_R_UNAVAILABLE,      PROTO_R_SLOW_CONSUMER,
	    PROTO_R_IMAGE_MISSING,   PROTO_R_POOL_FULL,	       PROTO_R_TLS_REQUIRED,
	    PROTO_R_TLS_INVALID};
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(parse) / sizeof(parse[0]); i++)
		assert_int_equal(proto_reason_code(parse[i]), -32700);
	for (i = 0; i < sizeof(app) / sizeof(app[0]); i++)
		assert_int_equal(proto_reason_code(app[i]), -32000);
	assert_int_equal(proto_reason_code(PROTO_R_INVALID_REQUEST), -32600);
	assert_int_equal(proto_reason_code(PROTO_R_BATCH_UNSUPPORTED), -32600);
	assert_int_equal(proto_reason_code(PROTO_R_TOO_LARGE), -32600);
	assert_int_equal(proto_reason_code(PROTO_R_METHOD_NOT_FOUND), -32601);
	assert_int_equal(proto_reason_code(PROTO_R_INVALID_PARAMS), -32602);
	assert_int_equal(proto_reason_code(PROTO_R_INTERNAL), -32603);
	/* the tables cover all reasons: nothing is left at 0 */
	assert_int_equal((int)(sizeof(parse) / sizeof(parse[0]) + sizeof(app) / sizeof(app[0]) + 6),
			 PROTO_R_COUNT - 1);
}

static void test_out_of_range_reason_is_internal(void **state)
{
	size_t len;
	(void)state;

	assert_string_equal(proto_reason_str(PROTO_R_COUNT), "INTERNAL");
	assert_string_equal(proto_reason_str((enum proto_reason) - 1), "INTERNAL");
	assert_int_equal(proto_reason_code((enum proto_reason)1000), -32603);
	expect_frame(proto_error_frame(NULL, (enum proto_reason)1000, "x", NULL, &len), &len,
		     "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32603,"
		     "\"message\":\"x\",\"data\":{\"reason\":\"INTERNAL\"}}}");
}

/* ---- results ---- */

static void test_result_frame_exact_bytes_int_and_string_id(void **state)
{
	json_t *id = json_integer(7), *sid = json_string("a\"b"), *res = json_pack("{s:i}", "a", 1);
	size_t len = 0;
	char *f;
	(void)state;

	f = proto_result(id, res, &len);
	expect_frame(f, &len, "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"a\":1}}");
	f = proto_result(sid, res, &len);
	expect_frame(f, &len, "{\"jsonrpc\":\"2.0\",\"id\":\"a\\\"b\",\"result\":{\"a\":1}}");
	f = proto_result(NULL, NULL, &len);
	expect_frame(f, &len, "{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":null}");
	/* borrowed: the caller still owns exactly its references */
	assert_int_equal(res->refcount, 1);
	assert_int_equal(id->refcount, 1);
	json_decref(id);
	json_decref(sid);
	json_decref(res);
}

static void test_result_steal_takes_the_reference(void **state)
{
	json_t *res = json_object(), *id = json_integer(1);
	size_t len;
	(void)state;

	json_incref(res);
	expect_frame(proto_result_steal(id, res, &len), &len,
		     "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}");
	assert_int_equal(res->refcount, 1);
	assert_int_equal(id->refcount, 1);
	json_decref(res);
	json_decref(id);
	/* len may be NULL */
	free(proto_result_steal(NULL, json_true(), NULL));
}

static void test_unencodable_result_becomes_internal_error_for_same_id(void **state)
{
	json_t *id = json_string("req-1");
	json_t *res = json_object();
	json_t *v;
	size_t len;
	(void)state;

	json_object_set_new(res, "bad", json_string_nocheck("\xFF\xFE"));
	v = reload(proto_result(id, res, &len), &len);
	assert_string_equal(json_string_value(json_object_get(v, "id")), "req-1");
	assert_null(json_object_get(v, "result"));
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(json_object_get(v, "error"), "data"), "reason")),
			    "INTERNAL");
	json_decref(v);
	json_decref(res);
	json_decref(id);
}

/* ---- errors ---- */

static void test_error_frame_exact_bytes(void **state)
{
	json_t *id = json_integer(3);
	size_t len;
	(void)state;

	expect_frame(proto_error_frame(id, PROTO_R_RUN_QUOTA, "too many runs", NULL, &len), &len,
		     "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32000,"
		     "\"message\":\"too many runs\",\"data\":{\"reason\":\"RUN_QUOTA\"}}}");
	expect_frame(proto_error_frame(NULL, PROTO_R_TOO_LARGE, "frame too large", NULL, &len),
		     &len,
		     "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
		     "\"message\":\"frame too large\",\"data\":{\"reason\":\"TOO_LARGE\"}}}");
	json_decref(id);
}

static void test_error_frame_merges_extra_data_but_keeps_reason(void **state)
{
	json_t *id = json_string("x");
	json_t *extra =
	    json_pack("{s:i, s:s, s:{s:b}}", "version", 12, "reason", "HIJACK", "detail", "ok", 1);
	size_t len;
	(void)state;

	expect_frame(proto_error_frame(id, PROTO_R_CONFLICT, "stale", extra, &len), &len,
		     "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"error\":{\"code\":-32000,\"message\":"
		     "\"stale\",\"data\":{\"reason\":\"CONFLICT\",\"version\":12,\"detail\":{"
		     "\"ok\":true}}}}");
	assert_int_equal(extra->refcount, 1); /* borrowed */
	assert_int_equal(json_object_size(extra), 3);
	json_decref(extra);

	/* non-object extra_data is ignored */
	extra = json_integer(5);
	expect_frame(proto_error_frame(id, PROTO_R_NOT_FOUND, "gone", extra, &len), &len,
		     "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"error\":{\"code\":-32000,\"message\":"
		     "\"gone\",\"data\":{\"reason\":\"NOT_FOUND\"}}}");
	json_decref(extra);
	json_decref(id);
}

static void test_error_frame_without_message_uses_default(void **state)
{
	size_t len;
	json_t *v;
	(void)state;

	v = reload(proto_error_frame(NULL, PROTO_R_METHOD_NOT_FOUND, NULL, NULL, &len), &len);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(v, "error"), "message")),
	    "Method not found");
	json_decref(v);
	v = reload(proto_error_frame(NULL, PROTO_R_NONE, "", NULL, &len), &len);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "error"), "code")),
			 -32603);
	json_decref(v);
}

static void test_error_frame_is_valid_json_for_hostile_message(void **state)
{
	static const char msg[] = "quote\" backslash\\ nl\n tab\t ctl\x01\x1f del\x7f "
				  "</script> \xE2\x80\xA8 \xF0\x9F\x98\x80";
	size_t len;
	json_t *v;
	(void)state;

	v = reload(proto_error_frame(NULL, PROTO_R_INVALID_PATH, msg, NULL, &len), &len);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(v, "error"), "message")), msg);
	json_decref(v);

	/* invalid UTF-8 in the message is cut at the first bad byte */
	v = reload(
	    proto_error_frame(NULL, PROTO_R_INTERNAL, "ok \xC3\xA9 then \xFF junk", NULL, &len),
	    &len);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(v, "error"), "message")),
	    "ok \xC3\xA9 then ");
	json_decref(v);
}

static void test_error_frame_drops_unencodable_extra_data(void **state)
{
	json_t *extra = json_object();
	size_t len;
	(void)state;

	json_object_set_new(extra, "path", json_string_nocheck("a\xC0\x80"));
	expect_frame(proto_error_frame(NULL, PROTO_R_INVALID_PATH, "bad path", extra, &len), &len,
		     "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32000,\"message\":"
		     "\"bad path\",\"data\":{\"reason\":\"INVALID_PATH\"}}}");
	json_decref(extra);
}

/* Every refusal proto_parse produces turns into a frame that carries the id. */
static void test_parse_refusal_round_trips_to_error_frame(void **state)
{
	static const struct {
		const char *frame;
		int code;
		const char *reason;
		json_int_t id; /* -1: null */
	} cases[] = {
	    {"{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"\"}", -32600, "INVALID_REQUEST", 11},
	    {"{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"m\",\"params\":{\"n\":1e300}}", -32700,
	     "NUMBER_TOO_LARGE", 12},
	    {"[1]", -32600, "BATCH_UNSUPPORTED", -1},
	    {"{\"a\":1,\"a\":2}", -32700, "DUPLICATE_KEY", -1},
	    {"{\"a\":\"\xC0\xAF\"}", -32700, "INVALID_UTF8", -1},
	    {"{", -32700, "PARSE_ERROR", -1},
	};
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proto_msg msg;
		struct proto_error err;
		json_t *v, *e;
		size_t len;

		assert_int_equal(
		    proto_parse(cases[i].frame, strlen(cases[i].frame), NULL, &msg, &err), -1);
		v = reload(proto_error_frame(msg.id, err.reason, err.message, NULL, &len), &len);
		proto_msg_release(&msg);
		e = json_object_get(v, "error");
		assert_int_equal(json_integer_value(json_object_get(e, "code")), cases[i].code);
		assert_string_equal(
		    json_string_value(json_object_get(json_object_get(e, "data"), "reason")),
		    cases[i].reason);
		assert_string_equal(json_string_value(json_object_get(e, "message")), err.message);
		if (cases[i].id < 0)
			assert_true(json_is_null(json_object_get(v, "id")));
		else
			assert_int_equal(json_integer_value(json_object_get(v, "id")), cases[i].id);
		json_decref(v);
	}
}

/* ---- notifications ---- */

static void test_notify_frame_exact_bytes_and_defaults(void **state)
{
	json_t *p = json_pack("{s:s, s:I, s:s, s:s}", "run", "r1", "seq", (json_int_t)4, "stream",
			      "stdout", "data", "hi\n");
	size_t len = 99;
	(void)state;

	expect_frame(proto_notify("run/log", p, &len), &len,
		     "{\"jsonrpc\":\"2.0\",\"method\":\"run/log\",\"params\":{\"run\":\"r1\","
		     "\"seq\":4,\"stream\":\"stdout\",\"data\":\"hi\\n\"}}");
	assert_int_equal(p->refcount, 1);
	expect_frame(proto_notify("session/closing", NULL, &len), &len,
		     "{\"jsonrpc\":\"2.0\",\"method\":\"session/closing\",\"params\":{}}");
	assert_null(proto_notify(NULL, p, &len));
	assert_int_equal(len, 0);
	assert_null(proto_notify("bad\xFF", p, &len));

	json_incref(p);
	free(proto_notify_steal("run/log", p, &len));
	assert_int_equal(p->refcount, 1);
	json_decref(p);
}

static void test_notify_parses_back_as_a_notification(void **state)
{
	json_t *p = json_pack("{s:s}", "data", "\xE2\x82\xAC \"q\"");
	struct proto_msg msg;
	struct proto_error err;
	size_t len;
	char *f = proto_notify_steal("run/log", p, &len);
	(void)state;

	assert_int_equal(proto_parse(f, len, NULL, &msg, &err), 0);
	assert_null(msg.id);
	assert_string_equal(msg.method, "run/log");
	assert_string_equal(json_string_value(json_object_get(msg.params, "data")),
			    "\xE2\x82\xAC \"q\"");
	proto_msg_release(&msg);
	free(f);
}

/* ---- proto_error_set ---- */

static void test_error_set_cuts_long_message_on_a_character_boundary(void **state)
{
	struct proto_error err;
	char big[600];
	size_t i, n;
	(void)state;

	for (i = 0; i + 3 <= 3 * 150; i += 3)
		memcpy(big + i, "\xE2\x82\xAC", 3); /* 150 euro signs, 450 bytes */
	big[450] = '\0';
	for (i = 0; i < 3; i++) {
		/* shift by 0, 1, 2 bytes so that the cut lands in each position */
		proto_error_set(&err, PROTO_R_INVALID_PATH, "%.*s%s", (int)i, "ab", big);
		n = strlen(err.message);
		assert_true(n < sizeof(err.message));
		assert_true(n >= sizeof(err.message) - 4);
		assert_true(proto_utf8_valid(err.message, n));
		assert_int_equal(err.reason, PROTO_R_INVALID_PATH);
	}
	proto_error_set(NULL, PROTO_R_INTERNAL, "nothing to fill");
	proto_error_set(&err, PROTO_R_FORBIDDEN, "user %d may not %s", 5, "edit");
	assert_string_equal(err.message, "user 5 may not edit");
	assert_int_equal(err.reason, PROTO_R_FORBIDDEN);
}

/* got (hand-written) is want (jansson's), byte for byte; both freed. */
static void same_frame(char *want, size_t want_len, char *got, size_t got_len)
{
	assert_non_null(want);
	assert_non_null(got);
	assert_int_equal(got_len, want_len);
	assert_int_equal(strlen(got), got_len);
	assert_memory_equal(got, want, want_len);
	free(want);
	free(got);
}

/* The hand-written run/log frame is jansson's, byte for byte: every ASCII
 * byte alone and around others, multi-byte characters (U+2028 too), and
 * random valid UTF-8. */
static void check_log_same(const char *data, size_t len)
{
	json_t *params = json_pack("{s:I, s:I, s:s, s:s%}", "run", (json_int_t)1234567890123LL,
				   "seq", (json_int_t)42, "stream", "stderr", "data", data, len);
	size_t want_len = 0, got_len = 0;
	char *want, *got;

	assert_non_null(params);
	want = proto_notify("run/log", params, &want_len);
	got = proto_notify_log(1234567890123LL, 42, "stderr", data, len, &got_len);
	same_frame(want, want_len, got, got_len);
	json_decref(params);
}

static void test_notify_log_is_janssons_bytes(void **state)
{
	static const char *const chars[] = {"\xc3\xa9",	    "\xe2\x80\xa8", "\xf0\x9f\x98\x80",
					    "\xef\xbf\xbd", "\x7f",	    "/"};
	char buf[4096];
	unsigned seed = 7;

	(void)state;
	check_log_same("", 0);
	check_log_same("a\0b", 3); /* a NUL byte is valid UTF-8 too */
	for (int c = 1; c < 128; c++) {
		char one[8] = {(char)c};
		snprintf(buf, sizeof(buf), "a%cb%c", c, c);
		check_log_same(one, 1);
		check_log_same(buf, 4);
	}
	for (int round = 0; round < 2000; round++) {
		size_t n = 0, want = (size_t)(rand_r(&seed) % 600);
		while (n < want) {
			unsigned r = (unsigned)rand_r(&seed) % 10;
			if (r < 6) {
				buf[n++] = (char)(rand_r(&seed) % 128);
				if (!buf[n - 1])
					buf[n - 1] = 'x';
			} else {
				const char *ch = chars[rand_r(&seed) % 6];
				memcpy(buf + n, ch, strlen(ch));
				n += strlen(ch);
			}
		}
		check_log_same(buf, n);
	}
}

/* The hand-written collab/update of a whole-text replacement is jansson's,
 * byte for byte, with the text cut into lines as string_to_array(text,
 * E'\n') does (no line for ""; "a\n" is "a" and ""). */
static void check_replace_same(const char *text, const char *client)
{
	json_t *lines = json_array(), *params;
	size_t len = strlen(text), at = 0, want_len = 0, got_len = 0;
	char *want, *got;

	json_array_append_new(lines, json_integer(77));
	while (len) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t end = nl ? (size_t)(nl - text) : len;

		json_array_append_new(lines, json_stringn(text + at, end - at));
		if (!nl)
			break;
		at = end + 1;
	}
	params = json_pack("{s:I, s:I, s:I, s:[o], s:s}", "file", (json_int_t)12, "version",
			   (json_int_t)9007199254740991LL, "user", (json_int_t)5, "changes", lines,
			   "client", client);
	assert_non_null(params);
	want = proto_notify("collab/update", params, &want_len);
	got =
	    proto_notify_collab_replace(12, 9007199254740991LL, client, 5, 77, text, len, &got_len);
	same_frame(want, want_len, got, got_len);
	json_decref(params);
}

static void test_notify_collab_replace_is_janssons_bytes(void **state)
{
	char buf[2048];
	unsigned seed = 11;

	(void)state;
	check_replace_same("", "");
	check_replace_same("\n", "c1");
	check_replace_same("\n\n\n", "");
	check_replace_same("a\n", "x\"y");
	check_replace_same("one\ntwo\n\nthree", "");
	check_replace_same(
	    "tab\there \"quoted\" back\\slash \xe2\x80\xa8 \xf0\x9f\x98\x80\n\x01\x1f\x7f", "");
	for (int round = 0; round < 500; round++) {
		size_t n = (size_t)(rand_r(&seed) % (sizeof(buf) - 1));

		for (size_t i = 0; i < n; i++) /* ASCII, newlines often */
			buf[i] = (char)(rand_r(&seed) % 4 == 0 ? '\n' : 1 + rand_r(&seed) % 127);
		buf[n] = '\0';
		check_replace_same(buf, "client-7");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_reason_has_a_unique_upper_case_name),
	    cmocka_unit_test(test_reason_codes_follow_json_rpc_classes),
	    cmocka_unit_test(test_out_of_range_reason_is_internal),
	    cmocka_unit_test(test_result_frame_exact_bytes_int_and_string_id),
	    cmocka_unit_test(test_result_steal_takes_the_reference),
	    cmocka_unit_test(test_unencodable_result_becomes_internal_error_for_same_id),
	    cmocka_unit_test(test_error_frame_exact_bytes),
	    cmocka_unit_test(test_error_frame_merges_extra_data_but_keeps_reason),
	    cmocka_unit_test(test_error_frame_without_message_uses_default),
	    cmocka_unit_test(test_error_frame_is_valid_json_for_hostile_message),
	    cmocka_unit_test(test_error_frame_drops_unencodable_extra_data),
	    cmocka_unit_test(test_parse_refusal_round_trips_to_error_frame),
	    cmocka_unit_test(test_notify_frame_exact_bytes_and_defaults),
	    cmocka_unit_test(test_notify_parses_back_as_a_notification),
	    cmocka_unit_test(test_notify_log_is_janssons_bytes),
	    cmocka_unit_test(test_notify_collab_replace_is_janssons_bytes),
	    cmocka_unit_test(test_error_set_cuts_long_message_on_a_character_boundary),
	};

	return cmocka_run_group_tests(tests, 0, NULL);
}
