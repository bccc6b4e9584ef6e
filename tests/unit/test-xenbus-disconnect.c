/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: how a device's connection ends, against pvsim's xenstored
 * with a fake backend.
 *
 * pv_xb_dev_request_disconnect() (what a blkback queue thread calls on a
 * protocol violation): a request on a live connection closes it (error
 * node, Closing).  A request that reaches the xenbus loop after its
 * connection ended (the frontend closed first and the backend is Closed)
 * must be dropped: before the fix (issue 3, seen with the hostile
 * bad-indirect-grant case) the fatal path moved the device Closed -> Closing
 * and it stayed there, so the frontend could not reconnect.
 *
 * A disconnect that finishes later (pv_xb_dev_hold/release, what
 * pvback-blk does while full rings drain: issue 13 fault 2, one guest
 * closing devices stalled the xenbus thread for every guest).  While a
 * device is held the loop keeps serving: another device connects and
 * closes.  The held device does not say Closed (its frontend would free
 * grants still mapped), is not removed or freed, and does not reconnect;
 * the release finishes each of those.
 *
 * Waits on xenstore through pvfront and on the backend loop through a
 * marker call, never by sleeping.  Exits 77 (skip) when build/bin/pvsim is
 * missing.
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
static struct t_fake fake;
static bool raise_in_disconnect;     /* disconnect op raises a request itself */
static bool hold_next;               /* the next disconnect holds its device */
static struct pv_xb_dev *held;       /* loop thread */

static void test_disconnect(struct pv_xb_dev *dev)
{
	/* A queue thread that noticed a violation while its ring was stopping. */
	if (__atomic_load_n(&raise_in_disconnect, __ATOMIC_ACQUIRE))
		pv_xb_dev_request_disconnect(dev, "violation seen while stopping");
	/* Queues that go on draining after the disconnect returned. */
	if (__atomic_exchange_n(&hold_next, false, __ATOMIC_ACQ_REL)) {
		pv_xb_dev_hold(dev);
		held = dev;
	}
	t_fake_disconnect(dev);
}

static void release_fn(void *arg)
{
	struct pv_xb_dev *dev = held;

	held = NULL;
	pv_xb_dev_release(dev);
}

static struct pv_xb_backend_ops vbd_ops;

static int setup(void **state)
{
	const struct pv_xb_backend_ops *ops[] = { &vbd_ops };
	void *ctx[] = { &fake };

	vbd_ops = t_fake_ops("vbd", true);
	vbd_ops.disconnect = test_disconnect;

	return t_backend_setup(&tb, &sim, "pvxbdisc", 1, ops, ctx);
}

static int teardown(void **state)
{
	t_backend_teardown(&tb, &sim);
	return 0;
}

/* Attach vdev to the guest and open its frontend. */
static struct pvfront *open_front(const char *vdev, struct t_front *tf)
{
	char args[64];

	snprintf(args, sizeof(args), "target=/dev/null vdev=%s", vdev);
	assert_int_equal(t_front_open(tf, &sim, "guest", sim.guest, "vbd", args), 0);
	return tf->f;
}

static void connect_front(struct pvfront *f)
{
	assert_int_equal(t_front_connect(f, &fake), 0);
}

static void test_disconnect_request_on_live_connection_closes_it(void **state)
{
	struct t_front tf;
	struct pvfront *f = open_front("xvda", &tf);
	int disc = t_count_get(&fake.disconnect);

	connect_front(f);
	pv_xb_dev_request_disconnect(t_fake_dev(&fake), "test violation");
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateClosing), WAIT_MS),
			 XenbusStateClosing);
	assert_int_equal(t_count_wait(&fake.disconnect, disc + 1), disc + 1);
	/* The frontend then closes, as Linux blkfront does on backend Closing. */
	assert_int_equal(pvfront_close_device(f, WAIT_MS), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateClosed), WAIT_MS),
			 XenbusStateClosed);
	t_front_close(&tf);
}

static void test_disconnect_request_after_frontend_closed_is_dropped(void **state)
{
	struct t_front tf;
	struct pvfront *f = open_front("xvdb", &tf);
	struct pv_xb_dev *dev;

	connect_front(f);
	dev = t_fake_dev(&fake);
	assert_int_equal(pvfront_close_device(f, WAIT_MS), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateClosed), WAIT_MS),
			 XenbusStateClosed);

	/* The violation's request reaches the xenbus loop only now. */
	pv_xb_dev_request_disconnect(dev, "late violation");
	assert_int_equal(t_backend_sync(&tb), 0);
	assert_int_equal(pvfront_backend_state(f), XenbusStateClosed);

	/* And the device still reconnects. */
	connect_front(f);
	assert_int_equal(pvfront_close_device(f, WAIT_MS), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateClosed), WAIT_MS),
			 XenbusStateClosed);
	t_front_close(&tf);
}

