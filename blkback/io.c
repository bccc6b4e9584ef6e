// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Host side of a vbd: opening the backing store (file or block device,
 * O_DIRECT when it works), its geometry and discard abilities, and what the
 * three I/O engines share: engine selection, synchronous execution (used by
 * the sync engine and for discard/flush fallbacks), the "completed
 * synchronously" list that reap delivers, and the registered-buffer calls
 * (optional ops: only io_uring has them).
 *
 * Knows nothing about grants or rings.  A struct blk_backing is shared by
 * every queue of a vbd (read-only after open, except size on resize).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "blkback.h"

static int read_sysfs_uint(unsigned maj, unsigned min, const char *attr, uint64_t *out)
{
	char path[128];
	unsigned long long v;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%s", maj, min, attr);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fscanf(f, "%llu", &v);
	fclose(f);
	if (n != 1)
		return -EINVAL;
	*out = v;
	return 0;
}

static int probe_blkdev(struct blk_backing *bs, const struct stat *st)
{
	unsigned maj = major(st->st_rdev), min = minor(st->st_rdev);
	uint64_t size, gran = 0, align = 0, maxb = 0;
	int lbs = 512;
	unsigned pbs = 512;

	if (ioctl(bs->fd, BLKGETSIZE64, &size) < 0)
		return -errno;
	if (ioctl(bs->fd, BLKSSZGET, &lbs) < 0)
		lbs = 512;
	if (ioctl(bs->fd, BLKPBSZGET, &pbs) < 0)
		pbs = (unsigned)lbs;
	bs->size = size;
	bs->logical_block = (unsigned)lbs;
	bs->physical_block = pbs;
	bs->dio_align = (unsigned)lbs;
	/* Partitions have no queue/ of their own: try the attribute, then the parent. */
	if (read_sysfs_uint(maj, min, "queue/discard_max_bytes", &maxb) < 0)
		read_sysfs_uint(maj, min, "../queue/discard_max_bytes", &maxb);
	if (read_sysfs_uint(maj, min, "queue/discard_granularity", &gran) < 0)
		read_sysfs_uint(maj, min, "../queue/discard_granularity", &gran);
	read_sysfs_uint(maj, min, "discard_alignment", &align);
	bs->can_discard = maxb > 0;
	bs->discard_granularity = gran ? (unsigned)gran : (unsigned)lbs;
	bs->discard_alignment = (unsigned)align;
	bs->can_secure = false; /* no generic sysfs probe; BLKSECDISCARD then fails with EOPNOTSUPP */
	return 0;
}

static void probe_file(struct blk_backing *bs, const struct stat *st)
{
	struct statx stx;

	bs->size = (uint64_t)st->st_size;
	bs->logical_block = BLK_SECTOR_SIZE;
	bs->physical_block = st->st_blksize >= 512 && st->st_blksize <= 65536 ? (unsigned)st->st_blksize :
										   BLK_SECTOR_SIZE;
	bs->dio_align = BLK_SECTOR_SIZE;
#ifdef STATX_DIOALIGN
	if (statx(bs->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
	    (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align) {
		bs->dio_align = stx.stx_dio_offset_align > stx.stx_dio_mem_align ?
					stx.stx_dio_offset_align : stx.stx_dio_mem_align;
	}
#else
	(void)stx;
#endif
	bs->can_discard = true; /* fallocate(PUNCH_HOLE); -EOPNOTSUPP reported per request */
	bs->discard_granularity = bs->physical_block;
	bs->discard_alignment = 0;
	bs->can_secure = false;
}

bool blk_nbd_is_uri(const char *target)
{
	return !strncmp(target, "nbd://", 6) || !strncmp(target, "nbd+unix://", 11);
}

const char *blk_store_name(enum blk_store s)
{
	return s == BLK_STORE_NBD ? "nbd" : s == BLK_STORE_RBD ? "rbd" : "file";
}

bool blk_rbd_is_target(const char *target)
{
	return !strncmp(target, "rbd:", 4);
}

/* Unescape "\:" and "\\" in place up to the next unescaped ':'; returns
 * what follows it, or NULL at the end. */
static char *rbd_field(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			*w++ = *++s;
			continue;
		}
		if (*s == ':') {
			*w = '\0';
			return s + 1;
		}
		*w++ = *s;
	}
	*w = '\0';
	return NULL;
}

