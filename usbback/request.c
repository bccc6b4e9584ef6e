// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbif urb requests and device specs: parsing and validation, pure (no
 * hv, no I/O) so that the unit tests and the fuzzer drive them directly.
 *
 * What xen-hcd sends (Linux 6.1 drivers/usb/host/xen-hcd.c): the buffer
 * as page pieces (the first at its offset, the rest from 0), the pipe with
 * the root-hub port in bits 0-4, Linux's urb transfer_flags truncated to
 * 16 bits, and for isochronous transfers Linux's usb_iso_packet_descriptor
 * array granted after the buffer segments.  Anything else a guest writes
 * is refused here, before any grant is touched.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "usbback.h"

static int bad(const char **why, const char *msg)
{
	*why = msg;
	return -EINVAL;
}

static unsigned seg_sum(const struct usbif_request_segment *s, unsigned n)
{
	unsigned sum = 0;

	for (unsigned i = 0; i < n; i++)
		sum += s[i].length;
	return sum;
}

static int check_segs(const struct usbif_request_segment *s, unsigned n, const char **why)
{
	for (unsigned i = 0; i < n; i++) {
		if (!s[i].length)
			return bad(why, "empty segment");
		if ((unsigned)s[i].offset + s[i].length > USB_PAGE_SIZE)
			return bad(why, "segment crosses its page");
	}
	return 0;
}

int usb_req_parse(const struct usbif_urb_request *r, struct usb_req *out, const char **why)
{
	struct usb_req q = { 0 };
	unsigned nseg = r->nr_buffer_segs, niso = 0, total;

	*why = NULL;
	q.id = r->id;
	q.port = (uint8_t)usbif_pipeportnum(r->pipe);
	q.devnum = (uint8_t)usbif_pipedevice(r->pipe);
	q.ep = (uint8_t)usbif_pipeendpoint(r->pipe);
	q.type = (uint8_t)usbif_pipetype(r->pipe);
	q.in = usbif_pipein(r->pipe) != 0;

	if (usbif_pipeunlink(r->pipe)) {
		/* xen-hcd's unlink: id, the pipe of the URB's device, unlink_id,
		 * nothing else. */
		if (nseg)
			return bad(why, "unlink with buffer segments");
		q.unlink = true;
		q.unlink_id = r->u.unlink.unlink_id;
		*out = q;
		return 0;
	}
	if (nseg > USB_MAX_SEGS)
		return bad(why, "more than 16 buffer segments");
	if (q.type == USBIF_PIPE_TYPE_ISOC) {
		niso = r->u.isoc.nr_frame_desc_segs;
		if (nseg + niso > USB_MAX_SEGS)
			return bad(why, "more than 16 segments with the iso descriptors");
		if (!niso)
			return bad(why, "isochronous without descriptor segments");
	}
	if (check_segs(r->seg, nseg + niso, why) < 0)
		return -EINVAL;
	/* buffer_length is 16 bits and xen-hcd stores urb->transfer_buffer_length
	 * into it truncated: its largest transfer, 16 whole pages (65536 bytes,
	 * usb-storage's 128-sector writes), arrives as 0.  The segments carry
	 * the length; buffer_length must be their sum modulo 2^16. */
	total = seg_sum(r->seg, nseg);
	if ((total & 0xffffu) != r->buffer_length)
		return bad(why, "buffer_length is not the segments' sum");

	q.short_not_ok = r->transfer_flags & USBIF_SHORT_NOT_OK;
	switch (q.type) {
	case USBIF_PIPE_TYPE_CTRL: {
		const uint8_t *s = r->u.ctrl;

		q.setup.bmRequestType = s[0];
		q.setup.bRequest = s[1];
		q.setup.wValue = (uint16_t)(s[2] | s[3] << 8);
		q.setup.wIndex = (uint16_t)(s[4] | s[5] << 8);
		q.setup.wLength = (uint16_t)(s[6] | s[7] << 8);
		/* The data stage goes the setup's way; at most wLength of it. */
		q.in = q.setup.bmRequestType & USB_DIR_IN;
		if (q.ep)
			return bad(why, "control transfer to an endpoint other than 0");
		if (total > q.setup.wLength)
			total = q.setup.wLength;
		break;
	}
	case USBIF_PIPE_TYPE_INT:
		q.interval = r->u.intr.interval;
		break;
	case USBIF_PIPE_TYPE_BULK:
		q.zero_packet = !q.in && (r->transfer_flags & USB_XFER_ZERO_PACKET);
		break;
	case USBIF_PIPE_TYPE_ISOC:
		q.interval = r->u.isoc.interval;
		q.start_frame = r->u.isoc.start_frame;
		q.nr_packets = r->u.isoc.number_of_packets;
		if (!q.nr_packets || q.nr_packets > USB_MAX_ISO_PKTS)
			return bad(why, "isochronous packet count out of range");
		if (seg_sum(r->seg + nseg, niso) != q.nr_packets * USB_ISO_DESC_SIZE)
			return bad(why, "iso descriptor segments do not hold number_of_packets");
		break;
	}
	if (q.type != USBIF_PIPE_TYPE_CTRL && !q.ep)
		return bad(why, "endpoint 0 is control only");
	q.length = total;
	q.nr_segs = (uint8_t)nseg;
	q.nr_iso_segs = (uint8_t)niso;
	memcpy(q.seg, r->seg, (nseg + niso) * sizeof(q.seg[0]));
	*out = q;
	return 0;
}

