// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: blkback's three I/O engines (io_uring, libaio, sync) against
 * a temporary file on /var/tmp (a real filesystem: tmpfs has neither
 * O_DIRECT nor the same punch-hole behaviour), buffered and O_DIRECT:
 * written data reads back, a flush and a write-with-flush complete, a
 * discard punches a hole (SEEK_HOLE finds it, st_blocks drops), a batch of
 * requests completes in one submit, and a read past the end fails.
 * Completions are waited for in poll() on the engine's completion fd
 * (blk-io-fixture.c), not by sleeping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "blk-io-fixture.h"

#define FILE_SIZE (4u << 20)

static int setup(void **state, enum blk_io_kind kind, enum blk_direct direct)
{
	struct t_blk_io *e = calloc(1, sizeof(*e));

	*state = e;
	return e && t_blk_io_open(e, "test-blk-io", FILE_SIZE, kind, direct, 64) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	t_blk_io_close(*state);
	free(*state);
	return 0;
}

static int setup_uring(void **s) { return setup(s, BLK_IO_URING, BLK_DIRECT_OFF); }
static int setup_uring_direct(void **s) { return setup(s, BLK_IO_URING, BLK_DIRECT_ON); }
static int setup_aio(void **s) { return setup(s, BLK_IO_AIO, BLK_DIRECT_OFF); }
static int setup_aio_direct(void **s) { return setup(s, BLK_IO_AIO, BLK_DIRECT_ON); }
static int setup_sync(void **s) { return setup(s, BLK_IO_SYNC, BLK_DIRECT_OFF); }
static int setup_sync_direct(void **s) { return setup(s, BLK_IO_SYNC, BLK_DIRECT_ON); }

static void *page_buf(size_t len, int fill)
{
	void *p = NULL;

	assert_int_equal(posix_memalign(&p, 4096, len), 0);
	memset(p, fill, len);
	return p;
}

static void test_written_data_reads_back(void **state)
{
	struct t_blk_io *e = *state;
	size_t len = 3 * 4096;
	char *w = page_buf(len, 0), *r = page_buf(len, 0);
	struct iovec wiov[2] = { { w, 4096 }, { w + 4096, 2 * 4096 } }, riov = { r, len };
	struct blk_io_req wr = { .op = BLK_IO_WRITE, .offset = 8192, .len = len, .iov = wiov,
				 .iovcnt = 2 };
	struct blk_io_req rd = { .op = BLK_IO_READ, .offset = 8192, .len = len, .iov = &riov,
				 .iovcnt = 1 };
	size_t i;

	for (i = 0; i < len; i++)
		w[i] = (char)(i * 7 + 3);
	assert_int_equal(blk_io_queue(e->io, &wr), 0);
	t_blk_io_wait(e, 1);
	assert_int_equal(wr.res, 0);
	assert_int_equal(blk_io_queue(e->io, &rd), 0);
	t_blk_io_wait(e, 1);
	assert_int_equal(rd.res, 0);
	assert_memory_equal(w, r, len);
	free(w);
	free(r);
}

static void test_a_flush_and_a_durable_write_complete(void **state)
{
	struct t_blk_io *e = *state;
	char *w = page_buf(4096, 0x5a), *r = page_buf(4096, 0);
	struct iovec wiov = { w, 4096 }, riov = { r, 4096 };
	struct blk_io_req fl = { .op = BLK_IO_FLUSH };
	struct blk_io_req wr = { .op = BLK_IO_WRITE, .flush_after = true, .offset = 0, .len = 4096,
				 .iov = &wiov, .iovcnt = 1 };
	struct blk_io_req rd = { .op = BLK_IO_READ, .offset = 0, .len = 4096, .iov = &riov,
				 .iovcnt = 1 };

	assert_int_equal(blk_io_queue(e->io, &fl), 0);
	assert_int_equal(blk_io_queue(e->io, &wr), 0);
	t_blk_io_wait(e, 2);
	assert_int_equal(fl.res, 0);
	assert_int_equal(wr.res, 0);
	assert_int_equal(blk_io_queue(e->io, &rd), 0);
	t_blk_io_wait(e, 1);
	assert_memory_equal(w, r, 4096);
	free(w);
	free(r);
}

