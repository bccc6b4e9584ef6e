// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: stateful libFuzzer harness for pvback-blk's data path (issue
 * 13): a live blkif queue (blkback/ring.c on common/queue.c) on the
 * in-process pvsim of tests/unit/hv-harness.c, driven by a hostile guest
 * that the input scripts.  The first 4 bytes pick the queue's setup (I/O
 * engine, grant mode, persistent grants, ABI, indirect segments, backing
 * store, journal, polling, how it stops, ring order); the rest is up to
 * FZ_MAX_OPS operations: requests well formed or raw, index moves
 * (req_prod forward, back, far; req_event, rsp_event), notifies, waits,
 * responses consumed, grants revoked and given again while requests may be
 * in flight, indirect pages rewritten under the backend (double fetch).
 * Then the queue is stopped, which must return, and nothing may be left:
 * no mapping (pv_hv_map/unmap counted, the budget, pvsim's in-use flags of
 * every grant), no fd, no thread.  Responses are checked as they come:
 * a frontend that behaved gets each request it pushed answered exactly
 * once (id and op echoed, a known status, zero padding), all of them when
 * the queue did not die; a hostile one never gets a response id it could
 * not have written, nor more responses than it pushed.
 * Build: make fuzzers (clang); make fuzz runs it for FUZZ_SECONDS, make
 * check for a few seconds (tests/sim/fuzz-smoke.sh).  FUZZ_BLK_LOG=debug
 * shows the backend's log (default: errors only).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blkback.h"
#include "hv-harness.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_OPS    64
#define FZ_NR_DATA    8                /* data pages, each its own grant */
#define FZ_NR_IND     4                /* indirect pages */
#define FZ_NR_PAGES   (FZ_NR_DATA + FZ_NR_IND)
#define FZ_DISK_BYTES (2u << 20)
#define FZ_GUEST_MAP  64u              /* pages of the guest's mapping pool */
#define FZ_WAIT_NS    (20ull * 1000000) /* a wait op gives up after this */
#define FZ_MAX_IDS    (FZ_MAX_OPS * 2 + 1)

/* ------------------------------------------------- mappings, counted */

/* Every page the process maps through the hv layer (ring, data,
 * persistent grants) is unmapped again once the queue stopped. */
static long live_maps;

int __real_pv_hv_map(struct pv_hv *hv, uint16_t domid, unsigned count, const uint32_t *refs,
		     bool writable, void **addr);
int __real_pv_hv_unmap(struct pv_hv *hv, void *addr, unsigned count);
int __wrap_pv_hv_map(struct pv_hv *hv, uint16_t domid, unsigned count, const uint32_t *refs,
		     bool writable, void **addr);
int __wrap_pv_hv_unmap(struct pv_hv *hv, void *addr, unsigned count);

int __wrap_pv_hv_map(struct pv_hv *hv, uint16_t domid, unsigned count, const uint32_t *refs,
		     bool writable, void **addr)
{
	int rc = __real_pv_hv_map(hv, domid, count, refs, writable, addr);

	if (rc == 0)
		__atomic_add_fetch(&live_maps, (long)count, __ATOMIC_RELAXED);
	return rc;
}

int __wrap_pv_hv_unmap(struct pv_hv *hv, void *addr, unsigned count)
{
	int rc = __real_pv_hv_unmap(hv, addr, count);

	if (rc == 0)
		__atomic_sub_fetch(&live_maps, (long)count, __ATOMIC_RELAXED);
	return rc;
}

/* ------------------------------------------------------ the process */

/* Backing stores: one file, opened three ways (lim.readonly follows). */
enum { BS_DIRECT, BS_BUFFERED, BS_READONLY, BS_NR };

static struct {
	struct t_sim *ts;
	struct pv_hv *guest;            /* domain 1 */
	struct pv_loop *home;           /* where pv_queue_stop_begin reports */
	struct blk_backing bs[BS_NR];
	struct pv_budget_user watch;    /* keeps domain 1's pool for reading */
	char dir[64];                   /* backing file, journals */
	char jdir[80];
} P;

static void fz_die(const char *what, int err)
{
	fprintf(stderr, "fuzz-blk-queue: %s: %s\n", what, strerror(err < 0 ? -err : err));
	abort();
}

static void fz_fail(const char *what)
{
	fprintf(stderr, "fuzz-blk-queue: invariant broken: %s\n", what);
	abort();
}

