/*
 * sess.c - websocket sessions: the id table, the bounded outbound queue and
 * the one-write-per-WRITEABLE rule of libwebsockets.
 */
#include "sess.h"
#include "srv.h"
#include "log.h"
#include "metrics.h"
#include "bus.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <libwebsockets.h>

/* lws's own opcode for a close frame (LWS_WRITE_CLOSE in its private
 * roles/ws header; lws-write.h names it but leaves it to lws_close_reason). */
#define SESS_LWS_WRITE_CLOSE ((enum lws_write_protocol)4)

static size_t bucket_of(const struct srv *srv, uint64_t id)
{
	return (size_t)(id * 0x9E3779B97F4A7C15ULL >> 32) % srv->sess_nbuckets;
}

struct sess *sess_new(struct srv *srv, struct lws *wsi)
{
	struct sess *s = calloc(1, sizeof(*s));
	size_t b;

	if (!s)
		return NULL;
	s->id = ++srv->next_sess_id;
	s->srv = srv;
	s->wsi = wsi;
	s->opened_ms = s->last_active_ms = srv_now_ms();
	s->role = PROTO_ROLE_ANON;
	b = bucket_of(srv, s->id);
	s->hnext = srv->sess_buckets[b];
	srv->sess_buckets[b] = s;
	srv->sess_count++;
	return s;
}

struct sess_frame *sess_frame_new(const char *data, size_t len)
{
	struct sess_frame *f = malloc(sizeof(*f) + LWS_PRE + len);

	if (!f)
		return NULL;
	f->refs = 1;
	f->len = len;
	memcpy(f->buf + LWS_PRE, data, len);
	return f;
}

void sess_frame_unref(struct sess_frame *f)
{
	if (f && --f->refs == 0)
		free(f);
}

static void queue_clear(struct sess *s)
{
	struct outmsg *m = s->q_head, *n;

	for (; m; m = n) {
		n = m->next;
		sess_frame_unref(m->f);
		free(m);
	}
	s->q_head = s->q_tail = NULL;
	s->q_bytes = 0;
	s->q_count = 0;
}

void sess_free(struct sess *s)
{
	struct srv *srv = s->srv;
	struct sess **pp = &srv->sess_buckets[bucket_of(srv, s->id)];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == s) {
			*pp = s->hnext;
			srv->sess_count--;
			break;
		}
	}
	bus_publish(srv, "session", "closed",
		    json_pack("{s:I, s:o}", "session", (json_int_t)s->id, "user",
			      s->user_id ? json_integer(s->user_id) : json_null()));
	queue_clear(s);
	free(s->rx);
	free(s);
	/* glibc keeps what closed sessions freed (their buffers lie between
	 * live ones): give it back now and then, and when the last one goes */
	if (srv->sess_count % 256 == 0)
		malloc_trim(0);
}

struct sess *sess_find(struct srv *srv, uint64_t id)
{
	struct sess *s = srv->sess_buckets[bucket_of(srv, id)];

	for (; s; s = s->hnext)
		if (s->id == id)
			return s;
	return NULL;
}

void sess_foreach(struct srv *srv, void (*fn)(struct sess *, void *), void *arg)
{
	for (size_t b = 0; b < srv->sess_nbuckets; b++) {
		struct sess *s = srv->sess_buckets[b], *n;
		for (; s; s = n) {
			n = s->hnext;
			fn(s, arg);
		}
	}
}

/* The client stopped reading: drop everything queued and kill the connection
 * without waiting for a close handshake it would never read. */
