/*
 * run_out.h - turn a container's raw output into run/log chunks: stdout and
 * stderr kept apart and in order, coalesced up to a size, never a UTF-8
 * character split across two chunks, invalid bytes replaced by U+FFFD so
 * every chunk is valid JSON text. Pure: the caller owns the timer that
 * calls runout_flush() a few milliseconds after data arrives.
 */
#ifndef RUNIT_RUN_OUT_H
#define RUNIT_RUN_OUT_H

#include <stddef.h>

/* emit gets valid UTF-8 of 1..max_chunk+3 bytes; stream is 1 (stdout) or 2 (stderr). */
typedef void (*runout_emit_fn)(void *arg, int stream, const char *utf8, size_t len);

struct runout {
	size_t max_chunk;
	int cur; /* stream of the pending bytes, 0 when none */
	char *pend;
	size_t plen, pcap;
	char carry[3][4]; /* an unfinished character per stream */
	size_t clen[3];
	char *tmp; /* sanitised copy */
	size_t tcap;
	runout_emit_fn emit;
	void *arg;
};

void runout_init(struct runout *o, size_t max_chunk, runout_emit_fn emit, void *arg);
void runout_release(struct runout *o);
/* Add bytes of stream 1 or 2; may emit. -1 on allocation failure. */
int runout_feed(struct runout *o, int stream, const char *buf, size_t len);
/* Emit what is pending. final: also what is left of unfinished characters. */
void runout_flush(struct runout *o, int final);
/* 1 when bytes are waiting to be emitted (the caller arms its timer). */
int runout_pending(const struct runout *o);

/* Copy in to out replacing each invalid byte by U+FFFD; out holds 3 * len.
 * Returns the bytes written. */
size_t utf8_sanitize(const char *in, size_t len, char *out);

#endif