static void fz_cleanup(void)
{
	char path[128];
	int i;

	for (i = 0; i < BS_NR; i++)
		blk_backing_close(&P.bs[i]);
	pv_budget_user_fini(&P.watch);
	if (P.guest)
		pv_hv_close(P.guest);
	if (P.home)
		pv_loop_destroy(P.home);
	t_sim_stop(P.ts);
	snprintf(path, sizeof(path), "%s/disk", P.dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/vbd-1-51712-q0.journal", P.jdir);
	unlink(path);
	rmdir(P.jdir);
	rmdir(P.dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *lv = getenv("FUZZ_BLK_LOG");
	enum pv_log_level level = PV_LOG_ERR;
	char path[128];
	int rc, fd, i;

	(void)argc;
	(void)argv;
	if (lv && pv_log_level_parse(lv, &level) < 0)
		level = PV_LOG_DEBUG;
	pv_log_init("fuzz-blk-queue", false, level);
	/* A small guest pool, so that requests wait for the budget too. */
	pv_budget_set_limits(FZ_GUEST_MAP, 0);
	rc = t_sim_start(&P.ts);
	if (rc < 0)
		fz_die("pvsim", rc);
	P.guest = t_hv_open(1);
	if (!P.guest)
		fz_die("guest handle", EIO);
	/* pv_queue opens its handles as the domain PVSIM_DOMID names. */
	setenv("PVSIM_DOMID", "0", 1);
	rc = pv_loop_create(&P.home);
	if (rc < 0)
		fz_die("loop", rc);
	rc = pv_budget_user_init(&P.watch, 1, 0);
	if (rc < 0)
		fz_die("budget", rc);
	snprintf(P.dir, sizeof(P.dir), "/tmp/pvback-fuzz-blk.XXXXXX");
	if (!mkdtemp(P.dir))
		fz_die("mkdtemp", errno);
	snprintf(P.jdir, sizeof(P.jdir), "%s/state", P.dir);
	if (mkdir(P.jdir, 0700) < 0)
		fz_die("mkdir", errno);
	snprintf(path, sizeof(path), "%s/disk", P.dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, FZ_DISK_BYTES) < 0)
		fz_die("backing file", errno);
	close(fd);
	for (i = 0; i < BS_NR; i++) {
		rc = blk_backing_open(path, i == BS_READONLY,
				      i == BS_DIRECT ? BLK_DIRECT_AUTO : BLK_DIRECT_OFF, &P.bs[i]);
		if (rc < 0)
			fz_die("blk_backing_open", rc);
	}
	atexit(fz_cleanup);
	return 0;
}

/* ------------------------------------------------------- the input */

struct fz_in {
	const uint8_t *p;
	size_t left;
};

/* Input bytes; zeros once it runs out. */
static uint8_t in_u8(struct fz_in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static uint64_t in_uint(struct fz_in *in, unsigned bytes)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < bytes; i++)
		v |= (uint64_t)in_u8(in) << (8 * i);
	return v;
}

/* ------------------------------------------------------- the guest */

/* Where a blkif request's fields sit in one ABI's ring slot. */
struct fz_layout {
	size_t id, sector, nr_segs, seg;          /* blkif_request */
	size_t ds_flag, ds_nr_sectors;            /* blkif_request_discard */
	size_t in_nr_segs, in_grefs;              /* blkif_request_indirect */
	size_t rsp_op, rsp_status, rsp_size;      /* blkif_response */
};

static const struct fz_layout fz_native = {
	offsetof(struct blkif_request, id), offsetof(struct blkif_request, sector_number),
	offsetof(struct blkif_request, nr_segments), offsetof(struct blkif_request, seg),
	offsetof(struct blkif_request_discard, flag),
	offsetof(struct blkif_request_discard, nr_sectors),
	offsetof(struct blkif_request_indirect, nr_segments),
	offsetof(struct blkif_request_indirect, indirect_grefs),
	offsetof(struct blkif_response, operation), offsetof(struct blkif_response, status),
	sizeof(struct blkif_response),
};

static const struct fz_layout fz_x86_32 = {
	offsetof(struct blkif_x86_32_request, id),
	offsetof(struct blkif_x86_32_request, sector_number),
	offsetof(struct blkif_x86_32_request, nr_segments),
	offsetof(struct blkif_x86_32_request, seg),
	offsetof(struct blkif_x86_32_request_discard, flag),
	offsetof(struct blkif_x86_32_request_discard, nr_sectors),
	offsetof(struct blkif_x86_32_request_indirect, nr_segments),
	offsetof(struct blkif_x86_32_request_indirect, indirect_grefs),
	offsetof(struct blkif_x86_32_response, operation),
	offsetof(struct blkif_x86_32_response, status), sizeof(struct blkif_x86_32_response),
};

struct fz_page {
	void *addr;
	uint32_t ref;        /* the current grant, or the last one when revoked */
	bool granted;
};

/* A request a well-behaved guest pushed, waiting for its response. */
struct fz_sent {
	uint64_t id;
	uint32_t idx;        /* its ring index */
	uint8_t op;
	bool answered;
};

