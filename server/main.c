/*
 * main.c - the run-it command: serve, migrate, user add, seed, --help,
 * --version. Whatever the command, stderr carries only JSON log lines
 * (log.h); what a command prints for people (usage, versions, results)
 * goes to stdout.
 */
#include "config.h"
#include "log.h"
#include "migrate.h"
#include "app.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: run-it <command> [options]\n"
	       "\n"
	       "commands:\n"
	       "  serve                       migrate the database, then serve HTTP and the "
	       "websocket\n"
	       "  migrate                     apply database migrations and exit\n"
	       "  user add [--admin] [--password-stdin] NAME\n"
	       "                              create an account (prints a generated password\n"
	       "                              unless --password-stdin is given)\n"
	       "  seed [FILE]                 install runtimes from images/recipes.json (or FILE)\n"
	       "                              and a default platform; idempotent\n"
	       "  --help                      this text\n"
	       "  --version                   print the version\n"
	       "\n"
	       "Configuration comes from RUNIT_* environment variables; see README.md.\n");
}

static int cmd_serve(void)
{
	struct config cfg;

	if (config_load(&cfg, 1))
		return 2;
	log_set_level(cfg.log_level);
	if (migrate_run(cfg.database_url, 0))
		return 1;
	if (cli_admin_bootstrap(&cfg))
		return 2;
	return app_run(&cfg);
}

static int cmd_migrate(void)
{
	struct config cfg;

	if (config_load(&cfg, 1))
		return 2;
	return migrate_run(cfg.database_url, 1) ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stdout);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("run-it %s\n", RUNIT_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "serve") && argc == 2)
		return cmd_serve();
	if (!strcmp(argv[1], "migrate") && argc == 2)
		return cmd_migrate();
	if (!strcmp(argv[1], "seed") && argc <= 3)
		return cli_seed(argc - 2, argv + 2);
	if (!strcmp(argv[1], "user") && argc >= 3 && !strcmp(argv[2], "add"))
		return cli_user_add(argc - 3, argv + 3);
	log_json(LOG_ERROR, "unknown command or arguments (see run-it --help)",
		 json_pack("{s:s}", "command", argv[1]));
	return 2;
}
