/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pvback-blk private types and the few functions that cross files.
 *
 *  xenbus.c  struct blk_vbd: negotiation, owns the backing store and queues
 *  ring.c    struct blk_queue: the blkif protocol on a pv_queue (common/queue.c
 *            owns the thread, ring, event channel, slots, stop and journal):
 *            map/copy the data, submit, complete, respond
 *  request.c parse/validate of requests (callable without hv: unit tests)
 *  io*.c     struct blk_io: host I/O engines behind struct blk_io_ops
 *  ctl.c     stats tables and emitter, `resize` (common/ctl.c, daemon.c serve them)
 *  main.c    the descriptor for pv_backend_main() and blk's option parsers
 *
 * Threads: the main loop thread runs xenbus.c; each queue runs its own loop
 * thread and touches only its queue, its pv_hv handle and its io engine.
 * Never include this header outside blkback/ (unit tests excepted).
 */
#ifndef BLKBACK_H
#define BLKBACK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "pvcommon.h"
#include "pvring.h"
#include "abi/blkif.h"

#define BLK_SECTOR_SHIFT     9
#define BLK_SECTOR_SIZE      512u
#define BLK_SECTORS_PER_PAGE (PV_PAGE_SIZE / BLK_SECTOR_SIZE)

#define BLK_MAX_RING_ORDER        4u
#define BLK_MAX_RING_PAGES        (1u << BLK_MAX_RING_ORDER)
_Static_assert(BLK_MAX_RING_PAGES <= PV_RING_MAX_PAGES, "a blkif ring fits a pv_queue ring");
#define BLK_DEF_MAX_QUEUES        4u
#define BLK_MAX_QUEUES            16u
#define BLK_DEF_INDIRECT_SEGS     256u
/* Most segments an indirect request can address (8 indirect pages). */
#define BLK_MAX_INDIRECT_SEGS \
	(BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST * BLKIF_SEGS_PER_INDIRECT_FRAME)
#define BLK_DEF_PGRANTS           1056u /* Linux's max_pgrants per ring */
/* --grant-mode auto: requests of up to 64 segments (256 KiB) are grant-copied
 * through the queue's bounce pool, larger ones mapped (docs/blkback.md has
 * the measurements: on pvsim copy beats map at every size measured).  The
 * pool is ring slots x that many pages, touched only as used; in auto mode
 * it is capped at BLK_BOUNCE_MAX_PAGES per queue (the memory a guest can make
 * us touch), which lowers the per-request copy size on big rings. */
#define BLK_AUTO_COPY_SEGS        64u
#define BLK_BOUNCE_MAX_PAGES      8192u
#define BLK_PGRANT_IDLE_NS        (60ull * 1000000000ull)
#define BLK_PGRANT_PURGE_MS       1000u

/* ------------------------------------------------------------ config */

/* BLK_IO_NBD, BLK_IO_RBD: a network store's own engine, never chosen by --io. */
enum blk_io_kind { BLK_IO_AUTO, BLK_IO_URING, BLK_IO_AIO, BLK_IO_SYNC, BLK_IO_NBD, BLK_IO_RBD };
enum blk_direct { BLK_DIRECT_AUTO, BLK_DIRECT_ON, BLK_DIRECT_OFF };
/* Data of frontends without persistent grants: map per request, or grant-copy
 * through a bounce pool (auto: copy up to BLK_AUTO_COPY_SEGS segments). */
enum blk_grant_mode { BLK_GRANT_AUTO, BLK_GRANT_MAP, BLK_GRANT_COPY };
/* Persistent-grant pages as io_uring registered buffers (auto: on for pvsim,
 * off on Xen; docs/blkback.md says why). */
enum blk_fixed_bufs { BLK_FIXED_AUTO, BLK_FIXED_ON, BLK_FIXED_OFF };

/* Daemon-wide settings, read-only after start-up (no mutable globals). */
struct blk_config {
	struct pv_backend_cfg pv;  /* what every backend has: pv_backend_main fills it */
	enum blk_io_kind io_kind;
	enum blk_direct direct;
	unsigned max_ring_order;
	unsigned max_indirect;     /* feature-max-indirect-segments; 0 disables */
	unsigned max_pgrants;      /* persistent grants per queue */
	bool persistent;           /* offer feature-persistent */
	enum blk_grant_mode grant_mode;
	enum blk_fixed_bufs fixed_bufs;
	bool fault_stall_io;       /* testing: hold every other request (PVBACK_BLK_FAULT=stall-io) */
	bool nbd_trust;            /* --nbd-restart trust */
	unsigned nbd_timeout_s;    /* --nbd-timeout, 0: none */
	struct pv_isodev_table *iso; /* --isolate domain: the workers (isolate.c); else NULL */
};

