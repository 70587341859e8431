/*
 * auth_sess.c - session tokens and signing websockets in. A token is 32
 * random bytes from libsodium, sent as base64url; the database keeps only
 * BLAKE2b-256 of it, so a leaked table cannot be replayed.
 */
#include "auth_sess.h"
#include "auth_totp.h"
#include "db.h"
#include "secret.h"
#include "log.h"
#include "sess.h"
#include "srv.h"
#include "bus.h"

#include <libwebsockets.h>
#include <sodium.h>
#include <stdio.h>
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

int auth_session_create(struct srv *srv, long long user_id, const char *ip, const char *user_agent,
			auth_session_cb cb, void *arg)
{
	struct create_req *r = calloc(1, sizeof(*r));
	char hash[65], uid[24], ua[513];
	const char *p[4];
	size_t n;

	if (!r)
		return -1;
	r->cb = cb;
	r->arg = arg;
	auth_token_new(r->token, hash);
	snprintf(uid, sizeof(uid), "%lld", user_id);
	p[0] = uid;
	p[1] = hash;
	p[2] = ip && *ip ? ip : NULL;
	/* a header is bytes: keep the longest valid UTF-8 prefix, up to 512 bytes */
	n = user_agent ? strlen(user_agent) : 0;
	n = proto_utf8_valid_prefix(user_agent ? user_agent : "", n > 512 ? 512 : n);
	memcpy(ua, user_agent ? user_agent : "", n);
	ua[n] = '\0';
	p[3] = n ? ua : NULL;
	if (db_query(srv->db,
		     "INSERT INTO sessions (user_id, token_hash, expires_at, ip, user_agent) "
		     "SELECT $1, decode($2, 'hex'), now() + make_interval(secs => "
		     "(SELECT value::bigint FROM settings WHERE key = 'session_max_age_s')), "
		     "left($3, 64), left($4, 512) "
		     "RETURNING id, floor(extract(epoch FROM expires_at))::bigint",
		     4, p, created, r)) {
		free(r);
		return -1;
	}
	return 0;
}

void auth_sess_sign_in(struct sess *s, long long user_id, const char *username, const char *role,
		       long long session_id)
{
	s->user_id = user_id;
	snprintf(s->username, sizeof(s->username), "%s", username);
	s->role = !strcmp(role, "admin") ? PROTO_ROLE_ADMIN : PROTO_ROLE_USER;
	s->auth_session_id = session_id;
	s->auth_state = SESS_AUTH_OK;
	bus_publish(s->srv, "session", "signed_in",
		    json_pack("{s:I, s:I, s:s}", "session", (json_int_t)s->id, "user",
			      (json_int_t)user_id, "username", s->username));
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
		auth_sess_sign_in(s, strtoll(PQgetvalue(res, 0, 1), NULL, 10),
				  PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3),
				  strtoll(PQgetvalue(res, 0, 0), NULL, 10));
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
	const char *p[1] = {hash};
	uint64_t *sid;

	if (lws_hdr_copy(wsi, s->user_agent, sizeof(s->user_agent), WSI_TOKEN_HTTP_USER_AGENT) < 0)
		s->user_agent[0] = '\0';
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

/* ---------- ending sessions: here, and elsewhere through NOTIFY ---------- */

#define AUTH_SWEEP_MS 30000

struct end_match {
	long long session_id; /* > 0: this login session */
	long long user_id;    /* > 0: every login session of this user ... */
	long long keep;	      /* ... but this one */
	const char *reason;
};

