/*
 * web_addrs.c - open websockets per client address (web_addrs.h): a hash
 * table of counts, an entry freed when its count is back to 0.
 */
#include "web_addrs.h"

#include <stdlib.h>
#include <string.h>

#define NBUCKETS 1024

struct addr {
	struct addr *next;
	int n;
	char ip[];
};

static struct addr *buckets[NBUCKETS];

static struct addr **slot(const char *ip)
{
	unsigned h = 5381;
	struct addr **pp;

	for (const char *p = ip; *p; p++)
		h = h * 33 + (unsigned char)*p;
	for (pp = &buckets[h % NBUCKETS]; *pp && strcmp((*pp)->ip, ip); pp = &(*pp)->next)
		;
	return pp;
}

int web_addrs_count(const char *ip)
{
	struct addr *a = *slot(ip);

	return a ? a->n : 0;
}

int web_addrs_add(const char *ip)
{
	struct addr **pp = slot(ip);
	size_t len = strlen(ip);

	if (!*pp) {
		if (!(*pp = calloc(1, sizeof(**pp) + len + 1)))
			return -1;
		memcpy((*pp)->ip, ip, len + 1);
	}
	(*pp)->n++;
	return 0;
}

void web_addrs_remove(const char *ip)
{
	struct addr **pp = slot(ip), *a = *pp;

	if (!a || --a->n > 0)
		return;
	*pp = a->next;
	free(a);
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
