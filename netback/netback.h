/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pvback-net private types and the few functions that cross files.
 *
 *  xenbus.c   struct net_vif: negotiation (features, queues, rings, split
 *             event channels, ctrl ring, rate, mac, mtu), owns the host port
 *  tx.c       guest TX on each queue's tx ring: slots -> packets -> port
 *  rx.c       guest RX on each queue's rx ring: port -> grant copy -> slots
 *  request.c  netif TX slot rules (pure: unit tests, fuzzing)
 *  offload.c  netif flags and extras <-> virtio_net_hdr (pure)
 *  ctrl.c     the ctrl ring: Toeplitz hash key, flags, mapping
 *  port*.c    host ports behind struct net_port_ops (tap, dpdk, dpdk-switch)
 *  dpdk.c     the EAL, mbuf pools, ethdev and mbuf <-> net_pkt helpers the
 *             dpdk ports share (HAVE_DPDK only)
 *  devargs.c, gso.c, fdb.c  pure helpers of the dpdk ports (unit tests)
 *  ctl.c      stats tables; main.c  the descriptor and net's options
 *
 * Threads: the xenbus thread runs xenbus.c; each netif queue runs on its own
 * pv_queue thread (tx and rx rings, one or two event channels) with its own
 * port queue, and touches only its queue.  Never include this header
 * outside netback/ (unit tests excepted).
 */
#ifndef NETBACK_H
#define NETBACK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_net.h>

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/netif.h>

#include "pvcommon.h"
#include "abi/netif.h"

#define NET_PAGE_SIZE      4096u
#define NET_ETH_HLEN       14u
#define NET_ETH_ALEN       6u
/* Follow-on TX slots a packet may have (Linux XEN_NETBK_LEGACY_SLOTS_MAX);
 * the 19th and 20th drop it, reaching a 21st is malicious (fatal_skb_slots). */
#define NET_TX_MAX_FRAGS   XEN_NETIF_NR_SLOTS_MIN
#define NET_TX_FATAL_SLOTS 20u
/* Guest RX: data slots per packet.  Linux 6.1's netfront takes 17 frags
 * after the first slot only when that one holds <= 256 bytes; 17 in all is
 * what it always takes (a full-page 64 KiB frame needs 17). */
#define NET_RX_MAX_SLOTS   (XEN_NETIF_NR_SLOTS_MIN - 1)
#define NET_MAX_PKT        (XEN_NETIF_MAX_TX_SIZE + NET_ETH_HLEN) /* GSO super-frames */
#define NET_MAX_QUEUES     8u
#define NET_DEF_MAX_QUEUES 4u
#define NET_MCAST_MAX      64u   /* Linux XEN_NETBK_MCAST_MAX */
#define NET_HASH_KEY_MAX   40u   /* XEN_NETBK_MAX_HASH_KEY_SIZE */
#define NET_HASH_MAP_MAX   128u  /* XEN_NETBK_MAX_HASH_MAPPING_SIZE */

/* --------------------------------------------------------- TX requests */

enum net_tx_state { NET_TX_FIRST, NET_TX_EXTRA, NET_TX_FRAG, NET_TX_DONE };
enum { NET_TX_NEED = 0, NET_TX_READY = 1 };

/* One guest-TX packet as its slots arrive (request.c).  Every slot fed is
 * one response owed: the first, each extra (XEN_NETIF_RSP_NULL), each frag. */
struct net_tx_pkt {
	enum net_tx_state state;
	struct netif_tx_request first;  /* first.size: the whole packet as sent */
	uint32_t first_len;             /* data in the first slot (after the frags) */
	/* extras by type - 1; .type == 0: absent */
	struct netif_extra_info extra[PV_NETIF_EXTRA_TYPE_MAX - 1];
	unsigned nr_extras;
	struct netif_tx_request frag[NET_TX_MAX_FRAGS];
	unsigned nr_frags;              /* kept in frag[] (none once dropped) */
	unsigned nr_frags_seen;         /* follow-on slots consumed */
	unsigned nr_slots;              /* every slot consumed: responses owed */
	int drop;                       /* 0, or why every slot is answered with an error */
};

void net_tx_pkt_init(struct net_tx_pkt *p);
/* Feed the packet's next slot (our private copy of the ring entry).
 * NET_TX_NEED: feed another; NET_TX_READY: the packet is complete (check
 * p->drop, and net_tx_pkt_is_dummy); -EPROTO: the frontend is malicious
 * and loses its vif.  *why: the rule broken (drops too), or NULL. */
