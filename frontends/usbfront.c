// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Userspace usbif frontend (see usbfront.h for the contract), after Linux
 * 6.1's xen-hcd: a shadow entry per urb-ring id, a software queue for URBs
 * (and unlinks) that find the ring full, the conn ring's slots all posted
 * and each answered one re-posted with its id.  Responses are copied out
 * of the ring once before use; the backend is not trusted (ids, indexes,
 * ports and speeds are checked, grants must be released).  Owns its pv_hv
 * and pv_xs; the xenbus side goes through libpvfront.  One thread.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/xenbus.h>
#include <xen/io/usbif.h>

#include "pvcommon.h"
#include "pvring.h"
#include "pvfront.h"
#include "usbfront.h"

#define UF_MAX_SLOTS 64u  /* urb ring entries of one page: 16 */
#define UF_RAW_MAX   64u  /* raw responses kept */
#define UF_ADDR_MAX  128u

struct uf_shadow {
	bool in_flight;
	bool raw;                    /* a raw request's id */
	bool unlink;                 /* an unlink request */
	struct usbfront_urb *urb;    /* the URB it carries (or unlinks) */
	void *data;                  /* granted data pages, data_pages of them */
	unsigned data_pages;
	void *isod;                  /* granted iso descriptor pages */
	unsigned iso_pages;
	uint32_t data_off, iso_off;  /* where the data / descriptors start in them */
};

struct uf_port {
	uint8_t speed;               /* USBIF_SPEED_* from the conn ring */
	uint8_t addr;                /* the address given by enumeration, 0 */
	unsigned events;
};

struct usbfront {
	struct pv_hv *hv;
	struct pv_xs *xs;
	struct pvfront *f;
	uint16_t backend;
	int timeout_ms;
	unsigned poll_us;
	bool disconnected;
	const char *broken;
	struct usbfront_info info;
	struct pvfront_ring urb, conn;
	struct uf_shadow shadow[UF_MAX_SLOTS];
	unsigned free_ids[UF_MAX_SLOTS], nr_free;
	struct usbfront_urb *pend_head, *pend_tail;     /* waiting for a slot */
	struct usbfront_urb *unl_head, *unl_tail;       /* unlinks waiting for a slot */
	unsigned inflight;                              /* submitted, not completed */
	struct uf_port ports[USBFRONT_MAX_PORTS + 1];
	bool addr_used[UF_ADDR_MAX];
	unsigned raw_out;
	struct usbif_urb_response raw_rsp[UF_RAW_MAX];
	unsigned nr_raw_rsp;
};

const struct usbfront_info *usbfront_info(const struct usbfront *uf) { return &uf->info; }
const char *usbfront_broken(const struct usbfront *uf) { return uf->broken; }
unsigned usbfront_inflight(const struct usbfront *uf) { return uf->inflight; }
struct pvfront_ring *usbfront_urb_ring(struct usbfront *uf) { return &uf->urb; }
struct pvfront_ring *usbfront_conn_ring(struct usbfront *uf) { return &uf->conn; }
unsigned usbfront_raw_outstanding(const struct usbfront *uf) { return uf->raw_out; }

int usbfront_backend_state(struct usbfront *uf)
{
	return pvfront_backend_state(uf->f);
}

int usbfront_share(struct usbfront *uf, unsigned count, bool writable, uint32_t *refs,
		   void **addr)
{
	return pv_hv_share(uf->hv, uf->backend, count, writable, refs, addr);
}

int usbfront_unshare(struct usbfront *uf, void *addr, unsigned count)
{
	return pv_hv_unshare(uf->hv, addr, count);
}

int usbfront_notify(struct usbfront *uf)
{
	return pvfront_ring_notify(uf->hv, &uf->urb);
}

char *usbfront_port_spec(struct usbfront *uf, unsigned port)
{
	char key[16];

	snprintf(key, sizeof(key), "port/%u", port);
	return pvfront_read_be(uf->f, key);
}

int usbfront_port_speed(const struct usbfront *uf, unsigned port)
{
	if (port < 1 || port > uf->info.num_ports)
		return -EINVAL;
	return uf->ports[port].speed;
}

unsigned usbfront_port_events(const struct usbfront *uf, unsigned port)
{
	return port >= 1 && port <= uf->info.num_ports ? uf->ports[port].events : 0;
}

/* ------------------------------------------------------------- failures */

static void complete_urb(struct usbfront *uf, struct usbfront_urb *u, int status)
{
	u->status = status;
	u->completed = true;
	u->id = -1;
	uf->inflight--;
	if (u->done)
		u->done(uf, u);
}

/* xen-hcd's xenhcd_set_error: the first reason sticks.  Everything queued
 * completes -ESHUTDOWN now; URBs on the ring too (their grants stay: the
 * backend may still map them; close tries to end them). */