static void end_one(struct sess *s, void *arg)
{
	const struct end_match *m = arg;
	int code;

	if (s->auth_state != SESS_AUTH_OK || s->closing)
		return;
	if (m->session_id > 0 ? s->auth_session_id != m->session_id
			      : (s->user_id != m->user_id || s->auth_session_id == m->keep))
		return;
	code = !strcmp(m->reason, AUTH_END_ACCOUNT_DISABLED) ? AUTH_CLOSE_DISABLED
							     : AUTH_CLOSE_SIGNED_OUT;
	log_json(LOG_INFO, "closing signed-out session",
		 json_pack("{s:I, s:I, s:s}", "session", (json_int_t)s->id, "user_id",
			   (json_int_t)s->user_id, "reason", m->reason));
	sess_notify(s, "session/ended", json_pack("{s:s}", "reason", m->reason));
	auth_sess_sign_out(s);
	sess_close(s, code, code == AUTH_CLOSE_DISABLED ? "account disabled" : "signed out");
}

static void end_local(struct srv *srv, const struct end_match *m)
{
	sess_foreach(srv, end_one, (void *)m);
}

static void notified(void *arg, PGresult *res, const char *err)
{
	if (!res)
		log_json(LOG_WARN, "cannot tell other instances about a session end",
			 json_pack("{s:s}", "error", err));
}

static void end_everywhere(struct srv *srv, const struct end_match *m)
{
	json_t *j;
	char *payload;
	const char *p[1];

	end_local(srv, m);
	j = json_pack("{s:I, s:I, s:I, s:s}", "s", (json_int_t)m->session_id, "u",
		      (json_int_t)m->user_id, "k", (json_int_t)m->keep, "r", m->reason);
	payload = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!payload)
		return;
	p[0] = payload;
	db_query(srv->db, "SELECT pg_notify('" AUTH_CHANNEL "', $1)", 1, p, notified, NULL);
	free(payload);
}

void auth_sess_end_session(struct srv *srv, long long session_id, const char *reason)
{
	struct end_match m = {session_id, 0, 0, reason};

	if (session_id > 0)
		end_everywhere(srv, &m);
}

void auth_sess_end_user(struct srv *srv, long long user_id, long long keep_session_id,
			const char *reason)
{
	struct end_match m = {0, user_id, keep_session_id, reason};

	if (user_id > 0)
		end_everywhere(srv, &m);
}

static const char *known_reason(const char *r)
{
	static const char *const all[] = {AUTH_END_LOGGED_OUT, AUTH_END_REVOKED,
					  AUTH_END_PASSWORD_CHANGED, AUTH_END_EXPIRED,
					  AUTH_END_ACCOUNT_DISABLED};

	for (size_t i = 0; r && i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(r, all[i]))
			return all[i];
	return NULL;
}

long long auth_sess_disabled_user(const char *payload)
{
	json_t *j = payload ? json_loads(payload, 0, NULL) : NULL;
	json_int_t u = 0;
	const char *r = NULL;

	if (!j || json_unpack(j, "{s:I, s:s}", "u", &u, "r", &r) ||
	    strcmp(r, AUTH_END_ACCOUNT_DISABLED))
		u = 0;
	json_decref(j);
	return u > 0 ? (long long)u : 0;
}

static void sweep(struct srv *srv);

/* A NOTIFY from any instance (this one included: ending twice is harmless). */
static void on_notify(void *arg, const char *channel, const char *payload)
{
	struct srv *srv = arg;
	struct end_match m = {0};
	json_int_t s = 0, u = 0, k = 0;
	const char *r = NULL;
	json_t *j;

	if (!payload) { /* the LISTEN connection was re-established: resynchronise */
		sweep(srv);
		return;
	}
	j = json_loads(payload, 0, NULL);
	if (!j || json_unpack(j, "{s:I, s:I, s:I, s:s}", "s", &s, "u", &u, "k", &k, "r", &r) ||
	    !(m.reason = known_reason(r))) {
		json_decref(j);
		return;
	}
	m.session_id = s;
	m.user_id = u;
	m.keep = k;
	if (m.session_id > 0 || m.user_id > 0)
		end_local(srv, &m);
	json_decref(j);
}

/* Sweep: every signed-in websocket's login session still valid? */
struct id_list {
	char *buf;
	size_t len, cap;
	int n;
};