int usb_iso_check(const struct usb_req *req, const struct usb_iso_desc *d, const char **why)
{
	for (unsigned i = 0; i < req->nr_packets; i++)
		if (d[i].offset > req->length || d[i].length > req->length - d[i].offset)
			return bad(why, "iso packet beyond the buffer");
	return 0;
}

/* ------------------------------------------------------------- specs */

/* "3-1.5": bus 3, ports 1 then 5 (libxl writes "hostbus-port.port..."). */
static int parse_host(const char *s, struct usb_spec *o, const char **why)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (end == s || *end != '-' || v < 1 || v > 255)
		return bad(why, "not BUS-PORT[.PORT...] (e.g. 3-1.5) or emu:KIND");
	o->bus = (unsigned)v;
	s = end + 1;
	for (;;) {
		if (o->nr_ports == sizeof(o->ports))
			return bad(why, "more than 7 levels of ports");
		v = strtoul(s, &end, 10);
		if (end == s || v < 1 || v > 255)
			return bad(why, "bad port number in BUS-PORT[.PORT...]");
		o->ports[o->nr_ports++] = (uint8_t)v;
		if (!*end)
			break;
		if (*end != '.')
			return bad(why, "bad character in BUS-PORT[.PORT...]");
		s = end + 1;
	}
	o->kind = USB_SPEC_HOST;
	return 0;
}

static int parse_emu(const char *s, struct usb_spec *o, const char **why)
{
	size_t n = strcspn(s, ",");

	if (!n || n >= sizeof(o->emu))
		return bad(why, "emu: needs a device kind (storage, keyboard, tablet, zero)");
	memcpy(o->emu, s, n);
	o->emu[n] = 0;
	s += n;
	while (*s == ',') {
		const char *k = s + 1, *eq;
		size_t kl, vl;

		n = strcspn(k, ",");
		eq = memchr(k, '=', n);
		if (!eq)
			return bad(why, "emu option is not key=value");
		kl = (size_t)(eq - k);
		vl = n - kl - 1;
		if (!kl || kl >= sizeof(o->opt_key[0]) || vl >= sizeof(o->opt_val[0]))
			return bad(why, "emu option key or value too long");
		if (o->nr_opts == sizeof(o->opt_key) / sizeof(o->opt_key[0]))
			return bad(why, "more than 8 emu options");
		memcpy(o->opt_key[o->nr_opts], k, kl);
		o->opt_key[o->nr_opts][kl] = 0;
		memcpy(o->opt_val[o->nr_opts], eq + 1, vl);
		o->opt_val[o->nr_opts][vl] = 0;
		o->nr_opts++;
		s = k + n;
	}
	o->kind = USB_SPEC_EMU;
	return 0;
}

int usb_spec_parse(const char *s, struct usb_spec *out, const char **why)
{
	struct usb_spec o = { 0 };
	int rc;

	*why = NULL;
	if (strlen(s) >= sizeof(((struct usb_dev *)0)->spec))
		return bad(why, "too long");
	rc = strncmp(s, "emu:", 4) ? parse_host(s, &o, why) : parse_emu(s + 4, &o, why);
	if (rc == 0)
		*out = o;
	return rc;
}

const char *usb_spec_opt(const struct usb_spec *s, const char *key)
{
	for (unsigned i = 0; i < s->nr_opts; i++)
		if (!strcmp(s->opt_key[i], key))
			return s->opt_val[i];
	return NULL;
}

/* ------------------------------------------------------- state file */

int usb_state_port_parse(char *line, struct usb_state_port *out)
{
	unsigned long v[3 + USB_MAX_IFACES];
	char *s = line + 5, *end;

	if (strncmp(line, "port ", 5))
		return -EINVAL;
	for (unsigned i = 0; i < 3 + USB_MAX_IFACES; i++) {
		v[i] = strtoul(s, &end, 10);
		if (end == s || *end != ' ')
			return -EINVAL;
		s = end + 1;
	}
	s[strcspn(s, "\n")] = 0;
	if (v[0] < 1 || v[0] > USB_MAX_PORTS || v[1] >= USB_MAX_ADDR || v[2] > 255)
		return -EINVAL;
	out->port = (unsigned)v[0];
	out->addr = (unsigned)v[1];
	out->config = (unsigned)v[2];
	for (unsigned i = 0; i < USB_MAX_IFACES; i++)
		out->alt[i] = v[3 + i] > 255 ? 0 : (uint8_t)v[3 + i];
	out->spec = s;
	return 0;
}
