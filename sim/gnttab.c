/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pvsim grant-entry state machine (grant table v1), run by whoever performs a
 * grant operation: the sim client library in a mapping process (map, copy,
 * unmap), the daemon when it drops a dead process's pins, and tests.  Follows
 * Xen's map_grant_ref()/_set_status_v1() and Linux's gnttab_update_entry_v1()
 * and gnttab_end_foreign_access_ref_v1().
 *
 * Locking: each active entry has a cross-process spin lock (Xen has one per
 * active entry too).  The guest never takes it: it touches only the shared
 * entry, and the two sides meet in a cmpxchg on the (flags, domid) word.
 *
 * Differences from Xen (bugs, to be fixed when they matter):
 *  - no GTF_sub_page, GTF_transitive or v2 tables; such entries fail as
 *    Xen fails an entry of the wrong type (-ENOENT);
 *  - a process that dies inside the tiny locked section leaves the entry
 *    locked forever (Xen cannot die there).
 */
#include <errno.h>
#include <sched.h>

#include "hv_proto.h"

#define GNT_UNSTABLE_RETRIES 4 /* as Xen's _set_status_v1 */

void sim_spin_lock(uint32_t *lock)
{
	unsigned spins = 0;

	while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(lock, __ATOMIC_RELAXED)) {
			if (++spins % 1024 == 0)
				sched_yield(); /* the holder may be preempted */
#if defined(__x86_64__) || defined(__i386__)
			__builtin_ia32_pause();
#endif
		}
	}
}

void sim_spin_unlock(uint32_t *lock)
{
	__atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "entry_word() assumes little endian");

/* The (flags, domid) pair as the one 32-bit word Xen's cmpxchg works on. */
static uint32_t *entry_word(struct grant_entry_v1 *e)
{
	return (uint32_t *)(void *)e;
}

static uint16_t word_flags(uint32_t w)
{
	return (uint16_t)w; /* flags come first; little endian */
}

static uint16_t word_domid(uint32_t w)
{
	return (uint16_t)(w >> 16);
}

/* Xen's _set_status_v1: check type, grantee and readonly, then set the
 * in-use bits with cmpxchg so a concurrent end-access sees them. */
static int set_status(struct grant_entry_v1 *e, uint16_t mapper, bool writable)
{
	uint32_t *w = entry_word(e);
	uint32_t old = __atomic_load_n(w, __ATOMIC_ACQUIRE);
	uint16_t mask = GTF_type_mask | GTF_sub_page;
	unsigned retries = 0;

	for (;;) {
		uint32_t nw;

		if ((word_flags(old) & mask) != GTF_permit_access)
			return -ENOENT;
		if (word_domid(old) != mapper)
			return -EACCES;
		nw = old | GTF_reading;
		if (writable) {
			if (word_flags(old) & GTF_readonly)
				return -EACCES;
			nw |= GTF_writing;
		}
		/* Acquire: the frame we read next is the one the guest
		 * published before its flags (its wmb pairs with this). */
		if (__atomic_compare_exchange_n(w, &old, nw, false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return 0;
		if (retries++ == GNT_UNSTABLE_RETRIES)
			return -EAGAIN;
	}
}

static void clear_flags(struct grant_entry_v1 *e, uint16_t bits)
{
	__atomic_fetch_and(&e->flags, (uint16_t)~bits, __ATOMIC_RELEASE);
}

int sim_gnt_pin(const struct sim_gnt_table *t, uint32_t ref, uint16_t mapper, bool writable,
		uint32_t *frame)
{
	struct sim_gnt_active *act;
	struct grant_entry_v1 *e;
	int rc = 0;

	if (ref >= t->nr_entries)
		return -EINVAL;
	e = &t->shared[ref];
	act = &t->active[ref];

	sim_spin_lock(&act->lock);
	if (act->pin_ro + act->pin_rw) {
		if (act->domid != mapper) {
			rc = -EACCES;
			goto out;
		}
		if ((writable ? act->pin_rw : act->pin_ro) == UINT16_MAX) {
			rc = -EBUSY;
			goto out;
		}
	}
	if (!(act->pin_ro + act->pin_rw) || (writable && !act->pin_rw)) {
		rc = set_status(e, mapper, writable);
		if (rc)
			goto out;
		if (!(act->pin_ro + act->pin_rw)) {
			uint32_t f = __atomic_load_n(&e->frame, __ATOMIC_RELAXED);

			if (f >= t->nr_frames) {
				/* Xen: GNTST_bad_page, and the status bits go again. */
				clear_flags(e, GTF_reading | GTF_writing);
				rc = -EINVAL;
				goto out;
			}
			act->domid = mapper;
			act->frame = f;
		}
	}
	if (writable)
		act->pin_rw++;
	else
		act->pin_ro++;
	*frame = act->frame;
out:
	sim_spin_unlock(&act->lock);
	return rc;
}

void sim_gnt_unpin(const struct sim_gnt_table *t, uint32_t ref, bool writable)
{
	struct sim_gnt_active *act;
	struct grant_entry_v1 *e;

	if (ref >= t->nr_entries)
		return;
	e = &t->shared[ref];
	act = &t->active[ref];

	sim_spin_lock(&act->lock);
	if (writable && act->pin_rw) {
		if (--act->pin_rw == 0)
			clear_flags(e, GTF_writing);
	} else if (!writable && act->pin_ro) {
		act->pin_ro--;
	}
	if (!(act->pin_ro + act->pin_rw))
		clear_flags(e, GTF_reading);
	sim_spin_unlock(&act->lock);
}

void sim_gnt_grant_access(struct grant_entry_v1 *e, uint16_t domid, uint32_t frame, bool readonly)
{
	e->domid = domid;
	e->frame = frame;
	/* Release: Xen must see domid and frame before the entry becomes valid. */
	__atomic_store_n(&e->flags, (uint16_t)(GTF_permit_access | (readonly ? GTF_readonly : 0)),
			 __ATOMIC_RELEASE);
}

int sim_gnt_end_access(struct grant_entry_v1 *e)
{
	uint16_t flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);

	do {
		if (flags & (GTF_reading | GTF_writing))
			return -EBUSY;
	} while (!__atomic_compare_exchange_n(&e->flags, &flags, 0, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	return 0;
}
