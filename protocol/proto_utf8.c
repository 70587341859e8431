/*
 * proto_utf8.c - a strict UTF-8 validator and the helpers built on it.
 *
 * Strict means what RFC 3629 and Unicode's table 3-7 allow: no overlong
 * forms, no UTF-16 surrogates (U+D800..U+DFFF), nothing above U+10FFFF.
 * proto_parse runs it over every inbound frame before jansson sees the bytes;
 * the run log streamer uses proto_utf8_complete_prefix so that a character is
 * never split across two websocket frames.
 */
#include "proto.h"

#define UTF8_BAD 0	/* not a valid sequence, whatever follows */
#define UTF8_SHORT (-1) /* a valid start of a sequence that ran out of bytes */

/*
 * The sequence at s (avail > 0 bytes there): its length when it is a whole
 * valid character, UTF8_BAD or UTF8_SHORT.
 */
static int utf8_seq(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */
	int n, i;

	if (c < 0x80)
		return 1;
	if (c < 0xC2) /* stray continuation byte, or C0/C1: overlong 2-byte form */
		return UTF8_BAD;
	if (c < 0xE0) {
		n = 2;
	} else if (c < 0xF0) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0; /* below is overlong */
		else if (c == 0xED)
			hi = 0x9F; /* above is a surrogate */
	} else if (c < 0xF5) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90; /* below is overlong */
		else if (c == 0xF4)
			hi = 0x8F; /* above is past U+10FFFF */
	} else {
		return UTF8_BAD;
	}
	for (i = 1; i < n; i++) {
		unsigned char b;

		if ((size_t)i >= avail)
			return UTF8_SHORT;
		b = s[i];
		if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
			return UTF8_BAD;
	}
	return n;
}

size_t proto_utf8_valid_prefix(const char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)buf;
	size_t i = 0;

	if (!buf)
		return 0;
	while (i < len) {
		int n;

		if (s[i] < 0x80) {
			i++;
			continue;
		}
		n = utf8_seq(s + i, len - i);
		if (n <= 0)
			break;
		i += (size_t)n;
	}
	return i;
}

int proto_utf8_valid(const char *buf, size_t len)
{
	return proto_utf8_valid_prefix(buf, len) == len;
}

/*
 * Only the last character can be unfinished, and a character is at most four
 * bytes: look back at most three bytes for its lead byte.
 */
size_t proto_utf8_complete_prefix(const char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)buf;
	size_t k;

	if (!buf)
		return 0;
	for (k = 1; k <= 3 && k <= len; k++) {
		size_t pos = len - k;

		if (s[pos] >= 0x80 && s[pos] <= 0xBF)
			continue; /* continuation byte: keep looking for the lead */
		return utf8_seq(s + pos, k) == UTF8_SHORT ? pos : len;
	}
	return len;
}
