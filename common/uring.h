/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An io_uring restricted to what its owner does (docs/security.md): the
 * requests of an io_uring are executed by the kernel for the ring, not as
 * system calls of the thread, so the seccomp filter never sees them.  A
 * data-path thread's ring is therefore created disabled, its files
 * registered, then restricted (IORING_REGISTER_RESTRICTIONS, once and for
 * good) to the request opcodes and register operations its owner uses and,
 * with IOSQE_FIXED_FILE required, to the registered files only; then
 * enabled.  A compromised thread holding it can do no more than its owner
 * would: no openat, connect or socket through the ring.
 *
 * Header-only: both liburing users (blkback, netback) include it, and
 * libpvcommon does not link liburing.
 */
#ifndef PV_URING_H
#define PV_URING_H

#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <liburing.h>

struct pv_uring_rules {
	const uint8_t *ops;      /* IORING_OP_* the ring may execute */
	unsigned nr_ops;
	const uint8_t *reg_ops;  /* IORING_REGISTER_* allowed once enabled */
	unsigned nr_reg_ops;
	uint8_t flags_allowed;   /* IOSQE_* an SQE may carry */
	uint8_t flags_required;  /* IOSQE_* every SQE must carry (IOSQE_FIXED_FILE) */
};

#define PV_URING_MAX_RULES 32

/* io_uring_queue_init(entries) with files registered (nr_files may be 0)
 * and r applied.  0 or -errno; nothing is left open on failure. */
static inline int pv_uring_init(struct io_uring *ring, unsigned entries, const int *files,
				unsigned nr_files, const struct pv_uring_rules *r)
{
	struct io_uring_restriction res[PV_URING_MAX_RULES] = { 0 };
	unsigned n = 0, i;
	int rc;

	if (r->nr_ops + r->nr_reg_ops + 2 > PV_URING_MAX_RULES)
		return -E2BIG;
	rc = io_uring_queue_init(entries, ring, IORING_SETUP_R_DISABLED);
	if (rc < 0)
		return rc;
	if (nr_files) {
		rc = io_uring_register_files(ring, files, nr_files);
		if (rc < 0)
			goto fail;
	}
	for (i = 0; i < r->nr_ops; i++, n++) {
		res[n].opcode = IORING_RESTRICTION_SQE_OP;
		res[n].sqe_op = r->ops[i];
	}
	for (i = 0; i < r->nr_reg_ops; i++, n++) {
		res[n].opcode = IORING_RESTRICTION_REGISTER_OP;
		res[n].register_op = r->reg_ops[i];
	}
	res[n].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
	res[n++].sqe_flags = r->flags_allowed;
	res[n].opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED;
	res[n++].sqe_flags = r->flags_required;
	/* The raw calls: Debian 12's liburing 2.3 declares
	 * io_uring_register_restrictions and io_uring_enable_rings but does
	 * not export them. */
	rc = (int)syscall(__NR_io_uring_register, ring->ring_fd, IORING_REGISTER_RESTRICTIONS, res,
			  n);
	if (rc == 0)
		rc = (int)syscall(__NR_io_uring_register, ring->ring_fd,
				  IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	if (rc == 0)
		return 0;
	rc = -errno;
fail:
	io_uring_queue_exit(ring);
	return rc;
}

#endif /* PV_URING_H */
