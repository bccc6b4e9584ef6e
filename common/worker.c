// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pv_worker: one polling thread that serves many pv_queues (and other
 * pollers), the home of the queues of a poll-mode host port (DPDK) whose
 * frames no fd announces.  See pvcommon.h "worker".
 *
 * A round calls every poller; while any finds work the thread keeps
 * polling, dispatching its loop's fds, timers and calls without waiting.
 * After spin_us without work it backs off: it arms every poller (a queue
 * sets req_event, so its frontend notifies again) and, unless that turned
 * up work, sleeps in epoll for 1 us, doubling up to max_sleep_us, or until
 * an fd (an event channel, a call) fires.  While busy the queues leave
 * req_event behind, so the frontends do not notify for every batch.
 *
 * Threads: start/stop/call from any other thread; pollers are added and
 * removed on the worker's thread (pv_worker_call).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvcommon.h"

#define WORKER_MAX_POLLERS 256u
#define WORKER_MIN_SLEEP_NS 1000u

struct poller {
	pv_worker_poll_fn *poll;
	pv_worker_poll_fn *arm;
	void *opaque;
};

struct pv_worker {
	struct pv_worker_params p;
	char name[16];
	struct pv_loop *loop;
	pthread_t thread;
	bool thread_started;
	bool stop;                  /* atomic */
	struct poller pollers[WORKER_MAX_POLLERS];
	unsigned nr_pollers;
	unsigned load;              /* pv_worker_attach'ed users (atomic) */
	uint64_t rounds, busy_rounds, sleeps; /* stats, racy reads */
};

struct pv_loop *pv_worker_loop(struct pv_worker *w) { return w->loop; }
const char *pv_worker_name(const struct pv_worker *w) { return w->name; }
static bool on_thread(const struct pv_worker *w)
{
	return w->thread_started && pthread_equal(pthread_self(), w->thread);
}

int pv_worker_add_poll(struct pv_worker *w, pv_worker_poll_fn *poll, pv_worker_poll_fn *arm,
		       void *opaque)
{
	if (w->nr_pollers == WORKER_MAX_POLLERS)
		return -ENOSPC;
	w->pollers[w->nr_pollers++] = (struct poller){ poll, arm, opaque };
	return 0;
}

void pv_worker_del_poll(struct pv_worker *w, void *opaque)
{
	unsigned i;

	for (i = 0; i < w->nr_pollers; i++) {
		if (w->pollers[i].opaque != opaque)
			continue;
		/* Keep the order: pollers are served round-robin from the start. */
		memmove(&w->pollers[i], &w->pollers[i + 1],
			(w->nr_pollers - i - 1) * sizeof(w->pollers[0]));
		w->nr_pollers--;
		return;
	}
}

void pv_worker_attach(struct pv_worker *w, int delta)
{
	__atomic_add_fetch(&w->load, delta, __ATOMIC_RELAXED);
}

unsigned pv_worker_load(const struct pv_worker *w)
{
	return __atomic_load_n(&w->load, __ATOMIC_RELAXED);
}

void pv_worker_stats(const struct pv_worker *w, uint64_t *rounds, uint64_t *busy,
		     uint64_t *sleeps)
{
	*rounds = __atomic_load_n(&w->rounds, __ATOMIC_RELAXED);
	*busy = __atomic_load_n(&w->busy_rounds, __ATOMIC_RELAXED);
	*sleeps = __atomic_load_n(&w->sleeps, __ATOMIC_RELAXED);
}

static bool poll_all(struct pv_worker *w, bool arm)
{
	bool busy = false;
	unsigned i;

	/* A poller may remove itself (a queue that finished its stop). */
	for (i = 0; i < w->nr_pollers; i++) {
		struct poller *p = &w->pollers[i];
		pv_worker_poll_fn *fn = arm ? p->arm : p->poll;

		if (fn && fn(p->opaque))
			busy = true;
	}
	return busy;
}

