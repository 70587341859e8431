/*
 * web_addrs.h - how many websockets each client address has open, so that
 * one address cannot take every place of RUNIT_MAX_SESSIONS (config.h,
 * ws_addr_max). The address is web_peer_addr()'s: behind a trusted proxy,
 * the browser's. web.c counts a session in when it is established and out
 * when it closes, and refuses an upgrade from an address at its limit.
 * Loop thread only.
 */
#ifndef RUNIT_WEB_ADDRS_H
#define RUNIT_WEB_ADDRS_H

/* Websockets open from ip now. */
int web_addrs_count(const char *ip);
/* One more from ip: 0, or -1 when out of memory (then it is not counted). */
int web_addrs_add(const char *ip);
/* One fewer from ip (one that web_addrs_add counted). */
void web_addrs_remove(const char *ip);
/* Forget every count (at shutdown). */
void web_addrs_free(void);

#endif
