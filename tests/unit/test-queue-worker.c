// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: pv_queues on a polling pv_worker (common/worker.c), with the
 * fake protocol on the in-process pvsim: requests the frontend pushed
 * without a notify are served by polling; while the worker polls, req_event
 * stays behind so the frontend need not notify; an idle worker arms the
 * rings and an event wakes it; two queues share one worker, and a stop or a
 * dead queue on it leaves the other serving.
 */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "queue-fake.h"

#define LONG_SPIN_US 60000000u /* a minute: the worker polls through the test */

static struct pv_worker *worker_start(unsigned spin_us, unsigned max_sleep_us)
{
	struct pv_worker_params wp = { .name = "fqpoll", .cpu = -1, .spin_us = spin_us,
				       .max_sleep_us = max_sleep_us };
	struct pv_worker *w = NULL;

	assert_int_equal(pv_worker_start(&wp, &w), 0);
	return w;
}

/* A second fixture on the group's guest. */
static void fixture_on(struct fq_fixture *g, const struct fq_fixture *f, struct pv_worker *w)
{
	memset(g, 0, sizeof(*g));
	g->hv_fixture = f->hv_fixture;
	g->guest = f->guest;
	assert_int_equal(fq_fixture_open(g, 1, 1), 0);
	g->p.worker = w;
	assert_int_equal(pv_queue_start(&fq_ops, &g->p, &g->q), 0);
}

/* Push n requests; returns whether the frontend would notify. */
static bool push(struct fq_front *fr, uint64_t id0, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		struct fq_req *req = pv_ring_front_req_slot(&fr->ring);

		req->id = id0 + i;
		req->op = FQ_ANSWER;
	}
	return pv_ring_front_push(&fr->ring);
}

/* The n responses from id0 on: consumed is not answered yet (the run's
 * flush pushes them), so they are waited for, bounded. */
static void expect_responses(struct fq_front *fr, uint64_t id0, int n)
{
	uint64_t end = pv_now_ns() + 5000000000ull, ids[64];
	int i;

	while (pv_ring_front_avail(&fr->ring) < n && pv_now_ns() < end)
		sched_yield();
	assert_int_equal(fq_take(fr, 0, ids, 64), n);
	for (i = 0; i < n; i++)
		assert_int_equal(ids[i], id0 + i);
}

/* Bounded wait for a condition no queue run announces (the worker arming). */
static bool armed(struct fq_front *fr, uint32_t cons)
{
	uint64_t end = pv_now_ns() + 5000000000ull;

	while (pv_now_ns() < end) {
		if (__atomic_load_n(&fr->ring.sring->req_event, __ATOMIC_ACQUIRE) == cons + 1)
			return true;
		sched_yield();
	}
	return false;
}

/* Bounded wait until the worker has gone to sleep n times: it arms the
 * rings first, so armed() may see them before the sleep is counted. */
static bool slept(struct pv_worker *w, uint64_t n)
{
	uint64_t end = pv_now_ns() + 5000000000ull, rounds, busy, sleeps;

	while (pv_now_ns() < end) {
		pv_worker_stats(w, &rounds, &busy, &sleeps);
		if (sleeps >= n)
			return true;
		sched_yield();
	}
	return false;
}

static void test_requests_pushed_without_a_notify_are_served_by_polling(void **state)
{
	struct pv_worker *w = worker_start(LONG_SPIN_US, 1000);
	struct fq_fixture g;
	struct fq_cons c = { 0, 5 };

	fixture_on(&g, *state, w);
	push(&g.front[0], 0, 5); /* never notified */
	assert_int_equal(fq_wait(&g.be, fq_consumed, &c), 0);
	expect_responses(&g.front[0], 0, 5);
	assert_int_equal(pv_worker_load(w), 1);
	pv_queue_stop(g.q);
	assert_int_equal(pv_worker_load(w), 0);
	fq_fixture_close(&g);
	pv_worker_stop(w);
}

static void test_while_the_worker_polls_the_frontend_need_not_notify(void **state)
{
	struct pv_worker *w = worker_start(LONG_SPIN_US, 1000);
	struct fq_fixture g;
	struct fq_cons c = { 0, 8 };

	fixture_on(&g, *state, w);
	push(&g.front[0], 0, 4);
	c.n = 4;
	assert_int_equal(fq_wait(&g.be, fq_consumed, &c), 0);
	/* The queue consumed 4 and left req_event where it was. */
	assert_int_not_equal(g.front[0].ring.sring->req_event, 5);
	assert_false(push(&g.front[0], 4, 4));
	c.n = 8;
	assert_int_equal(fq_wait(&g.be, fq_consumed, &c), 0);
	expect_responses(&g.front[0], 0, 8);
	pv_queue_stop(g.q);
	fq_fixture_close(&g);
	pv_worker_stop(w);
}

