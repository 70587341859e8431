/*
 * proto_json.c - a frame's JSON read by jansson, its long strings decoded
 * here (proto_json_load).
 *
 * jansson reads a string one byte at a time through a callback and copies
 * it twice: about 100 us for the 10 KB of a typical file/save, a third of
 * the server's CPU for that call (docs/decisions.md, "Saves"), and 10 ms of
 * the event loop for a 1 MB file. Here every string value of LONG_BYTES or
 * more is decoded in one pass and jansson reads the frame with a short
 * stand-in in its place; the stand-ins in the tree are then given the
 * decoded texts.
 *
 * Only what decodes plainly is taken: a key, a string with a raw control
 * byte, \u0000, a lone surrogate or an unknown escape is left in the frame
 * for jansson. Whenever jansson fails on the shortened frame, or a
 * stand-in is not found exactly once in the tree (a client's own string
 * equal to one), the frame is read by jansson alone: the value and every
 * error are jansson's, only faster (tests/unit/test_proto_json.c compares
 * the two on generated frames, the fuzz target on its corpus).
 *
 * The frame must be valid UTF-8 (proto_parse checks that first): the bytes
 * of a long string are copied, not checked again.
 */
#include "proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LONG_BYTES 128
#define LONGS_MAX 32
/* A stand-in as JSON ("\u0001proto_json 07"), and its text as jansson
 * gives it back: a prefix and two digits. A client's string equal to one
 * makes it found twice. */
#define STANDIN_JSON "\"\\u0001proto_json %02u\""
#define STANDIN_JSON_MAX 32
#define STANDIN_PREFIX "\001proto_json "
#define STANDIN_PREFIX_LEN 12

struct long_str {
	size_t from, to; /* the literal, quotes included: buf[from..to) */
	char *text;	 /* decoded, not NUL-terminated */
	size_t len;
	int found;
};

static int hex4(const char *s, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static char *put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xC0 | (cp >> 6));
		*o++ = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xE0 | (cp >> 12));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char)(0x80 | (cp & 0x3F));
	} else {
		*o++ = (char)(0xF0 | (cp >> 18));
		*o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char)(0x80 | (cp & 0x3F));
	}
	return o;
}

/* One escape at s[0] == '\\' (end: the body's end), written at *o; the
 * bytes it took, or 0 when it is jansson's to judge. */
