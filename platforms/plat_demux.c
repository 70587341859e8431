/*
 * plat_demux.c - Docker attach stream demultiplexer (see plat_demux.h): a
 * small state machine over "gathering a header" and "passing a payload",
 * or, for a TTY's raw stream, a pass-through.
 */
#include "plat_demux.h"
#include "platform.h"

void plat_demux_init(struct plat_demux *d, plat_demux_emit emit, void *arg)
{
	d->emit = emit;
	d->arg = arg;
	d->hdr_len = 0;
	d->left = 0;
	d->stream = 0;
	d->failed = 0;
	d->raw = 0;
}

void plat_demux_init_raw(struct plat_demux *d, plat_demux_emit emit, void *arg)
{
	plat_demux_init(d, emit, arg);
	d->raw = 1;
}

/* A complete header is in d->hdr: check it and start its frame. */
static int demux_begin_frame(struct plat_demux *d)
{
	const unsigned char *h = d->hdr;

	if (h[0] > 2 || h[1] || h[2] || h[3]) {
		d->failed = 1;
		return PLAT_E_PROTOCOL;
	}
	d->stream = h[0];
	d->left =
	    (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | (uint32_t)h[7];
	d->hdr_len = 0;
	return 0;
}

int plat_demux_feed(struct plat_demux *d, const void *buf, size_t len, size_t *used)
{
	const char *p = buf;
	size_t pos = 0;

	*used = 0;
	if (d->failed)
		return PLAT_E_PROTOCOL;
	if (d->raw) { /* one piece: stopping after it consumed it all */
		if (len)
			d->emit(d->arg, 1, p, len);
		*used = len;
		return 0;
	}
	while (pos < len) {
		if (d->left == 0) {
			size_t want = sizeof(d->hdr) - d->hdr_len;
			size_t n = len - pos < want ? len - pos : want;

			for (size_t i = 0; i < n; i++)
				d->hdr[d->hdr_len + i] = (unsigned char)p[pos + i];
			if (d->hdr_len + n < sizeof(d->hdr)) {
				d->hdr_len += n;
				pos += n;
				break;
			}
			d->hdr_len += n;
			if (demux_begin_frame(d) < 0) {
				*used = pos;
				return PLAT_E_PROTOCOL;
			}
			pos += n;
			continue;
		}
		size_t n = len - pos < d->left ? len - pos : d->left;
		d->left -= (uint32_t)n;
		pos += n;
		if (d->emit(d->arg, d->stream, p + pos - n, n))
			break;
	}
	*used = pos;
	return 0;
}

int plat_demux_at_boundary(const struct plat_demux *d)
{
	return !d->failed && d->left == 0 && d->hdr_len == 0;
}
