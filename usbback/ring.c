// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A vusb controller's data path on a pv_queue (common/queue.c owns the
 * thread, both rings, the event channel, the slots, the stop protocol and
 * the restart journal): the urb ring holds requests to serve (answered on
 * a stop), the conn ring dummy requests the frontend posts for us to answer
 * with hot-plug events (a stop takes no more of them).
 *
 * A run: report port changes on the conn ring; copy out every urb request,
 * validate it (request.c), resolve its device (the address table: the
 * guest's addresses are ours to keep, SET_ADDRESS never reaches a device),
 * gather the grant copies of every OUT buffer and iso descriptor array into
 * one batch, then hand the transfers to their devices.  A device finishes
 * a transfer with usb_xfer_done() (now, or later from its fds or timers);
 * the IN data and descriptors are copied back in one batch and the
 * responses pushed together.  Nothing of the guest's stays mapped: every
 * byte moves by grant copy, so a response never waits for an unmap.
 *
 * Devices belong to this thread while the controller is connected: a port
 * change from xenstore arrives as a message (usb_queue_plug); a replaced or
 * unplugged device has its transfers cancelled and is closed once the last
 * one completed (they are answered NODEV).  Never calls xenstore.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "usbback.h"

enum { RING_URB = USB_RING_URB, RING_CONN = USB_RING_CONN };

/* ring.c's part of a device (usb_dev.owner). */
struct dev_ref {
	struct usb_queue *uq;
	struct usb_dev *dev;
	unsigned port;          /* 0 once unplugged (draining) */
	unsigned held;          /* transfers staged, in its hands or not yet answered */
	unsigned inflight;      /* in its hands */
	bool attached;
	struct dev_ref *next;   /* draining list */
};

struct usb_port {
	struct dev_ref *ref;    /* NULL: empty */
	uint8_t addr;           /* the guest's address for it, 0: default */
	bool addr_unknown;      /* resumed: adopt the address the guest uses */
	uint8_t reported;       /* speed the conn ring last told */
	bool replaced;          /* a different device since: tell NONE first */
	/* What the guest set up, for a restarted daemon (the state file). */
	uint8_t config;
	uint8_t alt[USB_MAX_IFACES];
};

/* An urb ring slot: one request, from copy-out to its response. */
struct urb_slot {
	struct usb_xfer x;
	struct usb_queue *uq;
	enum { S_FREE, S_STAGED, S_DEV, S_DONE } state;
	int copy_err;
	uint8_t *own;           /* the data buffer (reused), own_len bytes */
	size_t own_len;
	struct usb_iso_desc *iso;
	unsigned iso_cap;
	uint64_t t0;
	bool replay;            /* ours (a restart's SET_CONFIGURATION): no answer */
	struct urb_slot *next;  /* staged / done lists */
};

struct conn_slot {
	uint8_t unused;
};

struct plug_msg {
	unsigned port;
	struct usb_dev *dev;
	struct plug_msg *next;
};

struct usb_queue {
	struct pv_queue *pq;
	const char *name;
	struct pv_hv *hv;
	uint16_t domid;
	unsigned usb_ver, num_ports;
	struct usb_port ports[USB_MAX_PORTS + 1];
	uint8_t addr[USB_MAX_ADDR];  /* address -> port, 0: none */
	uint32_t conn_pending;       /* ports with news for the conn ring */
	struct dev_ref *draining;
	struct urb_slot *staged, **staged_tail;
	struct urb_slot *done, **done_tail;
	struct pv_copy_batch copy;
	int state_fd;                /* the ports' state file (the queue's), or -1 */
	bool resume;
	bool in_run, cancelled_all;
	bool run_queued;             /* a run is queued on the loop */
	unsigned inflight;
	/* Port changes from the xenbus thread, and what stats read. */
	pthread_mutex_t lock;
	struct plug_msg *plugs;
	struct usb_dev *opening[USB_MAX_PORTS + 1]; /* given at start, attached by ops->start */
	uint32_t urb_ref, conn_ref, evtchn;         /* the state file's identity */
};

static void run_call(void *opaque)
{
	pv_queue_run(opaque);
}

/* A run soon, on this loop: never from inside a device's callback, which
 * may be about to touch the device the run would close. */
static void run_later(struct usb_queue *uq)
{
	if (uq->in_run || uq->run_queued)
		return;
	if (pv_loop_call(pv_queue_loop(uq->pq), run_call, uq->pq) == 0)
		uq->run_queued = true;
}

/* ------------------------------------------------------------ devices */

static void xfer_done(struct usb_xfer *x);
static void dev_gone(struct usb_dev *d);
static void state_save(struct usb_queue *uq);

/* Cancel what devices hold: d's transfers, or every device's (NULL). */
static void cancel_held(struct usb_queue *uq, struct usb_dev *d)
{
	for (unsigned i = 0; i < pv_queue_nr_slots(uq->pq, RING_URB); i++) {
		struct urb_slot *s = pv_queue_slot(uq->pq, RING_URB, i);

		if (s->state == S_DEV && (!d || s->x.dev == d) && !s->x.cancelled) {
			s->x.cancelled = true;
			s->x.dev->ops->cancel(s->x.dev, &s->x);
		}
	}
}

static void dev_release(struct dev_ref *r)
{
	if (r->attached)
		r->dev->ops->detach(r->dev);
	r->dev->ops->close(r->dev);
	free(r);
}

/* The port's device leaves (unplug, replacement, gone from the host): its
 * transfers are cancelled and answered NODEV, then it is closed. */
static void port_unplug(struct usb_queue *uq, unsigned port)
{
	struct usb_port *p = &uq->ports[port];
	struct dev_ref *r = p->ref;

	if (!r)
		return;
	pthread_mutex_lock(&uq->lock);
	p->ref = NULL;
	pthread_mutex_unlock(&uq->lock);
	if (p->addr && uq->addr[p->addr] == port)
		uq->addr[p->addr] = 0;
	p->addr = 0;
	p->addr_unknown = false;
	p->config = 0;
	memset(p->alt, 0, sizeof(p->alt));
	uq->conn_pending |= 1u << port;
	r->port = 0;
	r->next = uq->draining;   /* closed by a run once nothing is held */
	uq->draining = r;
	cancel_held(uq, r->dev);
	state_save(uq);
}

static int port_plug(struct usb_queue *uq, unsigned port, struct usb_dev *d)
{
	struct dev_ref *r = malloc(sizeof(*r));
	int rc;

	if (!r) {
		d->ops->close(d);
		return -ENOMEM;
	}
	*r = (struct dev_ref){ .uq = uq, .dev = d, .port = port };
	d->owner = r;
	d->done = xfer_done;
	d->gone = dev_gone;
	rc = d->ops->attach(d, pv_queue_loop(uq->pq));
	if (rc == 0) {
		r->attached = true;
		rc = d->ops->reset(d); /* as a hub resets a port it sees connected */
		d->stats.resets++;
	}
	if (rc < 0) {
		pv_err(d->name, "cannot attach %s: %s", d->spec, strerror(-rc));
		dev_release(r);
		return rc;
	}
	pthread_mutex_lock(&uq->lock);
	uq->ports[port].ref = r;
	pthread_mutex_unlock(&uq->lock);
	if (uq->ports[port].reported != USBIF_SPEED_NONE)
		uq->ports[port].replaced = true;
	uq->conn_pending |= 1u << port;
	uq->ports[port].config = 0;
	memset(uq->ports[port].alt, 0, sizeof(uq->ports[port].alt));
	state_save(uq);
	/* Each (re)connect of the guest attaches again: rate-limited. */
	pv_queue_log(uq->pq, PV_LOG_INFO, "port %u: %s attached, %s speed", port, d->spec,
		     d->speed == USBIF_SPEED_HIGH ? "high" :
		     d->speed == USBIF_SPEED_FULL ? "full" : "low");
	return 0;
}

static void dev_gone(struct usb_dev *d)
{
	struct dev_ref *r = d->owner;

	if (!r->port)
		return;
	pv_warn(d->name, "%s is gone from the host: port %u empty", d->spec, r->port);
	/* Cancelling completes transfers: no run until the device returns. */
	struct usb_queue *uq = r->uq;
	bool in_run = uq->in_run;

	uq->in_run = true;
	port_unplug(uq, r->port);
	uq->in_run = in_run;
	run_later(uq);
}

/* Unplugged devices go once every transfer of theirs was answered; a run
 * is never inside a device's callback, so closing one here is safe. */
static void reap(struct usb_queue *uq)
{
	struct dev_ref **pp = &uq->draining, *r;

	while ((r = *pp)) {
		if (r->held) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		dev_release(r);
	}
}

/* --------------------------------------------------------- state file */

/*
 * A daemon killed and restarted finds its devices fresh from a reset while
 * the guest believes them addressed and configured.  The state file
 * (<state-dir>/<controller>.ports) keeps per port the spec, the guest's
 * address, the configuration and the interfaces' alternate settings the
 * guest chose, with the rings it belongs to; a resumed queue restores the
 * address table and replays SET_CONFIGURATION and SET_INTERFACE before it
 * serves the guest.  Rewritten on the rare requests that change it, by the
 * queue's thread, which may not open files (docs/security.md): the xenbus
 * thread (process, --isolate domain) opens it before the start and gives
 * the queue the fd; the queue reads it and rewrites it in place with one pwrite
 * (a kill cannot tear it) ended by an "end" line, after which the reader
 * stops (a shorter rewrite leaves old bytes until the truncate); removed
 * when the controller goes for good.
 */
static void state_save(struct usb_queue *uq)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (uq->state_fd < 0)
		return;
	f = open_memstream(&buf, &len);
	if (!f) {
		pv_warn(uq->name, "cannot write the port file: %s", strerror(errno));
		return;
	}
	fprintf(f, "rings %u %u %u\n", uq->urb_ref, uq->conn_ref, uq->evtchn);
	for (unsigned p = 1; p <= uq->num_ports; p++) {
		const struct usb_port *pt = &uq->ports[p];

		if (!pt->ref)
			continue;
		fprintf(f, "port %u %u %u", p, pt->addr, pt->config);
		for (unsigned i = 0; i < USB_MAX_IFACES; i++)
			fprintf(f, " %u", pt->alt[i]);
		fprintf(f, " %s\n", pt->ref->dev->spec);
	}
	fprintf(f, "end\n");
	if (fclose(f) || pwrite(uq->state_fd, buf, len, 0) != (ssize_t)len ||
	    ftruncate(uq->state_fd, (off_t)len) < 0)
		pv_warn(uq->name, "cannot write the port file: %s", strerror(errno));
	free(buf);
}

