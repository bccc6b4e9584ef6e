/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pv_loop: a small level-triggered epoll event loop (after Redis' ae.c), one
 * per thread.  It owns fd callbacks (a table indexed by fd), one-shot timers
 * (a list sorted by deadline, then id: timers are few, so O(n) insert is
 * fine), cross-thread calls (a mutex-protected FIFO plus an eventfd that
 * wakes epoll_wait) and an optional adaptive-polling hook.
 *
 * Only pv_loop_call() and pv_loop_stop() may be called from other threads;
 * everything else belongs to the loop's thread.  Each fd registration carries
 * a generation number in its epoll data, so an event that was already fetched
 * in the current batch is dropped when its fd was deleted (or deleted and
 * re-added) by an earlier callback of the same batch.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "pvcommon.h"

#define LOOP_MAX_EVENTS 64

struct loop_fd {
	pv_loop_fd_fn *fn;
	void *opaque;
	uint32_t events;
	uint32_t gen;  /* bumped on every add; 0 = free slot */
};

struct loop_timer {
	struct loop_timer *next;
	uint64_t deadline_ns;
	int64_t id;
	pv_loop_timer_fn *fn;
	void *opaque;
};

struct loop_call {
	struct loop_call *next;
	pv_loop_call_fn *fn;
	void *opaque;
};

struct pv_loop {
	int epfd;
	int wakefd;                /* eventfd: pv_loop_call / pv_loop_stop */
	struct loop_fd *fds;       /* indexed by fd */
	int nfds;                  /* size of fds[] */
	uint32_t next_gen;
	struct loop_timer *timers; /* sorted by (deadline_ns, id) */
	int64_t next_timer_id;
	pthread_mutex_t call_lock; /* protects calls_head/calls_tail */
	struct loop_call *calls_head, *calls_tail;
	bool stop;                 /* accessed atomically */
	pv_loop_poll_fn *poll_fn;
	void *poll_opaque;
	uint32_t poll_us;
};

uint64_t pv_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void wake(struct pv_loop *loop)
{
	uint64_t one = 1;
	ssize_t r;

	do {
		r = write(loop->wakefd, &one, sizeof(one));
	} while (r < 0 && errno == EINTR);
	/* EAGAIN: counter saturated, the loop is woken anyway. */
}

static int run_calls(struct pv_loop *loop)
{
	struct loop_call *c, *next;
	int n = 0;

	pthread_mutex_lock(&loop->call_lock);
	c = loop->calls_head;
	loop->calls_head = loop->calls_tail = NULL;
	pthread_mutex_unlock(&loop->call_lock);

	for (; c; c = next) {
		next = c->next;
		c->fn(c->opaque);
		free(c);
		n++;
	}
	return n;
}

static void wake_cb(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	uint64_t v;

	/* Drain first: a call queued while we run gets a fresh wake-up. */
	if (read(fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing to drain (spurious). */
	}
	run_calls(loop);
}

int pv_loop_create(struct pv_loop **out)
{
	struct pv_loop *loop;
	int ret;

	loop = calloc(1, sizeof(*loop));
	if (!loop)
		return -ENOMEM;
	loop->next_gen = 1;
	loop->next_timer_id = 1;
	pthread_mutex_init(&loop->call_lock, NULL);

	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		ret = -errno;
		goto err_free;
	}
	loop->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->wakefd < 0) {
		ret = -errno;
		goto err_epoll;
	}
	ret = pv_loop_add_fd(loop, loop->wakefd, PV_LOOP_IN, wake_cb, NULL);
	if (ret < 0)
		goto err_wake;
	*out = loop;
	return 0;

err_wake:
	close(loop->wakefd);
err_epoll:
	close(loop->epfd);
err_free:
	pthread_mutex_destroy(&loop->call_lock);
	free(loop->fds);
	free(loop);
	return ret;
}

void pv_loop_destroy(struct pv_loop *loop)
{
	struct loop_timer *t, *tn;
	struct loop_call *c, *cn;

	if (!loop)
		return;
	for (t = loop->timers; t; t = tn) {
		tn = t->next;
		free(t);
	}
	for (c = loop->calls_head; c; c = cn) {
		cn = c->next;
		free(c);
	}
	close(loop->wakefd);
	close(loop->epfd);
	pthread_mutex_destroy(&loop->call_lock);
	free(loop->fds);
	free(loop);
}

