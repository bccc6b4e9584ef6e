/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: pv_loop dispatches ready fds to their callbacks, fires one-shot
 * timers in deadline order, drops an event of an fd deleted earlier in the
 * same epoll batch, runs pv_loop_call() callbacks queued from another thread,
 * stops from another thread, and drives the adaptive-polling hook.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <cmocka.h>

#include "pvcommon.h"

struct fd_rec {
	int calls;
	uint32_t events;
	int pipe[2];
};

static void read_cb(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct fd_rec *r = opaque;
	char c;

	r->calls++;
	r->events = events;
	assert_int_equal(read(fd, &c, 1), 1);
}

static void test_ready_fd_is_dispatched_to_its_callback(void **state)
{
	struct pv_loop *loop;
	struct fd_rec r = { 0 };

	assert_int_equal(pv_loop_create(&loop), 0);
	assert_int_equal(pipe(r.pipe), 0);
	assert_int_equal(pv_loop_add_fd(loop, r.pipe[0], PV_LOOP_IN, read_cb, &r), 0);
	assert_int_equal(pv_loop_add_fd(loop, r.pipe[0], PV_LOOP_IN, read_cb, &r), -EEXIST);

	assert_int_equal(pv_loop_run_once(loop, 0), 0);
	assert_int_equal(r.calls, 0);

	assert_int_equal(write(r.pipe[1], "x", 1), 1);
	assert_int_equal(pv_loop_run_once(loop, -1), 1);
	assert_int_equal(r.calls, 1);
	assert_true(r.events & PV_LOOP_IN);

	/* Level-triggered: two bytes, two rounds. */
	assert_int_equal(write(r.pipe[1], "yz", 2), 2);
	assert_int_equal(pv_loop_run_once(loop, -1), 1);
	assert_int_equal(pv_loop_run_once(loop, -1), 1);
	assert_int_equal(r.calls, 3);

	assert_int_equal(pv_loop_del_fd(loop, r.pipe[0]), 0);
	assert_int_equal(pv_loop_del_fd(loop, r.pipe[0]), -ENOENT);
	assert_int_equal(write(r.pipe[1], "x", 1), 1);
	assert_int_equal(pv_loop_run_once(loop, 0), 0);
	assert_int_equal(r.calls, 3);

	close(r.pipe[0]);
	close(r.pipe[1]);
	pv_loop_destroy(loop);
}

static void write_cb(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct fd_rec *r = opaque;

	r->calls++;
	r->events = events;
}

static void test_mod_fd_switches_to_writable_events(void **state)
{
	struct pv_loop *loop;
	struct fd_rec r = { 0 };

	assert_int_equal(pv_loop_create(&loop), 0);
	assert_int_equal(pipe(r.pipe), 0);
	assert_int_equal(pv_loop_mod_fd(loop, r.pipe[1], PV_LOOP_OUT), -ENOENT);
	assert_int_equal(pv_loop_add_fd(loop, r.pipe[1], 0, write_cb, &r), 0);
	assert_int_equal(pv_loop_run_once(loop, 0), 0);
	assert_int_equal(r.calls, 0);
	assert_int_equal(pv_loop_mod_fd(loop, r.pipe[1], PV_LOOP_OUT), 0);
	assert_int_equal(pv_loop_run_once(loop, 0), 1);
	assert_int_equal(r.calls, 1);
	assert_true(r.events & PV_LOOP_OUT);
	assert_int_equal(pv_loop_del_fd(loop, r.pipe[1]), 0);
	close(r.pipe[0]);
	close(r.pipe[1]);
	pv_loop_destroy(loop);
}

/* Two eventfds ready in one batch; whichever runs first deletes the other. */
struct pair {
	struct pv_loop *loop;
	int fd[2];
	int calls[2];
};

static void pair_cb(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct pair *p = opaque;
	int me = fd == p->fd[0] ? 0 : 1;

	p->calls[me]++;
	assert_int_equal(pv_loop_del_fd(loop, p->fd[1 - me]), 0);
	assert_int_equal(pv_loop_del_fd(loop, fd), 0);
}

static void test_fd_deleted_by_an_earlier_callback_of_the_batch_is_not_dispatched(void **state)
{
	struct pair p = { 0 };
	uint64_t one = 1;

	assert_int_equal(pv_loop_create(&p.loop), 0);
	for (int i = 0; i < 2; i++) {
		p.fd[i] = eventfd(0, EFD_NONBLOCK);
		assert_true(p.fd[i] >= 0);
		assert_int_equal(pv_loop_add_fd(p.loop, p.fd[i], PV_LOOP_IN, pair_cb, &p), 0);
		assert_int_equal(write(p.fd[i], &one, sizeof(one)), sizeof(one));
	}
	assert_int_equal(pv_loop_run_once(p.loop, -1), 1);
	assert_int_equal(p.calls[0] + p.calls[1], 1);
	assert_int_equal(pv_loop_run_once(p.loop, 0), 0);
	close(p.fd[0]);
	close(p.fd[1]);
	pv_loop_destroy(p.loop);
}

