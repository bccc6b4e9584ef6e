/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test helper (t_ prefix): a private pvsim instance driven through its CLI
 * (t_pvsim_*), for cmocka tests that need a real xenstored (xenbus framework
 * tests).  Not to be confused with hv-harness.h's struct t_sim, pvsim's
 * hypervisor on a thread of the test process: both link into one binary.
 */
#ifndef T_PVSIM_HARNESS_H
#define T_PVSIM_HARNESS_H

#include <stddef.h>

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

#endif
