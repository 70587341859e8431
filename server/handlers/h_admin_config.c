/*
 * h_admin_config.c - what admins configure, live: runtimes
 * (admin/runtime/list|create|update|delete), container platforms
 * (admin/platform/list|create|update|delete), global settings
 * (admin/settings/get|set) and the global FAQ (admin/faq/set). The admin
 * role is checked by rpc_dispatch for every frame; every change is written
 * to the audit log. Changes apply without a restart: settings are reloaded
 * into memory before the reply (and on every other instance through
 * NOTIFY runit_settings); the run engine reads runtime and platform rows
 * for each run, so a disabled runtime refuses new runs (RUNTIME_DISABLED)
 * while its projects stay readable.
 *
 * Every field is checked here against a table (type, range, nullable) and
 * passed on as a clean JSON patch; the CHECKs of the tables stand behind.
 * A tcp:// platform's PEMs are checked with libcrypto (plat_tls_check) and
 * its client key sealed under the server key (secret.c) before the patch
 * goes to the database; no answer or audit row ever carries the key.
 */
#include "handlers.h"
#include "audit.h"
#include "dbcall.h"
#include "paths.h"
#include "platform.h"
#include "rpc.h"
#include "secret.h"
#include "settings.h"
#include "srv.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ftype {
	F_STR,	 /* text, min..max characters, no control characters */
	F_TEXT,	 /* text, min..max characters, newlines allowed */
	F_TOKEN, /* os, arch: [a-z0-9_.-]{1,32} */
	F_CODE,	 /* runtime code */
	F_PNAME, /* platform name */
	F_IMAGE,
	F_ARGV,
	F_PATH,
	F_TEMPLATE,
	F_FAQ,
	F_INT,
	F_BOOL,
	F_KIND,
	F_ENDPOINT,
	F_OPTIONS,
};

#define REQ 1u /* required on create */
#define NUL 2u /* may be null (reset to the default) */

struct field {
	const char *name;
	enum ftype type;
	unsigned flags;
	long long min, max;
};

static const struct field runtime_fields[] = {
    {"code", F_CODE, REQ, 0, 0},
    {"name", F_STR, REQ, 1, 100},
    {"language", F_STR, REQ, 1, 50},
    {"version", F_STR, REQ, 1, 50},
    {"os", F_TOKEN, 0, 0, 0},
    {"arch", F_TOKEN, 0, 0, 0},
    {"image", F_IMAGE, REQ, 0, 0},
    {"build_cmd", F_ARGV, NUL, 0, 0},
    {"run_cmd", F_ARGV, REQ, 0, 0},
    {"entry_file", F_PATH, REQ, 0, 0},
    {"template", F_TEMPLATE, 0, 0, 0},
    {"description", F_TEXT, 0, 0, 10000},
    {"faq", F_FAQ, 0, 0, 0},
    {"wall_ms", F_INT, NUL, 100, 3600000},
    {"memory_bytes", F_INT, NUL, 6291456, 68719476736LL},
    {"nano_cpus", F_INT, NUL, 10000000, 64000000000LL},
    {"pids", F_INT, NUL, 8, 65536},
    {"output_bytes", F_INT, NUL, 1024, 1073741824},
    {"disk_bytes", F_INT, NUL, 1048576, 68719476736LL},
    {"disk_inodes", F_INT, NUL, 256, 16777216},
    /* null: the default (60 s, 256 MiB: sql/010_build_cache.sql) */
    {"build_wall_ms", F_INT, NUL, 100, 3600000},
    {"cache_bytes", F_INT, NUL, 0, 68719476736LL}, /* 0 or from 1 MiB: field_invalid */
    {"network_allowed", F_BOOL, 0, 0, 0},
    {"enabled", F_BOOL, 0, 0, 0},
};

/* engine_* (what the engine says it is) are written by the health round
 * (run_plat.c), not by admins: unknown fields here. */
