// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pvsim xenstored: node store, permissions, generations and transactions
 * (see xs_store.h for the model).  Mirrors xenstored_core.c (get_node,
 * construct_node/create_node, rm_node, do_set_perms) and
 * xenstored_transaction.c (access_node, finalize_transaction).
 *
 * Every modifying operation validates everything (permissions, quotas,
 * sizes) before it changes anything, so a failing request leaves no trace;
 * allocation failures midway inside a transaction fail the transaction.
 * Single-threaded; no I/O, no logging.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xs_store.h"

/* sizeof(struct xs_tdb_record_hdr) in xenstored: what a node "costs". */
#define NODE_HDR_SIZE  24u
#define NODE_PERM_SIZE 8u
#define NDOMIDS        65536u

struct node {
	struct node *hnext;
	char *name; /* hnext, name: as struct hlink */
	uint64_t gen;
	struct sim_xs_perms perms;
	char *data;
	uint32_t datalen;
	char *children; /* NUL-terminated names, creation order */
	uint32_t childlen;
};

/* A node as one transaction sees it (xenstored's struct accessed_node). */
struct tnode {
	struct tnode *hnext;
	char *name;         /* hnext, name: as struct hlink */
	struct tnode *next; /* access order */
	uint64_t gen;           /* global generation at first access */
	bool check_gen;
	bool modified;
	bool fire, exact;       /* queued watch event */
	struct sim_xs_perms old_perms; /* at first access (num 0: absent) */
	struct node *node;      /* private copy; NULL: absent in this transaction */
};

struct htab {
	void **b;  /* buckets: chains linked through the first member */
	size_t nb; /* power of two */
	size_t count;
};

struct sim_xs_txn {
	struct htab tab;
	struct tnode *first, **tail;
	unsigned int nodes;
	int own_delta;  /* nodes created - removed for the caller's domain */
	bool node_created;
	bool fail;
};

struct sim_xs_store {
	struct htab tab;
	uint64_t gen;
	uint32_t *owned; /* nodes per owner domid */
	struct sim_xs_quota quota;
	sim_xs_fire_fn *fire;
	void *opaque;
};

void sim_xs_quota_default(struct sim_xs_quota *q)
{
	*q = (struct sim_xs_quota){
		.nodes_per_domain = 1000,
		.max_entry_size = 2048,
		.perms_per_node = 5,
		.trans_nodes = 1024,
		.max_path_len = XENSTORE_REL_PATH_MAX,
		.watches_per_domain = 128,
		.transactions = 10,
		.outstanding = 20,
		.memory_per_domain = 2 * 1024 * 1024 + 512 * 1024,
	};
}

/* ---------------------------------------------------------------- hash */

struct hlink {
	struct hlink *next;
	char *name;
};

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static int htab_init(struct htab *t)
{
	t->nb = 64;
	t->count = 0;
	t->b = calloc(t->nb, sizeof(*t->b));
	return t->b ? 0 : -ENOMEM;
}

static void *htab_find(const struct htab *t, const char *name)
{
	struct hlink *l;

	for (l = t->b[hash_str(name) & (t->nb - 1)]; l; l = l->next)
		if (!strcmp(l->name, name))
			return l;
	return NULL;
}

static void htab_grow(struct htab *t)
{
	size_t nb = t->nb * 2, i;
	void **b = calloc(nb, sizeof(*b));
	struct hlink *l, *n;

	if (!b)
		return; /* chains just get longer */
	for (i = 0; i < t->nb; i++) {
		for (l = t->b[i]; l; l = n) {
			n = l->next;
			l->next = b[hash_str(l->name) & (nb - 1)];
			b[hash_str(l->name) & (nb - 1)] = l;
		}
	}
	free(t->b);
	t->b = b;
	t->nb = nb;
}

static void htab_add(struct htab *t, void *entry)
{
	struct hlink *l = entry;
	size_t i;

	if (t->count >= t->nb)
		htab_grow(t);
	i = hash_str(l->name) & (t->nb - 1);
	l->next = t->b[i];
	t->b[i] = l;
	t->count++;
}

static void htab_del(struct htab *t, void *entry)
{
	struct hlink *l = entry, **pp = (struct hlink **)&t->b[hash_str(l->name) & (t->nb - 1)];

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			t->count--;
			return;
		}
	}
}

