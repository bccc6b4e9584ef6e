// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * emu:zero, a test device that looks like Linux's gadget zero (g_zero,
 * 0525:a4a0) so that the guest's usbtest driver binds to it and testusb
 * runs over the PV path.  Written from the behaviour Linux 6.1's usbtest.c
 * expects, after f_sourcesink.c, f_loopback.c and legacy/zero.c:
 *
 *  config 3 "source/sink" (the first; loopdefault=1 puts loopback first),
 *  interface 0 (vendor class):
 *   alt 0  bulk IN 0x81 (source), bulk OUT 0x01 (sink)
 *   alt 1  the same, plus iso IN 0x82 (source) and iso OUT 0x02 (sink)
 *   alt 2  the same bulk, plus interrupt IN 0x83 / OUT 0x03 (ours: 6.1's
 *          f_sourcesink has none, usbtest still drives them: alt=2)
 *  config 2 "loopback": bulk OUT 0x01 data comes back on bulk IN 0x81.
 *  Vendor requests 0x5b (write up to 4096 bytes) and 0x5c (read them
 *  back) in config 3.
 *
 * A source fills every IN transfer whole: pattern=0 zeros, pattern=1
 * ((i % wMaxPacketSize) % 63) from each transfer's start (as usbtest
 * checks), 2 zeros unchecked.  A sink checks OUT data against the pattern
 * (not 2) and halts its endpoint on a mismatch, as f_sourcesink does.
 * Isochronous transfers complete at once, every packet full (IN) or taken
 * (OUT): pvsim has no frame clock, so a guest pacing itself on
 * completions runs faster than real time; timing is not emulated.
 * Loopback keeps the OUT data (qlen * buflen bytes, then OUT transfers
 * wait) with its packet boundaries: an IN transfer ends at a short packet
 * or when full, and waits for data otherwise.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"

#define ZERO_CTRL_MAX 4096u    /* f_sourcesink's ep0 buffer (USB_COMP_EP0_BUFSIZ) */
#define CFG_SOURCESINK 3
#define CFG_LOOPBACK   2
#define STR_SS 4
#define STR_LB 5

struct lb_chunk {
	struct lb_chunk *next;
	uint32_t len, off;
	bool end;                  /* a short packet (or zero-length) ends it */
	uint8_t data[];
};

struct zero {
	struct usb_emu e;
	unsigned pattern;
	uint8_t ctrl[ZERO_CTRL_MAX];  /* the 0x5b data, read back by 0x5c */
	struct lb_chunk *head, *tail; /* loopback data, oldest first */
	size_t bytes, cap;
};

static struct zero *zero_of(struct usb_emu *e)
{
	return (struct zero *)e;
}

/* ---------------------------------------------------------- source/sink */

static uint8_t pattern_byte(unsigned pattern, unsigned i, unsigned maxp)
{
	return pattern == 1 ? (uint8_t)((i % maxp) % 63) : 0;
}

static void source(struct zero *z, uint8_t *buf, uint32_t len, unsigned maxp)
{
	for (uint32_t i = 0; i < len; i++)
		buf[i] = pattern_byte(z->pattern, i, maxp);
}

static bool sink_ok(const struct zero *z, const uint8_t *buf, uint32_t len, unsigned maxp)
{
	if (z->pattern == 2)
		return true;
	for (uint32_t i = 0; i < len; i++)
		if (buf[i] != pattern_byte(z->pattern, i, maxp))
			return false;
	return true;
}

/* Every packet gets its full length (bounded by the endpoint's bytes per
 * interval); a packet outside the buffer fails alone. */
static void iso(struct zero *z, struct usb_xfer *x, const struct usb_emu_ep *ep)
{
	unsigned maxp = usb_emu_maxp(&z->e, ep);
	unsigned per = maxp * (z->e.hs ? ((ep->hs_maxp >> 11) & 3) + 1 : 1);

	unsigned np = x->iso ? x->req.nr_packets : 0;

	for (unsigned i = 0; i < np; i++) {
		struct usb_iso_desc *d = &x->iso[i];
		uint32_t n = d->length < per ? d->length : per;

		d->actual_length = 0;
		if (d->offset > x->req.length || d->length > x->req.length - d->offset) {
			d->status = USBIF_STATUS_INVAL;
			x->error_count++;
			continue;
		}
		if (x->req.in)
			source(z, x->buf + d->offset, n, maxp ? maxp : 1);
		d->actual_length = n;
		d->status = 0;
		x->actual += n;
	}
	x->status = USBIF_STATUS_OK;
	x->dev_priv = NULL;
	usb_xfer_done(x);
}