static const struct field platform_fields[] = {
    {"name", F_PNAME, REQ, 0, 0},
    {"code", F_CODE, 0, 0, 0}, /* default: the name, lower-cased */
    {"kind", F_KIND, REQ, 0, 0},
    {"endpoint", F_ENDPOINT, REQ, 0, 0},
    {"description", F_TEXT, 0, 0, 10000},
    {"options", F_OPTIONS, 0, 0, 0},
    {"enabled", F_BOOL, 0, 0, 0},
    {"is_default", F_BOOL, 0, 0, 0},
    /* at most this many active runs at once; null: no limit (sql/019) */
    {"max_containers", F_INT, NUL, 0, 100000},
    /* a tcp:// engine's TLS material, PEM texts, all three or none (null:
     * remove); the key is sealed here and never answered (tls_key_set) */
    {"tls_ca", F_TEXT, NUL, 1, 65536},
    {"tls_cert", F_TEXT, NUL, 1, 65536},
    {"tls_key", F_TEXT, NUL, 1, 65536},
};

#define NFIELDS(t) (sizeof(t) / sizeof(t[0]))

static int has_control(const char *s, int allow_newlines)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (allow_newlines && (*p == '\n' || *p == '\t' || *p == '\r'))
			continue;
		if (*p < 0x20 || *p == 0x7f)
			return 1;
	}
	return 0;
}

/* NULL when v is acceptable for f, else why. */
static const char *field_invalid(const struct settings *st, const struct field *f, json_t *v)
{
	const char *s = json_string_value(v);
	size_t chars;

	if (json_is_null(v))
		return f->flags & NUL ? NULL : "may not be null";
	switch (f->type) {
	case F_STR:
	case F_TEXT:
		if (!s)
			return "must be a string";
		chars = validate_utf8_chars(s, json_string_length(v));
		if ((long long)chars < f->min || (long long)chars > f->max)
			return f->min ? "has the wrong length" : "is too long";
		return has_control(s, f->type == F_TEXT) ? "contains a control character" : NULL;
	case F_TOKEN:
		if (!s || !*s || strlen(s) > 32 ||
		    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != strlen(s))
			return "is 1-32 of a-z, 0-9, '_', '.', '-'";
		return NULL;
	case F_CODE:
		return s ? validate_runtime_code(s) : "must be a string";
	case F_PNAME:
		return s ? validate_platform_name(s) : "must be a string";
	case F_IMAGE:
		return s ? validate_image(s) : "must be a string";
	case F_ARGV:
		return validate_argv(v);
	case F_PATH:
		if (!s)
			return "must be a string";
		if (paths_invalid(s, json_string_length(v)))
			return paths_invalid(s, json_string_length(v));
		return paths_is_nfc(s, json_string_length(v)) ? NULL : "is not in Unicode NFC";
	case F_TEMPLATE:
		return validate_template(v, st->max_files_per_project, st->max_file_bytes);
	case F_FAQ:
		return validate_faq(v);
	case F_INT:
		if (!json_is_integer(v))
			return "must be an integer";
		if (json_integer_value(v) < f->min || json_integer_value(v) > f->max)
			return "is out of range";
		if (!strcmp(f->name, "cache_bytes") && json_integer_value(v) &&
		    json_integer_value(v) < 1048576)
			return "is 0 (no cache volume) or at least 1048576";
		return NULL;
	case F_BOOL:
		return json_is_boolean(v) ? NULL : "must be true or false";
	case F_KIND:
		return s ? validate_platform_kind(s) : "must be a string";
	case F_ENDPOINT:
		return s ? validate_endpoint(s) : "must be a string";
	case F_OPTIONS:
		return validate_platform_options(v);
	}
	return "unknown field type";
}

/*
 * Check params against fields (skipping the keys in skip) and build a
 * patch of the validated members (new reference). creating: required
 * fields must be there. NULL after failing c.
 */
