// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blkif request parsing and validation: pure functions over our private copy
 * of a ring slot, with no hv, xenstore or I/O, so every rule is unit-tested
 * (tests/unit/test-blk-validate.c).  ring.c calls parse -> validate ->
 * (indirect: load segments) -> validate_segs, in that order.
 *
 * One validate_*() per request type; one `if`, one errno per rule.  Logging
 * is the caller's (it knows the device); the rule names are in blk_req_why().
 * Every input here is guest controlled and already copied out of the ring.
 */
#include <errno.h>
#include <string.h>

#include "blkback.h"

size_t blk_abi_ent_size(enum blk_abi abi)
{
	return abi == BLK_ABI_X86_32 ? BLKIF_X86_32_ENT_SIZE : BLKIF_NATIVE_ENT_SIZE;
}

int blk_abi_parse(const char *protocol, enum blk_abi *out)
{
	if (!protocol || !*protocol || !strcmp(protocol, XEN_IO_PROTO_ABI_X86_64) ||
	    !strcmp(protocol, "native")) {
		*out = BLK_ABI_NATIVE;
		return 0;
	}
	if (!strcmp(protocol, XEN_IO_PROTO_ABI_X86_32)) {
		*out = BLK_ABI_X86_32;
		return 0;
	}
	return -EINVAL;
}

static void parse_native(const void *ent, struct blk_req *req)
{
	const struct blkif_request *rw = ent;
	const struct blkif_request_discard *ds = ent;
	const struct blkif_request_indirect *in = ent;

	req->operation = rw->operation;
	req->op = rw->operation;
	req->id = rw->id;
	req->sector = rw->sector_number;
	switch (rw->operation) {
	case BLKIF_OP_DISCARD:
		req->nr_sectors = ds->nr_sectors;
		req->secure = ds->flag & BLKIF_DISCARD_SECURE;
		break;
	case BLKIF_OP_INDIRECT:
		req->indirect = true;
		req->op = in->indirect_op;
		req->nr_segs = in->nr_segments;
		memcpy(req->indirect_grefs, in->indirect_grefs, sizeof(req->indirect_grefs));
		break;
	default:
		req->nr_segs = rw->nr_segments;
		memcpy(req->seg, rw->seg, sizeof(rw->seg));
		break;
	}
}

static void parse_x86_32(const void *ent, struct blk_req *req)
{
	const struct blkif_x86_32_request *rw = ent;
	const struct blkif_x86_32_request_discard *ds = ent;
	const struct blkif_x86_32_request_indirect *in = ent;

	req->operation = rw->operation;
	req->op = rw->operation;
	req->id = rw->id;
	req->sector = rw->sector_number;
	switch (rw->operation) {
	case BLKIF_OP_DISCARD:
		req->nr_sectors = ds->nr_sectors;
		req->secure = ds->flag & BLKIF_DISCARD_SECURE;
		break;
	case BLKIF_OP_INDIRECT:
		req->indirect = true;
		req->op = in->indirect_op;
		req->nr_segs = in->nr_segments;
		memcpy(req->indirect_grefs, in->indirect_grefs, sizeof(req->indirect_grefs));
		break;
	default:
		req->nr_segs = rw->nr_segments;
		memcpy(req->seg, rw->seg, sizeof(rw->seg));
		break;
	}
}

void blk_req_parse(enum blk_abi abi, const void *ent, struct blk_req *req)
{
	struct blkif_request_segment *seg = req->seg;

	memset(req, 0, sizeof(*req));
	req->seg = seg;
	if (abi == BLK_ABI_X86_32)
		parse_x86_32(ent, req);
	else
		parse_native(ent, req);
}

static int fail(const char **why, int err, const char *reason)
{
	if (why)
		*why = reason;
	return err;
}

static int validate_rw(const struct blk_limits *lim, struct blk_req *req, const char **why)
{
	if (req->nr_segs == 0)
		return fail(why, -EINVAL, "read/write without segments");
	if (req->nr_segs > BLKIF_MAX_SEGMENTS_PER_REQUEST)
		return fail(why, -EINVAL, "too many segments for a direct request");
	if (req->op == BLKIF_OP_WRITE && lim->readonly)
		return fail(why, -EROFS, "write to a readonly device");
	return 0;
}

