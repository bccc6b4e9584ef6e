// SPDX-License-Identifier: GPL-2.0-or-later
/* A private pvsim instance for cmocka tests (see sim-harness.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim-harness.h"

int t_sh(char *out, size_t outlen, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	FILE *p;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (out) {
		n = fread(out, 1, outlen - 1, p);
		out[n] = '\0';
	} else {
		char buf[256];

		while (fread(buf, 1, sizeof(buf), p) > 0)
			;
	}
	return pclose(p);
}

int t_pvsim_start(struct t_pvsim *s, const char *tag, const char *guest_name)
{
	const char *build = getenv("PVBACK_BUILD");
	char out[256], path[128], *p;

	snprintf(s->pvsim, sizeof(s->pvsim), "%s/bin/pvsim", build ? build : "build");
	if (access(s->pvsim, X_OK)) {
		fprintf(stderr, "# %s missing: skip\n", s->pvsim);
		exit(77);
	}
	snprintf(s->dir, sizeof(s->dir), "/tmp/%s.XXXXXX", tag);
	if (!mkdtemp(s->dir))
		return -1;
	if (t_sh(NULL, 0, "%s --dir %s start", s->pvsim, s->dir) ||
	    t_sh(NULL, 0, "%s --dir %s create %s --mem 64M", s->pvsim, s->dir, guest_name) ||
	    t_sh(out, sizeof(out), "%s --dir %s env %s", s->pvsim, s->dir, guest_name))
		return -1;
	p = strstr(out, "PVSIM_DOMID=");
	if (!p)
		return -1;
	s->guest = (unsigned)atoi(p + strlen("PVSIM_DOMID="));
	snprintf(path, sizeof(path), "%s/xs/0", s->dir);
	setenv("XENSTORED_PATH", path, 1);
	setenv("PVSIM_DOMID", "0", 1);
	return 0;
}

void t_pvsim_stop(struct t_pvsim *s)
{
	if (!s->dir[0])
		return;
	t_sh(NULL, 0, "%s --dir %s stop", s->pvsim, s->dir);
	t_sh(NULL, 0, "rm -rf %s", s->dir);
	s->dir[0] = '\0';
}
