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
 * Records hold any protocol's entry (a 148-byte usbif urb request too),
 * and a truncated or corrupted journal is refused, never trusted: one
 * ring index owed twice, an unpushed answer beyond req_cons (issue 13,
 * found by tests/fuzz/fuzz-journal.c), and a refusal changes nothing.
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
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "pvcommon.h"

#define SLOTS 8
#define ENT 112 /* a blkif ring entry */

struct fx {
	char dir[64], path[96];
	struct pv_journal_id id;
	struct pv_journal *j;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/pvback-journal.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/vbd-1-51712-q0.journal", f->dir);
	f->id = (struct pv_journal_id){ .domid = 1, .evtchn = 5, .nr_refs = 1,
					 .refs = { 8 }, .nr_slots = SLOTS,
					 .ent_size = ENT };
	assert_int_equal(pv_journal_create(f->path, &f->id, &f->j), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	pv_journal_close(f->j, true);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* A request whose first byte names it. */
static void consume(struct fx *f, unsigned slot, uint32_t idx)
{
	uint8_t ent[ENT] = { 0 };

	ent[0] = (uint8_t)idx;
	pv_journal_consumed(f->j, slot, idx, ent, sizeof(ent));
}

/* "Kill": drop our mapping without removing the file, then reopen it. */
static void kill_and_reopen(struct fx *f)
{
	pv_journal_close(f->j, false);
	f->j = NULL;
	assert_int_equal(pv_journal_reopen(f->path, &f->id, &f->j), 0);
}

static void test_a_clean_journal_owes_nothing(void **state)
{
	struct fx *f = *state;
	unsigned slots[SLOTS], n = 99;
	uint32_t cons = 99;

	consume(f, 0, 0);
	pv_journal_answered(f->j, 0, 0);
	pv_journal_released(f->j, 0);
	kill_and_reopen(f);
	assert_int_equal(pv_journal_recover(f->j, 1, 1, &cons, slots, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(cons, 1);
}

static void test_unanswered_requests_are_owed_in_ring_order(void **state)
{
	struct fx *f = *state;
	unsigned slots[SLOTS], n;
	uint32_t cons;

	/* Four requests in slots 3,1,0,2; the 2nd and 4th answered and pushed. */
	consume(f, 3, 0);
	consume(f, 1, 1);
	consume(f, 0, 2);
	consume(f, 2, 3);
	pv_journal_answered(f->j, 1, 0);
	pv_journal_answered(f->j, 2, 1);
	pv_journal_released(f->j, 1);
	kill_and_reopen(f);
	assert_int_equal(pv_journal_recover(f->j, 2, 6, &cons, slots, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(slots[0], 3); /* ring index 0 */
	assert_int_equal(slots[1], 0); /* ring index 2 */
	assert_int_equal(((const uint8_t *)pv_journal_entry(f->j, slots[1]))[0], 2);
	assert_int_equal(cons, 4);
}

static void test_an_answer_not_pushed_is_owed_again(void **state)
{
	struct fx *f = *state;
	unsigned slots[SLOTS], n;
	uint32_t cons;

	consume(f, 0, 0);
	consume(f, 1, 1);
	consume(f, 2, 2);
	pv_journal_answered(f->j, 2, 0); /* pushed: rsp_prod 1 */
	pv_journal_answered(f->j, 0, 1); /* written, killed before the push */
	kill_and_reopen(f);
	assert_int_equal(pv_journal_recover(f->j, 1, 3, &cons, slots, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(slots[0], 0);
	assert_int_equal(slots[1], 1);
	assert_int_equal(cons, 3);
	/* Killed again before anything moved: the same is owed. */
	kill_and_reopen(f);
	assert_int_equal(pv_journal_recover(f->j, 1, 3, &cons, slots, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(slots[0], 0);
	assert_int_equal(slots[1], 1);
}

static void test_ring_order_holds_across_index_wrap_around(void **state)
{
	struct fx *f = *state;
	unsigned slots[SLOTS], n;
	uint32_t cons;

	consume(f, 5, 0xfffffffeu);
	consume(f, 4, 0xffffffffu);
	consume(f, 7, 0);
	consume(f, 6, 1);
	pv_journal_answered(f->j, 4, 0xfffffffeu);
	kill_and_reopen(f);
	assert_int_equal(pv_journal_recover(f->j, 0xffffffffu, 2, &cons, slots, &n), 0);
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
	uint32_t cons;

	consume(f, 0, 0);
	consume(f, 1, 1);
	kill_and_reopen(f);
	/* rsp_prod says one was answered, the journal says none was. */
	assert_int_equal(pv_journal_recover(f->j, 1, 2, &cons, slots, &n), -EUCLEAN);
	/* More requests pushed than the ring holds beyond what we consumed. */
	assert_int_equal(pv_journal_recover(f->j, 0, 2 + SLOTS + 1, &cons, slots, &n), -EUCLEAN);
}

static void test_another_rings_journal_is_stale_and_none_is_enoent(void **state)
{
	struct fx *f = *state;
	struct pv_journal_id other = f->id;
	struct pv_journal *j;
	char missing[128];

	other.refs[0] = 9; /* a new connection: other grants */
	assert_int_equal(pv_journal_reopen(f->path, &other, &j), -ESTALE);
	other = f->id;
	other.nr_slots = SLOTS * 2;
	assert_int_equal(pv_journal_reopen(f->path, &other, &j), -ESTALE);
	snprintf(missing, sizeof(missing), "%s/none.journal", f->dir);
	assert_int_equal(pv_journal_reopen(missing, &f->id, &j), -ENOENT);
}

static void test_a_record_holds_a_148_byte_urb_request(void **state)
{
	struct fx *f = *state;
	struct pv_journal_id id = f->id;
	uint8_t urb[148], *got;
	unsigned slots[SLOTS], n, i;
	uint32_t cons;

	pv_journal_close(f->j, true);
	id.ent_size = sizeof(urb);
	assert_int_equal(pv_journal_create(f->path, &id, &f->j), 0);
	for (i = 0; i < sizeof(urb); i++)
		urb[i] = (uint8_t)(i * 7 + 1);
	pv_journal_consumed(f->j, 3, 0, urb, sizeof(urb));
	pv_journal_close(f->j, false);
	assert_int_equal(pv_journal_reopen(f->path, &id, &f->j), 0);
	assert_int_equal(pv_journal_recover(f->j, 0, 1, &cons, slots, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(slots[0], 3);
	got = (uint8_t *)pv_journal_entry(f->j, 3);
	assert_memory_equal(got, urb, sizeof(urb));
	/* A journal of blkif-sized records is another ring's. */
	pv_journal_close(f->j, false);
	assert_int_equal(pv_journal_reopen(f->path, &f->id, &f->j), -ESTALE);
	assert_int_equal(pv_journal_reopen(f->path, &id, &f->j), 0);
}

static void test_a_truncated_or_corrupted_journal_is_refused(void **state)
{
	struct fx *f = *state;
	unsigned slots[SLOTS], n;
	struct stat st;
	uint32_t cons;
	uint8_t *raw;
	FILE *fp;

	consume(f, 0, 0);
	consume(f, 1, 1);
	pv_journal_close(f->j, false);
	f->j = NULL;
	/* Truncated: not this ring's journal. */
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(truncate(f->path, st.st_size - 64), 0);
	assert_int_equal(pv_journal_reopen(f->path, &f->id, &f->j), -ESTALE);
	assert_int_equal(truncate(f->path, st.st_size), 0);
	/* A record whose state is garbage: the whole journal is refused. */
	raw = calloc(1, (size_t)st.st_size);
	assert_non_null(raw);
	fp = fopen(f->path, "r+");
	assert_non_null(fp);
	assert_int_equal(fread(raw, 1, (size_t)st.st_size, fp), st.st_size);
	raw[256 + 128] = 0x77; /* slot 1's state: records are 128 bytes after a 256-byte header */
	rewind(fp);
	assert_int_equal(fwrite(raw, 1, (size_t)st.st_size, fp), st.st_size);
	fclose(fp);
	free(raw);
	assert_int_equal(pv_journal_reopen(f->path, &f->id, &f->j), 0);
	assert_int_equal(pv_journal_recover(f->j, 0, 2, &cons, slots, &n), -EUCLEAN);
}

/* The raw file, to compare or to garble one record header field. */
static void file_bytes(struct fx *f, uint8_t *buf, size_t len)
{
	FILE *fp = fopen(f->path, "rb");

	assert_non_null(fp);
	assert_int_equal(fread(buf, 1, len, fp), len);
	fclose(fp);
}

/* Issue 13, fuzz-journal (corpus duplicate-index): two records of one ring
 * index would re-issue one request twice (two responses to one id) and
 * lose another, although the count of owed requests agrees with the ring. */
static void test_one_ring_index_owed_twice_is_refused(void **state)
{
	/* Slots 0 and 1 both claim index 10 (slot 1 garbled); index 11 was
	 * answered and released: req_cons 12, rsp_prod 10, two owed. */
	static const uint32_t idx[] = { 10, 10, 11 };
	struct fx *f = *state;
	unsigned slots[SLOTS], n, i;
	uint32_t cons;

	for (i = 0; i < 3; i++)
		consume(f, i, idx[i]);
	pv_journal_released(f->j, 2);
	kill_and_reopen(f);
	assert_int_equal(pv_journal_recover(f->j, 10, 12, &cons, slots, &n), -EUCLEAN);
}

/* Issue 13, fuzz-journal (corpus answer-beyond-cons): an answer not yet
 * pushed was written below req_cons; one claimed beyond it is garbage. */
static void test_an_unpushed_answer_beyond_req_cons_is_refused(void **state)
{
	struct fx *f = *state;
	unsigned slots[SLOTS], n;
	uint32_t cons;

	consume(f, 0, 0);
	pv_journal_answered(f->j, 0, 7);
	kill_and_reopen(f);
	assert_int_equal(pv_journal_recover(f->j, 0, 1, &cons, slots, &n), -EUCLEAN);
	pv_journal_answered(f->j, 0, 0); /* where it was really written */
	assert_int_equal(pv_journal_recover(f->j, 0, 1, &cons, slots, &n), 0);
	assert_int_equal(n, 1);
}

/* Issue 13: a refused journal is not half applied (an answer the frontend
 * saw freed, req_cons moved) before the refusal. */
static void test_a_refused_recovery_leaves_the_journal_unchanged(void **state)
{
	struct fx *f = *state;
	size_t size = 256 + SLOTS * 128;
	uint8_t *before = malloc(size), *after = malloc(size);
	unsigned slots[SLOTS], n;
	uint32_t cons;

	assert_non_null(before);
	assert_non_null(after);
	consume(f, 0, 0);
	consume(f, 1, 1);
	pv_journal_answered(f->j, 0, 0);
	kill_and_reopen(f);
	file_bytes(f, before, size);
	/* rsp_prod 1 saw slot 0's answer; req_prod 20 is beyond the ring. */
	assert_int_equal(pv_journal_recover(f->j, 1, 20, &cons, slots, &n), -EUCLEAN);
	file_bytes(f, after, size);
	assert_memory_equal(before, after, size);
	assert_int_equal(pv_journal_recover(f->j, 1, 2, &cons, slots, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(slots[0], 1);
	free(before);
	free(after);
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
		cmocka_unit_test_setup_teardown(test_a_record_holds_a_148_byte_urb_request, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_truncated_or_corrupted_journal_is_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_one_ring_index_owed_twice_is_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_an_unpushed_answer_beyond_req_cons_is_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_refused_recovery_leaves_the_journal_unchanged,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
