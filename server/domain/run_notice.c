/*
 * run_notice.c - the wrapper's exit notice in a run's stdout (run_notice.h).
 */
#include "run_notice.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTICE_MAX_DIGITS 3 /* exit codes are 0..255 */

void run_notice_init(struct run_notice *n, const char *token)
{
	memset(n, 0, sizeof(*n));
	if (!token || strlen(token) != RUN_NOTICE_TOKEN_LEN)
		return;
	n->plen = (size_t)snprintf(n->prefix, sizeof(n->prefix), "\x1erun-it-exit-%s ", token);
}

/*
 * At p (rl bytes, p[0] == 0x1e): how long the notice there is (> 0), 0 when
 * it is none, -1 when it may be one that is not complete yet. *code is set
 * when > 0.
 */
static long notice_at(const struct run_notice *n, const char *p, size_t rl, int *code)
{
	size_t j = n->plen, d;
	int c = 0;

	if (rl < n->plen)
		return memcmp(p, n->prefix, rl) ? 0 : -1;
	if (memcmp(p, n->prefix, n->plen))
		return 0;
	for (d = 0; j < rl && p[j] >= '0' && p[j] <= '9' && d <= NOTICE_MAX_DIGITS; j++, d++)
		c = c * 10 + (p[j] - '0');
	if (j == rl)
		return d <= NOTICE_MAX_DIGITS ? -1 : 0;
	if (!d || d > NOTICE_MAX_DIGITS || c > 255)
		return 0;
	if (p[j] == '\n') {
		*code = c;
		return (long)(j + 1);
	}
	if (p[j] != '\r')
		return 0;
	if (j + 1 == rl)
		return -1;
	if (p[j + 1] != '\n')
		return 0;
	*code = c;
	return (long)(j + 2);
}

/* One run of bytes (the held ones first): out what is not the notice. */
static int scan(struct run_notice *n, const char *p, size_t len, run_notice_out out, void *arg)
{
	size_t from = 0, i = 0;
	int found = 0;

	while (i < len) {
		const char *hit = memchr(p + i, 0x1e, len - i);
		long k;
		int code = 0;

		if (!hit)
			break;
		i = (size_t)(hit - p);
		k = notice_at(n, hit, len - i, &code);
		if (k == 0) {
			i++;
			continue;
		}
		if (i > from)
			out(arg, p + from, i - from);
		if (k < 0) { /* perhaps a notice: kept for the next bytes */
			memcpy(n->hold, hit, len - i);
			n->hold_len = len - i;
			return found;
		}
		n->seen = 1;
		n->code = code;
		found = 1;
		from = i + (size_t)k; /* one notice per run: the rest is output */
		break;
	}
	if (len > from)
		out(arg, p + from, len - from);
	return found;
}

int run_notice_feed(struct run_notice *n, const char *buf, size_t len, run_notice_out out,
		    void *arg)
{
	char *joined;
	int found;

	if (!n->plen || n->seen) { /* one notice per run: later look-alikes are output */
		if (len)
			out(arg, buf, len);
		return 0;
	}
	if (!n->hold_len)
		return scan(n, buf, len, out, arg);
	/* the held bytes and these as one: at most the hold's size more */
	if (!(joined = malloc(n->hold_len + len))) {
		run_notice_flush(n, out, arg);
		return scan(n, buf, len, out, arg);
	}
	memcpy(joined, n->hold, n->hold_len);
	memcpy(joined + n->hold_len, buf, len);
	len += n->hold_len;
	n->hold_len = 0;
	found = scan(n, joined, len, out, arg);
	free(joined);
	return found;
}

void run_notice_flush(struct run_notice *n, run_notice_out out, void *arg)
{
	size_t k = n->hold_len;

	n->hold_len = 0;
	if (k)
		out(arg, n->hold, k);
}