int net_tx_feed(struct net_tx_pkt *p, const void *ent, const char **why);
/* Bytes of packet data in its slots (first_len + the frags'). */
uint32_t net_tx_pkt_len(const struct net_tx_pkt *p);
static inline bool net_tx_pkt_is_dummy(const struct net_tx_pkt *p)
{
	return p->extra[XEN_NETIF_EXTRA_TYPE_MCAST_ADD - 1].type ||
	       p->extra[XEN_NETIF_EXTRA_TYPE_MCAST_DEL - 1].type;
}

/* Guest-TX zero copy (--tx-map-min): bytes of a mapped packet grant-copied
 * into our buffer, as Linux's XEN_NETBACK_TX_COPY_LEN.  The Ethernet, IP
 * and TCP/UDP headers the offload parser reads are there for every frame
 * netfront sends (Ethernet + VLAN + IPv4 with options or IPv6 + TCP with
 * options stays under it); a frame whose headers go beyond is made linear
 * (tx.c) before it is parsed. */
#define NET_TX_COPY_HEAD 128u

/* One run of guest bytes: a grant, an offset and a length in its page. */
struct net_tx_piece {
	uint32_t ref;
	uint16_t offset, len;
};

/* A packet's data split at the head (net_tx_layout): head[] is copied into
 * the buffer back to back (head_len bytes), segs[] stays in guest pages, one
 * page each, in frame order. */
struct net_tx_layout {
	uint32_t head_len;
	unsigned nr_head, nr_segs;
	struct net_tx_piece head[1 + NET_TX_MAX_FRAGS];
	struct net_tx_piece segs[1 + NET_TX_MAX_FRAGS];
};

/* The layout of a complete, kept packet (not dropped, not a dummy) with at
 * most head bytes copied (UINT32_MAX: all of it).  Slots of size 0 make no
 * piece; a slot the head ends in gives its rest as a segment.  Pure. */
void net_tx_layout(const struct net_tx_pkt *p, uint32_t head, struct net_tx_layout *out);

/* ------------------------------------------------------------ offloads */

/* What the frontend negotiated (xenbus.c), read by both directions. */
struct net_features {
	bool sg;             /* feature-sg: multi-slot packets */
	bool gso_tcpv4;      /* feature-gso-tcpv4: TSO4 both ways */
	bool gso_tcpv6;
	bool csum;           /* !feature-no-csum-offload: IPv4 checksum offload */
	bool ipv6_csum;      /* feature-ipv6-csum-offload */
	bool rx_notify;      /* feature-rx-notify */
	bool mcast_control;  /* request-multicast-control (watched: atomic) */
	unsigned xdp_headroom;
};

/*
 * Guest TX: the frontend's NETTXF_csum_blank / data_validated flags and GSO
 * extra (gso->type 0: none) as the virtio_net_hdr the host port takes (the
 * checksum start found by parsing the Ethernet/IPv4/IPv6 headers of frame,
 * our own copy: a GSO frame without csum_blank gets its pseudo-header sum
 * written).  Only the head_len bytes at frame are read (and written); len
 * is the whole frame's.  -EINVAL when the frame cannot carry what the flags
 * ask, or its headers do not fit in head_len (then the packet is dropped,
 * or made linear and parsed again).
 */
int net_offload_from_tx(uint16_t txflags, const struct netif_extra_info *gso, uint8_t *frame,
			uint32_t head_len, uint32_t len, struct virtio_net_hdr *vh);
/* Guest RX: the port's virtio_net_hdr as netif RX flags and, for a GSO
 * frame, the GSO extra to send (gso->type == 0: none).  -EOPNOTSUPP for a
 * GSO type the frontend did not negotiate (the frame is dropped). */
int net_offload_to_rx(const struct virtio_net_hdr *vh, const struct net_features *f,
		      uint16_t *flags, struct netif_extra_info *gso);

/* Finish a partial checksum in software (NEEDS_CSUM: the field holds the
 * pseudo-header sum), for a frontend that takes no csum_blank.  0 or -EINVAL. */
int net_csum_complete(uint8_t *frame, uint32_t len, const struct virtio_net_hdr *vh);

/* -------------------------------------------------------------- hash */

/* The frontend's hash settings (ctrl ring), read by the RX threads. */
struct net_hash {
	uint32_t alg;                    /* XEN_NETIF_CTRL_HASH_ALGORITHM_* */
	uint32_t flags;                  /* XEN_NETIF_CTRL_HASH_TYPE_* bits */
	uint8_t key[NET_HASH_KEY_MAX];   /* missing octets are zero */
	uint32_t size;                   /* mapping table entries, 0: modular */
	uint32_t mapping[NET_HASH_MAP_MAX];
};

