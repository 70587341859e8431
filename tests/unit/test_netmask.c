/*
 * test_netmask.c - the CIDR ranges behind RUNIT_METRICS_ALLOW
 * (server/netmask.c): IPv4 and IPv6 prefixes at and past their edges,
 * IPv4-mapped IPv6 peers, bare addresses as single hosts, and the
 * malformed lists that must make the configuration fail.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "netmask.h"

static struct netmask list[NETMASK_MAX];

static int allowed(const char *ranges, const char *addr)
{
	int n = netmask_parse_list(ranges, list, NETMASK_MAX);

	assert_true(n >= 1);
	return netmask_match(list, n, addr);
}

static void ipv4_prefixes_match_inside_only(void **state)
{
	assert_true(allowed("10.0.0.0/8", "10.0.0.1"));
	assert_true(allowed("10.0.0.0/8", "10.255.255.255"));
	assert_false(allowed("10.0.0.0/8", "11.0.0.0"));
	assert_false(allowed("10.0.0.0/8", "127.0.0.1"));
	assert_true(allowed("192.168.1.128/25", "192.168.1.200"));
	assert_false(allowed("192.168.1.128/25", "192.168.1.127"));
	assert_true(allowed("0.0.0.0/0", "203.0.113.9"));
}

static void bare_address_is_one_host(void **state)
{
	assert_true(allowed("127.0.0.1", "127.0.0.1"));
	assert_false(allowed("127.0.0.1", "127.0.0.2"));
	assert_true(allowed("::1", "::1"));
	assert_false(allowed("::1", "::2"));
}

static void ipv6_prefixes_and_mapped_ipv4(void **state)
{
	assert_true(allowed("fd00::/8", "fd12:3456::1"));
	assert_false(allowed("fd00::/8", "fe80::1"));
	assert_true(allowed("2001:db8::/32", "2001:db8:ffff::1"));
	/* a dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d */
	assert_true(allowed("10.0.0.0/8", "::ffff:10.1.2.3"));
	assert_false(allowed("10.0.0.0/8", "::ffff:127.0.0.1"));
	/* families do not mix otherwise */
	assert_false(allowed("::/0", "127.0.0.1"));
}

static void lists_with_spaces(void **state)
{
	assert_int_equal(
	    netmask_parse_list(" 10.0.0.0/8 , ::1/128,192.168.0.0/16", list, NETMASK_MAX), 3);
	assert_true(netmask_match(list, 3, "::1"));
	assert_true(netmask_match(list, 3, "192.168.4.4"));
	assert_false(netmask_match(list, 3, "172.16.0.1"));
}

static void malformed_lists_are_refused(void **state)
{
	static const char *bad[] = {
	    "",
	    "10.0.0.0/33",
	    "::/129",
	    "10.0.0.0/",
	    "10.0.0.0/-1",
	    "10.0.0.0/8x",
	    "10.0.0/8",
	    "localhost",
	    "10.0.0.0/8,",
	    ",10.0.0.0/8",
	    "10.1.0.0/8", /* host bits set: a typo */
	    "1.2.3.4/32/1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(netmask_parse_list(bad[i], list, NETMASK_MAX), -1);
	assert_int_equal(netmask_parse_list("1.1.1.1,2.2.2.2,3.3.3.3", list, 2), -1);
}

static void garbage_peer_never_matches(void **state)
{
	assert_int_equal(netmask_parse_list("0.0.0.0/0,::/0", list, NETMASK_MAX), 2);
	assert_false(netmask_match(list, 2, ""));
	assert_false(netmask_match(list, 2, "not an address"));
	assert_false(netmask_match(list, 2, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ipv4_prefixes_match_inside_only),
	    cmocka_unit_test(bare_address_is_one_host),
	    cmocka_unit_test(ipv6_prefixes_and_mapped_ipv4),
	    cmocka_unit_test(lists_with_spaces),
	    cmocka_unit_test(malformed_lists_are_refused),
	    cmocka_unit_test(garbage_peer_never_matches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
