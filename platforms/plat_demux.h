/*
 * plat_demux.h - a streaming demultiplexer for Docker's attach stream.
 *
 * Without a TTY, Docker multiplexes stdout and stderr on one connection as
 * frames: an 8-byte header (stream byte 0/1/2, three zero bytes, payload
 * length as a big-endian uint32) followed by the payload. The connection
 * delivers those bytes in arbitrary chunks: a header may be split across
 * reads and one read may hold many frames. This demuxer takes the chunks as
 * they come and emits payload pieces as soon as they arrive, without
 * buffering whole frames. Pure: no I/O, no allocation.
 *
 * With a TTY the engine does not multiplex: the stream is the terminal's
 * raw bytes. A demuxer made with plat_demux_init_raw() passes them on as
 * they come, all as stream 1 (stdout), so the caller reads both the same way.
 */
#ifndef RUNIT_PLAT_DEMUX_H
#define RUNIT_PLAT_DEMUX_H

#include <stddef.h>
#include <stdint.h>

/*
 * Receives a piece of a frame's payload (len > 0; empty frames emit nothing).
 * Return 0 to go on, non-zero to make plat_demux_feed() stop right after
 * this piece (backpressure): the caller feeds the rest later.
 */
typedef int (*plat_demux_emit)(void *arg, int stream, const char *data, size_t len);

struct plat_demux {
	plat_demux_emit emit;
	void *arg;
	unsigned char hdr[8]; /* header bytes gathered so far */
	size_t hdr_len;
	uint32_t left; /* payload bytes still due in the current frame */
	int stream;    /* stream of the current frame */
	int failed;    /* a bad header was seen: everything fails now */
	int raw;       /* a TTY's stream: no frames, every byte is stdout */
};

void plat_demux_init(struct plat_demux *d, plat_demux_emit emit, void *arg);
/* The same for a TTY's unframed stream. */
void plat_demux_init_raw(struct plat_demux *d, plat_demux_emit emit, void *arg);

/*
 * Feed len bytes. *used is how many were consumed: all of them unless the
 * emit callback asked to stop. Returns 0, or PLAT_E_PROTOCOL for a header
 * with a stream byte other than 0, 1, 2 or non-zero padding (then the
 * demuxer stays failed; *used counts the bytes before the bad header).
 */
int plat_demux_feed(struct plat_demux *d, const void *buf, size_t len, size_t *used);

/* 1 if the stream may end here (not inside a header or a payload; a raw
 * stream may end anywhere). */
int plat_demux_at_boundary(const struct plat_demux *d);

#endif
