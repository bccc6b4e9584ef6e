/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: grant misuse fails in sim mode as it does on Xen: mapping an
 * ungranted ref, a writable map of a readonly grant, a map by a domain the
 * grant does not name, ending access while mapped (-EBUSY, fine after unmap;
 * pv_hv_share_in_use tells the guest beforehand),
 * touching the page next to a mapped frame (SIGSEGV), and a failed batch map
 * leaves nothing pinned.  Domain 1 shares, domain 0 maps.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "hv-harness.h"

static void test_handles_know_their_domain(void **state)
{
	struct t_hv_fixture *f = *state;

	assert_int_equal(pv_hv_domid(f->guest), 1);
	assert_int_equal(pv_hv_domid(f->be), 0);
	assert_string_equal(pv_hv_name(f->be), "sim");
	assert_int_equal(pv_hv_kind(f->be), PV_HV_SIM);
}

static void test_map_of_a_shared_page_sees_the_guest_data(void **state)
{
	struct t_hv_fixture *f = *state;
	uint32_t ref;
	char *g, *b;

	assert_int_equal(pv_hv_share(f->guest, 0, 1, true, &ref, (void **)&g), 0);
	assert_true(ref >= 8);
	strcpy(g, "hello from domU");
	assert_int_equal(pv_hv_map(f->be, 1, 1, &ref, true, (void **)&b), 0);
	assert_string_equal(b, "hello from domU");
	strcpy(b + 100, "reply");
	assert_string_equal(g + 100, "reply");
	assert_int_equal(pv_hv_unmap(f->be, b, 1), 0);
	assert_int_equal(pv_hv_unshare(f->guest, g, 1), 0);
}

static void test_map_of_an_ungranted_ref_fails(void **state)
{
	struct t_hv_fixture *f = *state;
	uint32_t ref = 4000, big = 1u << 20;
	void *p;

	assert_int_equal(pv_hv_map(f->be, 1, 1, &ref, false, &p), -ENOENT);
	assert_int_equal(pv_hv_map(f->be, 1, 1, &big, false, &p), -EINVAL);
	assert_int_equal(pv_hv_map(f->be, 7, 1, &ref, false, &p), -ESRCH);
}

static void test_writable_map_of_a_readonly_grant_fails(void **state)
{
	struct t_hv_fixture *f = *state;
	uint32_t ref;
	char *g, *b;

	assert_int_equal(pv_hv_share(f->guest, 0, 1, false, &ref, (void **)&g), 0);
	g[0] = 'r';
	assert_int_equal(pv_hv_map(f->be, 1, 1, &ref, true, (void **)&b), -EACCES);
	assert_int_equal(pv_hv_map(f->be, 1, 1, &ref, false, (void **)&b), 0);
	assert_int_equal(b[0], 'r');
	assert_int_equal(pv_hv_unmap(f->be, b, 1), 0);
	assert_int_equal(pv_hv_unshare(f->guest, g, 1), 0);
}

static void test_map_by_a_domain_the_grant_does_not_name_fails(void **state)
{
	struct t_hv_fixture *f = *state;
	struct pv_hv *other = t_hv_open(2);
	uint32_t ref;
	void *g, *b;

	assert_non_null(other);
	assert_int_equal(pv_hv_share(f->guest, 0, 1, true, &ref, &g), 0);
	assert_int_equal(pv_hv_map(other, 1, 1, &ref, false, &b), -EACCES);
	assert_int_equal(pv_hv_unshare(f->guest, g, 1), 0);
	pv_hv_close(other);
}

static void test_end_access_while_mapped_fails_and_succeeds_after_unmap(void **state)
{
	struct t_hv_fixture *f = *state;
	uint32_t ref;
	void *g, *b;

	assert_int_equal(pv_hv_share(f->guest, 0, 1, true, &ref, &g), 0);
	assert_int_equal(pv_hv_share_in_use(f->guest, ref), 0);
	assert_int_equal(pv_hv_map(f->be, 1, 1, &ref, false, &b), 0);
	/* What netfront asks on a response before it ends access. */
	assert_int_equal(pv_hv_share_in_use(f->guest, ref), 1);
	assert_int_equal(pv_hv_unshare(f->guest, g, 1), -EBUSY);
	assert_int_equal(pv_hv_unmap(f->be, b, 1), 0);
	assert_int_equal(pv_hv_share_in_use(f->guest, ref), 0);
	assert_int_equal(pv_hv_share_in_use(f->guest, 0x7ffffff0), -EINVAL);
	assert_int_equal(pv_hv_unshare(f->guest, g, 1), 0);
	/* access ended: the ref no longer maps */
	assert_int_equal(pv_hv_map(f->be, 1, 1, &ref, false, &b), -ENOENT);
}

