/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test helper (t_ prefix): a private pvsim instance driven through its CLI,
 * for cmocka tests that need a real xenstored (xenbus framework tests).
 */
#ifndef T_SIM_HARNESS_H
#define T_SIM_HARNESS_H

#include <stddef.h>

struct t_sim {
	char dir[64];    /* the instance's run directory (removed by t_sim_stop) */
	char pvsim[512]; /* $PVBACK_BUILD/bin/pvsim */
	unsigned guest;  /* domid of the guest created by t_sim_start */
};

/* Run a shell command (printf-style); its stdout into out (if given).
 * Returns pclose()'s status: 0 on success. */
int t_sh(char *out, size_t outlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Start pvsim in a fresh /tmp/<tag>.XXXXXX, create guest NAME (64 MiB), point
 * XENSTORED_PATH and PVSIM_DOMID at dom0.  Exits 77 if pvsim is not built. */
int t_sim_start(struct t_sim *s, const char *tag, const char *guest_name);
void t_sim_stop(struct t_sim *s);

#endif
