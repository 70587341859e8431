/*
 * settings.c - the in-memory copy of the settings table (see settings.h):
 * one table of known keys with their type, range and place in struct
 * settings drives loading, validation and output alike.
 */
#include "settings.h"
#include "db.h"
#include "log.h"
#include "srv.h"
#include "validate.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_INT, K_BOOL, K_FAQ, K_WORD };

static const char *const pool_full_words[] = {"refuse", "wait", NULL};

static const struct spec {
	const char *key;
	enum kind kind;
	size_t off;	    /* of the long long / int field */
	long long min, max; /* K_INT */
	long long def;
	const char *const *words; /* K_WORD: the values, stored as an index */
} specs[] = {
#define I(k, lo, hi, d)                                                                            \
	{                                                                                          \
#k, K_INT, offsetof(struct settings, k), lo, hi, d, NULL                           \
	}
    I(max_file_bytes, 1, 64LL << 20, 262144),
    I(max_files_per_project, 1, 100000, 200),
    I(max_project_bytes, 1, 1LL << 30, 2097152),
    I(max_projects_per_user, 1, 100000, 100),
    I(max_active_runs_per_user, 1, 1000, 3),
    I(run_history_per_project, 1, 100000, 20),
    I(default_wall_ms, 100, 3600000, 10000),
    I(default_memory_bytes, 6291456, 68719476736LL, 268435456),
    I(default_nano_cpus, 10000000, 64000000000LL, 1000000000),
    I(default_pids, 8, 65536, 128),
    I(default_output_bytes, 1024, 1073741824, 1048576),
    I(default_disk_bytes, 1048576, 68719476736LL, 67108864),
    I(default_disk_inodes, 256, 16777216, 16384),
    I(session_max_age_s, 60, 31536000, 2592000),
    I(session_idle_s, 60, 31536000, 604800),
    I(file_versions_kept, 1, 1000, 20),
    I(file_versions_max_age_s, 3600, 3153600000LL, 31536000),
    /* the per-user pool (sql/020_pool.sql): 0 is unlimited */
    I(pool_cpu_millis_user, 0, 1000000, 4000),
    I(pool_mem_bytes_user, 0, 1099511627776LL, 2147483648LL),
    I(pool_cpu_millis_admin, 0, 1000000, 0),
    I(pool_mem_bytes_admin, 0, 1099511627776LL, 0),
    I(prepared_per_runtime, 0, 8, 1),
#undef I
    {"signup_enabled", K_BOOL, offsetof(struct settings, signup_enabled), 0, 1, 1, NULL},
    {"global_faq", K_FAQ, 0, 0, 0, 0, NULL},
    {"pool_full", K_WORD, offsetof(struct settings, pool_full), 0, 1, 0, pool_full_words},
};
#define NSPECS (sizeof(specs) / sizeof(specs[0]))

static int word_index(const struct spec *sp, const json_t *value)
{
	for (int i = 0; json_is_string(value) && sp->words[i]; i++)
		if (!strcmp(sp->words[i], json_string_value(value)))
			return i;
	return -1;
}

const char *settings_key_at(size_t i)
{
	return i < NSPECS ? specs[i].key : NULL;
}

static const struct spec *spec_of(const char *key)
{
	for (size_t i = 0; key && i < NSPECS; i++)
		if (!strcmp(specs[i].key, key))
			return &specs[i];
	return NULL;
}

void settings_defaults(struct settings *st)
{
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < NSPECS; i++) {
		if (specs[i].kind == K_INT)
			*(long long *)((char *)st + specs[i].off) = specs[i].def;
		else if (specs[i].kind == K_BOOL || specs[i].kind == K_WORD)
			*(int *)((char *)st + specs[i].off) = (int)specs[i].def;
	}
}

const struct settings *settings_get(const struct srv *srv)
{
	return srv->settings;
}

const char *settings_check(const char *key, const json_t *value)
{
	const struct spec *sp = spec_of(key);
	long long n;

	if (!sp)
		return "unknown setting";
	switch (sp->kind) {
	case K_BOOL:
		return json_is_boolean(value) ? NULL : "this setting is true or false";
	case K_FAQ:
		return validate_faq(value);
	case K_WORD:
		return word_index(sp, value) < 0 ? "this setting is one of its words" : NULL;
	case K_INT:
		if (!json_is_integer(value))
			return "this setting is an integer";
		n = json_integer_value(value);
		if (n < sp->min || n > sp->max)
			return "this setting is out of its range";
		return NULL;
	}
	return "unknown setting";
}

