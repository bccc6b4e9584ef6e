// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The built-in switch (--port dpdk-switch): every vif is a port of one L2
 * learning switch inside the daemon, plus one optional uplink DPDK device
 * (--port-args DEVARGS; none: guests only).  Source addresses are learned
 * (fdb.c: bounded, aged after 300 s, each vif's own `mac` pinned to it);
 * broadcast, multicast and unknown destinations are flooded to every other
 * port.
 *
 *  - guest TX of vif A (A's queue thread): learn and look up the whole
 *    burst under the table's lock, then copy each frame once per
 *    destination into pool mbufs (A's buffers go back to A at once, on
 *    A's thread) with the offloads the destination takes (else done in
 *    software: dpdk.c), and put them into the destination queue's inbox,
 *    an rte_ring (multi-producer, single consumer) per vif queue, chosen
 *    by a hash of the addresses and ports; the owner is kicked through
 *    its eventfd.  Frames for the uplink are sent with one
 *    rte_eth_tx_burst per burst under the uplink's tx lock.
 *  - guest RX of vif B: B's queue thread takes its inbox into a stash and
 *    hands the mbufs out as packets, which rx.c grant-copies into B's
 *    buffers.  Guest-to-guest traffic never leaves the daemon.
 *  - the uplink's RX has no thread of its own: every vif queue's poll
 *    takes the uplink's rx lock if it is free (trylock), receives a burst
 *    and distributes it to the inboxes, so it is served as long as any
 *    vif queue is polled (an idle worker at least every --poll-sleep-max-us).
 *
 * Locks: sw.fdb_lock (the table, taken once per burst), sw.ports_lock (a
 * rwlock: senders read the port table and inboxes; open/close write it),
 * the uplink's rx and tx locks.  Never blocks on a queue: a full inbox
 * drops (sw_inbox_full).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <netinet/in.h>

#include <rte_ring.h>

#include "dpdk.h"
#include "pvnet.h"

#define SW_MAX_PORTS    1024u   /* port 0 is the uplink */
#define SW_UPLINK       0u
#define SW_INBOX        1024u   /* mbufs an inbox holds (a power of two) */
#define SW_FDB_SIZE     16384u
#define SW_FDB_PER_PORT 1024u
#define SW_FDB_AGE_S    300u
#define SW_UP_BURST     32u
#define SW_UP_PENDING   (NET_TX_BATCH + NET_DPDK_PKT_MAX_OUT)

struct net_port {                     /* a vif on the switch */
	char ifname[IFNAMSIZ];
	unsigned id;
	struct net_port_queue *q[NET_MAX_QUEUES]; /* ports_lock */
	unsigned offloads;                /* NET_OFF_*: what its frontend takes */
	struct net_dpdk_stats past;
};

struct net_port_queue {
	struct net_dpdk_q c;                  /* first: fill gets it */
	struct net_port *port;
	unsigned idx;
	struct rte_ring *inbox;
	struct rte_mbuf *up_pending[SW_UP_PENDING]; /* guest TX for the uplink */
	unsigned nr_up;
};

static struct {
	bool up;
	pthread_mutex_t fdb_lock;
	struct net_fdb fdb;
	pthread_rwlock_t ports_lock;
	struct net_port *ports[SW_MAX_PORTS];
	struct net_dpdk_dev uplink;
	bool has_uplink;
	pthread_mutex_t up_rx_lock, up_tx_lock;
	struct net_dpdk_stats up_st;      /* the uplink's drops (up_tx_lock) */
} sw;

static uint32_t now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)ts.tv_sec;
}

