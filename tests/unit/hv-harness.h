/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test harness for the hypervisor layer: a pvsim hypervisor (sim/hv_server.c)
 * on a pv_loop in a thread of the test process, with PVSIM_DIR set to a fresh
 * temporary directory.  Domains 0, 1 and 2 exist (16 MiB each, dom0 too so it
 * can share).  Handles of any domain open in the same process; forked
 * children open their own.
 */
#ifndef T_HV_HARNESS_H
#define T_HV_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "pvcommon.h"

#define T_SEGV_EXIT 99 /* a child's SIGSEGV handler exits with this */

struct t_sim;

/* 0 or -errno. */
int t_sim_start(struct t_sim **out);
void t_sim_stop(struct t_sim *ts);
/* Run on the daemon's thread and wait: 0 or -errno. */
int t_sim_domain_create(struct t_sim *ts, uint16_t domid, uint64_t mem_bytes);
int t_sim_domain_destroy(struct t_sim *ts, uint16_t domid);
/* Wait until the daemon handled every event already pending (e.g. the
 * hangup of a handle just closed): two round trips through its loop. */
void t_sim_sync(struct t_sim *ts);
/* Domains destroyed by the crash callback so far. */
unsigned t_sim_crashes(struct t_sim *ts);
/* Open a sim handle acting as domid (sets PVSIM_DOMID). NULL on failure. */
struct pv_hv *t_hv_open(uint16_t domid);

/* The group fixture of the hv integration tests: the sim, and a handle of
 * the guest (domain 1, which shares) and of the backend (domain 0, which
 * maps). */
struct t_hv_fixture {
	struct t_sim *ts;
	struct pv_hv *guest;
	struct pv_hv *be;
};
/* cmocka group setup and teardown: *state is the struct t_hv_fixture. */
int t_hv_fixture_setup(void **state);
int t_hv_fixture_teardown(void **state);
/* Fork; the child runs fn(arg) and exits with its return value.  Returns the
 * wait status, or -1.  SIGSEGV in the child exits with T_SEGV_EXIT (also
 * under ASan, which would otherwise report and abort). */
int t_fork_run(int (*fn)(void *arg), void *arg);
/* Wait up to ms for fd to become readable: 1, 0 on timeout, -errno. */
int t_wait_readable(int fd, int ms);

#endif
