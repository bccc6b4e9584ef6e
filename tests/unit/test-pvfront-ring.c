/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: libpvfront's shared rings on pvsim, as every userspace
 * frontend sets them up.  What pvfront_ring_write_keys() writes is what the
 * backend framework's readers read, for each layout: blkif's ring-refN with
 * event-channel under queue-N/, netif's tx/rx rings sharing one channel or
 * with split event-channel-tx/-rx, usbif's urb and conn rings.  The
 * hostile-frontend hooks: raw bytes land in the next slot unvalidated (the
 * rest zeroed), too long is -EINVAL and a full ring -EAGAIN; req_prod takes
 * any value; notify reaches the backend's bound port (a bounded poll on its
 * event channel fd), and a ring without a port of its own says -ENOTCONN.
 * An order above 16 pages is refused with nothing allocated.
 * Exits 77 (skip) when build/bin/pvsim is missing.
 */
#include <errno.h>
#include <poll.h>
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
static struct t_front tf;      /* one vif, in InitWait */
static struct pv_hv *ghv;      /* the guest's hv handle */

static int setup(void **state)
{
	const struct pv_xb_backend_ops *ops[] = { &vif_ops };
	void *ctx[] = { &fake };

	vif_ops = t_fake_ops("vif", false);
	if (t_backend_setup(&tb, &sim, "pvfring", 1, ops, ctx) ||
	    t_front_open(&tf, &sim, "guest", sim.guest, "vif", "") ||
	    pvfront_wait_backend(tf.f, PVFRONT_STATE(XenbusStateInitWait), T_WAIT_MS) !=
		    XenbusStateInitWait)
		return -1;
	ghv = t_pvsim_hv(&sim, sim.guest);
	return ghv ? 0 : -1;
}

static int teardown(void **state)
{
	pv_hv_close(ghv);
	t_front_close(&tf);
	t_backend_teardown(&tb, &sim);
	return 0;
}

/* ------------------------------------------------- keys, both sides */

struct ring_keys {           /* what one ring's setup writes */
	struct pvfront_ring *r;
	const char *dir, *name, *evtchn;
};

static int write_rings(struct pvfront *f, uint32_t t, void *opaque)
{
	const struct ring_keys *k = opaque;
	int ret = 0;

	for (; k->r && !ret; k++)
		ret = pvfront_ring_write_keys(f, t, k->r, k->dir, k->name, k->evtchn);
	return ret;
}

struct read {                /* the backend reading them, on its loop */
	const char *dir, *name;
	unsigned order;
	bool split;
	int rc, ports;
	uint32_t refs[1u << PV_XB_RING_ORDER_MAX], port[2];
};

static void read_on_loop(void *opaque)
{
	struct read *rd = opaque;
	struct pv_xb_dev *dev = t_fake_dev(&fake);

	rd->rc = pv_xb_dev_read_grefs(dev, rd->dir, rd->name, rd->order, rd->refs);
	rd->ports = pv_xb_dev_read_evtchns(dev, rd->dir, "event-channel", rd->split, rd->port);
}

/* The backend reads ring r as <dir><name> and finds its refs, and the
 * ports (how many, and the first). */
static void assert_backend_reads(const struct pvfront_ring *r, const char *dir, const char *name,
				 bool split, int ports, int port0)
{
	struct read rd = { .dir = dir, .name = name, .order = r->order, .split = split };

	assert_int_equal(t_backend_run(&tb, read_on_loop, &rd), 0);
	assert_int_equal(rd.rc, 0);
	assert_memory_equal(rd.refs, r->refs, sizeof(uint32_t) << r->order);
	assert_int_equal(rd.ports, ports);
	assert_int_equal(rd.port[0], port0);
}

