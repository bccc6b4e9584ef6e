/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: pv_xb_keys, the backends' transactional key writer, against
 * pvsim's xenstored with a fake backend whose probe and remove write keys
 * with it (the device's `params` says what to write).  Recorded keys land
 * together; a key xenstore rejects makes the whole set fail with that error
 * and writes none of them (probe fails: Closed, error node); a write after
 * the toolstack removed the backend directory fails with -ENOENT and does not
 * recreate it; a failed begin makes end fail with -ENOMEM.  Waits are
 * watch-driven or bounded waits on counters, never sleeps.
 * Exits 77 (skip) when build/bin/pvsim is missing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xen/io/xenbus.h>

#include "pvcommon.h"
#include "pvfront.h"
#include "sim-harness.h"

static struct t_pvsim sim;
static struct t_backend tb;
static struct t_fake fake;
static int remove_rc = 1; /* what pv_xb_keys_end returned in remove (1: not run) */

/* params "ok": three keys; "bad": a key with a space between two good ones. */
static int keys_probe(struct pv_xb_dev *dev)
{
	char *params = pv_xb_dev_read_be(dev, "params");
	struct pv_xb_keys *k = pv_xb_keys_begin(dev);
	bool bad = params && !strcmp(params, "bad");

	free(params);
	t_count_bump(&fake.probe);
	pv_xb_keys_printf(k, "key-a", "%u", 1);
	if (bad)
		pv_xb_keys_printf(k, "bad key", "%s", "x");
	pv_xb_keys_printf(k, "key-b", "%s-%d", "two", 2);
	pv_xb_keys_printf(k, "sub/key-c", "%llu", 1ull << 40);
	return pv_xb_keys_end(k);
}

static void keys_remove(struct pv_xb_dev *dev)
{
	struct pv_xb_keys *k = pv_xb_keys_begin(dev);

	pv_xb_keys_printf(k, "late", "1");
	__atomic_store_n(&remove_rc, pv_xb_keys_end(k), __ATOMIC_RELEASE);
	t_fake_remove(dev);
}

static struct pv_xb_backend_ops vbd_ops;

static int setup(void **state)
{
	const struct pv_xb_backend_ops *ops[] = { &vbd_ops };
	void *ctx[] = { &fake };

	vbd_ops = t_fake_ops("vbd", true);
	vbd_ops.probe = keys_probe;
	vbd_ops.remove = keys_remove;

	return t_backend_setup(&tb, &sim, "pvxbkeys", 1, ops, ctx);
}

static int teardown(void **state)
{
	t_backend_teardown(&tb, &sim);
	return 0;
}

static void assert_be_key(struct pvfront *f, const char *key, const char *want)
{
	char *v = pvfront_read_be(f, key);

	if (!want) {
		assert_null(v);
		assert_int_equal(errno, ENOENT);
		return;
	}
	assert_non_null(v);
	assert_string_equal(v, want);
	free(v);
}

static void test_recorded_keys_are_all_written_to_the_backend_directory(void **state)
{
	struct t_front tf;

	assert_int_equal(t_front_open(&tf, &sim, "guest", sim.guest, "vbd", "target=ok vdev=xvda"),
			 0);
	assert_int_equal(pvfront_wait_backend(tf.f, PVFRONT_STATE(XenbusStateInitWait), T_WAIT_MS),
			 XenbusStateInitWait);
	assert_be_key(tf.f, "key-a", "1");
	assert_be_key(tf.f, "key-b", "two-2");
	assert_be_key(tf.f, "sub/key-c", "1099511627776");
	t_front_close(&tf);
}

static void test_a_key_xenstore_rejects_fails_the_set_and_writes_none(void **state)
{
	struct t_front tf;
	char *err;

	assert_int_equal(t_front_open(&tf, &sim, "guest", sim.guest, "vbd", "target=bad vdev=xvdb"),
			 0);
	/* The probe failed: Closed, with the errno in the error node. */
	assert_int_equal(pvfront_wait_backend(tf.f, PVFRONT_STATE(XenbusStateClosed), T_WAIT_MS),
			 XenbusStateClosed);
	assert_be_key(tf.f, "key-a", NULL);
	assert_be_key(tf.f, "key-b", NULL);
	assert_be_key(tf.f, "sub/key-c", NULL);
	err = t_error_node(&sim, "vbd", sim.guest, tf.devid);
	assert_non_null(err);
	assert_true(!strncmp(err, "22 ", 3)); /* EINVAL: the space in "bad key" */
	free(err);
	t_front_close(&tf);
}

static void test_keys_written_after_the_directory_is_removed_do_not_recreate_it(void **state)
{
	struct t_front tf;
	char *s;
	int removes = t_count_get(&fake.remove);
	struct pv_xs *xs;

	assert_int_equal(t_front_open(&tf, &sim, "guest", sim.guest, "vbd", "target=ok vdev=xvdc"),
			 0);
	assert_int_equal(pvfront_wait_backend(tf.f, PVFRONT_STATE(XenbusStateInitWait), T_WAIT_MS),
			 XenbusStateInitWait);
	/* The toolstack removes the directory; remove then writes "late". */
	assert_int_equal(t_dom0_write(&sim, pvfront_bepath(tf.f), NULL, NULL), 0);
	assert_int_equal(t_count_wait(&fake.remove, removes + 1), removes + 1);
	assert_int_equal(__atomic_load_n(&remove_rc, __ATOMIC_ACQUIRE), -ENOENT);
	assert_int_equal(t_pvsim_xs(&sim, 0, &xs), 0);
	s = pv_xs_read(xs, 0, pvfront_bepath(tf.f));
	assert_null(s);
	assert_int_equal(errno, ENOENT);
	pv_xs_close(xs);
	t_front_close(&tf);
}

static void test_a_failed_begin_makes_end_fail_with_enomem(void **state)
{
	/* pv_xb_keys_begin() returns NULL when it cannot allocate. */
	pv_xb_keys_printf(NULL, "key", "%u", 1);
	assert_int_equal(pv_xb_keys_end(NULL), -ENOMEM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recorded_keys_are_all_written_to_the_backend_directory),
		cmocka_unit_test(test_a_key_xenstore_rejects_fails_the_set_and_writes_none),
		cmocka_unit_test(test_keys_written_after_the_directory_is_removed_do_not_recreate_it),
		cmocka_unit_test(test_a_failed_begin_makes_end_fail_with_enomem),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
