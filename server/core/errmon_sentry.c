/*
 * errmon_sentry.c - the HTTP transport of error reports to Sentry
 * (errmon_sentry.h): a bounded FIFO of envelopes, a few curl easy handles
 * in flight on plat_http (curl multi driven by libuv).
 */
#include "errmon_sentry.h"
#include "log.h"
#include "metrics.h"
#include "plat_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sentry_msg {
	struct sentry_msg *next;
	size_t len;
	char body[];
};

struct sentry_xfer {
	struct errmon_sentry *s;
	struct curl_slist *headers;
	struct sentry_msg *msg;
};

struct errmon_sentry {
	struct plat_http *http;
	char url[512];
	char auth[160];
	struct sentry_msg *head, *tail;
	int queued, inflight;
	int freeing;
	long long last_warn_s; /* failures are logged as a warning once a minute at most */
};

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static void warn_failure(struct errmon_sentry *s, const char *what)
{
	uv_timeval64_t tv;

	uv_gettimeofday(&tv);
	if (tv.tv_sec - s->last_warn_s < 60)
		return;
	s->last_warn_s = tv.tv_sec;
	/* a warning, never an error: an error would be reported here again */
	log_json(LOG_WARN, "error report not delivered to Sentry",
		 json_pack("{s:s}", "error", what));
}

static void pump(struct errmon_sentry *s);

static void sent(void *arg, CURL *easy, CURLcode rc)
{
	struct sentry_xfer *x = arg;
	struct errmon_sentry *s = x->s;
	long status = 0;
	char why[64];

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_ABORTED_BY_CALLBACK) {
		metrics.sentry_dropped_total++;
	} else if (rc != CURLE_OK || status < 200 || status > 299) {
		metrics.sentry_failed_total++;
		if (rc != CURLE_OK)
			snprintf(why, sizeof(why), "%s", curl_easy_strerror(rc));
		else
			snprintf(why, sizeof(why), "HTTP status %ld", status);
		warn_failure(s, why);
	} else {
		metrics.sentry_sent_total++;
	}
	curl_slist_free_all(x->headers);
	curl_easy_cleanup(easy);
	free(x->msg);
	free(x);
	s->inflight--;
	if (!s->freeing) /* errmon_sentry_free() frees s once plat_http_free() returns */
		pump(s);
}

static int start_one(struct errmon_sentry *s, struct sentry_msg *m)
{
	struct sentry_xfer *x = calloc(1, sizeof(*x));
	CURL *easy = curl_easy_init();
	struct curl_slist *hd = NULL, *h2;

	if (!x || !easy)
		goto out_free;
	hd = curl_slist_append(NULL, "Content-Type: application/x-sentry-envelope");
	h2 = hd ? curl_slist_append(hd, s->auth) : NULL;
	if (!h2)
		goto out_free;
	hd = h2;
	x->s = s;
	x->headers = hd;
	x->msg = m;
	curl_easy_setopt(easy, CURLOPT_URL, s->url);
	curl_easy_setopt(easy, CURLOPT_POST, 1L);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, &m->body[0]);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)m->len);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "run-it/" RUNIT_VERSION);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	if (plat_http_submit(s->http, easy, sent, x, NULL))
		goto out_free;
	s->inflight++;
	return 0;

out_free:
	curl_slist_free_all(hd);
	if (easy)
		curl_easy_cleanup(easy);
	free(x);
	return -1;
}

static void pump(struct errmon_sentry *s)
{
	while (s->head && s->inflight < SENTRY_INFLIGHT) {
		struct sentry_msg *m = s->head;

		s->head = m->next;
		if (!s->head)
			s->tail = NULL;
		s->queued--;
		if (start_one(s, m)) {
			metrics.sentry_dropped_total++;
			free(m);
		}
	}
}

struct errmon_sentry *errmon_sentry_new(uv_loop_t *loop, const char *url, const char *key)
{
	struct errmon_sentry *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	snprintf(s->url, sizeof(s->url), "%s", url);
	snprintf(s->auth, sizeof(s->auth),
		 "X-Sentry-Auth: Sentry sentry_version=7, sentry_key=%s, "
		 "sentry_client=run-it/" RUNIT_VERSION,
		 key);
	if (plat_http_new(loop, &s->http)) {
		free(s);
		return NULL;
	}
	return s;
}

void errmon_sentry_free(struct errmon_sentry *s)
{
	struct sentry_msg *m;

	if (!s)
		return;
	while ((m = s->head)) {
		s->head = m->next;
		metrics.sentry_dropped_total++;
		free(m);
	}
	s->tail = NULL;
	s->queued = 0;
	s->freeing = 1;
	/* runs every sent() now, with CURLE_ABORTED_BY_CALLBACK */
	plat_http_free(s->http);
	free(s);
}

void errmon_sentry_send(struct errmon_sentry *s, char *envelope, size_t len)
{
	struct sentry_msg *m;

	if (s->freeing || s->queued >= SENTRY_QUEUE) {
		metrics.sentry_dropped_total++;
		free(envelope);
		return;
	}
	m = malloc(sizeof(*m) + len + 1);
	if (!m) {
		metrics.sentry_dropped_total++;
		free(envelope);
		return;
	}
	m->next = NULL;
	m->len = len;
	memcpy(m->body, envelope, len);
	m->body[len] = '\0';
	free(envelope);
	if (s->tail)
		s->tail->next = m;
	else
		s->head = m;
	s->tail = m;
	s->queued++;
	pump(s);
}
