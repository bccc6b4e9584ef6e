// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: xenstore directories (sim/xs_store.c) list children in
 * creation order as xenstored does, removal keeps the order of the rest,
 * WRITE creates missing parents, and a directory's generation changes
 * whenever its child list does (DIRECTORY_PART relies on it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "xs-store-helpers.h"

static struct t_store fx; /* the running case's store (t_store_setup) */

static void expect_children(const char *path, const char *want, uint32_t wantlen)
{
	struct sim_xs_caller dom0 = t_dom(0);
	const char *ch;
	uint32_t len;

	assert_int_equal(sim_xs_store_directory(fx.store, &dom0, path, &ch, &len, NULL), 0);
	assert_int_equal(len, wantlen);
	assert_memory_equal(ch, want, wantlen);
}

static void test_initial_tree_is_xenstoreds(void **state)
{
	expect_children("/", "tool\0local", 11);
	expect_children("/tool", "xenstored", 10);
	expect_children("/local", "domain", 7);
	expect_children("/local/domain", "", 0);
}

static void test_children_are_listed_in_creation_order(void **state)
{
	struct sim_xs_caller dom0 = t_dom(0);

	assert_int_equal(t_write(fx.store, &dom0, "/d/zeta", ""), 0);
	assert_int_equal(t_write(fx.store, &dom0, "/d/alpha", ""), 0);
	assert_int_equal(sim_xs_store_mkdir(fx.store, &dom0, "/d/mid"), 0);
	assert_int_equal(t_write(fx.store, &dom0, "/d/alpha", "again"), 0);
	expect_children("/d", "zeta\0alpha\0mid", 15);
	assert_int_equal(sim_xs_store_rm(fx.store, &dom0, "/d/alpha"), 0);
	expect_children("/d", "zeta\0mid", 9);
	assert_int_equal(t_write(fx.store, &dom0, "/d/alpha", ""), 0);
	expect_children("/d", "zeta\0mid\0alpha", 15);
}

static void test_write_creates_missing_parents_empty(void **state)
{
	struct sim_xs_caller dom0 = t_dom(0);

	assert_int_equal(t_write(fx.store, &dom0, "/p/q/r", "v"), 0);
	assert_string_equal(t_read(fx.store, &dom0, "/p"), "");
	assert_string_equal(t_read(fx.store, &dom0, "/p/q"), "");
	expect_children("/p", "q", 2);
	/* mkdir leaves existing values alone. */
	assert_int_equal(sim_xs_store_mkdir(fx.store, &dom0, "/p/q/r"), 0);
	assert_string_equal(t_read(fx.store, &dom0, "/p/q/r"), "v");
}

static void test_generation_changes_with_the_child_list(void **state)
{
	struct sim_xs_caller dom0 = t_dom(0);
	const char *ch;
	uint32_t len;
	uint64_t g1, g2, g3;

	assert_int_equal(sim_xs_store_mkdir(fx.store, &dom0, "/g"), 0);
	assert_int_equal(sim_xs_store_directory(fx.store, &dom0, "/g", &ch, &len, &g1), 0);
	assert_int_equal(sim_xs_store_directory(fx.store, &dom0, "/g", &ch, &len, &g2), 0);
	assert_true(g1 == g2);
	assert_int_equal(t_write(fx.store, &dom0, "/g/c", ""), 0);
	assert_int_equal(sim_xs_store_directory(fx.store, &dom0, "/g", &ch, &len, &g3), 0);
	assert_true(g3 != g2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_STORE_CASE(test_initial_tree_is_xenstoreds, &fx),
		T_STORE_CASE(test_children_are_listed_in_creation_order, &fx),
		T_STORE_CASE(test_write_creates_missing_parents_empty, &fx),
		T_STORE_CASE(test_generation_changes_with_the_child_list, &fx),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
