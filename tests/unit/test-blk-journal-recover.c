// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: the in-flight journal (blkback/journal.c) tells a restarted
 * daemon exactly which requests its killed predecessor owes: those consumed
 * and not answered, and those answered whose response was not pushed
 * (index at or above the shared rsp_prod), in ring order across index
 * wrap-around, never those the frontend has seen; where to go on
 * consuming; and refuses (-EUCLEAN) a journal that disagrees with the
 * ring's indexes, (-ESTALE) another ring's journal, (-ENOENT) none.
 * A second recovery (killed again before anything moved) owes the same.
 * On plain files in a temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../blkback/blkback.h"

#define SLOTS 8

struct fx {
	char dir[64], path[96];
	struct blk_journal_id id;
	struct blk_journal *j;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/pvback-journal.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/vbd-1-51712-q0.journal", f->dir);
	f->id = (struct blk_journal_id){ .domid = 1, .evtchn = 5, .nr_ring_pages = 1,
					 .ring_refs = { 8 }, .nr_slots = SLOTS,
					 .ent_size = BLKIF_MAX_ENT_SIZE };
	assert_int_equal(blk_journal_create(f->path, &f->id, &f->j), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	blk_journal_close(f->j, true);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* A request whose first byte names it. */
static void consume(struct fx *f, unsigned slot, RING_IDX idx)
{
	uint8_t ent[BLKIF_MAX_ENT_SIZE] = { 0 };

	ent[0] = (uint8_t)idx;
	blk_journal_consumed(f->j, slot, idx, ent, sizeof(ent));
}

/* "Kill": drop our mapping without removing the file, then reopen it. */
static void kill_and_reopen(struct fx *f)
{
	blk_journal_close(f->j, false);
	f->j = NULL;
	assert_int_equal(blk_journal_reopen(f->path, &f->id, &f->j), 0);
}

static void test_a_clean_journal_owes_nothing(void **state)
{
	struct fx *f = *state;
	unsigned slots[SLOTS], n = 99;
	RING_IDX cons = 99;

	consume(f, 0, 0);
	blk_journal_answered(f->j, 0, 0);
	blk_journal_released(f->j, 0);
	kill_and_reopen(f);
	assert_int_equal(blk_journal_recover(f->j, 1, 1, &cons, slots, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(cons, 1);
}

static void test_unanswered_requests_are_owed_in_ring_order(void **state)
{
	struct fx *f = *state;
	unsigned slots[SLOTS], n;
	RING_IDX cons;

	/* Four requests in slots 3,1,0,2; the 2nd and 4th answered and pushed. */
	consume(f, 3, 0);
	consume(f, 1, 1);
	consume(f, 0, 2);
	consume(f, 2, 3);
	blk_journal_answered(f->j, 1, 0);
	blk_journal_answered(f->j, 2, 1);
	blk_journal_released(f->j, 1);
	kill_and_reopen(f);
	assert_int_equal(blk_journal_recover(f->j, 2, 6, &cons, slots, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(slots[0], 3); /* ring index 0 */
	assert_int_equal(slots[1], 0); /* ring index 2 */
	assert_int_equal(((const uint8_t *)blk_journal_entry(f->j, slots[1]))[0], 2);
	assert_int_equal(cons, 4);
}

static void test_an_answer_not_pushed_is_owed_again(void **state)
{
	struct fx *f = *state;
	unsigned slots[SLOTS], n;
	RING_IDX cons;

	consume(f, 0, 0);
	consume(f, 1, 1);
	consume(f, 2, 2);
	blk_journal_answered(f->j, 2, 0); /* pushed: rsp_prod 1 */
	blk_journal_answered(f->j, 0, 1); /* written, killed before the push */
	kill_and_reopen(f);
	assert_int_equal(blk_journal_recover(f->j, 1, 3, &cons, slots, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(slots[0], 0);
	assert_int_equal(slots[1], 1);
	assert_int_equal(cons, 3);
	/* Killed again before anything moved: the same is owed. */
	kill_and_reopen(f);
	assert_int_equal(blk_journal_recover(f->j, 1, 3, &cons, slots, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(slots[0], 0);
	assert_int_equal(slots[1], 1);
}

static void test_ring_order_holds_across_index_wrap_around(void **state)
{
	struct fx *f = *state;
	unsigned slots[SLOTS], n;
	RING_IDX cons;

	consume(f, 5, 0xfffffffeu);
	consume(f, 4, 0xffffffffu);
	consume(f, 7, 0);
	consume(f, 6, 1);
	blk_journal_answered(f->j, 4, 0xfffffffeu);
	kill_and_reopen(f);
	assert_int_equal(blk_journal_recover(f->j, 0xffffffffu, 2, &cons, slots, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(slots[0], 5);
	assert_int_equal(slots[1], 7);
	assert_int_equal(slots[2], 6);
	assert_int_equal(cons, 2);
}

static void test_a_journal_that_disagrees_with_the_ring_is_refused(void **state)
{
	struct fx *f = *state;
	unsigned slots[SLOTS], n;
	RING_IDX cons;

	consume(f, 0, 0);
	consume(f, 1, 1);
	kill_and_reopen(f);
	/* rsp_prod says one was answered, the journal says none was. */
	assert_int_equal(blk_journal_recover(f->j, 1, 2, &cons, slots, &n), -EUCLEAN);
	/* More requests pushed than the ring holds beyond what we consumed. */
	assert_int_equal(blk_journal_recover(f->j, 0, 2 + SLOTS + 1, &cons, slots, &n), -EUCLEAN);
}

static void test_another_rings_journal_is_stale_and_none_is_enoent(void **state)
{
	struct fx *f = *state;
	struct blk_journal_id other = f->id;
	struct blk_journal *j;
	char missing[128];

	other.ring_refs[0] = 9; /* a new connection: other grants */
	assert_int_equal(blk_journal_reopen(f->path, &other, &j), -ESTALE);
	other = f->id;
	other.nr_slots = SLOTS * 2;
	assert_int_equal(blk_journal_reopen(f->path, &other, &j), -ESTALE);
	snprintf(missing, sizeof(missing), "%s/none.journal", f->dir);
	assert_int_equal(blk_journal_reopen(missing, &f->id, &j), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_clean_journal_owes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unanswered_requests_are_owed_in_ring_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_an_answer_not_pushed_is_owed_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_order_holds_across_index_wrap_around, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_journal_that_disagrees_with_the_ring_is_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_another_rings_journal_is_stale_and_none_is_enoent,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