static int validate_indirect(const struct blk_limits *lim, struct blk_req *req, const char **why)
{
	if (!lim->max_indirect)
		return fail(why, -EOPNOTSUPP, "feature-max-indirect-segments not offered");
	if (req->op != BLKIF_OP_READ && req->op != BLKIF_OP_WRITE)
		return fail(why, -EINVAL, "indirect_op must be READ or WRITE");
	if (req->nr_segs == 0)
		return fail(why, -EINVAL, "indirect request without segments");
	if (req->nr_segs > lim->max_indirect)
		return fail(why, -EINVAL, "more segments than negotiated");
	if (req->op == BLKIF_OP_WRITE && lim->readonly)
		return fail(why, -EROFS, "write to a readonly device");
	req->nr_indirect = BLKIF_INDIRECT_PAGES(req->nr_segs);
	return 0;
}

static int validate_flush(const struct blk_limits *lim, struct blk_req *req, const char **why)
{
	/* Flush/barrier may carry data (Linux blkfront sends FUA writes so). */
	if (req->nr_segs > BLKIF_MAX_SEGMENTS_PER_REQUEST)
		return fail(why, -EINVAL, "too many segments for a flush");
	if (req->nr_segs && lim->readonly)
		return fail(why, -EROFS, "flush with data to a readonly device");
	return 0;
}

static int validate_discard(const struct blk_limits *lim, struct blk_req *req, const char **why)
{
	uint64_t end, sectors = __atomic_load_n(&lim->sectors, __ATOMIC_RELAXED);

	if (!lim->discard)
		return fail(why, -EOPNOTSUPP, "discard not offered");
	if (lim->readonly)
		return fail(why, -EROFS, "discard on a readonly device");
	if (__builtin_add_overflow(req->sector, req->nr_sectors, &end))
		return fail(why, -EINVAL, "sector range overflows");
	if (end > sectors)
		return fail(why, -EINVAL, "discard past the end of the device");
	return 0;
}

int blk_req_validate(const struct blk_limits *lim, struct blk_req *req, const char **why)
{
	if (req->indirect)
		return validate_indirect(lim, req, why);
	switch (req->op) {
	case BLKIF_OP_READ:
	case BLKIF_OP_WRITE:
		return validate_rw(lim, req, why);
	case BLKIF_OP_FLUSH_DISKCACHE:
	case BLKIF_OP_WRITE_BARRIER:
		return validate_flush(lim, req, why);
	case BLKIF_OP_DISCARD:
		return validate_discard(lim, req, why);
	default:
		return fail(why, -EOPNOTSUPP, "unknown operation");
	}
}

int blk_req_validate_segs(const struct blk_limits *lim, struct blk_req *req, const char **why)
{
	uint64_t total = 0, end, sectors = __atomic_load_n(&lim->sectors, __ATOMIC_RELAXED);
	unsigned i;

	if (req->op == BLKIF_OP_DISCARD)
		return 0;
	for (i = 0; i < req->nr_segs; i++) {
		const struct blkif_request_segment *s = &req->seg[i];

		if (s->first_sect > s->last_sect)
			return fail(why, -EINVAL, "first_sect > last_sect");
		if (s->last_sect >= BLK_SECTORS_PER_PAGE)
			return fail(why, -EINVAL, "last_sect beyond the page");
		total += s->last_sect - s->first_sect + 1u;
	}
	req->nr_sectors = total;
	if (__builtin_add_overflow(req->sector, total, &end))
		return fail(why, -EINVAL, "sector range overflows");
	if (total && end > sectors)
		return fail(why, -EINVAL, "I/O past the end of the device");
	return 0;
}

void blk_req_load_indirect(struct blk_req *req, const void *const *pages)
{
	unsigned i, left = req->nr_segs;

	for (i = 0; left; i++) {
		unsigned n = left < BLKIF_SEGS_PER_INDIRECT_FRAME ? left : BLKIF_SEGS_PER_INDIRECT_FRAME;

		memcpy(&req->seg[i * BLKIF_SEGS_PER_INDIRECT_FRAME], pages[i], n * sizeof(req->seg[0]));
		left -= n;
	}
}

void blk_rsp_write(enum blk_abi abi, void *slot, uint64_t id, uint8_t operation, int16_t status)
{
	if (abi == BLK_ABI_X86_32) {
		struct blkif_x86_32_response r = { .id = id, .operation = operation, .status = status };

		memcpy(slot, &r, sizeof(r));
	} else {
		struct blkif_response r = { .id = id, .operation = operation, .status = status };

		memcpy(slot, &r, sizeof(r));
	}
}
