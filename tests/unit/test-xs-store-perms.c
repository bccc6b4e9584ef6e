// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: xenstore node permissions (sim/xs_store.c) as xenstored
 * applies them: new nodes inherit their parent's permissions with an
 * unprivileged creator as owner, guests only read or write where the
 * permissions say so, a hidden node's existence does not leak, only the
 * owner changes permissions and only dom0 changes the owner, and the
 * per-domain node quota holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "xs-store-helpers.h"

static struct t_store fx; /* the running case's store (t_store_setup) */

static void set_perms(const char *path, const char *strs, unsigned int n)
{
	struct xs_permissions p[8];
	struct sim_xs_perms perms = { .num = n, .p = p };
	struct sim_xs_caller dom0 = t_dom(0);

	assert_int_equal(sim_xs_wire_parse_perms(strs, n, p), 0);
	assert_int_equal(sim_xs_store_set_perms(fx.store, &dom0, path, &perms), 0);
}

static void test_new_nodes_inherit_parent_perms_with_creator_as_owner(void **state)
{
	struct sim_xs_caller dom0 = t_dom(0), dom1 = t_dom(1);
	struct sim_xs_perms p;

	assert_int_equal(sim_xs_store_mkdir(fx.store, &dom0, "/local/domain/1"), 0);
	set_perms("/local/domain/1", "n1\0r2", 2);
	assert_int_equal(t_write(fx.store, &dom1, "/local/domain/1/a/b", "v"), 0);
	/* Both the new intermediate and the leaf: owner 1, the rest inherited. */
	assert_int_equal(sim_xs_store_get_perms(fx.store, &dom0, "/local/domain/1/a", &p), 0);
	assert_int_equal(p.num, 2);
	assert_int_equal(p.p[0].id, 1);
	assert_int_equal(p.p[0].perms, XS_PERM_NONE);
	assert_int_equal(p.p[1].id, 2);
	assert_int_equal(p.p[1].perms, XS_PERM_READ);
	assert_int_equal(sim_xs_store_get_perms(fx.store, &dom0, "/local/domain/1/a/b", &p), 0);
	assert_int_equal(p.p[0].id, 1);
	/* dom0 creating keeps the parent's owner. */
	assert_int_equal(t_write(fx.store, &dom0, "/local/domain/1/c", "v"), 0);
	assert_int_equal(sim_xs_store_get_perms(fx.store, &dom0, "/local/domain/1/c", &p), 0);
	assert_int_equal(p.p[0].id, 1);
	assert_int_equal(sim_xs_store_domain_nodes(fx.store, 1), 4);
}

static void test_guest_cannot_read_or_write_another_guests_node(void **state)
{
	struct sim_xs_caller dom0 = t_dom(0), dom1 = t_dom(1), dom2 = t_dom(2);

	assert_int_equal(t_write(fx.store, &dom0, "/local/domain/2/secret", "x"), 0);
	set_perms("/local/domain/2", "n2", 1);
	set_perms("/local/domain/2/secret", "n2", 1);
	assert_null(t_read(fx.store, &dom1, "/local/domain/2/secret"));
	assert_int_equal(sim_xs_store_read(fx.store, &dom1, "/local/domain/2/secret",
					   &(const char *){ NULL }, &(uint32_t){ 0 }), -EACCES);
	assert_int_equal(t_write(fx.store, &dom1, "/local/domain/2/secret", "y"), -EACCES);
	assert_int_equal(t_write(fx.store, &dom1, "/local/domain/2/new", "y"), -EACCES);
	assert_int_equal(sim_xs_store_rm(fx.store, &dom1, "/local/domain/2/secret"), -EACCES);
	assert_string_equal(t_read(fx.store, &dom2, "/local/domain/2/secret"), "x");
	/* A missing node under an unreadable parent is EACCES, not ENOENT. */
	assert_int_equal(sim_xs_store_read(fx.store, &dom1, "/local/domain/2/nothere",
					   &(const char *){ NULL }, &(uint32_t){ 0 }), -EACCES);
	assert_int_equal(sim_xs_store_read(fx.store, &dom2, "/local/domain/2/nothere",
					   &(const char *){ NULL }, &(uint32_t){ 0 }), -ENOENT);
	/* Granting read lets dom1 read, not write. */
	set_perms("/local/domain/2/secret", "n2\0r1", 2);
	assert_string_equal(t_read(fx.store, &dom1, "/local/domain/2/secret"), "x");
	assert_int_equal(t_write(fx.store, &dom1, "/local/domain/2/secret", "y"), -EACCES);
}

