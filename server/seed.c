/*
 * seed.c - `run-it seed [FILE]`: install the runtimes whose images the
 * project builds (images/recipes.json, written by images/build's author)
 * and make sure a default container platform exists. Idempotent: run it
 * after every image build (scripts/start and scripts/test do).
 *
 * A runtime row made by seed carries the md5 of the recipe it came from
 * (runtimes.seed_digest). Seeding again updates the row when the recipe
 * changed, and leaves it alone when an admin has edited it since (the
 * edit cleared the digest) or when nothing changed. The platform
 * "local-docker" (kind docker, endpoint RUNIT_DOCKER_HOST) is created and
 * made the default only when no platform is the default.
 *
 * Runs without the event loop, so blocking libpq is fine here. The
 * database is migrated first.
 */
#include "cli.h"
#include "config.h"
#include "log.h"
#include "migrate.h"
#include "paths.h"
#include "settings.h"
#include "validate.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* pg_advisory_xact_lock key: two seeds at once run one after the other */
#define SEED_LOCK_KEY "7233698402717003010"

/* Default recipes path: $RUNIT_ROOT/images/recipes.json, else relative to
 * the executable (build/server/run-it), else ./images/recipes.json. */
static void default_path(char *out, size_t n)
{
	const char *root = getenv("RUNIT_ROOT");
	char exe[PATH_MAX];
	ssize_t len;

	if (root && *root) {
		snprintf(out, n, "%s/images/recipes.json", root);
		return;
	}
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len > 0) {
		char *slash;
		exe[len] = '\0';
		for (int up = 0; up < 3 && (slash = strrchr(exe, '/')); up++)
			*slash = '\0';
		snprintf(out, n, "%s/images/recipes.json", exe);
		if (access(out, R_OK) == 0)
			return;
	}
	snprintf(out, n, "images/recipes.json");
}

/* Copy recipe member from (or its alias) into row as key, if present. */
static void take(json_t *row, const char *key, json_t *recipe, const char *from, const char *alias)
{
	json_t *v = json_object_get(recipe, from);

	if (!v && alias)
		v = json_object_get(recipe, alias);
	if (v)
		json_object_set(row, key, v);
}

/* NULL when the runtimes row is acceptable, else why. */
static const char *row_invalid(json_t *row, const struct settings *st)
{
	static const char *const text_fields[] = {"name", "language", "version"};
	const char *code = json_string_value(json_object_get(row, "code"));
	const char *image = json_string_value(json_object_get(row, "image"));
	json_t *v;
	const char *why;

	if (!code)
		return "no code";
	if ((why = validate_runtime_code(code)))
		return why;
	for (size_t i = 0; i < 3; i++) {
		v = json_object_get(row, text_fields[i]);
		if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 50)
			return "name, language and version are non-empty strings";
	}
	if (!image)
		return "no image";
	if ((why = validate_image(image)))
		return why;
	if ((why = validate_argv(json_object_get(row, "run_cmd"))))
		return why;
	v = json_object_get(row, "build_cmd");
	if (v && !json_is_null(v) && (why = validate_argv(v)))
		return why;
	v = json_object_get(row, "entry_file");
	if (!json_is_string(v))
		return "no entry_file";
	if ((why = paths_invalid(json_string_value(v), json_string_length(v))))
		return why;
	v = json_object_get(row, "template");
	if (v && (why = validate_template(v, st->max_files_per_project, st->max_file_bytes)))
		return why;
	v = json_object_get(row, "faq");
	if (v && (why = validate_faq(v)))
		return why;
	return NULL;
}

/*
 * The runtimes row of one recipe (new reference), or NULL with *why.
 * Fields are checked as admin/runtime/create checks them.
 */
static json_t *row_of(json_t *recipe, const char **why)
{
	static const char *const text_fields[] = {"name", "language", "version"};
	static const char *const limits[] = {"wall_ms",	    "memory_bytes",   "nano_cpus",
					     "pids",	    "output_bytes",   "disk_bytes",
					     "disk_inodes", "network_allowed"};
	struct settings st;
	json_t *row = json_object();

	settings_defaults(&st);
	take(row, "code", recipe, "code", NULL);
	for (size_t i = 0; i < 3; i++)
		take(row, text_fields[i], recipe, text_fields[i], NULL);
	take(row, "os", recipe, "os", NULL);
	take(row, "arch", recipe, "arch", NULL);
	take(row, "image", recipe, "image", NULL);
	take(row, "build_cmd", recipe, "build_command", "build_cmd");
	take(row, "run_cmd", recipe, "run_command", "run_cmd");
	take(row, "entry_file", recipe, "entry_file", "entry");
	take(row, "template", recipe, "template", NULL);
	take(row, "description", recipe, "description", NULL);
	take(row, "faq", recipe, "faq", NULL);
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
		take(row, limits[i], recipe, limits[i], NULL);

	*why = row_invalid(row, &st);
	if (*why) {
		json_decref(row);
		return NULL;
	}
	return row;
}