static void slow_consumer(struct sess *s)
{
	log_json(LOG_WARN, "closing slow consumer",
		 json_pack("{s:I, s:I, s:s, s:I, s:I}", "session", (json_int_t)s->id, "user_id",
			   (json_int_t)s->user_id, "ip", s->ip, "queued_bytes",
			   (json_int_t)s->q_bytes, "queued_frames", (json_int_t)s->q_count));
	metrics.slow_consumer_closes_total++;
	metrics_error(PROTO_R_SLOW_CONSUMER);
	queue_clear(s);
	s->closing = 1;
	s->close_code = 4008;
	s->close_sent = 1; /* no close frame: it would never be read */
	lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

int sess_send_shared(struct sess *s, struct sess_frame *f)
{
	struct outmsg *m;

	if (!f || s->closing)
		return -1;
	/* One frame larger than the limit still goes out when nothing waits:
	 * what bounds memory is what a client leaves unread. */
	if (s->q_bytes && s->q_bytes + f->len > s->srv->cfg.out_queue_bytes) {
		slow_consumer(s);
		return -1;
	}
	m = malloc(sizeof(*m));
	if (!m)
		return -1;
	m->next = NULL;
	m->f = f;
	f->refs++;
	if (s->q_tail)
		s->q_tail->next = m;
	else
		s->q_head = m;
	s->q_tail = m;
	s->q_bytes += f->len;
	s->q_count++;
	lws_callback_on_writable(s->wsi);
	return 0;
}

int sess_send(struct sess *s, char *frame, size_t len)
{
	struct sess_frame *f;
	int rc;

	if (!frame)
		return -1;
	if (s->closing) {
		free(frame);
		return -1;
	}
	f = sess_frame_new(frame, len);
	free(frame);
	rc = sess_send_shared(s, f);
	sess_frame_unref(f);
	return rc;
}

void sess_want_drain(struct sess *s, size_t bytes)
{
	s->drain_at = bytes;
	s->drain_wanted = 1;
}

struct sess_frame *sess_frame_notify(const char *method, json_t *params)
{
	size_t len;
	char *frame = proto_notify(method, params, &len);
	struct sess_frame *f = frame ? sess_frame_new(frame, len) : NULL;

	free(frame);
	return f;
}

int sess_notify(struct sess *s, const char *method, json_t *params)
{
	size_t len;
	char *f = proto_notify_steal(method, params, &len);

	return sess_send(s, f, len);
}

int sess_on_writable(struct sess *s)
{
	struct outmsg *m = s->q_head;
	int n;

	if (m) {
		size_t len = m->f->len;
		/* lws writes the frame's header into the headroom: the same bytes
		 * for every session, and written just before they are sent */
		n = lws_write(s->wsi, m->f->buf + LWS_PRE, len, LWS_WRITE_TEXT);
		if (n < (int)len)
			return -1;
		metrics.frames_out_total++;
		metrics.bytes_out_total += len;
		s->q_head = m->next;
		if (!s->q_head)
			s->q_tail = NULL;
		s->q_bytes -= len;
		s->q_count--;
		sess_frame_unref(m->f);
		free(m);
		if (s->drain_wanted && s->q_bytes <= s->drain_at && !s->closing) {
			s->drain_wanted = 0;
			if (s->srv->sess_drained)
				s->srv->sess_drained(s->srv, s);
		}
		if (s->q_head || s->closing) { /* one lws_write per callback */
			lws_callback_on_writable(s->wsi);
			return 0;
		}
	}
	if (s->closing && s->close_code && !s->close_sent) {
		/*
		 * The close frame (code and reason) is written here. Debian's
		 * lws 4.1.6 is built with _DEBUG, and on libuv its "uv repeat
		 * test" closes a wsi twice in a row, which turns the polite
		 * close of lws_close_reason() + return -1 into a bare TCP close
		 * (the client sees 1006). web.c ends the connection when the
		 * client answers our close; the timeout does if it never does.
		 */
		unsigned char buf[LWS_PRE + 2 + sizeof(s->close_reason)];
		size_t len = strlen(s->close_reason);

		buf[LWS_PRE] = (unsigned char)(s->close_code >> 8);
		buf[LWS_PRE + 1] = (unsigned char)(s->close_code & 0xff);
		memcpy(buf + LWS_PRE + 2, s->close_reason, len);
		s->close_sent = 1;
		lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, 3);
		if (lws_write(s->wsi, buf + LWS_PRE, len + 2, SESS_LWS_WRITE_CLOSE) <
		    (int)(len + 2))
			return -1;
	}
	return 0;
}

void sess_close(struct sess *s, int code, const char *reason)
{
	if (s->closing)
		return;
	s->close_code = code;
	snprintf(s->close_reason, sizeof(s->close_reason), "%s", reason);
	s->closing = 1;
	lws_callback_on_writable(s->wsi);
}

void sess_announce(struct sess *s)
{
	bus_publish(s->srv, "session", "opened",
		    json_pack("{s:I, s:s}", "session", (json_int_t)s->id, "ip", s->ip));
}