static void collect(struct sess *s, void *arg)
{
	struct id_list *l = arg;
	char one[24];
	int w;

	if (s->auth_state != SESS_AUTH_OK || s->closing || s->auth_session_id <= 0 || !l->buf)
		return;
	w = snprintf(one, sizeof(one), "%s%lld", l->n ? "," : "", s->auth_session_id);
	if (l->len + (size_t)w + 2 > l->cap) {
		char *nb = realloc(l->buf, l->cap * 2);
		if (!nb) {
			free(l->buf);
			l->buf = NULL;
			return;
		}
		l->buf = nb;
		l->cap *= 2;
	}
	memcpy(l->buf + l->len, one, (size_t)w);
	l->len += (size_t)w;
	l->n++;
}

static void swept(void *arg, PGresult *res, const char *err)
{
	struct srv *srv = the_srv;

	if (!res) {
		log_json(LOG_WARN, "session sweep failed", json_pack("{s:s}", "error", err));
		return;
	}
	for (int i = 0; srv && i < PQntuples(res); i++) {
		struct end_match m = {strtoll(PQgetvalue(res, i, 0), NULL, 10), 0, 0,
				      known_reason(PQgetvalue(res, i, 1))};
		if (m.reason)
			end_local(srv, &m);
	}
}

static void sweep(struct srv *srv)
{
	struct id_list l = {malloc(256), 1, 256, 0};
	const char *p[1];

	if (!l.buf)
		return;
	l.buf[0] = '{';
	sess_foreach(srv, collect, &l);
	if (!l.buf || !l.n) {
		free(l.buf);
		return;
	}
	l.buf[l.len++] = '}';
	l.buf[l.len] = '\0';
	p[0] = l.buf;
	db_query(srv->db,
		 "WITH q AS (SELECT DISTINCT unnest($1::bigint[]) AS id), "
		 "live AS (UPDATE sessions s SET last_seen_at = now() FROM q, users u "
		 "  WHERE s.id = q.id AND u.id = s.user_id AND s.revoked_at IS NULL "
		 "  AND s.expires_at > now() AND NOT u.disabled RETURNING s.id) "
		 "SELECT q.id, CASE WHEN u.disabled THEN 'account_disabled' "
		 "  WHEN s.revoked_at IS NOT NULL THEN 'revoked' ELSE 'expired' END "
		 "FROM q LEFT JOIN sessions s ON s.id = q.id LEFT JOIN users u ON u.id = s.user_id "
		 "WHERE q.id NOT IN (SELECT id FROM live)",
		 1, p, swept, NULL);
	free(l.buf);
}

static void pruned(void *arg, PGresult *res, const char *err)
{
	if (!res)
		log_json(LOG_WARN, "pruning old sessions failed", json_pack("{s:s}", "error", err));
}

static void on_sweep_timer(uv_timer_t *t)
{
	struct srv *srv = t->data;

	sweep(srv);
	/* every 10 minutes: sessions over for a week are of no use to anyone */
	if (++srv->auth_sweeps % (600000 / AUTH_SWEEP_MS) == 0)
		db_query(srv->db,
			 "DELETE FROM sessions WHERE expires_at < now() - interval '7 days' "
			 "OR revoked_at < now() - interval '7 days'",
			 0, NULL, pruned, NULL);
}

int auth_init(struct srv *srv)
{
	if (secret_init(&srv->cfg))
		return -1;
	if (auth_totp_init()) {
		log_json(LOG_ERROR, "liboath cannot be initialised", NULL);
		return -1;
	}
	if (db_listen(srv->db, AUTH_CHANNEL, on_notify, srv)) {
		log_json(LOG_ERROR, "cannot LISTEN", json_pack("{s:s}", "channel", AUTH_CHANNEL));
		return -1;
	}
	uv_timer_init(srv->loop, &srv->auth_sweep);
	srv->auth_sweep.data = srv;
	uv_timer_start(&srv->auth_sweep, on_sweep_timer, AUTH_SWEEP_MS, AUTH_SWEEP_MS);
	uv_unref((uv_handle_t *)&srv->auth_sweep);
	return 0;
}
