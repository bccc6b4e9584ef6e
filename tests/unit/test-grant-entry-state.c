/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: the grant-entry state machine (sim/gnttab.c) on plain memory,
 * without a daemon: pins check type, grantee, readonly and frame as Xen's
 * map_grant_ref does, set GTF_reading/GTF_writing while pinned, and a guest's
 * end of access fails with -EBUSY until the last pin goes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hv_proto.h"

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

	assert_int_equal(sim_gnt_pin(&f->t, 10, 0, false, &frame), -ENOENT);
	f->shared[10].domid = 0;
	f->shared[10].flags = GTF_accept_transfer;
	assert_int_equal(sim_gnt_pin(&f->t, 10, 0, false, &frame), -ENOENT);
	assert_int_equal(f->shared[10].flags, GTF_accept_transfer);
}

static void test_pin_of_ref_beyond_the_table_fails_einval(void **state)
{
	struct fixture *f = *state;
	uint32_t frame;

	assert_int_equal(sim_gnt_pin(&f->t, NR, 0, false, &frame), -EINVAL);
	assert_int_equal(sim_gnt_pin(&f->t, UINT32_MAX, 0, false, &frame), -EINVAL);
}

static void test_pin_by_another_domain_fails_eacces(void **state)
{
	struct fixture *f = *state;
	uint32_t frame;

	sim_gnt_grant_access(&f->shared[8], 3, 5, false);
	assert_int_equal(sim_gnt_pin(&f->t, 8, 0, false, &frame), -EACCES);
	assert_int_equal(f->shared[8].flags, GTF_permit_access);
}

static void test_writable_pin_of_readonly_grant_fails_eacces(void **state)
{
	struct fixture *f = *state;
	uint32_t frame;

	sim_gnt_grant_access(&f->shared[9], 0, 5, true);
	assert_int_equal(sim_gnt_pin(&f->t, 9, 0, true, &frame), -EACCES);
	assert_int_equal(f->shared[9].flags, GTF_permit_access | GTF_readonly);
	assert_int_equal(sim_gnt_pin(&f->t, 9, 0, false, &frame), 0);
	assert_int_equal(frame, 5);
	assert_int_equal(f->shared[9].flags, GTF_permit_access | GTF_readonly | GTF_reading);
	sim_gnt_unpin(&f->t, 9, false);
	assert_int_equal(f->shared[9].flags, GTF_permit_access | GTF_readonly);
}

static void test_frame_beyond_guest_ram_fails_einval_and_leaves_no_pin(void **state)
{
	struct fixture *f = *state;
	uint32_t frame;

	sim_gnt_grant_access(&f->shared[11], 0, 100, false);
	assert_int_equal(sim_gnt_pin(&f->t, 11, 0, true, &frame), -EINVAL);
	assert_int_equal(f->shared[11].flags, GTF_permit_access);
	assert_int_equal(f->active[11].pin_rw + f->active[11].pin_ro, 0);
	assert_int_equal(sim_gnt_end_access(&f->shared[11]), 0);
}

static void test_pins_set_in_use_bits_and_the_last_unpin_clears_them(void **state)
{
	struct fixture *f = *state;
	uint32_t frame;

	sim_gnt_grant_access(&f->shared[12], 0, 7, false);
	assert_int_equal(sim_gnt_pin(&f->t, 12, 0, false, &frame), 0);
	assert_int_equal(f->shared[12].flags, GTF_permit_access | GTF_reading);
	assert_int_equal(sim_gnt_pin(&f->t, 12, 0, true, &frame), 0);
	assert_int_equal(f->shared[12].flags, GTF_permit_access | GTF_reading | GTF_writing);
	assert_int_equal(sim_gnt_pin(&f->t, 12, 0, true, &frame), 0);
	sim_gnt_unpin(&f->t, 12, true);
	assert_true(f->shared[12].flags & GTF_writing);
	sim_gnt_unpin(&f->t, 12, true);
	assert_int_equal(f->shared[12].flags, GTF_permit_access | GTF_reading);
	sim_gnt_unpin(&f->t, 12, false);
	assert_int_equal(f->shared[12].flags, GTF_permit_access);
}

static void test_end_access_while_pinned_fails_ebusy_then_succeeds(void **state)
{
	struct fixture *f = *state;
	uint32_t frame;

	sim_gnt_grant_access(&f->shared[13], 0, 1, false);
	assert_int_equal(sim_gnt_pin(&f->t, 13, 0, true, &frame), 0);
	assert_int_equal(sim_gnt_end_access(&f->shared[13]), -EBUSY);
	assert_int_equal(f->shared[13].flags, GTF_permit_access | GTF_reading | GTF_writing);
	sim_gnt_unpin(&f->t, 13, true);
	assert_int_equal(sim_gnt_end_access(&f->shared[13]), 0);
	assert_int_equal(f->shared[13].flags, 0);
	assert_int_equal(sim_gnt_pin(&f->t, 13, 0, false, &frame), -ENOENT);
}

static void test_a_pinned_entry_keeps_its_frame_and_mapper(void **state)
{
	struct fixture *f = *state;
	uint32_t frame;

	sim_gnt_grant_access(&f->shared[14], 0, 20, false);
	assert_int_equal(sim_gnt_pin(&f->t, 14, 0, false, &frame), 0);
	/* A hostile guest rewrites the entry under the pin: Xen uses the
	 * frame and domid latched at the first pin. */
	f->shared[14].frame = 99;
	f->shared[14].domid = 4;
	assert_int_equal(sim_gnt_pin(&f->t, 14, 0, false, &frame), 0);
	assert_int_equal(frame, 20);
	assert_int_equal(sim_gnt_pin(&f->t, 14, 4, false, &frame), -EACCES);
	sim_gnt_unpin(&f->t, 14, false);
	sim_gnt_unpin(&f->t, 14, false);
	assert_int_equal(f->active[14].pin_ro, 0);
}

static void test_unpin_without_a_pin_changes_nothing(void **state)
{
	struct fixture *f = *state;

	sim_gnt_grant_access(&f->shared[15], 0, 2, true);
	sim_gnt_unpin(&f->t, 15, true);
	sim_gnt_unpin(&f->t, 15, false);
	sim_gnt_unpin(&f->t, NR + 1, false);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
