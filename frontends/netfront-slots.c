// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * netfront's slot rules (see internal.h), read from Linux 6.1's
 * drivers/net/xen-netfront.c: how xennet_start_xmit lays a frame out in tx
 * slots, how xennet_poll turns rx responses into a frame and which of them
 * it drops, and what checksum_setup makes of the frame's flags.  Pure:
 * responses are the caller's private copies (the backend is not trusted:
 * each field is read once from the copy and bounded before use).
 */
#include <errno.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>

#include "pvnet.h"
#include "internal.h"

/* ------------------------------------------------------------------ TX */

/* Slots a run of len bytes at offset (in its page) takes: gnttab_count_grant. */
static unsigned count_grant(uint32_t offset, uint32_t len)
{
	return len ? (offset % NF_PAGE_SIZE + len + NF_PAGE_SIZE - 1) / NF_PAGE_SIZE : 0;
}

static unsigned page_off(const void *p)
{
	return (unsigned)((uintptr_t)p % NF_PAGE_SIZE);
}

void nf_iov_read(const struct iovec *iov, unsigned iovcnt, uint32_t at, void *out, uint32_t n)
{
	uint8_t *o = out;
	unsigned i;

	for (i = 0; i < iovcnt && n; i++) {
		uint32_t l = (uint32_t)iov[i].iov_len, k;

		if (at >= l) {
			at -= l;
			continue;
		}
		k = l - at < n ? l - at : n;
		memcpy(o, (const uint8_t *)iov[i].iov_base + at, k);
		o += k;
		n -= k;
		at = 0;
	}
}

/* The frame's ethertype, behind one 802.1Q/ad tag at most (as Linux's
 * vlan_get_protocol for a device with vlan features). */
static uint16_t ethertype(const struct iovec *iov, unsigned iovcnt, uint32_t len)
{
	uint8_t b[4];
	uint16_t t;

	nf_iov_read(iov, iovcnt, 12, b, 2);
	t = (uint16_t)(b[0] << 8 | b[1]);
	if ((t == ETH_P_8021Q || t == ETH_P_8021AD) && len >= 18) {
		nf_iov_read(iov, iovcnt, 16, b, 2);
		t = (uint16_t)(b[0] << 8 | b[1]);
	}
	return t;
}

static int plan_offloads(const struct iovec *iov, unsigned iovcnt,
			 const struct virtio_net_hdr *vh, const struct nf_tx_caps *caps,
			 struct nf_tx_plan *p)
{
	uint16_t et;
	bool hw;

	switch (vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE:
		break;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		if (!caps->gso_tcpv4)
			return -EOPNOTSUPP;
		p->gso.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (!caps->gso_tcpv6)
			return -EOPNOTSUPP;
		p->gso.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV6;
		break;
	default:
		return -EOPNOTSUPP; /* UDP fragmentation offload: netif has none */
	}
	if (p->gso.u.gso.type) {
		if (!vh->gso_size)
			return -EINVAL;
		p->gso.type = XEN_NETIF_EXTRA_TYPE_GSO;
		p->gso.u.gso.size = vh->gso_size;
	}
	if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		/* CHECKSUM_PARTIAL: "local packet?" -> csum_blank | data_validated,
		 * if the device has the protocol's checksum feature; else the
		 * stack finishes it first (skb_checksum_help). */
		et = ethertype(iov, iovcnt, p->len);
		hw = (et == ETH_P_IP && caps->csum) || (et == ETH_P_IPV6 && caps->ipv6_csum);
		if (hw) {
			p->flags = NETTXF_csum_blank | NETTXF_data_validated;
		} else {
			if ((uint32_t)vh->csum_start + vh->csum_offset + 2 > p->len)
				return -EINVAL;
			p->csum_sw = true;
			p->csum_start = vh->csum_start;
			p->csum_offset = vh->csum_offset;
		}
	} else if (vh->flags & VIRTIO_NET_HDR_F_DATA_VALID) {
		p->flags = NETTXF_data_validated; /* "remote but checksummed" */
	}
	return 0;
}

/* Append the slots of a run: frame bytes [src, src + len) starting at
 * offset in its page, split at page boundaries. */
