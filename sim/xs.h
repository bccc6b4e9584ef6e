/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pvsim's xenstored: a library the pvsim daemon embeds.  It speaks Xen's
 * xenstore wire protocol (<xen/io/xs_wire.h>) on one listening unix socket
 * per domain: a connection accepted on domain N's socket acts as domain N
 * (domain 0 is privileged), so Debian's libxenstore and xenstore-utils work
 * against it through XENSTORED_PATH=<socket>.  Semantics follow C xenstored
 * of Xen 4.17 (see sim/xs_server.c for the known differences).
 *
 * Threading: everything runs in the thread of the pv_loop given to
 * sim_xs_create(); no function here is thread-safe.  All sockets are
 * non-blocking: a client that does not read its replies stalls only itself.
 * Functions return 0 or -errno, and never log.
 */
#ifndef SIM_XS_H
#define SIM_XS_H

#include <stdint.h>

struct pv_loop;
struct sim_xs;

/*
 * Create the store with xenstored's initial tree ("/", "/tool",
 * "/tool/xenstored") plus "/local" and "/local/domain", all owned by dom0
 * with "n0", and dom0 introduced.  Returns 0, -ENOMEM.
 */
int sim_xs_create(struct pv_loop *loop, struct sim_xs **out);
/* Closes every listener (unlinking its socket) and connection. NULL is a no-op. */
void sim_xs_destroy(struct sim_xs *xs);

/*
 * Create a unix stream socket at sock_path (a stale socket there is
 * replaced), listen on it and add it to the loop: connections on it act as
 * domid.  One listener per domid.  Returns 0, -EEXIST (domid already
 * listening, or sock_path exists and is not a socket), -ENAMETOOLONG, or the
 * socket call's -errno.
 */
int sim_xs_listen(struct sim_xs *xs, uint16_t domid, const char *sock_path);
/* Close domid's listener (unlinking its socket) and all its connections. */
void sim_xs_unlisten(struct sim_xs *xs, uint16_t domid);

/*
 * The domain exists: mark it introduced (IS_DOMAIN_INTRODUCED answers T)
 * and, the first time, fire @introduceDomain.  -EINVAL for DOMID >= 0x7FF0.
 */
int sim_xs_introduce(struct sim_xs *xs, uint16_t domid);
/*
 * The domain is gone: close its connections (their watches and
 * transactions go with them), mark it not introduced and fire
 * @releaseDomain (to privileged watchers, and domains allowed through
 * SET_PERMS on @releaseDomain).  The listener stays.  Returns 0, or
 * -ENOENT when domid was not introduced (connections are closed anyway,
 * nothing fires).  -EINVAL for domid 0.
 */
int sim_xs_release(struct sim_xs *xs, uint16_t domid);

/*
 * Toolstack access as dom0 (privileged), outside any transaction, firing
 * watches as a client's request would.  Paths are absolute, or relative to
 * /local/domain/0.  -EINVAL (bad path), -ENOENT, -ENOMEM.
 */
int sim_xs_write(struct sim_xs *xs, const char *path, const char *val);
int sim_xs_mkdir(struct sim_xs *xs, const char *path);
int sim_xs_rm(struct sim_xs *xs, const char *path);
/*
 * perms: space-separated permission strings, owner first, as
 * xenstore-chmod takes them: "n0 r5 b7" ('n' none, 'r' read, 'w' write,
 * 'b' both; the first entry names the owner and what every domain not
 * listed gets).  path may also be "@introduceDomain" or "@releaseDomain".
 */
int sim_xs_set_perms(struct sim_xs *xs, const char *path, const char *perms);
/* The value at path, malloc'd and NUL-terminated (free() it); NULL + errno. */
char *sim_xs_read(struct sim_xs *xs, const char *path);
/*
 * The children of path in creation order, as libxenstore's xs_directory():
 * *n names; the array and the strings are one malloc'd block (one free()).
 * NULL + errno on error; an empty directory gives a non-NULL array, *n = 0.
 */
char **sim_xs_directory(struct sim_xs *xs, const char *path, unsigned int *n);

#endif /* SIM_XS_H */
