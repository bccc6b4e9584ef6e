// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control socket of pvback-blk, both sides.  The daemon listens on a
 * unix stream socket (/run/pvback-blk/control.sock on Xen, pvback-blk.sock
 * in the pvsim directory on pvsim, or --ctl PATH) from its xenbus loop; a
 * client connects, sends one request line and reads the reply until EOF:
 *
 *   stats [DEVICE]        text: per device and queue, Linux's counters
 *   stats-json [DEVICE]   the same as one JSON object
 *   resize [DEVICE]       re-check backing sizes (online resize)
 *
 * The reply's first line is "ok" or "err <text>".  Requests are served one
 * at a time on the xenbus thread, so the device list cannot change under
 * them; queue counters are read racily from the running queue threads
 * (blk_queue_stats).  The socket is created 0600: root only, as
 * /dev/xen/gntdev.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <xen/io/xenbus.h>

#include "blkback.h"

#define CTL_XEN_DIR  "/run/pvback-blk"
#define CTL_XEN_PATH CTL_XEN_DIR "/control.sock"
#define CTL_SIM_NAME "pvback-blk.sock"
#define CTL_REQ_MAX  256

struct blk_ctl {
	struct pv_loop *loop;
	int fd;
	char *path;
	struct pv_xb_backend **be;
	unsigned nr_be;
};

void blk_default_path(enum pv_hv_kind kind, const char *sim_name, const char *xen_path, char *buf,
		      size_t len)
{
	const char *dir = getenv("PVSIM_DIR");

	if (kind == PV_HV_SIM)
		snprintf(buf, len, "%s/%s", dir && *dir ? dir : pv_sim_default_dir(), sim_name);
	else
		snprintf(buf, len, "%s", xen_path);
}

void blk_ctl_default_path(enum pv_hv_kind kind, char *buf, size_t len)
{
	blk_default_path(kind, CTL_SIM_NAME, CTL_XEN_PATH, buf, len);
}

/* ------------------------------------------------------------ replies */

struct out {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	size_t cap;
	char *nb;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf ? o->buf + o->len : NULL, o->buf ? o->cap - o->len : 0, fmt, ap);
		va_end(ap);
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

/* JSON string body: our strings are paths and names, escape the few specials. */
static void out_json_str(struct out *o, const char *s)
{
	out_printf(o, "\"");
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			out_printf(o, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			out_printf(o, "\\u%04x", (unsigned char)*s);
		else
			out_printf(o, "%c", *s);
	}
	out_printf(o, "\"");
}

static const char *state_str(int s)
{
	static const char *const names[] = {
		"Unknown", "Initialising", "InitWait", "Initialised", "Connected",
		"Closing", "Closed", "Reconfiguring", "Reconfigured",
	};

	return s >= 0 && s < (int)(sizeof(names) / sizeof(names[0])) ? names[s] : "invalid";
}

static double lat_us(const struct pv_stats_hist *h, double pct)
{
	return h->count ? (double)pv_stats_hist_percentile(h, pct) / 1000.0 : 0.0;
}

static void stats_text(struct out *o, const char *label, const struct blk_stats *st)
{
	out_printf(o, "  %-6s oo_req %llu rd_req %llu wr_req %llu f_req %llu ds_req %llu "
		   "rd_sect %llu wr_sect %llu errors %llu lat_p50_us %.1f lat_p99_us %.1f "
		   "io_fixed %llu io_vec %llu\n",
		   label, (unsigned long long)st->oo_req, (unsigned long long)st->rd_req,
		   (unsigned long long)st->wr_req, (unsigned long long)st->f_req,
		   (unsigned long long)st->ds_req, (unsigned long long)st->rd_sect,
		   (unsigned long long)st->wr_sect, (unsigned long long)st->errors,
		   lat_us(&st->lat, 50), lat_us(&st->lat, 99), (unsigned long long)st->io_fixed,
		   (unsigned long long)st->io_vec);
}

