/*
 * config.c - read RUNIT_* environment variables into struct config, with
 * defaults and strict validation (see README "Configuration").
 */
#include "config.h"
#include "log.h"

#include <errno.h>
#include <libpq-fe.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int config_error(const char *var, const char *why, const char *val)
{
	json_t *f = json_pack("{s:s, s:s}", "variable", var, "error", why);

	if (f)
		json_object_set_new(f, "value",
				    val ? json_string(val) : json_string("(not shown)"));
	log_json(LOG_ERROR, "configuration error", f);
	return -1;
}

static const char *env_or(const char *var, const char *def)
{
	const char *v = getenv(var);
	return (v && *v) ? v : def;
}

/* Parse a decimal integer in [min, max] with an optional k/m/g suffix (powers of 1024). */
static int env_num(const char *var, long long def, long long min, long long max, long long *out)
{
	const char *v = getenv(var);
	char *end;
	long long n, mul = 1;

	*out = def;
	if (!v || !*v)
		return 0;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (end == v || errno)
		return config_error(var, "not a number", v);
	if (*end == 'k' || *end == 'K')
		mul = 1024, end++;
	else if (*end == 'm' || *end == 'M')
		mul = 1024 * 1024, end++;
	else if (*end == 'g' || *end == 'G')
		mul = 1024LL * 1024 * 1024, end++;
	if (*end)
		return config_error(var, "not a number", v);
	if (n > max / mul || n * mul < min || n * mul > max) {
		char why[96];

		snprintf(why, sizeof(why), "must be between %lld and %lld", min, max);
		return config_error(var, why, v);
	}
	*out = n * mul;
	return 0;
}

static int abs_path(const char *var, const char *val, char *out, size_t outsz)
{
	char cwd[PATH_MAX];
	int n;

	if (val[0] == '/') {
		n = snprintf(out, outsz, "%s", val);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return config_error(var, "cannot resolve relative path", val);
		n = snprintf(out, outsz, "%s/%s", cwd,
			     val[0] == '.' && val[1] == '/' ? val + 2 : val);
	}
	if (n < 0 || (size_t)n >= outsz)
		return config_error(var, "path too long", val);
	/* "./var" resolved from cwd "/x" is "/x/var"; a bare "." becomes "/x/." which is fine. */
	return 0;
}

static int parse_listen(struct config *c, const char *v)
{
	const char *colon = strrchr(v, ':');
	char *end;
	long port;
	size_t hl;

	if (!colon || colon == v)
		return config_error("RUNIT_LISTEN", "expected HOST:PORT", v);
	hl = (size_t)(colon - v);
	if (hl >= sizeof(c->listen_host))
		return config_error("RUNIT_LISTEN", "host too long", v);
	memcpy(c->listen_host, v, hl);
	c->listen_host[hl] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 1 || port > 65535)
		return config_error("RUNIT_LISTEN", "port must be 1-65535", v);
	c->listen_port = (int)port;
	return 0;
}

static int parse_level(const char *v)
{
	static const char *names[] = {"debug", "info", "warn", "error"};
	for (int i = 0; i < 4; i++)
		if (!strcmp(v, names[i]))
			return i;
	return -1;
}

/*
 * Parse the database URL as libpq will, so that every command fails early on
 * a malformed one. libpq's message quotes the part it could not read, which
 * may be the password: quoted text longer than one character is not shown.
 */
static int check_db_url(const char *url)
{
	char *err = NULL, msg[256];
	PQconninfoOption *opts = PQconninfoParse(url, &err);
	size_t o = 0;

	if (opts) {
		PQconninfoFree(opts);
		return 0;
	}
	for (const char *p = err ? err : "cannot be parsed"; *p && *p != '\n' && o < 200; p++) {
		const char *q = *p == '"' ? strchr(p + 1, '"') : NULL;
		if (!q) {
			msg[o++] = *p;
		} else if (q - p > 2) {
			memcpy(msg + o, "\"...\"", 5);
			o += 5;
			p = q;
		} else {
			memcpy(msg + o, p, (size_t)(q - p + 1));
			o += (size_t)(q - p + 1);
			p = q;
		}
	}
	msg[o] = '\0';
	config_error("RUNIT_DATABASE_URL", msg, NULL);
	PQfreemem(err);
	return -1;
}

/*
 * RUNIT_DATABASE_PASSWORD_FILE: the password of the database URL in a file
 * (a Docker or systemd secret), so that it is in no environment. It goes
 * into the URL's user part (percent-encoded) or, for key=value settings,
 * as password='...'. The file's one trailing newline is dropped.
 */
