// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: pvsim's control protocol text (sim/ctl.c): a request line
 * splits into its words and names its request only with the arity it
 * needs; domain names, memory sizes and domain numbers are accepted only
 * in their documented forms; a reply's status is its last line.  Issue 13
 * regression (found by tests/fuzz/fuzz-sim-ctl.c, corpus create-wrap):
 * a size whose unit multiplication wraps 64 bits, e.g. 17592186044417M
 * (2^44 + 1 MiB), was accepted as the 1 MiB it wrapped to; a reply ending
 * with an empty line had the line before it, newline and all, as status.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "../../sim/ctl.h"

static void test_a_request_line_splits_into_words_and_names_its_request(void **state)
{
	char line[] = "create  guest1\t64M\n";
	struct sim_ctl_req req;

	sim_ctl_parse(line, &req);
	assert_int_equal(req.op, SIM_CTL_CREATE);
	assert_int_equal(req.argc, 3);
	assert_string_equal(req.argv[1], "guest1");
	assert_string_equal(req.argv[2], "64M");
}

static void test_a_known_request_with_other_arguments_is_unknown(void **state)
{
	char create[] = "create guest1\n", lookup[] = "lookup a b\n", blank[] = " \t\n";
	struct sim_ctl_req req;

	sim_ctl_parse(create, &req);
	assert_int_equal(req.op, SIM_CTL_UNKNOWN);
	sim_ctl_parse(lookup, &req);
	assert_int_equal(req.op, SIM_CTL_UNKNOWN);
	sim_ctl_parse(blank, &req);
	assert_int_equal(req.op, SIM_CTL_EMPTY);
}

static void test_domain_names_follow_the_documented_alphabet(void **state)
{
	char longest[SIM_CTL_NAME_MAX + 1];

	assert_true(sim_ctl_valid_name("d.x-y_Z9"));
	assert_false(sim_ctl_valid_name("9lives"));
	assert_false(sim_ctl_valid_name("a/b"));
	assert_false(sim_ctl_valid_name(""));
	memset(longest, 'a', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	assert_false(sim_ctl_valid_name(longest));
	longest[sizeof(longest) - 2] = '\0';
	assert_true(sim_ctl_valid_name(longest));
}

static void test_memory_sizes_take_a_unit_and_stay_within_64_gib(void **state)
{
	uint64_t v = 0;

	assert_int_equal(sim_ctl_parse_size("64M", &v), 0);
	assert_int_equal(v, 64ull << 20);
	assert_int_equal(sim_ctl_parse_size("1GiB", &v), 0);
	assert_int_equal(v, 1ull << 30);
	assert_int_equal(sim_ctl_parse_size("8KB", &v), 0);
	assert_int_equal(v, 8192);
	assert_int_equal(sim_ctl_parse_size("4096B", &v), -EINVAL); /* B only after a unit */
	assert_int_equal(sim_ctl_parse_size("64G", &v), 0);
	assert_int_equal(sim_ctl_parse_size("65G", &v), -EINVAL);
	assert_int_equal(sim_ctl_parse_size("4097", &v), -EINVAL);
	assert_int_equal(sim_ctl_parse_size("0", &v), -EINVAL);
	assert_int_equal(sim_ctl_parse_size("4kX", &v), -EINVAL);
}

static void test_a_size_whose_unit_wraps_64_bits_is_refused(void **state)
{
	uint64_t v = 0;

	assert_int_equal(sim_ctl_parse_size("17592186044417M", &v), -EINVAL);
	assert_int_equal(sim_ctl_parse_size("17179869185G", &v), -EINVAL);
	assert_int_equal(sim_ctl_parse_size("18014398509481985k", &v), -EINVAL);
}

static void test_domain_numbers_are_below_the_domain_table(void **state)
{
	assert_int_equal(sim_ctl_parse_domid("0"), 0);
	assert_int_equal(sim_ctl_parse_domid("1023"), 1023);
	assert_int_equal(sim_ctl_parse_domid("1024"), -ENOENT);
	assert_int_equal(sim_ctl_parse_domid("-1"), -ENOENT);
	assert_int_equal(sim_ctl_parse_domid("guest1"), -EINVAL);
	assert_int_equal(sim_ctl_parse_domid(""), -EINVAL);
}

static void test_the_status_of_a_reply_is_its_last_line(void **state)
{
	char reply[] = "0 Domain-0\n1 guest1\nok 2\n", none[] = "", blank[] = "ok\n\n";
	size_t body;

	assert_string_equal(sim_ctl_reply_status(reply, strlen(reply), &body), "ok 2");
	assert_int_equal(body, strlen("0 Domain-0\n1 guest1\n"));
	assert_string_equal(sim_ctl_reply_status(none, 0, &body), "");
	assert_int_equal(body, 0);
	/* Issue 13, fuzz-sim-ctl (corpus reply-empty-last-line): an empty last
	 * line is the status, not the line before it with its newline. */
	assert_string_equal(sim_ctl_reply_status(blank, strlen(blank), &body), "");
	assert_int_equal(body, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_request_line_splits_into_words_and_names_its_request),
		cmocka_unit_test(test_a_known_request_with_other_arguments_is_unknown),
		cmocka_unit_test(test_domain_names_follow_the_documented_alphabet),
		cmocka_unit_test(test_memory_sizes_take_a_unit_and_stay_within_64_gib),
		cmocka_unit_test(test_a_size_whose_unit_wraps_64_bits_is_refused),
		cmocka_unit_test(test_domain_numbers_are_below_the_domain_table),
		cmocka_unit_test(test_the_status_of_a_reply_is_its_last_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