/* --------------------------------------------------------------- nodes */

static void node_free(struct node *n)
{
	if (!n)
		return;
	free(n->name);
	free(n->perms.p);
	free(n->data);
	free(n->children);
	free(n);
}

static int perms_copy(struct sim_xs_perms *dst, const struct sim_xs_perms *src)
{
	dst->num = 0;
	dst->p = NULL;
	if (!src->num)
		return 0;
	dst->p = malloc(src->num * sizeof(*dst->p));
	if (!dst->p)
		return -ENOMEM;
	memcpy(dst->p, src->p, src->num * sizeof(*dst->p));
	dst->num = src->num;
	return 0;
}

static void *memdup(const void *p, size_t len)
{
	void *d = malloc(len ? len : 1);

	if (d && len)
		memcpy(d, p, len);
	return d;
}

static struct node *node_new(const char *name, const struct sim_xs_perms *perms)
{
	struct node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->name = strdup(name);
	if (!n->name || perms_copy(&n->perms, perms)) {
		node_free(n);
		return NULL;
	}
	return n;
}

static struct node *node_dup(const struct node *o)
{
	struct node *n = node_new(o->name, &o->perms);

	if (!n)
		return NULL;
	n->gen = o->gen;
	n->data = memdup(o->data, o->datalen);
	n->children = memdup(o->children, o->childlen);
	if (!n->data || !n->children) {
		node_free(n);
		return NULL;
	}
	n->datalen = o->datalen;
	n->childlen = o->childlen;
	return n;
}

static size_t node_size(unsigned int nperms, uint32_t datalen, uint32_t childlen)
{
	return NODE_HDR_SIZE + (size_t)nperms * NODE_PERM_SIZE + datalen + childlen;
}

/* write_node_raw()'s quota: unprivileged callers may not store big nodes. */
static int check_size(const struct sim_xs_store *s, const struct sim_xs_caller *c,
		      unsigned int nperms, uint32_t datalen, uint32_t childlen)
{
	if (!c->priv && s->quota.max_entry_size &&
	    node_size(nperms, datalen, childlen) >= s->quota.max_entry_size)
		return -ENOSPC;
	return 0;
}

static unsigned int owner_of(const struct node *n)
{
	return n->perms.p[0].id & (NDOMIDS - 1);
}

/* --------------------------------------------------------------- paths */

static bool is_root(const char *path)
{
	return path[0] == '/' && path[1] == '\0';
}

/* Parent of a valid non-root path into buf (as large as path). */
static void parent_of(const char *path, char *buf)
{
	const char *slash = strrchr(path + 1, '/');
	size_t len = slash ? (size_t)(slash - path) : 1;

	memcpy(buf, path, len);
	buf[len] = '\0';
}

static const char *base_of(const char *path)
{
	return strrchr(path, '/') + 1;
}

/* ------------------------------------------------------------- lookups */

static void txn_free(struct sim_xs_txn *t)
{
	struct tnode *tn, *next;

	for (tn = t->first; tn; tn = next) {
		next = tn->next;
		node_free(tn->node);
		free(tn->old_perms.p);
		free(tn->name);
		free(tn);
	}
	free(t->tab.b);
	free(t);
}

/*
 * The node at path as c sees it, recording the access in c's transaction
 * (xenstored's read_node + access_node(READ)).  NULL: *err is -ENOENT, or
 * -ENOSPC / -ENOMEM (which fail the transaction).
 */