#define NET_HASH_FLAGS_SUPPORTED \
	(XEN_NETIF_CTRL_HASH_TYPE_IPV4 | XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP | \
	 XEN_NETIF_CTRL_HASH_TYPE_IPV6 | XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP)

/* The Toeplitz hash of frame's headers as h asks (the 'maximal' type its
 * flags allow, netif.h): true with *value and *type (the _XEN_NETIF_CTRL_
 * HASH_TYPE_* index a HASH extra carries), false when none applies. */
bool net_hash_frame(const struct net_hash *h, const uint8_t *frame, uint32_t len,
		    uint32_t *value, uint8_t *type);
/* One ctrl-ring request against h (num_queues bounds the mapping); copy
 * fetches guest memory (the key, the mapping) into a buffer: 0 or -errno.
 * Returns the XEN_NETIF_CTRL_STATUS_* and sets *data for the response. */
typedef int net_ctrl_copy_fn(void *opaque, uint32_t gref, void *buf, uint32_t len);
uint32_t net_ctrl_handle(struct net_hash *h, unsigned num_queues,
			 const struct xen_netif_ctrl_request *req, net_ctrl_copy_fn *copy,
			 void *opaque, uint32_t *data);

/* ----------------------------------------------------------- host port */

/*
 * A host port is the host side of a vif (TAP in a bridge, DPDK): one
 * struct net_port per vif, created at probe so that the toolstack's hotplug
 * script can put it into a bridge, and one struct net_port_queue per netif
 * queue, used by that queue's thread only.  All ops are required.
 *
 * Packets carry their offloads as a virtio_net_hdr (what a TAP with
 * IFF_VNET_HDR reads and writes, and what DPDK's mbuf offload flags map to).
 */
struct net_seg {
	uint8_t *base;
	uint32_t len;
};

/* A guest-TX packet's data beyond its linear head: at most one segment per
 * netif slot (a mapped guest page), so 1 + NET_TX_MAX_FRAGS. */
#define NET_PKT_MAX_SEGS 19u

struct net_pkt {
	struct virtio_net_hdr vh;
	uint8_t *data;          /* the frame, from the Ethernet header; guest TX's
				 * have NET_PKT_HEADROOM bytes the port may write
				 * before it */
	uint32_t len;           /* the whole frame: head_len + the segments' */
	uint32_t head_len;      /* bytes at data (== len when nr_segs == 0) */
	unsigned nr_segs;       /* guest TX to a NET_PORT_TX_SEGS port only: the
				 * rest of the frame in mapped guest pages, which
				 * stay mapped (and the guest unanswered) until
				 * tx_done */
	struct net_seg *segs;
	void *owner;            /* the side that lent the buffer: its own use */
};

/* Guest TX packets have this much room before data: a TAP writes its
 * virtio_net_hdr there and the frame with it in one piece (one
 * IORING_OP_WRITE of one buffer instead of a WRITEV of two). */
#define NET_PKT_HEADROOM 64u

struct net_port;
struct net_port_queue;

struct net_port_params {
	const char *ifname;     /* "vif5.0" (or the toolstack's vifname) */
	const uint8_t *mac;     /* the host side's address (Linux: fe:ff:ff:ff:ff:ff) */
	unsigned mtu;
	unsigned max_queues;    /* queues the port must be able to open */
	const char *args;       /* port-specific (dpdk devargs), may be NULL */
	unsigned domid, devid;  /* the vif's ({domid}, {devid} in dpdk devargs) */
	const uint8_t *guest_mac; /* the guest's address (`mac`), or NULL */
	/* --isolate domain: only a process with CAP_NET_ADMIN may attach a
	 * queue (tap: the interface's owner is root), not a worker. */
	bool attach_admin_only;
};

/* Callbacks into the netif queue that owns a port queue (its thread). */
struct net_port_queue_cbs {
	void (*rx_ready)(void *opaque);                      /* rx_burst has packets */
	void (*tx_done)(void *opaque, struct net_pkt *pkt);  /* pkt->data no longer used */
};

/* What a port can do (net_port_ops.caps). */
#define NET_PORT_POLLED  0x1u /* no fd wakes its queues: they are polled (poll op),
			       * on the daemon's polling workers (DPDK) */
#define NET_PORT_TX_SEGS 0x2u /* tx_burst takes packets with segments (mapped
			       * guest pages) and calls tx_done when it no longer
			       * reads them: guest-TX zero copy */