static int set_broken(struct usbfront *uf, const char *why)
{
	struct usbfront_urb *u;
	unsigned i;

	if (uf->broken)
		return -EIO;
	uf->broken = why;
	while ((u = uf->pend_head)) {
		uf->pend_head = u->next;
		complete_urb(uf, u, -ESHUTDOWN);
	}
	uf->pend_tail = NULL;
	while ((u = uf->unl_head)) {
		uf->unl_head = u->next;
		complete_urb(uf, u, -ESHUTDOWN);
	}
	uf->unl_tail = NULL;
	for (i = 0; i < uf->urb.front.nr_ents; i++) {
		struct uf_shadow *s = &uf->shadow[i];

		if (s->in_flight && !s->unlink && !s->raw && s->urb && !s->urb->completed) {
			u = s->urb;
			s->urb = NULL;
			complete_urb(uf, u, -ESHUTDOWN);
		}
	}
	return -EIO;
}

/* ------------------------------------------------------------ handshake */

static int write_keys(struct pvfront *f, uint32_t t, void *opaque)
{
	struct usbfront *uf = opaque;
	int rc;

	/* xen-hcd writes exactly these three keys (no "protocol"). */
	rc = pvfront_ring_write_keys(f, t, &uf->urb, "", "urb-ring-ref", "event-channel");
	return rc ?: pvfront_ring_write_keys(f, t, &uf->conn, "", "conn-ring-ref", NULL);
}

/* xenhcd_connect: every conn slot is posted, its id its index. */
static void conn_post_all(struct usbfront *uf)
{
	unsigned i;

	for (i = 0; i < uf->conn.front.nr_ents; i++) {
		struct usbif_conn_request *req = pv_ring_front_req_slot(&uf->conn.front);

		req->id = (uint16_t)i;
	}
	if (pv_ring_front_push(&uf->conn.front))
		pv_hv_evtchn_notify(uf->hv, (uint32_t)uf->urb.port);
}

int usbfront_open(const struct usbfront_opts *opts, struct usbfront **out)
{
	struct usbfront *uf = calloc(1, sizeof(*uf));
	uint64_t v;
	unsigned i;
	bool stale;
	int rc, st;

	if (!uf)
		return -ENOMEM;
	uf->urb.port = uf->conn.port = -1;
	uf->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 10000;
	uf->poll_us = opts->poll_us;
	uf->addr_used[0] = uf->addr_used[1] = true; /* default address, the root hub */
	rc = pvfront_env_open("vusb", opts->devid, &uf->hv, &uf->xs, &uf->f);
	if (rc < 0)
		goto fail;
	uf->backend = pvfront_backend_id(uf->f);
	/* A previous user that died without closing left the backend on its
	 * rings: close that connection first, so that what we wait for below
	 * is the backend's answer to us. */
	st = pvfront_backend_state(uf->f);
	stale = st == XenbusStateInitialised || st == XenbusStateConnected ||
		st == XenbusStateClosing;
	if (stale)
		pvfront_disconnect(uf->f, uf->timeout_ms);
	/* A previous user may have left us Closed: Initialising asks the
	 * backend to go back to InitWait (reconnect). */
	rc = pvfront_switch_state(uf->f, XenbusStateInitialising);
	if (rc < 0)
		goto fail;
	/* xenhcd_backend_changed connects on InitWait, Initialised or Connected. */
	rc = pvfront_wait_backend(uf->f, PVFRONT_STATE(XenbusStateInitWait) |
				  (stale ? 0 : PVFRONT_STATE(XenbusStateInitialised) |
				   PVFRONT_STATE(XenbusStateConnected)), uf->timeout_ms);
	if (rc < 0)
		goto fail;
	/* xenhcd_create_hcd reads both from the backend, or fails the device. */
	rc = pvfront_read_be_uint(uf->f, "num-ports", 1, USBIF_MAX_PORTNR, &v);
	if (rc < 0)
		goto fail;
	uf->info.num_ports = (unsigned)v;
	rc = pvfront_read_be_uint(uf->f, "usb-ver", 1, 2, &v);
	if (rc < 0)
		goto fail;
	uf->info.usb_ver = (unsigned)v;

	rc = pvfront_ring_setup(uf->f, uf->hv, 0, sizeof(struct usbif_urb_request), true, &uf->urb);
	if (rc < 0)
		goto fail;
	/* The conn ring kicks through the urb ring's port, as xen-hcd's one irq. */
	rc = pvfront_ring_setup(uf->f, uf->hv, 0, sizeof(struct usbif_conn_response), false,
				&uf->conn);
	if (rc < 0)
		goto fail;
	uf->info.urb_slots = uf->urb.front.nr_ents;
	uf->info.conn_slots = uf->conn.front.nr_ents;
	if (uf->info.urb_slots > UF_MAX_SLOTS) {
		rc = -EINVAL;
		goto fail;
	}
	for (i = uf->info.urb_slots; i-- > 0;)
		uf->free_ids[uf->nr_free++] = i;
	rc = pvfront_transaction(uf->f, write_keys, uf);
	if (rc < 0)
		goto fail;
	conn_post_all(uf);
	if (opts->direct_connect) {
		rc = pvfront_switch_state(uf->f, XenbusStateConnected);
		if (rc == 0)
			rc = pvfront_wait_backend(uf->f, PVFRONT_STATE(XenbusStateConnected),
						  uf->timeout_ms);
		if (rc > 0)
			rc = 0;
	} else {
		rc = pvfront_switch_wait(uf->f, XenbusStateInitialised, XenbusStateConnected,
					 uf->timeout_ms);
		if (rc == 0)
			rc = pvfront_switch_state(uf->f, XenbusStateConnected);
	}
	if (rc < 0)
		goto fail;
	*out = uf;
	return 0;
fail:
	usbfront_close(uf);
	return rc;
}

