/*
 * run_plat.c - the registry of platform connections (run_plat.h).
 *
 * An engine reached over TCP needs its row's TLS material (CA, client
 * certificate, client key sealed under the server key: sql/022): each health
 * round reads it, opens the key, and keeps it here by endpoint; the
 * connection is made with it. When an admin changes the material, the next
 * connection asked for is a new one; the old one stays for the runs that
 * hold it (freed with the others at the end).
 */
#include "run_plat.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "srv.h"
#include "bus.h"
#include "secret.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct plat_entry {
	struct plat_entry *next;
	char kind[16];
	char endpoint[512];
	uint64_t tls_sig; /* the TLS material it was made with, 0: none */
	struct plat *plat;
};

/* A TCP platform's TLS material, as the last round read its row. */
struct tls_mat {
	struct tls_mat *next;
	long long id; /* platforms.id */
	char endpoint[512];
	char *ca, *cert, *key; /* PEM texts, the key opened; NULL: cannot be used */
	uint64_t sig;
	char why[160]; /* when key is NULL: why */
};

/*
 * The enabled platforms as the last probe round listed them (the built-in
 * RUNIT_DOCKER_HOST when no row is enabled), with what their last ping
 * said. A platform disabled or deleted leaves the list at the next round.
 */
struct health {
	long long id; /* platforms.id, 0 for the built-in one */
	int up;	      /* 1 up, 0 down, -1 no answer yet */
	int runs;     /* new runs go here: the one run_plat_pick() picks */
	char name[64];
	char kind[16];
	char endpoint[512];
	char oci_runtime[64];
	unsigned rounds;     /* answered pings: the engine is described every 12th */
	uint64_t engine_sig; /* hash of what was last written of it, 0: nothing */
};

/* The module's state (srv->plats), made on first use. */
struct run_plats {
	struct plat_entry *entries; /* connections, by endpoint */
	struct tls_mat *tls;	    /* TCP platforms' TLS material, by row */
	struct health healths[64];
	size_t nhealths;
	uv_timer_t health_timer;
	unsigned health_interval;
	int health_started;
	int health_busy;  /* a round's query is out */
	int health_again; /* start another round as soon as it is back */
	run_plat_round_fn round_fn;
};

static struct run_plats *plats(struct srv *srv)
{
	if (!srv->plats)
		srv->plats = calloc(1, sizeof(*srv->plats));
	return srv->plats;
}

static uint64_t sig_of(const char *const *v, size_t n);

static struct health *health_of(struct srv *srv, long long id);

static struct tls_mat *tls_of(struct run_plats *P, long long id)
{
	struct tls_mat *m;

	for (m = P->tls; m && m->id != id; m = m->next)
		;
	return m;
}

/* The material for a connection asked for by endpoint alone (the queue,
 * the sweep): a row of that endpoint that is up, else any usable one. Rows
 * naming one endpoint are meant to carry the same certificates. */
static struct tls_mat *tls_by_endpoint(struct srv *srv, const char *endpoint)
{
	struct tls_mat *m, *any = NULL;
	struct health *h;

	for (m = plats(srv)->tls; m; m = m->next) {
		if (strcmp(m->endpoint, endpoint) || !m->key)
			continue;
		if ((h = health_of(srv, m->id)) && h->up == 1)
			return m;
		if (!any)
			any = m;
	}
	return any;
}

static void tls_clear(struct tls_mat *m)
{
	if (m->key)
		sodium_memzero(m->key, strlen(m->key));
	free(m->key);
	free(m->cert);
	free(m->ca);
	m->ca = m->cert = m->key = NULL;
}

/* Open the sealed key (hex box and nonce) into a new string; NULL and why. */
static char *tls_open_key(const char *box_hex, const char *nonce_hex, char *why, size_t whysz)
{
	size_t hlen = strlen(box_hex), blen = 0, nlen = 0;
	unsigned char *box = malloc(hlen / 2 + 1), nonce[SECRET_NONCE_LEN];
	char *key = NULL;

	if (!box || sodium_hex2bin(box, hlen / 2 + 1, box_hex, hlen, NULL, &blen, NULL) ||
	    sodium_hex2bin(nonce, sizeof(nonce), nonce_hex, strlen(nonce_hex), NULL, &nlen, NULL) ||
	    nlen != sizeof(nonce) || blen <= SECRET_MAC_LEN ||
	    !(key = calloc(1, blen - SECRET_MAC_LEN + 1)) ||
	    secret_open(box, blen, nonce, (unsigned char *)key)) {
		snprintf(why, whysz,
			 "the TLS key cannot be opened (sealed under another "
			 "server key? RUNIT_SECRET_KEY): save it again");
		free(key);
		key = NULL;
	}
	free(box);
	return key;
}