/* One "port N ADDR CONFIG ALT*32 SPEC" line into the port it names, when
 * that port holds the same device now.  Bounded: a corrupt file restores
 * nothing wrong (addresses and settings are range-checked, and a guest
 * that disagrees re-enumerates). */
static void state_line(struct usb_queue *uq, char *line)
{
	struct usb_state_port sp;
	struct usb_port *pt;

	if (usb_state_port_parse(line, &sp) < 0 || sp.port > uq->num_ports)
		return;
	pt = &uq->ports[sp.port];
	if (!pt->ref || strcmp(pt->ref->dev->spec, sp.spec) || (sp.addr && uq->addr[sp.addr]))
		return;
	pt->addr = (uint8_t)sp.addr;
	pt->addr_unknown = false;
	if (pt->addr)
		uq->addr[pt->addr] = (uint8_t)sp.port;
	pt->config = (uint8_t)sp.config;
	memcpy(pt->alt, sp.alt, sizeof(pt->alt));
}

static void state_load(struct usb_queue *uq)
{
	static const size_t max = 64 * 1024; /* 31 ports of at most ~300 bytes */
	char *buf = malloc(max + 1), *line, *nl;
	unsigned a, b, c;
	size_t len = 0;
	ssize_t n;

	if (!buf)
		return;
	while (len < max && (n = pread(uq->state_fd, buf + len, max - len, (off_t)len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	line = buf;
	nl = strchr(line, '\n');
	if (!nl || sscanf(line, "rings %u %u %u", &a, &b, &c) != 3 || a != uq->urb_ref ||
	    b != uq->conn_ref || c != uq->evtchn) {
		free(buf); /* another connection's, or none */
		return;
	}
	for (line = nl + 1; (nl = strchr(line, '\n')); line = nl + 1) {
		size_t n1 = (size_t)(nl - line) + 1;
		char one[512];

		if (n1 == 4 && !memcmp(line, "end\n", 4))
			break;
		if (n1 >= sizeof(one))
			continue; /* no port line is that long: corrupt */
		memcpy(one, line, n1);
		one[n1] = '\0';
		state_line(uq, one);
	}
	free(buf);
}

/* A control request of ours to a device (no slot, no answer). */
static void replay_ctrl(struct usb_queue *uq, unsigned port, uint8_t type, uint8_t request,
			uint16_t value, uint16_t index)
{
	struct dev_ref *r = uq->ports[port].ref;
	struct urb_slot *s = calloc(1, sizeof(*s));

	if (!s)
		return;
	s->uq = uq;
	s->replay = true;
	s->x.req.type = USBIF_PIPE_TYPE_CTRL;
	s->x.req.port = (uint8_t)port;
	s->x.req.devnum = uq->ports[port].addr;
	s->x.req.setup = (struct usb_setup){ type, request, value, index, 0 };
	s->x.dev = r->dev;
	r->held++;
	r->inflight++;
	uq->inflight++;
	s->state = S_DEV;
	s->t0 = pv_now_ns();
	r->dev->ops->submit(r->dev, &s->x);
}

/* After a restart: what the guest set up, set up again. */
static void state_replay(struct usb_queue *uq)
{
	for (unsigned p = 1; p <= uq->num_ports; p++) {
		struct usb_port *pt = &uq->ports[p];

		if (!pt->ref || !pt->config)
			continue;
		pv_info(pt->ref->dev->name, "restoring address %u, configuration %u", pt->addr,
			pt->config);
		replay_ctrl(uq, p, 0x00, USB_REQ_SET_CONFIGURATION, pt->config, 0);
		for (unsigned i = 0; i < USB_MAX_IFACES; i++)
			if (pt->ref && pt->alt[i])
				replay_ctrl(uq, p, USB_RECIP_INTERFACE, USB_REQ_SET_INTERFACE,
					    pt->alt[i], (uint16_t)i);
	}
}

/* A standard request that changed what the state file keeps. */
static void state_snoop(struct usb_queue *uq, unsigned port, const struct usb_req *q)
{
	struct usb_port *pt = &uq->ports[port];

	if (q->type != USBIF_PIPE_TYPE_CTRL)
		return;
	if (q->setup.bmRequestType == 0x00 && q->setup.bRequest == USB_REQ_SET_CONFIGURATION) {
		pt->config = (uint8_t)q->setup.wValue;
		memset(pt->alt, 0, sizeof(pt->alt));
	} else if (q->setup.bmRequestType == USB_RECIP_INTERFACE &&
		   q->setup.bRequest == USB_REQ_SET_INTERFACE && q->setup.wIndex < USB_MAX_IFACES) {
		pt->alt[q->setup.wIndex] = (uint8_t)q->setup.wValue;
	} else {
		return;
	}
	state_save(uq);
}

/* ------------------------------------------------------------- conn ring */

static void conn_report(struct usb_queue *uq)
{
	while (uq->conn_pending && pv_queue_want(uq->pq, RING_CONN, 1)) {
		unsigned port = (unsigned)__builtin_ctz(uq->conn_pending);
		struct usb_port *p = &uq->ports[port];
		const struct usbif_conn_request *req;
		struct usbif_conn_response *rsp;
		uint8_t speed;
		void *slot;

		if (pv_queue_next(uq->pq, RING_CONN, &slot, (const void **)&req) <= 0)
			return;
		if (p->replaced) {      /* the old device leaves first */
			speed = USBIF_SPEED_NONE;
			p->replaced = false;
		} else {
			speed = p->ref ? p->ref->dev->speed : USBIF_SPEED_NONE;
			uq->conn_pending &= ~(1u << port);
		}
		p->reported = speed;
		rsp = pv_queue_answer(uq->pq, RING_CONN, slot);
		rsp->id = req->id;
		rsp->portnum = (uint8_t)port;
		rsp->speed = speed;
		pv_debug(uq->name, "port %u: %s", port, speed ? "connected" : "empty");
	}
}

/* -------------------------------------------------------------- urb ring */

static void answer(struct usb_queue *uq, struct urb_slot *s, int32_t status, uint32_t actual,
		   uint32_t errors)
{
	struct usbif_urb_response *rsp = pv_queue_answer(uq->pq, RING_URB, s);

	rsp->id = s->x.req.id;
	rsp->start_frame = s->x.req.start_frame;
	rsp->status = status;
	rsp->actual_length = (int32_t)actual;
	rsp->error_count = (int32_t)errors;
	s->x.buf = NULL;
	s->state = S_FREE;
}

static void copy_done(void *opaque, void *owner, const struct pv_hv_copy_seg *seg)
{
	struct urb_slot *s = owner;

	if (seg->status && !s->copy_err)
		s->copy_err = seg->status;
}

/* Queue the copies of [off, off + len) of the buffer between the guest's
 * segments and buf, in the direction given. */
static void copy_range(struct usb_queue *uq, struct urb_slot *s, uint32_t off, uint32_t len,
		       bool to_guest)
{
	const struct usb_req *q = &s->x.req;
	uint32_t pos = 0;

	for (unsigned i = 0; i < q->nr_segs && len; i++) {
		uint32_t sl = q->seg[i].length, a, n;

		if (off >= pos + sl) {
			pos += sl;
			continue;
		}
		a = off - pos;
		n = sl - a < len ? sl - a : len;
		struct pv_hv_copy_seg seg = {
			.ref = q->seg[i].gref,
			.domid = uq->domid,
			.offset = (uint16_t)(q->seg[i].offset + a),
			.local = s->x.buf + off,
			.len = (uint16_t)n,
			.to_guest = to_guest,
		};
		pv_copy_batch_add(&uq->copy, &seg, s);
		off += n;
		len -= n;
		pos += sl;
	}
}

/* The iso descriptor array, between the guest's pages and s->iso. */
static void copy_iso(struct usb_queue *uq, struct urb_slot *s, bool to_guest)
{
	const struct usb_req *q = &s->x.req;
	uint8_t *p = (uint8_t *)s->iso;

	for (unsigned i = q->nr_segs; i < q->nr_segs + q->nr_iso_segs; i++) {
		struct pv_hv_copy_seg seg = {
			.ref = q->seg[i].gref,
			.domid = uq->domid,
			.offset = q->seg[i].offset,
			.local = p,
			.len = q->seg[i].length,
			.to_guest = to_guest,
		};
		pv_copy_batch_add(&uq->copy, &seg, s);
		p += q->seg[i].length;
	}
}

static int slot_buffers(struct urb_slot *s)
{
	const struct usb_req *q = &s->x.req;

	s->x.buf = NULL;
	if (q->length) {
		if (s->own_len < q->length) {
			uint8_t *b = realloc(s->own, USB_MAX_LEN);

			if (!b)
				return -ENOMEM;
			s->own = b;
			s->own_len = USB_MAX_LEN;
		}
		s->x.buf = s->own;
	}
	if (q->type == USBIF_PIPE_TYPE_ISOC && s->iso_cap < q->nr_packets) {
		struct usb_iso_desc *iso = realloc(s->iso, q->nr_packets * sizeof(*iso));

		if (!iso)
			return -ENOMEM;
		s->iso = iso;
		s->iso_cap = q->nr_packets;
	}
	s->x.iso = q->type == USBIF_PIPE_TYPE_ISOC ? s->iso : NULL;
	return 0;
}

/* SET_ADDRESS is the controller's: the address table maps the guest's
 * addresses to ports.  To address 0 it ends an enumeration (a re-enumeration
 * of an addressed device resets it first, as the port reset the frontend
 * emulated would have). */
static int32_t set_address(struct usb_queue *uq, unsigned port, const struct usb_req *q)
{
	struct usb_port *p = &uq->ports[port];
	unsigned a = q->setup.wValue;

	if (a >= USB_MAX_ADDR || q->setup.wIndex || q->setup.wLength)
		return USBIF_STATUS_STALL;
	if (q->devnum == 0 && (p->addr || p->addr_unknown) && !p->ref->held) {
		struct usb_dev *d = p->ref->dev;

		d->stats.resets++;
		if (d->ops->reset(d) < 0) {
			pv_warn(d->name, "reset failed: the device is lost");
			port_unplug(uq, port);
			return USBIF_STATUS_NODEV;
		}
	}
	if (p->addr && uq->addr[p->addr] == port)
		uq->addr[p->addr] = 0;
	if (a && uq->addr[a] && uq->addr[a] != port)   /* taken: the other port loses it */
		uq->ports[uq->addr[a]].addr = 0;
	p->addr = (uint8_t)a;
	p->addr_unknown = false;
	if (a)
		uq->addr[a] = (uint8_t)port;
	state_save(uq);
	return USBIF_STATUS_OK;
}

/* The port a request is for: devnum 0 goes by the pipe's port (the device
 * being enumerated), any other by the address table, and the pipe's port
 * must agree.  0: none (answered NODEV). */
static unsigned resolve(struct usb_queue *uq, const struct usb_req *q)
{
	unsigned port;

	if (q->devnum == 0) {
		port = q->port;
		return port >= 1 && port <= uq->num_ports && uq->ports[port].ref ? port : 0;
	}
	/* xen-hcd names the device's root-hub port in every pipe (hubs are
	 * not passed through): a pipe naming another is refused. */
	port = uq->addr[q->devnum];
	if (port)
		return port == q->port ? port : 0;
	/* After a restart the guest's addresses are unknown: adopt the one
	 * the guest uses on the port xen-hcd names in the pipe. */
	port = q->port;
	if (port >= 1 && port <= uq->num_ports && uq->ports[port].addr_unknown &&
	    uq->ports[port].ref && !uq->addr[q->devnum]) {
		uq->ports[port].addr = q->devnum;
		uq->ports[port].addr_unknown = false;
		uq->addr[q->devnum] = (uint8_t)port;
		return port;
	}
	return 0;
}

static void unlink_req(struct usb_queue *uq, struct urb_slot *s)
{
	for (unsigned i = 0; i < pv_queue_nr_slots(uq->pq, RING_URB); i++) {
		struct urb_slot *t = pv_queue_slot(uq->pq, RING_URB, i);

		if ((t->state != S_DEV && t->state != S_STAGED) ||
		    t->x.req.id != s->x.req.unlink_id || t->x.cancelled)
			continue;
		t->x.cancelled = true;
		t->x.dev->stats.unlinks++;
		if (t->state == S_DEV)  /* a staged one is answered instead of submitted */
			t->x.dev->ops->cancel(t->x.dev, &t->x);
		break;
	}
	/* Found or not (it may have completed meanwhile), as QEMU's qusb. */
	answer(uq, s, USBIF_STATUS_OK, 0, 0);
}

static void stage(struct usb_queue *uq, struct urb_slot *s)
{
	*uq->staged_tail = s;
	uq->staged_tail = &s->next;
	s->next = NULL;
	s->state = S_STAGED;
}

static void take_request(struct usb_queue *uq, struct urb_slot *s, const struct usbif_urb_request *r)
{
	struct usb_req *q = &s->x.req;
	const char *why;
	unsigned port;

	s->uq = uq;
	s->copy_err = 0;
	memset(&s->x, 0, sizeof(s->x));
	if (usb_req_parse(r, q, &why) < 0) {
		/* xen-hcd never sends these: a broken or hostile frontend. */
		q->id = r->id;
		pv_queue_violation(uq->pq, "urb request id %u: %s", r->id, why);
		return;
	}
	if (q->unlink) {
		unlink_req(uq, s);
		return;
	}
	port = resolve(uq, q);
	if (!port) {
		answer(uq, s, USBIF_STATUS_NODEV, 0, 0);
		return;
	}
	if (q->type == USBIF_PIPE_TYPE_CTRL && q->setup.bmRequestType == 0 &&
	    q->setup.bRequest == USB_REQ_SET_ADDRESS) {
		answer(uq, s, set_address(uq, port, q), 0, 0);
		return;
	}
	if (q->devnum == 0 && q->type != USBIF_PIPE_TYPE_CTRL) {
		answer(uq, s, USBIF_STATUS_INVAL, 0, 0);
		return;
	}
	s->x.dev = uq->ports[port].ref->dev;
	if (slot_buffers(s) < 0) {
		pv_warn(uq->name, "out of memory for a %u-byte transfer", q->length);
		answer(uq, s, USBIF_STATUS_SHUTDOWN, 0, 0);
		return;
	}
	if (!q->in && q->length)
		copy_range(uq, s, 0, q->length, false);
	if (q->type == USBIF_PIPE_TYPE_ISOC)
		copy_iso(uq, s, false);
	if (q->in && q->length)  /* no stale bytes of another guest's transfer */
		memset(s->x.buf, 0, q->length);
	uq->ports[port].ref->held++;
	stage(uq, s);
}

static void submit_staged(struct usb_queue *uq)
{
	struct urb_slot *s;

	if (!uq->staged)
		return;
	pv_copy_batch_flush(&uq->copy);
	while ((s = uq->staged)) {
		struct usb_xfer *x = &s->x;
		int32_t status = USBIF_STATUS_SHUTDOWN;
		struct dev_ref *r;
		const char *why;

		uq->staged = s->next;
		if (!uq->staged)
			uq->staged_tail = &uq->staged;
		r = x->dev->owner;
		if (pv_queue_dead(uq->pq))
			goto refuse;
		if (s->copy_err) {
			pv_queue_violation(uq->pq, "urb request id %u: grant copy failed: %s",
					   x->req.id, strerror(-s->copy_err));
			goto refuse;
		}
		if (x->iso && usb_iso_check(&x->req, x->iso, &why) < 0) {
			pv_queue_violation(uq->pq, "urb request id %u: %s", x->req.id, why);
			goto refuse;
		}
		if (!r->port) {  /* unplugged while staged */
			status = USBIF_STATUS_NODEV;
			goto refuse;
		}
		if (x->cancelled)   /* unlinked before it reached the device */
			goto refuse;
		r->inflight++;
		uq->inflight++;
		s->state = S_DEV;
		s->t0 = pv_now_ns();
		x->dev->stats.xfers++;
		switch (x->req.type) {
		case USBIF_PIPE_TYPE_CTRL: x->dev->stats.xfer_ctrl++; break;
		case USBIF_PIPE_TYPE_BULK: x->dev->stats.xfer_bulk++; break;
		case USBIF_PIPE_TYPE_INT: x->dev->stats.xfer_int++; break;
		default: x->dev->stats.xfer_iso++; break;
		}
		if (uq->cancelled_all)
			x->cancelled = true;
		x->dev->ops->submit(x->dev, x);
		if (uq->cancelled_all && s->state == S_DEV)
			x->dev->ops->cancel(x->dev, x);
		continue;
refuse:
		answer(uq, s, status, 0, 0);
		r->held--;
	}
}

/* usb_xfer_done's end: the device is finished with x. */
static void xfer_done(struct usb_xfer *x)
{
	struct urb_slot *s = (struct urb_slot *)x; /* x is the slot's first member */
	struct usb_queue *uq = s->uq;
	struct dev_ref *r = x->dev->owner;

	pv_stats_hist_add(&x->dev->stats.lat, pv_now_ns() - s->t0);
	r->inflight--;
	uq->inflight--;
	s->state = S_DONE;
	*uq->done_tail = s;
	uq->done_tail = &s->next;
	s->next = NULL;
	run_later(uq);
}

/* Copy back what the devices produced, then answer. */
static void finish_done(struct usb_queue *uq)
{
	struct urb_slot *s, *list = uq->done;

	if (!list)
		return;
	uq->done = NULL;
	uq->done_tail = &uq->done;
	for (s = list; s; s = s->next) {
		struct usb_xfer *x = &s->x;

		if (x->actual > x->req.length)
			x->actual = x->req.length;
		if (!x->req.in)
			continue;
		if (x->iso) {
			for (unsigned i = 0; i < x->req.nr_packets; i++) {
				struct usb_iso_desc *d = &x->iso[i];

				/* Re-checked: a device writes only what it was given. */
				if (d->actual_length > d->length)
					d->actual_length = d->length;
				copy_range(uq, s, d->offset, d->actual_length, true);
			}
		} else {
			copy_range(uq, s, 0, x->actual, true);
		}
	}
	for (s = list; s; s = s->next)
		if (s->x.iso)
			copy_iso(uq, s, true);
	pv_copy_batch_flush(&uq->copy);
	while ((s = list)) {
		struct usb_xfer *x = &s->x;
		struct dev_ref *r = x->dev->owner;
		int32_t status = x->status;

		list = s->next;
		if (s->replay) {
			if (status)
				pv_warn(x->dev->name, "restoring request %u: status %d",
					x->req.setup.bRequest, status);
			r->held--;
			free(s);
			continue;
		}
		if (!r->port)  /* unplugged meanwhile */
			status = USBIF_STATUS_NODEV;
		else if (x->cancelled && uq->cancelled_all)
			status = USBIF_STATUS_IOERROR; /* a stop: drivers retry (usbhid
							* gives up on SHUTDOWN) */
		else if (!status)
			state_snoop(uq, r->port, &x->req);
		if (s->copy_err) {  /* a grant xen-hcd did not give, or took back */
			pv_queue_violation(uq->pq, "urb request id %u: copy to the guest failed: %s",
					   x->req.id, strerror(-s->copy_err));
			status = USBIF_STATUS_SHUTDOWN;
		}
		answer(uq, s, status, x->actual, x->error_count);
		r->held--;
	}
}

/* Port changes the xenbus thread sent. */
static void take_plugs(struct usb_queue *uq)
{
	struct plug_msg *m, *list;

	pthread_mutex_lock(&uq->lock);
	list = uq->plugs;   /* oldest first */
	uq->plugs = NULL;
	pthread_mutex_unlock(&uq->lock);
	while ((m = list)) {
		list = m->next;
		port_unplug(uq, m->port);
		if (m->dev)
			port_plug(uq, m->port, m->dev);
		free(m);
	}
}

static void uq_run(struct pv_queue *pq, unsigned events)
{
	struct usb_queue *uq = pv_queue_priv(pq);
	const struct usbif_urb_request *req;
	void *slot;
	int rc;

	if (uq->in_run)
		return;
	uq->in_run = true;
	uq->run_queued = false;
	pv_queue_check_prod(pq, RING_CONN); /* a conn flood costs its device now */
	take_plugs(uq);
	do {
		finish_done(uq);
		conn_report(uq);
		while ((rc = pv_queue_next(pq, RING_URB, &slot, (const void **)&req)) > 0)
			take_request(uq, slot, req);
		submit_staged(uq);
		if (pv_queue_stopping(pq) && !uq->cancelled_all) {
			uq->cancelled_all = true; /* pending interrupt INs would hold the stop */
			cancel_held(uq, NULL);
		}
	} while (uq->done);
	pv_queue_flush(pq);
	reap(uq);
	uq->in_run = false;
}

static bool uq_poll(struct pv_queue *pq)
{
	bool busy = pv_queue_pending(pq, RING_URB);

	if (busy)
		pv_queue_run(pq);
	return busy;
}

static bool uq_idle(struct pv_queue *pq)
{
	struct usb_queue *uq = pv_queue_priv(pq);

	return !uq->inflight && !uq->done && !uq->staged;
}

static void uq_quiesce(struct pv_queue *pq)
{
}

static int uq_start(struct pv_queue *pq)
{
	struct usb_queue *uq = pv_queue_priv(pq);

	uq->pq = pq;
	uq->name = pv_queue_name(pq);
	uq->hv = pv_queue_hv(pq);
	uq->staged_tail = &uq->staged;
	uq->done_tail = &uq->done;
	pv_copy_batch_init(&uq->copy, uq->hv, copy_done, uq);
	/* Plugged without a state file: a predecessor's is read first. */
	int state_fd = uq->state_fd;

	uq->state_fd = -1;
	for (unsigned p = 1; p <= uq->num_ports; p++) {
		struct usb_dev *d = uq->opening[p];

		uq->opening[p] = NULL;
		if (d && port_plug(uq, p, d) == 0 && uq->ports[p].addr_unknown) {
			/* resumed: the guest knows this device already */
			uq->ports[p].reported = d->speed;
			uq->conn_pending &= ~(1u << p);
		}
	}
	uq->state_fd = state_fd;
	if (uq->resume && uq->state_fd >= 0) {
		state_load(uq);
		state_replay(uq);
	}
	state_save(uq);
	return 0;
}

static void uq_fini(struct pv_queue *pq)
{
	struct usb_queue *uq = pv_queue_priv(pq);
	struct plug_msg *m;
	struct dev_ref *r;

	for (unsigned p = 1; p <= uq->num_ports; p++) {
		if (uq->ports[p].ref) {
			r = uq->ports[p].ref;
			uq->ports[p].ref = NULL;
			dev_release(r);
		}
		if (uq->opening[p])
			uq->opening[p]->ops->close(uq->opening[p]);
		uq->opening[p] = NULL;
	}
	while ((r = uq->draining)) {
		uq->draining = r->next;
		dev_release(r);
	}
	while ((m = uq->plugs)) {
		uq->plugs = m->next;
		if (m->dev)
			m->dev->ops->close(m->dev);
		free(m);
	}
	if (uq->state_fd >= 0)
		close(uq->state_fd);
	uq->state_fd = -1;
	for (unsigned i = 0; i < pv_queue_nr_slots(pq, RING_URB); i++) {
		struct urb_slot *s = pv_queue_slot(pq, RING_URB, i);

		free(s->own);
		free(s->iso);
		s->own = NULL;
		s->iso = NULL;
	}
}

static const struct pv_queue_ops usb_queue_ops = {
	.proto = "usb",
	.start = uq_start,
	.run = uq_run,
	.poll = uq_poll,
	.idle = uq_idle,
	.quiesce = uq_quiesce,
	.fini = uq_fini,
};

int usb_queue_start(const struct usb_queue_params *p, struct usb_queue **out)
{
	const struct usb_config *cfg = p->cfg;
	struct usb_queue *uq = calloc(1, sizeof(*uq));
	struct pv_queue_params qp = {
		.name = p->name,
		.dev = p->dev,
		.violation = p->violation,
		.violation_opaque = p->violation_opaque,
		.idx = 0,
		.domid = p->domid,
		.hv_kind = cfg->pv.hv_kind,
		.poll_us = cfg->pv.poll_us,
		.journal_dir = cfg->pv.state_dir,
		.resume = p->resume,
		.nr_rings = 2,
		.rings = {
			[RING_URB] = {
				.name = "urb",
				.nr_refs = 1,
				.refs = { p->urb_ref },
				.ent_size = sizeof(union usbif_urb_sring_entry),
				.slot_size = sizeof(struct urb_slot),
				.port = 0,
				.journal = true,
				.drain_on_stop = true,
			},
			[RING_CONN] = {
				.name = "conn",
				.nr_refs = 1,
				.refs = { p->conn_ref },
				.ent_size = sizeof(union usbif_conn_sring_entry),
				.slot_size = sizeof(struct conn_slot),
				.port = 0,
				.journal = true,
				.drain_on_stop = false,
			},
		},
		.nr_ports = 1,
		.ports = { p->evtchn },
	};
	int rc;

	if (!uq) {
		for (unsigned i = 1; i <= p->num_ports; i++)
			if (p->ports[i])
				p->ports[i]->ops->close(p->ports[i]);
		if (p->state_fd >= 0)
			close(p->state_fd);
		return -ENOMEM;
	}
	pthread_mutex_init(&uq->lock, NULL);
	uq->state_fd = p->state_fd;
	uq->domid = qp.domid;
	uq->resume = p->resume;
	uq->urb_ref = p->urb_ref;
	uq->conn_ref = p->conn_ref;
	uq->evtchn = p->evtchn;
	uq->usb_ver = p->usb_ver;
	uq->num_ports = p->num_ports;
	for (unsigned i = 1; i <= p->num_ports; i++) {
		uq->opening[i] = p->ports[i];
		uq->ports[i].addr_unknown = p->resume && p->ports[i];
	}
	qp.priv = uq;
	rc = pv_queue_start(&usb_queue_ops, &qp, &uq->pq);
	if (rc < 0) {
		/* fini ran (it closes every device) when start got that far */
		for (unsigned i = 1; i <= p->num_ports; i++)
			if (uq->opening[i])
				uq->opening[i]->ops->close(uq->opening[i]);
		if (uq->state_fd >= 0) /* fini did not run */
			close(uq->state_fd);
		pthread_mutex_destroy(&uq->lock);
		free(uq);
		return rc;
	}
	*out = uq;
	return 0;
}

void usb_queue_stop(struct usb_queue *uq)
{
	if (!uq)
		return;
	pv_queue_stop(uq->pq);
	pthread_mutex_destroy(&uq->lock);
	free(uq);
}

int usb_queue_plug(struct usb_queue *uq, unsigned port, struct usb_dev *d)
{
	struct plug_msg *m, **pp;

	if (port < 1 || port > uq->num_ports)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m) {
		if (d)
			d->ops->close(d);
		return -ENOMEM;
	}
	m->port = port;
	m->dev = d;
	pthread_mutex_lock(&uq->lock);
	for (pp = &uq->plugs; *pp; pp = &(*pp)->next)
		;
	*pp = m;   /* in order: a plug after an unplug of the same port */
	pthread_mutex_unlock(&uq->lock);
	/* The message is the queue's now: fini closes it if no run takes it. */
	return pv_loop_call(pv_queue_loop(uq->pq), run_call, uq->pq);
}

static void port_info(struct usb_queue *uq, unsigned port, struct usb_port_info *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&uq->lock);
	if (uq->ports[port].ref) {
		struct dev_ref *r = uq->ports[port].ref;

		out->present = true;
		out->speed = r->dev->speed;
		out->addr = uq->ports[port].addr;
		snprintf(out->spec, sizeof(out->spec), "%s", r->dev->spec);
		out->stats = r->dev->stats;
		out->inflight = r->inflight;
	}
	pthread_mutex_unlock(&uq->lock);
}

void usb_queue_snap(struct usb_queue *uq, struct usb_ctrl_snap *s)
{
	s->num_ports = uq->num_ports;
	s->connected = true;
	for (unsigned p = 1; p <= uq->num_ports; p++)
		port_info(uq, p, &s->port[p]);
	pv_queue_info(uq->pq, RING_URB, &s->ring[RING_URB]);
	pv_queue_info(uq->pq, RING_CONN, &s->ring[RING_CONN]);
}

struct pv_queue *usb_queue_pv(struct usb_queue *uq)
{
	return uq->pq;
}
