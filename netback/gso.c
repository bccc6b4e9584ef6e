// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Software TCP segmentation for host ports that take no TSO (the dpdk
 * ports on af_packet, memif, af_xdp): a guest's TCPv4/v6 GSO super-frame
 * becomes gso_size-payload frames, each with its IP length (IPv4: id + i
 * and header checksum), TCP sequence, flags (FIN/PSH on the last, CWR on
 * the first) and a complete TCP checksum, as Linux's tcp_gso_segment
 * followed by a software checksum gives them.
 *
 * Pure (unit tests): the frame is our private copy, parsed with
 * pv_net_l4_find; every offset is checked against len.  A super-frame may
 * make at most NET_GSO_MAX_SEGS frames (a guest's gso_size of 1 would
 * otherwise ask for 64 K frames per packet).
 */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>

#include "netback.h"
#include "pvnet.h"

#define NET_GSO_MAX_SEGS 256u

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int net_gso_segment(const uint8_t *frame, uint32_t len, const struct virtio_net_hdr *vh,
		    net_gso_emit_fn *emit, void *opaque)
{
	static __thread uint8_t seg[NET_MAX_PKT];
	unsigned type = vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	uint32_t hdr, doff, mss = vh->gso_size, off, seq, nsegs, i;
	struct pv_net_l4 l4;
	uint16_t id = 0;
	int rc;

	if ((type != VIRTIO_NET_HDR_GSO_TCPV4 && type != VIRTIO_NET_HDR_GSO_TCPV6) || !mss ||
	    len > NET_MAX_PKT || pv_net_l4_find(frame, len, PV_NET_F_VLAN, &l4) < 0 ||
	    l4.proto != IPPROTO_TCP || l4.v6 != (type == VIRTIO_NET_HDR_GSO_TCPV6))
		return -EINVAL;
	doff = (frame[l4.l4 + 12] >> 4) * 4u;
	hdr = l4.l4 + doff;
	if (doff < 20 || hdr > len)
		return -EINVAL;
	nsegs = len == hdr ? 1 : (len - hdr + mss - 1) / mss;
	if (nsegs > NET_GSO_MAX_SEGS)
		return -EINVAL;
	if (!l4.v6)
		id = get16(frame + l4.l3 + 4);
	seq = (uint32_t)get16(frame + l4.l4 + 4) << 16 | get16(frame + l4.l4 + 6);
	for (i = 0, off = hdr; i < nsegs; i++) {
		uint32_t chunk = len - off < mss ? len - off : mss, slen = hdr + chunk;
		uint8_t *tcp = seg + l4.l4, flags;

		memcpy(seg, frame, hdr);
		memcpy(seg + hdr, frame + off, chunk);
		if (l4.v6) {
			put16(seg + l4.l3 + 4, (uint16_t)(slen - l4.l3 - 40));
		} else {
			uint8_t *ip = seg + l4.l3;
			unsigned ihl = (ip[0] & 0xf) * 4u;

			put16(ip + 2, (uint16_t)(slen - l4.l3));
			put16(ip + 4, (uint16_t)(id + i));
			put16(ip + 10, 0);
			put16(ip + 10, (uint16_t)~pv_net_csum_fold(pv_net_csum_add(0, ip, ihl)));
		}
		put16(tcp + 4, (uint16_t)(seq >> 16));
		put16(tcp + 6, (uint16_t)seq);
		flags = tcp[13];
		if (i + 1 < nsegs)
			flags &= (uint8_t)~0x09; /* FIN, PSH: the last frame's */
		if (i)
			flags &= (uint8_t)~0x80; /* CWR: the first frame's */
		tcp[13] = flags;
		put16(tcp + 16, pv_net_pseudo_sum(seg, &l4, slen - l4.l4));
		pv_net_csum_complete(seg, slen, l4.l4, 16);
		rc = emit(opaque, seg, slen);
		if (rc < 0)
			return rc;
		seq += chunk;
		off += chunk;
	}
	return (int)nsegs;
}
