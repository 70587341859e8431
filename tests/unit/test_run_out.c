/*
 * test_run_out.c - run output coalescing: streams kept apart and in order,
 * no UTF-8 character split across chunks, invalid bytes replaced, bytes exact.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "run_out.h"
#include "proto.h"

struct rec {
	char out[2][65536];
	size_t len[2];
	int order[1024];
	size_t nchunks;
	size_t max_seen;
	int all_valid;
};

static void emit(void *arg, int stream, const char *buf, size_t len)
{
	struct rec *r = arg;

	assert_true(stream == 1 || stream == 2);
	assert_true(len > 0);
	if (!proto_utf8_valid(buf, len))
		r->all_valid = 0;
	memcpy(r->out[stream - 1] + r->len[stream - 1], buf, len);
	r->len[stream - 1] += len;
	if (r->nchunks < 1024)
		r->order[r->nchunks] = stream;
	r->nchunks++;
	if (len > r->max_seen)
		r->max_seen = len;
}

static void multibyte_split_at_every_offset_is_never_split(void **state)
{
	const char *text = "a\xc3\xa9z\xe2\x82\xac\xf0\x9f\x98\x80!"; /* a é z € 😀 ! */
	size_t n = strlen(text);

	for (size_t cut = 0; cut <= n; cut++) {
		struct rec *r = calloc(1, sizeof(*r));
		struct runout o;
		r->all_valid = 1;
		runout_init(&o, 4096, emit, r);
		runout_feed(&o, 1, text, cut);
		runout_flush(&o, 0); /* a timer fired in the middle of a character */
		runout_feed(&o, 1, text + cut, n - cut);
		runout_flush(&o, 1);
		assert_true(r->all_valid);
		assert_int_equal(r->len[0], n);
		assert_memory_equal(r->out[0], text, n);
		runout_release(&o);
		free(r);
	}
}

static void streams_stay_apart_and_in_order(void **state)
{
	struct rec *r = calloc(1, sizeof(*r));
	struct runout o;

	r->all_valid = 1;
	runout_init(&o, 4096, emit, r);
	runout_feed(&o, 1, "out1\n", 5);
	runout_feed(&o, 2, "err1\n", 5);
	runout_feed(&o, 1, "out2\n", 5);
	runout_flush(&o, 1);
	assert_int_equal(r->nchunks, 3);
	assert_int_equal(r->order[0], 1);
	assert_int_equal(r->order[1], 2);
	assert_int_equal(r->order[2], 1);
	assert_memory_equal(r->out[0], "out1\nout2\n", 10);
	assert_memory_equal(r->out[1], "err1\n", 5);
	runout_release(&o);
	free(r);
}

static void small_writes_are_coalesced_and_blank_lines_exact(void **state)
{
	struct rec *r = calloc(1, sizeof(*r));
	struct runout o;

	r->all_valid = 1;
	runout_init(&o, 4096, emit, r);
	for (int i = 0; i < 10000; i++)
		runout_feed(&o, 1, "\n", 1);
	runout_flush(&o, 1);
	assert_int_equal(r->len[0], 10000);
	for (size_t i = 0; i < 10000; i++)
		assert_int_equal(r->out[0][i], '\n');
	assert_true(r->nchunks <= 3);
	assert_true(r->max_seen <= 4096);
	runout_release(&o);
	free(r);
}

static void invalid_bytes_become_replacement_characters(void **state)
{
	struct rec *r = calloc(1, sizeof(*r));
	struct runout o;

	r->all_valid = 1;
	runout_init(&o, 4096, emit, r);
	runout_feed(&o, 2, "x\xff\xfey\xc0\xaf", 6);
	runout_flush(&o, 1);
	assert_true(r->all_valid);
	assert_int_equal(r->len[1], 2 + 4 * 3);
	assert_memory_equal(r->out[1], "x\xef\xbf\xbd\xef\xbf\xbdy\xef\xbf\xbd\xef\xbf\xbd", 14);
	runout_release(&o);
	free(r);
}

static void truncated_character_at_the_end_is_replaced_on_final_flush(void **state)
{
	struct rec *r = calloc(1, sizeof(*r));
	struct runout o;

	r->all_valid = 1;
	runout_init(&o, 4096, emit, r);
	runout_feed(&o, 1, "ok\xe2\x82", 4);
	runout_flush(&o, 0);
	assert_int_equal(r->len[0], 2);
	runout_flush(&o, 1);
	assert_true(r->all_valid);
	assert_int_equal(r->len[0], 2 + 6);
	runout_release(&o);
	free(r);
}

static void big_output_is_cut_into_bounded_chunks_on_character_boundaries(void **state)
{
	struct rec *r = calloc(1, sizeof(*r));
	struct runout o;
	char big[30000];

	for (size_t i = 0; i + 2 <= sizeof(big); i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	r->all_valid = 1;
	runout_init(&o, 1001, emit, r); /* odd size: a naive cut would split a character */
	runout_feed(&o, 1, big, sizeof(big));
	runout_flush(&o, 1);
	assert_true(r->all_valid);
	assert_int_equal(r->len[0], sizeof(big));
	assert_memory_equal(r->out[0], big, sizeof(big));
	assert_true(r->max_seen <= 1001);
	runout_release(&o);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(multibyte_split_at_every_offset_is_never_split),
	    cmocka_unit_test(streams_stay_apart_and_in_order),
	    cmocka_unit_test(small_writes_are_coalesced_and_blank_lines_exact),
	    cmocka_unit_test(invalid_bytes_become_replacement_characters),
	    cmocka_unit_test(truncated_character_at_the_end_is_replaced_on_final_flush),
	    cmocka_unit_test(big_output_is_cut_into_bounded_chunks_on_character_boundaries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
