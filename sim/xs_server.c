// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pvsim xenstored: listeners, connections, request dispatch, watches,
 * domains and quotas, on top of the node store (xs_store.c) and the wire
 * layer (xs_wire.c).  Requests are handled as xenstored_core.c's
 * process_message() and the do_*() functions of Xen 4.17 do.
 *
 * One pv_loop, one thread.  Each connection has an input buffer of one
 * maximal message and a queue of output messages; sockets are non-blocking
 * and output is written when the socket is writable, so a client that does
 * not read only stalls itself: an unprivileged one stops being read when 20
 * replies are pending (quota_req_outstanding), any when its queue exceeds
 * OUT_STALL_BYTES; its watch events are dropped beyond the memory quota.
 * A header announcing more than XENSTORE_PAYLOAD_MAX closes that
 * connection, nothing else does.
 *
 * Known differences from C xenstored 4.17:
 *  - sockets carry the domain identity (xenstored treats every socket as
 *    dom0); relative paths resolve against /local/domain/<that domid>;
 *  - the initial tree also has /local and /local/domain (n0);
 *  - INTRODUCE marks a domain introduced without mapping a ring page or
 *    binding an event channel; RELEASE also closes the domain's sockets;
 *  - no XS_PERM_IGNORE marking of permissions naming dead domains, no
 *    write rate limiting, no per-domain memory accounting of nodes (only of
 *    queued output), no live update; CONTROL knows only "check" and "help";
 *  - a privileged connection's output queue is bounded (64 MiB of events).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pvcommon.h"
#include "xs.h"
#include "xs_store.h"
#include "xs_wire.h"

#define OUT_STALL_BYTES   (1u << 20)  /* stop reading a client behind on this much output */
#define PRIV_EVENT_BYTES  (64u << 20) /* drop events to a privileged client beyond this */
#define ACCEPT_BATCH      16
#define DOMID_FIRST_RESERVED 0x7FF0u
#define LOOP_HUP_ERR      (0x008u | 0x010u) /* EPOLLERR | EPOLLHUP */
/* A canonical path from one payload string: the payload plus a domain prefix. */
#define CANON_MAX         (XENSTORE_PAYLOAD_MAX + SIM_XS_DOMPATH_MAX + 2)

enum { SPECIAL_INTRODUCE, SPECIAL_RELEASE, NSPECIAL };
static const char *const special_names[NSPECIAL] = { "@introduceDomain", "@releaseDomain" };

struct out_msg {
	struct out_msg *next;
	uint32_t len; /* header + payload */
	uint32_t off; /* bytes already written */
	bool event;
	char buf[];
};

struct watch {
	struct watch *next;
	char *node;    /* canonical path or @special */
	char *token;
	bool relative; /* report paths relative to the domain path */
};

struct txn {
	struct txn *next;
	uint32_t id;
	struct sim_xs_txn *st;
};

struct conn {
	struct conn *prev, *next; /* xs->conns, in accept order (event order) */
	struct sim_xs *xs;
	int fd;
	uint16_t domid;
	uint32_t events; /* interest registered with the loop */
	bool broken;     /* could not queue a reply: close after this request */
	uint32_t in_used;
	struct out_msg *out_head, **out_tail;
	unsigned int out_replies; /* replies queued, not yet written */
	size_t out_bytes;
	struct watch *watches, **watches_tail;
	struct txn *txns;
	unsigned int ntxn;
	uint32_t next_txn_id;
	char in[SIM_XS_HDR_LEN + XENSTORE_PAYLOAD_MAX + 1]; /* +1: NUL after payload */
};

struct domain {
	struct domain *next;
	uint16_t domid;
	bool introduced;
	unsigned int nbwatch; /* watches of all its connections */
	int target;           /* SET_TARGET, or -1 */
};

struct listener {
	struct listener *next;
	struct sim_xs *xs;
	int fd;
	uint16_t domid;
	char *path;
};

struct sim_xs {
	struct pv_loop *loop;
	struct sim_xs_store *store;
	struct sim_xs_quota quota;
	struct listener *listeners;
	struct conn *conn_head, *conn_tail;
	struct domain *domains;
	struct sim_xs_perms special[NSPECIAL];
};

/* ------------------------------------------------------------- domains */

static struct domain *domain_find(struct sim_xs *xs, unsigned int domid)
{
	struct domain *d;

	for (d = xs->domains; d; d = d->next)
		if (d->domid == domid)
			return d;
	return NULL;
}

static struct domain *domain_get(struct sim_xs *xs, uint16_t domid)
{
	struct domain *d = domain_find(xs, domid);

	if (d)
		return d;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->domid = domid;
	d->target = -1;
	d->next = xs->domains;
	xs->domains = d;
	return d;
}

static bool conn_priv(const struct conn *c)
{
	return c->domid == 0;
}

static struct sim_xs_caller conn_caller(struct conn *c, struct sim_xs_txn *st)
{
	struct domain *d = domain_find(c->xs, c->domid);

	return (struct sim_xs_caller){
		.domid = c->domid,
		.priv = conn_priv(c),
		.target = d ? d->target : -1,
		.txn = st,
	};
}

static const struct sim_xs_caller dom0_caller = { .domid = 0, .priv = true, .target = -1 };

/* ---------------------------------------------------------- connection */