/* Row i of the health query: its TLS material (columns 5-8), if any. */
static void tls_read(struct run_plats *P, PGresult *res, int i)
{
	const char *ep = PQgetvalue(res, i, 2), *v[3];
	long long id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
	struct tls_mat *m;
	char why[160] = "";
	char *key;
	uint64_t sig;

	if (PQgetisnull(res, i, 5))
		return;
	if (!(m = tls_of(P, id))) {
		if (!(m = calloc(1, sizeof(*m))))
			return;
		m->id = id;
		m->next = P->tls;
		P->tls = m;
	}
	snprintf(m->endpoint, sizeof(m->endpoint), "%s", ep);
	key = tls_open_key(PQgetvalue(res, i, 7), PQgetvalue(res, i, 8), why, sizeof(why));
	v[0] = PQgetvalue(res, i, 5);
	v[1] = PQgetvalue(res, i, 6);
	v[2] = key ? key : "";
	sig = sig_of(v, 3);
	if (key && sig == m->sig && m->key) {
		sodium_memzero(key, strlen(key));
		free(key);
		return; /* unchanged */
	}
	tls_clear(m);
	m->sig = sig;
	snprintf(m->why, sizeof(m->why), "%s", why);
	if (!key)
		return;
	m->ca = strdup(v[0]);
	m->cert = strdup(v[1]);
	m->key = key;
	if (!m->ca || !m->cert)
		tls_clear(m);
}

/* The connection to endpoint made with m (NULL: a unix socket). */
static struct plat *get_with(struct srv *srv, const char *kind, const char *endpoint,
			     const struct tls_mat *m)
{
	struct run_plats *P = plats(srv);
	struct plat_entry *e;
	struct plat_config cfg = {0};

	if (plat_endpoint_is_tcp(endpoint) && (!m || !m->key))
		return NULL; /* not read yet, or its key cannot be opened */
	for (e = P->entries; e; e = e->next)
		if (!strcmp(e->endpoint, endpoint) && !strcmp(e->kind, kind) &&
		    e->tls_sig == (m ? m->sig : 0))
			return e->plat;
	/* podman serves Docker's API; swarm drives a manager's (plat_swarm.c) */
	if (strcmp(kind, "docker") && strcmp(kind, "podman") && strcmp(kind, "swarm"))
		return NULL; /* no kubernetes backend: docs/platforms/kubernetes.md */
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	snprintf(e->kind, sizeof(e->kind), "%s", kind);
	snprintf(e->endpoint, sizeof(e->endpoint), "%s", endpoint);
	cfg.backend = kind;
	cfg.endpoint = endpoint;
	cfg.stats = metrics_platform_api; /* latency and errors for /metrics */
	cfg.max_ops = srv->cfg.engine_ops ? srv->cfg.engine_ops : -1;
	if (m) {
		cfg.tls_ca = m->ca;
		cfg.tls_cert = m->cert;
		cfg.tls_key = m->key;
		e->tls_sig = m->sig;
	}
	if (plat_new(srv->loop, &cfg, &e->plat)) {
		free(e);
		return NULL;
	}
	e->next = P->entries;
	P->entries = e;
	return e->plat;
}

struct plat *run_plat_get(struct srv *srv, const char *kind, const char *endpoint)
{
	return get_with(srv, kind, endpoint,
			plat_endpoint_is_tcp(endpoint) ? tls_by_endpoint(srv, endpoint) : NULL);
}

/* The connection of platform row id (its own TLS material). */
static struct plat *get_row(struct srv *srv, long long id, const char *kind, const char *endpoint)
{
	return get_with(srv, kind, endpoint,
			plat_endpoint_is_tcp(endpoint) ? tls_of(plats(srv), id) : NULL);
}

