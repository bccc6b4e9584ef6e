/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: the pvring.h helpers on one malloc'd page shared by a
 * pv_ring_front and a pv_ring_back: requests and responses travel intact and
 * in order, notifications are asked for only when the peer set its event
 * index, a producer index beyond the ring is -EPROTO on both sides, and the
 * free-running 32-bit indexes wrap around 2^32 without losing entries.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pvring.h"

struct ent {
	uint64_t id;
	uint64_t val;
};

struct rings {
	void *page;
	struct pv_ring_front f;
	struct pv_ring_back b;
};

static int setup(void **state)
{
	struct rings *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	assert_int_equal(posix_memalign(&r->page, PV_PAGE_SIZE, PV_PAGE_SIZE), 0);
	memset(r->page, 0xaa, PV_PAGE_SIZE);
	assert_int_equal(pv_ring_front_init(&r->f, r->page, PV_PAGE_SIZE, sizeof(struct ent)), 0);
	assert_int_equal(pv_ring_back_init(&r->b, r->page, PV_PAGE_SIZE, sizeof(struct ent)), 0);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rings *r = *state;

	free(r->page);
	free(r);
	return 0;
}

static bool front_send(struct rings *r, uint64_t id)
{
	struct ent *e = pv_ring_front_req_slot(&r->f);

	e->id = id;
	e->val = id * 3;
	return pv_ring_front_push(&r->f);
}

static void test_ring_size_is_the_largest_power_of_two_that_fits(void **state)
{
	struct rings *r = *state;

	/* (4096 - 64) / 16 = 252 -> 128 */
	assert_int_equal(r->f.nr_ents, 128);
	assert_int_equal(r->b.nr_ents, 128);
	assert_int_equal(pv_ring_front_free(&r->f), 128);
	assert_int_equal(pv_ring_nr_ents(64, 16), 0);
}

static void test_requests_and_responses_arrive_intact_and_in_order(void **state)
{
	struct rings *r = *state;
	RING_IDX prod;
	struct ent e;

	for (uint64_t i = 1; i <= 3; i++)
		front_send(r, i);
	assert_int_equal(pv_ring_front_free(&r->f), 125);
	assert_int_equal(pv_ring_back_avail(&r->b, &prod), 3);
	for (uint64_t i = 1; i <= 3; i++) {
		struct ent *rsp;

		pv_ring_back_copy_req(&r->b, &e, sizeof(e));
		assert_int_equal(e.id, i);
		assert_int_equal(e.val, i * 3);
		rsp = pv_ring_back_rsp_slot(&r->b);
		rsp->id = e.id;
		rsp->val = e.val + 1;
	}
	assert_int_equal(pv_ring_back_avail(&r->b, &prod), 0);
	pv_ring_back_push(&r->b);
	assert_int_equal(pv_ring_front_avail(&r->f), 3);
	for (uint64_t i = 1; i <= 3; i++) {
		pv_ring_front_copy_rsp(&r->f, &e, sizeof(e));
		assert_int_equal(e.id, i);
		assert_int_equal(e.val, i * 3 + 1);
	}
	assert_int_equal(pv_ring_front_avail(&r->f), 0);
	assert_int_equal(pv_ring_front_free(&r->f), 128);
}

static void test_notify_only_when_the_peer_asked(void **state)
{
	struct rings *r = *state;
	RING_IDX prod;
	struct ent e;

	/* A fresh ring asks for the first request (req_event = 1). */
	assert_true(front_send(r, 1));
	/* The backend has not re-armed: no event for the second. */
	assert_false(front_send(r, 2));
	assert_int_equal(pv_ring_back_avail(&r->b, &prod), 2);
	pv_ring_back_copy_req(&r->b, &e, sizeof(e));
	/* Still work to do: final check says so and doesn't matter for events. */
	assert_true(pv_ring_back_final_check(&r->b));
	pv_ring_back_copy_req(&r->b, &e, sizeof(e));
	/* Idle: re-arm req_event = req_cons + 1. */
	assert_false(pv_ring_back_final_check(&r->b));
	assert_int_equal(((struct pv_sring_hdr *)r->page)->req_event, 3);
	assert_true(front_send(r, 3));
	assert_false(front_send(r, 4));

	/* Responses: rsp_event = 1 asks for the first one only. */
	pv_ring_back_rsp_slot(&r->b);
	assert_true(pv_ring_back_push(&r->b));
	pv_ring_back_rsp_slot(&r->b);
	assert_false(pv_ring_back_push(&r->b));
	assert_int_equal(pv_ring_front_avail(&r->f), 2);
	pv_ring_front_copy_rsp(&r->f, &e, sizeof(e));
	pv_ring_front_copy_rsp(&r->f, &e, sizeof(e));
	assert_false(pv_ring_front_final_check(&r->f));
	pv_ring_back_rsp_slot(&r->b);
	assert_true(pv_ring_back_push(&r->b));
	/* A batch that crosses the event index notifies once. */
	pv_ring_front_copy_rsp(&r->f, &e, sizeof(e));
	assert_false(pv_ring_front_final_check(&r->f));
	for (int i = 0; i < 5; i++)
		pv_ring_back_rsp_slot(&r->b);
	assert_true(pv_ring_back_push(&r->b));
}

