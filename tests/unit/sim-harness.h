/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test helpers (t_ prefix) for cmocka tests that need a real xenstored
 * (xenbus framework tests): a private pvsim instance driven through its CLI
 * (t_pvsim_*), a pv_xb backend on its own loop thread as a backend daemon
 * runs it (t_backend_*), counters the backend thread bumps and the test
 * thread waits on (t_count_*), and a frontend's fake ring keys.  Every wait
 * is bounded and woken by the event itself, never a sleep.  Not to be
 * confused with hv-harness.h's struct t_sim, pvsim's hypervisor on a thread
 * of the test process: both link into one binary.
 */
#ifndef T_PVSIM_HARNESS_H
#define T_PVSIM_HARNESS_H

#include <stddef.h>
#include <stdint.h>

struct pv_xb_backend_ops;
struct pv_xs;
struct pvfront;

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
/* `pvsim create NAME --mem 64M`: the new domain's id, or -1. */
int t_pvsim_create(struct t_pvsim *s, const char *name);
/* `pvsim attach NAME TYPE ARGS` (libxl's nodes): the devid it prints, or -1. */
int64_t t_pvsim_attach(struct t_pvsim *s, const char *name, const char *type, const char *args);
/* A xenstore connection (no loop) acting as domain dom: XENSTORED_PATH is
 * set to dom's socket for it and stays so.  NULL on failure. */
struct pv_xs *t_pvsim_xs(struct t_pvsim *s, unsigned dom);

/*
 * One backend type on its own pv_loop thread with its own xenstore
 * connection as dom0 (XENSTORED_PATH when started), as a backend daemon runs
 * it.  Start and stop on the test's thread.
 */
struct t_backend;
/* pv_xb_backend_start(ops, ctx) on a new loop, run in a new thread: 0 or -errno. */
int t_backend_start(const struct pv_xb_backend_ops *ops, void *ctx, struct t_backend **out);
/* pv_xb_backend_stop() on the loop (disconnects and removes every device),
 * then join and free.  NULL is a no-op. */
void t_backend_stop(struct t_backend *b);
/* Wait until everything queued on the backend's loop before this call has
 * run (a round trip through pv_loop_call): 0, or -ETIMEDOUT after ms. */
int t_backend_sync(struct t_backend *b, int ms);

/* Counters and values handed from the backend thread to the test thread,
 * all under one lock: the writer bumps or sets, the reader gets or waits. */
void t_count_bump(int *count);
void t_count_set(int *v, int value);
int t_count_get(const int *v);
/* Wait until *count >= want or ms passed; returns *count then. */
int t_count_wait(const int *count, int want, int ms);

/* A pvfront_transaction callback writing ring-ref 8 and event-channel 5:
 * the keys a fake backend's connect reads, with no ring behind them. */
int t_front_fake_ring(struct pvfront *f, uint32_t txn, void *opaque);

#endif
