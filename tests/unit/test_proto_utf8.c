/*
 * test_proto_utf8.c - the strict UTF-8 validator and the prefix helpers.
 *
 * The validator is checked exhaustively against an independent reference
 * (decode the bits, then apply the rules) for every 1-, 2- and 3-byte
 * sequence and a grid of 4-byte ones, plus the named classics: overlongs,
 * surrogates, past U+10FFFF, truncations. proto_utf8_complete_prefix is
 * checked at every split point of characters of each length.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto.h"

#define V(lit) proto_utf8_valid(lit, sizeof(lit) - 1)

/*
 * Reference: 1 when s[0..n) is exactly one valid character. Decodes the
 * value from the bit pattern, then requires the shortest form, no surrogate
 * and at most U+10FFFF.
 */
static int ref_one_char(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t need, i;

	if (s[0] < 0x80) {
		need = 1;
		cp = s[0];
	} else if ((s[0] & 0xE0) == 0xC0) {
		need = 2;
		cp = s[0] & 0x1F;
	} else if ((s[0] & 0xF0) == 0xE0) {
		need = 3;
		cp = s[0] & 0x0F;
	} else if ((s[0] & 0xF8) == 0xF0) {
		need = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n != need)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((need == 2 && cp < 0x80) || (need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000))
		return 0; /* overlong */
	if (cp >= 0xD800 && cp <= 0xDFFF)
		return 0;
	return cp <= 0x10FFFF;
}

static void test_valid_accepts_ascii_empty_and_each_length(void **state)
{
	(void)state;
	assert_true(proto_utf8_valid("", 0));
	assert_true(proto_utf8_valid(NULL, 0));
	assert_true(V("hello, world {}[]\"\\"));
	assert_true(V("\xC2\x80"));	     /* U+0080, first 2-byte */
	assert_true(V("\xC3\xA9t\xC3\xA9")); /* été */
	assert_true(V("\xDF\xBF"));	     /* U+07FF, last 2-byte */
	assert_true(V("\xE0\xA0\x80"));	     /* U+0800, first 3-byte */
	assert_true(V("\xE2\x82\xAC"));	     /* euro sign */
	assert_true(V("\xED\x9F\xBF"));	     /* U+D7FF, just below surrogates */
	assert_true(V("\xEE\x80\x80"));	     /* U+E000, just above surrogates */
	assert_true(V("\xEF\xBF\xBF"));	     /* U+FFFF */
	assert_true(V("\xF0\x90\x80\x80"));  /* U+10000, first 4-byte */
	assert_true(V("\xF0\x9F\x98\x80"));  /* emoji */
	assert_true(V("\xF4\x8F\xBF\xBF"));  /* U+10FFFF, the last one */
}

static void test_valid_accepts_embedded_nul_byte(void **state)
{
	(void)state;
	/* NUL is valid UTF-8; refusing it is the JSON layer's job. */
	assert_true(proto_utf8_valid("a\0b", 3));
}

static void test_valid_rejects_overlong_forms(void **state)
{
	(void)state;
	assert_false(V("\xC0\x80"));	     /* NUL as 2 bytes */
	assert_false(V("\xC0\xAF"));	     /* '/' as 2 bytes */
	assert_false(V("\xC1\xBF"));	     /* U+007F as 2 bytes */
	assert_false(V("\xE0\x80\x80"));     /* NUL as 3 bytes */
	assert_false(V("\xE0\x9F\xBF"));     /* U+07FF as 3 bytes */
	assert_false(V("\xF0\x80\x80\x80")); /* NUL as 4 bytes */
	assert_false(V("\xF0\x8F\xBF\xBF")); /* U+FFFF as 4 bytes */
}

static void test_valid_rejects_surrogates(void **state)
{
	(void)state;
	assert_false(V("\xED\xA0\x80"));	     /* U+D800 */
	assert_false(V("\xED\xAD\xBF"));	     /* U+DB7F */
	assert_false(V("\xED\xB0\x80"));	     /* U+DC00 */
	assert_false(V("\xED\xBF\xBF"));	     /* U+DFFF */
	assert_false(V("\xED\xA0\xBD\xED\xB8\x80")); /* CESU-8 pair for an emoji */
}

static void test_valid_rejects_above_u10ffff_and_bad_leads(void **state)
{
	(void)state;
	assert_false(V("\xF4\x90\x80\x80")); /* U+110000 */
	assert_false(V("\xF5\x80\x80\x80"));
	assert_false(V("\xF7\xBF\xBF\xBF"));
	assert_false(V("\xF8\x88\x80\x80\x80")); /* old 5-byte form */
	assert_false(V("\xFC\x84\x80\x80\x80\x80"));
	assert_false(V("\xFE"));
	assert_false(V("\xFF"));
	assert_false(V("\x80")); /* stray continuation */
	assert_false(V("a\xBF"));
}

