/*
 * plat_docker_req.c - one request to the Docker Engine API over its unix
 * socket or over HTTPS with client certificates (see plat_docker_int.h):
 * building the easy handle, capturing the
 * status line and the headers we need, buffering the body, negotiating the
 * API version before the first versioned request, and turning curl results
 * and HTTP statuses into PLAT_E_* errors with the engine's own message.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plat_docker_int.h"

bool dk_valid_name(const char *s)
{
	if (!s || !*s || strlen(s) > 128)
		return false;
	for (const char *c = s; *c; c++) {
		bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			  (*c >= '0' && *c <= '9') ||
			  (c != s && (*c == '_' || *c == '.' || *c == '-'));
		if (!ok)
			return false;
	}
	return true;
}

bool dk_valid_image(const char *s)
{
	if (!s || !*s || strlen(s) > 512 || *s == '/' || *s == '-')
		return false;
	for (const char *c = s; *c; c++) {
		bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			  (*c >= '0' && *c <= '9') || strchr("._-/:@", *c);
		if (!ok)
			return false;
	}
	return !strstr(s, "..");
}

/* Make and send a request; on failure nothing runs. */
int dk_send(struct dk_req *r, long timeout_ms)
{
	int rc;

	if (!r)
		return PLAT_E_NOMEM;
	rc = dk_req_submit(r, timeout_ms);
	if (rc < 0)
		dk_req_free(r);
	return rc;
}

json_t *dk_labels_json(const struct plat_label *labels, size_t n)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < n; i++) {
		if (!labels[i].key || !labels[i].value ||
		    json_object_set_new(o, labels[i].key, json_string(labels[i].value)) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

char *dk_strdup_printf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

char *dk_escape(const char *s)
{
	return curl_easy_escape(NULL, s, 0);
}

/* Copy a header value (after "Name:"), trimmed, into out. */
static void dk_header_value(const char *v, size_t n, char *out, size_t outsz)
{
	while (n && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, v, n);
	out[n] = '\0';
}

static long dk_parse_status(const char *line, size_t n)
{
	char buf[4];
	const char *sp = memchr(line, ' ', n);
	char *end;
	long v;

	if (!sp || (size_t)(sp - line) + 4 > n)
		return 0;
	memcpy(buf, sp + 1, 3);
	buf[3] = '\0';
	v = strtol(buf, &end, 10);
	return *end ? 0 : v;
}

static size_t dk_header_cb(char *buf, size_t size, size_t nitems, void *ud)
{
	struct dk_req *r = ud;
	size_t n = size * nitems;

	if (n >= 5 && !memcmp(buf, "HTTP/", 5)) {
		r->status = dk_parse_status(buf, n);
		return n;
	}
	if ((n == 2 && buf[0] == '\r') || (n == 1 && buf[0] == '\n')) {
		/* end of a header block; 1xx blocks are followed by more */
		if (r->status >= 200 && !r->headers_done) {
			r->headers_done = true;
			if (r->on_headers)
				r->on_headers(r);
		}
		return n;
	}
	if (n > 12 && !strncasecmp(buf, "API-Version:", 12))
		dk_header_value(buf + 12, n - 12, r->api_version, sizeof(r->api_version));
	else if (n > 7 && !strncasecmp(buf, "Server:", 7))
		dk_header_value(buf + 7, n - 7, r->server, sizeof(r->server));
	return n;
}

/* Keep body bytes, up to DK_RESP_MAX. */
static int dk_resp_append(struct dk_req *r, const char *buf, size_t len)
{
	size_t need = r->resp_len + len + 1;

	if (need > DK_RESP_MAX) {
		r->resp_too_large = true;
		return -1;
	}
	if (need > r->resp_cap) {
		size_t cap = r->resp_cap ? r->resp_cap : 1024;
		char *p;

		while (cap < need)
			cap *= 2;
		p = realloc(r->resp, cap);
		if (!p)
			return -1;
		r->resp = p;
		r->resp_cap = cap;
	}
	memcpy(r->resp + r->resp_len, buf, len);
	r->resp_len += len;
	r->resp[r->resp_len] = '\0';
	return 0;
}

static size_t dk_write_cb(char *buf, size_t size, size_t nmemb, void *ud)
{
	struct dk_req *r = ud;
	size_t n = size * nmemb;

	/* error bodies of streaming requests are buffered too */
	if (r->on_write && r->status >= 200 && r->status < 300)
		return r->on_write(r, buf, n);
	return dk_resp_append(r, buf, n) < 0 ? 0 : n;
}

const char *dk_where(const struct plat_docker *d)
{
	return d->socket_path ? d->socket_path : d->base_url;
}

/* The connection: the unix socket, or HTTPS that trusts the row's CA only
 * (no system CAs), presents the client certificate, verifies the engine's
 * certificate and host name, and speaks TLS 1.2 or later. */
static void dk_transport(struct plat_docker *d, CURL *e)
{
	struct curl_blob ca = {d->tls_ca, 0, CURL_BLOB_NOCOPY};
	struct curl_blob cert = {d->tls_cert, 0, CURL_BLOB_NOCOPY};
	struct curl_blob key = {d->tls_key, 0, CURL_BLOB_NOCOPY};

	if (d->socket_path) {
		curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, d->socket_path);
		return;
	}
	/* the blobs live in d, which outlives every transfer (dk_fini) */
	ca.len = strlen(d->tls_ca);
	cert.len = strlen(d->tls_cert);
	key.len = strlen(d->tls_key);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
	curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &ca);
	curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
	curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &cert);
	curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &key);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
}