static void shadow_release(struct usbfront *uf, struct uf_shadow *s)
{
	if (s->data && pv_hv_unshare(uf->hv, s->data, s->data_pages) == 0)
		s->data = NULL;
	if (s->isod && pv_hv_unshare(uf->hv, s->isod, s->iso_pages) == 0)
		s->isod = NULL;
}

void usbfront_close(struct usbfront *uf)
{
	unsigned i;

	if (!uf)
		return;
	if (uf->f && !uf->disconnected) {
		uf->disconnected = true;
		pvfront_disconnect(uf->f, uf->timeout_ms);
	}
	if (!uf->broken)
		set_broken(uf, "closed");
	/* The backend unmapped everything before it reached Closed. */
	for (i = 0; i < UF_MAX_SLOTS; i++)
		shadow_release(uf, &uf->shadow[i]);
	if (uf->hv) {
		pvfront_ring_teardown(uf->hv, &uf->urb);
		pvfront_ring_teardown(uf->hv, &uf->conn);
	}
	pvfront_env_close(&uf->hv, &uf->xs, &uf->f);
	free(uf);
}

/* ------------------------------------------------------------------ URBs */

static uint32_t pipe_of(const struct usbfront_urb *u)
{
	uint32_t pipe = (uint32_t)(u->devnum & USBIF_PIPE_DEV_MASK) << USBIF_PIPE_DEV_SHIFT;

	pipe |= (uint32_t)(u->ep & USBIF_PIPE_EP_MASK) << USBIF_PIPE_EP_SHIFT;
	if (u->in)
		pipe |= USBIF_PIPE_DIR;
	pipe |= (uint32_t)(u->type & USBIF_PIPE_TYPE_MASK) << USBIF_PIPE_TYPE_SHIFT;
	return pipe | (u->port & USBIF_PIPE_PORT_MASK);
}

static unsigned pages_of(uintptr_t addr, size_t len)
{
	return len ? (unsigned)(((addr % PV_PAGE_SIZE) + len + PV_PAGE_SIZE - 1) / PV_PAGE_SIZE) : 0;
}

/* xenhcd_gnttab_map: segments over pages, the first at off. */
static unsigned fill_segs(struct usbif_request_segment *seg, const uint32_t *refs, unsigned n,
			  uint32_t off, uint32_t len)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		uint32_t bytes = PV_PAGE_SIZE - off;

		if (bytes > len)
			bytes = len;
		seg[i] = (struct usbif_request_segment){ .gref = refs[i], .offset = (uint16_t)off,
							 .length = (uint16_t)bytes };
		len -= bytes;
		off = 0;
	}
	return n;
}

static int put_request(struct usbfront *uf, const struct usbif_urb_request *req)
{
	memcpy(pv_ring_front_req_slot(&uf->urb.front), req, sizeof(*req));
	if (pv_ring_front_push(&uf->urb.front))
		pv_hv_evtchn_notify(uf->hv, (uint32_t)uf->urb.port);
	return 0;
}