int blk_rbd_parse(const char *target, struct blk_rbd_target *t)
{
	char *p, *rest, *at, *slash;

	memset(t, 0, sizeof(*t));
	if (!blk_rbd_is_target(target))
		return -EINVAL;
	if (strlen(target + 4) >= sizeof(t->buf))
		return -ENAMETOOLONG;
	strcpy(t->buf, target + 4);
	rest = rbd_field(t->buf);
	/* POOL/[NS/]IMAGE[@SNAP] */
	t->pool = t->buf;
	slash = strchr(t->buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	t->image = slash + 1;
	slash = strchr(t->image, '/');
	if (slash) {
		*slash = '\0';
		t->ns = t->image;
		t->image = slash + 1;
	}
	at = strchr(t->image, '@');
	if (at) {
		*at = '\0';
		t->snap = at + 1;
	}
	if (!*t->pool || !*t->image || (t->snap && !*t->snap) || (t->ns && !*t->ns) ||
	    strchr(t->image, '/'))
		return -EINVAL;
	while ((p = rest)) {
		char *eq;

		rest = rbd_field(p);
		eq = strchr(p, '=');
		if (!eq || eq == p)
			return -EINVAL;
		*eq++ = '\0';
		if (!strcmp(p, "conf")) {
			t->conf = eq;
		} else if (!strcmp(p, "id")) {
			t->id = eq;
		} else {
			if (t->nopt == sizeof(t->opt) / sizeof(t->opt[0]))
				return -EINVAL;
			t->opt[t->nopt][0] = p;
			t->opt[t->nopt++][1] = eq;
		}
	}
	return 0;
}

/* A network store: connect once for the size and what the server can do.
 * -EPROTONOSUPPORT when built without its library; 1: not a network target. */
static int probe_network(const char *target, bool readonly, struct blk_backing *bs)
{
	if (blk_nbd_is_uri(target)) {
#ifdef HAVE_LIBNBD
		return blk_nbd_probe(target, readonly, bs);
#else
		return -EPROTONOSUPPORT; /* built without libnbd (libnbd-dev) */
#endif
	}
	if (blk_rbd_is_target(target)) {
#ifdef HAVE_LIBRBD
		return blk_rbd_probe(target, readonly, bs);
#else
		return -EPROTONOSUPPORT; /* built without librbd (librbd-dev) */
#endif
	}
	return 1;
}

int blk_backing_open(const char *path, bool readonly, enum blk_direct direct,
		     struct blk_backing *bs)
{
	int flags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	struct stat st;
	int rc;

	rc = probe_network(path, readonly, bs);
	if (rc <= 0)
		return rc;
	*bs = (struct blk_backing){ .fd = -1, .fd_buffered = -1, .readonly = readonly,
				    .can_flush = true, .can_fua = true, .multi_conn = true };
	bs->fd_buffered = open(path, flags);
	if (bs->fd_buffered < 0)
		return -errno;
	if (fstat(bs->fd_buffered, &st) < 0) {
		rc = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		rc = -EINVAL;
		goto fail;
	}
	bs->blkdev = S_ISBLK(st.st_mode);
	bs->fd = bs->fd_buffered;
	if (bs->blkdev) {
		rc = probe_blkdev(bs, &st);
		if (rc < 0)
			goto fail;
	} else {
		probe_file(bs, &st);
	}
	if (direct != BLK_DIRECT_OFF) {
		int dfd = open(path, flags | O_DIRECT);

		if (dfd >= 0) {
			bs->fd = dfd;
			bs->direct = true;
		} else if (direct == BLK_DIRECT_ON) {
			rc = -errno;
			goto fail;
		}
	}
	return 0;
fail:
	close(bs->fd_buffered);
	bs->fd = bs->fd_buffered = -1;
	return rc;
}

void blk_backing_close(struct blk_backing *bs)
{
#ifdef HAVE_LIBRBD
	blk_rbd_unwatch(bs->watch);
	bs->watch = NULL;
#endif
	if (bs->fd >= 0 && bs->fd != bs->fd_buffered)
		close(bs->fd);
	if (bs->fd_buffered >= 0)
		close(bs->fd_buffered);
	bs->fd = bs->fd_buffered = -1;
}

int blk_backing_restat(struct blk_backing *bs)
{
	struct stat st;
	uint64_t size;

#ifdef HAVE_LIBRBD
	if (bs->watch) { /* librbd refreshed the watched handle */
		int rc = blk_rbd_watch_size(bs->watch, &size);

		if (rc < 0)
			return rc;
	} else
#endif
	if (bs->store != BLK_STORE_FILE) {
		/* The server tells the size at connect: connect again. */
		struct blk_backing now;
		int rc = probe_network(bs->uri, bs->readonly, &now);

		if (rc < 0)
			return rc;
		size = now.size;
	} else if (bs->blkdev) {
		if (ioctl(bs->fd_buffered, BLKGETSIZE64, &size) < 0)
			return -errno;
	} else {
		if (fstat(bs->fd_buffered, &st) < 0)
			return -errno;
		size = (uint64_t)st.st_size;
	}
	__atomic_store_n(&bs->size, size, __ATOMIC_RELAXED);
	return 0;
}

int blk_backing_discard(struct blk_backing *bs, uint64_t off, uint64_t len, bool secure)
{
	uint64_t range[2] = { off, len };

	if (!len)
		return 0;
	if (!bs->blkdev) {
		if (fallocate(bs->fd_buffered, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)off, (off_t)len) < 0)
			return -errno;
		return 0;
	}
	if (ioctl(bs->fd_buffered, secure && bs->can_secure ? BLKSECDISCARD : BLKDISCARD, range) < 0)
		return -errno;
	return 0;
}