#define NET_OFF_CSUM 0x1u /* the port may hand us frames with a partial checksum */
#define NET_OFF_TSO4 0x2u /* ... and TCPv4 GSO super-frames */
#define NET_OFF_TSO6 0x4u

struct net_port_ops {
	const char *name;                                    /* "tap" */
	unsigned caps;                                       /* NET_PORT_* */
	/* xenbus thread. */
	/* Create the host interface, or take over the one a previous daemon
	 * left (keep below), so a bridge keeps it across a restart. */
	int (*open)(const struct net_port_params *p, struct net_port **out);
	/* keep: the vif lives on (the daemon stops): leave the interface for
	 * the next daemon; else (the device was removed) delete it. */
	void (*close)(struct net_port *port, bool keep);
	const char *(*ifname)(const struct net_port *port);
	int (*set_carrier)(struct net_port *port, bool up);
	/* What guest RX may receive (NET_OFF_*): what the frontend accepts. */
	int (*set_offloads)(struct net_port *port, unsigned off);
	int (*set_mtu)(struct net_port *port, unsigned mtu);
	/* Open queue idx for a queue thread whose loop is loop (called before
	 * that thread starts, from its pv_queue's start hook). */
	int (*queue_open)(struct net_port *port, unsigned idx, struct pv_loop *loop,
			  const struct net_port_queue_cbs *cbs, void *opaque,
			  struct net_port_queue **out);
	/* On the queue's own thread, its last act: cancel and reap whatever the
	 * port has in flight in the kernel (nothing is posted again after).
	 * 0, or -ETIMEDOUT when something would not finish. */
	int (*queue_quiesce)(struct net_port_queue *q);
	void (*queue_close)(struct net_port_queue *q);
	/*
	 * Guest TX: hand n packets to the host.  The port takes the first k it
	 * returns (the caller counts the rest as dropped) and calls tx_done for
	 * each when it no longer reads its data (possibly before returning).
	 * tx_flush submits what was queued (one system call per batch).
	 */
	unsigned (*tx_burst)(struct net_port_queue *q, struct net_pkt **pkts, unsigned n);
	void (*tx_flush)(struct net_port_queue *q);
	/* Guest RX: up to max packets from the host, each ours (its data
	 * writable) until rx_release gives it back. */
	unsigned (*rx_burst)(struct net_port_queue *q, struct net_pkt **pkts, unsigned max);
	void (*rx_release)(struct net_port_queue *q, struct net_pkt **pkts, unsigned n);
	/* No guest buffers: stop rx_ready until resumed (the host queues or drops). */
	void (*rx_pause)(struct net_port_queue *q, bool pause);
	/* The queue's polling round (adaptive polling, or always for a
	 * NET_PORT_POLLED port): reap what finished (tx_done), look for frames
	 * (rx_ready when there are some and the queue is not paused).  true
	 * when it found anything. */
	bool (*poll)(struct net_port_queue *q);
	/* `stats` (xenbus thread, racy): fill st (at most size bytes) with the
	 * port's own counters and return their table, or NULL: none. */
	const struct pv_stats_table *(*stats)(struct net_port *port, void *st, size_t size);
};

extern const struct net_port_ops net_port_tap_ops;
/* The TAP port under --isolate domain (port_tap.c).  Xenbus process: the
 * fds of n queues of port for a worker (queue 0's a duplicate of the
 * probe's fd, the others attached now; the caller closes them all once
 * sent), 0 or -errno.  Worker: a port of the n fds handed over (queue i
 * runs on fds[i], the carrier is set through fds[0]), which opens no TAP
 * queue and whose close closes them but never deletes the interface.  0
 * (the port owns the fds) or -errno (the caller still does). */
int net_tap_queue_fds(struct net_port *port, unsigned n, int *fds);
int net_tap_port_adopt(const char *ifname, const int *fds, unsigned n, struct net_port **out);
extern const struct net_port_ops net_port_dpdk_ops;   /* HAVE_DPDK only */
extern const struct net_port_ops net_port_switch_ops; /* HAVE_DPDK only */
/* The largest stats struct a port fills. */
#define NET_PORT_STATS_MAX 512u

/* devargs.c: a devargs template with {vif}, {domid}, {devid} replaced.
 * 0; -EINVAL for an unknown or unclosed {...}; -ENAMETOOLONG when the result
 * does not fit len (with its NUL). */
int net_devargs_expand(const char *tmpl, const char *vif, unsigned domid, unsigned devid,
		       char *out, size_t len);

