/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libpvfront's private pieces shared between its files and the unit tests:
 * netfront's slot rules (netfront-slots.c), pure functions of a frame or of
 * a run of responses copied out of the rx ring:
 *
 *  nf_tx_plan       the tx slots Linux's xennet_start_xmit makes of a frame
 *  nf_rx_assemble   the frame Linux's xennet_get_responses/_get_extras/
 *                   _fill_frags makes of responses, with each drop rule
 *  nf_rx_csum_setup the checksum state Linux's checksum_setup gives it
 *
 * No hv, no ring, no allocation.  Never included outside frontends/ (unit
 * tests excepted).
 */
#ifndef PVFRONT_INTERNAL_H
#define PVFRONT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "abi/netif.h"

struct virtio_net_hdr;

#define NF_PAGE_SIZE       4096u
#define NF_ETH_HLEN        14u
#define NF_MAX_FRAME       XEN_NETIF_MAX_TX_SIZE            /* the first slot's u16 size */
/* Linux 6.1: MAX_SKB_FRAGS = 65536 / PAGE_SIZE + 1, and netfront's
 * MAX_XEN_SKB_FRAGS is the same; a frame of more slots than
 * MAX_XEN_SKB_FRAGS + 1 is linearised. */
#define NF_MAX_SKB_FRAGS   (65536u / NF_PAGE_SIZE + 1u)
#define NF_TX_MAX_SLOTS    (NF_MAX_SKB_FRAGS + 1u)          /* data slots: 18 */
#define NF_RX_COPY_THRESHOLD 256u
/* get_responses' bound: XEN_NETIF_NR_SLOTS_MIN, +1 for a short first slot. */
#define NF_RX_MAX_DATA     (XEN_NETIF_NR_SLOTS_MIN + 1u)
#define NF_NR_EXTRAS       (PV_NETIF_EXTRA_TYPE_MAX - 1u)

/* ------------------------------------------------------------------ TX */

/* What we may send: the backend's features we switched on. */
struct nf_tx_caps {
	bool sg, csum, ipv6_csum, gso_tcpv4, gso_tcpv6;
};

/* One data slot: frame bytes [src, src + size) at offset in its page. */
struct nf_tx_seg {
	uint32_t src;
	uint16_t offset, size;
};

struct nf_tx_plan {
	uint32_t len;                    /* the frame (the first slot's size) */
	unsigned nr_segs;                /* data slots, 1 .. NF_TX_MAX_SLOTS */
	struct nf_tx_seg seg[NF_TX_MAX_SLOTS];
	uint16_t flags;                  /* the first slot's NETTXF_csum_blank/data_validated */
	struct netif_extra_info gso;     /* .type XEN_NETIF_EXTRA_TYPE_GSO, or 0 */
	bool linearised;                 /* more than NF_TX_MAX_SLOTS: one run */
	bool bounced;                    /* moved to a page start */
	bool csum_sw;                    /* NEEDS_CSUM without the offload: finish it */
	uint32_t csum_start, csum_offset;/* for csum_sw */
};

/* Bytes [at, at + n) of the frame in iov (bytes beyond it are not read). */
void nf_iov_read(const struct iovec *iov, unsigned iovcnt, uint32_t at, void *out, uint32_t n);

/*
 * Plan the tx slots of the frame in iov (each piece an skb fragment at its
 * own position in its page) as Linux 6.1's xennet_start_xmit: count the
 * slots (gnttab_count_grant per piece); above NF_TX_MAX_SLOTS linearise
 * into one run at the first piece's page offset; a first slot shorter than
 * an Ethernet header (or, without sg, a frame needing more than one slot)
 * is bounced to offset 0; then the first slot runs to its page end, the
 * rest of each piece is split at page boundaries.  Offloads from vh (NULL:
 * none).  0, or -EINVAL (shorter than an Ethernet header, GSO with size 0),
 * -EMSGSIZE (above 65535 bytes; above a page without sg), -EOPNOTSUPP (a
 * GSO type not negotiated).  Reads the frame only for its ethertype.
 */
