// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The dpdk host port (--port dpdk): each vif is a DPDK ethdev hot-plugged
 * from the --port-args devargs template ({vif}, {domid}, {devid}
 * replaced: net_memif, net_vhost, net_af_packet, net_tap, a NIC's PCI
 * address), configured with --max-queues rx and tx queues (or as many as
 * it has), before the frontend says how many it uses.  Vif queue i sends
 * on device queue i % nq (under a lock when the vif has more queues than
 * the device) and polls every device queue d with d % n == i % n, n the
 * vif's open queues (a trylock each: the device spreads its RX over all
 * its queues, the kernel's TAP by flow hash, whatever the vif uses).
 *
 *  - guest TX: each packet becomes mbufs (dpdk.c: external buffers where
 *    the driver reads by address and is done by the end of tx_burst,
 *    copies elsewhere; checksum and TSO left to the device when it offers
 *    them, else done here), gathered over a burst and sent with one
 *    rte_eth_tx_burst in tx_flush; what the device refuses is freed and
 *    counted (tx_full);
 *  - guest RX: polled (NET_PORT_POLLED): poll pulls a burst into a stash
 *    and calls rx_ready; rx_burst hands the stash out as packets whose
 *    data is the mbuf's (multi-segment ones linearised); while the guest
 *    posts no buffers the frames stay in the device, which drops beyond
 *    its ring (imissed).
 *
 * A polled queue lives on a polling worker (ring.c, --dpdk-lcores), which
 * polls it, backing off when idle; an eventfd (dpdk.c) wakes the worker
 * when another thread has something for the queue.
 * DPDK ports do not outlive the daemon: close removes the device either way.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpdk.h"

#define PENDING_MAX (NET_TX_BATCH + NET_DPDK_PKT_MAX_OUT)

struct net_port {
	char ifname[IFNAMSIZ];
	char devargs[256];
	struct net_dpdk_dev dev;
	bool shared;                          /* vif queues share device tx queues */
	pthread_mutex_t lock[NET_MAX_QUEUES]; /* per device queue: tx when shared, rx */
	struct net_port_queue *q[NET_MAX_QUEUES];
	unsigned nr_q;                        /* open vif queues (atomic) */
	unsigned offloads;                    /* NET_OFF_*: the frontend's */
	bool carrier;
	struct net_dpdk_stats past;           /* closed queues' counters */
};

struct net_port_queue {
	struct net_dpdk_q c;                  /* first: fill gets it */
	struct net_port *port;
	unsigned idx;
	uint16_t devq;
	struct rte_mbuf *pending[PENDING_MAX];
	unsigned nr_pending;
};

