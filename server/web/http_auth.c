/*
 * http_auth.c - POST /auth/signup, /auth/login, /auth/logout (see
 * http_auth.h). libwebsockets hands us the request (LWS_CALLBACK_HTTP),
 * the body in pieces (HTTP_BODY) and its end (HTTP_BODY_COMPLETION); the
 * work then goes asynchronous (auth_login.c), and the answer is written
 * later from HTTP_WRITEABLE: headers in one callback, the body in the next.
 *
 * The connection may close while the work runs. The request is then marked
 * dead (its wsi set to NULL on CLOSED_HTTP or DROP_PROTOCOL) and freed when
 * the work completes; a freed wsi is never touched.
 *
 * Cross-site request forgery: an Origin header, when present, must be one
 * of RUNIT_ALLOWED_ORIGINS, and login/sign-up bodies must be
 * application/json (which a cross-site form cannot send without a
 * preflight); the cookie is SameSite=Strict besides.
 */
#include "http_auth.h"
#include "auth_login.h"
#include "auth_sess.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "srv.h"
#include "web.h"
#include "web_peer.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum endpoint { EP_SIGNUP, EP_LOGIN, EP_LOGOUT };

struct http_auth_req {
	struct lws *wsi; /* NULL once the connection is gone */
	enum endpoint ep;
	int pending; /* async work in flight: the request outlives the wsi */
	char *body;
	size_t len;
	int oversize;
	char ip[64]; /* the client's (web_peer.c): what the limits count */
	int https;   /* the browser's connection is HTTPS: the cookie is Secure */
	char ua[513];
	char token[64]; /* logout: the presented token */
	/* the answer */
	int ready, headers_sent, close_after;
	unsigned status;
	unsigned char *resp; /* LWS_PRE headroom, then resp_len bytes */
	size_t resp_len;
	char cookie[160];
	long long retry_after_s;
};

static void req_free(struct http_auth_req *r)
{
	if (!r)
		return;
	free(r->body);
	free(r->resp);
	sodium_memzero(r->token, sizeof(r->token));
	sodium_memzero(r->cookie, sizeof(r->cookie));
	free(r);
}

static unsigned status_of(enum proto_reason reason)
{
	switch (reason) {
	case PROTO_R_NONE:
		return HTTP_STATUS_OK;
	case PROTO_R_UNAUTHENTICATED:
	case PROTO_R_MFA_REQUIRED:
		return HTTP_STATUS_UNAUTHORIZED;
	case PROTO_R_FORBIDDEN:
		return HTTP_STATUS_FORBIDDEN;
	case PROTO_R_NOT_FOUND:
		return HTTP_STATUS_NOT_FOUND;
	case PROTO_R_CONFLICT:
		return HTTP_STATUS_CONFLICT;
	case PROTO_R_TOO_LARGE:
		return HTTP_STATUS_REQ_ENTITY_TOO_LARGE;
	case PROTO_R_RATE_LIMITED:
		return 429;
	case PROTO_R_UNAVAILABLE:
		return HTTP_STATUS_SERVICE_UNAVAILABLE;
	case PROTO_R_INTERNAL:
		return HTTP_STATUS_INTERNAL_SERVER_ERROR;
	default:
		return HTTP_STATUS_BAD_REQUEST;
	}
}

/* The answer is ready: queue it, or drop it if nobody is listening. */
static void answer(struct http_auth_req *r, unsigned status, json_t *body_steal)
{
	char *text = json_dumps(body_steal, JSON_COMPACT);
	size_t n = text ? strlen(text) : 0;

	json_decref(body_steal);
	r->pending = 0;
	if (!r->wsi) {
		free(text);
		req_free(r);
		return;
	}
	r->resp = malloc(LWS_PRE + n + 1);
	if (r->resp && text)
		memcpy(r->resp + LWS_PRE, text, n);
	else
		n = 0, status = HTTP_STATUS_INTERNAL_SERVER_ERROR;
	free(text);
	r->resp_len = n;
	r->status = status;
	r->ready = 1;
	lws_callback_on_writable(r->wsi);
}

