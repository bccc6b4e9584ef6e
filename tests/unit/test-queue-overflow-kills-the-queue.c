// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: a frontend that moves req_prod beyond the free slots
 * (RING_REQUEST_PROD_OVERFLOW) is a protocol violation to pv_queue
 * (common/queue.c): the queue is dead, no further request of that ring
 * is consumed, what was already in flight is still answered, and the
 * queue still stops.  A fake protocol on the in-process pvsim.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "queue-fake.h"

static bool dead(struct fq_backend *b, void *arg)
{
	struct pv_queue_ring_info ri;

	pv_queue_info(b->q, 0, &ri);
	return ri.dead;
}

/* req_prod one beyond what the ring can hold given what we answered. */
static void overflow(struct fq_fixture *f)
{
	volatile struct pv_sring_hdr *s = f->front[0].ring.sring;

	s->req_prod = s->rsp_prod + f->front[0].ring.nr_ents + 1;
	assert_int_equal(pv_hv_evtchn_notify(f->guest, (uint32_t)f->front[0].port), 0);
}

static void test_an_overflow_kills_the_queue_and_nothing_more_is_consumed(void **state)
{
	struct fq_fixture *f = *state;
	struct fq_cons c = {0, 2};
	struct pv_queue_ring_info ri;
	uint64_t ids[8];

	fq_push(&f->front[0], 0, 2, FQ_ANSWER);
	assert_int_equal(pv_hv_evtchn_notify(f->guest, (uint32_t)f->front[0].port), 0);
	assert_int_equal(fq_wait(&f->be, fq_consumed, &c), 0);
	assert_int_equal(fq_take(&f->front[0], 0, ids, 8), 2);
	overflow(f);
	assert_int_equal(fq_wait(&f->be, dead, NULL), 0);
	pv_queue_info(f->q, 0, &ri);
	assert_int_equal(ri.req_cons, 2);
	assert_int_equal(ri.rsp_prod, 2);
	pv_queue_stop(f->q);
	assert_int_equal(f->front[0].ring.sring->rsp_prod, 2);
}

static void test_a_dead_queue_still_answers_what_was_in_flight(void **state)
{
	struct fq_fixture *f = *state;
	struct fq_cons c = {0, 3};
	uint64_t ids[8];

	fq_push(&f->front[0], 5, 3, FQ_HOLD);
	assert_int_equal(pv_hv_evtchn_notify(f->guest, (uint32_t)f->front[0].port), 0);
	assert_int_equal(fq_wait(&f->be, fq_consumed, &c), 0);
	overflow(f);
	assert_int_equal(fq_wait(&f->be, dead, NULL), 0);
	assert_int_equal(fq_stop_begin(f), 0);
	assert_int_equal(fq_release(&f->be), 0);
	assert_int_equal(fq_stop_end(f), 0);
	assert_int_equal(fq_take(&f->front[0], 0, ids, 8), 3);
	assert_int_equal(ids[0], 5);
	assert_int_equal(ids[2], 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		test_an_overflow_kills_the_queue_and_nothing_more_is_consumed, fq_setup_one_ring,
		fq_teardown),
	    cmocka_unit_test_setup_teardown(test_a_dead_queue_still_answers_what_was_in_flight,
					    fq_setup_one_ring, fq_teardown),
	};

	/* The violations are expected: ERR lines only. */
	pv_log_init("test-queue", false, PV_LOG_ERR);
	return cmocka_run_group_tests(tests, fq_group_setup, fq_group_teardown);
}