struct dk_req *dk_req_new(struct plat_docker *d, const char *method, const char *path,
			  const char *body, size_t body_len, dk_finish finish)
{
	struct dk_req *r = calloc(1, sizeof(*r));
	struct curl_slist *h;

	if (!r)
		return NULL;
	r->d = d;
	r->finish = finish;
	r->path = strdup(path);
	r->easy = curl_easy_init();
	if (!r->path || !r->easy)
		goto out_free;
	if (body && body_len) {
		r->body = malloc(body_len);
		if (!r->body)
			goto out_free;
		memcpy(r->body, body, body_len);
	}
	/* no "Expect: 100-continue": the engine never sends 100 */
	h = curl_slist_append(NULL, "Expect:");
	if (!h)
		goto out_free;
	r->hdrs = h;

	CURL *e = r->easy;
	dk_transport(d, e);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, dk_header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, dk_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)d->connect_timeout_ms);
	if (!strcmp(method, "POST") || !strcmp(method, "PUT")) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body ? r->body : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(r->body ? body_len : 0));
		if (!strcmp(method, "PUT"))
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
	} else if (strcmp(method, "GET")) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
	return r;

out_free:
	dk_req_free(r);
	return NULL;
}

int dk_req_header(struct dk_req *r, const char *line)
{
	struct curl_slist *h = curl_slist_append(r->hdrs, line);

	if (!h)
		return PLAT_E_NOMEM;
	r->hdrs = h;
	return 0;
}

struct dk_req *dk_req_new_json(struct plat_docker *d, const char *method, const char *path,
			       json_t *body, dk_finish finish)
{
	char *s = json_dumps(body, JSON_COMPACT);
	struct dk_req *r;

	if (!s)
		return NULL;
	r = dk_req_new(d, method, path, s, strlen(s), finish);
	free(s);
	if (r && dk_req_header(r, "Content-Type: application/json") < 0) {
		dk_req_free(r);
		return NULL;
	}
	return r;
}

void dk_req_free(struct dk_req *r)
{
	if (!r)
		return;
	if (r->easy)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->hdrs);
	free(r->path);
	free(r->str);
	free(r->body);
	free(r->resp);
	free(r);
}

