/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers shared by tests/unit/test-xs-store-*.c: a fresh store per test
 * case that records the watch events it fires, callers, and read/write
 * shortcuts.  Header-only (static inline): each test file is one binary.
 */
#ifndef TEST_XS_STORE_HELPERS_H
#define TEST_XS_STORE_HELPERS_H

#include <stdio.h>
#include <string.h>

#include "xs_store.h"

struct t_events {
	char log[4096]; /* "path[!]\n" per event, '!' marks exact */
	unsigned int n;
};

static inline void t_fire(void *opaque, const char *path, bool exact,
			  const struct sim_xs_perms *perms, const struct sim_xs_perms *old)
{
	struct t_events *ev = opaque;
	size_t len = strlen(ev->log);

	snprintf(ev->log + len, sizeof(ev->log) - len, "%s%s\n", path, exact ? "!" : "");
	ev->n++;
}

/* A test case's store and the events it fired. */
struct t_store {
	struct sim_xs_store *store;
	struct t_events events;
};

/* cmocka setup and teardown of one case, a struct t_store as its prestate:
 * T_STORE_CASE(test, &fx) in the test array. */
static inline int t_store_setup(void **state)
{
	struct t_store *t = *state;

	memset(&t->events, 0, sizeof(t->events));
	return sim_xs_store_create(NULL, t_fire, &t->events, &t->store);
}

static inline int t_store_teardown(void **state)
{
	struct t_store *t = *state;

	sim_xs_store_destroy(t->store);
	t->store = NULL;
	return 0;
}

#define T_STORE_CASE(f, fx) \
	cmocka_unit_test_prestate_setup_teardown(f, t_store_setup, t_store_teardown, fx)

static inline struct sim_xs_caller t_dom(unsigned int domid)
{
	return (struct sim_xs_caller){ .domid = domid, .priv = domid == 0, .target = -1 };
}

static inline int t_write(struct sim_xs_store *s, const struct sim_xs_caller *c, const char *path,
			  const char *val)
{
	return sim_xs_store_write(s, c, path, val, (uint32_t)strlen(val));
}

/* Value at path as c reads it, into a static buffer; NULL on error. */
static inline const char *t_read(struct sim_xs_store *s, const struct sim_xs_caller *c,
				 const char *path)
{
	static char buf[256];
	const char *d;
	uint32_t len;

	if (sim_xs_store_read(s, c, path, &d, &len) || len >= sizeof(buf))
		return NULL;
	memcpy(buf, d, len);
	buf[len] = '\0';
	return buf;
}

#endif
