// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: the dpdk-switch's MAC table (netback/fdb.c): learn and look
 * up, flood for broadcast/multicast/unknown, drop back to the source port,
 * age out after age_s (and the sweep frees the port's quota), moves; the
 * bounds a hostile guest meets: 100000 source addresses from one port keep
 * it at per_port_max entries and leave other ports' entries and learning
 * alone, a pinned address (a vif's own mac) is never taken over, and a
 * full bucket refuses rather than evicting another port's live entry.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../netback/netback.h"

static struct net_fdb t;

static void mac(uint8_t *m, uint32_t n)
{
	m[0] = 0x02;
	m[1] = 0x00;
	m[2] = (uint8_t)(n >> 24);
	m[3] = (uint8_t)(n >> 16);
	m[4] = (uint8_t)(n >> 8);
	m[5] = (uint8_t)n;
}

static int setup(void **state)
{
	return net_fdb_init(&t, 1024, 16, 64, 300, 12345);
}

static int teardown(void **state)
{
	net_fdb_fini(&t);
	return 0;
}

static void test_learned_addresses_are_found_and_unknown_ones_flood(void **state)
{
	uint8_t a[6], b[6], bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t mc[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };

	mac(a, 1);
	mac(b, 2);
	assert_int_equal(net_fdb_learn(&t, a, 1, 10), 0);
	assert_int_equal(net_fdb_lookup(&t, a, 10), 1);
	assert_int_equal(net_fdb_lookup(&t, b, 10), -ENOENT);
	assert_int_equal(net_fdb_dest(&t, a, 2, 10), 1);
	assert_int_equal(net_fdb_dest(&t, b, 2, 10), NET_FDB_FLOOD);
	assert_int_equal(net_fdb_dest(&t, bc, 2, 10), NET_FDB_FLOOD);
	assert_int_equal(net_fdb_dest(&t, mc, 2, 10), NET_FDB_FLOOD);
	assert_int_equal(net_fdb_dest(&t, a, 1, 10), NET_FDB_DROP);
	assert_int_equal(net_fdb_learn(&t, mc, 1, 10), -EINVAL);
	assert_int_equal(net_fdb_learn(&t, a, 16, 10), -EINVAL);
}

static void test_entries_age_out_and_free_the_ports_quota(void **state)
{
	uint8_t a[6];
	uint32_t i;

	for (i = 0; i < 64; i++) {
		mac(a, 100 + i);
		assert_int_equal(net_fdb_learn(&t, a, 3, 1000), 0);
	}
	mac(a, 99);
	assert_int_equal(net_fdb_learn(&t, a, 3, 1000), -EDQUOT);
	mac(a, 100);
	assert_int_equal(net_fdb_lookup(&t, a, 1299), 3);
	assert_int_equal(net_fdb_lookup(&t, a, 1300), -ENOENT);
	mac(a, 99);
	assert_int_equal(net_fdb_learn(&t, a, 3, 1301), 0); /* the sweep freed the quota */
	assert_int_equal(t.count[3], 1);
	assert_true(t.st.aged >= 64);
}

static void test_an_address_moves_to_the_port_it_is_seen_on(void **state)
{
	uint8_t a[6];

	mac(a, 7);
	assert_int_equal(net_fdb_learn(&t, a, 1, 10), 0);
	assert_int_equal(net_fdb_learn(&t, a, 2, 11), 0);
	assert_int_equal(net_fdb_lookup(&t, a, 11), 2);
	assert_int_equal(t.count[1], 0);
	assert_int_equal(t.count[2], 1);
}

static void test_a_pinned_address_is_never_taken_over(void **state)
{
	uint8_t a[6];

	mac(a, 5);
	assert_int_equal(net_fdb_learn(&t, a, 2, 10), 0);
	assert_int_equal(net_fdb_pin(&t, a, 1), 0);
	assert_int_equal(net_fdb_learn(&t, a, 2, 11), -EPERM);
	assert_int_equal(net_fdb_lookup(&t, a, 100000), 1); /* never ages */
	net_fdb_forget_port(&t, 1);
	assert_int_equal(net_fdb_lookup(&t, a, 100000), -ENOENT);
}

static void test_a_flood_of_source_addresses_stays_bounded_and_harms_no_other_port(void **state)
{
	uint8_t a[6], own[6];
	uint32_t i, n = 0;

	mac(own, 0xabcdef);
	assert_int_equal(net_fdb_learn(&t, own, 2, 10), 0);
	for (i = 0; i < 100000; i++) {
		mac(a, 0x1000000 + i);
		if (net_fdb_learn(&t, a, 1, 10) == 0)
			n++;
	}
	assert_int_equal(n, 64);
	assert_int_equal(t.count[1], 64);
	assert_true(t.used <= 1024);
	assert_int_equal(net_fdb_lookup(&t, own, 10), 2);
	mac(a, 0x77);
	assert_int_equal(net_fdb_learn(&t, a, 4, 10), 0); /* others still learn */
}

static void test_a_full_bucket_refuses_rather_than_evicting_a_live_entry(void **state)
{
	struct net_fdb small;
	uint8_t a[6];
	uint32_t i;
	int ok = 0, full = 0, rc;

	assert_int_equal(net_fdb_init(&small, 4, 64, 1000, 300, 1), 0); /* one bucket */
	for (i = 0; i < 8; i++) {
		mac(a, i);
		rc = net_fdb_learn(&small, a, i, 10);
		ok += rc == 0;
		full += rc == -ENOSPC;
	}
	assert_int_equal(ok, 4);
	assert_int_equal(full, 4);
	for (i = 0; i < 4; i++) {
		mac(a, i);
		assert_int_equal(net_fdb_lookup(&small, a, 10), (int)i);
	}
	mac(a, 9);
	assert_int_equal(net_fdb_learn(&small, a, 9, 400), 0); /* expired ones make room */
	net_fdb_fini(&small);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_learned_addresses_are_found_and_unknown_ones_flood, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entries_age_out_and_free_the_ports_quota, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_an_address_moves_to_the_port_it_is_seen_on,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_pinned_address_is_never_taken_over, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_a_flood_of_source_addresses_stays_bounded_and_harms_no_other_port, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_a_full_bucket_refuses_rather_than_evicting_a_live_entry, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
