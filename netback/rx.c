// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Guest RX: frames from the host port into the buffers the frontend posted
 * on the rx ring, as Linux 6.1's xen-netback rx.c lays them out:
 *
 *  - a frame needs ceil(len / (4096 - xdp_headroom)) data slots (at most
 *    17: what Linux netfront takes) plus one per extra (GSO, HASH, XDP
 *    headroom); it is delivered only
 *    when that many requests are posted, else it waits (req_event asks for
 *    the next one) and the port holds back;
 *  - pages are filled densely from xdp_headroom, one response per request
 *    in ring order (netfront pairs response i with request i): the first
 *    data slot (csum_blank / data_validated, extra_info, more_data), then
 *    the extras (FLAG_MORE chained), then the remaining data slots;
 *  - the data moves by grant copy, gathered over up to NET_RX_BATCH frames
 *    into one pv_copy_batch; a failed copy answers its slot
 *    NETIF_RSP_ERROR; rsp_prod is published only after whole frames.
 *
 * A queue whose frontend posts no buffer for rx_stall_ms while frames wait
 * counts as stalled: the vif's carrier goes off until it posts again.
 */
#include <errno.h>
#include <string.h>

#include "netback.h"

#define RX_MAX_EXTRAS 3u /* GSO, HASH, XDP: in type order, as Linux sends them */
#define RX_MAX_SLOTS (NET_RX_MAX_SLOTS + RX_MAX_EXTRAS)

/* A frame whose slots are consumed and data queued for copying: slot 0 is
 * the first data slot, slots 1..nr_extras the extras, then the data. */
struct rx_frame {
	struct net_pkt *pkt;
	void *slots[RX_MAX_SLOTS];
	uint16_t len[RX_MAX_SLOTS];  /* data bytes per data slot (0 for an extra) */
	unsigned nr_slots;
	uint16_t flags;              /* first data slot's NETRXF_* */
	struct netif_extra_info extra[RX_MAX_EXTRAS];
	unsigned nr_extras;
	unsigned headroom;
	int err[RX_MAX_SLOTS];       /* copy status per slot */
};

struct rx_batch {
	struct rx_frame f[NET_RX_BATCH];
	unsigned n;
};

static void copy_done(void *opaque, void *owner, const struct pv_hv_copy_seg *seg)
{
	int *err = owner;

	if (seg->status && !*err)
		*err = seg->status;
}

void net_rx_init(struct net_queue *q)
{
	q->rx_stall_timer = -1;
	pv_copy_batch_init(&q->rx_copy, q->hv, copy_done, q);
}

void net_rx_ready(void *opaque)
{
	struct net_queue *q = opaque;

	pv_queue_run(q->pq);
}

static void stall_change(struct net_queue *q, bool stalled)
{
	struct net_vif *vif = q->vif;

	if (stalled) {
		if (__atomic_add_fetch(&vif->stalled_queues, 1, __ATOMIC_ACQ_REL) == 1) {
			q->st.carrier_offs++;
			q->po->set_carrier(vif->port, false);
			pv_warn(q->name, "the frontend posts no receive buffers: carrier off");
		}
	} else if (__atomic_sub_fetch(&vif->stalled_queues, 1, __ATOMIC_ACQ_REL) == 0) {
		q->po->set_carrier(vif->port, true);
		pv_info(q->name, "receive buffers again: carrier on");
	}
	q->rx_stalled = stalled;
}

static void on_stall(struct pv_loop *loop, void *opaque)
{
	struct net_queue *q = opaque;

	q->rx_stall_timer = -1;
	if (q->rx_paused && !q->rx_stalled)
		stall_change(q, true);
}

/* Waiting for guest buffers: hold the port back, and count the time. */
static void wait_buffers(struct net_queue *q)
{
	q->st.rx_no_buffers++;
	if (!q->rx_paused) {
		q->rx_paused = true;
		q->po->rx_pause(q->port, true);
	}
	if (q->rx_stall_timer < 0 && !q->rx_stalled && q->vif->cfg->rx_stall_ms)
		q->rx_stall_timer = pv_loop_add_timer(pv_queue_loop(q->pq), q->vif->cfg->rx_stall_ms,
						      on_stall, q);
}