struct fz {
	struct fz_in in;
	enum blk_abi abi;
	const struct fz_layout *l;
	size_t ent_size;
	unsigned nr_ring_pages;
	uint32_t ring_refs[BLK_MAX_RING_PAGES];
	void *ring;
	struct pv_ring_front f;   /* req_prod_pvt: next slot we fill */
	int port;
	struct fz_page pg[FZ_NR_PAGES];
	uint64_t sectors;
	/* What the checks know.  strict: the guest behaved so far (slots
	 * written only when free, req_prod moved only by pushing them): each
	 * response answers one request in sent[].  sane: req_prod was never
	 * more than a ring ahead of the responses read, so the backend never
	 * wrote a slot while we read it: each response id is one a slot held.
	 * max_prod, the furthest req_prod published (forward moves up to a
	 * ring at a time), bounds the responses in any case. */
	bool strict, sane, ring_as_data;
	struct fz_sent sent[FZ_MAX_OPS];
	unsigned nr_sent;
	uint64_t ids[FZ_MAX_IDS];   /* ids a slot held: what a response may echo */
	unsigned nr_ids;
	uint32_t max_prod;
	uint32_t last_rsp_prod;
	/* The backend. */
	struct blk_config cfg;
	struct blk_vbd vbd;
	struct blk_queue *q;
	bool stop_async, stopped;
};

static void *slot_at(struct fz *z, uint32_t idx)
{
	return z->f.ents + (size_t)(idx & (z->f.nr_ents - 1)) * z->ent_size;
}

static uint64_t get_le(const uint8_t *p, size_t bytes)
{
	uint64_t v = 0;

	memcpy(&v, p, bytes); /* little-endian host */
	return v;
}

static void put_le(uint8_t *p, uint64_t v, size_t bytes)
{
	memcpy(p, &v, bytes);
}

/* A slot's id and the operation its response must echo (indirect: the
 * indirect_op, as blkfront expects). */
static uint64_t ent_id(const struct fz *z, const uint8_t *e)
{
	return get_le(e + z->l->id, 8);
}

static uint8_t ent_op(const uint8_t *e)
{
	return e[0] == BLKIF_OP_INDIRECT ? e[1] : e[0];
}

static void note_id(struct fz *z, uint64_t id)
{
	if (z->nr_ids < FZ_MAX_IDS)
		z->ids[z->nr_ids++] = id;
}

/* Grant references a segment can name: our pages (granted or revoked),
 * the ring, the reserved 0, refs never granted. */
static uint32_t pick_ref(struct fz *z, uint8_t b)
{
	unsigned k = b & 15;

	if (k < FZ_NR_PAGES)
		return z->pg[k].ref;
	switch (k) {
	case 12:
		/* A read into it rewrites the ring, indexes and all: from
		 * then on the guest's ring says nothing about the backend. */
		z->ring_as_data = true;
		z->strict = z->sane = false;
		return z->ring_refs[b >> 4 & (z->nr_ring_pages - 1)];
	case 13:
		return 0;
	case 14:
		return 4000u + b;
	default:
		return 0xffffff00u | b;
	}
}

static struct blkif_request_segment pick_seg(struct fz *z, uint8_t ref, uint8_t sects)
{
	struct blkif_request_segment s = {
		.gref = pick_ref(z, ref),
		.first_sect = sects & 7,
		.last_sect = (uint8_t)((sects >> 3 & 7) | (sects & 0x40 ? 8 : 0)),
	};

	return s;
}

/* Indirect pages start out naming the data pages, whole. */
static void fill_indirect(struct fz *z, unsigned k)
{
	struct blkif_request_segment *s = z->pg[FZ_NR_DATA + k].addr;
	unsigned i;

	for (i = 0; i < BLKIF_SEGS_PER_INDIRECT_FRAME; i++)
		s[i] = (struct blkif_request_segment){
			.gref = z->pg[(i + k) % FZ_NR_DATA].ref, .first_sect = 0, .last_sect = 7,
		};
}

static int page_grant(struct fz *z, unsigned k)
{
	struct fz_page *pg = &z->pg[k];
	int rc = pv_hv_share(P.guest, 0, 1, true, &pg->ref, &pg->addr);

	if (rc < 0)
		return rc;
	pg->granted = true;
	if (k >= FZ_NR_DATA)
		fill_indirect(z, k - FZ_NR_DATA);
	return 0;
}

/* End access, as a guest that takes a page back: -EBUSY while the
 * backend has it mapped (the grant stays). */
static void page_revoke(struct fz *z, unsigned k)
{
	struct fz_page *pg = &z->pg[k];

	if (pg->granted && pv_hv_unshare(P.guest, pg->addr, 1) == 0)
		pg->granted = false;
}

static int guest_open(struct fz *z, unsigned order)
{
	unsigned k;
	int rc;

	z->nr_ring_pages = 1u << order;
	rc = pv_hv_share(P.guest, 0, z->nr_ring_pages, true, z->ring_refs, &z->ring);
	if (rc < 0) {
		z->ring = NULL;
		return rc;
	}
	rc = pv_ring_front_init(&z->f, z->ring, (size_t)z->nr_ring_pages * PV_PAGE_SIZE,
				z->ent_size);
	if (rc < 0)
		return rc;
	for (k = 0; k < FZ_NR_PAGES; k++) { /* data first: indirect pages name them */
		rc = page_grant(z, k);
		if (rc < 0)
			return rc;
	}
	z->port = pv_hv_evtchn_alloc(P.guest, 0);
	return z->port < 0 ? z->port : 0;
}