static struct node *lookup(struct sim_xs_store *s, const struct sim_xs_caller *c,
			   const char *path, int *err)
{
	struct sim_xs_txn *t = c->txn;
	struct node *g = htab_find(&s->tab, path);
	struct tnode *tn;

	if (!t) {
		*err = -ENOENT;
		return g;
	}
	tn = htab_find(&t->tab, path);
	if (!tn) {
		if (!c->priv && s->quota.trans_nodes && t->nodes >= s->quota.trans_nodes) {
			*err = -ENOSPC;
			goto fail;
		}
		tn = calloc(1, sizeof(*tn));
		if (!tn)
			goto nomem;
		tn->name = strdup(path);
		if (!tn->name)
			goto nomem_tn;
		tn->gen = g ? g->gen : SIM_XS_NO_GENERATION;
		tn->check_gen = true;
		if (g) {
			tn->node = node_dup(g);
			if (!tn->node || perms_copy(&tn->old_perms, &g->perms))
				goto nomem_tn;
		}
		htab_add(&t->tab, tn);
		*t->tail = tn;
		t->tail = &tn->next;
		t->nodes++;
	}
	*err = -ENOENT;
	return tn->node;

nomem_tn:
	node_free(tn->node);
	free(tn->old_perms.p);
	free(tn->name);
	free(tn);
nomem:
	*err = -ENOMEM;
fail:
	t->fail = true;
	return NULL;
}

unsigned int sim_xs_store_perm_for(const struct sim_xs_caller *c, const struct sim_xs_perms *perms)
{
	const unsigned int all = XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER;
	unsigned int i;

	if (!perms->num)
		return XS_PERM_NONE;
	if (c->priv || perms->p[0].id == c->domid ||
	    (c->target >= 0 && perms->p[0].id == (unsigned int)c->target))
		return all;
	for (i = 1; i < perms->num; i++)
		if (!(perms->p[i].perms & XS_PERM_IGNORE) &&
		    (perms->p[i].id == c->domid ||
		     (c->target >= 0 && perms->p[i].id == (unsigned int)c->target)))
			return perms->p[i].perms & all;
	return perms->p[0].perms & all;
}

/*
 * errno_from_parents(): a missing or forbidden node must not reveal itself
 * to a caller who may not see its nearest existing ancestor.
 */
static int errno_from_parents(struct sim_xs_store *s, const struct sim_xs_caller *c,
			      const char *path, int err, unsigned int want)
{
	char *buf = strdup(path);
	struct node *n = NULL;
	int lerr;

	if (!buf)
		return -ENOMEM;
	while (!is_root(buf)) {
		parent_of(buf, buf);
		n = lookup(s, c, buf, &lerr);
		if (n)
			break;
		if (lerr != -ENOENT) {
			free(buf);
			return lerr;
		}
	}
	free(buf);
	if (n && (sim_xs_store_perm_for(c, &n->perms) & want))
		return err;
	return -EACCES;
}

/* get_node(): the node at path if c has all of want on it. */
static struct node *get_node(struct sim_xs_store *s, const struct sim_xs_caller *c,
			     const char *path, unsigned int want, int *err)
{
	struct node *n;

	if (!path || !sim_xs_wire_valid_path(path, s->quota.max_path_len)) {
		*err = -EINVAL;
		return NULL;
	}
	n = lookup(s, c, path, err);
	if (n && (sim_xs_store_perm_for(c, &n->perms) & want) != want) {
		*err = -EACCES;
		n = NULL;
	}
	if (!n && *err != -ENOMEM && *err != -ENOSPC)
		*err = errno_from_parents(s, c, path, *err, want);
	return n;
}

/* A node c just changed: new generation, and the transaction knows. */
static void touch(struct sim_xs_store *s, const struct sim_xs_caller *c, struct node *n)
{
	struct tnode *tn;

	n->gen = ++s->gen;
	if (c->txn) {
		tn = htab_find(&c->txn->tab, n->name);
		if (tn)
			tn->modified = true;
	}
}

static void fire(struct sim_xs_store *s, const struct sim_xs_caller *c, const char *path,
		 bool exact, const struct sim_xs_perms *perms, const struct sim_xs_perms *old)
{
	struct tnode *tn;

	if (!c->txn) {
		if (s->fire)
			s->fire(s->opaque, path, exact, perms, old);
		return;
	}
	/* queue_watches(): a non-exact event replaces an exact one. */
	tn = htab_find(&c->txn->tab, path);
	if (!tn) {
		c->txn->fail = true;
		return;
	}
	if (!tn->fire) {
		tn->fire = true;
		tn->exact = exact;
	} else if (!exact) {
		tn->exact = false;
	}
}

/* Account a node appearing in / leaving the view of c. */
static void account(struct sim_xs_store *s, const struct sim_xs_caller *c, unsigned int owner,
		    int delta)
{
	if (!c->txn)
		s->owned[owner] += (uint32_t)delta;
	else if (owner == c->domid)
		c->txn->own_delta += delta;
}

