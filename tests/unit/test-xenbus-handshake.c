/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: the xenbus backend framework against pvsim's xenstored, with a
 * fake backend whose ops only record calls and a frontend driven through
 * libpvfront: probe -> hotplug-status + InitWait; connect on Initialised
 * (blk-style) or straight on Connected (net-style) exactly once; Closing and
 * Closed teardown; reconnect from Closed to InitWait; online=0 removal;
 * backend directory removal; frontend domain destruction.  The backend loop
 * runs in its own thread; the test waits on xenstore state through pvfront
 * and on recorded ops through a condition variable, never by sleeping.
 * Exits 77 (skip) when build/bin/pvsim is missing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <xen/io/xenbus.h>

#include "pvcommon.h"
#include "pvfront.h"
#include "sim-harness.h"

#define WAIT_MS T_WAIT_MS

static struct t_pvsim sim; /* pvsim instance with domain "guest" */
static struct t_backend tb;
static struct t_fake fakes[2]; /* 0: vbd backend, 1: vif backend */

static struct pv_xb_backend_ops vbd_ops, vif_ops;

static int setup(void **state)
{
	const struct pv_xb_backend_ops *ops[] = { &vbd_ops, &vif_ops };
	void *ctx[] = { &fakes[0], &fakes[1] };

	vbd_ops = t_fake_ops("vbd", true);
	vif_ops = t_fake_ops("vif", false);

	return t_backend_setup(&tb, &sim, "pvxb", 2, ops, ctx);
}

static int teardown(void **state)
{
	t_backend_teardown(&tb, &sim);
	return 0;
}

static void test_blk_style_handshake_connects_on_initialised_once(void **state)
{
	struct t_fake *r = &fakes[0];
	struct t_front tf;
	struct pvfront *f;
	char *hs;

	assert_int_equal(t_front_open(&tf, &sim, "guest", sim.guest, "vbd",
				      "target=/dev/null vdev=xvda"), 0);
	f = tf.f;
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateInitWait), WAIT_MS),
			 XenbusStateInitWait);
	assert_int_equal(t_count_get(&r->probe), 1);
	hs = pvfront_read_be(f, "hotplug-status");
	assert_string_equal(hs, "connected");
	free(hs);
	hs = pvfront_read_be(f, "feature-fake");
	assert_string_equal(hs, "1");
	free(hs);

	assert_int_equal(pvfront_transaction(f, t_front_write_ring, NULL), 0);
	assert_int_equal(pvfront_switch_state(f, XenbusStateInitialised), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateConnected), WAIT_MS),
			 XenbusStateConnected);
	assert_int_equal(t_count_get(&r->connect), 1);
	assert_int_equal(t_count_get(&r->fe_state_at_connect), XenbusStateInitialised);
	assert_int_equal(pvfront_switch_state(f, XenbusStateConnected), 0);

	/* Teardown: Closing -> Closing, Closed -> Closed; the Connected event
	 * was handled before (events are ordered), so one connect only. */
	assert_int_equal(pvfront_close_device(f, WAIT_MS), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateClosed), WAIT_MS),
			 XenbusStateClosed);
	assert_int_equal(t_count_get(&r->connect), 1);
	assert_int_equal(t_count_get(&r->disconnect), 1);
	assert_int_equal(t_count_get(&r->remove), 0); /* online=1: may reconnect */

	/* Reconnect: Initialising while the backend is Closed -> InitWait. */
	assert_int_equal(pvfront_switch_state(f, XenbusStateInitialising), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateInitWait), WAIT_MS),
			 XenbusStateInitWait);
	assert_int_equal(pvfront_switch_state(f, XenbusStateInitialised), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateConnected), WAIT_MS),
			 XenbusStateConnected);
	assert_int_equal(t_count_get(&r->connect), 2);
	assert_int_equal(t_count_get(&r->probe), 1);

	/* Unplug as the toolstack does: online=0, then the frontend closes. */
	assert_int_equal(t_dom0_write(&sim, pvfront_bepath(f), "online", "0"), 0);
	assert_int_equal(pvfront_close_device(f, WAIT_MS), 0);
	assert_int_equal(t_count_wait(&r->remove, 1), 1);
	assert_int_equal(t_count_get(&r->disconnect), 2);
	t_front_close(&tf);
}

static void test_net_style_handshake_connects_on_connected_without_initialised(void **state)
{
	struct t_fake *r = &fakes[1];
	struct t_front tf;
	struct pvfront *f;

	assert_int_equal(t_front_open(&tf, &sim, "guest", sim.guest, "vif", ""), 0);
	f = tf.f;
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateInitWait), WAIT_MS),
			 XenbusStateInitWait);
	assert_int_equal(pvfront_transaction(f, t_front_write_ring, NULL), 0);
	assert_int_equal(pvfront_switch_state(f, XenbusStateConnected), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateConnected), WAIT_MS),
			 XenbusStateConnected);
	assert_int_equal(t_count_get(&r->connect), 1);
	assert_int_equal(t_count_get(&r->fe_state_at_connect), XenbusStateConnected);

	/* The toolstack removes the backend directory: disconnect + remove. */
	assert_int_equal(t_dom0_write(&sim, pvfront_bepath(f), NULL, NULL), 0);
	assert_int_equal(t_count_wait(&r->remove, 1), 1);
	assert_int_equal(t_count_get(&r->disconnect), 1);
	t_front_close(&tf);
}

static void test_destroyed_frontend_domain_disconnects_and_removes(void **state)
{
	struct t_fake *r = &fakes[0];
	struct t_front tf;
	char out[256], *p;
	unsigned dom;
	int removes = t_count_get(&r->remove), disconnects = t_count_get(&r->disconnect);

	assert_int_equal(t_sh(NULL, 0, "%s --dir %s create doomed --mem 64M", sim.pvsim, sim.dir), 0);
	assert_int_equal(t_sh(out, sizeof(out), "%s --dir %s env doomed", sim.pvsim, sim.dir), 0);
	p = strstr(out, "PVSIM_DOMID=");
	assert_non_null(p);
	dom = (unsigned)atoi(p + strlen("PVSIM_DOMID="));
	assert_int_equal(t_front_open(&tf, &sim, "doomed", dom, "vbd",
				      "target=/dev/null vdev=xvdb"), 0);
	assert_int_equal(pvfront_wait_backend(tf.f, PVFRONT_STATE(XenbusStateInitWait), WAIT_MS),
			 XenbusStateInitWait);
	assert_int_equal(pvfront_switch_state(tf.f, XenbusStateInitialised), 0);
	assert_int_equal(pvfront_wait_backend(tf.f, PVFRONT_STATE(XenbusStateConnected), WAIT_MS),
			 XenbusStateConnected);
	t_front_close(&tf);

	assert_int_equal(t_sh(NULL, 0, "%s --dir %s destroy doomed", sim.pvsim, sim.dir), 0);
	assert_int_equal(t_count_wait(&r->remove, removes + 1), removes + 1);
	assert_int_equal(t_count_get(&r->disconnect), disconnects + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blk_style_handshake_connects_on_initialised_once),
		cmocka_unit_test(test_net_style_handshake_connects_on_connected_without_initialised),
		cmocka_unit_test(test_destroyed_frontend_domain_disconnects_and_removes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