static json_t *patch_from(struct rpc_call *c, json_t *params, const struct field *fields, size_t n,
			  int creating, const char *const *skip)
{
	json_t *patch = json_object(), *v;
	const char *key, *why;
	char msg[200];
	size_t i;

	json_object_foreach(params, key, v)
	{
		int skipped = 0;
		for (const char *const *k = skip; k && *k; k++)
			skipped |= !strcmp(*k, key);
		if (skipped)
			continue;
		for (i = 0; i < n && strcmp(fields[i].name, key); i++)
			;
		if (i == n) {
			snprintf(msg, sizeof(msg), "unknown field \"%.64s\"", key);
			goto out_fail;
		}
		if ((why = field_invalid(settings_get(c->srv), &fields[i], v))) {
			snprintf(msg, sizeof(msg), "%s: %s", key, why);
			goto out_fail;
		}
		json_object_set(patch, key, v);
	}
	for (i = 0; creating && i < n; i++) {
		if ((fields[i].flags & REQ) && !json_object_get(patch, fields[i].name)) {
			snprintf(msg, sizeof(msg), "missing field \"%s\"", fields[i].name);
			goto out_fail;
		}
	}
	return patch;
out_fail:
	json_decref(patch);
	rpc_fail(c, PROTO_R_INVALID_PARAMS, msg, NULL);
	return NULL;
}

/* After a change: audit it, then answer with the statement's result. */
struct change {
	const char *action; /* "runtime.update" */
	const char *kind;   /* "runtime" */
	json_t *detail;	    /* for the audit log, owned */
};

static void audited(void *arg, struct rpc_call *c, json_t *ok)
{
	struct change *ch = arg;
	char target[160];
	const char *name;

	if (ok) {
		name = json_string_value(json_object_get(ok, "code"));
		if (!name)
			name = json_string_value(json_object_get(ok, "name"));
		snprintf(target, sizeof(target), "%s:%s", ch->kind, name ? name : "?");
		json_object_set(ch->detail, "id", json_object_get(ok, "id"));
		audit(c->srv, c->user_id, ch->action, target, json_incref(ch->detail), c->ip);
		rpc_reply(c, json_incref(ok));
	}
	json_decref(ch->detail);
	free(ch);
}

/* The audit detail of a patch: small values as they are, big ones (template,
 * faq, description, options) as true. */
static json_t *detail_of(json_t *patch)
{
	json_t *d = json_object(), *v;
	const char *k;

	json_object_foreach(patch, k, v)
	{
		int big =
		    !strcmp(k, "template") || !strcmp(k, "faq") || !strcmp(k, "description") ||
		    !strncmp(k, "tls_", 4); /* PEMs, the key above all: only that they changed */
		json_object_set_new(d, k, big ? json_true() : json_incref(v));
	}
	return json_pack("{s:o}", "changes", d);
}

static void send_change(struct rpc_call *c, const char *action, const char *kind, json_t *detail,
			const char *sql, int n, const char *const *p)
{
	struct change *ch = calloc(1, sizeof(*ch));

	if (!ch) {
		json_decref(detail);
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return;
	}
	ch->action = action;
	ch->kind = kind;
	ch->detail = detail;
	if (dbcall(c, sql, n, p, audited, ch)) {
		json_decref(detail);
		free(ch);
	}
}

/*
 * Which row: params "id" (integer) or else keyname (string). Fills idbuf
 * and *name (one of them NULL). -1 after failing c.
 */
static int which_row(struct rpc_call *c, json_t *params, const char *keyname, char idbuf[24],
		     const char **id, const char **name)
{
	struct proto_error err;
	long long n = 0;

	*id = *name = NULL;
	if (proto_get_int(params, "id", 0, 1, PROTO_MAX_SAFE_INT, &n, &err) ||
	    (!n && proto_get_str(params, keyname, 1, 64, name, &err))) {
		rpc_fail_err(c, &err);
		return -1;
	}
	if (n) {
		snprintf(idbuf, 24, "%lld", n);
		*id = idbuf;
	}
	return 0;
}

static char *dump(struct rpc_call *c, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);

	if (!s)
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
	return s;
}

/* ---- runtimes ---- */

#define RT_OUT(r)                                                                                  \
	"to_jsonb(" r ") - 'seed_digest' || jsonb_build_object('seeded', " r                       \
	".seed_digest IS NOT NULL, 'projects', (SELECT count(*) FROM projects pp"                  \
	" WHERE pp.runtime_id = " r ".id))"