static void stats_json(struct out *o, const struct blk_stats *st)
{
	out_printf(o, "\"oo_req\":%llu,\"rd_req\":%llu,\"wr_req\":%llu,\"f_req\":%llu,"
		   "\"ds_req\":%llu,\"rd_sect\":%llu,\"wr_sect\":%llu,\"errors\":%llu,"
		   "\"eopnotsupp\":%llu,\"lat_count\":%llu,\"lat_p50_us\":%.1f,\"lat_p99_us\":%.1f,"
		   "\"io_fixed\":%llu,\"io_vec\":%llu",
		   (unsigned long long)st->oo_req, (unsigned long long)st->rd_req,
		   (unsigned long long)st->wr_req, (unsigned long long)st->f_req,
		   (unsigned long long)st->ds_req, (unsigned long long)st->rd_sect,
		   (unsigned long long)st->wr_sect, (unsigned long long)st->errors,
		   (unsigned long long)st->eopnotsupp, (unsigned long long)st->lat.count,
		   lat_us(&st->lat, 50), lat_us(&st->lat, 99), (unsigned long long)st->io_fixed,
		   (unsigned long long)st->io_vec);
}

struct stats_walk {
	struct out *o;
	const char *only;   /* device name filter or NULL */
	bool json;
	unsigned n;         /* devices written */
};

static void stats_dev(struct pv_xb_dev *dev, void *opaque)
{
	struct stats_walk *w = opaque;
	struct blk_vbd *vbd = pv_xb_dev_priv(dev);
	struct blk_queue_info qi[BLK_MAX_QUEUES];
	struct blk_stats total;
	struct out *o = w->o;
	unsigned i, pgrants = 0;

	if (!vbd || (w->only && strcmp(w->only, pv_xb_dev_name(dev))))
		return;
	total = vbd->past;
	for (i = 0; i < vbd->nr_queues; i++) {
		blk_queue_stats(vbd->queues[i], &qi[i]);
		blk_stats_add(&total, &qi[i].st);
		pgrants += qi[i].pgrants;
	}
	if (!w->json) {
		out_printf(o, "%s %s state %s sectors %llu queues %u pgrants %u\n",
			   pv_xb_dev_name(dev), vbd->params, state_str(pv_xb_dev_state(dev)),
			   (unsigned long long)__atomic_load_n(&vbd->lim.sectors, __ATOMIC_RELAXED),
			   vbd->nr_queues, pgrants);
		for (i = 0; i < vbd->nr_queues; i++) {
			char label[16];

			snprintf(label, sizeof(label), "q%u", i);
			stats_text(o, label, &qi[i].st);
			out_printf(o, "         pgrants %u/%u hits %llu misses %llu inflight %u slots %u\n",
				   qi[i].pgrants, qi[i].pgrants_max,
				   (unsigned long long)qi[i].pgrant_hits,
				   (unsigned long long)qi[i].pgrant_misses, qi[i].inflight,
				   qi[i].ring_slots);
		}
		stats_text(o, "total", &total);
		w->n++;
		return;
	}
	out_printf(o, "%s{\"name\":", w->n ? "," : "");
	out_json_str(o, pv_xb_dev_name(dev));
	out_printf(o, ",\"domid\":%u,\"devid\":%u,\"params\":", pv_xb_dev_domid(dev),
		   pv_xb_dev_devid(dev));
	out_json_str(o, vbd->params);
	out_printf(o, ",\"state\":\"%s\",\"connected\":%s,\"sectors\":%llu,\"readonly\":%s,"
		   "\"pgrants\":%u,\"queues\":[",
		   state_str(pv_xb_dev_state(dev)), vbd->connected ? "true" : "false",
		   (unsigned long long)__atomic_load_n(&vbd->lim.sectors, __ATOMIC_RELAXED),
		   vbd->lim.readonly ? "true" : "false", pgrants);
	for (i = 0; i < vbd->nr_queues; i++) {
		out_printf(o, "%s{\"index\":%u,", i ? "," : "", i);
		stats_json(o, &qi[i].st);
		out_printf(o, ",\"persistent\":%s,\"pgrants\":%u,\"pgrants_max\":%u,"
			   "\"pgrant_hits\":%llu,\"pgrant_misses\":%llu,\"inflight\":%u,"
			   "\"ring_slots\":%u}",
			   qi[i].persistent ? "true" : "false", qi[i].pgrants, qi[i].pgrants_max,
			   (unsigned long long)qi[i].pgrant_hits,
			   (unsigned long long)qi[i].pgrant_misses, qi[i].inflight, qi[i].ring_slots);
	}
	out_printf(o, "],\"total\":{");
	stats_json(o, &total);
	out_printf(o, "}}");
	w->n++;
}

