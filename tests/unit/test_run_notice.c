/*
 * test_run_notice.c - the wrapper's exit notice found in stdout: taken out
 * whole at every split of the bytes, through pipes ("\n") and terminals
 * ("\r\n"); every other byte (look-alikes, another run's token, a notice
 * cut short) passes through in order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_notice.h"

#define TOKEN "0123456789abcdef01234567"

struct sink {
	char buf[4096];
	size_t len;
};

static void out(void *arg, const char *buf, size_t len)
{
	struct sink *s = arg;

	assert_true(len > 0);
	assert_true(s->len + len <= sizeof(s->buf));
	memcpy(s->buf + s->len, buf, len);
	s->len += len;
}

/* Feed text in two pieces cut at cut; return what came out and the notice. */
static int feed_split(const char *text, size_t n, size_t cut, struct sink *s, int *code)
{
	struct run_notice nt;
	int found = 0;

	run_notice_init(&nt, TOKEN);
	memset(s, 0, sizeof(*s));
	found += run_notice_feed(&nt, text, cut, out, s);
	found += run_notice_feed(&nt, text + cut, n - cut, out, s);
	run_notice_flush(&nt, out, s);
	*code = nt.code;
	assert_int_equal(found, nt.seen);
	return found;
}

static void notice_is_taken_out_at_every_split(void **state)
{
	static const char *texts[] = {
	    "hello\n\x1erun-it-exit-" TOKEN " 0\n",
	    "no newline\x1erun-it-exit-" TOKEN " 42\n",
	    "tty\r\n\x1erun-it-exit-" TOKEN " 130\r\n",
	    "\x1erun-it-exit-" TOKEN " 7\n",
	};
	static const char *want[] = {"hello\n", "no newline", "tty\r\n", ""};
	static const int codes[] = {0, 42, 130, 7};

	(void)state;
	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
		size_t n = strlen(texts[t]);

		for (size_t cut = 0; cut <= n; cut++) {
			struct sink s;
			int code = -1;

			assert_int_equal(feed_split(texts[t], n, cut, &s, &code), 1);
			assert_int_equal(code, codes[t]);
			assert_int_equal(s.len, strlen(want[t]));
			assert_memory_equal(s.buf, want[t], s.len);
		}
	}
}

static void look_alikes_pass_through(void **state)
{
	static const char *texts[] = {
	    "a\x1erun-it-exit-ffffffffffffffffffffffff 0\nb", /* another token */
	    "\x1erun-it-exit-" TOKEN " \n",		      /* no digits */
	    "\x1erun-it-exit-" TOKEN " 1234\n",		      /* too many */
	    "\x1erun-it-exit-" TOKEN " 300\n",		      /* over 255 */
	    "\x1erun-it-exit-" TOKEN " 1x",		      /* cut short by other bytes */
	    "\x1erun-it-exit-" TOKEN " 1\r!",		      /* \r without \n */
	    "\x1e\x1e\x1e plain record separators",
	    "ends on a beginning \x1erun-it-ex", /* the output ends: flushed */
	};

	(void)state;
	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
		size_t n = strlen(texts[t]);

		for (size_t cut = 0; cut <= n; cut++) {
			struct sink s;
			int code = -1;

			assert_int_equal(feed_split(texts[t], n, cut, &s, &code), 0);
			assert_int_equal(s.len, n);
			assert_memory_equal(s.buf, texts[t], n);
		}
	}
}

static void one_notice_only_and_none_without_a_token(void **state)
{
	struct run_notice nt;
	struct sink s = {0};
	const char twice[] = "\x1erun-it-exit-" TOKEN " 1\n\x1erun-it-exit-" TOKEN " 2\n";
	const char *second = twice + strlen("\x1erun-it-exit-" TOKEN " 1\n");

	(void)state;
	run_notice_init(&nt, TOKEN);
	assert_int_equal(run_notice_feed(&nt, twice, strlen(twice), out, &s), 1);
	assert_int_equal(nt.code, 1);
	assert_int_equal(s.len, strlen(second)); /* the second is the program's */
	assert_memory_equal(s.buf, second, s.len);

	run_notice_init(&nt, "short");
	memset(&s, 0, sizeof(s));
	assert_int_equal(run_notice_feed(&nt, twice, strlen(twice), out, &s), 0);
	assert_int_equal(s.len, strlen(twice));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(notice_is_taken_out_at_every_split),
	    cmocka_unit_test(look_alikes_pass_through),
	    cmocka_unit_test(one_notice_only_and_none_without_a_token),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
