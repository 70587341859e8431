/*
 * srv.h - the server process: one libuv loop owned by us, libwebsockets on
 * it (foreign loop), the database pool, and the table of live sessions.
 * Everything here runs on the loop thread.
 */
#ifndef RUNIT_SRV_H
#define RUNIT_SRV_H

#include <stdint.h>
#include <uv.h>
#include <libwebsockets.h>
#include "config.h"
#include "proto.h"

struct db_pool;
struct sess;
struct run_engine;

struct srv {
	struct config cfg;
	uv_loop_t *loop;
	struct lws_context *lws;
	struct db_pool *db;
	struct run_engine *runs;
	struct proto_limits limits;
	uint64_t next_sess_id;
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

int srv_run(const struct config *cfg);
/* Milliseconds on a monotonic clock. */
int64_t srv_now_ms(void);

#endif