/* preadv/pwritev the whole range, resuming after short transfers. */
static int rw_full(int fd, bool write, struct iovec *iov, unsigned cnt, uint64_t off)
{
	while (cnt) {
		ssize_t n = write ? pwritev(fd, iov, (int)cnt, (off_t)off) :
				    preadv(fd, iov, (int)cnt, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO; /* end of file inside the device: backing shrank */
		off += (uint64_t)n;
		while (cnt && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

int blk_io_exec_sync(struct blk_backing *bs, struct blk_io_req *r)
{
	int fd = r->buffered ? bs->fd_buffered : bs->fd;
	int rc;

	switch (r->op) {
	case BLK_IO_READ:
		return rw_full(fd, false, r->iov, r->iovcnt, r->offset);
	case BLK_IO_WRITE:
		rc = rw_full(fd, true, r->iov, r->iovcnt, r->offset);
		if (rc == 0 && r->flush_after && fdatasync(fd) < 0)
			rc = -errno;
		return rc;
	case BLK_IO_FLUSH:
		return fdatasync(fd) < 0 ? -errno : 0;
	case BLK_IO_DISCARD:
		return blk_backing_discard(bs, r->offset, r->len, r->secure);
	}
	return -EINVAL;
}

void blk_io_base_init(struct blk_io *io, const struct blk_io_ops *ops, struct blk_backing *bs)
{
	io->ops = ops;
	io->bs = bs;
	io->efd = -1;
	io->efd_counter = false;
	io->efd_events = PV_LOOP_IN;
	io->ready = NULL;
	io->ready_tail = &io->ready;
	io->batch = NULL;
	io->batch_tail = &io->batch;
}

int blk_io_queue_batch(struct blk_io *io, struct blk_io_req *r)
{
	r->next = NULL;
	*io->batch_tail = r;
	io->batch_tail = &r->next;
	return 0;
}

struct blk_io_req *blk_io_batch_take(struct blk_io *io)
{
	struct blk_io_req *r = io->batch;

	io->batch = NULL;
	io->batch_tail = &io->batch;
	return r;
}

void blk_io_complete_later(struct blk_io *io, struct blk_io_req *r, int res)
{
	r->res = res;
	r->next = NULL;
	*io->ready_tail = r;
	io->ready_tail = &r->next;
}

int blk_io_reap_ready(struct blk_io *io)
{
	struct blk_io_req *r = io->ready;
	int n = 0;

	io->ready = NULL;
	io->ready_tail = &io->ready;
	while (r) {
		struct blk_io_req *next = r->next;

		io->done(r, io->opaque);
		r = next;
		n++;
	}
	return n;
}

int blk_io_kind_parse(const char *s, enum blk_io_kind *out)
{
	static const char *const names[] = {
		[BLK_IO_AUTO] = "auto", [BLK_IO_URING] = "uring",
		[BLK_IO_AIO] = "aio", [BLK_IO_SYNC] = "sync",
	};
	unsigned i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i])) {
			*out = (enum blk_io_kind)i;
			return 0;
		}
	}
	if (!strcmp(s, "io_uring")) {
		*out = BLK_IO_URING;
		return 0;
	}
	return -EINVAL;
}

