// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Guest TX: the frontend's packets, from the tx ring to the host port.
 *
 * Each slot is copied out of the ring once (pv_queue_next) and fed to the
 * packet assembler (request.c), which applies Linux netback's slot rules.
 * A complete packet is checked against the credit (`rate`), then its data
 * is grant-copied into one of the queue's packet buffers; up to
 * NET_TX_BATCH packets share one pv_copy_batch (one GNTTABOP_copy per 64
 * segments on Xen) and one port burst (one io_uring submit for a TAP).
 * Every slot gets exactly one response: the first and the data slots OKAY
 * (or ERROR for a dropped packet or a failed copy or map), extras
 * NETIF_RSP_NULL; a copied packet's are written once the copy is done and
 * pushed per batch.  A multicast add/del extra makes a dummy request: the
 * list changes, the slots are answered, nothing is sent.
 *
 * Zero copy (--tx-map-min, a NET_PORT_TX_SEGS port): a packet that large
 * has its first NET_TX_COPY_HEAD bytes copied (the headers we parse are
 * ours) and the rest of its slots mapped read-only, handed to the port as
 * segments.  The mapped pages of a burst are one pv_hv_map (one per packet
 * when that fails: only the packet with the bad grant is answered ERROR);
 * the mapping goes when its last packet is back from the port (tx_done),
 * and only then are its packets answered: netfront (Linux's and ours)
 * breaks on a response whose grant is still mapped.  Answers of packets
 * the port gives back outside a run are pushed by a kick.  A stop waits
 * NET_TX_STOP_WAIT_MS for packets the port keeps, then ends; the port's
 * queue_close gives them back, and what a broken port still keeps is
 * unmapped and answered ERROR in net_tx_fini (not left to the journal: a
 * successor would send again a frame that may have gone out, and an
 * unplugged guest would wait on slots nobody answers).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "netback.h"

static void answer_all(struct net_queue *q, void *const *slots, unsigned n, int16_t status)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		const struct net_tx_slot *s = slots[i];
		struct netif_tx_response *rsp = pv_queue_answer(q->pq, NET_RING_TX, slots[i]);

		rsp->id = s->null_rsp ? 0 : s->id;
		rsp->status = s->null_rsp ? NETIF_RSP_NULL : status;
	}
}

/* ------------------------------------------------------------- credit */

/* Linux's tx_credit_exceeded/tx_add_credit: credit_bytes per credit_usec
 * window, bursts of up to max(128 KiB, credit_bytes).  true: hold the
 * packet until the window opens (a timer kicks the queue). */
static void on_credit(struct pv_loop *loop, void *opaque);

static void add_credit(struct net_queue *q)
{
	uint64_t bytes = __atomic_load_n(&q->vif->credit_bytes, __ATOMIC_ACQUIRE);
	uint64_t burst = bytes > 131072 ? bytes : 131072, max = q->remaining_credit + bytes;

	q->remaining_credit = max < burst ? max : burst;
}

static bool credit_exceeded(struct net_queue *q, uint32_t size)
{
	uint64_t bytes = __atomic_load_n(&q->vif->credit_bytes, __ATOMIC_ACQUIRE);
	uint64_t usec = __atomic_load_n(&q->vif->credit_usec, __ATOMIC_RELAXED);
	uint64_t now, next;

	/* A stop answers what was pushed before it, credit or not. */
	if (!bytes || pv_queue_stopping(q->pq))
		return false;
	if (q->credit_timer > 0)
		return true;
	now = pv_now_ns();
	next = q->credit_window_ns + usec * 1000;
	if (now >= next) {
		q->credit_window_ns = now;
		add_credit(q);
	}
	if (size <= q->remaining_credit)
		return false;
	/* The window opens at next: the timer adds that window's credit. */
	q->credit_window_ns = next;
	q->credit_timer = pv_loop_add_timer(pv_queue_loop(q->pq), (next - now) / 1000000 + 1,
					    on_credit, q);
	q->st.credit_waits++;
	return true;
}

static void on_credit(struct pv_loop *loop, void *opaque)
{
	struct net_queue *q = opaque;

	q->credit_timer = -1;
	add_credit(q);
	pv_queue_run(q->pq);
}

/* ------------------------------------------------------------ buffers */

static void copy_done(void *opaque, void *owner, const struct pv_hv_copy_seg *seg)
{
	struct net_txbuf *b = owner;

	if (seg->status && !b->copy_err)
		b->copy_err = seg->status;
}


/* A packet buffer: the port's headroom, then the frame; data 64-byte aligned. */
#define TX_BUF_SIZE ((NET_PKT_HEADROOM + NET_MAX_PKT + 63u) & ~63u)

