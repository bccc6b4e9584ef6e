/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netfront: a userspace netif frontend (the guest side of a vif) for tests,
 * benchmarks and netfront-tool, on pvsim (acting as a guest domain, see
 * `pvsim env`) and on real Xen (gntalloc + unbound event channels), modelled
 * on Linux 6.1's drivers/net/xen-netfront.c: the same handshake and keys,
 * the same TX slot layout and the same RX checks, so that what pvback-net
 * sees from it is what it sees from a Linux guest.
 *
 * Every feature is a switch in struct netfront_opts.  Data is copied, as a
 * guest kernel's skb data would be granted: TX frames into pages of a
 * per-queue pool granted (read-only) once, RX frames out of a per-queue pool
 * of writable pages posted on the rx ring (opts.regrant: granted per packet
 * and ended on the response instead, as Linux does).  Either way a response
 * whose page the backend still has mapped breaks the device, as Linux's
 * "Grant still in use by backend domain" does: regrant's end of access
 * fails, and the pools ask pv_hv_share_in_use (pvsim can tell; on Xen
 * gntalloc cannot, so there only regrant checks).
 *
 * Threads: netfront_open/close, netfront_backend_state, netfront_reconfigure
 * and netfront_ctrl run on one thread (the owner); each queue's data
 * functions (netfront_send .. netfront_queue_ack, the raw hooks) on one
 * thread per queue, which may be the owner.  Nothing blocks except the
 * waits named as such.  Functions return 0 (or a count) or -errno; nothing
 * here logs.
 */
#ifndef NETFRONT_H
#define NETFRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct netfront;
struct pv_hv;
struct pvfront_ring;
struct virtio_net_hdr;

#define NETFRONT_MAX_QUEUES 16u
#define NETFRONT_ETH_ALEN   6u
/* Largest frame: the netif wire format's 16-bit size plus nothing. */
#define NETFRONT_MAX_FRAME  0xffffu

struct netfront_opts {
	uint32_t devid;          /* the vif's handle (device/vif/<devid>) */
	unsigned nr_queues;      /* wanted, 0 = 1; clamped to multi-queue-max-queues */
	bool split;              /* event-channel-tx/-rx when the backend offers them */
	bool sg;                 /* feature-sg: multi-slot frames both ways */
	bool gso_tcpv4;          /* feature-gso-tcpv4 (needs sg and csum) */
	bool gso_tcpv6;          /* feature-gso-tcpv6 (needs sg and ipv6_csum) */
	bool csum;               /* IPv4 checksum offload; off: feature-no-csum-offload=1 */
	bool ipv6_csum;          /* feature-ipv6-csum-offload */
	bool rx_notify;          /* feature-rx-notify (Linux always writes 1) */
	bool mcast_control;      /* request-multicast-control (if the backend has it) */
	bool ctrl_ring;          /* ctrl-ring-ref + event-channel-ctrl (if offered) */
	bool regrant;            /* grant per packet, end access per response (Linux's way) */
	unsigned xdp_headroom;   /* xdp-headroom written at connect (feature-xdp-headroom) */
	int timeout_ms;          /* handshake waits, 0 = 10 s */
};

/* Linux netfront's defaults: one queue, every offload on, split channels,
 * rx-notify; no multicast control, no ctrl ring, pools, no headroom. */
void netfront_opts_default(struct netfront_opts *o, uint32_t devid);

/* What was negotiated, fixed at netfront_open (xdp_headroom changes with
 * netfront_reconfigure). */
struct netfront_info {
	uint8_t mac[NETFRONT_ETH_ALEN]; /* our address: `mac` in our directory */
	unsigned mtu;                   /* `mtu` in our directory, else 1500 */
	unsigned nr_queues, max_queues; /* used, and the backend's maximum */
	unsigned tx_slots, rx_slots;    /* ring entries per queue (256) */
	bool split;                     /* two event channels per queue */
	bool trusted;                   /* `trusted` in our directory (default 1) */
	/* What we may send (the backend's features, and ours switched on). */
	bool tx_sg, tx_csum, tx_ipv6_csum, tx_gso_tcpv4, tx_gso_tcpv6;
	/* What we said we take (our keys). */
	bool rx_sg, rx_csum, rx_ipv6_csum, rx_gso_tcpv4, rx_gso_tcpv6, rx_notify;
	bool mcast_control, ctrl_ring, regrant;
	bool mcast_offered;             /* the backend has feature-multicast-control */
	bool mcast_dynamic;             /* ... and feature-dynamic-multicast-control */
	bool xdp;                       /* the backend has feature-xdp-headroom */
	unsigned xdp_headroom;
};

