/*
 * cli_user.c - `run-it user add`: create an account from the command line
 * (scripts/start uses it for the first admin). Blocking is fine: no loop runs.
 */
#include "cli.h"
#include "config.h"
#include "auth_rules.h"
#include "log.h"

#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static void gen_password(char *out, size_t outsz)
{
	static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	size_t n = outsz - 1 < 20 ? outsz - 1 : 20;

	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
	out[n] = '\0';
}

/* One error line of the command: msg, and a detail as "error" if not NULL. */
static void fail_line(const char *msg, const char *detail)
{
	char line[512];

	log_json(LOG_ERROR, msg,
		 detail ? json_pack("{s:s}", "error", log_oneline(line, sizeof(line), detail))
			: NULL);
}

static int read_password(char *out, size_t outsz)
{
	size_t n;

	if (!fgets(out, (int)outsz, stdin))
		return -1;
	n = strcspn(out, "\r\n");
	out[n] = '\0';
	return 0;
}

int cli_user_add(int argc, char **argv)
{
	struct config cfg;
	const char *name = NULL, *role = "user", *why;
	char pw[AUTH_PASSWORD_MAX + 2], hash[crypto_pwhash_STRBYTES];
	int from_stdin = 0, generated = 0, rc = 1;
	PGconn *db;
	PGresult *res;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--admin"))
			role = "admin";
		else if (!strcmp(argv[i], "--password-stdin"))
			from_stdin = 1;
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else {
			log_json(LOG_ERROR, "user add: unexpected argument",
				 json_pack("{s:s}", "argument", argv[i]));
			return 2;
		}
	}
	if (!name) {
		fail_line("user add: a user name is required", NULL);
		return 2;
	}
	if ((why = auth_username_invalid(name))) {
		fail_line("user add: the user name is refused", why);
		return 2;
	}
	if (config_load(&cfg, 1))
		return 2;
	if (sodium_init() < 0)
		return 1;
	if (from_stdin) {
		if (read_password(pw, sizeof(pw))) {
			fail_line("user add: no password on standard input", NULL);
			return 2;
		}
	} else {
		gen_password(pw, sizeof(pw));
		generated = 1;
	}
	if ((why = auth_password_invalid(pw))) {
		fail_line("user add: the password is refused", why);
		return 2;
	}
	if (crypto_pwhash_str(hash, pw, strlen(pw), AUTH_PWHASH_OPSLIMIT, AUTH_PWHASH_MEMLIMIT)) {
		fail_line("user add: out of memory while hashing", NULL);
		return 1;
	}
	db = PQconnectdb(cfg.database_url);
	if (PQstatus(db) != CONNECTION_OK) {
		fail_line("cannot connect to the database", PQerrorMessage(db));
		goto out_db;
	}
	const char *params[3] = {name, hash, role};
	res = PQexecParams(db,
			   "INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3)",
			   3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (st && !strcmp(st, "23505"))
			log_json(LOG_ERROR, "user add: that user name is taken",
				 json_pack("{s:s}", "user", name));
		else
			fail_line("user add: cannot create the user",
				  /* the primary message only: a DETAIL may show the row */
				  PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
				      ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
				      : PQerrorMessage(db));
	} else {
		printf("created %s %s\n", role, name);
		if (generated)
			printf("password: %s\n", pw);
		rc = 0;
	}
	PQclear(res);
out_db:
	PQfinish(db);
	sodium_memzero(pw, sizeof(pw));
	return rc;
}
