/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pvsim xenstored: the wire layer.  Pure functions over byte buffers: header
 * decoding and bounds, argument splitting on NULs, path validation and
 * canonicalisation, permission strings and errno names, as C xenstored
 * (Xen 4.17, tools/xenstore/xenstored_core.c) applies them.
 *
 * No I/O, no allocation except where a function says so, no globals: every
 * function here may be fed hostile bytes (tests/fuzz/fuzz-xs-wire.c does).
 * The ABI (struct xsd_sockmsg, XS_*, xsd_errors, limits) comes from
 * <xen/io/xs_wire.h>; permission bits from <xenstore_lib.h>.
 */
#ifndef SIM_XS_WIRE_H
#define SIM_XS_WIRE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/io/xs_wire.h>
#include <xenstore_lib.h> /* XS_PERM_*, struct xs_permissions */

#define SIM_XS_HDR_LEN      ((uint32_t)sizeof(struct xsd_sockmsg))
/* Longest canonical path: "/local/domain/65535/" + XENSTORE_REL_PATH_MAX. */
#define SIM_XS_PATH_MAX     XENSTORE_ABS_PATH_MAX
/* Longest "/local/domain/<domid>" prefix, with its NUL. */
#define SIM_XS_DOMPATH_MAX  sizeof("/local/domain/65535")
/* Default max path length beyond /local/domain/<domid>/ (quota_max_path_len). */
#define SIM_XS_REL_PATH_MAX XENSTORE_REL_PATH_MAX

/*
 * Decode a message header from buf[0..len).  Returns 0 and fills *hdr when
 * a whole header is there and its payload length is within
 * XENSTORE_PAYLOAD_MAX; -EAGAIN when fewer than SIM_XS_HDR_LEN bytes are
 * given; -E2BIG when hdr.len exceeds the maximum (xenstored drops such a
 * client: the caller must close the connection).  The type is not checked
 * here: an unknown type is a per-request error, not a protocol violation.
 */
int sim_xs_wire_decode_hdr(const void *buf, size_t len, struct xsd_sockmsg *hdr);

/*
 * Encode one message (header + payload) into out.  Returns the total length,
 * -E2BIG when len > XENSTORE_PAYLOAD_MAX, -ENOSPC when out is too small.
 */
int sim_xs_wire_encode(void *out, size_t outsz, uint32_t type, uint32_t req_id, uint32_t tx_id,
		       const void *payload, uint32_t len);

/* Number of NUL bytes in payload[0..len) (xs_count_strings). */
unsigned int sim_xs_wire_count_strings(const char *payload, uint32_t len);

/*
 * Split payload into NUL-terminated strings: returns the number of complete
 * strings (as xenstored's get_strings: bytes after the last NUL are ignored)
 * and stores up to max pointers into argv.  argv may be NULL when max is 0.
 */
unsigned int sim_xs_wire_split(const char *payload, uint32_t len, const char **argv,
			       unsigned int max);

/* The payload is exactly one string with its NUL at the end: returns it, else NULL. */
const char *sim_xs_wire_onearg(const char *payload, uint32_t len);

/*
 * xenstored's is_valid_nodename(): absolute, no trailing or double '/',
 * characters [A-Za-z0-9-/_@], and at most max_rel bytes beyond a leading
 * "/local/domain/<domid>/" (or in all when there is no such prefix).
 */
bool sim_xs_wire_valid_path(const char *path, unsigned int max_rel);

/*
 * Resolve a request path as a connection of domid does: "/..." and "@..."
 * are taken as they are, anything else is relative to /local/domain/<domid>.
 * Writes the result to out (NUL-terminated).  Returns 0, -EINVAL (NULL
 * path) or -ENAMETOOLONG (does not fit outsz).  Does not validate: call
 * sim_xs_wire_valid_path() on the result for node paths.
 */
int sim_xs_wire_canonicalize(uint16_t domid, const char *path, char *out, size_t outsz);

/* "/local/domain/<domid>" into out (>= SIM_XS_DOMPATH_MAX bytes). */
void sim_xs_wire_domain_path(uint16_t domid, char *out, size_t outsz);

/*
 * Parse count permission strings ("r5", "w0", "b3", "n0") laid out one after
 * the other, NUL-separated, starting at strs.  The caller guarantees count
 * NUL-terminated strings there.  Returns 0 or -EINVAL (as xs_strings_to_perms:
 * strtol base 0, trailing garbage or a missing id is an error).
 */
int sim_xs_wire_parse_perms(const char *strs, unsigned int count, struct xs_permissions *out);

/*
 * Format one permission as "<c><id>" into out; returns the length without
 * the NUL, or -EINVAL for an unrepresentable permission, -ENOSPC when short.
 */
int sim_xs_wire_format_perm(const struct xs_permissions *perm, char *out, size_t outsz);

/* The xsd_errors name for err (positive errno); "EINVAL" when not listed. */
const char *sim_xs_wire_errno_name(int err);
/* Reverse lookup: positive errno for a name, or 0 when unknown. */
int sim_xs_wire_errno_from_name(const char *name);

/* "READ", "WRITE", ...; "UNKNOWN" for types outside the table. */
const char *sim_xs_wire_type_name(uint32_t type);

/*
 * atoi() as xenstored applies it to domids and ports (leading blanks, a sign,
 * digits, stop at the first non-digit; "" and "x" give 0), but with defined
 * wrap-around instead of undefined behaviour on overflow.
 */
int sim_xs_wire_atoi(const char *s);

#endif /* SIM_XS_WIRE_H */
