// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --isolate domain: each guest domain's controllers run in a worker
 * process of their own (docs/security.md).  The xenbus process keeps
 * xenstore, the control socket and whatever a device needs from the host:
 * it opens an emu:storage device's file, a host device's usbfs node and
 * the ports' state file, and hands the fds (SCM_RIGHTS) with the ports'
 * specs to the domain's worker, which opens the devices from them (a host
 * device through libusb_wrap_sys_device) and runs the controller's queue
 * exactly as a single process does (ring.c).  The worker opens no device
 * path, so a guest that takes over its queue thread holds only its own
 * devices and memory.
 *
 * The protocol, the workers' lives and the drains are common/isodev.c's;
 * this file says what usb's messages hold: START the controller's queue
 * parameters and its ports' specs (+ the state file's and the devices'
 * fds), STATS what `pvback-usb stats` shows, STOPPED the stopped rings'
 * counters, and two requests of its own with a reply (the result): PLUG a
 * device on a port (+ its fd) and UNPLUG it, for hot-plug.  Ports whose
 * fds do not fit in START's (PV_ISOLATE_MAX_FDS) follow it as PLUGs.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "usbback.h"

#define ISO_NAME_MAX 48
#define ISO_SPEC_MAX sizeof(((struct usb_dev *)0)->spec)

enum { ISO_PLUG, ISO_UNPLUG }; /* usb's own requests */

struct iso_port {
	char spec[ISO_SPEC_MAX]; /* "": empty */
	int32_t fd;              /* index in the message's fds, -1: none */
};

struct iso_start {
	char name[ISO_NAME_MAX];
	uint32_t domid, usb_ver, num_ports;
	uint32_t urb_ref, conn_ref, evtchn;
	int32_t state_fd;        /* index in the message's fds, -1: none */
	uint8_t resume;
	struct iso_port port[USB_MAX_PORTS + 1];
};

struct iso_plug {
	uint32_t port;
	char spec[ISO_SPEC_MAX]; /* its fd, if it needs one, is the message's only one */
};

struct iso_past {
	struct pv_queue_ring_info ring[2];
};

static const struct pv_isodev_desc iso_desc;

/* ============================================================ xenbus side */

int usb_iso_init(struct pv_backend *b)
{
	struct usb_config *cfg = pv_backend_config(b);

	if (!cfg->pv.isolate)
		return 0;
	return pv_isodev_table_create(b, &iso_desc, &cfg->iso);
}

/* spec into buf, when it fits (a longer one would name another file). */
static bool spec_copy(char *buf, const char *spec, const char *name, unsigned port)
{
	if (strlen(spec) >= ISO_SPEC_MAX) {
		pv_err(name, "port %u: a device spec of more than %zu bytes", port,
		       ISO_SPEC_MAX - 1);
		return false;
	}
	snprintf(buf, ISO_SPEC_MAX, "%s", spec);
	return true;
}

int usb_iso_start(struct pv_isodev *d, struct pv_xb_dev *dev, const struct usb_queue_params *p,
		  char *const *spec, const int *fds)
{
	struct iso_start *s = calloc(1, sizeof(*s));
	int mfds[PV_ISOLATE_MAX_FDS];
	unsigned later[USB_MAX_PORTS], nl = 0, n = 0;
	int rc;

	if (!s)
		return -ENOMEM;
	*s = (struct iso_start){
		.domid = p->domid, .usb_ver = p->usb_ver, .num_ports = p->num_ports,
		.urb_ref = p->urb_ref, .conn_ref = p->conn_ref, .evtchn = p->evtchn,
		.state_fd = -1, .resume = p->resume,
	};
	snprintf(s->name, sizeof(s->name), "%s", p->name);
	if (p->state_fd >= 0) {
		s->state_fd = (int32_t)n;
		mfds[n++] = p->state_fd;
	}
	for (unsigned i = 1; i <= p->num_ports; i++) {
		s->port[i].fd = -1;
		if (!spec[i])
			continue;
		if (fds[i] >= 0 && n == PV_ISOLATE_MAX_FDS) {
			later[nl++] = i;
			continue;
		}
		if (!spec_copy(s->port[i].spec, spec[i], p->name, i))
			continue;
		if (fds[i] >= 0) {
			s->port[i].fd = (int32_t)n;
			mfds[n++] = fds[i];
		}
	}
	rc = pv_isodev_start(p->cfg->iso, d, dev, s, mfds, n);
	free(s);
	for (unsigned i = 0; i < nl && rc == 0; i++)
		if (usb_iso_plug(d, later[i], spec[later[i]], fds[later[i]]) < 0)
			pv_err(p->name, "port %u: the worker cannot open the device", later[i]);
	return rc;
}

