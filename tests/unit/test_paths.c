/*
 * test_paths.c - the project file path rule (server/base/paths.c): every
 * rule of paths.h with the hostile classics (../../etc/passwd, a/../../b,
 * /abs, NUL, backslashes, C0/C1 controls, broken UTF-8, bidirectional
 * overrides and zero-width characters), the length and depth limits
 * exactly at and one past the edge, ordinary paths that must pass, Unicode
 * NFC (one spelling per file) and paths that clash ("a" and "a/b").
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "paths.h"

#define OK(lit) assert_null(paths_invalid(lit, sizeof(lit) - 1))
#define BAD(lit) assert_non_null(paths_invalid(lit, sizeof(lit) - 1))

static void ordinary_relative_paths_pass(void **state)
{
	OK("main.py");
	OK("src/util.go");
	OK("a/b/c/d.txt");
	OK(".gitignore");
	OK("dir/.hidden");
	OK("..foo");
	OK("foo..");
	OK("a.../b");
	OK("with space.txt");
	OK("ünïcödé/日本語.txt");
	OK("emoji-😀.md");
	OK("C:colon");
}

static void traversal_is_refused(void **state)
{
	BAD("../../etc/passwd");
	BAD("a/../../b");
	BAD("..");
	BAD(".");
	BAD("./a");
	BAD("a/.");
	BAD("a/./b");
	BAD("a/..");
	BAD("a/../b");
}

static void absolute_and_empty_segments_are_refused(void **state)
{
	BAD("/abs");
	BAD("/");
	BAD("//etc/passwd");
	BAD("a//b");
	BAD("a/");
	BAD("a/b/");
	assert_non_null(paths_invalid("", 0));
	assert_non_null(paths_invalid(NULL, 0));
}

static void nul_backslash_and_controls_are_refused(void **state)
{
	BAD("a\0b");
	BAD("a\\b");
	BAD("..\\..\\windows");
	BAD("\\abs");
	BAD("a\nb");
	BAD("a\tb");
	BAD("a\rb");
	BAD("\x1b[31mred");
	BAD("del\x7f");
	BAD("c1\xc2\x85next"); /* U+0085 NEL */
	BAD("c1\xc2\x9f");     /* U+009F */
	OK("nbsp\xc2\xa0ok");  /* U+00A0 is not a control */
}

static void broken_utf8_is_refused(void **state)
{
	BAD("\xff");
	BAD("a\xc0\xaf");    /* overlong '/' */
	BAD("\xed\xa0\x80"); /* surrogate */
	BAD("trunc\xe6\x97");
	BAD("\x80start");
}

static void the_message_says_why(void **state)
{
	assert_non_null(strstr(paths_invalid("/abs", 4), "absolute"));
	assert_non_null(strstr(paths_invalid("a/../b", 6), ".."));
	assert_non_null(strstr(paths_invalid("a\\b", 3), "backslash"));
	assert_non_null(strstr(paths_invalid("a\0b", 3), "NUL"));
}

static void length_limit_is_255_bytes(void **state)
{
	char p[600];

	memset(p, 'a', sizeof(p));
	assert_null(paths_invalid(p, 255));
	assert_non_null(paths_invalid(p, 256));
	assert_non_null(paths_invalid(p, 5000 > sizeof(p) ? sizeof(p) : 5000));
	/* multi-byte characters count as their bytes */
	for (int i = 0; i < 128; i++)
		memcpy(p + 2 * i, "\xc3\xa9", 2);
	assert_non_null(paths_invalid(p, 256));
	assert_null(paths_invalid(p, 254));
}

static void depth_limit_is_16_segments(void **state)
{
	char p[64];
	size_t n = 0;

	for (int i = 0; i < 16; i++) {
		p[n++] = 'd';
		p[n++] = '/';
	}
	p[n - 1] = '\0'; /* "d/d/.../d": 16 segments */
	assert_null(paths_invalid(p, n - 1));
	p[n - 1] = '/';
	p[n] = 'x'; /* 17 segments */
	assert_non_null(paths_invalid(p, n + 1));
}

/* Each character that shows as nothing or reorders what is shown, at the
 * start, in the middle and at the end of a path. */