static unsigned int owned_by(const struct sim_xs_store *s, const struct sim_xs_caller *c)
{
	long v = s->owned[c->domid & (NDOMIDS - 1)];

	if (c->txn)
		v += c->txn->own_delta;
	return v < 0 ? 0 : (unsigned int)v;
}

/* Make n (fresh, not yet visible) the node at its name for c. */
static int node_insert(struct sim_xs_store *s, const struct sim_xs_caller *c, struct node *n)
{
	struct tnode *tn;

	if (c->txn) {
		/* lookup() recorded every path create() visited. */
		tn = htab_find(&c->txn->tab, n->name);
		if (!tn) {
			c->txn->fail = true;
			node_free(n);
			return -ENOMEM;
		}
		node_free(tn->node);
		tn->node = n;
		tn->modified = true;
		c->txn->node_created = true;
	} else {
		htab_add(&s->tab, n);
	}
	n->gen = ++s->gen;
	account(s, c, owner_of(n), 1);
	return 0;
}

static void node_remove(struct sim_xs_store *s, const struct sim_xs_caller *c, struct node *n)
{
	struct tnode *tn;

	account(s, c, owner_of(n), -1);
	if (c->txn) {
		/* n is the private copy lookup() made for this transaction. */
		tn = htab_find(&c->txn->tab, n->name);
		tn->node = NULL;
		tn->modified = true;
	} else {
		htab_del(&s->tab, n);
	}
	node_free(n);
}

/* ---------------------------------------------------------- operations */

int sim_xs_store_read(struct sim_xs_store *s, const struct sim_xs_caller *c, const char *path,
		      const char **data, uint32_t *len)
{
	struct node *n;
	int err;

	n = get_node(s, c, path, XS_PERM_READ, &err);
	if (!n)
		return err;
	*data = n->data ? n->data : ""; /* never NULL, even when empty */
	*len = n->datalen;
	return 0;
}

int sim_xs_store_directory(struct sim_xs_store *s, const struct sim_xs_caller *c,
			   const char *path, const char **children, uint32_t *childlen,
			   uint64_t *generation)
{
	struct node *n;
	int err;

	n = get_node(s, c, path, XS_PERM_READ, &err);
	if (!n)
		return err;
	*children = n->children ? n->children : "";
	*childlen = n->childlen;
	if (generation)
		*generation = n->gen;
	return 0;
}

int sim_xs_store_get_perms(struct sim_xs_store *s, const struct sim_xs_caller *c,
			   const char *path, struct sim_xs_perms *out)
{
	struct node *n;
	int err;

	n = get_node(s, c, path, XS_PERM_READ, &err);
	if (!n)
		return err;
	*out = n->perms;
	return 0;
}

static int add_child(struct node *parent, const char *base)
{
	size_t blen = strlen(base) + 1;
	char *ch = realloc(parent->children, parent->childlen + blen);

	if (!ch)
		return -ENOMEM;
	memcpy(ch + parent->childlen, base, blen);
	parent->children = ch;
	parent->childlen += (uint32_t)blen;
	return 0;
}

static void del_child(struct node *parent, const char *base)
{
	uint32_t off, len;

	for (off = 0; off < parent->childlen; off += len + 1) {
		len = (uint32_t)strlen(parent->children + off);
		if (!strcmp(parent->children + off, base)) {
			memmove(parent->children + off, parent->children + off + len + 1,
				parent->childlen - off - len - 1);
			parent->childlen -= len + 1;
			return;
		}
	}
}

/* Length of the path component starting at p. */
static size_t comp_len(const char *p)
{
	return strcspn(p, "/");
}

/* The component after the one at p, or "" after the last. */
static const char *comp_next(const char *p)
{
	p += comp_len(p);
	return *p ? p + 1 : p;
}

/*
 * construct_node() + create_node(): create path and its missing parents,
 * each inheriting its parent's permissions with an unprivileged creator as
 * owner.  Checks quotas and sizes first, so a failure changes nothing.
 */
