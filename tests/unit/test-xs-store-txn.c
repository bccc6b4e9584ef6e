// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: xenstore transactions (sim/xs_store.c) as xenstored 4.17 runs
 * them: reads and writes see a private view, commit fails with EAGAIN when
 * anything the transaction read or wrote changed meanwhile (including a
 * node it saw absent being created), commits apply atomically and fire
 * their watches only then, and an abort leaves nothing behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "xs-store-helpers.h"

static struct t_store fx; /* the running case's store (t_store_setup) */

static void test_writer_outside_makes_commit_fail_with_eagain(void **state)
{
	struct sim_xs_caller g = t_dom(0), tc = t_dom(0);

	assert_int_equal(t_write(fx.store, &g, "/k", "a"), 0);
	assert_int_equal(sim_xs_store_txn_start(fx.store, &tc.txn), 0);
	assert_string_equal(t_read(fx.store, &tc, "/k"), "a");
	assert_int_equal(t_write(fx.store, &g, "/k", "b"), 0);
	assert_int_equal(t_write(fx.store, &tc, "/k", "c"), 0);
	assert_int_equal(sim_xs_store_txn_end(fx.store, &tc, tc.txn, true), -EAGAIN);
	assert_string_equal(t_read(fx.store, &g, "/k"), "b");
}

static void test_node_created_meanwhile_conflicts(void **state)
{
	struct sim_xs_caller g = t_dom(0), tc = t_dom(0);

	assert_int_equal(sim_xs_store_txn_start(fx.store, &tc.txn), 0);
	assert_null(t_read(fx.store, &tc, "/new"));
	assert_int_equal(t_write(fx.store, &g, "/new", "x"), 0);
	assert_int_equal(t_write(fx.store, &tc, "/other", "y"), 0);
	assert_int_equal(sim_xs_store_txn_end(fx.store, &tc, tc.txn, true), -EAGAIN);
	assert_null(t_read(fx.store, &g, "/other"));
}

static void test_unrelated_change_does_not_conflict(void **state)
{
	struct sim_xs_caller g = t_dom(0), tc = t_dom(0);

	assert_int_equal(t_write(fx.store, &g, "/k", "a"), 0);
	assert_int_equal(sim_xs_store_txn_start(fx.store, &tc.txn), 0);
	assert_int_equal(t_write(fx.store, &tc, "/k", "t"), 0);
	assert_int_equal(t_write(fx.store, &g, "/unrelated", "u"), 0);
	assert_string_equal(t_read(fx.store, &tc, "/k"), "t");
	assert_string_equal(t_read(fx.store, &g, "/k"), "a"); /* not visible before commit */
	fx.events.log[0] = '\0';
	assert_int_equal(sim_xs_store_txn_end(fx.store, &tc, tc.txn, true), 0);
	assert_string_equal(t_read(fx.store, &g, "/k"), "t");
	assert_string_equal(fx.events.log, "/k\n");
}

static void test_commit_applies_creates_and_removes_with_their_watches(void **state)
{
	struct sim_xs_caller g = t_dom(0), tc = t_dom(0);

	assert_int_equal(t_write(fx.store, &g, "/d/old", "o"), 0);
	assert_int_equal(sim_xs_store_txn_start(fx.store, &tc.txn), 0);
	fx.events.log[0] = '\0';
	assert_int_equal(t_write(fx.store, &tc, "/d/new/leaf", "n"), 0);
	assert_int_equal(sim_xs_store_rm(fx.store, &tc, "/d/old"), 0);
	assert_string_equal(fx.events.log, ""); /* nothing fires inside */
	assert_non_null(t_read(fx.store, &g, "/d/old"));
	assert_int_equal(sim_xs_store_txn_end(fx.store, &tc, tc.txn, true), 0);
	assert_string_equal(t_read(fx.store, &g, "/d/new/leaf"), "n");
	assert_null(t_read(fx.store, &g, "/d/old"));
	assert_non_null(strstr(fx.events.log, "/d/new/leaf\n"));
	assert_non_null(strstr(fx.events.log, "/d/old\n"));
}

static void test_abort_leaves_nothing_behind(void **state)
{
	struct sim_xs_caller g = t_dom(0), tc = t_dom(0);
	unsigned int n = sim_xs_store_count(fx.store);

	assert_int_equal(sim_xs_store_txn_start(fx.store, &tc.txn), 0);
	assert_int_equal(t_write(fx.store, &tc, "/x/y/z", "v"), 0);
	assert_int_equal(sim_xs_store_txn_end(fx.store, &tc, tc.txn, false), 0);
	assert_null(t_read(fx.store, &g, "/x"));
	assert_int_equal(sim_xs_store_count(fx.store), n);
	assert_int_equal(fx.events.n, 0);
}

static void test_second_commit_of_crossed_transactions_fails(void **state)
{
	/* The example of xenstored_transaction.c: TA1 reads A writes B, TA2 reads B writes A. */
	struct sim_xs_caller g = t_dom(0), t1 = t_dom(0), t2 = t_dom(0);

	assert_int_equal(t_write(fx.store, &g, "/A", "a"), 0);
	assert_int_equal(t_write(fx.store, &g, "/B", "b"), 0);
	assert_int_equal(sim_xs_store_txn_start(fx.store, &t1.txn), 0);
	assert_int_equal(sim_xs_store_txn_start(fx.store, &t2.txn), 0);
	assert_non_null(t_read(fx.store, &t1, "/A"));
	assert_non_null(t_read(fx.store, &t2, "/B"));
	assert_int_equal(t_write(fx.store, &t1, "/B", "1"), 0);
	assert_int_equal(t_write(fx.store, &t2, "/A", "2"), 0);
	assert_int_equal(sim_xs_store_txn_end(fx.store, &t1, t1.txn, true), 0);
	assert_int_equal(sim_xs_store_txn_end(fx.store, &t2, t2.txn, true), -EAGAIN);
	assert_string_equal(t_read(fx.store, &g, "/A"), "a");
	assert_string_equal(t_read(fx.store, &g, "/B"), "1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_STORE_CASE(test_writer_outside_makes_commit_fail_with_eagain, &fx),
		T_STORE_CASE(test_node_created_meanwhile_conflicts, &fx),
		T_STORE_CASE(test_unrelated_change_does_not_conflict, &fx),
		T_STORE_CASE(test_commit_applies_creates_and_removes_with_their_watches, &fx),
		T_STORE_CASE(test_abort_leaves_nothing_behind, &fx),
		T_STORE_CASE(test_second_commit_of_crossed_transactions_fails, &fx),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
