// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What every emulated device shares (emu.h): its descriptors built from
 * tables, the standard requests of USB 2.0 chapter 9 on endpoint 0,
 * configurations and alternate settings, endpoint halt, and the queues of
 * transfers a device parks until it can answer them.  The guest is
 * hostile: every setup field is checked against the tables, every reply
 * is cut to the transfer's length, and what a real device would refuse
 * stalls.  Queue thread only, no locks; nothing here blocks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"

#define DESC_MAX 1024u  /* the largest configuration descriptor we build */

void usb_emu_complete(struct usb_xfer *x, int32_t status, uint32_t actual)
{
	x->status = status;
	x->actual = actual <= x->req.length ? actual : x->req.length;
	x->next = NULL;
	x->dev_priv = NULL;
	usb_xfer_done(x);
}

struct usb_emu_epstate *usb_emu_ep(struct usb_emu *e, uint8_t addr)
{
	struct usb_emu_epstate *st = &e->ep[!!(addr & USB_DIR_IN)][addr & 0x0f];

	return (addr & 0x0f) && st->desc ? st : NULL;
}

static struct usb_emu_epstate *xfer_ep(struct usb_emu *e, const struct usb_xfer *x)
{
	return usb_emu_ep(e, (uint8_t)(x->req.ep | (x->req.in ? USB_DIR_IN : 0)));
}

void usb_emu_park(struct usb_emu *e, struct usb_xfer *x)
{
	struct usb_emu_epstate *st = xfer_ep(e, x);

	x->next = NULL;
	x->dev_priv = st;
	if (st->tail)
		st->tail->next = x;
	else
		st->head = x;
	st->tail = x;
}

struct usb_xfer *usb_emu_parked(struct usb_emu *e, uint8_t addr)
{
	struct usb_emu_epstate *st = usb_emu_ep(e, addr);

	return st ? st->head : NULL;
}

/* Take x off whichever queue holds it: false when none does. */
static bool unlink_parked(struct usb_emu_epstate *st, struct usb_xfer *x)
{
	struct usb_xfer **pp, *prev = NULL;

	for (pp = &st->head; *pp; prev = *pp, pp = &(*pp)->next) {
		if (*pp != x)
			continue;
		*pp = x->next;
		if (st->tail == x)
			st->tail = prev;
		return true;
	}
	return false;
}

void usb_emu_unpark(struct usb_emu *e, struct usb_xfer *x, int32_t status, uint32_t actual)
{
	struct usb_emu_epstate *st = x->dev_priv;

	if (st && unlink_parked(st, x))
		usb_emu_complete(x, status, actual);
}

/* Complete everything parked on st with status (data already moved stays counted). */
static void flush_ep(struct usb_emu_epstate *st, int32_t status)
{
	struct usb_xfer *x;

	while ((x = st->head)) {
		st->head = x->next;
		if (!st->head)
			st->tail = NULL;
		usb_emu_complete(x, status, x->actual);
	}
}

void usb_emu_halt(struct usb_emu *e, uint8_t addr, bool wedge)
{
	struct usb_emu_epstate *st = usb_emu_ep(e, addr);

	if (!st)
		return;
	st->halted = true;
	st->wedged |= wedge;
	flush_ep(st, USBIF_STATUS_STALL);
}

void usb_emu_unwedge(struct usb_emu *e, uint8_t addr)
{
	struct usb_emu_epstate *st = usb_emu_ep(e, addr);

	if (st)
		st->wedged = false;
}

unsigned usb_emu_maxp(const struct usb_emu *e, const struct usb_emu_ep *ep)
{
	return (e->hs ? ep->hs_maxp : ep->fs_maxp) & 0x7ffu;
}

/* ------------------------------------------------------- configuration */

static const struct usb_emu_alt *cur_alt(const struct usb_emu *e, unsigned i)
{
	return &e->cfg->ifaces[i].alts[e->alt[i]];
}

/* Does interface iface's current alternate setting hold st's endpoint? */
static bool ep_in_iface(const struct usb_emu *e, const struct usb_emu_epstate *st, unsigned iface)
{
	const struct usb_emu_alt *a = cur_alt(e, iface);

	for (unsigned k = 0; k < a->nr_eps; k++)
		if (&a->eps[k] == st->desc)
			return true;
	return false;
}

/* The endpoints of interface iface (all when iface < 0) leave the table:
 * what was parked on them completes (SHUTDOWN, as on a disabled
 * endpoint), their halts go. */
