/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: a stats table describes a struct of counters once:
 * pv_stats_emit writes its fields in table order as "name value" text
 * pairs or JSON members (a latency histogram as <name>_p50_us and
 * <name>_p99_us in microseconds, in JSON after <name>_count), and
 * pv_stats_sum adds counters and gauges and merges histograms.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pvcommon.h"

struct st {
	uint64_t reads;
	struct pv_stats_hist lat;
	uint64_t inflight;
};

static const struct pv_stats_field fields[] = {
	{ "reads", "Reads", offsetof(struct st, reads), PV_STATS_COUNTER },
	{ "lat", "Latency", offsetof(struct st, lat), PV_STATS_HIST },
	{ "inflight", "In flight", offsetof(struct st, inflight), PV_STATS_GAUGE },
};

static const struct pv_stats_table table = { fields, 3, sizeof(struct st) };

static const char *emit(struct pv_out *o, const struct st *s, bool json)
{
	pv_out_truncate(o, 0);
	pv_stats_emit(o, &table, s, json);
	return pv_out_str(o);
}

static void test_text_is_name_value_pairs_in_table_order(void **state)
{
	struct st s = { .reads = 12, .inflight = 3 };
	struct pv_out *o;

	assert_int_equal(pv_out_create(&o), 0);
	/* No sample: 0.0 rather than a made-up latency. */
	assert_string_equal(emit(o, &s, false), "reads 12 lat_p50_us 0.0 lat_p99_us 0.0 inflight 3");
	/* 3 us and 5 us land in [2048, 4096) ns, midpoint 3.072 us. */
	pv_stats_hist_add(&s.lat, 3000);
	pv_stats_hist_add(&s.lat, 3500);
	assert_string_equal(emit(o, &s, false), "reads 12 lat_p50_us 3.1 lat_p99_us 3.1 inflight 3");
	pv_out_destroy(o);
}

static void test_json_members_count_the_histogram(void **state)
{
	struct st s = { .reads = 7 };
	struct pv_out *o;

	pv_stats_hist_add(&s.lat, 1000000); /* [2^19, 2^20) ns: midpoint 786.432 us */
	assert_int_equal(pv_out_create(&o), 0);
	assert_string_equal(emit(o, &s, true),
			    "\"reads\":7,\"lat_count\":1,\"lat_p50_us\":786.4,\"lat_p99_us\":786.4,"
			    "\"inflight\":0");
	pv_out_destroy(o);
}

static void test_sum_adds_counters_and_gauges_and_merges_histograms(void **state)
{
	struct st a = { .reads = 1, .inflight = 2 }, b = { .reads = 10, .inflight = 20 };

	pv_stats_hist_add(&a.lat, 100);
	pv_stats_hist_add(&b.lat, 100);
	pv_stats_hist_add(&b.lat, 1 << 20);
	pv_stats_sum(&table, &a, &b);
	assert_int_equal(a.reads, 11);
	assert_int_equal(a.inflight, 22);
	assert_int_equal(a.lat.count, 3);
	assert_int_equal(a.lat.sum_ns, 200 + (1 << 20));
	assert_int_equal(a.lat.bucket[6], 2);
	assert_int_equal(a.lat.bucket[20], 1);
	/* src is left as it was */
	assert_int_equal(b.reads, 10);
	assert_int_equal(b.lat.count, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_is_name_value_pairs_in_table_order),
		cmocka_unit_test(test_json_members_count_the_histogram),
		cmocka_unit_test(test_sum_adds_counters_and_gauges_and_merges_histograms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