static void h_runtime_list(void *ctx, struct proto_msg *msg)
{
	dbcall(ctx,
	       "SELECT runit_ok(jsonb_build_object('runtimes', coalesce(jsonb_agg(" RT_OUT(
		   "r") " ORDER BY r.code), '[]'::jsonb))) FROM runtimes r",
	       0, NULL, NULL, NULL);
}

static void h_runtime_create(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	json_t *patch =
	    patch_from(c, msg->params, runtime_fields, NFIELDS(runtime_fields), 1, NULL);
	const char *p[1];
	char *text;

	if (!patch)
		return;
	if (!(text = dump(c, patch))) {
		json_decref(patch);
		return;
	}
	p[0] = text;
	send_change(
	    c, "runtime.create", "runtime", detail_of(patch),
	    "WITH n AS (SELECT * FROM jsonb_populate_record(NULL::runtimes, $1::jsonb)),"
	    " r AS (INSERT INTO runtimes (code, name, language, version, os, arch, image,"
	    "  build_cmd, run_cmd, entry_file, template, description, faq, wall_ms,"
	    "  memory_bytes, nano_cpus, pids, output_bytes, disk_bytes, disk_inodes,"
	    "  network_allowed, enabled, build_wall_ms, cache_bytes)"
	    " SELECT code, name, language, version, coalesce(os, 'linux'),"
	    "  coalesce(arch, 'amd64'), image, build_cmd, run_cmd, entry_file,"
	    "  coalesce(template, '{}'), coalesce(description, ''), coalesce(faq, '[]'),"
	    "  wall_ms, memory_bytes, nano_cpus, pids, output_bytes, disk_bytes, disk_inodes,"
	    "  coalesce(network_allowed, false), coalesce(enabled, true),"
	    "  coalesce(build_wall_ms, 60000), coalesce(cache_bytes, 268435456) FROM n"
	    " RETURNING *)"
	    " SELECT runit_ok(" RT_OUT("r") ") FROM r",
	    1, p);
	json_decref(patch);
	free(text);
}

static void h_runtime_update(void *ctx, struct proto_msg *msg)
{
	static const char *const skip_id[] = {"id", NULL};
	static const char *const skip_code[] = {"code", NULL};
	struct rpc_call *c = ctx;
	char idbuf[24], *text;
	const char *id, *code, *p[3];
	json_t *patch;

	if (which_row(c, msg->params, "code", idbuf, &id, &code))
		return;
	patch = patch_from(c, msg->params, runtime_fields, NFIELDS(runtime_fields), 0,
			   id ? skip_id : skip_code);
	if (!patch)
		return;
	if (!(text = dump(c, patch))) {
		json_decref(patch);
		return;
	}
	p[0] = text;
	p[1] = id;
	p[2] = code;
	send_change(c, "runtime.update", "runtime", detail_of(patch),
		    "WITH r AS (UPDATE runtimes t SET (code, name, language, version, os, arch,"
		    "  image, build_cmd, run_cmd, entry_file, template, description, faq, wall_ms,"
		    "  memory_bytes, nano_cpus, pids, output_bytes, disk_bytes, disk_inodes,"
		    "  network_allowed, enabled, build_wall_ms, cache_bytes, seed_digest,"
		    "  updated_at) = (SELECT n.code, n.name,"
		    "  n.language, n.version, n.os, n.arch, n.image, n.build_cmd, n.run_cmd,"
		    "  n.entry_file, n.template, n.description, n.faq, n.wall_ms, n.memory_bytes,"
		    "  n.nano_cpus, n.pids, n.output_bytes, n.disk_bytes, n.disk_inodes,"
		    "  n.network_allowed, n.enabled, coalesce(n.build_wall_ms, 60000),"
		    "  coalesce(n.cache_bytes, 268435456), NULL, now()"
		    "  FROM jsonb_populate_record(t, $1::jsonb) n)"
		    " WHERE CASE WHEN $2::bigint IS NOT NULL THEN t.id = $2::bigint"
		    "  ELSE t.code = $3::text END RETURNING t.*)"
		    " SELECT coalesce((SELECT runit_ok(" RT_OUT(
			"r") ") FROM r),"
			     "  runit_err('NOT_FOUND', 'no such runtime'))",
		    3, p);
	json_decref(patch);
	free(text);
}

