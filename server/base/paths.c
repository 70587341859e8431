/*
 * paths.c - validation, Unicode NFC and clashes of project file paths (see
 * paths.h). Every rule is checked on the bytes; UTF-8 validity comes from
 * the protocol module, normalisation from libunistring.
 */
#include "paths.h"
#include "proto.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uninorm.h>

/* Checks one segment seg[0..n). */
static const char *segment_invalid(const char *seg, size_t n)
{
	if (n == 0)
		return "empty path segment (\"//\" or a trailing \"/\")";
	if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
		return "\".\" and \"..\" segments are not allowed";
	return NULL;
}

/* The code point that starts at p (valid UTF-8), its length in *n. */
static uint32_t code_point(const unsigned char *p, size_t *n)
{
	if (p[0] < 0x80) {
		*n = 1;
		return p[0];
	}
	if (p[0] < 0xe0) {
		*n = 2;
		return (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
	}
	if (p[0] < 0xf0) {
		*n = 3;
		return (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
	}
	*n = 4;
	return (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 |
	       (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
}

/* Bidirectional formatting characters: marks, embeddings, overrides,
 * isolates. Shown as nothing, they reorder what is shown around them. */
static int is_bidi(uint32_t u)
{
	return u == 0x061c || u == 0x200e || u == 0x200f || (u >= 0x202a && u <= 0x202e) ||
	       (u >= 0x2066 && u <= 0x2069);
}

/* Other characters that show as nothing (zero width, soft hyphen, line
 * and paragraph separators, word joiner, BOM, annotation marks). */
static int is_invisible(uint32_t u)
{
	return u == 0x00ad || u == 0x180e || (u >= 0x200b && u <= 0x200d) || u == 0x2028 ||
	       u == 0x2029 || (u >= 0x2060 && u <= 0x206f) || u == 0xfeff ||
	       (u >= 0xfff9 && u <= 0xfffb);
}

/* p[0..len) is valid UTF-8. */
static const char *chars_invalid(const unsigned char *p, size_t len)
{
	size_t n;

	for (size_t i = 0; i < len; i += n) {
		uint32_t u = code_point(p + i, &n);

		if (u == 0)
			return "NUL character in path";
		if (u < 0x20 || (u >= 0x7f && u <= 0x9f))
			return "control character in path";
		if (u == '\\')
			return "backslash in path (use \"/\")";
		if (is_bidi(u))
			return "bidirectional formatting character in path";
		if (is_invisible(u))
			return "invisible character in path";
	}
	return NULL;
}

const char *paths_invalid(const char *path, size_t len)
{
	const char *why, *seg, *end, *slash;
	size_t depth = 0;

	if (!path)
		return "missing path";
	if (len == 0)
		return "empty path";
	if (len > PATHS_MAX_BYTES)
		return "path longer than 255 bytes";
	if (!proto_utf8_valid(path, len))
		return "path is not valid UTF-8";
	if ((why = chars_invalid((const unsigned char *)path, len)))
		return why;
	if (path[0] == '/')
		return "absolute path (leading \"/\")";
	end = path + len;
	seg = path;
	for (;;) {
		slash = memchr(seg, '/', (size_t)(end - seg));
		if ((why = segment_invalid(seg, (size_t)((slash ? slash : end) - seg))))
			return why;
		if (++depth > PATHS_MAX_DEPTH)
			return "path deeper than 16 segments";
		if (!slash)
			break;
		seg = slash + 1;
	}
	return NULL;
}

char *paths_nfc(const char *path, size_t len, size_t *outlen, const char **why)
{
	uint8_t *nf;
	char *out;
	size_t n = 0;

	if ((*why = paths_invalid(path, len)))
		return NULL;
	nf = u8_normalize(UNINORM_NFC, (const uint8_t *)path, len, NULL, &n);
	if (!nf) {
		*why = "out of memory";
		return NULL;
	}
	/* NFC composes and reorders marks; it never makes a '/', '.' or a
	 * control character, but the length can change: check again. */
	if ((*why = paths_invalid((const char *)nf, n))) {
		free(nf);
		return NULL;
	}
	out = realloc(nf, n + 1);
	if (!out) {
		free(nf);
		*why = "out of memory";
		return NULL;
	}
	out[n] = '\0';
	if (outlen)
		*outlen = n;
	return out;
}

int paths_is_nfc(const char *path, size_t len)
{
	const char *why;
	size_t n;
	char *nf = paths_nfc(path, len, &n, &why);
	int same = nf && n == len && !memcmp(nf, path, len);

	free(nf);
	return same;
}

int paths_clash(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen > blen) {
		const char *t = a;
		size_t tl = alen;

		a = b;
		alen = blen;
		b = t;
		blen = tl;
	}
	return alen < blen && b[alen] == '/' && !memcmp(a, b, alen);
}

int paths_nfc_keys(json_t **map, char *msg, size_t n)
{
	json_t *out = json_object(), *v;
	const char *key, *why;
	size_t klen, nlen;
	int changed = 0;
	char *nk;

	if (!out) {
		snprintf(msg, n, "out of memory");
		return -1;
	}
	json_object_keylen_foreach(*map, key, klen, v)
	{
		if (!(nk = paths_nfc(key, klen, &nlen, &why))) {
			snprintf(msg, n, "invalid path: %s", why);
			goto out_free;
		}
		if (json_object_getn(out, nk, nlen)) {
			snprintf(msg, n, "\"%s\" names the same file as another path (Unicode NFC)",
				 nk);
			free(nk);
			goto out_free;
		}
		changed |= nlen != klen || memcmp(nk, key, klen);
		if (json_object_setn(out, nk, nlen, v)) {
			free(nk);
			snprintf(msg, n, "out of memory");
			goto out_free;
		}
		free(nk);
	}
	if (changed) {
		json_decref(*map);
		*map = out;
	} else {
		json_decref(out);
	}
	return 0;
out_free:
	json_decref(out);
	return -1;
}

const char *paths_map_clash(const json_t *map, size_t *file_len)
{
	const char *key;
	size_t klen;
	json_t *v;

	json_object_keylen_foreach((json_t *)map, key, klen, v)
	{
		for (size_t i = 1; i < klen; i++) {
			if (key[i] == '/' && json_object_getn(map, key, i)) {
				*file_len = i;
				return key;
			}
		}
	}
	return NULL;
}
