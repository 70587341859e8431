/*
 * fuzz_changeset.c - libFuzzer target for the ChangeSet parser and applier
 * (protocol/changeset.c).
 *
 * An input is a document, a NUL byte, then ChangeSet JSON (without a NUL,
 * the whole input is the JSON and the document is "a😀\nb"). The document is
 * cut to its longest valid UTF-8 prefix, as stored text always is. Checked:
 * a ChangeSet applies exactly when its length is the document's UTF-16
 * length and no position splits a surrogate pair; a result is valid UTF-8 of
 * the promised UTF-16 length; nothing leaks (LeakSanitizer).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "changeset.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char dflt[] = "a\xF0\x9F\x98\x80\nb";
	const char *in = (const char *)data, *doc = dflt, *js = in;
	size_t doc_len = sizeof(dflt) - 1, js_len = size;
	const char *nul = memchr(in, '\0', size);
	struct changeset *cs = NULL;
	json_error_t je;
	const char *why;
	char *out = NULL;
	size_t out_len = 0;
	json_t *j;

	if (nul) {
		doc = in;
		doc_len = proto_utf8_valid_prefix(in, (size_t)(nul - in));
		js = nul + 1;
		js_len = size - (size_t)(nul - in) - 1;
	}
	j = json_loadb(js, js_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (!j)
		return 0;
	if (changeset_parse(j, &cs, &why)) {
		if (cs || !why)
			abort();
		json_decref(j);
		return 0;
	}
	if (changeset_apply(cs, doc, doc_len, &out, &out_len, &why)) {
		if (out || !why)
			abort();
		/* refused: then the lengths differ or a pair was split */
	} else {
		if (cs->len16 != changeset_utf16_len(doc, doc_len))
			abort();
		if (!proto_utf8_valid(out, out_len) || strlen(out) != out_len)
			abort();
		if (changeset_utf16_len(out, out_len) != cs->new_len16)
			abort();
	}
	free(out);
	changeset_free(cs);
	json_decref(j);
	return 0;
}
