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

struct rec {
	int probe, connect, disconnect, remove;
	int fe_state_at_connect;
};

static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rec_cond = PTHREAD_COND_INITIALIZER;
static struct rec recs[2]; /* 0: vbd backend, 1: vif backend */

static struct t_pvsim sim; /* pvsim instance with domain "guest" */
static struct pv_loop *be_loop;
static struct pv_xs *be_xs;
static struct pv_xb_backend *be_vbd, *be_vif;
static pthread_t be_thread;

static struct rec *rec_of(struct pv_xb_dev *dev)
{
	return &recs[*(int *)pv_xb_dev_ctx(dev)];
}

static void bump(struct pv_xb_dev *dev, int *field)
{
	pthread_mutex_lock(&rec_lock);
	(*field)++;
	pthread_cond_broadcast(&rec_cond);
	pthread_mutex_unlock(&rec_lock);
}

static int fake_probe(struct pv_xb_dev *dev)
{
	bump(dev, &rec_of(dev)->probe);
	return pv_xb_dev_printf_be(dev, 0, "feature-fake", "1");
}

static int fake_connect(struct pv_xb_dev *dev)
{
	uint64_t st = 0;

	pv_xb_dev_read_fe_uint(dev, "state", 0, 8, &st);
	pthread_mutex_lock(&rec_lock);
	rec_of(dev)->fe_state_at_connect = (int)st;
	pthread_mutex_unlock(&rec_lock);
	bump(dev, &rec_of(dev)->connect);
	return 0;
}

static void fake_disconnect(struct pv_xb_dev *dev) { bump(dev, &rec_of(dev)->disconnect); }
static void fake_remove(struct pv_xb_dev *dev) { bump(dev, &rec_of(dev)->remove); }

static const struct pv_xb_backend_ops vbd_ops = {
	.type = "vbd", .connect_on_initialised = true, .probe = fake_probe,
	.connect = fake_connect, .disconnect = fake_disconnect, .remove = fake_remove,
};
static const struct pv_xb_backend_ops vif_ops = {
	.type = "vif", .connect_on_initialised = false, .probe = fake_probe,
	.connect = fake_connect, .disconnect = fake_disconnect, .remove = fake_remove,
};
static int ctx_vbd = 0, ctx_vif = 1;

/* Wait until *field >= want, as recorded by the backend thread. */
static int wait_rec(int *field, int want)
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

static int get_rec(int *field)
{
	int v;

	pthread_mutex_lock(&rec_lock);
	v = *field;
	pthread_mutex_unlock(&rec_lock);
	return v;
}

static void *be_main(void *opaque)
{
	pv_loop_run(be_loop);
	return NULL;
}

static void stop_backends(void *opaque)
{
	pv_xb_backend_stop(be_vbd);
	pv_xb_backend_stop(be_vif);
	pv_loop_stop(be_loop);
}

static int setup(void **state)
{
	if (t_pvsim_start(&sim, "pvxb", "guest"))
		return -1;

	pv_log_init("test-xenbus", false, getenv("PV_LOG_DEBUG") ? PV_LOG_DEBUG : PV_LOG_WARN);
	if (pv_loop_create(&be_loop) || pv_xs_open(be_loop, &be_xs) ||
	    pv_xb_backend_start(be_loop, be_xs, &vbd_ops, &ctx_vbd, &be_vbd) ||
	    pv_xb_backend_start(be_loop, be_xs, &vif_ops, &ctx_vif, &be_vif))
		return -1;
	return pthread_create(&be_thread, NULL, be_main, NULL);
}

static int teardown(void **state)
{
	if (be_loop) {
		pv_loop_call(be_loop, stop_backends, NULL);
		pthread_join(be_thread, NULL);
		pv_xs_close(be_xs);
		pv_loop_destroy(be_loop);
	}
	t_pvsim_stop(&sim);
	return 0;
}

/* A frontend connection of domain dom (its own xenstored socket). */
static struct pv_xs *front_xs(unsigned dom)
{
	char path[128];
	struct pv_xs *xs;

	snprintf(path, sizeof(path), "%s/xs/%u", sim.dir, dom);
	setenv("XENSTORED_PATH", path, 1);
	assert_int_equal(pv_xs_open(NULL, &xs), 0);
	return xs;
}

static uint32_t attach(const char *dom, const char *type, const char *args)
{
	char out[64];

	assert_int_equal(t_sh(out, sizeof(out), "%s --dir %s attach %s %s %s", sim.pvsim, sim.dir, dom,
			    type, args), 0);
	return (uint32_t)atoi(out);
}

static int write_ring(struct pvfront *f, uint32_t t, void *opaque)
{
	return pvfront_printf(f, t, "ring-ref", "%u", 8) ?: pvfront_printf(f, t, "event-channel", "%u", 5);
}