/* gso.c: software segmentation of a TCP GSO super-frame (vh: GSO_TCPV4/6,
 * gso_size, its NEEDS_CSUM at the TCP header) into frames of at most
 * gso_size payload, each with its IP length, IPv4 id and header checksum,
 * TCP sequence, flags (FIN/PSH on the last only, CWR on the first only)
 * and a complete TCP checksum.  emit gets each frame (a buffer of the
 * callee's, valid during the call) and returns 0 or stops with -errno.
 * The number of frames, or -EINVAL for a frame that is not what vh says. */
typedef int net_gso_emit_fn(void *opaque, const uint8_t *frame, uint32_t len);
int net_gso_segment(const uint8_t *frame, uint32_t len, const struct virtio_net_hdr *vh,
		    net_gso_emit_fn *emit, void *opaque);

/* ---------------------------------------------------------------- fdb */

/*
 * fdb.c: the dpdk-switch's MAC table (pure, unit-tested; the caller locks).
 * Fixed memory: capacity entries in 4-way buckets (a seeded hash picks the
 * bucket, so a guest cannot aim at another's); each port may hold at most
 * per_port_max learned entries; entries age out age_s seconds after their
 * last frame (swept once a second).  A pinned entry (a vif's own `mac`)
 * never ages and never moves: another port sending from it is refused.
 */
#define NET_FDB_WAYS 4u
enum { NET_FDB_FLOOD = -1, NET_FDB_DROP = -2 };

struct net_fdb_ent {
	uint8_t mac[NET_ETH_ALEN];
	uint16_t port;
	uint32_t seen;           /* seconds, the caller's clock */
	bool used, pinned;
};

struct net_fdb_stats {
	uint64_t learned, moved, refused_full, refused_limit, refused_pinned, aged;
};

struct net_fdb {
	struct net_fdb_ent *ent;  /* nbuckets * NET_FDB_WAYS */
	unsigned nbuckets;        /* a power of two */
	unsigned max_ports, per_port_max;
	unsigned *count;          /* learned (unpinned) entries per port */
	unsigned used;
	uint32_t age_s, next_sweep, seed;
	struct net_fdb_stats st;
};

/* 0 or -ENOMEM / -EINVAL (capacity rounded up to a power-of-two multiple
 * of NET_FDB_WAYS). */
int net_fdb_init(struct net_fdb *t, unsigned capacity, unsigned max_ports, unsigned per_port_max,
		 uint32_t age_s, uint32_t seed);
void net_fdb_fini(struct net_fdb *t);
/* A frame from mac came in on port: learn or refresh.  0; -EINVAL (a
 * multicast source, a port out of range); -EPERM (pinned to another port);
 * -EDQUOT (port holds per_port_max); -ENOSPC (its bucket is full of live
 * entries). */
int net_fdb_learn(struct net_fdb *t, const uint8_t *mac, unsigned port, uint32_t now);
/* mac belongs to port for good (0, -ENOSPC, -EINVAL). */
int net_fdb_pin(struct net_fdb *t, const uint8_t *mac, unsigned port);
/* Every entry of port, pinned ones too (the vif went away). */
void net_fdb_forget_port(struct net_fdb *t, unsigned port);
/* The port of a live entry, or -ENOENT. */
int net_fdb_lookup(struct net_fdb *t, const uint8_t *mac, uint32_t now);
/* Where a frame to dst from in_port goes: a port, NET_FDB_FLOOD (broadcast,
 * multicast, unknown), or NET_FDB_DROP (dst is on in_port itself). */
int net_fdb_dest(struct net_fdb *t, const uint8_t *dst, unsigned in_port, uint32_t now);
/* Drop entries not seen for age_s (also done by learn/lookup once a second). */
void net_fdb_age(struct net_fdb *t, uint32_t now);

/* -------------------------------------------------------------- config */

enum net_port_kind { NET_PORT_TAP, NET_PORT_DPDK, NET_PORT_DPDK_SWITCH };

#define NET_MAX_WORKERS 64u