int net_tx_init(struct net_queue *q)
{
	size_t size = (size_t)NET_TX_BUFS * TX_BUF_SIZE;
	unsigned i;
	void *m;

	q->credit_timer = -1;
	q->tx_stop_timer = -1;
	pv_copy_batch_init(&q->copy, q->hv, copy_done, q);
	if (q->po->caps & NET_PORT_TX_SEGS)
		q->tx_map_min = q->vif->cfg->tx_map_min;
	q->bufs = calloc(NET_TX_BUFS, sizeof(*q->bufs));
	q->maps = calloc(NET_TX_BUFS, sizeof(*q->maps));
	q->map_refs = calloc((size_t)NET_TX_BATCH * NET_PKT_MAX_SEGS, sizeof(*q->map_refs));
	if (!q->bufs || !q->maps || !q->map_refs)
		return -ENOMEM;
	/* Touched as used: 64-byte packets keep to the first page of each. */
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	q->buf_mem = m;
	for (i = NET_TX_BUFS; i-- > 0;) {
		struct net_txbuf *b = &q->bufs[i];

		b->pkt.data = q->buf_mem + (size_t)i * TX_BUF_SIZE + NET_PKT_HEADROOM;
		b->pkt.owner = b;
		b->pkt.segs = b->segs;
		b->next = q->free_bufs;
		q->free_bufs = b;
		q->maps[i].next = q->free_maps;
		q->free_maps = &q->maps[i];
	}
	return 0;
}

static void buf_put(struct net_queue *q, struct net_txbuf *b);
static void map_end(struct net_queue *q, struct net_txmap *m);

void net_tx_fini(struct net_queue *q)
{
	unsigned i, kept = 0;

	if (q->credit_timer > 0)
		pv_loop_del_timer(pv_queue_loop(q->pq), q->credit_timer);
	if (q->tx_stop_timer > 0)
		pv_loop_del_timer(pv_queue_loop(q->pq), q->tx_stop_timer);
	/* The port is closed: what it still keeps it will never read again.
	 * Unmap, then answer (ERROR for what was not given back). */
	for (i = 0; q->maps && i < NET_TX_BUFS; i++) {
		struct net_txmap *m = &q->maps[i];

		if (!m->addr)
			continue;
		for (struct net_txbuf *b = m->pkts; b; b = b->next) {
			if (b->held) {
				b->held = false;
				b->status = NETIF_RSP_ERROR;
				kept++;
			}
		}
		m->pending = 0;
		map_end(q, m);
	}
	if (kept) {
		pv_warn(q->name, "tx: %u mapped packets never came back from the %s port: "
			"unmapped and answered ERROR", kept, q->po->name);
		pv_queue_flush(q->pq);
	}
	if (q->buf_mem)
		munmap(q->buf_mem, (size_t)NET_TX_BUFS * TX_BUF_SIZE);
	free(q->map_refs);
	free(q->maps);
	free(q->bufs);
}

static void on_stop_wait(struct pv_loop *loop, void *opaque)
{
	struct net_queue *q = opaque;

	q->tx_stop_timer = -1;
	q->tx_stop_expired = true;
	pv_warn(q->name, "tx: the %s port still keeps packets %u ms into the stop: "
		"ending without them", q->po->name, NET_TX_STOP_WAIT_MS);
	pv_queue_run(q->pq);
}

/* Nothing of ours in flight: the port gave every buffer back (or, stopping,
 * kept some for NET_TX_STOP_WAIT_MS: fini deals with those). */
bool net_tx_idle(struct net_queue *q)
{
	unsigned n = 0;

	for (const struct net_txbuf *b = q->free_bufs; b; b = b->next)
		n++;
	if (q->nr_batch)
		return false;
	if (n == NET_TX_BUFS || q->tx_stop_expired)
		return true;
	if (pv_queue_stopping(q->pq) && q->tx_stop_timer < 0)
		q->tx_stop_timer = pv_loop_add_timer(pv_queue_loop(q->pq), NET_TX_STOP_WAIT_MS,
						     on_stop_wait, q);
	return false;
}

static void kick(void *opaque)
{
	struct net_queue *q = opaque;

	q->tx_kick_posted = false;
	pv_queue_run(q->pq);
}

/* Run the ring again, not from inside the port's own call (tx_burst and
 * tx_flush may give buffers back at once); never once the thread ended. */
static void kick_later(struct net_queue *q)
{
	if (q->tx_closing || q->tx_kick_posted)
		return;
	if (pv_loop_call(pv_queue_loop(q->pq), kick, q) == 0)
		q->tx_kick_posted = true;
}

