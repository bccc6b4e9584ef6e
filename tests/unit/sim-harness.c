// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A private pvsim instance for cmocka tests, and the xenbus framework
 * scaffolding they share (see sim-harness.h).  Counters live under one lock
 * and condition; the backend loop runs in its own thread and is stopped from
 * inside itself (pv_loop_call), so the framework is only ever touched there.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xen/io/xenbus.h>

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

int t_pvsim_start(struct t_pvsim *s, const char *tag, const char *guest_name)
{
	const char *build = getenv("PVBACK_BUILD");
	char out[256], path[128], *p;

	snprintf(s->pvsim, sizeof(s->pvsim), "%s/bin/pvsim", build ? build : "build");
	if (access(s->pvsim, X_OK)) {
		fprintf(stderr, "# %s missing: skip\n", s->pvsim);
		exit(77);
	}
	snprintf(s->dir, sizeof(s->dir), "/tmp/%s.XXXXXX", tag);
	if (!mkdtemp(s->dir))
		return -1;
	if (t_sh(NULL, 0, "%s --dir %s start", s->pvsim, s->dir) ||
	    t_sh(NULL, 0, "%s --dir %s create %s --mem 64M", s->pvsim, s->dir, guest_name) ||
	    t_sh(out, sizeof(out), "%s --dir %s env %s", s->pvsim, s->dir, guest_name))
		return -1;
	p = strstr(out, "PVSIM_DOMID=");
	if (!p)
		return -1;
	s->guest = (unsigned)atoi(p + strlen("PVSIM_DOMID="));
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

/* libxenstore finds the daemon through $XENSTORED_PATH: dom's own socket. */
static void act_as(struct t_pvsim *s, unsigned dom)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/xs/%u", s->dir, dom);
	setenv("XENSTORED_PATH", path, 1);
}

int t_pvsim_xs(struct t_pvsim *s, unsigned dom, struct pv_xs **out)
{
	act_as(s, dom);
	return pv_xs_open(NULL, out);
}

struct pv_hv *t_pvsim_hv(struct t_pvsim *s, unsigned dom)
{
	struct pv_hv *hv = NULL;
	char id[16];

	snprintf(id, sizeof(id), "%u", dom);
	setenv("PVSIM_DIR", s->dir, 1);
	setenv("PVSIM_DOMID", id, 1);
	return pv_hv_open(PV_HV_SIM, &hv) < 0 ? NULL : hv;
}

int t_dom0_write(struct t_pvsim *s, const char *dir, const char *key, const char *val)
{
	struct pv_xs *xs;
	int ret = t_pvsim_xs(s, 0, &xs);

	if (ret < 0)
		return ret;
	if (val)
		ret = pv_xs_write_at(xs, 0, dir, key, val);
	else
		ret = key ? pv_xs_rm_at(xs, 0, dir, key) : pv_xs_rm(xs, 0, dir);
	pv_xs_close(xs);
	return ret;
}

char *t_error_node(struct t_pvsim *s, const char *type, unsigned dom, uint32_t devid)
{
	char dir[128];
	struct pv_xs *xs;
	char *v;

	if (t_pvsim_xs(s, 0, &xs))
		return NULL;
	snprintf(dir, sizeof(dir), "/local/domain/0/error/backend/%s/%u/%u", type, dom, devid);
	v = pv_xs_read_at(xs, 0, dir, "error");
	pv_xs_close(xs);
	return v;
}

long t_pvsim_attach(struct t_pvsim *s, const char *dom, const char *type, const char *args)
{
	char out[64];

	/* The fake backends plumb no host interface: no vif hotplug script. */
	if (t_sh(out, sizeof(out), "%s --dir %s attach --no-script %s %s %s", s->pvsim, s->dir, dom,
		 type, args))
		return -1;
	return atol(out);
}

/* ------------------------------------------------------------ counters */

static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t count_cond = PTHREAD_COND_INITIALIZER;

void t_count_bump(int *c)
{
	pthread_mutex_lock(&count_lock);
	(*c)++;
	pthread_cond_broadcast(&count_cond);
	pthread_mutex_unlock(&count_lock);
}

int t_count_get(int *c)
{
	int v;

	pthread_mutex_lock(&count_lock);
	v = *c;
	pthread_mutex_unlock(&count_lock);
	return v;
}

void t_count_set(int *c, int v)
{
	pthread_mutex_lock(&count_lock);
	*c = v;
	pthread_mutex_unlock(&count_lock);
}

int t_count_wait(int *c, int want)
{
	struct timespec ts;
	int ret = 0, v;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += T_WAIT_MS / 1000;
	pthread_mutex_lock(&count_lock);
	while (*c < want && ret == 0)
		ret = pthread_cond_timedwait(&count_cond, &count_lock, &ts);
	v = *c;
	pthread_mutex_unlock(&count_lock);
	return v;
}

