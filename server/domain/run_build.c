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
#include <stdlib.h>
#include <string.h>

/*
 * The wait wrapper: the container's first program (argv[2] of run_build_argv()). It reads one line
 * "go KEY ENV TAR" on stdin, then the run's files (a tar, unpacked into the still empty /workspace)
 * and its environment (sh: one export per variable, eval'd), then becomes the run command (or the
 * build script). Through pipes ENV and TAR are byte counts and the bytes follow raw, read exactly
 * (dd iflag=fullblock: head -c of busybox reads ahead, which would eat the program's own input);
 * through a terminal they are counts of base64 lines (a terminal reads a line at a time, so head -n
 * takes exactly those; echo is turned off meanwhile and what the terminal echoed anyway is dropped
 * before the RUN_TTY_GO line, run_input.c; echo is back on before the variables apply: a PATH of
 * the user's cannot keep it off). KEY is "-" or the build key (run_build.c). The files come first:
 * a variable of the user's named like ours cannot change them. docs/decisions.md, "Files and
 * environment down stdin".
 */
#define WAIT_FILES_PIPE                                                                            \
	"read -r _ _rk _re _rt _rn || exit 0; "                                                    \
	"if [ \"${_rt:-0}\" -gt 0 ]; then dd bs=\"$_rt\" count=1 iflag=fullblock 2>/dev/null | "   \
	"tar -xf - -C /workspace || { echo 'run-it: the files could not be unpacked' >&2; "        \
	"exit 125; }; fi; "                                                                        \
	"if [ \"${_re:-0}\" -gt 0 ]; then _e=$(dd bs=\"$_re\" count=1 iflag=fullblock "            \
	"2>/dev/null) && eval \"$_e\" || exit 125; unset _e; fi; "
#define WAIT_FILES_TTY                                                                             \
	"stty -echo 2>/dev/null; read -r _ _rk _re _rt _rn || exit 0; "                            \
	"if [ \"${_rt:-0}\" -gt 0 ]; then head -n \"$_rt\" | base64 -d | tar -xf - -C /workspace " \
	"|| { echo 'run-it: the files could not be unpacked' >&2; exit 125; }; fi; "               \
	"_e=''; [ \"${_re:-0}\" -gt 0 ] && { _e=$(head -n \"$_re\" | base64 -d) || exit 125; }; "  \
	"stty echo 2>/dev/null; eval \"$_e\" || exit 125; unset _e; "
#define WAIT_KEY "[ \"$_rk\" = - ] || export RUNIT_BUILD_KEY=\"$_rk\"; "
/* With a notice token (run_notice.h) the program runs as the wrapper's
 * child and the wrapper prints the notice with its exit status, then exits
 * with it: through pipes on stdout and on stderr (each is the last of its
 * pipe: the engine may deliver the two in either order), through a
 * terminal once. A signal that would end the wrapper first (Ctrl+C reaches
 * the whole foreground group) runs an empty trap instead (the child gets
 * the default action back at exec). Without a token it becomes the program. */
#define WAIT_NOTICE "printf '\\036run-it-exit-%s %d\\n' \"$_rn\" \"$_s\""
/* The kernel's OOM killer may have ended any process of the container (dd
 * writing the tmpfs workspace full, say) while the program exits 0: only
 * the engine tells that run "oom". The container's own memory cgroup counts
 * it (oom_kill in memory.events, cgroup v2, or in memory.oom_control, v1);
 * after one, no notice. */
#define WAIT_OOM                                                                                   \
	"_o=0; for _f in /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control; "  \
	"do [ -r \"$_f\" ] && while read -r _a _b; do [ \"$_a\" = oom_kill ] && _o=$_b; done "     \
	"<\"$_f\"; done; "
#define WAIT_RUN(also)                                                                             \
	"case $_rn in *[!0-9a-f]*|'') exec \"$@\";; esac; trap : INT QUIT TERM HUP; \"$@\"; "      \
	"_s=$?; " WAIT_OOM "[ \"$_o\" = 0 ] || exit \"$_s\"; " WAIT_NOTICE "; " also               \
	"exit \"$_s\""

const char run_wait_pipe[] = WAIT_FILES_PIPE WAIT_KEY WAIT_RUN(WAIT_NOTICE " >&2; ");
const char run_wait_tty[] = WAIT_FILES_TTY WAIT_KEY "printf '" RUN_TTY_GO "\\n'; " WAIT_RUN("");

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
		snprintf(r->go_key, sizeof(r->go_key), "-");
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
	snprintf(r->go_key, sizeof(r->go_key), "%s", hex);
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

/* sh single quotes around s: ' becomes '\'' */
static void sh_quote(char **p, const char *s)
{
	char *o = *p;

	*o++ = '\'';
	for (; *s; s++) {
		if (*s == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *s;
		}
	}
	*o++ = '\'';
	*p = o;
}

/* The environment as sh: "export 'NAME'='value'" lines (owned by *out). */
static char *env_script(const struct run *r, size_t *len)
{
	const char *k;
	json_t *v;
	size_t cap = 1;
	char *buf, *o;

	json_object_foreach(r->env, k, v) cap += 4 * (strlen(k) + json_string_length(v)) + 16;
	if (!(buf = malloc(cap)))
		return NULL;
	o = buf;
	json_object_foreach(r->env, k, v)
	{
		const char *s = json_string_value(v);
		if (!s)
			continue;
		memcpy(o, "export ", 7);
		o += 7;
		sh_quote(&o, k);
		*o++ = '=';
		sh_quote(&o, s);
		*o++ = '\n';
	}
	*len = (size_t)(o - buf);
	return buf;
}

