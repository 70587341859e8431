/*
 * run_build.c - what a run's build is given: the wrapper script that
 * builds, or restores the output of an earlier build of the same code from
 * the project's cache volume; the key of that code, computed here from what
 * the server knows (the line "go <key>" is the first thing the container
 * reads, so user code cannot choose it); and the files as a tar. Pure: it
 * calls nothing of the run engine (run.c uses it).
 *
 * The cache volume (docs/decisions.md, "The project's cache volume") is
 * mounted at /cache; XDG_CACHE_HOME points there, so Go's GOCACHE is
 * /cache/go-build. Its cap: before each build the wrapper measures it (du)
 * and empties it when it holds more than CAP_KB.
 */
#include "run_int.h"
#include "plat_tar.h"

#include <sodium.h>
#include <string.h>

/*
 * $1 N (build argv length), $2 the marker, $3 the cache cap in KiB, then
 * the build command, then the run command; RUNIT_BUILD_KEY from the "go"
 * line (32 hex digits, or empty). With a key and a writable /cache:
 * empty /cache when it is over the cap; if /cache/.run-it/out/KEY/done
 * exists, copy what its saved /tmp holds back (each entry: /tmp itself is
 * root's, its mode and times cannot be set) instead of building; else build
 * and save /tmp (the build's outputs: /tmp/main, /tmp/classes) as the only
 * entry: written beside, then renamed into place, so a run of the same
 * project at the same time never reads a half-written one. Then the
 * marker line, then exec the program. A failed build exits with the
 * build's status before the marker (run.c: build_failed).
 */
const char run_build_script[] =
    "n=$1; m=$2; cap=$3; shift 3; k=${RUNIT_BUILD_KEY-}; unset RUNIT_BUILD_KEY; "
    "case $k in *[!0-9a-f]*) k='';; esac; "
    "c=''; i=1; while [ $i -le $n ]; do c=\"$c \\\"\\${$i}\\\"\"; i=$((i+1)); done; "
    "[ -w /cache ] || unset XDG_CACHE_HOME; "
    "o=/cache/.run-it/out; "
    "if [ -n \"$k\" ] && [ -w /cache ]; then "
    "s=$(du -sk /cache 2>/dev/null); s=${s%%[!0-9]*}; "
    "[ \"${s:-0}\" -le \"$cap\" ] || rm -rf /cache/* /cache/.[!.]* /cache/..?* 2>/dev/null; "
    "rs() { r=0; for f in \"$1\"/* \"$1\"/.[!.]* \"$1\"/..?*; do "
    "if [ -e \"$f\" ] || [ -L \"$f\" ]; then cp -a \"$f\" /tmp/ || r=1; fi; done; "
    "return $r; }; "
    "if [ -f \"$o/$k/done\" ] && rs \"$o/$k/tmp\" 2>/dev/null; then :; else "
    "eval \"$c\" || exit $?; mkdir -p /cache/.run-it 2>/dev/null; "
    "if t=$(mktemp -d /cache/.run-it/new.XXXXXX 2>/dev/null); then "
    "{ mkdir \"$t/$k\" && cp -a /tmp/. \"$t/$k/tmp\" && : >\"$t/$k/done\" && rm -rf \"$o\" && "
    "mv \"$t\" \"$o\" || rm -rf \"$t\"; } 2>/dev/null; fi; fi; "
    "else eval \"$c\" || exit $?; fi; "
    "shift $n; printf '%s\\n' \"$m\"; exec \"$@\"";

/* Only a runtime with a build command gets the volume: its wrapper keeps
 * the volume under the cap before each build (a program of a runtime
 * without one could fill it run after run). */
int run_build_cached(const struct run *r)
{
	return r->build_cmd && r->cache_bytes > 0 && r->cache_vol[0];
}

static void hash_json(crypto_hash_sha256_state *st, json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
	unsigned char len[8];
	size_t n = s ? strlen(s) : 0;

	/* length-prefixed: no two different inputs make the same stream */
	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)((uint64_t)n >> (8 * i));
	crypto_hash_sha256_update(st, len, sizeof(len));
	if (s)
		crypto_hash_sha256_update(st, (const unsigned char *)s, n);
	free(s);
}

void run_build_go_line(struct run *r)
{
	crypto_hash_sha256_state st;
	unsigned char h[crypto_hash_sha256_BYTES];
	char hex[2 * 16 + 1];
	json_t *image;

	if (!run_build_cached(r)) {
		snprintf(r->go_line, sizeof(r->go_line), "go\n");
		return;
	}
	image = json_string(r->image);
	crypto_hash_sha256_init(&st);
	hash_json(&st, image);
	hash_json(&st, r->build_cmd);
	hash_json(&st, r->env);
	hash_json(&st, r->snapshot);
	crypto_hash_sha256_final(&st, h);
	json_decref(image);
	sodium_bin2hex(hex, sizeof(hex), h, 16);
	snprintf(r->go_line, sizeof(r->go_line), "go %s\n", hex);
}

int run_build_tar(const struct run *r, void **out, size_t *len)
{
	struct plat_tar t;
	const char *path;
	json_t *v;
	int rc = 0;

	plat_tar_init(&t, PLAT_RUN_UID, PLAT_RUN_GID, 0);
	json_object_foreach(r->snapshot, path, v)
	{
		const char *s = json_string_value(v);
		if (plat_tar_add_file(&t, path, s, json_string_length(v), 0644)) {
			rc = -1;
			break;
		}
	}
	if (!rc && plat_tar_finish(&t) == 0) {
		*out = t.data;
		*len = t.len;
		t.data = NULL;
	} else {
		rc = -1;
	}
	plat_tar_release(&t);
	return rc;
}
