/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: pv_out, the control socket's reply buffer, writes strings as
 * JSON strings (quote and backslash escaped, control characters as \u00XX,
 * other bytes as they are, NULL as ""), grows past its first allocation,
 * and truncates back to a mark.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pvcommon.h"

static const char *json(struct pv_out *o, const char *s)
{
	pv_out_truncate(o, 0);
	pv_out_json_str(o, s);
	return pv_out_str(o);
}

static void test_quotes_and_backslashes_are_escaped(void **state)
{
	struct pv_out *o;

	assert_int_equal(pv_out_create(&o), 0);
	assert_string_equal(json(o, "a\"b\\c"), "\"a\\\"b\\\\c\"");
	assert_string_equal(json(o, "/var/tmp/disk.img"), "\"/var/tmp/disk.img\"");
	pv_out_destroy(o);
}

static void test_control_characters_become_u_escapes(void **state)
{
	struct pv_out *o;

	assert_int_equal(pv_out_create(&o), 0);
	assert_string_equal(json(o, "a\nb\tc\x01\x1f"), "\"a\\u000ab\\u0009c\\u0001\\u001f\"");
	pv_out_destroy(o);
}

static void test_null_is_an_empty_string_and_utf8_passes(void **state)
{
	struct pv_out *o;

	assert_int_equal(pv_out_create(&o), 0);
	assert_string_equal(json(o, NULL), "\"\"");
	assert_string_equal(json(o, "d\xc3\xa9j\xc3\xa0"), "\"d\xc3\xa9j\xc3\xa0\"");
	pv_out_destroy(o);
}

static void test_printf_grows_and_truncate_goes_back_to_a_mark(void **state)
{
	char big[10000];
	struct pv_out *o;
	size_t mark;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(pv_out_create(&o), 0);
	assert_string_equal(pv_out_str(o), "");
	pv_out_printf(o, "head ");
	mark = pv_out_len(o);
	pv_out_printf(o, "%s", big);
	pv_out_printf(o, "%s|%d", big, 7);
	assert_false(pv_out_failed(o));
	assert_int_equal(pv_out_len(o), 5 + 2 * (sizeof(big) - 1) + 2);
	assert_int_equal(strlen(pv_out_str(o)), pv_out_len(o));
	assert_string_equal(pv_out_str(o) + pv_out_len(o) - 3, "x|7");
	pv_out_truncate(o, mark);
	assert_string_equal(pv_out_str(o), "head ");
	pv_out_truncate(o, 100); /* longer than the text: nothing changes */
	assert_string_equal(pv_out_str(o), "head ");
	pv_out_destroy(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quotes_and_backslashes_are_escaped),
		cmocka_unit_test(test_control_characters_become_u_escapes),
		cmocka_unit_test(test_null_is_an_empty_string_and_utf8_passes),
		cmocka_unit_test(test_printf_grows_and_truncate_goes_back_to_a_mark),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