json_t *dk_resp_json(struct dk_req *r, struct plat_err *err)
{
	json_error_t je;
	json_t *j = json_loadb(r->resp ? r->resp : "", r->resp_len, 0, &je);

	if (!j) {
		snprintf(r->msg, sizeof(r->msg), "bad JSON from the engine: %s", je.text);
		err->code = PLAT_E_PROTOCOL;
		err->http_status = (int)r->status;
		err->message = r->msg;
	}
	return j;
}

void dk_http_error(struct dk_req *r, struct plat_err *err, int code)
{
	json_t *j = NULL;
	const char *m = NULL;

	if (r->resp_len)
		j = json_loadb(r->resp, r->resp_len, 0, NULL);
	if (j)
		m = json_string_value(json_object_get(j, "message"));
	if (m)
		snprintf(r->msg, sizeof(r->msg), "%s", m);
	else if (r->resp_len)
		snprintf(r->msg, sizeof(r->msg), "%.*s",
			 (int)(r->resp_len > 400 ? 400 : r->resp_len), r->resp);
	else
		snprintf(r->msg, sizeof(r->msg), "engine answered HTTP %ld", r->status);
	/* drop a trailing newline the engine may send */
	size_t n = strlen(r->msg);
	while (n && (r->msg[n - 1] == '\n' || r->msg[n - 1] == '\r'))
		r->msg[--n] = '\0';
	json_decref(j);
	err->code = code;
	err->http_status = (int)r->status;
	err->message = r->msg;
}

static int dk_status_code(long status)
{
	switch (status) {
	case 404:
		return PLAT_E_NOT_FOUND;
	case 409:
		return PLAT_E_CONFLICT;
	default:
		return status >= 500 ? PLAT_E_ENGINE : PLAT_E_REJECTED;
	}
}

static int dk_curl_code(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE: /* cut mid-answer: a wait when it died */
	/* TLS: the engine's certificate or ours was not accepted */
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return PLAT_E_UNAVAILABLE;
	case CURLE_OPERATION_TIMEDOUT:
		return PLAT_E_TIMEOUT;
	case CURLE_OUT_OF_MEMORY:
		return PLAT_E_NOMEM;
	case CURLE_ABORTED_BY_CALLBACK:
		return PLAT_E_CANCELED;
	default:
		return PLAT_E_IO;
	}
}

/* How to name a transport failure: over TCP, a TLS problem says so, and
 * which side refused (TLS 1.3 tells a client that the engine refused its
 * certificate only at the first read or write, as a plain SSL error). */
static const char *dk_failure(const struct plat_docker *d, CURL *easy, CURLcode rc,
			      const char *errbuf, long status)
{
	curl_off_t tcp = 0;
	int connected =
	    curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &tcp) == CURLE_OK && tcp > 0;

	if (!d->socket_path &&
	    (rc == CURLE_PEER_FAILED_VERIFICATION || strstr(errbuf, "certificate problem")))
		return "TLS handshake failed (the engine's certificate is not signed by tls_ca, "
		       "or not for this host name) with the engine";
	if (!d->socket_path &&
	    (rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_SSL_CERTPROBLEM ||
	     rc == CURLE_SSL_CACERT_BADFILE || strstr(errbuf, "SSL") || strstr(errbuf, "alert")))
		return "TLS handshake failed (does the engine trust tls_cert? its --tlscacert must "
		       "have signed it) with the engine";
	/* ... or, its reset before the alert, as a connection closed with no answer */
	if (!d->socket_path && connected && status == 0 &&
	    (rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_COULDNT_CONNECT ||
	     rc == CURLE_GOT_NOTHING))
		return "TLS connection closed (does the engine trust tls_cert? its "
		       "--tlscacert must have signed it) by the engine";
	return dk_curl_code(rc) == PLAT_E_UNAVAILABLE ? "no engine" : "error";
}