static int grow_fds(struct pv_loop *loop, int fd)
{
	struct loop_fd *n;
	int size = loop->nfds ? loop->nfds : 64;

	while (size <= fd)
		size *= 2;
	n = realloc(loop->fds, (size_t)size * sizeof(*n));
	if (!n)
		return -ENOMEM;
	memset(n + loop->nfds, 0, (size_t)(size - loop->nfds) * sizeof(*n));
	loop->fds = n;
	loop->nfds = size;
	return 0;
}

static struct epoll_event make_event(int fd, uint32_t events, uint32_t gen)
{
	struct epoll_event ev = {
		.events = events & (EPOLLIN | EPOLLOUT),
		.data.u64 = ((uint64_t)gen << 32) | (uint32_t)fd,
	};

	return ev;
}

int pv_loop_add_fd(struct pv_loop *loop, int fd, uint32_t events, pv_loop_fd_fn *fn, void *opaque)
{
	struct epoll_event ev;
	uint32_t gen;
	int ret;

	if (fd < 0 || !fn)
		return -EINVAL;
	if (fd >= loop->nfds) {
		ret = grow_fds(loop, fd);
		if (ret < 0)
			return ret;
	}
	if (loop->fds[fd].gen)
		return -EEXIST;
	gen = loop->next_gen++;
	if (!gen) /* 0 marks a free slot */
		gen = loop->next_gen++;
	ev = make_event(fd, events, gen);
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	loop->fds[fd] = (struct loop_fd){ .fn = fn, .opaque = opaque, .events = events, .gen = gen };
	return 0;
}

int pv_loop_mod_fd(struct pv_loop *loop, int fd, uint32_t events)
{
	struct epoll_event ev;

	if (fd < 0 || fd >= loop->nfds || !loop->fds[fd].gen)
		return -ENOENT;
	ev = make_event(fd, events, loop->fds[fd].gen);
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	loop->fds[fd].events = events;
	return 0;
}

int pv_loop_del_fd(struct pv_loop *loop, int fd)
{
	int ret = 0;

	if (fd < 0 || fd >= loop->nfds || !loop->fds[fd].gen)
		return -ENOENT;
	/* The fd may already be closed (EBADF): the slot is freed anyway. */
	if (epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL) < 0 && errno != EBADF)
		ret = -errno;
	memset(&loop->fds[fd], 0, sizeof(loop->fds[fd]));
	return ret;
}

int64_t pv_loop_add_timer(struct pv_loop *loop, uint64_t delay_ms, pv_loop_timer_fn *fn, void *opaque)
{
	struct loop_timer *t, **pp;

	if (!fn)
		return -EINVAL;
	if (delay_ms > UINT64_MAX / 2000000ull)
		delay_ms = UINT64_MAX / 2000000ull;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->deadline_ns = pv_now_ns() + delay_ms * 1000000ull;
	t->id = loop->next_timer_id++;
	t->fn = fn;
	t->opaque = opaque;
	/* Ids grow, so equal deadlines keep insertion order. */
	for (pp = &loop->timers; *pp && (*pp)->deadline_ns <= t->deadline_ns; pp = &(*pp)->next)
		;
	t->next = *pp;
	*pp = t;
	return t->id;
}

int pv_loop_del_timer(struct pv_loop *loop, int64_t id)
{
	struct loop_timer *t, **pp;

	for (pp = &loop->timers; (t = *pp); pp = &t->next) {
		if (t->id == id) {
			*pp = t->next;
			free(t);
			return 0;
		}
	}
	return -ENOENT;
}

int pv_loop_call(struct pv_loop *loop, pv_loop_call_fn *fn, void *opaque)
{
	struct loop_call *c;

	if (!fn)
		return -EINVAL;
	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->next = NULL;
	c->fn = fn;
	c->opaque = opaque;
	pthread_mutex_lock(&loop->call_lock);
	if (loop->calls_tail)
		loop->calls_tail->next = c;
	else
		loop->calls_head = c;
	loop->calls_tail = c;
	pthread_mutex_unlock(&loop->call_lock);
	wake(loop);
	return 0;
}

void pv_loop_set_poll(struct pv_loop *loop, pv_loop_poll_fn *fn, void *opaque, uint32_t poll_us)
{
	loop->poll_fn = fn;
	loop->poll_opaque = opaque;
	loop->poll_us = fn ? poll_us : 0;
}

/* Fire expired timers that existed when this round started, in order. */
static int run_timers(struct pv_loop *loop)
{
	int64_t bound = loop->next_timer_id;
	uint64_t now = pv_now_ns();
	struct loop_timer *t, **pp;
	int n = 0;

again:
	for (pp = &loop->timers; (t = *pp) && t->deadline_ns <= now; pp = &t->next) {
		if (t->id >= bound)
			continue; /* added by a callback of this round: next round */
		*pp = t->next;
		t->fn(loop, t->opaque);
		free(t);
		n++;
		goto again; /* the callback may have changed the list */
	}
	return n;
}