/* A delete of one row named by {id} or {key}: sql takes $1 the id, $2 the
 * name, and answers as the runit_* functions do; audited as action. */
static void delete_row(struct rpc_call *c, json_t *params, const char *key, const char *action,
		       const char *topic, const char *sql)
{
	char idbuf[24];
	const char *id, *name, *p[2];

	if (which_row(c, params, key, idbuf, &id, &name))
		return;
	p[0] = id;
	p[1] = name;
	send_change(c, action, topic, json_object(), sql, 2, p);
}

static void h_runtime_delete(void *ctx, struct proto_msg *msg)
{
	delete_row(
	    ctx, msg->params, "code", "runtime.delete", "runtime",
	    "WITH t AS (SELECT id, code FROM runtimes WHERE CASE WHEN $1::bigint IS NOT NULL"
	    "  THEN id = $1::bigint ELSE code = $2::text END),"
	    " n AS (SELECT count(*) AS c FROM projects WHERE runtime_id IN (SELECT id FROM t)),"
	    " d AS (DELETE FROM runtimes WHERE id IN (SELECT id FROM t)"
	    "  AND (SELECT c FROM n) = 0 RETURNING id, code)"
	    " SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM t)"
	    "  THEN runit_err('NOT_FOUND', 'no such runtime')"
	    " WHEN (SELECT c FROM n) > 0 THEN runit_err('CONFLICT', format("
	    "  '%s project(s) use this runtime: disable it instead (enabled: false)',"
	    "  (SELECT c FROM n)), jsonb_build_object('projects', (SELECT c FROM n)))"
	    " ELSE (SELECT runit_ok(jsonb_build_object('id', id, 'code', code)) FROM d) END");
}

/* ---- platforms ---- */

static void h_platform_list(void *ctx, struct proto_msg *msg)
{
	dbcall(ctx,
	       "SELECT runit_ok(jsonb_build_object('platforms', coalesce(jsonb_agg("
	       "runit_platform_public(x)"
	       " || jsonb_build_object('active_runs', (SELECT count(*) FROM runs r"
	       " WHERE r.platform_id = x.id AND r.state <> 'finished'))"
	       " ORDER BY x.name), '[]'::jsonb), 'queued', (SELECT count(*) FROM runs r"
	       " WHERE r.state = 'queued' AND r.platform_id IS NULL AND r.queued_at IS NOT NULL)))"
	       " FROM platforms x",
	       0, NULL, NULL, NULL);
}

/*
 * The TLS members of a platform patch: none, or all three. Strings are
 * checked with libcrypto (plat_tls_check: TLS_INVALID says what is wrong)
 * and tls_key is replaced by tls_key_enc and tls_key_nonce (hex), the key
 * sealed under the server key; nulls remove the material. -1 after failing c.
 */
static int tls_patch(struct rpc_call *c, json_t *patch)
{
	json_t *ca = json_object_get(patch, "tls_ca"), *cert = json_object_get(patch, "tls_cert"),
	       *key = json_object_get(patch, "tls_key");
	unsigned char nonce[SECRET_NONCE_LEN], *box;
	size_t klen;
	char why[200], nhex[2 * SECRET_NONCE_LEN + 1], *bhex;
	int rc = -1;

	if (!ca && !cert && !key)
		return 0;
	if (!ca || !cert || !key || json_is_null(ca) != json_is_null(cert) ||
	    json_is_null(ca) != json_is_null(key)) {
		rpc_fail(c, PROTO_R_TLS_INVALID,
			 "tls_ca, tls_cert and tls_key go together: give all three (or all three "
			 "null to remove them)",
			 NULL);
		return -1;
	}
	if (json_is_null(key)) {
		json_object_del(patch, "tls_key");
		json_object_set_new(patch, "tls_key_enc", json_null());
		json_object_set_new(patch, "tls_key_nonce", json_null());
		return 0;
	}
	if (plat_tls_check(json_string_value(ca), json_string_value(cert), json_string_value(key),
			   why, sizeof(why))) {
		rpc_fail(c, PROTO_R_TLS_INVALID, why, NULL);
		return -1;
	}
	klen = json_string_length(key);
	box = malloc(klen + SECRET_MAC_LEN);
	bhex = malloc(2 * (klen + SECRET_MAC_LEN) + 1);
	if (!box || !bhex ||
	    secret_seal((const unsigned char *)json_string_value(key), klen, box, nonce)) {
		rpc_fail(c, PROTO_R_INTERNAL, "cannot seal the key", NULL);
		goto out_free;
	}
	sodium_bin2hex(bhex, 2 * (klen + SECRET_MAC_LEN) + 1, box, klen + SECRET_MAC_LEN);
	sodium_bin2hex(nhex, sizeof(nhex), nonce, sizeof(nonce));
	json_object_del(patch, "tls_key"); /* jansson frees it; the frame still holds a copy */
	json_object_set_new(patch, "tls_key_enc", json_string(bhex));
	json_object_set_new(patch, "tls_key_nonce", json_string(nhex));
	rc = 0;
out_free:
	free(bhex);
	free(box);
	return rc;
}