static void buf_put(struct net_queue *q, struct net_txbuf *b)
{
	b->map = NULL;
	b->next = q->free_bufs;
	q->free_bufs = b;
	/* The ring waited for this buffer. */
	if (q->tx_want_buf) {
		q->tx_want_buf = false;
		kick_later(q);
	}
}

/* The mapping's last packet is back: unmap, then answer its packets. */
static void map_end(struct net_queue *q, struct net_txmap *m)
{
	int rc = pv_hv_unmap(q->hv, m->addr, m->pages);
	struct net_txbuf *b, *next;

	q->st.tx_maps_inflight -= m->pages;
	q->maps_busy--;
	m->addr = NULL;
	if (rc < 0) {
		/* Our own bug (the address or count): the grants may still be
		 * mapped, so their slots stay unanswered (owed in the journal). */
		pv_err(q->name, "tx: cannot unmap %u guest pages: %s", m->pages, strerror(-rc));
	}
	for (b = m->pkts; b; b = next) {
		next = b->next;
		if (rc == 0)
			answer_all(q, b->slots, b->nr_slots, b->status);
		buf_put(q, b);
	}
	m->pkts = NULL;
	m->next = q->free_maps;
	q->free_maps = m;
	q->tx_answered = true;
	if (!q->in_flush)
		kick_later(q); /* push them */
}

void net_tx_done(void *opaque, struct net_pkt *pkt)
{
	struct net_queue *q = opaque;
	struct net_txbuf *b = pkt->owner;
	struct net_txmap *m = b->map;

	if (!m) {
		buf_put(q, b);
		return;
	}
	b->held = false;
	if (--m->pending == 0)
		map_end(q, m);
}

void net_tx_quiesce(struct net_queue *q)
{
	if (q->tx_answered) {
		q->tx_answered = false;
		pv_queue_flush(q->pq);
	}
}

/* ------------------------------------------------------------ batches */

/* Fill b's segments from mapped pages at page (one per piece). */
static void segs_set(struct net_txbuf *b, struct net_txmap *m, uint8_t *page)
{
	unsigned i;

	b->map = m;
	b->status = NETIF_RSP_OKAY;
	b->next = m->pkts;
	m->pkts = b;
	m->pending++;
	for (i = 0; i < b->nr_pieces; i++) {
		b->segs[i].base = page + (size_t)i * NET_PAGE_SIZE + b->pieces[i].offset;
		b->segs[i].len = b->pieces[i].len;
	}
	b->pkt.nr_segs = b->nr_pieces;
}

/* One mapping of refs[0..n) for the packets bs[0..nb): 0 or -errno. */
static int map_some(struct net_queue *q, struct net_txbuf **bs, unsigned nb, unsigned n)
{
	struct net_txmap *m = q->free_maps;
	unsigned i, page = 0;
	void *addr;
	int rc;

	rc = pv_hv_map(q->hv, q->domid, n, q->map_refs, false, &addr);
	if (rc < 0)
		return rc;
	q->free_maps = m->next;
	*m = (struct net_txmap){ .addr = addr, .pages = n };
	q->maps_busy++;
	q->st.tx_maps_inflight += n;
	for (i = 0; i < nb; i++) {
		segs_set(bs[i], m, (uint8_t *)addr + (size_t)page * NET_PAGE_SIZE);
		page += bs[i]->nr_pieces;
	}
	return 0;
}

/* Map the segments of every packet of the batch that has some: one
 * mapping for all; if that fails (a grant revoked or never given), one per
 * packet, and a packet whose own fails is answered ERROR. */
static void batch_map(struct net_queue *q)
{
	struct net_txbuf *bs[NET_TX_BATCH];
	unsigned i, nb = 0, n = 0;
	int rc;

	for (i = 0; i < q->nr_batch; i++) {
		struct net_txbuf *b = q->batch[i];

		if (!b->nr_pieces || b->copy_err)
			continue;
		for (unsigned k = 0; k < b->nr_pieces; k++)
			q->map_refs[n++] = b->pieces[k].ref;
		bs[nb++] = b;
	}
	if (!nb || map_some(q, bs, nb, n) == 0)
		return;
	for (i = 0; i < nb; i++) {
		struct net_txbuf *b = bs[i];

		for (unsigned k = 0; k < b->nr_pieces; k++)
			q->map_refs[k] = b->pieces[k].ref;
		rc = map_some(q, &b, 1, b->nr_pieces);
		if (rc < 0) {
			pv_queue_bad_request(q->pq, "tx: packet id %u: grant map failed: %s",
					     ((const struct net_tx_slot *)b->slots[0])->id,
					     strerror(-rc));
			q->st.tx_map_errors++;
			b->map_failed = true;
			b->copy_err = rc;
		}
	}
}

