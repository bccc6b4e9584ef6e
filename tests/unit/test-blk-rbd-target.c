// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: RBD targets as pvback-blk takes them apart (blk_rbd_parse,
 * QEMU's syntax): pool, namespace, image and snapshot; conf and id; other
 * options in order; "\:" and "\\" inside a value; and every malformed
 * target refused (no pool, no image, an empty snapshot, an option without
 * '=', too many options, too long).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "../../blkback/blkback.h"

static struct blk_rbd_target t;

static void pool_and_image(void **state)
{
	(void)state;
	assert_int_equal(blk_rbd_parse("rbd:rbd/vm1", &t), 0);
	assert_string_equal(t.pool, "rbd");
	assert_string_equal(t.image, "vm1");
	assert_null(t.ns);
	assert_null(t.snap);
	assert_null(t.conf);
	assert_null(t.id);
	assert_int_equal(t.nopt, 0);
}

static void namespace_and_snapshot(void **state)
{
	(void)state;
	assert_int_equal(blk_rbd_parse("rbd:pool/tenant/img@gold", &t), 0);
	assert_string_equal(t.pool, "pool");
	assert_string_equal(t.ns, "tenant");
	assert_string_equal(t.image, "img");
	assert_string_equal(t.snap, "gold");
}

static void conf_id_and_options(void **state)
{
	(void)state;
	assert_int_equal(blk_rbd_parse("rbd:p/i:id=xen:conf=/etc/ceph/c.conf:rbd_cache=true:"
				       "keyring=/k",
				       &t),
			 0);
	assert_string_equal(t.id, "xen");
	assert_string_equal(t.conf, "/etc/ceph/c.conf");
	assert_int_equal(t.nopt, 2);
	assert_string_equal(t.opt[0][0], "rbd_cache");
	assert_string_equal(t.opt[0][1], "true");
	assert_string_equal(t.opt[1][0], "keyring");
	assert_string_equal(t.opt[1][1], "/k");
}

static void escapes(void **state)
{
	(void)state;
	/* A mon address list needs colons; a backslash stays one. */
	assert_int_equal(blk_rbd_parse("rbd:p/i:mon_host=10.0.0.1\\:6789:conf=/a\\\\b", &t), 0);
	assert_int_equal(t.nopt, 1);
	assert_string_equal(t.opt[0][0], "mon_host");
	assert_string_equal(t.opt[0][1], "10.0.0.1:6789");
	assert_string_equal(t.conf, "/a\\b");
}

static void malformed(void **state)
{
	static const char *const bad[] = {
		"rbd:",          "rbd:pool",        "rbd:/img",         "rbd:pool/",
		"rbd:pool/img@", "rbd:pool//img",   "rbd:p/n/i/x",      "rbd:p/i:conf",
		"rbd:p/i:=v",    "nbd://h/e",       "rbd:p/i:a=1:",
	};
	char many[BLK_URI_MAX + 8];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("%s\n", bad[i]);
		assert_int_equal(blk_rbd_parse(bad[i], &t), -EINVAL);
	}
	/* 17 options: one more than the table holds. */
	strcpy(many, "rbd:p/i");
	for (i = 0; i < 17; i++)
		strcat(many, ":o=1");
	assert_int_equal(blk_rbd_parse(many, &t), -EINVAL);
	many[strlen(many) - 4] = '\0'; /* 16: they fit */
	assert_int_equal(blk_rbd_parse(many, &t), 0);
	assert_int_equal(t.nopt, 16);
	memset(many, 'a', sizeof(many) - 1);
	memcpy(many, "rbd:p/", 6);
	many[sizeof(many) - 1] = '\0';
	assert_int_equal(blk_rbd_parse(many, &t), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pool_and_image),
		cmocka_unit_test(namespace_and_snapshot),
		cmocka_unit_test(conf_id_and_options),
		cmocka_unit_test(escapes),
		cmocka_unit_test(malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