static void add_run(struct nf_tx_plan *p, uint32_t src, uint32_t offset, uint32_t len)
{
	offset %= NF_PAGE_SIZE;
	while (len) {
		uint32_t n = NF_PAGE_SIZE - offset < len ? NF_PAGE_SIZE - offset : len;

		p->seg[p->nr_segs++] = (struct nf_tx_seg){ src, (uint16_t)offset, (uint16_t)n };
		src += n;
		len -= n;
		offset = 0;
	}
}

int nf_tx_plan(const struct iovec *iov, unsigned iovcnt, const struct virtio_net_hdr *vh,
	       const struct nf_tx_caps *caps, struct nf_tx_plan *p)
{
	unsigned i, first = iovcnt, slots = 0, off0 = 0;
	uint64_t len = 0;
	int rc;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < iovcnt; i++) {
		if (!iov[i].iov_len)
			continue;
		if (first == iovcnt)
			first = i;
		len += iov[i].iov_len;
		if (len > NF_MAX_FRAME)
			return -EMSGSIZE; /* "too big for wire format" */
		slots += count_grant(page_off(iov[i].iov_base), (uint32_t)iov[i].iov_len);
	}
	if (len < NF_ETH_HLEN)
		return -EINVAL;
	p->len = (uint32_t)len;
	if (vh) {
		rc = plan_offloads(iov, iovcnt, vh, caps, p);
		if (rc < 0)
			return rc;
	}

	off0 = page_off(iov[first].iov_base);
	/* "skb rides the rocket": more slots than a netback must take. */
	if (slots > NF_TX_MAX_SLOTS) {
		p->linearised = true;
		slots = count_grant(off0, p->len);
	}
	/* The first slot must hold an Ethernet header or netback drops the
	 * frame.  A Linux skb keeps that header in its head; pieces need not. */
	if (NF_PAGE_SIZE - off0 < NF_ETH_HLEN ||
	    (!p->linearised && iov[first].iov_len < NF_ETH_HLEN))
		p->bounced = true;
	/* Without sg Linux drops a frame of several slots (its skbs without sg
	 * are linear within a page); one that fits a page is bounced instead. */
	if (!caps->sg && (slots > 1 || p->bounced)) {
		if (p->len > NF_PAGE_SIZE)
			return -EMSGSIZE;
		p->bounced = true;
	}

	if (p->bounced) {
		p->linearised = false;
		add_run(p, 0, 0, p->len);
	} else if (p->linearised) {
		add_run(p, 0, off0, p->len);
	} else {
		uint32_t src = 0;

		for (i = first; i < iovcnt; i++) {
			add_run(p, src, page_off(iov[i].iov_base), (uint32_t)iov[i].iov_len);
			src += (uint32_t)iov[i].iov_len;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ RX */

static void drop(struct nf_rx_frame *f, enum nf_rx_drop why)
{
	if (f->drop == NF_RX_OK)
		f->drop = why; /* the first rule broken names the drop */
}

/* Entry i of the run, copied (our copies are never shared: no tearing). */
static void ent(const uint8_t *ents, unsigned mask, uint32_t start, unsigned i, void *out)
{
	memcpy(out, ents + (size_t)((start + i) & mask) * 8, 8);
}

unsigned nf_rx_assemble(const void *rsp, unsigned mask, uint32_t start, unsigned n,
			const bool *posted, struct nf_rx_frame *f)
{
	const uint8_t *ents = rsp;
	struct netif_rx_response first, rx;
	struct netif_extra_info x;
	unsigned cons = 0, slots = 1, max, idx = 0;
	uint16_t h = 0;
	const struct netif_extra_info *gso;

	memset(f, 0, sizeof(*f));
	ent(ents, mask, start, 0, &first);
	f->flags = first.flags;
	/* A short first slot goes to the skb's head, leaving a frag free. */
	max = XEN_NETIF_NR_SLOTS_MIN + (first.status <= (int)NF_RX_COPY_THRESHOLD);

	/* xennet_get_extras: each extra's slot is recycled, valid or not. */
	if (first.flags & NETRXF_extra_info) {
		do {
			if (cons + 1 == n) {
				drop(f, NF_RX_MISSING_EXTRA);
				break;
			}
			ent(ents, mask, start, ++cons, &x);
			if (!x.type || x.type >= PV_NETIF_EXTRA_TYPE_MAX)
				drop(f, NF_RX_BAD_EXTRA);
			else
				f->extras[x.type - 1] = x;
		} while (x.flags & XEN_NETIF_EXTRA_FLAG_MORE);
		if (f->drop == NF_RX_OK && f->extras[PV_NETIF_EXTRA_TYPE_XDP - 1].type) {
			h = pv_netif_extra_xdp_headroom(&f->extras[PV_NETIF_EXTRA_TYPE_XDP - 1]);
			f->xdp_extra = true;
		}
	}

	/* xennet_get_responses: the data slots, first one first. */
	rx = first;
	for (;;) {
		if (posted && !posted[(start + idx) & mask]) {
			drop(f, NF_RX_BAD_ID);
		} else if (rx.status < 0 || rx.offset + rx.status > (int)NF_PAGE_SIZE ||
			   rx.status < (int)h) {
			drop(f, NF_RX_BAD_SLOT);
		} else if (f->nr_frags < NF_RX_MAX_DATA) {
			f->frag[f->nr_frags++] = (struct nf_rx_frag){
				idx, (uint16_t)(rx.offset + h), (uint16_t)(rx.status - h) };
			f->len += (uint32_t)(rx.status - h);
		}
		if (!(rx.flags & NETRXF_more_data))
			break;
		if (cons + slots == n) {
			drop(f, NF_RX_NEED_MORE); /* the backend published half a frame */
			break;
		}
		idx = cons + slots;
		ent(ents, mask, start, idx, &rx);
		slots++;
	}
	if (slots > max)
		drop(f, NF_RX_TOO_MANY_SLOTS);
	f->consumed = cons + slots;
	if (f->drop != NF_RX_OK)
		return f->consumed;

	/* xennet_set_skb_gso. */
	gso = &f->extras[XEN_NETIF_EXTRA_TYPE_GSO - 1];
	if (gso->type && (!gso->u.gso.size || (gso->u.gso.type != XEN_NETIF_GSO_TYPE_TCPV4 &&
					       gso->u.gso.type != XEN_NETIF_GSO_TYPE_TCPV6))) {
		drop(f, NF_RX_BAD_GSO);
		return f->consumed;
	}
	/* xennet_fill_frags: the first slot is frag 0; when the frags are full
	 * it pulls min(status, 256) bytes into the head, which frees frag 0
	 * only if that was all of it. */
	if (slots > NF_MAX_SKB_FRAGS + (first.status <= (int)NF_RX_COPY_THRESHOLD))
		drop(f, NF_RX_TOO_MANY_FRAGS);
	return f->consumed;
}

int nf_rx_csum_setup(uint8_t *frame, uint32_t len, const struct nf_rx_frame *f,
		     struct virtio_net_hdr *vh, bool *fixup)
{
	const struct netif_extra_info *gso = &f->extras[XEN_NETIF_EXTRA_TYPE_GSO - 1];
	bool partial = f->flags & NETRXF_csum_blank, recalc = false;
	struct pv_net_l4 l4;
	uint16_t ps;
	uint8_t *check;

	memset(vh, 0, sizeof(*vh));
	*fixup = false;
	if (gso->type) {
		vh->gso_type = gso->u.gso.type == XEN_NETIF_GSO_TYPE_TCPV4 ?
				       VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
		vh->gso_size = gso->u.gso.size;
		/* "A GSO SKB must be CHECKSUM_PARTIAL": some peers forget. */
		if (!partial) {
			partial = recalc = true;
			*fixup = true;
		}
	}
	if (!partial) {
		if (f->flags & NETRXF_data_validated)
			vh->flags = VIRTIO_NET_HDR_F_DATA_VALID;
		return 0;
	}
	/* skb_checksum_setup() on the skb's protocol: no VLAN look-through. */
	if (pv_net_l4_find(frame, len, 0, &l4) < 0)
		return -EPROTO;
	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh->csum_start = (uint16_t)l4.l4;
	vh->csum_offset = l4.proto == IPPROTO_TCP ? 16 : 6;
	if (recalc) {
		ps = pv_net_pseudo_sum(frame, &l4, len - l4.l4);
		check = frame + l4.l4 + vh->csum_offset;
		check[0] = (uint8_t)(ps >> 8);
		check[1] = (uint8_t)ps;
	}
	if (gso->type) {
		uint32_t doff = l4.proto == IPPROTO_TCP ? (frame[l4.l4 + 12] >> 4) * 4u : 8u;

		vh->hdr_len = (uint16_t)(l4.l4 + doff <= len ? l4.l4 + doff : len);
	}
	return 0;
}