/* xenhcd_do_request for a URB (or its unlink) when a slot and an id are free. */
static int do_request(struct usbfront *uf, struct usbfront_urb *u)
{
	struct usbif_urb_request req = { 0 };
	uint32_t refs[USBFRONT_MAX_SEGS];
	struct uf_shadow *s;
	unsigned id, nd, ni;
	int rc;

	id = uf->free_ids[--uf->nr_free];
	s = &uf->shadow[id];
	memset(s, 0, sizeof(*s));
	req.id = (uint16_t)id;
	req.pipe = pipe_of(u);
	if (u->unlinked) {
		req.pipe |= USBIF_PIPE_UNLINK;
		req.u.unlink.unlink_id = (uint16_t)u->id;
		s->unlink = true;
		u->unlink_id = (int)id;
	} else {
		nd = pages_of((uintptr_t)u->buf, u->length);
		ni = u->type == USBFRONT_ISO && u->length ?
			pages_of((uintptr_t)u->iso, (size_t)u->nr_packets * USBFRONT_ISO_DESC_SIZE) : 0;
		s->data_off = (uint32_t)((uintptr_t)u->buf % PV_PAGE_SIZE);
		s->iso_off = (uint32_t)((uintptr_t)u->iso % PV_PAGE_SIZE);
		if (nd) {
			/* OUT data only needs reading: granted read-only. */
			rc = pv_hv_share(uf->hv, uf->backend, nd, u->in, refs, &s->data);
			if (rc < 0)
				goto fail;
			s->data_pages = nd;
			if (!u->in)
				memcpy((char *)s->data + s->data_off, u->buf, u->length);
			req.nr_buffer_segs = (uint16_t)fill_segs(req.seg, refs, nd, s->data_off,
								 u->length);
		}
		if (ni) {
			rc = pv_hv_share(uf->hv, uf->backend, ni, true, refs, &s->isod);
			if (rc < 0)
				goto fail;
			s->iso_pages = ni;
			memcpy((char *)s->isod + s->iso_off, u->iso,
			       (size_t)u->nr_packets * USBFRONT_ISO_DESC_SIZE);
			fill_segs(req.seg + nd, refs, ni, s->iso_off,
				  (uint32_t)u->nr_packets * USBFRONT_ISO_DESC_SIZE);
		}
		req.transfer_flags = u->flags;
		req.buffer_length = (uint16_t)u->length;
		switch (u->type) {
		case USBFRONT_ISO:
			req.u.isoc.interval = u->interval;
			req.u.isoc.start_frame = u->start_frame;
			req.u.isoc.number_of_packets = u->nr_packets;
			req.u.isoc.nr_frame_desc_segs = (uint16_t)ni;
			break;
		case USBFRONT_INT:
			req.u.intr.interval = u->interval;
			break;
		case USBFRONT_CTRL:
			memcpy(req.u.ctrl, u->setup, 8);
			break;
		default:
			break;
		}
		u->id = (int)id;
	}
	s->urb = u;
	s->in_flight = true;
	return put_request(uf, &req);
fail:
	shadow_release(uf, s);
	memset(s, 0, sizeof(*s));
	uf->free_ids[uf->nr_free++] = id;
	return rc;
}

static bool slot_free(const struct usbfront *uf)
{
	return uf->nr_free && pv_ring_front_free(&uf->urb.front);
}

/* xenhcd_kick_pending_urbs, unlinks first. */
static void kick_pending(struct usbfront *uf)
{
	struct usbfront_urb *u;

	while (!uf->broken && uf->unl_head && slot_free(uf)) {
		u = uf->unl_head;
		uf->unl_head = u->next;
		if (!uf->unl_head)
			uf->unl_tail = NULL;
		do_request(uf, u);
	}
	while (!uf->broken && uf->pend_head && slot_free(uf)) {
		u = uf->pend_head;
		uf->pend_head = u->next;
		if (!uf->pend_head)
			uf->pend_tail = NULL;
		if (do_request(uf, u) < 0)
			complete_urb(uf, u, -ESHUTDOWN); /* as xen-hcd's kick */
	}
}

static void enqueue(struct usbfront_urb **head, struct usbfront_urb **tail, struct usbfront_urb *u)
{
	u->next = NULL;
	if (*tail)
		(*tail)->next = u;
	else
		*head = u;
	*tail = u;
}

int usbfront_submit(struct usbfront *uf, struct usbfront_urb *u)
{
	unsigned nd, ni;

	if (uf->broken)
		return -ESHUTDOWN;
	if (u->length > USBFRONT_MAX_LEN || (u->length && !u->buf) || u->type > USBFRONT_BULK ||
	    u->ep > 15 || u->devnum > 127 || u->port > USBIF_PIPE_PORT_MASK ||
	    (u->type == USBFRONT_ISO && (!u->nr_packets || !u->iso)))
		return -EINVAL;
	nd = pages_of((uintptr_t)u->buf, u->length);
	ni = u->type == USBFRONT_ISO && u->length ?
		pages_of((uintptr_t)u->iso, (size_t)u->nr_packets * USBFRONT_ISO_DESC_SIZE) : 0;
	if (nd + ni > USBFRONT_MAX_SEGS)
		return -E2BIG;
	u->status = 0;
	u->rsp_status = 0;
	u->actual = u->error_count = 0;
	u->rsp_start_frame = 0;
	u->answered = u->completed = u->unlinked = false;
	u->id = u->unlink_id = -1;
	u->next = NULL;
	uf->inflight++;
	if (!uf->pend_head && slot_free(uf)) {
		int rc = do_request(uf, u);

		if (rc < 0) {
			uf->inflight--;
			return rc;
		}
		return 0;
	}
	enqueue(&uf->pend_head, &uf->pend_tail, u);
	return 0;
}

int usbfront_unlink(struct usbfront *uf, struct usbfront_urb *u)
{
	struct usbfront_urb **pp;

	if (u->completed)
		return -ENOENT;
	if (u->unlinked)
		return -EBUSY;
	u->unlinked = true;
	if (u->id < 0) {
		/* Still in our queue: the backend never saw it. */
		for (pp = &uf->pend_head; *pp && *pp != u; pp = &(*pp)->next)
			;
		if (!*pp)
			return -ENOENT;
		*pp = u->next;
		uf->pend_tail = NULL;
		for (struct usbfront_urb *t = uf->pend_head; t; t = t->next)
			uf->pend_tail = t;
		complete_urb(uf, u, -ECONNRESET);
		return 0;
	}
	if (!uf->unl_head && slot_free(uf))
		return do_request(uf, u);
	enqueue(&uf->unl_head, &uf->unl_tail, u);
	return 0;
}