static void test_unshare_of_a_batch_is_all_or_nothing(void **state)
{
	struct t_hv_fixture *f = *state;
	uint32_t refs[3];
	void *g, *b;

	assert_int_equal(pv_hv_share(f->guest, 0, 3, true, refs, &g), 0);
	assert_int_equal(pv_hv_map(f->be, 1, 1, &refs[2], true, &b), 0);
	assert_int_equal(pv_hv_unshare(f->guest, g, 3), -EBUSY);
	/* the first two were granted again, and stay mappable */
	assert_int_equal(pv_hv_unmap(f->be, b, 1), 0);
	assert_int_equal(pv_hv_map(f->be, 1, 1, &refs[0], true, &b), 0);
	assert_int_equal(pv_hv_unmap(f->be, b, 1), 0);
	assert_int_equal(pv_hv_unshare(f->guest, g, 3), 0);
}

static void test_a_batch_map_is_contiguous_and_fails_as_a_whole(void **state)
{
	struct t_hv_fixture *f = *state;
	uint32_t refs[11];
	unsigned char *g, *b;
	void *p;
	unsigned i;

	assert_int_equal(pv_hv_share(f->guest, 0, 11, true, refs, (void **)&g), 0);
	for (i = 0; i < 11; i++)
		g[i * 4096] = (unsigned char)(i + 1);
	assert_int_equal(pv_hv_map(f->be, 1, 11, refs, true, (void **)&b), 0);
	for (i = 0; i < 11; i++)
		assert_int_equal(b[i * 4096], i + 1);
	assert_int_equal(pv_hv_unmap(f->be, b, 11), 0);

	refs[5] = 4001; /* not granted */
	assert_int_equal(pv_hv_map(f->be, 1, 11, refs, true, &p), -ENOENT);
	/* nothing stayed pinned: ending access works for every page */
	assert_int_equal(pv_hv_unshare(f->guest, g, 11), 0);
}

static void test_unmap_of_an_unknown_address_fails(void **state)
{
	struct t_hv_fixture *f = *state;
	int x;

	assert_int_equal(pv_hv_unmap(f->be, &x, 1), -EINVAL);
	assert_int_equal(pv_hv_unshare(f->guest, &x, 1), -EINVAL);
}

struct touch {
	volatile char *addr;
};

static int touch_child(void *arg)
{
	struct touch *t = arg;

	return t->addr[0]; /* faults: exits with T_SEGV_EXIT */
}

static void test_touching_the_page_next_to_a_mapped_frame_faults(void **state)
{
	struct t_hv_fixture *f = *state;
	uint32_t refs[2];
	struct touch t;
	char *g, *b;
	int st;

	/* Two adjacent guest pages, only the first mapped. */
	assert_int_equal(pv_hv_share(f->guest, 0, 2, true, refs, (void **)&g), 0);
	g[4096] = 'x';
	assert_int_equal(pv_hv_map(f->be, 1, 1, refs, true, (void **)&b), 0);
	b[4095] = 'y'; /* the last byte of the mapped frame is fine */

	t.addr = b + 4096;
	st = t_fork_run(touch_child, &t);
	assert_true(WIFEXITED(st) ? WEXITSTATUS(st) == T_SEGV_EXIT :
				    WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
	t.addr = b - 1;
	st = t_fork_run(touch_child, &t);
	assert_true(WIFEXITED(st) ? WEXITSTATUS(st) == T_SEGV_EXIT :
				    WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
	assert_int_equal(pv_hv_unmap(f->be, b, 1), 0);
	assert_int_equal(pv_hv_unshare(f->guest, g, 2), 0);
}

static int write_child(void *arg)
{
	struct touch *t = arg;

	t->addr[0] = 'w'; /* readonly mapping: faults */
	return 0;
}

static void test_writing_a_readonly_mapping_faults(void **state)
{
	struct t_hv_fixture *f = *state;
	uint32_t ref;
	struct touch t;
	void *g, *b;
	int st;

	assert_int_equal(pv_hv_share(f->guest, 0, 1, true, &ref, &g), 0);
	assert_int_equal(pv_hv_map(f->be, 1, 1, &ref, false, &b), 0);
	t.addr = b;
	st = t_fork_run(write_child, &t);
	assert_true(WIFEXITED(st) ? WEXITSTATUS(st) == T_SEGV_EXIT :
				    WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
	assert_int_equal(pv_hv_unmap(f->be, b, 1), 0);
	assert_int_equal(pv_hv_unshare(f->guest, g, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handles_know_their_domain),
		cmocka_unit_test(test_map_of_a_shared_page_sees_the_guest_data),
		cmocka_unit_test(test_map_of_an_ungranted_ref_fails),
		cmocka_unit_test(test_writable_map_of_a_readonly_grant_fails),
		cmocka_unit_test(test_map_by_a_domain_the_grant_does_not_name_fails),
		cmocka_unit_test(test_end_access_while_mapped_fails_and_succeeds_after_unmap),
		cmocka_unit_test(test_unshare_of_a_batch_is_all_or_nothing),
		cmocka_unit_test(test_a_batch_map_is_contiguous_and_fails_as_a_whole),
		cmocka_unit_test(test_unmap_of_an_unknown_address_fails),
		cmocka_unit_test(test_touching_the_page_next_to_a_mapped_frame_faults),
		cmocka_unit_test(test_writing_a_readonly_mapping_faults),
	};

	return cmocka_run_group_tests(tests, t_hv_fixture_setup, t_hv_fixture_teardown);
}
