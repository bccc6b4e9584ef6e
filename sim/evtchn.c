/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pvsim event-channel port tables: the state machine of Xen's
 * xen/common/event_channel.c (alloc_unbound, bind_interdomain, close) on
 * plain memory, without fds or sockets, so tests drive it directly.  The
 * daemon (hv_server.c) attaches eventfds and owners; the data path (notify,
 * pending, unmask) never comes here: it is an eventfd write in the client.
 *
 * Single-threaded: the daemon's loop thread owns every table.  Each change
 * of a port bumps its generation so clients drop a cached peer eventfd.
 *
 * Differences from Xen: only interdomain channels (no VIRQ, IPI, PIRQ);
 * ports are not bound to vCPUs; no FIFO ABI, 4096 ports per domain.
 */
#include <errno.h>
#include <string.h>

#include "evtchn.h"

void sim_evtchn_dom_init(struct sim_evtchn_dom *d, uint16_t domid, uint32_t *gen)
{
	uint32_t i;

	memset(d, 0, sizeof(*d));
	d->domid = domid;
	d->gen = gen;
	for (i = 0; i < SIM_EVTCHN_PORTS; i++)
		d->port[i].efd = -1;
}

/* Xen's get_free_port(): the lowest free port; port 0 is never used. */
static int get_free_port(struct sim_evtchn_dom *d)
{
	uint32_t p;

	for (p = 1; p < SIM_EVTCHN_PORTS; p++)
		if (d->port[p].state == SIM_ECS_FREE)
			return (int)p;
	return -ENOSPC;
}

int sim_evtchn_alloc_unbound(struct sim_evtchn_dom *ld, uint16_t remote_dom, void *owner)
{
	struct sim_evtchn_port *c;
	int p = get_free_port(ld);

	if (p < 0)
		return p;
	c = &ld->port[p];
	c->state = SIM_ECS_UNBOUND;
	c->remote_dom = remote_dom == DOMID_SELF ? ld->domid : remote_dom;
	c->remote_port = 0;
	c->owner = owner;
	sim_evtchn_bump(ld, p);
	return p;
}

int sim_evtchn_bind_interdomain(struct sim_evtchn_dom *ld, struct sim_evtchn_dom *rd,
				uint32_t rport, void *owner)
{
	struct sim_evtchn_port *lc, *rc;
	int lport;

	if (rport >= SIM_EVTCHN_PORTS || rport == 0)
		return -EINVAL;
	rc = &rd->port[rport];
	if (rc->state != SIM_ECS_UNBOUND || rc->remote_dom != ld->domid)
		return -EINVAL;
	lport = get_free_port(ld);
	if (lport < 0)
		return lport;
	lc = &ld->port[lport];
	lc->state = SIM_ECS_INTERDOMAIN;
	lc->remote_dom = rd->domid;
	lc->remote_port = rport;
	lc->owner = owner;
	rc->state = SIM_ECS_INTERDOMAIN;
	rc->remote_dom = ld->domid;
	rc->remote_port = (uint32_t)lport;
	sim_evtchn_bump(ld, lport);
	sim_evtchn_bump(rd, rport);
	return lport;
}

int sim_evtchn_close(struct sim_evtchn_dom *ld, uint32_t port, sim_evtchn_lookup_fn *lookup,
		     void *opaque)
{
	struct sim_evtchn_port *c;

	if (port >= SIM_EVTCHN_PORTS)
		return -EINVAL;
	c = &ld->port[port];
	switch (c->state) {
	case SIM_ECS_UNBOUND:
		break;
	case SIM_ECS_INTERDOMAIN: {
		struct sim_evtchn_dom *rd = lookup ? lookup(opaque, c->remote_dom) : NULL;

		if (rd) {
			struct sim_evtchn_port *rc = &rd->port[c->remote_port];

			/* The peer's end returns to unbound, for us. */
			rc->state = SIM_ECS_UNBOUND;
			rc->remote_dom = ld->domid;
			rc->remote_port = 0;
			sim_evtchn_bump(rd, c->remote_port);
		}
		break;
	}
	default:
		return -EINVAL;
	}
	c->state = SIM_ECS_FREE;
	c->remote_dom = 0;
	c->remote_port = 0;
	c->owner = NULL;
	sim_evtchn_bump(ld, port);
	return 0;
}

struct sim_evtchn_port *sim_evtchn_owned(struct sim_evtchn_dom *ld, uint32_t port,
					 const void *owner)
{
	struct sim_evtchn_port *c;

	if (port >= SIM_EVTCHN_PORTS)
		return NULL;
	c = &ld->port[port];
	return c->state == SIM_ECS_FREE || c->owner != owner ? NULL : c;
}
