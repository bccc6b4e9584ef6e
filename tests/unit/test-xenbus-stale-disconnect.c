/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: pv_xb_dev_request_disconnect() (what a blkback queue thread
 * calls on a protocol violation) against pvsim's xenstored, with a fake
 * backend.  A request on a live connection closes it (error node, Closing).
 * A request that reaches the xenbus loop after its connection ended (the
 * frontend closed first and the backend is Closed) must be dropped: before
 * the fix (issue 3, seen with the hostile bad-indirect-grant case) the fatal
 * path moved the device Closed -> Closing and it stayed there, so the
 * frontend could not reconnect.  The backend runs on its own loop thread
 * (t_backend); the test waits on xenstore through pvfront, on the backend's
 * ops through t_count_wait and on its loop through t_backend_sync, never by
 * sleeping.
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

#define WAIT_MS 10000

static int n_connect, n_disconnect;  /* t_count_* */
static struct pv_xb_dev *last_dev;   /* set by connect on the loop thread */
static bool raise_in_disconnect;     /* disconnect op raises a request itself */

static struct t_pvsim sim; /* pvsim instance with domain "guest" */
static struct t_backend *be_vbd;

static int fake_probe(struct pv_xb_dev *dev) { return 0; }

static int fake_connect(struct pv_xb_dev *dev)
{
	__atomic_store_n(&last_dev, dev, __ATOMIC_RELEASE);
	t_count_bump(&n_connect);
	return 0;
}

static void fake_disconnect(struct pv_xb_dev *dev)
{
	/* A queue thread that noticed a violation while its ring was stopping. */
	if (__atomic_load_n(&raise_in_disconnect, __ATOMIC_ACQUIRE))
		pv_xb_dev_request_disconnect(dev, "violation seen while stopping");
	t_count_bump(&n_disconnect);
}

static void fake_remove(struct pv_xb_dev *dev) { }

static const struct pv_xb_backend_ops vbd_ops = {
	.type = "vbd", .connect_on_initialised = true, .probe = fake_probe,
	.connect = fake_connect, .disconnect = fake_disconnect, .remove = fake_remove,
};

static int setup(void **state)
{
	if (t_pvsim_start(&sim, "pvxbstale", "guest"))
		return -1;

	pv_log_init("test-stale", false, getenv("PV_LOG_DEBUG") ? PV_LOG_DEBUG : PV_LOG_ERR);
	return t_backend_start(&vbd_ops, NULL, &be_vbd);
}

static int teardown(void **state)
{
	t_backend_stop(be_vbd);
	t_pvsim_stop(&sim);
	return 0;
}

/* Attach vdev to the guest and open its frontend. */
static struct pvfront *open_front(const char *vdev, struct pv_xs **xs_out)
{
	char args[64];
	struct pvfront *f;
	struct pv_xs *xs;
	int64_t devid;

	snprintf(args, sizeof(args), "target=/dev/null vdev=%s", vdev);
	devid = t_pvsim_attach(&sim, "guest", "vbd", args);
	assert_true(devid >= 0);
	xs = t_pvsim_xs(&sim, sim.guest);
	assert_non_null(xs);
	assert_int_equal(pvfront_open(xs, (uint16_t)sim.guest, "vbd", (uint32_t)devid, &f), 0);
	*xs_out = xs;
	return f;
}

/* Frontend side of a connection: InitWait -> Initialised -> Connected. */
static void connect_front(struct pvfront *f)
{
	int want = t_count_get(&n_connect) + 1;

	assert_int_equal(pvfront_switch_state(f, XenbusStateInitialising), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateInitWait), WAIT_MS),
			 XenbusStateInitWait);
	assert_int_equal(pvfront_transaction(f, t_front_fake_ring, NULL), 0);
	assert_int_equal(pvfront_switch_state(f, XenbusStateInitialised), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateConnected), WAIT_MS),
			 XenbusStateConnected);
	assert_int_equal(pvfront_switch_state(f, XenbusStateConnected), 0);
	assert_int_equal(t_count_wait(&n_connect, want, WAIT_MS), want);
}

static struct pv_xb_dev *current_dev(void)
{
	return __atomic_load_n(&last_dev, __ATOMIC_ACQUIRE);
}

static void test_disconnect_request_on_live_connection_closes_it(void **state)
{
	struct pv_xs *xs;
	struct pvfront *f = open_front("xvda", &xs);
	int disc = t_count_get(&n_disconnect);

	connect_front(f);
	pv_xb_dev_request_disconnect(current_dev(), "test violation");
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateClosing), WAIT_MS),
			 XenbusStateClosing);
	assert_int_equal(t_count_wait(&n_disconnect, disc + 1, WAIT_MS), disc + 1);
	/* The frontend then closes, as Linux blkfront does on backend Closing. */
	assert_int_equal(pvfront_close_device(f, WAIT_MS), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateClosed), WAIT_MS),
			 XenbusStateClosed);
	pvfront_close(f);
	pv_xs_close(xs);
}

static void test_disconnect_request_after_frontend_closed_is_dropped(void **state)
{
	struct pv_xs *xs;
	struct pvfront *f = open_front("xvdb", &xs);
	struct pv_xb_dev *dev;

	connect_front(f);
	dev = current_dev();
	assert_int_equal(pvfront_close_device(f, WAIT_MS), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateClosed), WAIT_MS),
			 XenbusStateClosed);

	/* The violation's request reaches the xenbus loop only now. */
	pv_xb_dev_request_disconnect(dev, "late violation");
	assert_int_equal(t_backend_sync(be_vbd, WAIT_MS), 0);
	assert_int_equal(pvfront_backend_state(f), XenbusStateClosed);

	/* And the device still reconnects. */
	connect_front(f);
	assert_int_equal(pvfront_close_device(f, WAIT_MS), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateClosed), WAIT_MS),
			 XenbusStateClosed);
	pvfront_close(f);
	pv_xs_close(xs);
}

static void test_disconnect_request_raised_during_teardown_leaves_device_closed(void **state)
{
	struct pv_xs *xs;
	struct pvfront *f = open_front("xvdc", &xs);
	int disc = t_count_get(&n_disconnect);

	connect_front(f);
	__atomic_store_n(&raise_in_disconnect, true, __ATOMIC_RELEASE);
	/* Closing and Closed back to back: the backend may see only Closed, and
	 * the request raised inside ops->disconnect runs after that. */
	assert_int_equal(pvfront_switch_state(f, XenbusStateClosing), 0);
	assert_int_equal(pvfront_switch_state(f, XenbusStateClosed), 0);
	assert_int_equal(t_count_wait(&n_disconnect, disc + 1, WAIT_MS), disc + 1);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateClosed), WAIT_MS),
			 XenbusStateClosed);
	assert_int_equal(t_backend_sync(be_vbd, WAIT_MS), 0);
	__atomic_store_n(&raise_in_disconnect, false, __ATOMIC_RELEASE);
	assert_int_equal(pvfront_backend_state(f), XenbusStateClosed);
	connect_front(f);
	assert_int_equal(pvfront_close_device(f, WAIT_MS), 0);
	pvfront_close(f);
	pv_xs_close(xs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disconnect_request_on_live_connection_closes_it),
		cmocka_unit_test(test_disconnect_request_after_frontend_closed_is_dropped),
		cmocka_unit_test(test_disconnect_request_raised_during_teardown_leaves_device_closed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
