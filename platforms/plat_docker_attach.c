/*
 * plat_docker_attach.c - a container's output and stdin for the "docker"
 * platform, over two attach connections.
 *
 * Output: POST /containers/{id}/attach?stream=1&stdout=1&stderr=1, made
 * before the container starts. The engine answers 200 and then hijacks the
 * connection: the body is the multiplexed stream until the program's pipes
 * close (with a TTY, PLAT_ATTACH_TTY, the terminal's raw bytes). libcurl reads it as a body
 * delimited by the connection's close and gives it to our write callback, which feeds the demuxer
 * (plat_demux.h).
 *
 * Stdin: a hijacked connection carries raw stdin bytes after the request,
 * which libcurl cannot do on the same connection as a response it is still
 * reading. So stdin is a second attach (stdin=1 only), a POST whose
 * Content-Length is huge (so curl sends the body raw, never chunked) and
 * whose body comes from a read callback: it pauses (CURL_READFUNC_PAUSE)
 * until the engine's 200 arrives (bytes sent before the hijack could be
 * lost in the engine's HTTP buffer) and whenever no bytes are queued;
 * plat_write_stdin() queues bytes and unpauses. Closing stdin aborts that
 * transfer, which closes the connection: the engine reads EOF and, since the
 * container has StdinOnce, closes the program's stdin. curl only asks for
 * more body once what it had is on the socket, so nothing queued is lost.
 *
 * Backpressure: a paused attach makes the write callback return
 * CURL_WRITEFUNC_PAUSE, so curl stops reading the socket, the engine's
 * buffers fill, and the program blocks on its pipe. Pausing in the middle
 * of a chunk remembers how much of it was delivered: curl hands the same
 * bytes again on unpause and we skip that many.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plat_demux.h"
#include "plat_docker_int.h"

#define DK_STDIN_MAX (1u << 20)

struct dk_chunk {
	struct dk_chunk *next;
	plat_done_cb cb;
	void *arg;
	size_t len;
	size_t off;
	char data[];
};

struct dk_attach {
	struct plat_attach base;
	struct plat_docker *d;
	char id[72]; /* the container's */
	struct plat_attach_cbs cbs;
	void *arg;
	/* output */
	struct dk_req *out; /* NULL once it finished */
	struct plat_demux demux;
	bool out_ready;
	bool demux_failed;
	bool paused;	 /* asked by the user */
	bool delivering; /* inside our data callback */
	size_t skip;	 /* bytes of the next chunk already delivered */
	/* stdin */
	bool want_stdin;
	struct dk_req *in; /* NULL once it finished */
	bool in_held;	   /* podman: in is not submitted before the output is attached */
	bool in_ready;
	bool in_read_paused;
	bool in_closing;
	struct dk_chunk *q_head, *q_tail;
	size_t q_bytes;
	/* ending */
	bool ready_sent;
	bool detached;
	bool silent; /* failed inside dk_attach(): no callbacks */
	int err_code;
	int err_status;
	char err_msg[512];
};

static struct dk_attach *dk_att(struct plat_attach *pa)
{
	return (struct dk_attach *)pa;
}

/* Keep the first failure: it is what end reports. */
static void att_record(struct dk_attach *a, const struct plat_err *err)
{
	if (!err || a->err_code)
		return;
	a->err_code = err->code;
	a->err_status = err->http_status;
	snprintf(a->err_msg, sizeof(a->err_msg), "%s", err->message);
}

static void att_fail_queue(struct dk_attach *a)
{
	struct plat_err e = {PLAT_E_CLOSED, 0, "stdin closed"};
	struct dk_chunk *c;

	while ((c = a->q_head)) {
		a->q_head = c->next;
		a->q_bytes -= c->len - c->off;
		if (!a->silent)
			c->cb(c->arg, &e);
		free(c);
	}
	a->q_tail = NULL;
}