static int db_password_file(struct config *c)
{
	const char *file = getenv("RUNIT_DATABASE_PASSWORD_FILE"), *url = c->database_url;
	const char *v = "RUNIT_DATABASE_PASSWORD_FILE", *at, *host;
	char pw[257], enc[3 * 256 + 1];
	size_t n, o = 0;
	int w = -1;
	FILE *f;

	if (!file || !*file || !url)
		return 0;
	if (!(f = fopen(file, "r")))
		return config_error(v, "cannot read the file", file);
	n = fread(pw, 1, sizeof(pw) - 1, f);
	fclose(f);
	pw[n] = '\0';
	if (n && pw[n - 1] == '\n')
		pw[--n] = '\0';
	if (!n || n > 255 || strlen(pw) != n || strchr(pw, '\n'))
		return config_error(v, "the file must hold one line of 1-255 bytes", file);
	host = strstr(url, "://");
	if (host) {
		host += 3;
		at = strchr(host, '@');
		if (!at || (strchr(host, '/') && strchr(host, '/') < at))
			return config_error("RUNIT_DATABASE_URL",
					    "name the user when the password is in a file "
					    "(postgresql://USER@HOST:PORT/DB)",
					    NULL);
		if (memchr(host, ':', (size_t)(at - host)))
			return config_error(v, "RUNIT_DATABASE_URL holds a password already", NULL);
		for (const unsigned char *p = (const unsigned char *)pw; *p; p++) {
			if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || strchr("-._~", *p))
				enc[o++] = (char)*p;
			else
				o += (size_t)snprintf(enc + o, 4, "%%%02X", *p);
		}
		enc[o] = '\0';
		w = snprintf(c->db_url_buf, sizeof(c->db_url_buf), "%.*s:%s%s", (int)(at - url),
			     url, enc, at);
	} else {
		for (const char *p = pw; *p; p++) {
			if (*p == '\'' || *p == '\\')
				enc[o++] = '\\';
			enc[o++] = *p;
		}
		enc[o] = '\0';
		w = snprintf(c->db_url_buf, sizeof(c->db_url_buf), "%s password='%s'", url, enc);
	}
	memset(pw, 0, sizeof(pw));
	memset(enc, 0, sizeof(enc));
	if (w < 0 || (size_t)w >= sizeof(c->db_url_buf))
		return config_error("RUNIT_DATABASE_URL", "too long", NULL);
	c->database_url = c->db_url_buf;
	return 0;
}

static int dsn_fail(const char **why, const char *text)
{
	*why = text;
	return -1;
}

