/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pvsim hypervisor ABI shared by the daemon (sim/hv_server.c) and its client
 * library (common/hv_sim.c): the control-socket messages, the layout of the
 * shared-memory tables, and the grant-entry state machine that both sides
 * run (common/hv_sim_gnttab.c).  It lives in common/ because libpvcommon
 * runs it; the daemon-only event-channel port table is sim/evtchn.h.  The
 * state machine does no I/O and takes no global state, so tests and fuzz
 * harnesses call it directly on plain memory.
 *
 * Guest-visible structures are Xen's own (struct grant_entry_v1); only the
 * hypervisor-private ones (active entries, generation tables, pin journals)
 * are ours.
 */
#ifndef PV_HV_SIM_ABI_H
#define PV_HV_SIM_ABI_H

#include <stdbool.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/event_channel.h>

#define SIM_PAGE_SIZE         4096u
#define SIM_PAGE_SHIFT        12
#define SIM_GNT_FRAMES        32u /* Xen's default max_grant_frames */
#define SIM_GNT_ENTRIES       (SIM_GNT_FRAMES * (SIM_PAGE_SIZE / sizeof(struct grant_entry_v1)))
#define SIM_GNT_RESERVED      8u  /* GNTTAB_NR_RESERVED_ENTRIES: Linux never hands these out */
#define SIM_EVTCHN_PORTS      4096u /* 2-level ABI on a 64-bit guest */
#define SIM_NR_DOMIDS         DOMID_FIRST_RESERVED

/* ------------------------------------------------------- grant tables */

/*
 * Hypervisor-private state of one grant entry (Xen's struct active_grant_entry).
 * Lives in a memfd given to mapping processes, never to the granting guest.
 */
struct sim_gnt_active {
	uint32_t lock;   /* spin lock, cross-process: 0 free, else the holder's tag */
	uint32_t frame;  /* frame latched at first pin, as Xen does */
	uint16_t domid;  /* the mapping domain, latched at first pin */
	uint16_t pin_ro; /* read-only pins (maps and copies) */
	uint16_t pin_rw; /* writable pins */
	uint16_t pad;
};

/* Lock-owner tags: what a holder writes into a lock word.  Each hv
 * connection gets its own (welcome val[1]), so the daemon can tell that a
 * dead connection's process died holding an entry's lock. */
#define SIM_LOCK_DAEMON      1u /* the daemon, and tables without an owner */
#define SIM_LOCK_FIRST_CONN  2u

/* One domain's grant state as seen by whoever runs a grant operation. */
struct sim_gnt_table {
	struct grant_entry_v1 *shared; /* guest-written */
	struct sim_gnt_active *active; /* hypervisor-private */
	uint32_t nr_entries;
	uint32_t owner;                /* lock-owner tag of this view's user (0: SIM_LOCK_DAEMON) */
	uint64_t nr_frames;            /* guest RAM pages: frames must be below */
};

/*
 * Pin journal: one memfd per hv connection (welcome fd SIM_HV_WFD_PINS),
 * written by the client as it pins and unpins, read by the daemon once the
 * connection's process is gone, to drop what it still held (Linux's gntdev
 * unmaps a dying process's grants).  One record per pin: a map takes one per
 * page and keeps it until the unmap; SIM_PIN_COPY names the entry of the one
 * grant copy in progress (see sim_gnt_copy_begin).
 *
 * A record's state moves with its pin count under the entry's lock, so a
 * process that dies anywhere leaves a journal that says exactly what it held:
 *
 *   map:  FREE -> WANT -[lock]- PINNING -> HELD -[unlock]- ...
 *                                       \-> DONE (failed) -[unlock]-> FREE
 *         ... HELD -[lock]- UNPINNING -> DONE -[unlock]-> FREE
 *   copy: FREE -> WANT -[lock]- copy -[unlock]-> FREE
 *
 * A record names its entry before the process takes that entry's lock, so
 * a lock word left on a dead holder's tag always has a record pointing at
 * it.  PINNING and UNPINNING record in `seen` the pin count before the
 * change, so the daemon, then owning that lock, can tell whether the change
 * happened.  Outside a dead holder's lock only HELD is a pin.  The client
 * orders its stores with compiler barriers only: the daemon reads after the
 * process died, when everything it executed is visible.
 */
enum sim_pin_state {
	SIM_PIN_FREE = 0,
	SIM_PIN_WANT,      /* names the entry about to be pinned or copied: not pinned */
	SIM_PIN_PINNING,   /* pinning under the lock: pinned iff count == seen + 1 */
	SIM_PIN_HELD,      /* pinned (also while its unpin waits for the lock) */
	SIM_PIN_UNPINNING, /* unpinning under the lock: pinned iff count == seen */
	SIM_PIN_DONE,      /* unpinned, or the pin failed */
};

