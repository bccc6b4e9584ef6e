// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pvsim-xs-testd: a pv_loop running sim_xs alone, for tests/sim/xs-*.sh.
 * Listens on <dir>/xs0 (dom0), <dir>/xs1 and <dir>/xs2, introduces
 * domains 1 and 2, prints "ready" on stdout, then obeys stdin lines:
 *   introduce <domid> | release <domid> | write <path> <value> |
 *   chmod <path> <perms...> | quit
 * answering each with "ok" or "err <errno>".  EOF on stdin quits.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pvcommon.h"
#include "xs.h"

struct testd {
	struct pv_loop *loop;
	struct sim_xs *xs;
	char line[4096];
	size_t used;
};

static int command(struct testd *t, char *cmd)
{
	char *arg = strchr(cmd, ' '), *val;

	if (arg)
		*arg++ = '\0';
	if (!strcmp(cmd, "quit")) {
		pv_loop_stop(t->loop);
		return 0;
	}
	if (!arg)
		return -EINVAL;
	if (!strcmp(cmd, "introduce"))
		return sim_xs_introduce(t->xs, (uint16_t)atoi(arg));
	if (!strcmp(cmd, "release"))
		return sim_xs_release(t->xs, (uint16_t)atoi(arg));
	val = strchr(arg, ' ');
	if (val)
		*val++ = '\0';
	if (!strcmp(cmd, "write"))
		return sim_xs_write(t->xs, arg, val ? val : "");
	if (!strcmp(cmd, "chmod"))
		return val ? sim_xs_set_perms(t->xs, arg, val) : -EINVAL;
	return -EINVAL;
}

static void stdin_cb(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct testd *t = opaque;
	ssize_t n = read(fd, t->line + t->used, sizeof(t->line) - 1 - t->used);
	char *nl;
	int err;

	if (n <= 0) {
		pv_loop_stop(loop);
		return;
	}
	t->used += (size_t)n;
	while ((nl = memchr(t->line, '\n', t->used))) {
		*nl = '\0';
		err = command(t, t->line);
		if (err)
			printf("err %d\n", -err);
		else
			printf("ok\n");
		fflush(stdout);
		t->used -= (size_t)(nl + 1 - t->line);
		memmove(t->line, nl + 1, t->used);
	}
	if (t->used == sizeof(t->line) - 1)
		pv_loop_stop(loop);
}

int main(int argc, char **argv)
{
	struct testd t = { 0 };
	char path[4096];
	int err, i;

	if (argc != 2) {
		fprintf(stderr, "usage: %s <socket-dir>\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN); /* the test may stop reading before "quit" is answered */
	pv_log_init("pvsim-xs-testd", false, PV_LOG_INFO);
	err = pv_loop_create(&t.loop);
	if (!err)
		err = sim_xs_create(t.loop, &t.xs);
	for (i = 0; !err && i < 3; i++) {
		snprintf(path, sizeof(path), "%s/xs%d", argv[1], i);
		err = sim_xs_listen(t.xs, (uint16_t)i, path);
		if (!err && i)
			err = sim_xs_introduce(t.xs, (uint16_t)i);
	}
	if (!err)
		err = pv_loop_add_fd(t.loop, 0, PV_LOOP_IN, stdin_cb, &t);
	if (err) {
		fprintf(stderr, "pvsim-xs-testd: %s\n", strerror(-err));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	err = pv_loop_run(t.loop);
	pv_loop_del_fd(t.loop, 0);
	sim_xs_destroy(t.xs);
	pv_loop_destroy(t.loop);
	return err ? 1 : 0;
}