static void *worker_thread(void *opaque)
{
	struct pv_worker *w = opaque;
	uint64_t idle_since = pv_now_ns(), sleep_ns = 0, now;
	uint64_t spin_ns = (uint64_t)w->p.spin_us * 1000, max_ns = (uint64_t)w->p.max_sleep_us * 1000;
	int n;

	pthread_setname_np(pthread_self(), w->name);
	pv_confine_thread(); /* before the first poll of a guest's ring */
	if (w->p.thread_init)
		w->p.thread_init(w->p.opaque);
	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		bool busy = poll_all(w, false);

		__atomic_store_n(&w->rounds, w->rounds + 1, __ATOMIC_RELAXED);
		n = pv_loop_run_once_ns(w->loop, 0);
		if (busy || n > 0) {
			__atomic_store_n(&w->busy_rounds, w->busy_rounds + 1, __ATOMIC_RELAXED);
			idle_since = pv_now_ns();
			sleep_ns = 0;
			continue;
		}
		now = pv_now_ns();
		if (now - idle_since < spin_ns)
			continue;
		/* Idle: ask for notifications again, then look once more. */
		if (poll_all(w, true)) {
			idle_since = now;
			sleep_ns = 0;
			continue;
		}
		sleep_ns = sleep_ns ? sleep_ns * 2 : WORKER_MIN_SLEEP_NS;
		if (max_ns && sleep_ns > max_ns)
			sleep_ns = max_ns;
		__atomic_store_n(&w->sleeps, w->sleeps + 1, __ATOMIC_RELAXED);
		n = pv_loop_run_once_ns(w->loop, max_ns ? (int64_t)sleep_ns : -1);
		if (n > 0) { /* woken by an event: busy again */
			idle_since = pv_now_ns();
			sleep_ns = 0;
		}
	}
	return NULL;
}

int pv_worker_start(const struct pv_worker_params *p, struct pv_worker **out)
{
	struct pv_worker *w = calloc(1, sizeof(*w));
	pthread_attr_t attr;
	int rc;

	if (!w)
		return -ENOMEM;
	w->p = *p;
	snprintf(w->name, sizeof(w->name), "%s", p->name ? p->name : "pvpoll");
	rc = pv_loop_create(&w->loop);
	if (rc < 0) {
		free(w);
		return rc;
	}
	pthread_attr_init(&attr);
	if (p->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(p->cpu, &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	rc = -pthread_create(&w->thread, &attr, worker_thread, w);
	pthread_attr_destroy(&attr);
	if (rc < 0) {
		pv_loop_destroy(w->loop);
		free(w);
		return rc;
	}
	w->thread_started = true;
	*out = w;
	return 0;
}

static void wake_stop(void *opaque)
{
	(void)opaque; /* the call itself woke the thread */
}

void pv_worker_stop(struct pv_worker *w)
{
	if (!w)
		return;
	__atomic_store_n(&w->stop, true, __ATOMIC_RELEASE);
	pv_loop_call(w->loop, wake_stop, NULL);
	pthread_join(w->thread, NULL);
	pv_loop_destroy(w->loop);
	free(w);
}

/* ------------------------------------------------------ synchronous call */

struct sync_call {
	pv_worker_call_fn *fn;
	void *opaque;
	int rc;
	bool done;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static void run_sync(void *opaque)
{
	struct sync_call *c = opaque;
	int rc = c->fn(c->opaque);

	pthread_mutex_lock(&c->lock);
	c->rc = rc;
	c->done = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

int pv_worker_call(struct pv_worker *w, pv_worker_call_fn *fn, void *opaque)
{
	struct sync_call c = { .fn = fn, .opaque = opaque };
	int rc;

	if (on_thread(w))
		return fn(opaque);
	pthread_mutex_init(&c.lock, NULL);
	pthread_cond_init(&c.cond, NULL);
	rc = pv_loop_call(w->loop, run_sync, &c);
	if (rc == 0) {
		pthread_mutex_lock(&c.lock);
		while (!c.done)
			pthread_cond_wait(&c.cond, &c.lock);
		pthread_mutex_unlock(&c.lock);
		rc = c.rc;
	}
	pthread_cond_destroy(&c.cond);
	pthread_mutex_destroy(&c.lock);
	return rc;
}
