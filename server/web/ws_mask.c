/*
 * ws_mask.c - the mask check that libwebsockets 4.1 leaves out (ws_mask.h).
 *
 * lws reads a plain TCP connection with recv(fd, buf, len, 0)
 * (lws_ssl_capable_read_no_ssl in lib/core-net/output.c). A recv() defined
 * in the executable comes before libc's for every shared library, so lws,
 * libpq and libcurl all call the one below; for a socket nobody watches it
 * is recvfrom() and nothing more.
 *
 * For a watched connection:
 * - Before the upgrade, one read never goes past the end of a request head
 *   ("\r\n\r\n", found with MSG_PEEK). lws turns the connection into a
 *   websocket while it parses the head (LWS_CALLBACK_ESTABLISHED comes from
 *   inside that parse), so the first frame byte is read after
 *   ws_mask_upgraded(), even when the client sent its upgrade and an
 *   unmasked frame in one packet.
 * - After the upgrade, the frame headers are followed through the stream:
 *   two bytes, the extended length, the mask key when the mask bit is set;
 *   the payload is skipped.
 *
 * An unmasked frame gets the three RSV bits set in its first byte before
 * lws parses it. lws refuses RSV bits that no extension negotiated (the
 * server offers none) with close code 1002, the code RFC 6455 asks for
 * here: the frames before it are served in order, then lws sends its close
 * frame (its reason text is "rsv bits"; the log line below says what
 * happened) and ends the connection. When that first byte ended the
 * previous read, lws has parsed it already: the read then fails (EPROTO)
 * and lws drops the TCP connection without a close frame.
 *
 * Delete this file once the server is built against an lws that checks
 * masks itself (v5.0 does).
 */
/* glibc's fortified recv() is an inline definition: it would clash with ours */
#undef _FORTIFY_SOURCE
#include "ws_mask.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>

enum { WM_OFF = 0, WM_HTTP, WM_FRAMES };

/* What a watched connection is reading now. */
struct wm_conn {
	uint64_t left;	     /* frames: payload bytes of the current frame to come */
	uint64_t plen;	     /* its payload length, while its header is read */
	unsigned char state; /* WM_OFF: not watched */
	unsigned char crlf;  /* HTTP: how much of "\r\n\r\n" the last bytes were */
	unsigned char have;  /* frames: header bytes of the current frame seen */
	unsigned char need;  /* its header length, known from its second byte */
};

/* Indexed by descriptor, allocated on the first watch and kept. Other
 * threads may call recv() on their own sockets: they only read. */
static struct wm_conn *_Atomic conns;
static size_t nconns;

#define WM_FINE ((long)-1)    /* every frame so far is masked */
#define WM_EARLIER ((long)-2) /* unmasked, its first byte read earlier */

static struct wm_conn *conn_of(int fd)
{
	struct wm_conn *t = atomic_load_explicit(&conns, memory_order_acquire);

	if (!t || fd < 0 || (size_t)fd >= nconns || t[fd].state == WM_OFF)
		return NULL;
	return &t[fd];
}

void ws_mask_watch(int fd)
{
	struct wm_conn *t = atomic_load_explicit(&conns, memory_order_relaxed);

	if (!t) {
		struct rlimit rl;
		size_t n = 65536;

		/* lws sizes its own descriptor table the same way */
		if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY &&
		    rl.rlim_cur > 0)
			n = (size_t)rl.rlim_cur;
		if (n > ((size_t)1 << 20))
			n = (size_t)1 << 20;
		t = calloc(n, sizeof(*t));
		if (!t) {
			log_json(LOG_ERROR, "websocket masks not checked: out of memory", NULL);
			return;
		}
		nconns = n;
		atomic_store_explicit(&conns, t, memory_order_release);
	}
	if (fd < 0 || (size_t)fd >= nconns) {
		log_json(LOG_WARN, "websocket masks not checked: descriptor beyond the table",
			 json_pack("{s:i}", "fd", fd));
		return;
	}
	memset(&t[fd], 0, sizeof(t[fd]));
	t[fd].state = WM_HTTP;
}

