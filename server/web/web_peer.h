/*
 * web_peer.h - who is on the other end of an HTTP request or websocket:
 * the client's address (for logs and rate limits) and whether the browser's
 * connection is HTTPS (for the session cookie's Secure flag).
 *
 * Behind a reverse proxy the TCP peer is the proxy. Only when that peer is
 * inside RUNIT_TRUSTED_PROXIES are its X-Forwarded-For / X-Forwarded-Proto
 * headers (or, without them, RFC 7239 Forwarded) believed; from anyone else
 * they are ignored, so a client cannot choose the address its attempts are
 * counted against.
 */
#ifndef RUNIT_WEB_PEER_H
#define RUNIT_WEB_PEER_H

#include <libwebsockets.h>
#include <stddef.h>
#include "config.h"

/* The client's address into out (at most outsz bytes, NUL-terminated):
 * the TCP peer's; or, from a trusted proxy, the first address of the
 * forwarded chain, read from the right, that is not itself a trusted proxy
 * (the leftmost when all are). A chain entry that is not an IP address
 * stops the walk at the last good one. */
void web_peer_addr(struct lws *wsi, const struct config *cfg, char *out, size_t outsz);

/* 1 when the browser reached us over HTTPS: TLS on this connection, or a
 * trusted proxy's X-Forwarded-Proto (its last value) or Forwarded proto=
 * says "https". */
int web_peer_https(struct lws *wsi, const struct config *cfg);

/*
 * The pure part, for the unit tests: the client address from the TCP peer
 * and the raw header values (NULL when absent). 0 with out set, or -1 when
 * out is too small.
 */
int web_peer_pick(const struct netmask *trusted, int ntrusted, const char *peer, const char *xff,
		  const char *forwarded, char *out, size_t outsz);
/* The scheme said by X-Forwarded-Proto or Forwarded (either may be NULL):
 * 1 https, 0 otherwise. */
int web_peer_proto_https(const char *xfp, const char *forwarded);

#endif