/* The frame's headers go beyond the copied head (long IPv6 extension
 * headers, say): copy the rest out of the mapped pages so that it can be
 * parsed as a whole, and send it linear.  Its pages stay mapped until its
 * mapping ends; the port no longer reads them. */
static void linearize(struct net_txbuf *b)
{
	uint32_t off = b->pkt.head_len;
	unsigned i;

	for (i = 0; i < b->pkt.nr_segs; i++) {
		memcpy(b->pkt.data + off, b->segs[i].base, b->segs[i].len);
		off += b->segs[i].len;
	}
	b->pkt.head_len = off;
	b->pkt.nr_segs = 0;
}

/* The packet is not for the port after all: its buffer back, its answer
 * now (copied) or at its mapping's end. */
static void drop(struct net_queue *q, struct net_txbuf *b, int16_t status)
{
	if (b->map) {
		b->status = status;
		net_tx_done(q, &b->pkt);
		return;
	}
	answer_all(q, b->slots, b->nr_slots, status);
	net_tx_done(q, &b->pkt);
}

static int offload(struct net_txbuf *b)
{
	return net_offload_from_tx(b->txflags, &b->gso, b->pkt.data, b->pkt.head_len, b->pkt.len,
				   &b->pkt.vh);
}

/* Copy every packet of the batch in (and map the big ones' rest), answer
 * the copied ones, hand the good ones to the port with their offloads,
 * push. */
