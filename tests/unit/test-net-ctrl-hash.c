// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: the netif ctrl ring's hash messages and the hash of a frame
 * (netback/hash.c): the Toeplitz hash of IPv4 and IPv4+TCP headers matches
 * Microsoft's RSS verification vectors (netif.h specifies that hash);
 * GET_HASH_FLAGS needs an algorithm; unknown flags, an oversized key or
 * table, and a mapping naming a queue that does not exist are refused with
 * the status netif.h gives; the key and the table come through the copy
 * callback; unknown messages are NOT_SUPPORTED.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../netback/netback.h"

static const uint8_t rss_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

struct fake_mem {
	uint8_t page[4096];
	uint32_t gref;   /* the only grant that copies */
};

static int fake_copy(void *opaque, uint32_t gref, void *buf, uint32_t len)
{
	struct fake_mem *m = opaque;

	if (gref != m->gref || len > sizeof(m->page))
		return -EACCES;
	memcpy(buf, m->page, len);
	return 0;
}

static uint32_t ctrl(struct net_hash *h, unsigned nq, uint16_t type, uint32_t d0, uint32_t d1,
		     uint32_t d2, struct fake_mem *m, uint32_t *data)
{
	struct xen_netif_ctrl_request req = { .id = 1, .type = type, .data = { d0, d1, d2 } };

	return net_ctrl_handle(h, nq, &req, fake_copy, m, data);
}

/* 66.9.149.187:2794 -> 161.142.100.80:1766, TCP. */
static unsigned frame(uint8_t *f)
{
	static const uint8_t ip[20] = { 0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0,
					66, 9, 149, 187, 161, 142, 100, 80 };

	memset(f, 0, 64);
	f[12] = 0x08;
	memcpy(f + 14, ip, sizeof(ip));
	f[34] = 2794 >> 8, f[35] = 2794 & 0xff, f[36] = 1766 >> 8, f[37] = 1766 & 0xff;
	return 14 + 40;
}

