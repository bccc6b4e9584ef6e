/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the dpdk ports (port_dpdk.c, port_switch.c) share, in dpdk.c: the
 * EAL and the daemon's mbuf pools, an ethdev opened from devargs, guest TX
 * packets as mbufs (zero copy through external buffers, or copied; the
 * offloads the device lacks done in software), mbufs as guest RX packets,
 * the wake-ups of a polled queue, and the counters.  Included by those
 * files only: the rest of netback never sees a DPDK header.
 */
#ifndef NETBACK_DPDK_H
#define NETBACK_DPDK_H

#include <pthread.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "netback.h"

/* ---------------------------------------------------------------- EAL */

/* net_dpdk_init/fini (netback.h): the EAL from --dpdk-args or our
 * defaults, and the mbuf pools. */
/* The calling thread as an EAL thread (an lcore id: mempool caches), once
 * per thread; harmless when it cannot be. */
void net_dpdk_thread(void);
struct rte_mempool *net_dpdk_pool(void);      /* packet mbufs */
struct rte_mempool *net_dpdk_hdr_pool(void);  /* data-less mbufs for external buffers */

/* --------------------------------------------------------------- ethdev */

#define NET_DPDK_RXD 512u   /* descriptors per ring */
#define NET_DPDK_TXD 512u
/* Our own flag in a tx offload mask: the mbufs go to another vif of the
 * switch, which takes the virtio_net_hdr's offloads as they are. */
#define NET_DPDK_CAPA_VIRT (1ull << 63)

struct net_dpdk_stats;

struct net_dpdk_dev {
	uint16_t port_id;
	struct rte_device *rdev;
	char name[RTE_ETH_NAME_MAX_LEN];
	char driver[32];
	unsigned nq;               /* rx and tx queues configured */
	uint64_t tx_capa;          /* the tx offloads we use (RTE_ETH_TX_OFFLOAD_*) */
	bool zero_copy;            /* its driver takes guest memory as external buffers */
	bool open;
	/* net_af_xdp: the kernel's generic XDP sends a few dozen frames per
	 * kick and the PMD kicks only from a burst, so a burst's tail can
	 * stay in its TX ring: kick with empty bursts for a while after each
	 * send (net_dpdk_dev_kick).  Per queue, ns (atomic). */
	bool tx_kick;
	uint64_t kick_until[NET_MAX_QUEUES];
};

/* Probe devargs (hot-plug), configure nq (capped at the device's) rx+tx
 * queues, MTU (0: leave it), MAC (NULL: leave it; else when the driver
 * lets us), promiscuous, start.  0 or
 * -errno with *why set to a reason for the log. */
int net_dpdk_dev_open(const char *devargs, unsigned nq, unsigned mtu, const uint8_t *mac,
		      struct net_dpdk_dev *d, const char **why);
void net_dpdk_dev_close(struct net_dpdk_dev *d);
int net_dpdk_dev_set_mtu(struct net_dpdk_dev *d, unsigned mtu);
/* m[0..n) out of device queue qid (under lock when not NULL), as far as it
 * takes them; the rest is freed (external buffers: tx_done) and counted
 * in st->tx_full. */
/* A poll's look at queue qid's TX (tx_kick devices; lock taken if free). */
void net_dpdk_dev_kick(struct net_dpdk_dev *d, uint16_t qid, pthread_mutex_t *lock);
void net_dpdk_dev_send(struct net_dpdk_dev *d, uint16_t qid, pthread_mutex_t *lock,
		       struct rte_mbuf **m, unsigned n, struct net_dpdk_stats *st);

/* ------------------------------------------------------------ counters */