static void test_request_producer_beyond_the_ring_is_eproto(void **state)
{
	struct rings *r = *state;
	volatile struct pv_sring_hdr *s = r->page;
	RING_IDX prod;

	s->req_prod = r->b.nr_ents; /* exactly full: allowed */
	assert_int_equal(pv_ring_back_avail(&r->b, &prod), (int)r->b.nr_ents);
	s->req_prod = r->b.nr_ents + 1;
	assert_int_equal(pv_ring_back_avail(&r->b, &prod), -EPROTO);
	s->req_prod = 0xffffffffu; /* "negative" */
	assert_int_equal(pv_ring_back_avail(&r->b, &prod), -EPROTO);
}

static void test_response_producer_beyond_posted_requests_is_eproto(void **state)
{
	struct rings *r = *state;
	volatile struct pv_sring_hdr *s = r->page;

	front_send(r, 1);
	s->rsp_prod = 1;
	assert_int_equal(pv_ring_front_avail(&r->f), 1);
	s->rsp_prod = 2;
	assert_int_equal(pv_ring_front_avail(&r->f), -EPROTO);
}

static void test_indexes_wrap_around_2_to_the_32(void **state)
{
	struct rings *r = *state;
	volatile struct pv_sring_hdr *s = r->page;
	const RING_IDX start = 0xfffffff0u;
	RING_IDX prod;
	struct ent e;
	uint64_t next = 0;

	/* A ring that has been live for a long time. */
	s->req_prod = s->rsp_prod = start;
	s->req_event = s->rsp_event = start + 1;
	r->f.req_prod_pvt = r->f.rsp_cons = start;
	pv_ring_back_resume(&r->b);
	assert_int_equal(r->b.req_cons, start);

	for (int round = 0; round < 4; round++) {
		int n;

		for (int i = 0; i < 100; i++)
			front_send(r, next + (uint64_t)i);
		n = pv_ring_back_avail(&r->b, &prod);
		assert_int_equal(n, 100);
		for (int i = 0; i < n; i++) {
			struct ent *rsp;

			pv_ring_back_copy_req(&r->b, &e, sizeof(e));
			assert_int_equal(e.id, next + (uint64_t)i);
			rsp = pv_ring_back_rsp_slot(&r->b);
			*rsp = e;
		}
		pv_ring_back_push(&r->b);
		assert_int_equal(pv_ring_front_avail(&r->f), 100);
		for (int i = 0; i < 100; i++) {
			pv_ring_front_copy_rsp(&r->f, &e, sizeof(e));
			assert_int_equal(e.id, next + (uint64_t)i);
		}
		next += 100;
	}
	assert_true(r->f.req_prod_pvt < start); /* wrapped */
	assert_int_equal(r->f.req_prod_pvt, start + 400);
	assert_int_equal(pv_ring_front_free(&r->f), 128);
	/* Overflow detection still works across the wrap. */
	s->req_prod = r->b.req_cons + r->b.nr_ents + 1;
	assert_int_equal(pv_ring_back_avail(&r->b, &prod), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ring_size_is_the_largest_power_of_two_that_fits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requests_and_responses_arrive_intact_and_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_only_when_the_peer_asked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_producer_beyond_the_ring_is_eproto, setup, teardown),
		cmocka_unit_test_setup_teardown(test_response_producer_beyond_posted_requests_is_eproto, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indexes_wrap_around_2_to_the_32, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