/* Counters of one queue (that queue's thread; read racily by others). */
struct netfront_stats {
	uint64_t tx_packets, tx_bytes;   /* completed OKAY */
	uint64_t tx_errors;              /* completed ERROR or DROPPED */
	uint64_t tx_slots, tx_kicks, tx_notifies;
	uint64_t tx_linearised, tx_bounced, tx_csum_sw;
	uint64_t rx_packets, rx_bytes;
	uint64_t rx_errors;              /* frames dropped by one of the rules below */
	uint64_t rx_missing_extra, rx_bad_extra, rx_bad_id, rx_bad_slot;
	uint64_t rx_need_more_slots, rx_too_many_slots, rx_too_many_frags;
	uint64_t rx_bad_gso, rx_bad_csum, rx_runt, rx_too_big;
	uint64_t rx_gso_checksum_fixup;  /* GSO frames without csum_blank (Linux's counter) */
	uint64_t rx_id_mismatch;         /* response id is not the request's (Linux ignores it) */
	uint64_t rx_no_xdp_extra;        /* frames without the XDP extra while headroom is on */
	uint64_t rx_notifies, events;
};

/*
 * Connect to vif opts->devid of our own domain: open the hv and xenstore
 * (from the environment: PVSIM_DIR/PVSIM_DOMID/XENSTORED_PATH on pvsim),
 * Initialising, wait for the backend's InitWait, read its features, `mac`,
 * write xdp-headroom, grant one tx and one rx page per queue, allocate the
 * ports, write every key in one transaction, post the rx buffers, go
 * straight to Connected (netfront skips Initialised) and wait for the
 * backend's Connected.  -ENOENT: no such vif or no `mac`; -ENODEV: the
 * backend has no feature-rx-copy; -ECONNREFUSED: it closed instead;
 * -ETIMEDOUT.
 */
int netfront_open(const struct netfront_opts *opts, struct netfront **out);
/* Orderly close: Closing, wait for the backend's Closing/Closed, Closed,
 * wait for Closed (it has unmapped everything), then end every grant. */
void netfront_close(struct netfront *nf);
const struct netfront_info *netfront_info(const struct netfront *nf);
/* The keys netfront_open wrote, "key=value" lines (static until close). */
const char *netfront_keys(const struct netfront *nf);

/* The owner's view of the backend: xenstore's fd (readable when a watch
 * event may be pending), and the backend's state after dispatching them
 * (read now; -errno when xenstore or the domain is gone). */
int netfront_xs_fd(struct netfront *nf);
int netfront_backend_state(struct netfront *nf);

/*
 * Change xdp-headroom on a live connection as Linux's XDP attach
 * (xennet_xdp_set) does: write it, Reconfiguring, wait for the backend's
 * Reconfigured, Connected, and return without waiting for the backend any
 * further: Linux's netback stays Reconfigured, pvback-net goes back to
 * Connected (both are a live connection; netfront_backend_state may say
 * either).  We write the key first: Linux switches first, a race a backend
 * reading on Reconfiguring can lose.  Frames received meanwhile carry their
 * own headroom (the XDP extra).  -EOPNOTSUPP without feature-xdp-headroom,
 * -ETIMEDOUT, -ECONNRESET if the backend left instead.  Owner thread.
 */
int netfront_reconfigure(struct netfront *nf, unsigned xdp_headroom);

/* Device broken as Linux marks it ("Disabled for further use"): the
 * backend produced a response it was not asked for, an unknown id, a
 * producer going backwards, a grant it still maps.  NULL while fine, else
 * the reason; the data functions then return -EIO. */
const char *netfront_broken(const struct netfront *nf);

/* ------------------------------------------------------- data, per queue */