static int exec_ok(PGconn *db, const char *sql, int n, const char *const *p, PGresult **out)
{
	PGresult *r = PQexecParams(db, sql, n, NULL, p, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		char line[512];

		log_json(LOG_ERROR, "seed: a statement failed",
			 json_pack("{s:s}", "error",
				   log_oneline(line, sizeof(line), m ? m : PQerrorMessage(db))));
		PQclear(r);
		return -1;
	}
	if (out)
		*out = r;
	else
		PQclear(r);
	return 0;
}

static const char upsert_sql[] =
    "INSERT INTO runtimes (code, name, language, version, os, arch, image, build_cmd,"
    " run_cmd, entry_file, template, description, faq, wall_ms, memory_bytes, nano_cpus,"
    " pids, output_bytes, disk_bytes, disk_inodes, network_allowed, seed_digest)"
    " SELECT n.code, n.name, n.language, n.version, coalesce(n.os, 'linux'),"
    " coalesce(n.arch, 'amd64'), n.image, n.build_cmd, n.run_cmd, n.entry_file,"
    " coalesce(n.template, '{}'), coalesce(n.description, ''), coalesce(n.faq, '[]'),"
    " n.wall_ms, n.memory_bytes, n.nano_cpus, n.pids, n.output_bytes, n.disk_bytes,"
    " n.disk_inodes,"
    " coalesce(n.network_allowed, false), md5($1::text)"
    " FROM jsonb_populate_record(NULL::runtimes, $1::text::jsonb) n"
    " ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, language = EXCLUDED.language,"
    " version = EXCLUDED.version, os = EXCLUDED.os, arch = EXCLUDED.arch,"
    " image = EXCLUDED.image, build_cmd = EXCLUDED.build_cmd, run_cmd = EXCLUDED.run_cmd,"
    " entry_file = EXCLUDED.entry_file, template = EXCLUDED.template,"
    " description = EXCLUDED.description, faq = EXCLUDED.faq, wall_ms = EXCLUDED.wall_ms,"
    " memory_bytes = EXCLUDED.memory_bytes, nano_cpus = EXCLUDED.nano_cpus,"
    " pids = EXCLUDED.pids, output_bytes = EXCLUDED.output_bytes,"
    " disk_bytes = EXCLUDED.disk_bytes, disk_inodes = EXCLUDED.disk_inodes,"
    " network_allowed = EXCLUDED.network_allowed, seed_digest = EXCLUDED.seed_digest,"
    " updated_at = now()"
    " WHERE runtimes.seed_digest IS NOT NULL"
    " AND runtimes.seed_digest <> EXCLUDED.seed_digest"
    " RETURNING (xmax = 0)::text";

struct counts {
	int added, updated, unchanged, kept, skipped;
};

static int seed_runtimes(PGconn *db, json_t *list, struct counts *n)
{
	size_t i;
	json_t *recipe;

	json_array_foreach(list, i, recipe)
	{
		const char *why = NULL, *p[1];
		json_t *row = json_is_object(recipe) ? row_of(recipe, &why) : NULL;
		char *text;
		PGresult *r;

		if (!row) {
			const char *code = json_string_value(json_object_get(recipe, "code"));

			log_json(LOG_WARN, "seed: skipping a runtime",
				 json_pack("{s:I, s:s, s:s}", "index", (json_int_t)(i + 1), "code",
					   code ? code : "?", "error",
					   json_is_object(recipe) ? why : "not an object"));
			n->skipped++;
			continue;
		}
		text = json_dumps(row, JSON_COMPACT | JSON_SORT_KEYS);
		p[0] = text;
		if (!text || exec_ok(db, upsert_sql, 1, p, &r)) {
			free(text);
			json_decref(row);
			return -1;
		}
		if (PQntuples(r) == 1) {
			if (!strcmp(PQgetvalue(r, 0, 0), "true"))
				n->added++;
			else
				n->updated++;
		} else {
			PGresult *k;
			const char *code = json_string_value(json_object_get(row, "code"));
			if (exec_ok(db, "SELECT seed_digest IS NULL FROM runtimes WHERE code = $1",
				    1, &code, &k) == 0) {
				if (PQntuples(k) == 1 && PQgetvalue(k, 0, 0)[0] == 't')
					n->kept++;
				else
					n->unchanged++;
				PQclear(k);
			}
		}
		PQclear(r);
		free(text);
		json_decref(row);
	}
	return 0;
}

/*
 * The global FAQ of the recipes (settings key global_faq), unless an admin
 * has set it: an admin's edit names them in updated_by, and stays even when
 * that account is deleted (the audit log remembers the edit). *state:
 * 0 absent from the recipes, 1 set, 2 unchanged, 3 kept (an admin's).
 */
