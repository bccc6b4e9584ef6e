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

/* One case: the slots (size, offset; gref 100 + index) and the pieces
 * expected, as {ref, offset, len}. */
struct lcase {
	unsigned n;
	uint16_t sizes[NET_PKT_MAX_SEGS], offs[NET_PKT_MAX_SEGS];
	uint32_t head;
	unsigned nr_head, nr_segs;
	struct net_tx_piece head_want[4], segs_want[4];
};

static void check(const struct lcase *c)
{
	struct net_tx_pkt p;
	struct net_tx_layout l;
	uint32_t len = 0;
	unsigned i;

	for (i = 0; i < c->n; i++)
		len += c->sizes[i];
	packet(&p, c->sizes, c->offs, c->n);
	net_tx_layout(&p, c->head, &l);
	assert_int_equal(l.nr_head, c->nr_head);
	assert_int_equal(l.nr_segs, c->nr_segs);
	for (i = 0; i < c->nr_head && i < 4; i++)
		assert_memory_equal(&l.head[i], &c->head_want[i], sizeof(l.head[i]));
	for (i = 0; i < c->nr_segs && i < 4; i++)
		assert_memory_equal(&l.segs[i], &c->segs_want[i], sizeof(l.segs[i]));
	covers(&l, len);
}

static void test_a_head_inside_the_first_slot_leaves_its_rest_mapped(void **state)
{
	check(&(struct lcase){ 1, { 1500 }, { 200 }, NET_TX_COPY_HEAD, 1, 1,
			       { { 100, 200, 128 } }, { { 100, 328, 1372 } } });
}

static void test_a_head_that_spans_slots_copies_the_short_first_slot_whole(void **state)
{
	/* Linux netfront: 66 bytes of headers in the first slot, page frags. */
	check(&(struct lcase){ 4, { 66, 4096, 4096, 1000 }, { 3000, 0, 0, 0 }, NET_TX_COPY_HEAD,
			       2, 3, { { 100, 3000, 66 }, { 101, 0, 62 } },
			       { { 101, 62, 4096 - 62 }, { 102, 0, 4096 }, { 103, 0, 1000 } } });
}

static void test_a_frag_smaller_than_the_head_remainder_is_copied_whole(void **state)
{
	check(&(struct lcase){ 4, { 40, 30, 20, 500 }, { 0, 10, 4000, 7 }, NET_TX_COPY_HEAD, 4, 1,
			       { { 100, 0, 40 }, { 101, 10, 30 }, { 102, 4000, 20 }, { 103, 7, 38 } },
			       { { 103, 45, 462 } } });
}

static void test_a_head_ending_on_a_slot_boundary_maps_whole_slots(void **state)
{
	check(&(struct lcase){ 3, { 100, 28, 300 }, { 0, 0, 0 }, NET_TX_COPY_HEAD, 2, 1,
			       { { 100, 0, 100 }, { 101, 0, 28 } }, { { 102, 0, 300 } } });
}

static void test_empty_slots_make_no_piece(void **state)
{
	check(&(struct lcase){ 4, { 60, 0, 200, 0 }, { 0, 0, 0, 0 }, NET_TX_COPY_HEAD, 2, 1,
			       { { 100, 0, 60 }, { 102, 0, 68 } }, { { 102, 68, 132 } } });
}

static void test_a_packet_within_the_head_is_all_copied(void **state)
{
	check(&(struct lcase){ 2, { 60, 40 }, { 0, 0 }, NET_TX_COPY_HEAD, 2, 0,
			       { { 100, 0, 60 }, { 101, 0, 40 } }, { { 0 } } });
	/* The copy path: everything into the buffer, whatever the size. */
	check(&(struct lcase){ 2, { 4096, 4096 }, { 0, 0 }, UINT32_MAX, 2, 0,
			       { { 100, 0, 4096 }, { 101, 0, 4096 } }, { { 0 } } });
}

static void test_nineteen_full_slots_give_nineteen_segments(void **state)
{
	struct lcase c = { .n = NET_PKT_MAX_SEGS, .head = NET_TX_COPY_HEAD, .nr_head = 1,
			   .nr_segs = NET_PKT_MAX_SEGS, .head_want = { { 100, 0, 128 } },
			   .segs_want = { { 100, 128, 872 }, { 101, 0, 3400 } } };
	unsigned i;

	for (i = 0; i < NET_PKT_MAX_SEGS; i++)
		c.sizes[i] = i ? 3400 : 1000; /* 62200 bytes */
	c.segs_want[2] = (struct net_tx_piece){ 102, 0, 3400 };
	c.segs_want[3] = (struct net_tx_piece){ 103, 0, 3400 };
	check(&c);
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