/* Why run_plat_get() gives no platform for endpoint, for the admins. */
static const char *no_plat_why(struct srv *srv, long long id, const char *endpoint)
{
	struct tls_mat *m = tls_of(plats(srv), id);

	if (!plat_endpoint_is_tcp(endpoint))
		return "this kind of platform is not supported yet";
	if (!m)
		return "a tcp:// engine needs its TLS certificates (tls_ca, tls_cert, tls_key)";
	return m->why[0] ? m->why : "the TLS material cannot be used";
}

static void timer_closed(uv_handle_t *h)
{
	free(h->data); /* the struct run_plats it is in */
}

void run_plat_free_all(struct srv *srv)
{
	struct run_plats *P = srv->plats;
	struct plat_entry *e, *n;

	if (!P)
		return;
	for (e = P->entries; e; e = n) {
		n = e->next;
		plat_free(e->plat);
		free(e);
	}
	for (struct tls_mat *m = P->tls, *mn; m; m = mn) {
		mn = m->next;
		tls_clear(m);
		free(m);
	}
	srv->plats = NULL;
	if (!P->health_started) {
		free(P);
		return;
	}
	/* the timer's memory must last until libuv has closed it */
	uv_timer_stop(&P->health_timer);
	P->health_timer.data = P;
	uv_close((uv_handle_t *)&P->health_timer, timer_closed);
}

struct pick {
	struct srv *srv;
	struct run_platform rp;
	run_plat_cb cb;
	void *arg;
};

static void pinged(void *arg, const struct plat_info *info, const struct plat_err *err)
{
	struct pick *pk = arg;

	if (err) {
		log_json(LOG_WARN, "platform unavailable",
			 json_pack("{s:s, s:s}", "platform", pk->rp.name, "error", err->message));
		pk->cb(pk->arg, NULL, err->message);
	} else {
		pk->cb(pk->arg, &pk->rp, NULL);
	}
	free(pk);
}

static void row_read(void *arg, PGresult *res, const char *err)
{
	struct pick *pk = arg;
	const char *kind = "docker", *endpoint = pk->srv->cfg.docker_host;

	if (!res) {
		pk->cb(pk->arg, NULL, "database unavailable");
		free(pk);
		return;
	}
	snprintf(pk->rp.name, sizeof(pk->rp.name), "built-in");
	if (PQntuples(res) == 1) {
		pk->rp.id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		kind = PQgetvalue(res, 0, 1);
		endpoint = PQgetvalue(res, 0, 2);
		snprintf(pk->rp.oci_runtime, sizeof(pk->rp.oci_runtime), "%s",
			 PQgetvalue(res, 0, 3));
		snprintf(pk->rp.name, sizeof(pk->rp.name), "%s", PQgetvalue(res, 0, 4));
	}
	pk->rp.plat = get_row(pk->srv, pk->rp.id, kind, endpoint);
	if (!pk->rp.plat) {
		pk->cb(pk->arg, NULL, "this kind of platform is not supported yet");
		free(pk);
		return;
	}
	if (plat_ping(pk->rp.plat, pinged, pk)) {
		pk->cb(pk->arg, NULL, "platform unavailable");
		free(pk);
	}
}

int run_plat_pick(struct srv *srv, run_plat_cb cb, void *arg)
{
	struct pick *pk = calloc(1, sizeof(*pk));

	if (!pk)
		return -1;
	pk->srv = srv;
	pk->cb = cb;
	pk->arg = arg;
	if (db_query(srv->db,
		     "SELECT id, kind, endpoint, coalesce(options->>'oci_runtime', ''), name "
		     "FROM platforms WHERE enabled ORDER BY is_default DESC, id LIMIT 1",
		     0, NULL, row_read, pk)) {
		free(pk);
		return -1;
	}
	return 0;
}

static void set_health(struct srv *srv, long long id, const char *name, int up, const char *why);

const char *run_plat_health(struct srv *srv, long long platform_id)
{
	struct run_plats *P = plats(srv);
	for (size_t i = 0; i < P->nhealths; i++)
		if (P->healths[i].id == platform_id)
			return P->healths[i].up < 0 ? "unknown" : P->healths[i].up ? "up" : "down";
	return "unknown";
}

int run_plat_can_run(struct srv *srv)
{
	struct run_plats *P = plats(srv);
	for (size_t i = 0; i < P->nhealths; i++)
		if (P->healths[i].up == 1)
			return 1;
	return 0;
}