/* ---------------------------------------------------------- requests */

enum blk_abi { BLK_ABI_NATIVE, BLK_ABI_X86_32 };

/* Our private copy of one request, in one layout for every ABI. */
struct blk_req {
	uint64_t id;
	uint64_t sector;
	uint64_t nr_sectors;   /* discard: from the request; r/w: set by validation */
	uint8_t operation;     /* as sent (BLKIF_OP_INDIRECT for indirect) */
	uint8_t op;            /* effective op: indirect_op for BLKIF_OP_INDIRECT; echoed in the response */
	bool indirect;
	bool secure;           /* discard with BLKIF_DISCARD_SECURE */
	uint16_t nr_segs;
	uint8_t nr_indirect;   /* indirect pages, set by validation */
	grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	/* Caller-provided storage, at least BLKIF_MAX_SEGMENTS_PER_REQUEST or
	 * the negotiated indirect maximum entries long. */
	struct blkif_request_segment *seg;
};

/* What a request is checked against. sectors is written by resize. */
struct blk_limits {
	uint64_t sectors;      /* device size, 512-byte units (atomic access) */
	unsigned max_indirect; /* negotiated feature-max-indirect-segments, 0 = off */
	bool readonly;
	bool discard;          /* feature-discard advertised */
};

/* Copy a ring slot (already our private copy) into req. Never fails. */
void blk_req_parse(enum blk_abi abi, const void *ent, struct blk_req *req);
/* Header rules. 0, -EOPNOTSUPP (unknown op), -EINVAL, -EROFS; *why (may be
 * NULL) gets the broken rule, a static string. */
int blk_req_validate(const struct blk_limits *lim, struct blk_req *req, const char **why);
/* Segment rules once req->seg holds every segment (after indirect load);
 * sets req->nr_sectors. */
int blk_req_validate_segs(const struct blk_limits *lim, struct blk_req *req, const char **why);
/* Copy the segments out of indirect pages (local memory) once. */
void blk_req_load_indirect(struct blk_req *req, const void *const *pages);
/* Write a response into a ring slot in the ring's ABI. */
void blk_rsp_write(enum blk_abi abi, void *slot, uint64_t id, uint8_t operation, int16_t status);
size_t blk_abi_ent_size(enum blk_abi abi);
/* "x86_32-abi", "x86_64-abi", "native" or NULL (native). -EINVAL otherwise. */
int blk_abi_parse(const char *protocol, enum blk_abi *out);

/* --------------------------------------------------------- backing + io */

enum blk_store { BLK_STORE_FILE, BLK_STORE_NBD, BLK_STORE_RBD };
/* "file" (a block device too), "nbd", "rbd": what stats call it. */
const char *blk_store_name(enum blk_store s);

#define BLK_URI_MAX 512

struct blk_rbd_watch;

struct blk_backing {
	enum blk_store store;
	char uri[BLK_URI_MAX]; /* a network store's target: what each queue connects to */
	int fd;              /* O_DIRECT when direct; -1 for a network store */
	int fd_buffered;     /* same file without O_DIRECT (== fd when !direct) */
	bool direct, blkdev, readonly;
	uint64_t size;       /* bytes */
	unsigned logical_block, physical_block;
	unsigned dio_align;  /* offset/length/memory alignment O_DIRECT needs */
	bool can_discard, can_secure;
	unsigned discard_granularity, discard_alignment;
	/* A network store's server: flush and FUA (files: always), many
	 * connections that see each other's writes (else one queue). */
	bool can_flush, can_fua, multi_conn;
	/* NBD: a server that restarted kept what it answered (--nbd-restart). */
	bool trust_restart;
	/* NBD: seconds without a connection before I/O fails (--nbd-timeout). */
	unsigned timeout_s;
	/* RBD, xenbus process: the image's update watch (online resize). */
	struct blk_rbd_watch *watch;
};

/* A file, a block device, an NBD URI (io_nbd.c) or an RBD image (io_rbd.c). */
int blk_backing_open(const char *path, bool readonly, enum blk_direct direct,
		     struct blk_backing *bs);
/* io_nbd.c (HAVE_LIBNBD): target is an NBD URI; connect once for the size
 * and the server's abilities. 0 or -errno. */