/* xen-hcd's xenhcd_translate_status. */
static int translate(int32_t st)
{
	switch (st) {
	case USBIF_STATUS_OK: return 0;
	case USBIF_STATUS_NODEV: return -ENODEV;
	case USBIF_STATUS_INVAL: return -EINVAL;
	case USBIF_STATUS_STALL: return -EPIPE;
	case USBIF_STATUS_IOERROR: return -EPROTO;
	case USBIF_STATUS_BABBLE: return -EOVERFLOW;
	default: return -ESHUTDOWN;
	}
}

static void raw_record(struct usbfront *uf, const struct usbif_urb_response *r)
{
	if (uf->raw_out)
		uf->raw_out--;
	if (uf->nr_raw_rsp < UF_RAW_MAX)
		uf->raw_rsp[uf->nr_raw_rsp++] = *r;
}

/* One urb response (xenhcd_urb_request_done + xenhcd_gnttab_done). */
static int urb_response(struct usbfront *uf, const struct usbif_urb_response *r)
{
	struct usbfront_urb *u;
	struct uf_shadow *s;

	if ((unsigned)r->id >= uf->urb.front.nr_ents) {
		if (uf->raw_out) {
			raw_record(uf, r);
			return 0;
		}
		return set_broken(uf, "Illegal data on urb-ring");
	}
	s = &uf->shadow[r->id];
	if (!s->in_flight) {
		if (uf->raw_out) {
			raw_record(uf, r);
			return 0;
		}
		return set_broken(uf, "Illegal request id");
	}
	if (s->raw) {
		raw_record(uf, r);
		s->in_flight = false;
		uf->free_ids[uf->nr_free++] = r->id;
		return 0;
	}
	u = s->urb;
	if (s->unlink) {
		/* The unlinked URB completes on its own response. */
		s->in_flight = false;
		uf->free_ids[uf->nr_free++] = r->id;
		return 0;
	}
	if (u && !u->completed) {
		/* What the device wrote, taken before the pages go (they are
		 * freed with the end of access); worthless if that fails. */
		u->actual = r->actual_length < 0 ? 0 : (uint32_t)r->actual_length;
		if (u->actual > u->length)
			u->actual = u->length;
		if (u->in && u->actual && s->data)
			memcpy(u->buf, (char *)s->data + s->data_off, u->actual);
		if (s->isod)
			memcpy(u->iso, (char *)s->isod + s->iso_off,
			       (size_t)u->nr_packets * USBFRONT_ISO_DESC_SIZE);
	}
	/* End access to every grant before the URB completes. */
	if (s->data && pv_hv_unshare(uf->hv, s->data, s->data_pages) < 0)
		return set_broken(uf, "backend didn't release grant");
	s->data = NULL;
	if (s->isod && pv_hv_unshare(uf->hv, s->isod, s->iso_pages) < 0)
		return set_broken(uf, "backend didn't release grant");
	s->isod = NULL;
	s->in_flight = false;
	if (!u || u->completed) {
		uf->free_ids[uf->nr_free++] = r->id;
		return 0;
	}
	u->answered = true;
	u->rsp_status = r->status;
	u->error_count = r->error_count < 0 ? 0 : (uint32_t)r->error_count;
	u->rsp_start_frame = r->start_frame;
	uf->free_ids[uf->nr_free++] = r->id;
	complete_urb(uf, u, u->unlinked ? -ECONNRESET : translate(r->status));
	return 0;
}

static int process_urb_ring(struct usbfront *uf)
{
	int n, done = 0;

	do {
		n = pv_ring_front_avail(&uf->urb.front);
		if (n < 0)
			return set_broken(uf, "Illegal index on urb-ring");
		while (n-- > 0) {
			struct usbif_urb_response r;

			pv_ring_front_copy_rsp(&uf->urb.front, &r, sizeof(r));
			if (urb_response(uf, &r) < 0)
				return -EIO;
			done++;
		}
	} while (pv_ring_front_final_check(&uf->urb.front));
	kick_pending(uf);
	return done;
}

