/*
 * changeset.c - CodeMirror ChangeSet JSON parsed and applied to UTF-8 text
 * counted in UTF-16 units (changeset.h says the rules). The applier walks
 * the document once, copying kept bytes and skipping deleted ones, so a
 * change costs O(document + ChangeSet).
 */
#include "changeset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Bytes and UTF-16 units of the UTF-8 character at s (avail > 0 bytes):
 * 0 when the lead byte is not one or the sequence runs out. */
static size_t char_at(const unsigned char *s, size_t avail, size_t *units)
{
	size_t n;

	if (s[0] < 0x80)
		n = 1;
	else if (s[0] >= 0xC2 && s[0] < 0xE0)
		n = 2;
	else if (s[0] >= 0xE0 && s[0] < 0xF0)
		n = 3;
	else if (s[0] >= 0xF0 && s[0] < 0xF5)
		n = 4;
	else
		return 0;
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	*units = n == 4 ? 2 : 1;
	return n;
}

size_t changeset_utf16_len(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t units = 0;

	for (size_t i = 0; i < len; i++)
		if ((p[i] & 0xC0) != 0x80) /* every character starts once */
			units += p[i] >= 0xF0 ? 2 : 1;
	return units;
}

void changeset_free(struct changeset *cs)
{
	if (!cs)
		return;
	for (size_t i = 0; i < cs->n; i++)
		free(cs->parts[i].ins);
	free(cs->parts);
	free(cs);
}

/* A count: a whole number in [0, CS_MAX_COUNT]. */
static int count_of(json_t *v, size_t *out)
{
	double d;

	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		if (i < 0 || i > CS_MAX_COUNT)
			return -1;
		*out = (size_t)i;
		return 0;
	}
	if (!json_is_real(v))
		return -1;
	d = json_real_value(v); /* 3.0 is how some encoders write 3 */
	if (!(d >= 0 && d <= CS_MAX_COUNT) || d != (double)(long long)d)
		return -1;
	*out = (size_t)d;
	return 0;
}

/* The lines of part[1..] joined by "\n" into p->ins. */
static int join_lines(json_t *part, struct cs_part *p, const char **why)
{
	size_t n = json_array_size(part), total = 0, at = 0;

	for (size_t i = 1; i < n; i++) {
		json_t *line = json_array_get(part, i);

		if (!json_is_string(line)) {
			*why = "an inserted line is not a string";
			return -1;
		}
		total += json_string_length(line) + 1;
	}
	if (!(p->ins = malloc(total + 1))) {
		*why = "out of memory";
		return -1;
	}
	for (size_t i = 1; i < n; i++) {
		json_t *line = json_array_get(part, i);
		size_t l = json_string_length(line);

		if (memchr(json_string_value(line), '\0', l)) {
			*why = "an inserted line holds a NUL character";
			return -1;
		}
		if (i > 1)
			p->ins[at++] = '\n';
		memcpy(p->ins + at, json_string_value(line), l);
		at += l;
	}
	p->ins[at] = '\0';
	p->ins_len = at;
	p->ins16 = changeset_utf16_len(p->ins, at);
	return 0;
}

static int parse_part(json_t *part, struct cs_part *p, const char **why)
{
	if (json_is_number(part)) {
		if (count_of(part, &p->keep)) {
			*why = "a kept length is not a whole number in range";
			return -1;
		}
		return 0;
	}
	if (!json_is_array(part) || json_array_size(part) == 0) {
		*why = "a part is neither a number nor a non-empty array";
		return -1;
	}
	p->is_change = 1;
	if (count_of(json_array_get(part, 0), &p->del)) {
		*why = "a deleted length is not a whole number in range";
		return -1;
	}
	if (json_array_size(part) == 1)
		return 0;
	return join_lines(part, p, why);
}

int changeset_parse(json_t *json, struct changeset **out, const char **why)
{
	struct changeset *cs;
	size_t n;

	*out = NULL;
	if (!json_is_array(json)) {
		*why = "a ChangeSet is a JSON array";
		return -1;
	}
	n = json_array_size(json);
	if (n > CS_MAX_PARTS) {
		*why = "the ChangeSet has too many parts";
		return -1;
	}
	if (!(cs = calloc(1, sizeof(*cs))) || (n && !(cs->parts = calloc(n, sizeof(*cs->parts))))) {
		free(cs);
		*why = "out of memory";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct cs_part *p = &cs->parts[i];

		cs->n = i + 1;
		if (parse_part(json_array_get(json, i), p, why))
			goto out_free;
		cs->len16 += p->keep + p->del;
		cs->new_len16 += p->keep + p->ins16;
		if (cs->len16 > CS_MAX_COUNT || cs->new_len16 > (size_t)CS_MAX_COUNT * 4) {
			*why = "the ChangeSet is too long";
			goto out_free;
		}
	}
	*out = cs;
	return 0;
out_free:
	changeset_free(cs);
	return -1;
}

/* Walk `units` UTF-16 units of doc from *at; -1 past the end, inside a
 * surrogate pair or on bytes that are not UTF-8. */
static int walk(const char *doc, size_t len, size_t *at, size_t units, const char **why)
{
	while (units > 0) {
		size_t u = 0, n;

		if (*at >= len) {
			*why = "the ChangeSet is longer than the document";
			return -1;
		}
		n = char_at((const unsigned char *)doc + *at, len - *at, &u);
		if (!n) {
			*why = "the document is not valid UTF-8";
			return -1;
		}
		if (u > units) {
			*why = "a position falls inside a surrogate pair";
			return -1;
		}
		units -= u;
		*at += n;
	}
	return 0;
}

int changeset_apply(const struct changeset *cs, const char *doc, size_t len, char **out,
		    size_t *out_len, const char **why)
{
	size_t cap = len + 1, at = 0, o = 0;
	char *buf;

	*out = NULL;
	*out_len = 0;
	for (size_t i = 0; i < cs->n; i++)
		cap += cs->parts[i].ins_len;
	if (!(buf = malloc(cap))) {
		*why = "out of memory";
		return -1;
	}
	for (size_t i = 0; i < cs->n; i++) {
		const struct cs_part *p = &cs->parts[i];
		size_t from = at;

		if (walk(doc, len, &at, p->keep, why))
			goto out_free;
		memcpy(buf + o, doc + from, at - from);
		o += at - from;
		if (walk(doc, len, &at, p->del, why))
			goto out_free;
		if (p->ins_len) {
			memcpy(buf + o, p->ins, p->ins_len);
			o += p->ins_len;
		}
	}
	if (at != len) {
		*why = "the ChangeSet is shorter than the document";
		goto out_free;
	}
	buf[o] = '\0';
	*out = buf;
	*out_len = o;
	return 0;
out_free:
	free(buf);
	return -1;
}

json_t *changeset_replace_json(size_t old16, const char *text, size_t len)
{
	json_t *part = json_array(), *cs = json_array();
	size_t start = 0;

	if (!part || !cs || json_array_append_new(part, json_integer((json_int_t)old16)))
		goto out_fail;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] != '\n')
			continue;
		if (json_array_append_new(part, json_stringn(text + start, i - start)))
			goto out_fail;
		start = i + 1;
	}
	if (json_array_append_new(cs, part))
		goto out_fail_cs;
	return cs;
out_fail:
	json_decref(part);
out_fail_cs:
	json_decref(cs);
	return NULL;
}
