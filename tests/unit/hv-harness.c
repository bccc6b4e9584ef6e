/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The hypervisor test harness (see hv-harness.h): pvsim's hv server on a
 * loop thread, driven from test threads through pv_loop_call().
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hv.h"
#include "hv-harness.h"

struct t_sim {
	char dir[64];
	struct pv_loop *loop;
	struct sim_hv *hv;
	pthread_t thread;
	unsigned crashes;
};

struct t_call {
	struct t_sim *ts;
	uint16_t domid;
	uint64_t mem;
	bool create;
	int rc;
	sem_t done;
};

static void on_crash(void *opaque, uint16_t domid)
{
	struct t_sim *ts = opaque;

	sim_hv_domain_destroy(ts->hv, domid);
	__atomic_add_fetch(&ts->crashes, 1, __ATOMIC_SEQ_CST);
}

static int dom_create(struct t_sim *ts, uint16_t domid, uint64_t mem)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/hv/%u", ts->dir, domid);
	return sim_hv_domain_create(ts->hv, domid, mem, path);
}

static void call_fn(void *opaque)
{
	struct t_call *c = opaque;

	c->rc = c->create ? dom_create(c->ts, c->domid, c->mem)
			  : sim_hv_domain_destroy(c->ts->hv, c->domid);
	sem_post(&c->done);
}

static int call_sync(struct t_sim *ts, bool create, uint16_t domid, uint64_t mem)
{
	struct t_call c = { .ts = ts, .domid = domid, .mem = mem, .create = create };
	int rc;

	sem_init(&c.done, 0, 0);
	rc = pv_loop_call(ts->loop, call_fn, &c);
	if (rc == 0) {
		while (sem_wait(&c.done) < 0 && errno == EINTR)
			;
		rc = c.rc;
	}
	sem_destroy(&c.done);
	return rc;
}

int t_sim_domain_create(struct t_sim *ts, uint16_t domid, uint64_t mem_bytes)
{
	return call_sync(ts, true, domid, mem_bytes);
}

int t_sim_domain_destroy(struct t_sim *ts, uint16_t domid)
{
	return call_sync(ts, false, domid, 0);
}

static void nop_fn(void *opaque)
{
	sem_post(opaque);
}

void t_sim_sync(struct t_sim *ts)
{
	sem_t done;

	sem_init(&done, 0, 0);
	for (int i = 0; i < 2; i++) {
		if (pv_loop_call(ts->loop, nop_fn, &done) == 0)
			while (sem_wait(&done) < 0 && errno == EINTR)
				;
	}
	sem_destroy(&done);
}

unsigned t_sim_crashes(struct t_sim *ts)
{
	return __atomic_load_n(&ts->crashes, __ATOMIC_SEQ_CST);
}

static void *loop_thread(void *arg)
{
	struct t_sim *ts = arg;

	pv_loop_run(ts->loop);
	return NULL;
}

int t_sim_start(struct t_sim **out)
{
	struct t_sim *ts = calloc(1, sizeof(*ts));
	int rc;

	if (!ts)
		return -ENOMEM;
	snprintf(ts->dir, sizeof(ts->dir), "/tmp/pvback-hvtest.XXXXXX");
	if (!mkdtemp(ts->dir)) {
		rc = -errno;
		goto err_free;
	}
	setenv("PVSIM_DIR", ts->dir, 1);
	setenv("PVBACK_HV", "sim", 1);
	rc = pv_loop_create(&ts->loop);
	if (rc)
		goto err_dir;
	rc = sim_hv_create(ts->loop, &ts->hv);
	if (rc)
		goto err_loop;
	sim_hv_set_crash_cb(ts->hv, on_crash, ts);
	for (uint16_t d = 0; d < 3; d++) {
		rc = dom_create(ts, d, 16 << 20);
		if (rc)
			goto err_hv;
	}
	rc = -pthread_create(&ts->thread, NULL, loop_thread, ts);
	if (rc)
		goto err_hv;
	*out = ts;
	return 0;

err_hv:
	sim_hv_destroy(ts->hv);
err_loop:
	pv_loop_destroy(ts->loop);
err_dir:
	rmdir(ts->dir);
err_free:
	free(ts);
	return rc;
}

void t_sim_stop(struct t_sim *ts)
{
	char path[PATH_MAX];

	if (!ts)
		return;
	pv_loop_stop(ts->loop);
	pthread_join(ts->thread, NULL);
	sim_hv_destroy(ts->hv);
	pv_loop_destroy(ts->loop);
	snprintf(path, sizeof(path), "%s/hv", ts->dir);
	rmdir(path);
	rmdir(ts->dir);
	free(ts);
}

struct pv_hv *t_hv_open(uint16_t domid)
{
	struct pv_hv *hv;
	char buf[16];

	snprintf(buf, sizeof(buf), "%u", domid);
	setenv("PVSIM_DOMID", buf, 1);
	if (pv_hv_open(PV_HV_SIM, &hv) < 0)
		return NULL;
	return hv;
}

int t_hv_fixture_setup(void **state)
{
	struct t_hv_fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	*state = f;
	if (t_sim_start(&f->ts))
		return -1;
	f->guest = t_hv_open(1);
	f->be = t_hv_open(0);
	return f->guest && f->be ? 0 : -1;
}

int t_hv_fixture_teardown(void **state)
{
	struct t_hv_fixture *f = *state;

	if (!f)
		return 0;
	if (f->guest)
		pv_hv_close(f->guest);
	if (f->be)
		pv_hv_close(f->be);
	t_sim_stop(f->ts);
	free(f);
	*state = NULL;
	return 0;
}

static void segv_exit(int sig)
{
	_exit(T_SEGV_EXIT);
}

int t_fork_run(int (*fn)(void *arg), void *arg)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = segv_exit };

		sigaction(SIGSEGV, &sa, NULL);
		_exit(fn(arg));
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return status;
}

int t_wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, ms);

	return n < 0 ? -errno : n;
}
