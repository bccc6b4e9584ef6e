// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pvsim xenstored: wire encoding, decoding and validation (see xs_wire.h).
 * Pure: no I/O, no globals, no allocation; safe on hostile input.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "xs_wire.h"

int sim_xs_wire_decode_hdr(const void *buf, size_t len, struct xsd_sockmsg *hdr)
{
	if (len < SIM_XS_HDR_LEN)
		return -EAGAIN;
	memcpy(hdr, buf, SIM_XS_HDR_LEN);
	if (hdr->len > XENSTORE_PAYLOAD_MAX)
		return -E2BIG;
	return 0;
}

int sim_xs_wire_encode(void *out, size_t outsz, uint32_t type, uint32_t req_id, uint32_t tx_id,
		       const void *payload, uint32_t len)
{
	struct xsd_sockmsg hdr = { .type = type, .req_id = req_id, .tx_id = tx_id, .len = len };

	if (len > XENSTORE_PAYLOAD_MAX)
		return -E2BIG;
	if (outsz < SIM_XS_HDR_LEN + (size_t)len)
		return -ENOSPC;
	memcpy(out, &hdr, SIM_XS_HDR_LEN);
	if (len)
		memcpy((char *)out + SIM_XS_HDR_LEN, payload, len);
	return (int)(SIM_XS_HDR_LEN + len);
}

unsigned int sim_xs_wire_count_strings(const char *payload, uint32_t len)
{
	unsigned int n = 0;
	uint32_t i;

	for (i = 0; i < len; i++)
		if (!payload[i])
			n++;
	return n;
}

unsigned int sim_xs_wire_split(const char *payload, uint32_t len, const char **argv,
			       unsigned int max)
{
	unsigned int n = 0;
	uint32_t off = 0;
	const char *nul;

	while (off < len) {
		nul = memchr(payload + off, 0, len - off);
		if (!nul)
			break;
		if (n < max)
			argv[n] = payload + off;
		n++;
		off = (uint32_t)(nul - payload) + 1;
	}
	return n;
}

const char *sim_xs_wire_onearg(const char *payload, uint32_t len)
{
	if (!len || memchr(payload, 0, len) != payload + len - 1)
		return NULL;
	return payload;
}

static bool valid_chars(const char *s)
{
	static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-/_@";

	return s[strspn(s, ok)] == '\0';
}

/* Length of a "/local/domain/<1-5 digits>/" prefix, or 0 (as sscanf "%5u/%n"). */
static size_t local_prefix_len(const char *path)
{
	static const char pfx[] = "/local/domain/";
	size_t i = sizeof(pfx) - 1, digits = 0;

	if (strncmp(path, pfx, i))
		return 0;
	/* %5u skips blanks and accepts a sign; '/' paths hold neither validly. */
	while (digits < 5 && path[i] >= '0' && path[i] <= '9') {
		i++;
		digits++;
	}
	if (!digits || path[i] != '/')
		return 0;
	return i + 1;
}

bool sim_xs_wire_valid_path(const char *path, unsigned int max_rel)
{
	size_t len;

	if (!path || path[0] != '/')
		return false;
	len = strlen(path);
	if (len > 1 && path[len - 1] == '/')
		return false;
	if (strstr(path, "//"))
		return false;
	if (len > local_prefix_len(path) + max_rel || len > SIM_XS_PATH_MAX)
		return false;
	return valid_chars(path);
}

void sim_xs_wire_domain_path(uint16_t domid, char *out, size_t outsz)
{
	snprintf(out, outsz, "/local/domain/%u", domid);
}

int sim_xs_wire_canonicalize(uint16_t domid, const char *path, char *out, size_t outsz)
{
	int n;

	if (!path)
		return -EINVAL;
	if (path[0] == '/' || path[0] == '@')
		n = snprintf(out, outsz, "%s", path);
	else
		n = snprintf(out, outsz, "/local/domain/%u/%s", domid, path);
	if (n < 0 || (size_t)n >= outsz)
		return -ENAMETOOLONG;
	return 0;
}

int sim_xs_wire_atoi(const char *s)
{
	unsigned int v = 0;
	bool neg = false;

	while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
		s++;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	while (*s >= '0' && *s <= '9')
		v = v * 10u + (unsigned int)(*s++ - '0');
	if (neg)
		v = 0u - v;
	return (int)v;
}

