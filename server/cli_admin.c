/*
 * cli_admin.c - the first admin of a deployment without a shell: at the
 * start of `run-it serve`, before the loop runs (so blocking libpq and
 * hashing are fine), RUNIT_ADMIN_USER names an admin account and
 * RUNIT_ADMIN_PASSWORD_FILE a file holding its password (a Docker or
 * systemd secret). Nothing to do when that account exists; the password is
 * then not even read. A weak password, an unreadable file or a name taken
 * by a non-admin stop the start with one configuration error. The password
 * is never logged.
 */
#include "cli.h"
#include "config.h"
#include "auth_rules.h"
#include "log.h"

#include <errno.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADMIN_PASSWORD_MIN 12 /* the first admin's: stricter than a user's 8 */

/* The file's content, one trailing newline dropped, into pw. 0, or -1
 * after a configuration error. */
static int read_password_file(const char *path, char *pw, size_t pwsz)
{
	FILE *f = fopen(path, "r");
	size_t n;
	int c;

	if (!f) {
		char why[160];
		snprintf(why, sizeof(why), "cannot read the password file: %s", strerror(errno));
		return config_error("RUNIT_ADMIN_PASSWORD_FILE", why, path);
	}
	n = fread(pw, 1, pwsz - 1, f);
	c = fgetc(f);
	fclose(f);
	pw[n] = '\0';
	if (n && pw[n - 1] == '\n')
		pw[--n] = '\0';
	if (n && pw[n - 1] == '\r')
		pw[--n] = '\0';
	if (c != EOF)
		return config_error("RUNIT_ADMIN_PASSWORD_FILE",
				    "the file is longer than 256 bytes", path);
	if (memchr(pw, '\0', n) || strchr(pw, '\n'))
		return config_error("RUNIT_ADMIN_PASSWORD_FILE",
				    "the file must hold one line: the password", path);
	return 0;
}

/* why the password is too weak for the first admin, or NULL */
static const char *weak(const char *name, const char *pw)
{
	const char *why = auth_password_invalid(pw);
	size_t n = strlen(pw), same = 0;

	if (why)
		return why;
	if (n < ADMIN_PASSWORD_MIN)
		return "the first admin's password has at least 12 characters";
	for (size_t i = 1; i < n; i++)
		same += pw[i] == pw[0];
	if (same == n - 1 || !strcasecmp(pw, name) || strcasestr(pw, "password"))
		return "the first admin's password is too easy to guess";
	return NULL;
}

/* The role of user name (lower-case match) in role, "" when absent. 0/-1. */
static int role_of(PGconn *db, const char *name, char *role, size_t rolesz)
{
	const char *p[1] = {name};
	PGresult *res = PQexecParams(db, "SELECT role FROM users WHERE lower(username) = lower($1)",
				     1, NULL, p, NULL, NULL, 0);
	int rc = -1;

	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		snprintf(role, rolesz, "%s", PQntuples(res) ? PQgetvalue(res, 0, 0) : "");
		rc = 0;
	}
	PQclear(res);
	return rc;
}

static int create(PGconn *db, const char *name, const char *pw)
{
	char hash[crypto_pwhash_STRBYTES];
	const char *p[2] = {name, hash};
	PGresult *res;
	int rc = -1;

	if (crypto_pwhash_str(hash, pw, strlen(pw), AUTH_PWHASH_OPSLIMIT, AUTH_PWHASH_MEMLIMIT))
		return -1;
	/* two instances starting at once: one inserts, the other finds it */
	res = PQexecParams(db,
			   "INSERT INTO users (username, password_hash, role) VALUES ($1, $2, "
			   "'admin') ON CONFLICT DO NOTHING",
			   2, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_COMMAND_OK) {
		rc = 0;
		if (!strcmp(PQcmdTuples(res), "1"))
			log_json(LOG_INFO, "first admin created",
				 json_pack("{s:s, s:s}", "user", name, "from",
					   "RUNIT_ADMIN_USER, RUNIT_ADMIN_PASSWORD_FILE"));
	} else {
		log_json(LOG_ERROR, "cannot create the first admin",
			 json_pack("{s:s}", "error",
				   PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
				       ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
				       : "unknown"));
	}
	PQclear(res);
	sodium_memzero(hash, sizeof(hash));
	return rc;
}

int cli_admin_bootstrap(const struct config *cfg)
{
	const char *name = getenv("RUNIT_ADMIN_USER"), *file = getenv("RUNIT_ADMIN_PASSWORD_FILE");
	char pw[AUTH_PASSWORD_MAX + 2], role[32], line[256];
	const char *why;
	PGconn *db;
	int rc = -1;

	if (!name || !*name) {
		if (file && *file)
			return config_error("RUNIT_ADMIN_USER",
					    "not set, but RUNIT_ADMIN_PASSWORD_FILE is", "");
		return 0;
	}
	if ((why = auth_username_invalid(name)))
		return config_error("RUNIT_ADMIN_USER", why, name);
	if (!file || !*file)
		return config_error("RUNIT_ADMIN_PASSWORD_FILE",
				    "not set, but RUNIT_ADMIN_USER is (a file holding the "
				    "first admin's password)",
				    "");
	if (sodium_init() < 0)
		return -1;
	db = PQconnectdb(cfg->database_url);
	if (PQstatus(db) != CONNECTION_OK) {
		log_json(LOG_ERROR, "cannot connect to the database",
			 json_pack("{s:s}", "error",
				   log_oneline(line, sizeof(line), PQerrorMessage(db))));
		goto out_db;
	}
	if (role_of(db, name, role, sizeof(role)))
		goto out_db;
	if (!strcmp(role, "admin")) {
		rc = 0; /* done on an earlier start: the file is not read again */
		goto out_db;
	}
	if (role[0]) {
		config_error("RUNIT_ADMIN_USER",
			     "that name belongs to an account that is not an admin; "
			     "pick another name or promote it from the admin dashboard",
			     name);
		goto out_db;
	}
	if (read_password_file(file, pw, sizeof(pw)))
		goto out_pw;
	if ((why = weak(name, pw))) {
		config_error("RUNIT_ADMIN_PASSWORD_FILE", why, NULL);
		goto out_pw;
	}
	rc = create(db, name, pw);
out_pw:
	sodium_memzero(pw, sizeof(pw));
out_db:
	PQfinish(db);
	return rc;
}
