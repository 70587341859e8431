/*
 * test_proto_json.c - proto_json_load against json_loadb, its oracle.
 *
 * For every frame, generated or named, both read it with the flags
 * proto_parse uses: both fail with the same error text and position, or
 * both give equal values. The generated frames put long strings where the
 * fast path takes them (values, nested, top level) and where it must not
 * (keys), made of plain runs, multi-byte characters and every escape, and
 * of what jansson alone may judge: raw control bytes, \u0000, lone and
 * broken surrogates, unknown escapes, a backslash at the end, cuts at
 * every kind of place, and a client's own string equal to a stand-in.
 * Frames that are not UTF-8 are not compared: proto_parse refuses them
 * before, and proto_json_load asks for UTF-8.
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

#define FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY)

static unsigned long long rng = 88172645463325252ULL;

static unsigned pick(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

struct buf {
	char *s;
	size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		assert_non_null(b->s);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = 0;
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* Both readers on s[0..n): the same outcome. Returns 1 when it parsed. */
static int same(const char *s, size_t n)
{
	json_error_t e1, e2;
	json_t *a, *b;
	int ok;

	memset(&e1, 0, sizeof(e1));
	memset(&e2, 0, sizeof(e2));
	a = json_loadb(s, n, FLAGS, &e1);
	b = proto_json_load(s, n, FLAGS, &e2);
	if (!a != !b || (a && !json_equal(a, b)) ||
	    (!a && (strcmp(e1.text, e2.text) || e1.position != e2.position))) {
		print_error("differ on %zu bytes: %.300s\njansson: %s\nproto:   %s\n", n, s,
			    a ? "value" : e1.text, b ? "value" : e2.text);
		fail();
	}
	ok = a != NULL;
	json_decref(a);
	json_decref(b);
	return ok;
}

/* What only jansson may judge (and one that is fine but looks like a stand-in). */
static const char *const odd[] = {"\\u0000",
				  "\\ud800",
				  "\\udc00",
				  "\\ud800\\u0041",
				  "\\ud800x",
				  "\\x",
				  "\\u12",
				  "\\u12g4",
				  "\x01",
				  "\x1f",
				  "\t",
				  "\n",
				  "\\U00e9",
				  "\\ud83d\\ud83d",
				  "\\u0001proto_json 00",
				  "\\ud800\\ue000",
				  "\\udbff\\uffff"};

/* One piece of a string's body: plain, or (wild) what only jansson may judge. */
static void piece(struct buf *b, int wild)
{
	static const char *const tame[] = {"0123456789abcdef",
					   " spaces ",
					   "\\n",
					   "\\t",
					   "\\\"",
					   "\\\\",
					   "\\/",
					   "\\b",
					   "\\f",
					   "\\r",
					   "\\u00e9",
					   "\\u00E9",
					   "\\u20ac",
					   "\\uFFFF",
					   "\\ud83d\\ude00",
					   "\\uD834\\uDD1E",
					   "\xc3\xa9",
					   "\xe2\x82\xac",
					   "\xf0\x9f\x98\x80",
					   "\x7f",
					   "'",
					   "{\\\"k\\\": [1, 2]}",
					   "\\ud800\\udc00",
					   "\\uDBFF\\uDFFF"};
	if (wild)
		puts_(b, odd[pick(sizeof(odd) / sizeof(odd[0]))]);
	else
		puts_(b, tame[pick(sizeof(tame) / sizeof(tame[0]))]);
}

/* A string literal of about n bytes; wild: with one odd piece somewhere,
 * while the frame has one left (odd_left): a frame with two would fail on
 * either, and hide what the fast path made of the other. */
static int odd_left;

static void string(struct buf *b, size_t n, int wild)
{
	size_t start = b->len, odd_at = (size_t)-1;

	if (wild && odd_left && pick(2)) {
		odd_left--;
		odd_at = pick((unsigned)n + 1);
	}
	puts_(b, "\"");
	while (b->len - start < n) {
		int now = b->len - start >= odd_at;

		piece(b, now);
		if (now)
			odd_at = (size_t)-1;
	}
	puts_(b, "\"");
}

static void value(struct buf *b, int depth, int wild);

static void object(struct buf *b, int depth, int wild)
{
	unsigned n = pick(4);

	puts_(b, "{");
	for (unsigned i = 0; i < n; i++) {
		char key[32];

		if (i)
			puts_(b, pick(2) ? "," : " ,\n ");
		if (!pick(5)) {
			string(b, 100 + pick(300), wild); /* a long key, maybe twice */
		} else {
			snprintf(key, sizeof(key), "\"k%u\"", pick(1000));
			puts_(b, key);
		}
		puts_(b, pick(2) ? ":" : " \t:\r\n ");
		value(b, depth + 1, wild);
	}
	puts_(b, "}");
}