static struct node *create(struct sim_xs_store *s, const struct sim_xs_caller *c,
			   const char *path, const void *data, uint32_t len, int *err)
{
	size_t plen = strlen(path);
	char *buf = malloc(plen + 1);
	struct node *parent = NULL, *n = NULL;
	unsigned int levels = 0, nperms;
	const char *first, *p;

	if (!buf) {
		*err = -ENOMEM;
		return NULL;
	}
	memcpy(buf, path, plen + 1);
	while (!parent) {
		levels++;
		parent_of(buf, buf);
		parent = lookup(s, c, buf, err);
		if (!parent && (*err != -ENOENT || is_root(buf)))
			goto out;
	}
	/* buf is the existing parent; first is the first missing component. */
	first = path + (is_root(buf) ? 1 : strlen(buf) + 1);
	if (!c->priv && s->quota.nodes_per_domain &&
	    owned_by(s, c) + levels > s->quota.nodes_per_domain) {
		*err = -ENOSPC;
		goto out;
	}
	nperms = parent->perms.num;
	*err = check_size(s, c, nperms, parent->datalen,
			  parent->childlen + (uint32_t)comp_len(first) + 1);
	for (p = first; !*err && *p; p = comp_next(p)) {
		const char *next = comp_next(p);

		*err = check_size(s, c, nperms, *next ? 0 : len,
				  *next ? (uint32_t)comp_len(next) + 1 : 0);
	}
	if (*err)
		goto out;

	for (p = first; *p; p = comp_next(p)) {
		size_t l = (size_t)(p - path) + comp_len(p);

		memcpy(buf, path, l);
		buf[l] = '\0';
		n = node_new(buf, &parent->perms);
		if (!n || add_child(parent, base_of(buf))) {
			node_free(n);
			n = NULL;
			*err = -ENOMEM;
			if (c->txn)
				c->txn->fail = true;
			goto out;
		}
		if (!c->priv)
			n->perms.p[0].id = c->domid;
		touch(s, c, parent);
		*err = node_insert(s, c, n);
		if (*err) {
			n = NULL;
			goto out;
		}
		parent = n;
	}
	if (len) {
		n->data = memdup(data, len);
		if (!n->data) {
			/* The nodes exist, empty: as a failed write after mkdir. */
			*err = -ENOMEM;
			n = NULL;
			goto out;
		}
		n->datalen = len;
	}
out:
	free(buf);
	return n;
}

int sim_xs_store_write(struct sim_xs_store *s, const struct sim_xs_caller *c, const char *path,
		       const void *data, uint32_t len)
{
	struct node *n;
	char *d;
	int err;

	n = get_node(s, c, path, XS_PERM_WRITE, &err);
	if (!n) {
		if (err != -ENOENT)
			return err;
		n = create(s, c, path, data, len, &err);
		if (!n)
			return err;
	} else {
		err = check_size(s, c, n->perms.num, len, n->childlen);
		if (err)
			return err;
		d = memdup(data, len);
		if (!d)
			return -ENOMEM;
		free(n->data);
		n->data = d;
		n->datalen = len;
		touch(s, c, n);
	}
	fire(s, c, n->name, false, &n->perms, NULL);
	return 0;
}

int sim_xs_store_mkdir(struct sim_xs_store *s, const struct sim_xs_caller *c, const char *path)
{
	struct node *n;
	int err;

	n = get_node(s, c, path, XS_PERM_WRITE, &err);
	if (n)
		return 0;
	if (err != -ENOENT)
		return err;
	n = create(s, c, path, NULL, 0, &err);
	if (!n)
		return err;
	fire(s, c, n->name, false, &n->perms, NULL);
	return 0;
}

/*
 * delnode_sub() over the subtree, children first: each removed node fires
 * its own event while its parent still exists, exactly for the children
 * (a watch below root hears about its own node) and as a normal event for
 * root itself.
 */