/* ----------------------------------------------------- the backend */

static const unsigned fz_max_indirect[8] = { 0, 0, 11, 12, 32, 128, 255, 256 };

/*
 * The setup bytes (tests/fuzz/gen-blk-queue-seeds.sh writes seeds so):
 *  a: bit 0 io_uring (else sync), bits 2-3 grant mode (auto, map, copy,
 *     auto), bit 4 persistent grants, bit 5 x86_32 ABI;
 *  b: bits 0-2 max_indirect (fz_max_indirect), bits 3-4 backing store
 *     (direct, buffered, readonly, buffered), bit 5 discard offered,
 *     bit 6 journal, bit 7 polling;
 *  c: bits 0-4 max_pgrants - 1, bits 5-6 fixed buffers (auto, on, off,
 *     auto), bit 7 stop without waiting (pv_queue_stop_begin);
 *  then the ring order (mod 3).
 */
static void setup(struct fz *z)
{
	uint8_t a = in_u8(&z->in), b = in_u8(&z->in), c = in_u8(&z->in);
	/* No libaio: its io_setup/io_destroy take ~30 ms, a whole input's budget. */
	static const enum blk_io_kind io[2] = { BLK_IO_SYNC, BLK_IO_URING };
	static const enum blk_grant_mode gm[4] = { BLK_GRANT_AUTO, BLK_GRANT_MAP, BLK_GRANT_COPY,
						   BLK_GRANT_AUTO };
	static const enum blk_fixed_bufs fb[4] = { BLK_FIXED_AUTO, BLK_FIXED_ON, BLK_FIXED_OFF,
						   BLK_FIXED_AUTO };
	unsigned bsi = b >> 3 & 3;

	if (bsi == 3)
		bsi = BS_BUFFERED;
	z->cfg = (struct blk_config){
		.pv = { .hv_kind = PV_HV_SIM, .poll_us = b & 0x80 ? 20 : 0, .max_queues = 1,
			.state_dir = b & 0x40 ? P.jdir : NULL },
		.io_kind = io[a & 1],
		.direct = BLK_DIRECT_AUTO,
		.max_ring_order = 2,
		.max_indirect = fz_max_indirect[b & 7],
		.max_pgrants = 1 + (c & 31),
		.persistent = a & 0x10,
		.grant_mode = gm[a >> 2 & 3],
		.fixed_bufs = fb[c >> 5 & 3],
	};
	z->stop_async = c & 0x80;
	z->abi = a & 0x20 ? BLK_ABI_X86_32 : BLK_ABI_NATIVE;
	z->l = z->abi == BLK_ABI_X86_32 ? &fz_x86_32 : &fz_native;
	z->ent_size = blk_abi_ent_size(z->abi);
	z->sectors = P.bs[bsi].size >> BLK_SECTOR_SHIFT;
	z->vbd = (struct blk_vbd){
		.dev = NULL,
		.cfg = &z->cfg,
		.name = "vbd-1-51712",
		.bs = P.bs[bsi],
		.lim = { .sectors = z->sectors, .max_indirect = z->cfg.max_indirect,
			 .readonly = bsi == BS_READONLY, .discard = b & 0x20 },
		.nr_queues = 1,
	};
	z->strict = z->sane = true;
	z->port = -1;
	note_id(z, 0); /* fresh slots are zeroed */
}

static int backend_start(struct fz *z)
{
	struct blk_queue_params qp = {
		.idx = 0,
		.domid = 1,
		.nr_ring_pages = z->nr_ring_pages,
		.evtchn = (uint32_t)z->port,
		.abi = z->abi,
		.persistent = z->cfg.persistent,
	};
	int rc;

	memcpy(qp.ring_refs, z->ring_refs, sizeof(uint32_t) * z->nr_ring_pages);
	rc = blk_queue_start(&z->vbd, &qp, &z->q);
	if (rc < 0)
		z->q = NULL;
	return rc;
}

/* ------------------------------------------------------ responses */

static bool is_status(int16_t st)
{
	return st == BLKIF_RSP_OKAY || st == BLKIF_RSP_ERROR || st == BLKIF_RSP_EOPNOTSUPP;
}

/*
 * An id a response may carry when the guest did not behave: one a slot
 * held when the backend copied it.  That is an id we wrote (ids[]), or
 * the id field over an earlier response left in the slot: native, its
 * operation, status and zero padding; x86_32, the high half of that
 * response's id, then operation and status.
 */