/* ------------------------------------------------------------ loopback */

static void lb_flush(struct zero *z)
{
	while (z->head) {
		struct lb_chunk *c = z->head;

		z->head = c->next;
		free(c);
	}
	z->tail = NULL;
	z->bytes = 0;
}

static bool lb_fits(const struct zero *z, uint32_t len)
{
	return !z->bytes || z->bytes + len <= z->cap;
}

/* Keep x's data: false when out of memory. */
static bool lb_take(struct zero *z, struct usb_xfer *x, unsigned maxp)
{
	struct lb_chunk *c = malloc(sizeof(*c) + x->req.length);

	if (!c)
		return false;
	c->next = NULL;
	c->len = x->req.length;
	c->off = 0;
	c->end = !c->len || c->len % maxp || x->req.zero_packet;
	memcpy(c->data, x->buf, c->len);
	if (z->tail)
		z->tail->next = c;
	else
		z->head = c;
	z->tail = c;
	z->bytes += c->len;
	return true;
}

/* Move loopback data into the first waiting IN transfer: true when it
 * completed (full, or a short packet ended it). */
static bool lb_fill(struct zero *z, struct usb_xfer *x)
{
	while (z->head) {
		struct lb_chunk *c = z->head;
		uint32_t room = x->req.length - x->actual, n = c->len - c->off;
		bool end;

		if (n > room)
			n = room;
		memcpy(x->buf + x->actual, c->data + c->off, n);
		x->actual += n;
		c->off += n;
		z->bytes -= n;
		end = c->off == c->len && c->end;
		if (c->off == c->len) {
			z->head = c->next;
			if (!z->head)
				z->tail = NULL;
			free(c);
		}
		if (end || x->actual == x->req.length)
			return true;
	}
	return false;
}

static void lb_pump(struct zero *z, const struct usb_emu_ep *out)
{
	struct usb_emu *e = &z->e;
	struct usb_xfer *x;
	bool progress;

	do {
		progress = false;
		while ((x = usb_emu_parked(e, USB_DIR_IN | 1)) && z->head && lb_fill(z, x)) {
			usb_emu_unpark(e, x, USBIF_STATUS_OK, x->actual);
			progress = true;
		}
		while ((x = usb_emu_parked(e, 1)) && lb_fits(z, x->req.length)) {
			bool ok = lb_take(z, x, usb_emu_maxp(e, out));

			usb_emu_unpark(e, x, ok ? USBIF_STATUS_OK : USBIF_STATUS_IOERROR,
				       ok ? x->req.length : 0);
			progress = true;
		}
	} while (progress);
}

/* -------------------------------------------------------------- device */

static void zero_data(struct usb_emu *e, struct usb_xfer *x)
{
	struct zero *z = zero_of(e);
	struct usb_emu_epstate *st = usb_emu_ep(e, (uint8_t)(x->req.ep | (x->req.in ? USB_DIR_IN : 0)));
	unsigned maxp = usb_emu_maxp(e, st->desc);

	if (!maxp)
		maxp = 1;
	if (e->config == CFG_LOOPBACK) {
		usb_emu_park(e, x);
		lb_pump(z, usb_emu_ep(e, 1)->desc);
		return;
	}
	if (st->desc->type == USB_EMU_EP_ISO) {
		iso(z, x, st->desc);
		return;
	}
	if (x->req.in) {
		source(z, x->buf, x->req.length, maxp);
		usb_emu_complete(x, USBIF_STATUS_OK, x->req.length);
	} else if (sink_ok(z, x->buf, x->req.length, maxp)) {
		usb_emu_complete(x, USBIF_STATUS_OK, x->req.length);
	} else {
		pv_debug(e->dev.name, "sink: data off pattern %u: endpoint %u halted",
			 z->pattern, x->req.ep);
		usb_emu_halt(e, (uint8_t)x->req.ep, false);
		usb_emu_complete(x, USBIF_STATUS_STALL, 0);
	}
}

static int zero_control(struct usb_emu *e, const struct usb_setup *s, uint8_t *buf, uint32_t len)
{
	struct zero *z = zero_of(e);

	if (e->config != CFG_SOURCESINK || s->wValue || s->wIndex || s->wLength > ZERO_CTRL_MAX ||
	    len > ZERO_CTRL_MAX)
		return -EPIPE;
	if (s->bRequest == 0x5b && s->bmRequestType == USB_TYPE_VENDOR) {
		memcpy(z->ctrl, buf, len);
		return (int)len;
	}
	if (s->bRequest == 0x5c && s->bmRequestType == (USB_DIR_IN | USB_TYPE_VENDOR)) {
		memcpy(buf, z->ctrl, len);
		return (int)len;
	}
	return -EPIPE;
}

