/*
 * plat_http.c - libcurl multi on a libuv loop (see plat_http.h). Sockets:
 * one uv_poll_t each, created and updated by curl's socket callback. Time:
 * one uv_timer_t set by curl's timer callback. Changes asked for from inside
 * curl callbacks (add, cancel, unpause) wait for the kick (an idle handle).
 */
#include <stdbool.h>
#include <stdlib.h>

#include "plat_http.h"
#include "platform.h"

struct http_sock {
	uv_poll_t poll;
	curl_socket_t fd;
	struct plat_http *h;
	struct http_sock *prev, *next;
};

struct plat_http_xfer {
	struct plat_http *h;
	CURL *easy;
	plat_http_done done;
	void *arg;
	bool active; /* in the multi handle */
	bool want_cancel;
	bool want_unpause;
	struct plat_http_xfer *prev, *next;
};

struct plat_http {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer; /* curl's timeout */
	uv_idle_t kick;	  /* deferred adds, cancels, unpauses */
	struct plat_http_xfer *head, *tail;
	struct http_sock *socks;
	int nhandles; /* uv handles not yet closed */
	bool freeing;
};

static void http_maybe_release(struct plat_http *h)
{
	if (h->freeing && h->nhandles == 0) {
		free(h);
		curl_global_cleanup();
	}
}

static void http_closed_handle(uv_handle_t *hd)
{
	struct plat_http *h = hd->data;

	h->nhandles--;
	http_maybe_release(h);
}

static void http_closed_sock(uv_handle_t *hd)
{
	struct http_sock *k = hd->data;
	struct plat_http *h = k->h;

	free(k);
	h->nhandles--;
	http_maybe_release(h);
}

static void http_sock_close(struct http_sock *k)
{
	struct plat_http *h = k->h;

	if (k->prev)
		k->prev->next = k->next;
	else
		h->socks = k->next;
	if (k->next)
		k->next->prev = k->prev;
	uv_poll_stop(&k->poll);
	uv_close((uv_handle_t *)&k->poll, http_closed_sock);
}

static void xfer_unlink(struct plat_http_xfer *x)
{
	struct plat_http *h = x->h;

	if (x->prev)
		x->prev->next = x->next;
	else
		h->head = x->next;
	if (x->next)
		x->next->prev = x->prev;
	else
		h->tail = x->prev;
	x->prev = x->next = NULL;
}

/* The transfer is out of the multi: tell its owner and forget it. */
static void xfer_finish(struct plat_http_xfer *x, CURLcode rc)
{
	plat_http_done done = x->done;
	void *arg = x->arg;
	CURL *easy = x->easy;

	xfer_unlink(x);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
	free(x);
	done(arg, easy, rc);
}

static void http_check_done(struct plat_http *h)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(h->multi, &left))) {
		CURL *easy = msg->easy_handle;
		CURLcode rc = msg->data.result;
		struct plat_http_xfer *x = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
		curl_multi_remove_handle(h->multi, easy);
		if (x) {
			x->active = false;
			xfer_finish(x, rc);
		}
	}
}

static void http_poll_cb(uv_poll_t *p, int status, int events)
{
	struct http_sock *k = p->data;
	struct plat_http *h = k->h;
	int flags = 0, running;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(h->multi, k->fd, flags, &running);
	http_check_done(h);
}

static int http_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct plat_http *h = userp;
	struct http_sock *k = socketp;
	int events = 0;

	if (what == CURL_POLL_REMOVE) {
		if (k) {
			curl_multi_assign(h->multi, fd, NULL);
			http_sock_close(k);
		}
		return 0;
	}
	if (!k) {
		k = calloc(1, sizeof(*k));
		if (!k)
			return -1;
		if (uv_poll_init_socket(h->loop, &k->poll, fd) < 0) {
			free(k);
			return -1;
		}
		k->fd = fd;
		k->h = h;
		k->poll.data = k;
		k->next = h->socks;
		if (h->socks)
			h->socks->prev = k;
		h->socks = k;
		h->nhandles++;
		curl_multi_assign(h->multi, fd, k);
	}
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	if (events)
		uv_poll_start(&k->poll, events, http_poll_cb);
	else
		uv_poll_stop(&k->poll);
	return 0;
}

