/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * blkfront: a userspace blkif frontend (the guest side of a vbd) for tests,
 * benchmarks and the fio engine, on pvsim (acting as a guest domain, see
 * `pvsim env`) and on real Xen (gntalloc + unbound event channels).
 *
 * Every negotiable feature is a switch in struct blkfront_opts: ring page
 * order, number of queues, indirect segments, persistent grants, and the
 * ring ABI (native x86_64 or x86_32).  Data is bounced, as a guest kernel
 * does with its bounce buffers: writes are copied from the caller's iovec
 * into granted pages before the request is pushed, reads are copied out of
 * them when the response arrives.  With persistent grants the granted data
 * pages form a fixed pool per ring slot (granted once, on first use);
 * without, pages are granted per request and their access ended on
 * completion.
 *
 * Threads: one blkfront is driven by one thread.  Functions return 0 (or a
 * count) or -errno; nothing here logs.
 */
#ifndef BLKFRONT_H
#define BLKFRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct blkfront;

struct blkfront_opts {
	uint32_t devid;         /* virtual-device number, e.g. 51712 for xvda */
	unsigned ring_order;    /* requested ring-page-order (clamped to the backend's max) */
	unsigned nr_queues;     /* requested queues, 0 = 1 (clamped) */
	unsigned max_indirect;  /* indirect segments to use, 0 = none (clamped) */
	bool persistent;        /* ask for feature-persistent */
	bool x86_32;            /* protocol = x86_32-abi instead of native */
	int timeout_ms;         /* handshake waits, 0 = 10 s */
};

/* What was negotiated, read after Connected. */
struct blkfront_info {
	uint64_t sectors;       /* 512-byte units */
	unsigned sector_size, physical_sector_size;
	unsigned info;          /* VDISK_* bits */
	unsigned ring_order, nr_queues, nr_slots, max_indirect;
	bool persistent, flush, barrier, discard, discard_secure;
	unsigned discard_granularity, discard_alignment;
};

enum blkfront_op {
	BLKFRONT_READ,
	BLKFRONT_WRITE,
	BLKFRONT_FLUSH,    /* BLKIF_OP_FLUSH_DISKCACHE; with data: a durable write */
	BLKFRONT_BARRIER,  /* BLKIF_OP_WRITE_BARRIER; with or without data */
};

/*
 * Connect to device opts->devid of our own domain: open the hv and xenstore
 * (from the environment: PVSIM_DIR/PVSIM_DOMID/XENSTORED_PATH on pvsim),
 * wait for InitWait, grant rings, allocate event channels, write the keys
 * in one transaction, Initialised, wait for Connected, Connected.
 */
int blkfront_open(const struct blkfront_opts *opts, struct blkfront **out);
/* Orderly close (Closing/Closed with the backend), then end all grants. */
void blkfront_close(struct blkfront *bf);
/*
 * Only the xenbus half of the close: Closing, wait for the backend to
 * reach Closing or Closed, Closed.  The rings stay mapped, so responses the
 * backend pushed while it drained can still be collected with
 * blkfront_complete(); blkfront_close() then ends the grants.  0 or -errno.
 */
int blkfront_disconnect(struct blkfront *bf);
/* The backend's XenbusState read now, or -errno (e.g. the domain is gone). */
int blkfront_backend_state(struct blkfront *bf);
/*
 * Online resize as Linux blkfront sees it: wait (up to timeout_ms) for the
 * backend to re-write its state while Connected with a `sectors` other than
 * the one we know, then take the new size into blkfront_info().  Returns 0,
 * -ETIMEDOUT, or -ECONNRESET when the backend left Connected.
 */
int blkfront_wait_resize(struct blkfront *bf, int timeout_ms);
const struct blkfront_info *blkfront_info(const struct blkfront *bf);

