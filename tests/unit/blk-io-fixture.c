// SPDX-License-Identifier: GPL-2.0-or-later
/* The blkback I/O engine test fixture (see blk-io-fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "blk-io-fixture.h"

static void on_done(struct blk_io_req *r, void *opaque)
{
	struct t_blk_io *e = opaque;

	e->done++;
}

int t_blk_io_open(struct t_blk_io *e, const char *tag, uint64_t size, enum blk_io_kind kind,
		  enum blk_direct direct, unsigned depth)
{
	int fd, rc;

	e->kind = kind;
	e->direct = direct;
	snprintf(e->path, sizeof(e->path), "/var/tmp/%s.XXXXXX", tag);
	fd = mkstemp(e->path);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		return -1;
	close(fd);
	rc = blk_backing_open(e->path, false, direct, &e->bs);
	if (rc < 0) {
		fprintf(stderr, "open %s: %s\n", e->path, strerror(-rc));
		return -1;
	}
	rc = blk_io_create(kind, &e->bs, depth, on_done, e, &e->io);
	if (rc < 0) {
		fprintf(stderr, "engine: %s\n", strerror(-rc));
		return -1;
	}
	return 0;
}

void t_blk_io_close(struct t_blk_io *e)
{
	blk_io_destroy(e->io);
	blk_backing_close(&e->bs);
	unlink(e->path);
}

void t_blk_io_wait(struct t_blk_io *e, unsigned want)
{
	unsigned target = e->done + want;
	struct pollfd p = { .fd = e->io->efd, .events = POLLIN };
	uint64_t cnt;

	assert_int_equal(blk_io_submit(e->io), 0);
	for (;;) {
		blk_io_reap(e->io);
		if (e->done >= target || p.fd < 0)
			break;
		assert_int_equal(poll(&p, 1, 10000), 1);
		if (e->io->efd_counter)
			assert_int_equal(read(p.fd, &cnt, sizeof(cnt)), sizeof(cnt));
	}
	assert_int_equal(e->done, target);
}