/* xenhcd_conn_notify: port events, each slot re-posted with its id. */
static int process_conn_ring(struct usbfront *uf)
{
	int n, done = 0;

	do {
		n = pv_ring_front_avail(&uf->conn.front);
		if (n < 0)
			return set_broken(uf, "Illegal index on conn-ring");
		while (n-- > 0) {
			struct usbif_conn_response r;
			struct usbif_conn_request *req;
			struct uf_port *p;

			pv_ring_front_copy_rsp(&uf->conn.front, &r, sizeof(r));
			if (r.portnum < 1 || (unsigned)r.portnum > uf->info.num_ports ||
			    r.speed > USBIF_SPEED_HIGH)
				return set_broken(uf, "Illegal data on conn-ring");
			p = &uf->ports[r.portnum];
			if (p->speed != r.speed) {
				/* A new device (or none): it has no address yet. */
				uf->addr_used[p->addr] = p->addr < 2;
				p->addr = 0;
				p->speed = r.speed;
			}
			p->events++;
			req = pv_ring_front_req_slot(&uf->conn.front);
			req->id = r.id;
			done++;
		}
	} while (pv_ring_front_final_check(&uf->conn.front));
	if (done && pv_ring_front_push(&uf->conn.front))
		pv_hv_evtchn_notify(uf->hv, (uint32_t)uf->urb.port);
	return done;
}

static int process(struct usbfront *uf)
{
	int a, b;

	if (uf->broken)
		return -EIO;
	a = process_urb_ring(uf);
	if (a < 0)
		return a;
	b = process_conn_ring(uf);
	if (b < 0)
		return b;
	return a + b;
}

static int remaining_ms(uint64_t deadline);

int usbfront_poll(struct usbfront *uf, int timeout_ms)
{
	uint64_t deadline = pv_now_ns() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000ull;
	struct pollfd pfd = { .fd = pv_hv_evtchn_fd(uf->hv), .events = POLLIN };
	int n, rc, port;

	for (;;) {
		n = process(uf);
		if (n != 0 || timeout_ms == 0)
			return n;
		if (uf->poll_us) {
			uint64_t end = pv_now_ns() + uf->poll_us * 1000ull;

			while (!(n = process(uf)) && pv_now_ns() < end)
				;
			if (n)
				return n;
		}
		/* An event may be left from responses handled already: wait
		 * again until something new arrives or the time is up. */
		rc = poll(&pfd, 1, timeout_ms < 0 ? -1 : remaining_ms(deadline));
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc > 0) {
			/* One port on this handle: one pending() per wake-up. */
			port = pv_hv_evtchn_pending(uf->hv);
			if (port >= 0)
				pv_hv_evtchn_unmask(uf->hv, (uint32_t)port);
		} else if (rc == 0) {
			return process(uf);
		}
	}
}

static int remaining_ms(uint64_t deadline)
{
	uint64_t now = pv_now_ns();

	return now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
}

int usbfront_wait_port(struct usbfront *uf, unsigned port, bool want, int timeout_ms)
{
	uint64_t deadline = pv_now_ns() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000ull;
	int rc;

	if (port < 1 || port > uf->info.num_ports)
		return -EINVAL;
	for (;;) {
		if ((uf->ports[port].speed != USBIF_SPEED_NONE) == want)
			return 0;
		if (timeout_ms >= 0 && !remaining_ms(deadline))
			return -ETIMEDOUT;
		rc = usbfront_poll(uf, timeout_ms < 0 ? -1 : remaining_ms(deadline));
		if (rc < 0)
			return rc;
	}
}

int usbfront_port_reset(struct usbfront *uf, unsigned port)
{
	struct uf_port *p;

	if (port < 1 || port > uf->info.num_ports)
		return -EINVAL;
	p = &uf->ports[port];
	if (p->speed == USBIF_SPEED_NONE)
		return -ENODEV;
	uf->addr_used[p->addr] = p->addr < 2;
	p->addr = 0;
	return 0;
}

int usbfront_run(struct usbfront *uf, struct usbfront_urb *u, int timeout_ms)
{
	uint64_t deadline = pv_now_ns() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000ull;
	bool timed_out = false;
	int rc;

	rc = usbfront_submit(uf, u);
	if (rc < 0)
		return rc;
	while (!u->completed) {
		if (!timed_out && timeout_ms >= 0 && !remaining_ms(deadline)) {
			/* usb_start_wait_urb: kill it, report the timeout. */
			timed_out = true;
			usbfront_unlink(uf, u);
			deadline = pv_now_ns() + (uint64_t)uf->timeout_ms * 1000000ull;
			continue;
		}
		if (timed_out && !remaining_ms(deadline))
			return -ETIMEDOUT; /* the backend did not even answer the unlink */
		rc = usbfront_poll(uf, remaining_ms(deadline) ?: 1);
		if (rc < 0 && !u->completed)
			return -ESHUTDOWN;
	}
	if (timed_out && u->status == -ECONNRESET)
		return -ETIMEDOUT;
	return u->status;
}

