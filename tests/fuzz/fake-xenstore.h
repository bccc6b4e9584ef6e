/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fake libxenstore of the harnesses (fake-xenstore.c): besides the xs_*
 * calls it answers, the harness sets and clears nodes directly.
 */
#ifndef FAKE_XENSTORE_H
#define FAKE_XENSTORE_H

/* Create or replace the node at path with len bytes (NULs allowed). */
int fake_xs_set(const char *path, const void *val, unsigned len);
/* The bytes of the node at path (NUL-terminated, *len without it), or NULL. */
const void *fake_xs_get(const char *path, unsigned *len);
/* Remove every node below dir (not dir itself). */
void fake_xs_clear_under(const char *dir);

#endif /* FAKE_XENSTORE_H */