static void att_maybe_end(struct dk_attach *a)
{
	struct plat_err e;

	if (a->out || a->in)
		return;
	att_fail_queue(a);
	e.code = a->detached ? PLAT_E_CANCELED : a->err_code;
	e.http_status = a->detached ? 0 : a->err_status;
	e.message = a->detached ? "detached" : a->err_msg;
	if (!a->silent)
		a->cbs.end(a->arg, e.code ? &e : NULL);
	free(a);
}

static void att_maybe_ready(struct dk_attach *a)
{
	if (a->ready_sent || a->detached || !a->out_ready || (a->want_stdin && !a->in_ready))
		return;
	a->ready_sent = true;
	if (a->cbs.ready)
		a->cbs.ready(a->arg);
	/* output that came before ready was held back */
	if (a->out && a->out->xfer && !a->paused)
		plat_http_unpause(a->out->xfer);
}

/* ---- output ---- */

static int att_emit(void *arg, int stream, const char *data, size_t len)
{
	struct dk_attach *a = arg;

	a->cbs.data(a->arg, (enum plat_stream)stream, data, len);
	return a->paused || a->detached;
}

static size_t att_out_write(struct dk_req *r, const char *buf, size_t len)
{
	struct dk_attach *a = r->ctx;
	size_t skip, used = 0;
	int rc;

	if (a->detached)
		return len;
	if (a->paused || !a->ready_sent)
		return CURL_WRITEFUNC_PAUSE;
	skip = a->skip < len ? a->skip : len;
	a->skip -= skip;
	if (skip == len)
		return len;
	a->delivering = true;
	rc = plat_demux_feed(&a->demux, buf + skip, len - skip, &used);
	a->delivering = false;
	if (rc < 0) {
		a->demux_failed = true;
		return 0; /* curl fails the transfer: CURLE_WRITE_ERROR */
	}
	if (skip + used < len && !a->detached) {
		/* paused inside this chunk: curl will hand all of it again */
		a->skip = skip + used;
		return CURL_WRITEFUNC_PAUSE;
	}
	return len;
}

static void att_out_headers(struct dk_req *r)
{
	struct dk_attach *a = r->ctx;

	if (r->status != 200)
		return; /* an error: the finish reports the engine's message */
	a->out_ready = true;
	if (a->in_held && !a->detached) {
		struct plat_err e;
		int rc;

		a->in_held = false;
		rc = dk_req_submit(a->in, 0);
		if (rc < 0) {
			dk_req_free(a->in);
			a->in = NULL;
			e = (struct plat_err){rc, 0, "cannot attach stdin"};
			att_record(a, &e);
			dk_req_cancel(r);
			return;
		}
	}
	att_maybe_ready(a);
}

/* A stdin attach never submitted (podman, held): it ends with the output. */
static void att_drop_held(struct dk_attach *a)
{
	if (!a->in_held)
		return;
	a->in_held = false;
	dk_req_free(a->in);
	a->in = NULL;
	att_fail_queue(a);
}

static void att_out_finish(struct dk_req *r, const struct plat_err *err)
{
	struct dk_attach *a = r->ctx;
	struct plat_err e = {PLAT_E_PROTOCOL, 0, ""};

	a->out = NULL;
	if (a->demux_failed) {
		e.message = "bad frame header in the attach stream";
		err = &e;
	} else if (!err && !plat_demux_at_boundary(&a->demux)) {
		e.message = "attach stream ended inside a frame";
		err = &e;
	} else if (!err && !a->ready_sent) {
		e.message = "attach stream ended before it was ready";
		err = &e;
	}
	att_record(a, err);
	att_drop_held(a);
	if (a->in)
		dk_req_cancel(a->in);
	att_maybe_end(a);
}

/* ---- stdin ---- */