static void eps_del(struct usb_emu *e, int iface)
{
	for (unsigned in = 0; in < 2; in++)
		for (unsigned n = 1; n < 16; n++) {
			struct usb_emu_epstate *st = &e->ep[in][n];

			if (!st->desc || (iface >= 0 && !ep_in_iface(e, st, (unsigned)iface)))
				continue;
			flush_ep(st, USBIF_STATUS_SHUTDOWN);
			memset(st, 0, sizeof(*st));
		}
}

/* The endpoints of interface iface's (all when < 0) current alternate
 * setting enter the table. */
static void eps_add(struct usb_emu *e, int iface)
{
	for (unsigned i = 0; e->cfg && i < e->cfg->nr_ifaces; i++) {
		const struct usb_emu_alt *a = cur_alt(e, i);

		if (iface >= 0 && (int)i != iface)
			continue;
		for (unsigned k = 0; k < a->nr_eps; k++) {
			uint8_t addr = a->eps[k].addr;

			e->ep[!!(addr & USB_DIR_IN)][addr & 0x0f].desc = &a->eps[k];
		}
	}
}

/* SET_CONFIGURATION value (0: back to the address state).  -EPIPE when
 * no configuration has it. */
static int set_config(struct usb_emu *e, unsigned value)
{
	const struct usb_emu_config *c = NULL;

	for (unsigned i = 0; value && i < e->desc.nr_configs; i++)
		if (e->desc.configs[i].value == value)
			c = &e->desc.configs[i];
	if (value && !c)
		return -EPIPE;
	eps_del(e, -1);
	memset(e->alt, 0, sizeof(e->alt));
	e->cfg = c;
	e->config = (uint8_t)value;
	eps_add(e, -1);
	if (e->ops->configured)
		e->ops->configured(e);
	return 0;
}

static int set_interface(struct usb_emu *e, unsigned iface, unsigned alt)
{
	if (!e->cfg || iface >= e->cfg->nr_ifaces || alt >= e->cfg->ifaces[iface].nr_alts)
		return -EPIPE;
	eps_del(e, (int)iface);
	e->alt[iface] = (uint8_t)alt;
	eps_add(e, (int)iface);
	if (e->ops->configured)
		e->ops->configured(e);
	return 0;
}

/* --------------------------------------------------------- descriptors */

struct dbuf {
	uint8_t *p;
	unsigned len, cap;
};

static void put(struct dbuf *b, const uint8_t *src, unsigned n)
{
	for (unsigned i = 0; i < n && b->len < b->cap; i++)
		b->p[b->len++] = src[i];
}

static void put_le16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static unsigned build_device(const struct usb_emu *e, uint8_t *p)
{
	const struct usb_emu_desc *d = &e->desc;

	p[0] = 18;
	p[1] = USB_DT_DEVICE;
	put_le16(p + 2, e->hs ? 0x0200 : 0x0110);
	p[4] = d->cls;
	p[5] = d->subclass;
	p[6] = d->protocol;
	p[7] = USB_EMU_EP0_MAXP;
	put_le16(p + 8, d->vendor);
	put_le16(p + 10, d->product);
	put_le16(p + 12, d->bcd_device);
	p[14] = d->strings[1] ? 1 : 0;
	p[15] = d->strings[2] ? 2 : 0;
	p[16] = d->strings[3] ? 3 : 0;
	p[17] = d->nr_configs;
	return 18;
}

/* A configuration with every interface, alternate setting, class
 * descriptor and endpoint, for the speed hs (other-speed: the other one). */
static unsigned build_config(const struct usb_emu_config *c, bool hs, uint8_t type,
			     uint8_t *out, unsigned cap)
{
	struct dbuf b = { out, 0, cap };
	uint8_t h[9] = { 9, type, 0, 0, c->nr_ifaces, c->value, c->istr,
			 (uint8_t)(0x80 | c->attributes), c->max_power };

	put(&b, h, 9);
	for (unsigned i = 0; i < c->nr_ifaces; i++)
		for (unsigned a = 0; a < c->ifaces[i].nr_alts; a++) {
			const struct usb_emu_alt *alt = &c->ifaces[i].alts[a];
			uint8_t id[9] = { 9, USB_DT_INTERFACE, (uint8_t)i, (uint8_t)a, alt->nr_eps,
					  alt->cls, alt->subclass, alt->protocol, alt->istr };

			put(&b, id, 9);
			put(&b, alt->extra, alt->extra_len);
			for (unsigned k = 0; k < alt->nr_eps; k++) {
				const struct usb_emu_ep *ep = &alt->eps[k];
				uint8_t ed[7] = { 7, USB_DT_ENDPOINT, ep->addr, ep->type, 0, 0,
						  hs ? ep->hs_interval : ep->fs_interval };

				put_le16(ed + 4, hs ? ep->hs_maxp : ep->fs_maxp);
				put(&b, ed, 7);
			}
		}
	put_le16(out + 2, b.len);
	return b.len;
}

