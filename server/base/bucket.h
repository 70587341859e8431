/*
 * bucket.h - a token bucket: rate tokens a second, up to burst of them
 * saved up. What one session may do at a rate (collab pushes and cursor
 * moves, presence events) keeps one, and so does what a client address may
 * send (web_addrs.c), which may go into debt; a bucket never used is full.
 */
#ifndef RUNIT_BUCKET_H
#define RUNIT_BUCKET_H

#include <stdint.h>

struct bucket {
	double tokens;
	int64_t at_ms; /* when it was last filled up to now; 0: never used */
};

/* Take one token at now_ms: 0, or -1 when there is none (none is taken). */
int bucket_take(struct bucket *b, double rate, double burst, int64_t now_ms);
/* Take amount whether it is there or not: 0, or the milliseconds until the
 * debt is paid. */
long bucket_charge(struct bucket *b, double rate, double burst, int64_t now_ms, double amount);
/* 1 when it holds its burst again (nothing taken). */
int bucket_full(struct bucket *b, double rate, double burst, int64_t now_ms);

#endif