static bool id_possible(const struct fz *z, uint64_t id)
{
	unsigned i;

	for (i = 0; i < z->nr_ids; i++)
		if (z->ids[i] == id)
			return true;
	if (z->abi == BLK_ABI_NATIVE)
		return (id & 0xffffffff0000ff00ull) == 0 && is_status((int16_t)(id >> 16));
	if ((id >> 40 & 0xff) || !is_status((int16_t)(id >> 48)))
		return false;
	/* The low half was the high half of a possible id: one we wrote, or
	 * one read over a response (operation, zero, status). */
	for (i = 0; i < z->nr_ids; i++)
		if ((uint32_t)(z->ids[i] >> 32) == (uint32_t)id)
			return true;
	return (id & 0xff00) == 0 && is_status((int16_t)(id >> 16));
}

static void check_rsp(struct fz *z, const uint8_t *e)
{
	uint64_t id = get_le(e, 8);
	uint8_t op = e[z->l->rsp_op];
	int16_t st = (int16_t)get_le(e + z->l->rsp_status, 2);
	size_t i;

	if (z->strict) {
		for (i = 0; i < z->nr_sent; i++)
			if (!z->sent[i].answered && z->sent[i].id == id && z->sent[i].op == op)
				break;
		if (i == z->nr_sent)
			fz_fail("a response that answers no request pushed (or answers one twice)");
		z->sent[i].answered = true;
		if (!is_status(st))
			fz_fail("a response status outside OKAY, ERROR, EOPNOTSUPP");
		for (i = 8; i < z->l->rsp_size; i++)
			if (i != z->l->rsp_op && i != z->l->rsp_status &&
			    i != z->l->rsp_status + 1 && e[i])
				fz_fail("response padding not zero (backend memory leaks to the guest)");
	} else if (z->sane && !id_possible(z, id)) {
		fz_fail("a response id no slot held");
	}
}

/* The backend's rsp_prod only grows, never past what was pushed. */
static uint32_t read_rsp_prod(struct fz *z)
{
	uint32_t rp = z->f.sring->rsp_prod;

	pv_rmb(); /* Ensure we see responses up to 'rp'. */
	if (z->ring_as_data)
		return rp;
	if ((int32_t)(rp - z->last_rsp_prod) < 0)
		fz_fail("rsp_prod moved backwards");
	z->last_rsp_prod = rp;
	if ((int32_t)(rp - z->max_prod) > 0)
		fz_fail("more responses than requests pushed");
	return rp;
}

static void consume(struct fz *z)
{
	uint32_t rp = read_rsp_prod(z), n = 0;
	uint8_t ent[BLKIF_MAX_ENT_SIZE];

	for (; z->f.rsp_cons != rp && n < z->f.nr_ents; z->f.rsp_cons++, n++) {
		memcpy(ent, slot_at(z, z->f.rsp_cons), z->ent_size);
		if (!z->ring_as_data)
			check_rsp(z, ent);
	}
	z->f.rsp_cons = rp;
	z->f.sring->rsp_event = rp + 1;
	pv_mb(); /* rsp_event is visible before the backend pushes again */
}

/* ------------------------------------------------------ operations */

/* A frontend writes only free slots: at or beyond req_prod (not published)
 * and within a ring of the responses it read.  Any other slot the backend
 * may be copying, or answering into, right now: what it reads may be torn
 * (half old, half new), so its ids are no longer ours to check. */
static void writing(struct fz *z, uint32_t idx)
{
	if ((int32_t)(idx - z->f.sring->req_prod) < 0 ||
	    (int32_t)(z->f.rsp_cons + z->f.nr_ents - idx) <= 0)
		z->strict = z->sane = false;
}

/* The slot at req_prod_pvt, as a frontend fills it. */
static uint8_t *next_slot(struct fz *z)
{
	writing(z, z->f.req_prod_pvt);
	return slot_at(z, z->f.req_prod_pvt++);
}

static void record(struct fz *z, const uint8_t *e, bool in_order)
{
	note_id(z, ent_id(z, e));
	note_id(z, get_le(e, 8)); /* what a response read over it would say */
	if (in_order && z->strict && z->nr_sent < FZ_MAX_OPS)
		z->sent[z->nr_sent++] = (struct fz_sent){
			.id = ent_id(z, e), .idx = z->f.req_prod_pvt - 1, .op = ent_op(e),
		};
}

/* A request the way blkfront builds one, its fields from the input:
 * any op, segment count, sector and grant, valid or not. */
