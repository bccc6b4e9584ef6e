/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: pvsim's event-channel port tables (sim/evtchn.c) follow Xen's
 * event_channel.c without a daemon: lowest free port from 1, bind only to a
 * port left unbound for us, close returns the peer to unbound, and every
 * change bumps the port's generation; a request of the hv socket names
 * only a port its own handle bound (sim_evtchn_owned).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "evtchn.h"

struct fixture {
	struct sim_evtchn_dom d0, d1, d2;
	uint32_t g0[SIM_EVTCHN_PORTS], g1[SIM_EVTCHN_PORTS], g2[SIM_EVTCHN_PORTS];
};

static struct sim_evtchn_dom *lookup(void *opaque, uint16_t domid)
{
	struct fixture *f = opaque;

	return domid == 0 ? &f->d0 : domid == 1 ? &f->d1 : domid == 2 ? &f->d2 : NULL;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	sim_evtchn_dom_init(&f->d0, 0, f->g0);
	sim_evtchn_dom_init(&f->d1, 1, f->g1);
	sim_evtchn_dom_init(&f->d2, 2, f->g2);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void test_alloc_unbound_hands_out_the_lowest_free_port_from_one(void **state)
{
	struct fixture *f = *state;
	int owner;

	assert_int_equal(sim_evtchn_alloc_unbound(&f->d1, 0, &owner), 1);
	assert_int_equal(sim_evtchn_alloc_unbound(&f->d1, 0, &owner), 2);
	assert_int_equal(sim_evtchn_close(&f->d1, 1, lookup, f), 0);
	assert_int_equal(sim_evtchn_alloc_unbound(&f->d1, 0, &owner), 1);
	assert_int_equal(f->d1.port[1].state, SIM_ECS_UNBOUND);
	assert_int_equal(f->d1.port[1].remote_dom, 0);
	assert_ptr_equal(f->d1.port[1].owner, &owner);
}

static void test_bind_connects_both_ends(void **state)
{
	struct fixture *f = *state;
	int owner;
	int up, lp;

	up = sim_evtchn_alloc_unbound(&f->d1, 0, &owner);
	lp = sim_evtchn_bind_interdomain(&f->d0, &f->d1, (uint32_t)up, &owner);
	assert_int_equal(lp, 1);
	assert_int_equal(f->d0.port[lp].state, SIM_ECS_INTERDOMAIN);
	assert_int_equal(f->d0.port[lp].remote_dom, 1);
	assert_int_equal(f->d0.port[lp].remote_port, up);
	assert_int_equal(f->d1.port[up].state, SIM_ECS_INTERDOMAIN);
	assert_int_equal(f->d1.port[up].remote_port, lp);
}

static void test_bind_to_a_port_not_unbound_for_us_fails_einval(void **state)
{
	struct fixture *f = *state;
	int owner;
	int up;

	/* never allocated, port 0, out of range */
	assert_int_equal(sim_evtchn_bind_interdomain(&f->d0, &f->d1, 5, &owner), -EINVAL);
	assert_int_equal(sim_evtchn_bind_interdomain(&f->d0, &f->d1, 0, &owner), -EINVAL);
	assert_int_equal(sim_evtchn_bind_interdomain(&f->d0, &f->d1, SIM_EVTCHN_PORTS, &owner),
			 -EINVAL);
	/* allocated for domain 2, not for us */
	up = sim_evtchn_alloc_unbound(&f->d1, 2, &owner);
	assert_int_equal(sim_evtchn_bind_interdomain(&f->d0, &f->d1, (uint32_t)up, &owner),
			 -EINVAL);
	/* already bound */
	assert_true(sim_evtchn_bind_interdomain(&f->d2, &f->d1, (uint32_t)up, &owner) > 0);
	assert_int_equal(sim_evtchn_bind_interdomain(&f->d2, &f->d1, (uint32_t)up, &owner),
			 -EINVAL);
	assert_int_equal(f->d0.port[1].state, SIM_ECS_FREE);
}

static void test_close_returns_the_peer_to_unbound_and_it_can_be_rebound(void **state)
{
	struct fixture *f = *state;
	int owner;
	int up, lp;

	up = sim_evtchn_alloc_unbound(&f->d1, 0, &owner);
	lp = sim_evtchn_bind_interdomain(&f->d0, &f->d1, (uint32_t)up, &owner);
	assert_int_equal(sim_evtchn_close(&f->d0, (uint32_t)lp, lookup, f), 0);
	assert_int_equal(f->d0.port[lp].state, SIM_ECS_FREE);
	assert_int_equal(f->d1.port[up].state, SIM_ECS_UNBOUND);
	assert_int_equal(f->d1.port[up].remote_dom, 0);
	assert_true(sim_evtchn_bind_interdomain(&f->d0, &f->d1, (uint32_t)up, &owner) > 0);
	/* the guest closing its end leaves ours unbound for it */
	assert_int_equal(sim_evtchn_close(&f->d1, (uint32_t)up, lookup, f), 0);
	assert_int_equal(f->d0.port[1].state, SIM_ECS_UNBOUND);
	assert_int_equal(f->d0.port[1].remote_dom, 1);
}

static void test_close_of_a_free_or_invalid_port_fails_einval(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(sim_evtchn_close(&f->d0, 3, lookup, f), -EINVAL);
	assert_int_equal(sim_evtchn_close(&f->d0, SIM_EVTCHN_PORTS, lookup, f), -EINVAL);
}

static void test_every_change_bumps_the_port_generation(void **state)
{
	struct fixture *f = *state;
	int owner;
	uint32_t g;
	int up, lp;

	up = sim_evtchn_alloc_unbound(&f->d1, 0, &owner);
	g = f->g1[up];
	assert_true(g > 0);
	lp = sim_evtchn_bind_interdomain(&f->d0, &f->d1, (uint32_t)up, &owner);
	assert_int_not_equal(f->g1[up], g);
	g = f->g1[up];
	sim_evtchn_close(&f->d0, (uint32_t)lp, lookup, f);
	assert_int_not_equal(f->g1[up], g);
}

static void test_the_port_table_fills_up_with_enospc(void **state)
{
	struct fixture *f = *state;
	int owner;
	unsigned i;

	for (i = 1; i < SIM_EVTCHN_PORTS; i++)
		assert_int_equal(sim_evtchn_alloc_unbound(&f->d2, 0, &owner), (int)i);
	assert_int_equal(sim_evtchn_alloc_unbound(&f->d2, 0, &owner), -ENOSPC);
}

static void test_only_the_handle_that_bound_a_port_owns_it(void **state)
{
	struct fixture *f = *state;
	int a, b, port;

	port = sim_evtchn_alloc_unbound(&f->d1, 0, &a);
	assert_int_equal(port, 1);
	assert_ptr_equal(sim_evtchn_owned(&f->d1, 1, &a), &f->d1.port[1]);
	assert_null(sim_evtchn_owned(&f->d1, 1, &b));
	assert_null(sim_evtchn_owned(&f->d1, 2, &a));             /* free */
	assert_null(sim_evtchn_owned(&f->d1, SIM_EVTCHN_PORTS, &a)); /* beyond the table */
	assert_int_equal(sim_evtchn_close(&f->d1, 1, lookup, f), 0);
	assert_null(sim_evtchn_owned(&f->d1, 1, &a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_alloc_unbound_hands_out_the_lowest_free_port_from_one, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_connects_both_ends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_to_a_port_not_unbound_for_us_fails_einval,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_close_returns_the_peer_to_unbound_and_it_can_be_rebound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_of_a_free_or_invalid_port_fails_einval,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_change_bumps_the_port_generation, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_only_the_handle_that_bound_a_port_owns_it, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_the_port_table_fills_up_with_enospc, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
