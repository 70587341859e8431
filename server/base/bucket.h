/*
 * bucket.h - a token bucket: rate tokens a second, up to burst of them
 * saved up. What one session may do at a rate (collab pushes and cursor
 * moves, presence events) keeps one; a bucket never used is full.
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

#endif