static void buffers_back(struct net_queue *q)
{
	if (q->rx_stall_timer > 0) {
		pv_loop_del_timer(pv_queue_loop(q->pq), q->rx_stall_timer);
		q->rx_stall_timer = -1;
	}
	if (q->rx_stalled)
		stall_change(q, false);
	if (q->rx_paused) {
		q->rx_paused = false;
		q->po->rx_pause(q->port, false);
	}
}

/* Write the frames' responses in slot order, push them, give the frames
 * back to the port. */
static void batch_flush(struct net_queue *q, struct rx_batch *b)
{
	struct net_pkt *done[NET_RX_BATCH];
	unsigned i, k;

	if (!b->n)
		return;
	pv_copy_batch_flush(&q->rx_copy);
	for (i = 0; i < b->n; i++) {
		struct rx_frame *f = &b->f[i];
		unsigned data_left = 0;

		for (k = 0; k < f->nr_slots; k++)
			data_left += f->len[k] ? 1 : 0;
		for (k = 0; k < f->nr_slots; k++) {
			const struct net_rx_slot *rs = f->slots[k];
			void *rsp = pv_queue_answer(q->pq, NET_RING_RX, f->slots[k]);

			if (k >= 1 && k <= f->nr_extras) {
				struct netif_extra_info *e = rsp;

				*e = f->extra[k - 1];
				e->flags = k < f->nr_extras ? XEN_NETIF_EXTRA_FLAG_MORE : 0;
				continue;
			}
			struct netif_rx_response *r = rsp;

			data_left--;
			r->id = rs->id;
			r->offset = 0;
			r->flags = data_left ? NETRXF_more_data : 0;
			if (k == 0)
				r->flags |= f->flags | (f->nr_extras ? NETRXF_extra_info : 0);
			r->status = f->err[k] ? NETIF_RSP_ERROR :
						(int16_t)(f->headroom + f->len[k]);
			if (f->err[k])
				q->st.rx_errors++;
		}
		done[i] = f->pkt;
	}
	pv_queue_flush(q->pq);
	q->po->rx_release(q->port, done, b->n);
	b->n = 0;
}

/* The frontend's Toeplitz hash of the frame, as a HASH extra (ctrl ring);
 * the vif's settings are copied when they changed. */
static bool hash_extra(struct net_queue *q, const struct net_pkt *pkt, struct netif_extra_info *e)
{
	struct net_vif *vif = q->vif;
	unsigned gen = __atomic_load_n(&vif->hash_gen, __ATOMIC_ACQUIRE);
	uint32_t value;
	uint8_t type;

	if (gen != q->hash_gen) {
		pthread_mutex_lock(&vif->hash_lock);
		q->hash = vif->hash;
		q->hash_gen = vif->hash_gen;
		pthread_mutex_unlock(&vif->hash_lock);
	}
	if (!net_hash_frame(&q->hash, pkt->data, pkt->len, &value, &type))
		return false;
	*e = (struct netif_extra_info){ .type = XEN_NETIF_EXTRA_TYPE_HASH };
	e->u.hash.type = type;
	e->u.hash.algorithm = XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
	memcpy(e->u.hash.value, &value, sizeof(value));
	return true;
}

