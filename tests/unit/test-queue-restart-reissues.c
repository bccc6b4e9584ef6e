// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: restart through pv_queue's journal (common/queue.c): a
 * queue that ends with requests it never answered (as a killed daemon
 * would) leaves its journal; a successor that re-attaches to the live ring
 * re-issues exactly those requests, in ring order, answers each once, and
 * goes on consuming where its predecessor stopped; once it has answered
 * everything its stop removes the journal.  A fake protocol on the
 * in-process pvsim.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "queue-fake.h"

#define JOURNAL "fake-1-0-q0.journal"

static bool two_answered(struct fq_backend *b, void *arg)
{
	return __atomic_load_n(&b->answered, __ATOMIC_SEQ_CST) >= 2;
}

static void test_a_successor_reissues_what_was_unanswered_once_in_order(void **state)
{
	struct fq_fixture *f = *state;
	struct fq_cons c = {0, 4}, c6 = {0, 6};
	uint64_t ids[8];
	int i;

	assert_int_equal(fq_fixture_open(f, 1, 1), 0);
	assert_int_equal(pv_queue_start(&fq_ops, &f->p, &f->q), 0);
	for (i = 0; i < 4; i++) /* 0 and 2 answered, 1 and 3 held */
		fq_push(&f->front[0], (uint64_t)i, 1, i & 1 ? FQ_HOLD : FQ_ANSWER);
	assert_int_equal(pv_hv_evtchn_notify(f->guest, (uint32_t)f->front[0].port), 0);
	assert_int_equal(fq_wait(&f->be, fq_consumed, &c), 0);
	assert_int_equal(fq_take(&f->front[0], 0, ids, 8), 2);
	assert_int_equal(ids[0], 0);
	assert_int_equal(ids[1], 2);

	/* The predecessor goes without answering 1 and 3 (as if killed). */
	f->be.idle_while_holding = true;
	pv_queue_stop(f->q);
	assert_true(fq_journal_exists(f, JOURNAL));

	/* The successor: same ring, re-attached at the live indexes. */
	fq_backend_fini(&f->be);
	assert_int_equal(fq_backend_init(&f->be), 0);
	f->be.hold_none = true;
	f->p.priv = &f->be;
	f->p.resume = true;
	assert_int_equal(pv_queue_start(&fq_ops, &f->p, &f->q), 0);
	assert_int_equal(fq_wait(&f->be, two_answered, NULL), 0);
	assert_int_equal(fq_take(&f->front[0], 0, ids, 8), 2);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[1], 3);
	/* Consuming goes on at index 4. */
	fq_push(&f->front[0], 4, 2, FQ_ANSWER);
	assert_int_equal(pv_hv_evtchn_notify(f->guest, (uint32_t)f->front[0].port), 0);
	assert_int_equal(fq_wait(&f->be, fq_consumed, &c6), 0);
	pv_queue_stop(f->q);
	assert_int_equal(fq_take(&f->front[0], 0, ids, 8), 2);
	assert_int_equal(ids[0], 4);
	assert_int_equal(ids[1], 5);
	assert_int_equal(f->be.answered, 4);
	assert_false(fq_journal_exists(f, JOURNAL));
}

static void test_without_a_journal_a_successor_resumes_at_rsp_prod(void **state)
{
	struct fq_fixture *f = *state;
	struct fq_cons c = {0, 3};
	uint64_t ids[8];

	assert_int_equal(fq_fixture_open(f, 1, 1), 0);
	f->p.journal_dir = NULL;
	assert_int_equal(pv_queue_start(&fq_ops, &f->p, &f->q), 0);
	fq_push(&f->front[0], 0, 3, FQ_ANSWER);
	assert_int_equal(pv_hv_evtchn_notify(f->guest, (uint32_t)f->front[0].port), 0);
	assert_int_equal(fq_wait(&f->be, fq_consumed, &c), 0);
	pv_queue_stop(f->q);
	assert_int_equal(fq_take(&f->front[0], 0, ids, 8), 3);

	f->p.resume = true;
	assert_int_equal(pv_queue_start(&fq_ops, &f->p, &f->q), 0);
	fq_push(&f->front[0], 3, 1, FQ_ANSWER);
	assert_int_equal(pv_hv_evtchn_notify(f->guest, (uint32_t)f->front[0].port), 0);
	c.n = 4;
	assert_int_equal(fq_wait(&f->be, fq_consumed, &c), 0);
	pv_queue_stop(f->q);
	assert_int_equal(fq_take(&f->front[0], 0, ids, 8), 1);
	assert_int_equal(ids[0], 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_a_successor_reissues_what_was_unanswered_once_in_order,
				      fq_teardown),
	    cmocka_unit_test_teardown(test_without_a_journal_a_successor_resumes_at_rsp_prod,
				      fq_teardown),
	};

	pv_log_init("test-queue", false, PV_LOG_WARN);
	return cmocka_run_group_tests(tests, fq_group_setup, fq_group_teardown);
}