static void test_valid_rejects_truncated_sequences(void **state)
{
	(void)state;
	assert_false(V("\xC3"));
	assert_false(V("\xE2\x82"));
	assert_false(V("\xE2"));
	assert_false(V("\xF0\x9F\x98"));
	assert_false(V("\xF0\x9F"));
	assert_false(V("\xF0"));
	/* truncated, then something that is not a continuation byte */
	assert_false(V("\xC3"
		       "a"));
	assert_false(V("\xE2\x82"
		       "a"));
	assert_false(V("\xF0\x9F\x98"
		       "a"));
	assert_false(V("\xE2\x82\xE2\x82\xAC"));
	/* the length given is what counts, not a NUL terminator */
	assert_false(proto_utf8_valid("\xE2\x82\xAC", 2));
}

static void test_valid_matches_reference_for_all_short_sequences(void **state)
{
	unsigned char b[4];
	unsigned a, c, d;
	(void)state;

	for (a = 0; a < 256; a++) {
		b[0] = (unsigned char)a;
		assert_int_equal(proto_utf8_valid((char *)b, 1), ref_one_char(b, 1));
		for (c = 0; c < 256; c++) {
			b[1] = (unsigned char)c;
			assert_int_equal(
			    proto_utf8_valid((char *)b, 2),
			    ref_one_char(b, 1) && ref_one_char(b + 1, 1) ? 1 : ref_one_char(b, 2));
			if (a < 0xE0 || a > 0xEF)
				continue; /* 3-byte leads only: 16 x 65536 cases */
			for (d = 0; d < 256; d++) {
				b[2] = (unsigned char)d;
				assert_int_equal(proto_utf8_valid((char *)b, 3),
						 ref_one_char(b, 3));
			}
		}
	}
}