static void conn_close(struct conn *c);

static bool conn_stalled(const struct conn *c)
{
	if (!conn_priv(c) && c->xs->quota.outstanding && c->out_replies >= c->xs->quota.outstanding)
		return true;
	return c->out_bytes >= OUT_STALL_BYTES;
}

static void conn_update_events(struct conn *c)
{
	uint32_t ev = (conn_stalled(c) ? 0 : PV_LOOP_IN) | (c->out_head ? PV_LOOP_OUT : 0);

	if (ev != c->events && !pv_loop_mod_fd(c->xs->loop, c->fd, ev))
		c->events = ev;
}

static int queue_msg(struct conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
		     const void *data, uint32_t len, bool event)
{
	struct out_msg *m = malloc(sizeof(*m) + SIM_XS_HDR_LEN + len);
	int n;

	if (!m)
		return -ENOMEM;
	n = sim_xs_wire_encode(m->buf, SIM_XS_HDR_LEN + len, type, req_id, tx_id, data, len);
	if (n < 0) {
		free(m);
		return n;
	}
	m->next = NULL;
	m->len = (uint32_t)n;
	m->off = 0;
	m->event = event;
	*c->out_tail = m;
	c->out_tail = &m->next;
	c->out_bytes += m->len;
	if (!event)
		c->out_replies++;
	conn_update_events(c);
	return 0;
}

static void reply(struct conn *c, const struct xsd_sockmsg *req, uint32_t type, const void *data,
		  uint32_t len);

static void reply_error(struct conn *c, const struct xsd_sockmsg *req, int err)
{
	const char *name = sim_xs_wire_errno_name(err < 0 ? -err : err);

	reply(c, req, XS_ERROR, name, (uint32_t)strlen(name) + 1);
}

/* send_reply(): req_id and tx_id echoed; too long a reply becomes E2BIG. */
static void reply(struct conn *c, const struct xsd_sockmsg *req, uint32_t type, const void *data,
		  uint32_t len)
{
	if (len > XENSTORE_PAYLOAD_MAX) {
		reply_error(c, req, E2BIG);
		return;
	}
	if (queue_msg(c, type, req->req_id, req->tx_id, data, len, false))
		c->broken = true;
}

static void reply_ok(struct conn *c, const struct xsd_sockmsg *req)
{
	reply(c, req, req->type, "OK", sizeof("OK"));
}

/* send_event(): drops over-long events, duplicates of pending ones, over quota. */
static void send_event(struct conn *c, const char *path, const char *token)
{
	size_t plen = strlen(path) + 1, len = plen + strlen(token) + 1;
	size_t limit = conn_priv(c) ? PRIV_EVENT_BYTES : c->xs->quota.memory_per_domain;
	char buf[XENSTORE_PAYLOAD_MAX];
	struct out_msg *m;

	if (len > XENSTORE_PAYLOAD_MAX)
		return;
	memcpy(buf, path, plen);
	memcpy(buf + plen, token, len - plen);
	if (path[0] != '@') {
		for (m = c->out_head; m; m = m->next)
			if (m->event && m->len == SIM_XS_HDR_LEN + len &&
			    !memcmp(m->buf + SIM_XS_HDR_LEN, buf, len))
				return;
	}
	if (limit && c->out_bytes + SIM_XS_HDR_LEN + len > limit)
		return;
	queue_msg(c, XS_WATCH_EVENT, 0, 0, buf, (uint32_t)len, true);
}

