/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: pv_xb_dev_request_disconnect() (what a blkback queue thread
 * calls on a protocol violation) against pvsim's xenstored, with a fake
 * backend.  A request on a live connection closes it (error node, Closing).
 * A request that reaches the xenbus loop after its connection ended (the
 * frontend closed first and the backend is Closed) must be dropped: before
 * the fix (issue 3, seen with the hostile bad-indirect-grant case) the fatal
 * path moved the device Closed -> Closing and it stayed there, so the
 * frontend could not reconnect.  Waits on xenstore through pvfront and on
 * the backend loop through a marker call, never by sleeping.
 * Exits 77 (skip) when build/bin/pvsim is missing.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <xen/io/xenbus.h>

#include "pvcommon.h"
#include "pvfront.h"
#include "sim-harness.h"

#define WAIT_MS 10000

static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rec_cond = PTHREAD_COND_INITIALIZER;
static int n_connect, n_disconnect, n_marker;
static struct pv_xb_dev *last_dev;  /* set by connect on the loop thread */
static bool raise_in_disconnect;     /* disconnect op raises a request itself */

static struct t_pvsim sim; /* pvsim instance with domain "guest" */
static struct pv_loop *be_loop;
static struct pv_xs *be_xs;
static struct pv_xb_backend *be_vbd;
static pthread_t be_thread;

static void bump(int *field)
{
	pthread_mutex_lock(&rec_lock);
	(*field)++;
	pthread_cond_broadcast(&rec_cond);
	pthread_mutex_unlock(&rec_lock);
}

static int wait_count(int *field, int want)
{
	struct timespec ts;
	int ret = 0, v;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&rec_lock);
	while (*field < want && ret == 0)
		ret = pthread_cond_timedwait(&rec_cond, &rec_lock, &ts);
	v = *field;
	pthread_mutex_unlock(&rec_lock);
	return v;
}

static int fake_probe(struct pv_xb_dev *dev) { return 0; }

static int fake_connect(struct pv_xb_dev *dev)
{
	pthread_mutex_lock(&rec_lock);
	last_dev = dev;
	pthread_mutex_unlock(&rec_lock);
	bump(&n_connect);
	return 0;
}

static void fake_disconnect(struct pv_xb_dev *dev)
{
	/* A queue thread that noticed a violation while its ring was stopping. */
	if (__atomic_load_n(&raise_in_disconnect, __ATOMIC_ACQUIRE))
		pv_xb_dev_request_disconnect(dev, "violation seen while stopping");
	bump(&n_disconnect);
}

static void fake_remove(struct pv_xb_dev *dev) { }

static const struct pv_xb_backend_ops vbd_ops = {
	.type = "vbd", .connect_on_initialised = true, .probe = fake_probe,
	.connect = fake_connect, .disconnect = fake_disconnect, .remove = fake_remove,
};

static void marker_fn(void *opaque) { bump(&n_marker); }

/* Everything queued on the backend loop before this call has run. */
static void sync_loop(void)
{
	int want = n_marker + 1;

	assert_int_equal(pv_loop_call(be_loop, marker_fn, NULL), 0);
	assert_int_equal(wait_count(&n_marker, want), want);
}

static void *be_main(void *opaque)
{
	pv_loop_run(be_loop);
	return NULL;
}

static void stop_backend(void *opaque)
{
	pv_xb_backend_stop(be_vbd);
	pv_loop_stop(be_loop);
}

static int setup(void **state)
{
	if (t_pvsim_start(&sim, "pvxbstale", "guest"))
		return -1;

	pv_log_init("test-stale", false, getenv("PV_LOG_DEBUG") ? PV_LOG_DEBUG : PV_LOG_ERR);
	if (pv_loop_create(&be_loop) || pv_xs_open(be_loop, &be_xs) ||
	    pv_xb_backend_start(be_loop, be_xs, &vbd_ops, NULL, &be_vbd))
		return -1;
	return pthread_create(&be_thread, NULL, be_main, NULL);
}

static int teardown(void **state)
{
	if (be_loop) {
		pv_loop_call(be_loop, stop_backend, NULL);
		pthread_join(be_thread, NULL);
		pv_xs_close(be_xs);
		pv_loop_destroy(be_loop);
	}
	t_pvsim_stop(&sim);
	return 0;
}

static int write_ring(struct pvfront *f, uint32_t t, void *opaque)
{
	return pvfront_printf(f, t, "ring-ref", "%u", 8) ?:
	       pvfront_printf(f, t, "event-channel", "%u", 5);
}

/* Attach vdev to the guest and open its frontend. */
static struct pvfront *open_front(const char *vdev, struct pv_xs **xs_out)
{
	char path[128], out[64];
	struct pvfront *f;
	struct pv_xs *xs;
	uint32_t devid;

	assert_int_equal(t_sh(out, sizeof(out), "%s --dir %s attach guest vbd target=/dev/null vdev=%s",
			    sim.pvsim, sim.dir, vdev), 0);
	devid = (uint32_t)atoi(out);
	snprintf(path, sizeof(path), "%s/xs/%u", sim.dir, sim.guest);
	setenv("XENSTORED_PATH", path, 1);
	assert_int_equal(pv_xs_open(NULL, &xs), 0);
	assert_int_equal(pvfront_open(xs, (uint16_t)sim.guest, "vbd", devid, &f), 0);
	*xs_out = xs;
	return f;
}

/* Frontend side of a connection: InitWait -> Initialised -> Connected. */
static void connect_front(struct pvfront *f)
{
	int want = n_connect + 1;

	assert_int_equal(pvfront_switch_state(f, XenbusStateInitialising), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateInitWait), WAIT_MS),
			 XenbusStateInitWait);
	assert_int_equal(pvfront_transaction(f, write_ring, NULL), 0);
	assert_int_equal(pvfront_switch_state(f, XenbusStateInitialised), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateConnected), WAIT_MS),
			 XenbusStateConnected);
	assert_int_equal(pvfront_switch_state(f, XenbusStateConnected), 0);
	assert_int_equal(wait_count(&n_connect, want), want);
}

static struct pv_xb_dev *current_dev(void)
{
	struct pv_xb_dev *dev;

	pthread_mutex_lock(&rec_lock);
	dev = last_dev;
	pthread_mutex_unlock(&rec_lock);
	return dev;
}

static void test_disconnect_request_on_live_connection_closes_it(void **state)
{
	struct pv_xs *xs;
	struct pvfront *f = open_front("xvda", &xs);
	int disc = n_disconnect;

	connect_front(f);
	pv_xb_dev_request_disconnect(current_dev(), "test violation");
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateClosing), WAIT_MS),
			 XenbusStateClosing);
	assert_int_equal(wait_count(&n_disconnect, disc + 1), disc + 1);
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
	sync_loop();
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
	int disc = n_disconnect;

	connect_front(f);
	__atomic_store_n(&raise_in_disconnect, true, __ATOMIC_RELEASE);
	/* Closing and Closed back to back: the backend may see only Closed, and
	 * the request raised inside ops->disconnect runs after that. */
	assert_int_equal(pvfront_switch_state(f, XenbusStateClosing), 0);
	assert_int_equal(pvfront_switch_state(f, XenbusStateClosed), 0);
	assert_int_equal(wait_count(&n_disconnect, disc + 1), disc + 1);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateClosed), WAIT_MS),
			 XenbusStateClosed);
	sync_loop();
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
