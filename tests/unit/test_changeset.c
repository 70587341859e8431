/*
 * test_changeset.c - CodeMirror ChangeSet JSON parsed and applied to UTF-8
 * text counted in UTF-16 units (protocol/changeset.c): the empty document,
 * an insertion at the end, everything deleted, astral characters counted as
 * two units (and positions between their halves refused), lengths that do
 * not match the document refused, malformed JSON refused, and a random
 * check against a reference that works on UTF-16 arrays.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "changeset.h"

/* Apply the ChangeSet JSON js to doc; the result, or NULL with *why. */
static char *apply(const char *js, const char *doc, const char **why)
{
	json_error_t je;
	json_t *j = json_loads(js, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	struct changeset *cs = NULL;
	char *out = NULL;
	size_t out_len = 0;

	*why = NULL;
	assert_non_null(j);
	if (!changeset_parse(j, &cs, why)) {
		if (changeset_apply(cs, doc, strlen(doc), &out, &out_len, why))
			assert_null(out);
		else
			assert_int_equal(out_len, strlen(out));
	}
	changeset_free(cs);
	json_decref(j);
	return out;
}

static void expect(const char *js, const char *doc, const char *want)
{
	const char *why;
	char *got = apply(js, doc, &why);

	if (!got)
		fail_msg("%s on \"%s\": %s", js, doc, why);
	assert_string_equal(got, want);
	free(got);
}

static void refuse(const char *js, const char *doc, const char *why_part)
{
	const char *why;
	char *got = apply(js, doc, &why);

	if (got)
		fail_msg("%s on \"%s\" gave \"%s\"", js, doc, got);
	assert_non_null(why);
	if (!strstr(why, why_part))
		fail_msg("%s: \"%s\" does not say \"%s\"", js, why, why_part);
}

static void test_empty_document(void **state)
{
	(void)state;
	expect("[]", "", "");
	expect("[[0,\"hello\"]]", "", "hello");
	expect("[[0,\"a\",\"b\",\"\"]]", "", "a\nb\n");
	refuse("[1]", "", "longer than the document");
	refuse("[[1]]", "", "longer than the document");
}

static void test_insert_at_end(void **state)
{
	(void)state;
	expect("[5,[0,\"!\"]]", "hello", "hello!");
	expect("[5,[0,\"\",\"next\"]]", "hello", "hello\nnext");
	expect("[[0,\">\"],5,[0,\"<\"]]", "hello", ">hello<");
}

static void test_delete_everything(void **state)
{
	(void)state;
	expect("[[5]]", "hello", "");
	expect("[[2],[3]]", "hello", "");
	expect("[[4]]",
	       "a\xF0\x9F\x98\x80"
	       "b",
	       "");
	expect("[[5,\"x\"]]", "hello", "x");
}

static void test_replace_in_the_middle(void **state)
{
	(void)state;
	expect("[1,[3,\"ipp\"],1]", "hello", "hippo");
	expect("[2,[0,\"X\"],[1],2]", "hello", "heXlo");
	expect("[0,5,0]", "hello", "hello");
}

/* 😀 is U+1F600: four UTF-8 bytes, two UTF-16 units. */
static void test_astral_characters_count_two_units(void **state)
{
	(void)state;
	const char *doc = "a\xF0\x9F\x98\x80"
			  "b";

	expect("[3,[1,\"c\"]]", doc,
	       "a\xF0\x9F\x98\x80"
	       "c");
	expect("[1,[2],1]", doc, "ab");
	expect("[[3],1]", doc, "b");
}

static void test_astral_positions(void **state)
{
	(void)state;
	const char *doc = "a\xF0\x9F\x98\x80"
			  "b";

	expect("[1,[2],1]", doc, "ab");
	expect("[3,[0,\"\xF0\x9F\x8E\x89\"],1]", doc,
	       "a\xF0\x9F\x98\x80\xF0\x9F\x8E\x89"
	       "b");
	refuse("[2,[1],1]", doc, "surrogate pair");
	refuse("[1,[1],2]", doc, "surrogate pair");
	refuse("[3]", doc, "shorter than the document");
	refuse("[5]", doc, "longer than the document");
	assert_int_equal(changeset_utf16_len(doc, strlen(doc)), 4);
	assert_int_equal(changeset_utf16_len("\xC3\xA9\xE2\x82\xAC", 5), 2);
}

static void test_invalid_ranges_rejected(void **state)
{
	(void)state;
	refuse("[6]", "hello", "longer");
	refuse("[4]", "hello", "shorter");
	refuse("[3,[3]]", "hello", "longer");
	refuse("[[10,\"x\"]]", "hello", "longer");
	refuse("[-1,6]", "hello", "kept length");
	refuse("[[-2],7]", "hello", "deleted length");
	refuse("[1.5,3.5]", "hello", "kept length");
	refuse("[1e300]", "hello", "kept length");
}

static void test_malformed_json_rejected(void **state)
{
	(void)state;
	refuse("{}", "", "JSON array");
	refuse("\"x\"", "", "JSON array");
	refuse("[[]]", "", "non-empty array");
	refuse("[\"x\"]", "", "neither");
	refuse("[null]", "", "neither");
	refuse("[[\"a\"]]", "", "deleted length");
	refuse("[[0,1]]", "", "not a string");
	refuse("[[0,\"a\",null]]", "", "not a string");
	refuse("[[0,\"a\\u0000b\"]]", "", "NUL");
}

static void test_lengths_are_reported(void **state)
{
	(void)state;
	json_t *j = json_loads("[2,[1,\"\xF0\x9F\x98\x80x\"],[3],1]", 0, NULL);
	struct changeset *cs;
	const char *why;

	assert_int_equal(changeset_parse(j, &cs, &why), 0);
	assert_int_equal(cs->len16, 7);
	assert_int_equal(cs->new_len16, 6);
	changeset_free(cs);
	json_decref(j);
}

static void test_replace_json_round_trips(void **state)
{
	(void)state;
	const char *texts[] = {"", "one", "a\nb", "\n", "x\xF0\x9F\x98\x80\n\ny"};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		const char *old = "old\xF0\x9F\x98\x80text";
		json_t *j = changeset_replace_json(changeset_utf16_len(old, strlen(old)), texts[i],
						   strlen(texts[i]));
		struct changeset *cs;
		const char *why;
		char *out;
		size_t n;

		assert_non_null(j);
		assert_int_equal(changeset_parse(j, &cs, &why), 0);
		assert_int_equal(changeset_apply(cs, old, strlen(old), &out, &n, &why), 0);
		assert_string_equal(out, texts[i]);
		free(out);
		changeset_free(cs);
		json_decref(j);
	}
}