/* Deliver one frame: 1 done (delivered or dropped), 0 wait for buffers. */
static int deliver(struct net_queue *q, struct rx_batch *b, struct net_pkt *pkt)
{
	struct net_vif *vif = q->vif;
	unsigned headroom = __atomic_load_n(&vif->feat.xdp_headroom, __ATOMIC_RELAXED);
	unsigned room = NET_PAGE_SIZE - headroom, data_slots, need, k, pos = 0;
	struct netif_extra_info gso;
	struct rx_frame *f;
	uint16_t flags;
	const void *raw;
	void *slot;

	if (pkt->len < NET_ETH_HLEN || !net_mcast_pass(vif, pkt->data) ||
	    net_offload_to_rx(&pkt->vh, &vif->feat, &flags, &gso) < 0)
		goto drop;
	/* A frontend that takes no partial checksum gets a complete one. */
	if ((flags & NETRXF_csum_blank) && !(vif->feat.csum && vif->feat.ipv6_csum)) {
		if (net_csum_complete(pkt->data, pkt->len, &pkt->vh) < 0)
			goto drop;
		flags = NETRXF_data_validated;
	}
	data_slots = (pkt->len + room - 1) / room;
	if (data_slots > NET_RX_MAX_SLOTS || (data_slots > 1 && !vif->feat.sg))
		goto drop;
	f = &b->f[b->n];
	*f = (struct rx_frame){ .pkt = pkt, .flags = flags, .headroom = headroom };
	if (gso.type)
		f->extra[f->nr_extras++] = gso;
	if (hash_extra(q, pkt, &f->extra[f->nr_extras]))
		f->nr_extras++;
	if (headroom) {
		/* Where the data starts in each slot: Linux netback's XDP
		 * extra; without it a netfront reads the headroom as data. */
		struct netif_extra_info *e = &f->extra[f->nr_extras++];

		*e = (struct netif_extra_info){ .type = PV_NETIF_EXTRA_TYPE_XDP };
		pv_netif_extra_set_xdp_headroom(e, (uint16_t)headroom);
	}
	need = data_slots + f->nr_extras;
	if (!pv_queue_want(q->pq, NET_RING_RX, need)) {
		q->rx_need = need;
		return 0;
	}
	b->n++;
	for (k = 0; k < need; k++) {
		struct netif_rx_request req;
		struct net_rx_slot *rs;

		/* want() counted them: next() cannot come back empty here. */
		if (pv_queue_next(q->pq, NET_RING_RX, &slot, &raw) <= 0)
			break;
		memcpy(&req, raw, sizeof(req));
		rs = slot;
		rs->id = req.id;
		rs->gref = req.gref;
		f->slots[f->nr_slots++] = slot;
		if (k >= 1 && k <= f->nr_extras)
			continue; /* an extra's slot carries no data */
		f->len[k] = (uint16_t)(pkt->len - pos < room ? pkt->len - pos : room);
		struct pv_hv_copy_seg seg = {
			.ref = req.gref,
			.domid = q->domid,
			.offset = (uint16_t)headroom,
			.local = pkt->data + pos,
			.len = f->len[k],
			.to_guest = true,
		};
		pv_copy_batch_add(&q->rx_copy, &seg, &f->err[k]);
		pos += f->len[k];
	}
	if (f->nr_slots < need) { /* dead meanwhile: nothing will be answered */
		b->n--;
		goto drop;
	}
	q->st.rx_packets++;
	q->st.rx_bytes += pkt->len;
	if (gso.type)
		q->st.rx_gso++;
	if (flags & NETRXF_csum_blank)
		q->st.rx_csum_blank++;
	return 1;
drop:
	q->st.rx_drops++;
	q->po->rx_release(q->port, &pkt, 1);
	return 1;
}

void net_rx_run(struct net_queue *q)
{
	static __thread struct rx_batch batch;
	struct rx_batch *b = &batch;
	/* Polled: a share per round, so one flooded vif cannot hold the worker. */
	unsigned budget = pv_queue_polled(q->pq) ? NET_POLL_BUDGET : ~0u;

	if (pv_queue_dead(q->pq) || pv_queue_stopping(q->pq))
		return;
	for (; budget; budget--) {
		if (q->rx_next == q->rx_n) {
			q->rx_next = q->rx_n = 0;
			q->rx_n = q->po->rx_burst(q->port, q->rx_pkts, NET_RX_BATCH);
			if (!q->rx_n)
				break;
		}
		if (b->n == NET_RX_BATCH)
			batch_flush(q, b);
		if (!deliver(q, b, q->rx_pkts[q->rx_next])) {
			batch_flush(q, b); /* what was delivered is pushed; wait for more */
			wait_buffers(q);
			return;
		}
		q->rx_next++;
	}
	batch_flush(q, b);
	buffers_back(q);
}

void net_rx_fini(struct net_queue *q)
{
	/* Frames taken from the port and never delivered go back. */
	if (q->rx_next < q->rx_n)
		q->po->rx_release(q->port, q->rx_pkts + q->rx_next, q->rx_n - q->rx_next);
	q->rx_next = q->rx_n = 0;
	if (q->rx_stall_timer > 0)
		pv_loop_del_timer(pv_queue_loop(q->pq), q->rx_stall_timer);
	if (q->rx_stalled)
		stall_change(q, false);
}
