// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: the frontend's multicast list and filter (netback/mcast.c)
 * as Linux 6.1's xenvif_mcast_add/del/match: an add appends an entry (a
 * duplicate is a second entry, the address is not checked), a del removes
 * one entry and an absent address is fine, the 65th add is refused
 * (-ENOSPC) while the filter stays on, a request with both extras is an
 * add; with multicast control on, only listed multicast destinations pass,
 * broadcast and unicast always; with it off, everything passes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../netback/netback.h"

static const uint8_t group[NET_ETH_ALEN] = { 0x01, 0x00, 0x5e, 0x01, 0x02, 0x03 };
static const uint8_t other[NET_ETH_ALEN] = { 0x01, 0x00, 0x5e, 0x01, 0x02, 0x04 };
static const uint8_t bcast[NET_ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t unicast[NET_ETH_ALEN] = { 0x00, 0x16, 0x3e, 0x00, 0x01, 0x00 };

static struct net_vif vif;

static int setup(void **state)
{
	memset(&vif, 0, sizeof(vif));
	net_mcast_init(&vif.mcast);
	vif.feat.mcast_control = true;
	return 0;
}

static int teardown(void **state)
{
	net_mcast_fini(&vif.mcast);
	return 0;
}

/* A dummy request with an MCAST_ADD (add) and/or MCAST_DEL extra. */
static int update(const uint8_t *add, const uint8_t *del)
{
	struct net_tx_pkt p;

	net_tx_pkt_init(&p);
	if (add) {
		p.extra[XEN_NETIF_EXTRA_TYPE_MCAST_ADD - 1].type = XEN_NETIF_EXTRA_TYPE_MCAST_ADD;
		memcpy(p.extra[XEN_NETIF_EXTRA_TYPE_MCAST_ADD - 1].u.mcast.addr, add, NET_ETH_ALEN);
	}
	if (del) {
		p.extra[XEN_NETIF_EXTRA_TYPE_MCAST_DEL - 1].type = XEN_NETIF_EXTRA_TYPE_MCAST_DEL;
		memcpy(p.extra[XEN_NETIF_EXTRA_TYPE_MCAST_DEL - 1].u.mcast.addr, del, NET_ETH_ALEN);
	}
	return net_mcast_update(&vif, &p);
}

static void test_only_listed_groups_pass_broadcast_and_unicast_always(void **state)
{
	assert_false(net_mcast_pass(&vif, group));
	assert_true(net_mcast_pass(&vif, bcast));
	assert_true(net_mcast_pass(&vif, unicast));
	assert_int_equal(update(group, NULL), 0);
	assert_true(net_mcast_pass(&vif, group));
	assert_false(net_mcast_pass(&vif, other));
}

static void test_a_duplicate_is_a_second_entry_and_an_absent_del_is_fine(void **state)
{
	assert_int_equal(update(group, NULL), 0);
	assert_int_equal(update(group, NULL), 0);
	assert_int_equal(vif.mcast.n, 2);
	assert_int_equal(update(NULL, group), 0);
	assert_true(net_mcast_pass(&vif, group));
	assert_int_equal(update(NULL, group), 0);
	assert_false(net_mcast_pass(&vif, group));
	assert_int_equal(update(NULL, other), 0);
	assert_int_equal(vif.mcast.n, 0);
}

static void test_any_address_is_listed_as_linux_checks_none(void **state)
{
	assert_int_equal(update(unicast, NULL), 0);
	assert_int_equal(vif.mcast.n, 1);
}

static void test_the_65th_add_is_refused_and_the_filter_stays_on(void **state)
{
	uint8_t a[NET_ETH_ALEN] = { 0x01, 0x00, 0x5e, 0x7f, 0x00, 0x00 };
	unsigned i;

	for (i = 0; i < NET_MCAST_MAX; i++) {
		a[5] = (uint8_t)i;
		assert_int_equal(update(a, NULL), 0);
	}
	assert_int_equal(update(group, NULL), -ENOSPC);
	assert_false(net_mcast_pass(&vif, group));
	assert_true(net_mcast_pass(&vif, a));
	assert_int_equal(update(NULL, a), 0);
	assert_int_equal(update(group, NULL), 0);
	assert_true(net_mcast_pass(&vif, group));
}

static void test_a_request_with_both_extras_is_an_add(void **state)
{
	assert_int_equal(update(other, NULL), 0);
	assert_int_equal(update(group, other), 0);
	assert_true(net_mcast_pass(&vif, group));
	assert_true(net_mcast_pass(&vif, other));
}

static void test_without_multicast_control_everything_passes(void **state)
{
	vif.feat.mcast_control = false;
	assert_true(net_mcast_pass(&vif, group));
	assert_int_equal(update(other, NULL), 0); /* the list is kept meanwhile */
	vif.feat.mcast_control = true;
	assert_false(net_mcast_pass(&vif, group));
	assert_true(net_mcast_pass(&vif, other));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_only_listed_groups_pass_broadcast_and_unicast_always,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_a_duplicate_is_a_second_entry_and_an_absent_del_is_fine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_any_address_is_listed_as_linux_checks_none, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_the_65th_add_is_refused_and_the_filter_stays_on,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_request_with_both_extras_is_an_add, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_without_multicast_control_everything_passes, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
