/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: the xenbus backend framework against pvsim's xenstored, with a
 * fake backend whose ops only record calls and a frontend driven through
 * libpvfront: probe -> hotplug-status + InitWait; connect on Initialised
 * (blk-style) or straight on Connected (net-style) exactly once; Closing and
 * Closed teardown; reconnect from Closed to InitWait; online=0 removal;
 * backend directory removal; frontend domain destruction.  Each backend type
 * runs on its own loop thread (t_backend, as one daemon per type); the test
 * waits on xenstore state through pvfront and on recorded ops through
 * t_count_wait, never by sleeping.
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

struct rec {
	int probe, connect, disconnect, remove;
	int fe_state_at_connect;
};

static struct rec recs[2]; /* 0: vbd backend, 1: vif backend; t_count_* */

static struct t_pvsim sim; /* pvsim instance with domain "guest" */
static struct t_backend *be_vbd, *be_vif;

static struct rec *rec_of(struct pv_xb_dev *dev)
{
	return &recs[*(int *)pv_xb_dev_ctx(dev)];
}

static int fake_probe(struct pv_xb_dev *dev)
{
	t_count_bump(&rec_of(dev)->probe);
	return pv_xb_dev_printf_be(dev, 0, "feature-fake", "1");
}

static int fake_connect(struct pv_xb_dev *dev)
{
	uint64_t st = 0;

	pv_xb_dev_read_fe_uint(dev, "state", 0, 8, &st);
	t_count_set(&rec_of(dev)->fe_state_at_connect, (int)st);
	t_count_bump(&rec_of(dev)->connect);
	return 0;
}

static void fake_disconnect(struct pv_xb_dev *dev) { t_count_bump(&rec_of(dev)->disconnect); }
static void fake_remove(struct pv_xb_dev *dev) { t_count_bump(&rec_of(dev)->remove); }

static const struct pv_xb_backend_ops vbd_ops = {
	.type = "vbd", .connect_on_initialised = true, .probe = fake_probe,
	.connect = fake_connect, .disconnect = fake_disconnect, .remove = fake_remove,
};
static const struct pv_xb_backend_ops vif_ops = {
	.type = "vif", .connect_on_initialised = false, .probe = fake_probe,
	.connect = fake_connect, .disconnect = fake_disconnect, .remove = fake_remove,
};
static int ctx_vbd = 0, ctx_vif = 1;

static int setup(void **state)
{
	if (t_pvsim_start(&sim, "pvxb", "guest"))
		return -1;

	pv_log_init("test-xenbus", false, getenv("PV_LOG_DEBUG") ? PV_LOG_DEBUG : PV_LOG_WARN);
	if (t_backend_start(&vbd_ops, &ctx_vbd, &be_vbd) ||
	    t_backend_start(&vif_ops, &ctx_vif, &be_vif))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	t_backend_stop(be_vif);
	t_backend_stop(be_vbd);
	t_pvsim_stop(&sim);
	return 0;
}

/* A xenstore connection of domain dom (its own xenstored socket). */
static struct pv_xs *xs_of(unsigned dom)
{
	struct pv_xs *xs = t_pvsim_xs(&sim, dom);

	assert_non_null(xs);
	return xs;
}

static uint32_t attach(const char *dom, const char *type, const char *args)
{
	int64_t devid = t_pvsim_attach(&sim, dom, type, args);

	assert_true(devid >= 0);
	return (uint32_t)devid;
}

static void test_blk_style_handshake_connects_on_initialised_once(void **state)
{
	struct rec *r = &recs[0];
	struct pvfront *f;
	struct pv_xs *xs = xs_of(sim.guest);
	uint32_t devid = attach("guest", "vbd", "target=/dev/null vdev=xvda");
	char *hs;

	assert_int_equal(pvfront_open(xs, (uint16_t)sim.guest, "vbd", devid, &f), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateInitWait), WAIT_MS),
			 XenbusStateInitWait);
	assert_int_equal(t_count_get(&r->probe), 1);
	hs = pvfront_read_be(f, "hotplug-status");
	assert_string_equal(hs, "connected");
	free(hs);
	hs = pvfront_read_be(f, "feature-fake");
	assert_string_equal(hs, "1");
	free(hs);

	assert_int_equal(pvfront_transaction(f, t_front_fake_ring, NULL), 0);
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
	{
		char path[256];
		struct pv_xs *dom0 = xs_of(0);

		snprintf(path, sizeof(path), "%s/online", pvfront_bepath(f));
		assert_int_equal(pv_xs_write(dom0, 0, path, "0"), 0);
		pv_xs_close(dom0);
	}
	assert_int_equal(pvfront_close_device(f, WAIT_MS), 0);
	assert_int_equal(t_count_wait(&r->remove, 1, WAIT_MS), 1);
	assert_int_equal(t_count_get(&r->disconnect), 2);
	pvfront_close(f);
	pv_xs_close(xs);
}

static void test_net_style_handshake_connects_on_connected_without_initialised(void **state)
{
	struct rec *r = &recs[1];
	struct pvfront *f;
	struct pv_xs *xs = xs_of(sim.guest);
	uint32_t devid = attach("guest", "vif", "");
	struct pv_xs *dom0;

	assert_int_equal(pvfront_open(xs, (uint16_t)sim.guest, "vif", devid, &f), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateInitWait), WAIT_MS),
			 XenbusStateInitWait);
	assert_int_equal(pvfront_transaction(f, t_front_fake_ring, NULL), 0);
	assert_int_equal(pvfront_switch_state(f, XenbusStateConnected), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateConnected), WAIT_MS),
			 XenbusStateConnected);
	assert_int_equal(t_count_get(&r->connect), 1);
	assert_int_equal(t_count_get(&r->fe_state_at_connect), XenbusStateConnected);

	/* The toolstack removes the backend directory: disconnect + remove. */
	dom0 = xs_of(0);
	assert_int_equal(pv_xs_rm(dom0, 0, pvfront_bepath(f)), 0);
	pv_xs_close(dom0);
	assert_int_equal(t_count_wait(&r->remove, 1, WAIT_MS), 1);
	assert_int_equal(t_count_get(&r->disconnect), 1);
	pvfront_close(f);
	pv_xs_close(xs);
}

static void test_destroyed_frontend_domain_disconnects_and_removes(void **state)
{
	struct rec *r = &recs[0];
	struct pvfront *f;
	struct pv_xs *xs;
	uint32_t devid;
	int removes = t_count_get(&r->remove), disconnects = t_count_get(&r->disconnect);
	int dom = t_pvsim_create(&sim, "doomed");

	assert_true(dom > 0);
	devid = attach("doomed", "vbd", "target=/dev/null vdev=xvdb");
	xs = xs_of((unsigned)dom);
	assert_int_equal(pvfront_open(xs, (uint16_t)dom, "vbd", devid, &f), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateInitWait), WAIT_MS),
			 XenbusStateInitWait);
	assert_int_equal(pvfront_switch_state(f, XenbusStateInitialised), 0);
	assert_int_equal(pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateConnected), WAIT_MS),
			 XenbusStateConnected);
	pvfront_close(f);
	pv_xs_close(xs);

	assert_int_equal(t_sh(NULL, 0, "%s --dir %s destroy doomed", sim.pvsim, sim.dir), 0);
	assert_int_equal(t_count_wait(&r->remove, removes + 1, WAIT_MS), removes + 1);
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
