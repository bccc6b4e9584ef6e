/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: pv_xs_read_uint() accepts only plain decimal numbers within
 * [min, max]: signs, spaces, hex, trailing junk, empty values and overflow
 * are -EINVAL, a missing key is -ENOENT.  Issue 13 regression (found by
 * tests/fuzz/fuzz-xb-keys.c, corpus hostile-values): a value with a NUL
 * inside ("1\0 9", as a guest can write) was read as the digits before it.  libxenstore's xs_open, xs_close and
 * xs_read are replaced at link time (--wrap), so no xenstored is needed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xenstore.h>

#include "pvcommon.h"

struct xs_handle *__wrap_xs_open(unsigned long flags);
void __wrap_xs_close(struct xs_handle *h);
void *__wrap_xs_read(struct xs_handle *h, xs_transaction_t t, const char *path,
		     unsigned int *len);

static const char *fake_value; /* NULL: the key does not exist */
static unsigned int fake_len;   /* its length on the wire */

struct xs_handle *__wrap_xs_open(unsigned long flags)
{
	static char dummy;

	return (struct xs_handle *)&dummy;
}

void __wrap_xs_close(struct xs_handle *h)
{
}

void *__wrap_xs_read(struct xs_handle *h, xs_transaction_t t, const char *path,
		     unsigned int *len)
{
	char *v;

	if (!fake_value) {
		errno = ENOENT;
		return NULL;
	}
	v = malloc(fake_len + 1);
	if (!v)
		return NULL;
	memcpy(v, fake_value, fake_len + 1);
	*len = fake_len;
	return v;
}

static int read_bytes(const char *val, unsigned int len, uint64_t min, uint64_t max,
		      uint64_t *out)
{
	struct pv_xs *xs;
	int ret;

	fake_value = val;
	fake_len = len;
	assert_int_equal(pv_xs_open(NULL, &xs), 0);
	ret = pv_xs_read_uint(xs, 0, "/k", min, max, out);
	pv_xs_close(xs);
	return ret;
}

static int read_uint(const char *val, uint64_t min, uint64_t max, uint64_t *out)
{
	return read_bytes(val, val ? (unsigned int)strlen(val) : 0, min, max, out);
}

static void test_plain_decimal_in_range_is_accepted(void **state)
{
	uint64_t v = 0;

	assert_int_equal(read_uint("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(read_uint("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(read_uint("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(read_uint("007", 7, 7, &v), 0);
	assert_int_equal(v, 7);
}

static void test_missing_key_is_enoent(void **state)
{
	uint64_t v = 5;

	assert_int_equal(read_uint(NULL, 0, 10, &v), -ENOENT);
	assert_int_equal(v, 5);
}

static void test_junk_is_einval_and_leaves_out_untouched(void **state)
{
	static const char *const bad[] = {
		"", " 1", "1 ", "+1", "-1", "0x10", "1a", "1.0", "1\n", "a",
		"18446744073709551616", "99999999999999999999999",
	};
	uint64_t v = 5;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(read_uint(bad[i], 0, UINT64_MAX, &v), -EINVAL);
		assert_int_equal(v, 5);
	}
}

static void test_digits_then_a_nul_and_junk_are_einval(void **state)
{
	uint64_t v = 5;

	assert_int_equal(read_bytes("1\0 9", 4, 0, 10, &v), -EINVAL);
	assert_int_equal(read_bytes("7\0", 2, 0, 10, &v), -EINVAL);
	assert_int_equal(v, 5);
	assert_int_equal(read_bytes("7\0", 1, 0, 10, &v), 0);
	assert_int_equal(v, 7);
}

static void test_out_of_range_is_einval(void **state)
{
	uint64_t v = 5;

	assert_int_equal(read_uint("11", 0, 10, &v), -EINVAL);
	assert_int_equal(read_uint("1", 2, 10, &v), -EINVAL);
	assert_int_equal(v, 5);
	assert_int_equal(read_uint("10", 2, 10, &v), 0);
	assert_int_equal(v, 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_decimal_in_range_is_accepted),
		cmocka_unit_test(test_missing_key_is_enoent),
		cmocka_unit_test(test_junk_is_einval_and_leaves_out_untouched),
		cmocka_unit_test(test_digits_then_a_nul_and_junk_are_einval),
		cmocka_unit_test(test_out_of_range_is_einval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
