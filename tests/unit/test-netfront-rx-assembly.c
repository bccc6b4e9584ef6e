/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: netfront's RX assembly (nf_rx_assemble) turns rx responses
 * into a frame as Linux 6.1's xennet_poll does (xennet_get_responses,
 * xennet_get_extras, xennet_set_skb_gso, xennet_fill_frags), and drops a
 * frame for each of its rules while consuming what Linux consumes: an
 * extra at the last response ("Missing extra info"), an extra of type 0 or
 * beyond the XDP type ("Invalid extra type"), a slot without a posted
 * buffer ("Bad rx response id"), status < 0 or offset + status beyond the
 * page, more_data at the last response ("Need more slots"), more than 18
 * data slots (19 when the first holds at most 256 bytes: "Too many slots"),
 * more than an skb's 17 frags (18 after pulling a short first slot), and a
 * GSO extra of size 0 or another type than TCPv4/v6.  Response ids are not
 * checked (Linux pairs response i with request slot i); an XDP extra's
 * headroom moves every data slot; runs wrap around the ring.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

#define MASK 255u

static uint8_t ring[256 * 8];   /* private copies, indexed as the ring */
static unsigned at;             /* next entry written */
static uint32_t start;          /* the run's first index */

static void reset(uint32_t first)
{
	memset(ring, 0, sizeof(ring));
	start = at = first;
}

static void rsp(uint16_t offset, uint16_t flags, int16_t status)
{
	struct netif_rx_response r = { .id = (uint16_t)(at & MASK), .offset = offset,
				       .flags = flags, .status = status };

	memcpy(ring + (size_t)(at++ & MASK) * 8, &r, 8);
}

static void extra(uint8_t type, uint8_t flags, uint16_t v16, uint8_t v8)
{
	struct netif_extra_info x = { .type = type, .flags = flags };

	x.u.gso.size = v16; /* the XDP headroom sits here too */
	x.u.gso.type = v8;
	memcpy(ring + (size_t)(at++ & MASK) * 8, &x, 8);
}

/* The run written so far. */
static unsigned assemble(struct nf_rx_frame *f, const bool *posted)
{
	return nf_rx_assemble(ring, MASK, start, at - start, posted, f);
}

/* n data slots chained with more_data: first of `first` bytes, the others full. */
static void chain(unsigned n, int16_t first)
{
	unsigned i;

	rsp(0, n > 1 ? NETRXF_more_data : 0, first);
	for (i = 1; i < n; i++)
		rsp(0, i + 1 < n ? NETRXF_more_data : 0, 4096);
}

static void test_a_single_slot_frame_is_one_frag(void **state)
{
	struct nf_rx_frame f;

	reset(0);
	rsp(0, NETRXF_data_validated, 60);
	assert_int_equal(assemble(&f, NULL), 1);
	assert_int_equal(f.drop, NF_RX_OK);
	assert_int_equal(f.nr_frags, 1);
	assert_int_equal(f.frag[0].idx, 0);
	assert_int_equal(f.frag[0].offset, 0);
	assert_int_equal(f.frag[0].len, 60);
	assert_int_equal(f.len, 60);
	assert_int_equal(f.flags, NETRXF_data_validated);
}

static void test_more_data_chains_slots_into_one_frame_and_stops_there(void **state)
{
	struct nf_rx_frame f;

	reset(10);
	rsp(0, NETRXF_more_data | NETRXF_csum_blank, 4096);
	rsp(0, NETRXF_more_data, 4096);
	rsp(0, 0, 100);
	rsp(0, 0, 70); /* the next frame */
	assert_int_equal(assemble(&f, NULL), 3);
	assert_int_equal(f.drop, NF_RX_OK);
	assert_int_equal(f.nr_frags, 3);
	assert_int_equal(f.len, 8292);
	assert_int_equal(f.frag[2].idx, 2);
	assert_int_equal(f.flags, NETRXF_more_data | NETRXF_csum_blank);
}