static void test_disconnect_request_raised_during_teardown_leaves_device_closed(void **state)
{
	struct t_front tf;
	struct pvfront *f = open_front("xvdc", &tf);
	int disc = t_count_get(&fake.disconnect);

	connect_front(f);
	__atomic_store_n(&raise_in_disconnect, true, __ATOMIC_RELEASE);
	/* Closing and Closed back to back: the backend may see only Closed, and
	 * the request raised inside ops->disconnect runs after that. */
	assert_int_equal(pvfront_switch_state(f, XenbusStateClosing), 0);
	assert_int_equal(pvfront_switch_state(f, XenbusStateClosed), 0);
	assert_int_equal(t_count_wait(&fake.disconnect, disc + 1), disc + 1);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateClosed), WAIT_MS),
			 XenbusStateClosed);
	assert_int_equal(t_backend_sync(&tb), 0);
	__atomic_store_n(&raise_in_disconnect, false, __ATOMIC_RELEASE);
	assert_int_equal(pvfront_backend_state(f), XenbusStateClosed);
	connect_front(f);
	assert_int_equal(pvfront_close_device(f, WAIT_MS), 0);
	t_front_close(&tf);
}

/* The frontend closes a connection whose disconnect will be held. */
static void close_held(struct pvfront *f)
{
	int disc = t_count_get(&fake.disconnect);

	__atomic_store_n(&hold_next, true, __ATOMIC_RELEASE);
	assert_int_equal(pvfront_switch_state(f, XenbusStateClosing), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateClosing), WAIT_MS),
			 XenbusStateClosing);
	assert_int_equal(pvfront_switch_state(f, XenbusStateClosed), 0);
	assert_int_equal(t_count_wait(&fake.disconnect, disc + 1), disc + 1);
	assert_int_equal(t_backend_sync(&tb), 0); /* the Closed event was handled */
}

static void test_held_device_says_closed_only_at_release_and_others_go_on(void **state)
{
	struct t_front ta, tb2;
	struct pvfront *a = open_front("xvde", &ta), *b;

	connect_front(a);
	close_held(a);
	assert_int_equal(pvfront_backend_state(a), XenbusStateClosing);

	/* Meanwhile another device of the guest connects and closes. */
	b = open_front("xvdf", &tb2);
	connect_front(b);
	assert_int_equal(pvfront_close_device(b, WAIT_MS), 0);
	assert_int_equal(pvfront_wait_backend(b, PVFRONT_STATE(XenbusStateClosed), WAIT_MS),
			 XenbusStateClosed);
	t_front_close(&tb2);
	assert_int_equal(pvfront_backend_state(a), XenbusStateClosing);

	assert_int_equal(t_backend_run(&tb, release_fn, NULL), 0);
	assert_int_equal(pvfront_wait_backend(a, PVFRONT_STATE(XenbusStateClosed), WAIT_MS),
			 XenbusStateClosed);
	connect_front(a); /* and it reconnects */
	assert_int_equal(pvfront_close_device(a, WAIT_MS), 0);
	t_front_close(&ta);
}

static void test_held_device_does_not_reconnect_until_released(void **state)
{
	struct t_front tf;
	struct pvfront *f = open_front("xvdg", &tf);
	int conn;

	connect_front(f);
	close_held(f);
	conn = t_count_get(&fake.connect);
	/* A frontend that does not wait for Closed tries to connect again. */
	assert_int_equal(pvfront_switch_state(f, XenbusStateInitialising), 0);
	assert_int_equal(pvfront_transaction(f, t_front_write_ring, NULL), 0);
	assert_int_equal(pvfront_switch_state(f, XenbusStateInitialised), 0);
	assert_int_equal(t_backend_sync(&tb), 0);
	assert_int_equal(t_count_get(&fake.connect), conn);
	assert_int_equal(pvfront_backend_state(f), XenbusStateClosing);

	assert_int_equal(t_backend_run(&tb, release_fn, NULL), 0);
	assert_int_equal(t_count_get(&fake.connect), conn);
	/* Still Closing: the frontend never finished closing.  It does now,
	 * and then connects the way every frontend does, from Initialising. */
	assert_int_equal(pvfront_switch_state(f, XenbusStateClosed), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateClosed), WAIT_MS),
			 XenbusStateClosed);
	connect_front(f);
	assert_int_equal(pvfront_close_device(f, WAIT_MS), 0);
	t_front_close(&tf);
}

static void test_removal_of_a_held_device_waits_for_the_release(void **state)
{
	struct t_front tf;
	struct pvfront *f = open_front("xvdh", &tf);
	int removes = t_count_get(&fake.remove);

	connect_front(f);
	close_held(f);
	/* The toolstack removes the backend directory meanwhile. */
	assert_int_equal(t_dom0_write(&sim, pvfront_bepath(f), NULL, NULL), 0);
	assert_int_equal(t_backend_sync(&tb), 0);
	assert_int_equal(t_count_get(&fake.remove), removes);

	assert_int_equal(t_backend_run(&tb, release_fn, NULL), 0);
	assert_int_equal(t_count_get(&fake.remove), removes + 1);
	t_front_close(&tf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disconnect_request_on_live_connection_closes_it),
		cmocka_unit_test(test_disconnect_request_after_frontend_closed_is_dropped),
		cmocka_unit_test(test_disconnect_request_raised_during_teardown_leaves_device_closed),
		cmocka_unit_test(test_held_device_says_closed_only_at_release_and_others_go_on),
		cmocka_unit_test(test_held_device_does_not_reconnect_until_released),
		cmocka_unit_test(test_removal_of_a_held_device_waits_for_the_release),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