static int fill(struct srv *srv, const struct health *h, struct run_platform *out)
{
	memset(out, 0, sizeof(*out));
	out->id = h->id;
	out->plat = get_row(srv, h->id, h->kind, h->endpoint);
	snprintf(out->oci_runtime, sizeof(out->oci_runtime), "%s", h->oci_runtime);
	snprintf(out->name, sizeof(out->name), "%s", h->name);
	return out->plat ? 0 : -1;
}

int run_plat_by_id(struct srv *srv, long long id, struct run_platform *out)
{
	struct health *h = health_of(srv, id);

	return h ? fill(srv, h, out) : -1;
}

size_t run_plat_list(struct srv *srv, struct run_platform *out, int *up, size_t max)
{
	struct run_plats *P = plats(srv);
	size_t n = 0;

	for (size_t i = 0; i < P->nhealths && n < max; i++)
		if (!fill(srv, &P->healths[i], &out[n])) {
			up[n] = P->healths[i].up;
			n++;
		}
	return n;
}

int run_plat_down_at(struct srv *srv, long long id, const char *endpoint)
{
	struct health *h = health_of(srv, id);

	return h && h->up == 0 && !strcmp(h->endpoint, endpoint);
}

void run_plat_mark_down(struct srv *srv, long long id, const char *why)
{
	struct health *h = health_of(srv, id);

	if (h)
		set_health(srv, id, h->name, 0, why);
}

json_t *run_plat_health_all(struct srv *srv)
{
	struct run_plats *P = plats(srv);
	json_t *all = json_array();

	for (size_t i = 0; i < P->nhealths; i++)
		json_array_append_new(all,
				      json_pack("{s:s, s:s, s:b}", "name", P->healths[i].name,
						"health", run_plat_health(srv, P->healths[i].id),
						"default", P->healths[i].runs));
	return all;
}

struct probe {
	struct srv *srv;
	long long id;
	char name[64];
	struct plat *plat;
	char endpoint[512];
};

static void up_saved(void *arg, PGresult *res, const char *err)
{
	if (!res)
		log_json(LOG_WARN, "platform health not recorded",
			 json_pack("{s:s}", "error", err ? err : "database unavailable"));
}

/* Every instance's placement reads it (sql/019_engines.sql): written at
 * each answer, not only at a change here (another instance may have said
 * otherwise meanwhile); the function writes only what differs. */
static void save_up(struct srv *srv, long long id, int up, const char *why)
{
	char sid[24];
	const char *params[3] = {sid, up ? "true" : "false", why ? why : ""};

	if (!id)
		return;
	snprintf(sid, sizeof(sid), "%lld", id);
	db_query(srv->db, "SELECT runit_platform_health($1::bigint, $2::boolean, $3)", 3, params,
		 up_saved, NULL);
}

/* A ping's answer for platform id, if it is still listed. */
static void set_health(struct srv *srv, long long id, const char *name, int up, const char *why)
{
	struct run_plats *P = plats(srv);
	size_t i;

	for (i = 0; i < P->nhealths && P->healths[i].id != id; i++)
		;
	if (i < P->nhealths && P->healths[i].up == up)
		save_up(srv, id, up, why);
	if (i == P->nhealths || P->healths[i].up == up)
		return;
	P->healths[i].up = up;
	save_up(srv, id, up, why);
	log_json(up ? LOG_INFO : LOG_WARN, up ? "platform up" : "platform down",
		 json_pack("{s:I, s:s, s:s}", "platform", (json_int_t)id, "name", name, "error",
			   why ? why : ""));
	bus_publish(srv, "platform", up ? "up" : "down",
		    json_pack("{s:I, s:s, s:s}", "platform", (json_int_t)id, "name", name, "error",
			      why ? why : ""));
}

static struct health *health_of(struct srv *srv, long long id)
{
	struct run_plats *P = plats(srv);

	for (size_t i = 0; i < P->nhealths; i++)
		if (P->healths[i].id == id)
			return &P->healths[i];
	return NULL;
}

/* Whether this answered ping should also ask the engine what it is: the
 * first time, then every 12th round (a minute at the default 5 s). */
static int describe_due(struct srv *srv, long long id)
{
	struct health *h = health_of(srv, id);

	return h && (h->rounds++ % 12 == 0 || !h->engine_sig);
}

