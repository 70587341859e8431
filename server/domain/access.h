/*
 * access.h - the one rule for "may this user read / write / own this
 * project", used by every project, file, environment and run method.
 *
 *   owner                          own   (everything, incl. delete, visibility)
 *   admin (role)                   own
 *   collaborator "editor"          write (files, environment, runs)
 *   collaborator "viewer"          read  (+ environment variables)
 *   anyone, when the project is public   read
 *   anyone else                    none: the project answers NOT_FOUND,
 *                                  exactly as an id that does not exist
 *
 * The rule lives in SQL, as runit_access(project, user, is_admin) returning
 * 'owner' | 'admin' | 'editor' | 'viewer' | 'public' | NULL and
 * runit_access_rank(text) returning 3 | 2 | 1 | 0 (sql/002_projects.sql), so
 * that handlers put it in the same statement as their work (no window
 * between the check and the change). Handlers that need only the check
 * (run/start, say) use access_check().
 *
 * Suggested use by the run engine: run/start needs ACCESS_WRITE (a run gets
 * the project's environment variables, which readers must not see);
 * run/history and run/logs need ACCESS_READ.
 */
#ifndef RUNIT_ACCESS_H
#define RUNIT_ACCESS_H

#include "proto.h"

struct srv;

enum access_level {
	ACCESS_NONE = 0,
	ACCESS_READ = 1,  /* viewer, public */
	ACCESS_WRITE = 2, /* editor */
	ACCESS_OWN = 3,	  /* owner, admin */
};

/* SQL expressions for statements: $-parameters given as text. Example:
 *   "SELECT ... WHERE runit_access_rank(" ACCESS_SQL("$1", "$2", "$3") ") >= 2"
 * with $1 the project id, $2 the user id, $3 'true' for an admin. */
#define ACCESS_SQL(project, user, is_admin)                                                        \
	"runit_access(" project "::bigint, " user "::bigint, " is_admin "::boolean)"

/* Level of an access name from runit_access ("owner" ... NULL). */
enum access_level access_level_of(const char *name);

/* 1 when an access name may see the project's runs, live and stored: the
 * owner, admins, editors and viewers, not a public project's visitors
 * (runit_sees_runs() in sql/006_runs_access.sql says the same). */
int access_sees_runs(const char *name);

/* PROTO_R_NONE when have >= need; else NOT_FOUND (have NONE) or FORBIDDEN. */
enum proto_reason access_decide(enum access_level have, enum access_level need);

/*
 * Completion of access_check. reason PROTO_R_NONE: allowed. Otherwise
 * NOT_FOUND (no such project, or not visible to the user), FORBIDDEN
 * (visible, not enough), UNAVAILABLE (database), with a message for the
 * client. name is the access name ("owner", ...) or NULL; borrowed.
 */
typedef void (*access_cb)(void *arg, enum proto_reason reason, const char *name,
			  const char *message);

/*
 * Check whether user_id (with role) has at least need on project_id.
 * Returns 0 (cb runs exactly once, later, on the loop) or -1 (cb never runs).
 */
int access_check(struct srv *srv, long long project_id, long long user_id, enum proto_role role,
		 enum access_level need, access_cb cb, void *arg);

/* Params for an ACCESS_SQL statement: user id and 'true'/'false' text. */
void access_params(long long user_id, enum proto_role role, char user_buf[24],
		   const char **is_admin);

#endif
