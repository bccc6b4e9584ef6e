/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: pv_stats log2 histograms put samples in [2^i, 2^(i+1)) ns
 * buckets, merge by addition and estimate percentiles from bucket midpoints.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pvcommon.h"

static void test_samples_land_in_their_log2_bucket(void **state)
{
	struct pv_stats_hist h;

	memset(&h, 0, sizeof(h));
	pv_stats_hist_add(&h, 0);
	pv_stats_hist_add(&h, 1);
	pv_stats_hist_add(&h, 1023);
	pv_stats_hist_add(&h, 1024);
	pv_stats_hist_add(&h, UINT64_MAX);
	assert_int_equal(h.bucket[0], 2);
	assert_int_equal(h.bucket[9], 1);
	assert_int_equal(h.bucket[10], 1);
	assert_int_equal(h.bucket[PV_STATS_HIST_BUCKETS - 1], 1);
	assert_int_equal(h.count, 5);
}

static void test_empty_histogram_percentile_is_zero(void **state)
{
	struct pv_stats_hist h;

	memset(&h, 0, sizeof(h));
	assert_int_equal(pv_stats_hist_percentile(&h, 50), 0);
}

static void test_percentiles_come_from_bucket_midpoints(void **state)
{
	struct pv_stats_hist h;

	memset(&h, 0, sizeof(h));
	/* 90 samples of ~1 us (bucket 9: [512,1024)), 10 of ~1 ms (bucket 19). */
	for (int i = 0; i < 90; i++)
		pv_stats_hist_add(&h, 700);
	for (int i = 0; i < 10; i++)
		pv_stats_hist_add(&h, 600000);
	assert_int_equal(h.sum_ns, 90 * 700 + 10 * 600000);
	assert_int_equal(pv_stats_hist_percentile(&h, 0), 768);
	assert_int_equal(pv_stats_hist_percentile(&h, 50), 768);
	assert_int_equal(pv_stats_hist_percentile(&h, 90), 768);
	assert_int_equal(pv_stats_hist_percentile(&h, 90.5), 786432);
	assert_int_equal(pv_stats_hist_percentile(&h, 99), 786432);
	assert_int_equal(pv_stats_hist_percentile(&h, 100), 786432);
	assert_int_equal(pv_stats_hist_percentile(&h, 1000), 786432);
	assert_int_equal(pv_stats_hist_percentile(&h, -5), 768);
}

static void test_merge_adds_buckets_counts_and_sums(void **state)
{
	struct pv_stats_hist a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	pv_stats_hist_add(&a, 100);
	pv_stats_hist_add(&b, 100);
	pv_stats_hist_add(&b, 5000);
	pv_stats_hist_merge(&a, &b);
	assert_int_equal(a.count, 3);
	assert_int_equal(a.sum_ns, 5200);
	assert_int_equal(a.bucket[6], 2);
	assert_int_equal(a.bucket[12], 1);
	assert_int_equal(pv_stats_hist_percentile(&a, 100), 6144);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples_land_in_their_log2_bucket),
		cmocka_unit_test(test_empty_histogram_percentile_is_zero),
		cmocka_unit_test(test_percentiles_come_from_bucket_midpoints),
		cmocka_unit_test(test_merge_adds_buckets_counts_and_sums),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
