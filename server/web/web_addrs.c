/*
 * web_addrs.c - per client address: open websockets and the bytes they may
 * still send (web_addrs.h). A hash table; an entry goes once its address
 * has no websocket open, no request unanswered and its budget full again
 * (so closing every socket does not give a fresh budget).
 */
#include "web_addrs.h"
#include "bucket.h"

#include <stdlib.h>
#include <string.h>

#define NBUCKETS 1024

struct addr {
	struct addr *next;
	int n;
	int calls;	      /* requests not yet answered */
	long long granted_ms; /* web_addrs_grant */
	struct bucket sent;   /* bytes it may still send; below 0: it waits */
	long long rate;	      /* bytes a second, as last spent */
	char ip[];
};

static struct addr *buckets[NBUCKETS];

static double burst(const struct addr *a)
{
	return (double)a->rate * WEB_ADDRS_BURST_S;
}

/* The entry of ip (NULL if none) at *pp; on the way, the chain loses the
 * entries that have nothing left to remember. */
static struct addr **slot(const char *ip, long long now_ms)
{
	unsigned h = 5381;
	struct addr **pp, *a;

	for (const char *p = ip; *p; p++)
		h = h * 33 + (unsigned char)*p;
	for (pp = &buckets[h % NBUCKETS]; (a = *pp) && strcmp(a->ip, ip);) {
		if (!a->n && !a->calls && now_ms >= 0 &&
		    bucket_full(&a->sent, (double)a->rate, burst(a), now_ms)) {
			*pp = a->next;
			free(a);
			continue;
		}
		pp = &a->next;
	}
	return pp;
}

int web_addrs_count(const char *ip)
{
	struct addr *a = *slot(ip, -1);

	return a ? a->n : 0;
}

int web_addrs_add(const char *ip, long long rate, long long now_ms)
{
	struct addr **pp = slot(ip, now_ms);
	size_t len = strlen(ip);

	if (!*pp) {
		if (!(*pp = calloc(1, sizeof(**pp) + len + 1)))
			return -1;
		memcpy((*pp)->ip, ip, len + 1); /* a new bucket is full */
	}
	(*pp)->rate = rate;
	(*pp)->n++;
	return 0;
}

void web_addrs_remove(const char *ip)
{
	struct addr *a = *slot(ip, -1);

	if (a && a->n > 0)
		a->n--; /* the entry goes later, in slot(), once it is refilled */
}

long web_addrs_spend(const char *ip, size_t bytes, long long now_ms)
{
	struct addr *a = *slot(ip, -1);

	return a ? bucket_charge(&a->sent, (double)a->rate, burst(a), now_ms, (double)bytes) : 0;
}

int web_addrs_calls(const char *ip, int delta)
{
	struct addr *a = *slot(ip, -1);

	if (!a)
		return 0;
	a->calls += delta;
	if (a->calls < 0)
		a->calls = 0;
	return a->calls;
}

int web_addrs_grant(const char *ip, long long now_ms)
{
	struct addr *a = *slot(ip, -1);

	if (!a || a->granted_ms == now_ms)
		return 0;
	a->granted_ms = now_ms;
	return 1;
}

void web_addrs_free(void)
{
	for (size_t i = 0; i < NBUCKETS; i++) {
		while (buckets[i]) {
			struct addr *a = buckets[i];

			buckets[i] = a->next;
			free(a);
		}
	}
}
