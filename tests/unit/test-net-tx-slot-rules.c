// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: netif guest-TX slot rules (netback/request.c), as Linux
 * 6.1's xen-netback applies them: a packet is its first slot, its extras
 * and up to 18 follow-on slots; the 19th and 20th drop it (every slot still
 * answered), reaching a 21st is fatal; a slot larger than what is left of
 * the packet drops it, as does a first slot shorter than an Ethernet
 * header; offset + size beyond the page is fatal for any slot; an extra of
 * type 0 or above Linux's XDP (5), a sixth extra, a GSO extra with
 * size 0 or a type other than TCPv4/6 are fatal; a multicast extra makes a
 * dummy request.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../netback/netback.h"

union slot {
	struct netif_tx_request req;
	struct netif_extra_info extra;
};

static int feed_req(struct net_tx_pkt *p, uint16_t offset, uint16_t size, uint16_t flags,
		    const char **why)
{
	union slot s = { .req = { .gref = 8, .offset = offset, .flags = flags, .id = 1,
				  .size = size } };

	return net_tx_feed(p, &s, why);
}

static int feed_extra(struct net_tx_pkt *p, uint8_t type, bool more, const char **why)
{
	union slot s = { .extra = { .type = type, .flags = more ? XEN_NETIF_EXTRA_FLAG_MORE : 0 } };

	if (type == XEN_NETIF_EXTRA_TYPE_GSO) {
		s.extra.u.gso.size = 1448;
		s.extra.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
	}
	if (type == XEN_NETIF_EXTRA_TYPE_MCAST_ADD)
		s.extra.u.mcast.addr[0] = 0x01;
	return net_tx_feed(p, &s, why);
}

/* A packet of 1 + frags slots: first 100 bytes, each frag 100 bytes. */
static int packet(struct net_tx_pkt *p, unsigned frags, const char **why)
{
	unsigned i;
	int rc;

	net_tx_pkt_init(p);
	rc = feed_req(p, 0, (uint16_t)(100 * (frags + 1)), frags ? NETTXF_more_data : 0, why);
	for (i = 0; i < frags && rc == NET_TX_NEED; i++)
		rc = feed_req(p, 0, 100, i + 1 < frags ? NETTXF_more_data : 0, why);
	return rc;
}

static void test_a_one_slot_packet_is_ready_with_its_length(void **state)
{
	struct net_tx_pkt p;
	const char *why;

	assert_int_equal(packet(&p, 0, &why), NET_TX_READY);
	assert_int_equal(p.drop, 0);
	assert_int_equal(p.nr_slots, 1);
	assert_int_equal(net_tx_pkt_len(&p), 100);
}

static void test_eighteen_follow_on_slots_are_accepted(void **state)
{
	struct net_tx_pkt p;
	const char *why;

	assert_int_equal(packet(&p, 18, &why), NET_TX_READY);
	assert_int_equal(p.drop, 0);
	assert_int_equal(p.nr_frags, 18);
	assert_int_equal(p.nr_slots, 19);
	assert_int_equal(p.first_len, 100);
	assert_int_equal(net_tx_pkt_len(&p), 1900);
}

static void test_the_19th_and_20th_follow_on_slots_drop_the_packet(void **state)
{
	struct net_tx_pkt p;
	const char *why;

	assert_int_equal(packet(&p, 19, &why), NET_TX_READY);
	assert_int_equal(p.drop, -E2BIG);
	assert_int_equal(p.nr_slots, 20); /* every slot consumed: 20 responses */
	assert_int_equal(packet(&p, 20, &why), NET_TX_READY);
	assert_int_equal(p.drop, -E2BIG);
	assert_int_equal(p.nr_slots, 21);
}

static void test_a_21st_follow_on_slot_is_fatal(void **state)
{
	struct net_tx_pkt p;
	const char *why;

	assert_int_equal(packet(&p, 21, &why), -EPROTO);
	assert_non_null(why);
}

static void test_a_slot_larger_than_the_rest_drops_the_packet(void **state)
{
	struct net_tx_pkt p;
	const char *why;

	net_tx_pkt_init(&p);
	assert_int_equal(feed_req(&p, 0, 200, NETTXF_more_data, &why), NET_TX_NEED);
	assert_int_equal(feed_req(&p, 0, 300, 0, &why), NET_TX_READY);
	assert_int_equal(p.drop, -EIO);
	assert_int_equal(p.nr_slots, 2);
}

static void test_a_first_slot_shorter_than_an_ethernet_header_drops_it(void **state)
{
	struct net_tx_pkt p;
	const char *why;

	net_tx_pkt_init(&p);
	assert_int_equal(feed_req(&p, 0, 13, 0, &why), NET_TX_READY);
	assert_int_equal(p.drop, -EINVAL);
	/* 14 bytes are an Ethernet header: fine. */
	net_tx_pkt_init(&p);
	assert_int_equal(feed_req(&p, 0, 14, 0, &why), NET_TX_READY);
	assert_int_equal(p.drop, 0);
}

static void test_any_slot_crossing_its_page_is_fatal(void **state)
{
	struct net_tx_pkt p;
	const char *why;

	net_tx_pkt_init(&p);
	assert_int_equal(feed_req(&p, 4000, 100, 0, &why), -EPROTO);
	net_tx_pkt_init(&p);
	assert_int_equal(feed_req(&p, 0, 200, NETTXF_more_data, &why), NET_TX_NEED);
	assert_int_equal(feed_req(&p, 4090, 100, 0, &why), -EPROTO);
	/* Ending exactly at the page end is fine. */
	net_tx_pkt_init(&p);
	assert_int_equal(feed_req(&p, 3996, 100, 0, &why), NET_TX_READY);
	assert_int_equal(p.drop, 0);
}

