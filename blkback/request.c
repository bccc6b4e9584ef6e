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
#include <stddef.h>
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

/*
 * Where each field sits in a ring slot of one ABI.  The structs themselves
 * come from <xen/io/blkif.h> (native) and common/abi/blkif.h (x86_32): one parser
 * reads both through this table instead of two near-identical copies.
 */
struct blk_abi_layout {
	size_t id, sector, nr_segs, seg;        /* blkif_request */
	size_t ds_nr_sectors, ds_flag;          /* blkif_request_discard */
	size_t in_op, in_nr_segs, in_grefs;     /* blkif_request_indirect */
	size_t rsp_id, rsp_op, rsp_status, rsp_size; /* blkif_response */
};

#define BLK_LAYOUT(rw, ds, in, rsp)                                              \
	{                                                                        \
		.id = offsetof(rw, id), .sector = offsetof(rw, sector_number),   \
		.nr_segs = offsetof(rw, nr_segments), .seg = offsetof(rw, seg),  \
		.ds_nr_sectors = offsetof(ds, nr_sectors),                       \
		.ds_flag = offsetof(ds, flag), .in_op = offsetof(in, indirect_op), \
		.in_nr_segs = offsetof(in, nr_segments),                         \
		.in_grefs = offsetof(in, indirect_grefs),                        \
		.rsp_id = offsetof(rsp, id), .rsp_op = offsetof(rsp, operation), \
		.rsp_status = offsetof(rsp, status), .rsp_size = sizeof(rsp),    \
	}

static const struct blk_abi_layout blk_layouts[] = {
	[BLK_ABI_NATIVE] = BLK_LAYOUT(struct blkif_request, struct blkif_request_discard,
				      struct blkif_request_indirect, struct blkif_response),
	[BLK_ABI_X86_32] = BLK_LAYOUT(struct blkif_x86_32_request,
				      struct blkif_x86_32_request_discard,
				      struct blkif_x86_32_request_indirect,
				      struct blkif_x86_32_response),
};

/* Field widths are the same in both ABIs; only offsets (alignment) differ. */
_Static_assert(sizeof(((struct blkif_request *)0)->seg) ==
		       sizeof(((struct blkif_x86_32_request *)0)->seg), "seg array size");

static uint64_t get(const uint8_t *ent, size_t off, size_t size)
{
	uint64_t v = 0;

	memcpy(&v, ent + off, size); /* little-endian, unaligned-safe */
	return v;
}

void blk_req_parse(enum blk_abi abi, const void *ent, struct blk_req *req)
{
	const struct blk_abi_layout *l = &blk_layouts[abi];
	struct blkif_request_segment *seg = req->seg;
	const uint8_t *e = ent;

	memset(req, 0, sizeof(*req));
	req->seg = seg;
	req->operation = e[0]; /* operation is the first byte in every request */
	req->op = req->operation;
	req->id = get(e, l->id, sizeof(req->id));
	req->sector = get(e, l->sector, sizeof(blkif_sector_t));
	switch (req->operation) {
	case BLKIF_OP_DISCARD:
		req->nr_sectors = get(e, l->ds_nr_sectors, sizeof(blkif_sector_t));
		req->secure = get(e, l->ds_flag, 1) & BLKIF_DISCARD_SECURE;
		break;
	case BLKIF_OP_INDIRECT:
		req->indirect = true;
		req->op = (uint8_t)get(e, l->in_op, 1);
		req->nr_segs = (uint16_t)get(e, l->in_nr_segs, sizeof(uint16_t));
		memcpy(req->indirect_grefs, e + l->in_grefs, sizeof(req->indirect_grefs));
		break;
	default:
		req->nr_segs = (uint8_t)get(e, l->nr_segs, 1);
		memcpy(req->seg, e + l->seg, sizeof(((struct blkif_request *)0)->seg));
		break;
	}
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
	/* Whatever was negotiated, the ABI has room for 8 indirect grefs. */
	if (req->nr_segs > BLK_MAX_INDIRECT_SEGS)
		return fail(why, -EINVAL, "more segments than 8 indirect pages hold");
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

/*
 * Field by field into zeroed bytes, never through a struct: the padding of
 * a struct on our stack is whatever the stack held, and copying it would
 * hand the guest our memory (Xen's XSA-216; issue 13: gcc -O2 leaked one
 * byte per x86_32 response here, clang five per native one).
 */
void blk_rsp_write(enum blk_abi abi, void *slot, uint64_t id, uint8_t operation, int16_t status)
{
	const struct blk_abi_layout *l = &blk_layouts[abi];
	uint8_t r[sizeof(struct blkif_response)] = { 0 };

	_Static_assert(sizeof(struct blkif_response) >= sizeof(struct blkif_x86_32_response),
		       "the native response is the larger");
	memcpy(r + l->rsp_id, &id, sizeof(id));
	r[l->rsp_op] = operation;
	memcpy(r + l->rsp_status, &status, sizeof(status));
	memcpy(slot, r, l->rsp_size);
}