static size_t unescape(const char *s, const char *end, char **o)
{
	static const char plain[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
	unsigned cp, lo;

	if (end - s < 2)
		return 0;
	if (s[1] != 'u') {
		for (size_t k = 0; k + 1 < sizeof(plain); k += 2)
			if (plain[k] == s[1]) {
				*(*o)++ = plain[k + 1];
				return 2;
			}
		return 0;
	}
	if (end - s < 6 || hex4(s + 2, &cp) || cp == 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
		return 0;
	if (cp < 0xD800 || cp > 0xDBFF) {
		*o = put_utf8(*o, cp);
		return 6;
	}
	if (end - s < 12 || s[6] != '\\' || s[7] != 'u' || hex4(s + 8, &lo) || lo < 0xDC00 ||
	    lo > 0xDFFF)
		return 0;
	*o = put_utf8(*o, 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00));
	return 12;
}

/* 1 when s[0..n) has a byte below 0x20 (no early exit: it vectorizes). */
static int has_control(const char *s, size_t n)
{
	unsigned char low = 0;

	for (size_t i = 0; i < n; i++)
		low |= (unsigned char)s[i] < 0x20;
	return low;
}

/* The body s[0..n) of a string literal, decoded into a new buffer; NULL
 * when it is left to jansson (or no memory). Decoding never lengthens. */
static char *decode(const char *s, size_t n, size_t *len)
{
	const char *end = s + n;
	char *out = malloc(n ? n : 1), *o = out;

	while (out && s < end) {
		const char *bs = memchr(s, '\\', (size_t)(end - s));
		size_t run = bs ? (size_t)(bs - s) : (size_t)(end - s), took;

		if (has_control(s, run))
			break;
		memcpy(o, s, run);
		o += run;
		s += run;
		if (s == end)
			break;
		if (!(took = unescape(s, end, &o)))
			break;
		s += took;
	}
	if (out && s != end) {
		free(out);
		return NULL;
	}
	if (out)
		*len = (size_t)(o - out);
	return out;
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The end of the string literal whose opening quote is buf[from]: the
 * index after its closing quote (one not escaped: after an even number of
 * backslashes), or 0 when it is not closed. */
static size_t literal_end(const char *buf, size_t len, size_t from)
{
	size_t i = from + 1;
	const char *q;

	while ((q = memchr(buf + i, '"', len - i))) {
		size_t at = (size_t)(q - buf), bs = 0;

		while (at - bs - 1 > from && buf[at - bs - 1] == '\\')
			bs++;
		i = at + 1;
		if (bs % 2 == 0)
			return i;
	}
	return 0;
}

/* The long string values of buf, decoded, in order: how many (up to max). */
static size_t find_longs(const char *buf, size_t len, struct long_str *ls, size_t max)
{
	size_t n = 0, i = 0;
	const char *q;

	while (n < max && i < len && (q = memchr(buf + i, '"', len - i))) {
		size_t from = (size_t)(q - buf), k;

		if (!(i = literal_end(buf, len, from)))
			break; /* not closed: jansson says so */
		if (i - from - 2 < LONG_BYTES)
			continue;
		for (k = i; k < len && is_ws(buf[k]); k++)
			;
		if (k < len && buf[k] == ':')
			continue; /* a key */
		ls[n].text = decode(buf + from + 1, i - from - 2, &ls[n].len);
		if (!ls[n].text)
			continue;
		ls[n].from = from;
		ls[n].to = i;
		ls[n].found = 0;
		n++;
	}
	return n;
}

/* Give each stand-in in v its text; -1 when one is found twice. */
static int swap_in(json_t *v, struct long_str *ls, size_t n)
{
	const char *key, *s;
	json_t *x;
	size_t i, k;

	if (json_is_object(v)) {
		json_object_foreach(v, key, x)
		{
			if (swap_in(x, ls, n))
				return -1;
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
		{
			if (swap_in(x, ls, n))
				return -1;
		}
	} else if (json_is_string(v) && json_string_length(v) == STANDIN_PREFIX_LEN + 2) {
		s = json_string_value(v);
		if (memcmp(s, STANDIN_PREFIX, STANDIN_PREFIX_LEN) || s[12] < '0' || s[12] > '9' ||
		    s[13] < '0' || s[13] > '9')
			return 0;
		k = (size_t)(s[12] - '0') * 10 + (size_t)(s[13] - '0');
		if (k >= n)
			return 0;
		if (ls[k].found++ || json_string_setn_nocheck(v, ls[k].text, ls[k].len))
			return -1;
	}
	return 0;
}

static json_t *with_standins(const char *buf, size_t len, size_t flags, struct long_str *ls,
			     size_t n)
{
	size_t cut = 0, at = 0, w = 0;
	char *frame;
	json_t *root;
	json_error_t je;

	for (size_t k = 0; k < n; k++)
		cut += ls[k].to - ls[k].from;
	frame = malloc(len - cut + n * STANDIN_JSON_MAX + 1);
	if (!frame)
		return NULL;
	for (size_t k = 0; k < n; k++) {
		memcpy(frame + w, buf + at, ls[k].from - at);
		w += ls[k].from - at;
		w += (size_t)snprintf(frame + w, STANDIN_JSON_MAX, STANDIN_JSON, (unsigned)k);
		at = ls[k].to;
	}
	memcpy(frame + w, buf + at, len - at);
	w += len - at;
	root = json_loadb(frame, w, flags, &je);
	free(frame);
	if (root && swap_in(root, ls, n)) {
		json_decref(root);
		return NULL;
	}
	for (size_t k = 0; root && k < n; k++)
		if (ls[k].found != 1) {
			json_decref(root);
			return NULL;
		}
	return root;
}

json_t *proto_json_load(const char *buf, size_t len, size_t flags, json_error_t *err)
{
	struct long_str ls[LONGS_MAX];
	size_t n = find_longs(buf, len, ls, LONGS_MAX);
	json_t *root = n ? with_standins(buf, len, flags, ls, n) : NULL;

	for (size_t k = 0; k < n; k++)
		free(ls[k].text);
	if (!root)
		root = json_loadb(buf, len, flags, err);
	return root;
}