static void test_blkif_multi_page_rings_under_queue_dirs_read_back(void **state)
{
	struct pvfront_ring q0, q1;
	struct ring_keys keys[] = {
		{ &q0, "queue-0/", "ring-ref", "event-channel" },
		{ &q1, "queue-1/", "ring-ref", "event-channel" }, { NULL },
	};

	assert_int_equal(pvfront_ring_setup(tf.f, ghv, 2, 112, true, &q0), 0);
	assert_int_equal(pvfront_ring_setup(tf.f, ghv, 0, 112, true, &q1), 0);
	assert_int_equal(q0.front.nr_ents, 128); /* (4 pages - 64) / 112 -> 128 */
	assert_int_equal(pvfront_transaction(tf.f, write_rings, keys), 0);
	assert_backend_reads(&q0, "queue-0/", "ring-ref", false, 1, q0.port);
	assert_backend_reads(&q1, "queue-1/", "ring-ref", false, 1, q1.port);
	assert_int_not_equal(q0.port, q1.port);
	pvfront_ring_teardown(ghv, &q0);
	pvfront_ring_teardown(ghv, &q1);
	assert_null(q0.sring);
	assert_int_equal(q0.port, -1);
}

static void test_netif_tx_and_rx_rings_share_a_channel_or_split_it(void **state)
{
	struct pvfront_ring tx, rx, stx, srx;
	struct ring_keys keys[] = {
		{ &tx, "queue-2/", "tx-ring-ref", "event-channel" },
		{ &rx, "queue-2/", "rx-ring-ref", NULL },
		{ &stx, "queue-3/", "tx-ring-ref", "event-channel-tx" },
		{ &srx, "queue-3/", "rx-ring-ref", "event-channel-rx" }, { NULL },
	};
	struct read rd = { .dir = "queue-3/", .name = "rx-ring-ref", .split = true };

	assert_int_equal(pvfront_ring_setup(tf.f, ghv, 0, 12, true, &tx), 0);
	assert_int_equal(pvfront_ring_setup(tf.f, ghv, 0, 8, false, &rx), 0);
	assert_int_equal(rx.port, -1);
	assert_int_equal(pvfront_ring_setup(tf.f, ghv, 0, 12, true, &stx), 0);
	assert_int_equal(pvfront_ring_setup(tf.f, ghv, 0, 8, true, &srx), 0);
	assert_int_equal(pvfront_transaction(tf.f, write_rings, keys), 0);
	/* One channel: the backend finds it even when it allows a split. */
	assert_backend_reads(&tx, "queue-2/", "tx-ring-ref", true, 1, tx.port);
	assert_backend_reads(&rx, "queue-2/", "rx-ring-ref", true, 1, tx.port);
	/* Split: two ports, tx first. */
	assert_backend_reads(&stx, "queue-3/", "tx-ring-ref", true, 2, stx.port);
	assert_int_equal(t_backend_run(&tb, read_on_loop, &rd), 0);
	assert_int_equal(rd.port[1], srx.port);
	pvfront_ring_teardown(ghv, &tx);
	pvfront_ring_teardown(ghv, &rx);
	pvfront_ring_teardown(ghv, &stx);
	pvfront_ring_teardown(ghv, &srx);
}

static void test_usbif_urb_and_conn_rings_share_one_channel(void **state)
{
	struct pvfront_ring urb, conn;
	struct ring_keys keys[] = {
		{ &urb, "usb/", "urb-ring-ref", "event-channel" },
		{ &conn, "usb/", "conn-ring-ref", NULL }, { NULL },
	};

	assert_int_equal(pvfront_ring_setup(tf.f, ghv, 0, 148, true, &urb), 0);
	assert_int_equal(pvfront_ring_setup(tf.f, ghv, 0, 8, false, &conn), 0);
	assert_int_equal(pvfront_transaction(tf.f, write_rings, keys), 0);
	assert_backend_reads(&urb, "usb/", "urb-ring-ref", false, 1, urb.port);
	assert_backend_reads(&conn, "usb/", "conn-ring-ref", false, 1, urb.port);
	pvfront_ring_teardown(ghv, &urb);
	pvfront_ring_teardown(ghv, &conn);
}

static void test_an_order_above_sixteen_pages_is_refused_with_nothing_allocated(void **state)
{
	struct pvfront_ring r;

	assert_int_equal(pvfront_ring_setup(tf.f, ghv, PVFRONT_RING_MAX_ORDER + 1, 64, true, &r),
			 -EINVAL);
	assert_null(r.sring);
	assert_int_equal(r.port, -1);
	pvfront_ring_teardown(ghv, &r); /* fit for teardown all the same */
	/* An entry larger than the ring. */
	assert_int_equal(pvfront_ring_setup(tf.f, ghv, 0, 8192, true, &r), -EINVAL);
	assert_null(r.sring);
	assert_int_equal(r.port, -1);
}