struct net_dpdk_stats {
	/* the device's (rte_eth_stats) */
	uint64_t ipackets, opackets, imissed, ierrors, oerrors, rx_nombuf;
	/* ours */
	uint64_t tx_zero_copy, tx_copied, tx_full, tx_nombuf, tx_gso_sw, tx_csum_sw, tx_bad_offload;
	uint64_t rx_paused, rx_too_long, rx_linearised, rx_gso_unsupported;
	uint64_t pool_in_use, pool_avail;
	/* the switch's */
	uint64_t sw_local, sw_uplink, sw_flood, sw_drop_hairpin, sw_inbox_full;
	uint64_t fdb_entries, fdb_learned, fdb_moved, fdb_refused, fdb_aged;
};
extern const struct pv_stats_table net_dpdk_stats_table;   /* the port's */
extern const struct pv_stats_table net_switch_stats_table; /* the switch's */
/* dst += src (the counters that per-queue code updates). */
void net_dpdk_stats_add(struct net_dpdk_stats *dst, const struct net_dpdk_stats *src);
/* The device's counters and the pool's gauges into st. */
void net_dpdk_stats_dev(const struct net_dpdk_dev *d, struct net_dpdk_stats *st);

/* ---------------------------------------------------------- wake-ups */

/* A polled queue's wake-up on its worker's loop (the PMD has no fd: the
 * worker polls): an eventfd other threads kick (the switch's inboxes,
 * external buffers freed on another thread) to end a sleeping worker's
 * back-off at once.  It calls fn(opaque). */
struct net_dpdk_wake {
	struct pv_loop *loop;
	int efd;
	bool armed;                /* the owner sleeps: a kick writes the eventfd */
	void (*fn)(void *opaque);
	void *opaque;
};
int net_dpdk_wake_init(struct net_dpdk_wake *w, struct pv_loop *loop, void (*fn)(void *),
		       void *opaque);
void net_dpdk_wake_fini(struct net_dpdk_wake *w);
void net_dpdk_wake_kick(struct net_dpdk_wake *w); /* any thread */

/* ----------------------------------------------------------- guest TX */

/* Packets of one owner queue that may be in flight as external buffers. */
#define NET_DPDK_TXC (NET_TX_BUFS + 64u)
/* The most mbuf packets one guest packet may become (software GSO). */
#define NET_DPDK_PKT_MAX_OUT 256u

struct net_dpdk_txc;

struct net_dpdk_tx {
	const struct net_port_queue_cbs *cbs;
	void *opaque;
	struct net_dpdk_wake *wake;
	struct net_dpdk_txc *ctx, *free_ctx;   /* NET_DPDK_TXC contexts */
	struct net_dpdk_txc *deferred;         /* freed on another thread (atomic stack) */
	bool closed;                           /* the owner queue is gone: drop callbacks */
	uint8_t *lin;                          /* linearising scratch, NET_MAX_PKT */
	struct net_dpdk_stats *st;
};

int net_dpdk_tx_init(struct net_dpdk_tx *t, const struct net_port_queue_cbs *cbs, void *opaque,
		     struct net_dpdk_wake *wake, struct net_dpdk_stats *st);
/* Free it; contexts still held by mbufs stay until those are freed (their
 * callbacks then do nothing). */
void net_dpdk_tx_fini(struct net_dpdk_tx *t);
/*
 * pkt as mbufs for a device with offloads capa: up to max packets into
 * out.  Zero copy (when zc and no software offload needs the frame
 * linear): *held is set and tx_done comes when the last mbuf is freed;
 * else the data was copied and pkt is the caller's again.  The count, or
 * -ENOBUFS (pool empty), -EINVAL (offload flags the frame cannot carry),
 * -E2BIG (more than max frames).
 */
int net_dpdk_tx_pkt(struct net_dpdk_tx *t, struct net_pkt *pkt, uint64_t capa, bool zc,
		    struct rte_mbuf **out, unsigned max, bool *held);
/* The owner thread, around calls that may free its mbufs: their tx_done
 * then comes at once, not deferred. */
void net_dpdk_tx_enter(struct net_dpdk_tx *t);
void net_dpdk_tx_leave(void);
/* tx_done for the packets whose mbufs other threads freed (owner thread):
 * how many. */
