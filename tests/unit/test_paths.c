/*
 * test_paths.c - the project file path rule (server/paths.c): every rule of
 * paths.h with the hostile classics (../../etc/passwd, a/../../b, /abs,
 * NUL, backslashes, C0/C1 controls, broken UTF-8), the length and depth
 * limits exactly at and one past the edge, and ordinary paths that must
 * pass.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