struct sim_pin_rec {
	uint32_t gen;      /* the granting domain's domgen value */
	uint32_t ref;
	uint16_t domid;    /* the granting domain */
	uint8_t writable;
	uint8_t pad;
	union {
		struct {
			uint16_t seen;  /* pin count of our kind before PINNING/UNPINNING */
			uint8_t state;  /* enum sim_pin_state */
			uint8_t pad2;
		};
		uint32_t seen_state; /* both in one store: never a new state with an old seen */
	};
};

_Static_assert(sizeof(struct sim_pin_rec) == 16, "pin journal records are 16 bytes");

#define SIM_PIN_RECS  (1u << 20) /* per connection: 16 MiB, touched as used */
#define SIM_PIN_COPY  0u         /* the record grant copy uses */

struct sim_pin_journal {
	uint32_t nr_used;  /* records [0, nr_used) were ever used; client-written */
	uint32_t pad[15];
	struct sim_pin_rec rec[];
};

static inline uint64_t sim_pin_journal_size(void)
{
	return sizeof(struct sim_pin_journal) + (uint64_t)SIM_PIN_RECS * sizeof(struct sim_pin_rec);
}

/* Compiler-only ordering: a process sees its own stores in program order and
 * the daemon reads the journal only after the process died. */
static inline void sim_pin_rec_state(struct sim_pin_rec *r, enum sim_pin_state st)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&r->state, (uint8_t)st, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* Under the entry lock: seen and the new state at once. */
static inline void sim_pin_rec_seen(struct sim_pin_rec *r, uint16_t seen, enum sim_pin_state st)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&r->seen_state, (uint32_t)seen | (uint32_t)st << 16, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* Fill a FREE (or DONE) record for a pin about to be taken: state WANT,
 * written last so the record names its entry before it counts. */
static inline void sim_pin_rec_want(struct sim_pin_rec *r, uint16_t domid, uint32_t gen,
				    uint32_t ref, bool writable)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	r->gen = gen;
	r->ref = ref;
	r->domid = domid;
	r->writable = writable;
	sim_pin_rec_seen(r, 0, SIM_PIN_WANT);
}

/*
 * Pin ref of t for domain mapper (Xen's map_grant_ref):
 * sets GTF_reading (and GTF_writing) with cmpxchg, counts the pin and returns
 * the granted frame.  rec, if not NULL, is the journal record in state WANT
 * for this pin: it ends HELD on success, DONE on failure (WANT if ref is out
 * of range).  Errors, from Xen's GNTST_* codes:
 *   -EINVAL  ref out of range (GNTST_bad_gntref), frame beyond RAM (GNTST_bad_page)
 *   -ENOENT  entry is not GTF_permit_access (GNTST_general_error)
 *   -EACCES  grantee domid differs, or writable pin of a GTF_readonly grant
 *   -EBUSY   pin count would overflow
 *   -EAGAIN  the guest kept changing the entry (Xen: "unstable")
 */
int sim_gnt_pin(const struct sim_gnt_table *t, uint32_t ref, uint16_t mapper, bool writable,
		uint32_t *frame, struct sim_pin_rec *rec);
/* Drop one pin taken with the same writable; clears GTF_writing / GTF_reading
 * when the last pin of that kind goes.  rec, if not NULL, is the pin's record
 * (HELD): it ends DONE. */
void sim_gnt_unpin(const struct sim_gnt_table *t, uint32_t ref, bool writable,
		   struct sim_pin_rec *rec);
/*
 * Grant copy (Xen's acquire_grant_for_copy ... release_grant_for_copy) as one
 * locked section: sim_gnt_copy_begin runs sim_gnt_pin's checks, with the same
 * errors except -EBUSY, and sets GTF_reading (and GTF_writing), but counts
 * no pin: on success the entry stays locked, with *frame to copy, until
 * sim_gnt_copy_end, which clears the in-use bits no pin needs.  A copy's
 * journal record stays WANT throughout: it holds no pin, it only names the
 * entry whose lock a dead copier would leave behind.
 */
int sim_gnt_copy_begin(const struct sim_gnt_table *t, uint32_t ref, uint16_t mapper,
		       bool writable, uint32_t *frame);