struct resize_walk {
	const char *only;
	int resized, matched, err;
};

static void resize_dev(struct pv_xb_dev *dev, void *opaque)
{
	struct resize_walk *w = opaque;
	struct blk_vbd *vbd = pv_xb_dev_priv(dev);
	int rc;

	if (!vbd || (w->only && strcmp(w->only, pv_xb_dev_name(dev))))
		return;
	w->matched++;
	rc = blk_vbd_resize(vbd);
	if (rc > 0)
		w->resized++;
	else if (rc < 0)
		w->err = rc;
}

int blk_ctl_resize_all(struct pv_xb_backend **be, unsigned nr_be, const char *name)
{
	struct resize_walk w = { .only = name };
	unsigned i;

	for (i = 0; i < nr_be; i++)
		if (be[i]) /* NULL while the daemon starts */
			pv_xb_backend_foreach(be[i], resize_dev, &w);
	if (name && !w.matched)
		return -ENOENT;
	return w.err && !w.resized ? w.err : w.resized;
}

static void handle(struct blk_ctl *ctl, char *req, struct out *o)
{
	char *cmd = strtok(req, " \t\r\n"), *arg = strtok(NULL, " \t\r\n");
	unsigned i;

	if (cmd && (!strcmp(cmd, "stats") || !strcmp(cmd, "stats-json"))) {
		struct stats_walk w = { .o = o, .only = arg, .json = !strcmp(cmd, "stats-json") };

		out_printf(o, "ok\n");
		if (w.json)
			out_printf(o, "{\"devices\":[");
		for (i = 0; i < ctl->nr_be; i++)
			if (ctl->be[i])
				pv_xb_backend_foreach(ctl->be[i], stats_dev, &w);
		if (w.json)
			out_printf(o, "]}\n");
		if (arg && !w.n) {
			o->len = 0;
			out_printf(o, "err no device %s\n", arg);
		}
		return;
	}
	if (cmd && !strcmp(cmd, "resize")) {
		int rc = blk_ctl_resize_all(ctl->be, ctl->nr_be, arg);

		if (rc < 0)
			out_printf(o, "err %s\n", rc == -ENOENT ? "no such device" : strerror(-rc));
		else
			out_printf(o, "ok\nresized %d device(s)\n", rc);
		return;
	}
	out_printf(o, "err unknown request (stats, stats-json, resize)\n");
}

static void on_client(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct blk_ctl *ctl = opaque;
	struct timeval tv = { .tv_sec = 1 };
	char req[CTL_REQ_MAX];
	struct out o = { 0 };
	size_t got = 0, off;
	ssize_t n;
	int c;

	c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return;
	/* A client that connects and says nothing must not stall the xenbus loop. */
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (got < sizeof(req) - 1) {
		n = read(c, req + got, sizeof(req) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(req, '\n', got))
			break;
	}
	req[got] = '\0';
	handle(ctl, req, &o);
	if (o.oom) {
		free(o.buf);
		o = (struct out){ 0 };
		out_printf(&o, "err out of memory\n");
	}
	for (off = 0; o.buf && off < o.len; off += (size_t)n) {
		n = send(c, o.buf + off, o.len - off, MSG_NOSIGNAL);
		if (n <= 0)
			break;
	}
	free(o.buf);
	close(c);
}

static int ctl_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