/* Nanoseconds until the first timer, capped by timeout_ns (< 0 = forever). */
static int64_t next_timeout_ns(struct pv_loop *loop, int64_t timeout_ns)
{
	uint64_t now;
	int64_t ns;

	if (!loop->timers)
		return timeout_ns;
	now = pv_now_ns();
	if (loop->timers->deadline_ns <= now)
		return 0;
	ns = (int64_t)(loop->timers->deadline_ns - now);
	return timeout_ns >= 0 && timeout_ns < ns ? timeout_ns : ns;
}

/* Milliseconds until the first timer, capped by timeout_ms (-1 = forever). */
static int next_timeout(struct pv_loop *loop, int timeout_ms)
{
	uint64_t now, ms;

	if (!loop->timers)
		return timeout_ms;
	now = pv_now_ns();
	if (loop->timers->deadline_ns <= now)
		return 0;
	ms = (loop->timers->deadline_ns - now + 999999) / 1000000;
	if (timeout_ms >= 0 && (uint64_t)timeout_ms < ms)
		return timeout_ms;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

static int dispatch(struct pv_loop *loop, struct epoll_event *evs, int n)
{
	int done = 0;

	for (int i = 0; i < n; i++) {
		int fd = (int)(uint32_t)evs[i].data.u64;
		uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
		struct loop_fd *e;

		/* Deleted (or replaced) by an earlier callback of this batch. */
		if (fd >= loop->nfds || loop->fds[fd].gen != gen)
			continue;
		e = &loop->fds[fd];
		e->fn(loop, fd, evs[i].events, e->opaque);
		done++;
	}
	return done;
}

/* Busy-poll the hook for up to poll_us. Returns true when it found work. */
static bool poll_spin(struct pv_loop *loop)
{
	uint64_t end = pv_now_ns() + (uint64_t)loop->poll_us * 1000ull;

	do {
		if (loop->poll_fn(loop->poll_opaque))
			return true;
	} while (pv_now_ns() < end);
	return false;
}

int pv_loop_run_once(struct pv_loop *loop, int timeout_ms)
{
	struct epoll_event evs[LOOP_MAX_EVENTS];
	int n, done = 0, t;

	t = next_timeout(loop, timeout_ms);
	if (loop->poll_fn) {
		/* Ready fds first, so a hook that always finds work can't starve them. */
		n = epoll_wait(loop->epfd, evs, LOOP_MAX_EVENTS, 0);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			goto dispatch;
		if (t == 0) {
			done += loop->poll_fn(loop->poll_opaque);
		} else if (poll_spin(loop)) {
			done++;
			t = 0; /* something happened: don't block this round */
		} else {
			t = next_timeout(loop, timeout_ms); /* time went by spinning */
		}
	}
	n = epoll_wait(loop->epfd, evs, LOOP_MAX_EVENTS, t);
	if (n < 0) {
		if (errno != EINTR)
			return -errno;
		n = 0;
	}
dispatch:
	done += dispatch(loop, evs, n);
	done += run_timers(loop);
	return done;
}

int pv_loop_run_once_ns(struct pv_loop *loop, int64_t timeout_ns)
{
	struct epoll_event evs[LOOP_MAX_EVENTS];
	struct timespec ts, *tp = NULL;
	int64_t t = next_timeout_ns(loop, timeout_ns);
	int n;

	if (t >= 0) {
		ts.tv_sec = t / 1000000000;
		ts.tv_nsec = t % 1000000000;
		tp = &ts;
	}
	n = epoll_pwait2(loop->epfd, evs, LOOP_MAX_EVENTS, tp, NULL);
	if (n < 0) {
		if (errno != EINTR)
			return -errno;
		n = 0;
	}
	return dispatch(loop, evs, n) + run_timers(loop);
}

int pv_loop_run(struct pv_loop *loop)
{
	int ret;

	while (!__atomic_load_n(&loop->stop, __ATOMIC_ACQUIRE)) {
		ret = pv_loop_run_once(loop, -1);
		if (ret < 0)
			return ret;
	}
	/* Let a later pv_loop_run() start again. */
	__atomic_store_n(&loop->stop, false, __ATOMIC_RELEASE);
	return 0;
}

void pv_loop_stop(struct pv_loop *loop)
{
	__atomic_store_n(&loop->stop, true, __ATOMIC_RELEASE);
	wake(loop);
}
