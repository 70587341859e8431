/*
 * test_plat_demux.c - the Docker attach stream demultiplexer: frames split
 * at every byte offset, many frames per chunk, empty frames, order across
 * stdout and stderr, stopping for backpressure, and garbage headers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "plat_demux.h"
#include "platform.h"

/* What the demuxer emitted: per stream, and one log of (stream, byte). */
struct sink {
	char out[4096];
	size_t out_len;
	char err[4096];
	size_t err_len;
	char order[8192]; /* "1a2b..." stream digit then byte */
	size_t order_len;
	int calls;
	int stop_after; /* stop when calls reaches this; 0 never */
};

static int sink_emit(void *arg, int stream, const char *data, size_t len)
{
	struct sink *s = arg;

	assert_true(len > 0);
	assert_true(stream >= 0 && stream <= 2);
	for (size_t i = 0; i < len; i++) {
		if (stream == 1)
			s->out[s->out_len++] = data[i];
		else
			s->err[s->err_len++] = data[i];
		s->order[s->order_len++] = (char)('0' + stream);
		s->order[s->order_len++] = data[i];
	}
	s->calls++;
	return s->stop_after && s->calls >= s->stop_after;
}

/* Append one frame to buf. */
static size_t frame(unsigned char *buf, int stream, const char *data, size_t len)
{
	buf[0] = (unsigned char)stream;
	buf[1] = buf[2] = buf[3] = 0;
	buf[4] = (unsigned char)(len >> 24);
	buf[5] = (unsigned char)(len >> 16);
	buf[6] = (unsigned char)(len >> 8);
	buf[7] = (unsigned char)len;
	memcpy(buf + 8, data, len);
	return 8 + len;
}

/* out "hello\n", err "oops", out "", out "\n\n  x" */
static size_t sample(unsigned char *buf)
{
	size_t n = 0;

	n += frame(buf + n, 1, "hello\n", 6);
	n += frame(buf + n, 2, "oops", 4);
	n += frame(buf + n, 1, "", 0);
	n += frame(buf + n, 1, "\n\n  x", 5);
	return n;
}

static void feed_all(struct plat_demux *d, const unsigned char *buf, size_t len)
{
	size_t used;

	assert_int_equal(plat_demux_feed(d, buf, len, &used), 0);
	assert_int_equal(used, len);
}

static void test_demux_one_chunk_many_frames(void **state)
{
	unsigned char buf[256];
	size_t n = sample(buf);
	struct sink s = {0};
	struct plat_demux d;

	plat_demux_init(&d, sink_emit, &s);
	feed_all(&d, buf, n);
	assert_int_equal(s.out_len, 11);
	assert_memory_equal(s.out, "hello\n\n\n  x", 11);
	assert_int_equal(s.err_len, 4);
	assert_memory_equal(s.err, "oops", 4);
	assert_int_equal(s.calls, 3); /* the empty frame emits nothing */
	assert_true(plat_demux_at_boundary(&d));
}

static void test_demux_split_at_every_offset(void **state)
{
	unsigned char buf[256];
	size_t n = sample(buf);
	struct sink whole = {0};
	struct plat_demux d;

	plat_demux_init(&d, sink_emit, &whole);
	feed_all(&d, buf, n);
	for (size_t cut = 0; cut <= n; cut++) {
		struct sink s = {0};

		plat_demux_init(&d, sink_emit, &s);
		feed_all(&d, buf, cut);
		if (cut > 0 && cut < n)
			assert_int_equal(plat_demux_at_boundary(&d),
					 cut == 14 || cut == 26 || cut == 34);
		feed_all(&d, buf + cut, n - cut);
		assert_int_equal(s.order_len, whole.order_len);
		assert_memory_equal(s.order, whole.order, whole.order_len);
		assert_true(plat_demux_at_boundary(&d));
	}
}

static void test_demux_byte_by_byte(void **state)
{
	unsigned char buf[256];
	size_t n = sample(buf);
	struct sink s = {0};
	struct plat_demux d;

	plat_demux_init(&d, sink_emit, &s);
	for (size_t i = 0; i < n; i++)
		feed_all(&d, buf + i, 1);
	assert_int_equal(s.out_len, 11);
	assert_memory_equal(s.out, "hello\n\n\n  x", 11);
	assert_memory_equal(s.err, "oops", 4);
}

static void test_demux_keeps_interleaved_order(void **state)
{
	unsigned char buf[1024];
	size_t n = 0;
	struct sink s = {0};
	struct plat_demux d;
	char expect[64];
	size_t e = 0;

	for (int i = 0; i < 10; i++) {
		char c = (char)('a' + i);

		n += frame(buf + n, 1 + (i % 2), &c, 1);
		expect[e++] = (char)('1' + (i % 2));
		expect[e++] = c;
	}
	plat_demux_init(&d, sink_emit, &s);
	/* odd-sized chunks */
	for (size_t off = 0; off < n; off += 7)
		feed_all(&d, buf + off, n - off < 7 ? n - off : 7);
	assert_int_equal(s.order_len, e);
	assert_memory_equal(s.order, expect, e);
}