static int rm_tree(struct sim_xs_store *s, const struct sim_xs_caller *c, struct node *n,
		   const char *root)
{
	struct node *child;
	size_t nlen = strlen(n->name);
	char *cpath;
	int err;

	while (n->childlen) {
		const char *base = n->children;
		size_t blen = strlen(base);

		cpath = malloc(nlen + blen + 2);
		if (!cpath)
			return -ENOMEM;
		memcpy(cpath, n->name, nlen);
		cpath[is_root(n->name) ? 0 : nlen] = '/';
		memcpy(cpath + (is_root(n->name) ? 1 : nlen + 1), base, blen + 1);
		child = lookup(s, c, cpath, &err);
		free(cpath);
		if (child) {
			err = rm_tree(s, c, child, root);
			if (err)
				return err;
		} else if (err != -ENOENT) {
			return err;
		}
		/* Gone (or never there: a corrupt entry), drop it from the list. */
		memmove(n->children, n->children + blen + 1, n->childlen - blen - 1);
		n->childlen -= (uint32_t)blen + 1;
	}
	fire(s, c, n->name, strcmp(n->name, root) != 0, &n->perms, NULL);
	node_remove(s, c, n);
	return 0;
}

int sim_xs_store_rm(struct sim_xs_store *s, const struct sim_xs_caller *c, const char *path)
{
	struct node *n, *parent;
	char *pbuf;
	int err, perr;

	n = get_node(s, c, path, XS_PERM_WRITE, &err);
	if (!n && err != -ENOENT)
		return err;
	if (n && is_root(path))
		return -EINVAL;
	/* Not there is fine when the parent is. */
	pbuf = strdup(path);
	if (!pbuf)
		return -ENOMEM;
	parent_of(path, pbuf);
	parent = lookup(s, c, pbuf, &perr);
	free(pbuf);
	if (!n) {
		if (parent)
			return 0;
		return perr == -ENOENT ? -ENOENT : perr;
	}
	if (!parent)
		return perr == -ENOENT ? -EINVAL : perr;
	err = rm_tree(s, c, n, path);
	if (err) {
		if (c->txn)
			c->txn->fail = true;
		return err;
	}
	del_child(parent, base_of(path));
	touch(s, c, parent);
	return 0;
}

int sim_xs_store_set_perms(struct sim_xs_store *s, const struct sim_xs_caller *c,
			   const char *path, const struct sim_xs_perms *perms)
{
	struct sim_xs_perms old, np;
	struct node *n;
	int err;

	if (!perms->num)
		return -EINVAL;
	n = get_node(s, c, path, XS_PERM_WRITE | XS_PERM_OWNER, &err);
	if (!n)
		return err;
	if (!c->priv && perms->p[0].id != n->perms.p[0].id)
		return -EPERM;
	err = check_size(s, c, perms->num, n->datalen, n->childlen);
	if (err)
		return err;
	if (perms_copy(&np, perms))
		return -ENOMEM;
	old = n->perms;
	account(s, c, owner_of(n), -1);
	n->perms = np;
	account(s, c, owner_of(n), 1);
	touch(s, c, n);
	fire(s, c, n->name, false, &n->perms, &old);
	free(old.p);
	return 0;
}

bool sim_xs_store_watch_permitted(struct sim_xs_store *s, const struct sim_xs_caller *c,
				  const char *path, const struct sim_xs_perms *perms,
				  const struct sim_xs_perms *old_perms)
{
	struct node *n, *parent;
	char *pbuf;
	bool ok;

	if (old_perms && (sim_xs_store_perm_for(c, old_perms) & XS_PERM_READ))
		return true;
	if (!perms) {
		n = htab_find(&s->tab, path);
		if (!n)
			return false;
		perms = &n->perms;
	}
	if (sim_xs_store_perm_for(c, perms) & XS_PERM_READ)
		return true;
	if (is_root(path))
		return false;
	pbuf = strdup(path);
	if (!pbuf)
		return false;
	parent_of(path, pbuf);
	parent = htab_find(&s->tab, pbuf);
	ok = parent && (sim_xs_store_perm_for(c, &parent->perms) & XS_PERM_READ);
	free(pbuf);
	return ok;
}

/* -------------------------------------------------------- transactions */

int sim_xs_store_txn_start(struct sim_xs_store *s, struct sim_xs_txn **out)
{
	struct sim_xs_txn *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	if (htab_init(&t->tab)) {
		free(t);
		return -ENOMEM;
	}
	t->tail = &t->first;
	++s->gen;
	*out = t;
	return 0;
}

