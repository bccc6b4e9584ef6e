// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: a pv_queue (common/queue.c) with two rings, as netif's tx
 * and rx: with split event channels each ring is kicked by its own port,
 * the protocol hears which one fired, and only the port of the ring that
 * got responses is notified; with both rings on one port, responses on
 * both rings in one flush notify that port once.  A fake protocol on the
 * in-process pvsim.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hv-harness.h"
#include "queue-fake.h"

/* The start is behind us: the kick ran, and so did the event a bind
 * leaves pending on each port (Xen's bind_interdomain notifies). */
static bool started(struct fq_backend *b, void *arg)
{
	struct pv_queue_ring_info tx, rx;

	pv_queue_info(b->q, 0, &tx);
	pv_queue_info(b->q, 1, &rx);
	return __atomic_load_n(&b->events, __ATOMIC_SEQ_CST) == PV_QUEUE_KICK && tx.events &&
	       rx.events;
}

static bool both_consumed(struct fq_backend *b, void *arg)
{
	struct fq_cons c0 = {0, 2}, c1 = {1, 2};

	return fq_consumed(b, &c0) && fq_consumed(b, &c1);
}

static void test_each_ring_is_kicked_by_its_own_port_and_notifies_it(void **state)
{
	struct fq_fixture *f = *state;
	struct fq_cons c = {1, 3};
	struct pv_queue_ring_info tx, rx;
	uint64_t ids[8];

	struct pv_queue_ring_info tx0, rx0;

	assert_int_equal(fq_fixture_open(f, 2, 2), 0);
	assert_int_equal(pv_queue_start(&fq_ops, &f->p, &f->q), 0);
	/* The start runs everything; from then on only what fires. */
	assert_int_equal(fq_wait(&f->be, started, NULL), 0);
	__atomic_store_n(&f->be.events, 0, __ATOMIC_SEQ_CST);
	pv_queue_info(f->q, 0, &tx0);
	pv_queue_info(f->q, 1, &rx0);

	fq_push(&f->front[1], 40, 3, FQ_ANSWER);
	assert_int_equal(pv_hv_evtchn_notify(f->guest, (uint32_t)f->front[1].port), 0);
	assert_int_equal(fq_wait(&f->be, fq_consumed, &c), 0);
	assert_int_equal(__atomic_load_n(&f->be.events, __ATOMIC_SEQ_CST), 1u << 1);

	/* The guest hears the rx port, once, and not the tx port. */
	assert_int_equal(t_wait_readable(pv_hv_evtchn_fd(f->guest), 5000), 1);
	assert_int_equal(pv_hv_evtchn_pending(f->guest), f->front[1].port);
	assert_int_equal(pv_hv_evtchn_pending(f->guest), -EAGAIN);
	assert_int_equal(pv_hv_evtchn_unmask(f->guest, (uint32_t)f->front[1].port), 0);
	assert_int_equal(fq_take(&f->front[1], 1, ids, 8), 3);
	assert_int_equal(ids[2], 42);
	assert_int_equal(fq_take(&f->front[0], 0, ids, 8), 0);

	pv_queue_info(f->q, 0, &tx);
	pv_queue_info(f->q, 1, &rx);
	assert_int_equal(tx.events - tx0.events, 0);
	assert_int_equal(tx.notifies, 0);
	assert_int_equal(rx.events - rx0.events, 1);
	assert_int_equal(rx.notifies, 1);
	pv_queue_stop(f->q);
}

static void test_two_rings_on_one_port_notify_it_once_per_flush(void **state)
{
	struct fq_fixture *f = *state;
	struct pv_queue_ring_info tx, rx;
	uint64_t ids[8];

	assert_int_equal(fq_fixture_open(f, 2, 1), 0);
	assert_int_equal(pv_queue_start(&fq_ops, &f->p, &f->q), 0);
	assert_int_equal(fq_wait(&f->be, started, NULL), 0);

	fq_push(&f->front[0], 1, 2, FQ_ANSWER);
	fq_push(&f->front[1], 11, 2, FQ_ANSWER);
	assert_int_equal(pv_hv_evtchn_notify(f->guest, (uint32_t)f->front[0].port), 0);
	assert_int_equal(fq_wait(&f->be, both_consumed, NULL), 0);
	assert_int_equal(fq_take(&f->front[0], 0, ids, 8), 2);
	assert_int_equal(fq_take(&f->front[1], 1, ids, 8), 2);
	pv_queue_info(f->q, 0, &tx);
	pv_queue_info(f->q, 1, &rx);
	assert_int_equal(tx.notifies, 1);
	assert_int_equal(rx.notifies, 1);
	pv_queue_stop(f->q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_each_ring_is_kicked_by_its_own_port_and_notifies_it,
				      fq_teardown),
	    cmocka_unit_test_teardown(test_two_rings_on_one_port_notify_it_once_per_flush,
				      fq_teardown),
	};

	pv_log_init("test-queue", false, PV_LOG_WARN);
	return cmocka_run_group_tests(tests, fq_group_setup, fq_group_teardown);
}