/* Random documents built of known pieces (each one or two UTF-16 units),
 * edited in runs of whole pieces: the expected text is built piece by piece
 * beside the ChangeSet, independently of the applier's byte walk. */
static const char *const pieces[] = {
    "a", "b", "\n", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"};

/* Append s to buf (of size cap) at *at. */
static void put(char *buf, size_t cap, size_t *at, const char *s)
{
	size_t l = strlen(s);

	assert_true(*at + l < cap);
	memcpy(buf + *at, s, l + 1);
	*at += l;
}

static void test_random_edits_match_reference(void **state)
{
	(void)state;
	unsigned seed = 12345;

	for (int round = 0; round < 2000; round++) {
		char doc[2048] = "", want[4096] = "";
		int idx[256], n = 0;
		json_t *cs = json_array();
		size_t pos = 0, total16 = 0, dl = 0, wl = 0;
		const char *why;
		char *got;

		/* a document of random pieces, remembering each piece */
		seed = seed * 1103515245 + 12345;
		n = (int)((seed >> 16) % 30);
		for (int i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			idx[i] = (int)((seed >> 16) % 6);
			put(doc, sizeof(doc), &dl, pieces[idx[i]]);
			total16 += idx[i] == 5 ? 2 : 1;
		}
		/* walk the pieces: keep, delete or replace runs of whole characters */
		for (int i = 0; i < n;) {
			int run, what, units = 0;

			seed = seed * 1103515245 + 12345;
			run = 1 + (int)((seed >> 16) % 3);
			what = (int)((seed >> 8) % 3);
			if (run > n - i)
				run = n - i;
			for (int k = 0; k < run; k++)
				units += idx[i + k] == 5 ? 2 : 1;
			if (what == 0) {
				json_array_append_new(cs, json_integer(units));
				for (int k = 0; k < run; k++)
					put(want, sizeof(want), &wl, pieces[idx[i + k]]);
			} else if (what == 1) {
				json_array_append_new(cs, json_pack("[i]", units));
			} else {
				json_array_append_new(
				    cs, json_pack("[i,s,s]", units, "\xF0\x9F\x8E\x89", "z"));
				put(want, sizeof(want), &wl, "\xF0\x9F\x8E\x89\nz");
			}
			pos += (size_t)units;
			i += run;
		}
		assert_int_equal(pos, total16);
		{
			char *js = json_dumps(cs, JSON_COMPACT);

			got = apply(js, doc, &why);
			if (!got)
				fail_msg("%s: %s", js, why);
			assert_string_equal(got, want);
			free(got);
			free(js);
		}
		json_decref(cs);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_document),
	    cmocka_unit_test(test_insert_at_end),
	    cmocka_unit_test(test_delete_everything),
	    cmocka_unit_test(test_replace_in_the_middle),
	    cmocka_unit_test(test_astral_characters_count_two_units),
	    cmocka_unit_test(test_astral_positions),
	    cmocka_unit_test(test_invalid_ranges_rejected),
	    cmocka_unit_test(test_malformed_json_rejected),
	    cmocka_unit_test(test_lengths_are_reported),
	    cmocka_unit_test(test_replace_json_round_trips),
	    cmocka_unit_test(test_random_edits_match_reference),
	};

	return cmocka_run_group_tests(tests, 0, NULL);
}
