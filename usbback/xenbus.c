// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vusb negotiation on the pv_xb framework: a controller is the backend
 * directory libxl writes for `usbctrl = [ 'type=pv,...' ]` (num-ports,
 * usb-ver, port/1..N, the toolstack's private keys) and the frontend's
 * urb-ring-ref, conn-ring-ref and event-channel (usbif.h).  Probe checks
 * the controller's keys; connect opens the device every port/N names and
 * starts the controller's queue (ring.c), which owns the devices from then
 * on; a port/N write while connected (`xl usbdev-attach`/`-detach`) opens
 * the new device here and hands it over (usb_queue_plug).  With --isolate
 * domain the queue runs in the domain's worker (isolate.c): this file then
 * opens only what the devices need (their fds) and the worker opens the
 * devices from their specs.  The ports' state file is opened and removed
 * here either way; the queue rewrites it.  No key is written but the
 * framework's: libxl wrote everything xen-hcd reads.
 *
 * Runs on the main (xenbus) loop thread only.  Never touches a ring slot.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xen/io/xenbus.h>

#include "usbback.h"

struct usb_ctrl {
	struct pv_xb_dev *dev;
	const struct usb_config *cfg;
	const char *name;
	unsigned usb_ver, num_ports;
	char *spec[USB_MAX_PORTS + 1];   /* port/N as last read; NULL or "" empty */
	struct usb_queue *uq;
	struct usb_queue *stopping;      /* disconnected, still draining */
	struct pv_isodev iso;            /* --isolate domain: the worker running the queue */
};

static struct usb_ctrl *ctrl_of(struct pv_isodev *d)
{
	return (struct usb_ctrl *)((char *)d - offsetof(struct usb_ctrl, iso));
}

/* Connected: the queue runs here or in the domain's worker. */
static bool ctrl_connected(const struct usb_ctrl *c)
{
	return c->uq || pv_isodev_running(&c->iso);
}

/* The ports' state file for a successor (ring.c's header says what it
 * holds): <state-dir>/<controller>.ports, or -1 without --state-dir. */
static int state_path(const struct usb_ctrl *c, char *buf, size_t len)
{
	if (!c->cfg->pv.state_dir)
		return -ENOENT;
	if ((size_t)snprintf(buf, len, "%s/%s.ports", c->cfg->pv.state_dir, c->name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int state_open(const struct usb_ctrl *c)
{
	char path[256];
	int fd;

	if (state_path(c, path, sizeof(path)) < 0)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		pv_warn(c->name, "cannot write %s: %s", path, strerror(errno));
	return fd;
}

/* The controller's queue is gone for good (not a stopping daemon's). */
static void state_remove(const struct usb_ctrl *c)
{
	char path[256];

	if (!pv_xb_dev_daemon_stopping(c->dev) && state_path(c, path, sizeof(path)) == 0)
		unlink(path);
}

/* port/N parsed into s, name its log prefix: false when the port is empty
 * or its value malformed (said). */
static bool port_spec(struct usb_ctrl *c, unsigned port, struct usb_spec *s, char *name,
		      size_t len)
{
	const char *spec = c->spec[port];
	const char *why;

	if (!spec || !*spec)
		return false;
	snprintf(name, len, "%s/port%u", c->name, port);
	if (usb_spec_parse(spec, s, &why) < 0) {
		pv_err(name, "port/%u = \"%s\": %s", port, spec, why);
		return false;
	}
	return true;
}

/* The device port/N names, or NULL (empty, or it cannot be opened: said). */
static struct usb_dev *open_port(struct usb_ctrl *c, unsigned port)
{
	struct usb_spec s;
	struct usb_dev *d;
	char name[48];

	if (!port_spec(c, port, &s, name, sizeof(name)))
		return NULL;
	if (usb_dev_open(&s, -1, name, c->usb_ver, &d) < 0)
		return NULL;   /* the device said why */
	snprintf(d->spec, sizeof(d->spec), "%s", c->spec[port]);
	return d;
}

/* --isolate domain: what port/N's device needs opened for the worker.
 * false: the port stays empty (said). */
static bool open_port_fd(struct usb_ctrl *c, unsigned port, int *fd)
{
	struct usb_spec s;
	char name[48];

	*fd = -1;
	return port_spec(c, port, &s, name, sizeof(name)) && usb_dev_open_fd(&s, name, fd) == 0;
}

static void read_port(struct usb_ctrl *c, unsigned port)
{
	char key[16];

	snprintf(key, sizeof(key), "port/%u", port);
	free(c->spec[port]);
	c->spec[port] = pv_xb_dev_read_be(c->dev, key);
}

static int vusb_probe(struct pv_xb_dev *dev)
{
	struct usb_ctrl *c = calloc(1, sizeof(*c));
	uint64_t v;
	int rc;

	if (!c)
		return -ENOMEM;
	c->dev = dev;
	c->cfg = pv_xb_dev_ctx(dev);
	c->name = pv_xb_dev_name(dev);
	rc = pv_xb_dev_read_be_uint(dev, "num-ports", 1, USB_MAX_PORTS, &v);
	if (rc < 0) {
		pv_err(c->name, "num-ports: %s (1..%u, as libxl writes it)",
		       rc == -ENOENT ? "missing" : "out of range", USB_MAX_PORTS);
		free(c);
		return rc;
	}
	c->num_ports = (unsigned)v;
	rc = pv_xb_dev_read_be_uint(dev, "usb-ver", 1, 2, &v);
	if (rc < 0) {
		pv_err(c->name, "usb-ver: %s (1 or 2)", rc == -ENOENT ? "missing" : "out of range");
		free(c);
		return rc;
	}
	c->usb_ver = (unsigned)v;
	for (unsigned p = 1; p <= c->num_ports; p++)
		read_port(c, p);
	pv_info(c->name, "USB %s controller, %u ports", c->usb_ver == 2 ? "2.0" : "1.1",
		c->num_ports);
	pv_xb_dev_set_priv(dev, c);
	return 0;
}

/* The worker opens the devices from their specs and the fds opened here. */
static int connect_iso(struct usb_ctrl *c, const struct usb_queue_params *p)
{
	char *spec[USB_MAX_PORTS + 1] = { NULL };
	int fds[USB_MAX_PORTS + 1];
	unsigned n = 0;
	int rc;

	for (unsigned i = 1; i <= c->num_ports; i++) {
		if (open_port_fd(c, i, &fds[i])) {
			spec[i] = c->spec[i];
			n++;
		}
	}
	rc = usb_iso_start(&c->iso, c->dev, p, spec, fds);
	for (unsigned i = 1; i <= c->num_ports; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (p->state_fd >= 0)
		close(p->state_fd); /* the worker has its own */
	if (rc < 0) {
		pv_xb_dev_log(c->dev, PV_LOG_ERR, "cannot start the controller's queue: %s",
			      strerror(-rc));
		return rc;
	}
	pv_xb_dev_log(c->dev, PV_LOG_INFO, "connected: %u of %u ports in use%s", n, c->num_ports,
		      p->resume ? " (resumed)" : "");
	return 0;
}

static int vusb_connect(struct pv_xb_dev *dev)
{
	struct usb_ctrl *c = pv_xb_dev_priv(dev);
	struct usb_queue_params p = {
		.name = c->name,
		.domid = pv_xb_dev_domid(dev),
		.dev = dev,
		.cfg = c->cfg,
		.usb_ver = c->usb_ver,
		.num_ports = c->num_ports,
		.resume = pv_xb_dev_resuming(dev),
	};
	unsigned n = 0;
	int rc;

	rc = pv_xb_dev_read_grefs(dev, "", "urb-ring-ref", 0, &p.urb_ref);
	if (rc == 0)
		rc = pv_xb_dev_read_grefs(dev, "", "conn-ring-ref", 0, &p.conn_ref);
	if (rc == 0)
		rc = pv_xb_dev_read_evtchns(dev, "", "event-channel", false, &p.evtchn);
	if (rc < 0) {
		pv_xb_dev_log(dev, PV_LOG_ERR, "frontend %s: %s", pv_xb_dev_failed_key(dev),
			      strerror(-rc));
		return rc;
	}
	/* usbif's layout is the same for every ABI: any protocol key goes. */
	for (unsigned i = 1; i <= c->num_ports; i++)
		read_port(c, i);
	p.state_fd = state_open(c);
	if (c->cfg->iso)
		return connect_iso(c, &p);
	for (unsigned i = 1; i <= c->num_ports; i++) {
		p.ports[i] = open_port(c, i);
		n += p.ports[i] != NULL;
	}
	rc = usb_queue_start(&p, &c->uq);   /* owns the devices and the fd, even failing */
	if (rc < 0) {
		pv_xb_dev_log(dev, PV_LOG_ERR, "cannot start the controller's queue: %s",
			      strerror(-rc));
		c->uq = NULL;
		return rc;
	}
	pv_xb_dev_log(dev, PV_LOG_INFO, "connected: %u of %u ports in use%s", n, c->num_ports,
		      p.resume ? " (resumed)" : "");
	return 0;
}

static void queue_stopped(struct pv_xb_dev *dev, void *opaque)
{
	struct usb_ctrl *c = opaque;

	/* A stopping daemon keeps the ports' state for its successor. */
	usb_queue_stop(c->stopping);
	c->stopping = NULL;
	state_remove(c);
}

static void iso_stopped(struct pv_isodev *d, const void *past)
{
	(void)past; /* usbif keeps no counters of past connections */
	state_remove(ctrl_of(d));
}

/* The queue answers what was pushed and closes the devices, which may wait
 * for transfers on a slow device: off the xenbus thread (the framework
 * holds the controller meanwhile), unless the daemon stops.  Hot-plug
 * events meanwhile wait for the next connect. */
static void vusb_disconnect(struct pv_xb_dev *dev)
{
	struct usb_ctrl *c = pv_xb_dev_priv(dev);
	struct pv_queue *pq;

	if (c && c->cfg->iso) {
		/* Also after the worker died: its state file goes then too. */
		if (c->iso.t)
			pv_isodev_stop(&c->iso, pv_xb_dev_daemon_stopping(dev), iso_stopped);
		return;
	}
	if (!c || !c->uq)
		return;
	c->stopping = c->uq;
	c->uq = NULL;
	pq = usb_queue_pv(c->stopping);
	if (pv_xb_dev_daemon_stopping(dev) ||
	    pv_xb_dev_stop_queues(dev, &pq, 1, queue_stopped, c) < 0)
		queue_stopped(dev, c);
}

static void vusb_remove(struct pv_xb_dev *dev)
{
	struct usb_ctrl *c = pv_xb_dev_priv(dev);

	if (!c)
		return;
	if (c->iso.w) /* c goes now: no stop may outlive it */
		pv_isodev_stop(&c->iso, true, iso_stopped);
	vusb_disconnect(dev);
	for (unsigned p = 1; p <= USB_MAX_PORTS; p++)
		free(c->spec[p]);
	free(c);
	pv_xb_dev_set_priv(dev, NULL);
}

/* `xl usbdev-attach` writes port/N = "BUS-PORT", `usbdev-detach` "". */
static void vusb_changed(struct pv_xb_dev *dev, const char *key)
{
	struct usb_ctrl *c = pv_xb_dev_priv(dev);
	unsigned long port;
	char *old, *end;
	int rc;

	if (!c || strncmp(key, "port/", 5))
		return;
	port = strtoul(key + 5, &end, 10);
	if (*end || port < 1 || port > c->num_ports)
		return;
	old = c->spec[port];
	c->spec[port] = NULL;
	read_port(c, (unsigned)port);
	if (!strcmp(old ? old : "", c->spec[port] ? c->spec[port] : "")) {
		free(old);
		return;
	}
	free(old);
	pv_info(c->name, "port %lu: %s", port,
		c->spec[port] && *c->spec[port] ? c->spec[port] : "unplugged");
	if (!ctrl_connected(c))
		return;   /* opened at the next connect */
	if (c->cfg->iso) {
		int fd;

		if (open_port_fd(c, (unsigned)port, &fd))
			rc = usb_iso_plug(&c->iso, (unsigned)port, c->spec[port], fd);
		else
			rc = usb_iso_plug(&c->iso, (unsigned)port, NULL, -1);
		if (fd >= 0)
			close(fd);
	} else {
		rc = usb_queue_plug(c->uq, (unsigned)port, open_port(c, (unsigned)port));
	}
	if (rc < 0)
		pv_err(c->name, "port %lu: cannot hand the device over: %s", port, strerror(-rc));
}

/* usbif has no reconfiguration. */
static int vusb_reconfigure(struct pv_xb_dev *dev)
{
	return -EOPNOTSUPP;
}

const struct pv_xb_backend_ops usb_vusb_ops = {
	.type = "vusb",
	.connect_on_initialised = true,
	.hotplug = PV_XB_HOTPLUG_SELF, /* libxl runs no script for vusb */
	.probe = vusb_probe,
	.connect = vusb_connect,
	.disconnect = vusb_disconnect,
	.remove = vusb_remove,
	.changed = vusb_changed,
	.reconfigure = vusb_reconfigure,
};

bool usb_ctrl_snap(struct pv_xb_dev *dev, struct usb_ctrl_snap *s)
{
	struct usb_ctrl *c = pv_xb_dev_priv(dev);

	memset(s, 0, sizeof(*s));
	if (!c)
		return false;
	if (c->uq)
		usb_queue_snap(c->uq, s);
	else if (pv_isodev_running(&c->iso))
		usb_iso_snap(&c->iso, s);
	s->num_ports = c->num_ports;
	s->usb_ver = c->usb_ver;
	return true;
}
