/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: netfront's TX slot plan (nf_tx_plan) lays a frame out as
 * Linux 6.1's xennet_start_xmit lays out an skb: each piece keeps its
 * position in its page, the first slot runs to the page end and the rest
 * is split at page boundaries; more than 18 slots are linearised at the
 * first piece's offset; a first slot shorter than an Ethernet header is
 * bounced to a page start; without sg a multi-slot frame is bounced if it
 * fits a page and refused otherwise.  Offloads: NEEDS_CSUM gives
 * csum_blank | data_validated when the protocol's checksum offload is on
 * (else the checksum is left to software), DATA_VALID data_validated, a
 * negotiated GSO type a GSO extra; other GSO types, GSO size 0 and frames
 * outside 14 .. 65535 bytes are refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_net.h>

#include <cmocka.h>

#include "internal.h"

#define PAGE 4096u

static uint8_t *mem;            /* 40 pages, page-aligned: pieces point into it */
static const struct nf_tx_caps all = { true, true, true, true, true };

static int setup(void **state)
{
	mem = aligned_alloc(PAGE, 40 * PAGE);
	if (!mem)
		return -1;
	memset(mem, 0, 40 * PAGE);
	return 0;
}

static int teardown(void **state)
{
	free(mem);
	return 0;
}

/* A frame at byte offset `at` of mem with the given ethertype. */
static uint8_t *frame_at(size_t at, uint16_t type)
{
	mem[at + 12] = (uint8_t)(type >> 8);
	mem[at + 13] = (uint8_t)type;
	return mem + at;
}

static void assert_seg(const struct nf_tx_plan *p, unsigned i, uint32_t src, unsigned off,
		       unsigned size)
{
	assert_true(i < p->nr_segs);
	assert_int_equal(p->seg[i].src, src);
	assert_int_equal(p->seg[i].offset, off);
	assert_int_equal(p->seg[i].size, size);
}

static int plan1(void *f, size_t len, const struct virtio_net_hdr *vh,
		 const struct nf_tx_caps *caps, struct nf_tx_plan *p)
{
	struct iovec iov = { f, len };

	return nf_tx_plan(&iov, 1, vh, caps, p);
}

static void test_a_frame_inside_a_page_takes_one_slot_at_its_offset(void **state)
{
	struct nf_tx_plan p;

	assert_int_equal(plan1(frame_at(100, 0x0800), 1514, NULL, &all, &p), 0);
	assert_int_equal(p.nr_segs, 1);
	assert_seg(&p, 0, 0, 100, 1514);
	assert_int_equal(p.len, 1514);
	assert_int_equal(p.flags, 0);
	assert_int_equal(p.gso.type, 0);
	assert_false(p.bounced);
	assert_false(p.linearised);
}

static void test_a_frame_crossing_a_page_is_split_at_the_boundary(void **state)
{
	struct nf_tx_plan p;

	assert_int_equal(plan1(frame_at(3000, 0x0800), 1514, NULL, &all, &p), 0);
	assert_int_equal(p.nr_segs, 2);
	assert_seg(&p, 0, 0, 3000, 1096);
	assert_seg(&p, 1, 1096, 0, 418);
}

static void test_a_64k_tso_frame_takes_seventeen_slots_and_a_gso_extra(void **state)
{
	struct virtio_net_hdr vh = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
		.gso_size = 1448, .csum_start = 34, .csum_offset = 16,
	};
	struct nf_tx_plan p;
	unsigned i;

	assert_int_equal(plan1(frame_at(200, 0x0800), 65535, &vh, &all, &p), 0);
	/* 200 + 65535 bytes span 17 pages. */
	assert_int_equal(p.nr_segs, 17);
	assert_seg(&p, 0, 0, 200, PAGE - 200);
	for (i = 1; i < 16; i++)
		assert_seg(&p, i, PAGE - 200 + (i - 1) * PAGE, 0, PAGE);
	assert_seg(&p, 16, PAGE - 200 + 15 * PAGE, 0, 65535 - (PAGE - 200) - 15 * PAGE);
	assert_int_equal(p.flags, NETTXF_csum_blank | NETTXF_data_validated);
	assert_int_equal(p.gso.type, XEN_NETIF_EXTRA_TYPE_GSO);
	assert_int_equal(p.gso.flags, 0);
	assert_int_equal(p.gso.u.gso.type, XEN_NETIF_GSO_TYPE_TCPV4);
	assert_int_equal(p.gso.u.gso.size, 1448);
	assert_int_equal(p.gso.u.gso.features, 0);
}