/* String descriptor idx as UTF-16LE (ASCII only), 0: the language list. */
static int build_string(const struct usb_emu *e, unsigned idx, uint8_t *p)
{
	const char *s;
	unsigned n;

	if (idx == 0) {
		p[0] = 4;
		p[1] = USB_DT_STRING;
		put_le16(p + 2, 0x0409);
		return 4;
	}
	if (idx >= USB_EMU_MAX_STRINGS || !(s = e->desc.strings[idx]))
		return -EPIPE;
	for (n = 0; s[n] && n < 126; n++)
		put_le16(p + 2 + 2 * n, (uint8_t)s[n] & 0x7f);
	p[0] = (uint8_t)(2 + 2 * n);
	p[1] = USB_DT_STRING;
	return p[0];
}

static int get_descriptor(struct usb_emu *e, const struct usb_setup *s, uint8_t *buf, uint32_t len)
{
	uint8_t d[DESC_MAX];
	unsigned type = s->wValue >> 8, idx = s->wValue & 0xff;
	int n;

	switch (type) {
	case USB_DT_DEVICE:
		n = (int)build_device(e, d);
		break;
	case USB_DT_CONFIG:
	case USB_DT_OTHER_SPEED:
		if (idx >= e->desc.nr_configs || (type == USB_DT_OTHER_SPEED && !e->hs))
			return -EPIPE;
		n = (int)build_config(&e->desc.configs[idx], type == USB_DT_CONFIG ? e->hs : !e->hs,
				      (uint8_t)type, d, sizeof(d));
		break;
	case USB_DT_STRING:
		n = build_string(e, idx, d);
		break;
	case USB_DT_DEVICE_QUALIFIER:
		/* Only a high-speed device has another speed to describe. */
		if (!e->hs)
			return -EPIPE;
		build_device(e, d);
		d[0] = 10;
		d[1] = USB_DT_DEVICE_QUALIFIER;
		d[8] = e->desc.nr_configs;
		d[9] = 0;
		n = 10;
		break;
	default:  /* interface and endpoint descriptors are not fetched alone; no BOS below 2.01 */
		return -EPIPE;
	}
	if (n < 0)
		return n;
	n = (unsigned)n < len ? n : (int)len;
	memcpy(buf, d, (size_t)n);
	return n;
}

/* ---------------------------------------------------- standard requests */

static bool iface_ok(const struct usb_emu *e, unsigned wIndex)
{
	return e->cfg && wIndex < e->cfg->nr_ifaces;
}

/* The endpoint a request's wIndex names: 0 for endpoint 0, or its state. */
static int ep_of(struct usb_emu *e, unsigned wIndex, struct usb_emu_epstate **st)
{
	*st = NULL;
	if ((wIndex & 0x7f) == 0)
		return wIndex & ~0x80u ? -EPIPE : 0;
	if (wIndex & ~0x8fu)
		return -EPIPE;
	*st = usb_emu_ep(e, (uint8_t)wIndex);
	return *st ? 0 : -EPIPE;
}

static int feature(struct usb_emu *e, const struct usb_setup *s, bool set)
{
	struct usb_emu_epstate *st;
	unsigned recip = s->bmRequestType & USB_RECIP_MASK;

	if (s->wLength)
		return -EPIPE;
	if (recip == USB_RECIP_DEVICE && s->wValue == 1 && !s->wIndex) {  /* DEVICE_REMOTE_WAKEUP */
		e->remote_wakeup = set;
		return 0;
	}
	if (recip != USB_RECIP_ENDPOINT || s->wValue != USB_FEATURE_ENDPOINT_HALT ||
	    ep_of(e, s->wIndex, &st) < 0)
		return -EPIPE;
	if (!st)          /* endpoint 0 halts only per request */
		return 0;
	if (set) {
		usb_emu_halt(e, (uint8_t)s->wIndex, false);
	} else if (!st->wedged) {
		/* Clearing also resets the data toggle, which is the host
		 * controller's business here: no device-side state. */
		st->halted = false;
	}
	return 0;
}

