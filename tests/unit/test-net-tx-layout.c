// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: guest-TX zero copy's split of a packet (net_tx_layout in
 * netback/request.c): the first NET_TX_COPY_HEAD bytes, in frame order over
 * the first slot and its frags, are the copied head; the rest stays in the
 * guest's pages as one segment per slot (the slot the head ends in gives
 * its remainder, at offset + what was copied).  Covers a head inside the
 * first slot, a head that spans slots, a frag smaller than what is left of
 * the head, a head ending exactly on a slot boundary, empty slots, a packet
 * smaller than the head, "copy everything" and the 19-slot maximum.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../netback/netback.h"

/* A packet fed slot by slot: sizes[0] is the first slot's data, each slot
 * i has gref 100 + i and offset offs[i]. */
static void packet(struct net_tx_pkt *p, const uint16_t *sizes, const uint16_t *offs, unsigned n)
{
	const char *why;
	uint32_t total = 0;
	unsigned i;
	int rc = NET_TX_NEED;

	for (i = 0; i < n; i++)
		total += sizes[i];
	net_tx_pkt_init(p);
	for (i = 0; i < n; i++) {
		struct netif_tx_request t = {
			.gref = 100 + i, .offset = offs[i], .id = (uint16_t)i,
			.size = (uint16_t)(i ? sizes[i] : total),
			.flags = i + 1 < n ? NETTXF_more_data : 0,
		};

		assert_int_equal(rc, NET_TX_NEED);
		rc = net_tx_feed(p, &t, &why);
	}
	assert_int_equal(rc, NET_TX_READY);
	assert_int_equal(p->drop, 0);
	assert_int_equal(net_tx_pkt_len(p), total);
}

static void piece_is(const struct net_tx_piece *x, uint32_t ref, uint16_t off, uint16_t len)
{
	assert_int_equal(x->ref, ref);
	assert_int_equal(x->offset, off);
	assert_int_equal(x->len, len);
}

/* The pieces cover the packet exactly once, in order. */
static void covers(const struct net_tx_layout *l, uint32_t len)
{
	uint32_t sum = 0;
	unsigned i;

	for (i = 0; i < l->nr_head; i++)
		sum += l->head[i].len;
	assert_int_equal(sum, l->head_len);
	for (i = 0; i < l->nr_segs; i++) {
		assert_true(l->segs[i].len > 0);
		assert_true((uint32_t)l->segs[i].offset + l->segs[i].len <= NET_PAGE_SIZE);
		sum += l->segs[i].len;
	}
	assert_int_equal(sum, len);
}

static void test_a_head_inside_the_first_slot_leaves_its_rest_mapped(void **state)
{
	static const uint16_t sizes[] = { 1500 }, offs[] = { 200 };
	struct net_tx_pkt p;
	struct net_tx_layout l;

	packet(&p, sizes, offs, 1);
	net_tx_layout(&p, NET_TX_COPY_HEAD, &l);
	assert_int_equal(l.head_len, 128);
	assert_int_equal(l.nr_head, 1);
	piece_is(&l.head[0], 100, 200, 128);
	assert_int_equal(l.nr_segs, 1);
	piece_is(&l.segs[0], 100, 328, 1372);
	covers(&l, 1500);
}

static void test_a_head_that_spans_slots_copies_the_short_first_slot_whole(void **state)
{
	/* Linux netfront: 66 bytes of headers in the first slot, page frags. */
	static const uint16_t sizes[] = { 66, 4096, 4096, 1000 }, offs[] = { 3000, 0, 0, 0 };
	struct net_tx_pkt p;
	struct net_tx_layout l;

	packet(&p, sizes, offs, 4);
	net_tx_layout(&p, NET_TX_COPY_HEAD, &l);
	assert_int_equal(l.head_len, 128);
	assert_int_equal(l.nr_head, 2);
	piece_is(&l.head[0], 100, 3000, 66);
	piece_is(&l.head[1], 101, 0, 62);
	assert_int_equal(l.nr_segs, 3);
	piece_is(&l.segs[0], 101, 62, 4096 - 62);
	piece_is(&l.segs[1], 102, 0, 4096);
	piece_is(&l.segs[2], 103, 0, 1000);
	covers(&l, 66 + 4096 + 4096 + 1000);
}

