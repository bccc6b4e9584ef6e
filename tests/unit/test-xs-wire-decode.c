// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: the xenstore wire layer (sim/xs_wire.c) decodes good messages,
 * rejects truncated headers and oversized payloads, splits arguments only on
 * NUL terminators, and validates and canonicalises paths as xenstored does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "xs_wire.h"

static void test_good_message_round_trips(void **state)
{
	char buf[SIM_XS_HDR_LEN + 32];
	struct xsd_sockmsg hdr;
	int n;

	n = sim_xs_wire_encode(buf, sizeof(buf), XS_WRITE, 7, 3, "/a\0v", 4);
	assert_int_equal(n, SIM_XS_HDR_LEN + 4);
	assert_int_equal(sim_xs_wire_decode_hdr(buf, (size_t)n, &hdr), 0);
	assert_int_equal(hdr.type, XS_WRITE);
	assert_int_equal(hdr.req_id, 7);
	assert_int_equal(hdr.tx_id, 3);
	assert_int_equal(hdr.len, 4);
	assert_memory_equal(buf + SIM_XS_HDR_LEN, "/a\0v", 4);
}

static void test_truncated_header_needs_more(void **state)
{
	char buf[SIM_XS_HDR_LEN] = { 0 };
	struct xsd_sockmsg hdr;
	size_t i;

	for (i = 0; i < SIM_XS_HDR_LEN; i++)
		assert_int_equal(sim_xs_wire_decode_hdr(buf, i, &hdr), -EAGAIN);
	assert_int_equal(sim_xs_wire_decode_hdr(buf, SIM_XS_HDR_LEN, &hdr), 0);
}

static void test_payload_longer_than_max_is_rejected(void **state)
{
	struct xsd_sockmsg in = { .type = XS_READ, .len = XENSTORE_PAYLOAD_MAX + 1 }, hdr;
	char out[SIM_XS_HDR_LEN + XENSTORE_PAYLOAD_MAX + 1];

	assert_int_equal(sim_xs_wire_decode_hdr(&in, sizeof(in), &hdr), -E2BIG);
	in.len = 0xffffffffu;
	assert_int_equal(sim_xs_wire_decode_hdr(&in, sizeof(in), &hdr), -E2BIG);
	in.len = XENSTORE_PAYLOAD_MAX;
	assert_int_equal(sim_xs_wire_decode_hdr(&in, sizeof(in), &hdr), 0);
	assert_int_equal(sim_xs_wire_encode(out, sizeof(out), XS_READ, 0, 0, out,
					    XENSTORE_PAYLOAD_MAX + 1), -E2BIG);
	assert_int_equal(sim_xs_wire_encode(out, 8, XS_READ, 0, 0, "x", 1), -ENOSPC);
}

static void test_arguments_split_on_nul_terminators_only(void **state)
{
	const char *argv[4];

	/* "a\0bc\0" is two strings; trailing bytes without a NUL are not one. */
	assert_int_equal(sim_xs_wire_split("a\0bc\0d", 6, argv, 4), 2);
	assert_string_equal(argv[0], "a");
	assert_string_equal(argv[1], "bc");
	assert_int_equal(sim_xs_wire_split("abc", 3, argv, 4), 0);
	assert_int_equal(sim_xs_wire_split("", 0, argv, 4), 0);
	/* Counts beyond max without storing. */
	assert_int_equal(sim_xs_wire_split("a\0b\0c\0", 6, argv, 1), 3);
	assert_int_equal(sim_xs_wire_count_strings("a\0b\0c", 5), 2);
}

static void test_onearg_requires_exactly_one_terminated_string(void **state)
{
	assert_non_null(sim_xs_wire_onearg("/a", 3));
	assert_null(sim_xs_wire_onearg("/a", 2));      /* missing NUL */
	assert_null(sim_xs_wire_onearg("/a\0b", 4));   /* bytes after the NUL */
	assert_null(sim_xs_wire_onearg("/a\0b\0", 5)); /* two strings */
	assert_null(sim_xs_wire_onearg("", 0));
	assert_non_null(sim_xs_wire_onearg("", 1));    /* empty path: invalid later */
}