static void op_request(struct fz *z, uint8_t seq)
{
	static const uint8_t ops[16] = {
		BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_OP_FLUSH_DISKCACHE, BLKIF_OP_WRITE_BARRIER,
		BLKIF_OP_DISCARD, BLKIF_OP_INDIRECT, BLKIF_OP_INDIRECT, BLKIF_OP_INDIRECT,
		0xff, BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_OP_INDIRECT, BLKIF_OP_INDIRECT,
		BLKIF_OP_FLUSH_DISKCACHE, BLKIF_OP_READ, BLKIF_OP_WRITE,
	};
	const struct fz_layout *l = z->l;
	uint8_t sel = in_u8(&z->in), e[BLKIF_MAX_ENT_SIZE] = { 0 };
	uint8_t op = ops[sel & 15], nb;
	uint64_t sector, id = (uint64_t)seq << 8 | in_u8(&z->in);
	unsigned i, n;

	if (op == 0xff)
		op = in_u8(&z->in);
	switch (sel >> 4) {
	case 12: case 13: case 14:
		sector = z->sectors - in_u8(&z->in);
		break;
	case 15:
		sector = in_uint(&z->in, 8);
		break;
	default:
		sector = (uint64_t)in_u8(&z->in) * 8;
		break;
	}
	e[0] = op;
	put_le(e + l->id, id, 8);
	put_le(e + l->sector, sector, 8);
	nb = in_u8(&z->in);
	if (op == BLKIF_OP_DISCARD) {
		e[l->ds_flag] = nb & 1;
		put_le(e + l->ds_nr_sectors, (uint64_t)(nb >> 1) * 8, 8);
	} else if (op == BLKIF_OP_INDIRECT) {
		/* indirect_op: read, write, or anything (sel bit 3). */
		e[1] = sel & 8 ? in_u8(&z->in) : (sel & 1 ? BLKIF_OP_WRITE : BLKIF_OP_READ);
		n = nb < 128 ? nb : 128u + (nb - 128u) * 2;
		put_le(e + l->in_nr_segs, n, 2);
		for (i = 0; i < BLKIF_INDIRECT_PAGES(n) && i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST;
		     i++) {
			uint8_t k = in_u8(&z->in);
			uint32_t ref = k & 0x80 ? pick_ref(z, k) : z->pg[FZ_NR_DATA + (k + i) % FZ_NR_IND].ref;

			put_le(e + l->in_grefs + 4 * i, ref, 4);
		}
	} else {
		n = nb % (BLKIF_MAX_SEGMENTS_PER_REQUEST + 2);
		e[l->nr_segs] = (uint8_t)n;
		for (i = 0; i < n && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++) {
			struct blkif_request_segment s;
			uint8_t ref = in_u8(&z->in);

			s = pick_seg(z, ref, in_u8(&z->in));
			memcpy(e + l->seg + i * sizeof(s), &s, sizeof(s));
		}
	}
	memcpy(next_slot(z), e, z->ent_size);
	record(z, e, true);
}

/* Raw bytes into a slot: the next one, or one the backend may be reading
 * or answering into right now. */
static void op_raw(struct fz *z)
{
	int8_t off = (int8_t)in_u8(&z->in);
	uint8_t e[BLKIF_MAX_ENT_SIZE];
	size_t i;

	for (i = 0; i < z->ent_size; i++)
		e[i] = in_u8(&z->in);
	if (off == 0) {
		memcpy(next_slot(z), e, z->ent_size);
		record(z, e, true);
		return;
	}
	z->strict = false;
	writing(z, z->f.req_prod_pvt + (uint32_t)(int32_t)off);
	memcpy(slot_at(z, z->f.req_prod_pvt + (uint32_t)(int32_t)off), e, z->ent_size);
	record(z, e, false);
}

/* req_prod is now prod: what the checks can still rely on. */
static void published(struct fz *z, uint32_t old, uint32_t prod)
{
	if ((int32_t)(prod - z->max_prod) > 0 && prod - z->max_prod <= z->f.nr_ents)
		z->max_prod = prod;
	if (prod - z->f.rsp_cons > z->f.nr_ents || (int32_t)(prod - old) < 0)
		z->strict = z->sane = false;
}

static void op_push(struct fz *z)
{
	uint32_t old = z->f.sring->req_prod;

	if (pv_ring_front_push(&z->f) && z->port >= 0)
		pv_hv_evtchn_notify(P.guest, (uint32_t)z->port);
	published(z, old, z->f.req_prod_pvt);
}

/* req_prod where no frontend would put it. */
static void op_prod(struct fz *z)
{
	uint8_t m = in_u8(&z->in);
	uint32_t prod = z->f.sring->req_prod, k = m >> 2;

	switch (m & 3) {
	case 0:
		prod += k;
		break;
	case 1:
		prod -= k;
		break;
	case 2:
		prod += 0x80000000u + k;
		break;
	default:
		prod = (uint32_t)in_uint(&z->in, 4);
		break;
	}
	z->strict = false;
	published(z, z->f.sring->req_prod, prod);
	pv_wmb(); /* slots first, as a frontend would */
	z->f.sring->req_prod = prod;
}

static void op_event(struct fz *z, bool rsp)
{
	uint8_t m = in_u8(&z->in);
	uint32_t v = m & 0x80 ? (uint32_t)in_uint(&z->in, 4) :
		     (rsp ? z->f.rsp_cons : z->f.req_prod_pvt) + (m & 0x7f);

	if (rsp)
		z->f.sring->rsp_event = v;
	else
		z->f.sring->req_event = v; /* the backend's field: a guest may write it anyway */
}

static void op_notify(struct fz *z)
{
	if (z->port >= 0)
		pv_hv_evtchn_notify(P.guest, (uint32_t)z->port);
}