/* The pollable fd of queue q's event channels (its own hv handle). */
int netfront_queue_fd(struct netfront *nf, unsigned q);
#define NETFRONT_EV_TX 0x1u
#define NETFRONT_EV_RX 0x2u
/* Take the fired ports of queue q and re-arm them: which rings were kicked
 * (both when the queue has one channel), 0 when none. */
int netfront_queue_ack(struct netfront *nf, unsigned q);

/*
 * Queue one frame (len bytes from the Ethernet header) on queue q, not yet
 * visible to the backend (netfront_kick).  vh (may be NULL) carries the
 * offloads as a TAP's vnet_hdr: NEEDS_CSUM -> NETTXF_csum_blank |
 * data_validated (or the checksum done here when that protocol's checksum
 * offload is off), DATA_VALID -> data_validated, GSO_TCPV4/6 -> a GSO extra
 * (-EOPNOTSUPP when not negotiated).  The slots are laid out as Linux
 * lays an skb out: the frame's position in its page is kept, the first
 * slot runs to the page end, the rest is split at page boundaries; a first
 * slot shorter than an Ethernet header is bounced to a page start, more
 * than 18 slots linearised.  -ENOBUFS: the ring or the id pool is full
 * (complete some first; netfront_tx_ready tells before); -EMSGSIZE: above
 * 65535 bytes, or above a page without sg; -EINVAL: shorter than an
 * Ethernet header; -EIO: broken.
 */
int netfront_send(struct netfront *nf, unsigned q, const void *frame, size_t len,
		  const struct virtio_net_hdr *vh);
/* The same for a frame in pieces; each piece is a fragment of the skb (its
 * position in its page counts, as for a Linux skb frag). */
int netfront_sendv(struct netfront *nf, unsigned q, const struct iovec *iov, unsigned iovcnt,
		   const struct virtio_net_hdr *vh);
/* Room for the largest frame (Linux's netfront_tx_slot_available). */
bool netfront_tx_ready(const struct netfront *nf, unsigned q);
/* Publish queued TX requests and the RX buffers given back since the last
 * kick (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY on each ring): notifies the
 * backend on each port it asked on.  0 or -errno. */
int netfront_kick(struct netfront *nf, unsigned q);
/* Consume TX responses (XEN_NETIF_RSP_NULL skipped), end their grants,
 * re-arm rsp_event (RING_FINAL_CHECK_FOR_RESPONSES): the packets that
 * completed, 0, or -EIO when this marked the device broken. */
int netfront_tx_complete(struct netfront *nf, unsigned q);
/* TX packets queued or in flight on queue q. */
unsigned netfront_tx_inflight(const struct netfront *nf, unsigned q);

/*
 * Take one received frame of queue q into buf (max bytes) as Linux's
 * xennet_poll assembles it: extras (GSO -> vh's gso_type/gso_size; the
 * XDP headroom), more_data chained data slots, NETRXF_csum_blank ->
 * NEEDS_CSUM with csum_start/csum_offset from the frame's IPv4/IPv6 and
 * TCP/UDP headers (a GSO frame without it gets the pseudo-header sum, as
 * Linux's checksum fixup), data_validated -> DATA_VALID.  A frame that
 * breaks one of Linux netfront's rules is dropped and counted
 * (netfront_stats), and the next one tried.  The frame's buffers go back
 * to the ring at the next netfront_kick.  Returns the frame's length, 0
 * when nothing is pending (rsp_event re-armed), -EIO broken.  A frame
 * larger than max is dropped (rx_too_big).  vh may be NULL.
 */
int netfront_recv(struct netfront *nf, unsigned q, void *buf, size_t max,
		  struct virtio_net_hdr *vh);

const struct netfront_stats *netfront_stats(const struct netfront *nf, unsigned q);

/* How the frame netfront_recv returned last on queue q came (queue q's
 * thread; valid until its next netfront_recv): for logs and tests. */