static void bidi_and_invisible_characters_are_refused(void **state)
{
	/* U+202A-U+202E, U+2066-U+2069, U+200B-U+200F, U+2028, U+2029,
	 * U+FEFF, U+061C, U+2060, U+00AD, then C1, C0 and DEL */
	static const char *const chars[] = {
	    "\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac", "\xe2\x80\xad", "\xe2\x80\xae",
	    "\xe2\x81\xa6", "\xe2\x81\xa7", "\xe2\x81\xa8", "\xe2\x81\xa9", "\xe2\x80\x8b",
	    "\xe2\x80\x8c", "\xe2\x80\x8d", "\xe2\x80\x8e", "\xe2\x80\x8f", "\xe2\x80\xa8",
	    "\xe2\x80\xa9", "\xef\xbb\xbf", "\xd8\x9c",	    "\xe2\x81\xa0", "\xc2\xad",
	    "\xc2\x80",	    "\xc2\x9f",	    "\x01",	    "\x1f",	    "\x7f",
	};
	char p[64];

	for (size_t i = 0; i < sizeof(chars) / sizeof(chars[0]); i++) {
		const char *ch = chars[i];
		int n;

		n = snprintf(p, sizeof(p), "%sa.sh", ch);
		assert_non_null(paths_invalid(p, (size_t)n));
		n = snprintf(p, sizeof(p), "src/ma%sin.sh", ch);
		assert_non_null(paths_invalid(p, (size_t)n));
		n = snprintf(p, sizeof(p), "dir/x%s", ch);
		assert_non_null(paths_invalid(p, (size_t)n));
	}
	/* the classic: "main\u202Ehs.exe" shows as "mainexe.sh" */
	assert_non_null(strstr(paths_invalid("main\xe2\x80\xaehs.exe", 13), "bidirectional"));
	assert_non_null(strstr(paths_invalid("ma\xe2\x80\x8bin.sh", 10), "invisible"));
	/* their neighbours are ordinary characters */
	OK("\xe2\x80\x8a"); /* U+200A hair space */
	OK("\xe2\x80\x90"); /* U+2010 hyphen */
	OK("\xe2\x80\xaf"); /* U+202F narrow no-break space */
	OK("\xef\xbb\xbe"); /* U+FEFE */
	OK("\xe2\x82\xac"); /* U+20AC euro sign */
}

static char *nfc(const char *s)
{
	const char *why = "unset";
	size_t n = 12345;
	char *out = paths_nfc(s, strlen(s), &n, &why);

	if (out) {
		assert_int_equal(n, strlen(out));
		assert_null(why);
	} else {
		assert_non_null(why);
	}
	return out;
}

static void nfc_gives_one_spelling_per_file(void **state)
{
	char *a = nfc("caf\xc3\xa9.py");  /* U+00E9 */
	char *b = nfc("cafe\xcc\x81.py"); /* e + U+0301 */
	char *c = nfc("A\xcc\x8a/x");	  /* A + ring above: U+00C5 */
	char *d = nfc("\xe2\x84\xab/x");  /* U+212B angstrom sign: U+00C5 too */
	char *e = nfc("plain/ascii.txt");

	assert_string_equal(a, "caf\xc3\xa9.py");
	assert_string_equal(b, "caf\xc3\xa9.py");
	assert_string_equal(c, "\xc3\x85/x");
	assert_string_equal(d, "\xc3\x85/x");
	assert_string_equal(e, "plain/ascii.txt");
	/* NFC, not NFKC: compatibility characters stay what they are */
	free(e);
	e = nfc("\xef\xac\x81le"); /* U+FB01 ligature fi */
	assert_string_equal(e, "\xef\xac\x81le");
	assert_true(paths_is_nfc("caf\xc3\xa9.py", 8));
	assert_false(paths_is_nfc("cafe\xcc\x81.py", 9));
	assert_false(paths_is_nfc("../x", 4));
	free(a);
	free(b);
	free(c);
	free(d);
	free(e);
}

