/*
 * settings.h - the global settings (the settings table) kept in memory, for
 * fast checks on the loop thread: file and project limits, quotas, run
 * defaults, sign-up, the global FAQ. Loaded when the server starts, again
 * after every admin change, and whenever any server instance changes the
 * table (a trigger NOTIFYs runit_settings; see sql/002_projects.sql).
 *
 * Until the first load completes the compiled-in defaults apply (the same
 * values sql/001_init.sql installs). The database stays authoritative: the
 * SQL functions that write files read the limits from the table at the
 * time of the write.
 */
#ifndef RUNIT_SETTINGS_H
#define RUNIT_SETTINGS_H

#include <stddef.h>
#include <jansson.h>

struct srv;

struct settings {
	long long max_file_bytes;	    /* default 262144 (256 KiB) */
	long long max_files_per_project;    /* 200 */
	long long max_project_bytes;	    /* 2097152 (2 MiB) */
	long long max_projects_per_user;    /* 100 (users.max_projects overrides) */
	long long max_active_runs_per_user; /* 3 (users.max_active_runs overrides) */
	long long run_history_per_project;  /* 20 */
	int signup_enabled;		    /* 1 */
	long long default_wall_ms;	    /* 10000; runtimes.wall_ms overrides */
	long long default_memory_bytes;	    /* 268435456 */
	long long default_nano_cpus;	    /* 1000000000 */
	long long default_pids;		    /* 128 */
	long long default_output_bytes;	    /* 1048576 */
	long long default_disk_bytes;	    /* 67108864: each of /workspace, /tmp */
	long long default_disk_inodes;	    /* 16384: files in each of them */
	long long session_max_age_s;	    /* 2592000 */
	long long session_idle_s;	    /* 604800 */
	long long file_versions_kept;	    /* 20 earlier ones, besides the current */
	long long file_versions_max_age_s;  /* 31536000 (a year) */
	long long pool_cpu_millis_user;	    /* 4000: the per-user pool (sql/020); */
	long long pool_mem_bytes_user;	    /* 2 GiB; users.pool_* override; */
	long long pool_cpu_millis_admin;    /* 0 (unlimited) for admins */
	long long pool_mem_bytes_admin;	    /* 0 (unlimited) */
	int pool_full;			    /* 0 "refuse", 1 "wait" */
	long long prepared_per_runtime;	    /* 1: prepared containers per configuration */
	json_t *global_faq;		    /* [{question, answer}], owned by the module */
	int loaded;			    /* 1 once read from the database */
};

/*
 * The settings in force. Borrowed: valid until control returns to the loop
 * (a reload replaces the struct); copy a value, or json_incref global_faq,
 * to keep it across callbacks. Loop thread only; after settings_start().
 */
const struct settings *settings_get(const struct srv *srv);

/* The defaults now, then load and subscribe to runit_settings
 * notifications. Call once at start-up, after the database pool exists.
 * 0, or -1 out of memory (nothing started). */
int settings_start(struct srv *srv);

/*
 * Read the table again. done (may be NULL) runs once on the loop with ok 1
 * (loaded) or 0 (database error; the old values stay). Returns 0, or -1
 * (done will not run).
 */
int settings_reload(struct srv *srv, void (*done)(void *arg, int ok), void *arg);

/* Free what the module holds (at shutdown). */
void settings_release(struct srv *srv);

/*
 * Pure helpers, also for admin/settings/set and the unit tests:
 * settings_check: NULL when value is acceptable for key, else why (static
 * string); unknown keys are refused. settings_apply: store key's value in
 * *st (0, or -1 for an unknown key or a value of the wrong type).
 * settings_defaults: the compiled-in defaults (global_faq NULL).
 */
const char *settings_check(const char *key, const json_t *value);
int settings_apply(struct settings *st, const char *key, const json_t *value);
void settings_defaults(struct settings *st);
/* The value of key in st as new JSON (NULL for an unknown key). */
json_t *settings_value(const struct settings *st, const char *key);
/* The i-th known key (0, 1, ...), NULL past the last. */
const char *settings_key_at(size_t i);

#endif
