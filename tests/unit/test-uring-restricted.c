/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: pv_uring_init (common/uring.h), the io_uring a data-path
 * thread holds, restricted because its requests bypass seccomp: an allowed
 * opcode on a registered file runs; the same opcode on an fd that is not
 * registered (no IOSQE_FIXED_FILE), an opcode off the list (openat: the
 * ring cannot open a file) and a flag off the list are refused with
 * -EACCES; registering other files is refused.  A cancel of everything in
 * flight (netback's close) works under the rule that every SQE names a
 * registered file.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "uring.h"

static const uint8_t ops[] = { IORING_OP_READ };
static const uint8_t reg_ops[] = { IORING_REGISTER_BUFFERS2 };
static const struct pv_uring_rules rules = {
	.ops = ops, .nr_ops = 1, .reg_ops = reg_ops, .nr_reg_ops = 1,
	.flags_allowed = IOSQE_IO_LINK, .flags_required = IOSQE_FIXED_FILE,
};

/* Submit sqe as prepared by the caller, return its completion's res. */
static int run(struct io_uring *ring)
{
	struct io_uring_cqe *cqe;
	int res;

	assert_int_equal(io_uring_submit(ring), 1);
	assert_int_equal(io_uring_wait_cqe(ring, &cqe), 0);
	res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return res;
}

static void test_the_ring_does_what_it_may_and_nothing_else(void **state)
{
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	int p[2], other[2];
	char c = 0;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(other), 0);
	assert_int_equal(pv_uring_init(&ring, 8, &p[0], 1, &rules), 0);

	/* READ on registered file 0. */
	assert_int_equal(write(p[1], "x", 1), 1);
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_read(sqe, 0, &c, 1, 0);
	sqe->flags |= IOSQE_FIXED_FILE;
	assert_int_equal(run(&ring), 1);
	assert_int_equal(c, 'x');

	/* READ on a plain fd. */
	assert_int_equal(write(other[1], "y", 1), 1);
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_read(sqe, other[0], &c, 1, 0);
	assert_int_equal(run(&ring), -EACCES);

	/* An opcode off the list. */
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_openat(sqe, AT_FDCWD, "/etc/passwd", O_RDONLY, 0);
	sqe->flags |= IOSQE_FIXED_FILE;
	assert_int_equal(run(&ring), -EACCES);

	/* A flag off the list. */
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_read(sqe, 0, &c, 1, 0);
	sqe->flags |= IOSQE_FIXED_FILE | IOSQE_ASYNC;
	assert_int_equal(run(&ring), -EACCES);

	/* Other files in the table. */
	assert_int_equal(io_uring_register_files_update(&ring, 0, &other[0], 1), -EACCES);

	io_uring_queue_exit(&ring);
	close(p[0]);
	close(p[1]);
	close(other[0]);
	close(other[1]);
}

static void test_cancel_all_passes_the_fixed_file_rule(void **state)
{
	static const uint8_t cancel_ops[] = { IORING_OP_READ, IORING_OP_ASYNC_CANCEL };
	const struct pv_uring_rules r = {
		.ops = cancel_ops, .nr_ops = 2, .flags_required = IOSQE_FIXED_FILE,
	};
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	int p[2], read_res = 1, cancel_res = -1;
	char c;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pv_uring_init(&ring, 8, &p[0], 1, &r), 0);
	sqe = io_uring_get_sqe(&ring); /* blocks: nothing to read */
	io_uring_prep_read(sqe, 0, &c, 1, 0);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, 1);
	assert_int_equal(io_uring_submit(&ring), 1);
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_cancel(sqe, NULL, IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, 2);
	assert_int_equal(io_uring_submit(&ring), 1);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(io_uring_wait_cqe(&ring, &cqe), 0);
		if (cqe->user_data == 1)
			read_res = cqe->res;
		else
			cancel_res = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
	}
	assert_int_equal(read_res, -ECANCELED);
	assert_int_equal(cancel_res, 1);
	io_uring_queue_exit(&ring);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_ring_does_what_it_may_and_nothing_else),
		cmocka_unit_test(test_cancel_all_passes_the_fixed_file_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
