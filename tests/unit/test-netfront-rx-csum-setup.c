/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: what netfront hands up with a received frame, as Linux
 * 6.1's checksum_setup/skb_checksum_setup decide it (nf_rx_csum_setup on
 * pvnet.c's header walk): NETRXF_csum_blank becomes NEEDS_CSUM at the
 * TCP or UDP checksum of IPv4 and of IPv6 behind extension headers; a GSO
 * frame without csum_blank is made partial and gets its pseudo-header sum
 * written (Linux's rx_gso_checksum_fixup), with gso_type/gso_size/hdr_len
 * set; data_validated becomes DATA_VALID; a partial checksum on a
 * fragment, on a tagged frame or on another transport fails (Linux drops
 * the frame).  pv_net_csum_complete then yields a checksum that verifies.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "pvnet.h"
#include "internal.h"

static uint8_t fr[2048];

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Ethernet + IPv4 (ihl 5) + proto header, len bytes in all; payload 0x5a. */
static uint32_t ipv4(uint8_t proto, uint32_t len)
{
	memset(fr, 0x5a, sizeof(fr));
	memset(fr, 0, 34);
	put16(fr + 12, 0x0800);
	fr[14] = 0x45;
	put16(fr + 16, (uint16_t)(len - 14));
	fr[14 + 8] = 64;
	fr[14 + 9] = proto;
	memcpy(fr + 26, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	memset(fr + 34, 0, 20);
	if (proto == IPPROTO_TCP)
		fr[34 + 12] = 0x50; /* data offset 5 words */
	return len;
}

/* Ethernet + IPv6 + hop-by-hop (8 bytes) + UDP. */
static uint32_t ipv6_hbh_udp(uint32_t len)
{
	memset(fr, 0x33, sizeof(fr));
	memset(fr, 0, 62 + 8);
	put16(fr + 12, 0x86dd);
	fr[14] = 0x60;
	put16(fr + 18, (uint16_t)(len - 54));
	fr[20] = IPPROTO_HOPOPTS;
	fr[21] = 64;
	fr[22 + 15] = 1;  /* ::1 */
	fr[38 + 15] = 2;  /* ::2 */
	fr[54] = IPPROTO_UDP; /* hop-by-hop: next header, length 0 (8 bytes) */
	return len;
}

static struct nf_rx_frame frame(uint16_t flags, uint16_t gso_size, uint8_t gso_type)
{
	struct nf_rx_frame f;

	memset(&f, 0, sizeof(f));
	f.flags = flags;
	if (gso_size) {
		f.extras[XEN_NETIF_EXTRA_TYPE_GSO - 1].type = XEN_NETIF_EXTRA_TYPE_GSO;
		f.extras[XEN_NETIF_EXTRA_TYPE_GSO - 1].u.gso.size = gso_size;
		f.extras[XEN_NETIF_EXTRA_TYPE_GSO - 1].u.gso.type = gso_type;
	}
	return f;
}

static void test_csum_blank_on_ipv4_tcp_points_at_the_tcp_checksum(void **state)
{
	struct nf_rx_frame f = frame(NETRXF_csum_blank | NETRXF_data_validated, 0, 0);
	uint32_t len = ipv4(IPPROTO_TCP, 200);
	struct virtio_net_hdr vh;
	bool fixup;

	fr[34 + 16] = 0x12; /* the pseudo-header sum the sender left */
	assert_int_equal(nf_rx_csum_setup(fr, len, &f, &vh, &fixup), 0);
	assert_int_equal(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(vh.csum_start, 34);
	assert_int_equal(vh.csum_offset, 16);
	assert_int_equal(vh.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	assert_false(fixup);
	assert_int_equal(fr[34 + 16], 0x12); /* not recalculated */
}

static void test_csum_blank_on_ipv6_udp_behind_a_hop_by_hop_header(void **state)
{
	struct nf_rx_frame f = frame(NETRXF_csum_blank, 0, 0);
	uint32_t len = ipv6_hbh_udp(300);
	struct virtio_net_hdr vh;
	bool fixup;

	assert_int_equal(nf_rx_csum_setup(fr, len, &f, &vh, &fixup), 0);
	assert_int_equal(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(vh.csum_start, 62);
	assert_int_equal(vh.csum_offset, 6);
}

static void test_a_gso_frame_without_csum_blank_gets_the_pseudo_header_sum(void **state)
{
	struct nf_rx_frame f = frame(NETRXF_data_validated, 1448, XEN_NETIF_GSO_TYPE_TCPV4);
	uint32_t len = ipv4(IPPROTO_TCP, 1800), sum;
	struct virtio_net_hdr vh;
	bool fixup;

	assert_int_equal(nf_rx_csum_setup(fr, len, &f, &vh, &fixup), 0);
	assert_true(fixup);
	assert_int_equal(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(vh.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(vh.gso_size, 1448);
	assert_int_equal(vh.hdr_len, 54);
	/* 10.0.0.1 + 10.0.0.2 + proto 6 + TCP length 1766, folded. */
	sum = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 6 + 1766;
	assert_int_equal(fr[34 + 16], (uint8_t)(sum >> 8));
	assert_int_equal(fr[34 + 17], (uint8_t)sum);
}

static void test_gso_tcpv6_keeps_its_type_and_size(void **state)
{
	struct nf_rx_frame f = frame(NETRXF_csum_blank, 1428, XEN_NETIF_GSO_TYPE_TCPV6);
	uint32_t len = ipv6_hbh_udp(1000);
	struct virtio_net_hdr vh;
	bool fixup;

	fr[54] = IPPROTO_TCP;
	fr[62 + 12] = 0x80; /* 32-byte TCP header */
	assert_int_equal(nf_rx_csum_setup(fr, len, &f, &vh, &fixup), 0);
	assert_false(fixup);
	assert_int_equal(vh.gso_type, VIRTIO_NET_HDR_GSO_TCPV6);
	assert_int_equal(vh.gso_size, 1428);
	assert_int_equal(vh.csum_offset, 16);
	assert_int_equal(vh.hdr_len, 62 + 32);
}

static void test_data_validated_alone_becomes_data_valid(void **state)
{
	struct nf_rx_frame f = frame(NETRXF_data_validated, 0, 0);
	struct virtio_net_hdr vh;
	bool fixup;

	memset(fr, 0, 60); /* not even IP: nothing to parse */
	assert_int_equal(nf_rx_csum_setup(fr, 60, &f, &vh, &fixup), 0);
	assert_int_equal(vh.flags, VIRTIO_NET_HDR_F_DATA_VALID);
	f.flags = 0;
	assert_int_equal(nf_rx_csum_setup(fr, 60, &f, &vh, &fixup), 0);
	assert_int_equal(vh.flags, 0);
}

static void test_a_partial_checksum_linux_cannot_place_fails(void **state)
{
	struct nf_rx_frame f = frame(NETRXF_csum_blank, 0, 0);
	struct virtio_net_hdr vh;
	bool fixup;
	uint32_t len;

	len = ipv4(IPPROTO_TCP, 200);
	put16(fr + 14 + 6, 0x2000); /* more fragments */
	assert_int_equal(nf_rx_csum_setup(fr, len, &f, &vh, &fixup), -EPROTO);
	len = ipv4(IPPROTO_ICMP, 200);
	assert_int_equal(nf_rx_csum_setup(fr, len, &f, &vh, &fixup), -EPROTO);
	len = ipv4(IPPROTO_TCP, 40); /* TCP header cut off */
	assert_int_equal(nf_rx_csum_setup(fr, len, &f, &vh, &fixup), -EPROTO);
	len = ipv6_hbh_udp(300);
	fr[54] = IPPROTO_FRAGMENT;
	fr[62] = IPPROTO_UDP;
	put16(fr + 64, 0x0001); /* more fragments */
	assert_int_equal(nf_rx_csum_setup(fr, len, &f, &vh, &fixup), -EPROTO);
	/* A VLAN tag: skb_checksum_setup sees protocol 802.1Q. */
	len = ipv4(IPPROTO_UDP, 200);
	memmove(fr + 16, fr + 12, 184);
	put16(fr + 12, 0x8100);
	put16(fr + 14, 5);
	assert_int_equal(nf_rx_csum_setup(fr, len, &f, &vh, &fixup), -EPROTO);
}

static void test_netback_finds_the_header_behind_a_vlan_tag(void **state)
{
	struct pv_net_l4 l4;
	uint32_t len = ipv4(IPPROTO_UDP, 200);

	memmove(fr + 16, fr + 12, 184);
	put16(fr + 12, 0x8100);
	put16(fr + 14, 5);
	assert_int_equal(pv_net_l4_find(fr, len + 4, PV_NET_F_VLAN, &l4), 0);
	assert_int_equal(l4.l3, 18);
	assert_int_equal(l4.l4, 38);
	assert_int_equal(l4.proto, IPPROTO_UDP);
	assert_false(l4.v6);
}

static void test_a_completed_checksum_verifies(void **state)
{
	struct nf_rx_frame f = frame(0, 1448, XEN_NETIF_GSO_TYPE_TCPV4);
	uint32_t len = ipv4(IPPROTO_TCP, 700), sum;
	struct virtio_net_hdr vh;
	struct pv_net_l4 l4;
	bool fixup;

	/* Fixup writes the pseudo-header sum; completing it gives a checksum
	 * that sums, with the pseudo header, to 0xffff. */
	assert_int_equal(nf_rx_csum_setup(fr, len, &f, &vh, &fixup), 0);
	assert_int_equal(pv_net_csum_complete(fr, len, vh.csum_start, vh.csum_offset), 0);
	assert_int_equal(pv_net_l4_find(fr, len, 0, &l4), 0);
	sum = pv_net_csum_add(0, fr + l4.l4, len - l4.l4);
	sum += pv_net_pseudo_sum(fr, &l4, len - l4.l4);
	assert_int_equal(pv_net_csum_fold(sum), 0xffff);
	assert_int_equal(pv_net_csum_complete(fr, len, len - 1, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum_blank_on_ipv4_tcp_points_at_the_tcp_checksum),
		cmocka_unit_test(test_csum_blank_on_ipv6_udp_behind_a_hop_by_hop_header),
		cmocka_unit_test(test_a_gso_frame_without_csum_blank_gets_the_pseudo_header_sum),
		cmocka_unit_test(test_gso_tcpv6_keeps_its_type_and_size),
		cmocka_unit_test(test_data_validated_alone_becomes_data_valid),
		cmocka_unit_test(test_a_partial_checksum_linux_cannot_place_fails),
		cmocka_unit_test(test_netback_finds_the_header_behind_a_vlan_tag),
		cmocka_unit_test(test_a_completed_checksum_verifies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
