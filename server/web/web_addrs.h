/*
 * web_addrs.h - how many websockets each client address has open, so that
 * one address cannot take every place of RUNIT_MAX_SESSIONS (config.h,
 * ws_addr_max), and how much they may send (ws_addr_bytes_s): reading a
 * message costs the event loop up to about 150 ms a MB (jansson, a JSON
 * value every two bytes), so one client sending at the network's speed
 * held the loop for everyone. The address is web_peer_addr()'s: behind a
 * trusted proxy, the browser's. web.c counts a session in when it is
 * established and out when it closes, refuses an upgrade from an address
 * at its limit, and stops reading an address's sockets while it is over
 * its budget, or while it has RUNIT_WS_ADDR_CALLS requests unanswered.
 * Loop thread only.
 */
#ifndef RUNIT_WEB_ADDRS_H
#define RUNIT_WEB_ADDRS_H

#include <stddef.h>

/* Websockets open from ip now. */
int web_addrs_count(const char *ip);
/* One more from ip, which may send rate bytes a second: 0, or -1 when out
 * of memory (then it is not counted). */
int web_addrs_add(const char *ip, long long rate, long long now_ms);
/* One fewer from ip (one that web_addrs_add counted). */
void web_addrs_remove(const char *ip);
/* Charge bytes that arrived from ip: its rate a second, up to
 * WEB_ADDRS_BURST_S seconds of it saved up. 0 while that holds; else the
 * milliseconds until it does again (the caller stops reading ip's sockets
 * meanwhile, and the sender waits on TCP). */
#define WEB_ADDRS_BURST_S 4
long web_addrs_spend(const char *ip, size_t bytes, long long now_ms);
/* ip's requests not yet answered, after adding delta (1: one came in, -1:
 * one was answered; 0: just the count). An address with no websocket
 * counted in has none. */
int web_addrs_calls(const char *ip, int delta);
/* 1 once for each now_ms an address is asked (0 after that, and for an
 * address not counted): lets a timer let one more of ip's sockets be read. */
int web_addrs_grant(const char *ip, long long now_ms);
/* Forget everything (at shutdown). */
void web_addrs_free(void);

#endif