static void test_a_gso_extra_sits_after_the_first_data_slot(void **state)
{
	struct nf_rx_frame f;

	reset(0);
	rsp(0, NETRXF_extra_info | NETRXF_more_data | NETRXF_csum_blank, 4096);
	extra(XEN_NETIF_EXTRA_TYPE_GSO, 0, 1448, XEN_NETIF_GSO_TYPE_TCPV4);
	rsp(0, NETRXF_more_data, 4096);
	rsp(0, 0, 1000);
	assert_int_equal(assemble(&f, NULL), 4);
	assert_int_equal(f.drop, NF_RX_OK);
	assert_int_equal(f.nr_frags, 3);
	assert_int_equal(f.frag[0].idx, 0);
	assert_int_equal(f.frag[1].idx, 2);
	assert_int_equal(f.frag[2].idx, 3);
	assert_int_equal(f.len, 9192);
	assert_int_equal(f.extras[XEN_NETIF_EXTRA_TYPE_GSO - 1].type, XEN_NETIF_EXTRA_TYPE_GSO);
	assert_int_equal(f.extras[XEN_NETIF_EXTRA_TYPE_GSO - 1].u.gso.size, 1448);
}

static void test_chained_extras_are_all_taken(void **state)
{
	struct nf_rx_frame f;

	reset(0);
	rsp(0, NETRXF_extra_info, 500);
	extra(XEN_NETIF_EXTRA_TYPE_GSO, XEN_NETIF_EXTRA_FLAG_MORE, 1448, XEN_NETIF_GSO_TYPE_TCPV6);
	extra(XEN_NETIF_EXTRA_TYPE_HASH, 0, 0, 0);
	assert_int_equal(assemble(&f, NULL), 3);
	assert_int_equal(f.drop, NF_RX_OK);
	assert_int_equal(f.nr_frags, 1);
	assert_int_equal(f.extras[XEN_NETIF_EXTRA_TYPE_HASH - 1].type, XEN_NETIF_EXTRA_TYPE_HASH);
}

static void test_an_extra_at_the_last_response_is_missing_extra_info(void **state)
{
	struct nf_rx_frame f;

	reset(0);
	rsp(0, NETRXF_extra_info, 60);
	assert_int_equal(assemble(&f, NULL), 1);
	assert_int_equal(f.drop, NF_RX_MISSING_EXTRA);
	/* The same after a FLAG_MORE extra. */
	reset(0);
	rsp(0, NETRXF_extra_info, 60);
	extra(XEN_NETIF_EXTRA_TYPE_GSO, XEN_NETIF_EXTRA_FLAG_MORE, 1448, 1);
	assert_int_equal(assemble(&f, NULL), 2);
	assert_int_equal(f.drop, NF_RX_MISSING_EXTRA);
}

static void test_an_invalid_extra_type_drops_the_frame_it_belongs_to(void **state)
{
	struct nf_rx_frame f;

	reset(0);
	rsp(0, NETRXF_extra_info, 60);
	extra(0, 0, 0, 0);
	rsp(0, 0, 60);
	assert_int_equal(assemble(&f, NULL), 2);
	assert_int_equal(f.drop, NF_RX_BAD_EXTRA);
	reset(0);
	rsp(0, NETRXF_extra_info | NETRXF_more_data, 4096);
	extra(PV_NETIF_EXTRA_TYPE_MAX, 0, 0, 0);
	rsp(0, 0, 60);
	assert_int_equal(assemble(&f, NULL), 3); /* its data slots go with it */
	assert_int_equal(f.drop, NF_RX_BAD_EXTRA);
}