static void nfc_refuses_what_paths_invalid_refuses(void **state)
{
	const char *why = NULL;

	assert_null(nfc("../etc/passwd"));
	assert_null(nfc("a\xe2\x80\xae"
			"b"));
	assert_null(nfc("/abs"));
	assert_null(paths_nfc("a\xff", 2, NULL, &why));
	assert_non_null(strstr(why, "UTF-8"));
	assert_null(paths_nfc(NULL, 0, NULL, &why));
}

static void a_file_and_a_folder_of_one_name_clash(void **state)
{
	assert_true(paths_clash("main.sh", 7, "main.sh/child", 13));
	assert_true(paths_clash("main.sh/child", 13, "main.sh", 7));
	assert_true(paths_clash("a", 1, "a/b/c", 5));
	assert_false(paths_clash("a", 1, "a", 1));    /* the same file */
	assert_false(paths_clash("a", 1, "ab/c", 4)); /* a prefix, not a folder */
	assert_false(paths_clash("a.sh", 4, "a/sh", 4));
	assert_false(paths_clash("a/b", 3, "a/c", 3)); /* siblings */
	assert_false(paths_clash("x/a", 3, "a/b", 3));
}

static void nfc_keys_of_a_map(void **state)
{
	json_t *m = json_pack("{s:s, s:s}", "cafe\xcc\x81", "1", "b/x", "2");
	json_t *same = json_pack("{s:s}", "main.sh", "x");
	json_t *before = same;
	char msg[400];

	assert_int_equal(paths_nfc_keys(&m, msg, sizeof(msg)), 0);
	assert_string_equal(json_string_value(json_object_get(m, "caf\xc3\xa9")), "1");
	assert_string_equal(json_string_value(json_object_get(m, "b/x")), "2");
	assert_int_equal(json_object_size(m), 2);
	assert_int_equal(paths_nfc_keys(&same, msg, sizeof(msg)), 0);
	assert_ptr_equal(same, before); /* already NFC: the same object */
	json_decref(m);
	json_decref(same);

	/* two spellings of one file in one request */
	m = json_pack("{s:s, s:s}", "caf\xc3\xa9", "1", "cafe\xcc\x81", "2");
	before = m;
	assert_int_equal(paths_nfc_keys(&m, msg, sizeof(msg)), -1);
	assert_ptr_equal(m, before);
	assert_non_null(strstr(msg, "caf\xc3\xa9"));
	json_decref(m);

	m = json_pack("{s:s}", "a/\xe2\x80\xae", "1");
	assert_int_equal(paths_nfc_keys(&m, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "bidirectional"));
	json_decref(m);
}

static void clashing_keys_of_a_map(void **state)
{
	json_t *m = json_pack("{s:s, s:s, s:s}", "ab", "", "a.sh", "", "a/b", "");
	size_t len = 0;
	const char *k;

	assert_null(paths_map_clash(m, &len));
	json_object_set_new(m, "a", json_string(""));
	k = paths_map_clash(m, &len);
	assert_non_null(k);
	assert_string_equal(k, "a/b");
	assert_int_equal(len, 1);
	json_decref(m);
	m = json_pack("{s:s, s:s}", "x/y/z", "", "x/y", "");
	k = paths_map_clash(m, &len);
	assert_string_equal(k, "x/y/z");
	assert_int_equal(len, 3);
	json_decref(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ordinary_relative_paths_pass),
	    cmocka_unit_test(traversal_is_refused),
	    cmocka_unit_test(absolute_and_empty_segments_are_refused),
	    cmocka_unit_test(nul_backslash_and_controls_are_refused),
	    cmocka_unit_test(broken_utf8_is_refused),
	    cmocka_unit_test(the_message_says_why),
	    cmocka_unit_test(length_limit_is_255_bytes),
	    cmocka_unit_test(depth_limit_is_16_segments),
	    cmocka_unit_test(bidi_and_invisible_characters_are_refused),
	    cmocka_unit_test(nfc_gives_one_spelling_per_file),
	    cmocka_unit_test(nfc_refuses_what_paths_invalid_refuses),
	    cmocka_unit_test(a_file_and_a_folder_of_one_name_clash),
	    cmocka_unit_test(nfc_keys_of_a_map),
	    cmocka_unit_test(clashing_keys_of_a_map),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