static void test_a_frag_smaller_than_the_head_remainder_is_copied_whole(void **state)
{
	static const uint16_t sizes[] = { 40, 30, 20, 500 }, offs[] = { 0, 10, 4000, 7 };
	struct net_tx_pkt p;
	struct net_tx_layout l;

	packet(&p, sizes, offs, 4);
	net_tx_layout(&p, NET_TX_COPY_HEAD, &l);
	assert_int_equal(l.nr_head, 4);
	piece_is(&l.head[0], 100, 0, 40);
	piece_is(&l.head[1], 101, 10, 30);
	piece_is(&l.head[2], 102, 4000, 20);
	piece_is(&l.head[3], 103, 7, 38);
	assert_int_equal(l.nr_segs, 1);
	piece_is(&l.segs[0], 103, 45, 462);
	covers(&l, 590);
}

static void test_a_head_ending_on_a_slot_boundary_maps_whole_slots(void **state)
{
	static const uint16_t sizes[] = { 100, 28, 300 }, offs[] = { 0, 0, 0 };
	struct net_tx_pkt p;
	struct net_tx_layout l;

	packet(&p, sizes, offs, 3);
	net_tx_layout(&p, NET_TX_COPY_HEAD, &l);
	assert_int_equal(l.nr_head, 2);
	assert_int_equal(l.nr_segs, 1);
	piece_is(&l.segs[0], 102, 0, 300);
	covers(&l, 428);
}

static void test_empty_slots_make_no_piece(void **state)
{
	static const uint16_t sizes[] = { 60, 0, 200, 0 }, offs[] = { 0, 0, 0, 0 };
	struct net_tx_pkt p;
	struct net_tx_layout l;

	packet(&p, sizes, offs, 4);
	net_tx_layout(&p, NET_TX_COPY_HEAD, &l);
	assert_int_equal(l.nr_head, 2);
	piece_is(&l.head[1], 102, 0, 68);
	assert_int_equal(l.nr_segs, 1);
	piece_is(&l.segs[0], 102, 68, 132);
	covers(&l, 260);
}

static void test_a_packet_within_the_head_is_all_copied(void **state)
{
	static const uint16_t sizes[] = { 60, 40 }, offs[] = { 0, 0 };
	struct net_tx_pkt p;
	struct net_tx_layout l;

	packet(&p, sizes, offs, 2);
	net_tx_layout(&p, NET_TX_COPY_HEAD, &l);
	assert_int_equal(l.head_len, 100);
	assert_int_equal(l.nr_segs, 0);
	/* The copy path: everything into the buffer, whatever the size. */
	packet(&p, (const uint16_t[]){ 4096, 4096 }, (const uint16_t[]){ 0, 0 }, 2);
	net_tx_layout(&p, UINT32_MAX, &l);
	assert_int_equal(l.head_len, 8192);
	assert_int_equal(l.nr_head, 2);
	assert_int_equal(l.nr_segs, 0);
}

static void test_nineteen_full_slots_give_nineteen_segments(void **state)
{
	uint16_t sizes[NET_PKT_MAX_SEGS], offs[NET_PKT_MAX_SEGS] = { 0 };
	struct net_tx_pkt p;
	struct net_tx_layout l;
	unsigned i;

	for (i = 0; i < NET_PKT_MAX_SEGS; i++)
		sizes[i] = i ? 3400 : 1000; /* 62200 bytes */
	packet(&p, sizes, offs, NET_PKT_MAX_SEGS);
	net_tx_layout(&p, NET_TX_COPY_HEAD, &l);
	assert_int_equal(l.nr_head, 1);
	assert_int_equal(l.nr_segs, NET_PKT_MAX_SEGS);
	piece_is(&l.segs[0], 100, 128, 872);
	piece_is(&l.segs[NET_PKT_MAX_SEGS - 1], 100 + NET_PKT_MAX_SEGS - 1, 0, 3400);
	covers(&l, 1000 + 18 * 3400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_head_inside_the_first_slot_leaves_its_rest_mapped),
		cmocka_unit_test(test_a_head_that_spans_slots_copies_the_short_first_slot_whole),
		cmocka_unit_test(test_a_frag_smaller_than_the_head_remainder_is_copied_whole),
		cmocka_unit_test(test_a_head_ending_on_a_slot_boundary_maps_whole_slots),
		cmocka_unit_test(test_empty_slots_make_no_piece),
		cmocka_unit_test(test_a_packet_within_the_head_is_all_copied),
		cmocka_unit_test(test_nineteen_full_slots_give_nineteen_segments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