static void test_pieces_keep_their_own_page_offsets_as_skb_frags(void **state)
{
	struct iovec iov[3] = {
		{ frame_at(64, 0x86dd), 66 },   /* the head: headers */
		{ mem + 4 * PAGE + 2048, 4096 }, /* a frag straddling a page */
		{ mem + 9 * PAGE, 100 },         /* a frag at a page start */
	};
	struct nf_tx_plan p;

	assert_int_equal(nf_tx_plan(iov, 3, NULL, &all, &p), 0);
	assert_int_equal(p.nr_segs, 4);
	assert_seg(&p, 0, 0, 64, 66);
	assert_seg(&p, 1, 66, 2048, 2048);
	assert_seg(&p, 2, 66 + 2048, 0, 2048);
	assert_seg(&p, 3, 66 + 4096, 0, 100);
	assert_int_equal(p.len, 66 + 4096 + 100);
}

static void test_eighteen_slots_go_as_they_are_and_nineteen_are_linearised(void **state)
{
	struct iovec iov[19];
	struct nf_tx_plan p;
	unsigned i;

	/* Pieces of 200 bytes, each in a page of its own: one slot each. */
	for (i = 0; i < 19; i++)
		iov[i] = (struct iovec){ mem + (size_t)i * PAGE + 100, 200 };
	frame_at(100, 0x0800);
	assert_int_equal(nf_tx_plan(iov, 18, NULL, &all, &p), 0);
	assert_int_equal(p.nr_segs, 18);
	assert_false(p.linearised);
	assert_seg(&p, 17, 17 * 200, 100, 200);

	/* One more: "rides the rocket", one run at the head's offset. */
	assert_int_equal(nf_tx_plan(iov, 19, NULL, &all, &p), 0);
	assert_true(p.linearised);
	assert_int_equal(p.nr_segs, 1);
	assert_seg(&p, 0, 0, 100, 19 * 200);
}

static void test_a_linearised_frame_is_split_from_the_head_offset(void **state)
{
	struct iovec iov[10];
	struct nf_tx_plan p;
	unsigned i;

	/* Ten pieces that cross a page each: 20 slots. */
	for (i = 0; i < 10; i++)
		iov[i] = (struct iovec){ mem + (size_t)i * 2 * PAGE + 4000, 1000 };
	frame_at(4000, 0x0800);
	assert_int_equal(nf_tx_plan(iov, 10, NULL, &all, &p), 0);
	assert_true(p.linearised);
	assert_int_equal(p.nr_segs, 4);
	assert_seg(&p, 0, 0, 4000, 96);
	assert_seg(&p, 1, 96, 0, PAGE);
	assert_seg(&p, 2, 96 + PAGE, 0, PAGE);
	assert_seg(&p, 3, 96 + 2 * PAGE, 0, 10000 - 96 - 2 * PAGE);
}

static void test_a_first_slot_shorter_than_an_ethernet_header_is_bounced(void **state)
{
	struct iovec split[2] = { { mem + 8 * PAGE, 10 }, { mem + 10 * PAGE, 90 } };
	struct nf_tx_plan p;

	/* 6 bytes left in the page: netback would drop the frame. */
	assert_int_equal(plan1(frame_at(PAGE - 6, 0x0800), 100, NULL, &all, &p), 0);
	assert_true(p.bounced);
	assert_int_equal(p.nr_segs, 1);
	assert_seg(&p, 0, 0, 0, 100);
	/* Exactly an Ethernet header left: kept. */
	assert_int_equal(plan1(frame_at(PAGE - 14, 0x0800), 100, NULL, &all, &p), 0);
	assert_false(p.bounced);
	assert_int_equal(p.nr_segs, 2);
	assert_seg(&p, 0, 0, PAGE - 14, 14);
	/* A head piece shorter than the header. */
	frame_at(8 * PAGE, 0x0800);
	assert_int_equal(nf_tx_plan(split, 2, NULL, &all, &p), 0);
	assert_true(p.bounced);
	assert_int_equal(p.nr_segs, 1);
	assert_seg(&p, 0, 0, 0, 100);
}

static void test_without_sg_a_frame_that_fits_a_page_is_bounced_and_a_larger_refused(void **state)
{
	struct nf_tx_caps nosg = { .sg = false, .csum = true, .ipv6_csum = true };
	struct nf_tx_plan p;

	assert_int_equal(plan1(frame_at(3000, 0x0800), 1514, NULL, &nosg, &p), 0);
	assert_true(p.bounced);
	assert_int_equal(p.nr_segs, 1);
	assert_seg(&p, 0, 0, 0, 1514);
	assert_int_equal(plan1(frame_at(0, 0x0800), PAGE, NULL, &nosg, &p), 0);
	assert_int_equal(p.nr_segs, 1);
	assert_false(p.bounced);
	assert_int_equal(plan1(frame_at(0, 0x0800), PAGE + 1, NULL, &nosg, &p), -EMSGSIZE);
}