static int dpdk_open(const struct net_port_params *p, struct net_port **out)
{
	struct net_port *port;
	const char *why = NULL;
	unsigned i;
	int rc;

	if (!p->args || !*p->args) {
		pv_err(p->ifname, "--port dpdk needs --port-args DEVARGS (a devargs template)");
		return -EINVAL;
	}
	if (strlen(p->ifname) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	port = calloc(1, sizeof(*port));
	if (!port)
		return -ENOMEM;
	snprintf(port->ifname, sizeof(port->ifname), "%s", p->ifname);
	rc = net_devargs_expand(p->args, p->ifname, p->domid, p->devid, port->devargs,
				sizeof(port->devargs));
	if (rc < 0) {
		pv_err(p->ifname, "bad --port-args template '%s': %s", p->args,
		       rc == -EINVAL ? "unknown {...} (known: {vif} {domid} {devid})" :
				       "too long");
		free(port);
		return rc;
	}
	net_dpdk_thread();
	rc = net_dpdk_dev_open(port->devargs, p->max_queues, p->mtu, p->mac, &port->dev, &why);
	if (rc < 0) {
		pv_err(p->ifname, "dpdk device '%s': %s: %s", port->devargs, why, strerror(-rc));
		free(port);
		return rc;
	}
	port->shared = port->dev.nq < p->max_queues;
	for (i = 0; i < NET_MAX_QUEUES; i++)
		pthread_mutex_init(&port->lock[i], NULL);
	pv_info(p->ifname, "dpdk device %s (%s), %u queue(s)%s, %s, tx offloads%s%s%s",
		port->dev.name, port->dev.driver, port->dev.nq,
		port->shared ? " shared by the vif's queues" : "",
		port->dev.zero_copy ? "guest TX zero copy" : "guest TX copied",
		port->dev.tx_capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM ? " tcp-csum" : "",
		port->dev.tx_capa & RTE_ETH_TX_OFFLOAD_TCP_TSO ? " tso" : "",
		port->dev.tx_capa ? "" : " none (software)");
	*out = port;
	return 0;
}

static void dpdk_close(struct net_port *port, bool keep)
{
	unsigned i;

	if (!port)
		return;
	net_dpdk_dev_close(&port->dev);
	for (i = 0; i < NET_MAX_QUEUES; i++)
		pthread_mutex_destroy(&port->lock[i]);
	free(port);
}

static const char *dpdk_ifname(const struct net_port *port)
{
	return port->ifname;
}

/* The link is the device's: only recorded. */
static int dpdk_set_carrier(struct net_port *port, bool up)
{
	port->carrier = up;
	return 0;
}

static int dpdk_set_offloads(struct net_port *port, unsigned off)
{
	__atomic_store_n(&port->offloads, off, __ATOMIC_RELAXED);
	net_dpdk_q_set_offloads(port->q, NET_MAX_QUEUES, off);
	return 0;
}

static int dpdk_set_mtu(struct net_port *port, unsigned mtu)
{
	return net_dpdk_dev_set_mtu(&port->dev, mtu);
}

/* -------------------------------------------------------------- queues */

/* A burst from the device queues this vif queue serves into the stash. */
static unsigned fill_stash(struct net_dpdk_q *c)
{
	struct net_port_queue *q = (struct net_port_queue *)c;
	struct net_port *port = q->port;
	unsigned n = __atomic_load_n(&port->nr_q, __ATOMIC_ACQUIRE), d, k = 0;

	if (!n)
		n = 1;
	for (d = q->idx % n; d < port->dev.nq && k < NET_RX_BATCH; d += n) {
		if (pthread_mutex_trylock(&port->lock[d]))
			continue; /* another vif queue polls it now */
		k += rte_eth_rx_burst(port->dev.port_id, (uint16_t)d, c->stash + k,
				      (uint16_t)(NET_RX_BATCH - k));
		pthread_mutex_unlock(&port->lock[d]);
	}
	net_dpdk_dev_kick(&port->dev, q->devq, port->shared ? &port->lock[q->devq] : NULL);
	return k;
}

static int dpdk_queue_open(struct net_port *port, unsigned idx, struct pv_loop *loop,
			   const struct net_port_queue_cbs *cbs, void *opaque,
			   struct net_port_queue **out)
{
	struct net_port_queue *q;
	int rc;

	if (idx >= NET_MAX_QUEUES || port->q[idx])
		return -EBUSY;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->port = port;
	q->idx = idx;
	q->devq = (uint16_t)(idx % port->dev.nq);
	rc = net_dpdk_q_init(&q->c, loop, cbs, opaque, fill_stash,
			     __atomic_load_n(&port->offloads, __ATOMIC_RELAXED));
	if (rc < 0) {
		free(q);
		return rc;
	}
	port->q[idx] = q;
	__atomic_add_fetch(&port->nr_q, 1, __ATOMIC_RELEASE);
	*out = q;
	return 0;
}

/* Send what tx_burst gathered; what the device refuses is freed, counted. */
static void send_pending(struct net_port_queue *q)
{
	struct net_port *port = q->port;

	net_dpdk_dev_send(&port->dev, q->devq, port->shared ? &port->lock[q->devq] : NULL,
			  q->pending, q->nr_pending, &q->c.st);
	q->nr_pending = 0;
}

static int dpdk_queue_quiesce(struct net_port_queue *q)
{
	net_dpdk_thread();
	net_dpdk_tx_enter(&q->c.tx);
	send_pending(q);
	rte_eth_tx_done_cleanup(q->port->dev.port_id, q->devq, 0);
	net_dpdk_tx_leave();
	net_dpdk_tx_reap(&q->c.tx);
	return net_dpdk_tx_idle(&q->c.tx) ? 0 : -ETIMEDOUT;
}

static void dpdk_queue_close(struct net_port_queue *q)
{
	struct net_port *port = q->port;

	net_dpdk_tx_enter(&q->c.tx);
	while (q->nr_pending)
		rte_pktmbuf_free(q->pending[--q->nr_pending]);
	net_dpdk_tx_leave();
	net_dpdk_q_fini(&q->c);
	net_dpdk_stats_add(&port->past, &q->c.st);
	port->q[q->idx] = NULL;
	__atomic_sub_fetch(&port->nr_q, 1, __ATOMIC_RELEASE);
	free(q);
}

static unsigned dpdk_tx_burst(struct net_port_queue *q, struct net_pkt **pkts, unsigned n)
{
	unsigned i;

	net_dpdk_thread();
	net_dpdk_tx_enter(&q->c.tx);
	for (i = 0; i < n; i++) {
		bool held;
		int rc;

		if (PENDING_MAX - q->nr_pending < NET_DPDK_PKT_MAX_OUT)
			send_pending(q);
		rc = net_dpdk_tx_pkt(&q->c.tx, pkts[i], q->port->dev.tx_capa, q->port->dev.zero_copy,
				     q->pending + q->nr_pending, PENDING_MAX - q->nr_pending, &held);
		if (rc > 0)
			q->nr_pending += (unsigned)rc;
		if (!held) /* copied or dropped (counted): the buffer is free again */
			q->c.cbs->tx_done(q->c.opaque, pkts[i]);
	}
	net_dpdk_tx_leave();
	return n;
}

static void dpdk_tx_flush(struct net_port_queue *q)
{
	net_dpdk_tx_enter(&q->c.tx);
	send_pending(q);
	net_dpdk_tx_leave();
	net_dpdk_tx_reap(&q->c.tx);
}

static const struct pv_stats_table *dpdk_stats(struct net_port *port, void *buf, size_t size)
{
	struct net_dpdk_stats *st = buf;

	if (size < sizeof(*st))
		return NULL;
	net_dpdk_q_sum(st, &port->past, port->q, NET_MAX_QUEUES);
	net_dpdk_stats_dev(&port->dev, st);
	return &net_dpdk_stats_table;
}

const struct net_port_ops net_port_dpdk_ops = {
	.name = "dpdk",
	.caps = NET_PORT_POLLED | NET_PORT_TX_SEGS,
	.open = dpdk_open,
	.close = dpdk_close,
	.ifname = dpdk_ifname,
	.set_carrier = dpdk_set_carrier,
	.set_offloads = dpdk_set_offloads,
	.set_mtu = dpdk_set_mtu,
	.queue_open = dpdk_queue_open,
	.queue_quiesce = dpdk_queue_quiesce,
	.queue_close = dpdk_queue_close,
	.tx_burst = dpdk_tx_burst,
	.tx_flush = dpdk_tx_flush,
	NET_DPDK_Q_OPS,
	.stats = dpdk_stats,
};
