/*
 * netmask.c - CIDR ranges and the membership test (netmask.h), on top of
 * inet_pton so every textual form the C library knows is accepted.
 */
#include "netmask.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* addr as 4 or 16 bytes; 0 on success. */
static int parse_addr(const char *s, int *family, unsigned char *out)
{
	if (inet_pton(AF_INET, s, out) == 1) {
		*family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out) == 1) {
		*family = 6;
		return 0;
	}
	return -1;
}

static int prefix_equal(const unsigned char *a, const unsigned char *b, int bits)
{
	int whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)whole))
		return 0;
	if (!rest)
		return 1;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

int netmask_parse(const char *s, size_t len, struct netmask *out)
{
	char buf[64], *slash, *end;
	long bits;
	int max;

	while (len && *s == ' ')
		s++, len--;
	while (len && s[len - 1] == ' ')
		len--;
	if (!len || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(out, 0, sizeof(*out));
	if (parse_addr(buf, &out->family, out->addr))
		return -1;
	max = out->family == 4 ? 32 : 128;
	if (!slash) {
		out->bits = max;
		return 0;
	}
	if (slash[1] < '0' || slash[1] > '9')
		return -1;
	bits = strtol(slash + 1, &end, 10);
	if (*end || bits < 0 || bits > max)
		return -1;
	out->bits = (int)bits;
	/* "10.1.0.0/8" is probably a typo: refuse host bits past the prefix */
	for (int i = out->bits; i < max; i++)
		if (out->addr[i / 8] & (0x80 >> (i % 8)))
			return -1;
	return 0;
}

int netmask_parse_list(const char *list, struct netmask *out, int max)
{
	const char *p = list, *e;
	int n = 0;

	if (!list)
		return -1;
	for (;;) {
		e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (n == max || netmask_parse(p, len, &out[n]))
			return -1;
		n++;
		if (!e)
			break;
		p = e + 1;
	}
	return n;
}

int netmask_match(const struct netmask *list, int n, const char *addr)
{
	unsigned char a[16];
	int family;

	if (!addr || parse_addr(addr, &family, a))
		return 0;
	if (family == 6 && !memcmp(a, v4mapped, sizeof(v4mapped))) {
		memmove(a, a + 12, 4);
		family = 4;
	}
	for (int i = 0; i < n; i++)
		if (list[i].family == family && prefix_equal(a, list[i].addr, list[i].bits))
			return 1;
	return 0;
}