static void test_valid_matches_reference_for_four_byte_grid(void **state)
{
	static const unsigned char tails[] = {0x00, 0x7F, 0x80, 0x8F, 0x90,
					      0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
	unsigned char b[4];
	unsigned a, c;
	size_t i, j;
	(void)state;

	for (a = 0xF0; a < 256; a++) {
		b[0] = (unsigned char)a;
		for (c = 0; c < 256; c++) {
			b[1] = (unsigned char)c;
			for (i = 0; i < sizeof(tails); i++) {
				b[2] = tails[i];
				for (j = 0; j < sizeof(tails); j++) {
					b[3] = tails[j];
					assert_int_equal(proto_utf8_valid((char *)b, 4),
							 ref_one_char(b, 4));
				}
			}
		}
	}
}

static void test_valid_prefix_stops_at_first_bad_byte(void **state)
{
	(void)state;
	assert_int_equal(proto_utf8_valid_prefix("abc", 3), 3);
	assert_int_equal(proto_utf8_valid_prefix("ab\xFF"
						 "cd",
						 5),
			 2);
	assert_int_equal(proto_utf8_valid_prefix("\xC3\xA9\xC0\x80", 4), 2);
	assert_int_equal(proto_utf8_valid_prefix("x\xE2\x82", 3), 1);
	assert_int_equal(proto_utf8_valid_prefix("\xED\xA0\x80", 3), 0);
	assert_int_equal(proto_utf8_valid_prefix(NULL, 0), 0);
}

/*
 * Each character sits between ASCII; every prefix length must be cut back
 * to the character's start exactly when it ends inside the character.
 */
static void test_complete_prefix_at_every_split_point(void **state)
{
	static const char *chars[] = {"\xC2\x80",	  "\xDF\xBF",	      "\xE0\xA0\x80",
				      "\xE2\x82\xAC",	  "\xED\x9F\xBF",     "\xEF\xBF\xBF",
				      "\xF0\x90\x80\x80", "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF"};
	size_t i, k;
	(void)state;

	for (i = 0; i < sizeof(chars) / sizeof(chars[0]); i++) {
		char buf[16];
		size_t clen = strlen(chars[i]);
		size_t start = 2, end = 2 + clen;

		memcpy(buf, "ab", 2);
		memcpy(buf + 2, chars[i], clen);
		memcpy(buf + end, "cd", 2);
		for (k = 0; k <= end + 2; k++) {
			size_t want = (k > start && k < end) ? start : k;

			assert_int_equal(proto_utf8_complete_prefix(buf, k), want);
			assert_true(proto_utf8_valid(buf, proto_utf8_complete_prefix(buf, k)));
		}
		/* the character alone, and two of them back to back */
		for (k = 0; k <= clen; k++)
			assert_int_equal(proto_utf8_complete_prefix(chars[i], k),
					 k == clen ? clen : 0);
		memcpy(buf, chars[i], clen);
		memcpy(buf + clen, chars[i], clen);
		for (k = clen; k <= 2 * clen; k++)
			assert_int_equal(proto_utf8_complete_prefix(buf, k),
					 k == 2 * clen ? k : clen);
	}
}

static void test_complete_prefix_keeps_bytes_that_can_never_complete(void **state)
{
	(void)state;
	/* Invalid tails are not held back: waiting would not make them valid. */
	assert_int_equal(proto_utf8_complete_prefix("a\xC0", 2), 2);
	assert_int_equal(proto_utf8_complete_prefix("a\xC1", 2), 2);
	assert_int_equal(proto_utf8_complete_prefix("a\xF5", 2), 2);
	assert_int_equal(proto_utf8_complete_prefix("a\xFF", 2), 2);
	assert_int_equal(proto_utf8_complete_prefix("a\x80", 2), 2);
	assert_int_equal(proto_utf8_complete_prefix("a\xE0\x80", 3), 3);     /* overlong */
	assert_int_equal(proto_utf8_complete_prefix("a\xED\xA0", 3), 3);     /* surrogate */
	assert_int_equal(proto_utf8_complete_prefix("a\xF4\x90", 3), 3);     /* > U+10FFFF */
	assert_int_equal(proto_utf8_complete_prefix("a\xF0\x80\x80", 4), 4); /* overlong */
	/* a complete character followed by a stray continuation byte */
	assert_int_equal(proto_utf8_complete_prefix("\xC3\xA9\x80", 3), 3);
	/* four continuation bytes: no lead within reach */
	assert_int_equal(proto_utf8_complete_prefix("\x80\x80\x80\x80", 4), 4);
	assert_int_equal(proto_utf8_complete_prefix("", 0), 0);
	assert_int_equal(proto_utf8_complete_prefix(NULL, 0), 0);
}

/*
 * What the log streamer does: cut a stream into chunks of n bytes, hold back
 * an unfinished character, send the rest. Every piece must be valid and the
 * pieces must rebuild the input, for every chunk size.
 */
static void test_complete_prefix_streams_without_splitting(void **state)
{
	static const char text[] = "h\xC3\xA9llo \xE2\x82\xAC\xF0\x9F\x98\x80 w\xC3\xB6rld "
				   "\xF4\x8F\xBF\xBF\xE0\xA0\x80!";
	size_t total = sizeof(text) - 1, n;
	(void)state;

	for (n = 1; n <= total; n++) {
		char pending[64], out[64];
		size_t plen = 0, olen = 0, pos = 0;

		while (pos < total) {
			size_t take = total - pos < n ? total - pos : n, send;

			memcpy(pending + plen, text + pos, take);
			plen += take;
			pos += take;
			send = proto_utf8_complete_prefix(pending, plen);
			assert_true(proto_utf8_valid(pending, send));
			memcpy(out + olen, pending, send);
			olen += send;
			memmove(pending, pending + send, plen - send);
			plen -= send;
			assert_true(plen < 4);
		}
		assert_int_equal(plen, 0);
		assert_int_equal(olen, total);
		assert_memory_equal(out, text, total);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_accepts_ascii_empty_and_each_length),
	    cmocka_unit_test(test_valid_accepts_embedded_nul_byte),
	    cmocka_unit_test(test_valid_rejects_overlong_forms),
	    cmocka_unit_test(test_valid_rejects_surrogates),
	    cmocka_unit_test(test_valid_rejects_above_u10ffff_and_bad_leads),
	    cmocka_unit_test(test_valid_rejects_truncated_sequences),
	    cmocka_unit_test(test_valid_matches_reference_for_all_short_sequences),
	    cmocka_unit_test(test_valid_matches_reference_for_four_byte_grid),
	    cmocka_unit_test(test_valid_prefix_stops_at_first_bad_byte),
	    cmocka_unit_test(test_complete_prefix_at_every_split_point),
	    cmocka_unit_test(test_complete_prefix_keeps_bytes_that_can_never_complete),
	    cmocka_unit_test(test_complete_prefix_streams_without_splitting),
	};

	return cmocka_run_group_tests(tests, 0, NULL);
}
