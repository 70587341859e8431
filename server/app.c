/*
 * app.c - the composition root: start and stop the server. It owns our
 * libuv loop, puts libwebsockets on it as a foreign loop, opens the
 * database pool, starts every module in order (the lower layers first) and
 * wires the modules that talk through the event bus. It sits at the top of
 * the layers (docs/architecture.md): it may call anyone, nobody calls it
 * but main.c. The websocket and HTTP callbacks live in web/.
 */
#include "app.h"
#include "srv.h"
#include "access_watch.h"
#include "admin_view.h"
#include "auth_hash.h"
#include "auth_sess.h"
#include "bus.h"
#include "db.h"
#include "dbbatch.h"
#include "errmon.h"
#include "handlers.h"
#include "log.h"
#include "presence.h"
#include "room_relay.h"
#include "bus_relay.h"
#include "run_follow.h"
#include "collab.h"
#include "room.h"
#include "sess.h"
#include "settings.h"
#include "web.h"
#include "web_addrs.h"
#include "run.h"
#include "run_image.h"
#include "run_plat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void on_signal(uv_signal_t *h, int signum)
{
	struct srv *srv = h->data;

	if (srv->stopping)
		return;
	srv->stopping = 1;
	log_json(LOG_INFO, "stopping", json_pack("{s:i}", "signal", signum));
	uv_stop(srv->loop);
}

static void lws_log_bridge(int level, const char *line)
{
	size_t n = strlen(line);
	char buf[512];

	if (n && line[n - 1] == '\n')
		n--;
	snprintf(buf, sizeof(buf), "lws: %.*s", (int)n, line);
	log_json(level == LLL_ERR ? LOG_ERROR : LOG_WARN, buf, NULL);
}

/* 1 when host:port can be bound as lws binds it (SO_REUSEADDR), 0 with errno
 * set when it cannot (taken, or not an address here): checked before lws
 * makes a context that could not be freed (start_lws). */
static int can_bind(const char *host, int port)
{
	struct sockaddr_in a;
	int fd, one = 1, ok, err;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
		return 1; /* not an IPv4 address: lws decides */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(fd, 1) == 0;
	err = errno;
	close(fd);
	errno = err;
	return ok;
}

static int start_lws(struct srv *srv)
{
	struct lws_context_creation_info info;
	void *foreign[1] = {srv->loop};
	char iface[160];

	srv->lws_retry.secs_since_valid_ping = (uint16_t)srv->cfg.ping_interval;
	srv->lws_retry.secs_since_valid_hangup = (uint16_t)(srv->cfg.ping_interval * 2 + 10);

	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_bridge);
	if (!can_bind(srv->cfg.listen_host, srv->cfg.listen_port)) {
		log_json(LOG_ERROR, "cannot listen (address in use, or not an address here)",
			 json_pack("{s:s, s:i, s:s}", "host", srv->cfg.listen_host, "port",
				   srv->cfg.listen_port, "error", strerror(errno)));
		return -1;
	}
	web_fd_limit(&srv->cfg);
	web_wire(srv);
	memset(&info, 0, sizeof(info));
	info.port = srv->cfg.listen_port;
	snprintf(iface, sizeof(iface), "%s", srv->cfg.listen_host);
	/* lws takes an interface name or an address; "0.0.0.0" means all. */
	info.iface = strcmp(iface, "0.0.0.0") ? iface : NULL;
	info.protocols = web_protocols;
	info.mounts = web_mounts(&srv->cfg, srv->mounts);
	info.options = LWS_SERVER_OPTION_LIBUV |
		       LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE |
		       LWS_SERVER_OPTION_DISABLE_IPV6;
	info.foreign_loops = foreign;
	info.retry_and_idle_policy = &srv->lws_retry;
	info.timeout_secs = 20;
	info.max_http_header_data = 8192;
	info.user = srv;
	info.vhost_name = "run-it";
	info.server_string = "run-it";
	srv->lws = lws_create_context(&info);
	/* lws 4.1 returns a context even when its vhost could not bind; that
	 * context cannot be destroyed (with no vhost, lws_context_destroy()
	 * unloads its libuv plugin while the close callbacks of its handles
	 * are still to run) and is left to the exit: can_bind() has made that
	 * a race with another process taking the port */
	if (!srv->lws || !lws_get_vhost_by_name(srv->lws, info.vhost_name)) {
		srv->lws = NULL;
		log_json(LOG_ERROR, "cannot listen (address in use, or not an address here)",
			 json_pack("{s:s, s:i}", "host", srv->cfg.listen_host, "port",
				   srv->cfg.listen_port));
		return -1;
	}
	return 0;
}

/* On shutdown: end every run and warm container (containers killed and
 * removed, rows finished) and answer every password hash (the queued ones
 * canceled, the running ones finished), giving it up to 10 s while the
 * loop keeps turning. */
static void drain_tick(uv_timer_t *t)
{
	struct srv *srv = t->data;

	if ((!run_engine_busy(srv) && !auth_hash_pending()) || srv_now_ms() - srv->stop_ms > 10000)
		uv_stop(srv->loop);
}

