/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: event storms (XSA-391, issue 13): a guest that notifies
 * without pushing requests cannot keep a queue thread busy.  Events that
 * bring no new request are counted (ring_events_spurious); after
 * PV_QUEUE_STORM_STREAK of them in a row the port stays masked for a
 * growing while (ring_events_delayed), which a flood of notifications then
 * cannot shorten: they coalesce into one event per delay.  A request still
 * gets through and is answered, and it ends the storm state.  A fake
 * protocol on the in-process pvsim; waits on the queue thread's runs, never
 * on time.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hv-harness.h"
#include "queue-fake.h"

static bool started(struct fq_backend *b, void *arg)
{
	struct pv_queue_ring_info ri;

	pv_queue_info(b->q, 0, &ri);
	return ri.events > 0;
}

static bool events_beyond(struct fq_backend *b, void *arg)
{
	struct pv_queue_ring_info ri;

	pv_queue_info(b->q, 0, &ri);
	return ri.events > *(uint64_t *)arg;
}

/* Notify without a request and wait until the queue heard it. */
static void empty_kick(struct fq_fixture *f)
{
	struct pv_queue_ring_info ri;

	pv_queue_info(f->q, 0, &ri);
	assert_int_equal(pv_hv_evtchn_notify(f->guest, (uint32_t)f->front[0].port), 0);
	assert_int_equal(fq_wait(&f->be, events_beyond, &ri.events), 0);
}

static void info(struct fq_fixture *f, struct pv_queue_ring_info *ri)
{
	pv_queue_info(f->q, 0, ri);
}

static void test_a_storm_is_held_masked_and_a_request_ends_it(void **state)
{
	struct fq_fixture *f = *state;
	struct pv_queue_ring_info ri, before;
	struct fq_cons c = {0, 1};
	uint64_t ids[4];
	unsigned i;

	assert_int_equal(fq_fixture_open(f, 1, 1), 0);
	assert_int_equal(pv_queue_start(&fq_ops, &f->p, &f->q), 0);
	assert_int_equal(fq_wait(&f->be, started, NULL), 0);
	info(f, &before);

	/* The start's events brought nothing either: they began the streak. */
	assert_true(before.spurious < PV_QUEUE_STORM_STREAK - 1);
	for (i = before.spurious; i < PV_QUEUE_STORM_STREAK - 1; i++)
		empty_kick(f);
	info(f, &ri);
	assert_int_equal(ri.spurious, PV_QUEUE_STORM_STREAK - 1);
	assert_int_equal(ri.delayed, 0);
	/* From the streak on, each event holds the port masked. */
	for (i = 0; i < 4; i++)
		empty_kick(f);
	info(f, &ri);
	assert_true(ri.delayed >= 4);

	/* A flood while masked coalesces into single events. */
	before = ri;
	for (i = 0; i < 10000; i++)
		assert_int_equal(pv_hv_evtchn_notify(f->guest, (uint32_t)f->front[0].port), 0);
	empty_kick(f);
	info(f, &ri);
	assert_true(ri.events - before.events < 100);

	/* A request gets through and is answered; the storm is over. */
	fq_push(&f->front[0], 7, 1, FQ_ANSWER);
	assert_int_equal(pv_hv_evtchn_notify(f->guest, (uint32_t)f->front[0].port), 0);
	assert_int_equal(fq_wait(&f->be, fq_consumed, &c), 0);
	assert_int_equal(fq_take(&f->front[0], 0, ids, 4), 1);
	assert_int_equal(ids[0], 7);
	info(f, &before);
	for (i = 0; i < PV_QUEUE_STORM_STREAK - 2; i++)
		empty_kick(f);
	info(f, &ri);
	assert_int_equal(ri.delayed, before.delayed);
	pv_queue_stop(f->q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_a_storm_is_held_masked_and_a_request_ends_it,
				      fq_teardown),
	};

	pv_log_init("test-queue", false, PV_LOG_ERR);
	return cmocka_run_group_tests(tests, fq_group_setup, fq_group_teardown);
}
