// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: netif offloads <-> virtio_net_hdr (netback/offload.c): a
 * guest-TX partial checksum (NETTXF_csum_blank) becomes NEEDS_CSUM at the
 * transport header found in the frame (IPv4, VLAN-tagged IPv4, IPv6 with an
 * extension header; TCP and UDP), a frame without one is refused, a GSO
 * extra becomes GSO_TCPV4/6 with hdr_len, and a GSO frame without
 * csum_blank gets the pseudo-header sum written so that completing it
 * gives the real checksum; guest-RX flags and the GSO extra come from the
 * header as Linux netback sets them, a GSO type the frontend did not
 * negotiate is refused, and a software-completed checksum verifies.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../netback/netback.h"

static unsigned eth(uint8_t *f, uint16_t type, bool vlan)
{
	unsigned o = 12;

	memset(f, 0x11, 12);
	if (vlan) {
		f[o++] = 0x81;
		f[o++] = 0x00;
		f[o++] = 0;
		f[o++] = 5;
	}
	f[o++] = (uint8_t)(type >> 8);
	f[o++] = (uint8_t)type;
	return o;
}

/* Ethernet + IPv4 + TCP (doff 5) + payload bytes; returns the length. */
static unsigned tcp4(uint8_t *f, unsigned payload, bool vlan)
{
	unsigned o = eth(f, 0x0800, vlan), tot = 20 + 20 + payload, i;

	memset(f + o, 0, 40);
	f[o] = 0x45;
	f[o + 2] = (uint8_t)(tot >> 8);
	f[o + 3] = (uint8_t)tot;
	f[o + 8] = 64;
	f[o + 9] = 6;
	f[o + 12] = 10, f[o + 13] = 0, f[o + 14] = 0, f[o + 15] = 1;
	f[o + 16] = 10, f[o + 17] = 0, f[o + 18] = 0, f[o + 19] = 2;
	f[o + 20] = 0x30, f[o + 21] = 0x39, f[o + 22] = 0x00, f[o + 23] = 0x50;
	f[o + 32] = 5 << 4;
	for (i = 0; i < payload; i++)
		f[o + 40 + i] = (uint8_t)(i * 7 + 3);
	return o + tot;
}