int blk_ctl_start(struct pv_loop *loop, const char *path, struct pv_xb_backend **be,
		  unsigned nr_be, struct blk_ctl **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct blk_ctl *ctl;
	mode_t old;
	int rc, fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	if (!strcmp(path, CTL_XEN_PATH))
		mkdir(CTL_XEN_DIR, 0755); /* EEXIST is fine; bind reports the rest */
	/* A socket file left by a daemon that died: nobody answers, replace it. */
	fd = ctl_connect(path);
	if (fd >= 0) {
		close(fd);
		return -EADDRINUSE;
	}
	if (fd == -ECONNREFUSED)
		unlink(path);
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->loop = loop;
	ctl->be = be;
	ctl->nr_be = nr_be;
	ctl->path = strdup(path);
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (!ctl->path || ctl->fd < 0) {
		rc = ctl->fd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	old = umask(0077);
	rc = bind(ctl->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0) {
		rc = -errno;
		goto fail;
	}
	if (chmod(path, 0600) < 0 || listen(ctl->fd, 8) < 0) {
		rc = -errno;
		goto fail_unlink;
	}
	rc = pv_loop_add_fd(loop, ctl->fd, PV_LOOP_IN, on_client, ctl);
	if (rc < 0)
		goto fail_unlink;
	*out = ctl;
	return 0;
fail_unlink:
	unlink(path);
fail:
	if (ctl->fd >= 0)
		close(ctl->fd);
	free(ctl->path);
	free(ctl);
	return rc;
}

void blk_ctl_stop(struct blk_ctl *ctl)
{
	if (!ctl)
		return;
	pv_loop_del_fd(ctl->loop, ctl->fd);
	close(ctl->fd);
	unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}

/* ------------------------------------------------------------- client */

static void client_usage(FILE *f)
{
	fprintf(f, "usage: pvback-blk stats [--json] [--ctl PATH] [DEVICE]\n"
		   "       pvback-blk resize [--ctl PATH] [DEVICE]\n"
		   "DEVICE is a name as in the log, e.g. vbd-1-51712.\n");
}

/* Where the daemon of this host listens when --ctl is not given. */
static void client_default_path(char *buf, size_t len)
{
	const char *dir = getenv("PVSIM_DIR");
	struct stat st;

	if (dir && *dir) {
		blk_ctl_default_path(PV_HV_SIM, buf, len);
		return;
	}
	blk_ctl_default_path(PV_HV_XEN, buf, len);
	if (stat(buf, &st) == 0)
		return;
	blk_ctl_default_path(PV_HV_SIM, buf, len);
	if (stat(buf, &st) != 0)
		blk_ctl_default_path(PV_HV_XEN, buf, len);
}

int blk_ctl_client_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "ctl", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = argv[0], *path = NULL;
	char def[256], req[CTL_REQ_MAX], buf[4096], *nl;
	bool json = false, first = true;
	size_t have = 0;
	ssize_t n;
	int c, fd, status = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'c':
			path = optarg;
			break;
		case 'h':
			client_usage(stdout);
			return 0;
		default:
			client_usage(stderr);
			return 2;
		}
	}
	if (optind + 1 < argc || (json && strcmp(cmd, "stats"))) {
		client_usage(stderr);
		return 2;
	}
	if (!path) {
		client_default_path(def, sizeof(def));
		path = def;
	}
	snprintf(req, sizeof(req), "%s%s%s\n", !strcmp(cmd, "stats") && json ? "stats-json" : cmd,
		 optind < argc ? " " : "", optind < argc ? argv[optind] : "");
	fd = ctl_connect(path);
	if (fd < 0) {
		fprintf(stderr, "pvback-blk %s: cannot reach the daemon at %s: %s\n", cmd, path,
			strerror(-fd));
		return 1;
	}
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		fprintf(stderr, "pvback-blk %s: %s\n", cmd, strerror(errno));
		close(fd);
		return 1;
	}
	/* The first line is the verdict; the rest goes to stdout as is. */
	while ((n = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0) {
		have += (size_t)n;
		buf[have] = '\0';
		if (first) {
			nl = strchr(buf, '\n');
			if (!nl && have < sizeof(buf) - 1)
				continue;
			if (nl)
				*nl = '\0';
			if (strncmp(buf, "ok", 2)) {
				fprintf(stderr, "pvback-blk %s: %s\n", cmd,
					strncmp(buf, "err ", 4) ? buf : buf + 4);
				status = 1;
			}
			first = false;
			if (nl)
				fputs(nl + 1, status ? stderr : stdout);
		} else {
			fputs(buf, status ? stderr : stdout);
		}
		have = 0;
	}
	close(fd);
	if (first) {
		fprintf(stderr, "pvback-blk %s: no reply from %s\n", cmd, path);
		return 1;
	}
	return status;
}
