// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * NBD backing store (libnbd): a vbd whose params is an NBD URI
 * (nbd://HOST[:PORT]/EXPORT, nbd+unix:///EXPORT?socket=PATH) is served from
 * that export.  docs/shared-storage.md says what is mapped to what.
 *
 * blk_nbd_probe, on the xenbus thread, connects once to learn the size and
 * what the server can do (flush, FUA, trim, write zeroes, multi-conn, read
 * only), then lets go.  Each queue's engine is a connection of its own,
 * made when the queue starts (on the xenbus thread, or in the domain's
 * worker: the queue thread connects nothing), driven by the queue's loop
 * through libnbd's asynchronous calls: the socket is the engine's efd,
 * watched for what libnbd wants next (read, write), and completions arrive
 * as libnbd's callbacks inside nbd_aio_notify_*.  No thread of libnbd's, no
 * thread per request.
 *
 * A blkif read or write is one NBD command: NBD has no vectored I/O, and
 * the pages of a request (persistent grants above all) are seldom
 * neighbours, so a request of several runs goes through a buffer of its
 * own (one memcpy instead of a command, a reply and a wake-up per page;
 * one command per run of memory-contiguous segments if it cannot be had).
 * Those buffers are mappings of the engine's own, kept for reuse: malloc
 * would trim its heap on the queue thread one day, and glibc's trim opens
 * /proc/sys/vm/overcommit_memory, which the queue's filter refuses.  A
 * write the guest wants durable (FUA, the data of a flush or barrier)
 * carries NBD_CMD_FLAG_FUA when the server offers it, else is followed by
 * NBD_CMD_FLUSH once every part is written;
 * a flush is NBD_CMD_FLUSH; a discard NBD_CMD_TRIM, a secure discard
 * NBD_CMD_WRITE_ZEROES without holes (the data is gone, not just
 * unmapped).  A request completes when its last command did, with the
 * first error any part had.
 *
 * One instance per queue thread; not thread-safe.
 */
#include <errno.h>
#include <libnbd.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blkback.h"

/* The connector: a thread of the engine's own, made where the engine is
 * (never on the queue thread, whose filter has no socket or connect), that
 * connects again while the queue's connection is down. */
struct connector {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool want, stop;
	bool tick;                /* also signal each failed attempt (--nbd-timeout) */
	struct nbd_handle *ready; /* connected, for the queue to take */
	int efd;                  /* eventfd: ready is there (or a tick) */
	const char *uri;
};

struct nbd_io {
	struct blk_io base;
	struct nbd_handle *h;     /* the connection; dead while reconnecting */
	struct blk_io_req *waiting, **waiting_tail; /* for the next connection */
	/* Written, their flush to issue: part_done runs inside libnbd's
	 * callbacks, which must not call libnbd on the handle (its lock is
	 * held), so the flush waits for flush_written after the notify. */
	struct blk_io_req *to_flush, **to_flush_tail;
	struct nbd_buf *bufs;     /* one-piece buffers to reuse */
	unsigned nbufs;
	bool dead;
	/* --nbd-timeout: when the connection went; past the timeout, what
	 * waits for a connection fails (EIO) until one is made. */
	uint64_t lost_at;
	bool expired;
	/* Writes answered without FUA since the last flush: a server that
	 * restarted may have lost them, and the next flush says so. */
	bool unflushed, lost;
	struct connector c;
};

/* A one-piece buffer: its header, then cap bytes of data. */
struct nbd_buf {
	struct nbd_buf *next;
	size_t cap;
};

#define BUF_HDR   64u
#define BUF_MIN   (256u << 10)
#define BUF_CACHE 32u

static void *buf_get(struct nbd_io *n, size_t len)
{
	struct nbd_buf **p, *b;
	size_t cap;

	for (p = &n->bufs; (b = *p); p = &b->next) {
		if (b->cap >= len) {
			*p = b->next;
			n->nbufs--;
			return (char *)b + BUF_HDR;
		}
	}
	cap = len < BUF_MIN ? BUF_MIN : (len + 65535) & ~(size_t)65535;
	b = mmap(NULL, cap + BUF_HDR, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (b == MAP_FAILED)
		return NULL;
	b->cap = cap;
	return (char *)b + BUF_HDR;
}

static void buf_put(struct nbd_io *n, void *data)
{
	struct nbd_buf *b = (struct nbd_buf *)((char *)data - BUF_HDR);

	if (n->nbufs < BUF_CACHE) {
		b->next = n->bufs;
		n->bufs = b;
		n->nbufs++;
		return;
	}
	munmap(b, b->cap + BUF_HDR);
}

/* libnbd's error for a call that returned -1, as -errno. */
static int nbd_rc(void)
{
	int e = nbd_get_errno();

	return e > 0 ? -e : -EIO;
}

const char *blk_nbd_error(void)
{
	return nbd_get_error();
}

/* A handle connected to uri, for the probe or a queue. */
static int nbd_open(const char *uri, struct nbd_handle **out)
{
	struct nbd_handle *h = nbd_create();
	int rc;

	if (!h)
		return nbd_rc();
	if (nbd_connect_uri(h, uri) < 0) {
		rc = nbd_rc();
		nbd_close(h);
		return rc;
	}
	*out = h;
	return 0;
}

int blk_nbd_probe(const char *uri, bool readonly, struct blk_backing *bs)
{
	struct nbd_handle *h;
	int64_t size, min, pref;
	int rc;

	*bs = (struct blk_backing){ .fd = -1, .fd_buffered = -1, .readonly = readonly,
				    .store = BLK_STORE_NBD };
	if (strlen(uri) >= sizeof(bs->uri))
		return -ENAMETOOLONG;
	snprintf(bs->uri, sizeof(bs->uri), "%s", uri);
	rc = nbd_open(uri, &h);
	if (rc < 0)
		return rc;
	size = nbd_get_size(h);
	if (size < 0) {
		rc = nbd_rc();
		goto out;
	}
	if (!readonly && nbd_is_read_only(h) == 1) {
		rc = -EROFS; /* the export is: attach it read-only */
		goto out;
	}
	min = nbd_get_block_size(h, LIBNBD_SIZE_MINIMUM);
	pref = nbd_get_block_size(h, LIBNBD_SIZE_PREFERRED);
	bs->size = (uint64_t)size;
	bs->logical_block = min > BLK_SECTOR_SIZE && min <= 4096 ? (unsigned)min : BLK_SECTOR_SIZE;
	bs->physical_block = pref >= bs->logical_block && pref <= 65536 ? (unsigned)pref
									: bs->logical_block;
	bs->dio_align = 1;
	bs->can_flush = nbd_can_flush(h) == 1;
	bs->can_fua = nbd_can_fua(h) == 1;
	bs->can_discard = nbd_can_trim(h) == 1;
	bs->can_secure = nbd_can_zero(h) == 1;
	bs->multi_conn = nbd_can_multi_conn(h) == 1;
	bs->discard_granularity = bs->physical_block;
	bs->discard_alignment = 0;
	rc = 0;
out:
	nbd_shutdown(h, 0);
	nbd_close(h);
	return rc;
}

static unsigned want_events(struct nbd_io *n)
{
	unsigned dir;

	if (n->dead)
		return PV_LOOP_IN; /* the connector's eventfd */
	dir = nbd_aio_get_direction(n->h);
	return (dir & LIBNBD_AIO_DIRECTION_READ ? PV_LOOP_IN : 0) |
	       (dir & LIBNBD_AIO_DIRECTION_WRITE ? PV_LOOP_OUT : 0);
}

/* ------------------------------------------------------------ connector */

#define RECONNECT_MIN_MS 50
#define RECONNECT_MAX_MS 2000

static void *connector_main(void *opaque)
{
	struct connector *c = opaque;
	unsigned delay = RECONNECT_MIN_MS;
	struct nbd_handle *h;
	struct timespec t;
	uint64_t one = 1;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->stop && !c->want)
			pthread_cond_wait(&c->cond, &c->lock);
		if (c->stop)
			break;
		pthread_mutex_unlock(&c->lock);
		h = NULL;
		nbd_open(c->uri, &h);
		pthread_mutex_lock(&c->lock);
		if (h) {
			c->ready = h;
			c->want = false;
			delay = RECONNECT_MIN_MS;
			if (write(c->efd, &one, sizeof(one)) < 0)
				continue; /* an eventfd write does not fail below its max */
			continue;
		}
		/* The server is not back yet: try again, less often (and let
		 * the queue look at its clock). */
		if (c->tick && write(c->efd, &one, sizeof(one)) < 0)
			continue; /* as above */
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += (long)delay * 1000000;
		t.tv_sec += t.tv_nsec / 1000000000;
		t.tv_nsec %= 1000000000;
		while (!c->stop && pthread_cond_timedwait(&c->cond, &c->lock, &t) == 0)
			;
		delay = delay * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : delay * 2;
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static int connector_start(struct connector *c, const char *uri, bool tick)
{
	int rc;

	c->uri = uri;
	c->tick = tick;
	c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->efd < 0)
		return -errno;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	rc = -pthread_create(&c->thread, NULL, connector_main, c);
	if (rc < 0)
		close(c->efd);
	return rc;
}

static void connector_stop(struct connector *c)
{
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	if (c->ready)
		nbd_close(c->ready);
	close(c->efd);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
}

/* ------------------------------------------------------------ engine */

static int nbd_io_create(struct blk_backing *bs, unsigned depth, struct blk_io **out)
{
	struct nbd_io *n = calloc(1, sizeof(*n));
	int rc;

	(void)depth;
	if (!n)
		return -ENOMEM;
	blk_io_base_init(&n->base, &blk_io_nbd_ops, bs);
	n->waiting_tail = &n->waiting;
	n->to_flush_tail = &n->to_flush;
	rc = nbd_open(bs->uri, &n->h);
	if (rc < 0) {
		free(n);
		return rc;
	}
	rc = connector_start(&n->c, bs->uri, bs->timeout_s > 0);
	if (rc < 0) {
		nbd_close(n->h);
		free(n);
		return rc;
	}
	n->base.efd = nbd_aio_get_fd(n->h);
	n->base.efd_events = want_events(n);
	*out = &n->base;
	return 0;
}

static void nbd_io_destroy(struct blk_io *io)
{
	struct nbd_io *n = (struct nbd_io *)io;

	/* Every request was answered before (the queue drained). */
	connector_stop(&n->c);
	nbd_close(n->h);
	while (n->bufs) {
		struct nbd_buf *b = n->bufs;

		n->bufs = b->next;
		munmap(b, b->cap + BUF_HDR);
	}
	free(n);
}

static void part_done(struct nbd_io *n, struct blk_io_req *r, int err);

struct nbd_part {
	struct nbd_io *n;
	struct blk_io_req *r;
};

/* The connection is over: dead (an error), or closed (the server hung up
 * between commands); either way no command can go on it. */
static bool gone(struct nbd_handle *h)
{
	return nbd_aio_is_dead(h) || nbd_aio_is_closed(h);
}

/* The errors of a connection that went, not of the request. */
static bool conn_error(int err)
{
	return err == ENOTCONN || err == ECONNRESET || err == EPIPE || err == ESHUTDOWN ||
	       err == ECONNABORTED;
}

/* libnbd's completion callback: a command of r finished. */
static int on_done(void *opaque, int *error)
{
	struct nbd_part *p = opaque;

	part_done(p->n, p->r, *error);
	free(p);
	return 1; /* retire the command */
}

/* Issue one command for r; r->parts counts it first.  A failure to issue
 * is that part's error. */
static void issue(struct nbd_io *n, struct blk_io_req *r, enum blk_io_op op, void *buf,
		  uint64_t len, uint64_t off, uint32_t flags)
{
	struct nbd_part *p = malloc(sizeof(*p));
	nbd_completion_callback cb;
	int64_t rc = -1;

	r->parts++;
	if (!p) {
		part_done(n, r, ENOMEM);
		return;
	}
	*p = (struct nbd_part){ n, r };
	cb = (nbd_completion_callback){ .callback = on_done, .user_data = p };
	switch (op) {
	case BLK_IO_READ:
		rc = nbd_aio_pread(n->h, buf, len, off, cb, 0);
		break;
	case BLK_IO_WRITE:
		rc = nbd_aio_pwrite(n->h, buf, len, off, cb, flags);
		break;
	case BLK_IO_FLUSH:
		rc = nbd_aio_flush(n->h, cb, 0);
		break;
	case BLK_IO_DISCARD:
		rc = r->secure ? nbd_aio_zero(n->h, len, off, cb, LIBNBD_CMD_FLAG_NO_HOLE)
			       : nbd_aio_trim(n->h, len, off, cb, 0);
		break;
	}
	if (rc < 0) {
		/* Not issued: libnbd does not call cb (nor free p). */
		int err = -nbd_rc();

		free(p);
		part_done(n, r, gone(n->h) ? ENOTCONN : err);
	}
}

static void start_req(struct nbd_io *n, struct blk_io_req *r);

/* r waits for the next connection, or fails when the server has been
 * gone for longer than --nbd-timeout. */
static void wait_conn(struct nbd_io *n, struct blk_io_req *r)
{
	if (n->expired) {
		blk_io_complete_later(&n->base, r, -EIO);
		return;
	}
	r->next = NULL;
	*n->waiting_tail = r;
	n->waiting_tail = &r->next;
}

/* A read's data from its buffer into the guest's pages. */
static void scatter(struct blk_io_req *r)
{
	const char *p = r->buf;
	unsigned i;

	for (i = 0; i < r->iovcnt; i++) {
		memcpy(r->iov[i].iov_base, p, r->iov[i].iov_len);
		p += r->iov[i].iov_len;
	}
}

/* Several runs of contiguous segments: a buffer for the whole request
 * (filled with a write's data), or NULL (one piece already, or no memory). */
static void *one_piece(struct nbd_io *n, const struct blk_io_req *r, uint64_t *len)
{
	bool contiguous = true;
	char *buf, *p;
	unsigned i;

	*len = 0;
	for (i = 0; i < r->iovcnt; i++) {
		if (i && (char *)r->iov[i].iov_base != (char *)r->iov[i - 1].iov_base +
								 r->iov[i - 1].iov_len)
			contiguous = false;
		*len += r->iov[i].iov_len;
	}
	if (contiguous)
		return NULL;
	buf = buf_get(n, *len);
	if (!buf || r->op != BLK_IO_WRITE)
		return buf;
	for (p = buf, i = 0; i < r->iovcnt; i++) {
		memcpy(p, r->iov[i].iov_base, r->iov[i].iov_len);
		p += r->iov[i].iov_len;
	}
	return buf;
}

/* Once every part is done: a request the connection failed waits for the
 * next one; a write that must be durable and had no FUA gets its flush;
 * then the request completes. */
static void part_done(struct nbd_io *n, struct blk_io_req *r, int err)
{
	const struct blk_backing *bs = n->base.bs;

	if (conn_error(err) || (err && gone(n->h)))
		r->again = true;
	else if (err && !r->res)
		r->res = -err;
	if (--r->parts)
		return;
	if (r->buf) {
		if (r->op == BLK_IO_READ && !r->res && !r->again)
			scatter(r);
		buf_put(n, r->buf);
		r->buf = NULL;
	}
	if (r->again) {
		/* Whole again on the next connection (reads and writes are
		 * idempotent; a half-done flush is flushed again). */
		wait_conn(n, r);
		return;
	}
	if (r->op == BLK_IO_WRITE && r->flush_after && !r->res && !bs->can_fua && bs->can_flush) {
		r->flush_after = false; /* once: the flush's completion ends it */
		r->next = NULL;
		*n->to_flush_tail = r;
		n->to_flush_tail = &r->next;
		return;
	}
	if (!r->res && r->op == BLK_IO_WRITE && !(r->flush_after && bs->can_fua))
		n->unflushed = true;
	if (!r->res && r->op == BLK_IO_FLUSH && bs->can_flush) {
		/* Writes answered before the connection went may be lost with
		 * the server's cache: this flush cannot vouch for them. */
		if (n->lost)
			r->res = -EIO;
		n->lost = false;
		n->unflushed = false;
	}
	blk_io_complete_later(&n->base, r, r->res);
}

/* The flushes part_done left for after libnbd's callbacks. */
static void flush_written(struct nbd_io *n)
{
	struct blk_io_req *r;

	while ((r = n->to_flush)) {
		n->to_flush = r->next;
		if (!n->to_flush)
			n->to_flush_tail = &n->to_flush;
		if (n->dead) {
			/* The connection went: the whole write again. */
			r->flush_after = true;
			wait_conn(n, r);
			continue;
		}
		issue(n, r, BLK_IO_FLUSH, NULL, 0, 0, 0);
	}
}

static void start_req(struct nbd_io *n, struct blk_io_req *r)
{
	const struct blk_backing *bs = n->base.bs;
	uint32_t fua = r->flush_after && bs->can_fua ? LIBNBD_CMD_FLAG_FUA : 0;
	uint64_t off = r->offset, len;
	unsigned i = 0;

	if (n->dead) {
		wait_conn(n, r);
		return;
	}
	r->res = 0;
	r->again = false;
	r->parts = 1; /* none completes the request before every part is issued */
	switch (r->op) {
	case BLK_IO_READ:
	case BLK_IO_WRITE:
		r->buf = one_piece(n, r, &len);
		if (r->buf) {
			issue(n, r, r->op, r->buf, len, off, fua);
			break;
		}
		while (i < r->iovcnt) {
			char *base = r->iov[i].iov_base;

			len = r->iov[i].iov_len;
			/* A run of segments contiguous in memory: one command. */
			for (i++; i < r->iovcnt && (char *)r->iov[i].iov_base == base + len; i++)
				len += r->iov[i].iov_len;
			issue(n, r, r->op, base, len, off, fua);
			off += len;
		}
		break;
	case BLK_IO_FLUSH:
		if (bs->can_flush)
			issue(n, r, BLK_IO_FLUSH, NULL, 0, 0, 0);
		break;
	case BLK_IO_DISCARD:
		if (r->secure ? bs->can_secure : bs->can_discard)
			issue(n, r, BLK_IO_DISCARD, NULL, r->len, r->offset, 0);
		else
			r->res = -EOPNOTSUPP;
		break;
	}
	part_done(n, r, 0);
}

/* The connection went: what it had in flight waits (libnbd completes it
 * with ENOTCONN once nothing more can come), the loop watches the
 * connector, which connects again. */
static void conn_lost(struct nbd_io *n)
{
	if (n->dead)
		return;
	n->dead = true;
	n->lost_at = pv_now_ns();
	if (n->unflushed && !n->base.bs->trust_restart)
		n->lost = true;
	n->base.efd = n->c.efd;
	pthread_mutex_lock(&n->c.lock);
	n->c.want = true;
	pthread_cond_signal(&n->c.cond);
	pthread_mutex_unlock(&n->c.lock);
}

/* --nbd-timeout: the server has been gone too long.  What waits fails,
 * and so does every request until the connector has a connection. */
static void check_expiry(struct nbd_io *n)
{
	const struct blk_backing *bs = n->base.bs;
	struct blk_io_req *r;

	if (n->expired || !bs->timeout_s ||
	    pv_now_ns() - n->lost_at < (uint64_t)bs->timeout_s * 1000000000u)
		return;
	n->expired = true;
	pv_warn(n->base.name, "NBD server %s unreachable for %u s (--nbd-timeout): I/O fails "
		"until it is back", bs->uri, bs->timeout_s);
	r = n->waiting;
	n->waiting = NULL;
	n->waiting_tail = &n->waiting;
	while (r) {
		struct blk_io_req *next = r->next;

		blk_io_complete_later(&n->base, r, -EIO);
		r = next;
	}
}

/* The connector has a new connection: take it, issue what waited (or it
 * ticked: the timeout may have passed). */
static void conn_back(struct nbd_io *n)
{
	struct nbd_handle *h;
	struct blk_io_req *r;
	uint64_t cnt;

	if (read(n->c.efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&n->c.lock);
	h = n->c.ready;
	n->c.ready = NULL;
	pthread_mutex_unlock(&n->c.lock);
	if (!h) {
		check_expiry(n);
		return;
	}
	if (n->expired)
		pv_info(n->base.name, "NBD server %s back after %llu s: I/O resumes", n->base.bs->uri,
			(unsigned long long)((pv_now_ns() - n->lost_at) / 1000000000u));
	n->expired = false;
	nbd_close(n->h); /* dead: completes nothing that was not completed */
	n->h = h;
	n->dead = false;
	n->base.efd = nbd_aio_get_fd(h);
	r = n->waiting;
	n->waiting = NULL;
	n->waiting_tail = &n->waiting;
	while (r) {
		struct blk_io_req *next = r->next;

		start_req(n, r);
		r = next;
	}
}

static void check_conn(struct nbd_io *n)
{
	if (!n->dead && gone(n->h))
		conn_lost(n);
	flush_written(n);
	n->base.efd_events = want_events(n);
}

static int nbd_io_submit(struct blk_io *io)
{
	struct nbd_io *n = (struct nbd_io *)io;
	struct blk_io_req *r, *next;

	for (r = blk_io_batch_take(io); r; r = next) {
		next = r->next;
		start_req(n, r);
	}
	check_conn(n);
	return 0;
}

/* Requests that failed while the connection went down may have failed
 * because it did (libnbd completes a command it could not finish before it
 * says the handle is dead): from *from on the ready list, those wait for
 * the next connection instead. */
static void retry_failed(struct nbd_io *n, struct blk_io_req **from)
{
	struct blk_io_req **p = from, *r;

	while ((r = *p)) {
		if (r->res < 0 && r->res != -EOPNOTSUPP) {
			*p = r->next;
			r->next = NULL;
			*n->waiting_tail = r;
			n->waiting_tail = &r->next;
		} else {
			p = &r->next;
		}
	}
	n->base.ready_tail = p;
}

/*
 * libnbd takes one reply per nbd_aio_notify_read: it goes back to READY
 * after each, and waits for the next notification there.  At a queue depth
 * of 32 the socket mostly holds several, so take them while each call
 * finished one (the handle is READY again): one wake-up, and one response
 * batch with one event to the frontend, for all of them.  The call that
 * finds the socket empty (EAGAIN) stays in REPLY.START, harmless.  Bounded,
 * so the ring's requests are not kept waiting behind a fast server.
 */
#define NOTIFY_READ_MAX 64

static int notify_read(struct nbd_handle *h)
{
	unsigned i = 0;
	int rc;

	do
		rc = nbd_aio_notify_read(h);
	while (rc == 0 && ++i < NOTIFY_READ_MAX && nbd_aio_is_ready(h) && nbd_aio_in_flight(h) > 0);
	return rc;
}

static void nbd_io_notify(struct blk_io *io, uint32_t events)
{
	struct nbd_io *n = (struct nbd_io *)io;
	struct blk_io_req **from = io->ready_tail;

	if (n->dead) {
		conn_back(n);
	} else {
		if ((events & PV_LOOP_IN) && notify_read(n->h) < 0)
			conn_lost(n);
		if (!n->dead && (events & PV_LOOP_OUT) && nbd_aio_notify_write(n->h) < 0)
			conn_lost(n);
		if (!n->dead && gone(n->h))
			conn_lost(n);
		if (n->dead)
			retry_failed(n, from);
	}
	flush_written(n);
	io->efd_events = want_events(n);
}

static int nbd_io_reap(struct blk_io *io)
{
	return blk_io_reap_ready(io);
}

const struct blk_io_ops blk_io_nbd_ops = {
	.name = "nbd",
	.create = nbd_io_create,
	.destroy = nbd_io_destroy,
	.queue = blk_io_queue_batch,
	.submit = nbd_io_submit,
	.reap = nbd_io_reap,
	.notify = nbd_io_notify,
};
