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
const struct lws_http_mount *web_mounts(const struct config *cfg);

#endif