/* ------------------------------------------------------------ raw hooks */

static void test_raw_bytes_land_in_the_next_slot_unvalidated(void **state)
{
	static const uint8_t junk[5] = { 0xff, 0x00, 0x42, 0xde, 0xad };
	struct pvfront_ring r;
	uint8_t *slot;
	unsigned i;

	assert_int_equal(pvfront_ring_setup(tf.f, ghv, 0, 64, false, &r), 0);
	assert_ptr_equal(pvfront_ring_sring(&r), r.sring);
	slot = (uint8_t *)r.sring + PV_RING_HDR;
	memset(slot, 0x5a, 64);
	assert_int_equal(pvfront_ring_put_raw(&r, junk, sizeof(junk)), 0);
	assert_memory_equal(slot, junk, sizeof(junk));
	for (i = sizeof(junk); i < 64; i++)
		assert_int_equal(slot[i], 0);
	assert_int_equal(r.front.req_prod_pvt, 1);
	assert_int_equal(pvfront_ring_put_raw(&r, junk, 65), -EINVAL);
	/* Nothing is published until pushed. */
	assert_int_equal(((struct pv_sring_hdr *)r.sring)->req_prod, 0);
	for (i = 1; i < r.front.nr_ents; i++)
		assert_int_equal(pvfront_ring_put_raw(&r, junk, 1), 0);
	assert_int_equal(pvfront_ring_put_raw(&r, junk, 1), -EAGAIN);
	pvfront_ring_teardown(ghv, &r);
}

static void test_req_prod_takes_any_value(void **state)
{
	volatile struct pv_sring_hdr *h;
	struct pvfront_ring r;

	assert_int_equal(pvfront_ring_setup(tf.f, ghv, 0, 64, false, &r), 0);
	h = pvfront_ring_sring(&r);
	pvfront_ring_set_req_prod(&r, r.front.nr_ents + 5); /* beyond the ring */
	assert_int_equal(h->req_prod, r.front.nr_ents + 5);
	pvfront_ring_set_req_prod(&r, UINT32_MAX);          /* backwards */
	assert_int_equal(h->req_prod, UINT32_MAX);
	pvfront_ring_teardown(ghv, &r);
}

static void test_notify_reaches_the_bound_port_and_needs_one(void **state)
{
	struct pvfront_ring r, portless;
	struct pv_hv *bhv = t_pvsim_hv(&sim, 0);
	struct pollfd pfd;
	int local;

	assert_non_null(bhv);
	assert_int_equal(pvfront_ring_setup(tf.f, ghv, 0, 64, true, &r), 0);
	local = pv_hv_evtchn_bind(bhv, (uint16_t)sim.guest, (uint32_t)r.port);
	assert_true(local >= 0);
	assert_int_equal(pvfront_ring_notify(ghv, &r), 0);
	pfd = (struct pollfd){ .fd = pv_hv_evtchn_fd(bhv), .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, T_WAIT_MS), 1);
	assert_int_equal(pv_hv_evtchn_pending(bhv), local);
	assert_int_equal(pv_hv_evtchn_close(bhv, (uint32_t)local), 0);
	pv_hv_close(bhv);

	assert_int_equal(pvfront_ring_setup(tf.f, ghv, 0, 64, false, &portless), 0);
	assert_int_equal(pvfront_ring_notify(ghv, &portless), -ENOTCONN);
	pvfront_ring_teardown(ghv, &portless);
	pvfront_ring_teardown(ghv, &r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blkif_multi_page_rings_under_queue_dirs_read_back),
		cmocka_unit_test(test_netif_tx_and_rx_rings_share_a_channel_or_split_it),
		cmocka_unit_test(test_usbif_urb_and_conn_rings_share_one_channel),
		cmocka_unit_test(test_an_order_above_sixteen_pages_is_refused_with_nothing_allocated),
		cmocka_unit_test(test_raw_bytes_land_in_the_next_slot_unvalidated),
		cmocka_unit_test(test_req_prod_takes_any_value),
		cmocka_unit_test(test_notify_reaches_the_bound_port_and_needs_one),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