static int get_status(struct usb_emu *e, const struct usb_setup *s, uint8_t *buf, uint32_t len)
{
	struct usb_emu_epstate *st;
	unsigned v = 0;

	if (s->wValue || s->wLength != 2)
		return -EPIPE;
	switch (s->bmRequestType & USB_RECIP_MASK) {
	case USB_RECIP_DEVICE:
		if (s->wIndex)
			return -EPIPE;
		v = (e->desc.configs[0].attributes & 0x40 ? 1 : 0) | (e->remote_wakeup ? 2 : 0);
		break;
	case USB_RECIP_INTERFACE:
		if (!iface_ok(e, s->wIndex))
			return -EPIPE;
		break;
	case USB_RECIP_ENDPOINT:
		if (ep_of(e, s->wIndex, &st) < 0)
			return -EPIPE;
		v = st && st->halted;
		break;
	default:
		return -EPIPE;
	}
	uint8_t d[2] = { (uint8_t)v, 0 };

	memcpy(buf, d, len < 2 ? len : 2);
	return len < 2 ? (int)len : 2;
}

/* A standard request: bytes done or -EPIPE; -ENOENT: the device's. */
static int standard(struct usb_emu *e, const struct usb_setup *s, uint8_t *buf, uint32_t len)
{
	bool in = s->bmRequestType & USB_DIR_IN;
	unsigned recip = s->bmRequestType & USB_RECIP_MASK;

	switch (s->bRequest) {
	case USB_REQ_GET_STATUS:
		return in ? get_status(e, s, buf, len) : -EPIPE;
	case USB_REQ_CLEAR_FEATURE:
	case USB_REQ_SET_FEATURE:
		return in ? -EPIPE : feature(e, s, s->bRequest == USB_REQ_SET_FEATURE);
	case USB_REQ_SET_ADDRESS:     /* the controller's (ring.c): never here */
		return in || s->wIndex || s->wLength ? -EPIPE : 0;
	case USB_REQ_GET_DESCRIPTOR:
		if (!in)
			return -EPIPE;
		if (recip == USB_RECIP_INTERFACE)
			return -ENOENT;   /* class descriptors (HID report) */
		return recip == USB_RECIP_DEVICE ? get_descriptor(e, s, buf, len) : -EPIPE;
	case USB_REQ_GET_CONFIGURATION:
		if (!in || recip || s->wValue || s->wIndex || s->wLength != 1)
			return -EPIPE;
		if (len)
			buf[0] = e->config;
		return len ? 1 : 0;
	case USB_REQ_SET_CONFIGURATION:
		if (in || recip || s->wIndex || s->wLength || s->wValue > 0xff)
			return -EPIPE;
		return set_config(e, s->wValue);
	case USB_REQ_GET_INTERFACE:
		if (!in || recip != USB_RECIP_INTERFACE || s->wValue || s->wLength != 1 ||
		    !iface_ok(e, s->wIndex))
			return -EPIPE;
		if (len)
			buf[0] = e->alt[s->wIndex];
		return len ? 1 : 0;
	case USB_REQ_SET_INTERFACE:
		if (in || recip != USB_RECIP_INTERFACE || s->wLength)
			return -EPIPE;
		return set_interface(e, s->wIndex, s->wValue);
	default:  /* SET_DESCRIPTOR, SYNCH_FRAME (no synchronised iso), unknown */
		return -EPIPE;
	}
}

static void control(struct usb_emu *e, struct usb_xfer *x)
{
	const struct usb_setup *s = &x->req.setup;
	int n = -ENOENT;

	if (x->req.ep != 0) {   /* only endpoint 0 is a control endpoint here */
		usb_emu_complete(x, USBIF_STATUS_STALL, 0);
		return;
	}
	if ((s->bmRequestType & USB_TYPE_MASK) == USB_TYPE_STANDARD)
		n = standard(e, s, x->buf, x->req.length);
	if (n == -ENOENT)
		n = e->ops->control ? e->ops->control(e, s, x->buf, x->req.length) : -EPIPE;
	if (n < 0) {
		pv_debug(e->dev.name, "stall %02x.%02x v%04x i%04x l%u", s->bmRequestType,
			 s->bRequest, s->wValue, s->wIndex, s->wLength);
		usb_emu_complete(x, USBIF_STATUS_STALL, 0);
	} else {
		usb_emu_complete(x, USBIF_STATUS_OK, (uint32_t)n);
	}
}

