// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: blkif request validation, one case per rule of blkback's
 * request.c (issue 3, "Hostile guests"): every rule rejects exactly what it
 * names, well-formed requests pass, and an x86_32 ring slot parses to the
 * same request as its native twin.  Pure functions: no hv, no xenstore.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "../../blkback/blkback.h"

#define DEV_SECTORS 2048u

static struct blkif_request_segment segbuf[BLK_MAX_INDIRECT_SEGS];

static struct blk_limits lim(void)
{
	return (struct blk_limits){ .sectors = DEV_SECTORS, .max_indirect = 256, .discard = true };
}

static struct blkif_request rw_req(uint8_t op, uint64_t sector, unsigned nseg)
{
	struct blkif_request r = { .operation = op, .nr_segments = (uint8_t)nseg, .id = 42,
				   .sector_number = sector };
	unsigned i;

	for (i = 0; i < nseg && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
		r.seg[i] = (struct blkif_request_segment){ .gref = 100 + i, .first_sect = 0,
							   .last_sect = 7 };
	return r;
}

/*
 * parse, validate, load the indirect segments, validate_segs: ring.c's
 * dispatch() order.  ring.c copies the segment list out of the guest's
 * indirect pages by grant copy (load_indirect()); here the pages are local
 * (pages[]), so blk_req_load_indirect() copies them into the same
 * req->seg layout, a page of BLKIF_SEGS_PER_INDIRECT_FRAME segments at a time.
 */
static int check(const struct blk_limits *l, const void *ent, const void *const *pages,
		 struct blk_req *req)
{
	int rc;

	req->seg = segbuf;
	blk_req_parse(BLK_ABI_NATIVE, ent, req);
	rc = blk_req_validate(l, req, NULL);
	if (rc < 0)
		return rc;
	if (req->indirect)
		blk_req_load_indirect(req, pages);
	return blk_req_validate_segs(l, req, NULL);
}

static void test_a_well_formed_read_passes_and_counts_its_sectors(void **state)
{
	struct blk_limits l = lim();
	struct blkif_request r = rw_req(BLKIF_OP_READ, 8, 3);
	struct blk_req req;

	assert_int_equal(check(&l, &r, NULL, &req), 0);
	assert_int_equal(req.nr_sectors, 24);
	assert_int_equal(req.id, 42);
}

static void test_an_unknown_operation_is_not_supported(void **state)
{
	struct blk_limits l = lim();
	struct blkif_request r = rw_req(99, 0, 1);
	struct blk_req req;
	const char *why = NULL;

	req.seg = segbuf;
	blk_req_parse(BLK_ABI_NATIVE, &r, &req);
	assert_int_equal(blk_req_validate(&l, &req, &why), -EOPNOTSUPP);
	assert_string_equal(why, "unknown operation");
}

static void test_a_read_without_segments_is_rejected(void **state)
{
	struct blk_limits l = lim();
	struct blkif_request r = rw_req(BLKIF_OP_READ, 0, 0);
	struct blk_req req;

	assert_int_equal(check(&l, &r, NULL, &req), -EINVAL);
}

static void test_a_flush_without_segments_is_allowed(void **state)
{
	struct blk_limits l = lim();
	struct blkif_request r = rw_req(BLKIF_OP_FLUSH_DISKCACHE, 0, 0);
	struct blk_req req;

	assert_int_equal(check(&l, &r, NULL, &req), 0);
	r = rw_req(BLKIF_OP_WRITE_BARRIER, 0, 0);
	assert_int_equal(check(&l, &r, NULL, &req), 0);
}

static void test_too_many_segments_are_rejected(void **state)
{
	struct blk_limits l = lim();
	struct blkif_request r = rw_req(BLKIF_OP_WRITE, 0, BLKIF_MAX_SEGMENTS_PER_REQUEST);
	struct blk_req req;

	assert_int_equal(check(&l, &r, NULL, &req), 0);
	r.nr_segments = BLKIF_MAX_SEGMENTS_PER_REQUEST + 1;
	assert_int_equal(check(&l, &r, NULL, &req), -EINVAL);
	r.nr_segments = 255;
	assert_int_equal(check(&l, &r, NULL, &req), -EINVAL);
}

static void test_first_sect_after_last_sect_is_rejected(void **state)
{
	struct blk_limits l = lim();
	struct blkif_request r = rw_req(BLKIF_OP_READ, 0, 2);
	struct blk_req req;

	r.seg[1].first_sect = 5;
	r.seg[1].last_sect = 4;
	assert_int_equal(check(&l, &r, NULL, &req), -EINVAL);
}

static void test_last_sect_beyond_the_page_is_rejected(void **state)
{
	struct blk_limits l = lim();
	struct blkif_request r = rw_req(BLKIF_OP_READ, 0, 1);
	struct blk_req req;

	r.seg[0].last_sect = 8;
	assert_int_equal(check(&l, &r, NULL, &req), -EINVAL);
	r.seg[0].first_sect = 8;
	r.seg[0].last_sect = 255;
	assert_int_equal(check(&l, &r, NULL, &req), -EINVAL);
}

static void test_io_past_the_end_of_the_device_is_rejected(void **state)
{
	struct blk_limits l = lim();
	struct blkif_request r = rw_req(BLKIF_OP_READ, DEV_SECTORS - 8, 1);
	struct blk_req req;

	assert_int_equal(check(&l, &r, NULL, &req), 0); /* the last page exactly */
	r.sector_number = DEV_SECTORS - 7;
	assert_int_equal(check(&l, &r, NULL, &req), -EINVAL);
}

static void test_a_sector_range_that_overflows_is_rejected(void **state)
{
	struct blk_limits l = lim();
	struct blkif_request r = rw_req(BLKIF_OP_READ, UINT64_MAX - 3, 1);
	struct blk_req req;

	l.sectors = UINT64_MAX; /* so only the overflow check can catch it */
	assert_int_equal(check(&l, &r, NULL, &req), -EINVAL);
}

static void test_a_write_to_a_readonly_device_is_rejected(void **state)
{
	struct blk_limits l = lim();
	struct blkif_request r = rw_req(BLKIF_OP_WRITE, 0, 1);
	struct blk_req req;

	l.readonly = true;
	assert_int_equal(check(&l, &r, NULL, &req), -EROFS);
	r = rw_req(BLKIF_OP_READ, 0, 1);
	assert_int_equal(check(&l, &r, NULL, &req), 0);
}

static struct blkif_request_indirect ind_req(uint8_t iop, unsigned nseg)
{
	struct blkif_request_indirect r = { .operation = BLKIF_OP_INDIRECT, .indirect_op = iop,
					    .nr_segments = (uint16_t)nseg, .id = 7,
					    .sector_number = 0 };
	unsigned i;

