// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: registered buffers in blkback's I/O engines (blkback/io*.c),
 * against a temporary file on /var/tmp, buffered and O_DIRECT.  With
 * io_uring, a read or write whose one iovec lies inside the filled slot its
 * buf_index names runs as READ/WRITE_FIXED (r->fixed) and moves the right
 * bytes, also as a durable write linked to its fsync; an iovec outside the
 * slot, an empty or cleared slot, a slot past the table, several iovecs, a
 * dropped table and a registration the kernel refuses (a shared mapping of
 * an ext4 file, which no kernel pins long-term) all run vectored with the
 * right data.  libaio and sync have no registered buffers (-EOPNOTSUPP)
 * and ignore buf_index.  Completions are waited for by polling the
 * engine's completion fd, not by sleeping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "blk-io-fixture.h"

#define FILE_SIZE (1u << 20)
#define PAGE 4096u
#define NR_SLOTS 8

struct env {
	struct t_blk_io b;       /* backing file and engine */
	char *pages;             /* NR_SLOTS pages, page i registered at slot i */
};

static int setup(void **state, enum blk_io_kind kind, enum blk_direct direct)
{
	struct env *e = calloc(1, sizeof(*e));

	*state = e;
	if (!e || t_blk_io_open(&e->b, "test-blk-fixed", FILE_SIZE, kind, direct, 32))
		return -1;
	if (direct == BLK_DIRECT_ON && e->b.bs.dio_align > PAGE) {
		fprintf(stderr, "%s: O_DIRECT alignment %u above a page\n", e->b.path,
			e->b.bs.dio_align);
		return -1;
	}
	/* Anonymous pages, as a memfd's on pvsim: the kernel pins them. */
	e->pages = mmap(NULL, NR_SLOTS * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (e->pages == MAP_FAILED)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	t_blk_io_close(&e->b); /* before the pages: the kernel may pin them */
	munmap(e->pages, NR_SLOTS * PAGE);
	free(e);
	return 0;
}

static int setup_uring(void **s) { return setup(s, BLK_IO_URING, BLK_DIRECT_OFF); }
static int setup_uring_direct(void **s) { return setup(s, BLK_IO_URING, BLK_DIRECT_ON); }
static int setup_aio_direct(void **s) { return setup(s, BLK_IO_AIO, BLK_DIRECT_ON); }
static int setup_sync(void **s) { return setup(s, BLK_IO_SYNC, BLK_DIRECT_OFF); }

static char *page(struct env *e, unsigned slot)
{
	return e->pages + (size_t)slot * PAGE;
}

static void register_all(struct env *e)
{
	unsigned i;

	assert_int_equal(blk_io_reg_bufs(e->b.io, NR_SLOTS), 0);
	for (i = 0; i < NR_SLOTS; i++)
		assert_int_equal(blk_io_reg_buf(e->b.io, i, page(e, i), PAGE), 0);
}

/* One request of len bytes at file offset off from/to p; returns r.fixed. */
static bool rw(struct env *e, enum blk_io_op op, bool durable, int buf_index, void *p,
	       size_t len, uint64_t off)
{
	struct iovec iov = { p, len };
	struct blk_io_req r = { .op = op, .flush_after = durable, .offset = off, .len = len,
				.iov = &iov, .iovcnt = 1, .buf_index = buf_index };

	assert_int_equal(blk_io_queue(e->b.io, &r), 0);
	t_blk_io_wait(&e->b, 1);
	assert_int_equal(r.res, 0);
	return r.fixed;
}

/* The file's bytes at off, read without the engine. */
static void file_bytes(struct env *e, void *buf, size_t len, uint64_t off)
{
	int fd = open(e->b.path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static void fill(char *p, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (char)(i * 13 + seed);
}

static void test_io_inside_a_filled_slot_runs_fixed_with_the_right_bytes(void **state)
{
	struct env *e = *state;
	char want[PAGE], got[PAGE];

	register_all(e);
	fill(page(e, 3), PAGE, 1);
	memcpy(want, page(e, 3), PAGE);
	assert_true(rw(e, BLK_IO_WRITE, false, 3, page(e, 3), PAGE, 8 * PAGE));
	file_bytes(e, got, PAGE, 8 * PAGE);
	assert_memory_equal(got, want, PAGE);
	memset(page(e, 5), 0, PAGE);
	assert_true(rw(e, BLK_IO_READ, false, 5, page(e, 5), PAGE, 8 * PAGE));
	assert_memory_equal(page(e, 5), want, PAGE);
	if (e->b.direct == BLK_DIRECT_OFF) {
		/* Part of a page (sectors 2..4 of it), buffered. */
		memset(page(e, 6), 0, PAGE);
		assert_true(rw(e, BLK_IO_READ, false, 6, page(e, 6) + 1024, 1536, 8 * PAGE + 512));
		assert_memory_equal(page(e, 6) + 1024, want + 512, 1536);
		assert_int_equal(page(e, 6)[1023], 0);
		assert_int_equal(page(e, 6)[2560], 0);
	}
}

static void test_a_durable_write_on_a_slot_is_linked_to_its_fsync(void **state)
{
	struct env *e = *state;
	char got[PAGE];

	register_all(e);
	fill(page(e, 0), PAGE, 7);
	assert_true(rw(e, BLK_IO_WRITE, true, 0, page(e, 0), PAGE, 0));
	file_bytes(e, got, PAGE, 0);
	assert_memory_equal(got, page(e, 0), PAGE);
}

static void test_io_outside_its_slot_or_on_an_empty_slot_runs_vectored(void **state)
{
	struct env *e = *state;
	char want[PAGE];

	register_all(e);
	fill(page(e, 1), PAGE, 3);
	memcpy(want, page(e, 1), PAGE);
	assert_false(rw(e, BLK_IO_WRITE, false, 2, page(e, 1), PAGE, 4 * PAGE)); /* wrong slot */
	assert_false(rw(e, BLK_IO_WRITE, false, 0, page(e, 1), PAGE, 4 * PAGE)); /* just past it */
	assert_false(rw(e, BLK_IO_WRITE, false, 0, page(e, 1) + PAGE, PAGE, 5 * PAGE)); /* far past */
	memset(page(e, 1), 0, PAGE);
	assert_false(rw(e, BLK_IO_READ, false, -1, page(e, 1), PAGE, 4 * PAGE)); /* none */
	assert_memory_equal(page(e, 1), want, PAGE);
	assert_false(rw(e, BLK_IO_READ, false, NR_SLOTS, page(e, 1), PAGE, 4 * PAGE)); /* past */
	assert_int_equal(blk_io_reg_buf(e->b.io, NR_SLOTS, page(e, 1), PAGE), -ENOSPC);
	/* Cleared: the page is no longer the kernel's to use. */
	assert_int_equal(blk_io_reg_buf(e->b.io, 1, NULL, 0), 0);
	memset(page(e, 1), 0, PAGE);
	assert_false(rw(e, BLK_IO_READ, false, 1, page(e, 1), PAGE, 4 * PAGE));
	assert_memory_equal(page(e, 1), want, PAGE);
	/* Refilled, it runs fixed again. */
	assert_int_equal(blk_io_reg_buf(e->b.io, 1, page(e, 1), PAGE), 0);
	assert_true(rw(e, BLK_IO_READ, false, 1, page(e, 1), PAGE, 4 * PAGE));
	/* The whole table dropped. */
	assert_int_equal(blk_io_reg_bufs(e->b.io, 0), 0);
	assert_false(rw(e, BLK_IO_READ, false, 1, page(e, 1), PAGE, 4 * PAGE));
	assert_memory_equal(page(e, 1), want, PAGE);
}

static void test_several_iovecs_never_run_fixed(void **state)
{
	struct env *e = *state;
	struct iovec iov[2] = { { page(e, 4), PAGE }, { page(e, 5), PAGE } };
	struct blk_io_req r = { .op = BLK_IO_WRITE, .offset = 0, .len = 2 * PAGE, .iov = iov,
				.iovcnt = 2, .buf_index = 4 };
	char got[2 * PAGE];

	register_all(e);
	fill(page(e, 4), 2 * PAGE, 9);
	assert_int_equal(blk_io_queue(e->b.io, &r), 0);
	t_blk_io_wait(&e->b, 1);
	assert_int_equal(r.res, 0);
	assert_false(r.fixed);
	file_bytes(e, got, 2 * PAGE, 0);
	assert_memory_equal(got, page(e, 4), 2 * PAGE);
}

static void test_a_refused_registration_leaves_the_slot_vectored(void **state)
{
	struct env *e = *state;
	char path[] = "/var/tmp/test-blk-fixed-map.XXXXXX", want[PAGE];
	int fd = mkstemp(path);
	char *shared;
	int rc;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, PAGE), 0);
	shared = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(shared != MAP_FAILED);
	register_all(e);
	/* Like a gntdev page on Xen: the kernel will not pin it long-term. */
	rc = blk_io_reg_buf(e->b.io, 2, shared, PAGE);
	assert_true(rc == -EOPNOTSUPP || rc == -EFAULT);
	fill(shared, PAGE, 5);
	memcpy(want, shared, PAGE);
	assert_false(rw(e, BLK_IO_WRITE, false, 2, shared, PAGE, 12 * PAGE));
	memset(shared, 0, PAGE);
	assert_false(rw(e, BLK_IO_READ, false, 2, shared, PAGE, 12 * PAGE));
	assert_memory_equal(shared, want, PAGE);
	/* The other slots are unaffected. */
	assert_true(rw(e, BLK_IO_READ, false, 3, page(e, 3), PAGE, 12 * PAGE));
	assert_memory_equal(page(e, 3), want, PAGE);
	assert_int_equal(blk_io_reg_buf(e->b.io, 2, NULL, 0), 0);
	munmap(shared, PAGE);
	close(fd);
	unlink(path);
}

static void test_engines_without_registered_buffers_ignore_buf_index(void **state)
{
	struct env *e = *state;
	char want[PAGE];

	assert_int_equal(blk_io_reg_bufs(e->b.io, NR_SLOTS), -EOPNOTSUPP);
	assert_int_equal(blk_io_reg_buf(e->b.io, 0, page(e, 0), PAGE), -EOPNOTSUPP);
	fill(page(e, 0), PAGE, 11);
	memcpy(want, page(e, 0), PAGE);
	assert_false(rw(e, BLK_IO_WRITE, true, 0, page(e, 0), PAGE, 2 * PAGE));
	memset(page(e, 0), 0, PAGE);
	assert_false(rw(e, BLK_IO_READ, false, 0, page(e, 0), PAGE, 2 * PAGE));
	assert_memory_equal(page(e, 0), want, PAGE);
}

#define URING_TESTS \
	cmocka_unit_test(test_io_inside_a_filled_slot_runs_fixed_with_the_right_bytes), \
	cmocka_unit_test(test_a_durable_write_on_a_slot_is_linked_to_its_fsync), \
	cmocka_unit_test(test_io_outside_its_slot_or_on_an_empty_slot_runs_vectored), \
	cmocka_unit_test(test_several_iovecs_never_run_fixed), \
	cmocka_unit_test(test_a_refused_registration_leaves_the_slot_vectored)

int main(void)
{
	const struct CMUnitTest uring[] = { URING_TESTS };
	const struct CMUnitTest other[] = {
		cmocka_unit_test(test_engines_without_registered_buffers_ignore_buf_index),
	};
	int rc = 0;

	rc |= _cmocka_run_group_tests("io_uring buffered", uring, sizeof(uring) / sizeof(uring[0]),
				      setup_uring, teardown);
	rc |= _cmocka_run_group_tests("io_uring O_DIRECT", uring, sizeof(uring) / sizeof(uring[0]),
				      setup_uring_direct, teardown);
	rc |= _cmocka_run_group_tests("libaio O_DIRECT", other, 1, setup_aio_direct, teardown);
	rc |= _cmocka_run_group_tests("sync buffered", other, 1, setup_sync, teardown);
	return rc;
}
