// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: pv_queue's stop protocol (common/queue.c), with a fake
 * protocol on the in-process pvsim: a stop answers every request the
 * frontend pushed before it, also ones it never notified; it waits for
 * requests still in flight on the host side and answers them; requests
 * pushed after the stop are not consumed; and a queue that answered
 * everything leaves no journal behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "queue-fake.h"

static void test_a_stop_answers_requests_pushed_without_a_notify(void **state)
{
	struct fq_fixture *f = *state;
	uint64_t ids[8];
	int i;

	fq_push(&f->front[0], 0, 5, FQ_ANSWER); /* never notified */
	pv_queue_stop(f->q);
	assert_int_equal(fq_take(&f->front[0], 0, ids, 8), 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(ids[i], i);
	/* Everything answered: nothing owed, no journal left. */
	assert_false(fq_journal_exists(f, "fake-1-0-q0.journal"));
}

static void test_a_stop_waits_for_requests_in_flight_and_answers_them(void **state)
{
	struct fq_fixture *f = *state;
	struct fq_cons c = {0, 3};
	uint64_t ids[8];

	fq_push(&f->front[0], 10, 3, FQ_HOLD);
	assert_int_equal(pv_hv_evtchn_notify(f->guest, (uint32_t)f->front[0].port), 0);
	assert_int_equal(fq_wait(&f->be, fq_consumed, &c), 0);
	assert_int_equal(fq_stop_begin(f), 0);
	/* Stopping, and the held ones are not answered yet. */
	assert_int_equal(fq_take(&f->front[0], 0, ids, 8), 0);
	assert_int_equal(fq_release(&f->be), 0);
	assert_int_equal(fq_stop_end(f), 0);
	assert_int_equal(fq_take(&f->front[0], 0, ids, 8), 3);
	assert_int_equal(ids[0], 10);
	assert_int_equal(ids[2], 12);
}

static void test_requests_pushed_after_the_stop_are_not_consumed(void **state)
{
	struct fq_fixture *f = *state;
	uint64_t ids[8];

	fq_push(&f->front[0], 20, 2, FQ_ANSWER);
	/* The first run after the stop pushes 4 more: too late. */
	f->be.late = &f->front[0];
	f->be.late_n = 4;
	pv_queue_stop(f->q);
	assert_int_equal(fq_take(&f->front[0], 0, ids, 8), 2);
	assert_int_equal(ids[0], 20);
	assert_int_equal(ids[1], 21);
	assert_int_equal(f->front[0].ring.sring->req_prod, 6);
	assert_int_equal(f->front[0].ring.sring->rsp_prod, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_a_stop_answers_requests_pushed_without_a_notify,
					    fq_setup_one_ring, fq_teardown),
	    cmocka_unit_test_setup_teardown(
		test_a_stop_waits_for_requests_in_flight_and_answers_them, fq_setup_one_ring,
		fq_teardown),
	    cmocka_unit_test_setup_teardown(test_requests_pushed_after_the_stop_are_not_consumed,
					    fq_setup_one_ring, fq_teardown),
	};

	pv_log_init("test-queue", false, PV_LOG_WARN);
	return cmocka_run_group_tests(tests, fq_group_setup, fq_group_teardown);
}