static void test_a_bad_status_drops_the_frame_but_consumes_its_chain(void **state)
{
	struct nf_rx_frame f;

	reset(0);
	rsp(0, NETRXF_more_data, -1);
	rsp(0, 0, 100);
	assert_int_equal(assemble(&f, NULL), 2);
	assert_int_equal(f.drop, NF_RX_BAD_SLOT);
	reset(0);
	rsp(0, NETRXF_more_data, 4096);
	rsp(100, NETRXF_more_data, 4000); /* 100 + 4000 > 4096 */
	rsp(0, 0, 10);
	assert_int_equal(assemble(&f, NULL), 3);
	assert_int_equal(f.drop, NF_RX_BAD_SLOT);
	reset(0);
	rsp(96, 0, 4000); /* exactly to the page end */
	assert_int_equal(assemble(&f, NULL), 1);
	assert_int_equal(f.drop, NF_RX_OK);
	assert_int_equal(f.frag[0].offset, 96);
}

static void test_a_slot_without_a_posted_buffer_is_a_bad_id(void **state)
{
	bool posted[256];
	struct nf_rx_frame f;

	memset(posted, 1, sizeof(posted));
	reset(40);
	chain(3, 4096);
	posted[41] = false;
	assert_int_equal(assemble(&f, posted), 3);
	assert_int_equal(f.drop, NF_RX_BAD_ID);
}

static void test_a_frame_running_past_the_last_response_needs_more_slots(void **state)
{
	struct nf_rx_frame f;

	reset(0);
	rsp(0, NETRXF_more_data, 4096);
	rsp(0, NETRXF_more_data, 4096);
	assert_int_equal(assemble(&f, NULL), 2);
	assert_int_equal(f.drop, NF_RX_NEED_MORE);
}

static void test_eighteen_data_slots_are_the_most_and_nineteen_with_a_short_first(void **state)
{
	struct nf_rx_frame f;

	/* get_responses: 19 slots with a full first are too many. */
	reset(0);
	chain(19, 4096);
	assert_int_equal(assemble(&f, NULL), 19);
	assert_int_equal(f.drop, NF_RX_TOO_MANY_SLOTS);
	/* 20 with a short first too. */
	reset(0);
	chain(20, 200);
	assert_int_equal(assemble(&f, NULL), 20);
	assert_int_equal(f.drop, NF_RX_TOO_MANY_SLOTS);
}

static void test_fill_frags_holds_seventeen_frags_and_one_more_after_a_short_first(void **state)
{
	struct nf_rx_frame f;

	/* get_responses takes 18 (first full) but the skb holds 17 frags. */
	reset(0);
	chain(18, 4096);
	assert_int_equal(assemble(&f, NULL), 18);
	assert_int_equal(f.drop, NF_RX_TOO_MANY_FRAGS);
	reset(0);
	chain(17, 4096);
	assert_int_equal(assemble(&f, NULL), 17);
	assert_int_equal(f.drop, NF_RX_OK);
	assert_int_equal(f.len, 17 * 4096);
	/* A first slot of <= 256 bytes is pulled into the head: 18 fit, 19 not. */
	reset(0);
	chain(18, 256);
	assert_int_equal(assemble(&f, NULL), 18);
	assert_int_equal(f.drop, NF_RX_OK);
	reset(0);
	chain(19, 256);
	assert_int_equal(assemble(&f, NULL), 19);
	assert_int_equal(f.drop, NF_RX_TOO_MANY_FRAGS);
	reset(0);
	chain(18, 257);
	assert_int_equal(assemble(&f, NULL), 18);
	assert_int_equal(f.drop, NF_RX_TOO_MANY_FRAGS);
}

static void test_a_gso_extra_of_size_zero_or_an_unknown_type_drops_the_frame(void **state)
{
	struct nf_rx_frame f;

	reset(0);
	rsp(0, NETRXF_extra_info, 1000);
	extra(XEN_NETIF_EXTRA_TYPE_GSO, 0, 0, XEN_NETIF_GSO_TYPE_TCPV4);
	assert_int_equal(assemble(&f, NULL), 2);
	assert_int_equal(f.drop, NF_RX_BAD_GSO);
	reset(0);
	rsp(0, NETRXF_extra_info, 1000);
	extra(XEN_NETIF_EXTRA_TYPE_GSO, 0, 1448, 3);
	assert_int_equal(assemble(&f, NULL), 2);
	assert_int_equal(f.drop, NF_RX_BAD_GSO);
}