int config_parse_dsn(const char *dsn, char *url, size_t urlsz, char *key, size_t keysz,
		     const char **why)
{
	const char *p = dsn, *at, *host, *path, *id, *end;
	size_t scheme_len, klen, hlen, plen;
	long port = 0;
	int n;

	if (!strncmp(p, "https://", 8))
		scheme_len = 8;
	else if (!strncmp(p, "http://", 7))
		scheme_len = 7;
	else
		return dsn_fail(why, "expected http(s)://KEY@HOST[:PORT]/PROJECT_ID");
	p += scheme_len;
	at = strchr(p, '@');
	path = strchr(p, '/');
	if (!at || (path && path < at))
		return dsn_fail(why, "no public key (expected http(s)://KEY@HOST/PROJECT_ID)");
	klen = strcspn(p, ":@");
	if (klen == 0 || klen >= keysz ||
	    strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789") != klen)
		return dsn_fail(why, "the public key must be 1-63 letters and digits");
	host = at + 1;
	if (!path || path == host)
		return dsn_fail(why, "no host or no project id");
	hlen = (size_t)(path - host);
	if (host[0] == ':')
		return dsn_fail(why, "no host or no project id");
	if (strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") <
	    hlen)
		return dsn_fail(why, "the host has characters a host name cannot have");
	end = host + hlen;
	for (const char *c = end; c > host; c--) {
		if (c[-1] == ']')
			break;
		if (c[-1] == ':') {
			char *e;
			errno = 0;
			port = strtol(c, &e, 10);
			if (e != end || c == end || errno || port < 1 || port > 65535)
				return dsn_fail(why, "the port must be 1-65535");
			break;
		}
	}
	plen = strlen(path);
	if (plen && path[plen - 1] == '/')
		plen--;
	id = path + plen;
	while (id > path && id[-1] >= '0' && id[-1] <= '9')
		id--;
	if (id == path + plen || id[-1] != '/' || plen - (size_t)(id - path) > 20)
		return dsn_fail(why, "the path must end in the numeric project id");
	if (strcspn(path, "?#") < plen)
		return dsn_fail(why, "a DSN has no query or fragment");
	n = snprintf(url, urlsz, "%.*s%.*s/api/%.*s/envelope/", (int)(scheme_len + 0), dsn,
		     (int)(id - 1 - host), host, (int)(path + plen - id), id);
	if (n < 0 || (size_t)n >= urlsz)
		return dsn_fail(why, "too long");
	snprintf(key, keysz, "%.*s", (int)klen, p);
	return 0;
}

/* RUNIT_SENTRY_DSN and RUNIT_SENTRY_ENVIRONMENT (errmon_sentry.c). */
static int sentry_config(struct config *c)
{
	const char *why;

	c->sentry_environment = env_or("RUNIT_SENTRY_ENVIRONMENT", "production");
	if (strlen(c->sentry_environment) > 64)
		return config_error("RUNIT_SENTRY_ENVIRONMENT", "at most 64 characters", NULL);
	c->sentry_dsn = getenv("RUNIT_SENTRY_DSN");
	if (!c->sentry_dsn || !*c->sentry_dsn) {
		c->sentry_dsn = NULL;
		return 0;
	}
	if (strlen(c->sentry_dsn) > 400)
		return config_error("RUNIT_SENTRY_DSN", "at most 400 characters", NULL);
	/* the key lets anyone send events as us: the value is never shown */
	if (config_parse_dsn(c->sentry_dsn, c->sentry_url, sizeof(c->sentry_url), c->sentry_key,
			     sizeof(c->sentry_key), &why))
		return config_error("RUNIT_SENTRY_DSN", why, NULL);
	return 0;
}

int config_load(struct config *c, int need_db)
{
	long long n;
	const char *v;

	memset(c, 0, sizeof(*c));
	if (parse_listen(c, env_or("RUNIT_LISTEN", "127.0.0.1:8080")))
		return -1;

	c->database_url = getenv("RUNIT_DATABASE_URL");
	if (need_db && (!c->database_url || !*c->database_url))
		return config_error(
		    "RUNIT_DATABASE_URL",
		    "not set (for example postgresql://runit:secret@127.0.0.1:5433/runit)", "");
	if (c->database_url && strncmp(c->database_url, "postgresql://", 13) &&
	    strncmp(c->database_url, "postgres://", 11) && !strchr(c->database_url, '=')) {
		/* the URL may hold a password: never echo it */
		return config_error("RUNIT_DATABASE_URL",
				    "expected a postgresql:// URL or key=value pairs", NULL);
	}
	if (db_password_file(c))
		return -1;
	if (c->database_url && check_db_url(c->database_url))
		return -1;

	c->docker_host = env_or("RUNIT_DOCKER_HOST", "unix:///var/run/docker.sock");
	if (strncmp(c->docker_host, "unix://", 7) && c->docker_host[0] != '/')
		return config_error("RUNIT_DOCKER_HOST", "only unix:// sockets are supported",
				    c->docker_host);

	c->allowed_origins = getenv("RUNIT_ALLOWED_ORIGINS");
	if (c->allowed_origins && !*c->allowed_origins)
		c->allowed_origins = NULL;

	if (abs_path("RUNIT_DATA_DIR", env_or("RUNIT_DATA_DIR", "./var"), c->data_dir,
		     sizeof(c->data_dir)))
		return -1;
	if (abs_path("RUNIT_UI_DIR", env_or("RUNIT_UI_DIR", "./ui/dist"), c->ui_dir,
		     sizeof(c->ui_dir)))
		return -1;

	c->instance = env_or("RUNIT_INSTANCE", "default");
	if (strlen(c->instance) > 63 ||
	    strspn(c->instance, "abcdefghijklmnopqrstuvwxyz"
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(c->instance))
		return config_error("RUNIT_INSTANCE", "use 1-63 letters, digits, '_', '.', '-'",
				    c->instance);
	c->pool_prefix = env_or("RUNIT_POOL_PREFIX", "");
	if (strlen(c->pool_prefix) > 31 ||
	    strspn(c->pool_prefix, "abcdefghijklmnopqrstuvwxyz0123456789_-") !=
		strlen(c->pool_prefix))
		return config_error("RUNIT_POOL_PREFIX", "use 0-31 of a-z, digits, '_', '-'",
				    c->pool_prefix);
	c->metrics_token = getenv("RUNIT_METRICS_TOKEN");
	if (c->metrics_token && !*c->metrics_token)
		c->metrics_token = NULL;
	if (c->metrics_token && strlen(c->metrics_token) > 200)
		return config_error("RUNIT_METRICS_TOKEN", "at most 200 characters", NULL);
	v = getenv("RUNIT_METRICS_ALLOW");
	if (v && *v) {
		c->metrics_allow_n = netmask_parse_list(v, c->metrics_allow, NETMASK_MAX);
		if (c->metrics_allow_n < 1)
			return config_error("RUNIT_METRICS_ALLOW",
					    "expected up to 16 comma-separated CIDR ranges such as "
					    "10.0.0.0/8,::1/128",
					    v);
	}

	v = getenv("RUNIT_TRUSTED_PROXIES");
	if (v && *v) {
		c->trusted_proxies_n = netmask_parse_list(v, c->trusted_proxies, NETMASK_MAX);
		if (c->trusted_proxies_n < 1)
			return config_error("RUNIT_TRUSTED_PROXIES",
					    "expected up to 16 comma-separated CIDR ranges of the "
					    "reverse proxies, such as 127.0.0.1/32,10.0.0.0/8",
					    v);
	}

	if (env_num("RUNIT_MAX_FRAME", 1024 * 1024, 1024, 64LL * 1024 * 1024, &n))
		return -1;
	c->max_frame = (size_t)n;
	if (env_num("RUNIT_OUT_QUEUE_BYTES", 8 * 1024 * 1024, 64 * 1024, 1024LL * 1024 * 1024, &n))
		return -1;
	c->out_queue_bytes = (size_t)n;
	if (env_num("RUNIT_INSTANCE_DEAD_S", 30, 2, 3600, &n))
		return -1;
	c->instance_dead_s = (int)n;
	if (env_num("RUNIT_DB_POOL", 8, 1, 64, &n))
		return -1;
	c->db_pool_size = (int)n;
	if (env_num("RUNIT_SAVE_WAIT_MS", 200, 0, 600000, &n))
		return -1;
	c->save_wait_ms = (int)n;
	if (env_num("RUNIT_MAX_SESSIONS", 10000, 1, 1000000, &n))
		return -1;
	c->max_sessions = (int)n;
	if (env_num("RUNIT_WS_ADDR_MAX", 256, 1, 1000000, &n))
		return -1;
	c->ws_addr_max = (int)n;
	if (env_num("RUNIT_WS_ADDR_BYTES_S", 1024 * 1024, 64 * 1024, 1LL << 40, &n))
		return -1;
	c->ws_addr_bytes_s = n;
	if (env_num("RUNIT_COLLAB_MEMORY", 64LL * 1024 * 1024, 0, 64LL << 30, &n))
		return -1;
	c->collab_memory = n;
	if (env_num("RUNIT_WS_MESSAGE_S", 60, 1, 3600, &n))
		return -1;
	c->ws_message_s = (int)n;
	if (env_num("RUNIT_WS_ADDR_CALLS", 64, 1, 1000000, &n))
		return -1;
	c->ws_addr_calls = (int)n;
	if (env_num("RUNIT_PING_INTERVAL", 30, 1, 3600, &n))
		return -1;
	c->ping_interval = (int)n;
	if (env_num("RUNIT_WARM_CONTAINERS", 32, 0, 10000, &n))
		return -1;
	c->warm_containers = (int)n;
	if (env_num("RUNIT_ENGINE_OPS", 4, 0, 1000, &n))
		return -1;
	c->engine_ops = (int)n;
	if (env_num("RUNIT_LOGIN_LOCK_AFTER", 5, 1, 1000, &n))
		return -1;
	c->login_lock_after = (int)n;
	if (env_num("RUNIT_LOGIN_LOCK_BASE_MS", 1000, 1, 3600000, &n))
		return -1;
	c->login_lock_base_ms = n;
	if (env_num("RUNIT_LOGIN_LOCK_MAX_MS", 900000, 1, 86400000, &n))
		return -1;
	c->login_lock_max_ms = n;
	if (env_num("RUNIT_LOGIN_ADDR_MAX", 20, 1, 1000000000, &n))
		return -1;
	c->login_addr_max = (int)n;
	if (env_num("RUNIT_LOGIN_ADDR_WINDOW_S", 600, 1, 86400, &n))
		return -1;
	c->login_addr_window_s = (int)n;
	if (env_num("RUNIT_SIGNUP_ADDR_MAX", 10, 1, 1000000000, &n))
		return -1;
	c->signup_addr_max = (int)n;

	if (sentry_config(c))
		return -1;

	v = env_or("RUNIT_LOG_LEVEL", "info");
	c->log_level = parse_level(v);
	if (c->log_level < 0)
		return config_error("RUNIT_LOG_LEVEL", "use debug, info, warn or error", v);
	return 0;
}

int config_origin_allowed(const struct config *cfg, const char *origin)
{
	char def[512];
	const char *list = cfg->allowed_origins, *p;
	size_t olen = strlen(origin);

	if (!list) {
		/* Default: the server's own address, also spelled localhost. */
		snprintf(def, sizeof(def), "http://%s:%d,http://localhost:%d,http://127.0.0.1:%d",
			 cfg->listen_host, cfg->listen_port, cfg->listen_port, cfg->listen_port);
		list = def;
	}
	for (p = list; *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		while (n && *p == ' ')
			p++, n--;
		while (n && p[n - 1] == ' ')
			n--;
		if ((n == 1 && *p == '*') || (n == olen && !memcmp(p, origin, n)))
			return 1;
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}
