/*
 * test_plat_docker_outage.c - the "docker" platform when the engine is not
 * there: an absent socket gives PLAT_E_UNAVAILABLE through the callbacks
 * (never a crash); an engine that goes away mid-run (its socket gone and
 * every connection cut) fails what was in flight, and once it is back the
 * same platform object works again, renegotiating the API version; freeing
 * the platform with work in flight runs each callback once.
 *
 * And the gate: with max_ops places, creates and removals sent all at once
 * reach the engine that many at a time (the proxy counts the connections
 * libcurl had to open), all succeed, and freeing the platform fails what
 * still waits for a place, once each.
 *
 * The outage is simulated with a small unix-socket proxy on the test's own
 * loop, in front of the real engine (RUNIT_DOCKER_HOST): stopping it
 * removes the socket path and closes every connection, as a dying engine
 * does. The real engine is never touched.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "test_plat_live.h"

/* ---- a unix socket proxy that can die and come back ---- */

struct pconn;

struct proxy {
	uv_loop_t *loop;
	uv_pipe_t server;
	int server_closed;
	char path[108];
	char target[108];
	struct pconn *conns;
	int accepted;
};

struct pconn {
	struct proxy *px;
	uv_pipe_t client, upstream;
	int closing, nclosed, eofs;
	struct pconn *next, *prev;
};

struct pwrite {
	uv_write_t req;
	char *data;
};

static void px_alloc(uv_handle_t *h, size_t size, uv_buf_t *b)
{
	b->base = malloc(65536);
	b->len = b->base ? 65536 : 0;
}

static void px_conn_closed(uv_handle_t *h)
{
	struct pconn *c = h->data;

	if (++c->nclosed == 2)
		free(c);
}

static void px_conn_close(struct pconn *c)
{
	struct proxy *px = c->px;

	if (c->closing)
		return;
	c->closing = 1;
	if (c->prev)
		c->prev->next = c->next;
	else
		px->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	uv_close((uv_handle_t *)&c->client, px_conn_closed);
	uv_close((uv_handle_t *)&c->upstream, px_conn_closed);
}

static void px_written(uv_write_t *w, int status)
{
	struct pwrite *pw = (struct pwrite *)w;

	free(pw->data);
	free(pw);
}

static void px_shut(uv_shutdown_t *req, int status)
{
	struct pconn *c = req->data;

	free(req);
	if (c->eofs == 2)
		px_conn_close(c);
}

static void px_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct pconn *c = s->data;
	uv_stream_t *other = s == (uv_stream_t *)&c->client ? (uv_stream_t *)&c->upstream
							    : (uv_stream_t *)&c->client;

	if (n > 0) {
		struct pwrite *pw = malloc(sizeof(*pw));
		uv_buf_t wb = uv_buf_init(b->base, (unsigned)n);

		assert_non_null(pw);
		pw->data = b->base;
		if (uv_write(&pw->req, other, &wb, 1, px_written) < 0) {
			free(pw->data);
			free(pw);
			px_conn_close(c);
		}
		return;
	}
	free(b->base);
	if (n == UV_EOF && !c->closing) {
		/* pass the half-close on once what was written has gone */
		uv_shutdown_t *req = malloc(sizeof(*req));

		assert_non_null(req);
		req->data = c;
		c->eofs++;
		uv_read_stop(s);
		if (uv_shutdown(req, other, px_shut) < 0) {
			free(req);
			px_conn_close(c);
		}
	} else if (n < 0) {
		px_conn_close(c);
	}
}

static void px_connected(uv_connect_t *req, int status)
{
	struct pconn *c = req->data;

	free(req);
	if (status < 0) {
		px_conn_close(c);
		return;
	}
	uv_read_start((uv_stream_t *)&c->client, px_alloc, px_read);
	uv_read_start((uv_stream_t *)&c->upstream, px_alloc, px_read);
}

static void px_on_conn(uv_stream_t *server, int status)
{
	struct proxy *px = server->data;
	struct pconn *c = calloc(1, sizeof(*c));
	uv_connect_t *req = malloc(sizeof(*req));

	assert_non_null(c);
	assert_non_null(req);
	c->px = px;
	uv_pipe_init(px->loop, &c->client, 0);
	uv_pipe_init(px->loop, &c->upstream, 0);
	c->client.data = c->upstream.data = c;
	c->next = px->conns;
	if (px->conns)
		px->conns->prev = c;
	px->conns = c;
	if (uv_accept(server, (uv_stream_t *)&c->client) < 0) {
		free(req);
		px_conn_close(c);
		return;
	}
	px->accepted++;
	req->data = c;
	uv_pipe_connect(req, &c->upstream, px->target, px_connected);
}

static void px_start(struct proxy *px)
{
	assert_int_equal(uv_pipe_init(px->loop, &px->server, 0), 0);
	px->server.data = px;
	px->server_closed = 0;
	unlink(px->path);
	assert_int_equal(uv_pipe_bind(&px->server, px->path), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&px->server, 16, px_on_conn), 0);
}