/* Returns 0, or -errno when the connection must be closed. */
static int conn_flush(struct conn *c)
{
	struct out_msg *m;
	ssize_t n;

	while ((m = c->out_head)) {
		n = send(c->fd, m->buf + m->off, m->len - m->off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		m->off += (uint32_t)n;
		if (m->off < m->len)
			break;
		c->out_head = m->next;
		if (!c->out_head)
			c->out_tail = &c->out_head;
		c->out_bytes -= m->len;
		if (!m->event)
			c->out_replies--;
		free(m);
	}
	conn_update_events(c);
	return 0;
}

static void watch_free(struct watch *w)
{
	free(w->node);
	free(w->token);
	free(w);
}

static void conn_del_watches(struct conn *c)
{
	struct domain *d = domain_find(c->xs, c->domid);
	struct watch *w, *next;

	for (w = c->watches; w; w = next) {
		next = w->next;
		if (d && d->nbwatch)
			d->nbwatch--;
		watch_free(w);
	}
	c->watches = NULL;
	c->watches_tail = &c->watches;
}

static void conn_del_txns(struct conn *c)
{
	struct sim_xs_caller caller = conn_caller(c, NULL);
	struct txn *t, *next;

	for (t = c->txns; t; t = next) {
		next = t->next;
		sim_xs_store_txn_end(c->xs->store, &caller, t->st, false);
		free(t);
	}
	c->txns = NULL;
	c->ntxn = 0;
}

static void conn_close(struct conn *c)
{
	struct sim_xs *xs = c->xs;
	struct out_msg *m, *next;

	pv_loop_del_fd(xs->loop, c->fd);
	close(c->fd);
	conn_del_watches(c);
	conn_del_txns(c);
	for (m = c->out_head; m; m = next) {
		next = m->next;
		free(m);
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		xs->conn_head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		xs->conn_tail = c->prev;
	free(c);
}

static void conns_close_domain(struct sim_xs *xs, uint16_t domid)
{
	struct conn *c, *next;

	for (c = xs->conn_head; c; c = next) {
		next = c->next;
		if (c->domid == domid)
			conn_close(c);
	}
}

/* -------------------------------------------------------------- watches */

/* is_child(): child is parent, or below it; everything is below "/". */
static bool is_child(const char *child, const char *parent)
{
	size_t len = strlen(parent);

	if (!strcmp(parent, "/"))
		return true;
	if (strncmp(child, parent, len))
		return false;
	return child[len] == '/' || child[len] == '\0';
}

static const char *watch_path(const struct conn *c, const struct watch *w, const char *path)
{
	char dom[SIM_XS_DOMPATH_MAX];
	size_t len;

	if (!w->relative)
		return path;
	sim_xs_wire_domain_path(c->domid, dom, sizeof(dom));
	len = strlen(dom);
	if (!strncmp(path, dom, len)) {
		path += len;
		if (*path == '/')
			path++;
	}
	return path;
}

static void fire_matching(struct conn *c, const char *path, bool exact)
{
	struct watch *w;

	for (w = c->watches; w; w = w->next) {
		if (exact ? !strcmp(path, w->node) : is_child(path, w->node))
			send_event(c, watch_path(c, w, path), w->token);
	}
}

/* fire_watches() for node paths: the store's fire callback. */
static void fire_node(void *opaque, const char *path, bool exact, const struct sim_xs_perms *perms,
		      const struct sim_xs_perms *old_perms)
{
	struct sim_xs *xs = opaque;
	struct sim_xs_caller caller;
	struct conn *c;

	for (c = xs->conn_head; c; c = c->next) {
		if (!c->watches)
			continue;
		caller = conn_caller(c, NULL);
		if (!sim_xs_store_watch_permitted(xs->store, &caller, path, perms, old_perms))
			continue;
		fire_matching(c, path, exact);
	}
}

/* fire_watches() for @introduceDomain / @releaseDomain (check_perms_special). */
static void fire_special(struct sim_xs *xs, int which, bool exact)
{
	struct sim_xs_caller caller;
	struct conn *c;

	for (c = xs->conn_head; c; c = c->next) {
		if (!c->watches)
			continue;
		caller = conn_caller(c, NULL);
		if (!(sim_xs_store_perm_for(&caller, &xs->special[which]) & XS_PERM_READ))
			continue;
		fire_matching(c, special_names[which], exact);
	}
}

static int special_index(const char *name)
{
	int i;

	for (i = 0; i < NSPECIAL; i++)
		if (!strcmp(name, special_names[i]))
			return i;
	return -1;
}

/* set_perms_special(). perms is copied. */
static int set_special_perms(struct sim_xs *xs, const struct sim_xs_caller *caller,
			     const char *name, const struct sim_xs_perms *perms)
{
	int i = special_index(name);
	struct xs_permissions *p;

	if (i < 0)
		return -EINVAL;
	if ((sim_xs_store_perm_for(caller, &xs->special[i]) & (XS_PERM_WRITE | XS_PERM_OWNER)) !=
	    (XS_PERM_WRITE | XS_PERM_OWNER))
		return -EACCES;
	p = malloc(perms->num * sizeof(*p));
	if (!p)
		return -ENOMEM;
	memcpy(p, perms->p, perms->num * sizeof(*p));
	free(xs->special[i].p);
	xs->special[i].p = p;
	xs->special[i].num = perms->num;
	return 0;
}

/* ------------------------------------------------------------- requests */

struct req {
	struct conn *c;
	const struct xsd_sockmsg *hdr;
	char *payload; /* NUL-terminated one byte past len */
	uint32_t len;
	struct txn *txn;
};

static struct sim_xs_caller req_caller(const struct req *r)
{
	return conn_caller(r->c, r->txn ? r->txn->st : NULL);
}

/* canonicalize() into out (CANON_MAX bytes); NULL path gives -EINVAL. */
static int canon(const struct req *r, const char *path, char *out)
{
	return sim_xs_wire_canonicalize(r->c->domid, path, out, CANON_MAX);
}

static int do_read(struct req *r)
{
	struct sim_xs_caller caller = req_caller(r);
	char path[CANON_MAX];
	const char *data;
	uint32_t len;
	int err;

	err = canon(r, sim_xs_wire_onearg(r->payload, r->len), path);
	if (!err)
		err = sim_xs_store_read(r->c->xs->store, &caller, path, &data, &len);
	if (!err)
		reply(r->c, r->hdr, XS_READ, data, len);
	return err;
}

static int do_directory(struct req *r)
{
	struct sim_xs_caller caller = req_caller(r);
	char path[CANON_MAX];
	const char *ch;
	uint32_t len;
	int err;

	err = canon(r, sim_xs_wire_onearg(r->payload, r->len), path);
	if (!err)
		err = sim_xs_store_directory(r->c->xs->store, &caller, path, &ch, &len, NULL);
	if (!err)
		reply(r->c, r->hdr, XS_DIRECTORY, ch, len);
	return err;
}

/* send_directory_part(): <gencnt>|<children from offset>, "" ends the list. */
static int do_directory_part(struct req *r)
{
	struct sim_xs_caller caller = req_caller(r);
	char path[CANON_MAX], out[XENSTORE_PAYLOAD_MAX];
	unsigned int off, len = 0, maxlen, genlen;
	const char *ch, *child;
	uint32_t childlen;
	uint64_t gen;
	int err;

	if (sim_xs_wire_count_strings(r->payload, r->len) != 2)
		return -EINVAL;
	err = canon(r, r->payload, path);
	if (!err)
		err = sim_xs_store_directory(r->c->xs->store, &caller, path, &ch, &childlen, &gen);
	if (err)
		return err;
	off = (unsigned int)sim_xs_wire_atoi(r->payload + strlen(r->payload) + 1);
	genlen = (unsigned int)snprintf(out, sizeof(out), "%llu", (unsigned long long)gen) + 1;
	if (off >= childlen) {
		out[genlen] = '\0';
		reply(r->c, r->hdr, XS_DIRECTORY_PART, out, genlen + 1);
		return 0;
	}
	maxlen = XENSTORE_PAYLOAD_MAX - genlen - 1;
	child = ch + off;
	/* Children are NUL-terminated, but off may point inside one: stay in bounds. */
	while (off + len < childlen) {
		size_t clen = strnlen(child, childlen - off - len);

		if (len + clen >= maxlen)
			break;
		len += (unsigned int)clen + 1;
		child += clen + 1;
	}
	if (off + len > childlen)
		len = childlen - off;
	memcpy(out + genlen, ch + off, len);
	if (off + len == childlen)
		out[genlen + len++] = '\0';
	reply(r->c, r->hdr, XS_DIRECTORY_PART, out, genlen + len);
	return 0;
}

static int do_get_perms(struct req *r)
{
	struct sim_xs_caller caller = req_caller(r);
	char path[CANON_MAX], out[XENSTORE_PAYLOAD_MAX];
	struct sim_xs_perms perms;
	unsigned int i;
	size_t len = 0;
	int err, n;

	err = canon(r, sim_xs_wire_onearg(r->payload, r->len), path);
	if (!err)
		err = sim_xs_store_get_perms(r->c->xs->store, &caller, path, &perms);
	if (err)
		return err;
	for (i = 0; i < perms.num; i++) {
		n = sim_xs_wire_format_perm(&perms.p[i], out + len, sizeof(out) - len);
		if (n < 0)
			return n == -ENOSPC ? -E2BIG : n;
		len += (size_t)n + 1;
	}
	reply(r->c, r->hdr, XS_GET_PERMS, out, (uint32_t)len);
	return 0;
}

static int do_write(struct req *r)
{
	struct sim_xs_caller caller = req_caller(r);
	char path[CANON_MAX];
	const char *vec[1];
	size_t off;
	int err;

	if (sim_xs_wire_split(r->payload, r->len, vec, 1) < 1)
		return -EINVAL;
	off = strlen(vec[0]) + 1;
	err = canon(r, vec[0], path);
	if (!err)
		err = sim_xs_store_write(r->c->xs->store, &caller, path, r->payload + off,
					 r->len - (uint32_t)off);
	if (!err)
		reply_ok(r->c, r->hdr);
	return err;
}

static int do_mkdir(struct req *r)
{
	struct sim_xs_caller caller = req_caller(r);
	char path[CANON_MAX];
	int err;

	err = canon(r, sim_xs_wire_onearg(r->payload, r->len), path);
	if (!err)
		err = sim_xs_store_mkdir(r->c->xs->store, &caller, path);
	if (!err)
		reply_ok(r->c, r->hdr);
	return err;
}

static int do_rm(struct req *r)
{
	struct sim_xs_caller caller = req_caller(r);
	char path[CANON_MAX];
	int err;

	err = canon(r, sim_xs_wire_onearg(r->payload, r->len), path);
	if (!err)
		err = sim_xs_store_rm(r->c->xs->store, &caller, path);
	if (!err)
		reply_ok(r->c, r->hdr);
	return err;
}

static int do_set_perms(struct req *r)
{
	struct sim_xs_caller caller = req_caller(r);
	struct xs_permissions p[XENSTORE_PAYLOAD_MAX / 2];
	struct sim_xs_perms perms = { .p = p };
	char path[CANON_MAX];
	unsigned int num;
	int err;

	num = sim_xs_wire_count_strings(r->payload, r->len);
	if (num < 2)
		return -EINVAL;
	num--;
	if (!caller.priv && r->c->xs->quota.perms_per_node && num > r->c->xs->quota.perms_per_node)
		return -ENOSPC;
	err = sim_xs_wire_parse_perms(r->payload + strlen(r->payload) + 1, num, p);
	if (err)
		return err;
	perms.num = num;
	if (r->payload[0] == '@')
		err = set_special_perms(r->c->xs, &caller, r->payload, &perms);
	else {
		err = canon(r, r->payload, path);
		if (!err)
			err = sim_xs_store_set_perms(r->c->xs->store, &caller, path, &perms);
	}
	if (!err)
		reply_ok(r->c, r->hdr);
	return err;
}

/* check_watch_path() + do_watch(). */
static int do_watch(struct req *r)
{
	struct conn *c = r->c;
	struct domain *d = domain_get(c->xs, c->domid);
	char path[CANON_MAX];
	const char *vec[2];
	struct watch *w;
	bool relative;
	int err;

	if (sim_xs_wire_split(r->payload, r->len, vec, 2) != 2)
		return -EINVAL;
	if (vec[0][0] == '@') {
		relative = false;
		if (strlen(vec[0]) > XENSTORE_REL_PATH_MAX)
			return -EINVAL;
		snprintf(path, sizeof(path), "%s", vec[0]);
	} else {
		relative = vec[0][0] != '/';
		err = canon(r, vec[0], path);
		if (err)
			return err;
		if (!sim_xs_wire_valid_path(path, c->xs->quota.max_path_len))
			return -EINVAL;
	}
	for (w = c->watches; w; w = w->next)
		if (!strcmp(w->node, path) && !strcmp(w->token, vec[1]))
			return -EEXIST;
	if (!d)
		return -ENOMEM;
	if (!conn_priv(c) && c->xs->quota.watches_per_domain &&
	    d->nbwatch > c->xs->quota.watches_per_domain)
		return -E2BIG;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->node = strdup(path);
	w->token = strdup(vec[1]);
	if (!w->node || !w->token) {
		watch_free(w);
		return -ENOMEM;
	}
	w->relative = relative;
	*c->watches_tail = w;
	c->watches_tail = &w->next;
	d->nbwatch++;
	reply_ok(c, r->hdr);
	/* Fire once up front, unconditionally. */
	send_event(c, watch_path(c, w, w->node), w->token);
	return 0;
}

static int do_unwatch(struct req *r)
{
	struct conn *c = r->c;
	struct domain *d = domain_find(c->xs, c->domid);
	struct watch *w, **pp;
	char path[CANON_MAX];
	const char *vec[2];
	int err;

	if (sim_xs_wire_split(r->payload, r->len, vec, 2) != 2)
		return -EINVAL;
	err = canon(r, vec[0], path);
	if (err)
		return err;
	for (pp = &c->watches; (w = *pp); pp = &w->next) {
		if (strcmp(w->node, path) || strcmp(w->token, vec[1]))
			continue;
		*pp = w->next;
		if (c->watches_tail == &w->next)
			c->watches_tail = pp;
		watch_free(w);
		if (d && d->nbwatch)
			d->nbwatch--;
		reply_ok(c, r->hdr);
		return 0;
	}
	return -ENOENT;
}

static struct txn *txn_find(struct conn *c, uint32_t id)
{
	struct txn *t;

	for (t = c->txns; t; t = t->next)
		if (t->id == id)
			return t;
	return NULL;
}

static int do_transaction_start(struct req *r)
{
	struct conn *c = r->c;
	char id[16];
	struct txn *t;
	int err;

	if (r->txn)
		return -EBUSY;
	if (!conn_priv(c) && c->xs->quota.transactions && c->ntxn > c->xs->quota.transactions)
		return -ENOSPC;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	err = sim_xs_store_txn_start(c->xs->store, &t->st);
	if (err) {
		free(t);
		return err;
	}
	do {
		t->id = c->next_txn_id++;
	} while (!t->id || txn_find(c, t->id));
	t->next = c->txns;
	c->txns = t;
	c->ntxn++;
	snprintf(id, sizeof(id), "%u", t->id);
	reply(c, r->hdr, XS_TRANSACTION_START, id, (uint32_t)strlen(id) + 1);
	return 0;
}

static int do_transaction_end(struct req *r)
{
	const char *arg = sim_xs_wire_onearg(r->payload, r->len);
	struct sim_xs_caller caller = req_caller(r);
	struct conn *c = r->c;
	struct txn **pp;
	int err;

	if (!arg || (strcmp(arg, "T") && strcmp(arg, "F")))
		return -EINVAL;
	if (!r->txn)
		return -ENOENT;
	for (pp = &c->txns; *pp != r->txn; pp = &(*pp)->next)
		;
	*pp = r->txn->next;
	c->ntxn--;
	err = sim_xs_store_txn_end(c->xs->store, &caller, r->txn->st, arg[0] == 'T');
	free(r->txn);
	r->txn = NULL;
	if (!err)
		reply_ok(c, r->hdr);
	return err;
}

static int do_get_domain_path(struct req *r)
{
	const char *arg = sim_xs_wire_onearg(r->payload, r->len);
	char path[32];

	if (!arg)
		return -EINVAL;
	snprintf(path, sizeof(path), "/local/domain/%u", (unsigned int)sim_xs_wire_atoi(arg));
	reply(r->c, r->hdr, XS_GET_DOMAIN_PATH, path, (uint32_t)strlen(path) + 1);
	return 0;
}

static int domain_introduce(struct sim_xs *xs, unsigned int domid)
{
	struct domain *d;

	if (domid >= DOMID_FIRST_RESERVED)
		return -EINVAL;
	d = domain_get(xs, (uint16_t)domid);
	if (!d)
		return -ENOMEM;
	if (!d->introduced) {
		d->introduced = true;
		fire_special(xs, SPECIAL_INTRODUCE, false);
	}
	return 0;
}

static int do_introduce(struct req *r)
{
	const char *vec[3];
	int err;

	if (sim_xs_wire_split(r->payload, r->len, vec, 3) < 3)
		return -EINVAL;
	if (sim_xs_wire_atoi(vec[2]) <= 0)
		return -EINVAL;
	err = domain_introduce(r->c->xs, (unsigned int)sim_xs_wire_atoi(vec[0]));
	if (!err)
		reply_ok(r->c, r->hdr);
	return err;
}

/* onearg_domain(): an introduced domain other than 0. */
static int onearg_domain(struct req *r, struct domain **out)
{
	const char *arg = sim_xs_wire_onearg(r->payload, r->len);
	unsigned int domid;

	if (!arg)
		return -EINVAL;
	domid = (unsigned int)sim_xs_wire_atoi(arg);
	if (!domid)
		return -EINVAL;
	*out = domain_find(r->c->xs, domid);
	if (!*out || !(*out)->introduced)
		return -ENOENT;
	return 0;
}

static int domain_release(struct sim_xs *xs, uint16_t domid)
{
	struct domain *d;

	conns_close_domain(xs, domid);
	d = domain_find(xs, domid);
	if (!d || !d->introduced)
		return -ENOENT;
	d->introduced = false;
	d->target = -1;
	fire_special(xs, SPECIAL_RELEASE, true);
	return 0;
}

static int do_release(struct req *r)
{
	struct domain *d;
	int err;

	err = onearg_domain(r, &d);
	if (!err)
		err = domain_release(r->c->xs, d->domid);
	if (!err)
		reply_ok(r->c, r->hdr);
	return err;
}

static int do_resume(struct req *r)
{
	struct domain *d;
	int err;

	err = onearg_domain(r, &d);
	if (!err)
		reply_ok(r->c, r->hdr);
	return err;
}

static int do_set_target(struct req *r)
{
	struct domain *d, *t;
	const char *vec[2];

	if (sim_xs_wire_split(r->payload, r->len, vec, 2) < 2)
		return -EINVAL;
	d = domain_find(r->c->xs, (unsigned int)sim_xs_wire_atoi(vec[0]));
	t = domain_find(r->c->xs, (unsigned int)sim_xs_wire_atoi(vec[1]));
	if (!d || !d->introduced || !t || !t->introduced)
		return -ENOENT;
	d->target = t->domid;
	reply_ok(r->c, r->hdr);
	return 0;
}

static int do_is_domain_introduced(struct req *r)
{
	const char *arg = sim_xs_wire_onearg(r->payload, r->len);
	struct domain *d;
	unsigned int domid;
	bool yes;

	if (!arg)
		return -EINVAL;
	domid = (unsigned int)sim_xs_wire_atoi(arg);
	d = domain_find(r->c->xs, domid);
	yes = domid == SIM_XS_DOMID_SELF || (d && d->introduced);
	reply(r->c, r->hdr, XS_IS_DOMAIN_INTRODUCED, yes ? "T" : "F", 2);
	return 0;
}

static int do_reset_watches(struct req *r)
{
	conn_del_watches(r->c);
	conn_del_txns(r->c);
	r->txn = NULL;
	reply_ok(r->c, r->hdr);
	return 0;
}

static int do_control(struct req *r)
{
	static const char help[] = "check\nhelp\n";
	const char *vec[1];

	if (sim_xs_wire_split(r->payload, r->len, vec, 1) < 1)
		return -EINVAL;
	if (!strcmp(vec[0], "check")) {
		reply(r->c, r->hdr, XS_CONTROL, "OK", sizeof("OK"));
		return 0;
	}
	if (!strcmp(vec[0], "help")) {
		reply(r->c, r->hdr, XS_CONTROL, help, sizeof(help));
		return 0;
	}
	return -EINVAL;
}

#define F_NOTID 0x1u /* the tx_id is ignored */
#define F_PRIV  0x2u /* privileged (dom0) only */

static const struct {
	int (*fn)(struct req *r);
	unsigned int flags;
} handlers[XS_TYPE_COUNT] = {
	[XS_CONTROL] = { do_control, F_PRIV },
	[XS_DIRECTORY] = { do_directory, 0 },
	[XS_READ] = { do_read, 0 },
	[XS_GET_PERMS] = { do_get_perms, 0 },
	[XS_WATCH] = { do_watch, F_NOTID },
	[XS_UNWATCH] = { do_unwatch, F_NOTID },
	[XS_TRANSACTION_START] = { do_transaction_start, 0 },
	[XS_TRANSACTION_END] = { do_transaction_end, 0 },
	[XS_INTRODUCE] = { do_introduce, F_PRIV },
	[XS_RELEASE] = { do_release, F_PRIV },
	[XS_GET_DOMAIN_PATH] = { do_get_domain_path, 0 },
	[XS_WRITE] = { do_write, 0 },
	[XS_MKDIR] = { do_mkdir, 0 },
	[XS_RM] = { do_rm, 0 },
	[XS_SET_PERMS] = { do_set_perms, 0 },
	[XS_IS_DOMAIN_INTRODUCED] = { do_is_domain_introduced, F_PRIV },
	[XS_RESUME] = { do_resume, F_PRIV },
	[XS_SET_TARGET] = { do_set_target, F_PRIV },
	[XS_RESET_WATCHES] = { do_reset_watches, 0 },
	[XS_DIRECTORY_PART] = { do_directory_part, 0 },
};

/* process_message(). */
static void handle_request(struct conn *c, const struct xsd_sockmsg *hdr, char *payload)
{
	struct req r = { .c = c, .hdr = hdr, .payload = payload, .len = hdr->len };
	int err;

	if (hdr->type >= XS_TYPE_COUNT || !handlers[hdr->type].fn) {
		reply_error(c, hdr, ENOSYS);
		return;
	}
	if ((handlers[hdr->type].flags & F_PRIV) && !conn_priv(c)) {
		reply_error(c, hdr, EACCES);
		return;
	}
	if (!(handlers[hdr->type].flags & F_NOTID) && hdr->tx_id) {
		r.txn = txn_find(c, hdr->tx_id);
		if (!r.txn) {
			reply_error(c, hdr, ENOENT);
			return;
		}
	}
	err = handlers[hdr->type].fn(&r);
	if (err)
		reply_error(c, hdr, err);
}

/*
 * Handle the complete messages in c's input buffer while c may send more.
 * Returns 0, or -EPROTO when c must be closed.
 */
static int conn_process(struct conn *c)
{
	struct xsd_sockmsg hdr;
	uint32_t total;
	int err;

	while (!conn_stalled(c)) {
		err = sim_xs_wire_decode_hdr(c->in, c->in_used, &hdr);
		if (err == -EAGAIN)
			return 0;
		if (err)
			return -EPROTO;
		total = SIM_XS_HDR_LEN + hdr.len;
		if (c->in_used < total)
			return 0;
		c->in[total] = '\0'; /* the byte after the payload: strings end for sure */
		handle_request(c, &hdr, c->in + SIM_XS_HDR_LEN);
		if (c->broken)
			return -ENOMEM;
		memmove(c->in, c->in + total, c->in_used - total);
		c->in_used -= total;
	}
	return 0;
}

static void conn_cb(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct conn *c = opaque;
	size_t room = sizeof(c->in) - 1 - c->in_used;
	ssize_t n;

	if (c->out_head && conn_flush(c))
		goto close;
	if ((events & PV_LOOP_IN) || ((events & LOOP_HUP_ERR) && !conn_stalled(c))) {
		if (!conn_stalled(c) && room) {
			n = read(fd, c->in + c->in_used, room);
			if (n == 0)
				goto close;
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				goto close;
			if (n > 0)
				c->in_used += (uint32_t)n;
		}
	} else if (events & LOOP_HUP_ERR) {
		goto close; /* stalled and gone: nobody will read the replies */
	}
	if (conn_process(c))
		goto close;
	if (c->out_head && conn_flush(c))
		goto close;
	conn_update_events(c);
	return;
close:
	conn_close(c);
}

static void listener_cb(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct listener *l = opaque;
	struct conn *c;
	int i, cfd;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			return;
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(cfd);
			return;
		}
		c->xs = l->xs;
		c->fd = cfd;
		c->domid = l->domid;
		c->out_tail = &c->out_head;
		c->watches_tail = &c->watches;
		c->next_txn_id = 1;
		c->events = PV_LOOP_IN;
		if (pv_loop_add_fd(loop, cfd, PV_LOOP_IN, conn_cb, c)) {
			close(cfd);
			free(c);
			return;
		}
		c->prev = l->xs->conn_tail;
		if (c->prev)
			c->prev->next = c;
		else
			l->xs->conn_head = c;
		l->xs->conn_tail = c;
	}
}