static void test_gso_not_negotiated_is_refused(void **state)
{
	struct nf_tx_caps no4 = all;
	struct virtio_net_hdr vh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				     .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1448 };
	struct nf_tx_plan p;

	no4.gso_tcpv4 = false;
	assert_int_equal(plan1(frame_at(0, 0x0800), 3000, &vh, &no4, &p), -EOPNOTSUPP);
	vh.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	assert_int_equal(plan1(frame_at(0, 0x0800), 3000, &vh, &all, &p), -EOPNOTSUPP);
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN;
	assert_int_equal(plan1(frame_at(0, 0x86dd), 3000, &vh, &all, &p), 0);
	assert_int_equal(p.gso.u.gso.type, XEN_NETIF_GSO_TYPE_TCPV6);
	vh.gso_size = 0;
	assert_int_equal(plan1(frame_at(0, 0x86dd), 3000, &vh, &all, &p), -EINVAL);
}

static void test_checksum_flags_follow_the_vnet_header_and_the_offloads(void **state)
{
	struct virtio_net_hdr vh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 54,
				     .csum_offset = 6 };
	struct nf_tx_caps v4only = all;
	struct nf_tx_plan p;

	assert_int_equal(plan1(frame_at(0, 0x86dd), 100, &vh, &all, &p), 0);
	assert_int_equal(p.flags, NETTXF_csum_blank | NETTXF_data_validated);
	assert_false(p.csum_sw);
	/* IPv6 without feature-ipv6-csum-offload: finished in software. */
	v4only.ipv6_csum = false;
	assert_int_equal(plan1(frame_at(0, 0x86dd), 100, &vh, &v4only, &p), 0);
	assert_int_equal(p.flags, 0);
	assert_true(p.csum_sw);
	assert_int_equal(p.csum_start, 54);
	assert_int_equal(p.csum_offset, 6);
	/* Behind a VLAN tag the inner type decides. */
	frame_at(0, 0x8100);
	mem[16] = 0x08;
	mem[17] = 0x00;
	assert_int_equal(plan1(mem, 100, &vh, &v4only, &p), 0);
	assert_int_equal(p.flags, NETTXF_csum_blank | NETTXF_data_validated);
	/* A checksum field beyond the frame. */
	vh.csum_start = 96;
	assert_int_equal(plan1(frame_at(0, 0x86dd), 100, &vh, &v4only, &p), -EINVAL);
	vh = (struct virtio_net_hdr){ .flags = VIRTIO_NET_HDR_F_DATA_VALID };
	assert_int_equal(plan1(frame_at(0, 0x0800), 100, &vh, &all, &p), 0);
	assert_int_equal(p.flags, NETTXF_data_validated);
}

static void test_frames_outside_the_wire_format_are_refused(void **state)
{
	struct iovec iov[2] = { { mem, 60000 }, { mem + 16 * PAGE, 5536 } };
	struct nf_tx_plan p;

	assert_int_equal(plan1(frame_at(0, 0x0800), 13, NULL, &all, &p), -EINVAL);
	assert_int_equal(plan1(frame_at(0, 0x0800), 14, NULL, &all, &p), 0);
	assert_int_equal(plan1(frame_at(0, 0x0800), 65535, NULL, &all, &p), 0);
	assert_int_equal(p.nr_segs, 16);
	assert_int_equal(nf_tx_plan(iov, 2, NULL, &all, &p), -EMSGSIZE);
}

static void test_empty_pieces_are_skipped(void **state)
{
	struct iovec iov[4] = {
		{ mem + 3 * PAGE, 0 }, { frame_at(100, 0x0800), 60 }, { mem + 5 * PAGE, 0 },
		{ mem + 6 * PAGE + 8, 40 },
	};
	struct nf_tx_plan p;

	assert_int_equal(nf_tx_plan(iov, 4, NULL, &all, &p), 0);
	assert_int_equal(p.nr_segs, 2);
	assert_seg(&p, 0, 0, 100, 60);
	assert_seg(&p, 1, 60, 8, 40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_frame_inside_a_page_takes_one_slot_at_its_offset),
		cmocka_unit_test(test_a_frame_crossing_a_page_is_split_at_the_boundary),
		cmocka_unit_test(test_a_64k_tso_frame_takes_seventeen_slots_and_a_gso_extra),
		cmocka_unit_test(test_pieces_keep_their_own_page_offsets_as_skb_frags),
		cmocka_unit_test(test_eighteen_slots_go_as_they_are_and_nineteen_are_linearised),
		cmocka_unit_test(test_a_linearised_frame_is_split_from_the_head_offset),
		cmocka_unit_test(test_a_first_slot_shorter_than_an_ethernet_header_is_bounced),
		cmocka_unit_test(test_without_sg_a_frame_that_fits_a_page_is_bounced_and_a_larger_refused),
		cmocka_unit_test(test_gso_not_negotiated_is_refused),
		cmocka_unit_test(test_checksum_flags_follow_the_vnet_header_and_the_offloads),
		cmocka_unit_test(test_frames_outside_the_wire_format_are_refused),
		cmocka_unit_test(test_empty_pieces_are_skipped),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
