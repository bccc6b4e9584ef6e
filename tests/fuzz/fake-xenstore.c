// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A fake libxenstore for the harnesses (tests/fuzz/fuzz-xb-keys.c): the
 * xs_* calls common/xs.c makes, over one in-memory table of nodes, so the
 * real pv_xs and xenbus code runs without a xenstored.  Values are bytes
 * with a length, as on the wire (a guest may write a NUL inside one).  A
 * watch fires once when set, as xenstored's does, and on no later write:
 * the harness drives the device directly.  Transactions always commit.
 * Single-threaded; nothing is a security boundary.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <xenstore.h>

#include "fake-xenstore.h"

#define FAKE_NODES   256
#define FAKE_EVENTS  16

struct fake_node {
	char *path;
	uint8_t *val;
	unsigned len;
};

struct xs_handle {
	int efd;                     /* readable while events wait */
	char *events[FAKE_EVENTS][2]; /* path, token */
	unsigned nr_events;
};

static struct fake_node nodes[FAKE_NODES];
static unsigned nr_nodes;
static struct xs_handle handle = { .efd = -1 };

static struct fake_node *find(const char *path)
{
	for (unsigned i = 0; i < nr_nodes; i++)
		if (!strcmp(nodes[i].path, path))
			return &nodes[i];
	return NULL;
}

int fake_xs_set(const char *path, const void *val, unsigned len)
{
	struct fake_node *n = find(path);
	uint8_t *v = malloc(len + 1);

	if (!v)
		return -ENOMEM;
	memcpy(v, val, len);
	v[len] = 0;
	if (!n) {
		if (nr_nodes == FAKE_NODES) {
			free(v);
			return -ENOSPC;
		}
		n = &nodes[nr_nodes];
		n->val = NULL;
		n->path = strdup(path);
		if (!n->path) {
			free(v);
			return -ENOMEM;
		}
		nr_nodes++;
	}
	free(n->val);
	n->val = v;
	n->len = len;
	return 0;
}

const void *fake_xs_get(const char *path, unsigned *len)
{
	struct fake_node *n = find(path);

	if (!n)
		return NULL;
	*len = n->len;
	return n->val;
}

void fake_xs_clear_under(const char *dir)
{
	size_t len = strlen(dir);
	unsigned i = 0;

	while (i < nr_nodes) {
		if (strncmp(nodes[i].path, dir, len) || nodes[i].path[len] != '/') {
			i++;
			continue;
		}
		free(nodes[i].path);
		free(nodes[i].val);
		nodes[i] = nodes[--nr_nodes];
	}
}

struct xs_handle *xs_open(unsigned long flags)
{
	(void)flags;
	if (handle.efd < 0)
		handle.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return handle.efd < 0 ? NULL : &handle;
}

void xs_close(struct xs_handle *h)
{
	(void)h;
}

int xs_fileno(struct xs_handle *h)
{
	return h->efd;
}

void *xs_read(struct xs_handle *h, xs_transaction_t t, const char *path, unsigned int *len)
{
	struct fake_node *n = find(path);
	void *v;

	(void)h;
	(void)t;
	if (!n) {
		errno = ENOENT;
		return NULL;
	}
	v = malloc(n->len + 1);
	if (!v) {
		errno = ENOMEM;
		return NULL;
	}
	memcpy(v, n->val, n->len + 1);
	if (len)
		*len = n->len;
	return v;
}

bool xs_write(struct xs_handle *h, xs_transaction_t t, const char *path, const void *data,
	      unsigned int len)
{
	int rc = fake_xs_set(path, data, len);

	(void)h;
	(void)t;
	errno = -rc;
	return rc == 0;
}

bool xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	struct fake_node *n = find(path);

	(void)h;
	(void)t;
	fake_xs_clear_under(path);
	if (!n) {
		errno = ENOENT;
		return false;
	}
	free(n->path);
	free(n->val);
	*n = nodes[--nr_nodes];
	return true;
}

/* The names of the children of path, each once, in one allocation as
 * libxenstore returns them (the caller frees the vector only). */
char **xs_directory(struct xs_handle *h, xs_transaction_t t, const char *path, unsigned int *num)
{
	static char names[FAKE_NODES][64];
	size_t len = strlen(path);
	unsigned n = 0, i, k;
	char **vec;

	(void)h;
	(void)t;
	for (i = 0; i < nr_nodes; i++) {
		const char *p = nodes[i].path + len + 1;
		size_t l;

		if (strncmp(nodes[i].path, path, len) || p[-1] != '/')
			continue;
		l = strcspn(p, "/");
		if (!l || l >= sizeof(names[0]))
			continue;
		memcpy(names[n], p, l);
		names[n][l] = 0;
		for (k = 0; k < n && strcmp(names[k], names[n]); k++)
			;
		n += k == n;
	}
	vec = malloc((n + 1) * sizeof(*vec) + sizeof(names[0]) * n);
	if (!vec) {
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < n; i++)
		vec[i] = memcpy((char *)(vec + n + 1) + sizeof(names[0]) * i, names[i],
				sizeof(names[0]));
	vec[n] = NULL;
	*num = n;
	return vec;
}

bool xs_watch(struct xs_handle *h, const char *path, const char *token)
{
	if (h->nr_events == FAKE_EVENTS) {
		errno = ENOSPC;
		return false;
	}
	h->events[h->nr_events][0] = strdup(path);
	h->events[h->nr_events][1] = strdup(token);
	h->nr_events++;
	eventfd_write(h->efd, 1);
	return true;
}

bool xs_unwatch(struct xs_handle *h, const char *path, const char *token)
{
	(void)h;
	(void)path;
	(void)token;
	return true;
}

/* One event: a vector whose strings follow it in the same allocation. */
char **xs_check_watch(struct xs_handle *h)
{
	eventfd_t v;
	char **vec;
	size_t lp, lt;

	if (!h->nr_events) {
		eventfd_read(h->efd, &v);
		errno = EAGAIN;
		return NULL;
	}
	lp = strlen(h->events[0][0]) + 1;
	lt = strlen(h->events[0][1]) + 1;
	vec = malloc(2 * sizeof(char *) + lp + lt);
	if (vec) {
		vec[XS_WATCH_PATH] = (char *)(vec + 2);
		vec[XS_WATCH_TOKEN] = vec[XS_WATCH_PATH] + lp;
		memcpy(vec[XS_WATCH_PATH], h->events[0][0], lp);
		memcpy(vec[XS_WATCH_TOKEN], h->events[0][1], lt);
	}
	free(h->events[0][0]);
	free(h->events[0][1]);
	memmove(h->events[0], h->events[1], sizeof(h->events[0]) * --h->nr_events);
	if (!vec)
		errno = ENOMEM;
	return vec;
}

xs_transaction_t xs_transaction_start(struct xs_handle *h)
{
	(void)h;
	return 1;
}

bool xs_transaction_end(struct xs_handle *h, xs_transaction_t t, bool abort)
{
	(void)h;
	(void)t;
	(void)abort;
	return true;
}

char *xs_get_domain_path(struct xs_handle *h, unsigned int domid)
{
	char *p;

	(void)h;
	return asprintf(&p, "/local/domain/%u", domid) < 0 ? NULL : p;
}

bool xs_is_domain_introduced(struct xs_handle *h, unsigned int domid)
{
	(void)h;
	(void)domid;
	return true;
}
