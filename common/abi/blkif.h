/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * blkif ring ABIs that Debian's <xen/io/blkif.h> does not provide.
 *
 * The public header defines the request/response structs only for the ABI
 * it is compiled for (x86_64 here).  A 32-bit x86 guest lays the same
 * structs out with 4-byte alignment for uint64_t ("x86_32-abi" in the
 * frontend's `protocol` key).  Xen itself generates these variants in
 * tools/include/xen-foreign; Debian ships only the arch headers there, not
 * the io/ ones, so the x86_32 layout is spelt out here, field for field in
 * the order of the public header, and pinned with offset assertions.  The
 * native (x86_64) structs always come from <xen/io/blkif.h>.
 *
 * Shared protocol ABI (common/abi/): blkback/ and frontends/ both include it.
 */
#ifndef PV_ABI_BLKIF_H
#define PV_ABI_BLKIF_H

#include <stddef.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/blkif.h>
#include <xen/io/protocols.h>

#if !defined(__x86_64__)
#error "pvback's blkif code assumes an x86_64 host (native == x86_64-abi)"
#endif

#pragma pack(push, 4)
struct blkif_x86_32_request {
	uint8_t operation;
	uint8_t nr_segments;
	blkif_vdev_t handle;
	uint64_t id;
	blkif_sector_t sector_number;
	struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};

struct blkif_x86_32_request_discard {
	uint8_t operation;
	uint8_t flag;
	blkif_vdev_t handle;
	uint64_t id;
	blkif_sector_t sector_number;
	uint64_t nr_sectors;
};

struct blkif_x86_32_request_indirect {
	uint8_t operation;
	uint8_t indirect_op;
	uint16_t nr_segments;
	uint64_t id;
	blkif_sector_t sector_number;
	blkif_vdev_t handle;
	grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	uint64_t pad; /* the i386 header pads the indirect request to 64 bytes */
};

struct blkif_x86_32_response {
	uint64_t id;
	uint8_t operation;
	int16_t status;
};
#pragma pack(pop)

/* One ring slot: the union of request and response of an ABI. */
union blkif_x86_32_sring_entry {
	struct blkif_x86_32_request req;
	struct blkif_x86_32_response rsp;
};

/* Native ring slot: the union DEFINE_RING_TYPES(blkif, ...) builds. */
#define BLKIF_NATIVE_ENT_SIZE sizeof(union blkif_sring_entry)
#define BLKIF_X86_32_ENT_SIZE sizeof(union blkif_x86_32_sring_entry)
/* Largest slot of any ABI: buffer size for a private copy. */
#define BLKIF_MAX_ENT_SIZE 112

_Static_assert(sizeof(struct blkif_request_segment) == 8, "segment is 8 bytes in every ABI");
_Static_assert(sizeof(struct blkif_x86_32_request) == 108, "i386 blkif_request");
_Static_assert(offsetof(struct blkif_x86_32_request, id) == 4, "i386 blkif_request.id");
_Static_assert(offsetof(struct blkif_x86_32_request, seg) == 20, "i386 blkif_request.seg");
_Static_assert(offsetof(struct blkif_x86_32_request_discard, nr_sectors) == 20, "i386 discard");
_Static_assert(offsetof(struct blkif_x86_32_request_indirect, indirect_grefs) == 24,
	       "i386 indirect grefs");
_Static_assert(sizeof(struct blkif_x86_32_request_indirect) == 64, "i386 indirect");
_Static_assert(sizeof(struct blkif_x86_32_response) == 12, "i386 blkif_response");
_Static_assert(offsetof(struct blkif_x86_32_response, status) == 10, "i386 response.status");
_Static_assert(BLKIF_X86_32_ENT_SIZE == 108, "i386 ring slot");
_Static_assert(sizeof(struct blkif_request) == 112, "x86_64 blkif_request");
_Static_assert(offsetof(struct blkif_request_indirect, indirect_grefs) == 28, "x86_64 indirect");
_Static_assert(sizeof(struct blkif_response) == 16, "x86_64 blkif_response");
_Static_assert(BLKIF_NATIVE_ENT_SIZE == BLKIF_MAX_ENT_SIZE, "x86_64 ring slot");

/* Segments per indirect page and indirect pages for n segments. */
#define BLKIF_SEGS_PER_INDIRECT_FRAME (4096u / sizeof(struct blkif_request_segment))
#define BLKIF_INDIRECT_PAGES(n) \
	(((n) + BLKIF_SEGS_PER_INDIRECT_FRAME - 1) / BLKIF_SEGS_PER_INDIRECT_FRAME)

#endif /* PV_ABI_BLKIF_H */
