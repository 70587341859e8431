/*
 * changeset.h - CodeMirror 6 ChangeSets (ChangeSet.toJSON()) parsed and
 * applied to a UTF-8 text, for live co-editing (server/domain/collab.c).
 *
 * The JSON is an array of parts: a number n keeps n units; an array
 * [d, "line", "line", ...] deletes d units and inserts the lines joined by
 * "\n" ([d] alone only deletes). Positions and lengths count UTF-16 code
 * units, as JavaScript strings do: a character above U+FFFF (an emoji) is
 * two units. The text is UTF-8. A ChangeSet's length (kept + deleted) must
 * be the document's UTF-16 length exactly, and no position may fall between
 * the two halves of a surrogate pair.
 *
 * jansson only, like the rest of protocol/: unit-tested
 * (tests/unit/test_changeset.c) and fuzzed (tests/fuzz/fuzz_changeset.c)
 * without the server.
 */
#ifndef RUNIT_CHANGESET_H
#define RUNIT_CHANGESET_H

#include <stddef.h>
#include <jansson.h>

/* One part: keep `keep` units, or (keep == 0) delete `del` units and insert
 * ins[0..ins_len) (UTF-8, ins16 UTF-16 units; ins NULL when nothing). */
struct cs_part {
	size_t keep;
	size_t del;
	char *ins;
	size_t ins_len;
	size_t ins16;
	int is_change; /* an array part (delete/insert), even [0] */
};

struct changeset {
	size_t n;
	struct cs_part *parts;
	size_t len16;	  /* length of the document it applies to (kept + deleted) */
	size_t new_len16; /* length of the result (kept + inserted) */
};

/* Largest number of parts accepted, and largest count in one part. */
#define CS_MAX_PARTS 100000
#define CS_MAX_COUNT 1000000000

/*
 * Parse json (borrowed) into a new changeset (*out; free with
 * changeset_free). 0, or -1 with *why (a static message) and *out NULL.
 * Refused: not an array, a number that is not a whole number in
 * [0, CS_MAX_COUNT], a part that is neither a number nor an array starting
 * with one, a non-string line, an insertion holding "\0", too many parts,
 * a total length over CS_MAX_COUNT.
 */
int changeset_parse(json_t *json, struct changeset **out, const char **why);
void changeset_free(struct changeset *cs);

/*
 * Apply cs to doc[0..len) (valid UTF-8): a new NUL-terminated text in *out
 * (free() it), its byte length in *out_len. 0, or -1 with *why when cs's
 * length is not the document's, a position splits a surrogate pair, or doc
 * is not valid UTF-8 where it is walked; *out NULL then.
 */
int changeset_apply(const struct changeset *cs, const char *doc, size_t len, char **out,
		    size_t *out_len, const char **why);

/* UTF-16 length of the UTF-8 text s[0..len) (a 4-byte character counts 2;
 * an invalid byte counts 1). */
size_t changeset_utf16_len(const char *s, size_t len);

/*
 * The ChangeSet JSON that replaces a whole document of old16 units with
 * text[0..len): [[old16, "line", ...]] (new reference; NULL out of memory).
 */
json_t *changeset_replace_json(size_t old16, const char *text, size_t len);

#endif
