/*
 * netmask.h - address ranges in CIDR notation ("10.0.0.0/8", "::1/128",
 * "192.168.1.7") and the check of a peer address against a list of them.
 * Used to restrict /metrics (RUNIT_METRICS_ALLOW). Pure: no sockets, so the
 * unit tests cover it. An IPv4 rule also matches the same address written
 * as IPv4-mapped IPv6 ("::ffff:10.1.2.3"), which is how a dual-stack
 * listener reports IPv4 peers.
 */
#ifndef RUNIT_NETMASK_H
#define RUNIT_NETMASK_H

#include <stddef.h>

#define NETMASK_MAX 16 /* ranges in one list */

struct netmask {
	int family;		/* 4 or 6 */
	unsigned char addr[16]; /* network bytes; 4 used for IPv4 */
	int bits;		/* prefix length */
};

/* Parse one range (surrounding spaces allowed). 0, or -1 if malformed
 * (bad address, prefix over 32/128, or host bits set past the prefix). */
int netmask_parse(const char *s, size_t len, struct netmask *out);

/* Parse "a/n, b/m, ..." into out[max]. Returns how many (>= 1), or -1 when
 * the list is empty, too long or has a malformed entry. */
int netmask_parse_list(const char *list, struct netmask *out, int max);

/* 1 when addr (textual IPv4 or IPv6) is inside one of the n ranges. */
int netmask_match(const struct netmask *list, int n, const char *addr);

#endif
