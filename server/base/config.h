/*
 * config.h - the server's settings, read once from RUNIT_* environment
 * variables. A missing or malformed value is reported in one clear line and
 * makes the command exit non-zero; nothing is guessed silently.
 */
#ifndef RUNIT_CONFIG_H
#define RUNIT_CONFIG_H

#include <stddef.h>
#include "netmask.h"

struct config {
	char listen_host[128];
	int listen_port;
	const char *database_url;    /* RUNIT_DATABASE_URL (required for serve/migrate) */
	char db_url_buf[2048];	     /* it with RUNIT_DATABASE_PASSWORD_FILE's password */
	const char *docker_host;     /* RUNIT_DOCKER_HOST */
	const char *allowed_origins; /* RUNIT_ALLOWED_ORIGINS, comma separated */
	char data_dir[1024];	     /* RUNIT_DATA_DIR, absolute */
	char ui_dir[1024];	     /* RUNIT_UI_DIR, absolute */
	const char *instance;	     /* RUNIT_INSTANCE: names this server's containers */
	int instance_dead_s;	     /* RUNIT_INSTANCE_DEAD_S: silence before others take over */
	const char *pool_prefix;     /* RUNIT_POOL_PREFIX: before "u<id>" in the names of the
				      * users' resource pools (run_pool.h); "" */
	const char *metrics_token;   /* RUNIT_METRICS_TOKEN: if set, /metrics needs it */
	struct netmask metrics_allow[NETMASK_MAX]; /* RUNIT_METRICS_ALLOW: CIDRs that may */
	int metrics_allow_n;			   /* read /metrics; 0: everyone */
	/* RUNIT_TRUSTED_PROXIES: peers whose X-Forwarded-For/-Proto (or
	 * Forwarded) name the client (web_peer.c); 0: nobody's */
	struct netmask trusted_proxies[NETMASK_MAX];
	int trusted_proxies_n;
	size_t max_frame;	   /* RUNIT_MAX_FRAME bytes */
	size_t out_queue_bytes;	   /* RUNIT_OUT_QUEUE_BYTES per session */
	int db_pool_size;	   /* RUNIT_DB_POOL */
	int save_wait_ms;	   /* RUNIT_SAVE_WAIT_MS: saves behind one still out (dbbatch.h) */
	int max_sessions;	   /* RUNIT_MAX_SESSIONS */
	int ws_addr_max;	   /* RUNIT_WS_ADDR_MAX: of them from one client address */
	long long ws_addr_bytes_s; /* RUNIT_WS_ADDR_BYTES_S: what they send a second */
	long long collab_memory;   /* RUNIT_COLLAB_MEMORY: updates kept of every open file */
	int ws_addr_calls;	   /* RUNIT_WS_ADDR_CALLS: their requests not yet answered */
	int ws_message_s;  /* RUNIT_WS_MESSAGE_S: a message that comes in pieces is whole within */
	int log_level;	   /* RUNIT_LOG_LEVEL: debug|info|warn|error */
	int ping_interval; /* RUNIT_PING_INTERVAL seconds */
	int warm_containers; /* RUNIT_WARM_CONTAINERS: prepared containers at most, 0 = off */
	int engine_ops;	     /* RUNIT_ENGINE_OPS per engine, 0 = no limit */
	/* abuse limits of logins and sign-ups (auth_limit.c) */
	int login_lock_after;	      /* RUNIT_LOGIN_LOCK_AFTER failures before a name locks */
	long long login_lock_base_ms; /* RUNIT_LOGIN_LOCK_BASE_MS first lock, doubled per failure */
	long long login_lock_max_ms;  /* RUNIT_LOGIN_LOCK_MAX_MS longest lock */
	int login_addr_max;	 /* RUNIT_LOGIN_ADDR_MAX failed logins per address per window */
	int login_addr_window_s; /* RUNIT_LOGIN_ADDR_WINDOW_S */
	int signup_addr_max;	 /* RUNIT_SIGNUP_ADDR_MAX sign-up attempts per address per hour */
	/* RUNIT_SENTRY_DSN: errors also go to a Sentry-compatible service
	 * (errmon_sentry.c); sentry_dsn NULL when unset. Secret-ish: the key
	 * lets anyone send events, so neither is ever logged. */
	const char *sentry_dsn;
	char sentry_url[512];		/* its envelope endpoint */
	char sentry_key[64];		/* its public key */
	const char *sentry_environment; /* RUNIT_SENTRY_ENVIRONMENT ("production") */
};

/* Fill *c from the environment. need_db: RUNIT_DATABASE_URL must be set.
 * Returns 0, or -1 after one JSON log line on stderr: "configuration error"
 * with the variable's name, why, and its value unless it may be a secret. */
int config_load(struct config *c, int need_db);

/*
 * That one line, for a check made elsewhere (the server key): var's name,
 * why, and val unless it may be a secret (NULL: "(not shown)"). Returns -1.
 */
int config_error(const char *var, const char *why, const char *val);

/*
 * A Sentry DSN, SCHEME://KEY@HOST[:PORT][/PREFIX]/PROJECT_ID (http or
 * https; KEY letters and digits; PROJECT_ID digits), as the envelope
 * endpoint SCHEME://HOST[:PORT][/PREFIX]/api/PROJECT_ID/envelope/ in url
 * and the key in key. 0, or -1 with *why set (a constant that never
 * quotes the DSN).
 */
int config_parse_dsn(const char *dsn, char *url, size_t urlsz, char *key, size_t keysz,
		     const char **why);

/* 1 when a websocket or sign-in request from origin may be served
 * (RUNIT_ALLOWED_ORIGINS, or the listen address and its localhost names). */
int config_origin_allowed(const struct config *cfg, const char *origin);

#endif