struct netfront_rx_meta {
	uint16_t flags;          /* the first response's NETRXF_* */
	unsigned slots;          /* responses it took: data slots and extras */
	unsigned nr_frags;       /* data slots */
	uint16_t rsp_offset;     /* the first response's offset field */
	uint16_t offset;         /* where its data starts in the first page */
	unsigned extras;         /* 1u << XEN_NETIF_EXTRA_TYPE_* of each extra */
	uint8_t gso_type;        /* GSO extra */
	uint16_t gso_size;
	uint8_t hash_type;       /* HASH extra: _XEN_NETIF_CTRL_HASH_TYPE_* */
	uint8_t hash_alg;        /* XEN_NETIF_CTRL_HASH_ALGORITHM_* */
	uint32_t hash;
	uint16_t xdp_headroom;   /* XDP extra */
};
const struct netfront_rx_meta *netfront_rx_meta(const struct netfront *nf, unsigned q);

/* A dummy TX request with an XEN_NETIF_EXTRA_TYPE_MCAST_ADD (add) or _DEL
 * extra for mac, on queue 0 (its thread), pushed at once; its response
 * counts as a TX completion (tx_errors when refused) and its status comes
 * out of netfront_mcast_status.  Whether request-multicast-control is on
 * or not (the list and the filter are separate).  -EOPNOTSUPP when the
 * backend has no feature-multicast-control. */
int netfront_mcast(struct netfront *nf, bool add, const uint8_t *mac);
/* The last dummy request's NETIF_RSP_* once answered (OKAY before any),
 * -EINPROGRESS until then.  Queue 0's thread. */
int netfront_mcast_status(const struct netfront *nf);
/* Switch request-multicast-control on a live connection (the backend must
 * offer feature-dynamic-multicast-control, else -EOPNOTSUPP).  Owner thread. */
int netfront_set_mcast_control(struct netfront *nf, bool on);

/* One request on the ctrl ring (type XEN_NETIF_CTRL_TYPE_*, data[3]);
 * waits up to timeout_ms for its response.  Its status
 * (XEN_NETIF_CTRL_STATUS_*, >= 0) with *data (may be NULL), or -ENOTCONN
 * without a ctrl ring, -ETIMEDOUT, -EPROTO for a response to nothing
 * asked.  Owner thread. */
int netfront_ctrl(struct netfront *nf, uint16_t type, uint32_t d0, uint32_t d1, uint32_t d2,
		  uint32_t *data, int timeout_ms);
/* SET_HASH_KEY / SET_HASH_MAPPING (n entries at offset off) with the
 * data in a page granted for the request and ended after it: the status,
 * or -errno as netfront_ctrl (-EINVAL: more than a page).  Owner thread. */
int netfront_ctrl_set_hash_key(struct netfront *nf, const uint8_t *key, uint32_t len,
			       int timeout_ms);
int netfront_ctrl_set_hash_mapping(struct netfront *nf, const uint32_t *map, uint32_t n,
				   uint32_t off, int timeout_ms);

/* ---- hostile-frontend hooks (tests) ---- */

/* Put this exact 12-byte tx ring entry (a struct netif_tx_request or a
 * struct netif_extra_info) as the next request of queue q, unvalidated;
 * visible after netfront_kick or pvfront_ring_set_req_prod.  While raw
 * entries are unanswered, a response tx_complete cannot match (a NULL or
 * an id not pending) is taken as theirs instead of breaking the device;
 * their statuses come out of netfront_tx_raw_status. */
int netfront_tx_raw(struct netfront *nf, unsigned q, const void *ent);
/* Statuses of raw entries' responses since the last call (at most max). */
unsigned netfront_tx_raw_status(struct netfront *nf, unsigned q, int16_t *status, unsigned max);
/* Queue q's rings (pvfront.h's raw hooks apply) and hv handle. */
struct pvfront_ring *netfront_tx_ring(struct netfront *nf, unsigned q);
struct pvfront_ring *netfront_rx_ring(struct netfront *nf, unsigned q);
struct pv_hv *netfront_queue_hv(struct netfront *nf, unsigned q);
/* Grant pages to the backend through queue q's handle, for raw requests. */
int netfront_grant(struct netfront *nf, unsigned q, unsigned count, bool writable,
		   uint32_t *refs, void **addr);
int netfront_ungrant(struct netfront *nf, unsigned q, void *addr, unsigned count);
/* Notify the backend on queue q's tx port, whether it asked or not. */
int netfront_notify(struct netfront *nf, unsigned q);

#endif /* NETFRONT_H */
