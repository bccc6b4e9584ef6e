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
 * Every slot gets exactly one response, in the order consumed: the first
 * and the data slots OKAY (or ERROR for a dropped packet or a failed
 * copy), extras NETIF_RSP_NULL; they are written once the copy is done
 * (we map nothing, so the grants are free by then) and pushed per batch.
 * A multicast add/del extra makes a dummy request: the list changes, the
 * slots are answered, nothing is sent.
 *
 * Copy, not map: on pvsim a 4 KiB grant copy costs 0.08 us against ~10 us
 * for a map + unmap (bench/README.md), and a copy leaves the guest nothing
 * to change under us (the header we parse is our own copy).
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
	pv_copy_batch_init(&q->copy, q->hv, copy_done, q);
	q->bufs = calloc(NET_TX_BUFS, sizeof(*q->bufs));
	if (!q->bufs)
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
		b->next = q->free_bufs;
		q->free_bufs = b;
	}
	return 0;
}

void net_tx_fini(struct net_queue *q)
{
	if (q->credit_timer > 0)
		pv_loop_del_timer(pv_queue_loop(q->pq), q->credit_timer);
	if (q->buf_mem)
		munmap(q->buf_mem, (size_t)NET_TX_BUFS * TX_BUF_SIZE);
	free(q->bufs);
}

/* Nothing of ours in flight: the port gave every buffer back. */
bool net_tx_idle(const struct net_queue *q)
{
	unsigned n = 0;

	for (const struct net_txbuf *b = q->free_bufs; b; b = b->next)
		n++;
	return n == NET_TX_BUFS && !q->nr_batch;
}

static void kick(void *opaque)
{
	struct net_queue *q = opaque;

	pv_queue_run(q->pq);
}

void net_tx_done(void *opaque, struct net_pkt *pkt)
{
	struct net_queue *q = opaque;
	struct net_txbuf *b = pkt->owner;

	b->next = q->free_bufs;
	q->free_bufs = b;
	/* The ring waited for this buffer: run it again, but not from inside
	 * the port's own call (tx_burst may give buffers back at once). */
	if (q->tx_want_buf) {
		q->tx_want_buf = false;
		pv_loop_call(pv_queue_loop(q->pq), kick, q);
	}
}

/* ------------------------------------------------------------ batches */

/* Copy every packet of the batch in, answer all its slots, hand the good
 * ones to the port with their offloads, push. */
static void batch_flush(struct net_queue *q)
{
	struct net_pkt *pkts[NET_TX_BATCH];
	unsigned i, n = 0, sent;

	if (!q->nr_batch)
		return;
	pv_copy_batch_flush(&q->copy);
	for (i = 0; i < q->nr_batch; i++) {
		struct net_txbuf *b = q->batch[i];

		/* A grant the frontend revoked or never gave fails that packet
		 * (Linux answers it with an error too); the vif carries on. */
		answer_all(q, b->slots, b->nr_slots, b->copy_err ? NETIF_RSP_ERROR :
								   NETIF_RSP_OKAY);
		if (b->copy_err) {
			pv_queue_bad_request(q->pq, "tx: grant copy failed: %s", strerror(-b->copy_err));
			q->st.tx_errors++;
			net_tx_done(q, &b->pkt);
			continue;
		}
		/* Answered OKAY whatever happens next, as Linux does once the
		 * data is out of the guest's pages. */
		if (net_offload_from_tx(b->txflags, &b->gso, b->pkt.data, b->pkt.len,
					&b->pkt.vh) < 0) {
			pv_queue_bad_request(q->pq, "tx: checksum or GSO offload on a frame "
					     "without a TCP/UDP header, dropped");
			q->st.tx_drops++;
			net_tx_done(q, &b->pkt);
			continue;
		}
		if (b->pkt.vh.gso_type)
			q->st.tx_gso++;
		if (b->pkt.vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			q->st.tx_csum_blank++;
		pkts[n++] = &b->pkt;
	}
	q->nr_batch = 0;
	pv_queue_flush(q->pq);
	if (!n)
		return;
	sent = q->po->tx_burst(q->port, pkts, n);
	q->po->tx_flush(q->port);
	for (i = sent; i < n; i++) {
		q->st.tx_drops++;
		net_tx_done(q, pkts[i]);
	}
}

/* Queue the packet's data (first slot after its extras, then the frags)
 * for copying into b's buffer, back to back. */
static void gather(struct net_queue *q, struct net_txbuf *b, const struct net_tx_pkt *p)
{
	uint8_t *dst = b->pkt.data;
	unsigned i;

	for (i = 0; i <= p->nr_frags; i++) {
		const struct netif_tx_request *t = i ? &p->frag[i - 1] : &p->first;
		struct pv_hv_copy_seg seg = {
			.ref = t->gref,
			.domid = q->domid,
			.offset = t->offset,
			.local = dst,
			.len = (uint16_t)(i ? t->size : p->first_len),
		};

		if (seg.len)
			pv_copy_batch_add(&q->copy, &seg, b);
		dst += seg.len;
	}
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
	b->pkt.len = b->pkt.head_len = net_tx_pkt_len(p);
	b->pkt.nr_segs = 0;
	b->copy_err = 0;
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
			q->remaining_credit -= q->cur.first.size;
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
