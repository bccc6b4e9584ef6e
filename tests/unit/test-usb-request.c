// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: usbif urb request rules and port/N device specs
 * (usbback/request.c).  A request is what xen-hcd sends or it is refused
 * before any grant is touched: at most 16 segments (buffer and iso
 * descriptors together), each non-empty and inside its page, the buffer
 * segments summing to buffer_length, an unlink without segments, control on
 * endpoint 0 only (its data stage at most wLength, the setup's direction),
 * iso with 1..1024 packets whose descriptor segments hold exactly that many
 * 16-byte descriptors, each packet inside the buffer; transfer_flags bits
 * other than SHORT_NOT_OK and Linux's URB_ZERO_PACKET are ignored.  A spec
 * is libxl's "BUS-PORT[.PORT...]" or "emu:KIND[,k=v...]".  A line of the
 * state file a restarted daemon reads back restores only in-range values.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../usbback/usbback.h"

static uint32_t pipe(unsigned port, unsigned dev, unsigned ep, unsigned type, bool in)
{
	return port | (in ? USBIF_PIPE_DIR : 0) | dev << USBIF_PIPE_DEV_SHIFT |
	       ep << USBIF_PIPE_EP_SHIFT | (uint32_t)type << USBIF_PIPE_TYPE_SHIFT;
}

static void seg(struct usbif_urb_request *r, unsigned i, uint16_t off, uint16_t len)
{
	r->seg[i] = (struct usbif_request_segment){ .gref = 100 + i, .offset = off, .length = len };
}

static struct usbif_urb_request ctrl(uint8_t type, uint8_t req, uint16_t wlength, uint16_t blen)
{
	struct usbif_urb_request r = { .id = 7, .pipe = pipe(1, 0, 0, USBIF_PIPE_TYPE_CTRL, true),
				       .buffer_length = blen, .nr_buffer_segs = blen ? 1 : 0 };
	const uint8_t setup[8] = { type, req, 0x00, 0x01, 0, 0, (uint8_t)wlength,
				   (uint8_t)(wlength >> 8) };

	memcpy(r.u.ctrl, setup, 8);
	if (blen)
		seg(&r, 0, 64, blen);
	return r;
}

static void control_transfer(void **state)
{
	struct usbif_urb_request r = ctrl(0x80, USB_REQ_GET_DESCRIPTOR, 18, 64);
	struct usb_req q;
	const char *why;

	assert_int_equal(usb_req_parse(&r, &q, &why), 0);
	assert_int_equal(q.id, 7);
	assert_int_equal(q.port, 1);
	assert_int_equal(q.devnum, 0);
	assert_int_equal(q.type, USBIF_PIPE_TYPE_CTRL);
	assert_true(q.in);
	assert_int_equal(q.setup.bRequest, USB_REQ_GET_DESCRIPTOR);
	assert_int_equal(q.setup.wValue, 0x0100);
	assert_int_equal(q.length, 18);   /* the data stage is at most wLength */
	assert_int_equal(q.nr_segs, 1);

	/* The setup's direction wins over the pipe's. */
	r = ctrl(0x00, USB_REQ_SET_CONFIGURATION, 0, 0);
	assert_int_equal(usb_req_parse(&r, &q, &why), 0);
	assert_false(q.in);
	assert_int_equal(q.length, 0);

	r = ctrl(0x80, USB_REQ_GET_STATUS, 2, 2);
	r.pipe |= 1u << USBIF_PIPE_EP_SHIFT;
	assert_int_equal(usb_req_parse(&r, &q, &why), -EINVAL);
	assert_non_null(strstr(why, "endpoint"));
}

static void bulk_segments(void **state)
{
	struct usbif_urb_request r = { .id = 1, .pipe = pipe(2, 5, 1, USBIF_PIPE_TYPE_BULK, false),
				       .nr_buffer_segs = 3, .buffer_length = 96 + 4096 + 10,
				       .transfer_flags = 0xffff };
	struct usb_req q;
	const char *why;

	seg(&r, 0, 4000, 96);
	seg(&r, 1, 0, 4096);
	seg(&r, 2, 0, 10);
	assert_int_equal(usb_req_parse(&r, &q, &why), 0);
	assert_int_equal(q.devnum, 5);
	assert_int_equal(q.ep, 1);
	assert_int_equal(q.length, 4202);
	assert_true(q.short_not_ok);
	assert_true(q.zero_packet);     /* Linux's URB_ZERO_PACKET, unknown bits ignored */

	r.buffer_length = 4203;
	assert_int_equal(usb_req_parse(&r, &q, &why), -EINVAL);
	assert_non_null(strstr(why, "sum"));
	r.buffer_length = 4202;

	seg(&r, 2, 4090, 10);           /* crosses its page */
	assert_int_equal(usb_req_parse(&r, &q, &why), -EINVAL);
	seg(&r, 2, 0, 0);               /* empty */
	r.buffer_length = 4192;
	assert_int_equal(usb_req_parse(&r, &q, &why), -EINVAL);

	r.nr_buffer_segs = 17;
	assert_int_equal(usb_req_parse(&r, &q, &why), -EINVAL);

	/* 16 whole pages: xen-hcd's 65536-byte transfer, buffer_length
	 * truncated to 16 bits (0) */
	r.nr_buffer_segs = 16;
	for (unsigned i = 0; i < 16; i++)
		seg(&r, i, 0, 4096);
	r.buffer_length = 0;
	assert_int_equal(usb_req_parse(&r, &q, &why), 0);
	assert_int_equal(q.length, 65536);
	r.buffer_length = 65535;
	assert_int_equal(usb_req_parse(&r, &q, &why), -EINVAL);
	seg(&r, 15, 0, 4095);           /* 65535 bytes */
	assert_int_equal(usb_req_parse(&r, &q, &why), 0);
	assert_int_equal(q.length, 65535);
	r.buffer_length = 0;
	assert_int_equal(usb_req_parse(&r, &q, &why), -EINVAL);

	/* Endpoint 0 is control only. */
	r = (struct usbif_urb_request){ .pipe = pipe(1, 5, 0, USBIF_PIPE_TYPE_BULK, true) };
	assert_int_equal(usb_req_parse(&r, &q, &why), -EINVAL);
}

static void unlink_request(void **state)
{
	struct usbif_urb_request r = { .id = 9, .pipe = pipe(1, 5, 1, USBIF_PIPE_TYPE_INT, true) |
							USBIF_PIPE_UNLINK };
	struct usb_req q;
	const char *why;

	r.u.unlink.unlink_id = 4;
	assert_int_equal(usb_req_parse(&r, &q, &why), 0);
	assert_true(q.unlink);
	assert_int_equal(q.unlink_id, 4);
	r.nr_buffer_segs = 1;
	seg(&r, 0, 0, 8);
	assert_int_equal(usb_req_parse(&r, &q, &why), -EINVAL);
}

static struct usbif_urb_request iso(unsigned pkts, unsigned desc_bytes)
{
	struct usbif_urb_request r = { .id = 3, .pipe = pipe(1, 5, 2, USBIF_PIPE_TYPE_ISOC, true),
				       .nr_buffer_segs = 1, .buffer_length = 3072 };

	r.u.isoc.number_of_packets = (uint16_t)pkts;
	r.u.isoc.interval = 1;
	seg(&r, 0, 0, 3072);
	r.u.isoc.nr_frame_desc_segs = 0;
	for (unsigned i = 1; desc_bytes; i++) {
		unsigned n = desc_bytes > 4096 ? 4096 : desc_bytes;

		seg(&r, i, 0, (uint16_t)n);
		desc_bytes -= n;
		r.u.isoc.nr_frame_desc_segs++;
	}
	return r;
}

static void isochronous(void **state)
{
	struct usbif_urb_request r = iso(3, 3 * USB_ISO_DESC_SIZE);
	struct usb_iso_desc d[3] = { { 0, 1024, 0, 0 }, { 1024, 1024, 0, 0 }, { 2048, 1024, 0, 0 } };
	struct usb_req q;
	const char *why;

	assert_int_equal(usb_req_parse(&r, &q, &why), 0);
	assert_int_equal(q.nr_packets, 3);
	assert_int_equal(q.nr_iso_segs, 1);
	assert_int_equal(usb_iso_check(&q, d, &why), 0);
	d[2].length = 1025;             /* one byte beyond the buffer */
	assert_int_equal(usb_iso_check(&q, d, &why), -EINVAL);
	d[2] = (struct usb_iso_desc){ 0xffffffffu, 2, 0, 0 };
	assert_int_equal(usb_iso_check(&q, d, &why), -EINVAL);

	r = iso(3, 2 * USB_ISO_DESC_SIZE);   /* descriptors for 2 packets, 3 claimed */
	assert_int_equal(usb_req_parse(&r, &q, &why), -EINVAL);
	r = iso(0, USB_ISO_DESC_SIZE);
	assert_int_equal(usb_req_parse(&r, &q, &why), -EINVAL);
	r = iso(USB_MAX_ISO_PKTS + 1, 4096);
	assert_int_equal(usb_req_parse(&r, &q, &why), -EINVAL);
	r = iso(1024, 1024 * USB_ISO_DESC_SIZE);   /* 4 descriptor pages: 5 segments */
	assert_int_equal(usb_req_parse(&r, &q, &why), 0);
	r = iso(1, 0);                              /* no descriptor segment at all */
	assert_int_equal(usb_req_parse(&r, &q, &why), -EINVAL);
	r = iso(3, 3 * USB_ISO_DESC_SIZE);
	r.nr_buffer_segs = 16;                      /* 16 + 1 segments */
	assert_int_equal(usb_req_parse(&r, &q, &why), -EINVAL);
}

static void specs(void **state)
{
	struct usb_spec s;
	const char *why;

	assert_int_equal(usb_spec_parse("3-1.5", &s, &why), 0);
	assert_int_equal(s.kind, USB_SPEC_HOST);
	assert_int_equal(s.bus, 3);
	assert_int_equal(s.nr_ports, 2);
	assert_int_equal(s.ports[0], 1);
	assert_int_equal(s.ports[1], 5);
	assert_int_equal(usb_spec_parse("1-2", &s, &why), 0);
	assert_int_equal(s.nr_ports, 1);

	assert_int_equal(usb_spec_parse("emu:storage,file=/srv/a b.img,readonly=1", &s, &why), 0);
	assert_int_equal(s.kind, USB_SPEC_EMU);
	assert_string_equal(s.emu, "storage");
	assert_string_equal(usb_spec_opt(&s, "file"), "/srv/a b.img");
	assert_string_equal(usb_spec_opt(&s, "readonly"), "1");
	assert_null(usb_spec_opt(&s, "vendor"));
	assert_int_equal(usb_spec_parse("emu:zero", &s, &why), 0);
	assert_int_equal(s.nr_opts, 0);

	static const char *const bad[] = {
		"", "3", "3-", "-1", "0-1", "3-1..2", "3-1.", "3-x", "3-1.2.3.4.5.6.7.8",
		"emu:", "emu:,file=x", "emu:storage,file", "emu:storage,=x",
		"emu:storage,a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9", "emu:averyveryverylongkind",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(usb_spec_parse(bad[i], &s, &why), -EINVAL);
		assert_non_null(why);
	}
}

static void state_file_lines(void **state)
{
	char good[512], bad[512];
	struct usb_state_port sp;
	size_t n;

	n = (size_t)snprintf(good, sizeof(good), "port 3 5 1");
	for (unsigned i = 0; i < USB_MAX_IFACES; i++)
		n += (size_t)snprintf(good + n, sizeof(good) - n, " %u", i == 1 ? 2 : i == 2 ? 300 : 0);
	snprintf(good + n, sizeof(good) - n, " emu:storage,file=/a b.img\n");
	assert_int_equal(usb_state_port_parse(good, &sp), 0);
	assert_int_equal(sp.port, 3);
	assert_int_equal(sp.addr, 5);
	assert_int_equal(sp.config, 1);
	assert_int_equal(sp.alt[1], 2);
	assert_int_equal(sp.alt[2], 0); /* beyond a byte: reads as 0 */
	assert_string_equal(sp.spec, "emu:storage,file=/a b.img");

	static const char *const heads[] = { "port 0 5 1", "port 32 5 1", "port 3 128 1",
					     "port 3 5 256", "rings 1 2 3", "port 3 5" };
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		snprintf(bad, sizeof(bad), "%s%s", heads[i], strstr(good, "1 ") + 1);
		assert_int_equal(usb_state_port_parse(bad, &sp), -EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(control_transfer),
		cmocka_unit_test(bulk_segments),
		cmocka_unit_test(unlink_request),
		cmocka_unit_test(isochronous),
		cmocka_unit_test(specs),
		cmocka_unit_test(state_file_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