int blk_io_create(enum blk_io_kind kind, struct blk_backing *bs, unsigned depth,
		  blk_io_done_fn *done, void *opaque, struct blk_io **out)
{
	const struct blk_io_ops *ops;
	int k, rc = -EINVAL;

	/* A network store has its own engine, whatever --io says. */
	if (bs->store == BLK_STORE_NBD)
		kind = BLK_IO_NBD;
	else if (bs->store == BLK_STORE_RBD)
		kind = BLK_IO_RBD;
	switch (kind) {
	case BLK_IO_URING:
		ops = &blk_io_uring_ops;
		break;
	case BLK_IO_AIO:
#ifdef HAVE_LIBAIO
		ops = &blk_io_aio_ops;
		break;
#else
		return -EOPNOTSUPP; /* built without libaio (scripts/configure) */
#endif
	case BLK_IO_SYNC:
		ops = &blk_io_sync_ops;
		break;
	case BLK_IO_NBD:
#ifdef HAVE_LIBNBD
		ops = &blk_io_nbd_ops;
		break;
#else
		return -EPROTONOSUPPORT;
#endif
	case BLK_IO_RBD:
#ifdef HAVE_LIBRBD
		ops = &blk_io_rbd_ops;
		break;
#else
		return -EPROTONOSUPPORT;
#endif
	default:
		for (k = BLK_IO_URING; k <= BLK_IO_SYNC; k++) {
			rc = blk_io_create((enum blk_io_kind)k, bs, depth, done, opaque, out);
			if (rc == 0)
				return 0;
		}
		return rc;
	}
	rc = ops->create(bs, depth, out);
	if (rc < 0)
		return rc;
	(*out)->done = done;
	(*out)->opaque = opaque;
	return 0;
}

void blk_io_destroy(struct blk_io *io)
{
	if (io)
		io->ops->destroy(io);
}

int blk_io_reg_bufs(struct blk_io *io, unsigned nr)
{
	return io->ops->reg_bufs ? io->ops->reg_bufs(io, nr) : -EOPNOTSUPP;
}

int blk_io_reg_buf(struct blk_io *io, unsigned slot, void *addr, size_t len)
{
	return io->ops->reg_buf ? io->ops->reg_buf(io, slot, addr, len) : -EOPNOTSUPP;
}
