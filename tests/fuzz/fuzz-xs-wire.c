// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: libFuzzer harness for pvsim's xenstore wire layer and store:
 * the input is a stream of xenstore messages as a guest would send them.
 * Each message is decoded, split, its path canonicalised and validated, its
 * permissions parsed, and then applied to a store as domain 1 (READ/WRITE/
 * MKDIR/RM/DIRECTORY/SET_PERMS/GET_PERMS), so parser and store both see
 * hostile bytes.
 * Build: make fuzz-xs (clang); make fuzz and make check run it (tests/fuzz.mk).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xs_store.h"
#include "xs_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char payload[XENSTORE_PAYLOAD_MAX + 1];
	static char path[XENSTORE_PAYLOAD_MAX + 64];
	struct sim_xs_caller c = { .domid = 1, .target = -1 };
	struct xs_permissions perms[XENSTORE_PAYLOAD_MAX / 2];
	struct sim_xs_perms sp = { .p = perms };
	struct sim_xs_store *s;
	struct xsd_sockmsg hdr;
	const char *argv[4], *d;
	uint32_t len;
	unsigned int n;

	if (sim_xs_store_create(NULL, NULL, NULL, &s))
		return 0;
	while (sim_xs_wire_decode_hdr(data, size, &hdr) == 0 && size - SIM_XS_HDR_LEN >= hdr.len) {
		memcpy(payload, data + SIM_XS_HDR_LEN, hdr.len);
		payload[hdr.len] = '\0';
		data += SIM_XS_HDR_LEN + hdr.len;
		size -= SIM_XS_HDR_LEN + hdr.len;
		c.priv = hdr.req_id & 1;
		n = sim_xs_wire_split(payload, hdr.len, argv, 4);
		(void)sim_xs_wire_onearg(payload, hdr.len);
		if (!n || sim_xs_wire_canonicalize(c.domid, argv[0], path, sizeof(path)))
			continue;
		switch (hdr.type) {
		case XS_READ:
			sim_xs_store_read(s, &c, path, &d, &len);
			break;
		case XS_WRITE:
			sim_xs_store_write(s, &c, path, payload + strlen(payload) + 1,
					   hdr.len - (uint32_t)strlen(payload) - 1);
			break;
		case XS_MKDIR:
			sim_xs_store_mkdir(s, &c, path);
			break;
		case XS_RM:
			sim_xs_store_rm(s, &c, path);
			break;
		case XS_DIRECTORY:
			sim_xs_store_directory(s, &c, path, &d, &len, NULL);
			break;
		case XS_GET_PERMS:
			sim_xs_store_get_perms(s, &c, path, &sp);
			break;
		case XS_SET_PERMS:
			n = sim_xs_wire_count_strings(payload, hdr.len);
			if (n < 2)
				break;
			sp.p = perms;
			sp.num = n - 1;
			if (!sim_xs_wire_parse_perms(payload + strlen(payload) + 1, sp.num, perms))
				sim_xs_store_set_perms(s, &c, path, &sp);
			break;
		default:
			(void)sim_xs_wire_valid_path(path, XENSTORE_REL_PATH_MAX);
			break;
		}
	}
	sim_xs_store_destroy(s);
	return 0;
}