/* Delete another fd of the batch, then re-add a new fd under the same number. */
struct readd {
	int fd[2];
	int calls[2];
	int new_calls;
};

static void readd_new_cb(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct readd *r = opaque;
	uint64_t v;

	r->new_calls++;
	assert_int_equal(read(fd, &v, sizeof(v)), sizeof(v));
}

static void readd_cb(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct readd *r = opaque;
	int me = fd == r->fd[0] ? 0 : 1, other = r->fd[1 - me];
	uint64_t v;

	r->calls[me]++;
	assert_int_equal(read(fd, &v, sizeof(v)), sizeof(v));
	assert_int_equal(pv_loop_del_fd(loop, other), 0);
	close(other);
	/* Same fd number, fresh eventfd that is not readable yet. */
	assert_int_equal(eventfd(0, EFD_NONBLOCK), other);
	assert_int_equal(pv_loop_add_fd(loop, other, PV_LOOP_IN, readd_new_cb, r), 0);
}

static void test_stale_event_of_a_deleted_then_reused_fd_number_is_dropped(void **state)
{
	struct pv_loop *loop;
	struct readd r = { 0 };
	uint64_t one = 1;

	assert_int_equal(pv_loop_create(&loop), 0);
	for (int i = 0; i < 2; i++) {
		r.fd[i] = eventfd(0, EFD_NONBLOCK);
		assert_int_equal(pv_loop_add_fd(loop, r.fd[i], PV_LOOP_IN, readd_cb, &r), 0);
		assert_int_equal(write(r.fd[i], &one, sizeof(one)), sizeof(one));
	}
	assert_int_equal(pv_loop_run_once(loop, -1), 1);
	assert_int_equal(r.calls[0] + r.calls[1], 1);
	assert_int_equal(r.new_calls, 0);
	assert_int_equal(pv_loop_run_once(loop, 0), 0);
	pv_loop_del_fd(loop, r.fd[0]);
	pv_loop_del_fd(loop, r.fd[1]);
	close(r.fd[0]);
	close(r.fd[1]);
	pv_loop_destroy(loop);
}

struct tlog {
	int order[8];
	int n;
	struct pv_loop *loop;
	int64_t victim;
};

static void timer_cb(struct pv_loop *loop, void *opaque);

struct tctx {
	struct tlog *log;
	int tag;
};

static void timer_cb(struct pv_loop *loop, void *opaque)
{
	struct tctx *t = opaque;

	t->log->order[t->log->n++] = t->tag;
}

static void test_timers_fire_once_in_deadline_order(void **state)
{
	struct pv_loop *loop;
	struct tlog log = { 0 };
	struct tctx a = { &log, 30 }, b = { &log, 10 }, c = { &log, 20 }, d = { &log, 0 };
	uint64_t start = pv_now_ns();
	int64_t ida, idd;

	assert_int_equal(pv_loop_create(&loop), 0);
	ida = pv_loop_add_timer(loop, 30, timer_cb, &a);
	assert_true(ida > 0);
	assert_true(pv_loop_add_timer(loop, 10, timer_cb, &b) > 0);
	assert_true(pv_loop_add_timer(loop, 20, timer_cb, &c) > 0);
	idd = pv_loop_add_timer(loop, 5, timer_cb, &d);
	assert_true(idd > ida);
	assert_int_equal(pv_loop_del_timer(loop, idd), 0);
	assert_int_equal(pv_loop_del_timer(loop, idd), -ENOENT);

	while (log.n < 3)
		assert_true(pv_loop_run_once(loop, -1) >= 0);
	assert_int_equal(log.order[0], 10);
	assert_int_equal(log.order[1], 20);
	assert_int_equal(log.order[2], 30);
	assert_true(pv_now_ns() - start >= 30 * 1000000ull);
	assert_int_equal(pv_loop_del_timer(loop, ida), -ENOENT);
	/* Nothing left: a bounded wait returns with no events. */
	assert_int_equal(pv_loop_run_once(loop, 1), 0);
	assert_int_equal(log.n, 3);
	pv_loop_destroy(loop);
}

static void rearm_cb(struct pv_loop *loop, void *opaque)
{
	struct tctx *t = opaque;

	t->log->order[t->log->n++] = t->tag;
	if (t->log->n < 3)
		assert_true(pv_loop_add_timer(loop, 0, rearm_cb, t) > 0);
}

static void test_zero_delay_timer_added_by_a_timer_fires_next_round(void **state)
{
	struct pv_loop *loop;
	struct tlog log = { 0 };
	struct tctx a = { &log, 1 };

	assert_int_equal(pv_loop_create(&loop), 0);
	assert_true(pv_loop_add_timer(loop, 0, rearm_cb, &a) > 0);
	assert_int_equal(pv_loop_run_once(loop, -1), 1);
	assert_int_equal(log.n, 1);
	assert_int_equal(pv_loop_run_once(loop, -1), 1);
	assert_int_equal(pv_loop_run_once(loop, -1), 1);
	assert_int_equal(log.n, 3);
	assert_int_equal(pv_loop_run_once(loop, 0), 0);
	pv_loop_destroy(loop);
}