static void test_the_toeplitz_hash_matches_the_rss_vectors(void **state)
{
	struct net_hash h = { .alg = XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ };
	uint8_t f[64];
	unsigned len = frame(f);
	uint32_t v;
	uint8_t type;

	memcpy(h.key, rss_key, sizeof(rss_key));
	h.flags = XEN_NETIF_CTRL_HASH_TYPE_IPV4;
	assert_true(net_hash_frame(&h, f, len, &v, &type));
	assert_int_equal(v, 0x323e8fc2);
	assert_int_equal(type, _XEN_NETIF_CTRL_HASH_TYPE_IPV4);
	h.flags |= XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP; /* the 'maximal' type wins */
	assert_true(net_hash_frame(&h, f, len, &v, &type));
	assert_int_equal(v, 0x51ccc178);
	assert_int_equal(type, _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
	h.flags = XEN_NETIF_CTRL_HASH_TYPE_IPV6;
	assert_false(net_hash_frame(&h, f, len, &v, &type));
	h.alg = XEN_NETIF_CTRL_HASH_ALGORITHM_NONE;
	h.flags = XEN_NETIF_CTRL_HASH_TYPE_IPV4;
	assert_false(net_hash_frame(&h, f, len, &v, &type));
}

static void test_flags_need_an_algorithm_and_must_be_known(void **state)
{
	struct net_hash h = { 0 };
	uint32_t data;

	assert_int_equal(ctrl(&h, 4, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0, NULL, &data),
			 XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED);
	/* Setting flags without an algorithm: INVALID_PARAMETER (Linux 6.1). */
	assert_int_equal(ctrl(&h, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS,
			      XEN_NETIF_CTRL_HASH_TYPE_IPV4, 0, 0, NULL, &data),
			 XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
	assert_int_equal(ctrl(&h, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, 9, 0, 0, NULL, &data),
			 XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
	assert_int_equal(ctrl(&h, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM,
			      XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, 0, 0, NULL, &data),
			 XEN_NETIF_CTRL_STATUS_SUCCESS);
	assert_int_equal(ctrl(&h, 4, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0, NULL, &data),
			 XEN_NETIF_CTRL_STATUS_SUCCESS);
	assert_int_equal(data, NET_HASH_FLAGS_SUPPORTED);
	assert_int_equal(ctrl(&h, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, 1u << 7, 0, 0, NULL, &data),
			 XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
	assert_int_equal(ctrl(&h, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS,
			      XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, 0, 0, NULL, &data),
			 XEN_NETIF_CTRL_STATUS_SUCCESS);
	assert_int_equal(h.flags, XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
}

static void test_the_key_comes_from_its_grant_and_is_bounded(void **state)
{
	struct fake_mem m = { .gref = 77 };
	struct net_hash h = { 0 };
	uint32_t data;

	memcpy(m.page, rss_key, sizeof(rss_key));
	/* Linux 6.1: INVALID_PARAMETER, not netif.h's BUFFER_OVERFLOW. */
	assert_int_equal(ctrl(&h, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 77, 41, 0, &m, &data),
			 XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
	assert_int_equal(ctrl(&h, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 78, 40, 0, &m, &data),
			 XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
	assert_int_equal(ctrl(&h, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 77, 16, 0, &m, &data),
			 XEN_NETIF_CTRL_STATUS_SUCCESS);
	assert_memory_equal(h.key, rss_key, 16);
	assert_int_equal(h.key[16], 0); /* octets not given are zero */
}

static void test_the_mapping_is_bounded_by_its_size_and_the_queues(void **state)
{
	struct fake_mem m = { .gref = 5 };
	struct net_hash h = { 0 };
	uint32_t data, *map = (uint32_t *)m.page;

	assert_int_equal(ctrl(&h, 4, XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE, 0, 0, 0, NULL,
			      &data), XEN_NETIF_CTRL_STATUS_SUCCESS);
	assert_int_equal(data, NET_HASH_MAP_MAX);
	assert_int_equal(ctrl(&h, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, NET_HASH_MAP_MAX + 1,
			      0, 0, NULL, &data), XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
	assert_int_equal(ctrl(&h, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 8, 0, 0, NULL,
			      &data), XEN_NETIF_CTRL_STATUS_SUCCESS);
	map[0] = 3, map[1] = 1;
	/* 2 entries at offset 7 run past the 8-entry table. */
	assert_int_equal(ctrl(&h, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 5, 2, 7, &m, &data),
			 XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
	assert_int_equal(ctrl(&h, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 5, 2, 0xffffffffu, &m,
			      &data), XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
	assert_int_equal(ctrl(&h, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 5, 2, 6, &m, &data),
			 XEN_NETIF_CTRL_STATUS_SUCCESS);
	assert_int_equal(h.mapping[6], 3);
	assert_int_equal(h.mapping[7], 1);
	/* Queue 3 does not exist on a 2-queue vif. */
	assert_int_equal(ctrl(&h, 2, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 5, 2, 0, &m, &data),
			 XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
	assert_int_equal(h.mapping[0], 0);
}

static void test_unknown_messages_are_not_supported(void **state)
{
	struct net_hash h = { 0 };
	uint32_t data;

	assert_int_equal(ctrl(&h, 1, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, 0, 0, 0, NULL, &data),
			 XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED);
	assert_int_equal(ctrl(&h, 1, 999, 0, 0, 0, NULL, &data), XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_toeplitz_hash_matches_the_rss_vectors),
		cmocka_unit_test(test_flags_need_an_algorithm_and_must_be_known),
		cmocka_unit_test(test_the_key_comes_from_its_grant_and_is_bounded),
		cmocka_unit_test(test_the_mapping_is_bounded_by_its_size_and_the_queues),
		cmocka_unit_test(test_unknown_messages_are_not_supported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