/* ------------------------------------------------------------ backends */

static void *backend_main(void *opaque)
{
	struct t_backend *b = opaque;

	pv_loop_run(b->loop);
	return NULL;
}

int t_backend_start(struct t_backend *b, struct t_pvsim *s, unsigned n,
		    const struct pv_xb_backend_ops *const *ops, void *const *ctx)
{
	memset(b, 0, sizeof(*b));
	if (n > T_BACKENDS_MAX || pv_loop_create(&b->loop))
		return -1;
	act_as(s, 0);
	if (pv_xs_open(b->loop, &b->xs)) {
		b->xs = NULL;
		return -1;
	}
	for (b->n = 0; b->n < n; b->n++)
		if (pv_xb_backend_start(b->loop, b->xs, ops[b->n], ctx[b->n], &b->be[b->n]))
			return -1;
	if (pthread_create(&b->thread, NULL, backend_main, b))
		return -1;
	b->running = true;
	return 0;
}

static void stop_on_loop(void *opaque)
{
	struct t_backend *b = opaque;

	for (unsigned i = 0; i < b->n; i++)
		pv_xb_backend_stop(b->be[i]);
	pv_loop_stop(b->loop);
}

void t_backend_stop(struct t_backend *b)
{
	if (b->running) {
		pv_loop_call(b->loop, stop_on_loop, b);
		pthread_join(b->thread, NULL);
		b->running = false;
	} else {
		for (unsigned i = 0; i < b->n; i++)
			pv_xb_backend_stop(b->be[i]);
	}
	b->n = 0;
	if (b->xs)
		pv_xs_close(b->xs);
	if (b->loop)
		pv_loop_destroy(b->loop);
	b->xs = NULL;
	b->loop = NULL;
}

int t_backend_setup(struct t_backend *b, struct t_pvsim *s, const char *tag, unsigned n,
		    const struct pv_xb_backend_ops *const *ops, void *const *ctx)
{
	if (t_pvsim_start(s, tag, "guest"))
		return -1;
	pv_log_init(tag, false, getenv("PV_LOG_DEBUG") ? PV_LOG_DEBUG : PV_LOG_ERR);
	return t_backend_start(b, s, n, ops, ctx);
}

void t_backend_teardown(struct t_backend *b, struct t_pvsim *s)
{
	t_backend_stop(b);
	t_pvsim_stop(s);
}

struct t_run {
	struct t_backend *b;
	void (*fn)(void *arg);
	void *arg;
};

static void run_fn(void *opaque)
{
	struct t_run *r = opaque;

	if (r->fn)
		r->fn(r->arg);
	t_count_bump(&r->b->marks);
	free(r);
}

int t_backend_run(struct t_backend *b, void (*fn)(void *arg), void *arg)
{
	struct t_run *r = malloc(sizeof(*r));
	int want = t_count_get(&b->marks) + 1;

	if (!r)
		return -1;
	*r = (struct t_run){ b, fn, arg };
	if (pv_loop_call(b->loop, run_fn, r)) {
		free(r);
		return -1;
	}
	return t_count_wait(&b->marks, want) >= want ? 0 : -1;
}

struct try_ops {
	struct t_backend *b;
	const struct pv_xb_backend_ops *ops;
	int rc;
};

static void try_ops_fn(void *opaque)
{
	struct try_ops *t = opaque;
	struct pv_xb_backend *be;

	t->rc = pv_xb_backend_start(t->b->loop, t->b->xs, t->ops, NULL, &be);
	if (t->rc == 0)
		pv_xb_backend_stop(be);
}

int t_backend_try_ops(struct t_backend *b, const struct pv_xb_backend_ops *ops)
{
	struct try_ops *t = malloc(sizeof(*t));
	int rc;

	if (!t)
		return -1;
	*t = (struct try_ops){ b, ops, -1 };
	if (t_backend_run(b, try_ops_fn, t))
		return -1; /* the loop may still run it: t stays allocated */
	rc = t->rc;
	free(t);
	return rc;
}

/* -------------------------------------------------------- fake backend */

static struct t_fake *fake_of(struct pv_xb_dev *dev)
{
	return pv_xb_dev_ctx(dev);
}

int t_fake_probe(struct pv_xb_dev *dev)
{
	struct t_fake *fk = fake_of(dev);

	pthread_mutex_lock(&count_lock);
	fk->dev = dev;
	pthread_mutex_unlock(&count_lock);
	t_count_bump(&fk->probe);
	return pv_xb_dev_printf_be(dev, 0, "feature-fake", "1");
}