struct xthread {
	struct pv_loop *loop;
	pthread_t tid;
	pthread_t loop_tid;
	int ran;
	bool wrong_thread;
};

#define NCALLS 1000

static void call_fn(void *opaque)
{
	struct xthread *x = opaque;

	if (!pthread_equal(pthread_self(), x->loop_tid))
		x->wrong_thread = true;
	if (++x->ran == NCALLS)
		pv_loop_stop(x->loop);
}

static void *caller(void *opaque)
{
	struct xthread *x = opaque;

	for (int i = 0; i < NCALLS; i++)
		assert_int_equal(pv_loop_call(x->loop, call_fn, x), 0);
	return NULL;
}

static void test_call_from_another_thread_runs_in_the_loop_thread(void **state)
{
	struct xthread x = { 0 };

	assert_int_equal(pv_loop_create(&x.loop), 0);
	x.loop_tid = pthread_self();
	assert_int_equal(pthread_create(&x.tid, NULL, caller, &x), 0);
	assert_int_equal(pv_loop_run(x.loop), 0);
	assert_int_equal(pthread_join(x.tid, NULL), 0);
	assert_int_equal(x.ran, NCALLS);
	assert_false(x.wrong_thread);
	pv_loop_destroy(x.loop);
}

static void *stopper(void *opaque)
{
	pv_loop_stop(opaque);
	return NULL;
}

static void test_stop_from_another_thread_ends_run(void **state)
{
	struct pv_loop *loop;
	pthread_t tid;

	assert_int_equal(pv_loop_create(&loop), 0);
	assert_int_equal(pthread_create(&tid, NULL, stopper, loop), 0);
	assert_int_equal(pv_loop_run(loop), 0);
	assert_int_equal(pthread_join(tid, NULL), 0);
	pv_loop_destroy(loop);
}

static void test_pending_calls_are_freed_not_run_on_destroy(void **state)
{
	struct pv_loop *loop;
	struct xthread x = { 0 };

	assert_int_equal(pv_loop_create(&loop), 0);
	assert_int_equal(pv_loop_call(loop, call_fn, &x), 0);
	pv_loop_destroy(loop);
	assert_int_equal(x.ran, 0);
}

struct poller {
	int calls;
	int work; /* returns true this many times */
};

static bool poll_fn(void *opaque)
{
	struct poller *p = opaque;

	p->calls++;
	if (p->work > 0) {
		p->work--;
		return true;
	}
	return false;
}

static void test_poll_hook_runs_before_blocking_and_reports_work(void **state)
{
	struct pv_loop *loop;
	struct poller p = { .work = 1 };
	uint64_t t0;

	assert_int_equal(pv_loop_create(&loop), 0);
	pv_loop_set_poll(loop, poll_fn, &p, 1000);
	/* Work found: the round returns without blocking forever. */
	assert_int_equal(pv_loop_run_once(loop, -1), 1);
	assert_int_equal(p.calls, 1);
	/* No work: spins ~1 ms, then blocks until the 20 ms bound. */
	t0 = pv_now_ns();
	assert_int_equal(pv_loop_run_once(loop, 20), 0);
	assert_true(p.calls > 1);
	assert_true(pv_now_ns() - t0 >= 20 * 1000000ull);
	/* Non-blocking round: one call. */
	p.calls = 0;
	p.work = 1;
	assert_int_equal(pv_loop_run_once(loop, 0), 1);
	assert_int_equal(p.calls, 1);
	/* Unset: never called. */
	pv_loop_set_poll(loop, NULL, NULL, 0);
	p.calls = 0;
	assert_int_equal(pv_loop_run_once(loop, 0), 0);
	assert_int_equal(p.calls, 0);
	pv_loop_destroy(loop);
}

static void test_now_is_monotonic(void **state)
{
	uint64_t a = pv_now_ns(), b = pv_now_ns();

	assert_true(b >= a);
	assert_true(a > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ready_fd_is_dispatched_to_its_callback),
		cmocka_unit_test(test_mod_fd_switches_to_writable_events),
		cmocka_unit_test(test_fd_deleted_by_an_earlier_callback_of_the_batch_is_not_dispatched),
		cmocka_unit_test(test_stale_event_of_a_deleted_then_reused_fd_number_is_dropped),
		cmocka_unit_test(test_timers_fire_once_in_deadline_order),
		cmocka_unit_test(test_zero_delay_timer_added_by_a_timer_fires_next_round),
		cmocka_unit_test(test_call_from_another_thread_runs_in_the_loop_thread),
		cmocka_unit_test(test_stop_from_another_thread_ends_run),
		cmocka_unit_test(test_pending_calls_are_freed_not_run_on_destroy),
		cmocka_unit_test(test_poll_hook_runs_before_blocking_and_reports_work),
		cmocka_unit_test(test_now_is_monotonic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
