/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: frontend Reconfiguring (netfront's XDP headroom change)
 * against the xenbus framework on pvsim's xenstored, with a fake net-style
 * backend and the frontend driven through libpvfront.  On a live connection
 * ops->reconfigure runs and the backend goes Reconfigured, then Connected
 * again when the frontend is (twice over, and straight Reconfiguring ->
 * Reconfiguring as coalesced watches deliver it); before any connection it
 * is ignored; -EOPNOTSUPP (a protocol without reconfiguration, as blkback)
 * leaves the state alone; another error disconnects and closes with an
 * error node.  An ops table without changed or reconfigure is refused.
 * "The event was handled" is a fence (a toolstack write whose changed op
 * runs after it), never a sleep.
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

#include <cmocka.h>
#include <xen/io/xenbus.h>

#include "pvcommon.h"
#include "pvfront.h"
#include "sim-harness.h"

static struct t_pvsim sim;
static struct t_backend tb;
static struct t_fake fake;

static struct pv_xb_backend_ops vif_ops;

static int setup(void **state)
{
	const struct pv_xb_backend_ops *ops[] = { &vif_ops };
	void *ctx[] = { &fake };

	vif_ops = t_fake_ops("vif", false);

	return t_backend_setup(&tb, &sim, "pvxbreconf", 1, ops, ctx);
}

static int teardown(void **state)
{
	t_backend_teardown(&tb, &sim);
	return 0;
}

/* A new vif, connected as netfront connects (straight to Connected). */
static void open_connected(struct t_front *tf)
{
	int connects = t_count_get(&fake.connect);

	assert_int_equal(t_front_open(tf, &sim, "guest", sim.guest, "vif", ""), 0);
	assert_int_equal(pvfront_wait_backend(tf->f, PVFRONT_STATE(XenbusStateInitWait), T_WAIT_MS),
			 XenbusStateInitWait);
	assert_int_equal(pvfront_transaction(tf->f, t_front_write_ring, NULL), 0);
	assert_int_equal(t_front_switch(tf, XenbusStateConnected, XenbusStateConnected), XenbusStateConnected);
	assert_int_equal(t_count_get(&fake.connect), connects + 1);
}

static void close_front(struct t_front *tf)
{
	assert_int_equal(pvfront_close_device(tf->f, T_WAIT_MS), 0);
	t_front_close(tf);
}

static void test_reconfiguring_goes_reconfigured_then_connected_again(void **state)
{
	int reconf = t_count_get(&fake.reconfigure), disc = t_count_get(&fake.disconnect);
	struct t_front tf;

	t_count_set(&fake.reconfigure_rc, 0);
	open_connected(&tf);
	for (int round = 1; round <= 2; round++) {
		assert_int_equal(t_front_switch(&tf, XenbusStateReconfiguring, XenbusStateReconfigured), XenbusStateReconfigured);
		/* At least once per round: a late watch event of an earlier write
		 * that reads Reconfiguring again re-runs it, which is harmless
		 * (it re-reads keys) and cannot be told from a new one. */
		assert_true(t_count_get(&fake.reconfigure) >= reconf + round);
		assert_int_equal(t_front_switch(&tf, XenbusStateConnected, XenbusStateConnected), XenbusStateConnected);
	}
	/* The connection stayed up throughout. */
	assert_int_equal(t_count_get(&fake.disconnect), disc);
	close_front(&tf);
}

static void test_reconfiguring_again_before_connected_reconfigures_again(void **state)
{
	int reconf = t_count_get(&fake.reconfigure);
	struct t_front tf;

	t_count_set(&fake.reconfigure_rc, 0);
	open_connected(&tf);
	assert_int_equal(t_front_switch(&tf, XenbusStateReconfiguring, XenbusStateReconfigured), XenbusStateReconfigured);
	/* Connected then Reconfiguring, coalesced into Reconfiguring twice. */
	assert_int_equal(pvfront_switch_state(tf.f, XenbusStateReconfiguring), 0);
	assert_int_equal(t_backend_fence(&sim, &fake, pvfront_bepath(tf.f)), 0);
	assert_true(t_count_get(&fake.reconfigure) >= reconf + 2);
	assert_int_equal(pvfront_backend_state(tf.f), XenbusStateReconfigured);
	assert_int_equal(t_front_switch(&tf, XenbusStateConnected, XenbusStateConnected), XenbusStateConnected);
	close_front(&tf);
}

static void test_reconfiguring_before_the_connection_is_ignored(void **state)
{
	int reconf = t_count_get(&fake.reconfigure);
	struct t_front tf;

	assert_int_equal(t_front_open(&tf, &sim, "guest", sim.guest, "vif", ""), 0);
	assert_int_equal(pvfront_wait_backend(tf.f, PVFRONT_STATE(XenbusStateInitWait), T_WAIT_MS),
			 XenbusStateInitWait);
	assert_int_equal(pvfront_switch_state(tf.f, XenbusStateReconfiguring), 0);
	assert_int_equal(t_backend_fence(&sim, &fake, pvfront_bepath(tf.f)), 0);
	assert_int_equal(t_count_get(&fake.reconfigure), reconf);
	assert_int_equal(pvfront_backend_state(tf.f), XenbusStateInitWait);
	/* And the device still connects. */
	assert_int_equal(pvfront_transaction(tf.f, t_front_write_ring, NULL), 0);
	assert_int_equal(t_front_switch(&tf, XenbusStateConnected, XenbusStateConnected), XenbusStateConnected);
	close_front(&tf);
}

static void test_a_protocol_without_reconfiguration_leaves_the_state_alone(void **state)
{
	int reconf = t_count_get(&fake.reconfigure), disc = t_count_get(&fake.disconnect);
	struct t_front tf;

	t_count_set(&fake.reconfigure_rc, -EOPNOTSUPP);
	open_connected(&tf);
	assert_int_equal(pvfront_switch_state(tf.f, XenbusStateReconfiguring), 0);
	assert_int_equal(t_backend_fence(&sim, &fake, pvfront_bepath(tf.f)), 0);
	assert_int_equal(t_count_get(&fake.reconfigure), reconf + 1);
	assert_int_equal(pvfront_backend_state(tf.f), XenbusStateConnected);
	assert_int_equal(t_count_get(&fake.disconnect), disc);
	close_front(&tf);
	t_count_set(&fake.reconfigure_rc, 0);
}

static void test_a_failed_reconfigure_disconnects_and_closes_with_an_error(void **state)
{
	int disc = t_count_get(&fake.disconnect);
	struct t_front tf;
	char *err;

	t_count_set(&fake.reconfigure_rc, -EIO);
	open_connected(&tf);
	assert_int_equal(t_front_switch(&tf, XenbusStateReconfiguring, XenbusStateClosing), XenbusStateClosing);
	assert_int_equal(t_count_get(&fake.disconnect), disc + 1);
	err = t_error_node(&sim, "vif", sim.guest, tf.devid);
	assert_non_null(err);
	assert_string_equal(err, "5 reconfigure failed");
	free(err);
	/* The frontend closes in turn; the backend follows to Closed. */
	assert_int_equal(t_front_switch(&tf, XenbusStateClosed, XenbusStateClosed), XenbusStateClosed);
	t_front_close(&tf);
	t_count_set(&fake.reconfigure_rc, 0);
}

static void test_an_ops_table_without_changed_or_reconfigure_is_refused(void **state)
{
	struct pv_xb_backend_ops ops = vif_ops;

	ops.type = "vtest";
	ops.changed = NULL;
	assert_int_equal(t_backend_try_ops(&tb, &ops), -EINVAL);
	ops.changed = t_fake_changed;
	ops.reconfigure = NULL;
	assert_int_equal(t_backend_try_ops(&tb, &ops), -EINVAL);
	/* Complete: accepted. */
	ops.reconfigure = t_fake_reconfigure;
	assert_int_equal(t_backend_try_ops(&tb, &ops), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reconfiguring_goes_reconfigured_then_connected_again),
		cmocka_unit_test(test_reconfiguring_again_before_connected_reconfigures_again),
		cmocka_unit_test(test_reconfiguring_before_the_connection_is_ignored),
		cmocka_unit_test(test_a_protocol_without_reconfiguration_leaves_the_state_alone),
		cmocka_unit_test(test_a_failed_reconfigure_disconnects_and_closes_with_an_error),
		cmocka_unit_test(test_an_ops_table_without_changed_or_reconfigure_is_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