static void answer_error(struct http_auth_req *r, enum proto_reason reason, const char *message,
			 long long retry_after_s)
{
	json_t *err = json_pack("{s:s, s:s}", "reason", proto_reason_str(reason), "message",
				message ? message : "");

	if (reason == PROTO_R_RATE_LIMITED) {
		r->retry_after_s = retry_after_s;
		json_object_set_new(err, "retry_after_s", json_integer((json_int_t)retry_after_s));
	}
	answer(r, status_of(reason), json_pack("{s:o}", "error", err));
}

static void set_cookie(struct http_auth_req *r, const char *token, long long max_age)
{
	snprintf(r->cookie, sizeof(r->cookie),
		 AUTH_COOKIE "=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%lld%s", token,
		 max_age < 0 ? 0 : max_age, r->https ? "; Secure" : "");
}

/* ---- login and sign-up ---- */

static void outcome(void *arg, const struct auth_outcome *o)
{
	struct http_auth_req *r = arg;

	if (o->reason != PROTO_R_NONE) {
		r->pending = 0;
		answer_error(r, o->reason, o->message, o->retry_after_s);
		return;
	}
	if (r->wsi)
		set_cookie(r, o->token, o->expires_at - (long long)time(NULL));
	answer(r, HTTP_STATUS_OK,
	       json_pack("{s:{s:I, s:s, s:s}, s:I}", "user", "id", (json_int_t)o->user_id,
			 "username", o->username, "role", o->role, "expires_at",
			 (json_int_t)o->expires_at));
}

static void start_login(struct http_auth_req *r)
{
	struct auth_login_in in = {0};
	struct auth_outcome now;
	struct proto_error err;
	json_error_t jerr;
	json_t *j;
	int rc;

	j = json_loadb(r->body ? r->body : "", r->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		answer_error(r, PROTO_R_PARSE_ERROR, "the body must be a JSON object", 0);
		return;
	}
	if (proto_get_str(j, "username", 1, 256, &in.username, &err) ||
	    proto_get_str(j, "password", 1, 4096, &in.password, &err) ||
	    (r->ep == EP_LOGIN &&
	     (proto_get_str(j, "totp", 0, 15, &in.totp, &err) ||
	      proto_get_str(j, "recovery_code", 0, 63, &in.recovery_code, &err)))) {
		json_decref(j);
		answer_error(r, err.reason, err.message, 0);
		return;
	}
	in.ip = r->ip;
	in.user_agent = r->ua[0] ? r->ua : NULL;
	r->pending = 1;
	rc = r->ep == EP_SIGNUP ? auth_signup(the_srv, &in, outcome, r, &now)
				: auth_login(the_srv, &in, outcome, r, &now);
	json_decref(j);
	if (rc) {
		r->pending = 0;
		answer_error(r, now.reason, now.message, now.retry_after_s);
	}
}

/* ---- logout ---- */

static void logged_out(void *arg, PGresult *res, const char *err)
{
	struct http_auth_req *r = arg;

	if (res && PQntuples(res) == 1)
		auth_sess_end_session(the_srv, strtoll(PQgetvalue(res, 0, 0), NULL, 10),
				      AUTH_END_LOGGED_OUT);
	if (r->wsi)
		set_cookie(r, "", 0);
	if (!res)
		answer_error(r, PROTO_R_UNAVAILABLE, "database unavailable", 0);
	else
		answer(r, HTTP_STATUS_OK, json_pack("{s:b}", "ok", 1));
}