int usb_iso_plug(struct pv_isodev *d, unsigned port, const char *spec, int fd)
{
	struct iso_plug m = { .port = port };
	int32_t res = 0;
	int rc;

	if (!spec) {
		rc = pv_isodev_call(d, ISO_UNPLUG, &m, NULL, 0, &res);
	} else {
		if (!spec_copy(m.spec, spec, pv_xb_dev_name(d->dev), port))
			return -ENAMETOOLONG;
		rc = pv_isodev_call(d, ISO_PLUG, &m, &fd, fd >= 0 ? 1 : 0, &res);
	}
	if (rc == 0)
		rc = res;
	return rc > 0 || rc < -4095 ? -EPROTO : rc; /* a worker's nonsense */
}

void usb_iso_snap(struct pv_isodev *d, struct usb_ctrl_snap *s)
{
	if (pv_isodev_stats(d, s) < 0)
		memset(s, 0, sizeof(*s));
	/* What ctl.c prints as strings ends in the reply (the worker's word). */
	for (unsigned p = 0; p <= USB_MAX_PORTS; p++)
		s->port[p].spec[sizeof(s->port[p].spec) - 1] = '\0';
}

/* ============================================================ worker side */

struct wctrl {
	char name[ISO_NAME_MAX];
	unsigned usb_ver, num_ports;
	struct usb_queue *uq;
};

/* The message's fd at index i, taken (each one once), or -1. */
static int take_fd(int *fds, unsigned nfds, int32_t i)
{
	int fd;

	if (i < 0 || (unsigned)i >= nfds)
		return -1;
	fd = fds[i];
	fds[i] = -1;
	return fd;
}

/* The device spec names on port, from fd (taken): NULL when it cannot be
 * opened (said).  A device that needs a file gets it from the xenbus
 * process or not at all: the worker opens no path. */
static struct usb_dev *w_open(struct wctrl *w, unsigned port, char *spec, int fd)
{
	struct usb_spec s;
	struct usb_dev *dev;
	const char *why;
	char name[64];
	bool needs;