unsigned net_dpdk_tx_reap(struct net_dpdk_tx *t);
bool net_dpdk_tx_idle(const struct net_dpdk_tx *t);

/* ----------------------------------------------------------- guest RX */

#define NET_DPDK_RX_PKTS (NET_RX_BATCH * 2u) /* handed out, not yet released */
#define NET_DPDK_BOUNCE  4u                  /* multi-segment frames at once */

struct net_dpdk_rxd;

struct net_dpdk_rx {
	struct net_dpdk_rxd *d, *free_d;
	uint8_t *bounce;                     /* NET_DPDK_BOUNCE x NET_MAX_PKT */
	unsigned bounce_free;                /* bit mask */
	unsigned offloads;                   /* NET_OFF_*: the frontend's (atomic) */
	struct net_dpdk_stats *st;
};

int net_dpdk_rx_init(struct net_dpdk_rx *r, struct net_dpdk_stats *st);
void net_dpdk_rx_fini(struct net_dpdk_rx *r);
/* Frames of m[0..n) as packets (up to max): each takes its mbuf; ones that
 * cannot be delivered (too long) are freed and counted.  Returns the
 * packets made; *used: the mbufs taken (the rest stay the caller's). */
unsigned net_dpdk_rx_pkts(struct net_dpdk_rx *r, struct rte_mbuf **m, unsigned n,
			  struct net_pkt **pkts, unsigned max, unsigned *used);
void net_dpdk_rx_release(struct net_dpdk_rx *r, struct net_pkt **pkts, unsigned n);

/* -------------------------------------------------- a polled port queue */

/* What a queue of either dpdk port has (its first member): wake-ups, guest
 * TX's contexts, guest RX's stash of mbufs and packets.  fill pulls a
 * burst into the empty stash (the device's queues, or the switch's inbox). */
struct net_dpdk_q {
	const struct net_port_queue_cbs *cbs;
	void *opaque;
	struct net_dpdk_wake wake;
	struct net_dpdk_tx tx;
	struct net_dpdk_rx rx;
	struct rte_mbuf *stash[NET_RX_BATCH];
	unsigned nr_stash, stash_next;
	bool paused;
	unsigned (*fill)(struct net_dpdk_q *c);
	struct net_dpdk_stats st;
};

int net_dpdk_q_init(struct net_dpdk_q *c, struct pv_loop *loop,
		    const struct net_port_queue_cbs *cbs, void *opaque,
		    unsigned (*fill)(struct net_dpdk_q *c), unsigned offloads);
/* After the owner gave back what it holds: frees the stash, the rest. */
void net_dpdk_q_fini(struct net_dpdk_q *c);
/* The port ops rx_burst, rx_release, rx_pause and poll of both ports: their
 * struct net_port_queue starts with its struct net_dpdk_q. */
unsigned net_dpdk_q_rx_burst(struct net_port_queue *q, struct net_pkt **pkts, unsigned max);
void net_dpdk_q_rx_release(struct net_port_queue *q, struct net_pkt **pkts, unsigned n);
void net_dpdk_q_rx_pause(struct net_port_queue *q, bool pause);
bool net_dpdk_q_poll(struct net_port_queue *q);
/* The guest-RX half of a polled queue's net_port_ops, the same for
 * every DPDK port: .caps must include NET_PORT_POLLED. */
#define NET_DPDK_Q_OPS \
	.rx_burst = net_dpdk_q_rx_burst, .rx_release = net_dpdk_q_rx_release, \
	.rx_pause = net_dpdk_q_rx_pause, .poll = net_dpdk_q_poll
/* set_offloads for a port's queues qs[0..n) (NULL: not open). */
void net_dpdk_q_set_offloads(struct net_port_queue *const *qs, unsigned n, unsigned off);
/* st = past + the counters of the open queues among qs[0..n). */
void net_dpdk_q_sum(struct net_dpdk_stats *st, const struct net_dpdk_stats *past,
		    struct net_port_queue *const *qs, unsigned n);

#endif /* NETBACK_DPDK_H */