/* Daemon-wide settings, read-only after start-up. */
struct net_config {
	struct pv_backend_cfg pv;  /* what every backend has: pv_backend_main fills it */
	enum net_port_kind port;
	const struct net_port_ops *port_ops;
	const char *port_args;     /* --port-args */
	const char *dpdk_args;     /* --dpdk-args: EAL arguments replacing our defaults */
	unsigned dpdk_mbufs;       /* --dpdk-mbufs: the mbuf pool's size */
	bool split_evtchn;         /* offer feature-split-event-channels */
	bool ctrl_ring;            /* offer feature-ctrl-ring */
	unsigned tx_map_min;       /* guest TX: map packets of this size or more beyond
				    * NET_TX_COPY_HEAD (NET_PORT_TX_SEGS ports; 0: never) */
	unsigned rx_stall_ms;      /* carrier off after the guest posts no RX buffer this long */
	/* Polling workers, for a NET_PORT_POLLED port (--dpdk-lcores). */
	unsigned nr_workers;       /* 0: the port needs none */
	int worker_cpu[NET_MAX_WORKERS]; /* -1: not pinned */
	unsigned poll_sleep_max_us; /* idle back-off ceiling */
	struct pv_worker *workers[NET_MAX_WORKERS]; /* started by main.c's start */
	struct pv_isodev_table *iso; /* --isolate domain: the workers (isolate.c); else NULL */
};

/* ring.c: start cfg's polling workers (main.c's start hook); the least
 * loaded one for a new queue (xenbus thread), NULL when none. */
#define NET_POLL_SPIN_US 200u
int net_workers_start(struct net_config *cfg);
struct pv_worker *net_worker_pick(const struct net_config *cfg);
/* HAVE_DPDK only, on the main thread.  dpdk.c: the EAL and the mbuf pools
 * (after daemon(); 0 or -errno, logged); port_switch.c: the switch and its
 * uplink.  Each fini does nothing when its init never ran. */
int net_dpdk_init(const struct net_config *cfg);
void net_dpdk_fini(void);
int net_switch_init(const struct net_config *cfg);
void net_switch_fini(void);

/* -------------------------------------------------------------- stats */

struct net_stats {
	uint64_t tx_packets, tx_bytes, tx_drops, tx_errors, tx_slot_violations;
	uint64_t tx_gso, tx_csum_blank, tx_mcast;
	uint64_t rx_packets, rx_bytes, rx_drops, rx_errors, rx_gso, rx_csum_blank;
	uint64_t rx_no_buffers;    /* packets that waited for guest buffers */
	uint64_t credit_waits;     /* times the rate limit held TX back */
	uint64_t carrier_offs;
	uint64_t tx_mapped;        /* guest-TX packets handed over with mapped segments */
	uint64_t tx_map_errors;    /* ... whose grant map failed (answered ERROR) */
	uint64_t tx_maps_inflight; /* guest pages mapped now (a gauge) */
};
extern const struct pv_stats_table net_stats_table;

/* -------------------------------------------------------------- queues */

struct net_vif;
struct net_queue;

struct net_queue_params {
	unsigned idx;
	unsigned order_tx, order_rx;           /* always 0 today (netif rings are one page) */
	uint32_t tx_ref, rx_ref;
	unsigned nr_ports;                     /* 1, or 2 (split: tx, rx) */
	uint32_t ports[2];
	bool resume;
};

/* Map the queue's rings, bind its ports, open its port queue, start its thread. */
int net_queue_start(struct net_vif *vif, const struct net_queue_params *p,
		    struct net_queue **out);
/* Answer every TX request pushed before now, stop, join, unmap. */
void net_queue_stop(struct net_queue *q);
struct pv_queue *net_queue_pv(struct net_queue *q); /* pv_xb_dev_stop_queues */
/* Racy snapshot for `stats` (any thread). */
void net_queue_stats(struct net_queue *q, struct net_stats *st,
		     struct pv_queue_ring_info *tx, struct pv_queue_ring_info *rx);

/* The queue's state, shared by ring.c (lifecycle), tx.c and rx.c; queue
 * thread only, except the counters (read racily by `stats`). */
enum { NET_RING_TX = 0, NET_RING_RX = 1 };
#define NET_TX_BATCH     256u  /* packets gathered before one copy + one port burst */
#define NET_TX_BUFS      512u  /* packet buffers: in the batch or still held by the port */
#define NET_RX_BATCH     64u
#define NET_POLL_BUDGET  512u  /* ring slots or frames per run on a polling worker */
/* A stopping queue waits this long for packets a port keeps (mapped guest
 * pages) before it ends without them (net_tx_fini unmaps and answers). */
#define NET_TX_STOP_WAIT_MS 2000u
#define NET_TX_PKT_SLOTS (1u + (PV_NETIF_EXTRA_TYPE_MAX - 1) + NET_TX_FATAL_SLOTS)

struct net_tx_slot {             /* a tx ring slot's context */
	uint16_t id;             /* the request's id, echoed in its response */
	bool null_rsp;           /* an extra: answered XEN_NETIF_RSP_NULL */
};

struct net_rx_slot {             /* an rx ring slot's context: a buffer posted */
	uint16_t id;
	uint32_t gref;
};