	spec[ISO_SPEC_MAX - 1] = '\0';
	snprintf(name, sizeof(name), "%s/port%u", w->name, port);
	if (usb_spec_parse(spec, &s, &why) < 0) {
		pv_err(name, "\"%s\": %s", spec, why);
		goto fail;
	}
	needs = s.kind == USB_SPEC_HOST || !strcmp(s.emu, "storage");
	if (needs != (fd >= 0)) {
		pv_err(name, "%s: %s", spec,
		       needs ? "no file was handed over" : "a file it takes none");
		goto fail;
	}
	if (usb_dev_open(&s, fd, name, w->usb_ver, &dev) < 0)
		return NULL; /* it said why */
	snprintf(dev->spec, sizeof(dev->spec), "%s", spec);
	return dev;
fail:
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int w_start(struct pv_isodev_w *d, void *start, int *fds, unsigned nfds)
{
	struct iso_start *s = start;
	struct usb_queue_params p = { 0 };
	struct wctrl *w;
	struct pv_queue *pq;
	int rc;

	s->name[ISO_NAME_MAX - 1] = '\0';
	rc = s->num_ports < 1 || s->num_ports > USB_MAX_PORTS || s->usb_ver < 1 ||
	     s->usb_ver > 2 || s->domid >= DOMID_FIRST_RESERVED ? -EINVAL : -ENOMEM;
	w = rc == -ENOMEM ? calloc(1, sizeof(*w)) : NULL;
	if (!w) {
		pv_isolate_close_fds(fds, nfds);
		return rc;
	}
	snprintf(w->name, sizeof(w->name), "%s", s->name);
	w->usb_ver = s->usb_ver;
	w->num_ports = s->num_ports;
	p = (struct usb_queue_params){
		.name = w->name,
		.domid = (uint16_t)s->domid,
		.violation = pv_isodev_w_violation,
		.violation_opaque = d,
		.cfg = pv_backend_config(pv_isodev_w_backend(d)),
		.usb_ver = w->usb_ver,
		.num_ports = w->num_ports,
		.urb_ref = s->urb_ref,
		.conn_ref = s->conn_ref,
		.evtchn = s->evtchn,
		.state_fd = take_fd(fds, nfds, s->state_fd),
		.resume = s->resume,
	};
	for (unsigned i = 1; i <= w->num_ports; i++) {
		int fd = take_fd(fds, nfds, s->port[i].fd);

		if (s->port[i].spec[0])
			p.ports[i] = w_open(w, i, s->port[i].spec, fd);
		else if (fd >= 0)
			close(fd);
	}
	pv_isolate_close_fds(fds, nfds); /* any the ports did not name */
	rc = usb_queue_start(&p, &w->uq); /* owns the devices and the state fd, even failing */
	if (rc < 0) {
		pv_err(w->name, "cannot start the controller's queue: %s", strerror(-rc));
		free(w);
		return rc;
	}
	pq = usb_queue_pv(w->uq);
	rc = pv_isodev_w_set(d, w, &pq, 1);
	if (rc < 0) {
		usb_queue_stop(w->uq);
		free(w);
	}
	return rc;
}

static void w_stats(struct pv_isodev_w *d, void *stats)
{
	struct wctrl *w = pv_isodev_w_priv(d);

	usb_queue_snap(w->uq, stats);
}

static void w_stopped(struct pv_isodev_w *d, void *past)
{
	struct wctrl *w = pv_isodev_w_priv(d);
	struct iso_past *r = past;

	/* The queue has ended: its rings are mapped until usb_queue_stop. */
	pv_queue_info(usb_queue_pv(w->uq), USB_RING_URB, &r->ring[USB_RING_URB]);
	pv_queue_info(usb_queue_pv(w->uq), USB_RING_CONN, &r->ring[USB_RING_CONN]);
	usb_queue_stop(w->uq); /* no wait */
	free(w);
}

static void w_message(struct pv_isodev_w *d, unsigned n, void *req, int *fds, unsigned nfds,
		      void *reply)
{
	struct wctrl *w = pv_isodev_w_priv(d);
	struct iso_plug *m = req;
	struct usb_dev *dev = NULL;
	int fd = take_fd(fds, nfds, 0);
	int32_t rc;

	pv_isolate_close_fds(fds, nfds);
	if (m->port < 1 || m->port > w->num_ports) {
		rc = -EINVAL;
		if (fd >= 0)
			close(fd);
	} else if (n == ISO_PLUG) {
		dev = w_open(w, m->port, m->spec, fd);
		/* A device that cannot be opened empties the port, as locally. */
		rc = usb_queue_plug(w->uq, m->port, dev);
		if (rc == 0 && !dev)
			rc = -ENODEV;
	} else {
		if (fd >= 0)
			close(fd);
		rc = usb_queue_plug(w->uq, m->port, NULL);
	}
	memcpy(reply, &rc, sizeof(rc));
}

int usb_iso_worker(struct pv_backend *b, struct pv_loop *loop, int fd)
{
	return pv_isodev_worker(b, loop, fd, &iso_desc);
}

static const struct pv_isodev_desc iso_desc = {
	.start_size = sizeof(struct iso_start),
	.stats_size = sizeof(struct usb_ctrl_snap),
	.past_size = sizeof(struct iso_past),
	.user = {
		[ISO_PLUG] = { .size = sizeof(struct iso_plug), .reply_size = sizeof(int32_t) },
		[ISO_UNPLUG] = { .size = sizeof(struct iso_plug), .reply_size = sizeof(int32_t) },
	},
	.w_start = w_start,
	.w_stats = w_stats,
	.w_stopped = w_stopped,
	.w_message = w_message,
};
