/*
 * http_auth.h - the small HTTP endpoints browsers sign in with:
 * POST /auth/signup, POST /auth/login, POST /auth/logout. They take a JSON
 * body and answer JSON, and hand the session token out only as an HttpOnly,
 * SameSite=Strict cookie (runit_session; Secure over TLS), which the
 * websocket upgrade then carries. web.c mounts /auth on this protocol.
 */
#ifndef RUNIT_HTTP_AUTH_H
#define RUNIT_HTTP_AUTH_H

#include <libwebsockets.h>

#define HTTP_AUTH_PROTOCOL "runit-auth"
#define HTTP_AUTH_BODY_MAX 8192

struct http_auth_req;

/* Per-connection state: the request in progress, if any. */
struct http_auth_pss {
	struct http_auth_req *req;
};

int http_auth_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		       size_t len);

#endif