#define B64_LINE 76

/* n bytes as base64 lines of B64_LINE characters at o; returns the lines. */
static size_t b64_lines(char **o, const void *in, size_t n)
{
	size_t enc = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
	char *tmp = malloc(enc), *p = *o;
	size_t sl, lines = 0;

	if (!tmp)
		return (size_t)-1;
	sodium_bin2base64(tmp, enc, in, n, sodium_base64_VARIANT_ORIGINAL);
	sl = strlen(tmp);
	for (size_t i = 0; i < sl; i += B64_LINE, lines++) {
		size_t k = sl - i < B64_LINE ? sl - i : B64_LINE;
		memcpy(p, tmp + i, k);
		p += k;
		*p++ = '\n';
	}
	free(tmp);
	*o = p;
	return lines;
}

int run_build_payload(const struct run *r, const void *tar, size_t tar_len, char **out, size_t *len)
{
	size_t elen = 0, cap, ne, nt;
	char *env = env_script(r, &elen), *buf, *o, head[128];

	if (!env)
		return -1;
	cap = 2 * (elen + tar_len) + 256;
	if (!(buf = malloc(cap))) {
		free(env);
		return -1;
	}
	if (!r->tty) {
		int hl = snprintf(head, sizeof(head), "go %s %zu %zu %s\n", r->go_key, elen,
				  tar_len, r->notice_token);
		o = buf;
		memcpy(o, head, (size_t)hl);
		o += hl;
		if (tar_len)
			memcpy(o, tar, tar_len);
		o += tar_len;
		memcpy(o, env, elen);
		o += elen;
	} else { /* the header's length is known once the lines are counted */
		char *body = malloc(cap), *b = body;
		int hl;

		if (!body) {
			free(env);
			free(buf);
			return -1;
		}
		nt = tar_len ? b64_lines(&b, tar, tar_len) : 0;
		ne = elen ? b64_lines(&b, env, elen) : 0;
		if (nt == (size_t)-1 || ne == (size_t)-1) {
			free(body);
			free(env);
			free(buf);
			return -1;
		}
		hl = snprintf(head, sizeof(head), "go %s %zu %zu %s\n", r->go_key, ne, nt,
			      r->notice_token);
		memcpy(buf, head, (size_t)hl);
		memcpy(buf + hl, body, (size_t)(b - body));
		o = buf + hl + (b - body);
		free(body);
	}
	sodium_memzero(env, elen); /* the user's secrets */
	free(env);
	*out = buf;
	*len = (size_t)(o - buf);
	return 0;
}

/*
 * argv for the container: a fixed sh script that waits for one line on
 * stdin ("go", written once the files are in; with a terminal it then
 * prints RUN_TTY_GO, run_input.c), then becomes the run
 * command, or builds then runs through a fixed sh script that takes both as
 * arguments (nothing is interpolated).
 */
int run_build_argv(struct run *r, const char **argv, size_t max)
{
	size_t n = 0, i;

	argv[n++] = "/bin/sh";
	argv[n++] = "-c";
	/* it reads the files, the environment and the build key (run_build.c);
	 * a terminal's marker line tells where the program begins (run_input.c) */
	argv[n++] = r->tty ? run_wait_tty : run_wait_pipe;
	argv[n++] = "run-it-wait";
	if (r->build_cmd) {
		snprintf(r->nbuf, sizeof(r->nbuf), "%zu", json_array_size(r->build_cmd));
		snprintf(r->capbuf, sizeof(r->capbuf), "%lld", r->cache_bytes / 1024);
		argv[n++] = "/bin/sh";
		argv[n++] = "-c";
		argv[n++] = run_build_script;
		argv[n++] = "run-it-build";
		argv[n++] = r->nbuf;
		argv[n++] = r->marker;
		argv[n++] = r->capbuf;
		for (i = 0; i < json_array_size(r->build_cmd) && n < max - 1; i++)
			argv[n++] = json_string_value(json_array_get(r->build_cmd, i));
	}
	for (i = 0; i < json_array_size(r->run_cmd) && n < max - 1; i++)
		argv[n++] = json_string_value(json_array_get(r->run_cmd, i));
	argv[n] = NULL;
	return json_array_size(r->run_cmd) > 0 ? 0 : -1;
}

/* The container's limits: the runtime's (or the defaults), read for the run. */
void run_build_limits(const struct run *r, struct plat_spec *spec)
{
	spec->network = r->network;
	spec->readonly_rootfs = true;
	spec->init = true;
	spec->open_stdin = true;
	spec->tty = r->tty;
	/* /workspace and /tmp: RAM filesystems capped in bytes and files */
	spec->workspace_bytes = (uint64_t)r->disk_bytes;
	spec->workspace_inodes = (uint64_t)r->disk_inodes;
	spec->tmp_bytes = (uint64_t)r->disk_bytes;
	spec->tmp_inodes = (uint64_t)r->disk_inodes;
	spec->memory_bytes = (uint64_t)r->memory_bytes;
	spec->nano_cpus = (uint64_t)r->nano_cpus;
	spec->pids_limit = r->pids;
	spec->nofile = 256;
	spec->fsize_bytes = 64LL << 20;
	spec->runtime = r->oci_runtime[0] ? r->oci_runtime : NULL;
	run_pool_spec(&r->pool, spec); /* the user's pool: its cgroup parent */
}