static void test_only_owner_sets_perms_and_only_dom0_changes_owner(void **state)
{
	struct sim_xs_caller dom0 = t_dom(0), dom1 = t_dom(1), dom2 = t_dom(2);
	struct xs_permissions p[2] = { { .id = 1, .perms = XS_PERM_NONE },
				       { .id = 2, .perms = XS_PERM_READ | XS_PERM_WRITE } };
	struct sim_xs_perms perms = { .num = 2, .p = p };

	assert_int_equal(t_write(fx.store, &dom0, "/local/domain/1/k", ""), 0);
	set_perms("/local/domain/1/k", "n1\0b2", 2);
	/* dom2 may write it but does not own it. */
	assert_int_equal(t_write(fx.store, &dom2, "/local/domain/1/k", "w"), 0);
	assert_int_equal(sim_xs_store_set_perms(fx.store, &dom2, "/local/domain/1/k", &perms), -EACCES);
	assert_int_equal(sim_xs_store_set_perms(fx.store, &dom1, "/local/domain/1/k", &perms), 0);
	p[0].id = 2;
	assert_int_equal(sim_xs_store_set_perms(fx.store, &dom1, "/local/domain/1/k", &perms), -EPERM);
	assert_int_equal(sim_xs_store_set_perms(fx.store, &dom0, "/local/domain/1/k", &perms), 0);
	assert_int_equal(sim_xs_store_domain_nodes(fx.store, 2), 1);
}

static void test_node_quota_stops_a_guest_with_enospc(void **state)
{
	struct sim_xs_quota q;
	struct sim_xs_store *s;
	struct sim_xs_caller dom0 = t_dom(0), dom3 = t_dom(3);
	struct xs_permissions p = { .id = 3, .perms = XS_PERM_NONE };
	struct sim_xs_perms perms = { .num = 1, .p = &p };
	char path[64];
	int i;

	sim_xs_quota_default(&q);
	q.nodes_per_domain = 5;
	assert_int_equal(sim_xs_store_create(&q, NULL, NULL, &s), 0);
	assert_int_equal(sim_xs_store_mkdir(s, &dom0, "/local/domain/3"), 0);
	assert_int_equal(sim_xs_store_set_perms(s, &dom0, "/local/domain/3", &perms), 0);
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "/local/domain/3/n%d", i);
		assert_int_equal(t_write(s, &dom3, path, "v"), 0);
	}
	assert_int_equal(t_write(s, &dom3, "/local/domain/3/x", "v"), -ENOSPC);
	assert_int_equal(t_write(s, &dom3, "/local/domain/3/n0", "changed"), 0);
	/* A value too large for the entry size quota. */
	{
		char big[2100];

		memset(big, 'v', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		assert_int_equal(t_write(s, &dom3, "/local/domain/3/n1", big), -ENOSPC);
		assert_int_equal(t_write(s, &dom0, "/local/domain/3/n1", big), 0);
	}
	sim_xs_store_destroy(s);
}

static void test_rm_fires_every_removed_node_children_exactly(void **state)
{
	struct sim_xs_caller dom0 = t_dom(0);

	assert_int_equal(t_write(fx.store, &dom0, "/t/a/b", "1"), 0);
	assert_int_equal(t_write(fx.store, &dom0, "/t/a/c", "2"), 0);
	fx.events.log[0] = '\0';
	assert_int_equal(sim_xs_store_rm(fx.store, &dom0, "/t/a"), 0);
	assert_string_equal(fx.events.log, "/t/a/b!\n/t/a/c!\n/t/a\n");
	assert_null(t_read(fx.store, &dom0, "/t/a/b"));
	/* Removing what is not there is fine while the parent exists. */
	assert_int_equal(sim_xs_store_rm(fx.store, &dom0, "/t/a"), 0);
	assert_int_equal(sim_xs_store_rm(fx.store, &dom0, "/t/x/y"), -ENOENT);
	assert_int_equal(sim_xs_store_rm(fx.store, &dom0, "/"), -EINVAL);
	assert_int_equal(t_write(fx.store, &dom0, "bad", "1"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_STORE_CASE(test_new_nodes_inherit_parent_perms_with_creator_as_owner, &fx),
		T_STORE_CASE(test_guest_cannot_read_or_write_another_guests_node, &fx),
		T_STORE_CASE(test_only_owner_sets_perms_and_only_dom0_changes_owner, &fx),
		T_STORE_CASE(test_node_quota_stops_a_guest_with_enospc, &fx),
		T_STORE_CASE(test_rm_fires_every_removed_node_children_exactly, &fx),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
