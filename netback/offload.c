// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * netif checksum and segmentation offloads <-> virtio_net_hdr (the TAP's
 * vnet_hdr), as Linux 6.1's xen-netback maps them to and from an skb:
 *
 *  guest TX  NETTXF_csum_blank  -> NEEDS_CSUM at the transport header, which
 *                                  is found by parsing the frame (common/
 *                                  pvnet.c, Linux's skb_checksum_setup:
 *                                  IPv4, IPv6 with its extension headers,
 *                                  802.1Q tags, TCP and UDP);
 *            NETTXF_data_validated -> DATA_VALID;
 *            a GSO extra         -> GSO_TCPV4/6 with gso_size and hdr_len;
 *                                  without csum_blank the partial checksum
 *                                  is set up and the pseudo-header sum
 *                                  written, as netback's rx_gso_checksum_fixup
 *  guest RX  NEEDS_CSUM -> NETRXF_csum_blank | data_validated; DATA_VALID ->
 *            data_validated; GSO_TCPV4/6 -> a GSO extra (when negotiated).
 *
 * Pure: the headers are our private copies (never guest memory), so
 * parsing them cannot race with the guest.  Every offset is checked
 * against the copied head; a zero-copy frame's rest (guest pages) is
 * never read here.
 */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>

#include "netback.h"
#include "pvnet.h"

int net_offload_from_tx(uint16_t txflags, const struct netif_extra_info *gso, uint8_t *frame,
			uint32_t head_len, uint32_t len, struct virtio_net_hdr *vh)
{
	bool blank = txflags & NETTXF_csum_blank;
	struct pv_net_l4 l4;
	uint16_t ps;

	memset(vh, 0, sizeof(*vh));
	if (!blank && !gso->type) {
		if (txflags & NETTXF_data_validated)
			vh->flags = VIRTIO_NET_HDR_F_DATA_VALID;
		return 0;
	}
	if (head_len > len || pv_net_l4_find(frame, head_len, PV_NET_F_VLAN, &l4) < 0)
		return -EINVAL;
	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh->csum_start = (uint16_t)l4.l4;
	vh->csum_offset = l4.proto == IPPROTO_TCP ? 16 : 6;
	if (gso->type) {
		unsigned doff = (frame[l4.l4 + 12] >> 4) * 4u;

		if (l4.proto != IPPROTO_TCP || doff < 20 || l4.l4 + doff > head_len ||
		    l4.v6 != (gso->u.gso.type == XEN_NETIF_GSO_TYPE_TCPV6))
			return -EINVAL;
		vh->gso_type = l4.v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
		vh->gso_size = gso->u.gso.size;
		vh->hdr_len = (uint16_t)(l4.l4 + doff);
		if (!blank) {
			/* GSO without a partial checksum: set one up (the frame is
			 * our copy, writable). */
			ps = pv_net_pseudo_sum(frame, &l4, len - l4.l4);
			frame[l4.l4 + vh->csum_offset] = (uint8_t)(ps >> 8);
			frame[l4.l4 + vh->csum_offset + 1] = (uint8_t)ps;
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
	if (!(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return 0;
	return pv_net_csum_complete(frame, len, vh->csum_start, vh->csum_offset);
}
