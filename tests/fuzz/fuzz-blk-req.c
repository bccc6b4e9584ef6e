// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: libFuzzer harness for blkif requests, what a hostile guest
 * reaches first in pvback-blk (blkback/request.c), in ring.c's order:
 * parse -> validate -> (indirect) load the segments -> validate_segs, then
 * the response write.  Input: one byte of ABI (native / x86_32), the limits
 * (device sectors, max_indirect over its whole range, readonly, discard),
 * one 112-byte ring slot, then the bytes of the indirect pages (each page
 * its own allocation of exactly 4 KiB, only as many as validation asked
 * for, so ASan sees a read past them).  Invariants after each accepted step:
 * nr_segs within the direct or negotiated bound and at most 8 indirect
 * pages, writes only to writable devices, every segment first <= last <= 7,
 * nr_sectors the segments' sum, sector + nr_sectors within the device
 * without overflow; a refusal names its rule and is -EINVAL, -EOPNOTSUPP or
 * -EROFS; a response reads back as written and stays inside its slot.
 * Build: make fuzz-blk (clang); make fuzz runs every harness for a while,
 * make check for a few seconds (tests/sim/fuzz-smoke.sh).
 */
#include <errno.h>

#include "blkback.h"
#include "fuzz-common.h"

static struct blkif_request_segment segbuf[BLK_MAX_INDIRECT_SEGS];


static void check_header(const struct blk_limits *lim, const struct blk_req *req)
{
	uint64_t end;

	if (req->indirect) {
		FUZZ_CHECK(lim->max_indirect && req->nr_segs && req->nr_segs <= lim->max_indirect);
		FUZZ_CHECK(req->op == BLKIF_OP_READ || req->op == BLKIF_OP_WRITE);
		FUZZ_CHECK(req->nr_indirect == BLKIF_INDIRECT_PAGES(req->nr_segs));
		FUZZ_CHECK(req->nr_indirect <= BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST);
	} else if (req->op == BLKIF_OP_DISCARD) {
		FUZZ_CHECK(lim->discard && !lim->readonly);
		FUZZ_CHECK(!__builtin_add_overflow(req->sector, req->nr_sectors, &end));
		FUZZ_CHECK(end <= lim->sectors);
	} else {
		FUZZ_CHECK(req->nr_segs <= BLKIF_MAX_SEGMENTS_PER_REQUEST);
		FUZZ_CHECK((req->op != BLKIF_OP_READ && req->op != BLKIF_OP_WRITE) || req->nr_segs);
	}
	if (req->op == BLKIF_OP_WRITE || (req->nr_segs && req->op != BLKIF_OP_READ))
		FUZZ_CHECK(!lim->readonly);
}

static void check_segs(const struct blk_limits *lim, const struct blk_req *req)
{
	uint64_t sum = 0, end;
	unsigned i;

	if (req->op == BLKIF_OP_DISCARD)
		return;
	for (i = 0; i < req->nr_segs; i++) {
		FUZZ_CHECK(req->seg[i].first_sect <= req->seg[i].last_sect);
		FUZZ_CHECK(req->seg[i].last_sect < BLK_SECTORS_PER_PAGE);
		sum += req->seg[i].last_sect - req->seg[i].first_sect + 1u;
	}
	FUZZ_CHECK(req->nr_sectors == sum);
	FUZZ_CHECK(!__builtin_add_overflow(req->sector, sum, &end));
	FUZZ_CHECK(!sum || end <= lim->sectors);
}

/* The indirect pages the guest granted: exactly nr_indirect of them. */
static void load_indirect(struct blk_req *req, struct fuzz_in *in)
{
	void *pages[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	unsigned i;

	for (i = 0; i < req->nr_indirect; i++) {
		pages[i] = malloc(PV_PAGE_SIZE);
		FUZZ_CHECK(pages[i]);
		fuzz_take(in, pages[i], PV_PAGE_SIZE);
	}
	blk_req_load_indirect(req, (const void *const *)pages);
	for (i = 0; i < req->nr_indirect; i++)
		free(pages[i]);
}

static void check_response(enum blk_abi abi, const struct blk_req *req, int16_t status)
{
	union {
		struct blkif_response n;
		struct blkif_x86_32_response x;
		uint8_t b[BLKIF_MAX_ENT_SIZE];
	} slot;
	size_t used = abi == BLK_ABI_X86_32 ? sizeof(slot.x) : sizeof(slot.n), i;

	memset(&slot, 0xa5, sizeof(slot));
	blk_rsp_write(abi, &slot, req->id, req->op, status);
	if (abi == BLK_ABI_X86_32)
		FUZZ_CHECK(slot.x.id == req->id && slot.x.operation == req->op &&
			   slot.x.status == status);
	else
		FUZZ_CHECK(slot.n.id == req->id && slot.n.operation == req->op &&
			   slot.n.status == status);
	for (i = used; i < blk_abi_ent_size(abi); i++)
		FUZZ_CHECK(slot.b[i] == 0xa5);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	enum blk_abi abi = fuzz_uint(&in, 1) & 1 ? BLK_ABI_X86_32 : BLK_ABI_NATIVE;
	uint8_t flags = (uint8_t)fuzz_uint(&in, 1), ent[BLKIF_MAX_ENT_SIZE];
	struct blk_limits lim = {
		.sectors = fuzz_uint(&in, 8),
		.max_indirect = (uint16_t)fuzz_uint(&in, 2),
		.readonly = flags & 1,
		.discard = flags & 2,
	};
	struct blk_req req = { .seg = segbuf };
	const char *why = NULL;
	int rc;

	fuzz_take(&in, ent, blk_abi_ent_size(abi));
	blk_req_parse(abi, ent, &req);
	FUZZ_CHECK(req.seg == segbuf);
	FUZZ_CHECK(req.indirect == (req.operation == BLKIF_OP_INDIRECT));
	rc = blk_req_validate(&lim, &req, &why);
	if (rc == 0) {
		check_header(&lim, &req);
		if (req.indirect)
			load_indirect(&req, &in);
		rc = blk_req_validate_segs(&lim, &req, &why);
	}
	if (rc == 0)
		check_segs(&lim, &req);
	else /* a refusal names its rule */
		FUZZ_CHECK(why && *why && (rc == -EINVAL || rc == -EOPNOTSUPP || rc == -EROFS));
	check_response(abi, &req, rc ? BLKIF_RSP_ERROR : BLKIF_RSP_OKAY);
	return 0;
}
