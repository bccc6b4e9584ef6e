// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: libFuzzer harness for usbif urb requests, what a hostile
 * guest reaches first in pvback-usb: the input is one 148-byte urb request
 * (usbif.h), then the bytes of its iso descriptor array, then a port/N
 * device spec.  A request usb_req_parse() accepts must keep every promise
 * ring.c relies on: at most 16 segments, each inside its page, the buffer
 * segments summing to length, the descriptor segments to exactly
 * nr_packets descriptors; iso descriptors usb_iso_check() accepts stay
 * inside the buffer; a spec usb_spec_parse() accepts is bounded.
 * Build: make fuzz-usb (clang); make fuzz runs every harness for a while,
 * make check for a few seconds (tests/sim/fuzz-smoke.sh).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "usbback.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_req(const struct usb_req *q, const uint8_t *rest, size_t rest_len)
{
	static struct usb_iso_desc iso[USB_MAX_ISO_PKTS];
	unsigned sum = 0, isum = 0, i;
	const char *why;

	if (q->unlink)
		return;
	if (q->nr_segs + q->nr_iso_segs > USB_MAX_SEGS || q->length > USB_MAX_LEN)
		abort();
	for (i = 0; i < q->nr_segs + q->nr_iso_segs; i++) {
		if (!q->seg[i].length || q->seg[i].offset + q->seg[i].length > USB_PAGE_SIZE)
			abort();
		if (i < q->nr_segs)
			sum += q->seg[i].length;
		else
			isum += q->seg[i].length;
	}
	if (q->length > sum)   /* control: clamped to wLength, never more */
		abort();
	if (q->type != USBIF_PIPE_TYPE_CTRL && q->length != sum)
		abort();
	if (q->type != USBIF_PIPE_TYPE_ISOC) {
		if (q->nr_iso_segs)
			abort();
		return;
	}
	if (!q->nr_packets || q->nr_packets > USB_MAX_ISO_PKTS ||
	    isum != q->nr_packets * USB_ISO_DESC_SIZE)
		abort();
	memset(iso, 0, sizeof(iso[0]) * q->nr_packets);
	memcpy(iso, rest, rest_len < isum ? rest_len : isum);
	if (usb_iso_check(q, iso, &why) == 0)
		for (i = 0; i < q->nr_packets; i++)
			if ((uint64_t)iso[i].offset + iso[i].length > q->length)
				abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct usbif_urb_request r;
	struct usb_req q;
	struct usb_spec s;
	const char *why;
	char spec[300];
	size_t n;

	if (size < sizeof(r))
		return 0;
	memcpy(&r, data, sizeof(r));
	data += sizeof(r);
	size -= sizeof(r);
	if (usb_req_parse(&r, &q, &why) == 0)
		check_req(&q, data, size);
	else if (!why)
		abort();
	n = size < sizeof(spec) - 1 ? size : sizeof(spec) - 1;
	memcpy(spec, data, n);
	spec[n] = 0;
	if (usb_spec_parse(spec, &s, &why) == 0) {
		if (s.nr_opts > 8 || s.nr_ports > sizeof(s.ports))
			abort();
		if (s.kind == USB_SPEC_EMU && !s.emu[0])
			abort();
	} else if (!why) {
		abort();
	}
	return 0;
}