int usbfront_control(struct usbfront *uf, unsigned port, unsigned devnum, uint8_t bmRequestType,
		     uint8_t bRequest, uint16_t wValue, uint16_t wIndex, void *data,
		     uint16_t wLength, int timeout_ms)
{
	struct usbfront_urb u = {
		.port = (uint8_t)port, .devnum = (uint8_t)devnum, .ep = 0, .type = USBFRONT_CTRL,
		.in = (bmRequestType & 0x80) != 0, .buf = data, .length = wLength,
	};
	int rc;

	u.setup[0] = bmRequestType;
	u.setup[1] = bRequest;
	u.setup[2] = (uint8_t)wValue;
	u.setup[3] = (uint8_t)(wValue >> 8);
	u.setup[4] = (uint8_t)wIndex;
	u.setup[5] = (uint8_t)(wIndex >> 8);
	u.setup[6] = (uint8_t)wLength;
	u.setup[7] = (uint8_t)(wLength >> 8);
	rc = usbfront_run(uf, &u, timeout_ms);
	return rc < 0 ? rc : (int)u.actual;
}

/* ----------------------------------------------------------- raw hooks */

int usbfront_submit_raw(struct usbfront *uf, const struct usbif_urb_request *req)
{
	unsigned i;
	int rc;

	if (!pv_ring_front_free(&uf->urb.front))
		return -EAGAIN;
	/* Reserve the id when it is one of ours and free, so no URB of ours
	 * is answered by the raw request's response. */
	for (i = 0; i < uf->nr_free; i++) {
		if (uf->free_ids[i] == (unsigned)req->id) {
			uf->free_ids[i] = uf->free_ids[--uf->nr_free];
			memset(&uf->shadow[req->id], 0, sizeof(uf->shadow[0]));
			uf->shadow[req->id].in_flight = true;
			uf->shadow[req->id].raw = true;
			break;
		}
	}
	rc = pvfront_ring_put_raw(&uf->urb, req, sizeof(*req));
	if (rc < 0)
		return rc;
	uf->raw_out++;
	pv_ring_front_push(&uf->urb.front);
	return pv_hv_evtchn_notify(uf->hv, (uint32_t)uf->urb.port);
}

unsigned usbfront_raw_responses(struct usbfront *uf, struct usbif_urb_response *out, unsigned max)
{
	unsigned n = uf->nr_raw_rsp < max ? uf->nr_raw_rsp : max;

	memcpy(out, uf->raw_rsp, n * sizeof(*out));
	memmove(uf->raw_rsp, uf->raw_rsp + n, (uf->nr_raw_rsp - n) * sizeof(*out));
	uf->nr_raw_rsp -= n;
	return n;
}

/* ---------------------------------------------------------- enumeration */

#define USB_DT_DEVICE 1
#define USB_DT_CONFIG 2
#define USB_DT_STRING 3
#define USB_DT_INTERFACE 4
#define USB_DT_ENDPOINT 5

static int get_desc(struct usbfront *uf, unsigned port, unsigned addr, uint8_t type, uint8_t idx,
		    uint16_t lang, void *buf, uint16_t len, int timeout_ms)
{
	return usbfront_control(uf, port, addr, 0x80, 0x06 /* GET_DESCRIPTOR */,
				(uint16_t)(type << 8 | idx), lang, buf, len, timeout_ms);
}

void usbfront_dev_free(struct usbfront_dev *d)
{
	unsigned i;

	for (i = 0; i < 8; i++) {
		free(d->config[i]);
		d->config[i] = NULL;
	}
}

int usbfront_get_string(struct usbfront *uf, const struct usbfront_dev *d, uint8_t index,
			char *out, size_t outlen, int timeout_ms)
{
	uint8_t buf[255];
	size_t o = 0;
	int rc, i;

	if (!outlen)
		return -EINVAL;
	out[0] = 0;
	if (!index)
		return 0;
	rc = get_desc(uf, d->port, d->addr, USB_DT_STRING, index, d->langid, buf, sizeof(buf),
		      timeout_ms);
	if (rc < 0)
		return rc;
	if (rc < 2 || buf[1] != USB_DT_STRING || buf[0] > rc)
		return -EPROTO;
	for (i = 2; i + 1 < buf[0] && o + 1 < outlen; i += 2)
		out[o++] = buf[i + 1] == 0 && buf[i] >= 0x20 && buf[i] < 0x7f ? (char)buf[i] : '?';
	out[o] = 0;
	return 0;
}

static int alloc_addr(struct usbfront *uf)
{
	unsigned a;

	for (a = 2; a < UF_ADDR_MAX; a++)
		if (!uf->addr_used[a]) {
			uf->addr_used[a] = true;
			return (int)a;
		}
	return -ENOSPC;
}