int settings_apply(struct settings *st, const char *key, const json_t *value)
{
	const struct spec *sp = spec_of(key);

	if (!sp)
		return -1;
	switch (sp->kind) {
	case K_BOOL:
		if (!json_is_boolean(value))
			return -1;
		*(int *)((char *)st + sp->off) = json_is_true(value);
		return 0;
	case K_WORD:
		if (word_index(sp, value) < 0)
			return -1;
		*(int *)((char *)st + sp->off) = word_index(sp, value);
		return 0;
	case K_FAQ:
		if (!json_is_array(value))
			return -1;
		json_decref(st->global_faq);
		st->global_faq = json_deep_copy(value);
		return 0;
	case K_INT:
		/* the table allows integral reals (2.0); read them as integers */
		if (json_is_integer(value))
			*(long long *)((char *)st + sp->off) = json_integer_value(value);
		else if (json_is_real(value))
			*(long long *)((char *)st + sp->off) = (long long)json_real_value(value);
		else
			return -1;
		return 0;
	}
	return -1;
}

json_t *settings_value(const struct settings *st, const char *key)
{
	const struct spec *sp = spec_of(key);

	if (!sp)
		return NULL;
	switch (sp->kind) {
	case K_BOOL:
		return json_boolean(*(const int *)((const char *)st + sp->off));
	case K_WORD:
		return json_string(sp->words[*(const int *)((const char *)st + sp->off)]);
	case K_FAQ:
		return st->global_faq ? json_deep_copy(st->global_faq) : json_array();
	case K_INT:
		return json_integer(*(const long long *)((const char *)st + sp->off));
	}
	return NULL;
}

struct reload {
	struct srv *srv;
	void (*done)(void *arg, int ok);
	void *arg;
};

static void loaded(void *arg, PGresult *res, const char *err)
{
	struct reload *r = arg;
	struct settings next;
	int ok = res != NULL;

	if (res) {
		settings_defaults(&next);
		for (int i = 0; i < PQntuples(res); i++) {
			const char *key = PQgetvalue(res, i, 0);
			json_t *v = json_loads(PQgetvalue(res, i, 1), JSON_DECODE_ANY, NULL);

			if (!v || settings_apply(&next, key, v))
				log_json(LOG_WARN, "ignoring a setting",
					 json_pack("{s:s}", "key", key));
			json_decref(v);
		}
		next.loaded = 1;
		json_decref(r->srv->settings->global_faq);
		*r->srv->settings = next;
		log_json(LOG_DEBUG, "settings loaded", NULL);
	} else {
		log_json(LOG_WARN, "cannot load settings",
			 json_pack("{s:s}", "error", err ? err : "?"));
	}
	if (r->done)
		r->done(r->arg, ok);
	free(r);
}

int settings_reload(struct srv *srv, void (*done)(void *arg, int ok), void *arg)
{
	struct reload *r = calloc(1, sizeof(*r));

	if (!r)
		return -1;
	r->srv = srv;
	r->done = done;
	r->arg = arg;
	if (db_query(srv->db, "SELECT key, value::text FROM settings", 0, NULL, loaded, r)) {
		free(r);
		return -1;
	}
	return 0;
}

/* A change on any instance, or (payload NULL) the listener reconnected. */
static void on_notify(void *arg, const char *channel, const char *payload)
{
	settings_reload(arg, NULL, NULL);
}

int settings_start(struct srv *srv)
{
	srv->settings = calloc(1, sizeof(*srv->settings));
	if (!srv->settings)
		return -1;
	settings_defaults(srv->settings);
	if (db_listen(srv->db, "runit_settings", on_notify, srv))
		log_json(LOG_WARN, "cannot listen for settings changes", NULL);
	if (settings_reload(srv, NULL, NULL))
		log_json(LOG_WARN, "cannot load settings: the defaults are in force", NULL);
	return 0;
}

void settings_release(struct srv *srv)
{
	if (!srv->settings)
		return;
	json_decref(srv->settings->global_faq);
	free(srv->settings);
	srv->settings = NULL;
}