/* ------------------------------------------------------------ usb_dev */

static const uint8_t ep_type_of[] = {
	[USBIF_PIPE_TYPE_ISOC] = USB_EMU_EP_ISO,
	[USBIF_PIPE_TYPE_INT] = USB_EMU_EP_INT,
	[USBIF_PIPE_TYPE_BULK] = USB_EMU_EP_BULK,
};

static void emu_submit(struct usb_dev *d, struct usb_xfer *x)
{
	struct usb_emu *e = usb_emu_of(d);
	struct usb_emu_epstate *st;

	x->dev = d;
	x->actual = 0;
	x->error_count = 0;
	x->dev_priv = NULL;
	if (x->req.type == USBIF_PIPE_TYPE_CTRL) {
		control(e, x);
		return;
	}
	/* An endpoint the current configuration lacks, or of another type,
	 * stalls: Linux sees -EPIPE, as from a real device that does not
	 * answer there. */
	st = xfer_ep(e, x);
	if (!st || st->desc->type != ep_type_of[x->req.type & 3] || st->halted) {
		usb_emu_complete(x, USBIF_STATUS_STALL, 0);
		return;
	}
	e->ops->data(e, x);
}

static void emu_cancel(struct usb_dev *d, struct usb_xfer *x)
{
	/* Only parked transfers are still the device's: the rest were
	 * answered from submit. */
	usb_emu_unpark(usb_emu_of(d), x, USBIF_STATUS_SHUTDOWN, x->actual);
}

static int emu_reset(struct usb_dev *d)
{
	struct usb_emu *e = usb_emu_of(d);

	e->remote_wakeup = false;
	return set_config(e, 0);
}

static int emu_attach(struct usb_dev *d, struct pv_loop *loop)
{
	struct usb_emu *e = usb_emu_of(d);

	e->loop = loop;
	return e->ops->attach ? e->ops->attach(e, loop) : 0;
}

static void emu_detach(struct usb_dev *d)
{
	struct usb_emu *e = usb_emu_of(d);

	if (e->ops->detach)
		e->ops->detach(e);
	e->loop = NULL;
}

static void emu_close(struct usb_dev *d)
{
	struct usb_emu *e = usb_emu_of(d);

	if (e->ops->fini)
		e->ops->fini(e);
	free(e);
}

bool usb_emu_is(struct usb_dev *d, const struct usb_emu_ops *ops)
{
	return d && d->ops->submit == emu_submit && usb_emu_of(d)->ops == ops;
}

void usb_emu_init(struct usb_emu *e, const struct usb_emu_ops *ops, const struct usb_spec *s,
		  const char *name, unsigned usb_ver)
{
	int n;

	e->ops = ops;
	e->dev_ops = (struct usb_dev_ops){
		.kind = ops->kind,
		.attach = emu_attach,
		.detach = emu_detach,
		.reset = emu_reset,
		.submit = emu_submit,
		.cancel = emu_cancel,
		.close = emu_close,
	};
	e->dev.ops = &e->dev_ops;
	e->hs = usb_ver >= 2;
	e->dev.speed = e->hs ? USBIF_SPEED_HIGH : USBIF_SPEED_FULL;
	snprintf(e->dev.name, sizeof(e->dev.name), "%s %s", name, ops->kind);
	n = snprintf(e->dev.spec, sizeof(e->dev.spec), "emu:%s", s->emu);
	for (unsigned i = 0; i < s->nr_opts && n > 0 && (size_t)n < sizeof(e->dev.spec); i++)
		n += snprintf(e->dev.spec + n, sizeof(e->dev.spec) - (size_t)n, ",%s=%s",
			      s->opt_key[i], s->opt_val[i]);
}

int usb_emu_opt_uint(const struct usb_spec *s, const char *key, unsigned min, unsigned max,
		     unsigned def, const char *name, unsigned *out)
{
	const char *v = usb_spec_opt(s, key);
	char *end;
	unsigned long n;

	if (!v) {
		*out = def;
		return 0;
	}
	errno = 0;
	n = strtoul(v, &end, 0);
	if (errno || end == v || *end || *v == '-' || n < min || n > max) {
		pv_err(name, "emu:%s: %s=%s: not a number in %u..%u", s->emu, key, v, min, max);
		return -EINVAL;
	}
	*out = (unsigned)n;
	return 0;
}