void sim_gnt_copy_end(const struct sim_gnt_table *t, uint32_t ref);
/*
 * Daemon side: settle one record r (a private copy) of the journal of a dead
 * connection whose domain is mapper and whose lock tag is dead (nonzero).
 * Takes the entry's lock as t->owner, taking it over if the dead process died
 * holding it; drops the pin if r says it is held, never below the pin count
 * of mapper present; if the process died inside the lock, clears the in-use
 * flags its half-done update left without pins.  Returns 1 if a pin was
 * dropped, 0 if none was held, -EINVAL for a record that names no entry of t,
 * -EAGAIN if another holder kept the lock through `spins` tries (at least
 * one; retry later).
 */
#define SIM_GNT_RELEASE_SPINS 16384 /* a live holder's section is short */
int sim_gnt_release(const struct sim_gnt_table *t, const struct sim_pin_rec *r, uint16_t mapper,
		    uint32_t dead, unsigned spins);

/* Guest side, exactly as Linux's gnttab_grant_foreign_access_ref (v1). */
void sim_gnt_grant_access(struct grant_entry_v1 *e, uint16_t domid, uint32_t frame, bool readonly);
/* Linux's gnttab_end_foreign_access_ref (v1): -EBUSY while mapped or copying. */
int sim_gnt_end_access(struct grant_entry_v1 *e);

/* owner: the holder's tag, nonzero. */
void sim_spin_lock(uint32_t *lock, uint32_t owner);
void sim_spin_unlock(uint32_t *lock);

/* ------------------------------------------------------ control socket */

/*
 * SOCK_SEQPACKET on $PVSIM_DIR/hv/<domid>; the socket names the domain.  On
 * accept the daemon sends a welcome (struct sim_hv_rsp, op 0: val[0] domid,
 * val[1] the connection's lock tag, size RAM bytes) with the fds listed
 * below; then the client sends one request at a time and waits for its
 * answer.  Fds travel with SCM_RIGHTS.  When the connection is gone and so is
 * the process that opened it, the daemon drops the pins its journal holds.
 */
enum sim_hv_op {
	SIM_HV_OP_WELCOME = 0,
	SIM_HV_OP_GET_DOMAIN,    /* a0 domid -> ram, gnttab, active fds; size0 ram bytes; v0 gen */
	SIM_HV_OP_EVTCHN_ALLOC,  /* a0 remote domid -> v0 port, v1 gen; fd: port eventfd */
	SIM_HV_OP_EVTCHN_BIND,   /* a0 remote domid, a1 remote port -> v0 port, v1 gen;
				  * fds: own, peer eventfd */
	SIM_HV_OP_EVTCHN_INFO,   /* a0 port -> v0 state, v1 gen; fd: peer eventfd if bound */
	SIM_HV_OP_EVTCHN_CLOSE,  /* a0 port */
	SIM_HV_OP_CLAIM,         /* this connection owns the domain: its close destroys it */
};

/* Welcome fds, in order. */
enum {
	SIM_HV_WFD_DOMGEN,  /* u32[SIM_NR_DOMIDS], read-only: (gen << 1) | alive */
	SIM_HV_WFD_EVTGEN,  /* u32[SIM_EVTCHN_PORTS] of our domain, read-only */
	SIM_HV_WFD_RAM,     /* our RAM */
	SIM_HV_WFD_GNTTAB,  /* our grant table (grant_entry_v1[SIM_GNT_ENTRIES]) */
	SIM_HV_WFD_META,    /* struct sim_guest_meta: the guest's page/ref allocator */
	SIM_HV_WFD_PINS,    /* this connection's struct sim_pin_journal */
	SIM_HV_WFD_NR,
};

#define SIM_HV_MAX_FDS 6

struct sim_hv_req {
	uint32_t op;
	uint32_t arg[3];
};

struct sim_hv_rsp {
	int32_t ret;      /* 0 or -errno */
	uint32_t op;
	uint32_t val[2];
	uint64_t size;
};

/*
 * Guest-kernel state that a real guest keeps in its own memory: which pages
 * and grant refs are free.  Shared by all processes acting as the domain.
 * Bitmaps: bit set = in use.
 */
struct sim_guest_meta {
	uint32_t lock;
	uint32_t pad;
	uint64_t nr_pages;
	uint64_t ref_map[SIM_GNT_ENTRIES / 64];
	uint64_t page_map[]; /* nr_pages bits */
};

static inline uint64_t sim_guest_meta_size(uint64_t nr_pages)
{
	return sizeof(struct sim_guest_meta) + (nr_pages + 63) / 64 * 8;
}

static inline bool sim_domgen_alive(uint32_t g)
{
	return g & 1;
}

#endif /* PV_HV_SIM_ABI_H */