static void drain_runs(struct srv *srv)
{
	uv_timer_t t;

	srv->stop_ms = srv_now_ms();
	run_engine_shutdown(srv); /* also stops its timers: always */
	auth_hash_shutdown();
	uv_timer_init(srv->loop, &t);
	t.data = srv;
	uv_timer_start(&t, drain_tick, 50, 50);
	uv_run(srv->loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(srv->loop, UV_RUN_NOWAIT);
}

static void close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

int app_run(const struct config *cfg)
{
	struct srv *srv = calloc(1, sizeof(*srv));
	struct proto_limits lim = PROTO_LIMITS_DEFAULT;
	int rc = 1, drained = 0;

	if (!srv)
		return 1;
	the_srv = srv;
	srv->cfg = *cfg;
	srv->limits = lim;
	srv->limits.max_frame = cfg->max_frame;
	srv->started_ms = srv_now_ms();
	srv->sess_nbuckets = 4096;
	srv->sess_buckets = calloc(srv->sess_nbuckets, sizeof(*srv->sess_buckets));
	srv->loop = malloc(sizeof(*srv->loop));
	if (!srv->sess_buckets || !srv->loop || uv_loop_init(srv->loop))
		goto out_free;

	srv->db = db_pool_new(srv->loop, cfg->database_url, cfg->db_pool_size);
	if (!srv->db) {
		log_json(LOG_ERROR, "cannot set up the database pool", NULL);
		goto out_loop;
	}
	db_pool_start_health(srv->db, 1000);
	srv->method_find = handlers_method_find;
	if (errmon_init(srv)) /* first: errors of the other modules' start are collected */
		goto out_db;
	/* bus subscribers, in the order they hear each event: rooms let a
	 * closed session go (presence tells the others), then the admins see it */
	if (room_init(srv, presence_left) || admin_view_init(srv))
		goto out_db;
	if (settings_start(srv))
		goto out_db;
	if (auth_init(srv)) /* first: a bad server key is a configuration error */
		goto out_db;
	if (run_engine_init(srv) || access_watch_init(srv) || room_relay_init(srv) ||
	    run_follow_init(srv) || bus_relay_init(srv))
		goto out_db;
	if (collab_init(srv)) /* after rooms: a closed session leaves its rooms first */
		goto out_db;

	if (start_lws(srv))
		goto out_db;

	uv_signal_init(srv->loop, &srv->sigint);
	uv_signal_init(srv->loop, &srv->sigterm);
	srv->sigint.data = srv->sigterm.data = srv;
	uv_signal_start(&srv->sigint, on_signal, SIGINT);
	uv_signal_start(&srv->sigterm, on_signal, SIGTERM);
	signal(SIGPIPE, SIG_IGN);

	log_json(LOG_INFO, "listening",
		 json_pack("{s:s, s:i, s:s, s:s}", "host", cfg->listen_host, "port",
			   cfg->listen_port, "version", RUNIT_VERSION, "instance", cfg->instance));
	printf("run-it %s listening on http://%s:%d\n", RUNIT_VERSION, cfg->listen_host,
	       cfg->listen_port);
	fflush(stdout);

	uv_run(srv->loop, UV_RUN_DEFAULT);
	rc = 0;
	drain_runs(srv);
	drained = 1;

	uv_signal_stop(&srv->sigint);
	uv_signal_stop(&srv->sigterm);
	uv_close((uv_handle_t *)&srv->sigint, NULL);
	uv_close((uv_handle_t *)&srv->sigterm, NULL);
	lws_context_destroy(srv->lws);
out_db:
	if (!drained) /* a start that failed: the engine's timers still run */
		run_engine_shutdown(srv);
	run_plat_free_all(srv);
	run_follow_release(srv); /* before the pool, which ends their queries */
	room_relay_release(srv);
	bus_relay_release(srv);
	dbbatch_free(srv->saves); /* its waiting calls fail; the pool ends the others */
	srv->saves = NULL;
	db_pool_free(srv->db);
	srv->db = NULL;
	/* after the pool: the queries it ends call back into the engine */
	run_image_release(srv); /* after the platforms too: their canceled callbacks used it */
	free(srv->runs);
	srv->runs = NULL;
	errmon_release(srv); /* after the pool: its last callbacks may still report */
	collab_release(srv);
	admin_view_release(srv);
	room_release(srv);
	settings_release(srv);
	bus_release(srv);
out_loop:
	/* lws on a foreign loop frees its context from the close callbacks of
	 * its own handles: let those run (a few turns) before closing the rest */
	for (int i = 0; i < 16 && uv_run(srv->loop, UV_RUN_NOWAIT); i++)
		;
	if (srv->lws) /* the second call frees what the first could not */
		lws_context_destroy(srv->lws);
	srv->lws = NULL;
	web_addrs_free(); /* what lws did not close through LWS_CALLBACK_CLOSED */
	web_release();
	uv_walk(srv->loop, close_walk, NULL);
	uv_run(srv->loop, UV_RUN_DEFAULT);
	uv_loop_close(srv->loop);
out_free:
	free(srv->loop);
	free(srv->sess_buckets);
	free(srv);
	the_srv = NULL;
	return rc;
}
