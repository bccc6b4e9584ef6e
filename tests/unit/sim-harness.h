/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test helper (t_ prefix): a private pvsim instance driven through its CLI,
 * for cmocka tests that need a real xenstored (xenbus framework tests), and
 * what those tests share: backends on the xenbus framework with their loop
 * in a thread, a fake backend whose ops record what they saw, counters the
 * test thread waits on (never a sleep), and a frontend opened through
 * libpvfront.  Helpers return 0 / -1 (or -errno); they do not assert.
 * struct t_pvsim is not hv-harness.h's struct t_sim (pvsim's hypervisor on
 * a thread of the test process): both link into one binary.
 */
#ifndef T_PVSIM_HARNESS_H
#define T_PVSIM_HARNESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pv_hv;
struct pv_loop;
struct pv_xs;
struct pv_xb_backend;
struct pv_xb_backend_ops;
struct pv_xb_dev;
struct pvfront;

#define T_WAIT_MS 10000 /* bound of every wait on the other side */

struct t_pvsim {
	char dir[64];    /* the instance's run directory (removed by t_pvsim_stop) */
	char pvsim[512]; /* $PVBACK_BUILD/bin/pvsim */
	unsigned guest;  /* domid of the guest created by t_pvsim_start */
};

/* Run a shell command (printf-style); its stdout into out (if given).
 * Returns pclose()'s status: 0 on success. */