static void start_logout(struct http_auth_req *r)
{
	char hash[65];
	const char *p[1] = {hash};

	set_cookie(r, "", 0);
	if (!r->token[0] || auth_token_hash(r->token, hash)) {
		answer(r, HTTP_STATUS_OK, json_pack("{s:b}", "ok", 1));
		return;
	}
	r->pending = 1;
	if (db_query(the_srv->db,
		     "UPDATE sessions SET revoked_at = now() "
		     "WHERE token_hash = decode($1, 'hex') AND revoked_at IS NULL RETURNING id",
		     1, p, logged_out, r)) {
		r->pending = 0;
		answer_error(r, PROTO_R_UNAVAILABLE, "database unavailable", 0);
	}
}

static void body_complete(struct http_auth_req *r)
{
	if (r->ready || r->pending)
		return;
	if (r->oversize)
		answer_error(r, PROTO_R_TOO_LARGE, "the body is larger than 8 KiB", 0);
	else if (r->ep == EP_LOGOUT)
		start_logout(r);
	else
		start_login(r);
}

/* ---- the request line and headers ---- */

/* A refusal decided from the headers alone; the connection closes after it. */
static int refuse(struct http_auth_req *r, unsigned status, enum proto_reason reason,
		  const char *message)
{
	r->close_after = 1;
	answer_error(r, reason, message, 0);
	r->status = status;
	return 0;
}

static void token_of(struct lws *wsi, char *out, size_t outsz)
{
	char auth[128];
	size_t max = outsz, n;

	out[0] = '\0';
	if (lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION) > 7 &&
	    !strncmp(auth, "Bearer ", 7)) {
		n = strlen(auth + 7);
		if (n < outsz) /* longer cannot be a token of ours */
			memcpy(out, auth + 7, n + 1);
	} else if (lws_http_cookie_get(wsi, AUTH_COOKIE, out, &max))
		out[0] = '\0';
	sodium_memzero(auth, sizeof(auth));
}

static int on_request(struct lws *wsi, struct http_auth_pss *pss)
{
	struct http_auth_req *r = calloc(1, sizeof(*r));
	char uri[64], origin[256], ctype[128], clen[24];
	long long content_length = -1;

	if (!r)
		return -1;
	metrics.http_requests_total++;
	r->wsi = wsi;
	pss->req = r;
	web_peer_addr(wsi, &the_srv->cfg, r->ip, sizeof(r->ip));
	r->https = web_peer_https(wsi, &the_srv->cfg);
	if (lws_hdr_copy(wsi, r->ua, sizeof(r->ua), WSI_TOKEN_HTTP_USER_AGENT) < 0)
		r->ua[0] = '\0';

	if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) <= 0)
		return refuse(r, HTTP_STATUS_METHOD_NOT_ALLOWED, PROTO_R_INVALID_REQUEST,
			      "use POST");
	if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_POST_URI) < 0)
		return refuse(r, HTTP_STATUS_NOT_FOUND, PROTO_R_NOT_FOUND, "no such endpoint");
	if (!strcmp(uri, "/auth/login"))
		r->ep = EP_LOGIN;
	else if (!strcmp(uri, "/auth/signup"))
		r->ep = EP_SIGNUP;
	else if (!strcmp(uri, "/auth/logout"))
		r->ep = EP_LOGOUT;
	else
		return refuse(r, HTTP_STATUS_NOT_FOUND, PROTO_R_NOT_FOUND, "no such endpoint");

	if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) > 0 &&
	    (lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) < 0 ||
	     !config_origin_allowed(&the_srv->cfg, origin))) {
		log_json(LOG_WARN, "auth request refused: origin not allowed",
			 json_pack("{s:s, s:s}", "ip", r->ip, "uri", uri));
		return refuse(r, HTTP_STATUS_FORBIDDEN, PROTO_R_FORBIDDEN, "origin not allowed");
	}
	if (lws_hdr_copy(wsi, clen, sizeof(clen), WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0)
		content_length = strtoll(clen, NULL, 10);
	if (content_length > HTTP_AUTH_BODY_MAX)
		return refuse(r, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, PROTO_R_TOO_LARGE,
			      "the body is larger than 8 KiB");
	if (r->ep == EP_LOGOUT) {
		token_of(wsi, r->token, sizeof(r->token));
	} else {
		if (lws_hdr_copy(wsi, ctype, sizeof(ctype), WSI_TOKEN_HTTP_CONTENT_TYPE) < 0 ||
		    strncasecmp(ctype, "application/json", 16) ||
		    (ctype[16] && ctype[16] != ';' && ctype[16] != ' '))
			return refuse(r, HTTP_STATUS_UNSUPPORTED_MEDIA_TYPE,
				      PROTO_R_INVALID_REQUEST, "send the body as application/json");
		if (content_length < 0)
			return refuse(r, HTTP_STATUS_LENGTH_REQUIRED, PROTO_R_INVALID_REQUEST,
				      "a Content-Length is required");
	}
	/* no body to wait for: lws will not call HTTP_BODY_COMPLETION */
	if (content_length <= 0)
		body_complete(r);
	return 0;
}

