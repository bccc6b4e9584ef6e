/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pvsim xenstored: the node store (private to sim/xs_*.c).
 *
 * A flat hash of canonical path -> node, as xenstored's TDB: each node holds
 * its value, its permissions (entry 0 = owner and default for others), its
 * children as a NUL-separated list in creation order, and a generation
 * number taken from one store-wide counter on every modification.
 *
 * Transactions follow xenstored_transaction.c: the first access of a node
 * inside a transaction records the node's global generation (or "absent")
 * and takes a private copy; reads and writes then use the copy.  Commit
 * fails with -EAGAIN when any recorded node's global generation changed,
 * else copies the modified nodes back, each with a new generation.
 *
 * Every operation checks permissions for the caller as perm_for_conn() does
 * and reports the watch events to fire through the store's fire callback
 * (immediately outside a transaction, at commit inside one).  Single-threaded.
 */
#ifndef SIM_XS_STORE_H
#define SIM_XS_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "xs_wire.h"

#define SIM_XS_NO_GENERATION (~(uint64_t)0)
#define SIM_XS_DOMID_SELF    0x7FF0u /* DOMID_SELF, xen/xen.h */

struct sim_xs_store;
struct sim_xs_txn;

struct sim_xs_perms {
	unsigned int num;
	struct xs_permissions *p; /* p[0]: owner, and what everybody else gets */
};

/* Who performs an operation. */
struct sim_xs_caller {
	unsigned int domid;
	bool priv;              /* dom0: every permission on every node */
	int target;             /* domain this one may act for (SET_TARGET), or -1 */
	struct sim_xs_txn *txn; /* NULL: the global store */
};

/* xenstored's quotas; 0 disables one.  Applied to unprivileged callers only. */
struct sim_xs_quota {
	unsigned int nodes_per_domain;   /* quota_nb_entry_per_domain (1000) */
	unsigned int max_entry_size;     /* quota_max_entry_size (2048) */
	unsigned int perms_per_node;     /* quota_nb_perms_per_node (5) */
	unsigned int trans_nodes;        /* quota_trans_nodes (1024) */
	unsigned int max_path_len;       /* quota_max_path_len (XENSTORE_REL_PATH_MAX) */
	unsigned int watches_per_domain; /* quota_nb_watch_per_domain (128) */
	unsigned int transactions;       /* quota_max_transaction (10) */
	unsigned int outstanding;        /* quota_req_outstanding (20) */
	unsigned int memory_per_domain;  /* quota_memory_per_domain_hard (2.5 MiB) */
};

void sim_xs_quota_default(struct sim_xs_quota *q);

/*
 * A watch event for path: exact events match only watches on path itself,
 * others every watch on path or a parent.  perms: the node's permissions at
 * the time of the change, NULL to look them up when checking (transaction
 * commit); old_perms: permissions before the change, or NULL.
 */
typedef void sim_xs_fire_fn(void *opaque, const char *path, bool exact,
			    const struct sim_xs_perms *perms, const struct sim_xs_perms *old_perms);

/* Creates "/", "/tool", "/tool/xenstored", "/local", "/local/domain" (n0). */
int sim_xs_store_create(const struct sim_xs_quota *quota, sim_xs_fire_fn *fire, void *opaque,
			struct sim_xs_store **out);
void sim_xs_store_destroy(struct sim_xs_store *s);

/* Permission bits (XS_PERM_READ|WRITE|OWNER) c has on a node with perms. */
unsigned int sim_xs_store_perm_for(const struct sim_xs_caller *c, const struct sim_xs_perms *perms);

/*
 * watch_permitted(): may watcher c see an event on path?  Yes when old_perms
 * or the node's perms (given, or looked up globally) or its parent's allow
 * reading.
 */
bool sim_xs_store_watch_permitted(struct sim_xs_store *s, const struct sim_xs_caller *c,
				  const char *path, const struct sim_xs_perms *perms,
				  const struct sim_xs_perms *old_perms);

/*
 * Node operations on canonical absolute paths (validated here: -EINVAL).
 * Errors: -ENOENT, -EACCES, -EINVAL, -ENOSPC (quota), -ENOMEM, -EPERM.
 * Returned pointers point into the store and stay valid until the next
 * operation on it.
 */
int sim_xs_store_read(struct sim_xs_store *s, const struct sim_xs_caller *c, const char *path,
		      const char **data, uint32_t *len);
int sim_xs_store_write(struct sim_xs_store *s, const struct sim_xs_caller *c, const char *path,
		       const void *data, uint32_t len);
int sim_xs_store_mkdir(struct sim_xs_store *s, const struct sim_xs_caller *c, const char *path);
int sim_xs_store_rm(struct sim_xs_store *s, const struct sim_xs_caller *c, const char *path);
int sim_xs_store_directory(struct sim_xs_store *s, const struct sim_xs_caller *c,
			   const char *path, const char **children, uint32_t *childlen,
			   uint64_t *generation);
int sim_xs_store_get_perms(struct sim_xs_store *s, const struct sim_xs_caller *c,
			   const char *path, struct sim_xs_perms *out);
/* perms is copied. */
int sim_xs_store_set_perms(struct sim_xs_store *s, const struct sim_xs_caller *c,
			   const char *path, const struct sim_xs_perms *perms);

/* Transactions: start never fails but for -ENOMEM. */
int sim_xs_store_txn_start(struct sim_xs_store *s, struct sim_xs_txn **out);
/*
 * End txn (always freed).  commit false: discard, returns 0.  commit true:
 * 0, -EAGAIN (conflict), -ENOSPC (quota), -ENOMEM (failed inside).  c is the
 * caller that owns txn (c->txn is ignored).
 */
int sim_xs_store_txn_end(struct sim_xs_store *s, const struct sim_xs_caller *c,
			 struct sim_xs_txn *txn, bool commit);

/* Nodes owned by domid in the global store. */
unsigned int sim_xs_store_domain_nodes(const struct sim_xs_store *s, unsigned int domid);
/* Node count in the global store (tests, stats). */
unsigned int sim_xs_store_count(const struct sim_xs_store *s);

#endif /* SIM_XS_STORE_H */
