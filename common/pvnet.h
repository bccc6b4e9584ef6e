/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Ethernet frames for checksum and segmentation offloads, shared by
 * pvback-net and the userspace netfront (libpvcommon): where a frame's
 * TCP/UDP header is, by the rules of Linux's skb_checksum_setup() (IPv4
 * that is not a fragment; IPv6 through its hop-by-hop, routing,
 * destination-options, AH and fragment headers, not a fragment), the
 * pseudo-header sum a partial checksum starts from, and the Internet
 * checksum.
 *
 * Pure functions on a frame the caller owns: every offset is checked
 * against len, nothing is allocated, nothing logs.  Any thread.
 */
#ifndef PVNET_H
#define PVNET_H

#include <stdbool.h>
#include <stdint.h>

#define PV_NET_ETH_HLEN 14u

/* Where a frame's headers are (pv_net_l4_find). */
struct pv_net_l4 {
	uint32_t l3;    /* the IP header */
	uint32_t l4;    /* the TCP or UDP header */
	uint8_t proto;  /* IPPROTO_TCP or IPPROTO_UDP */
	bool v6;
};

/* Look through 802.1Q / 802.1ad tags (netback's frames); without it a
 * tagged frame is not IP, as for Linux netfront's skb_checksum_setup(). */
#define PV_NET_F_VLAN 0x1u

/*
 * Find the TCP or UDP header of the Ethernet frame f (len bytes), whose
 * fixed part (20 or 8 bytes) must lie inside the frame.  0, or -EPROTO:
 * not IPv4/IPv6 (after tags with PV_NET_F_VLAN), a fragment, a header
 * beyond the frame or IPv6's payload length, or another transport.
 */
int pv_net_l4_find(const uint8_t *f, uint32_t len, unsigned flags, struct pv_net_l4 *out);

/* One's complement sum of len bytes taken as big-endian 16-bit words
 * (an odd last byte is the high half of a word), added to sum. */
uint32_t pv_net_csum_add(uint32_t sum, const uint8_t *p, uint32_t len);
/* Fold a sum to 16 bits (not inverted). */
uint16_t pv_net_csum_fold(uint32_t sum);
/* The pseudo-header sum (addresses, protocol, l4len) that a
 * CHECKSUM_PARTIAL frame holds in its checksum field, not inverted. */
uint16_t pv_net_pseudo_sum(const uint8_t *f, const struct pv_net_l4 *l4, uint32_t l4len);
/* Finish a partial checksum: the 16-bit field at start + offset holds the
 * pseudo-header sum; write the checksum of [start, len) there (UDP's 0
 * becomes 0xffff).  0, or -EINVAL when the field lies outside the frame. */
int pv_net_csum_complete(uint8_t *f, uint32_t len, uint32_t start, uint32_t offset);

/* The headers of a test frame of len bytes (>= PV_NET_UDP4_HLEN): Ethernet
 * dst <- src, IPv4 192.0.2.1 -> 192.0.2.2 (TEST-NET-1, TTL 64, its header
 * checksum), UDP sport -> dport with no checksum.  The payload after them
 * is the caller's. */
#define PV_NET_UDP4_HLEN (PV_NET_ETH_HLEN + 20u + 8u)
void pv_net_udp4_hdrs(uint8_t *f, uint32_t len, const uint8_t *dst, const uint8_t *src,
		      uint16_t sport, uint16_t dport);

/* "xx:xx:xx:xx:xx:xx" into mac[6]: 0, or -EINVAL (nothing may follow). */
int pv_net_parse_mac(const char *s, uint8_t *mac);

#endif /* PVNET_H */
