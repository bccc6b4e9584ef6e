// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The vif's ctrl ring (feature-ctrl-ring: ctrl-ring-ref, event-channel-ctrl)
 * on a pv_queue of its own: one ring of xen_netif_ctrl requests, each
 * answered at once by net_ctrl_handle (hash.c) against the vif's hash
 * settings, the key and mapping table fetched by grant copy.  Settings
 * change under vif->hash_lock and bump vif->hash_gen, so guest-RX threads
 * take a new copy only when it changed.  Linux netfront does not use the
 * ctrl ring; Windows PV drivers do.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netback.h"

struct net_ctrl {
	struct pv_queue *pq;
	struct net_vif *vif;
};

struct ctrl_copy {
	struct pv_hv *hv;
	uint16_t domid;
};

static int copy_in(void *opaque, uint32_t gref, void *buf, uint32_t len)
{
	struct ctrl_copy *c = opaque;
	struct pv_hv_copy_seg seg = { .ref = gref, .domid = c->domid, .local = buf,
				      .len = (uint16_t)len };

	return len > NET_PAGE_SIZE ? -EINVAL : pv_hv_copy(c->hv, 1, &seg);
}

static void ctrl_run(struct pv_queue *pq, unsigned events)
{
	struct net_ctrl *c = pv_queue_priv(pq);
	struct net_vif *vif = c->vif;
	struct ctrl_copy cc = { pv_queue_hv(pq), pv_queue_domid(pq) };
	struct xen_netif_ctrl_request req;
	struct xen_netif_ctrl_response *rsp;
	const void *raw;
	uint32_t status, data;
	void *slot;

	while (pv_queue_next(pq, 0, &slot, &raw) > 0) {
		memcpy(&req, raw, sizeof(req));
		pthread_mutex_lock(&vif->hash_lock);
		status = net_ctrl_handle(&vif->hash, vif->nr_queues, &req, copy_in, &cc, &data);
		__atomic_add_fetch(&vif->hash_gen, 1, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&vif->hash_lock);
		if (status == XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED)
			pv_debug(pv_queue_name(pq), "ctrl request type %u not supported", req.type);
		rsp = pv_queue_answer(pq, 0, slot);
		rsp->id = req.id;
		rsp->type = req.type;
		rsp->status = status;
		rsp->data = data;
	}
	pv_queue_flush(pq);
}

static int ctrl_start(struct pv_queue *pq)
{
	return 0;
}

static bool ctrl_poll(struct pv_queue *pq)
{
	return false;
}

static bool ctrl_idle(struct pv_queue *pq)
{
	return true; /* every request is answered in the run that took it */
}

static void ctrl_quiesce(struct pv_queue *pq)
{
}

static void ctrl_fini(struct pv_queue *pq)
{
}

static const struct pv_queue_ops net_ctrl_ops = {
	.proto = "nctl",
	.start = ctrl_start,
	.run = ctrl_run,
	.poll = ctrl_poll,
	.idle = ctrl_idle,
	.quiesce = ctrl_quiesce,
	.fini = ctrl_fini,
};

int net_ctrl_start(struct net_vif *vif, const struct net_ctrl_params *cp, struct net_ctrl **out)
{
	struct pv_queue_params p = {
		.name = vif->name,
		.dev = vif->dev,
		.violation = vif->violation,
		.violation_opaque = vif->violation_opaque,
		.idx = NET_MAX_QUEUES, /* "vif-D-N/q8": after the data queues */
		.domid = vif->domid,
		.hv_kind = vif->cfg->pv.hv_kind,
		.nr_rings = 1,
		.rings = { {
			.name = "ctrl",
			.nr_refs = 1,
			.refs = { cp->ref },
			.ent_size = sizeof(union xen_netif_ctrl_sring_entry),
			.slot_size = 1,
			.port = 0,
			.drain_on_stop = true,
		} },
		.nr_ports = 1,
		.ports = { cp->port },
	};
	struct net_ctrl *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return -ENOMEM;
	c->vif = vif;
	p.priv = c;
	rc = pv_queue_start(&net_ctrl_ops, &p, &c->pq);
	if (rc < 0) {
		free(c);
		return rc;
	}
	*out = c;
	return 0;
}

struct pv_queue *net_ctrl_pv(struct net_ctrl *c)
{
	return c->pq;
}

void net_ctrl_stop(struct net_ctrl *c)
{
	if (!c)
		return;
	pv_queue_stop(c->pq);
	free(c);
}