static void value(struct buf *b, int depth, int wild)
{
	switch (depth > 3 ? pick(3) : pick(6)) {
	case 0:
		string(b, pick(3) ? 100 + pick(3000) : pick(140), wild);
		break;
	case 1:
		puts_(b, pick(2) ? "12345" : "-1.5e3");
		break;
	case 2:
		puts_(b, pick(2) ? "true" : "null");
		break;
	case 3:
	case 4:
		object(b, depth, wild);
		break;
	default: {
		unsigned n = pick(4);

		puts_(b, "[");
		for (unsigned i = 0; i < n; i++) {
			if (i)
				puts_(b, ", ");
			value(b, depth + 1, wild);
		}
		puts_(b, "]");
	}
	}
}

static void test_generated_frames_read_alike(void **state)
{
	int parsed = 0, failed = 0;

	(void)state;
	for (int i = 0; i < 3000; i++) {
		struct buf b = {0};
		int wild = i % 3 == 0;

		odd_left = 1;

		if (i % 10 == 0)
			string(&b, 200 + pick(2000), wild); /* the whole frame a string */
		else
			object(&b, 0, wild);
		if (!proto_utf8_valid(b.s, b.len)) { /* proto_parse refuses those first */
			free(b.s);
			continue;
		}
		if (same(b.s, b.len))
			parsed++;
		else
			failed++;
		/* cut: inside a string, an escape, a character, between tokens */
		for (int c = 0; c < 3; c++) {
			size_t at = pick((unsigned)b.len);

			if (proto_utf8_valid(b.s, at))
				failed += !same(b.s, at);
		}
		free(b.s);
	}
	/* both kinds were seen, plenty of each */
	assert_true(parsed > 1000);
	assert_true(failed > 500);
}

static void test_named_frames_read_alike(void **state)
{
	static const char *const frames[] = {
	    "{\"a\": \"\"}",
	    "\"\"",
	    "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"file/save\", \"params\": "
	    "{\"content\": "
	    "\"%s\"}}",
	    "{\"content\": \"%s\\u0000\"}",
	    "{\"content\": \"%s\\ud800\"}",
	    "{\"content\": \"%s\\",
	    "{\"content\": \"%s",
	    "{\"content\": \"%s\", \"content\": \"%s\"}",
	    "{\"%s\": 1, \"%s\": 2}",
	    "[\"%s\", \"\\u0001proto_json 00\"]",
	    "[\"\\u0001proto_json 00\", \"%s\"]",
	    "[\"%s\", \"\\u0001proto_json 01\", \"\\u0001proto_json 99\"]",
	    "{\"x\": \"%s\" \"y\"}",
	    "[\"%s\"] trailing",
	};
	char body[4096];

	(void)state;
	memset(body, 'a', sizeof(body) - 1);
	body[sizeof(body) - 1] = 0;
	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		struct buf b = {0};
		const char *t = frames[i], *at;

		while ((at = strstr(t, "%s"))) { /* each %s a 4 KB string body */
			put(&b, t, (size_t)(at - t));
			puts_(&b, body);
			t = at + 2;
		}
		puts_(&b, t);
		same(b.s, b.len);
		free(b.s);
	}
}

/* Each odd piece alone in a long string, at its start, middle and end. */
static void test_each_odd_piece_alone(void **state)
{
	char pad[200];

	(void)state;
	memset(pad, 'a', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = 0;
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		const char *at[3][2] = {{"", pad}, {pad, pad}, {pad, ""}};

		for (int w = 0; w < 3; w++) {
			struct buf b = {0};

			puts_(&b, "{\"content\": \"");
			puts_(&b, at[w][0]);
			puts_(&b, odd[i]);
			puts_(&b, at[w][1]);
			puts_(&b, "\", \"n\": 1}");
			same(b.s, b.len);
			free(b.s);
		}
	}
}

/* 40 long strings: the first 32 through the fast path, the rest jansson's. */
static void test_more_long_strings_than_stand_ins(void **state)
{
	struct buf b = {0};

	(void)state;
	puts_(&b, "[");
	for (int i = 0; i < 40; i++) {
		if (i)
			puts_(&b, ",");
		string(&b, 200, 0);
	}
	puts_(&b, "]");
	assert_true(same(b.s, b.len));
	free(b.s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_generated_frames_read_alike),
	    cmocka_unit_test(test_named_frames_read_alike),
	    cmocka_unit_test(test_each_odd_piece_alone),
	    cmocka_unit_test(test_more_long_strings_than_stand_ins),
	};

	return cmocka_run_group_tests(tests, 0, NULL);
}