/* ----------------------------------------------------------------- API */

int sim_xs_create(struct pv_loop *loop, struct sim_xs **out)
{
	struct sim_xs *xs = calloc(1, sizeof(*xs));
	int err = -ENOMEM, i;

	if (!xs)
		return -ENOMEM;
	xs->loop = loop;
	sim_xs_quota_default(&xs->quota);
	for (i = 0; i < NSPECIAL; i++) {
		/* dom0 owns both, nobody else hears them until SET_PERMS says so. */
		xs->special[i].p = calloc(1, sizeof(*xs->special[i].p));
		if (!xs->special[i].p)
			goto fail;
		xs->special[i].num = 1;
	}
	err = sim_xs_store_create(&xs->quota, fire_node, xs, &xs->store);
	if (err)
		goto fail;
	err = domain_introduce(xs, 0);
	if (err)
		goto fail;
	*out = xs;
	return 0;
fail:
	sim_xs_destroy(xs);
	return err;
}

static void listener_free(struct sim_xs *xs, struct listener *l)
{
	pv_loop_del_fd(xs->loop, l->fd);
	close(l->fd);
	unlink(l->path);
	free(l->path);
	free(l);
}

void sim_xs_destroy(struct sim_xs *xs)
{
	struct listener *l;
	struct domain *d;
	int i;

	if (!xs)
		return;
	while (xs->conn_head)
		conn_close(xs->conn_head);
	while ((l = xs->listeners)) {
		xs->listeners = l->next;
		listener_free(xs, l);
	}
	while ((d = xs->domains)) {
		xs->domains = d->next;
		free(d);
	}
	for (i = 0; i < NSPECIAL; i++)
		free(xs->special[i].p);
	sim_xs_store_destroy(xs->store);
	free(xs);
}

