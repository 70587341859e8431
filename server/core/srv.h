/*
 * srv.h - the server: one struct that holds the loop, the clock's origin,
 * the database pool, the event bus, the table of live sessions and each
 * module's state. the_srv is the one global of the process (set by app.c
 * for the life of app_run); a module reaches the loop, the clock and its
 * own state through it or through the srv pointer it was given, never
 * through statics of its own. Everything here runs on the loop thread.
 */
#ifndef RUNIT_SRV_H
#define RUNIT_SRV_H

#include <stdint.h>
#include <uv.h>
#include <libwebsockets.h>
#include "bus.h"
#include "config.h"
#include "proto.h"

struct db_pool;
struct sess;
struct run_engine;
struct room_table;
struct admin_view;
struct run_plats;
struct run_images;
struct settings;
struct room_relay;
struct bus_relay;
struct run_follows;
struct errmon;
struct collab;
struct dbbatch;

struct srv {
	struct config cfg;
	uv_loop_t *loop;
	struct lws_context *lws;
	lws_retry_bo_t lws_retry;	 /* ping and hang-up policy, read by lws */
	struct lws_http_mount mounts[4]; /* web_mounts() fills them; lws reads them */
	struct db_pool *db;
	struct bus bus;
	/* each module's state, set up by its *_init and freed by *_release */
	struct run_engine *runs;
	struct run_plats *plats;     /* run_plat.c */
	struct run_images *images;   /* run_image.c */
	struct room_table *rooms;    /* room.c */
	struct room_relay *relay;    /* room_relay.c */
	struct bus_relay *bus_relay; /* bus_relay.c */
	struct run_follows *follows; /* run_follow.c */
	struct admin_view *admin;    /* admin_view.c */
	struct collab *collab;	     /* collab*.c: files open for live co-editing */
	struct dbbatch *saves;	     /* h_file.c: file/saves, together when busy */
	uv_timer_t auth_sweep;	     /* auth_sess.c: ends expired sessions */
	unsigned auth_sweeps;
	int64_t limits_cleaned_ms; /* auth_limit.c: old attempts last deleted */
	struct settings *settings; /* settings.c: in force */
	struct errmon *errmon;	   /* errmon.c: the errors collected */
	/* the dispatcher's method lookup (app.c sets handlers_method_find) */
	const struct proto_method *(*method_find)(const char *name);
	unsigned long long req_seq; /* request ids: "<session>-<n>" */
	struct proto_limits limits;
	uint64_t next_sess_id;
	/* a session that asked for it (sess_want_drain) has room in its queue
	 * again: run_stream.c resumes the output it paced (set by run_engine_init) */
	void (*sess_drained)(struct srv *srv, struct sess *s);
	/* a request from ip came in (delta 1) or was answered (-1; also when
	 * its session has gone): web.c counts them per address and pauses the
	 * reading of who has too many (set by web.c) */
	void (*call_count)(struct srv *srv, const char *ip, int delta);
	/* live sessions, by id (open hashing) */
	struct sess **sess_buckets;
	size_t sess_nbuckets;
	size_t sess_count;
	uv_signal_t sigint, sigterm;
	int stopping;
	int64_t started_ms;
	int64_t stop_ms;
};

extern struct srv *the_srv;

/* Milliseconds on a monotonic clock. */
int64_t srv_now_ms(void);

#endif
