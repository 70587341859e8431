/*
 * cli.h - command-line subcommands other than serve/migrate. They run
 * without the event loop, so blocking libpq and hashing are fine here.
 */
#ifndef RUNIT_CLI_H
#define RUNIT_CLI_H

/* run-it user add [--admin] [--password-stdin] NAME */
int cli_user_add(int argc, char **argv);
/* run-it seed [FILE]: runtimes from images/recipes.json, a default platform (seed.c) */
int cli_seed(int argc, char **argv);

#endif
