/*
 * test_proto_parse.c - proto_parse on every kind of valid frame and every
 * class of bad one, at and just past each limit, and the param readers on a
 * parsed frame (the readers and the method lookup alone: test_proto_params.c).
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

static const struct proto_limits defaults = PROTO_LIMITS_DEFAULT;

/* Parse a frame that must be accepted; the caller releases msg. */
static void accept_frame(const char *frame, size_t len, const struct proto_limits *lim,
			 struct proto_msg *msg)
{
	struct proto_error err;
	int rc = proto_parse(frame, len, lim, msg, &err);

	if (rc != 0)
		print_error("refused (%s): %s\n", proto_reason_str(err.reason), err.message);
	assert_int_equal(rc, 0);
	assert_non_null(msg->root);
	assert_non_null(msg->method);
	assert_true(json_is_object(msg->params));
}

/*
 * Parse a frame that must be refused with `want`; checks what every refusal
 * guarantees (a readable UTF-8 message, no method or params). Returns the id
 * it carried as an integer, -1 for a string id, -2 for none.
 */
static long long refuse_frame_lim(const char *frame, size_t len, const struct proto_limits *lim,
				  enum proto_reason want)
{
	struct proto_msg msg;
	struct proto_error err;
	long long id = -2;

	assert_int_equal(proto_parse(frame, len, lim, &msg, &err), -1);
	if (err.reason != want)
		print_error("got %s (%s), wanted %s\n", proto_reason_str(err.reason), err.message,
			    proto_reason_str(want));
	assert_int_equal(err.reason, want);
	assert_true(err.message[0] != '\0');
	assert_true(proto_utf8_valid(err.message, strlen(err.message)));
	assert_null(msg.method);
	assert_null(msg.params);
	if (msg.id) {
		assert_non_null(msg.root);
		id = json_is_integer(msg.id) ? json_integer_value(msg.id) : -1;
	} else {
		assert_null(msg.root);
	}
	proto_msg_release(&msg);
	return id;
}

static long long refuse(const char *frame, enum proto_reason want)
{
	return refuse_frame_lim(frame, strlen(frame), &defaults, want);
}