struct net_txmap;

struct net_txbuf {               /* a guest-TX packet on its way to the port */
	struct net_pkt pkt;
	struct net_txbuf *next;      /* free list, or its map's packets */
	uint16_t txflags;            /* the first slot's NETTXF_* */
	struct netif_extra_info gso; /* its GSO extra (type 0: none) */
	void *slots[NET_TX_PKT_SLOTS]; /* its ring slots, in order: answered together */
	unsigned nr_slots;
	int copy_err;                /* a grant copy of it failed */
	/* zero copy: the pages beyond the head, to map (layout's segs) */
	unsigned nr_pieces;
	struct net_tx_piece pieces[NET_PKT_MAX_SEGS];
	struct net_seg segs[NET_PKT_MAX_SEGS];
	struct net_txmap *map;       /* the mapping its segments live in, or NULL */
	unsigned map_first;          /* its first page in map */
	int16_t status;              /* its answer, once the map is gone */
	bool held;                   /* with the port (tx_burst took it, no tx_done yet) */
	bool map_failed;             /* copy_err is its map's (logged and counted) */
};

/* One pv_hv_map of a burst's segments (or of one packet's, when the
 * burst's failed): unmapped when the last of its packets comes back, then
 * its packets are answered. */
struct net_txmap {
	void *addr;                  /* pages, contiguous */
	unsigned pages;
	unsigned pending;            /* its packets not yet back from the port */
	struct net_txbuf *pkts;      /* its packets (next), answered at the unmap */
	struct net_txmap *next;      /* free list */
};

struct net_queue {
	struct pv_queue *pq;
	struct pv_worker *worker;    /* its polling worker, or NULL (a thread of its own) */
	struct net_vif *vif;
	const char *name;            /* vif-D-N/qI */
	unsigned idx;
	struct pv_hv *hv;
	uint16_t domid;
	const struct net_port_ops *po;
	struct net_port_queue *port;
	struct pv_copy_batch copy;   /* guest TX's */
	/* guest TX */
	struct net_tx_pkt cur;       /* the packet being assembled */
	void *cur_slots[NET_TX_PKT_SLOTS];
	bool cur_held;               /* complete, waiting for credit */
	struct net_txbuf *bufs;      /* NET_TX_BUFS of them */
	uint8_t *buf_mem;            /* their data: NET_TX_BUFS x NET_MAX_PKT, touched as used */
	struct net_txbuf *free_bufs;
	struct net_txbuf *batch[NET_TX_BATCH];
	unsigned nr_batch;
	bool tx_want_buf;            /* every buffer is with the port: kick on tx_done */
	uint32_t tx_map_min;         /* the config's, 0: copy everything */
	struct net_txmap *maps;      /* NET_TX_BUFS of them (a packet's own at worst) */
	struct net_txmap *free_maps;
	unsigned maps_busy;          /* mappings not yet unmapped */
	uint32_t *map_refs;          /* a burst's refs to map: NET_TX_BATCH x NET_PKT_MAX_SEGS */
	bool in_flush;               /* inside batch_flush: it pushes what gets answered */
	bool tx_kick_posted;         /* a kick is on the loop */
	bool tx_answered;            /* answers written outside a run: push them */
	bool tx_closing;             /* the thread ended (fini): no more kicks */
	int64_t tx_stop_timer;       /* stopping with packets the port keeps */
	bool tx_stop_expired;        /* ... and it waited NET_TX_STOP_WAIT_MS */
	uint64_t remaining_credit, credit_window_ns;
	int64_t credit_timer;
	/* guest RX */
	struct pv_copy_batch rx_copy;
	struct net_pkt *rx_pkts[NET_RX_BATCH]; /* from the port, not yet delivered */
	unsigned rx_n, rx_next;
	bool rx_paused;              /* no guest buffers: the port holds back */
	unsigned rx_need;            /* ... and the next frame needs this many */
	bool rx_stalled;             /* ... for rx_stall_ms: counted in the vif */
	struct net_hash hash;        /* the vif's, as of hash_gen */
	unsigned hash_gen;
	int64_t rx_stall_timer;
	struct net_stats st;
};

/* tx.c: drain the tx ring (queue thread). */
void net_tx_run(struct net_queue *q);
void net_tx_done(void *opaque, struct net_pkt *pkt); /* port callback */
int net_tx_init(struct net_queue *q);
void net_tx_fini(struct net_queue *q);
bool net_tx_idle(struct net_queue *q);
/* The port gave back what it could at the stop: push what that answered. */
void net_tx_quiesce(struct net_queue *q);
/* rx.c: deliver what the port received into the rx ring (queue thread). */
void net_rx_run(struct net_queue *q);
void net_rx_init(struct net_queue *q);
void net_rx_ready(void *opaque);                     /* port callback */
void net_rx_fini(struct net_queue *q);