int nf_tx_plan(const struct iovec *iov, unsigned iovcnt, const struct virtio_net_hdr *vh,
	       const struct nf_tx_caps *caps, struct nf_tx_plan *p);

/* ------------------------------------------------------------------ RX */

/* Why a frame was dropped (nf_rx_frame.drop). */
enum nf_rx_drop {
	NF_RX_OK = 0,
	NF_RX_MISSING_EXTRA,   /* "Missing extra info": extra_info at the last response */
	NF_RX_BAD_EXTRA,       /* "Invalid extra type" */
	NF_RX_BAD_ID,          /* "Bad rx response id": no buffer posted in that slot */
	NF_RX_BAD_SLOT,        /* "rx->offset: %u, size: %d": status < 0 or beyond the page */
	NF_RX_NEED_MORE,       /* "Need more slots": more_data at the last response */
	NF_RX_TOO_MANY_SLOTS,  /* "Too many slots" (get_responses) */
	NF_RX_TOO_MANY_FRAGS,  /* more frags than an skb holds (fill_frags) */
	NF_RX_BAD_GSO,         /* "GSO size must not be zero" / "Bad GSO type" */
};

/* One data slot of a frame: its data is [offset, offset + len) of the page
 * posted at response index idx (from the first response). */
struct nf_rx_frag {
	unsigned idx;
	uint16_t offset, len;
};

struct nf_rx_frame {
	unsigned consumed;           /* responses used, dropped or not */
	enum nf_rx_drop drop;
	uint16_t flags;              /* the first response's NETRXF_* */
	struct netif_extra_info extras[NF_NR_EXTRAS]; /* by type - 1; .type 0: absent */
	unsigned nr_frags;
	struct nf_rx_frag frag[NF_RX_MAX_DATA];
	uint32_t len;                /* sum of the frags */
	bool xdp_extra;              /* the headroom came with an XDP extra */
};

/*
 * Assemble the frame starting at response start from the n >= 1 responses
 * published, as Linux 6.1's xennet_poll.  ents holds private copies of the
 * ring's entries (8 bytes each, netif_rx_response or netif_extra_info),
 * entry i at ents[i & mask] as in the ring; posted[i & mask] says a buffer
 * was posted there (NULL: all were).  Extras while FLAG_MORE, then data
 * slots while more_data.  Rules, each dropping the frame (f->drop) yet
 * consuming what Linux consumes: a missing or invalid extra, no buffer,
 * status < 0 or offset + status beyond the page, a frame running past the
 * last response, more data slots than XEN_NETIF_NR_SLOTS_MIN (+1 when the
 * first carries at most 256 bytes), more than an skb's frags, a GSO extra
 * of size 0 or another type than TCPv4/v6.  An XDP extra's headroom h:
 * every data slot's data is [offset + h, offset + status) (Linux reads the
 * first slot from h for status bytes, which a full page fails; netback's
 * status counts the headroom).  Frag idx are relative to start.  Returns
 * f->consumed (>= 1).
 */
unsigned nf_rx_assemble(const void *ents, unsigned mask, uint32_t start, unsigned n,
			const bool *posted, struct nf_rx_frame *f);

/*
 * The checksum and GSO state of an assembled frame (len bytes at frame,
 * ours), as Linux's checksum_setup: NETRXF_csum_blank (or a GSO extra
 * without it: the pseudo-header sum is written, *fixup set) -> NEEDS_CSUM
 * at the TCP/UDP header found by pv_net_l4_find (no VLAN); data_validated
 * -> DATA_VALID; GSO -> gso_type/gso_size/hdr_len.  0, or -EPROTO when the
 * headers do not allow it (Linux drops the frame).
 */
int nf_rx_csum_setup(uint8_t *frame, uint32_t len, const struct nf_rx_frame *f,
		     struct virtio_net_hdr *vh, bool *fixup);

#endif /* PVFRONT_INTERNAL_H */