/*
 * Queue one request on queue q (not yet visible to the backend: see
 * blkfront_kick).  Data requests need a length that is a multiple of 512;
 * the iovec array is copied, the buffers it points to must stay valid until
 * completion (reads land there).  -EAGAIN: the ring is full, complete some
 * first; -E2BIG: more than the negotiated segments allow.
 */
int blkfront_submit(struct blkfront *bf, unsigned q, enum blkfront_op op, uint64_t sector,
		    const struct iovec *iov, unsigned iovcnt, uint64_t tag);
int blkfront_discard(struct blkfront *bf, unsigned q, uint64_t sector, uint64_t nr_sectors,
		     bool secure, uint64_t tag);
/* Publish queued requests; notifies the backend when it asked for it. */
int blkfront_kick(struct blkfront *bf, unsigned q);

/* status: BLKIF_RSP_OKAY / _ERROR / _EOPNOTSUPP. */
typedef void blkfront_done_fn(void *opaque, uint64_t tag, int status);
/* Handle every response available on queue q; returns how many, or
 * -EPROTO when the backend produced responses it was not asked for. */
int blkfront_complete(struct blkfront *bf, unsigned q, blkfront_done_fn *fn, void *opaque);
/* blkfront_complete() on every queue: how many in all, or the first -errno. */
int blkfront_complete_all(struct blkfront *bf, blkfront_done_fn *fn, void *opaque);
/* Requests outstanding on queue q; on every queue. */
unsigned blkfront_inflight(const struct blkfront *bf, unsigned q);
unsigned blkfront_inflight_total(const struct blkfront *bf);
/* Kick every queue, then block until an event arrives (or timeout_ms, -1
 * forever). 0 or -ETIMEDOUT. */
int blkfront_wait(struct blkfront *bf, int timeout_ms);

/*
 * Zero copy: len bytes (rounded up to pages) of memory granted writable to
 * the backend until blkfront_close(), which ends the grants after the
 * backend disconnected.  A READ or WRITE whose single iovec starts on a page
 * boundary inside it is granted in place, with no bounce copy.  Persistent
 * grants only (the grants are reused as Linux blkfront's persistent pages
 * are): -EOPNOTSUPP without them; one region per connection (-EBUSY).
 */
int blkfront_buf_alloc(struct blkfront *bf, size_t len, void **addr);

/* ---- hostile-frontend hooks (tests) ---- */

/* Place this exact ring slot (len bytes of a request in the ring's ABI) as
 * the next request, consuming a slot; its completion is reported with tag. */
int blkfront_submit_raw(struct blkfront *bf, unsigned q, const void *req, size_t len,
			uint64_t tag);
/* Grant pages to the backend (for raw requests' segments / indirect pages). */
int blkfront_share(struct blkfront *bf, unsigned count, bool writable, uint32_t *refs,
		   void **addr);
/* The same, granted to domain domid instead of our backend: pages the
 * backend must refuse to touch. */
int blkfront_share_with(struct blkfront *bf, uint16_t domid, unsigned count, bool writable,
			uint32_t *refs, void **addr);
/* -EBUSY while the backend still maps or copies one of the pages. */
int blkfront_unshare(struct blkfront *bf, void *addr, unsigned count);
/* Our domain id and our backend's. */
uint16_t blkfront_domid(const struct blkfront *bf);
uint16_t blkfront_backend_id(const struct blkfront *bf);
/* The shared ring of queue q (struct blkif_sring layout) to corrupt indexes. */
void *blkfront_sring(struct blkfront *bf, unsigned q);
/* Entry idx (modulo the ring size) of queue q's shared ring, to write or
 * flip requests in place behind the library's back; NULL for a bad q. */
void *blkfront_ring_ent(struct blkfront *bf, unsigned q, uint32_t idx);
/* Write our xenbus state key verbatim ("5", "garbage"), waiting for nothing. */
int blkfront_write_state(struct blkfront *bf, const char *value);
/* Notify the backend on queue q unconditionally. */
int blkfront_notify(struct blkfront *bf, unsigned q);

#endif /* BLKFRONT_H */