int net_switch_init(const struct net_config *cfg)
{
	pthread_rwlockattr_t ra;
	const char *why = NULL;
	uint32_t seed = 0;
	int rc;

	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint32_t)time(NULL);
	rc = net_fdb_init(&sw.fdb, SW_FDB_SIZE, SW_MAX_PORTS, SW_FDB_PER_PORT, SW_FDB_AGE_S, seed);
	if (rc < 0) {
		pv_err(NULL, "dpdk-switch: MAC table: %s", strerror(-rc));
		return rc;
	}
	pthread_mutex_init(&sw.fdb_lock, NULL);
	pthread_rwlockattr_init(&ra);
	/* Senders hold it all the time: let open/close in. */
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&sw.ports_lock, &ra);
	pthread_rwlockattr_destroy(&ra);
	pthread_mutex_init(&sw.up_rx_lock, NULL);
	pthread_mutex_init(&sw.up_tx_lock, NULL);
	sw.up = true;
	if (!cfg->port_args || !*cfg->port_args) {
		pv_info(NULL, "dpdk-switch: no uplink (--port-args DEVARGS adds one): guests only");
		return 0;
	}
	rc = net_dpdk_dev_open(cfg->port_args, 1, 0, NULL, &sw.uplink, &why);
	if (rc < 0) {
		pv_err(NULL, "dpdk-switch: uplink '%s': %s: %s", cfg->port_args, why,
		       strerror(-rc));
		net_switch_fini();
		return rc;
	}
	sw.has_uplink = true;
	pv_info(NULL, "dpdk-switch: uplink %s (%s)", sw.uplink.name, sw.uplink.driver);
	return 0;
}

void net_switch_fini(void)
{
	if (!sw.up)
		return;
	if (sw.has_uplink)
		net_dpdk_dev_close(&sw.uplink);
	sw.has_uplink = false;
	net_fdb_fini(&sw.fdb);
	pthread_mutex_destroy(&sw.fdb_lock);
	pthread_rwlock_destroy(&sw.ports_lock);
	pthread_mutex_destroy(&sw.up_rx_lock);
	pthread_mutex_destroy(&sw.up_tx_lock);
	sw.up = false;
}

/* ---------------------------------------------------------------- vifs */