bool blk_nbd_is_uri(const char *target);
int blk_nbd_probe(const char *uri, bool readonly, struct blk_backing *bs);
/* libnbd's words for the calling thread's last failure (or NULL). */
const char *blk_nbd_error(void);
/* io_rbd.c (HAVE_LIBRBD): target is rbd:POOL/IMAGE...; open it once for the
 * size.  0 or -errno; blk_rbd_error() says what failed (or NULL). */
bool blk_rbd_is_target(const char *target);
/* An RBD target taken apart (io.c, without librbd: the unit tests use it);
 * the strings point into buf, NULL when absent. */
struct blk_rbd_target {
	char buf[BLK_URI_MAX];
	const char *pool, *ns, *image, *snap, *conf, *id;
	const char *opt[16][2]; /* OPTION=VALUE, for rados_conf_set */
	unsigned nopt;
};
/* rbd:POOL/[NS/]IMAGE[@SNAP][:conf=PATH][:id=USER][:OPTION=VALUE]..., with
 * "\:" a colon and "\\" a backslash inside a field.  0, -EINVAL, -ENAMETOOLONG. */
int blk_rbd_parse(const char *target, struct blk_rbd_target *t);
int blk_rbd_probe(const char *target, bool readonly, struct blk_backing *bs);
const char *blk_rbd_error(void);
/* The xenbus process's handle on an image, with librbd's update watch:
 * fn(opaque) runs on a librados thread when the image's header changed (a
 * resize among others).  *out stays NULL for a snapshot.  0 or -errno. */
typedef void blk_rbd_watch_fn(void *opaque);
int blk_rbd_watch(const char *target, blk_rbd_watch_fn *fn, void *opaque,
		  struct blk_rbd_watch **out);
/* The watched image's size now (librbd refreshed it before fn ran). */
int blk_rbd_watch_size(struct blk_rbd_watch *w, uint64_t *size);
/* No fn runs after this returns.  NULL is a no-op. */
void blk_rbd_unwatch(struct blk_rbd_watch *w);
void blk_backing_close(struct blk_backing *bs);
/* Re-read the size (online resize). 0 or -errno. */
int blk_backing_restat(struct blk_backing *bs);
/* Synchronous discard: fallocate punch-hole (files), BLKDISCARD/BLKSECDISCARD. */
int blk_backing_discard(struct blk_backing *bs, uint64_t off, uint64_t len, bool secure);

enum blk_io_op { BLK_IO_READ, BLK_IO_WRITE, BLK_IO_FLUSH, BLK_IO_DISCARD };

struct blk_io_req {
	enum blk_io_op op;
	bool flush_after;     /* write: fdatasync once written (FLUSH/barrier with data) */
	bool secure;          /* discard */
	bool buffered;        /* use fd_buffered: not aligned for O_DIRECT */
	uint64_t offset, len; /* bytes */
	struct iovec *iov;
	unsigned iovcnt;
	int buf_index;        /* registered buffer slot holding all the data, -1: none */
	bool fixed;           /* out: queued as READ/WRITE_FIXED on buf_index */
	int res;              /* out: 0 or -errno */
	unsigned parts;       /* engine private: completions outstanding */
	bool again;           /* engine private: more to issue (NBD: a lost connection) */
	void *buf;            /* engine private: NBD's data in one piece */
	struct blk_io_req *next; /* engine private */
};

struct blk_io;
typedef void blk_io_done_fn(struct blk_io_req *r, void *opaque);

struct blk_io_ops {
	const char *name;
	/* depth: most requests in flight at once. */
	int (*create)(struct blk_backing *bs, unsigned depth, struct blk_io **out);
	void (*destroy)(struct blk_io *io);
	/* Add to the current batch (may submit early when the batch is full). */
	int (*queue)(struct blk_io *io, struct blk_io_req *r);
	/* Submit the batch. 0 or -errno (requests that failed complete with res). */
	int (*submit)(struct blk_io *io);
	/* Call done for each finished request; never blocks. Returns the count. */
	int (*reap)(struct blk_io *io);
	/* Optional, NULL when the engine has no registered buffers (aio,
	 * sync): see blk_io_reg_bufs / blk_io_reg_buf. */
	int (*reg_bufs)(struct blk_io *io, unsigned nr);
	int (*reg_buf)(struct blk_io *io, unsigned slot, void *addr, size_t len);
	/* Optional: efd fired with events (PV_LOOP_IN/OUT); before reap. */
	void (*notify)(struct blk_io *io, uint32_t events);
};

