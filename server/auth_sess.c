/*
 * auth_sess.c - session tokens and signing websockets in. A token is 32
 * random bytes from libsodium, sent as base64url; the database keeps only
 * BLAKE2b-256 of it, so a leaked table cannot be replayed.
 */
#include "auth_sess.h"
#include "db.h"
#include "log.h"
#include "sess.h"
#include "srv.h"

#include <libwebsockets.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

void auth_token_new(char token[AUTH_TOKEN_LEN + 1], char hash_hex[65])
{
	unsigned char raw[32];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(token, AUTH_TOKEN_LEN + 1, raw, sizeof(raw),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	auth_token_hash(token, hash_hex);
}

int auth_token_hash(const char *token, char hash_hex[65])
{
	unsigned char h[32];
	size_t n = strlen(token);

	if (n != AUTH_TOKEN_LEN ||
	    strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != n)
		return -1;
	crypto_generichash(h, sizeof(h), (const unsigned char *)token, n, NULL, 0);
	sodium_bin2hex(hash_hex, 65, h, sizeof(h));
	return 0;
}

struct create_req {
	char token[AUTH_TOKEN_LEN + 1];
	auth_session_cb cb;
	void *arg;
};

static void created(void *arg, PGresult *res, const char *err)
{
	struct create_req *r = arg;

	if (!res || PQntuples(res) != 1)
		r->cb(r->arg, NULL, 0, 0, err ? err : "no session row");
	else
		r->cb(r->arg, r->token, strtoll(PQgetvalue(res, 0, 0), NULL, 10),
		      strtoll(PQgetvalue(res, 0, 1), NULL, 10), NULL);
	sodium_memzero(r->token, sizeof(r->token));
	free(r);
}

int auth_session_create(struct srv *srv, long long user_id, const char *ip,
			const char *user_agent, auth_session_cb cb, void *arg)
{
	struct create_req *r = calloc(1, sizeof(*r));
	char hash[65], uid[24];
	const char *p[4];

	if (!r)
		return -1;
	r->cb = cb;
	r->arg = arg;
	auth_token_new(r->token, hash);
	snprintf(uid, sizeof(uid), "%lld", user_id);
	p[0] = uid;
	p[1] = hash;
	p[2] = ip && *ip ? ip : NULL;
	p[3] = user_agent && *user_agent ? user_agent : NULL;
	if (db_query(srv->db,
		     "INSERT INTO sessions (user_id, token_hash, expires_at, ip, user_agent) "
		     "SELECT $1, decode($2, 'hex'), now() + make_interval(secs => "
		     "(SELECT value::bigint FROM settings WHERE key = 'session_max_age_s')), "
		     "left($3, 64), left($4, 512) "
		     "RETURNING id, extract(epoch FROM expires_at)::bigint",
		     4, p, created, r)) {
		free(r);
		return -1;
	}
	return 0;
}

void auth_sess_sign_in(struct sess *s, long long user_id, const char *username,
		       const char *role, long long session_id)
{
	s->user_id = user_id;
	snprintf(s->username, sizeof(s->username), "%s", username);
	s->role = !strcmp(role, "admin") ? PROTO_ROLE_ADMIN : PROTO_ROLE_USER;
	s->auth_session_id = session_id;
	s->auth_state = SESS_AUTH_OK;
}

void auth_sess_sign_out(struct sess *s)
{
	s->user_id = 0;
	s->username[0] = '\0';
	s->role = PROTO_ROLE_ANON;
	s->auth_session_id = 0;
	s->auth_state = SESS_AUTH_NONE;
}

/* Look the token up; the sess is found again by id when the answer comes. */
static void looked_up(void *arg, PGresult *res, const char *err)
{
	uint64_t *sid = arg;
	struct sess *s = the_srv ? sess_find(the_srv, *sid) : NULL;

	free(sid);
	if (!s)
		return;
	if (!res) {
		s->auth_state = SESS_AUTH_UNAVAILABLE;
		log_json(LOG_WARN, "session lookup failed",
			 json_pack("{s:I, s:s}", "session", (json_int_t)s->id, "error", err));
	} else if (PQntuples(res) == 1) {
		auth_sess_sign_in(s, strtoll(PQgetvalue(res, 0, 1), NULL, 10), PQgetvalue(res, 0, 2),
				  PQgetvalue(res, 0, 3), strtoll(PQgetvalue(res, 0, 0), NULL, 10));
	} else {
		s->auth_state = SESS_AUTH_INVALID;
	}
	lws_rx_flow_control(s->wsi, 1);
}

static int token_from_request(struct lws *wsi, char *out, size_t outsz)
{
	char auth[128];
	size_t max = outsz;

	if (lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION) > 7 &&
	    !strncmp(auth, "Bearer ", 7)) {
		snprintf(out, outsz, "%s", auth + 7);
		return 0;
	}
	if (!lws_http_cookie_get(wsi, AUTH_COOKIE, out, &max))
		return 0;
	return -1;
}

void auth_sess_on_established(struct sess *s, struct lws *wsi)
{
	char token[128], hash[65];
	const char *p[1] = { hash };
	uint64_t *sid;

	if (token_from_request(wsi, token, sizeof(token)))
		return;
	if (auth_token_hash(token, hash)) {
		s->auth_state = SESS_AUTH_INVALID;
		return;
	}
	sodium_memzero(token, sizeof(token));
	sid = malloc(sizeof(*sid));
	if (!sid)
		return;
	*sid = s->id;
	/* Valid: not revoked, not expired, used within the idle timeout, user enabled. */
	if (db_query(s->srv->db,
		     "UPDATE sessions s SET last_seen_at = now() FROM users u "
		     "WHERE s.token_hash = decode($1, 'hex') AND u.id = s.user_id "
		     "AND s.revoked_at IS NULL AND s.expires_at > now() AND NOT u.disabled "
		     "AND s.last_seen_at > now() - make_interval(secs => "
		     "(SELECT value::bigint FROM settings WHERE key = 'session_idle_s')) "
		     "RETURNING s.id, u.id, u.username, u.role",
		     1, p, looked_up, sid)) {
		free(sid);
		s->auth_state = SESS_AUTH_UNAVAILABLE;
		return;
	}
	s->auth_state = SESS_AUTH_PENDING;
	lws_rx_flow_control(wsi, 0);
}
