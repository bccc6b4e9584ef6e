/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: the rate limit on lines a guest can cause (pv_log_rl): a
 * flood prints PV_RATELIMIT_BURST lines per window and drops the rest; the
 * first line of the next window is preceded by the count dropped, and
 * pv_ratelimit_flush reports what a window still holds; lines below the log
 * level neither print nor count; at debug level nothing is dropped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pvcommon.h"

/* stderr goes to a temporary file; returns it rewound after the calls. */
static int saved_stderr = -1;

static FILE *capture_begin(void)
{
	FILE *f = tmpfile();

	assert_non_null(f);
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	assert_true(saved_stderr >= 0);
	assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
	return f;
}

static unsigned capture_end(FILE *f, const char *needle, unsigned *matching)
{
	char line[4096];
	unsigned n = 0;

	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	rewind(f);
	*matching = 0;
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (strstr(line, needle))
			(*matching)++;
	}
	fclose(f);
	return n;
}

/* The window began long ago: what the clock would do in PV_RATELIMIT_MS. */
static void age_window(struct pv_ratelimit *rl)
{
	rl->begin_ns -= (PV_RATELIMIT_MS + 1) * 1000000ull;
}

static void test_a_flood_prints_a_burst_then_the_count(void **state)
{
	struct pv_ratelimit rl = { 0 };
	unsigned i, lines, supp;
	FILE *f = capture_begin();

	for (i = 0; i < 1000; i++)
		pv_log_rl(&rl, PV_LOG_WARN, "vbd-1-51712/q0", "I/O error on request id %u", i);
	age_window(&rl);
	pv_log_rl(&rl, PV_LOG_WARN, "vbd-1-51712/q0", "I/O error on request id %u", i);
	lines = capture_end(f, "990 message(s) suppressed", &supp);
	assert_int_equal(lines, PV_RATELIMIT_BURST + 2); /* burst, count, the new line */
	assert_int_equal(supp, 1);
	assert_int_equal(rl.suppressed, 1000 - PV_RATELIMIT_BURST);
}

static void test_flush_reports_what_the_window_holds(void **state)
{
	struct pv_ratelimit rl = { 0 };
	unsigned i, lines, supp;
	FILE *f = capture_begin();

	for (i = 0; i < PV_RATELIMIT_BURST + 5; i++)
		pv_log_rl(&rl, PV_LOG_ERR, "vif-2-0", "bad frontend state");
	pv_ratelimit_flush(&rl, "vif-2-0");
	pv_ratelimit_flush(&rl, "vif-2-0"); /* nothing left: silent */
	lines = capture_end(f, "vif-2-0: 5 message(s) suppressed", &supp);
	assert_int_equal(lines, PV_RATELIMIT_BURST + 1);
	assert_int_equal(supp, 1);
}

static void test_lines_below_the_level_do_not_count(void **state)
{
	struct pv_ratelimit rl = { 0 };
	unsigned i, lines, supp;
	FILE *f = capture_begin();

	for (i = 0; i < 100; i++)
		pv_log_rl(&rl, PV_LOG_DEBUG, "x", "debug line");
	pv_log_rl(&rl, PV_LOG_WARN, "x", "the one that counts");
	lines = capture_end(f, "the one that counts", &supp);
	assert_int_equal(lines, 1);
	assert_int_equal(supp, 1);
	assert_int_equal(rl.suppressed, 0);
}

static void test_debug_level_drops_nothing(void **state)
{
	struct pv_ratelimit rl = { 0 };
	unsigned i, lines, match;
	FILE *f = capture_begin();

	pv_log_set_level(PV_LOG_DEBUG);
	for (i = 0; i < 50; i++)
		pv_log_rl(&rl, PV_LOG_WARN, "x", "line %u", i);
	pv_log_set_level(PV_LOG_INFO);
	lines = capture_end(f, "line 49", &match);
	assert_int_equal(lines, 50);
	assert_int_equal(match, 1);
	assert_int_equal(rl.suppressed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_flood_prints_a_burst_then_the_count),
		cmocka_unit_test(test_flush_reports_what_the_window_holds),
		cmocka_unit_test(test_lines_below_the_level_do_not_count),
		cmocka_unit_test(test_debug_level_drops_nothing),
	};

	pv_log_init("test", false, PV_LOG_INFO);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
