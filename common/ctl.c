// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A daemon's control socket, both sides (pvcommon.h "ctl"), and the reply
 * buffer its commands write (pvcommon.h "out").  The server is one
 * listening unix stream socket on the daemon's main loop: one request line
 * per connection, served on that loop's thread (so the daemon's state
 * cannot change under a command), replied "ok"/"err <text>" then the
 * command's output, then closed.  The loop never waits for a client's
 * line: connections are read as their bytes come, at most 32 at a time,
 * each dropped after 10 s of silence.  The
 * commands are a table the caller owns; nothing here knows what they do.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "pvcommon.h"

#define CTL_REQ_MAX 256
#define CTL_CLIENTS_MAX 32  /* connections waiting for their request line */
#define CTL_IDLE_MS 10000   /* how long one may wait for it */
#define CTL_SEND_MS 1000    /* a reply's send may stall this long */

/* ---------------------------------------------------------------- out */

struct pv_out {
	char *buf;
	size_t len, cap;
	bool oom;
};

int pv_out_create(struct pv_out **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void pv_out_destroy(struct pv_out *o)
{
	if (!o)
		return;
	free(o->buf);
	free(o);
}

static void out_vprintf(struct pv_out *o, const char *fmt, va_list ap)
{
	va_list aq;
	size_t cap;
	char *nb;
	int n;

	if (o->oom)
		return;
	for (;;) {
		va_copy(aq, ap);
		n = vsnprintf(o->buf ? o->buf + o->len : NULL, o->buf ? o->cap - o->len : 0, fmt, aq);
		va_end(aq);
		if (n < 0)
			return;
		if (o->buf && o->len + (size_t)n < o->cap) {
			o->len += (size_t)n;
			return;
		}
		cap = (o->cap ? o->cap * 2 : 4096) + (size_t)n;
		nb = realloc(o->buf, cap);
		if (!nb) {
			o->oom = true;
			return;
		}
		o->buf = nb;
		o->cap = cap;
	}
}

void pv_out_printf(struct pv_out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out_vprintf(o, fmt, ap);
	va_end(ap);
}

void pv_out_json_str(struct pv_out *o, const char *s)
{
	pv_out_printf(o, "\"");
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			pv_out_printf(o, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			pv_out_printf(o, "\\u%04x", (unsigned char)*s);
		else
			pv_out_printf(o, "%c", *s);
	}
	pv_out_printf(o, "\"");
}

const char *pv_out_str(const struct pv_out *o)
{
	return o->buf ? o->buf : "";
}

size_t pv_out_len(const struct pv_out *o)
{
	return o->len;
}

void pv_out_truncate(struct pv_out *o, size_t len)
{
	if (len < o->len) {
		o->len = len;
		o->buf[len] = '\0';
	}
}

bool pv_out_failed(const struct pv_out *o)
{
	return o->oom;
}

/* ------------------------------------------------------------- server */

struct pv_ctl {
	struct pv_loop *loop;
	int fd;
	char *path;
	const struct pv_ctl_cmd *cmds;
	unsigned nr_cmds;
	void *opaque;
	struct ctl_client *clients; /* accepted, request not complete yet */
	unsigned nr_clients;
};

static const struct pv_ctl_cmd *find_cmd(const struct pv_ctl_cmd *cmds, unsigned nr,
					 const char *name)
{
	for (unsigned i = 0; name && i < nr; i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

/* The reply to one request line: "ok\n<output>" or "err <text>\n". */
static void handle(struct pv_ctl *ctl, char *req, struct pv_out *reply, struct pv_out *body)
{
	char *save = NULL, *name = strtok_r(req, " \t\r\n", &save);
	char *arg = strtok_r(NULL, " \t\r\n", &save);
	const struct pv_ctl_cmd *cmd = find_cmd(ctl->cmds, ctl->nr_cmds, name);
	const char *text;
	size_t len;
	int rc;

	if (!cmd) {
		pv_out_printf(reply, "err unknown request (");
		for (unsigned i = 0; i < ctl->nr_cmds; i++)
			pv_out_printf(reply, "%s%s", i ? ", " : "", ctl->cmds[i].name);
		pv_out_printf(reply, ")\n");
		return;
	}
	rc = cmd->run(ctl->opaque, arg, body);
	if (pv_out_failed(body))
		rc = -ENOMEM;
	if (rc == 0) {
		pv_out_printf(reply, "ok\n%s", pv_out_str(body));
		return;
	}
	text = pv_out_str(body);
	len = strlen(text);
	while (len && text[len - 1] == '\n')
		len--;
	if (rc == -ENOMEM || !len)
		pv_out_printf(reply, "err %s\n", strerror(-rc));
	else
		pv_out_printf(reply, "err %.*s\n", (int)len, text);
}

/* One accepted connection, read on the loop as its bytes come. */
struct ctl_client {
	struct pv_ctl *ctl;
	struct ctl_client *next;
	int fd;
	int64_t timer;
	size_t got;
	char req[CTL_REQ_MAX];
};

static void client_drop(struct ctl_client *cl)
{
	struct ctl_client **p = &cl->ctl->clients;

	while (*p != cl)
		p = &(*p)->next;
	*p = cl->next;
	cl->ctl->nr_clients--;
	if (cl->timer > 0)
		pv_loop_del_timer(cl->ctl->loop, cl->timer);
	pv_loop_del_fd(cl->ctl->loop, cl->fd);
	close(cl->fd);
	free(cl);
}

/* The request is in (a newline, EOF or a full buffer): answer and close.
 * The reply goes out blocking, at most CTL_SEND_MS per stalled send. */
static void client_serve(struct ctl_client *cl)
{
	struct timeval tv = { .tv_sec = CTL_SEND_MS / 1000 };
	struct pv_out *reply = NULL, *body = NULL;
	const char *text;
	size_t off, len;
	ssize_t n;
	int fl;

	fl = fcntl(cl->fd, F_GETFL);
	if (fl >= 0)
		fcntl(cl->fd, F_SETFL, fl & ~O_NONBLOCK);
	setsockopt(cl->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	cl->req[cl->got] = '\0';
	if (pv_out_create(&reply) == 0 && pv_out_create(&body) == 0)
		handle(cl->ctl, cl->req, reply, body);
	if (!reply || !body || pv_out_failed(reply)) {
		text = "err out of memory\n";
		len = strlen(text);
	} else {
		text = pv_out_str(reply);
		len = pv_out_len(reply);
	}
	for (off = 0; off < len; off += (size_t)n) {
		n = send(cl->fd, text + off, len - off, MSG_NOSIGNAL);
		if (n <= 0)
			break;
	}
	pv_out_destroy(body);
	pv_out_destroy(reply);
	client_drop(cl);
}

static void on_client_data(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct ctl_client *cl = opaque;
	ssize_t n;

	(void)loop;
	(void)events;
	while (cl->got < sizeof(cl->req) - 1) {
		n = read(fd, cl->req + cl->got, sizeof(cl->req) - 1 - cl->got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return; /* the rest of the line later */
		if (n < 0) {
			client_drop(cl);
			return;
		}
		if (n == 0)
			break;
		cl->got += (size_t)n;
		if (memchr(cl->req, '\n', cl->got))
			break;
	}
	client_serve(cl);
}

static void on_client_idle(struct pv_loop *loop, void *opaque)
{
	struct ctl_client *cl = opaque;

	(void)loop;
	cl->timer = 0; /* fired */
	client_drop(cl);
}

/* A new connection waits for its line on the loop, never in it: a client
 * that says nothing holds one of CTL_CLIENTS_MAX places for CTL_IDLE_MS,
 * and everyone else is served meanwhile. */
static void on_client(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct pv_ctl *ctl = opaque;
	struct ctl_client *cl;
	int c;

	(void)events;
	c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c < 0)
		return;
	cl = ctl->nr_clients < CTL_CLIENTS_MAX ? calloc(1, sizeof(*cl)) : NULL;
	if (!cl) {
		close(c);
		return;
	}
	*cl = (struct ctl_client){ .ctl = ctl, .next = ctl->clients, .fd = c };
	ctl->clients = cl;
	ctl->nr_clients++;
	cl->timer = pv_loop_add_timer(loop, CTL_IDLE_MS, on_client_idle, cl);
	if (cl->timer < 0 || pv_loop_add_fd(loop, c, PV_LOOP_IN, on_client_data, cl) < 0) {
		cl->timer = cl->timer < 0 ? 0 : cl->timer;
		client_drop(cl); /* an fd never added is not in the loop: -ENOENT */
	}
}

int pv_ctl_start(struct pv_loop *loop, const char *path, const struct pv_ctl_cmd *cmds,
		 unsigned nr_cmds, void *opaque, struct pv_ctl **out)
{
	struct pv_ctl *ctl;
	int rc;

	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	*ctl = (struct pv_ctl){ .loop = loop, .cmds = cmds, .nr_cmds = nr_cmds, .opaque = opaque };
	ctl->path = strdup(path);
	if (!ctl->path) {
		rc = -ENOMEM;
		goto fail;
	}
	ctl->fd = pv_unix_listen(path, SOCK_STREAM, 0600);
	if (ctl->fd < 0) {
		rc = ctl->fd;
		goto fail;
	}
	rc = pv_loop_add_fd(loop, ctl->fd, PV_LOOP_IN, on_client, ctl);
	if (rc < 0)
		goto fail_listen;
	*out = ctl;
	return 0;
fail_listen:
	close(ctl->fd);
	unlink(path);
fail:
	free(ctl->path);
	free(ctl);
	return rc;
}

void pv_ctl_stop(struct pv_ctl *ctl)
{
	if (!ctl)
		return;
	while (ctl->clients)
		client_drop(ctl->clients);
	pv_loop_del_fd(ctl->loop, ctl->fd);
	close(ctl->fd);
	unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}

/* ------------------------------------------------------------- client */

int pv_ctl_call(const char *path, const char *req, struct pv_out *reply)
{
	size_t len = strlen(req);
	char buf[4096];
	ssize_t n;
	int fd, rc = 0;

	fd = pv_unix_connect(path, SOCK_STREAM);
	if (fd < 0)
		return fd;
	/* One write: the server reads until the newline. */
	if (len >= CTL_REQ_MAX - 1 || snprintf(buf, sizeof(buf), "%s\n", req) < 0) {
		close(fd);
		return -E2BIG;
	}
	if (write(fd, buf, len + 1) != (ssize_t)(len + 1)) {
		rc = -errno;
		close(fd);
		return rc ? rc : -EIO;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		pv_out_printf(reply, "%.*s", (int)n, buf);
	if (n < 0)
		rc = -errno;
	close(fd);
	if (pv_out_failed(reply))
		return -ENOMEM;
	if (!rc && !pv_out_len(reply))
		rc = -ENODATA;
	return rc;
}

int pv_ctl_default_path(const char *prog, char *buf, size_t len)
{
	struct stat st;
	int rc;

	if (pv_sim_configured())
		return pv_run_path(PV_HV_SIM, prog, PV_RUN_CTL, buf, len);
	rc = pv_run_path(PV_HV_XEN, prog, PV_RUN_CTL, buf, len);
	if (rc < 0 || stat(buf, &st) == 0)
		return rc;
	rc = pv_run_path(PV_HV_SIM, prog, PV_RUN_CTL, buf, len);
	if (rc < 0 || stat(buf, &st) == 0)
		return rc;
	return pv_run_path(PV_HV_XEN, prog, PV_RUN_CTL, buf, len);
}

/* "stats" + "json" -> the command "stats-json", if there is one. */
static const struct pv_ctl_cmd *find_variant(const struct pv_ctl_cmd *cmds, unsigned nr,
					     const char *base, const char *flag)
{
	char name[64];

	if ((size_t)snprintf(name, sizeof(name), "%s-%s", base, flag) >= sizeof(name))
		return NULL;
	return find_cmd(cmds, nr, name);
}

/* The command a client word names: a listed command, not a variant. */
static const struct pv_ctl_cmd *client_cmd(const struct pv_ctl_cmd *cmds, unsigned nr,
					   const char *word)
{
	const struct pv_ctl_cmd *c = find_cmd(cmds, nr, word);

	return c && c->help ? c : NULL;
}

/* "<prog> <cmd> [--<flag>|...] [--ctl PATH] <args>" of listed command i. */
static void usage_line(struct pv_out *line, const char *prog, const struct pv_ctl_cmd *cmds,
		       unsigned nr, unsigned i)
{
	size_t blen = strlen(cmds[i].name);
	unsigned j, nv = 0;

	pv_out_truncate(line, 0);
	pv_out_printf(line, "%s %s", prog, cmds[i].name);
	for (j = 0; j < nr; j++)
		if (!cmds[j].help && !strncmp(cmds[j].name, cmds[i].name, blen) &&
		    cmds[j].name[blen] == '-')
			pv_out_printf(line, "%s--%s", nv++ ? "|" : " [", cmds[j].name + blen + 1);
	pv_out_printf(line, "%s [--ctl PATH]%s%s", nv ? "]" : "", *cmds[i].args ? " " : "",
		      cmds[i].args);
}

void pv_ctl_usage(struct pv_out *o, const char *lead, const char *prog,
		  const struct pv_ctl_cmd *cmds, unsigned nr)
{
	struct pv_out *line;
	size_t width = 0;
	unsigned i;

	if (pv_out_create(&line) < 0)
		return;
	for (i = 0; i < nr; i++) {
		if (!cmds[i].help)
			continue;
		usage_line(line, prog, cmds, nr, i);
		if (pv_out_len(line) > width)
			width = pv_out_len(line);
	}
	for (i = 0; i < nr; i++) {
		if (!cmds[i].help)
			continue;
		usage_line(line, prog, cmds, nr, i);
		pv_out_printf(o, "%s%-*s  %s\n", lead, (int)width, pv_out_str(line), cmds[i].help);
		if (*lead)
			lead = "       ";
	}
	pv_out_destroy(line);
}

static void client_usage(FILE *f, const char *prog, const struct pv_ctl_cmd *cmds, unsigned nr,
			 const char *note)
{
	struct pv_out *o;

	if (pv_out_create(&o) < 0)
		return;
	pv_ctl_usage(o, "usage: ", prog, cmds, nr);
	fputs(pv_out_str(o), f);
	if (note)
		fprintf(f, "%s\n", note);
	pv_out_destroy(o);
}

int pv_ctl_client_main(const char *prog, const struct pv_ctl_cmd *cmds, unsigned nr_cmds,
		       const char *note, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ctl", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct pv_ctl_cmd *cmd = client_cmd(cmds, nr_cmds, argv[0]), *variant = NULL;
	const char *path = NULL, *verdict, *body;
	char def[256], req[CTL_REQ_MAX];
	struct pv_out *reply;
	int i, rc, status;

	if (!cmd) {
		client_usage(stderr, prog, cmds, nr_cmds, note);
		return 2;
	}
	/* --<flag> selects the variant <cmd>-<flag>; getopt knows only the rest. */
	for (i = 1; i < argc; i++) {
		const struct pv_ctl_cmd *v;

		if (strncmp(argv[i], "--", 2) || !argv[i][2])
			continue;
		v = find_variant(cmds, nr_cmds, cmd->name, argv[i] + 2);
		if (!v)
			continue;
		if (variant) {
			client_usage(stderr, prog, cmds, nr_cmds, note);
			return 2;
		}
		variant = v;
		memmove(argv + i, argv + i + 1, (size_t)(argc - i - 1) * sizeof(*argv));
		argc--;
		i--;
	}
	optind = 1;
	while ((i = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (i == 'c') {
			path = optarg;
		} else if (i == 'h') {
			client_usage(stdout, prog, cmds, nr_cmds, note);
			return 0;
		} else {
			client_usage(stderr, prog, cmds, nr_cmds, note);
			return 2;
		}
	}
	if (optind + 1 < argc) {
		client_usage(stderr, prog, cmds, nr_cmds, note);
		return 2;
	}
	if (!path) {
		if (pv_ctl_default_path(prog, def, sizeof(def)) < 0) {
			fprintf(stderr, "%s %s: the default control socket path is too long\n", prog,
				cmd->name);
			return 1;
		}
		path = def;
	}
	snprintf(req, sizeof(req), "%s%s%s", (variant ? variant : cmd)->name,
		 optind < argc ? " " : "", optind < argc ? argv[optind] : "");
	if (pv_out_create(&reply) < 0) {
		fprintf(stderr, "%s %s: out of memory\n", prog, cmd->name);
		return 1;
	}
	rc = pv_ctl_call(path, req, reply);
	if (rc == -ENODATA) {
		fprintf(stderr, "%s %s: no reply from %s\n", prog, cmd->name, path);
		pv_out_destroy(reply);
		return 1;
	}
	if (rc < 0) {
		fprintf(stderr, "%s %s: cannot reach the daemon at %s: %s\n", prog, cmd->name, path,
			strerror(-rc));
		pv_out_destroy(reply);
		return 1;
	}
	/* The first line is the verdict; the rest goes out as it is. */
	verdict = pv_out_str(reply);
	body = strchr(verdict, '\n');
	body = body ? body + 1 : verdict + strlen(verdict);
	status = strncmp(verdict, "ok", 2) != 0;
	if (status) {
		int len = (int)(body - verdict) - (body[-1] == '\n');

		if (!strncmp(verdict, "err ", 4)) {
			verdict += 4;
			len -= 4;
		}
		fprintf(stderr, "%s %s: %.*s\n", prog, cmd->name, len, verdict);
	}
	fputs(body, status ? stderr : stdout);
	pv_out_destroy(reply);
	return status;
}
