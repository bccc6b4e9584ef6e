/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: the framework's hotplug policies against pvsim's xenstored,
 * with fake backends and frontends driven through libpvfront; the test
 * writes hotplug-status (and hotplug-error) as the toolstack's script does.
 * PV_XB_HOTPLUG_SCRIPT (a net-style vif): the framework does not write
 * hotplug-status; with the frontend Connected, ops->connect runs but the
 * backend stays InitWait until the script writes "connected", then goes
 * Connected (or at once when the script was done first); "error" closes
 * the device with an error node, whether connected or not yet.
 * PV_XB_HOTPLUG_SELF (a blk-style vbd): hotplug-status=connected written
 * after probe and Connected without waiting, as before.  An ops table
 * without a valid policy is refused.  "Connect ran and its event was fully
 * handled" is ops->connect's counter plus a call on the backend loop after
 * it, never a sleep.
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
static struct t_fake vif_fake, vbd_fake;
static struct pv_xb_backend_ops vif_ops, vbd_ops;

static int setup(void **state)
{
	const struct pv_xb_backend_ops *ops[] = { &vif_ops, &vbd_ops };
	void *ctx[] = { &vif_fake, &vbd_fake };

	vif_ops = t_fake_ops("vif", false);
	vif_ops.hotplug = PV_XB_HOTPLUG_SCRIPT;
	vbd_ops = t_fake_ops("vbd", true);
	return t_backend_setup(&tb, &sim, "pvxbhotplug", 2, ops, ctx);
}

static int teardown(void **state)
{
	t_backend_teardown(&tb, &sim);
	return 0;
}

static char *be_key(struct t_front *tf, const char *key)
{
	return pvfront_read_be(tf->f, key);
}

/* A new vif in InitWait, with its rings written. */
static void open_vif(struct t_front *tf)
{
	char *hs;

	assert_int_equal(t_front_open(tf, &sim, "guest", sim.guest, "vif", ""), 0);
	assert_int_equal(pvfront_wait_backend(tf->f, PVFRONT_STATE(XenbusStateInitWait), T_WAIT_MS),
			 XenbusStateInitWait);
	/* Only the toolstack's empty placeholder: the framework wrote nothing. */
	hs = be_key(tf, "hotplug-status");
	assert_non_null(hs);
	assert_string_equal(hs, "");
	free(hs);
	assert_int_equal(pvfront_transaction(tf->f, t_front_write_ring, NULL), 0);
}

/* The frontend goes Connected; return once ops->connect ran and the
 * framework finished handling that event. */
static void front_connected(struct t_front *tf)
{
	int want = t_count_get(&vif_fake.connect) + 1;

	assert_int_equal(pvfront_switch_state(tf->f, XenbusStateConnected), 0);
	assert_int_equal(t_count_wait(&vif_fake.connect, want), want);
	assert_int_equal(t_backend_sync(&tb), 0);
}

static void script_writes(struct t_front *tf, const char *error, const char *status)
{
	if (error)
		assert_int_equal(t_dom0_write(&sim, pvfront_bepath(tf->f), "hotplug-error", error), 0);
	assert_int_equal(t_dom0_write(&sim, pvfront_bepath(tf->f), "hotplug-status", status), 0);
}

static void test_script_policy_connects_only_after_the_script_says_connected(void **state)
{
	struct t_front tf;

	open_vif(&tf);
	front_connected(&tf);
	assert_int_equal(pvfront_backend_state(tf.f), XenbusStateInitWait);
	/* Something else in hotplug-status changes nothing. */
	script_writes(&tf, NULL, "busy");
	assert_int_equal(t_backend_fence(&sim, &vif_fake, pvfront_bepath(tf.f)), 0);
	assert_int_equal(pvfront_backend_state(tf.f), XenbusStateInitWait);
	script_writes(&tf, NULL, "connected");
	assert_int_equal(pvfront_wait_backend(tf.f, PVFRONT_STATE(XenbusStateConnected), T_WAIT_MS),
			 XenbusStateConnected);
	assert_int_equal(pvfront_close_device(tf.f, T_WAIT_MS), 0);
	t_front_close(&tf);
}