	for (i = 0; i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; i++)
		r.indirect_grefs[i] = 500 + i;
	return r;
}

static struct blkif_request_segment ipage[2][BLKIF_SEGS_PER_INDIRECT_FRAME];

static void fill_ipages(void)
{
	unsigned i, j;

	for (i = 0; i < 2; i++)
		for (j = 0; j < BLKIF_SEGS_PER_INDIRECT_FRAME; j++)
			ipage[i][j] = (struct blkif_request_segment){ .gref = 1000 + j, .first_sect = 0,
								      .last_sect = 0 };
}

static void test_an_indirect_read_within_the_limit_passes(void **state)
{
	struct blk_limits l = lim();
	struct blkif_request_indirect r = ind_req(BLKIF_OP_READ, 256);
	const void *pages[2] = { ipage[0], ipage[1] };
	struct blk_req req;

	fill_ipages();
	assert_int_equal(check(&l, &r, pages, &req), 0);
	assert_int_equal(req.nr_indirect, 1);
	assert_int_equal(req.nr_sectors, 256);
	assert_int_equal(req.seg[255].gref, 1255);
}

static void test_indirect_segments_beyond_the_negotiated_max_are_rejected(void **state)
{
	struct blk_limits l = lim();
	struct blkif_request_indirect r = ind_req(BLKIF_OP_READ, 257);
	const void *pages[2] = { ipage[0], ipage[1] };
	struct blk_req req;

	fill_ipages();
	assert_int_equal(check(&l, &r, pages, &req), -EINVAL);
	r.nr_segments = 0;
	assert_int_equal(check(&l, &r, pages, &req), -EINVAL);
}

/* Issue 13, fuzz-blk-req (corpus native-indirect-beyond-abi): a limit above
 * what 8 indirect grefs address must not make validation ask for more
 * indirect pages than the request has grefs (ring.c copies nr_indirect). */
static void test_indirect_segments_beyond_eight_pages_are_rejected_whatever_the_limit(void **state)
{
	struct blk_limits l = lim();
	struct blkif_request_indirect r = ind_req(BLKIF_OP_READ, BLK_MAX_INDIRECT_SEGS + 1);
	struct blk_req req;
	const char *why = NULL;

	l.max_indirect = UINT16_MAX;
	req.seg = segbuf;
	blk_req_parse(BLK_ABI_NATIVE, &r, &req);
	assert_int_equal(blk_req_validate(&l, &req, &why), -EINVAL);
	assert_string_equal(why, "more segments than 8 indirect pages hold");
	r.nr_segments = BLK_MAX_INDIRECT_SEGS;
	blk_req_parse(BLK_ABI_NATIVE, &r, &req);
	assert_int_equal(blk_req_validate(&l, &req, NULL), 0);
	assert_int_equal(req.nr_indirect, BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST);
}

static void test_an_indirect_op_other_than_read_or_write_is_rejected(void **state)
{
	struct blk_limits l = lim();
	struct blkif_request_indirect r = ind_req(BLKIF_OP_DISCARD, 8);
	struct blk_req req;

	assert_int_equal(check(&l, &r, NULL, &req), -EINVAL);
	r.indirect_op = BLKIF_OP_FLUSH_DISKCACHE;
	assert_int_equal(check(&l, &r, NULL, &req), -EINVAL);
}

static void test_indirect_requests_are_refused_when_not_negotiated(void **state)
{
	struct blk_limits l = lim();
	struct blkif_request_indirect r = ind_req(BLKIF_OP_READ, 8);
	struct blk_req req;

	l.max_indirect = 0;
	assert_int_equal(check(&l, &r, NULL, &req), -EOPNOTSUPP);
}

static void test_a_bad_segment_inside_an_indirect_page_is_rejected(void **state)
{
	struct blk_limits l = lim();
	struct blkif_request_indirect r = ind_req(BLKIF_OP_WRITE, 200);
	const void *pages[2] = { ipage[0], ipage[1] };
	struct blk_req req;

	fill_ipages();
	ipage[0][199].last_sect = 9;
	assert_int_equal(check(&l, &r, pages, &req), -EINVAL);
	fill_ipages();
	ipage[0][200].last_sect = 9; /* beyond nr_segments: never looked at */
	assert_int_equal(check(&l, &r, pages, &req), 0);
}

static void test_a_discard_past_the_end_is_rejected(void **state)
{
	struct blk_limits l = lim();
	struct blkif_request_discard d = { .operation = BLKIF_OP_DISCARD, .id = 3,
					   .sector_number = 1024, .nr_sectors = 1024 };
	struct blk_req req;

	assert_int_equal(check(&l, &d, NULL, &req), 0);
	d.nr_sectors = 1025;
	assert_int_equal(check(&l, &d, NULL, &req), -EINVAL);
	d.nr_sectors = UINT64_MAX;
	assert_int_equal(check(&l, &d, NULL, &req), -EINVAL);
}

static void test_a_discard_is_refused_when_not_offered(void **state)
{
	struct blk_limits l = lim();
	struct blkif_request_discard d = { .operation = BLKIF_OP_DISCARD, .nr_sectors = 8 };
	struct blk_req req;

	l.discard = false;
	assert_int_equal(check(&l, &d, NULL, &req), -EOPNOTSUPP);
}

static void test_an_x86_32_request_parses_like_its_native_twin(void **state)
{
	struct blkif_x86_32_request r32;
	struct blkif_request r64 = rw_req(BLKIF_OP_WRITE, 0x123456789ull, 11);
	struct blk_req a, b;
	unsigned i;

	memset(&r32, 0, sizeof(r32));
	r32.operation = BLKIF_OP_WRITE;
	r32.nr_segments = 11;
	r32.id = 42;
	r32.sector_number = 0x123456789ull;
	memcpy(r32.seg, r64.seg, sizeof(r32.seg));
	a.seg = segbuf;
	blk_req_parse(BLK_ABI_X86_32, &r32, &a);
	b.seg = segbuf + 16;
	blk_req_parse(BLK_ABI_NATIVE, &r64, &b);
	assert_int_equal(a.id, b.id);
	assert_int_equal(a.sector, b.sector);
	assert_int_equal(a.nr_segs, b.nr_segs);
	assert_int_equal(a.operation, b.operation);
	for (i = 0; i < 11; i++)
		assert_memory_equal(&a.seg[i], &b.seg[i], sizeof(a.seg[i]));
	/* Byte level: id sits at offset 4 in the i386 layout. */
	assert_int_equal(((const uint8_t *)&r32)[4], 42);
}

static void test_an_x86_32_indirect_and_discard_parse_at_their_offsets(void **state)
{
	struct blkif_x86_32_request_indirect in = { .operation = BLKIF_OP_INDIRECT,
						    .indirect_op = BLKIF_OP_READ, .nr_segments = 300,
						    .id = 9, .sector_number = 77 };
	struct blkif_x86_32_request_discard ds = { .operation = BLKIF_OP_DISCARD,
						   .flag = BLKIF_DISCARD_SECURE, .id = 5,
						   .sector_number = 10, .nr_sectors = 20 };
	struct blk_req req;

	in.indirect_grefs[1] = 0xabcd;
	req.seg = segbuf;
	blk_req_parse(BLK_ABI_X86_32, &in, &req);
	assert_true(req.indirect);
	assert_int_equal(req.op, BLKIF_OP_READ);
	assert_int_equal(req.nr_segs, 300);
	assert_int_equal(req.sector, 77);
	assert_int_equal(req.indirect_grefs[1], 0xabcd);
	blk_req_parse(BLK_ABI_X86_32, &ds, &req);
	assert_int_equal(req.nr_sectors, 20);
	assert_true(req.secure);
	assert_int_equal(req.id, 5);
}

static void test_responses_are_written_in_the_ring_abi(void **state)
{
	uint8_t slot[BLKIF_MAX_ENT_SIZE];
	struct blkif_x86_32_response r32;
	struct blkif_response r64;

	memset(slot, 0xff, sizeof(slot));
	blk_rsp_write(BLK_ABI_X86_32, slot, 0x1122334455667788ull, BLKIF_OP_READ, BLKIF_RSP_ERROR);
	memcpy(&r32, slot, sizeof(r32));
	assert_int_equal(r32.id, 0x1122334455667788ull);
	assert_int_equal(r32.status, BLKIF_RSP_ERROR);
	assert_int_equal(slot[10], 0xff); /* status at offset 10, low byte of -1 */
	blk_rsp_write(BLK_ABI_NATIVE, slot, 1, BLKIF_OP_WRITE, BLKIF_RSP_OKAY);
	memcpy(&r64, slot, sizeof(r64));
	assert_int_equal(r64.operation, BLKIF_OP_WRITE);
	assert_int_equal(r64.status, 0);
}

static void test_the_protocol_key_selects_the_abi(void **state)
{
	enum blk_abi abi;

	assert_int_equal(blk_abi_parse(NULL, &abi), 0);
	assert_int_equal(abi, BLK_ABI_NATIVE);
	assert_int_equal(blk_abi_parse("x86_32-abi", &abi), 0);
	assert_int_equal(abi, BLK_ABI_X86_32);
	assert_int_equal(blk_abi_parse("x86_64-abi", &abi), 0);
	assert_int_equal(abi, BLK_ABI_NATIVE);
	assert_int_equal(blk_abi_parse("arm-abi", &abi), -EINVAL);
	assert_int_equal(blk_abi_ent_size(BLK_ABI_X86_32), 108);
	assert_int_equal(blk_abi_ent_size(BLK_ABI_NATIVE), 112);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_well_formed_read_passes_and_counts_its_sectors),
		cmocka_unit_test(test_an_unknown_operation_is_not_supported),
		cmocka_unit_test(test_a_read_without_segments_is_rejected),
		cmocka_unit_test(test_a_flush_without_segments_is_allowed),
		cmocka_unit_test(test_too_many_segments_are_rejected),
		cmocka_unit_test(test_first_sect_after_last_sect_is_rejected),
		cmocka_unit_test(test_last_sect_beyond_the_page_is_rejected),
		cmocka_unit_test(test_io_past_the_end_of_the_device_is_rejected),
		cmocka_unit_test(test_a_sector_range_that_overflows_is_rejected),
		cmocka_unit_test(test_a_write_to_a_readonly_device_is_rejected),
		cmocka_unit_test(test_an_indirect_read_within_the_limit_passes),
		cmocka_unit_test(test_indirect_segments_beyond_the_negotiated_max_are_rejected),
		cmocka_unit_test(test_indirect_segments_beyond_eight_pages_are_rejected_whatever_the_limit),
		cmocka_unit_test(test_an_indirect_op_other_than_read_or_write_is_rejected),
		cmocka_unit_test(test_indirect_requests_are_refused_when_not_negotiated),
		cmocka_unit_test(test_a_bad_segment_inside_an_indirect_page_is_rejected),
		cmocka_unit_test(test_a_discard_past_the_end_is_rejected),
		cmocka_unit_test(test_a_discard_is_refused_when_not_offered),
		cmocka_unit_test(test_an_x86_32_request_parses_like_its_native_twin),
		cmocka_unit_test(test_an_x86_32_indirect_and_discard_parse_at_their_offsets),
		cmocka_unit_test(test_responses_are_written_in_the_ring_abi),
		cmocka_unit_test(test_the_protocol_key_selects_the_abi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