/* Tell the platform's stats hook (plat_config.stats) how a request went. */
static void dk_report(struct dk_req *r, const struct plat_err *err)
{
	struct plat_api_stat st = {0, 0, 0};
	curl_off_t first = 0, total = 0;

	if (!r->d->stats || (err && err->code == PLAT_E_CANCELED))
		return;
	curl_easy_getinfo(r->easy, CURLINFO_STARTTRANSFER_TIME_T, &first);
	curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME_T, &total);
	st.seconds = (double)(first > 0 ? first : total) / 1e6;
	st.code = err ? err->code : 0;
	st.http_status = r->status > 0 && r->status < 1000 ? (int)r->status : 0;
	r->d->stats(&st);
}

static void dk_finish_now(struct dk_req *r, const struct plat_err *err)
{
	r->finish(r, err);
	dk_req_free(r);
}

static int dk_req_send(struct dk_req *r, long timeout_ms);

/* r waits at the tail of a FIFO (the version's or the gate's), keeping the
 * time limit it goes out with. */
static void dk_fifo_push(struct dk_req **head, struct dk_req **tail, struct dk_req *r,
			 long timeout_ms)
{
	r->timeout_ms = timeout_ms;
	if (*tail)
		(*tail)->next = r;
	else
		*head = r;
	*tail = r;
}

void dk_gate_release(struct plat_docker *d)
{
	struct plat_err cancel = {PLAT_E_CANCELED, 0, "canceled"};
	struct plat_err nomem = {PLAT_E_NOMEM, 0, "out of memory"};
	struct dk_req *q;

	while ((q = d->gate_head) && (d->destroying || d->ops_busy < d->max_ops)) {
		d->gate_head = q->next;
		if (!d->gate_head)
			d->gate_tail = NULL;
		q->next = NULL;
		if (q->canceled || d->destroying)
			dk_finish_now(q, &cancel);
		else if (dk_req_send(q, q->timeout_ms) < 0)
			dk_finish_now(q, &nomem);
	}
}