static void zero_configured(struct usb_emu *e)
{
	lb_flush(zero_of(e));
}

static void zero_fini(struct usb_emu *e)
{
	lb_flush(zero_of(e));
}

static const struct usb_emu_ops zero_ops = {
	.kind = "emu:zero",
	.control = zero_control,
	.data = zero_data,
	.configured = zero_configured,
	.fini = zero_fini,
};

static void bulk_pair(struct usb_emu_alt *a)
{
	a->eps[0] = (struct usb_emu_ep){ USB_DIR_IN | 1, USB_EMU_EP_BULK, 64, 512, 0, 0 };
	a->eps[1] = (struct usb_emu_ep){ 1, USB_EMU_EP_BULK, 64, 512, 0, 0 };
	a->nr_eps = 2;
	a->cls = 0xff;
}

int usb_emu_zero_open(const struct usb_spec *s, const char *name, unsigned usb_ver,
		      struct usb_dev **out)
{
	unsigned interval, maxpacket, mult, qlen, buflen, loopdefault;
	struct usb_emu_config *ss, *lb;
	struct usb_emu_alt *a;
	struct zero *z;

	z = calloc(1, sizeof(*z));
	if (!z)
		return -ENOMEM;
	if (usb_emu_opt_uint(s, "pattern", 0, 2, 0, name, &z->pattern) < 0 ||
	    usb_emu_opt_uint(s, "isoc_interval", 1, 16, 4, name, &interval) < 0 ||
	    usb_emu_opt_uint(s, "isoc_maxpacket", 0, 1024, 1024, name, &maxpacket) < 0 ||
	    usb_emu_opt_uint(s, "isoc_mult", 0, 2, 0, name, &mult) < 0 ||
	    usb_emu_opt_uint(s, "qlen", 1, 1024, 32, name, &qlen) < 0 ||
	    usb_emu_opt_uint(s, "buflen", 1, USB_MAX_LEN, 4096, name, &buflen) < 0 ||
	    usb_emu_opt_uint(s, "loopdefault", 0, 1, 0, name, &loopdefault) < 0) {
		free(z);
		return -EINVAL;
	}
	z->cap = (size_t)qlen * buflen;

	struct usb_emu_desc *d = &z->e.desc;

	*d = (struct usb_emu_desc){
		.vendor = 0x0525, .product = 0xa4a0, .bcd_device = 0x0601, .cls = 0xff,
		.nr_configs = 2,
		.strings = { NULL, "pvback", "Gadget Zero", "0123456789.0123456789.0123456789",
			     "source and sink data", "loop input to output" },
	};
	ss = &d->configs[loopdefault];
	lb = &d->configs[!loopdefault];
	*ss = (struct usb_emu_config){ CFG_SOURCESINK, STR_SS, 0x40, 1, 1, { { 0 } } };
	*lb = (struct usb_emu_config){ CFG_LOOPBACK, STR_LB, 0x40, 1, 1, { { 0 } } };

	ss->ifaces[0].nr_alts = 3;
	for (unsigned i = 0; i < 3; i++) {
		bulk_pair(&ss->ifaces[0].alts[i]);
		ss->ifaces[0].alts[i].istr = STR_SS;
	}
	a = &ss->ifaces[0].alts[1];
	a->eps[2] = (struct usb_emu_ep){ USB_DIR_IN | 2, USB_EMU_EP_ISO,
					 (uint16_t)(maxpacket > 1023 ? 1023 : maxpacket),
					 (uint16_t)(maxpacket | mult << 11),
					 (uint8_t)interval, (uint8_t)interval };
	a->eps[3] = a->eps[2];
	a->eps[3].addr = 2;
	a->nr_eps = 4;
	a = &ss->ifaces[0].alts[2];
	a->eps[2] = (struct usb_emu_ep){ USB_DIR_IN | 3, USB_EMU_EP_INT, 64, 1024, 1, 4 };
	a->eps[3] = a->eps[2];
	a->eps[3].addr = 3;
	a->nr_eps = 4;

	lb->ifaces[0].nr_alts = 1;
	bulk_pair(&lb->ifaces[0].alts[0]);
	lb->ifaces[0].alts[0].istr = STR_LB;

	usb_emu_init(&z->e, &zero_ops, s, name, usb_ver);
	*out = &z->e.dev;
	return 0;
}