static size_t att_in_read(char *buf, size_t size, size_t nitems, void *ud)
{
	struct dk_attach *a = ud;
	size_t cap = size * nitems, n = 0;
	struct dk_chunk *c;

	if (!a->in_ready) {
		a->in_read_paused = true;
		return CURL_READFUNC_PAUSE;
	}
	while ((c = a->q_head) && n < cap) {
		size_t k = c->len - c->off;

		if (k > cap - n)
			k = cap - n;
		memcpy(buf + n, c->data + c->off, k);
		c->off += k;
		n += k;
		a->q_bytes -= k;
		if (c->off < c->len)
			break;
		a->q_head = c->next;
		if (!a->q_head)
			a->q_tail = NULL;
		c->cb(c->arg, NULL); /* handed over */
		free(c);
	}
	if (n)
		return n;
	if (a->in_closing)
		return CURL_READFUNC_ABORT; /* closes the connection: EOF */
	a->in_read_paused = true;
	return CURL_READFUNC_PAUSE;
}

static void att_in_kick(struct dk_attach *a)
{
	if (a->in && a->in->xfer && a->in_ready && a->in_read_paused) {
		a->in_read_paused = false;
		plat_http_unpause(a->in->xfer);
	}
}

static size_t att_in_write(struct dk_req *r, const char *buf, size_t len)
{
	return len; /* a stdin-only attach has no output */
}

static void att_in_headers(struct dk_req *r)
{
	struct dk_attach *a = r->ctx;

	if (r->status != 200)
		return;
	a->in_ready = true;
	if (a->q_head || a->in_closing)
		att_in_kick(a);
	att_maybe_ready(a);
}

static void att_in_finish(struct dk_req *r, const struct plat_err *err)
{
	struct dk_attach *a = r->ctx;

	a->in = NULL;
	att_fail_queue(a);
	if (a->in_closing && !a->detached && a->d->stdin_closed)
		a->d->stdin_closed(a->d, a->id);
	if (!a->ready_sent && !a->detached) {
		/* stdin could not be attached: the attach as a whole fails */
		if (!err) {
			struct plat_err e = {PLAT_E_PROTOCOL, 0, "stdin attach ended early"};
			att_record(a, &e);
		}
		att_record(a, err);
		if (a->out)
			dk_req_cancel(a->out);
	}
	att_maybe_end(a);
}

/* ---- operations ---- */

static struct dk_req *att_req(struct dk_attach *a, const char *id, const char *query,
			      dk_finish finish)
{
	char *path = dk_strdup_printf("/containers/%s/attach?%s", id, query);
	struct dk_req *r;

	if (!path)
		return NULL;
	r = dk_req_new(a->d, "POST", path, NULL, 0, finish);
	free(path);
	if (!r)
		return NULL;
	r->ctx = a;
	/*
	 * curl's default POST type, a form, would make the engine read the
	 * body to parse it: for stdin that body never ends.
	 */
	if (dk_req_header(r, "Content-Type: text/plain") < 0) {
		dk_req_free(r);
		return NULL;
	}
	/* a hijacked connection is never reused, nor do we reuse one */
	curl_easy_setopt(r->easy, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(r->easy, CURLOPT_FORBID_REUSE, 1L);
	return r;
}

int dk_attach(struct plat *p, const char *id, unsigned flags, const struct plat_attach_cbs *cbs,
	      void *arg, struct plat_attach **out)
{
	struct plat_docker *d = (struct plat_docker *)p;
	struct dk_attach *a;
	struct dk_req *ro, *ri = NULL;
	int rc;

	*out = NULL;
	if (!cbs || !cbs->data || !cbs->end || !id || !*id ||
	    strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		       "0123456789_.-") != strlen(id) ||
	    (flags & ~(PLAT_ATTACH_STDIN | PLAT_ATTACH_TTY)))
		return PLAT_E_INVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return PLAT_E_NOMEM;
	a->base.plat = p;
	a->d = d;
	snprintf(a->id, sizeof(a->id), "%s", id);
	a->cbs = *cbs;
	a->arg = arg;
	a->want_stdin = flags & PLAT_ATTACH_STDIN;
	if (flags & PLAT_ATTACH_TTY)
		plat_demux_init_raw(&a->demux, att_emit, a);
	else
		plat_demux_init(&a->demux, att_emit, a);
	ro = att_req(a, id, "stream=1&stdout=1&stderr=1", att_out_finish);
	if (!ro)
		goto out_nomem;
	ro->on_write = att_out_write;
	ro->on_headers = att_out_headers;
	/* large output: fewer, larger reads (curl's default is 16 KiB); one
	 * read is what arrives at once when the output is paced (run_stream.c) */
	curl_easy_setopt(ro->easy, CURLOPT_BUFFERSIZE, 64L * 1024);
	if (a->want_stdin) {
		ri = att_req(a, id, "stream=1&stdin=1", att_in_finish);
		if (!ri)
			goto out_nomem;
		ri->on_write = att_in_write;
		ri->on_headers = att_in_headers;
		curl_easy_setopt(ri->easy, CURLOPT_POSTFIELDS, NULL);
		curl_easy_setopt(ri->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)1 << 62);
		curl_easy_setopt(ri->easy, CURLOPT_READFUNCTION, att_in_read);
		curl_easy_setopt(ri->easy, CURLOPT_READDATA, a);
	}
	rc = dk_req_submit(ro, 0);
	if (rc < 0) {
		dk_req_free(ro);
		dk_req_free(ri);
		free(a);
		return rc;
	}
	a->out = ro;
	if (ri && d->podman) {
		/*
		 * Podman initialises a created container in its attach handler
		 * (conmon starts there); two attaches at once raced, and the
		 * stdin one could end up on a conmon that was not the
		 * container's: "go" and the input never reached the program
		 * (test_stdin_reaches_the_program[podman] timed out). So the
		 * stdin attach goes once the output attach is up.
		 */
		a->in = ri;
		a->in_held = true;
	} else if (ri) {
		rc = dk_req_submit(ri, 0);
		if (rc < 0) {
			/* the output request ends quietly and frees a */
			dk_req_free(ri);
			a->silent = true;
			dk_req_cancel(ro);
			return rc;
		}
		a->in = ri;
	}
	*out = &a->base;
	return 0;