int usbfront_enumerate(struct usbfront *uf, unsigned port, int config, struct usbfront_dev *d,
		       int timeout_ms)
{
	uint8_t buf[255];
	unsigned i;
	int rc, addr;

	memset(d, 0, sizeof(*d));
	d->port = port;
	rc = usbfront_port_reset(uf, port);
	if (rc < 0)
		return rc;
	d->speed = uf->ports[port].speed;
	/* hub_port_init's new scheme: 64 bytes of the device descriptor to
	 * the default address (a short answer is fine), then reset again. */
	rc = get_desc(uf, port, 0, USB_DT_DEVICE, 0, 0, buf, 64, timeout_ms);
	if (rc < 0)
		return rc;
	if (rc < 8 || buf[1] != USB_DT_DEVICE)
		return -EPROTO;
	rc = usbfront_port_reset(uf, port);
	if (rc < 0)
		return rc;
	addr = alloc_addr(uf);
	if (addr < 0)
		return addr;
	rc = usbfront_control(uf, port, 0, 0x00, 0x05 /* SET_ADDRESS */, (uint16_t)addr, 0, NULL, 0,
			      timeout_ms);
	if (rc < 0) {
		uf->addr_used[addr] = false;
		return rc;
	}
	uf->ports[port].addr = (uint8_t)addr;
	d->addr = (uint8_t)addr;
	rc = get_desc(uf, port, d->addr, USB_DT_DEVICE, 0, 0, d->desc, 18, timeout_ms);
	if (rc >= 0 && rc != 18)
		rc = -EPROTO;
	if (rc < 0)
		return rc;
	d->nr_configs = d->desc[17] > 8 ? 8 : d->desc[17];
	for (i = 0; i < d->nr_configs; i++) {
		uint16_t total;

		rc = get_desc(uf, port, d->addr, USB_DT_CONFIG, (uint8_t)i, 0, buf, 9, timeout_ms);
		if (rc >= 0 && (rc != 9 || buf[1] != USB_DT_CONFIG))
			rc = -EPROTO;
		if (rc < 0)
			goto fail;
		total = (uint16_t)(buf[2] | buf[3] << 8);
		if (total < 9) {
			rc = -EPROTO;
			goto fail;
		}
		d->config[i] = malloc(total);
		if (!d->config[i]) {
			rc = -ENOMEM;
			goto fail;
		}
		rc = get_desc(uf, port, d->addr, USB_DT_CONFIG, (uint8_t)i, 0, d->config[i], total,
			      timeout_ms);
		if (rc >= 0 && rc != total)
			rc = -EPROTO;
		if (rc < 0)
			goto fail;
		d->config_len[i] = total;
	}
	/* String 0: the language ids; a device without strings stalls it. */
	rc = get_desc(uf, port, d->addr, USB_DT_STRING, 0, 0, buf, 255, timeout_ms);
	if (rc >= 4)
		d->langid = (uint16_t)(buf[2] | buf[3] << 8);
	if (d->langid) {
		usbfront_get_string(uf, d, d->desc[14], d->manufacturer, USBFRONT_STR_MAX, timeout_ms);
		usbfront_get_string(uf, d, d->desc[15], d->product, USBFRONT_STR_MAX, timeout_ms);
		usbfront_get_string(uf, d, d->desc[16], d->serial, USBFRONT_STR_MAX, timeout_ms);
	}
	if (config < 0)
		config = d->nr_configs ? d->config[0][5] : 0;
	if (config) {
		rc = usbfront_control(uf, port, d->addr, 0x00, 0x09 /* SET_CONFIGURATION */,
				      (uint16_t)config, 0, NULL, 0, timeout_ms);
		if (rc < 0)
			goto fail;
		d->cur_config = (uint8_t)config;
	}
	return 0;
fail:
	usbfront_dev_free(d);
	return rc;
}

/* Walk configuration cfg's descriptors for an endpoint matching the test. */
static const uint8_t *walk_eps(const struct usbfront_dev *d, uint8_t cfg, int ifnum, int alt,
			       int ep_addr, int type, bool in)
{
	unsigned c, o;

	for (c = 0; c < d->nr_configs; c++) {
		const uint8_t *p = d->config[c];
		int cur_if = -1, cur_alt = -1;

		if (!p || p[5] != cfg)
			continue;
		for (o = 0; o + 2 <= d->config_len[c] && p[o] >= 2; o += p[o]) {
			if (o + p[o] > d->config_len[c])
				break;
			if (p[o + 1] == USB_DT_INTERFACE && p[o] >= 9) {
				cur_if = p[o + 2];
				cur_alt = p[o + 3];
			} else if (p[o + 1] == USB_DT_ENDPOINT && p[o] >= 7) {
				if ((ifnum >= 0 && cur_if != ifnum) || (alt >= 0 && cur_alt != alt))
					continue;
				if (ep_addr >= 0 ? p[o + 2] == ep_addr :
				    (p[o + 3] & 3) == (type == USBFRONT_CTRL ? 0 : type == USBFRONT_ISO ?
						       1 : type == USBFRONT_BULK ? 2 : 3) &&
				    ((p[o + 2] & 0x80) != 0) == in)
					return p + o;
			}
		}
	}
	return NULL;
}

const uint8_t *usbfront_find_ep(const struct usbfront_dev *d, uint8_t cfg, int ifnum, int alt,
				uint8_t ep_addr)
{
	return walk_eps(d, cfg, ifnum, alt, ep_addr, 0, false);
}

const uint8_t *usbfront_first_ep(const struct usbfront_dev *d, uint8_t cfg, int ifnum, int alt,
				 uint8_t type, bool in)
{
	return walk_eps(d, cfg, ifnum, alt, -1, type, in);
}
