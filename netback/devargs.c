// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The dpdk ports' devargs template (--port-args): each vif's device is the
 * template with {vif} (its interface name), {domid} and {devid} replaced,
 * so one daemon option names a device per vif:
 * net_memif_{domid}_{devid},role=server,socket=/run/pvback/memif-{vif}.sock.
 * Pure (unit tests): no DPDK here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "netback.h"

int net_devargs_expand(const char *tmpl, const char *vif, unsigned domid, unsigned devid,
		       char *out, size_t len)
{
	size_t n = 0;
	char num[16];

	if (!len)
		return -ENAMETOOLONG;
	while (*tmpl) {
		const char *add = tmpl, *close;
		size_t alen = 1;

		if (*tmpl == '{') {
			close = strchr(tmpl, '}');
			if (!close)
				return -EINVAL;
			alen = (size_t)(close - tmpl + 1);
			if (alen == 5 && !strncmp(tmpl, "{vif}", 5)) {
				add = vif;
			} else if (alen == 7 && !strncmp(tmpl, "{domid}", 7)) {
				snprintf(num, sizeof(num), "%u", domid);
				add = num;
			} else if (alen == 7 && !strncmp(tmpl, "{devid}", 7)) {
				snprintf(num, sizeof(num), "%u", devid);
				add = num;
			} else {
				return -EINVAL;
			}
			tmpl = close + 1;
			alen = strlen(add);
		} else {
			tmpl++;
		}
		if (n + alen >= len)
			return -ENAMETOOLONG;
		memcpy(out + n, add, alen);
		n += alen;
	}
	out[n] = '\0';
	return 0;
}
