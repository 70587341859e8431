/*
 * cm_check.c - reads gen.mjs's lines {doc, changes, result} on stdin and
 * checks that protocol/changeset.c applies each ChangeSet as CodeMirror
 * did. Exit 0 when every case (at least one) matches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "changeset.h"

int main(void)
{
	static char line[1 << 16];
	int n = 0, bad = 0;

	while (fgets(line, sizeof(line), stdin)) {
		json_t *j = json_loads(line, 0, NULL), *doc = json_object_get(j, "doc");
		struct changeset *cs = NULL;
		const char *why = NULL;
		char *out = NULL;
		size_t len;

		n++;
		if (!json_is_string(doc) ||
		    changeset_parse(json_object_get(j, "changes"), &cs, &why) ||
		    changeset_apply(cs, json_string_value(doc), json_string_length(doc), &out, &len,
				    &why)) {
			printf("refused (%s): %s", why ? why : "not a case", line);
			bad++;
		} else if (strcmp(out, json_string_value(json_object_get(j, "result")))) {
			printf("differs from CodeMirror: %s", line);
			bad++;
		}
		free(out);
		changeset_free(cs);
		json_decref(j);
	}
	printf("%d cases, %d differ from CodeMirror\n", n, bad);
	return n == 0 || bad != 0;
}