/* Fields common to every engine: engines embed this first. */
struct blk_io {
	const struct blk_io_ops *ops;
	struct blk_backing *bs;
	const char *name;              /* log prefix (the queue's), may be NULL */
	blk_io_done_fn *done;
	void *opaque;
	int efd;                       /* readable when completions wait; -1: none */
	bool efd_counter;              /* efd is an eventfd: read it to clear it */
	uint32_t efd_events;           /* what the loop waits for on efd (PV_LOOP_IN),
					* the engine's to change after submit or notify */
	struct blk_io_req *ready, **ready_tail; /* completed synchronously */
	struct blk_io_req *batch, **batch_tail; /* blk_io_queue_batch's */
};

extern const struct blk_io_ops blk_io_uring_ops;
extern const struct blk_io_ops blk_io_aio_ops;
extern const struct blk_io_ops blk_io_sync_ops;
extern const struct blk_io_ops blk_io_nbd_ops;
extern const struct blk_io_ops blk_io_rbd_ops;

int blk_io_kind_parse(const char *s, enum blk_io_kind *out);
/* Create an engine; AUTO tries uring, then aio, then sync. */
int blk_io_create(enum blk_io_kind kind, struct blk_backing *bs, unsigned depth,
		  blk_io_done_fn *done, void *opaque, struct blk_io **out);
void blk_io_destroy(struct blk_io *io);
static inline int blk_io_queue(struct blk_io *io, struct blk_io_req *r)
{
	return io->ops->queue(io, r);
}
static inline int blk_io_submit(struct blk_io *io)
{
	return io->ops->submit(io);
}
static inline int blk_io_reap(struct blk_io *io)
{
	return io->ops->reap(io);
}
/* Registered buffers (io_uring fixed buffers: the kernel pins the pages
 * once instead of per I/O).  reg_bufs makes an empty table of nr slots (the
 * engine may cap it; 0 drops the table and every registration);
 * -EOPNOTSUPP from engines without them.  reg_buf points slot at [addr,
 * addr + len), or empties it (addr NULL), which must happen before that
 * memory is unmapped.  A read or write whose one iovec lies inside the
 * filled slot named by its buf_index runs on it (r->fixed); anything else,
 * and every request after a failed reg_buf of its slot, runs as before. */
int blk_io_reg_bufs(struct blk_io *io, unsigned nr);
int blk_io_reg_buf(struct blk_io *io, unsigned slot, void *addr, size_t len);
/* For engines: finish r without the kernel (sync path); reap delivers it. */
void blk_io_complete_later(struct blk_io *io, struct blk_io_req *r, int res);
int blk_io_reap_ready(struct blk_io *io);
void blk_io_base_init(struct blk_io *io, const struct blk_io_ops *ops, struct blk_backing *bs);
/* For engines that issue at submit (sync, NBD, RBD): as .queue, keeps r
 * for blk_io_batch_take, which hands the batch over in order (a list on
 * r->next) and empties it. */
int blk_io_queue_batch(struct blk_io *io, struct blk_io_req *r);
struct blk_io_req *blk_io_batch_take(struct blk_io *io);
/* Synchronous execution of one request (sync engine, fallbacks). 0 or -errno. */
int blk_io_exec_sync(struct blk_backing *bs, struct blk_io_req *r);

/* -------------------------------------------------------------- queues */

struct blk_stats {
	uint64_t oo_req, rd_req, wr_req, f_req, ds_req, rd_sect, wr_sect;
	uint64_t errors, eopnotsupp;
	uint64_t io_fixed, io_vec; /* reads/writes on registered buffers / on iovecs */
	uint64_t map_waits;        /* requests that waited for the mapping budget */
	uint64_t log_suppressed;   /* guest-caused log lines the rate limit dropped */
	struct pv_stats_hist lat;
};

struct blk_vbd;
struct blk_queue;

struct blk_queue_params {
	unsigned idx;
	uint16_t domid;
	unsigned nr_ring_pages;
	uint32_t ring_refs[BLK_MAX_RING_PAGES];
	uint32_t evtchn;
	enum blk_abi abi;
	bool persistent;
	bool resume;       /* a restarted daemon re-attaches: start at rsp_prod */
};

/* Map the ring, bind the event channel and start the queue's thread. */
int blk_queue_start(struct blk_vbd *vbd, const struct blk_queue_params *p,
		    struct blk_queue **out);