int t_sh(char *out, size_t outlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Start pvsim in a fresh /tmp/<tag>.XXXXXX, create guest NAME (64 MiB), point
 * XENSTORED_PATH and PVSIM_DOMID at dom0.  Exits 77 if pvsim is not built. */
int t_pvsim_start(struct t_pvsim *s, const char *tag, const char *guest_name);
void t_pvsim_stop(struct t_pvsim *s);
/* A xenstore connection acting as domain dom (points XENSTORED_PATH at its
 * socket).  0 or -errno. */
int t_pvsim_xs(struct t_pvsim *s, unsigned dom, struct pv_xs **out);
/* A pvsim hv handle acting as domain dom of s (sets PVSIM_DIR and
 * PVSIM_DOMID), or NULL. */
struct pv_hv *t_pvsim_hv(struct t_pvsim *s, unsigned dom);
/* As the toolstack (dom0): write dir/key = val; val NULL removes dir/key,
 * or dir itself when key is NULL too.  0 or -errno. */
int t_dom0_write(struct t_pvsim *s, const char *dir, const char *key, const char *val);
/* The framework's error node of a device (error/backend/<type>/<dom>/<devid>/
 * error, "<errno> <text>"), malloc'd, or NULL. */
char *t_error_node(struct t_pvsim *s, const char *type, unsigned dom, uint32_t devid);
/* `pvsim attach --no-script DOM TYPE ARGS` (libxl's nodes; a test plays
 * the hotplug script): the new devid, or -1. */
long t_pvsim_attach(struct t_pvsim *s, const char *dom, const char *type, const char *args);

/* ------------------------------------------------ counters (any thread) */

void t_count_bump(int *c);
int t_count_get(int *c);
void t_count_set(int *c, int v);
/* Wait until *c >= want, at most T_WAIT_MS: the value then. */
int t_count_wait(int *c, int want);

/* ------------------------------------- backends on the xenbus framework */

#define T_BACKENDS_MAX 2

struct t_backend {
	struct pv_loop *loop;
	struct pv_xs *xs;
	struct pv_xb_backend *be[T_BACKENDS_MAX];
	unsigned n;
	pthread_t thread;
	bool running;
	int marks;               /* t_backend_run's counter */
};

/* Start n backends (ops[i] with ctx[i]) as dom0 of s, on one loop thread. */
int t_backend_start(struct t_backend *b, struct t_pvsim *s, unsigned n,
		    const struct pv_xb_backend_ops *const *ops, void *const *ctx);
/* Stops the backends on their loop (ops->disconnect/remove run), joins. */
void t_backend_stop(struct t_backend *b);
/* What pv_xb_backend_start() says to ops (run on the backend loop; a
 * backend it starts is stopped again at once): 0, -errno, or -1. */
int t_backend_try_ops(struct t_backend *b, const struct pv_xb_backend_ops *ops);
/* A cmocka group's setup and teardown: t_pvsim_start(s, tag, "guest"),
 * logging as tag (errors only; everything with $PV_LOG_DEBUG set), then
 * t_backend_start; the teardown stops both. */
int t_backend_setup(struct t_backend *b, struct t_pvsim *s, const char *tag, unsigned n,
		    const struct pv_xb_backend_ops *const *ops, void *const *ctx);
void t_backend_teardown(struct t_backend *b, struct t_pvsim *s);
/* Run fn(arg) on the backend loop (fn may be NULL) and return once it ran,
 * with everything queued there before it, e.g. the watch event a frontend
 * write raised.  0 or -1. */
int t_backend_run(struct t_backend *b, void (*fn)(void *arg), void *arg);
static inline int t_backend_sync(struct t_backend *b)
{
	return t_backend_run(b, NULL, NULL);
}

/* A fake backend: the t_fake_* ops record calls in the struct t_fake that
 * is the backend's ctx; connect and reconfigure return what it says. */
struct t_fake {
	int probe, connect, disconnect, remove, changed, reconfigure;
	int fences;                  /* changed calls for t_backend_fence's key */
	int fe_state_at_connect;     /* frontend state when connect ran */
	int connect_rc, reconfigure_rc;
	struct pv_xb_dev *dev;       /* device of the last probe or connect (t_fake_dev) */
};
int t_fake_probe(struct pv_xb_dev *dev);      /* writes feature-fake=1 */
int t_fake_connect(struct pv_xb_dev *dev);
void t_fake_disconnect(struct pv_xb_dev *dev);
void t_fake_remove(struct pv_xb_dev *dev);
void t_fake_changed(struct pv_xb_dev *dev, const char *key);
int t_fake_reconfigure(struct pv_xb_dev *dev);
struct pv_xb_dev *t_fake_dev(struct t_fake *fk);
/* An ops table of the t_fake_* ops (SELF hotplug), to copy and adjust. */
struct pv_xb_backend_ops t_fake_ops(const char *type, bool connect_on_initialised);
/* Return once the fake backend of the device at bepath handled every
 * xenstore event raised before now (the frontend's state writes
 * included): the toolstack writes a key there, and its changed op is in
 * order behind them.  Needs ops->changed = t_fake_changed.  0 or -1. */
int t_backend_fence(struct t_pvsim *s, struct t_fake *fk, const char *bepath);

/* -------------------------------------------------------- frontends */

struct t_front {
	struct pv_xs *xs;            /* the guest's own xenstore connection */
	struct pvfront *f;
	uint32_t devid;
};

/* Attach a device of type to domain dom_name (id domid) and open its
 * frontend.  0 or -1. */
int t_front_open(struct t_front *tf, struct t_pvsim *s, const char *dom_name, unsigned domid,
		 const char *type, const char *args);
void t_front_close(struct t_front *tf);
/* Switch the frontend to fe_state, then wait (T_WAIT_MS) for the backend
 * to reach be_state: be_state, or -errno (-ETIMEDOUT). */
int t_front_switch(struct t_front *tf, int fe_state, int be_state);
/* The frontend side of a blkif-style connection to a fake backend:
 * Initialising, ring keys, Initialised, the backend's Connected, Connected;
 * 0 once fk counted the connect, -1 otherwise. */
int t_front_connect(struct pvfront *f, struct t_fake *fk);
/* Writes ring-ref=8 and event-channel=5 (what the fake backends ignore). */
int t_front_write_ring(struct pvfront *f, uint32_t t, void *opaque);

#endif