static void test_demux_large_frame_length(void **state)
{
	static unsigned char buf[8 + 70000];
	static char data[70000];
	struct sink *s = calloc(1, sizeof(*s));
	struct plat_demux d;
	size_t total = 0, n;

	memset(data, 'z', sizeof(data));
	n = frame(buf, 1, data, sizeof(data));
	assert_int_equal(buf[5], 0x01); /* 70000 = 0x011170: big-endian */
	assert_int_equal(buf[6], 0x11);
	assert_int_equal(buf[7], 0x70);
	plat_demux_init(&d, sink_emit, s);
	for (size_t off = 0; off < n; off += 4000) {
		size_t k = n - off < 4000 ? n - off : 4000;

		s->out_len = 0; /* the sink is small: count instead */
		s->order_len = 0;
		feed_all(&d, buf + off, k);
		total += s->out_len;
	}
	assert_int_equal(total, sizeof(data));
	assert_true(plat_demux_at_boundary(&d));
	free(s);
}

static void test_demux_stop_resumes_exactly(void **state)
{
	unsigned char buf[256];
	size_t n = sample(buf), used, pos = 0;
	struct sink s = {0};
	struct plat_demux d;
	int rounds = 0;

	plat_demux_init(&d, sink_emit, &s);
	while (pos < n) {
		s.stop_after = s.calls + 1; /* stop after every piece */
		assert_int_equal(plat_demux_feed(&d, buf + pos, n - pos, &used), 0);
		pos += used;
		rounds++;
	}
	assert_int_equal(rounds, 3);
	assert_memory_equal(s.out, "hello\n\n\n  x", 11);
	assert_memory_equal(s.err, "oops", 4);
}

static void test_demux_bad_stream_byte_fails(void **state)
{
	unsigned char buf[64];
	size_t n = frame(buf, 1, "ok", 2), used;
	struct sink s = {0};
	struct plat_demux d;

	n += frame(buf + n, 7, "bad", 3);
	plat_demux_init(&d, sink_emit, &s);
	assert_int_equal(plat_demux_feed(&d, buf, n, &used), PLAT_E_PROTOCOL);
	assert_int_equal(used, 10);
	assert_int_equal(s.out_len, 2);
	/* stays failed */
	assert_int_equal(plat_demux_feed(&d, buf, 10, &used), PLAT_E_PROTOCOL);
	assert_int_equal(used, 0);
	assert_false(plat_demux_at_boundary(&d));
}

static void test_demux_nonzero_padding_fails(void **state)
{
	unsigned char buf[16] = {1, 0, 1, 0, 0, 0, 0, 1, 'x'};
	struct sink s = {0};
	struct plat_demux d;
	size_t used;

	plat_demux_init(&d, sink_emit, &s);
	/* the bad header arrives split: found when it is complete */
	assert_int_equal(plat_demux_feed(&d, buf, 3, &used), 0);
	assert_int_equal(plat_demux_feed(&d, buf + 3, 6, &used), PLAT_E_PROTOCOL);
	assert_int_equal(s.calls, 0);
}

static void test_demux_text_is_not_a_stream(void **state)
{
	const char *text = "Error: No such container: abc\n";
	struct sink s = {0};
	struct plat_demux d;
	size_t used;

	plat_demux_init(&d, sink_emit, &s);
	assert_int_equal(plat_demux_feed(&d, text, strlen(text), &used), PLAT_E_PROTOCOL);
	assert_int_equal(s.calls, 0);
}

/* A TTY's stream has no frames: bytes that would be a header pass through
 * as they are, all as stdout, in any chunking, and it may end anywhere. */
static void test_demux_raw_passes_a_tty_stream_through(void **state)
{
	unsigned char buf[512];
	size_t n = sample(buf), used;
	struct sink s = {0};
	struct plat_demux d;

	plat_demux_init_raw(&d, sink_emit, &s);
	for (size_t i = 0; i < n; i += 3) {
		size_t k = n - i < 3 ? n - i : 3;

		assert_int_equal(plat_demux_feed(&d, buf + i, k, &used), 0);
		assert_int_equal(used, k);
		assert_true(plat_demux_at_boundary(&d));
	}
	assert_int_equal(s.out_len, n);
	assert_memory_equal(s.out, buf, n);
	assert_int_equal(s.err_len, 0);
	assert_int_equal(plat_demux_feed(&d, buf, 0, &used), 0);
	assert_int_equal(used, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_demux_one_chunk_many_frames),
	    cmocka_unit_test(test_demux_split_at_every_offset),
	    cmocka_unit_test(test_demux_byte_by_byte),
	    cmocka_unit_test(test_demux_keeps_interleaved_order),
	    cmocka_unit_test(test_demux_large_frame_length),
	    cmocka_unit_test(test_demux_stop_resumes_exactly),
	    cmocka_unit_test(test_demux_bad_stream_byte_fails),
	    cmocka_unit_test(test_demux_nonzero_padding_fails),
	    cmocka_unit_test(test_demux_text_is_not_a_stream),
	    cmocka_unit_test(test_demux_raw_passes_a_tty_stream_through),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