/* The transport is done with r's easy handle. */
static void dk_req_done(void *arg, CURL *easy, CURLcode rc)
{
	struct dk_req *r = arg;
	struct plat_docker *d = r->d;
	struct plat_err err = {0, 0, ""};

	r->xfer = NULL;
	if (r->limited && d->max_ops) /* it went out, so it held a place */
		d->ops_busy--;
	if (rc == CURLE_WRITE_ERROR && r->resp_too_large) {
		snprintf(r->msg, sizeof(r->msg), "response over %u bytes", DK_RESP_MAX);
		err.code = PLAT_E_PROTOCOL;
		err.message = r->msg;
	} else if (rc != CURLE_OK) {
		err.code = dk_curl_code(rc);
		snprintf(r->msg, sizeof(r->msg), "%s at %s: %s",
			 dk_failure(d, easy, rc, r->errbuf, r->status), dk_where(d),
			 r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
		if (err.code == PLAT_E_CANCELED)
			snprintf(r->msg, sizeof(r->msg), "canceled");
		err.message = r->msg;
		/* it may come back as another version: ask again then */
		if (err.code == PLAT_E_UNAVAILABLE && !d->pinned)
			d->api_version[0] = '\0';
	} else if (r->status < 200 || r->status > 299) {
		dk_http_error(r, &err, dk_status_code(r->status));
	}
	if (r->resp == NULL)
		dk_resp_append(r, "", 0);
	dk_report(r, err.code ? &err : NULL);
	dk_finish_now(r, err.code ? &err : NULL);
	dk_gate_release(d);
}

/* To the transport now, taking a place if r is limited. */
static int dk_req_send(struct dk_req *r, long timeout_ms)
{
	struct plat_docker *d = r->d;
	char *url;
	int rc;

	if (r->unversioned)
		url = dk_strdup_printf("%s%s", d->base_url, r->path);
	else
		url = dk_strdup_printf("%s/v%s%s", d->base_url, d->api_version, r->path);
	if (!url)
		return PLAT_E_NOMEM;
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	rc = plat_http_submit(d->http, r->easy, dk_req_done, r, &r->xfer);
	if (rc == 0 && r->limited && d->max_ops)
		d->ops_busy++;
	return rc;
}

/* Send r, or queue it in the gate when it is limited and no place is free
 * (its time limit then counts from when it goes out). */
static int dk_req_start(struct dk_req *r, long timeout_ms)
{
	struct plat_docker *d = r->d;

	if (!r->limited || !d->max_ops || (d->ops_busy < d->max_ops && !d->gate_head))
		return dk_req_send(r, timeout_ms);
	dk_fifo_push(&d->gate_head, &d->gate_tail, r, timeout_ms);
	return 0;
}

int dk_choose_version(const char *v, char *out, size_t outsz)
{
	char *end;
	long major, minor;

	major = strtol(v, &end, 10);
	if (end == v || *end != '.')
		return PLAT_E_PROTOCOL;
	v = end + 1;
	minor = strtol(v, &end, 10);
	if (end == v || *end)
		return PLAT_E_PROTOCOL;
	if (major < DK_MIN_MAJOR || (major == DK_MIN_MAJOR && minor < DK_MIN_MINOR))
		return PLAT_E_UNSUPPORTED;
	/*
	 * Speak the engine's own version: what we use has not changed since
	 * 1.41, and newer engines drop old versions (Docker 29 needs 1.44).
	 */
	if (snprintf(out, outsz, "%ld.%ld", major, minor) >= (int)outsz)
		return PLAT_E_PROTOCOL;
	return 0;
}

/* The waiting requests go out (err NULL) or fail with err. */
static void dk_release_waiting(struct plat_docker *d, const struct plat_err *err)
{
	struct dk_req *q = d->wait_head, *next;
	struct plat_err cancel = {PLAT_E_CANCELED, 0, "canceled"};
	struct plat_err nomem = {PLAT_E_NOMEM, 0, "out of memory"};

	d->wait_head = d->wait_tail = NULL;
	for (; q; q = next) {
		next = q->next;
		q->next = NULL;
		if (q->canceled)
			dk_finish_now(q, &cancel);
		else if (err)
			dk_finish_now(q, err);
		else if (dk_req_start(q, q->timeout_ms) < 0)
			dk_finish_now(q, &nomem);
	}
}

static void dk_nego_finish(struct dk_req *r, const struct plat_err *err)
{
	struct plat_docker *d = r->d;
	struct plat_err e;
	int rc;

	d->nego = NULL;
	if (!err) {
		rc = r->api_version[0]
			 ? dk_choose_version(r->api_version, d->api_version, sizeof(d->api_version))
			 : PLAT_E_PROTOCOL;
		if (rc < 0) {
			d->api_version[0] = '\0';
			snprintf(r->msg, sizeof(r->msg),
				 "engine API version \"%s\" not usable (need >= %d.%d)",
				 r->api_version, DK_MIN_MAJOR, DK_MIN_MINOR);
			e = (struct plat_err){rc, (int)r->status, r->msg};
			err = &e;
		}
	}
	dk_release_waiting(d, err);
}

int dk_req_submit(struct dk_req *r, long timeout_ms)
{
	struct plat_docker *d = r->d;

	if (d->destroying)
		return PLAT_E_CANCELED;
	if (r->unversioned || d->api_version[0])
		return dk_req_start(r, timeout_ms);
	if (!d->nego) {
		struct dk_req *n = dk_req_new(d, "GET", "/_ping", NULL, 0, dk_nego_finish);

		if (!n)
			return PLAT_E_NOMEM;
		n->unversioned = true;
		if (dk_req_start(n, (long)d->op_timeout_ms) < 0) {
			dk_req_free(n);
			return PLAT_E_NOMEM;
		}
		d->nego = n;
	}
	dk_fifo_push(&d->wait_head, &d->wait_tail, r, timeout_ms);
	return 0;
}

void dk_req_cancel(struct dk_req *r)
{
	if (r->xfer)
		plat_http_cancel(r->xfer);
	else
		r->canceled = true;
}