/* Nothing more will happen without the guest: everything consumed that
 * can be, nothing in flight, every response pushed (or the queue died).
 * Bounded: a queue held masked by the storm limit may take longer. */
static void op_wait(struct fz *z)
{
	uint64_t end = pv_now_ns() + FZ_WAIT_NS;
	struct blk_queue_info qi;

	op_notify(z);
	do {
		uint32_t prod = z->f.sring->req_prod;

		blk_queue_stats(z->q, &qi);
		if (qi.ring.dead)
			return;
		if (!qi.inflight && qi.ring.rsp_prod == qi.ring.rsp_prod_pvt &&
		    qi.ring.rsp_prod_pvt == qi.ring.req_cons &&
		    ((uint32_t)qi.ring.req_cons == prod || prod - (uint32_t)qi.ring.req_cons > z->f.nr_ents))
			return;
		sched_yield();
	} while (pv_now_ns() < end);
}

static void op_readback(struct fz *z)
{
	static uint8_t copy[BLK_MAX_RING_PAGES * PV_PAGE_SIZE];

	memcpy(copy, z->ring, (size_t)z->nr_ring_pages * PV_PAGE_SIZE);
	read_rsp_prod(z);
}

/* Segments into an indirect page, while requests may be reading it. */
static void op_indirect(struct fz *z)
{
	unsigned k = in_u8(&z->in) % FZ_NR_IND, first = in_u8(&z->in) * 2u, n = in_u8(&z->in) % 32;
	struct fz_page *pg = &z->pg[FZ_NR_DATA + k];
	struct blkif_request_segment *s = pg->addr;
	unsigned i;

	for (i = 0; i < n; i++) {
		uint8_t ref = in_u8(&z->in), sects = in_u8(&z->in);

		if (pg->granted)
			s[(first + i) % BLKIF_SEGS_PER_INDIRECT_FRAME] = pick_seg(z, ref, sects);
	}
}

static void op_regrant(struct fz *z)
{
	unsigned k = in_u8(&z->in) % FZ_NR_PAGES;

	if (!z->pg[k].granted && page_grant(z, k) < 0)
		fz_die("re-grant", ENOMEM);
}

/*
 * An operation is a byte (mod OP_NR) and its arguments:
 *  REQUEST  sel id [op if sel&15 == 8] sector nb, then per segment
 *           (ref, sects) or per indirect page a ref byte (op_request);
 *  RAW      offset from req_prod_pvt (0: the next slot, pushed later),
 *           then a whole slot;      PUSH, NOTIFY, CONSUME, WAIT, READBACK;
 *  PROD     mode (+k, -k, +2^31 + k, any u32);  RSP_EVENT, REQ_EVENT m;
 *  REVOKE, REGRANT  page;  INDIRECT page first n, then n (ref, sects).
 * A ref byte names a page (0-11), the ring, ref 0 or a ref never granted
 * (pick_ref); sects: first in bits 0-2, last in bits 3-5, bit 6 last + 8.
 */
enum {
	OP_REQUEST, OP_RAW, OP_PUSH, OP_PROD, OP_RSP_EVENT, OP_REQ_EVENT, OP_NOTIFY,
	OP_CONSUME, OP_REVOKE, OP_REGRANT, OP_INDIRECT, OP_WAIT, OP_READBACK, OP_NR
};

static void run_ops(struct fz *z)
{
	unsigned n;

	for (n = 0; n < FZ_MAX_OPS && z->in.left; n++) {
		switch (in_u8(&z->in) % OP_NR) {
		case OP_REQUEST:
			op_request(z, (uint8_t)n);
			break;
		case OP_RAW:
			op_raw(z);
			break;
		case OP_PUSH:
			op_push(z);
			break;
		case OP_PROD:
			op_prod(z);
			break;
		case OP_RSP_EVENT:
			op_event(z, true);
			break;
		case OP_REQ_EVENT:
			op_event(z, false);
			break;
		case OP_NOTIFY:
			op_notify(z);
			break;
		case OP_CONSUME:
			consume(z);
			break;
		case OP_REVOKE:
			page_revoke(z, in_u8(&z->in) % FZ_NR_PAGES);
			break;
		case OP_REGRANT:
			op_regrant(z);
			break;
		case OP_INDIRECT:
			op_indirect(z);
			break;
		case OP_WAIT:
			op_wait(z);
			break;
		default:
			op_readback(z);
			break;
		}
	}
}

/* ------------------------------------------------------ the end */

static void on_stopped(void *opaque)
{
	*(bool *)opaque = true;
}

/* Stop as the daemon does: without waiting (xenbus: the stats of the
 * stopped queue can still be read), or waiting (daemon exit). */