/* finalize_transaction(): conflict check, then copy back and fire. */
static int txn_commit(struct sim_xs_store *s, const struct sim_xs_caller *c, struct sim_xs_txn *t)
{
	struct tnode *tn;
	struct node *g;
	uint64_t gen;

	if (t->fail)
		return -ENOMEM;
	if (!c->priv && t->node_created && s->quota.nodes_per_domain &&
	    (long)s->owned[c->domid & (NDOMIDS - 1)] + t->own_delta >
		    (long)s->quota.nodes_per_domain)
		return -ENOSPC;
	for (tn = t->first; tn; tn = tn->next) {
		if (!tn->check_gen)
			continue;
		g = htab_find(&s->tab, tn->name);
		gen = g ? g->gen : SIM_XS_NO_GENERATION;
		if (gen != tn->gen)
			return -EAGAIN;
	}
	for (tn = t->first; tn; tn = tn->next) {
		if (!tn->modified)
			continue;
		g = htab_find(&s->tab, tn->name);
		if (g) {
			s->owned[owner_of(g)]--;
			htab_del(&s->tab, g);
			node_free(g);
		}
		if (tn->node) {
			g = tn->node;
			tn->node = NULL;
			g->gen = ++s->gen;
			htab_add(&s->tab, g);
			s->owned[owner_of(g)]++;
		}
		if (tn->fire && s->fire)
			s->fire(s->opaque, tn->name, tn->exact, NULL,
				tn->old_perms.num ? &tn->old_perms : NULL);
	}
	return 0;
}

int sim_xs_store_txn_end(struct sim_xs_store *s, const struct sim_xs_caller *c,
			 struct sim_xs_txn *txn, bool commit)
{
	int err = 0;

	if (commit)
		err = txn_commit(s, c, txn);
	txn_free(txn);
	return err;
}

/* ------------------------------------------------------------ lifetime */

static int manual_node(struct sim_xs_store *s, const char *name, const char *child)
{
	struct xs_permissions p = { .id = 0, .perms = XS_PERM_NONE };
	struct sim_xs_perms perms = { .num = 1, .p = &p };
	struct node *n = node_new(name, &perms);

	if (!n)
		return -ENOMEM;
	if (child && add_child(n, child)) {
		node_free(n);
		return -ENOMEM;
	}
	n->gen = ++s->gen;
	htab_add(&s->tab, n);
	s->owned[0]++;
	return 0;
}

int sim_xs_store_create(const struct sim_xs_quota *quota, sim_xs_fire_fn *fire, void *opaque,
			struct sim_xs_store **out)
{
	struct sim_xs_store *s = calloc(1, sizeof(*s));
	int err = -ENOMEM;

	if (!s)
		return -ENOMEM;
	if (quota)
		s->quota = *quota;
	else
		sim_xs_quota_default(&s->quota);
	s->fire = fire;
	s->opaque = opaque;
	s->owned = calloc(NDOMIDS, sizeof(*s->owned));
	if (!s->owned || htab_init(&s->tab))
		goto fail;
	err = manual_node(s, "/", "tool");
	if (!err)
		err = manual_node(s, "/tool", "xenstored");
	if (!err)
		err = manual_node(s, "/tool/xenstored", NULL);
	if (!err)
		err = manual_node(s, "/local", "domain");
	if (!err)
		err = manual_node(s, "/local/domain", NULL);
	if (!err) {
		struct node *root = htab_find(&s->tab, "/");

		err = add_child(root, "local");
	}
	if (err)
		goto fail;
	*out = s;
	return 0;
fail:
	sim_xs_store_destroy(s);
	return err;
}

void sim_xs_store_destroy(struct sim_xs_store *s)
{
	struct hlink *l, *n;
	size_t i;

	if (!s)
		return;
	for (i = 0; s->tab.b && i < s->tab.nb; i++) {
		for (l = s->tab.b[i]; l; l = n) {
			n = l->next;
			node_free((struct node *)l);
		}
	}
	free(s->tab.b);
	free(s->owned);
	free(s);
}

unsigned int sim_xs_store_domain_nodes(const struct sim_xs_store *s, unsigned int domid)
{
	return s->owned[domid & (NDOMIDS - 1)];
}

unsigned int sim_xs_store_count(const struct sim_xs_store *s)
{
	return (unsigned int)s->tab.count;
}