void ws_mask_upgraded(int fd)
{
	struct wm_conn *t = atomic_load_explicit(&conns, memory_order_relaxed);

	if (!t || fd < 0 || (size_t)fd >= nconns)
		return;
	memset(&t[fd], 0, sizeof(t[fd]));
	t[fd].state = WM_FRAMES;
}

void ws_mask_forget(int fd)
{
	struct wm_conn *c = conn_of(fd);

	if (c)
		c->state = WM_OFF;
}

/* Progress through "\r\n\r\n" after byte b; 4 is a whole match. */
static unsigned char crlf_step(unsigned char m, unsigned char b)
{
	static const char pat[] = "\r\n\r\n";

	if (m == 4) /* "\r\n" of the match may begin the next one */
		m = 2;
	if (b == (unsigned char)pat[m])
		return m + 1;
	return b == '\r' ? 1 : 0;
}

/* A read of a request head: up to and including its "\r\n\r\n". */
static ssize_t read_http(struct wm_conn *c, int fd, unsigned char *buf, size_t len, int flags)
{
	ssize_t n = recvfrom(fd, buf, len, flags | MSG_PEEK, NULL, NULL);
	unsigned char m = c->crlf;
	size_t take = 0;

	if (n <= 0)
		return n;
	while (take < (size_t)n) {
		m = crlf_step(m, buf[take++]);
		if (m == 4)
			break;
	}
	n = recvfrom(fd, buf, take, flags, NULL, NULL);
	for (ssize_t i = 0; i < n; i++)
		c->crlf = crlf_step(c->crlf, buf[i]);
	return n;
}

/*
 * Follow the frame headers through buf. WM_FINE, or where the first byte
 * of an unmasked frame is in buf, or WM_EARLIER.
 */
static long frames_scan(struct wm_conn *c, const unsigned char *buf, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char b;

		if (c->left) {
			size_t k = c->left < n - i ? (size_t)c->left : n - i;
			c->left -= k;
			i += k;
			continue;
		}
		b = buf[i++];
		c->have++;
		if (c->have == 2) {
			if (!(b & 0x80))
				return i >= 2 ? (long)(i - 2) : WM_EARLIER;
			c->plen = b & 0x7f;
			c->need = 6 + (c->plen == 126 ? 2 : c->plen == 127 ? 8 : 0);
			if (c->plen >= 126)
				c->plen = 0;
		} else if (c->have > 2 && c->have <= c->need - 4) {
			c->plen = c->plen << 8 | b; /* extended length, big-endian */
		}
		if (c->have >= 2 && c->have == c->need) {
			c->left = c->plen;
			c->have = 0;
		}
	}
	return WM_FINE;
}

static void log_unmasked(int fd)
{
	struct sockaddr_storage sa;
	socklen_t salen = sizeof(sa);
	char ip[INET6_ADDRSTRLEN] = "?";

	if (!getpeername(fd, (struct sockaddr *)&sa, &salen)) {
		if (sa.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, ip, sizeof(ip));
		else if (sa.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, ip,
				  sizeof(ip));
	}
	log_json(LOG_WARN, "websocket frame not masked: closing the connection (1002)",
		 json_pack("{s:s}", "ip", ip));
}

static ssize_t read_frames(struct wm_conn *c, int fd, unsigned char *buf, size_t len, int flags)
{
	ssize_t n = recvfrom(fd, buf, len, flags, NULL, NULL);
	long bad;

	if (n <= 0)
		return n;
	bad = frames_scan(c, buf, (size_t)n);
	if (bad == WM_FINE)
		return n;
	c->state = WM_OFF; /* lws ends the connection now: nothing more to follow */
	log_unmasked(fd);
	if (bad == WM_EARLIER) {
		errno = EPROTO;
		return -1;
	}
	buf[bad] |= 0x70; /* RSV1-3: refused by lws with 1002 */
	return n;
}

/* Everybody's recv(): see the top of this file. */
ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	struct wm_conn *c = conn_of(fd);

	if (!c || !len || (flags & MSG_PEEK))
		return recvfrom(fd, buf, len, flags, NULL, NULL);
	if (c->state == WM_HTTP)
		return read_http(c, fd, buf, len, flags);
	return read_frames(c, fd, buf, len, flags);
}