static void http_on_timeout(uv_timer_t *t)
{
	struct plat_http *h = t->data;
	int running;

	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	http_check_done(h);
}

static int http_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct plat_http *h = userp;

	if (timeout_ms < 0)
		uv_timer_stop(&h->timer);
	else
		uv_timer_start(&h->timer, http_on_timeout, (uint64_t)timeout_ms, 0);
	return 0;
}

/*
 * Carry out what was asked from inside callbacks, once per loop iteration
 * (an idle handle: it keeps the loop from blocking while armed, and what
 * callbacks ask for during this pass waits for the next one). User code run
 * from here (done callbacks, data delivered by an unpause) only appends to
 * the list or sets flags; a transfer leaves the list only here or in
 * http_check_done(), so the saved next pointer stays valid.
 */
static void http_kick_cb(uv_idle_t *t)
{
	struct plat_http *h = t->data;
	struct plat_http_xfer *x, *next;

	uv_idle_stop(&h->kick);
	for (x = h->head; x; x = next) {
		next = x->next;
		if (x->want_cancel) {
			if (x->active)
				curl_multi_remove_handle(h->multi, x->easy);
			x->active = false;
			xfer_finish(x, CURLE_ABORTED_BY_CALLBACK);
			continue;
		}
		if (!x->active) {
			if (curl_multi_add_handle(h->multi, x->easy) != CURLM_OK) {
				xfer_finish(x, CURLE_FAILED_INIT);
				continue;
			}
			x->active = true;
		}
		if (x->want_unpause) {
			x->want_unpause = false;
			curl_easy_pause(x->easy, CURLPAUSE_CONT);
		}
	}
	http_check_done(h);
}

static void http_kick(struct plat_http *h)
{
	if (!h->freeing)
		uv_idle_start(&h->kick, http_kick_cb);
}

int plat_http_new(uv_loop_t *loop, struct plat_http **out)
{
	struct plat_http *h;

	*out = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return PLAT_E_NOMEM;
	h = calloc(1, sizeof(*h));
	if (!h)
		goto out_global;
	h->loop = loop;
	h->multi = curl_multi_init();
	if (!h->multi)
		goto out_free;
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, http_socket_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, http_timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	uv_timer_init(loop, &h->timer);
	uv_idle_init(loop, &h->kick);
	h->timer.data = h;
	h->kick.data = h;
	h->nhandles = 2;
	*out = h;
	return 0;

out_free:
	free(h);
out_global:
	curl_global_cleanup();
	return PLAT_E_NOMEM;
}

void plat_http_free(struct plat_http *h)
{
	struct plat_http_xfer *x;

	if (!h)
		return;
	while ((x = h->head)) {
		if (x->active)
			curl_multi_remove_handle(h->multi, x->easy);
		x->active = false;
		xfer_finish(x, CURLE_ABORTED_BY_CALLBACK);
	}
	h->freeing = true;
	while (h->socks) {
		curl_multi_assign(h->multi, h->socks->fd, NULL);
		http_sock_close(h->socks);
	}
	curl_multi_cleanup(h->multi);
	h->multi = NULL;
	uv_timer_stop(&h->timer);
	uv_idle_stop(&h->kick);
	uv_close((uv_handle_t *)&h->timer, http_closed_handle);
	uv_close((uv_handle_t *)&h->kick, http_closed_handle);
}

int plat_http_submit(struct plat_http *h, CURL *easy, plat_http_done done, void *arg,
		     struct plat_http_xfer **out)
{
	struct plat_http_xfer *x;

	if (out)
		*out = NULL;
	if (h->freeing)
		return PLAT_E_CANCELED;
	x = calloc(1, sizeof(*x));
	if (!x)
		return PLAT_E_NOMEM;
	x->h = h;
	x->easy = easy;
	x->done = done;
	x->arg = arg;
	curl_easy_setopt(easy, CURLOPT_PRIVATE, (char *)x);
	x->prev = h->tail;
	if (h->tail)
		h->tail->next = x;
	else
		h->head = x;
	h->tail = x;
	http_kick(h);
	if (out)
		*out = x;
	return 0;
}

void plat_http_cancel(struct plat_http_xfer *x)
{
	x->want_cancel = true;
	http_kick(x->h);
}

void plat_http_unpause(struct plat_http_xfer *x)
{
	x->want_unpause = true;
	http_kick(x->h);
}
