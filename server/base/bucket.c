/*
 * bucket.c - a token bucket (bucket.h).
 */
#include "bucket.h"

int bucket_take(struct bucket *b, double rate, double burst, int64_t now_ms)
{
	if (!b->at_ms)
		b->tokens = burst;
	else
		b->tokens += (double)(now_ms - b->at_ms) * rate / 1000.0;
	if (b->tokens > burst)
		b->tokens = burst;
	b->at_ms = now_ms;
	if (b->tokens < 1)
		return -1;
	b->tokens -= 1;
	return 0;
}