static int seed_faq(PGconn *db, json_t *faq, int *state)
{
	const char *why, *p[1];
	char *text;
	PGresult *r;

	*state = 0;
	if (!faq)
		return 0;
	if ((why = validate_faq(faq))) {
		log_json(LOG_ERROR, "seed: global_faq is invalid",
			 json_pack("{s:s}", "error", why));
		return -1;
	}
	text = json_dumps(faq, JSON_COMPACT);
	if (!text)
		return -1;
	p[0] = text;
	if (exec_ok(db,
		    "SELECT CASE WHEN value = $1::jsonb THEN 2"
		    " WHEN updated_by IS NOT NULL OR EXISTS (SELECT 1 FROM audit_log"
		    "  WHERE action = 'faq.set' OR (action = 'settings.set'"
		    "  AND detail::text LIKE '%global_faq%')) THEN 3 ELSE 1 END"
		    " FROM settings WHERE key = 'global_faq'",
		    1, p, &r)) {
		free(text);
		return -1;
	}
	*state = PQntuples(r) ? (int)strtol(PQgetvalue(r, 0, 0), NULL, 10) : 1;
	PQclear(r);
	if (*state == 1 &&
	    exec_ok(db,
		    "INSERT INTO settings (key, value) VALUES ('global_faq', $1::jsonb)"
		    " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
		    1, p, NULL)) {
		free(text);
		return -1;
	}
	free(text);
	return 0;
}

/* "local-docker" as the default platform, unless some platform is. */
static int seed_platform(PGconn *db, const char *endpoint, int *made)
{
	const char *p[1] = {endpoint};
	PGresult *r;

	*made = 0;
	if (exec_ok(db, "SELECT 1 FROM platforms WHERE is_default", 0, NULL, &r))
		return -1;
	if (PQntuples(r) > 0) {
		PQclear(r);
		return 0;
	}
	PQclear(r);
	if (exec_ok(db,
		    "INSERT INTO platforms (name, kind, endpoint, options)"
		    " VALUES ('local-docker', 'docker', $1, '{}')"
		    " ON CONFLICT (name) DO UPDATE SET updated_at = now() RETURNING id::text",
		    1, p, &r))
		return -1;
	p[0] = PQgetvalue(r, 0, 0);
	*made = 1;
	if (exec_ok(db, "SELECT runit_platform_make_default($1::bigint)", 1, p, NULL)) {
		PQclear(r);
		return -1;
	}
	PQclear(r);
	return 0;
}

int cli_seed(int argc, char **argv)
{
	struct config cfg;
	struct counts n = {0};
	char path[PATH_MAX + 32];
	json_error_t jerr;
	json_t *root, *list;
	PGconn *db;
	int rc = 1, made = 0, faq = 0;
	static const char *const faq_said[] = {"no global FAQ in the recipes", "global FAQ set",
					       "global FAQ unchanged",
					       "global FAQ kept (edited by an admin)"};

	if (argc > 1 || (argc == 1 && argv[0][0] == '-')) {
		log_json(LOG_ERROR, "seed: unexpected arguments (usage: run-it seed [FILE])", NULL);
		return 2;
	}
	if (argc == 1)
		snprintf(path, sizeof(path), "%s", argv[0]);
	else
		default_path(path, sizeof(path));
	if (config_load(&cfg, 1))
		return 2;
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		log_json(LOG_ERROR, "seed: cannot read the recipes",
			 json_pack("{s:s, s:s, s:i}", "path", path, "error", jerr.text, "line",
				   jerr.line));
		return 1;
	}
	list = json_is_array(root) ? root : json_object_get(root, "runtimes");
	if (!json_is_array(list)) {
		log_json(LOG_ERROR, "seed: expected {\"runtimes\": [...]} or an array",
			 json_pack("{s:s}", "path", path));
		json_decref(root);
		return 1;
	}
	if (migrate_run(cfg.database_url, 0))
		goto out_json;
	db = PQconnectdb(cfg.database_url);
	if (PQstatus(db) != CONNECTION_OK) {
		char line[512];

		log_json(LOG_ERROR, "cannot connect to the database",
			 json_pack("{s:s}", "error",
				   log_oneline(line, sizeof(line), PQerrorMessage(db))));
		goto out_db;
	}
	if (exec_ok(db, "BEGIN", 0, NULL, NULL) ||
	    exec_ok(db, "SELECT pg_advisory_xact_lock(" SEED_LOCK_KEY ")", 0, NULL, NULL) ||
	    seed_runtimes(db, list, &n) || seed_platform(db, cfg.docker_host, &made) ||
	    seed_faq(db, json_is_object(root) ? json_object_get(root, "global_faq") : NULL, &faq) ||
	    exec_ok(db, "COMMIT", 0, NULL, NULL))
		goto out_db;
	printf("seed: %s: %d runtime(s) added, %d updated, %d unchanged, %d kept (edited by an "
	       "admin), %d skipped; %s; %s\n",
	       path, n.added, n.updated, n.unchanged, n.kept, n.skipped,
	       made ? "default platform local-docker set" : "default platform present",
	       faq_said[faq]);
	rc = 0;
out_db:
	PQfinish(db);
out_json:
	json_decref(root);
	return rc;
}
