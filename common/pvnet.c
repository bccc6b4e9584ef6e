// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Ethernet frame parsing and Internet checksums for netif offloads (see
 * pvnet.h).  The header walk follows Linux 6.1's skb_checksum_setup_ipv4/
 * _ipv6 (net/core/skbuff.c): it is what a Linux netfront applies to a
 * frame the backend marked NETRXF_csum_blank, and what netback applies to
 * NETTXF_csum_blank.  Pure; every read is bounded by len.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/if_ether.h>

#include "pvnet.h"

#define IPV6_HLEN 40u
#define MAX_V6_EXT 16u /* extension headers walked before giving up */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The transport's fixed header must be in the frame. */
static int l4_proto(const uint8_t *f, uint32_t len, uint8_t proto, uint32_t off,
		    struct pv_net_l4 *out)
{
	uint32_t need;

	if (proto == IPPROTO_TCP)
		need = 20;
	else if (proto == IPPROTO_UDP)
		need = 8;
	else
		return -EPROTO;
	if (off > len || len - off < need)
		return -EPROTO;
	out->proto = proto;
	out->l4 = off;
	return 0;
}

static int find_v4(const uint8_t *f, uint32_t len, uint32_t l3, struct pv_net_l4 *out)
{
	uint32_t ihl;

	if (len - l3 < 20 || f[l3] >> 4 != 4)
		return -EPROTO;
	ihl = (f[l3] & 0xfu) * 4u;
	/* ip_is_fragment(): more fragments, or an offset. */
	if (ihl < 20 || (be16(f + l3 + 6) & 0x3fff))
		return -EPROTO;
	out->v6 = false;
	return l4_proto(f, len, f[l3 + 9], l3 + ihl, out);
}

static int find_v6(const uint8_t *f, uint32_t len, uint32_t l3, struct pv_net_l4 *out)
{
	uint32_t off = l3 + IPV6_HLEN, end;
	unsigned hops = 0;
	uint8_t nh;

	if (len - l3 < IPV6_HLEN || f[l3] >> 4 != 6)
		return -EPROTO;
	nh = f[l3 + 6];
	end = l3 + IPV6_HLEN + be16(f + l3 + 4); /* Linux walks up to the payload length */
	for (;;) {
		if (off > end || off > len || ++hops > MAX_V6_EXT)
			return -EPROTO;
		switch (nh) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (len - off < 2)
				return -EPROTO;
			nh = f[off];
			off += (f[off + 1] + 1u) * 8u;
			break;
		case IPPROTO_AH:
			if (len - off < 2)
				return -EPROTO;
			nh = f[off];
			off += (f[off + 1] + 2u) * 4u;
			break;
		case IPPROTO_FRAGMENT:
			/* A fragment has no transport header we could offload. */
			if (len - off < 8 || (be16(f + off + 2) & 0xfff9))
				return -EPROTO;
			nh = f[off];
			off += 8;
			break;
		default:
			out->v6 = true;
			return l4_proto(f, len, nh, off, out);
		}
	}
}

int pv_net_l4_find(const uint8_t *f, uint32_t len, unsigned flags, struct pv_net_l4 *out)
{
	uint32_t off = PV_NET_ETH_HLEN;
	uint16_t type;

	if (len < PV_NET_ETH_HLEN)
		return -EPROTO;
	type = be16(f + 12);
	while ((flags & PV_NET_F_VLAN) && (type == ETH_P_8021Q || type == ETH_P_8021AD)) {
		if (len - off < 4)
			return -EPROTO;
		type = be16(f + off + 2);
		off += 4;
	}
	out->l3 = off;
	if (type == ETH_P_IP)
		return find_v4(f, len, off, out);
	if (type == ETH_P_IPV6)
		return find_v6(f, len, off, out);
	return -EPROTO;
}

uint32_t pv_net_csum_add(uint32_t sum, const uint8_t *p, uint32_t len)
{
	uint64_t s = sum;
	uint32_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += be16(p + i);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

uint16_t pv_net_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint16_t pv_net_pseudo_sum(const uint8_t *f, const struct pv_net_l4 *l4, uint32_t l4len)
{
	uint32_t sum;

	if (l4->v6)
		sum = pv_net_csum_add(0, f + l4->l3 + 8, 32);
	else
		sum = pv_net_csum_add(0, f + l4->l3 + 12, 8);
	sum += l4->proto;
	sum += l4len >> 16;
	sum += l4len & 0xffff;
	return pv_net_csum_fold(sum);
}

int pv_net_csum_complete(uint8_t *f, uint32_t len, uint32_t start, uint32_t offset)
{
	uint32_t at = start + offset;
	uint16_t c;

	if (start >= len || offset > len || at > len - 2)
		return -EINVAL;
	/* The field holds the pseudo-header sum: summing over it includes it. */
	c = (uint16_t)~pv_net_csum_fold(pv_net_csum_add(0, f + start, len - start));
	if (!c && offset == 6)
		c = 0xffff; /* UDP: 0 means "no checksum" */
	f[at] = (uint8_t)(c >> 8);
	f[at + 1] = (uint8_t)c;
	return 0;
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void pv_net_udp4_hdrs(uint8_t *f, uint32_t len, const uint8_t *dst, const uint8_t *src,
		      uint16_t sport, uint16_t dport)
{
	uint8_t *ip = f + PV_NET_ETH_HLEN, *udp = ip + 20;

	memset(f, 0, PV_NET_UDP4_HLEN);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, ETH_P_IP);
	ip[0] = 0x45;
	put16(ip + 2, len - PV_NET_ETH_HLEN);
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, "\xc0\x00\x02\x01\xc0\x00\x02\x02", 8);
	put16(ip + 10, (uint16_t)~pv_net_csum_fold(pv_net_csum_add(0, ip, 20)));
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, len - PV_NET_ETH_HLEN - 20);
}

int pv_net_parse_mac(const char *s, uint8_t *mac)
{
	unsigned v[6], i;
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}