static void px_server_closed(uv_handle_t *h)
{
	struct proxy *px = h->data;

	px->server_closed = 1;
}

/* The engine "dies": no socket, every connection cut. */
static void px_stop(struct env *e, struct proxy *px)
{
	uv_close((uv_handle_t *)&px->server, px_server_closed);
	unlink(px->path);
	while (px->conns)
		px_conn_close(px->conns);
	run_until(e, &px->server_closed, 5000, "proxy close");
}

static void px_init(struct env *e, struct proxy *px)
{
	const char *t = e->host;

	memset(px, 0, sizeof(*px));
	px->loop = &e->loop;
	if (!strncmp(t, "unix://", 7))
		t += 7;
	snprintf(px->target, sizeof(px->target), "%s", t);
	snprintf(px->path, sizeof(px->path), "/tmp/runit-test-proxy-%d.sock", (int)getpid());
}

/* A platform whose engine is reached through px (started here). */
static struct plat *px_platform(struct env *e, struct proxy *px, struct plat_config *cfg, char *ep,
				size_t epsz)
{
	struct plat *p;

	px_init(e, px);
	px_start(px);
	snprintf(ep, epsz, "unix://%s", px->path);
	cfg->endpoint = ep;
	assert_int_equal(plat_new(&e->loop, cfg, &p), 0);
	return p;
}

/* ---- the tests ---- */

static void test_outage_engine_goes_away_mid_run_and_comes_back(void **state)
{
	struct env *e = *state;
	static const char *const argv[] = {"sleep", "1000", NULL};
	struct plat_label labels[2], match = {"runit.test", e->label};
	struct plat_config cfg = {.op_timeout_ms = 10000};
	struct plat_spec spec;
	struct proxy px;
	struct run r = {0};
	struct res w = {0}, a = {0}, b = {0}, c = {0}, rm = {0}, l = {0};
	char ep[160];
	struct plat *p;

	NEED_ENGINE(e);
	signal(SIGPIPE, SIG_IGN); /* the proxy writes to cut connections */
	p = px_platform(e, &px, &cfg, ep, sizeof(ep));

	spec_init(e, &spec, argv, labels);
	r.p = p;
	run_begin(e, &r, &spec, NULL, 0);
	assert_int_equal(plat_wait(p, r.id, wait_cb, &w), 0);
	run_for(e, 300);
	assert_int_equal(w.done, 0);

	px_stop(e, &px);
	/* what was in flight ends: the attach, the wait */
	run_until(e, &r.ended, 10000, "attach end");
	AWAIT(e, &w, "wait");
	print_message("wait when the engine went away: %s\n", w.msg);
	assert_int_equal(w.code, PLAT_E_UNAVAILABLE);
	assert_int_equal(plat_ping(p, ping_cb, &a), 0);
	AWAIT(e, &a, "ping, engine away");
	assert_int_equal(a.code, PLAT_E_UNAVAILABLE);
	assert_int_equal(plat_list(p, &match, 1, list_cb, &b), 0);
	AWAIT(e, &b, "list, engine away");
	assert_int_equal(b.code, PLAT_E_UNAVAILABLE);
	print_message("engine away: %s\n", b.msg);

	px_start(&px);
	assert_int_equal(plat_list(p, &match, 1, list_cb, &c), 0);
	AWAIT(e, &c, "list, engine back");
	OK_OR_FAIL(&c);
	assert_int_equal(c.count, 1); /* the sleeper is still there */
	assert_int_equal(plat_remove(p, r.id, done_cb, &rm), 0);
	AWAIT(e, &rm, "remove");
	OK_OR_FAIL(&rm);
	assert_int_equal(plat_list(p, &match, 1, list_cb, &l), 0);
	AWAIT(e, &l, "list");
	assert_int_equal(l.count, 0);
	plat_free(p);
	px_stop(e, &px);
	run_release(&r);
}

static void test_outage_absent_engine_is_unavailable_not_a_crash(void **state)
{
	struct env *e = *state;
	static const char *const argv[] = {"true", NULL};
	struct plat_config cfg = {.endpoint = "unix:///tmp/runit-no-engine.sock",
				  .op_timeout_ms = 5000};
	struct plat_label labels[2];
	struct plat_spec spec;
	struct plat *p;
	struct res a = {0}, b = {0}, c = {0};

	assert_int_equal(plat_new(&e->loop, &cfg, &p), 0);
	assert_int_equal(plat_ping(p, ping_cb, &a), 0);
	/* two requests wait for the same negotiation */
	spec_init(e, &spec, argv, labels);
	assert_int_equal(plat_create(p, &spec, create_cb, &b), 0);
	assert_int_equal(plat_remove(p, "abc", done_cb, &c), 0);
	AWAIT(e, &a, "ping");
	AWAIT(e, &b, "create");
	AWAIT(e, &c, "remove");
	assert_int_equal(a.code, PLAT_E_UNAVAILABLE);
	assert_int_equal(b.code, PLAT_E_UNAVAILABLE);
	assert_int_equal(c.code, PLAT_E_UNAVAILABLE);
	assert_non_null(strstr(a.msg, "/tmp/runit-no-engine.sock"));
	plat_free(p);
	uv_run(&e->loop, UV_RUN_NOWAIT);

	/* over TCP only with TLS (test_plat_tls.c) */
	struct plat_config tcp = {.endpoint = "tcp://127.0.0.1:2375"};
	assert_int_equal(plat_new(&e->loop, &tcp, &p), PLAT_E_INVAL);
	assert_null(p);
}