static void test_blk_style_handshake_connects_on_initialised_once(void **state)
{
	struct rec *r = &recs[0];
	struct pvfront *f;
	struct pv_xs *xs = front_xs(sim.guest);
	uint32_t devid = attach("guest", "vbd", "target=/dev/null vdev=xvda");
	char *hs;

	assert_int_equal(pvfront_open(xs, (uint16_t)sim.guest, "vbd", devid, &f), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateInitWait), WAIT_MS),
			 XenbusStateInitWait);
	assert_int_equal(get_rec(&r->probe), 1);
	hs = pvfront_read_be(f, "hotplug-status");
	assert_string_equal(hs, "connected");
	free(hs);
	hs = pvfront_read_be(f, "feature-fake");
	assert_string_equal(hs, "1");
	free(hs);

	assert_int_equal(pvfront_transaction(f, write_ring, NULL), 0);
	assert_int_equal(pvfront_switch_state(f, XenbusStateInitialised), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateConnected), WAIT_MS),
			 XenbusStateConnected);
	assert_int_equal(get_rec(&r->connect), 1);
	assert_int_equal(get_rec(&r->fe_state_at_connect), XenbusStateInitialised);
	assert_int_equal(pvfront_switch_state(f, XenbusStateConnected), 0);

	/* Teardown: Closing -> Closing, Closed -> Closed; the Connected event
	 * was handled before (events are ordered), so one connect only. */
	assert_int_equal(pvfront_close_device(f, WAIT_MS), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateClosed), WAIT_MS),
			 XenbusStateClosed);
	assert_int_equal(get_rec(&r->connect), 1);
	assert_int_equal(get_rec(&r->disconnect), 1);
	assert_int_equal(get_rec(&r->remove), 0); /* online=1: may reconnect */

	/* Reconnect: Initialising while the backend is Closed -> InitWait. */
	assert_int_equal(pvfront_switch_state(f, XenbusStateInitialising), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateInitWait), WAIT_MS),
			 XenbusStateInitWait);
	assert_int_equal(pvfront_switch_state(f, XenbusStateInitialised), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateConnected), WAIT_MS),
			 XenbusStateConnected);
	assert_int_equal(get_rec(&r->connect), 2);
	assert_int_equal(get_rec(&r->probe), 1);

	/* Unplug as the toolstack does: online=0, then the frontend closes. */
	{
		char path[256];
		struct pv_xs *dom0;
		char p0[128];

		snprintf(p0, sizeof(p0), "%s/xs/0", sim.dir);
		setenv("XENSTORED_PATH", p0, 1);
		assert_int_equal(pv_xs_open(NULL, &dom0), 0);
		snprintf(path, sizeof(path), "%s/online", pvfront_bepath(f));
		assert_int_equal(pv_xs_write(dom0, 0, path, "0"), 0);
		pv_xs_close(dom0);
	}
	assert_int_equal(pvfront_close_device(f, WAIT_MS), 0);
	assert_int_equal(wait_rec(&r->remove, 1), 1);
	assert_int_equal(get_rec(&r->disconnect), 2);
	pvfront_close(f);
	pv_xs_close(xs);
}

static void test_net_style_handshake_connects_on_connected_without_initialised(void **state)
{
	struct rec *r = &recs[1];
	struct pvfront *f;
	struct pv_xs *xs = front_xs(sim.guest);
	uint32_t devid = attach("guest", "vif", "");
	struct pv_xs *dom0;
	char p0[128];

	assert_int_equal(pvfront_open(xs, (uint16_t)sim.guest, "vif", devid, &f), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateInitWait), WAIT_MS),
			 XenbusStateInitWait);
	assert_int_equal(pvfront_transaction(f, write_ring, NULL), 0);
	assert_int_equal(pvfront_switch_state(f, XenbusStateConnected), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateConnected), WAIT_MS),
			 XenbusStateConnected);
	assert_int_equal(get_rec(&r->connect), 1);
	assert_int_equal(get_rec(&r->fe_state_at_connect), XenbusStateConnected);

	/* The toolstack removes the backend directory: disconnect + remove. */
	snprintf(p0, sizeof(p0), "%s/xs/0", sim.dir);
	setenv("XENSTORED_PATH", p0, 1);
	assert_int_equal(pv_xs_open(NULL, &dom0), 0);
	assert_int_equal(pv_xs_rm(dom0, 0, pvfront_bepath(f)), 0);
	pv_xs_close(dom0);
	assert_int_equal(wait_rec(&r->remove, 1), 1);
	assert_int_equal(get_rec(&r->disconnect), 1);
	pvfront_close(f);
	pv_xs_close(xs);
}

static void test_destroyed_frontend_domain_disconnects_and_removes(void **state)
{
	struct rec *r = &recs[0];
	struct pvfront *f;
	struct pv_xs *xs;
	char out[256], *p;
	unsigned dom;
	uint32_t devid;
	int removes = get_rec(&r->remove), disconnects = get_rec(&r->disconnect);

	assert_int_equal(t_sh(NULL, 0, "%s --dir %s create doomed --mem 64M", sim.pvsim, sim.dir), 0);
	assert_int_equal(t_sh(out, sizeof(out), "%s --dir %s env doomed", sim.pvsim, sim.dir), 0);
	p = strstr(out, "PVSIM_DOMID=");
	assert_non_null(p);
	dom = (unsigned)atoi(p + strlen("PVSIM_DOMID="));
	devid = attach("doomed", "vbd", "target=/dev/null vdev=xvdb");
	xs = front_xs(dom);
	assert_int_equal(pvfront_open(xs, (uint16_t)dom, "vbd", devid, &f), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateInitWait), WAIT_MS),
			 XenbusStateInitWait);
	assert_int_equal(pvfront_switch_state(f, XenbusStateInitialised), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateConnected), WAIT_MS),
			 XenbusStateConnected);
	pvfront_close(f);
	pv_xs_close(xs);

	assert_int_equal(t_sh(NULL, 0, "%s --dir %s destroy doomed", sim.pvsim, sim.dir), 0);
	assert_int_equal(wait_rec(&r->remove, removes + 1), removes + 1);
	assert_int_equal(get_rec(&r->disconnect), disconnects + 1);
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
