/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pvsim hypervisor server: domains with memfd RAM, grant tables v1 and event
 * channels, served to client processes (common/hv_sim.c) over one unix socket
 * per domain.  The pvsim daemon creates one struct sim_hv on its loop, domain
 * 0 first, then a domain per guest.  Everything here runs in the loop's
 * thread; nothing is thread-safe.
 */
#ifndef PVSIM_HV_H
#define PVSIM_HV_H

#include <stdint.h>

struct pv_loop;
struct sim_hv;

/* Returns 0 or -errno; *out is valid until sim_hv_destroy(). */
int sim_hv_create(struct pv_loop *loop, struct sim_hv **out);
/* Destroys every domain (as sim_hv_domain_destroy, without crash callbacks). */
void sim_hv_destroy(struct sim_hv *hv);

/*
 * Create domain domid (< DOMID_FIRST_RESERVED) with mem_bytes of RAM (rounded
 * up to pages; 0 is fine for dom0, which then cannot share pages), a grant
 * table and an event-channel table, and listen on sock_path (its parent
 * directory is created if missing; a stale socket there is replaced).
 * Every process that connects to sock_path acts as domid.
 * Returns 0, -EEXIST, -EINVAL or another -errno.
 */
int sim_hv_domain_create(struct sim_hv *hv, uint16_t domid, uint64_t mem_bytes,
			 const char *sock_path);
/*
 * Destroy a domain as Xen destroys a crashed guest: its grants are revoked
 * (the table is cleared, so no new map or copy succeeds, and mapping processes
 * see the domain dead), its channels are closed (peers return to unbound),
 * its connections are closed and its socket is removed.  Pages other processes
 * have mapped stay valid memory until they unmap.  Returns 0 or -ESRCH.
 */
int sim_hv_domain_destroy(struct sim_hv *hv, uint16_t domid);
int sim_hv_domain_exists(struct sim_hv *hv, uint16_t domid);

/*
 * fn(opaque, domid) runs (in the loop thread) when a process that claimed its
 * domain (pv_hv_sim_claim(), pvfront does this) closes its connection or
 * exits.  The domain still exists then; fn typically destroys it (and fires
 * @releaseDomain).  It may call sim_hv_domain_destroy().
 */
void sim_hv_set_crash_cb(struct sim_hv *hv, void (*fn)(void *opaque, uint16_t domid),
			 void *opaque);

#endif /* PVSIM_HV_H */
