/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pvsim hypervisor ABI shared by the daemon (sim/hv_server.c) and its client
 * library (common/hv_sim.c): the control-socket messages, the layout of the
 * shared-memory tables, and the two pure state machines that both sides run:
 * grant entries (sim/gnttab.c) and event-channel port tables (sim/evtchn.c).
 * The state machines do no I/O and take no global state, so tests and fuzz
 * harnesses call them directly on plain memory.
 *
 * Guest-visible structures are Xen's own (struct grant_entry_v1); only the
 * hypervisor-private ones (active entries, generation tables) are ours.
 */
#ifndef PVSIM_HV_PROTO_H
#define PVSIM_HV_PROTO_H

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
	uint32_t lock;   /* spin lock, cross-process */
	uint32_t frame;  /* frame latched at first pin, as Xen does */
	uint16_t domid;  /* the mapping domain, latched at first pin */
	uint16_t pin_ro; /* read-only pins (maps and copies) */
	uint16_t pin_rw; /* writable pins */
	uint16_t pad;
};

/* One domain's grant state as seen by whoever runs a grant operation. */
struct sim_gnt_table {
	struct grant_entry_v1 *shared; /* guest-written */
	struct sim_gnt_active *active; /* hypervisor-private */
	uint32_t nr_entries;
	uint64_t nr_frames;            /* guest RAM pages: frames must be below */
};

/*
 * Pin ref of t for domain mapper (Xen's map_grant_ref / acquire_grant_for_copy):
 * sets GTF_reading (and GTF_writing) with cmpxchg, counts the pin and returns
 * the granted frame.  Errors, from Xen's GNTST_* codes:
 *   -EINVAL  ref out of range (GNTST_bad_gntref), frame beyond RAM (GNTST_bad_page)
 *   -ENOENT  entry is not GTF_permit_access (GNTST_general_error)
 *   -EACCES  grantee domid differs, or writable pin of a GTF_readonly grant
 *   -EBUSY   pin count would overflow
 *   -EAGAIN  the guest kept changing the entry (Xen: "unstable")
 */
int sim_gnt_pin(const struct sim_gnt_table *t, uint32_t ref, uint16_t mapper, bool writable,
		uint32_t *frame);
/* Drop one pin taken with the same writable; clears GTF_writing / GTF_reading
 * when the last pin of that kind goes. */
void sim_gnt_unpin(const struct sim_gnt_table *t, uint32_t ref, bool writable);

/* Guest side, exactly as Linux's gnttab_grant_foreign_access_ref (v1). */
void sim_gnt_grant_access(struct grant_entry_v1 *e, uint16_t domid, uint32_t frame, bool readonly);
/* Linux's gnttab_end_foreign_access_ref (v1): -EBUSY while mapped or copying. */
int sim_gnt_end_access(struct grant_entry_v1 *e);

void sim_spin_lock(uint32_t *lock);
void sim_spin_unlock(uint32_t *lock);

/* ------------------------------------------------------ event channels */

enum sim_evtchn_state {
	SIM_ECS_FREE = 0,
	SIM_ECS_UNBOUND,     /* allocated for remote_dom */
	SIM_ECS_INTERDOMAIN, /* connected to remote_dom:remote_port */
};

struct sim_evtchn_port {
	uint8_t state;        /* enum sim_evtchn_state */
	uint16_t remote_dom;
	uint32_t remote_port;
	void *owner;          /* the handle (connection) that bound it */
	int efd;              /* its eventfd, -1 when none (unit tests) */
};

/* One domain's port table (daemon-private) plus its generation table, which
 * the daemon bumps on every change of a port so clients notice re-binds. */
struct sim_evtchn_dom {
	uint16_t domid;
	struct sim_evtchn_port port[SIM_EVTCHN_PORTS];
	uint32_t *gen;        /* SIM_EVTCHN_PORTS entries, shared read-only */
};

typedef struct sim_evtchn_dom *sim_evtchn_lookup_fn(void *opaque, uint16_t domid);

void sim_evtchn_dom_init(struct sim_evtchn_dom *d, uint16_t domid, uint32_t *gen);
/* EVTCHNOP_alloc_unbound: lowest free port >= 1, or -ENOSPC. */
int sim_evtchn_alloc_unbound(struct sim_evtchn_dom *ld, uint16_t remote_dom, void *owner);
/* EVTCHNOP_bind_interdomain: -EINVAL unless rport is unbound for ld. */
int sim_evtchn_bind_interdomain(struct sim_evtchn_dom *ld, struct sim_evtchn_dom *rd,
				uint32_t rport, void *owner);
/* EVTCHNOP_close: an interdomain peer returns to unbound (for ld->domid).
 * -EINVAL for a free or out-of-range port. */
int sim_evtchn_close(struct sim_evtchn_dom *ld, uint32_t port, sim_evtchn_lookup_fn *lookup,
		     void *opaque);
static inline void sim_evtchn_bump(struct sim_evtchn_dom *d, uint32_t port)
{
	if (d->gen)
		__atomic_add_fetch(&d->gen[port], 1, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------ control socket */

/*
 * SOCK_SEQPACKET on $PVSIM_DIR/hv/<domid>; the socket names the domain.  On
 * accept the daemon sends a welcome (struct sim_hv_rsp, op 0) with the fds
 * listed below; then the client sends one request at a time and waits for its
 * answer.  Fds travel with SCM_RIGHTS.
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
	SIM_HV_WFD_NR,
};

#define SIM_HV_MAX_FDS 5

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

#endif /* PVSIM_HV_PROTO_H */