static void engine_saved(void *arg, PGresult *res, const char *err)
{
	if (!res)
		log_json(LOG_WARN, "platform engine not recorded",
			 json_pack("{s:s}", "error", err ? err : "database unavailable"));
}

/* FNV-1a over the strings, each with its terminating NUL; never 0. */
static uint64_t sig_of(const char *const *v, size_t n)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < n; i++) {
		const unsigned char *p = (const unsigned char *)v[i];

		do
			h = (h ^ *p) * 1099511628211ULL;
		while (*p++);
	}
	return h ? h : 1;
}

/* What the engine said: into the platform's row when it changed. */
static void described(void *arg, const struct plat_engine *eng, const struct plat_err *err)
{
	struct probe *pr = arg;
	struct health *h;
	char id[24];
	char *info_s;
	json_t *info;
	uint64_t sig;

	if (!eng || !(h = health_of(pr->srv, pr->id))) {
		free(pr);
		return;
	}
	info = json_pack("{s:s, s:s, s:s, s:i, s:I, s:s, s:i}", "api_version", eng->api_version,
			 "kernel", eng->kernel, "operating_system", eng->operating_system, "ncpu",
			 eng->ncpu, "mem_total", (json_int_t)eng->mem_total, "swarm", eng->swarm,
			 "swarm_nodes", eng->swarm_nodes);
	info_s = info ? json_dumps(info, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(info);
	snprintf(id, sizeof(id), "%lld", pr->id);
	if (info_s) {
		const char *params[6] = {id,	    pr->endpoint, eng->os,
					 eng->arch, eng->version, info_s};

		sig = sig_of(params + 1, 5);
		if (sig != h->engine_sig &&
		    !db_query(pr->srv->db,
			      "SELECT runit_platform_engine($1::bigint, $2, $3, $4, $5, $6::jsonb)",
			      6, params, engine_saved, NULL))
			h->engine_sig = sig;
	}
	free(info_s);
	free(pr);
}

static void probed(void *arg, const struct plat_info *info, const struct plat_err *err)
{
	struct probe *pr = arg;

	if (err && err->code == PLAT_E_CANCELED) {
		free(pr);
		return;
	}
	set_health(pr->srv, pr->id, pr->name, err == NULL, err ? err->message : NULL);
	if (!err && pr->id && describe_due(pr->srv, pr->id) &&
	    plat_engine(pr->plat, described, pr) == 0)
		return; /* described() frees pr */
	free(pr);
}

static void health_tick(uv_timer_t *t);

static void health_next(struct srv *srv, unsigned ms)
{
	struct run_plats *P = plats(srv);
	if (P->health_started) /* not after run_plat_free_all() */
		uv_timer_start(&P->health_timer, health_tick, ms, 0);
}

/* List row i (or the built-in platform) with the health it had. */
static void list_one(struct health *out, const struct health *old, size_t nold, long long id,
		     const char *name, int runs, const char *kind, const char *endpoint,
		     const char *oci_runtime)
{
	snprintf(out->kind, sizeof(out->kind), "%s", kind);
	snprintf(out->endpoint, sizeof(out->endpoint), "%s", endpoint);
	snprintf(out->oci_runtime, sizeof(out->oci_runtime), "%s", oci_runtime);
	out->id = id;
	out->up = -1;
	out->runs = runs;
	out->rounds = 0;
	out->engine_sig = 0;
	snprintf(out->name, sizeof(out->name), "%s", name);
	for (size_t j = 0; j < nold; j++)
		if (old[j].id == id) {
			out->up = old[j].up;
			out->rounds = old[j].rounds;
			out->engine_sig = old[j].engine_sig;
		}
}

static void ping_one(struct srv *srv, const struct health *h, const char *kind,
		     const char *endpoint)
{
	struct plat *p = get_row(srv, h->id, kind, endpoint);
	struct probe *pr;

	if (!p) {
		set_health(srv, h->id, h->name, 0, no_plat_why(srv, h->id, endpoint));
		return;
	}
	pr = calloc(1, sizeof(*pr));
	if (!pr)
		return;
	pr->srv = srv;
	pr->id = h->id;
	pr->plat = p;
	snprintf(pr->name, sizeof(pr->name), "%s", h->name);
	snprintf(pr->endpoint, sizeof(pr->endpoint), "%s", endpoint);
	if (plat_ping(p, probed, pr)) {
		set_health(srv, h->id, h->name, 0, "cannot ping");
		free(pr);
	}
}

static void rows_for_health(void *arg, PGresult *res, const char *err)
{
	struct srv *srv = arg;
	struct run_plats *P = srv->plats;
	struct health old[sizeof(P->healths) / sizeof(P->healths[0])];
	size_t nold, n;

	if (!P) /* run_plat_free_all() ran: the pool ends this query as the server stops */
		return;
	nold = P->nhealths;
	P->health_busy = 0;
	if (!res) { /* the database is away: keep the list, try again soon */
		health_next(srv, P->health_again ? 0 : 1000);
		P->health_again = 0;
		return;
	}
	memcpy(old, P->healths, nold * sizeof(old[0]));
	n = (size_t)PQntuples(res);
	if (n > sizeof(P->healths) / sizeof(P->healths[0]))
		n = sizeof(P->healths) / sizeof(P->healths[0]);
	/* rows in run_plat_pick()'s order: the first one takes the runs */
	for (size_t i = 0; i < n; i++)
		list_one(&P->healths[i], old, nold, strtoll(PQgetvalue(res, (int)i, 0), NULL, 10),
			 PQgetvalue(res, (int)i, 3), i == 0, PQgetvalue(res, (int)i, 1),
			 PQgetvalue(res, (int)i, 2), PQgetvalue(res, (int)i, 4));
	if (!n)
		list_one(&P->healths[n++], old, nold, 0, "built-in", 1, "docker",
			 srv->cfg.docker_host, "");
	P->nhealths = n;
	for (size_t i = 0; i < n && PQntuples(res); i++)
		tls_read(P, res, (int)i);
	for (size_t i = 0; i < n && PQntuples(res); i++)
		ping_one(srv, &P->healths[i], PQgetvalue(res, (int)i, 1),
			 PQgetvalue(res, (int)i, 2));
	if (!PQntuples(res))
		ping_one(srv, &P->healths[0], "docker", srv->cfg.docker_host);
	if (P->round_fn) /* the platform new runs go to, for the image check */
		P->round_fn(srv,
			    PQntuples(res) ? get_row(srv, P->healths[0].id, PQgetvalue(res, 0, 1),
						     PQgetvalue(res, 0, 2))
					   : run_plat_get(srv, "docker", srv->cfg.docker_host),
			    P->healths[0].id);
	health_next(srv, P->health_again ? 0 : P->health_interval);
	P->health_again = 0;
}

static void health_tick(uv_timer_t *t)
{
	struct srv *srv = t->data;
	struct run_plats *P = plats(srv);

	P->health_busy = 1;
	if (db_query(srv->db,
		     "SELECT id, kind, endpoint, name, coalesce(options->>'oci_runtime', ''),"
		     " tls_ca, tls_cert, encode(tls_key_enc, 'hex'), encode(tls_key_nonce, 'hex')"
		     " FROM platforms WHERE enabled ORDER BY is_default DESC, id",
		     0, NULL, rows_for_health, srv)) {
		P->health_busy = 0;
		health_next(srv, 1000);
	}
}

/* An admin changed a platform here: probe now, not at the next round. */
static void on_config(void *arg, const struct bus_event *ev)
{
	struct srv *srv = arg;
	struct run_plats *P = plats(srv);

	if (strncmp(ev->kind, "platform.", 9) || !P->health_started)
		return;
	if (P->health_busy)
		P->health_again = 1;
	else
		health_next(srv, 0);
}

void run_plat_on_round(struct srv *srv, run_plat_round_fn fn)
{
	plats(srv)->round_fn = fn;
}

void run_plat_start_health(struct srv *srv, unsigned interval_ms)
{
	struct run_plats *P = plats(srv);
	uv_timer_init(srv->loop, &P->health_timer);
	P->health_timer.data = srv;
	P->health_interval = interval_ms;
	P->health_started = 1;
	health_next(srv, 0); /* at once: a fresh server says "ok" as soon as it can */
	if (bus_on(srv, "config", on_config, srv))
		log_json(LOG_WARN, "platform changes wait for the next health round", NULL);
}
