// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pvsim's control protocol text: the request line the daemon reads from a
 * client of ctl.sock and the reply the CLI reads back (protocol in ctl.h).
 * Pure string handling, split out of pvsim.c so a fuzzer reaches it without
 * a daemon; pvsim.c decides what each request does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static const struct {
	const char *word;
	enum sim_ctl_op op;
	unsigned argc; /* exactly this many words; 0: any */
} ctl_ops[] = {
	{ "ping", SIM_CTL_PING, 0 },     { "create", SIM_CTL_CREATE, 3 },
	{ "destroy", SIM_CTL_DESTROY, 2 }, { "lookup", SIM_CTL_LOOKUP, 2 },
	{ "list", SIM_CTL_LIST, 0 },     { "stop", SIM_CTL_STOP, 0 },
};

void sim_ctl_parse(char *line, struct sim_ctl_req *req)
{
	char *save = NULL;
	unsigned i;

	*req = (struct sim_ctl_req){ .op = SIM_CTL_EMPTY };
	for (char *t = strtok_r(line, " \t\n", &save); t && req->argc < 4;
	     t = strtok_r(NULL, " \t\n", &save))
		req->argv[req->argc++] = t;
	if (!req->argc)
		return;
	req->op = SIM_CTL_UNKNOWN;
	for (i = 0; i < sizeof(ctl_ops) / sizeof(ctl_ops[0]); i++)
		if (!strcmp(req->argv[0], ctl_ops[i].word) &&
		    (!ctl_ops[i].argc || ctl_ops[i].argc == req->argc))
			req->op = ctl_ops[i].op;
}

bool sim_ctl_valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= SIM_CTL_NAME_MAX || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

int sim_ctl_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case '\0': break;
	default: return -EINVAL;
	}
	/* Bounded before the shift: 2^54 MiB must not wrap to a "valid" 0. */
	if (v > (64ull << 30) >> shift)
		return -EINVAL;
	v <<= shift;
	if ((*end == 'i' || *end == 'B') && end[1] == '\0')
		end++;
	else if (*end == 'i' && end[1] == 'B' && end[2] == '\0')
		end += 2;
	if (*end || v == 0 || v % 4096)
		return -EINVAL;
	*out = v;
	return 0;
}

int sim_ctl_parse_domid(const char *key)
{
	char *end;
	long id = strtol(key, &end, 10);

	if (!*key || *end)
		return -EINVAL;
	return id >= 0 && id < SIM_CTL_MAX_DOMS ? (int)id : -ENOENT;
}

const char *sim_ctl_reply_status(char *buf, size_t len, size_t *body_len)
{
	char *last;

	if (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	/* From the end: the status is everything after the last newline, an
	 * empty line too ("ok\n\n" is no "ok"). */
	last = buf + len;
	while (last > buf && last[-1] != '\n')
		last--;
	*body_len = (size_t)(last - buf);
	return last;
}