static int sw_open(const struct net_port_params *p, struct net_port **out)
{
	struct net_port *port;
	unsigned id;
	int rc;

	if (strlen(p->ifname) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	port = calloc(1, sizeof(*port));
	if (!port)
		return -ENOMEM;
	snprintf(port->ifname, sizeof(port->ifname), "%s", p->ifname);
	pthread_rwlock_wrlock(&sw.ports_lock);
	for (id = SW_UPLINK + 1; id < SW_MAX_PORTS && sw.ports[id]; id++)
		;
	if (id < SW_MAX_PORTS)
		sw.ports[id] = port;
	pthread_rwlock_unlock(&sw.ports_lock);
	if (id == SW_MAX_PORTS) {
		pv_err(p->ifname, "dpdk-switch: all %u ports are in use", SW_MAX_PORTS - 1);
		free(port);
		return -ENOSPC;
	}
	port->id = id;
	if (p->guest_mac) {
		pthread_mutex_lock(&sw.fdb_lock);
		rc = net_fdb_pin(&sw.fdb, p->guest_mac, id);
		pthread_mutex_unlock(&sw.fdb_lock);
		if (rc < 0)
			pv_warn(p->ifname, "dpdk-switch: cannot pin the guest's mac: %s",
				strerror(-rc));
	}
	pv_info(p->ifname, "dpdk-switch port %u", id);
	*out = port;
	return 0;
}

static void sw_close(struct net_port *port, bool keep)
{
	if (!port)
		return;
	pthread_rwlock_wrlock(&sw.ports_lock);
	sw.ports[port->id] = NULL;
	pthread_rwlock_unlock(&sw.ports_lock);
	pthread_mutex_lock(&sw.fdb_lock);
	net_fdb_forget_port(&sw.fdb, port->id);
	pthread_mutex_unlock(&sw.fdb_lock);
	free(port);
}

static const char *sw_ifname(const struct net_port *port)
{
	return port->ifname;
}

static int sw_set_carrier(struct net_port *port, bool up)
{
	return 0; /* a vif whose frontend takes nothing fills its inbox: drops */
}

static int sw_set_offloads(struct net_port *port, unsigned off)
{
	__atomic_store_n(&port->offloads, off, __ATOMIC_RELAXED);
	net_dpdk_q_set_offloads(port->q, NET_MAX_QUEUES, off);
	return 0;
}

static int sw_set_mtu(struct net_port *port, unsigned mtu)
{
	return 0; /* frames up to a netif packet pass */
}

/* -------------------------------------------------------------- queues */

static void uplink_poll(struct net_port_queue *q);

/* The uplink's frames distributed (when no other queue does it now), then
 * a burst of this queue's inbox into the stash. */
static unsigned fill_stash(struct net_dpdk_q *c)
{
	struct net_port_queue *q = (struct net_port_queue *)c;

	uplink_poll(q);
	return rte_ring_sc_dequeue_burst(q->inbox, (void **)c->stash, NET_RX_BATCH, NULL);
}

static int sw_queue_open(struct net_port *port, unsigned idx, struct pv_loop *loop,
			 const struct net_port_queue_cbs *cbs, void *opaque,
			 struct net_port_queue **out)
{
	struct net_port_queue *q;
	size_t rsize = (size_t)rte_ring_get_memsize(SW_INBOX);
	int rc;

	if (idx >= NET_MAX_QUEUES || port->q[idx])
		return -EBUSY;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->port = port;
	q->idx = idx;
	q->inbox = aligned_alloc(RTE_CACHE_LINE_SIZE, (rsize + RTE_CACHE_LINE_SIZE - 1) &
						       ~(size_t)(RTE_CACHE_LINE_SIZE - 1));
	if (!q->inbox) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = rte_ring_init(q->inbox, "pvback-inbox", SW_INBOX, RING_F_SC_DEQ);
	if (rc < 0)
		goto fail;
	rc = net_dpdk_q_init(&q->c, loop, cbs, opaque, fill_stash,
			     __atomic_load_n(&port->offloads, __ATOMIC_RELAXED));
	if (rc < 0)
		goto fail;
	pthread_rwlock_wrlock(&sw.ports_lock);
	port->q[idx] = q;
	pthread_rwlock_unlock(&sw.ports_lock);
	*out = q;
	return 0;
fail:
	free(q->inbox);
	free(q);
	return rc;
}

static int sw_queue_quiesce(struct net_port_queue *q)
{
	net_dpdk_tx_reap(&q->c.tx);
	return 0; /* the switch copies: no guest buffer is ever held */
}

static void free_mbufs(struct rte_mbuf **m, unsigned n)
{
	while (n)
		rte_pktmbuf_free(m[--n]);
}

static void sw_queue_close(struct net_port_queue *q)
{
	struct net_port *port = q->port;
	struct rte_mbuf *m[64];
	unsigned n;

	/* No sender reaches the inbox after this. */
	pthread_rwlock_wrlock(&sw.ports_lock);
	port->q[q->idx] = NULL;
	pthread_rwlock_unlock(&sw.ports_lock);
	while ((n = rte_ring_sc_dequeue_burst(q->inbox, (void **)m, 64, NULL)) > 0)
		free_mbufs(m, n);
	free_mbufs(q->up_pending, q->nr_up);
	net_dpdk_q_fini(&q->c);
	net_dpdk_stats_add(&port->past, &q->c.st);
	free(q->inbox);
	free(q);
}

/* The destination queue of a frame: a hash of its addresses and ports. */
static struct net_port_queue *pick_queue(const struct net_port *port, const uint8_t *f,
					 uint32_t len)
{
	struct net_port_queue *open[NET_MAX_QUEUES];
	struct pv_net_l4 l4;
	unsigned i, n = 0;
	uint32_t h = 0;

	for (i = 0; i < NET_MAX_QUEUES; i++)
		if (port->q[i])
			open[n++] = port->q[i];
	if (n <= 1)
		return n ? open[0] : NULL;
	if (pv_net_l4_find(f, len, PV_NET_F_VLAN, &l4) == 0) {
		/* IPv4: addresses at 12..19; IPv6: 8..39; then the ports. */
		uint32_t a = l4.l3 + (l4.v6 ? 8 : 12), alen = l4.v6 ? 32 : 8;

		h = pv_net_csum_add(0, f + a, alen);
		if (l4.l4 + 4 <= len)
			h = h * 31 + pv_net_csum_add(0, f + l4.l4, 4);
	}
	return open[h % n];
}

/* What a vif's frontend takes, as a device's tx offloads (pkt's GSO type). */
static uint64_t vif_capa(const struct net_port *port, const struct net_pkt *pkt)
{
	unsigned off = __atomic_load_n(&port->offloads, __ATOMIC_RELAXED);
	uint64_t capa = NET_DPDK_CAPA_VIRT;

	if (off & NET_OFF_CSUM)
		capa |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	if ((pkt->vh.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_TCPV6 ?
	    (off & NET_OFF_TSO6) : (off & NET_OFF_TSO4))
		capa |= RTE_ETH_TX_OFFLOAD_TCP_TSO;
	return capa;
}

/* mbufs into a queue's inbox (what does not fit is freed and counted
 * against the sender, st), and its owner woken. */
static void to_inbox(struct net_port_queue *dq, struct rte_mbuf **m, unsigned n,
		     struct net_dpdk_stats *st)
{
	unsigned k = rte_ring_mp_enqueue_burst(dq->inbox, (void *const *)m, n, NULL);

	if (k < n) {
		st->sw_inbox_full += n - k;
		free_mbufs(m + k, n - k);
	}
	if (k)
		net_dpdk_wake_kick(&dq->c.wake);
}

/* One guest-TX packet of q to switch port dst (ports_lock held). */
static void deliver(struct net_port_queue *q, struct net_pkt *pkt, unsigned dst)
{
	struct rte_mbuf *m[NET_DPDK_PKT_MAX_OUT];
	struct net_port_queue *dq;
	bool held;
	int n;

	if (dst == SW_UPLINK) {
		if (!sw.has_uplink)
			return;
		if (SW_UP_PENDING - q->nr_up < NET_DPDK_PKT_MAX_OUT)
			return; /* cannot happen: flushed per burst of NET_TX_BATCH */
		n = net_dpdk_tx_pkt(&q->c.tx, pkt, sw.uplink.tx_capa, false, q->up_pending + q->nr_up,
				    SW_UP_PENDING - q->nr_up, &held);
		if (n > 0) {
			q->nr_up += (unsigned)n;
			q->c.st.sw_uplink++;
		}
		return;
	}
	if (!sw.ports[dst])
		return;
	dq = pick_queue(sw.ports[dst], pkt->data, pkt->head_len);
	if (!dq)
		return; /* not connected */
	n = net_dpdk_tx_pkt(&q->c.tx, pkt, vif_capa(sw.ports[dst], pkt), false, m,
			    NET_DPDK_PKT_MAX_OUT, &held);
	if (n <= 0)
		return;
	to_inbox(dq, m, (unsigned)n, &q->c.st);
	q->c.st.sw_local++;
}

static void uplink_send(struct net_port_queue *q)
{
	net_dpdk_dev_send(&sw.uplink, 0, &sw.up_tx_lock, q->up_pending, q->nr_up, &q->c.st);
	q->nr_up = 0;
}

static unsigned sw_tx_burst(struct net_port_queue *q, struct net_pkt **pkts, unsigned n)
{
	int dest[NET_TX_BATCH];
	uint32_t now = now_s();
	unsigned i, id = q->port->id, p;

	net_dpdk_thread();
	if (n > NET_TX_BATCH)
		n = NET_TX_BATCH; /* tx.c never sends more; the rest is its drop */
	pthread_mutex_lock(&sw.fdb_lock);
	for (i = 0; i < n; i++) {
		const uint8_t *f = pkts[i]->data;

		net_fdb_learn(&sw.fdb, f + NET_ETH_ALEN, id, now);
		dest[i] = net_fdb_dest(&sw.fdb, f, id, now);
	}
	pthread_mutex_unlock(&sw.fdb_lock);
	pthread_rwlock_rdlock(&sw.ports_lock);
	for (i = 0; i < n; i++) {
		if (dest[i] == NET_FDB_DROP) {
			q->c.st.sw_drop_hairpin++;
		} else if (dest[i] == NET_FDB_FLOOD) {
			q->c.st.sw_flood++;
			for (p = 0; p < SW_MAX_PORTS; p++)
				if (p != id && (p == SW_UPLINK ? sw.has_uplink : sw.ports[p] != NULL))
					deliver(q, pkts[i], p);
		} else {
			deliver(q, pkts[i], (unsigned)dest[i]);
		}
		/* Copied (or dropped): the buffer is the guest queue's again. */
		q->c.cbs->tx_done(q->c.opaque, pkts[i]);
	}
	pthread_rwlock_unlock(&sw.ports_lock);
	uplink_send(q);
	return n;
}

static void sw_tx_flush(struct net_port_queue *q)
{
	net_dpdk_tx_reap(&q->c.tx);
}

/* The uplink's frames to the vifs' inboxes: by any vif queue whose poll
 * finds the uplink's rx lock free. */
static void uplink_poll(struct net_port_queue *q)
{
	struct rte_mbuf *m[SW_UP_BURST];
	int dest[SW_UP_BURST];
	uint32_t now;
	unsigned i, n, p;

	if (!sw.has_uplink)
		return;
	net_dpdk_dev_kick(&sw.uplink, 0, &sw.up_tx_lock);
	if (pthread_mutex_trylock(&sw.up_rx_lock))
		return;
	n = rte_eth_rx_burst(sw.uplink.port_id, 0, m, SW_UP_BURST);
	if (!n) {
		pthread_mutex_unlock(&sw.up_rx_lock);
		return;
	}
	now = now_s();
	pthread_mutex_lock(&sw.fdb_lock);
	for (i = 0; i < n; i++) {
		const uint8_t *f = rte_pktmbuf_mtod(m[i], const uint8_t *);

		if (m[i]->data_len < NET_ETH_HLEN) {
			dest[i] = NET_FDB_DROP;
			continue;
		}
		net_fdb_learn(&sw.fdb, f + NET_ETH_ALEN, SW_UPLINK, now);
		dest[i] = net_fdb_dest(&sw.fdb, f, SW_UPLINK, now);
	}
	pthread_mutex_unlock(&sw.fdb_lock);
	pthread_rwlock_rdlock(&sw.ports_lock);
	for (i = 0; i < n; i++) {
		const uint8_t *f = rte_pktmbuf_mtod(m[i], const uint8_t *);
		struct net_port_queue *dq, *last = NULL;

		if (dest[i] == NET_FDB_DROP) {
			sw.up_st.sw_drop_hairpin++;
			rte_pktmbuf_free(m[i]);
			continue;
		}
		if (dest[i] >= 0) {
			dq = sw.ports[dest[i]] ? pick_queue(sw.ports[dest[i]], f,
							     m[i]->data_len) : NULL;
			if (dq)
				to_inbox(dq, &m[i], 1, &sw.up_st);
			else
				rte_pktmbuf_free(m[i]);
			sw.up_st.sw_local++;
			continue;
		}
		/* Flood: a copy for each vif but the last, which takes m. */
		sw.up_st.sw_flood++;
		for (p = SW_UPLINK + 1; p < SW_MAX_PORTS; p++) {
			if (!sw.ports[p] || !(dq = pick_queue(sw.ports[p], f, m[i]->data_len)))
				continue;
			if (last) {
				struct rte_mbuf *c = rte_pktmbuf_copy(m[i], net_dpdk_pool(), 0,
								      UINT32_MAX);

				if (c)
					to_inbox(last, &c, 1, &sw.up_st);
				else
					sw.up_st.tx_nombuf++;
			}
			last = dq;
		}
		if (last)
			to_inbox(last, &m[i], 1, &sw.up_st);
		else
			rte_pktmbuf_free(m[i]);
	}
	pthread_rwlock_unlock(&sw.ports_lock);
	pthread_mutex_unlock(&sw.up_rx_lock);
}

static const struct pv_stats_table *sw_stats(struct net_port *port, void *buf, size_t size)
{
	struct net_dpdk_stats *st = buf;

	if (size < sizeof(*st))
		return NULL;
	net_dpdk_q_sum(st, &port->past, port->q, NET_MAX_QUEUES);
	/* The uplink's device counters and the table are the switch's. */
	net_dpdk_stats_dev(sw.has_uplink ? &sw.uplink : NULL, st);
	net_dpdk_stats_add(st, &sw.up_st);
	pthread_mutex_lock(&sw.fdb_lock);
	st->fdb_entries = sw.fdb.used;
	st->fdb_learned = sw.fdb.st.learned;
	st->fdb_moved = sw.fdb.st.moved;
	st->fdb_refused = sw.fdb.st.refused_full + sw.fdb.st.refused_limit +
			  sw.fdb.st.refused_pinned;
	st->fdb_aged = sw.fdb.st.aged;
	pthread_mutex_unlock(&sw.fdb_lock);
	return &net_switch_stats_table;
}

const struct net_port_ops net_port_switch_ops = {
	.name = "dpdk-switch",
	.caps = NET_PORT_POLLED | NET_PORT_TX_SEGS,
	.open = sw_open,
	.close = sw_close,
	.ifname = sw_ifname,
	.set_carrier = sw_set_carrier,
	.set_offloads = sw_set_offloads,
	.set_mtu = sw_set_mtu,
	.queue_open = sw_queue_open,
	.queue_quiesce = sw_queue_quiesce,
	.queue_close = sw_queue_close,
	.tx_burst = sw_tx_burst,
	.tx_flush = sw_tx_flush,
	NET_DPDK_Q_OPS,
	.stats = sw_stats,
};