static int backend_stop(struct fz *z)
{
	struct blk_queue_info qi;
	bool done = false;
	int dead = -1;

	if (z->stop_async &&
	    pv_queue_stop_begin(blk_queue_pq(z->q), P.home, on_stopped, &done) == 0) {
		while (!done)
			if (pv_loop_run_once(P.home, -1) < 0)
				fz_die("home loop", EIO);
		blk_queue_stats(z->q, &qi);
		if (qi.inflight)
			fz_fail("a stopped queue still has I/O in flight");
		if (!z->ring_as_data && qi.ring.rsp_prod != qi.ring.rsp_prod_pvt)
			fz_fail("a stopped queue did not push every response");
		if (qi.ring.rsp_prod_pvt != qi.ring.req_cons)
			fz_fail("a stopped queue did not answer every request it consumed");
		if (qi.mapped != qi.pgrants)
			fz_fail("a stopped queue still maps data pages");
		if (z->strict && !qi.ring.dead && (uint32_t)qi.ring.req_cons != z->f.sring->req_prod)
			fz_fail("a stopped queue did not answer what was pushed before the stop");
		dead = (int)qi.ring.dead;
	}
	blk_queue_stop(z->q);
	z->q = NULL;
	return dead;
}

/* The last responses; a queue that stopped alive answered every request
 * pushed before the stop (dead: 0 known alive, 1 dead, -1 unknown). */
static void check_drained(struct fz *z, int dead)
{
	uint32_t prod = z->f.sring->req_prod;
	unsigned i;

	consume(z);
	if (!z->strict || dead)
		return;
	for (i = 0; i < z->nr_sent; i++)
		if (!z->sent[i].answered && (int32_t)(z->sent[i].idx - prod) < 0)
			fz_fail("a request pushed before the stop never answered");
}

/* Entries of a /proc/self directory; threads: only the queue's own
 * ("blk<domid>q<idx>"), as the kernel's io_uring workers (iou-wrk-*)
 * come and go when they like. */
static unsigned count_dir(const char *path, bool threads)
{
	DIR *d = opendir(path);
	struct dirent *e;
	unsigned n = 0;

	if (!d)
		fz_die(path, errno);
	while ((e = readdir(d))) {
		char comm[64], name[32] = "";
		FILE *f;

		if (threads && e->d_name[0] != '.') {
			snprintf(comm, sizeof(comm), "%s/%s/comm", path, e->d_name);
			f = fopen(comm, "re");
			if (!f)
				continue; /* gone meanwhile */
			if (!fgets(name, sizeof(name), f))
				name[0] = 0;
			fclose(f);
			if (strncmp(name, "blk", 3))
				continue;
		}
		n++;
	}
	closedir(d);
	return n;
}

static void guest_close(struct fz *z)
{
	struct pv_budget_info bi;
	unsigned k, i;

	if (__atomic_load_n(&live_maps, __ATOMIC_RELAXED))
		fz_fail("pages still mapped after the stop");
	pv_budget_info(&P.watch, &bi);
	if (bi.guest_used || bi.total_used)
		fz_fail("mapping budget not given back");
	for (k = 0; k < FZ_NR_PAGES; k++) {
		if (!z->pg[k].granted)
			continue;
		if (pv_hv_share_in_use(P.guest, z->pg[k].ref) != 0)
			fz_fail("a data grant still in use after the stop");
		if (pv_hv_unshare(P.guest, z->pg[k].addr, 1) < 0)
			fz_fail("a data grant cannot be ended after the stop");
	}
	if (z->ring) {
		for (i = 0; i < z->nr_ring_pages; i++)
			if (pv_hv_share_in_use(P.guest, z->ring_refs[i]) != 0)
				fz_fail("the ring still mapped after the stop");
		if (pv_hv_unshare(P.guest, z->ring, z->nr_ring_pages) < 0)
			fz_fail("the ring grant cannot be ended after the stop");
	}
	if (z->port >= 0)
		pv_hv_evtchn_close(P.guest, (uint32_t)z->port);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz z;
	unsigned fds, tasks, order;
	uint64_t end;
	int dead = -1;

	memset(&z, 0, sizeof(z));
	z.in = (struct fz_in){ data, size };
	setup(&z);
	order = in_u8(&z.in) % 3;
	fds = count_dir("/proc/self/fd", false);
	tasks = count_dir("/proc/self/task", true); /* 0 */
	if (guest_open(&z, order) < 0)
		fz_die("guest pages", ENOMEM);
	if (backend_start(&z) == 0) {
		run_ops(&z);
		dead = backend_stop(&z);
	}
	check_drained(&z, dead);
	guest_close(&z);
	t_sim_sync(P.ts); /* pvsim saw the queue's connection go */
	if (count_dir("/proc/self/fd", false) != fds)
		fz_fail("file descriptors leaked");
	/* pthread_join returns when the kernel clears the thread's tid, a
	 * moment before the task leaves /proc: wait for that, bounded. */
	end = pv_now_ns() + 2000000000ull;
	while (count_dir("/proc/self/task", true) != tasks)
		if (pv_now_ns() > end)
			fz_fail("threads left running");
		else
			sched_yield();
	return 0;
}
