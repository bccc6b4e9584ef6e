/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pv_xs: libxenstore bound to a pv_loop.  xs_open(0) reaches pvsim through
 * $XENSTORED_PATH or xenstored at /run/xenstored/socket.  Every pv_xs_watch
 * is one xenstore watch with a unique token; watch events are read without
 * blocking (xs_check_watch) when xs_fileno() becomes readable, and dispatched
 * by token.  A watch removed from inside a callback is freed at once: events
 * still queued for its token find no watch and are dropped, so no callback
 * ever runs for a removed watch.
 *
 * A pv_xs is used by one thread (its loop's).  Nothing here logs.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "pvcommon.h"

#define XS_TXN_RETRIES 16

struct pv_xs_watch {
	struct pv_xs_watch *next;
	char *path;
	char token[32]; /* "pvxs-<n>": unique for the life of the pv_xs */
	pv_xs_watch_fn *fn;
	void *opaque;
};

struct pv_xs {
	struct xs_handle *h;
	struct pv_loop *loop;
	int fd;                      /* xs_fileno(), -1 until first needed */
	struct pv_xs_watch *watches;
	uint64_t next_token;
};

static int xs_fd(struct pv_xs *xs)
{
	if (xs->fd < 0) {
		xs->fd = xs_fileno(xs->h);
		if (xs->fd < 0)
			return errno ? -errno : -EIO;
	}
	return xs->fd;
}

static struct pv_xs_watch *find_watch(struct pv_xs *xs, const char *token)
{
	struct pv_xs_watch *w;

	for (w = xs->watches; w; w = w->next)
		if (!strcmp(w->token, token))
			return w;
	return NULL;
}

/* Dispatch every queued watch event. Returns how many ran or -errno. */
static int drain_watches(struct pv_xs *xs)
{
	struct pv_xs_watch *w;
	char **vec;
	int n = 0;

	for (;;) {
		vec = xs_check_watch(xs->h);
		if (!vec)
			return errno == EAGAIN ? n : -errno;
		w = find_watch(xs, vec[XS_WATCH_TOKEN]);
		if (w) {
			/* w may be unwatched (freed) by fn: don't touch it after. */
			w->fn(xs, vec[XS_WATCH_PATH], w->opaque);
			n++;
		}
		free(vec);
	}
}

static void xs_fd_cb(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	drain_watches(opaque);
}

int pv_xs_open(struct pv_loop *loop, struct pv_xs **out)
{
	struct pv_xs *xs;
	int ret, fd;

	xs = calloc(1, sizeof(*xs));
	if (!xs)
		return -ENOMEM;
	xs->fd = -1;
	xs->next_token = 1;
	xs->h = xs_open(0);
	if (!xs->h) {
		ret = errno ? -errno : -ECONNREFUSED;
		goto err_free;
	}
	if (loop) {
		fd = xs_fd(xs);
		if (fd < 0) {
			ret = fd;
			goto err_close;
		}
		ret = pv_loop_add_fd(loop, fd, PV_LOOP_IN, xs_fd_cb, xs);
		if (ret < 0)
			goto err_close;
		xs->loop = loop;
	}
	*out = xs;
	return 0;

err_close:
	xs_close(xs->h);
err_free:
	free(xs);
	return ret;
}

void pv_xs_close(struct pv_xs *xs)
{
	struct pv_xs_watch *w, *next;

	if (!xs)
		return;
	if (xs->loop)
		pv_loop_del_fd(xs->loop, xs->fd);
	for (w = xs->watches; w; w = next) {
		next = w->next;
		free(w->path);
		free(w);
	}
	xs_close(xs->h); /* drops the watches on the daemon's side */
	free(xs);
}

struct xs_handle *pv_xs_handle(struct pv_xs *xs)
{
	return xs->h;
}

int pv_xs_watch(struct pv_xs *xs, const char *path, pv_xs_watch_fn *fn, void *opaque,
		struct pv_xs_watch **out)
{
	struct pv_xs_watch *w;
	int ret;

	if (!path || !fn)
		return -EINVAL;
	ret = xs_fd(xs); /* creates the watch pipe before the first event */
	if (ret < 0)
		return ret;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->path = strdup(path);
	if (!w->path) {
		ret = -ENOMEM;
		goto err_free;
	}
	snprintf(w->token, sizeof(w->token), "pvxs-%" PRIu64, xs->next_token++);
	w->fn = fn;
	w->opaque = opaque;
	if (!xs_watch(xs->h, path, w->token)) {
		ret = errno ? -errno : -EIO;
		goto err_path;
	}
	w->next = xs->watches;
	xs->watches = w;
	if (out)
		*out = w;
	return 0;

err_path:
	free(w->path);
err_free:
	free(w);
	return ret;
}

void pv_xs_unwatch(struct pv_xs *xs, struct pv_xs_watch *w)
{
	struct pv_xs_watch **pp;

	if (!w)
		return;
	for (pp = &xs->watches; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	/* Fails only when the daemon already dropped it (e.g. path gone). */
	xs_unwatch(xs->h, w->path, w->token);
	free(w->path);
	free(w);
}

int pv_xs_dispatch(struct pv_xs *xs, int timeout_ms)
{
	struct pollfd pfd;
	int ret, fd;

	fd = xs_fd(xs);
	if (fd < 0)
		return fd;
	/* Events may already be queued inside libxenstore. */
	ret = drain_watches(xs);
	if (ret != 0)
		return ret;
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	do {
		ret = poll(&pfd, 1, timeout_ms);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	if (ret == 0)
		return 0;
	return drain_watches(xs);
}

char *pv_xs_read(struct pv_xs *xs, pv_xs_txn t, const char *path)
{
	unsigned int len;

	return xs_read(xs->h, t, path, &len);
}

int pv_xs_read_uint(struct pv_xs *xs, pv_xs_txn t, const char *path, uint64_t min,
		    uint64_t max, uint64_t *out)
{
	unsigned int len;
	char *s;
	int ret;

	s = xs_read(xs->h, t, path, &len);
	if (!s)
		return errno ? -errno : -EIO;
	/* Strict: decimal digits only, no sign, spaces or trailing junk, and
	 * none after a NUL either (a guest may write "1\0junk"). */
	ret = strlen(s) == len ? pv_parse_uint(s, min, max, out) : -EINVAL;
	free(s);
	return ret;
}

int pv_xs_write(struct pv_xs *xs, pv_xs_txn t, const char *path, const char *val)
{
	if (!xs_write(xs->h, t, path, val, strlen(val)))
		return errno ? -errno : -EIO;
	return 0;
}

static int xs_vprintf(struct pv_xs *xs, pv_xs_txn t, const char *path, const char *fmt,
		      va_list ap)
{
	char *val;
	int ret;

	if (vasprintf(&val, fmt, ap) < 0)
		return -ENOMEM;
	ret = pv_xs_write(xs, t, path, val);
	free(val);
	return ret;
}

int pv_xs_printf(struct pv_xs *xs, pv_xs_txn t, const char *path, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = xs_vprintf(xs, t, path, fmt, ap);
	va_end(ap);
	return ret;
}

int pv_xs_rm(struct pv_xs *xs, pv_xs_txn t, const char *path)
{
	if (!xs_rm(xs->h, t, path))
		return errno ? -errno : -EIO;
	return 0;
}

/* ------------------------------------------------- relative key names */

/* "<dir>/<key>" into buf (XS_PATH_BUF bytes): 0 or -ENAMETOOLONG. */
#define XS_PATH_BUF (XENSTORE_ABS_PATH_MAX + 1)

static int join(char *buf, const char *dir, const char *key)
{
	int n = snprintf(buf, XS_PATH_BUF, "%s/%s", dir, key);

	return n < 0 || n >= XS_PATH_BUF ? -ENAMETOOLONG : 0;
}

char *pv_xs_read_at(struct pv_xs *xs, pv_xs_txn t, const char *dir, const char *key)
{
	char path[XS_PATH_BUF];
	int ret = join(path, dir, key);

	if (ret < 0) {
		errno = -ret;
		return NULL;
	}
	return pv_xs_read(xs, t, path);
}

int pv_xs_read_uint_at(struct pv_xs *xs, pv_xs_txn t, const char *dir, const char *key,
		       uint64_t min, uint64_t max, uint64_t *out)
{
	char path[XS_PATH_BUF];

	return join(path, dir, key) ?: pv_xs_read_uint(xs, t, path, min, max, out);
}

int pv_xs_write_at(struct pv_xs *xs, pv_xs_txn t, const char *dir, const char *key,
		   const char *val)
{
	char path[XS_PATH_BUF];

	return join(path, dir, key) ?: pv_xs_write(xs, t, path, val);
}

int pv_xs_vprintf_at(struct pv_xs *xs, pv_xs_txn t, const char *dir, const char *key,
		     const char *fmt, va_list ap)
{
	char path[XS_PATH_BUF];

	return join(path, dir, key) ?: xs_vprintf(xs, t, path, fmt, ap);
}

int pv_xs_printf_at(struct pv_xs *xs, pv_xs_txn t, const char *dir, const char *key,
		    const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = pv_xs_vprintf_at(xs, t, dir, key, fmt, ap);
	va_end(ap);
	return ret;
}

int pv_xs_rm_at(struct pv_xs *xs, pv_xs_txn t, const char *dir, const char *key)
{
	char path[XS_PATH_BUF];

	return join(path, dir, key) ?: pv_xs_rm(xs, t, path);
}

char **pv_xs_directory(struct pv_xs *xs, pv_xs_txn t, const char *path, unsigned *n)
{
	unsigned int num, i;
	char **raw, **list;

	raw = xs_directory(xs->h, t, path, &num);
	if (!raw)
		return NULL;
	list = calloc(num + 1, sizeof(*list));
	if (!list)
		goto err;
	for (i = 0; i < num; i++) {
		list[i] = strdup(raw[i]);
		if (!list[i])
			goto err;
	}
	free(raw);
	if (n)
		*n = num;
	return list;

err:
	pv_xs_free_list(list);
	free(raw);
	errno = ENOMEM;
	return NULL;
}

void pv_xs_free_list(char **list)
{
	if (!list)
		return;
	for (char **p = list; *p; p++)
		free(*p);
	free(list);
}

int pv_xs_transaction(struct pv_xs *xs, pv_xs_txn_fn *fn, void *opaque)
{
	xs_transaction_t t;
	int ret;

	for (int i = 0; i < XS_TXN_RETRIES; i++) {
		t = xs_transaction_start(xs->h);
		if (t == XBT_NULL)
			return errno ? -errno : -EIO;
		ret = fn(xs, t, opaque);
		if (ret) {
			xs_transaction_end(xs->h, t, true);
			return ret;
		}
		if (xs_transaction_end(xs->h, t, false))
			return 0;
		if (errno != EAGAIN)
			return errno ? -errno : -EIO;
		/* Conflict: another writer got in first; fn runs again. */
	}
	return -EAGAIN;
}

bool pv_xs_domain_exists(struct pv_xs *xs, uint16_t domid)
{
	char path[32];
	char *s;

	/*
	 * xs_is_domain_introduced() returns false both for "no" (errno left
	 * alone) and on failure (errno set, e.g. a daemon without the op): on
	 * failure, fall back to the domain's home directory.
	 */
	errno = 0;
	if (xs_is_domain_introduced(xs->h, domid))
		return true;
	if (errno == 0)
		return false;
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	s = pv_xs_read(xs, XBT_NULL, path);
	if (s) {
		free(s);
		return true;
	}
	return errno != ENOENT;
}
