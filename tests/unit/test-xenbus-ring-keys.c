/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: the framework's ring key readers against pvsim's xenstored.
 * The guest writes the keys of each layout into its frontend directory
 * through libpvfront; the readers run on the backend loop against the
 * device of a fake backend (t_backend_run):
 *   - grant refs: ring-ref (order 0) or ring-ref0..N-1 (order > 0), under
 *     "" or "queue-N/", with the netif (tx-/rx-ring-ref) and usbif
 *     (urb-/conn-ring-ref) names;
 *   - event channels: event-channel, or the split event-channel-tx/-rx pair;
 *   - multi-queue-num-queues: absent = 1, bounded by 1 and a maximum;
 * and the hostile values: non-numeric, signed, hex, beyond 32 bits, one of
 * N refs missing, half a split pair, an order above the maximum.  A failed
 * read names its key (pv_xb_dev_failed_key).  No sleeps: each read is a
 * call on the backend loop the test waits for.
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
static struct t_front tf; /* one vif, in InitWait for the whole group */

static struct pv_xb_backend_ops vif_ops;

enum what { GREFS, EVTCHNS, NR_QUEUES };

struct query {
	enum what what;
	const char *dir, *name;
	unsigned order;     /* GREFS */
	bool split;         /* EVTCHNS */
	unsigned max;       /* NR_QUEUES */
	int rc;             /* results */
	uint32_t v[1u << (PV_XB_RING_ORDER_MAX + 1)];
	unsigned nr_queues;
	char failed[64];
};

static int setup(void **state)
{
	const struct pv_xb_backend_ops *ops[] = { &vif_ops };
	void *ctx[] = { &fake };

	vif_ops = t_fake_ops("vif", false);

	if (t_backend_setup(&tb, &sim, "pvxbrings", 1, ops, ctx) ||
	    t_front_open(&tf, &sim, "guest", sim.guest, "vif", ""))
		return -1;
	return pvfront_wait_backend(tf.f, PVFRONT_STATE(XenbusStateInitWait), T_WAIT_MS) ==
		       XenbusStateInitWait ? 0 : -1;
}

static int teardown(void **state)
{
	t_front_close(&tf);
	t_backend_teardown(&tb, &sim);
	return 0;
}

/* On the backend loop. */
static void run_query(void *opaque)
{
	struct query *q = opaque;
	struct pv_xb_dev *dev = t_fake_dev(&fake);

	switch (q->what) {
	case GREFS:
		q->rc = pv_xb_dev_read_grefs(dev, q->dir, q->name, q->order, q->v);
		break;
	case EVTCHNS:
		q->rc = pv_xb_dev_read_evtchns(dev, q->dir, q->name, q->split, q->v);
		break;
	case NR_QUEUES:
		q->rc = pv_xb_dev_read_nr_queues(dev, q->max, &q->nr_queues);
		break;
	}
	snprintf(q->failed, sizeof(q->failed), "%s", q->rc < 0 ? pv_xb_dev_failed_key(dev) : "");
}

static struct query ask(struct query q)
{
	assert_int_equal(t_backend_run(&tb, run_query, &q), 0);
	return q;
}

static struct query grefs(const char *dir, const char *name, unsigned order)
{
	return ask((struct query){ .what = GREFS, .dir = dir, .name = name, .order = order });
}

static struct query evtchns(const char *dir, bool split)
{
	return ask((struct query){ .what = EVTCHNS, .dir = dir, .name = "event-channel",
				   .split = split });
}

static struct query nr_queues(unsigned max)
{
	return ask((struct query){ .what = NR_QUEUES, .max = max });
}

/* The guest writes (val) or removes (NULL) a key of its directory. */
static void put(const char *key, const char *val)
{
	if (val)
		assert_int_equal(pvfront_printf(tf.f, 0, key, "%s", val), 0);
	else
		pvfront_rm(tf.f, 0, key);
}

static void assert_fails(struct query q, int rc, const char *key)
{
	assert_int_equal(q.rc, rc);
	assert_string_equal(q.failed, key);
}

static void test_an_order_zero_ring_is_its_single_ring_ref_key(void **state)
{
	struct query q;

	put("ring-ref", "8");
	q = grefs("", "ring-ref", 0);
	assert_int_equal(q.rc, 0);
	assert_int_equal(q.v[0], 8);
	/* ring-ref0 is not the order-0 key. */
	put("ring-ref", NULL);
	put("ring-ref0", "9");
	assert_fails(grefs("", "ring-ref", 0), -ENOENT, "ring-ref");
}

static void test_an_order_two_ring_is_ring_ref0_to_ring_ref3_under_its_queue_directory(void **state)
{
	struct query q;

	put("queue-1/ring-ref0", "100");
	put("queue-1/ring-ref1", "101");
	put("queue-1/ring-ref2", "102");
	put("queue-1/ring-ref3", "4294967295");
	q = grefs("queue-1/", "ring-ref", 2);
	assert_int_equal(q.rc, 0);
	assert_int_equal(q.v[0], 100);
	assert_int_equal(q.v[1], 101);
	assert_int_equal(q.v[2], 102);
	assert_int_equal(q.v[3], UINT32_MAX);
}

static void test_a_missing_one_of_n_ring_refs_fails_naming_that_key(void **state)
{
	put("queue-2/ring-ref0", "1");
	put("queue-2/ring-ref1", "2");
	put("queue-2/ring-ref3", "4");
	assert_fails(grefs("queue-2/", "ring-ref", 2), -ENOENT, "queue-2/ring-ref2");
}