/* Answer every request the frontend pushed before now (consume up to the
 * producer index seen at the stop, no further), finish every in-flight I/O
 * and push its response, join the thread and unmap everything.  Called from
 * the xenbus thread. */
void blk_queue_stop(struct blk_queue *q);
/* Its pv_queue: pv_xb_dev_stop_queues begins the stop without waiting, then
 * blk_queue_stop returns at once. */
struct pv_queue *blk_queue_pq(struct blk_queue *q);
/* What `pvback-blk stats` shows of a queue. */
struct blk_queue_info {
	struct blk_stats st;
	unsigned pgrants, pgrants_max;   /* persistent grants mapped now / bound */
	uint64_t pgrant_hits, pgrant_misses;
	unsigned inflight, ring_slots;
	unsigned mapped;                 /* data pages mapped now (the budget's count) */
	struct pv_budget_info budget;
	bool persistent;
	struct pv_queue_ring_info ring; /* the ring's indexes (pv_queue) */
};

/* Snapshot of the queue's counters, from the xenbus thread while the queue
 * runs: racy but tear-free reads of aligned 64-bit counters (x86-64). */
void blk_queue_stats(struct blk_queue *q, struct blk_queue_info *out);

/* ---------------------------------------------------------------- vbd */

struct blk_vbd {
	struct pv_xb_dev *dev;    /* NULL: no xenbus device (tests/fuzz/fuzz-blk-queue.c, workers) */
	const struct blk_config *cfg;
	const char *name;        /* log prefix */
	char *params;
	struct blk_backing bs;
	struct blk_limits lim;
	bool discard_enable;
	bool connected;
	unsigned nr_queues;
	struct blk_queue *queues[BLK_MAX_QUEUES];
	struct blk_stats past;   /* counters of queues already stopped */
	/* Without dev: what a queue's protocol violation calls (pv_queue_params). */
	void (*violation)(void *opaque, const char *reason);
	void *violation_opaque;
	/* --isolate domain, xenbus process: the worker running the queues
	 * (nr_queues of them; queues[] stays NULL) when iso.w. */
	struct pv_isodev iso;
};

extern const struct pv_xb_backend_ops blk_vbd_ops;

/* Online resize (xenbus thread): re-stat the backing store; when the size
 * changed, rewrite `sectors` and re-write Connected to poke the frontend, as
 * Linux blkback does.  Returns 1 when resized, 0 when unchanged, -errno. */
int blk_vbd_resize(struct blk_vbd *vbd);

/* ------------------------------------------------------------ isolate */

/*
 * --isolate domain (isolate.c): in the xenbus process each domain's queues
 * run in a worker process of their own; these stand for blk_queue_start,
 * stop and stats on a whole vbd there.  Main (xenbus) thread only.
 */
/* The serve hook: the worker table when cfg->pv.isolate. */
int blk_iso_init(struct pv_backend *b);
/* Start p[0..nq) in the domain's worker (started if it has none): 0 or
 * -errno, nothing left running then. */
int blk_iso_start(struct blk_vbd *vbd, const struct blk_queue_params *p, unsigned nq);
/* Stop them: wait (the daemon stops), or hold the device until the worker
 * says they answered everything (at once when there is nothing to wait
 * for: a dead worker, none). */
void blk_iso_stop(struct blk_vbd *vbd, bool wait);
/* The queues' counters (nr_queues of them; zeros when the worker does not
 * answer). */
void blk_iso_stats(struct blk_vbd *vbd, struct blk_queue_info *qi);
/* The worker's queues validate against the new lim.sectors. */
void blk_iso_resized(struct blk_vbd *vbd);
/* The descriptor's worker hook (a worker process's whole life). */
int blk_iso_worker(struct pv_backend *b, struct pv_loop *loop, int fd);

/* ------------------------------------------------------------ control */

/* struct blk_stats as a stats table (ctl.c): Linux blkback's counters and
 * the latency histogram. */
extern const struct pv_stats_table blk_stats_table;
/* `pvback-blk resize [DEVICE]`: re-check backing sizes. */
extern const struct pv_ctl_cmd blk_ctl_resize;
/* The descriptor's stats hook: one device in d->fmt; false while it has no
 * vbd yet. */
bool blk_ctl_stats(struct pv_xb_dev *dev, struct pv_stats_dump *d);
/* SIGHUP: resize every device. */
void blk_ctl_sighup(struct pv_backend *b);

#endif /* BLKBACK_H */
