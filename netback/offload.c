// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * netif checksum and segmentation offloads <-> virtio_net_hdr (the TAP's
 * vnet_hdr), as Linux 6.1's xen-netback maps them to and from an skb:
 *
 *  guest TX  NETTXF_csum_blank  -> NEEDS_CSUM at the transport header, which
 *                                  is found by parsing the frame (Linux's
 *                                  skb_checksum_setup; IPv4, IPv6 with its
 *                                  extension headers, TCP and UDP);
 *            NETTXF_data_validated -> DATA_VALID;
 *            a GSO extra         -> GSO_TCPV4/6 with gso_size and hdr_len;
 *                                  without csum_blank the partial checksum
 *                                  is set up and the pseudo-header sum
 *                                  written, as netback's rx_gso_checksum_fixup
 *  guest RX  NEEDS_CSUM -> NETRXF_csum_blank | data_validated; DATA_VALID ->
 *            data_validated; GSO_TCPV4/6 -> a GSO extra (when negotiated).
 *
 * Pure: frames are our private copies (never guest memory), so parsing
 * them cannot race with the guest.  Every length is checked against len.
 */
#include <errno.h>
#include <string.h>
#include <linux/if_ether.h>
#include <netinet/in.h>

#include "netback.h"

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Where the transport header starts and which one it is (TCP or UDP).
 * 0, or -EINVAL when the frame is not one we can offload. */
static int find_l4(const uint8_t *f, uint32_t len, uint32_t *l4, uint8_t *proto, bool *v6,
		   uint32_t *l3)
{
	uint32_t off = 12;
	uint16_t type;

	if (len < NET_ETH_HLEN)
		return -EINVAL;
	type = be16(f + off);
	off += 2;
	while (type == ETH_P_8021Q || type == ETH_P_8021AD) {
		if (off + 4 > len)
			return -EINVAL;
		type = be16(f + off + 2);
		off += 4;
	}
	*l3 = off;
	if (type == ETH_P_IP) {
		unsigned ihl;

		if (off + 20 > len || (f[off] >> 4) != 4)
			return -EINVAL;
		ihl = (f[off] & 0xfu) * 4u;
		/* A fragment other than the first has no transport header. */
		if (ihl < 20 || off + ihl > len || (be16(f + off + 6) & 0x1fff))
			return -EINVAL;
		*proto = f[off + 9];
		*l4 = off + ihl;
		*v6 = false;
	} else if (type == ETH_P_IPV6) {
		uint8_t nh;
		unsigned hops = 0;

		if (off + 40 > len || (f[off] >> 4) != 6)
			return -EINVAL;
		nh = f[off + 6];
		off += 40;
		/* Hop-by-hop, routing and destination options may precede it. */
		while (nh == 0 || nh == 43 || nh == 60) {
			if (off + 8 > len || ++hops > 8)
				return -EINVAL;
			nh = f[off];
			off += (f[off + 1] + 1u) * 8u;
		}
		if (off > len)
			return -EINVAL;
		*proto = nh;
		*l4 = off;
		*v6 = true;
	} else {
		return -EINVAL;
	}
	if (*proto != IPPROTO_TCP && *proto != IPPROTO_UDP)
		return -EINVAL;
	return 0;
}

/* One's complement sum of len bytes (big-endian words), folded to 16 bits. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, uint32_t len)
{
	uint32_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += be16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The pseudo-header sum Linux leaves in a CHECKSUM_PARTIAL packet's
 * checksum field (not inverted), over the addresses, protocol and length. */
static uint16_t pseudo_sum(const uint8_t *f, uint32_t l3, bool v6, uint8_t proto, uint32_t l4len)
{
	uint32_t sum = 0;

	if (v6)
		sum = csum_add(sum, f + l3 + 8, 32);
	else
		sum = csum_add(sum, f + l3 + 12, 8);
	sum += proto;
	sum += l4len >> 16;
	sum += l4len & 0xffff;
	return csum_fold(sum);
}

int net_offload_from_tx(uint16_t txflags, const struct netif_extra_info *gso, uint8_t *frame,
			uint32_t len, struct virtio_net_hdr *vh)
{
	bool blank = txflags & NETTXF_csum_blank, v6 = false;
	uint32_t l4 = 0, l3 = 0, l4hdr;
	uint8_t proto = 0;
	uint8_t *check;

	memset(vh, 0, sizeof(*vh));
	if (!blank && !gso->type) {
		if (txflags & NETTXF_data_validated)
			vh->flags = VIRTIO_NET_HDR_F_DATA_VALID;
		return 0;
	}
	if (find_l4(frame, len, &l4, &proto, &v6, &l3) < 0)
		return -EINVAL;
	l4hdr = proto == IPPROTO_TCP ? 20 : 8;
	if (l4 + l4hdr > len)
		return -EINVAL;
	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh->csum_start = (uint16_t)l4;
	vh->csum_offset = proto == IPPROTO_TCP ? 16 : 6;
	if (gso->type) {
		unsigned doff = (frame[l4 + 12] >> 4) * 4u;

		if (proto != IPPROTO_TCP || doff < 20 || l4 + doff > len ||
		    v6 != (gso->u.gso.type == XEN_NETIF_GSO_TYPE_TCPV6))
			return -EINVAL;
		vh->gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
		vh->gso_size = gso->u.gso.size;
		vh->hdr_len = (uint16_t)(l4 + doff);
		if (!blank) {
			/* GSO without a partial checksum: set one up (the frame is
			 * our copy, writable). */
			uint16_t ps = pseudo_sum(frame, l3, v6, proto, len - l4);

			check = frame + l4 + vh->csum_offset;
			check[0] = (uint8_t)(ps >> 8);
			check[1] = (uint8_t)ps;
		}
	}
	return 0;
}

int net_offload_to_rx(const struct virtio_net_hdr *vh, const struct net_features *f,
		      uint16_t *flags, struct netif_extra_info *gso)
{
	memset(gso, 0, sizeof(*gso));
	*flags = 0;
	if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		*flags = NETRXF_csum_blank | NETRXF_data_validated;
	else if (vh->flags & VIRTIO_NET_HDR_F_DATA_VALID)
		*flags = NETRXF_data_validated;
	switch (vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return 0;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		if (!f->gso_tcpv4)
			return -EOPNOTSUPP;
		gso->u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (!f->gso_tcpv6)
			return -EOPNOTSUPP;
		gso->u.gso.type = XEN_NETIF_GSO_TYPE_TCPV6;
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (!vh->gso_size)
		return -EOPNOTSUPP;
	gso->type = XEN_NETIF_EXTRA_TYPE_GSO;
	gso->u.gso.size = vh->gso_size;
	return 0;
}

int net_csum_complete(uint8_t *frame, uint32_t len, const struct virtio_net_hdr *vh)
{
	uint32_t start = vh->csum_start, at = start + vh->csum_offset;
	uint16_t c;

	if (!(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return 0;
	if (start >= len || at + 2 > len)
		return -EINVAL;
	/* The field holds the pseudo-header sum: summing over it includes it. */
	c = (uint16_t)~csum_fold(csum_add(0, frame + start, len - start));
	if (!c && vh->csum_offset == 6)
		c = 0xffff; /* UDP: 0 means "no checksum" */
	frame[at] = (uint8_t)(c >> 8);
	frame[at + 1] = (uint8_t)c;
	return 0;
}
