/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: grant copy in sim mode, as GNTTABOP_copy: both directions move
 * the data, a readonly grant cannot be a destination, offset + len beyond the
 * page is refused, each segment reports its own status, and a copy leaves no
 * pin behind (the guest can end access right after).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hv-harness.h"

static void test_copy_moves_data_both_ways(void **state)
{
	struct t_hv_fixture *f = *state;
	char local[64] = "backend data", back[64] = { 0 };
	uint32_t ref;
	char *g;

	assert_int_equal(pv_hv_share(f->guest, 0, 1, true, &ref, (void **)&g), 0);
	strcpy(g + 1000, "guest data");

	struct pv_hv_copy_seg segs[2] = {
		{ .ref = ref, .domid = 1, .offset = 100, .local = local, .len = 13,
		  .to_guest = true },
		{ .ref = ref, .domid = 1, .offset = 1000, .local = back, .len = 11 },
	};
	assert_int_equal(pv_hv_copy(f->be, 2, segs), 0);
	assert_int_equal(segs[0].status, 0);
	assert_int_equal(segs[1].status, 0);
	assert_string_equal(g + 100, "backend data");
	assert_string_equal(back, "guest data");
	/* no pin left behind */
	assert_int_equal(pv_hv_unshare(f->guest, g, 1), 0);
}

static void test_copy_to_a_readonly_grant_fails(void **state)
{
	struct t_hv_fixture *f = *state;
	char local[16] = "x", back[16] = { 0 };
	uint32_t ref;
	char *g;

	assert_int_equal(pv_hv_share(f->guest, 0, 1, false, &ref, (void **)&g), 0);
	g[0] = 'r';
	struct pv_hv_copy_seg segs[2] = {
		{ .ref = ref, .domid = 1, .local = local, .len = 1, .to_guest = true },
		{ .ref = ref, .domid = 1, .local = back, .len = 1 },
	};
	assert_int_equal(pv_hv_copy(f->be, 2, segs), -EACCES);
	assert_int_equal(segs[0].status, -EACCES);
	assert_int_equal(segs[1].status, 0); /* the next segment still ran */
	assert_int_equal(back[0], 'r');
	assert_int_equal(g[0], 'r');
	assert_int_equal(pv_hv_unshare(f->guest, g, 1), 0);
}

static void test_copy_beyond_the_page_or_of_a_bad_ref_fails(void **state)
{
	struct t_hv_fixture *f = *state;
	char buf[4096];
	uint32_t ref;
	void *g;

	assert_int_equal(pv_hv_share(f->guest, 0, 1, true, &ref, &g), 0);
	struct pv_hv_copy_seg segs[4] = {
		{ .ref = ref, .domid = 1, .offset = 4000, .local = buf, .len = 97 },
		{ .ref = 4002, .domid = 1, .local = buf, .len = 1 },
		{ .ref = ref, .domid = 9, .local = buf, .len = 1 },
		{ .ref = ref, .domid = 1, .offset = 0, .local = buf, .len = 4096 },
	};
	assert_int_equal(pv_hv_copy(f->be, 4, segs), -EINVAL);
	assert_int_equal(segs[0].status, -EINVAL);
	assert_int_equal(segs[1].status, -ENOENT);
	assert_int_equal(segs[2].status, -ESRCH);
	assert_int_equal(segs[3].status, 0);
	assert_int_equal(pv_hv_unshare(f->guest, g, 1), 0);
}

static void test_copy_by_a_domain_the_grant_does_not_name_fails(void **state)
{
	struct t_hv_fixture *f = *state;
	struct pv_hv *other = t_hv_open(2);
	char buf[8];
	uint32_t ref;
	void *g;

	assert_non_null(other);
	assert_int_equal(pv_hv_share(f->guest, 0, 1, true, &ref, &g), 0);
	struct pv_hv_copy_seg seg = { .ref = ref, .domid = 1, .local = buf, .len = 8 };
	assert_int_equal(pv_hv_copy(other, 1, &seg), -EACCES);
	assert_int_equal(pv_hv_unshare(f->guest, g, 1), 0);
	pv_hv_close(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_moves_data_both_ways),
		cmocka_unit_test(test_copy_to_a_readonly_grant_fails),
		cmocka_unit_test(test_copy_beyond_the_page_or_of_a_bad_ref_fails),
		cmocka_unit_test(test_copy_by_a_domain_the_grant_does_not_name_fails),
	};

	return cmocka_run_group_tests(tests, t_hv_fixture_setup, t_hv_fixture_teardown);
}