int sim_xs_listen(struct sim_xs *xs, uint16_t domid, const char *sock_path)
{
	struct listener *l;
	mode_t mask;
	int fd, err;

	for (l = xs->listeners; l; l = l->next)
		if (l->domid == domid)
			return -EEXIST;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->path = strdup(sock_path);
	if (!l->path) {
		err = -ENOMEM;
		goto fail_l;
	}
	/* The permissions bind() gives: what the umask leaves of 0777. */
	mask = umask(0);
	umask(mask);
	fd = pv_unix_listen(sock_path, SOCK_STREAM, 0777 & ~mask);
	if (fd < 0) {
		err = fd;
		goto fail_l;
	}
	l->xs = xs;
	l->fd = fd;
	l->domid = domid;
	err = pv_loop_add_fd(xs->loop, fd, PV_LOOP_IN, listener_cb, l);
	if (err)
		goto fail_bound;
	l->next = xs->listeners;
	xs->listeners = l;
	return 0;

fail_bound:
	unlink(sock_path);
	close(fd);
fail_l:
	free(l->path);
	free(l);
	return err;
}

void sim_xs_unlisten(struct sim_xs *xs, uint16_t domid)
{
	struct listener **pp, *l;

	for (pp = &xs->listeners; (l = *pp); pp = &l->next) {
		if (l->domid == domid) {
			*pp = l->next;
			listener_free(xs, l);
			break;
		}
	}
	conns_close_domain(xs, domid);
}

