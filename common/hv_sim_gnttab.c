/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pvsim grant-entry state machine (grant table v1), run by whoever performs a
 * grant operation: the sim client library in a mapping process (map, copy,
 * unmap), the daemon when it drops a dead process's pins, and tests.  Follows
 * Xen's map_grant_ref()/_set_status_v1() and Linux's gnttab_update_entry_v1()
 * and gnttab_end_foreign_access_ref_v1().
 *
 * Locking: each active entry has a cross-process spin lock (Xen has one per
 * active entry too) holding its owner's tag.  The guest never takes it: it
 * touches only the shared entry, and the two sides meet in a cmpxchg on the
 * (flags, domid) word.  A grant copy runs as one locked section (in-use bits
 * set, copy, cleared) and counts no pin.  A mapping process journals each pin
 * in the same locked section that counts it (struct sim_pin_rec), so when it
 * dies, even inside that section or a copy, the daemon's sim_gnt_release()
 * takes the lock over and settles the entry exactly (Xen cannot die there;
 * Linux's gntdev unmaps what a dying process mapped).
 *
 * Differences from Xen (bugs, to be fixed when they matter):
 *  - no GTF_sub_page, GTF_transitive or v2 tables; such entries fail as
 *    Xen fails an entry of the wrong type (-ENOENT);
 *  - copies of one entry, and pins of it, wait for a copy in progress (Xen
 *    runs them side by side); the guest sees no difference.
 */
#include <errno.h>
#include <sched.h>

#include "hv_sim_abi.h"

#define GNT_UNSTABLE_RETRIES 4 /* as Xen's _set_status_v1 */

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

void sim_spin_lock(uint32_t *lock, uint32_t owner)
{
	unsigned spins = 0;
	uint32_t cur = 0;

	/* Compare-and-swap, not exchange: a waiter must not overwrite the
	 * holder's tag, which is how the daemon recognises a dead holder. */
	while (!__atomic_compare_exchange_n(lock, &cur, owner, false, __ATOMIC_ACQUIRE,
					    __ATOMIC_RELAXED)) {
		cur = 0;
		while (__atomic_load_n(lock, __ATOMIC_RELAXED)) {
			if (++spins % 1024 == 0)
				sched_yield(); /* the holder may be preempted, or dead
						* until the daemon takes its lock over */
			cpu_relax();
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

static uint32_t table_owner(const struct sim_gnt_table *t)
{
	return t->owner ? t->owner : SIM_LOCK_DAEMON;
}

/* Under the entry lock: the record's change of state starts, with the count
 * before it, so a dead holder's record is never ambiguous. */
static void rec_enter(struct sim_pin_rec *rec, uint16_t count, enum sim_pin_state st)
{
	if (rec)
		sim_pin_rec_seen(rec, count, st);
}

static void rec_leave(struct sim_pin_rec *rec, enum sim_pin_state st)
{
	if (rec)
		sim_pin_rec_state(rec, st);
}

/*
 * Under the entry lock: Xen's checks and status bits for a use of the entry
 * by mapper, and the frame to use.  Changes no pin count.
 */
static int acquire_locked(const struct sim_gnt_table *t, struct grant_entry_v1 *e,
			  const struct sim_gnt_active *act, uint16_t mapper, bool writable,
			  uint32_t *frame)
{
	uint32_t f;
	int rc;

	if (act->pin_ro + act->pin_rw) {
		if (act->domid != mapper)
			return -EACCES;
		if (writable && !act->pin_rw) {
			rc = set_status(e, mapper, writable);
			if (rc)
				return rc;
		}
		*frame = act->frame;
		return 0;
	}
	rc = set_status(e, mapper, writable);
	if (rc)
		return rc;
	f = __atomic_load_n(&e->frame, __ATOMIC_RELAXED);
	if (f >= t->nr_frames) {
		/* Xen: GNTST_bad_page, and the status bits go again. */
		clear_flags(e, GTF_reading | GTF_writing);
		return -EINVAL;
	}
	*frame = f;
	return 0;
}

/* Under the entry lock: the in-use bits only pins need stay. */
static void settle_flags_locked(struct grant_entry_v1 *e, const struct sim_gnt_active *act)
{
	if (!act->pin_rw)
		clear_flags(e, GTF_writing);
	if (!(act->pin_ro + act->pin_rw))
		clear_flags(e, GTF_reading);
}

int sim_gnt_pin(const struct sim_gnt_table *t, uint32_t ref, uint16_t mapper, bool writable,
		uint32_t *frame, struct sim_pin_rec *rec)
{
	struct sim_gnt_active *act;
	struct grant_entry_v1 *e;
	int rc;

	if (ref >= t->nr_entries)
		return -EINVAL;
	e = &t->shared[ref];
	act = &t->active[ref];

	sim_spin_lock(&act->lock, table_owner(t));
	rec_enter(rec, writable ? act->pin_rw : act->pin_ro, SIM_PIN_PINNING);
	if (act->pin_ro + act->pin_rw && act->domid == mapper &&
	    (writable ? act->pin_rw : act->pin_ro) == UINT16_MAX) {
		rc = -EBUSY;
		goto out;
	}
	rc = acquire_locked(t, e, act, mapper, writable, frame);
	if (rc)
		goto out;
	if (!(act->pin_ro + act->pin_rw)) {
		/* Latched at the first pin, as Xen does. */
		act->domid = mapper;
		act->frame = *frame;
	}
	if (writable)
		act->pin_rw++;
	else
		act->pin_ro++;
out:
	rec_leave(rec, rc ? SIM_PIN_DONE : SIM_PIN_HELD);
	sim_spin_unlock(&act->lock);
	return rc;
}

int sim_gnt_copy_begin(const struct sim_gnt_table *t, uint32_t ref, uint16_t mapper,
		       bool writable, uint32_t *frame)
{
	struct sim_gnt_active *act;
	int rc;

	if (ref >= t->nr_entries)
		return -EINVAL;
	act = &t->active[ref];
	sim_spin_lock(&act->lock, table_owner(t));
	rc = acquire_locked(t, &t->shared[ref], act, mapper, writable, frame);
	if (rc)
		sim_spin_unlock(&act->lock);
	return rc;
}

void sim_gnt_copy_end(const struct sim_gnt_table *t, uint32_t ref)
{
	struct sim_gnt_active *act = &t->active[ref];

	settle_flags_locked(&t->shared[ref], act);
	sim_spin_unlock(&act->lock);
}

/* Under the entry lock. */
static void unpin_locked(struct grant_entry_v1 *e, struct sim_gnt_active *act, bool writable)
{
	if (writable && act->pin_rw) {
		if (--act->pin_rw == 0)
			clear_flags(e, GTF_writing);
	} else if (!writable && act->pin_ro) {
		act->pin_ro--;
	}
	if (!(act->pin_ro + act->pin_rw))
		clear_flags(e, GTF_reading);
}

void sim_gnt_unpin(const struct sim_gnt_table *t, uint32_t ref, bool writable,
		   struct sim_pin_rec *rec)
{
	struct sim_gnt_active *act;
	struct grant_entry_v1 *e;

	if (ref >= t->nr_entries)
		return;
	e = &t->shared[ref];
	act = &t->active[ref];

	sim_spin_lock(&act->lock, table_owner(t));
	rec_enter(rec, writable ? act->pin_rw : act->pin_ro, SIM_PIN_UNPINNING);
	unpin_locked(e, act, writable);
	rec_leave(rec, SIM_PIN_DONE);
	sim_spin_unlock(&act->lock);
}

/* Take lock as owner, or over from dead: 1 taken over, 0 taken, -EAGAIN. */
static int lock_for_release(uint32_t *lock, uint32_t owner, uint32_t dead, unsigned tries)
{
	unsigned spins;

	for (spins = 1; spins <= tries || spins == 1; spins++) {
		uint32_t cur = __atomic_load_n(lock, __ATOMIC_RELAXED);

		if ((cur == 0 || cur == dead) &&
		    __atomic_compare_exchange_n(lock, &cur, owner, false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return cur == dead;
		if (spins % 1024 == 0)
			sched_yield();
		cpu_relax();
	}
	return -EAGAIN;
}

/* Whether the record's pin is held, given the entry it names (locked). */
static bool rec_pinned(const struct sim_pin_rec *r, const struct sim_gnt_active *act,
		       bool died_inside)
{
	uint16_t count = r->writable ? act->pin_rw : act->pin_ro;

	switch (r->state) {
	case SIM_PIN_HELD:
		return true;
	case SIM_PIN_PINNING:
		/* Outside a dead holder's lock this state cannot be: a garbled
		 * journal, and a doubtful pin is left rather than stolen. */
		return died_inside && count == (uint16_t)(r->seen + 1);
	case SIM_PIN_UNPINNING:
		return died_inside && count == r->seen;
	default:
		return false;
	}
}

int sim_gnt_release(const struct sim_gnt_table *t, const struct sim_pin_rec *r, uint16_t mapper,
		    uint32_t dead, unsigned spins)
{
	struct sim_gnt_active *act;
	struct grant_entry_v1 *e;
	int inside, rc = 0;

	if (r->ref >= t->nr_entries || r->writable > 1 || !dead)
		return -EINVAL;
	e = &t->shared[r->ref];
	act = &t->active[r->ref];

	inside = lock_for_release(&act->lock, table_owner(t), dead, spins);
	if (inside < 0)
		return inside;
	if (rec_pinned(r, act, inside) && act->domid == mapper &&
	    (r->writable ? act->pin_rw : act->pin_ro)) {
		unpin_locked(e, act, r->writable);
		rc = 1;
	}
	/* The dead holder may have set in-use bits it never counted (a copy,
	 * set_status before the count) or not yet cleared them. */
	if (inside)
		settle_flags_locked(e, act);
	sim_spin_unlock(&act->lock);
	return rc;
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