/* mcast.c: the frontend's multicast list (request-multicast-control). */
struct net_mcast {
	pthread_mutex_t lock;        /* queue threads add/del and look up */
	unsigned n;
	uint8_t addr[NET_MCAST_MAX][NET_ETH_ALEN];
};
void net_mcast_init(struct net_mcast *m);
void net_mcast_fini(struct net_mcast *m);
/* A dummy TX request's add (else del) extra, as Linux's xenvif_mcast_add/
 * del: 0, or -ENOSPC for an add to a full list (answered NETIF_RSP_ERROR). */
int net_mcast_update(struct net_vif *vif, const struct net_tx_pkt *p);
/* Guest RX filter: deliver a frame with this destination? */
bool net_mcast_pass(struct net_vif *vif, const uint8_t *dst);

/* ---------------------------------------------------------------- vif */

struct net_vif {
	struct pv_xb_dev *dev;     /* NULL in a worker process (isolate.c) */
	const struct net_config *cfg;
	const char *name;          /* log prefix: vif-D-N */
	uint16_t domid;
	/* Without dev: a queue's protocol violation goes here (a worker's). */
	void (*violation)(void *opaque, const char *reason);
	void *violation_opaque;
	uint8_t mac[NET_ETH_ALEN]; /* the guest's, from `mac` */
	struct net_port *port;
	struct net_features feat;  /* negotiated at connect */
	struct net_mcast mcast;
	/* rate: credit_bytes per credit_usec (0: unlimited), atomic */
	uint64_t credit_bytes, credit_usec;
	unsigned nr_queues;
	struct net_queue *queues[NET_MAX_QUEUES];
	unsigned stalled_queues;   /* carrier off while > 0 (atomic) */
	struct net_ctrl *ctrl;     /* the ctrl ring, or NULL */
	struct pv_xs_watch *mcast_watch; /* request-multicast-control while connected */
	pthread_mutex_t hash_lock; /* hash changes (ctrl thread), copies (rx threads) */
	struct net_hash hash;
	unsigned hash_gen;         /* bumped on every change (atomic) */
	struct net_stats past;     /* counters of queues already stopped */
	bool connected;
	/* --isolate domain (xenbus process): the worker running the queues
	 * (nr_queues of them, and the ctrl ring's; queues[] stays NULL). */
	struct pv_isodev iso;
};

extern const struct pv_xb_backend_ops net_vif_ops;

/* The ctrl ring's keys, read at connect (xenbus.c). */
struct net_ctrl_params {
	bool on;                   /* the frontend has one and we offer it */
	uint32_t ref, port;
};

/* isolate.c: --isolate domain.  Xenbus process (main thread): the worker
 * table's descriptor (the serve hook makes the table, when
 * cfg->pv.isolate); start a vif's queues and
 * its ctrl ring in its domain's worker, with every TAP queue's fd (0 or
 * -errno); stop them (wait: the daemon stops, or a failed connect; else
 * the vif is held until they drained), their counters then in vif->past;
 * the queues' counters (zeros when the worker does not answer); the vif's
 * run-time settings (rate, multicast control, XDP headroom) changed. */
extern const struct pv_isodev_desc net_iso_desc;
int net_iso_start(struct net_vif *vif, const struct net_queue_params *p, unsigned nq,
		  const struct net_ctrl_params *ctrl);
void net_iso_stop(struct net_vif *vif, bool wait);
void net_iso_stats(struct net_vif *vif, struct net_stats *st, struct pv_queue_ring_info *tx,
		   struct pv_queue_ring_info *rx);
void net_iso_settings(struct net_vif *vif);
/* The descriptor's worker hook. */
int net_iso_worker(struct pv_backend *b, struct pv_loop *loop, int fd);

/* ctrl.c: the ctrl ring's own queue thread (xenbus thread starts/stops it). */
struct net_ctrl;
int net_ctrl_start(struct net_vif *vif, const struct net_ctrl_params *p, struct net_ctrl **out);
void net_ctrl_stop(struct net_ctrl *c); /* NULL: nothing */
struct pv_queue *net_ctrl_pv(struct net_ctrl *c);
/* ctl.c: `pvback-net stats` for one vif. */
bool net_ctl_stats(struct pv_xb_dev *dev, struct pv_stats_dump *d);

#endif /* NETBACK_H */