static int on_body(struct http_auth_req *r, const void *in, size_t len)
{
	char *nb;

	if (r->ready || r->oversize)
		return 0;
	if (r->len + len > HTTP_AUTH_BODY_MAX) {
		r->oversize = 1;
		return 0;
	}
	nb = realloc(r->body, r->len + len + 1);
	if (!nb)
		return -1;
	r->body = nb;
	memcpy(r->body + r->len, in, len);
	r->len += len;
	r->body[r->len] = '\0';
	return 0;
}

static int on_writable(struct lws *wsi, struct http_auth_pss *pss)
{
	struct http_auth_req *r = pss->req;
	unsigned char hdr[LWS_PRE + 1024], *start = &hdr[LWS_PRE], *p = start,
					   *end = &hdr[sizeof(hdr) - 1];
	char num[24];
	int close_after;

	if (!r || !r->ready)
		return 0;
	if (!r->headers_sent) {
		if (lws_add_http_common_headers(wsi, r->status, "application/json",
						(lws_filepos_t)r->resp_len, &p, end) ||
		    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
						 (const unsigned char *)"no-store", 8, &p, end))
			return -1;
		if (r->cookie[0] && lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_SET_COOKIE,
								 (const unsigned char *)r->cookie,
								 (int)strlen(r->cookie), &p, end))
			return -1;
		if (r->retry_after_s > 0) {
			snprintf(num, sizeof(num), "%lld", r->retry_after_s);
			if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_RETRY_AFTER,
							 (const unsigned char *)num,
							 (int)strlen(num), &p, end))
				return -1;
		}
		if (r->status == HTTP_STATUS_METHOD_NOT_ALLOWED &&
		    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_ALLOW,
						 (const unsigned char *)"POST", 4, &p, end))
			return -1;
		if (lws_finalize_write_http_header(wsi, start, &p, end))
			return -1;
		sodium_memzero(r->cookie, sizeof(r->cookie));
		r->headers_sent = 1;
		lws_callback_on_writable(wsi);
		return 0;
	}
	if (lws_write(wsi, r->resp + LWS_PRE, r->resp_len, LWS_WRITE_HTTP_FINAL) < (int)r->resp_len)
		return -1;
	close_after = r->close_after;
	pss->req = NULL;
	req_free(r);
	if (close_after)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* The connection (or its binding to us) is gone. */
static void on_gone(struct http_auth_pss *pss)
{
	struct http_auth_req *r = pss->req;

	if (!r)
		return;
	pss->req = NULL;
	if (r->pending)
		r->wsi = NULL; /* freed when the work completes */
	else
		req_free(r);
}

int http_auth_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		       size_t len)
{
	struct http_auth_pss *pss = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		if (pss->req)
			on_gone(pss);
		return on_request(wsi, pss);
	case LWS_CALLBACK_HTTP_BODY:
		return pss->req ? on_body(pss->req, in, len) : 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (pss->req)
			body_complete(pss->req);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return on_writable(wsi, pss);
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		if (pss)
			on_gone(pss);
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}
