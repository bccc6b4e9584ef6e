/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fixture of the blkback I/O engine tests (t_blk_io_*): a sparse
 * temporary file on /var/tmp (a real filesystem: tmpfs has neither O_DIRECT
 * nor the same punch-hole behaviour), opened as a blk_backing, and an engine
 * of one kind on it that counts its completions.  Completions are waited for
 * in poll() on the engine's completion fd, never by sleeping.  One thread.
 */
#ifndef T_BLK_IO_FIXTURE_H
#define T_BLK_IO_FIXTURE_H

#include <stdint.h>

#include "blkback.h"

struct t_blk_io {
	enum blk_io_kind kind;
	enum blk_direct direct;
	char path[64];          /* the backing file, removed by t_blk_io_close */
	struct blk_backing bs;
	struct blk_io *io;
	unsigned done;          /* requests completed so far */
};

/* Create a size-byte /var/tmp/<tag>.XXXXXX, open it (direct or not) and an
 * engine of kind with depth on it: 0, or -1 with the reason on stderr. */
int t_blk_io_open(struct t_blk_io *e, const char *tag, uint64_t size, enum blk_io_kind kind,
		  enum blk_direct direct, unsigned depth);
/* Engine first (the kernel may still pin registered pages), then the file. */
void t_blk_io_close(struct t_blk_io *e);
/* Submit what is queued and reap until want more requests completed: a
 * cmocka assertion fails if the engine stops completing for 10 s. */
void t_blk_io_wait(struct t_blk_io *e, unsigned want);

#endif