/* The TCP checksum of a frame made by tcp4, computed from scratch. */
static uint16_t tcp4_sum(const uint8_t *f, unsigned len, unsigned l3)
{
	unsigned l4 = l3 + 20, n = len - l4, i;
	uint32_t s = 0;

	for (i = 0; i < 8; i += 2)
		s += (uint32_t)(f[l3 + 12 + i] << 8 | f[l3 + 13 + i]);
	s += 6 + n;
	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(f[l4 + i] << 8 | f[l4 + i + 1]);
	if (n & 1)
		s += (uint32_t)f[l4 + n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s; /* 0xffff when the checksum field is right */
}

static const struct netif_extra_info no_gso;

static void test_a_partial_checksum_starts_at_the_tcp_header(void **state)
{
	uint8_t f[256];
	struct virtio_net_hdr vh;
	unsigned len = tcp4(f, 100, false);

	assert_int_equal(net_offload_from_tx(NETTXF_csum_blank, &no_gso, f, len, len, &vh), 0);
	assert_int_equal(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(vh.csum_start, 34);
	assert_int_equal(vh.csum_offset, 16);
	assert_int_equal(vh.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	len = tcp4(f, 100, true);
	assert_int_equal(net_offload_from_tx(NETTXF_csum_blank, &no_gso, f, len, len, &vh), 0);
	assert_int_equal(vh.csum_start, 38);
}

static void test_ipv6_with_a_hop_by_hop_header_and_udp(void **state)
{
	uint8_t f[256] = { 0 };
	unsigned o = eth(f, 0x86dd, false);
	struct virtio_net_hdr vh;

	f[o] = 0x60;
	f[o + 5] = 8 + 8 + 10; /* payload: hop-by-hop, UDP header, data */
	f[o + 6] = 0;        /* next: hop-by-hop */
	f[o + 40] = 17;      /* its next: UDP */
	f[o + 41] = 0;       /* 8 bytes */
	assert_int_equal(net_offload_from_tx(NETTXF_csum_blank, &no_gso, f, o + 48 + 8 + 10,
					     o + 48 + 8 + 10, &vh), 0);
	assert_int_equal(vh.csum_start, o + 48);
	assert_int_equal(vh.csum_offset, 6);
}

static void test_a_frame_without_a_transport_header_is_refused(void **state)
{
	uint8_t f[128] = { 0 };
	struct virtio_net_hdr vh;
	unsigned len = eth(f, 0x0806, false) + 28; /* ARP */

	assert_int_equal(net_offload_from_tx(NETTXF_csum_blank, &no_gso, f, len, len, &vh), -EINVAL);
	/* A truncated IPv4 header too. */
	len = tcp4(f, 0, false);
	assert_int_equal(net_offload_from_tx(NETTXF_csum_blank, &no_gso, f, 30, 30, &vh), -EINVAL);
	/* Without csum_blank nothing is parsed: data_validated passes through. */
	assert_int_equal(net_offload_from_tx(NETTXF_data_validated, &no_gso, f, 30, 30, &vh), 0);
	assert_int_equal(vh.flags, VIRTIO_NET_HDR_F_DATA_VALID);
	(void)len;
}

static void test_gso_without_csum_blank_gets_a_pseudo_header_sum(void **state)
{
	static uint8_t f[4096];
	struct netif_extra_info gso = { .type = XEN_NETIF_EXTRA_TYPE_GSO };
	struct virtio_net_hdr vh;
	unsigned len = tcp4(f, 3000, false);

	gso.u.gso.size = 1448;
	gso.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
	assert_int_equal(net_offload_from_tx(0, &gso, f, len, len, &vh), 0);
	assert_int_equal(vh.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(vh.gso_size, 1448);
	assert_int_equal(vh.hdr_len, 54);
	assert_int_equal(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	/* Completing the partial checksum gives the real one. */
	assert_int_equal(net_csum_complete(f, len, &vh), 0);
	assert_int_equal(tcp4_sum(f, len, 14), 0xffff);
	/* A TCPv6 GSO type on an IPv4 frame is refused. */
	gso.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV6;
	assert_int_equal(net_offload_from_tx(0, &gso, f, len, len, &vh), -EINVAL);
}

/* Zero copy: only the copied head is parsed, the pseudo-header sum counts
 * the whole frame, and headers beyond the head are refused (tx.c then
 * makes the frame linear). */
static void test_gso_on_a_copied_head_parses_only_the_head(void **state)
{
	static uint8_t f[4096], whole[4096];
	struct netif_extra_info gso = { .type = XEN_NETIF_EXTRA_TYPE_GSO };
	struct virtio_net_hdr vh, vw;
	unsigned len = tcp4(f, 3000, false);

	memcpy(whole, f, len);
	gso.u.gso.size = 1448;
	gso.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
	assert_int_equal(net_offload_from_tx(0, &gso, f, NET_TX_COPY_HEAD, len, &vh), 0);
	assert_int_equal(net_offload_from_tx(0, &gso, whole, len, len, &vw), 0);
	assert_memory_equal(&vh, &vw, sizeof(vh));
	assert_memory_equal(f, whole, NET_TX_COPY_HEAD); /* the same sum written */
	/* The TCP header ends at 54: a 40-byte head cannot hold it. */
	assert_int_equal(net_offload_from_tx(0, &gso, f, 40, len, &vh), -EINVAL);
	assert_int_equal(net_offload_from_tx(0, &gso, f, 53, len, &vh), -EINVAL);
	assert_int_equal(net_offload_from_tx(0, &gso, f, 54, len, &vh), 0);
	/* A head longer than the frame is a caller's bug, refused. */
	assert_int_equal(net_offload_from_tx(NETTXF_csum_blank, &gso, f, len + 1, len, &vh), -EINVAL);
}

static void test_rx_flags_and_the_gso_extra_follow_the_header(void **state)
{
	struct net_features f = { .sg = true, .gso_tcpv4 = true, .csum = true, .ipv6_csum = true };
	struct virtio_net_hdr vh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM };
	struct netif_extra_info gso;
	uint16_t flags;

	assert_int_equal(net_offload_to_rx(&vh, &f, &flags, &gso), 0);
	assert_int_equal(flags, NETRXF_csum_blank | NETRXF_data_validated);
	assert_int_equal(gso.type, 0);
	vh = (struct virtio_net_hdr){ .flags = VIRTIO_NET_HDR_F_DATA_VALID };
	assert_int_equal(net_offload_to_rx(&vh, &f, &flags, &gso), 0);
	assert_int_equal(flags, NETRXF_data_validated);
	vh = (struct virtio_net_hdr){ 0 };
	assert_int_equal(net_offload_to_rx(&vh, &f, &flags, &gso), 0);
	assert_int_equal(flags, 0);
	vh = (struct virtio_net_hdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				      .gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN,
				      .gso_size = 1448 };
	assert_int_equal(net_offload_to_rx(&vh, &f, &flags, &gso), 0);
	assert_int_equal(gso.type, XEN_NETIF_EXTRA_TYPE_GSO);
	assert_int_equal(gso.u.gso.type, XEN_NETIF_GSO_TYPE_TCPV4);
	assert_int_equal(gso.u.gso.size, 1448);
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	assert_int_equal(net_offload_to_rx(&vh, &f, &flags, &gso), -EOPNOTSUPP);
	vh.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	assert_int_equal(net_offload_to_rx(&vh, &f, &flags, &gso), -EOPNOTSUPP);
}

static void test_a_checksum_completed_in_software_verifies(void **state)
{
	static uint8_t f[2048];
	struct virtio_net_hdr vh;
	unsigned len = tcp4(f, 1001, false); /* odd length */
	uint32_t s = 0;
	unsigned i;

	/* What a kernel leaves in a CHECKSUM_PARTIAL frame: the pseudo sum. */
	for (i = 0; i < 8; i += 2)
		s += (uint32_t)(f[26 + i] << 8 | f[27 + i]);
	s += 6 + (len - 34);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	f[50] = (uint8_t)(s >> 8);
	f[51] = (uint8_t)s;
	vh = (struct virtio_net_hdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34,
				      .csum_offset = 16 };
	assert_int_equal(net_csum_complete(f, len, &vh), 0);
	assert_int_equal(tcp4_sum(f, len, 14), 0xffff);
	vh.csum_offset = 4000; /* beyond the frame */
	assert_int_equal(net_csum_complete(f, len, &vh), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_partial_checksum_starts_at_the_tcp_header),
		cmocka_unit_test(test_ipv6_with_a_hop_by_hop_header_and_udp),
		cmocka_unit_test(test_a_frame_without_a_transport_header_is_refused),
		cmocka_unit_test(test_gso_without_csum_blank_gets_a_pseudo_header_sum),
		cmocka_unit_test(test_gso_on_a_copied_head_parses_only_the_head),
		cmocka_unit_test(test_rx_flags_and_the_gso_extra_follow_the_header),
		cmocka_unit_test(test_a_checksum_completed_in_software_verifies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
