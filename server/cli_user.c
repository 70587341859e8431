/*
 * cli_user.c - `run-it user add`: create an account from the command line
 * (scripts/start uses it for the first admin). Blocking is fine: no loop runs.
 */
#include "cli.h"
#include "config.h"
#include "auth_rules.h"

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
			fprintf(stderr, "run-it: user add: unexpected argument %s\n", argv[i]);
			return 2;
		}
	}
	if (!name) {
		fprintf(stderr, "run-it: user add: a user name is required\n");
		return 2;
	}
	if ((why = auth_username_invalid(name))) {
		fprintf(stderr, "run-it: user add: %s\n", why);
		return 2;
	}
	if (config_load(&cfg, 1))
		return 2;
	if (sodium_init() < 0)
		return 1;
	if (from_stdin) {
		if (read_password(pw, sizeof(pw))) {
			fprintf(stderr, "run-it: user add: no password on standard input\n");
			return 2;
		}
	} else {
		gen_password(pw, sizeof(pw));
		generated = 1;
	}
	if ((why = auth_password_invalid(pw))) {
		fprintf(stderr, "run-it: user add: %s\n", why);
		return 2;
	}
	if (crypto_pwhash_str(hash, pw, strlen(pw), AUTH_PWHASH_OPSLIMIT, AUTH_PWHASH_MEMLIMIT)) {
		fprintf(stderr, "run-it: user add: out of memory while hashing\n");
		return 1;
	}
	db = PQconnectdb(cfg.database_url);
	if (PQstatus(db) != CONNECTION_OK) {
		fprintf(stderr, "run-it: cannot connect to the database: %s", PQerrorMessage(db));
		goto out_db;
	}
	const char *params[3] = {name, hash, role};
	res = PQexecParams(db,
			   "INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3)",
			   3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (st && !strcmp(st, "23505"))
			fprintf(stderr, "run-it: user add: the name %s is taken\n", name);
		else
			fprintf(stderr, "run-it: user add: %s", PQerrorMessage(db));
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
