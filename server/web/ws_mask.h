/*
 * ws_mask.h - closing a websocket whose client sends a frame that is not
 * masked (RFC 6455 section 5.1: the server MUST close the connection, with
 * 1002). Debian 12's libwebsockets 4.1.6 parses the mask bit but never
 * checks it, and tells the protocol callback nothing about it (upstream
 * checks it from v5.0, commit cae06c63a "Audit fixes"). So this
 * module watches the raw bytes lws reads: it defines recv(), which lws
 * calls for every read of a plain TCP connection, follows the frame
 * headers of each websocket connection, and hands lws a frame it already
 * refuses with 1002 in place of an unmasked one (ws_mask.c says how).
 *
 * web.c tells it about each connection: ws_mask_watch() when lws accepts
 * it, ws_mask_upgraded() when it became a websocket, ws_mask_forget() when
 * it closes. Sockets it was not told about (libpq, curl) pass straight
 * through. A descriptor forgotten late (an HTTP connection that closed
 * without CLOSED_HTTP) costs its next owner one MSG_PEEK per read until lws
 * accepts on it again, nothing more: bytes are changed only on a descriptor
 * that became a websocket, and LWS_CALLBACK_CLOSED always comes for those.
 * Loop thread only.
 */
#ifndef RUNIT_WS_MASK_H
#define RUNIT_WS_MASK_H

/* A connection lws accepted on fd: its HTTP request is read from here on. */
void ws_mask_watch(int fd);
/* The connection on fd is a websocket now: every later byte is frames.
 * Plain TCP only: under TLS lws reads with SSL_read() and recv() sees
 * ciphertext (web.c forgets a TLS connection instead; the server has no
 * TLS listener today). */
void ws_mask_upgraded(int fd);
/* The connection on fd closes; the number may be reused by anyone. */
void ws_mask_forget(int fd);

#endif