static void test_a_script_done_before_the_frontend_connects_at_once(void **state)
{
	struct t_front tf;

	open_vif(&tf);
	script_writes(&tf, NULL, "connected");
	assert_int_equal(t_front_switch(&tf, XenbusStateConnected, XenbusStateConnected), XenbusStateConnected);
	/* A reconnect finds the script done: Connected again without it. */
	assert_int_equal(pvfront_close_device(tf.f, T_WAIT_MS), 0);
	assert_int_equal(pvfront_wait_backend(tf.f, PVFRONT_STATE(XenbusStateClosed), T_WAIT_MS),
			 XenbusStateClosed);
	assert_int_equal(t_front_switch(&tf, XenbusStateInitialising, XenbusStateInitWait), XenbusStateInitWait);
	assert_int_equal(t_front_switch(&tf, XenbusStateConnected, XenbusStateConnected), XenbusStateConnected);
	assert_int_equal(pvfront_close_device(tf.f, T_WAIT_MS), 0);
	t_front_close(&tf);
}

static void assert_failed_by_script(struct t_front *tf)
{
	char *err;

	assert_int_equal(pvfront_wait_backend(tf->f, PVFRONT_STATE(XenbusStateClosed), T_WAIT_MS),
			 XenbusStateClosed);
	err = t_error_node(&sim, "vif", sim.guest, tf->devid);
	assert_non_null(err);
	assert_string_equal(err, "5 hotplug script failed");
	free(err);
}

static void test_a_failed_script_closes_a_connected_device_with_an_error(void **state)
{
	int disc = t_count_get(&vif_fake.disconnect);
	struct t_front tf;

	open_vif(&tf);
	front_connected(&tf);
	script_writes(&tf, "bridge xenbr9 does not exist", "error");
	assert_failed_by_script(&tf);
	assert_int_equal(t_count_get(&vif_fake.disconnect), disc + 1);
	t_front_close(&tf);
}

static void test_a_failed_script_closes_a_device_not_yet_connected(void **state)
{
	int conn = t_count_get(&vif_fake.connect), disc = t_count_get(&vif_fake.disconnect);
	struct t_front tf;

	open_vif(&tf);
	script_writes(&tf, "no such bridge", "error");
	assert_failed_by_script(&tf);
	/* The frontend comes anyway: the device stays failed, nothing connects. */
	assert_int_equal(pvfront_switch_state(tf.f, XenbusStateConnected), 0);
	assert_int_equal(t_backend_fence(&sim, &vif_fake, pvfront_bepath(tf.f)), 0);
	assert_int_equal(pvfront_backend_state(tf.f), XenbusStateClosed);
	assert_int_equal(t_count_get(&vif_fake.connect), conn);
	assert_int_equal(t_count_get(&vif_fake.disconnect), disc);
	t_front_close(&tf);
}

static void test_self_policy_writes_hotplug_status_and_connects_without_waiting(void **state)
{
	struct t_front tf;
	char *hs;

	assert_int_equal(t_front_open(&tf, &sim, "guest", sim.guest, "vbd",
				      "target=/dev/null vdev=xvda"), 0);
	assert_int_equal(pvfront_wait_backend(tf.f, PVFRONT_STATE(XenbusStateInitWait), T_WAIT_MS),
			 XenbusStateInitWait);
	hs = be_key(&tf, "hotplug-status");
	assert_non_null(hs);
	assert_string_equal(hs, "connected");
	free(hs);
	assert_int_equal(pvfront_transaction(tf.f, t_front_write_ring, NULL), 0);
	assert_int_equal(t_front_switch(&tf, XenbusStateInitialised, XenbusStateConnected), XenbusStateConnected);
	assert_int_equal(pvfront_close_device(tf.f, T_WAIT_MS), 0);
	t_front_close(&tf);
}

static void test_an_ops_table_without_a_hotplug_policy_is_refused(void **state)
{
	struct pv_xb_backend_ops ops = t_fake_ops("vtest", false);

	ops.hotplug = 0;
	assert_int_equal(t_backend_try_ops(&tb, &ops), -EINVAL);
	ops.hotplug = PV_XB_HOTPLUG_SCRIPT + 1;
	assert_int_equal(t_backend_try_ops(&tb, &ops), -EINVAL);
	ops.hotplug = PV_XB_HOTPLUG_SCRIPT;
	assert_int_equal(t_backend_try_ops(&tb, &ops), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_script_policy_connects_only_after_the_script_says_connected),
		cmocka_unit_test(test_a_script_done_before_the_frontend_connects_at_once),
		cmocka_unit_test(test_a_failed_script_closes_a_connected_device_with_an_error),
		cmocka_unit_test(test_a_failed_script_closes_a_device_not_yet_connected),
		cmocka_unit_test(test_self_policy_writes_hotplug_status_and_connects_without_waiting),
		cmocka_unit_test(test_an_ops_table_without_a_hotplug_policy_is_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