static void test_bad_paths_are_invalid(void **state)
{
	char longp[XENSTORE_ABS_PATH_MAX + 16];

	assert_true(sim_xs_wire_valid_path("/", 2048));
	assert_true(sim_xs_wire_valid_path("/local/domain/1/device/vbd/51712", 2048));
	assert_true(sim_xs_wire_valid_path("/a-b_c@d", 2048));
	assert_false(sim_xs_wire_valid_path("", 2048));
	assert_false(sim_xs_wire_valid_path("a/b", 2048));
	assert_false(sim_xs_wire_valid_path("/a/", 2048));
	assert_false(sim_xs_wire_valid_path("/a//b", 2048));
	assert_false(sim_xs_wire_valid_path("/a b", 2048));
	assert_false(sim_xs_wire_valid_path("/a.b", 2048));
	assert_false(sim_xs_wire_valid_path("/a\xff", 2048));

	/* 2048 bytes in all is the limit outside /local/domain/<id>/ ... */
	memset(longp, 'x', sizeof(longp));
	longp[0] = '/';
	longp[2048] = '\0';
	assert_true(sim_xs_wire_valid_path(longp, 2048));
	longp[2048] = 'x';
	longp[2049] = '\0';
	assert_false(sim_xs_wire_valid_path(longp, 2048));
	/* ... and beyond the domain prefix inside it. */
	strcpy(longp, "/local/domain/12345/");
	memset(longp + 20, 'y', 2048);
	longp[20 + 2048] = '\0';
	assert_true(sim_xs_wire_valid_path(longp, 2048));
	longp[20 + 2048] = 'y';
	longp[20 + 2049] = '\0';
	assert_false(sim_xs_wire_valid_path(longp, 2048));
}

static void test_relative_paths_resolve_against_the_domain_path(void **state)
{
	char out[64];

	assert_int_equal(sim_xs_wire_canonicalize(5, "device/vif", out, sizeof(out)), 0);
	assert_string_equal(out, "/local/domain/5/device/vif");
	assert_int_equal(sim_xs_wire_canonicalize(5, "/abs", out, sizeof(out)), 0);
	assert_string_equal(out, "/abs");
	assert_int_equal(sim_xs_wire_canonicalize(5, "@releaseDomain", out, sizeof(out)), 0);
	assert_string_equal(out, "@releaseDomain");
	assert_int_equal(sim_xs_wire_canonicalize(5, NULL, out, sizeof(out)), -EINVAL);
	assert_int_equal(sim_xs_wire_canonicalize(5, "0123456789012345678901234567890123456789"
						     "0123456789", out, sizeof(out)), -ENAMETOOLONG);
}

static void test_permission_strings_parse_as_libxenstore(void **state)
{
	struct xs_permissions p[3];
	char s[16];

	assert_int_equal(sim_xs_wire_parse_perms("n0\0r5\0b0x10", 3, p), 0);
	assert_int_equal(p[0].perms, XS_PERM_NONE);
	assert_int_equal(p[0].id, 0);
	assert_int_equal(p[1].perms, XS_PERM_READ);
	assert_int_equal(p[1].id, 5);
	assert_int_equal(p[2].perms, XS_PERM_READ | XS_PERM_WRITE);
	assert_int_equal(p[2].id, 16);
	assert_int_equal(sim_xs_wire_parse_perms("x1", 1, p), -EINVAL);
	assert_int_equal(sim_xs_wire_parse_perms("r", 1, p), -EINVAL);
	assert_int_equal(sim_xs_wire_parse_perms("r1x", 1, p), -EINVAL);
	p[0] = (struct xs_permissions){ .id = 7, .perms = XS_PERM_WRITE };
	assert_int_equal(sim_xs_wire_format_perm(&p[0], s, sizeof(s)), 2);
	assert_string_equal(s, "w7");
}

static void test_errors_are_sent_by_name(void **state)
{
	assert_string_equal(sim_xs_wire_errno_name(ENOENT), "ENOENT");
	assert_string_equal(sim_xs_wire_errno_name(EACCES), "EACCES");
	assert_string_equal(sim_xs_wire_errno_name(E2BIG), "E2BIG");
	assert_string_equal(sim_xs_wire_errno_name(ENOSPC), "ENOSPC");
	assert_string_equal(sim_xs_wire_errno_name(EDOM), "EINVAL"); /* untranslatable */
	assert_int_equal(sim_xs_wire_errno_from_name("EAGAIN"), EAGAIN);
	assert_int_equal(sim_xs_wire_atoi(" 12x"), 12);
	assert_int_equal(sim_xs_wire_atoi("x"), 0);
	assert_int_equal(sim_xs_wire_atoi("-1"), -1);
	assert_string_equal(sim_xs_wire_type_name(XS_DIRECTORY_PART), "DIRECTORY_PART");
	assert_string_equal(sim_xs_wire_type_name(999), "UNKNOWN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_message_round_trips),
		cmocka_unit_test(test_truncated_header_needs_more),
		cmocka_unit_test(test_payload_longer_than_max_is_rejected),
		cmocka_unit_test(test_arguments_split_on_nul_terminators_only),
		cmocka_unit_test(test_onearg_requires_exactly_one_terminated_string),
		cmocka_unit_test(test_bad_paths_are_invalid),
		cmocka_unit_test(test_relative_paths_resolve_against_the_domain_path),
		cmocka_unit_test(test_permission_strings_parse_as_libxenstore),
		cmocka_unit_test(test_errors_are_sent_by_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
