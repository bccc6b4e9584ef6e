/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: the grant-entry state machine (common/hv_sim_gnttab.c) on plain memory,
 * without a daemon: pins check type, grantee, readonly and frame as Xen's
 * map_grant_ref does, set GTF_reading/GTF_writing while pinned, and a guest's
 * end of access fails with -EBUSY until the last pin goes; a grant copy runs
 * the same checks and marks the entry in use only while it runs.  Pins move
 * their journal record under the entry lock, and the daemon's release of a
 * dead mapper's record drops exactly the pins it held, also when the mapper
 * died at any point inside a locked section (simulated here by leaving the
 * lock word on the dead owner's tag, which a waiter must not overwrite),
 * never more than the pins present.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hv_sim_abi.h"

#define NR 64

struct fixture {
	struct grant_entry_v1 shared[NR];
	struct sim_gnt_active active[NR];
	struct sim_gnt_table t;
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	f.t.shared = f.shared;
	f.t.active = f.active;
	f.t.nr_entries = NR;
	f.t.nr_frames = 100;
	*state = &f;
	return 0;
}

static void test_pin_of_ungranted_ref_fails_enoent(void **state)
{
	struct fixture *f = *state;
	uint32_t frame;

	assert_int_equal(sim_gnt_pin(&f->t, 10, 0, false, &frame, NULL), -ENOENT);
	f->shared[10].domid = 0;
	f->shared[10].flags = GTF_accept_transfer;
	assert_int_equal(sim_gnt_pin(&f->t, 10, 0, false, &frame, NULL), -ENOENT);
	assert_int_equal(f->shared[10].flags, GTF_accept_transfer);
}

static void test_pin_of_ref_beyond_the_table_fails_einval(void **state)
{
	struct fixture *f = *state;
	uint32_t frame;

	assert_int_equal(sim_gnt_pin(&f->t, NR, 0, false, &frame, NULL), -EINVAL);
	assert_int_equal(sim_gnt_pin(&f->t, UINT32_MAX, 0, false, &frame, NULL), -EINVAL);
}

static void test_pin_by_another_domain_fails_eacces(void **state)
{
	struct fixture *f = *state;
	uint32_t frame;

	sim_gnt_grant_access(&f->shared[8], 3, 5, false);
	assert_int_equal(sim_gnt_pin(&f->t, 8, 0, false, &frame, NULL), -EACCES);
	assert_int_equal(f->shared[8].flags, GTF_permit_access);
}

static void test_writable_pin_of_readonly_grant_fails_eacces(void **state)
{
	struct fixture *f = *state;
	uint32_t frame;

	sim_gnt_grant_access(&f->shared[9], 0, 5, true);
	assert_int_equal(sim_gnt_pin(&f->t, 9, 0, true, &frame, NULL), -EACCES);
	assert_int_equal(f->shared[9].flags, GTF_permit_access | GTF_readonly);
	assert_int_equal(sim_gnt_pin(&f->t, 9, 0, false, &frame, NULL), 0);
	assert_int_equal(frame, 5);
	assert_int_equal(f->shared[9].flags, GTF_permit_access | GTF_readonly | GTF_reading);
	sim_gnt_unpin(&f->t, 9, false, NULL);
	assert_int_equal(f->shared[9].flags, GTF_permit_access | GTF_readonly);
}

static void test_frame_beyond_guest_ram_fails_einval_and_leaves_no_pin(void **state)
{
	struct fixture *f = *state;
	uint32_t frame;

	sim_gnt_grant_access(&f->shared[11], 0, 100, false);
	assert_int_equal(sim_gnt_pin(&f->t, 11, 0, true, &frame, NULL), -EINVAL);
	assert_int_equal(f->shared[11].flags, GTF_permit_access);
	assert_int_equal(f->active[11].pin_rw + f->active[11].pin_ro, 0);
	assert_int_equal(sim_gnt_end_access(&f->shared[11]), 0);
}

static void test_pins_set_in_use_bits_and_the_last_unpin_clears_them(void **state)
{
	struct fixture *f = *state;
	uint32_t frame;

	sim_gnt_grant_access(&f->shared[12], 0, 7, false);
	assert_int_equal(sim_gnt_pin(&f->t, 12, 0, false, &frame, NULL), 0);
	assert_int_equal(f->shared[12].flags, GTF_permit_access | GTF_reading);
	assert_int_equal(sim_gnt_pin(&f->t, 12, 0, true, &frame, NULL), 0);
	assert_int_equal(f->shared[12].flags, GTF_permit_access | GTF_reading | GTF_writing);
	assert_int_equal(sim_gnt_pin(&f->t, 12, 0, true, &frame, NULL), 0);
	sim_gnt_unpin(&f->t, 12, true, NULL);
	assert_true(f->shared[12].flags & GTF_writing);
	sim_gnt_unpin(&f->t, 12, true, NULL);
	assert_int_equal(f->shared[12].flags, GTF_permit_access | GTF_reading);
	sim_gnt_unpin(&f->t, 12, false, NULL);
	assert_int_equal(f->shared[12].flags, GTF_permit_access);
}

static void test_end_access_while_pinned_fails_ebusy_then_succeeds(void **state)
{
	struct fixture *f = *state;
	uint32_t frame;

	sim_gnt_grant_access(&f->shared[13], 0, 1, false);
	assert_int_equal(sim_gnt_pin(&f->t, 13, 0, true, &frame, NULL), 0);
	assert_int_equal(sim_gnt_end_access(&f->shared[13]), -EBUSY);
	assert_int_equal(f->shared[13].flags, GTF_permit_access | GTF_reading | GTF_writing);
	sim_gnt_unpin(&f->t, 13, true, NULL);
	assert_int_equal(sim_gnt_end_access(&f->shared[13]), 0);
	assert_int_equal(f->shared[13].flags, 0);
	assert_int_equal(sim_gnt_pin(&f->t, 13, 0, false, &frame, NULL), -ENOENT);
}

static void test_a_pinned_entry_keeps_its_frame_and_mapper(void **state)
{
	struct fixture *f = *state;
	uint32_t frame;

	sim_gnt_grant_access(&f->shared[14], 0, 20, false);
	assert_int_equal(sim_gnt_pin(&f->t, 14, 0, false, &frame, NULL), 0);
	/* A hostile guest rewrites the entry under the pin: Xen uses the
	 * frame and domid latched at the first pin. */
	f->shared[14].frame = 99;
	f->shared[14].domid = 4;
	assert_int_equal(sim_gnt_pin(&f->t, 14, 0, false, &frame, NULL), 0);
	assert_int_equal(frame, 20);
	assert_int_equal(sim_gnt_pin(&f->t, 14, 4, false, &frame, NULL), -EACCES);
	sim_gnt_unpin(&f->t, 14, false, NULL);
	sim_gnt_unpin(&f->t, 14, false, NULL);
	assert_int_equal(f->active[14].pin_ro, 0);
}

static void test_unpin_without_a_pin_changes_nothing(void **state)
{
	struct fixture *f = *state;

	sim_gnt_grant_access(&f->shared[15], 0, 2, true);
	sim_gnt_unpin(&f->t, 15, true, NULL);
	sim_gnt_unpin(&f->t, 15, false, NULL);
	sim_gnt_unpin(&f->t, NR + 1, false, NULL);
	assert_int_equal(f->shared[15].flags, GTF_permit_access | GTF_readonly);
	assert_int_equal(f->active[15].pin_ro + f->active[15].pin_rw, 0);
}

static void test_grant_writes_domid_and_frame_then_flags(void **state)
{
	struct fixture *f = *state;

	sim_gnt_grant_access(&f->shared[16], 7, 1234, false);
	assert_int_equal(f->shared[16].domid, 7);
	assert_int_equal(f->shared[16].frame, 1234);
	assert_int_equal(f->shared[16].flags, GTF_permit_access);
}

#define DEAD 42u   /* the dead connection's lock tag */
#define LIVE 43u   /* another holder's */

static struct sim_pin_rec rec_of(uint32_t ref, bool writable, enum sim_pin_state st,
				 uint16_t seen)
{
	return (struct sim_pin_rec){ .ref = ref, .writable = writable, .state = st, .seen = seen };
}

static void test_pin_and_unpin_move_the_journal_record_under_the_lock(void **state)
{
	struct fixture *f = *state;
	struct sim_pin_rec a, b;
	uint32_t frame;

	sim_gnt_grant_access(&f->shared[20], 0, 3, false);
	sim_pin_rec_want(&a, 1, 5, 20, true);
	assert_int_equal(sim_gnt_pin(&f->t, 20, 0, true, &frame, &a), 0);
	assert_int_equal(a.state, SIM_PIN_HELD);
	assert_int_equal(a.seen, 0);
	sim_pin_rec_want(&b, 1, 5, 20, true);
	assert_int_equal(sim_gnt_pin(&f->t, 20, 0, true, &frame, &b), 0);
	assert_int_equal(b.seen, 1);
	assert_int_equal(f->active[20].lock, 0);

	sim_gnt_unpin(&f->t, 20, true, &a);
	assert_int_equal(a.state, SIM_PIN_DONE);
	assert_int_equal(a.seen, 2);
	sim_gnt_unpin(&f->t, 20, true, &b);
	assert_int_equal(f->active[20].pin_rw, 0);

	/* A failed pin ends DONE: nothing held. */
	sim_pin_rec_want(&a, 1, 5, 21, false);
	assert_int_equal(sim_gnt_pin(&f->t, 21, 0, false, &frame, &a), -ENOENT);
	assert_int_equal(a.state, SIM_PIN_DONE);
}

static void test_release_drops_held_pins_and_never_more(void **state)
{
	struct fixture *f = *state;
	struct sim_pin_rec a, b, r;
	uint32_t frame;

	sim_gnt_grant_access(&f->shared[22], 0, 3, false);
	sim_pin_rec_want(&a, 1, 5, 22, true);
	sim_pin_rec_want(&b, 1, 5, 22, false);
	assert_int_equal(sim_gnt_pin(&f->t, 22, 0, true, &frame, &a), 0);
	assert_int_equal(sim_gnt_pin(&f->t, 22, 0, false, &frame, &b), 0);

	/* Records that hold nothing release nothing. */
	r = rec_of(22, true, SIM_PIN_WANT, 0);
	assert_int_equal(sim_gnt_release(&f->t, &r, 0, DEAD, SIM_GNT_RELEASE_SPINS), 0);
	r = rec_of(22, true, SIM_PIN_DONE, 0);
	assert_int_equal(sim_gnt_release(&f->t, &r, 0, DEAD, SIM_GNT_RELEASE_SPINS), 0);
	r = rec_of(22, true, SIM_PIN_FREE, 0);
	assert_int_equal(sim_gnt_release(&f->t, &r, 0, DEAD, SIM_GNT_RELEASE_SPINS), 0);
	/* Mid-operation states outside a dead holder's lock are garbage. */
	r = rec_of(22, true, SIM_PIN_PINNING, 0);
	assert_int_equal(sim_gnt_release(&f->t, &r, 0, DEAD, SIM_GNT_RELEASE_SPINS), 0);
	r = rec_of(22, true, SIM_PIN_UNPINNING, 1);
	assert_int_equal(sim_gnt_release(&f->t, &r, 0, DEAD, SIM_GNT_RELEASE_SPINS), 0);
	assert_int_equal(f->active[22].pin_rw, 1);
	assert_int_equal(f->active[22].pin_ro, 1);
	/* Another domain's records do not touch our pins. */
	assert_int_equal(sim_gnt_release(&f->t, &a, 4, DEAD, SIM_GNT_RELEASE_SPINS), 0);
	assert_int_equal(f->active[22].pin_rw, 1);

	assert_int_equal(sim_gnt_release(&f->t, &a, 0, DEAD, SIM_GNT_RELEASE_SPINS), 1);
	assert_int_equal(f->active[22].pin_rw, 0);
	assert_int_equal(f->shared[22].flags, GTF_permit_access | GTF_reading);
	assert_int_equal(sim_gnt_end_access(&f->shared[22]), -EBUSY);
	/* The same record twice (a garbled journal): no pin of its kind is left. */
	assert_int_equal(sim_gnt_release(&f->t, &a, 0, DEAD, SIM_GNT_RELEASE_SPINS), 0);
	assert_int_equal(f->active[22].pin_ro, 1);
	assert_int_equal(sim_gnt_release(&f->t, &b, 0, DEAD, SIM_GNT_RELEASE_SPINS), 1);
	assert_int_equal(f->active[22].pin_ro, 0);
	assert_int_equal(f->active[22].lock, 0);
	assert_int_equal(sim_gnt_end_access(&f->shared[22]), 0);
}

static void test_release_settles_a_mapper_that_died_inside_a_pin(void **state)
{
	struct fixture *f = *state;
	struct sim_pin_rec r;

	/* Died after set_status, before counting: bits set, nothing pinned. */
	sim_gnt_grant_access(&f->shared[23], 0, 3, false);
	f->shared[23].flags |= GTF_reading | GTF_writing;
	f->active[23].lock = DEAD;
	r = rec_of(23, true, SIM_PIN_PINNING, 0);
	assert_int_equal(sim_gnt_release(&f->t, &r, 0, DEAD, SIM_GNT_RELEASE_SPINS), 0);
	assert_int_equal(f->active[23].lock, 0);
	assert_int_equal(f->shared[23].flags, GTF_permit_access);

	/* Died after counting, before HELD: the count says it is held. */
	f->shared[23].flags |= GTF_reading | GTF_writing;
	f->active[23].pin_rw = 1;
	f->active[23].lock = DEAD;
	r = rec_of(23, true, SIM_PIN_PINNING, 0);
	assert_int_equal(sim_gnt_release(&f->t, &r, 0, DEAD, SIM_GNT_RELEASE_SPINS), 1);
	assert_int_equal(f->active[23].pin_rw, 0);
	assert_int_equal(f->active[23].lock, 0);
	assert_int_equal(f->shared[23].flags, GTF_permit_access);

	/* Died with the lock taken, before the record moved: WANT holds
	 * nothing, whatever another mapper of the domain holds stays. */
	f->shared[23].flags |= GTF_reading;
	f->active[23].pin_ro = 1;
	f->active[23].lock = DEAD;
	r = rec_of(23, false, SIM_PIN_WANT, 0);
	assert_int_equal(sim_gnt_release(&f->t, &r, 0, DEAD, SIM_GNT_RELEASE_SPINS), 0);
	assert_int_equal(f->active[23].pin_ro, 1);
	assert_int_equal(f->shared[23].flags, GTF_permit_access | GTF_reading);
	assert_int_equal(f->active[23].lock, 0);
}

static void test_release_settles_a_mapper_that_died_inside_an_unpin(void **state)
{
	struct fixture *f = *state;
	struct sim_pin_rec r;

	/* Died before the count went down. */
	sim_gnt_grant_access(&f->shared[24], 0, 3, false);
	f->shared[24].flags |= GTF_reading | GTF_writing;
	f->active[24].pin_rw = 1;
	f->active[24].lock = DEAD;
	r = rec_of(24, true, SIM_PIN_UNPINNING, 1);
	assert_int_equal(sim_gnt_release(&f->t, &r, 0, DEAD, SIM_GNT_RELEASE_SPINS), 1);
	assert_int_equal(f->active[24].pin_rw, 0);
	assert_int_equal(f->shared[24].flags, GTF_permit_access);

	/* Died after the count went down, before the bits were cleared. */
	f->shared[24].flags |= GTF_reading | GTF_writing;
	f->active[24].lock = DEAD;
	r = rec_of(24, true, SIM_PIN_UNPINNING, 1);
	assert_int_equal(sim_gnt_release(&f->t, &r, 0, DEAD, SIM_GNT_RELEASE_SPINS), 0);
	assert_int_equal(f->shared[24].flags, GTF_permit_access);
	assert_int_equal(f->active[24].lock, 0);

	/* Died with the lock taken, before UNPINNING: still held. */
	f->shared[24].flags |= GTF_reading;
	f->active[24].pin_ro = 1;
	f->active[24].lock = DEAD;
	r = rec_of(24, false, SIM_PIN_HELD, 0);
	assert_int_equal(sim_gnt_release(&f->t, &r, 0, DEAD, SIM_GNT_RELEASE_SPINS), 1);
	assert_int_equal(f->active[24].pin_ro, 0);
	assert_int_equal(f->shared[24].flags, GTF_permit_access);
	assert_int_equal(sim_gnt_end_access(&f->shared[24]), 0);
}

static void test_release_leaves_an_entry_a_live_holder_locked(void **state)
{
	struct fixture *f = *state;
	struct sim_pin_rec r = rec_of(25, true, SIM_PIN_HELD, 0);

	sim_gnt_grant_access(&f->shared[25], 0, 3, false);
	f->shared[25].flags |= GTF_reading | GTF_writing;
	f->active[25].pin_rw = 1;
	f->active[25].lock = LIVE;
	assert_int_equal(sim_gnt_release(&f->t, &r, 0, DEAD, SIM_GNT_RELEASE_SPINS), -EAGAIN);
	assert_int_equal(f->active[25].pin_rw, 1);
	assert_int_equal(f->active[25].lock, LIVE);
	f->active[25].lock = 0;
	assert_int_equal(sim_gnt_release(&f->t, &r, 0, DEAD, SIM_GNT_RELEASE_SPINS), 1);
}

static void test_a_copy_marks_the_entry_in_use_only_while_it_runs(void **state)
{
	struct fixture *f = *state;
	uint32_t frame;

	sim_gnt_grant_access(&f->shared[28], 0, 9, false);
	assert_int_equal(sim_gnt_copy_begin(&f->t, 28, 0, true, &frame), 0);
	assert_int_equal(frame, 9);
	assert_int_equal(f->shared[28].flags, GTF_permit_access | GTF_reading | GTF_writing);
	assert_int_equal(sim_gnt_end_access(&f->shared[28]), -EBUSY);
	assert_int_not_equal(f->active[28].lock, 0); /* the copy runs locked */
	sim_gnt_copy_end(&f->t, 28);
	assert_int_equal(f->active[28].lock, 0);
	assert_int_equal(f->shared[28].flags, GTF_permit_access);
	assert_int_equal(f->active[28].pin_ro + f->active[28].pin_rw, 0);

	/* Under a read-only pin a writable copy adds GTF_writing, for itself. */
	assert_int_equal(sim_gnt_pin(&f->t, 28, 0, false, &frame, NULL), 0);
	f->shared[28].frame = 77; /* the latched frame is the one copied */
	assert_int_equal(sim_gnt_copy_begin(&f->t, 28, 0, true, &frame), 0);
	assert_int_equal(frame, 9);
	assert_int_equal(f->shared[28].flags, GTF_permit_access | GTF_reading | GTF_writing);
	sim_gnt_copy_end(&f->t, 28);
	assert_int_equal(f->shared[28].flags, GTF_permit_access | GTF_reading);
	assert_int_equal(sim_gnt_copy_begin(&f->t, 28, 4, false, &frame), -EACCES);
	sim_gnt_unpin(&f->t, 28, false, NULL);
	assert_int_equal(sim_gnt_end_access(&f->shared[28]), 0);
}

static void test_a_failed_copy_leaves_the_entry_as_it_was(void **state)
{
	struct fixture *f = *state;
	uint32_t frame;

	assert_int_equal(sim_gnt_copy_begin(&f->t, 29, 0, false, &frame), -ENOENT);
	assert_int_equal(sim_gnt_copy_begin(&f->t, NR, 0, false, &frame), -EINVAL);
	sim_gnt_grant_access(&f->shared[29], 0, 5, true);
	assert_int_equal(sim_gnt_copy_begin(&f->t, 29, 0, true, &frame), -EACCES);
	assert_int_equal(sim_gnt_copy_begin(&f->t, 29, 3, false, &frame), -EACCES);
	sim_gnt_grant_access(&f->shared[30], 0, 100, false);
	assert_int_equal(sim_gnt_copy_begin(&f->t, 30, 0, false, &frame), -EINVAL);
	assert_int_equal(f->shared[29].flags, GTF_permit_access | GTF_readonly);
	assert_int_equal(f->shared[30].flags, GTF_permit_access);
	assert_int_equal(f->active[29].lock, 0);
	assert_int_equal(f->active[30].lock, 0);
}

static void test_release_settles_a_copier_that_died_inside_its_copy(void **state)
{
	struct fixture *f = *state;
	struct sim_gnt_table dead = f->t;
	struct sim_pin_rec r;
	uint32_t frame;

	sim_gnt_grant_access(&f->shared[31], 0, 3, false);
	dead.owner = DEAD;
	sim_pin_rec_want(&r, 1, 5, 31, true);
	assert_int_equal(sim_gnt_copy_begin(&dead, 31, 0, true, &frame), 0);
	/* ... and the copier dies: the lock and the in-use bits stay. */
	assert_int_equal(f->active[31].lock, DEAD);
	assert_int_equal(sim_gnt_end_access(&f->shared[31]), -EBUSY);
	assert_int_equal(sim_gnt_release(&f->t, &r, 0, DEAD, SIM_GNT_RELEASE_SPINS), 0);
	assert_int_equal(f->active[31].lock, 0);
	assert_int_equal(sim_gnt_end_access(&f->shared[31]), 0);
}

struct waiter {
	struct fixture *f;
	int started, rc;
};

static void *pin_as_live(void *arg)
{
	struct waiter *w = arg;
	struct sim_gnt_table t = w->f->t;
	uint32_t frame;

	t.owner = LIVE;
	__atomic_store_n(&w->started, 1, __ATOMIC_RELEASE);
	w->rc = sim_gnt_pin(&t, 27, 0, false, &frame, NULL);
	return NULL;
}

static void test_a_waiter_leaves_the_dead_holders_tag_for_the_release(void **state)
{
	struct fixture *f = *state;
	struct sim_pin_rec r = rec_of(27, false, SIM_PIN_HELD, 0);
	struct waiter w = { .f = f };
	pthread_t th;
	int i;

	sim_gnt_grant_access(&f->shared[27], 0, 3, true);
	f->shared[27].flags |= GTF_reading;
	f->active[27].pin_ro = 1;
	f->active[27].lock = DEAD;
	assert_int_equal(pthread_create(&th, NULL, pin_as_live, &w), 0);
	/* Let the waiter spin on the lock a while (the release must work
	 * whether or not it did). */
	while (!__atomic_load_n(&w.started, __ATOMIC_ACQUIRE))
		sched_yield();
	for (i = 0; i < 1000; i++)
		sched_yield();
	assert_int_equal(f->active[27].lock, DEAD);
	assert_int_equal(sim_gnt_release(&f->t, &r, 0, DEAD, SIM_GNT_RELEASE_SPINS), 1);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(w.rc, 0);
	assert_int_equal(f->active[27].pin_ro, 1); /* the waiter's pin */
	assert_int_equal(f->active[27].lock, 0);
}

static void test_release_rejects_records_that_name_no_entry(void **state)
{
	struct fixture *f = *state;
	struct sim_pin_rec r;

	r = rec_of(NR, true, SIM_PIN_HELD, 0);
	assert_int_equal(sim_gnt_release(&f->t, &r, 0, DEAD, SIM_GNT_RELEASE_SPINS), -EINVAL);
	r = rec_of(UINT32_MAX, false, SIM_PIN_HELD, 0);
	assert_int_equal(sim_gnt_release(&f->t, &r, 0, DEAD, SIM_GNT_RELEASE_SPINS), -EINVAL);
	r = rec_of(26, true, SIM_PIN_HELD, 0);
	r.writable = 7;
	assert_int_equal(sim_gnt_release(&f->t, &r, 0, DEAD, SIM_GNT_RELEASE_SPINS), -EINVAL);
	r = rec_of(26, true, SIM_PIN_HELD, 0);
	assert_int_equal(sim_gnt_release(&f->t, &r, 0, 0, SIM_GNT_RELEASE_SPINS), -EINVAL);
	f->active[26].pin_rw = 1;
	r = rec_of(26, true, 200, 0);
	assert_int_equal(sim_gnt_release(&f->t, &r, 0, DEAD, SIM_GNT_RELEASE_SPINS), 0);
	assert_int_equal(f->active[26].pin_rw, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_pin_of_ungranted_ref_fails_enoent, setup),
		cmocka_unit_test_setup(test_pin_of_ref_beyond_the_table_fails_einval, setup),
		cmocka_unit_test_setup(test_pin_by_another_domain_fails_eacces, setup),
		cmocka_unit_test_setup(test_writable_pin_of_readonly_grant_fails_eacces, setup),
		cmocka_unit_test_setup(test_frame_beyond_guest_ram_fails_einval_and_leaves_no_pin,
				       setup),
		cmocka_unit_test_setup(test_pins_set_in_use_bits_and_the_last_unpin_clears_them,
				       setup),
		cmocka_unit_test_setup(test_end_access_while_pinned_fails_ebusy_then_succeeds,
				       setup),
		cmocka_unit_test_setup(test_a_pinned_entry_keeps_its_frame_and_mapper, setup),
		cmocka_unit_test_setup(test_unpin_without_a_pin_changes_nothing, setup),
		cmocka_unit_test_setup(test_grant_writes_domid_and_frame_then_flags, setup),
		cmocka_unit_test_setup(test_pin_and_unpin_move_the_journal_record_under_the_lock,
				       setup),
		cmocka_unit_test_setup(test_release_drops_held_pins_and_never_more, setup),
		cmocka_unit_test_setup(test_release_settles_a_mapper_that_died_inside_a_pin,
				       setup),
		cmocka_unit_test_setup(test_release_settles_a_mapper_that_died_inside_an_unpin,
				       setup),
		cmocka_unit_test_setup(test_release_leaves_an_entry_a_live_holder_locked, setup),
		cmocka_unit_test_setup(test_a_copy_marks_the_entry_in_use_only_while_it_runs,
				       setup),
		cmocka_unit_test_setup(test_a_failed_copy_leaves_the_entry_as_it_was, setup),
		cmocka_unit_test_setup(test_release_settles_a_copier_that_died_inside_its_copy,
				       setup),
		cmocka_unit_test_setup(test_a_waiter_leaves_the_dead_holders_tag_for_the_release,
				       setup),
		cmocka_unit_test_setup(test_release_rejects_records_that_name_no_entry, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