static void platform_save(struct rpc_call *c, json_t *params, int creating)
{
	static const char *const skip_id[] = {"id", NULL};
	char idbuf[24] = "", *text;
	const char *p[2], *id = NULL;
	json_t *patch, *detail;

	if (!creating) {
		struct proto_error err;
		long long n;

		if (proto_get_int(params, "id", 1, 1, PROTO_MAX_SAFE_INT, &n, &err)) {
			rpc_fail_err(c, &err);
			return;
		}
		snprintf(idbuf, sizeof(idbuf), "%lld", n);
		id = idbuf;
	}
	patch = patch_from(c, params, platform_fields, NFIELDS(platform_fields), creating,
			   creating ? NULL : skip_id);
	if (!patch)
		return;
	if (json_is_true(json_object_get(patch, "is_default")) &&
	    json_is_false(json_object_get(patch, "enabled"))) {
		json_decref(patch);
		rpc_fail(c, PROTO_R_INVALID_PARAMS, "the default platform must be enabled", NULL);
		return;
	}
	detail = detail_of(patch); /* before the key is sealed into the patch */
	if (tls_patch(c, patch) || !(text = dump(c, patch))) {
		json_decref(detail);
		json_decref(patch);
		return;
	}
	p[0] = id;
	p[1] = text;
	send_change(c, creating ? "platform.create" : "platform.update", "platform", detail,
		    "SELECT runit_platform_save($1::bigint, $2::jsonb)", 2, p);
	json_decref(patch);
	sodium_memzero(text, strlen(text));
	free(text);
}

static void h_platform_create(void *ctx, struct proto_msg *msg)
{
	platform_save(ctx, msg->params, 1);
}

static void h_platform_update(void *ctx, struct proto_msg *msg)
{
	platform_save(ctx, msg->params, 0);
}

static void h_platform_delete(void *ctx, struct proto_msg *msg)
{
	delete_row(
	    ctx, msg->params, "name", "platform.delete", "platform",
	    "WITH t AS (SELECT id, name, is_default FROM platforms WHERE CASE WHEN"
	    "  $1::bigint IS NOT NULL THEN id = $1::bigint ELSE name = $2::text END),"
	    " d AS (DELETE FROM platforms WHERE id IN (SELECT id FROM t WHERE NOT is_default)"
	    "  RETURNING id, name)"
	    " SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM t)"
	    "  THEN runit_err('NOT_FOUND', 'no such platform')"
	    " WHEN (SELECT is_default FROM t) THEN runit_err('CONFLICT',"
	    "  'the default platform cannot be deleted: make another platform the default first')"
	    " ELSE (SELECT runit_ok(jsonb_build_object('id', id, 'name', name)) FROM d) END");
}

/* ---- settings and the global FAQ ---- */

static void h_settings_get(void *ctx, struct proto_msg *msg)
{
	dbcall(ctx,
	       "SELECT runit_ok(jsonb_build_object('settings', jsonb_object_agg(key, value)))"
	       " FROM settings",
	       0, NULL, NULL, NULL);
}