static void test_an_invalid_extra_type_is_fatal(void **state)
{
	struct net_tx_pkt p;
	const char *why;

	net_tx_pkt_init(&p);
	assert_int_equal(feed_req(&p, 0, 100, NETTXF_extra_info, &why), NET_TX_NEED);
	assert_int_equal(feed_extra(&p, XEN_NETIF_EXTRA_TYPE_NONE, false, &why), -EPROTO);
	net_tx_pkt_init(&p);
	assert_int_equal(feed_req(&p, 0, 100, NETTXF_extra_info, &why), NET_TX_NEED);
	assert_int_equal(feed_extra(&p, PV_NETIF_EXTRA_TYPE_MAX, false, &why), -EPROTO);
	/* Linux's XDP extra (5) is known, and ignored on TX. */
	net_tx_pkt_init(&p);
	assert_int_equal(feed_req(&p, 0, 100, NETTXF_extra_info, &why), NET_TX_NEED);
	assert_int_equal(feed_extra(&p, PV_NETIF_EXTRA_TYPE_XDP, false, &why), NET_TX_READY);
	assert_int_equal(p.drop, 0);
}

static void test_a_sixth_extra_is_fatal(void **state)
{
	struct net_tx_pkt p;
	const char *why;
	unsigned i;

	net_tx_pkt_init(&p);
	assert_int_equal(feed_req(&p, 0, 100, NETTXF_extra_info, &why), NET_TX_NEED);
	for (i = 0; i < 5; i++)
		assert_int_equal(feed_extra(&p, XEN_NETIF_EXTRA_TYPE_HASH, true, &why), NET_TX_NEED);
	assert_int_equal(feed_extra(&p, XEN_NETIF_EXTRA_TYPE_HASH, false, &why), -EPROTO);
}

static void test_a_gso_extra_needs_a_size_and_a_tcp_type(void **state)
{
	struct net_tx_pkt p;
	union slot s = { .extra = { .type = XEN_NETIF_EXTRA_TYPE_GSO } };
	const char *why;

	net_tx_pkt_init(&p);
	assert_int_equal(feed_req(&p, 0, 100, NETTXF_extra_info, &why), NET_TX_NEED);
	s.extra.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4; /* size 0 */
	assert_int_equal(net_tx_feed(&p, &s, &why), -EPROTO);
	net_tx_pkt_init(&p);
	assert_int_equal(feed_req(&p, 0, 100, NETTXF_extra_info, &why), NET_TX_NEED);
	s.extra.u.gso.size = 1448;
	s.extra.u.gso.type = 7;
	assert_int_equal(net_tx_feed(&p, &s, &why), -EPROTO);
	net_tx_pkt_init(&p);
	assert_int_equal(feed_req(&p, 0, 100, NETTXF_extra_info, &why), NET_TX_NEED);
	assert_int_equal(feed_extra(&p, XEN_NETIF_EXTRA_TYPE_GSO, false, &why), NET_TX_READY);
	assert_int_equal(p.drop, 0);
	assert_int_equal(p.extra[XEN_NETIF_EXTRA_TYPE_GSO - 1].u.gso.size, 1448);
	assert_int_equal(p.nr_slots, 2);
}

static void test_a_multicast_extra_makes_a_dummy_request(void **state)
{
	struct net_tx_pkt p;
	const char *why;

	net_tx_pkt_init(&p);
	/* Netfront's dummy: a 0-byte first slot, data ignored. */
	assert_int_equal(feed_req(&p, 0, 0, NETTXF_extra_info, &why), NET_TX_NEED);
	assert_int_equal(feed_extra(&p, XEN_NETIF_EXTRA_TYPE_MCAST_ADD, false, &why), NET_TX_READY);
	assert_true(net_tx_pkt_is_dummy(&p));
	assert_int_equal(p.drop, 0);
	assert_int_equal(p.nr_slots, 2);
}

static void test_a_slot_fed_to_a_finished_packet_is_fatal(void **state)
{
	struct net_tx_pkt p;
	const char *why;

	assert_int_equal(packet(&p, 0, &why), NET_TX_READY);
	assert_int_equal(feed_req(&p, 0, 100, 0, &why), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_one_slot_packet_is_ready_with_its_length),
		cmocka_unit_test(test_eighteen_follow_on_slots_are_accepted),
		cmocka_unit_test(test_the_19th_and_20th_follow_on_slots_drop_the_packet),
		cmocka_unit_test(test_a_21st_follow_on_slot_is_fatal),
		cmocka_unit_test(test_a_slot_larger_than_the_rest_drops_the_packet),
		cmocka_unit_test(test_a_first_slot_shorter_than_an_ethernet_header_drops_it),
		cmocka_unit_test(test_any_slot_crossing_its_page_is_fatal),
		cmocka_unit_test(test_an_invalid_extra_type_is_fatal),
		cmocka_unit_test(test_a_sixth_extra_is_fatal),
		cmocka_unit_test(test_a_gso_extra_needs_a_size_and_a_tcp_type),
		cmocka_unit_test(test_a_multicast_extra_makes_a_dummy_request),
		cmocka_unit_test(test_a_slot_fed_to_a_finished_packet_is_fatal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
