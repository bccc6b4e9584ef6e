// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A private pvsim instance, a backend loop thread and cross-thread counters
 * for cmocka tests (see sim-harness.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pvcommon.h"
#include "pvfront.h"
#include "sim-harness.h"

int t_sh(char *out, size_t outlen, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	FILE *p;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (out) {
		n = fread(out, 1, outlen - 1, p);
		out[n] = '\0';
	} else {
		char buf[256];

		while (fread(buf, 1, sizeof(buf), p) > 0)
			;
	}
	return pclose(p);
}

int t_pvsim_create(struct t_pvsim *s, const char *name)
{
	char out[256], *p;

	if (t_sh(NULL, 0, "%s --dir %s create %s --mem 64M", s->pvsim, s->dir, name) ||
	    t_sh(out, sizeof(out), "%s --dir %s env %s", s->pvsim, s->dir, name))
		return -1;
	p = strstr(out, "PVSIM_DOMID=");
	if (!p)
		return -1;
	return atoi(p + strlen("PVSIM_DOMID="));
}

int t_pvsim_start(struct t_pvsim *s, const char *tag, const char *guest_name)
{
	const char *build = getenv("PVBACK_BUILD");
	char path[128];
	int guest;

	snprintf(s->pvsim, sizeof(s->pvsim), "%s/bin/pvsim", build ? build : "build");
	if (access(s->pvsim, X_OK)) {
		fprintf(stderr, "# %s missing: skip\n", s->pvsim);
		exit(77);
	}
	snprintf(s->dir, sizeof(s->dir), "/tmp/%s.XXXXXX", tag);
	if (!mkdtemp(s->dir))
		return -1;
	if (t_sh(NULL, 0, "%s --dir %s start", s->pvsim, s->dir))
		return -1;
	guest = t_pvsim_create(s, guest_name);
	if (guest < 0)
		return -1;
	s->guest = (unsigned)guest;
	snprintf(path, sizeof(path), "%s/xs/0", s->dir);
	setenv("XENSTORED_PATH", path, 1);
	setenv("PVSIM_DOMID", "0", 1);
	return 0;
}

void t_pvsim_stop(struct t_pvsim *s)
{
	if (!s->dir[0])
		return;
	t_sh(NULL, 0, "%s --dir %s stop", s->pvsim, s->dir);
	t_sh(NULL, 0, "rm -rf %s", s->dir);
	s->dir[0] = '\0';
}

int64_t t_pvsim_attach(struct t_pvsim *s, const char *name, const char *type, const char *args)
{
	char out[64];

	if (t_sh(out, sizeof(out), "%s --dir %s attach %s %s %s", s->pvsim, s->dir, name, type,
		 args))
		return -1;
	return strtoll(out, NULL, 10);
}

struct pv_xs *t_pvsim_xs(struct t_pvsim *s, unsigned dom)
{
	char path[128];
	struct pv_xs *xs;

	snprintf(path, sizeof(path), "%s/xs/%u", s->dir, dom);
	setenv("XENSTORED_PATH", path, 1);
	return pv_xs_open(NULL, &xs) ? NULL : xs;
}

/* ---------------------------------------------------------------- counters */

static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t count_cond = PTHREAD_COND_INITIALIZER;

void t_count_bump(int *count)
{
	pthread_mutex_lock(&count_lock);
	(*count)++;
	pthread_cond_broadcast(&count_cond);
	pthread_mutex_unlock(&count_lock);
}

void t_count_set(int *v, int value)
{
	pthread_mutex_lock(&count_lock);
	*v = value;
	pthread_cond_broadcast(&count_cond);
	pthread_mutex_unlock(&count_lock);
}

int t_count_get(const int *v)
{
	int x;

	pthread_mutex_lock(&count_lock);
	x = *v;
	pthread_mutex_unlock(&count_lock);
	return x;
}

int t_count_wait(const int *count, int want, int ms)
{
	struct timespec ts;
	int ret = 0, v;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&count_lock);
	while (*count < want && ret == 0)
		ret = pthread_cond_timedwait(&count_cond, &count_lock, &ts);
	v = *count;
	pthread_mutex_unlock(&count_lock);
	return v;
}

/* ---------------------------------------------------------------- backend */

struct t_backend {
	struct pv_loop *loop;
	struct pv_xs *xs;
	struct pv_xb_backend *be;
	pthread_t thread;
	int synced; /* sync round trips completed (bumped on the loop) */
	int asked;  /* and asked for (test thread only) */
};

static void *backend_main(void *opaque)
{
	struct t_backend *b = opaque;

	pv_loop_run(b->loop);
	return NULL;
}

int t_backend_start(const struct pv_xb_backend_ops *ops, void *ctx, struct t_backend **out)
{
	struct t_backend *b = calloc(1, sizeof(*b));
	int rc;

	if (!b)
		return -ENOMEM;
	rc = pv_loop_create(&b->loop);
	if (rc)
		goto err_free;
	rc = pv_xs_open(b->loop, &b->xs);
	if (rc)
		goto err_loop;
	rc = pv_xb_backend_start(b->loop, b->xs, ops, ctx, &b->be);
	if (rc)
		goto err_xs;
	rc = -pthread_create(&b->thread, NULL, backend_main, b);
	if (rc)
		goto err_be;
	*out = b;
	return 0;

err_be:
	pv_xb_backend_stop(b->be);
err_xs:
	pv_xs_close(b->xs);
err_loop:
	pv_loop_destroy(b->loop);
err_free:
	free(b);
	return rc;
}

static void backend_stop_fn(void *opaque)
{
	struct t_backend *b = opaque;

	pv_xb_backend_stop(b->be);
	pv_loop_stop(b->loop);
}

void t_backend_stop(struct t_backend *b)
{
	if (!b)
		return;
	pv_loop_call(b->loop, backend_stop_fn, b);
	pthread_join(b->thread, NULL);
	pv_xs_close(b->xs);
	pv_loop_destroy(b->loop);
	free(b);
}

static void sync_fn(void *opaque)
{
	struct t_backend *b = opaque;

	t_count_bump(&b->synced);
}

int t_backend_sync(struct t_backend *b, int ms)
{
	int rc = pv_loop_call(b->loop, sync_fn, b);

	if (rc)
		return rc;
	b->asked++;
	return t_count_wait(&b->synced, b->asked, ms) >= b->asked ? 0 : -ETIMEDOUT;
}

int t_front_fake_ring(struct pvfront *f, uint32_t txn, void *opaque)
{
	return pvfront_printf(f, txn, "ring-ref", "%u", 8) ?:
	       pvfront_printf(f, txn, "event-channel", "%u", 5);
}