static void batch_flush(struct net_queue *q)
{
	struct net_pkt *pkts[NET_TX_BATCH];
	unsigned i, n = 0, sent;
	int rc;

	if (!q->nr_batch)
		return;
	q->in_flush = true;
	pv_copy_batch_flush(&q->copy);
	batch_map(q);
	for (i = 0; i < q->nr_batch; i++) {
		struct net_txbuf *b = q->batch[i];

		/* A grant the frontend revoked or never gave fails that packet
		 * (Linux answers it with an error too); the vif carries on. */
		if (b->copy_err) {
			if (!b->map_failed)
				pv_queue_bad_request(q->pq, "tx: grant copy failed: %s",
						     strerror(-b->copy_err));
			q->st.tx_errors++;
			drop(q, b, NETIF_RSP_ERROR);
			continue;
		}
		/* Answered OKAY whatever happens next, as Linux does once the
		 * data is out of the guest's pages (or, mapped, once the port
		 * is done with them). */
		rc = offload(b);
		if (rc < 0 && b->pkt.nr_segs) {
			linearize(b);
			rc = offload(b);
		}
		if (rc < 0) {
			pv_queue_bad_request(q->pq, "tx: checksum or GSO offload on a frame "
					     "without a TCP/UDP header, dropped");
			q->st.tx_drops++;
			drop(q, b, NETIF_RSP_OKAY);
			continue;
		}
		if (!b->map)
			answer_all(q, b->slots, b->nr_slots, NETIF_RSP_OKAY);
		if (b->pkt.vh.gso_type)
			q->st.tx_gso++;
		if (b->pkt.vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			q->st.tx_csum_blank++;
		if (b->pkt.nr_segs)
			q->st.tx_mapped++;
		b->held = true;
		pkts[n++] = &b->pkt;
	}
	q->nr_batch = 0;
	pv_queue_flush(q->pq);
	if (n) {
		sent = q->po->tx_burst(q->port, pkts, n);
		q->po->tx_flush(q->port);
		for (i = sent; i < n; i++) {
			q->st.tx_drops++;
			net_tx_done(q, pkts[i]);
		}
	}
	q->in_flush = false;
	/* Mappings the port already gave back: their answers. */
	if (q->tx_answered) {
		q->tx_answered = false;
		pv_queue_flush(q->pq);
	}
}

/* Queue the packet's head (all of it when it is copied) for copying into
 * b's buffer, back to back; keep the rest's pieces for batch_map. */
static void gather(struct net_queue *q, struct net_txbuf *b, const struct net_tx_pkt *p)
{
	uint32_t head = q->tx_map_min && b->pkt.len >= q->tx_map_min ? NET_TX_COPY_HEAD : UINT32_MAX;
	struct net_tx_layout lay;
	uint8_t *dst = b->pkt.data;
	unsigned i;

	net_tx_layout(p, head, &lay);
	for (i = 0; i < lay.nr_head; i++) {
		struct pv_hv_copy_seg seg = {
			.ref = lay.head[i].ref,
			.domid = q->domid,
			.offset = lay.head[i].offset,
			.local = dst,
			.len = lay.head[i].len,
		};

		pv_copy_batch_add(&q->copy, &seg, b);
		dst += seg.len;
	}
	b->pkt.head_len = lay.head_len;
	b->nr_pieces = lay.nr_segs;
	memcpy(b->pieces, lay.segs, lay.nr_segs * sizeof(lay.segs[0]));
}

/* The assembled packet: into the batch (credit and a buffer were found),
 * or answered now (a drop, a multicast dummy). */
static void packet_ready(struct net_queue *q)
{
	const struct net_tx_pkt *p = &q->cur;
	struct net_txbuf *b;

	if (net_tx_pkt_is_dummy(p)) {
		q->st.tx_mcast++;
		answer_all(q, q->cur_slots, p->nr_slots,
			   net_mcast_update(q->vif, p) < 0 ? NETIF_RSP_ERROR : NETIF_RSP_OKAY);
		return;
	}
	if (p->drop) {
		q->st.tx_drops++;
		answer_all(q, q->cur_slots, p->nr_slots, NETIF_RSP_ERROR);
		return;
	}
	b = q->free_bufs;
	q->free_bufs = b->next;
	b->pkt.len = net_tx_pkt_len(p);
	b->pkt.nr_segs = 0;
	b->copy_err = 0;
	b->map = NULL;
	b->map_failed = b->held = false;
	b->txflags = p->first.flags;
	b->gso = p->extra[XEN_NETIF_EXTRA_TYPE_GSO - 1];
	b->nr_slots = p->nr_slots;
	memcpy(b->slots, q->cur_slots, p->nr_slots * sizeof(void *));
	gather(q, b, p);
	q->batch[q->nr_batch++] = b;
	q->st.tx_packets++;
	q->st.tx_bytes += b->pkt.len;
}

void net_tx_run(struct net_queue *q)
{
	struct pv_queue *pq = q->pq;
	struct net_tx_slot *ts;
	const char *why;
	const void *raw;
	void *slot;
	int rc;
	/* Polled: a share per round, so one busy vif cannot hold the worker
	 * (it polls again; a stop is not affected: the worker keeps polling). */
	unsigned budget = pv_queue_polled(pq) ? NET_POLL_BUDGET : ~0u;

	for (; budget; budget--) {
		if (q->nr_batch == NET_TX_BATCH)
			batch_flush(q);
		if (q->cur_held) {
			/* A complete packet waits for credit and a buffer. */
			if (!q->free_bufs && q->nr_batch)
				batch_flush(q);
			if (!q->free_bufs) {
				q->tx_want_buf = true;
				break;
			}
			if (credit_exceeded(q, q->cur.first.size))
				break;
			/* Saturating: unlimited (or stopping), the credit stays 0 for
			 * a rate the toolstack sets later, not a wrapped 2^64. */
			q->remaining_credit -= q->remaining_credit < q->cur.first.size ?
						       q->remaining_credit : q->cur.first.size;
			q->cur_held = false;
			packet_ready(q);
			net_tx_pkt_init(&q->cur);
		}
		rc = pv_queue_next(pq, NET_RING_TX, &slot, &raw);
		if (rc == -ENOBUFS && q->nr_batch) {
			batch_flush(q); /* its slots come free once pushed */
			continue;
		}
		if (rc <= 0) {
			/* Netfront pushes a packet's slots at once: a packet that
			 * runs past req_prod is Linux's "Asked for %d slots". */
			if (rc == 0 && q->cur.state != NET_TX_FIRST && !pv_queue_dead(pq))
				pv_queue_violation(pq, "tx: a packet of %u slots continues beyond "
						   "the requests pushed", q->cur.nr_slots);
			break;
		}
		ts = slot;
		ts->null_rsp = q->cur.state == NET_TX_EXTRA;
		memcpy(&ts->id, (const uint8_t *)raw + offsetof(struct netif_tx_request, id),
		       sizeof(ts->id));
		q->cur_slots[q->cur.nr_slots] = slot;
		rc = net_tx_feed(&q->cur, raw, &why);
		if (rc < 0) {
			q->st.tx_slot_violations++;
			pv_queue_violation(pq, "tx: %s", why);
			break;
		}
		if (rc == NET_TX_NEED)
			continue;
		if (why)
			pv_queue_bad_request(pq, "tx: packet id %u: %s", q->cur.first.id, why);
		if (!q->cur.drop && !net_tx_pkt_is_dummy(&q->cur)) {
			q->cur_held = true;
			continue;
		}
		packet_ready(q);
		net_tx_pkt_init(&q->cur);
	}
	batch_flush(q);
	pv_queue_flush(pq);
}
