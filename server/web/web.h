/*
 * web.h - the libwebsockets side of the server: protocols (the /ws
 * websocket and small HTTP handlers) and the URL mounts (static UI files,
 * /healthz, /metrics).
 */
#ifndef RUNIT_WEB_H
#define RUNIT_WEB_H

#include <libwebsockets.h>
#include "config.h"

extern const struct lws_protocols web_protocols[];
#define WEB_NMOUNTS 4
/* Fill m (it must last as long as the lws context) with the HTTP mounts;
 * returns the first. */
const struct lws_http_mount *web_mounts(const struct config *cfg,
					struct lws_http_mount m[WEB_NMOUNTS]);
/* Before the lws context exists (lws and ws_mask.c size their descriptor
 * tables by it): raise the soft RLIMIT_NOFILE to room for max_sessions
 * websockets and the rest (database, Docker, files), up to the hard limit;
 * a warning when the hard limit is lower. */
void web_fd_limit(const struct config *cfg);
/* Before the first session: srv's hooks that web.c answers (call_count). */
struct srv;
void web_wire(struct srv *srv);
/* At shutdown, once the lws context is gone: what web.c kept about the
 * sessions it stopped reading (RUNIT_WS_ADDR_BYTES_S). */
void web_release(void);

#endif