static void test_an_idle_worker_arms_the_rings_and_an_event_wakes_it(void **state)
{
	struct pv_worker *w = worker_start(0, 0); /* no spin; sleeps until an fd fires */
	struct fq_fixture g;
	struct fq_cons c = { 0, 3 };
	uint64_t rounds, busy, sleeps;

	fixture_on(&g, *state, w);
	assert_true(armed(&g.front[0], 0));
	assert_true(slept(w, 1)); /* idle: asleep until an fd fires */
	pv_worker_stats(w, &rounds, &busy, &sleeps);
	assert_true(push(&g.front[0], 0, 3)); /* armed: the frontend notifies */
	assert_int_equal(pv_hv_evtchn_notify(g.guest, (uint32_t)g.front[0].port), 0);
	assert_int_equal(fq_wait(&g.be, fq_consumed, &c), 0);
	expect_responses(&g.front[0], 0, 3);
	assert_true(armed(&g.front[0], 3));
	/* The event woke it; served, it sleeps again. */
	assert_true(slept(w, sleeps + 1));
	pv_queue_stop(g.q);
	fq_fixture_close(&g);
	pv_worker_stop(w);
}

static void test_a_stop_on_a_shared_worker_leaves_the_other_queue_serving(void **state)
{
	struct pv_worker *w = worker_start(LONG_SPIN_US, 1000);
	struct fq_fixture a, b;
	struct fq_cons c = { 0, 2 };
	uint64_t ids[8];

	fixture_on(&a, *state, w);
	fixture_on(&b, *state, w);
	assert_int_equal(pv_worker_load(w), 2);
	fq_push(&a.front[0], 10, 2, FQ_HOLD);
	assert_int_equal(fq_wait(&a.be, fq_consumed, &c), 0);
	/* A's stop waits for its held requests; B serves meanwhile. */
	assert_int_equal(fq_stop_begin(&a), 0);
	push(&b.front[0], 0, 3);
	c.n = 3;
	assert_int_equal(fq_wait(&b.be, fq_consumed, &c), 0);
	expect_responses(&b.front[0], 0, 3);
	assert_int_equal(fq_release(&a.be), 0);
	assert_int_equal(fq_stop_end(&a), 0);
	assert_int_equal(fq_take(&a.front[0], 0, ids, 8), 2);
	assert_int_equal(ids[0], 10);
	assert_int_equal(pv_worker_load(w), 1);
	push(&b.front[0], 3, 2);
	c.n = 5;
	assert_int_equal(fq_wait(&b.be, fq_consumed, &c), 0);
	expect_responses(&b.front[0], 3, 2);
	pv_queue_stop(b.q);
	fq_fixture_close(&a);
	fq_fixture_close(&b);
	pv_worker_stop(w);
}

static bool dead(struct fq_backend *b, void *arg)
{
	struct pv_queue_ring_info ri;

	pv_queue_info(b->q, 0, &ri);
	return ri.dead;
}

static void test_a_queue_killed_by_its_frontend_does_not_stall_the_worker(void **state)
{
	struct pv_worker *w = worker_start(LONG_SPIN_US, 1000);
	struct fq_fixture a, b;
	struct fq_cons c = { 0, 4 };
	volatile struct pv_sring_hdr *s;

	fixture_on(&a, *state, w);
	fixture_on(&b, *state, w);
	s = a.front[0].ring.sring;
	s->req_prod = s->rsp_prod + a.front[0].ring.nr_ents + 1; /* overflow */
	assert_int_equal(fq_wait(&a.be, dead, NULL), 0);
	push(&b.front[0], 0, 4);
	assert_int_equal(fq_wait(&b.be, fq_consumed, &c), 0);
	expect_responses(&b.front[0], 0, 4);
	pv_queue_stop(a.q);
	pv_queue_stop(b.q);
	fq_fixture_close(&a);
	fq_fixture_close(&b);
	pv_worker_stop(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests_pushed_without_a_notify_are_served_by_polling),
		cmocka_unit_test(test_while_the_worker_polls_the_frontend_need_not_notify),
		cmocka_unit_test(test_an_idle_worker_arms_the_rings_and_an_event_wakes_it),
		cmocka_unit_test(test_a_stop_on_a_shared_worker_leaves_the_other_queue_serving),
		cmocka_unit_test(test_a_queue_killed_by_its_frontend_does_not_stall_the_worker),
	};

	return cmocka_run_group_tests(tests, fq_group_setup, fq_group_teardown);
}