out_nomem:
	dk_req_free(ro);
	free(a);
	return PLAT_E_NOMEM;
}

int dk_write_stdin(struct plat_attach *pa, const void *buf, size_t len, plat_done_cb cb, void *arg)
{
	struct dk_attach *a = dk_att(pa);
	struct dk_chunk *c;

	if (!cb || (len && !buf))
		return PLAT_E_INVAL;
	if (!a->want_stdin || !a->in || a->in_closing || a->detached)
		return PLAT_E_CLOSED;
	if (len > DK_STDIN_MAX - a->q_bytes)
		return PLAT_E_AGAIN;
	c = malloc(sizeof(*c) + len);
	if (!c)
		return PLAT_E_NOMEM;
	c->next = NULL;
	c->cb = cb;
	c->arg = arg;
	c->len = len;
	c->off = 0;
	if (len)
		memcpy(c->data, buf, len);
	if (a->q_tail)
		a->q_tail->next = c;
	else
		a->q_head = c;
	a->q_tail = c;
	a->q_bytes += len;
	att_in_kick(a);
	return 0;
}

int dk_close_stdin(struct plat_attach *pa)
{
	struct dk_attach *a = dk_att(pa);

	if (!a->want_stdin || !a->in || a->detached)
		return PLAT_E_CLOSED;
	a->in_closing = true;
	att_in_kick(a);
	return 0;
}

void dk_pause(struct plat_attach *pa)
{
	dk_att(pa)->paused = true;
}

void dk_resume(struct plat_attach *pa)
{
	struct dk_attach *a = dk_att(pa);

	if (!a->paused)
		return;
	a->paused = false;
	/* inside our own data callback the feed simply goes on */
	if (!a->delivering && a->ready_sent && a->out && a->out->xfer)
		plat_http_unpause(a->out->xfer);
}

void dk_detach(struct plat_attach *pa)
{
	struct dk_attach *a = dk_att(pa);

	if (a->detached)
		return;
	a->detached = true;
	att_drop_held(a); /* the output's end ends the attach */
	if (a->out)
		dk_req_cancel(a->out);
	if (a->in)
		dk_req_cancel(a->in);
}
