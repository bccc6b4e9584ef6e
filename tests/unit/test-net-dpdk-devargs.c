// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: the dpdk ports' devargs template (netback/devargs.c):
 * {vif}, {domid} and {devid} are replaced wherever they appear, other
 * text is kept, an unknown or unclosed {...} is -EINVAL, and a result
 * that does not fit (with its NUL) is -ENAMETOOLONG, never truncated.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../netback/netback.h"

static void test_every_key_is_replaced_wherever_it_appears(void **state)
{
	char out[128];

	assert_int_equal(net_devargs_expand("net_memif_{domid}_{devid},role=server,"
					    "socket=/run/pvback/memif-{vif}.sock", "vif5.0", 5, 0,
					    out, sizeof(out)), 0);
	assert_string_equal(out, "net_memif_5_0,role=server,socket=/run/pvback/memif-vif5.0.sock");
	assert_int_equal(net_devargs_expand("{vif}{vif}", "a", 1, 2, out, sizeof(out)), 0);
	assert_string_equal(out, "aa");
	assert_int_equal(net_devargs_expand("0000:01:00.0", "x", 1, 2, out, sizeof(out)), 0);
	assert_string_equal(out, "0000:01:00.0");
	assert_int_equal(net_devargs_expand("", "x", 1, 2, out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

static void test_unknown_or_unclosed_keys_are_refused(void **state)
{
	char out[64];

	assert_int_equal(net_devargs_expand("net_tap_{dom}", "x", 1, 2, out, sizeof(out)), -EINVAL);
	assert_int_equal(net_devargs_expand("net_tap_{domid", "x", 1, 2, out, sizeof(out)), -EINVAL);
	assert_int_equal(net_devargs_expand("{}", "x", 1, 2, out, sizeof(out)), -EINVAL);
}

static void test_a_result_that_does_not_fit_is_refused_not_cut(void **state)
{
	char out[8];

	assert_int_equal(net_devargs_expand("1234567", "x", 1, 2, out, sizeof(out)), 0);
	assert_int_equal(net_devargs_expand("12345678", "x", 1, 2, out, sizeof(out)),
			 -ENAMETOOLONG);
	assert_int_equal(net_devargs_expand("abc{domid}", "x", 65535, 2, out, sizeof(out)),
			 -ENAMETOOLONG);
	assert_int_equal(net_devargs_expand("a", "x", 1, 2, out, 0), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key_is_replaced_wherever_it_appears),
		cmocka_unit_test(test_unknown_or_unclosed_keys_are_refused),
		cmocka_unit_test(test_a_result_that_does_not_fit_is_refused_not_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
