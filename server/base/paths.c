/*
 * paths.c - validation of project file paths (see paths.h). Every rule is
 * checked on the bytes; UTF-8 validity comes from the protocol module.
 */
#include "paths.h"
#include "proto.h"

#include <string.h>

/* Checks one segment seg[0..n). */
static const char *segment_invalid(const char *seg, size_t n)
{
	if (n == 0)
		return "empty path segment (\"//\" or a trailing \"/\")";
	if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
		return "\".\" and \"..\" segments are not allowed";
	return NULL;
}

static const char *chars_invalid(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\0')
			return "NUL character in path";
		if (p[i] < 0x20 || p[i] == 0x7f)
			return "control character in path";
		if (p[i] == '\\')
			return "backslash in path (use \"/\")";
		/* C1 controls U+0080..U+009F are C2 80 .. C2 9F in UTF-8 */
		if (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
			return "control character in path";
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
