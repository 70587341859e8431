/*
 * test_web_peer.c - the client address and scheme behind
 * RUNIT_TRUSTED_PROXIES (server/web/web_peer.c): forwarded headers count
 * only from a trusted peer; the chain is read from the right, past trusted
 * hops, to the first address that is not one; an entry that is not an
 * address stops the walk; ports, brackets and Forwarded's quoting are
 * understood; the scheme is the proxy's own (last) value.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "web_peer.h"

static struct netmask trusted[NETMASK_MAX];
static char out[64];

static const char *pick(const char *ranges, const char *peer, const char *xff, const char *fwd)
{
	int n = ranges ? netmask_parse_list(ranges, trusted, NETMASK_MAX) : 0;

	assert_int_equal(web_peer_pick(trusted, n, peer, xff, fwd, out, sizeof(out)), 0);
	return out;
}

static void untrusted_peer_headers_are_ignored(void **state)
{
	assert_string_equal(pick(NULL, "198.51.100.7", "203.0.113.1", NULL), "198.51.100.7");
	assert_string_equal(pick("127.0.0.1/32", "198.51.100.7", "203.0.113.1", NULL),
			    "198.51.100.7");
	assert_string_equal(pick("127.0.0.1/32", "198.51.100.7", NULL, "for=203.0.113.1"),
			    "198.51.100.7");
}

static void trusted_peer_gives_the_forwarded_client(void **state)
{
	assert_string_equal(pick("127.0.0.1", "127.0.0.1", "203.0.113.1", NULL), "203.0.113.1");
	assert_string_equal(pick("127.0.0.1", "127.0.0.1", NULL, NULL), "127.0.0.1");
	assert_string_equal(pick("127.0.0.1", "127.0.0.1", " 203.0.113.1 ", NULL), "203.0.113.1");
}

static void chain_is_read_from_the_right(void **state)
{
	/* a client's own claim (leftmost) is not believed past an untrusted hop */
	assert_string_equal(
	    pick("127.0.0.1,10.0.0.0/8", "127.0.0.1", "1.1.1.1, 203.0.113.1, 10.0.0.5", NULL),
	    "203.0.113.1");
	/* all trusted: the leftmost */
	assert_string_equal(pick("127.0.0.1,10.0.0.0/8", "127.0.0.1", "10.1.1.1,10.0.0.5", NULL),
			    "10.1.1.1");
}

static void garbage_stops_the_walk(void **state)
{
	assert_string_equal(pick("127.0.0.1", "127.0.0.1", "evil", NULL), "127.0.0.1");
	assert_string_equal(
	    pick("127.0.0.1,10.0.0.0/8", "127.0.0.1", "203.0.113.1, x, 10.0.0.5", NULL),
	    "10.0.0.5");
	assert_string_equal(pick("127.0.0.1", "127.0.0.1", "203.0.113.1,", NULL), "127.0.0.1");
	assert_string_equal(pick("127.0.0.1", "127.0.0.1", "1.2.3.4' OR 1=1", NULL), "127.0.0.1");
}

static void ports_and_ipv6_forms(void **state)
{
	assert_string_equal(pick("127.0.0.1", "127.0.0.1", "203.0.113.1:4711", NULL),
			    "203.0.113.1");
	assert_string_equal(pick("127.0.0.1", "127.0.0.1", "2001:DB8::1", NULL), "2001:db8::1");
	assert_string_equal(pick("127.0.0.1", "127.0.0.1", "[2001:db8::1]:4711", NULL),
			    "2001:db8::1");
}

static void forwarded_header_when_no_xff(void **state)
{
	assert_string_equal(
	    pick("127.0.0.1", "127.0.0.1", NULL, "for=192.0.2.60;proto=https;by=203.0.113.43"),
	    "192.0.2.60");
	assert_string_equal(pick("127.0.0.1", "127.0.0.1", NULL,
				 "for=198.51.100.1, For=\"[2001:db8:cafe::17]:4711\""),
			    "2001:db8:cafe::17");
	assert_string_equal(pick("127.0.0.1", "127.0.0.1", NULL, "for=unknown"), "127.0.0.1");
	/* X-Forwarded-For wins when both are there */
	assert_string_equal(pick("127.0.0.1", "127.0.0.1", "203.0.113.9", "for=192.0.2.60"),
			    "203.0.113.9");
}

static void scheme_is_the_proxys_own(void **state)
{
	assert_true(web_peer_proto_https("https", NULL));
	assert_true(web_peer_proto_https("HTTPS", NULL));
	assert_false(web_peer_proto_https("http", NULL));
	assert_true(web_peer_proto_https("http, https", NULL));
	assert_false(web_peer_proto_https("https, http", NULL));
	assert_false(web_peer_proto_https("httpsx", NULL));
	assert_true(web_peer_proto_https(NULL, "for=1.2.3.4;proto=https"));
	assert_true(web_peer_proto_https(NULL, "for=1.2.3.4;proto=\"https\""));
	assert_false(web_peer_proto_https(NULL, "proto=https, for=1.2.3.4;proto=http"));
	assert_false(web_peer_proto_https(NULL, NULL));
}

static void small_output_is_an_error(void **state)
{
	char tiny[4];

	assert_int_equal(web_peer_pick(NULL, 0, "127.0.0.1", NULL, NULL, tiny, sizeof(tiny)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(untrusted_peer_headers_are_ignored),
	    cmocka_unit_test(trusted_peer_gives_the_forwarded_client),
	    cmocka_unit_test(chain_is_read_from_the_right),
	    cmocka_unit_test(garbage_stops_the_walk),
	    cmocka_unit_test(ports_and_ipv6_forms),
	    cmocka_unit_test(forwarded_header_when_no_xff),
	    cmocka_unit_test(scheme_is_the_proxys_own),
	    cmocka_unit_test(small_output_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