static void test_a_non_numeric_signed_hex_or_too_large_ring_ref_fails_with_einval(void **state)
{
	static const char *const bad[] = { "ref", "0x10", "-1", " 7", "7 ", "+7", "",
					   "4294967296", "99999999999999999999" };

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put("queue-3/ring-ref", bad[i]);
		assert_fails(grefs("queue-3/", "ring-ref", 0), -EINVAL, "queue-3/ring-ref");
	}
}

static void test_an_order_above_the_maximum_is_refused(void **state)
{
	assert_fails(grefs("", "ring-ref", PV_XB_RING_ORDER_MAX + 1), -EINVAL, "ring-ref");
}

static void test_netif_and_usbif_ring_names_read_their_own_keys(void **state)
{
	static const struct { const char *dir, *name, *val; } rings[] = {
		{ "queue-0/", "tx-ring-ref", "11" }, { "queue-0/", "rx-ring-ref", "12" },
		{ "", "urb-ring-ref", "13" }, { "", "conn-ring-ref", "14" },
	};
	char key[64];

	for (unsigned i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "%s%s", rings[i].dir, rings[i].name);
		put(key, rings[i].val);
	}
	for (unsigned i = 0; i < 4; i++) {
		struct query q = grefs(rings[i].dir, rings[i].name, 0);

		assert_int_equal(q.rc, 0);
		assert_int_equal(q.v[0], 11 + i);
	}
}

static void test_a_single_event_channel_is_one_port_with_or_without_split(void **state)
{
	struct query q;

	put("event-channel", "5");
	q = evtchns("", false);
	assert_int_equal(q.rc, 1);
	assert_int_equal(q.v[0], 5);
	q = evtchns("", true);
	assert_int_equal(q.rc, 1);
	assert_int_equal(q.v[0], 5);
}

static void test_a_split_event_channel_pair_is_two_ports_only_where_split_is_allowed(void **state)
{
	struct query q;

	put("queue-4/event-channel-tx", "6");
	put("queue-4/event-channel-rx", "7");
	q = evtchns("queue-4/", true);
	assert_int_equal(q.rc, 2);
	assert_int_equal(q.v[0], 6);
	assert_int_equal(q.v[1], 7);
	/* blkif and usbif have no split channels: the pair means nothing. */
	assert_fails(evtchns("queue-4/", false), -ENOENT, "queue-4/event-channel");
	/* The pair wins over a single key, as in Linux netback. */
	put("queue-4/event-channel", "8");
	q = evtchns("queue-4/", true);
	assert_int_equal(q.rc, 2);
	assert_int_equal(q.v[0], 6);
}

static void test_half_a_split_pair_fails_naming_the_missing_half(void **state)
{
	put("queue-5/event-channel-tx", "6");
	put("queue-5/event-channel", "9"); /* no fallback: the frontend is broken */
	assert_fails(evtchns("queue-5/", true), -ENOENT, "queue-5/event-channel-rx");
	put("queue-6/event-channel-rx", "7");
	assert_fails(evtchns("queue-6/", true), -ENOENT, "queue-6/event-channel-tx");
}

static void test_a_bad_event_channel_fails_with_einval_naming_it(void **state)
{
	put("queue-7/event-channel", "five");
	assert_fails(evtchns("queue-7/", false), -EINVAL, "queue-7/event-channel");
	put("queue-8/event-channel-tx", "1x");
	put("queue-8/event-channel-rx", "2");
	assert_fails(evtchns("queue-8/", true), -EINVAL, "queue-8/event-channel-tx");
	put("queue-8/event-channel-tx", "1");
	put("queue-8/event-channel-rx", "4294967296");
	assert_fails(evtchns("queue-8/", true), -EINVAL, "queue-8/event-channel-rx");
	/* No channel at all. */
	assert_fails(evtchns("queue-9/", true), -ENOENT, "queue-9/event-channel");
}

static void test_absent_num_queues_is_one_queue(void **state)
{
	struct query q;

	put("multi-queue-num-queues", NULL);
	q = nr_queues(4);
	assert_int_equal(q.rc, 0);
	assert_int_equal(q.nr_queues, 1);
}

static void test_num_queues_is_bounded_by_one_and_the_maximum(void **state)
{
	static const char *const bad[] = { "0", "5", "-1", "two", "4294967297" };
	struct query q;

	put("multi-queue-num-queues", "4");
	q = nr_queues(4);
	assert_int_equal(q.rc, 0);
	assert_int_equal(q.nr_queues, 4);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put("multi-queue-num-queues", bad[i]);
		assert_fails(nr_queues(4), -EINVAL, "multi-queue-num-queues");
	}
	put("multi-queue-num-queues", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_an_order_zero_ring_is_its_single_ring_ref_key),
		cmocka_unit_test(test_an_order_two_ring_is_ring_ref0_to_ring_ref3_under_its_queue_directory),
		cmocka_unit_test(test_a_missing_one_of_n_ring_refs_fails_naming_that_key),
		cmocka_unit_test(test_a_non_numeric_signed_hex_or_too_large_ring_ref_fails_with_einval),
		cmocka_unit_test(test_an_order_above_the_maximum_is_refused),
		cmocka_unit_test(test_netif_and_usbif_ring_names_read_their_own_keys),
		cmocka_unit_test(test_a_single_event_channel_is_one_port_with_or_without_split),
		cmocka_unit_test(test_a_split_event_channel_pair_is_two_ports_only_where_split_is_allowed),
		cmocka_unit_test(test_half_a_split_pair_fails_naming_the_missing_half),
		cmocka_unit_test(test_a_bad_event_channel_fails_with_einval_naming_it),
		cmocka_unit_test(test_absent_num_queues_is_one_queue),
		cmocka_unit_test(test_num_queues_is_bounded_by_one_and_the_maximum),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
