/*
 * cli.h - command-line subcommands other than serve/migrate. They run
 * without the event loop, so blocking libpq and hashing are fine here.
 */
#ifndef RUNIT_CLI_H
#define RUNIT_CLI_H

#include "config.h"

/* run-it user add [--admin] [--password-stdin] NAME */
int cli_user_add(int argc, char **argv);
/* run-it seed [FILE]: runtimes from images/recipes.json, a default platform (seed.c) */
int cli_seed(int argc, char **argv);

/* At `serve`: create the admin RUNIT_ADMIN_USER with the password in
 * RUNIT_ADMIN_PASSWORD_FILE unless that admin exists (cli_admin.c).
 * 0 (also when neither is set), or -1 after one error line. */
int cli_admin_bootstrap(const struct config *cfg);

#endif
