/*
 * plat_http.h - libcurl's multi interface driven by a libuv loop: the
 * transport under the HTTP-speaking backends (Docker Engine API today).
 *
 * curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION, one
 * uv_poll_t per socket) and when to time out (CURLMOPT_TIMERFUNCTION, one
 * uv_timer_t); we tell curl what happened (curl_multi_socket_action) and
 * collect finished transfers (curl_multi_info_read). This is the pattern of
 * curl's docs/examples/multi-uv.c. Nothing here blocks.
 *
 * libcurl refuses multi calls made from inside its own callbacks, and our
 * callers act from inside them (a data callback pauses, a completion starts
 * the next request). So adding, cancelling and unpausing transfers is never
 * done in the call: it is recorded and carried out by a "kick" (a libuv
 * idle handle) on the next loop iteration. That also gives the async rule for free: a done
 * callback never runs inside plat_http_submit().
 */
#ifndef RUNIT_PLAT_HTTP_H
#define RUNIT_PLAT_HTTP_H

#include <curl/curl.h>
#include <uv.h>

struct plat_http;
struct plat_http_xfer;

/*
 * A transfer ended: rc is curl's result (CURLE_ABORTED_BY_CALLBACK after a
 * cancel or plat_http_free). The easy handle is out of the multi and
 * belongs to the caller again.
 */
typedef void (*plat_http_done)(void *arg, CURL *easy, CURLcode rc);

int plat_http_new(uv_loop_t *loop, struct plat_http **out);

/*
 * Ends every transfer (done callbacks run now with
 * CURLE_ABORTED_BY_CALLBACK), then closes the uv handles; the memory is
 * released when the loop has run their close callbacks.
 */
void plat_http_free(struct plat_http *h);

/*
 * Run easy (fully configured by the caller, who keeps owning it; the
 * transport uses its CURLOPT_PRIVATE, the caller must not). done runs
 * exactly once, later. *out (optional) identifies the transfer for cancel
 * and unpause until done has run. Returns 0 or PLAT_E_NOMEM.
 */
int plat_http_submit(struct plat_http *h, CURL *easy, plat_http_done done, void *arg,
		     struct plat_http_xfer **out);

/* Abort the transfer soon: done runs with CURLE_ABORTED_BY_CALLBACK. */
void plat_http_cancel(struct plat_http_xfer *x);

/* curl_easy_pause(CURLPAUSE_CONT) soon, outside any curl callback. */
void plat_http_unpause(struct plat_http_xfer *x);

#endif
