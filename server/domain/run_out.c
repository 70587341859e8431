/*
 * run_out.c - output coalescing and UTF-8 care for run logs (run_out.h).
 */
#include "run_out.h"
#include "proto.h"

#include <stdlib.h>
#include <string.h>

void runout_init(struct runout *o, size_t max_chunk, runout_emit_fn emit, void *arg)
{
	memset(o, 0, sizeof(*o));
	o->max_chunk = max_chunk ? max_chunk : 16384;
	o->emit = emit;
	o->arg = arg;
}

void runout_release(struct runout *o)
{
	free(o->pend);
	free(o->tmp);
	o->pend = o->tmp = NULL;
	o->plen = o->pcap = o->tcap = 0;
}

size_t utf8_sanitize(const char *in, size_t len, char *out)
{
	size_t i = 0, w = 0;

	while (i < len) {
		size_t ok = proto_utf8_valid_prefix(in + i, len - i);
		memcpy(out + w, in + i, ok);
		w += ok;
		i += ok;
		if (i < len) {
			/* one invalid byte: U+FFFD, then resynchronise */
			out[w++] = (char)0xEF;
			out[w++] = (char)0xBF;
			out[w++] = (char)0xBD;
			i++;
		}
	}
	return w;
}

static int reserve(char **p, size_t *cap, size_t need)
{
	size_t c = *cap ? *cap : 4096;
	char *np;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	np = realloc(*p, c);
	if (!np)
		return -1;
	*p = np;
	*cap = c;
	return 0;
}

/* Emit buf[0..len) (complete characters) in chunks of at most max_chunk. */
static void emit_clean(struct runout *o, int stream, const char *buf, size_t len)
{
	while (len) {
		size_t n = len > o->max_chunk ? o->max_chunk : len;
		if (n < len) {
			size_t c = proto_utf8_complete_prefix(buf, n);
			n = c ? c : n;
		}
		if (reserve(&o->tmp, &o->tcap, n * 3))
			return;
		o->emit(o->arg, stream, o->tmp, utf8_sanitize(buf, n, o->tmp));
		buf += n;
		len -= n;
	}
}

static void flush_pending(struct runout *o)
{
	size_t n, tail;

	if (!o->cur || !o->plen) {
		o->cur = 0;
		return;
	}
	n = proto_utf8_complete_prefix(o->pend, o->plen);
	tail = o->plen - n;
	if (tail && tail < 4) {
		memcpy(o->carry[o->cur], o->pend + n, tail);
		o->clen[o->cur] = tail;
	} else {
		n = o->plen;
	}
	emit_clean(o, o->cur, o->pend, n);
	o->plen = 0;
	o->cur = 0;
}

int runout_feed(struct runout *o, int stream, const char *buf, size_t len)
{
	if (stream != 1 && stream != 2)
		return -1;
	if (!len)
		return 0;
	if (o->cur && o->cur != stream)
		flush_pending(o);
	if (reserve(&o->pend, &o->pcap, o->plen + o->clen[stream] + len))
		return -1;
	o->cur = stream;
	memcpy(o->pend + o->plen, o->carry[stream], o->clen[stream]);
	o->plen += o->clen[stream];
	o->clen[stream] = 0;
	memcpy(o->pend + o->plen, buf, len);
	o->plen += len;
	if (o->plen >= o->max_chunk)
		flush_pending(o);
	return 0;
}

void runout_flush(struct runout *o, int final)
{
	flush_pending(o);
	if (!final)
		return;
	for (int s = 1; s <= 2; s++) {
		if (o->clen[s]) {
			size_t n = o->clen[s];
			o->clen[s] = 0;
			emit_clean(o, s, o->carry[s], n);
		}
	}
}

int runout_pending(const struct runout *o)
{
	return o->plen > 0;
}
