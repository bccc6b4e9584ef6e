// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: batched grant copy (common/copy.c) in sim mode: segments of
 * many owners are copied by one pv_hv_copy per batch, a batch that fills
 * up copies on its own, done() hears every segment in order with its own
 * status, flush() reports the first failure among everything copied since
 * the last flush (also from a batch that copied on its own), and the
 * segments around a failing one still move their data.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hv-harness.h"

#define NSEG 100 /* more than one batch */

struct seen {
	unsigned n;
	uintptr_t owner[NSEG];
	int status[NSEG];
};

static void on_done(void *opaque, void *owner, const struct pv_hv_copy_seg *seg)
{
	struct seen *s = opaque;

	s->owner[s->n] = (uintptr_t)owner;
	s->status[s->n++] = seg->status;
}

static void test_every_segment_is_copied_and_reported_in_order(void **state)
{
	struct t_hv_fixture *f = *state;
	static char local[NSEG][16];
	struct pv_copy_batch b;
	struct seen s = { 0 };
	uint32_t ref;
	char *g;
	unsigned i;

	assert_int_equal(pv_hv_share(f->guest, 0, 1, true, &ref, (void **)&g), 0);
	for (i = 0; i < NSEG; i++)
		snprintf(g + i * 16, 16, "seg %u", i);
	pv_copy_batch_init(&b, f->be, on_done, &s);
	for (i = 0; i < NSEG; i++) {
		struct pv_hv_copy_seg seg = {
			.ref = ref, .domid = 1, .offset = (uint16_t)(i * 16), .local = local[i],
			.len = 16,
		};

		pv_copy_batch_add(&b, &seg, (void *)(uintptr_t)(i + 1));
	}
	/* A full batch went already. */
	assert_int_equal(s.n, PV_COPY_BATCH_MAX);
	assert_int_equal(pv_copy_batch_flush(&b), 0);
	assert_int_equal(s.n, NSEG);
	for (i = 0; i < NSEG; i++) {
		assert_int_equal(s.owner[i], i + 1);
		assert_int_equal(s.status[i], 0);
		assert_int_equal(atoi(local[i] + 4), i);
	}
	assert_int_equal(pv_hv_unshare(f->guest, g, 1), 0);
}

static void test_a_failure_in_an_early_batch_is_reported_by_flush(void **state)
{
	struct t_hv_fixture *f = *state;
	char a[8] = "", c[8] = "";
	struct pv_copy_batch b;
	struct seen s = { 0 };
	uint32_t ref, bad;
	char *g;
	unsigned i;

	assert_int_equal(pv_hv_share(f->guest, 0, 1, false, &ref, (void **)&g), 0);
	strcpy(g, "abc");
	bad = ref + 1000; /* never granted */
	pv_copy_batch_init(&b, f->be, on_done, &s);
	struct pv_hv_copy_seg ok_seg = { .ref = ref, .domid = 1, .local = a, .len = 4 };
	struct pv_hv_copy_seg bad_seg = { .ref = bad, .domid = 1, .local = c, .len = 4 };
	/* The bad one lands in the first batch, which copies on its own. */
	pv_copy_batch_add(&b, &ok_seg, NULL);
	pv_copy_batch_add(&b, &bad_seg, (void *)1);
	for (i = 2; i < PV_COPY_BATCH_MAX + 3; i++)
		pv_copy_batch_add(&b, &ok_seg, NULL);
	assert_int_equal(s.n, PV_COPY_BATCH_MAX);
	assert_int_not_equal(s.status[1], 0);
	assert_int_equal(pv_copy_batch_flush(&b), s.status[1]);
	assert_string_equal(a, "abc");
	assert_int_equal(s.status[0], 0);
	assert_int_equal(s.status[2], 0);
	/* Reported once: the next flush starts clean. */
	pv_copy_batch_add(&b, &ok_seg, NULL);
	assert_int_equal(pv_copy_batch_flush(&b), 0);
	/* A readonly grant cannot be written. */
	ok_seg.to_guest = true;
	pv_copy_batch_add(&b, &ok_seg, NULL);
	assert_int_equal(pv_copy_batch_flush(&b), -EACCES);
	assert_int_equal(pv_hv_unshare(f->guest, g, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_segment_is_copied_and_reported_in_order),
		cmocka_unit_test(test_a_failure_in_an_early_batch_is_reported_by_flush),
	};

	return cmocka_run_group_tests(tests, t_hv_fixture_setup, t_hv_fixture_teardown);
}