static void test_response_ids_are_not_checked_against_the_slot(void **state)
{
	struct netif_rx_response r = { .id = 77, .offset = 0, .flags = 0, .status = 64 };
	struct nf_rx_frame f;

	reset(3);
	memcpy(ring + 3 * 8, &r, 8);
	at = 4;
	assert_int_equal(assemble(&f, NULL), 1);
	assert_int_equal(f.drop, NF_RX_OK);
	assert_int_equal(f.len, 64);
}

static void test_an_xdp_extra_moves_every_data_slot_by_its_headroom(void **state)
{
	struct nf_rx_frame f;

	reset(0);
	rsp(0, NETRXF_extra_info | NETRXF_more_data, 4096);
	extra(PV_NETIF_EXTRA_TYPE_XDP, 0, 256, 0);
	rsp(0, 0, 256 + 500);
	assert_int_equal(assemble(&f, NULL), 3);
	assert_int_equal(f.drop, NF_RX_OK);
	assert_true(f.xdp_extra);
	assert_int_equal(f.frag[0].offset, 256);
	assert_int_equal(f.frag[0].len, 4096 - 256);
	assert_int_equal(f.frag[1].offset, 256);
	assert_int_equal(f.frag[1].len, 500);
	/* A data slot shorter than the headroom. */
	reset(0);
	rsp(0, NETRXF_extra_info, 100);
	extra(PV_NETIF_EXTRA_TYPE_XDP, 0, 256, 0);
	assert_int_equal(assemble(&f, NULL), 2);
	assert_int_equal(f.drop, NF_RX_BAD_SLOT);
}

static void test_a_run_wraps_around_the_ring(void **state)
{
	struct nf_rx_frame f;

	reset(254);
	rsp(0, NETRXF_extra_info | NETRXF_more_data, 4096);
	extra(XEN_NETIF_EXTRA_TYPE_GSO, 0, 1448, XEN_NETIF_GSO_TYPE_TCPV4);
	rsp(0, NETRXF_more_data, 4096);
	rsp(0, 0, 42);
	assert_int_equal(assemble(&f, NULL), 4);
	assert_int_equal(f.drop, NF_RX_OK);
	assert_int_equal(f.len, 2 * 4096 + 42);
	assert_int_equal(f.frag[2].idx, 3);
	assert_int_equal(f.extras[XEN_NETIF_EXTRA_TYPE_GSO - 1].u.gso.size, 1448);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_single_slot_frame_is_one_frag),
		cmocka_unit_test(test_more_data_chains_slots_into_one_frame_and_stops_there),
		cmocka_unit_test(test_a_gso_extra_sits_after_the_first_data_slot),
		cmocka_unit_test(test_chained_extras_are_all_taken),
		cmocka_unit_test(test_an_extra_at_the_last_response_is_missing_extra_info),
		cmocka_unit_test(test_an_invalid_extra_type_drops_the_frame_it_belongs_to),
		cmocka_unit_test(test_a_bad_status_drops_the_frame_but_consumes_its_chain),
		cmocka_unit_test(test_a_slot_without_a_posted_buffer_is_a_bad_id),
		cmocka_unit_test(test_a_frame_running_past_the_last_response_needs_more_slots),
		cmocka_unit_test(test_eighteen_data_slots_are_the_most_and_nineteen_with_a_short_first),
		cmocka_unit_test(test_fill_frags_holds_seventeen_frags_and_one_more_after_a_short_first),
		cmocka_unit_test(test_a_gso_extra_of_size_zero_or_an_unknown_type_drops_the_frame),
		cmocka_unit_test(test_response_ids_are_not_checked_against_the_slot),
		cmocka_unit_test(test_an_xdp_extra_moves_every_data_slot_by_its_headroom),
		cmocka_unit_test(test_a_run_wraps_around_the_ring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