int t_fake_connect(struct pv_xb_dev *dev)
{
	struct t_fake *fk = fake_of(dev);
	uint64_t st = 0;

	pv_xb_dev_read_fe_uint(dev, "state", 0, 8, &st);
	pthread_mutex_lock(&count_lock);
	fk->fe_state_at_connect = (int)st;
	fk->dev = dev;
	pthread_mutex_unlock(&count_lock);
	t_count_bump(&fk->connect);
	return t_count_get(&fk->connect_rc);
}

void t_fake_disconnect(struct pv_xb_dev *dev) { t_count_bump(&fake_of(dev)->disconnect); }
void t_fake_remove(struct pv_xb_dev *dev) { t_count_bump(&fake_of(dev)->remove); }
#define FENCE_KEY "t-fence"

void t_fake_changed(struct pv_xb_dev *dev, const char *key)
{
	t_count_bump(!strcmp(key, FENCE_KEY) ? &fake_of(dev)->fences : &fake_of(dev)->changed);
}

int t_fake_reconfigure(struct pv_xb_dev *dev)
{
	struct t_fake *fk = fake_of(dev);

	t_count_bump(&fk->reconfigure);
	return t_count_get(&fk->reconfigure_rc);
}

struct pv_xb_dev *t_fake_dev(struct t_fake *fk)
{
	struct pv_xb_dev *dev;

	pthread_mutex_lock(&count_lock);
	dev = fk->dev;
	pthread_mutex_unlock(&count_lock);
	return dev;
}

struct pv_xb_backend_ops t_fake_ops(const char *type, bool connect_on_initialised)
{
	return (struct pv_xb_backend_ops){
		.type = type, .connect_on_initialised = connect_on_initialised,
		.hotplug = PV_XB_HOTPLUG_SELF,
		.probe = t_fake_probe, .connect = t_fake_connect, .disconnect = t_fake_disconnect,
		.remove = t_fake_remove, .changed = t_fake_changed, .reconfigure = t_fake_reconfigure,
	};
}

int t_backend_fence(struct t_pvsim *s, struct t_fake *fk, const char *bepath)
{
	int want = t_count_get(&fk->fences) + 1;
	char val[16];

	/* A new value each time: a write of the same value fires too, but say
	 * in the store which fence this was. */
	snprintf(val, sizeof(val), "%d", want);
	if (t_dom0_write(s, bepath, FENCE_KEY, val))
		return -1;
	return t_count_wait(&fk->fences, want) >= want ? 0 : -1;
}

/* ----------------------------------------------------------- frontends */

int t_front_open(struct t_front *tf, struct t_pvsim *s, const char *dom_name, unsigned domid,
		 const char *type, const char *args)
{
	long devid = t_pvsim_attach(s, dom_name, type, args);

	memset(tf, 0, sizeof(*tf));
	if (devid < 0 || t_pvsim_xs(s, domid, &tf->xs))
		return -1;
	tf->devid = (uint32_t)devid;
	if (pvfront_open(tf->xs, (uint16_t)domid, type, tf->devid, &tf->f)) {
		pv_xs_close(tf->xs);
		return -1;
	}
	return 0;
}

void t_front_close(struct t_front *tf)
{
	pvfront_close(tf->f);
	pv_xs_close(tf->xs);
	tf->f = NULL;
	tf->xs = NULL;
}

int t_front_switch(struct t_front *tf, int fe_state, int be_state)
{
	int ret = pvfront_switch_state(tf->f, fe_state);

	return ret < 0 ? ret : pvfront_wait_backend(tf->f, PVFRONT_STATE(be_state), T_WAIT_MS);
}

int t_front_write_ring(struct pvfront *f, uint32_t t, void *opaque)
{
	return pvfront_printf(f, t, "ring-ref", "%u", 8) ?:
	       pvfront_printf(f, t, "event-channel", "%u", 5);
}

int t_front_connect(struct pvfront *f, struct t_fake *fk)
{
	int want = t_count_get(&fk->connect) + 1;

	if (pvfront_switch_state(f, XenbusStateInitialising) < 0 ||
	    pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateInitWait), T_WAIT_MS) !=
		    XenbusStateInitWait ||
	    pvfront_transaction(f, t_front_write_ring, NULL) < 0 ||
	    pvfront_switch_state(f, XenbusStateInitialised) < 0 ||
	    pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateConnected), T_WAIT_MS) !=
		    XenbusStateConnected ||
	    pvfront_switch_state(f, XenbusStateConnected) < 0)
		return -1;
	return t_count_wait(&fk->connect, want) == want ? 0 : -1;
}