/* plat_free with work in flight: every callback runs, once. */
static void test_outage_free_cancels_pending_work(void **state)
{
	struct env *e = *state;
	struct plat_config cfg = {.endpoint = e->host};
	struct res a = {0}, b = {0};
	struct plat *p;

	NEED_ENGINE(e);
	assert_int_equal(plat_new(&e->loop, &cfg, &p), 0);
	assert_int_equal(plat_ping(p, ping_cb, &a), 0);
	assert_int_equal(plat_wait(p, "no-such-container-xyz", wait_cb, &b), 0);
	plat_free(p);
	assert_int_equal(a.done, 1);
	assert_int_equal(b.done, 1);
	assert_int_equal(a.code, PLAT_E_CANCELED);
	assert_int_equal(b.code, PLAT_E_CANCELED);
	uv_run(&e->loop, UV_RUN_NOWAIT);
}

#define NOPS 6

/* NOPS creates, then NOPS removals, all asked at once on a platform with
 * max_ops places: the connections the engine saw. */
static int ops_at_once(struct env *e, int max_ops)
{
	static const char *const argv[] = {"true", NULL};
	struct plat_label labels[2];
	struct plat_config cfg = {.op_timeout_ms = 30000, .max_ops = max_ops};
	struct plat_spec spec;
	struct res c[NOPS], rm[NOPS];
	struct proxy px;
	struct plat *p;
	char ep[160];
	int i, seen;

	p = px_platform(e, &px, &cfg, ep, sizeof(ep));
	spec_init(e, &spec, argv, labels);
	memset(c, 0, sizeof(c));
	memset(rm, 0, sizeof(rm));
	for (i = 0; i < NOPS; i++)
		assert_int_equal(plat_create(p, &spec, create_cb, &c[i]), 0);
	for (i = 0; i < NOPS; i++) {
		AWAIT(e, &c[i], "create");
		OK_OR_FAIL(&c[i]);
	}
	for (i = 0; i < NOPS; i++)
		assert_int_equal(plat_remove(p, c[i].id, done_cb, &rm[i]), 0);
	for (i = 0; i < NOPS; i++) {
		AWAIT(e, &rm[i], "remove");
		OK_OR_FAIL(&rm[i]);
	}
	seen = px.accepted;
	plat_free(p);
	px_stop(e, &px);
	print_message("max_ops %d: %d connections for %d creates and %d removals\n", max_ops, seen,
		      NOPS, NOPS);
	return seen;
}

static void test_gate_ops_wait_their_turn(void **state)
{
	struct env *e = *state;

	NEED_ENGINE(e);
	signal(SIGPIPE, SIG_IGN);
	/* libcurl opens a connection only when every open one is busy */
	assert_true(ops_at_once(e, 2) <= 2);
	assert_true(ops_at_once(e, -1) > 2); /* no limit: they all go at once */
}

static void test_gate_free_cancels_what_waits(void **state)
{
	struct env *e = *state;
	static const char *const argv[] = {"true", NULL};
	struct plat_label labels[2];
	struct plat_config cfg = {.endpoint = e->host, .max_ops = 1};
	struct plat_spec spec;
	struct res a = {0}, c[3];
	struct plat *p;
	int i;

	NEED_ENGINE(e);
	memset(c, 0, sizeof(c));
	assert_int_equal(plat_new(&e->loop, &cfg, &p), 0);
	assert_int_equal(plat_ping(p, ping_cb, &a), 0); /* the version is known */
	AWAIT(e, &a, "ping");
	OK_OR_FAIL(&a);
	spec_init(e, &spec, argv, labels);
	for (i = 0; i < 3; i++)
		assert_int_equal(plat_create(p, &spec, create_cb, &c[i]), 0);
	plat_free(p); /* one with the engine, two waiting for its place */
	for (i = 0; i < 3; i++) {
		assert_int_equal(c[i].done, 1);
		assert_int_equal(c[i].code, PLAT_E_CANCELED);
	}
	uv_run(&e->loop, UV_RUN_NOWAIT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_outage_absent_engine_is_unavailable_not_a_crash),
	    cmocka_unit_test(test_outage_engine_goes_away_mid_run_and_comes_back),
	    cmocka_unit_test(test_outage_free_cancels_pending_work),
	    cmocka_unit_test(test_gate_ops_wait_their_turn),
	    cmocka_unit_test(test_gate_free_cancels_what_waits),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