static void test_a_discard_punches_a_hole(void **state)
{
	struct t_blk_io *e = *state;
	size_t len = 1u << 20;
	char *w = page_buf(len, 0x11), *r = page_buf(4096, 0x77);
	struct iovec wiov = { w, len }, riov = { r, 4096 };
	struct blk_io_req wr = { .op = BLK_IO_WRITE, .offset = 0, .len = len, .iov = &wiov,
				 .iovcnt = 1, .flush_after = true };
	struct blk_io_req ds = { .op = BLK_IO_DISCARD, .offset = 256 * 1024, .len = 512 * 1024 };
	struct blk_io_req rd = { .op = BLK_IO_READ, .offset = 256 * 1024, .len = 4096,
				 .iov = &riov, .iovcnt = 1 };
	struct stat before, after;
	char zero[4096] = { 0 };
	off_t hole;
	int fd;

	assert_int_equal(blk_io_queue(e->io, &wr), 0);
	t_blk_io_wait(e, 1);
	assert_int_equal(wr.res, 0);
	assert_int_equal(stat(e->path, &before), 0);
	assert_int_equal(blk_io_queue(e->io, &ds), 0);
	t_blk_io_wait(e, 1);
	assert_int_equal(ds.res, 0);
	assert_int_equal(stat(e->path, &after), 0);
	assert_true(after.st_blocks < before.st_blocks);
	assert_int_equal(after.st_size, FILE_SIZE);
	fd = open(e->path, O_RDONLY);
	assert_true(fd >= 0);
	hole = lseek(fd, 0, SEEK_HOLE);
	close(fd);
	assert_int_equal(hole, 256 * 1024);
	assert_int_equal(blk_io_queue(e->io, &rd), 0);
	t_blk_io_wait(e, 1);
	assert_memory_equal(r, zero, 4096);
	free(w);
	free(r);
}

static void test_a_batch_completes_from_one_submit(void **state)
{
	struct t_blk_io *e = *state;
	enum { N = 32 };
	char *buf = page_buf(N * 4096, 0);
	struct iovec iov[N];
	struct blk_io_req rq[N];
	unsigned i;

	for (i = 0; i < N; i++) {
		memset(buf + i * 4096, (int)i + 1, 4096);
		iov[i] = (struct iovec){ buf + i * 4096, 4096 };
		rq[i] = (struct blk_io_req){ .op = BLK_IO_WRITE, .offset = (uint64_t)i * 8192,
					     .len = 4096, .iov = &iov[i], .iovcnt = 1 };
		assert_int_equal(blk_io_queue(e->io, &rq[i]), 0);
	}
	t_blk_io_wait(e, N);
	memset(buf, 0, N * 4096);
	for (i = 0; i < N; i++) {
		iov[i] = (struct iovec){ buf + i * 4096, 4096 };
		rq[i] = (struct blk_io_req){ .op = BLK_IO_READ, .offset = (uint64_t)i * 8192,
					     .len = 4096, .iov = &iov[i], .iovcnt = 1 };
		assert_int_equal(blk_io_queue(e->io, &rq[i]), 0);
	}
	t_blk_io_wait(e, N);
	for (i = 0; i < N; i++) {
		assert_int_equal(rq[i].res, 0);
		assert_int_equal((unsigned char)buf[i * 4096 + 100], i + 1);
	}
	free(buf);
}

static void test_a_read_past_the_end_of_the_file_fails(void **state)
{
	struct t_blk_io *e = *state;
	char *r = page_buf(8192, 0);
	struct iovec riov = { r, 8192 };
	struct blk_io_req rd = { .op = BLK_IO_READ, .offset = FILE_SIZE - 4096, .len = 8192,
				 .iov = &riov, .iovcnt = 1 };

	assert_int_equal(blk_io_queue(e->io, &rd), 0);
	t_blk_io_wait(e, 1);
	assert_int_equal(rd.res, -EIO);
	free(r);
}

static void test_the_backing_reports_its_geometry(void **state)
{
	struct t_blk_io *e = *state;

	assert_int_equal(e->bs.size, FILE_SIZE);
	assert_false(e->bs.blkdev);
	assert_int_equal(e->bs.logical_block, 512);
	assert_true(e->bs.can_discard);
	assert_int_equal(e->bs.direct, e->direct == BLK_DIRECT_ON);
}

#define ENGINE_TESTS \
	cmocka_unit_test(test_the_backing_reports_its_geometry), \
	cmocka_unit_test(test_written_data_reads_back), \
	cmocka_unit_test(test_a_flush_and_a_durable_write_complete), \
	cmocka_unit_test(test_a_discard_punches_a_hole), \
	cmocka_unit_test(test_a_batch_completes_from_one_submit), \
	cmocka_unit_test(test_a_read_past_the_end_of_the_file_fails)

int main(void)
{
	const struct CMUnitTest tests[] = { ENGINE_TESTS };
	struct {
		const char *name;
		int (*setup)(void **);
	} groups[] = {
		{ "io_uring buffered", setup_uring }, { "io_uring O_DIRECT", setup_uring_direct },
		{ "libaio buffered", setup_aio },     { "libaio O_DIRECT", setup_aio_direct },
		{ "sync buffered", setup_sync },      { "sync O_DIRECT", setup_sync_direct },
	};
	unsigned i;
	int rc = 0;

	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		rc |= _cmocka_run_group_tests(groups[i].name, tests, sizeof(tests) / sizeof(tests[0]),
					      groups[i].setup, teardown);
	return rc;
}
