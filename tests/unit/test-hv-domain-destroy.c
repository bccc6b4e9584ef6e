/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: destroying a domain in sim mode acts as a crashed guest on
 * Xen: its grants are revoked (new maps and copies fail) while a mapping a
 * backend already holds stays readable until unmapped, its channels close
 * (the backend's end turns unbound), the guest's handle stops working, a
 * re-created domain with the same id is fresh, and a process that claimed
 * its domain takes the domain down when it closes or exits.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hv-harness.h"

static void test_destroy_revokes_grants_but_keeps_existing_mappings(void **state)
{
	struct t_hv_fixture *f = *state;
	struct pv_hv *guest;
	uint32_t refs[2];
	char *g, *b, *b2, buf[8];
	int gp, bp;

	assert_int_equal(t_sim_domain_create(f->ts, 3, 8 << 20), 0);
	guest = t_hv_open(3);
	assert_non_null(guest);
	assert_int_equal(pv_hv_share(guest, 0, 2, true, refs, (void **)&g), 0);
	strcpy(g, "still here");
	assert_int_equal(pv_hv_map(f->be, 3, 1, &refs[0], true, (void **)&b), 0);
	gp = pv_hv_evtchn_alloc(guest, 0);
	assert_true(gp > 0);
	bp = pv_hv_evtchn_bind(f->be, 3, (uint32_t)gp);
	assert_true(bp > 0);

	assert_int_equal(t_sim_domain_destroy(f->ts, 3), 0);

	assert_int_equal(pv_hv_map(f->be, 3, 1, &refs[1], false, (void **)&b2), -ESRCH);
	struct pv_hv_copy_seg seg = { .ref = refs[0], .domid = 3, .local = buf, .len = 8 };
	assert_int_equal(pv_hv_copy(f->be, 1, &seg), -ESRCH);
	assert_string_equal(b, "still here");
	b[100] = 1; /* still our memory */
	assert_int_equal(pv_hv_unmap(f->be, b, 1), 0);

	/* channels: ours is unbound (silent), the guest's handle is cut off */
	assert_int_equal(pv_hv_evtchn_notify(f->be, (uint32_t)bp), 0);
	assert_true(pv_hv_evtchn_notify(guest, (uint32_t)gp) < 0);
	assert_true(pv_hv_evtchn_alloc(guest, 0) < 0);
	assert_int_equal(pv_hv_evtchn_close(f->be, (uint32_t)bp), 0);
	pv_hv_close(guest);
	assert_int_equal(t_sim_domain_destroy(f->ts, 3), -ESRCH);
}

static void test_a_recreated_domain_starts_fresh(void **state)
{
	struct t_hv_fixture *f = *state;
	struct pv_hv *guest;
	uint32_t ref;
	char *g, *b;

	assert_int_equal(t_sim_domain_create(f->ts, 3, 8 << 20), 0);
	guest = t_hv_open(3);
	assert_non_null(guest);
	assert_int_equal(pv_hv_share(guest, 0, 1, true, &ref, (void **)&g), 0);
	strcpy(g, "second life");
	assert_int_equal(pv_hv_map(f->be, 3, 1, &ref, false, (void **)&b), 0);
	assert_string_equal(b, "second life");
	assert_int_equal(pv_hv_unmap(f->be, b, 1), 0);
	assert_int_equal(pv_hv_unshare(guest, g, 1), 0);
	pv_hv_close(guest);
	assert_int_equal(t_sim_domain_destroy(f->ts, 3), 0);
}

static void test_closing_a_claiming_handle_destroys_its_domain(void **state)
{
	struct t_hv_fixture *f = *state;
	unsigned before = t_sim_crashes(f->ts);
	struct pv_hv *guest, *plain;
	uint32_t ref, ref2;
	char *g, *b;

	assert_int_equal(t_sim_domain_create(f->ts, 4, 8 << 20), 0);
	guest = t_hv_open(4);
	plain = t_hv_open(4);
	assert_non_null(guest);
	assert_non_null(plain);
	assert_int_equal(pv_hv_sim_claim(guest), 0);
	assert_int_equal(pv_hv_share(guest, 0, 1, true, &ref, (void **)&g), 0);
	assert_int_equal(pv_hv_share(guest, 0, 1, true, &ref2, (void **)&g), 0);
	strcpy(g, "crash");
	assert_int_equal(pv_hv_map(f->be, 4, 1, &ref2, false, (void **)&b), 0);

	pv_hv_close(plain); /* an unclaimed handle going away is harmless */
	t_sim_sync(f->ts);
	assert_int_equal(t_sim_crashes(f->ts), before);

	pv_hv_close(guest);
	t_sim_sync(f->ts);
	assert_int_equal(t_sim_crashes(f->ts), before + 1);
	assert_int_equal(pv_hv_map(f->be, 4, 1, &ref, false, (void **)&g), -ESRCH);
	assert_string_equal(b, "crash");
	assert_int_equal(pv_hv_unmap(f->be, b, 1), 0);
}

static int claim_and_exit(void *arg)
{
	struct pv_hv *hv = t_hv_open(5);

	if (!hv || pv_hv_sim_claim(hv) < 0)
		return 1;
	return 0; /* exit without closing: the kernel closes the socket */
}

static void test_a_claiming_process_that_exits_takes_its_domain_down(void **state)
{
	struct t_hv_fixture *f = *state;
	unsigned before = t_sim_crashes(f->ts);
	int st;

	assert_int_equal(t_sim_domain_create(f->ts, 5, 1 << 20), 0);
	st = t_fork_run(claim_and_exit, NULL);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	t_sim_sync(f->ts);
	assert_int_equal(t_sim_crashes(f->ts), before + 1);
	assert_int_equal(t_sim_domain_destroy(f->ts, 5), -ESRCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_destroy_revokes_grants_but_keeps_existing_mappings),
		cmocka_unit_test(test_a_recreated_domain_starts_fresh),
		cmocka_unit_test(test_closing_a_claiming_handle_destroys_its_domain),
		cmocka_unit_test(test_a_claiming_process_that_exits_takes_its_domain_down),
	};

	return cmocka_run_group_tests(tests, t_hv_fixture_setup, t_hv_fixture_teardown);
}