/* The in-memory settings were reloaded after the change: answer with them. */
static void reloaded(void *arg, int ok)
{
	struct rpc_call *c = arg;
	const struct settings *st = settings_get(c->srv);
	json_t *all = json_object();
	const char *k;

	for (size_t i = 0; (k = settings_key_at(i)); i++)
		json_object_set_new(all, k, settings_value(st, k));
	rpc_reply(c, json_pack("{s:o, s:b}", "settings", all, "reloaded", ok));
}

struct set_req {
	json_t *changes;
	const char *action;
};

static void settings_written(void *arg, struct rpc_call *c, json_t *ok)
{
	struct set_req *r = arg;

	if (ok) {
		audit(c->srv, c->user_id, r->action, "settings",
		      json_pack("{s:O}", "changes", r->changes), c->ip);
		if (settings_reload(c->srv, reloaded, c))
			reloaded(c, 0);
	}
	json_decref(r->changes);
	free(r);
}

static void write_settings(struct rpc_call *c, json_t *changes, const char *action)
{
	struct set_req *r = calloc(1, sizeof(*r));
	char uid[24], *text = json_dumps(changes, JSON_COMPACT);
	const char *p[2] = {text, uid};

	if (!r || !text) {
		free(r);
		free(text);
		json_decref(changes);
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return;
	}
	snprintf(uid, sizeof(uid), "%lld", c->user_id);
	r->changes = changes;
	r->action = action;
	if (dbcall(
		c,
		"WITH u AS (INSERT INTO settings (key, value, updated_by)"
		" SELECT key, value, $2::bigint FROM jsonb_each($1::jsonb)"
		" ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value,"
		"  updated_by = EXCLUDED.updated_by, updated_at = now() RETURNING key)"
		" SELECT runit_ok(jsonb_build_object('updated', (SELECT jsonb_agg(key) FROM u)))",
		2, p, settings_written, r)) {
		json_decref(changes);
		free(r);
	}
	free(text);
}

static void h_settings_set(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	const char *key, *why;
	json_t *v;
	char m[200];

	if (json_object_size(msg->params) == 0) {
		rpc_fail(c, PROTO_R_INVALID_PARAMS, "no setting given", NULL);
		return;
	}
	json_object_foreach(msg->params, key, v)
	{
		if ((why = settings_check(key, v))) {
			snprintf(m, sizeof(m), "%.64s: %s", key, why);
			rpc_fail(c, PROTO_R_INVALID_PARAMS, m, json_pack("{s:s}", "key", key));
			return;
		}
	}
	write_settings(c, json_deep_copy(msg->params), "settings.set");
}

static void h_faq_set(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct proto_error err;
	const char *why;
	json_t *faq;

	if (proto_get_arr(msg->params, "faq", 1, &faq, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	if ((why = validate_faq(faq))) {
		rpc_fail(c, PROTO_R_INVALID_PARAMS, why, NULL);
		return;
	}
	write_settings(c, json_pack("{s:O}", "global_faq", faq), "faq.set");
}

const struct proto_method admin_config_methods[] = {
    {"admin/runtime/list", PROTO_ROLE_ADMIN, h_runtime_list},
    {"admin/runtime/create", PROTO_ROLE_ADMIN, h_runtime_create},
    {"admin/runtime/update", PROTO_ROLE_ADMIN, h_runtime_update},
    {"admin/runtime/delete", PROTO_ROLE_ADMIN, h_runtime_delete},
    {"admin/platform/list", PROTO_ROLE_ADMIN, h_platform_list},
    {"admin/platform/create", PROTO_ROLE_ADMIN, h_platform_create},
    {"admin/platform/update", PROTO_ROLE_ADMIN, h_platform_update},
    {"admin/platform/delete", PROTO_ROLE_ADMIN, h_platform_delete},
    {"admin/settings/get", PROTO_ROLE_ADMIN, h_settings_get},
    {"admin/settings/set", PROTO_ROLE_ADMIN, h_settings_set},
    {"admin/faq/set", PROTO_ROLE_ADMIN, h_faq_set},
};
const size_t admin_config_methods_count =
    sizeof(admin_config_methods) / sizeof(admin_config_methods[0]);