/* strtol(s, &end, 0) with wrap-around instead of clamping, for ids. */
static const char *parse_id(const char *s, unsigned int *out)
{
	unsigned int v = 0, base = 10, d;
	bool neg = false, any = false;

	while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
		s++;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
	    ((s[2] >= '0' && s[2] <= '9') || ((s[2] | 0x20) >= 'a' && (s[2] | 0x20) <= 'f'))) {
		base = 16;
		s += 2;
	} else if (s[0] == '0') {
		base = 8;
	}
	for (;; s++) {
		if (*s >= '0' && *s <= '9')
			d = (unsigned int)(*s - '0');
		else if ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z')
			d = (unsigned int)((*s | 0x20) - 'a' + 10);
		else
			break;
		if (d >= base)
			break;
		v = v * base + d;
		any = true;
	}
	*out = neg ? 0u - v : v;
	return any ? s : NULL;
}

int sim_xs_wire_parse_perms(const char *strs, unsigned int count, struct xs_permissions *out)
{
	const char *p = strs, *end;
	unsigned int i, id;

	for (i = 0; i < count; i++) {
		switch (*p) {
		case 'r':
			out[i].perms = XS_PERM_READ;
			break;
		case 'w':
			out[i].perms = XS_PERM_WRITE;
			break;
		case 'b':
			out[i].perms = XS_PERM_READ | XS_PERM_WRITE;
			break;
		case 'n':
			out[i].perms = XS_PERM_NONE;
			break;
		default:
			return -EINVAL;
		}
		p++;
		end = parse_id(p, &id);
		if (!*p || !end || *end)
			return -EINVAL;
		out[i].id = id;
		p = end + 1;
	}
	return 0;
}

int sim_xs_wire_format_perm(const struct xs_permissions *perm, char *out, size_t outsz)
{
	char c;
	int n;

	switch ((unsigned int)perm->perms & ~(unsigned int)XS_PERM_IGNORE) {
	case XS_PERM_WRITE:
		c = 'w';
		break;
	case XS_PERM_READ:
		c = 'r';
		break;
	case XS_PERM_READ | XS_PERM_WRITE:
		c = 'b';
		break;
	case XS_PERM_NONE:
		c = 'n';
		break;
	default:
		return -EINVAL;
	}
	n = snprintf(out, outsz, "%c%i", c, (int)perm->id);
	if (n < 0 || (size_t)n >= outsz)
		return -ENOSPC;
	return n;
}

const char *sim_xs_wire_errno_name(int err)
{
	size_t i;

	for (i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (xsd_errors[i].errnum == err)
			return xsd_errors[i].errstring;
	return xsd_errors[0].errstring; /* EINVAL, as xenstored's send_error() */
}

int sim_xs_wire_errno_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (!strcmp(xsd_errors[i].errstring, name))
			return xsd_errors[i].errnum;
	return 0;
}

static const char *const type_names[XS_TYPE_COUNT] = {
	[XS_CONTROL] = "CONTROL",
	[XS_DIRECTORY] = "DIRECTORY",
	[XS_READ] = "READ",
	[XS_GET_PERMS] = "GET_PERMS",
	[XS_WATCH] = "WATCH",
	[XS_UNWATCH] = "UNWATCH",
	[XS_TRANSACTION_START] = "TRANSACTION_START",
	[XS_TRANSACTION_END] = "TRANSACTION_END",
	[XS_INTRODUCE] = "INTRODUCE",
	[XS_RELEASE] = "RELEASE",
	[XS_GET_DOMAIN_PATH] = "GET_DOMAIN_PATH",
	[XS_WRITE] = "WRITE",
	[XS_MKDIR] = "MKDIR",
	[XS_RM] = "RM",
	[XS_SET_PERMS] = "SET_PERMS",
	[XS_WATCH_EVENT] = "WATCH_EVENT",
	[XS_ERROR] = "ERROR",
	[XS_IS_DOMAIN_INTRODUCED] = "IS_DOMAIN_INTRODUCED",
	[XS_RESUME] = "RESUME",
	[XS_SET_TARGET] = "SET_TARGET",
	[XS_RESET_WATCHES] = "RESET_WATCHES",
	[XS_DIRECTORY_PART] = "DIRECTORY_PART",
};

const char *sim_xs_wire_type_name(uint32_t type)
{
	if (type < XS_TYPE_COUNT && type_names[type])
		return type_names[type];
	return "UNKNOWN";
}
