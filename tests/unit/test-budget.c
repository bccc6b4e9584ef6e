/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: the mapping budget (common/budget.c; issue 13 fault 1: one
 * guest's maps used up vm.max_map_count and every other guest's I/O
 * failed).  A queue's reserve is its own: with a guest's pool and the
 * process pool exhausted by others it still maps its largest request.
 * Beyond the reserve a take draws from both pools and is refused (a wait,
 * counted) when either is full; giving back frees exactly what was drawn.
 * Mappings kept beyond a request (_shared) never use the reserve.  Pools
 * of domains are separate; a user that goes gives back what it held.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pvcommon.h"

#define GUEST 100u
#define TOTAL 150u

static int setup(void **state)
{
	pv_budget_set_limits(GUEST, TOTAL);
	return 0;
}

static unsigned guest_used(const struct pv_budget_user *u)
{
	struct pv_budget_info i;

	pv_budget_info(u, &i);
	return i.guest_used;
}

static unsigned total_used(const struct pv_budget_user *u)
{
	struct pv_budget_info i;

	pv_budget_info(u, &i);
	return i.total_used;
}

static void test_the_reserve_is_always_there(void **state)
{
	struct pv_budget_user hog, other;

	assert_int_equal(pv_budget_user_init(&hog, 1, 256), 0);
	assert_int_equal(pv_budget_user_init(&other, 2, 256), 0);
	/* The hog: its reserve, then its whole guest pool. */
	assert_true(pv_budget_take(&hog, 256));
	assert_true(pv_budget_take(&hog, GUEST));
	assert_false(pv_budget_take(&hog, 1));
	assert_int_equal(hog.waits, 1);
	assert_int_equal(guest_used(&hog), GUEST);
	/* Another guest maps a largest request regardless. */
	assert_true(pv_budget_take(&other, 256));
	pv_budget_give(&other, 256);
	pv_budget_give(&hog, 256 + GUEST);
	assert_int_equal(total_used(&hog), 0);
	pv_budget_user_fini(&hog);
	pv_budget_user_fini(&other);
}

static void test_the_process_pool_bounds_all_guests(void **state)
{
	struct pv_budget_user a, b;

	assert_int_equal(pv_budget_user_init(&a, 1, 10), 0);
	assert_int_equal(pv_budget_user_init(&b, 2, 10), 0);
	assert_true(pv_budget_take(&a, 10 + GUEST));   /* 100 of the 150 */
	assert_false(pv_budget_take(&b, 10 + 60));     /* 60 more: over 150 */
	assert_int_equal(guest_used(&b), 0);          /* a refused take holds nothing */
	assert_true(pv_budget_take(&b, 10 + 50));
	assert_int_equal(total_used(&a), TOTAL);
	pv_budget_give(&a, 10 + GUEST);
	assert_int_equal(total_used(&a), 50);
	pv_budget_give(&b, 10 + 50);
	assert_int_equal(total_used(&b), 0);
	pv_budget_user_fini(&a);
	pv_budget_user_fini(&b);
}

static void test_queues_of_one_guest_share_its_pool(void **state)
{
	struct pv_budget_user q0, q1;

	assert_int_equal(pv_budget_user_init(&q0, 3, 8), 0);
	assert_int_equal(pv_budget_user_init(&q1, 3, 8), 0);
	assert_true(pv_budget_take(&q0, 8 + 70));
	assert_false(pv_budget_take(&q1, 8 + 31));
	assert_true(pv_budget_take(&q1, 8 + 30));
	assert_int_equal(guest_used(&q1), GUEST);
	/* Given back in parts: the reserve is refilled last. */
	pv_budget_give(&q0, 70);
	assert_int_equal(guest_used(&q0), 30);
	pv_budget_give(&q0, 8);
	pv_budget_give(&q1, 8 + 30);
	assert_int_equal(guest_used(&q0), 0);
	pv_budget_user_fini(&q0);
	pv_budget_user_fini(&q1);
}

static void test_shared_takes_never_use_the_reserve(void **state)
{
	struct pv_budget_user u;

	assert_int_equal(pv_budget_user_init(&u, 4, 256), 0);
	assert_true(pv_budget_take_shared(&u, GUEST));
	assert_false(pv_budget_take_shared(&u, 1));
	assert_true(pv_budget_take(&u, 256)); /* the reserve is untouched */
	pv_budget_give(&u, 256);
	pv_budget_give_shared(&u, GUEST);
	assert_int_equal(guest_used(&u), 0);
	pv_budget_user_fini(&u);
}

static void test_a_user_that_goes_gives_back_what_it_held(void **state)
{
	struct pv_budget_user u;

	assert_int_equal(pv_budget_user_init(&u, 5, 0), 0);
	assert_true(pv_budget_take(&u, 60));
	assert_true(pv_budget_take_shared(&u, 40));
	pv_budget_user_fini(&u);
	assert_int_equal(pv_budget_user_init(&u, 5, 0), 0);
	assert_int_equal(guest_used(&u), 0);
	assert_int_equal(total_used(&u), 0);
	assert_true(pv_budget_take(&u, 1));
	pv_budget_give(&u, 1);
	pv_budget_user_fini(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_reserve_is_always_there),
		cmocka_unit_test(test_the_process_pool_bounds_all_guests),
		cmocka_unit_test(test_queues_of_one_guest_share_its_pool),
		cmocka_unit_test(test_shared_takes_never_use_the_reserve),
		cmocka_unit_test(test_a_user_that_goes_gives_back_what_it_held),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