/* A request whose params hold `depth - 2` nested arrays: total nesting `depth`. */
static char *nested_request(int depth)
{
	int inner = depth - 2, i;
	size_t cap = 64 + 2 * (size_t)inner;
	char *s = malloc(cap);
	size_t n;

	assert_non_null(s);
	n = (size_t)snprintf(s, cap, "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":{\"x\":");
	for (i = 0; i < inner; i++)
		s[n++] = '[';
	for (i = 0; i < inner; i++)
		s[n++] = ']';
	memcpy(s + n, "}}", 3);
	return s;
}

/* A request padded with a string param to exactly `len` bytes. */
static char *request_of_len(size_t len)
{
	static const char head[] = "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":{\"p\":\"";
	static const char tail[] = "\"}}";
	size_t fixed = sizeof(head) - 1 + sizeof(tail) - 1;
	char *s = malloc(len + 1);

	assert_true(len >= fixed);
	assert_non_null(s);
	memcpy(s, head, sizeof(head) - 1);
	memset(s + sizeof(head) - 1, 'a', len - fixed);
	memcpy(s + len - (sizeof(tail) - 1), tail, sizeof(tail));
	return s;
}

/* ---- valid frames ---- */

static void test_request_with_integer_id(void **state)
{
	static const char f[] = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"run/start\","
				"\"params\":{\"project\":\"p1\",\"n\":-3}}";
	struct proto_msg msg;
	(void)state;

	accept_frame(f, sizeof(f) - 1, &defaults, &msg);
	assert_true(json_is_integer(msg.id));
	assert_int_equal(json_integer_value(msg.id), 7);
	assert_string_equal(msg.method, "run/start");
	assert_string_equal(json_string_value(json_object_get(msg.params, "project")), "p1");
	assert_int_equal(json_integer_value(json_object_get(msg.params, "n")), -3);
	proto_msg_release(&msg);
	assert_null(msg.root);
	proto_msg_release(&msg); /* twice is harmless */
}

static void test_request_with_string_id(void **state)
{
	static const char f[] = " {\"method\":\"file/read\", \"params\":{}, \"id\":\"a-\\u00e9\","
				"\n\"jsonrpc\":\"2.0\"}\r\n";
	struct proto_msg msg;
	(void)state;

	accept_frame(f, sizeof(f) - 1, &defaults, &msg);
	assert_true(json_is_string(msg.id));
	assert_string_equal(json_string_value(msg.id), "a-\xC3\xA9");
	assert_string_equal(msg.method, "file/read");
	proto_msg_release(&msg);
}

static void test_notification_has_no_id(void **state)
{
	static const char f[] = "{\"jsonrpc\":\"2.0\",\"method\":\"presence/update\","
				"\"params\":{\"file\":\"a.py\"}}";
	struct proto_msg msg;
	(void)state;

	accept_frame(f, sizeof(f) - 1, &defaults, &msg);
	assert_null(msg.id);
	assert_string_equal(msg.method, "presence/update");
	assert_int_equal(json_object_size(msg.params), 1);
	proto_msg_release(&msg);
}

static void test_absent_params_become_empty_object(void **state)
{
	static const char f[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"runtime/list\"}";
	struct proto_msg msg;
	(void)state;

	accept_frame(f, sizeof(f) - 1, &defaults, &msg);
	assert_true(json_is_object(msg.params));
	assert_int_equal(json_object_size(msg.params), 0);
	proto_msg_release(&msg);
}

static void test_id_range_edges_are_accepted(void **state)
{
	static const char *frames[] = {
	    "{\"jsonrpc\":\"2.0\",\"id\":9007199254740991,\"method\":\"m\"}",
	    "{\"jsonrpc\":\"2.0\",\"id\":-9007199254740991,\"method\":\"m\"}",
	    "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"m\"}",
	    "{\"jsonrpc\":\"2.0\",\"id\":\"\",\"method\":\"m\"}",
	};
	static const long long want[] = {9007199254740991LL, -9007199254740991LL, 0, 0};
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		struct proto_msg msg;

		accept_frame(frames[i], strlen(frames[i]), &defaults, &msg);
		assert_non_null(msg.id);
		if (i == 3)
			assert_string_equal(json_string_value(msg.id), "");
		else
			assert_int_equal(json_integer_value(msg.id), want[i]);
		proto_msg_release(&msg);
	}
}

static void test_method_of_128_bytes_is_accepted_129_refused(void **state)
{
	char f[256], name[130];
	struct proto_msg msg;
	(void)state;

	memset(name, 'm', 129);
	name[128] = '\0';
	snprintf(f, sizeof(f), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\"}", name);
	accept_frame(f, strlen(f), &defaults, &msg);
	assert_int_equal(strlen(msg.method), 128);
	proto_msg_release(&msg);

	name[128] = 'm';
	name[129] = '\0';
	snprintf(f, sizeof(f), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\"}", name);
	assert_int_equal(refuse(f, PROTO_R_INVALID_REQUEST), 1);
}

static void test_small_and_tiny_reals_are_accepted(void **state)
{
	static const char f[] = "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":{\"a\":1.5,"
				"\"b\":-0.0,\"c\":1e-400,\"d\":9007199254740991.0,\"e\":-2.5e3}}";
	struct proto_msg msg;
	(void)state;

	accept_frame(f, sizeof(f) - 1, &defaults, &msg);
	assert_true(json_real_value(json_object_get(msg.params, "a")) == 1.5);
	assert_true(json_real_value(json_object_get(msg.params, "d")) == 9007199254740991.0);
	proto_msg_release(&msg);
}

static void test_brackets_inside_strings_do_not_count_as_depth(void **state)
{
	static const char f[] =
	    "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":{\"s\":"
	    "\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{\","
	    "\"t\":\"\\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\\\"}}";
	struct proto_msg msg;
	(void)state;

	accept_frame(f, sizeof(f) - 1, &defaults, &msg);
	proto_msg_release(&msg);
}

/* ---- size ---- */

static void test_frame_of_exactly_max_is_parsed_one_more_is_too_large(void **state)
{
	const struct proto_limits small = {200, 32};
	struct proto_msg msg;
	char *f;
	(void)state;

	f = request_of_len(200);
	accept_frame(f, 200, &small, &msg);
	proto_msg_release(&msg);
	free(f);
	f = request_of_len(201);
	refuse_frame_lim(f, 201, &small, PROTO_R_TOO_LARGE);
	free(f);

	f = request_of_len(1024 * 1024);
	accept_frame(f, 1024 * 1024, &defaults, &msg);
	proto_msg_release(&msg);
	free(f);
	f = request_of_len(1024 * 1024 + 1);
	refuse_frame_lim(f, 1024 * 1024 + 1, &defaults, PROTO_R_TOO_LARGE);
	assert_int_equal(proto_reason_code(PROTO_R_TOO_LARGE), PROTO_INVALID_REQUEST);
	free(f);
}

static void test_oversize_is_refused_before_any_other_check(void **state)
{
	const struct proto_limits small = {8, 32};
	(void)state;

	/* invalid UTF-8 and not JSON, but the size is what is reported */
	refuse_frame_lim("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 9, &small, PROTO_R_TOO_LARGE);
	refuse_frame_lim("[[[[[[[[[", 9, &small, PROTO_R_TOO_LARGE);
}

static void test_zero_or_null_limits_mean_defaults(void **state)
{
	const struct proto_limits zero = {0, 0};
	struct proto_msg msg;
	char *f;
	(void)state;

	f = nested_request(32);
	accept_frame(f, strlen(f), &zero, &msg);
	proto_msg_release(&msg);
	accept_frame(f, strlen(f), NULL, &msg);
	proto_msg_release(&msg);
	free(f);
	f = nested_request(33);
	refuse_frame_lim(f, strlen(f), &zero, PROTO_R_TOO_DEEP);
	refuse_frame_lim(f, strlen(f), NULL, PROTO_R_TOO_DEEP);
	free(f);
	f = request_of_len(1024 * 1024 + 1);
	refuse_frame_lim(f, 1024 * 1024 + 1, &zero, PROTO_R_TOO_LARGE);
	free(f);
}

/* ---- parse errors ---- */

static void test_malformed_json_is_parse_error(void **state)
{
	(void)state;
	refuse("{\"jsonrpc\":\"2.0\",", PROTO_R_PARSE_ERROR);
	refuse("{'jsonrpc':'2.0'}", PROTO_R_PARSE_ERROR);
	refuse("{\"jsonrpc\":\"2.0\",\"method\":\"m\"} x", PROTO_R_PARSE_ERROR);
	refuse("{\"jsonrpc\":\"2.0\",\"method\":\"m\",}", PROTO_R_PARSE_ERROR);
	refuse("{\"jsonrpc\":\"2.0\",\"method\":\"m\"}{}", PROTO_R_PARSE_ERROR);
	refuse("{\"a\":tru}", PROTO_R_PARSE_ERROR);
	refuse("{\"a\":01}", PROTO_R_PARSE_ERROR);
	refuse("{\"a\":\"tab\there\"}", PROTO_R_PARSE_ERROR);
	refuse("{\"a\":\"\\x41\"}", PROTO_R_PARSE_ERROR);
	refuse("{]", PROTO_R_PARSE_ERROR);
	refuse("   ", PROTO_R_PARSE_ERROR);
	refuse("\xEF\xBB\xBF{}", PROTO_R_PARSE_ERROR); /* a BOM is not JSON */
	refuse_frame_lim("", 0, &defaults, PROTO_R_PARSE_ERROR);
	refuse_frame_lim(NULL, 0, &defaults, PROTO_R_PARSE_ERROR);
	assert_int_equal(proto_reason_code(PROTO_R_PARSE_ERROR), PROTO_PARSE_ERROR);
}

static void test_nul_is_refused_escaped_or_raw(void **state)
{
	static const char raw[] =
	    "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":{\"a\":\"x\0y\"}}";
	(void)state;

	refuse("{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":{\"a\":\"x\\u0000y\"}}",
	       PROTO_R_PARSE_ERROR);
	refuse("{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":{\"a\\u0000\":1}}",
	       PROTO_R_PARSE_ERROR);
	refuse("{\"jsonrpc\":\"2.0\",\"method\":\"m\\u0000x\"}", PROTO_R_PARSE_ERROR);
	refuse_frame_lim(raw, sizeof(raw) - 1, &defaults, PROTO_R_PARSE_ERROR);
}

static void test_escaped_lone_surrogate_is_parse_error(void **state)
{
	(void)state;
	refuse("{\"a\":\"\\ud800\"}", PROTO_R_PARSE_ERROR);
	refuse("{\"a\":\"\\udc00\"}", PROTO_R_PARSE_ERROR);
	refuse("{\"a\":\"\\ud800\\u0041\"}", PROTO_R_PARSE_ERROR);
}

static void test_invalid_utf8_is_refused_before_json(void **state)
{
	static const char *frames[] = {
	    "{\"a\":\"\xC0\xAF\"}",	    /* overlong '/' */
	    "{\"a\":\"\xE0\x80\xAF\"}",	    /* overlong, 3 bytes */
	    "{\"a\":\"\xED\xA0\x80\"}",	    /* surrogate U+D800 */
	    "{\"a\":\"\xF4\x90\x80\x80\"}", /* above U+10FFFF */
	    "{\"a\":\"\xE2\x82\"}",	    /* truncated, then a quote */
	    "{\"a\":\"x\"}\xF0\x9F\x98",    /* truncated at the end */
	    "{\"a\":\"\xFF\"}",
	    "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":{\"\x80\":1}}", /* in a key */
	    "\xC3{}", /* outside any string, and not JSON either */
	};
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(frames) / sizeof(frames[0]); i++)
		assert_int_equal(refuse(frames[i], PROTO_R_INVALID_UTF8), -2);
	assert_int_equal(proto_reason_code(PROTO_R_INVALID_UTF8), PROTO_PARSE_ERROR);
}

static void test_depth_at_limit_is_accepted_limit_plus_one_is_too_deep(void **state)
{
	const struct proto_limits four = {1024, 4};
	struct proto_msg msg;
	char *f;
	(void)state;

	f = nested_request(32);
	accept_frame(f, strlen(f), &defaults, &msg);
	proto_msg_release(&msg);
	free(f);
	f = nested_request(33);
	refuse(f, PROTO_R_TOO_DEEP);
	free(f);

	f = nested_request(4);
	accept_frame(f, strlen(f), &four, &msg);
	proto_msg_release(&msg);
	free(f);
	f = nested_request(5);
	refuse_frame_lim(f, strlen(f), &four, PROTO_R_TOO_DEEP);
	free(f);
	refuse_frame_lim("{\"a\":{\"b\":{\"c\":{\"d\":{}}}}}", 26, &four, PROTO_R_TOO_DEEP);
	assert_int_equal(proto_reason_code(PROTO_R_TOO_DEEP), PROTO_PARSE_ERROR);
}

static void test_very_deep_or_unbalanced_input_is_too_deep_not_a_crash(void **state)
{
	size_t n = 500000;
	char *f = malloc(n);
	(void)state;

	assert_non_null(f);
	memset(f, '[', n);
	refuse_frame_lim(f, n, &defaults, PROTO_R_TOO_DEEP);
	memset(f, '{', n);
	refuse_frame_lim(f, n, &defaults, PROTO_R_TOO_DEEP);
	free(f);
	/* closers first cannot lower the count below zero */
	refuse("]]]]]]]]]][[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", PROTO_R_TOO_DEEP);
	/* a too-deep top-level array is reported as too deep, not as a batch */
	refuse("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	       PROTO_R_TOO_DEEP);
}

static void test_duplicate_keys_are_refused_at_any_level(void **state)
{
	struct proto_msg msg;
	static const char ok[] =
	    "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":{\"x\":{\"a\":1},"
	    "\"y\":{\"a\":1},\"A\":2,\"a\":3}}";
	(void)state;

	refuse("{\"jsonrpc\":\"2.0\",\"method\":\"a\",\"method\":\"b\"}", PROTO_R_DUPLICATE_KEY);
	refuse("{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"m\"}", PROTO_R_DUPLICATE_KEY);
	refuse("{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":{\"a\":1,\"a\":2}}",
	       PROTO_R_DUPLICATE_KEY);
	refuse(
	    "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":{\"l\":[{\"k\":{\"z\":1,\"z\":1}}]}}",
	    PROTO_R_DUPLICATE_KEY);
	/* the same key written two ways is the same key */
	refuse("{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":{\"\\u0061\":1,\"a\":2}}",
	       PROTO_R_DUPLICATE_KEY);
	/* the same key in different objects, or differing in case, is fine */
	accept_frame(ok, sizeof(ok) - 1, &defaults, &msg);
	proto_msg_release(&msg);
	assert_int_equal(proto_reason_code(PROTO_R_DUPLICATE_KEY), PROTO_PARSE_ERROR);
}

static void test_integers_beyond_jansson_range_are_too_large(void **state)
{
	(void)state;
	refuse("{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":{\"n\":99999999999999999999}}",
	       PROTO_R_NUMBER_TOO_LARGE);
	refuse("{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":{\"n\":-99999999999999999999}}",
	       PROTO_R_NUMBER_TOO_LARGE);
	refuse("{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":{\"n\":9223372036854775808}}",
	       PROTO_R_NUMBER_TOO_LARGE);
	assert_int_equal(proto_reason_code(PROTO_R_NUMBER_TOO_LARGE), PROTO_PARSE_ERROR);
}

static void test_integers_past_2_pow_53_are_too_large_anywhere(void **state)
{
	(void)state;
	/* params, nested in arrays, top level: all refused, and the id is kept */
	assert_int_equal(refuse("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"m\","
				"\"params\":{\"n\":9007199254740992}}",
				PROTO_R_NUMBER_TOO_LARGE),
			 4);
	assert_int_equal(refuse("{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"method\":\"m\","
				"\"params\":{\"l\":[1,[2,-9007199254740992]]}}",
				PROTO_R_NUMBER_TOO_LARGE),
			 -1);
	refuse("9223372036854775807", PROTO_R_NUMBER_TOO_LARGE);
	/* the id itself out of range: refused, and it cannot be echoed */
	assert_int_equal(refuse("{\"jsonrpc\":\"2.0\",\"id\":9007199254740992,\"method\":\"m\"}",
				PROTO_R_NUMBER_TOO_LARGE),
			 -2);
}

static void test_huge_reals_are_too_large(void **state)
{
	(void)state;
	/* jansson's own overflow: no document, so no id */
	assert_int_equal(refuse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\","
				"\"params\":{\"x\":1e400}}",
				PROTO_R_NUMBER_TOO_LARGE),
			 -2);
	refuse("{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":{\"x\":-1e400}}",
	       PROTO_R_NUMBER_TOO_LARGE);
	/* finite but past 2^53-1: our rule, and the id is kept */
	assert_int_equal(refuse("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"m\","
				"\"params\":{\"x\":1e300}}",
				PROTO_R_NUMBER_TOO_LARGE),
			 2);
	refuse("{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":{\"x\":9007199254740992.0}}",
	       PROTO_R_NUMBER_TOO_LARGE);
	refuse("{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":{\"x\":-1.7976931348623157e308}}",
	       PROTO_R_NUMBER_TOO_LARGE);
}

/* ---- invalid requests ---- */

static void test_batch_is_refused(void **state)
{
	(void)state;
	refuse("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"}]", PROTO_R_BATCH_UNSUPPORTED);
	refuse("[]", PROTO_R_BATCH_UNSUPPORTED);
	assert_int_equal(proto_reason_code(PROTO_R_BATCH_UNSUPPORTED), PROTO_INVALID_REQUEST);
}

static void test_non_object_document_is_invalid_request(void **state)
{
	(void)state;
	refuse("\"run/start\"", PROTO_R_INVALID_REQUEST);
	refuse("42", PROTO_R_INVALID_REQUEST);
	refuse("null", PROTO_R_INVALID_REQUEST);
	refuse("true", PROTO_R_INVALID_REQUEST);
	assert_int_equal(proto_reason_code(PROTO_R_INVALID_REQUEST), PROTO_INVALID_REQUEST);
}

static void test_wrong_or_missing_jsonrpc_is_invalid_request_with_id(void **state)
{
	(void)state;
	assert_int_equal(refuse("{\"id\":3,\"method\":\"m\"}", PROTO_R_INVALID_REQUEST), 3);
	assert_int_equal(
	    refuse("{\"jsonrpc\":\"1.0\",\"id\":3,\"method\":\"m\"}", PROTO_R_INVALID_REQUEST), 3);
	assert_int_equal(
	    refuse("{\"jsonrpc\":2.0,\"id\":3,\"method\":\"m\"}", PROTO_R_INVALID_REQUEST), 3);
	assert_int_equal(
	    refuse("{\"jsonrpc\":\"2.0 \",\"id\":\"q\",\"method\":\"m\"}", PROTO_R_INVALID_REQUEST),
	    -1);
	refuse("{\"jsonrpc\":null,\"method\":\"m\"}", PROTO_R_INVALID_REQUEST);
}

static void test_bad_id_types_are_invalid_request_without_id(void **state)
{
	static const char *ids[] = {"null", "1.0", "1.5", "true", "false", "{}", "[1]", "-0.0"};
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		char f[128];

		snprintf(f, sizeof(f), "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"m\"}", ids[i]);
		assert_int_equal(refuse(f, PROTO_R_INVALID_REQUEST), -2);
	}
}

static void test_bad_method_is_invalid_request_with_id(void **state)
{
	(void)state;
	assert_int_equal(refuse("{\"jsonrpc\":\"2.0\",\"id\":9}", PROTO_R_INVALID_REQUEST), 9);
	assert_int_equal(
	    refuse("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"\"}", PROTO_R_INVALID_REQUEST), 9);
	assert_int_equal(
	    refuse("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":5}", PROTO_R_INVALID_REQUEST), 9);
	assert_int_equal(
	    refuse("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":null}", PROTO_R_INVALID_REQUEST), 9);
	assert_int_equal(
	    refuse("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":[\"m\"]}", PROTO_R_INVALID_REQUEST),
	    9);
}

static void test_bad_params_are_invalid_request_with_id(void **state)
{
	static const char *params[] = {"[]", "[1,2]", "\"x\"", "1", "null", "true"};
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		char f[128];

		snprintf(f, sizeof(f),
			 "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"m\",\"params\":%s}",
			 params[i]);
		assert_int_equal(refuse(f, PROTO_R_INVALID_REQUEST), 5);
	}
}

static void test_unknown_member_is_invalid_request(void **state)
{
	(void)state;
	assert_int_equal(refuse("{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"m\",\"param\":{}}",
				PROTO_R_INVALID_REQUEST),
			 6);
	refuse("{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"m\",\"result\":{}}",
	       PROTO_R_INVALID_REQUEST);
	/* a long multi-byte key is quoted in the message without splitting a character */
	refuse("{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC"
	       "\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC"
	       "\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\":1}",
	       PROTO_R_INVALID_REQUEST);
}

static void test_refusal_message_says_what_was_wrong(void **state)
{
	struct proto_msg msg;
	struct proto_error err;
	static const char f[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":[]}";
	(void)state;

	assert_int_equal(proto_parse(f, sizeof(f) - 1, NULL, &msg, &err), -1);
	assert_non_null(strstr(err.message, "params"));
	proto_msg_release(&msg);
	assert_int_equal(proto_parse("{\"a\":1,\"a\":1}", 13, NULL, &msg, &err), -1);
	assert_non_null(strstr(err.message, "byte"));
	proto_msg_release(&msg);
	/* err may be NULL */
	assert_int_equal(proto_parse("[", 1, NULL, &msg, NULL), -1);
	proto_msg_release(&msg);
}

/* ---- param readers ---- */

static void test_param_readers_work_on_parsed_frame(void **state)
{
	static const char f[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"run/logs\","
				"\"params\":{\"run\":\"r1\",\"from\":10,\"limit\":100}}";
	struct proto_msg msg;
	struct proto_error err;
	const char *run = NULL;
	long long from = 0, limit = 50;
	(void)state;

	accept_frame(f, sizeof(f) - 1, &defaults, &msg);
	assert_int_equal(proto_get_str(msg.params, "run", 1, 64, &run, &err), 0);
	assert_int_equal(proto_get_int(msg.params, "from", 1, 0, PROTO_MAX_SAFE_INT, &from, &err),
			 0);
	assert_int_equal(proto_get_int(msg.params, "limit", 0, 1, 1000, &limit, &err), 0);
	assert_string_equal(run, "r1");
	assert_int_equal(from, 10);
	assert_int_equal(limit, 100);
	proto_msg_release(&msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_with_integer_id),
	    cmocka_unit_test(test_request_with_string_id),
	    cmocka_unit_test(test_notification_has_no_id),
	    cmocka_unit_test(test_absent_params_become_empty_object),
	    cmocka_unit_test(test_id_range_edges_are_accepted),
	    cmocka_unit_test(test_method_of_128_bytes_is_accepted_129_refused),
	    cmocka_unit_test(test_small_and_tiny_reals_are_accepted),
	    cmocka_unit_test(test_brackets_inside_strings_do_not_count_as_depth),
	    cmocka_unit_test(test_frame_of_exactly_max_is_parsed_one_more_is_too_large),
	    cmocka_unit_test(test_oversize_is_refused_before_any_other_check),
	    cmocka_unit_test(test_zero_or_null_limits_mean_defaults),
	    cmocka_unit_test(test_malformed_json_is_parse_error),
	    cmocka_unit_test(test_nul_is_refused_escaped_or_raw),
	    cmocka_unit_test(test_escaped_lone_surrogate_is_parse_error),
	    cmocka_unit_test(test_invalid_utf8_is_refused_before_json),
	    cmocka_unit_test(test_depth_at_limit_is_accepted_limit_plus_one_is_too_deep),
	    cmocka_unit_test(test_very_deep_or_unbalanced_input_is_too_deep_not_a_crash),
	    cmocka_unit_test(test_duplicate_keys_are_refused_at_any_level),
	    cmocka_unit_test(test_integers_beyond_jansson_range_are_too_large),
	    cmocka_unit_test(test_integers_past_2_pow_53_are_too_large_anywhere),
	    cmocka_unit_test(test_huge_reals_are_too_large),
	    cmocka_unit_test(test_batch_is_refused),
	    cmocka_unit_test(test_non_object_document_is_invalid_request),
	    cmocka_unit_test(test_wrong_or_missing_jsonrpc_is_invalid_request_with_id),
	    cmocka_unit_test(test_bad_id_types_are_invalid_request_without_id),
	    cmocka_unit_test(test_bad_method_is_invalid_request_with_id),
	    cmocka_unit_test(test_bad_params_are_invalid_request_with_id),
	    cmocka_unit_test(test_unknown_member_is_invalid_request),
	    cmocka_unit_test(test_refusal_message_says_what_was_wrong),
	    cmocka_unit_test(test_param_readers_work_on_parsed_frame),
	};

	return cmocka_run_group_tests(tests, 0, NULL);
}