int sim_xs_introduce(struct sim_xs *xs, uint16_t domid)
{
	return domain_introduce(xs, domid);
}

int sim_xs_release(struct sim_xs *xs, uint16_t domid)
{
	if (!domid)
		return -EINVAL;
	return domain_release(xs, domid);
}

static int api_path(const char *path, char *out)
{
	return sim_xs_wire_canonicalize(0, path, out, CANON_MAX);
}

int sim_xs_write(struct sim_xs *xs, const char *path, const char *val)
{
	char p[CANON_MAX];
	int err = api_path(path, p);

	if (err)
		return err == -ENAMETOOLONG ? -EINVAL : err;
	return sim_xs_store_write(xs->store, &dom0_caller, p, val, (uint32_t)strlen(val));
}

int sim_xs_mkdir(struct sim_xs *xs, const char *path)
{
	char p[CANON_MAX];
	int err = api_path(path, p);

	if (err)
		return err == -ENAMETOOLONG ? -EINVAL : err;
	return sim_xs_store_mkdir(xs->store, &dom0_caller, p);
}

int sim_xs_rm(struct sim_xs *xs, const char *path)
{
	char p[CANON_MAX];
	int err = api_path(path, p);

	if (err)
		return err == -ENAMETOOLONG ? -EINVAL : err;
	return sim_xs_store_rm(xs->store, &dom0_caller, p);
}

