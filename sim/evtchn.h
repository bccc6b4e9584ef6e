/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pvsim's event-channel port tables (sim/evtchn.c): a pure state machine run
 * by the daemon only (sim/hv_server.c); clients see a port's generation
 * table read-only (common/hv_sim_abi.h, SIM_HV_WFD_EVTGEN).  No I/O and no
 * global state, so unit tests call it on plain memory.
 */
#ifndef PVSIM_EVTCHN_H
#define PVSIM_EVTCHN_H

#include <stdint.h>

#include "hv_sim_abi.h"

enum sim_evtchn_state {
	SIM_ECS_FREE = 0,
	SIM_ECS_UNBOUND,     /* allocated for remote_dom */
	SIM_ECS_INTERDOMAIN, /* connected to remote_dom:remote_port */
};

struct sim_evtchn_port {
	uint8_t state;        /* enum sim_evtchn_state */
	uint16_t remote_dom;
	uint32_t remote_port;
	void *owner;          /* the handle (connection) that bound it */
	int efd;              /* its eventfd, -1 when none (unit tests) */
};

/* One domain's port table (daemon-private) plus its generation table, which
 * the daemon bumps on every change of a port so clients notice re-binds. */
struct sim_evtchn_dom {
	uint16_t domid;
	struct sim_evtchn_port port[SIM_EVTCHN_PORTS];
	uint32_t *gen;        /* SIM_EVTCHN_PORTS entries, shared read-only */
};

typedef struct sim_evtchn_dom *sim_evtchn_lookup_fn(void *opaque, uint16_t domid);

void sim_evtchn_dom_init(struct sim_evtchn_dom *d, uint16_t domid, uint32_t *gen);
/* EVTCHNOP_alloc_unbound: lowest free port >= 1, or -ENOSPC. */
int sim_evtchn_alloc_unbound(struct sim_evtchn_dom *ld, uint16_t remote_dom, void *owner);
/* EVTCHNOP_bind_interdomain: -EINVAL unless rport is unbound for ld. */
int sim_evtchn_bind_interdomain(struct sim_evtchn_dom *ld, struct sim_evtchn_dom *rd,
				uint32_t rport, void *owner);
/* EVTCHNOP_close: an interdomain peer returns to unbound (for ld->domid).
 * -EINVAL for a free or out-of-range port. */
int sim_evtchn_close(struct sim_evtchn_dom *ld, uint32_t port, sim_evtchn_lookup_fn *lookup,
		     void *opaque);
/* The port of ld that owner bound (a request names only its own ports), or
 * NULL: out of range, free, or another handle's. */
struct sim_evtchn_port *sim_evtchn_owned(struct sim_evtchn_dom *ld, uint32_t port,
					 const void *owner);
static inline void sim_evtchn_bump(struct sim_evtchn_dom *d, uint32_t port)
{
	if (d->gen)
		__atomic_add_fetch(&d->gen[port], 1, __ATOMIC_RELEASE);
}

#endif /* PVSIM_EVTCHN_H */
