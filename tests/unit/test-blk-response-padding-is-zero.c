// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: a blkif response carries nothing of the backend's memory
 * (issue 13, found by tests/fuzz/fuzz-blk-queue.c; Xen's XSA-216 is the
 * same leak in Linux blkback): the padding bytes of the response, native
 * (after operation, after status) and x86_32 (after operation), are zero
 * in the ring slot, whatever the stack held before.  blk_rsp_write built a
 * struct on the stack and copied all of it, padding included: gcc -O2 sent
 * one stack byte per x86_32 response, clang -O1 five per native one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../blkback/blkback.h"

/* Leave the stack below us full of a pattern, where the next call's
 * locals (and x86-64's red zone) will be. */
static __attribute__((noinline)) void dirty_stack(void)
{
	volatile uint8_t junk[4096];
	size_t i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = 0xa5;
}

/* The response of abi in a slot over stale bytes, after a dirty stack:
 * operation at op, status at st (2 bytes), size bytes in all; every
 * other byte from op on is padding and must be zero, and nothing after
 * the response is touched. */
static void expect_zero_padding(enum blk_abi abi, size_t op, size_t st, size_t size)
{
	uint8_t slot[BLKIF_MAX_ENT_SIZE];
	size_t i;

	memset(slot, 0x5a, sizeof(slot));
	dirty_stack();
	blk_rsp_write(abi, slot, 0x1122334455667788ull, BLKIF_OP_READ, BLKIF_RSP_ERROR);
	assert_int_equal(slot[op], BLKIF_OP_READ);
	for (i = op + 1; i < size; i++)
		if (i != st && i != st + 1)
			assert_int_equal(slot[i], 0);
	assert_int_equal(slot[size], 0x5a);
}

static void test_native_response_padding_is_zero(void **state)
{
	expect_zero_padding(BLK_ABI_NATIVE, offsetof(struct blkif_response, operation),
			    offsetof(struct blkif_response, status), sizeof(struct blkif_response));
}

static void test_x86_32_response_padding_is_zero(void **state)
{
	expect_zero_padding(BLK_ABI_X86_32, offsetof(struct blkif_x86_32_response, operation),
			    offsetof(struct blkif_x86_32_response, status),
			    sizeof(struct blkif_x86_32_response));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_native_response_padding_is_zero),
		cmocka_unit_test(test_x86_32_response_padding_is_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