int sim_xs_set_perms(struct sim_xs *xs, const char *path, const char *perms)
{
	struct xs_permissions p[64];
	struct sim_xs_perms sp = { .p = p };
	char buf[1024], cp[CANON_MAX], *tok, *save = NULL;
	size_t len = 0;
	int err;

	if (strlen(perms) >= sizeof(buf))
		return -EINVAL;
	/* "n0 r5" -> "n0\0r5\0", the SET_PERMS layout. */
	{
		char tmp[1024];

		strcpy(tmp, perms);
		for (tok = strtok_r(tmp, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
			if (sp.num == 64)
				return -EINVAL;
			strcpy(buf + len, tok);
			len += strlen(tok) + 1;
			sp.num++;
		}
	}
	if (!sp.num)
		return -EINVAL;
	err = sim_xs_wire_parse_perms(buf, sp.num, p);
	if (err)
		return err;
	if (path[0] == '@')
		return set_special_perms(xs, &dom0_caller, path, &sp);
	err = api_path(path, cp);
	if (err)
		return err == -ENAMETOOLONG ? -EINVAL : err;
	return sim_xs_store_set_perms(xs->store, &dom0_caller, cp, &sp);
}

char *sim_xs_read(struct sim_xs *xs, const char *path)
{
	char p[CANON_MAX], *v;
	const char *data;
	uint32_t len;
	int err = api_path(path, p);

	if (!err)
		err = sim_xs_store_read(xs->store, &dom0_caller, p, &data, &len);
	if (err) {
		errno = err == -ENAMETOOLONG ? EINVAL : -err;
		return NULL;
	}
	v = malloc(len + 1);
	if (!v) {
		errno = ENOMEM;
		return NULL;
	}
	memcpy(v, data, len);
	v[len] = '\0';
	return v;
}

char **sim_xs_directory(struct sim_xs *xs, const char *path, unsigned int *n)
{
	char p[CANON_MAX], **v, *strs;
	const char *ch;
	uint32_t len, off;
	unsigned int i, count;
	int err = api_path(path, p);

	if (!err)
		err = sim_xs_store_directory(xs->store, &dom0_caller, p, &ch, &len, NULL);
	if (err) {
		errno = err == -ENAMETOOLONG ? EINVAL : -err;
		return NULL;
	}
	count = sim_xs_wire_count_strings(ch, len);
	v = malloc((count + 1) * sizeof(*v) + len);
	if (!v) {
		errno = ENOMEM;
		return NULL;
	}
	strs = (char *)(v + count + 1);
	memcpy(strs, ch, len);
	for (i = 0, off = 0; i < count; i++) {
		v[i] = strs + off;
		off += (uint32_t)strlen(strs + off) + 1;
	}
	v[count] = NULL;
	*n = count;
	return v;
}
