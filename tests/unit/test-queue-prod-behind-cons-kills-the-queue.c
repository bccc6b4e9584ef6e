// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: a frontend that moves req_prod back below what the queue
 * already consumed, while those requests are still in flight, commits a
 * protocol violation (issue 13, a case of tests/fuzz/fuzz-blk-queue.c):
 * such a req_prod is within a ring of rsp_prod_pvt, so
 * RING_REQUEST_PROD_OVERFLOW alone lets it through, but
 * pv_ring_back_avail's count (req_prod - req_cons) is negative.  The queue
 * dies consuming nothing beyond the producer (no more responses than
 * requests pushed), and a stop begun then does not take req_prod as its
 * limit below req_cons (it would go round the index space, 2^32
 * requests): it ends once what was in flight is answered.  A fake
 * protocol on the in-process pvsim.
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

/* Four requests held in flight, then req_prod back to 2: within a ring
 * of rsp_prod_pvt (0), behind req_cons (4). */
static void push_four_then_move_back(struct fq_fixture *f, bool notify)
{
	struct fq_cons c = {0, 4};

	fq_push(&f->front[0], 10, 4, FQ_HOLD);
	assert_int_equal(pv_hv_evtchn_notify(f->guest, (uint32_t)f->front[0].port), 0);
	assert_int_equal(fq_wait(&f->be, fq_consumed, &c), 0);
	f->front[0].ring.sring->req_prod = 2;
	if (notify)
		assert_int_equal(pv_hv_evtchn_notify(f->guest, (uint32_t)f->front[0].port), 0);
}

static void expect_the_four_answered(struct fq_fixture *f)
{
	uint64_t ids[8];
	int i;

	assert_int_equal(f->front[0].ring.sring->rsp_prod, 4);
	assert_int_equal(fq_take(&f->front[0], 0, ids, 8), 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(ids[i], 10 + i);
}

static void test_req_prod_moved_back_under_requests_in_flight_kills_the_queue(void **state)
{
	struct fq_fixture *f = *state;
	struct pv_queue_ring_info ri;

	push_four_then_move_back(f, true);
	assert_int_equal(fq_wait(&f->be, dead, NULL), 0);
	pv_queue_info(f->q, 0, &ri);
	assert_int_equal(ri.req_cons, 4);
	assert_int_equal(ri.rsp_prod, 0);
	assert_int_equal(fq_stop_begin(f), 0);
	assert_int_equal(fq_release(&f->be), 0);
	assert_int_equal(fq_stop_end(f), 0);
	expect_the_four_answered(f);
}

static void on_stopped(void *opaque)
{
	*(bool *)opaque = true;
}

static void test_a_stop_with_req_prod_behind_the_consumer_ends(void **state)
{
	struct fq_fixture *f = *state;
	struct pv_loop *home;
	bool done = false;
	int rounds;

	assert_int_equal(pv_loop_create(&home), 0);
	push_four_then_move_back(f, false);
	assert_int_equal(pv_queue_stop_begin(f->q, home, on_stopped, &done), 0);
	assert_int_equal(fq_release(&f->be), 0);
	/* Bounded: with req_prod as its limit it would go on for 2^32 requests. */
	for (rounds = 0; !done && rounds < 10; rounds++)
		assert_true(pv_loop_run_once(home, 1000) >= 0);
	assert_true(done);
	pv_queue_stop(f->q);
	pv_loop_destroy(home);
	expect_the_four_answered(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		test_req_prod_moved_back_under_requests_in_flight_kills_the_queue,
		fq_setup_one_ring, fq_teardown),
	    cmocka_unit_test_setup_teardown(test_a_stop_with_req_prod_behind_the_consumer_ends,
					    fq_setup_one_ring, fq_teardown),
	};

	/* The violations are expected: ERR lines only. */
	pv_log_init("test-queue", false, PV_LOG_ERR);
	return cmocka_run_group_tests(tests, fq_group_setup, fq_group_teardown);
}
