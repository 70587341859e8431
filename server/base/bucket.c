/*
 * bucket.c - a token bucket (bucket.h).
 */
#include "bucket.h"

/* Up to now_ms: what came in since, never past the burst. */
static void fill(struct bucket *b, double rate, double burst, int64_t now_ms)
{
	if (!b->at_ms)
		b->tokens = burst;
	else
		b->tokens += (double)(now_ms - b->at_ms) * rate / 1000.0;
	if (b->tokens > burst)
		b->tokens = burst;
	b->at_ms = now_ms;
}

int bucket_take(struct bucket *b, double rate, double burst, int64_t now_ms)
{
	fill(b, rate, burst, now_ms);
	if (b->tokens < 1)
		return -1;
	b->tokens -= 1;
	return 0;
}

long bucket_charge(struct bucket *b, double rate, double burst, int64_t now_ms, double amount)
{
	fill(b, rate, burst, now_ms);
	b->tokens -= amount;
	return b->tokens >= 0 ? 0 : (long)(-b->tokens * 1000.0 / rate) + 1;
}

int bucket_full(struct bucket *b, double rate, double burst, int64_t now_ms)
{
	fill(b, rate, burst, now_ms);
	return b->tokens >= burst;
}
