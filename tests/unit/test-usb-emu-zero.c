// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: emu:zero (usbback/emu_zero.c) as Linux's usbtest sees
 * gadget zero: bulk source and sink with patterns 0 and 1 (mod 63 per
 * packet size, per transfer), a sink halting on bad data; the vendor
 * control write/read (0x5b/0x5c) and its limits; usbtest's queued
 * control subcases (test 10) answered as it expects; isochronous
 * transfers with every descriptor filled; interrupt endpoints in alt 2;
 * loopback OUT data coming back on IN with its packet boundaries, IN
 * waiting for data and OUT waiting for room.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "usb-emu-harness.h"

#define BULK USBIF_PIPE_TYPE_BULK

static void test_source_and_sink_patterns(void **state)
{
	static uint8_t b[8192];
	uint32_t n;

	for (unsigned ver = 1; ver <= 2; ver++) {
		struct usb_dev *d = t_usb_open("emu:zero,pattern=1", ver);
		unsigned maxp = ver == 2 ? 512 : 64;

		t_set_config(d, 3);
		memset(b, 0xaa, sizeof(b));
		assert_int_equal(t_bulk(d, BULK, 1, true, b, 4096, &n), 0);
		assert_int_equal(n, 4096);
		for (unsigned i = 0; i < 4096; i++)
			assert_int_equal(b[i], (i % maxp) % 63);
		assert_int_equal(t_bulk(d, BULK, 1, false, b, 4096, &n), 0);
		assert_int_equal(n, 4096);
		b[100] ^= 1;
		assert_int_equal(t_bulk(d, BULK, 1, false, b, 4096, &n), USBIF_STATUS_STALL);
		assert_int_equal(t_bulk(d, BULK, 1, false, b, 4096, &n), USBIF_STATUS_STALL);
		assert_int_equal(t_ctrl(d, USB_RECIP_ENDPOINT, USB_REQ_CLEAR_FEATURE, 0, 1, 0, NULL, NULL), 0);
		b[100] ^= 1;
		assert_int_equal(t_bulk(d, BULK, 1, false, b, 4096, &n), 0);
		t_usb_close(d);
	}
	struct usb_dev *d = t_usb_open("emu:zero", 2);

	t_set_config(d, 3);
	memset(b, 0xaa, sizeof(b));
	assert_int_equal(t_bulk(d, BULK, 1, true, b, 333, &n), 0);
	assert_int_equal(n, 333);
	assert_int_equal(b[0] | b[332], 0);
	assert_int_equal(b[333], 0xaa);
	t_usb_close(d);
}

static void test_vendor_control_write_read(void **state)
{
	struct usb_dev *d = t_usb_open("emu:zero", 2);
	static uint8_t b[4097], back[4097];
	uint32_t n;

	for (unsigned i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i * 7);
	/* not before the source/sink configuration */
	assert_int_equal(t_ctrl(d, USB_TYPE_VENDOR, 0x5b, 0, 0, 16, b, &n), USBIF_STATUS_STALL);
	t_set_config(d, 3);
	for (unsigned len = 1; len <= 4096; len = len * 3 + 1) {
		assert_int_equal(t_ctrl(d, USB_TYPE_VENDOR, 0x5b, 0, 0, (uint16_t)len, b, &n), 0);
		assert_int_equal(n, len);
		memset(back, 0, sizeof(back));
		assert_int_equal(t_ctrl(d, USB_DIR_IN | USB_TYPE_VENDOR, 0x5c, 0, 0, (uint16_t)len, back,
					&n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(back, b, len);
	}
	assert_int_equal(t_ctrl(d, USB_TYPE_VENDOR, 0x5b, 0, 0, 4097, b, &n), USBIF_STATUS_STALL);
	assert_int_equal(t_ctrl(d, USB_TYPE_VENDOR, 0x5b, 1, 0, 4, b, &n), USBIF_STATUS_STALL);
	assert_int_equal(t_ctrl(d, USB_DIR_IN | USB_TYPE_VENDOR, 0x5b, 0, 0, 4, b, &n),
			 USBIF_STATUS_STALL);
	assert_int_equal(t_ctrl(d, USB_TYPE_VENDOR, 0x5c, 0, 0, 4, b, &n), USBIF_STATUS_STALL);
	t_set_config(d, 2);
	assert_int_equal(t_ctrl(d, USB_TYPE_VENDOR, 0x5b, 0, 0, 4, b, &n), USBIF_STATUS_STALL);
	t_usb_close(d);
}

/* usbtest's test_ctrl_queue subcases: request, expected status (a
 * negative: must; positive: may stall) and the length asked. */
static void test_usbtest_ctrl_queue_subcases(void **state)
{
	static const struct {
		uint8_t type, req;
		uint16_t value, index, len;
		int must;             /* 0: succeeds, 1: short, -1: stalls, 2: either */
	} sub[] = {
		{ 0x80, 6, 0x0100, 0, 18, 0 },       /* device descriptor */
		{ 0x80, 6, 0x0200, 0, 9, 0 },        /* config header */
		{ 0x81, 10, 0, 0, 1, 2 },            /* get interface */
		{ 0x81, 0, 0, 0, 2, 0 },             /* interface status */
		{ 0x80, 0, 0, 0, 2, 0 },             /* device status */
		{ 0x80, 6, 0x0600, 0, 10, 0 },       /* qualifier (high speed) */
		{ 0x80, 6, 0x0200, 0, 18, 0 },       /* config + interface */
		{ 0x80, 6, 0x0400, 0, 9, -1 },       /* interface descriptor */
		{ 0x02, 1, 0, 0, 0, 2 },             /* clear halt of ep0 */
		{ 0x82, 0, 0, 0, 2, 0 },             /* endpoint 0 status */
		{ 0x80, 6, 0x0200, 0, 1024, 1 },     /* short read */
		{ 0x80, 6, 0x0500, 0, 9, -1 },       /* endpoint descriptor */
		{ 0x80, 6, 0x0300, 0, 9, 1 },        /* string 0: short */
		{ 0x80, 6, 0x0200, 0, 1024 - 64, 1 },
		{ 0x80, 6, 0x0100, 0, 64, 1 },       /* device descriptor: short */
		{ 0x80, 6, 0x0f00, 0, 5, -1 },       /* BOS below 2.01 */
	};
	struct usb_dev *d = t_usb_open("emu:zero", 2);
	uint8_t b[1024];
	uint32_t n;

	t_set_config(d, 3);
	for (unsigned i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		int st = t_ctrl(d, sub[i].type, sub[i].req, sub[i].value, sub[i].index, sub[i].len, b, &n);

		if (sub[i].must == -1) {
			assert_int_equal(st, USBIF_STATUS_STALL);
			continue;
		}
		assert_int_equal(st, 0);
		if (sub[i].must == 0)
			assert_int_equal(n, sub[i].len);
		else if (sub[i].must == 1)
			assert_true(n < sub[i].len);
	}
	t_usb_close(d);
}

static void test_iso_descriptors_filled(void **state)
{
	for (unsigned ver = 1; ver <= 2; ver++) {
		struct usb_dev *d = t_usb_open("emu:zero,pattern=1,isoc_maxpacket=200", ver);
		struct t_xfer *t;

		t_set_config(d, 3);
		assert_int_equal(t_ctrl(d, USB_RECIP_INTERFACE, USB_REQ_SET_INTERFACE, 1, 0, 0, NULL, NULL), 0);
		for (int in = 0; in < 2; in++) {
			t = t_xfer_new(USBIF_PIPE_TYPE_ISOC, 2, in, 1000);
			t->x.req.nr_packets = 6;
			for (unsigned i = 0; i < 5; i++)
				t->iso[i] = (struct usb_iso_desc){ i * 200, i == 4 ? 150 : 200, 99, 99 };
			t->iso[5] = (struct usb_iso_desc){ 990, 20, 99, 99 };   /* beyond the buffer */
			memset(t->buf, 0xee, 1000);
			assert_true(t_submit(d, t));
			assert_int_equal(t->x.status, 0);
			assert_int_equal(t->x.actual, 950);
			assert_int_equal(t->x.error_count, 1);
			for (unsigned i = 0; i < 5; i++) {
				assert_int_equal(t->iso[i].status, 0);
				assert_int_equal(t->iso[i].actual_length, t->iso[i].length);
			}
			assert_int_equal(t->iso[5].actual_length, 0);
			assert_int_not_equal(t->iso[5].status, 0);
			if (in) {
				assert_int_equal(t->buf[200 + 64], (64 % 200) % 63);
				assert_int_equal(t->buf[999], 0xee);
			}
			t_xfer_free(t);
		}
		/* a packet longer than the endpoint's gets what the endpoint gives */
		t = t_xfer_new(USBIF_PIPE_TYPE_ISOC, 2, true, 1000);
		t->x.req.nr_packets = 1;
		t->iso[0] = (struct usb_iso_desc){ 0, 1000, 0, 0 };
		assert_true(t_submit(d, t));
		assert_int_equal(t->iso[0].actual_length, 200);
		t_xfer_free(t);
		/* alt 2: interrupt source and sink */
		uint8_t b[64] = { 0 };
		uint32_t n;

		assert_int_equal(t_ctrl(d, USB_RECIP_INTERFACE, USB_REQ_SET_INTERFACE, 2, 0, 0, NULL, NULL), 0);
		assert_int_equal(t_bulk(d, USBIF_PIPE_TYPE_INT, 3, true, b, 64, &n), 0);
		assert_int_equal(b[1], 1);
		assert_int_equal(t_bulk(d, USBIF_PIPE_TYPE_INT, 3, false, b, 64, &n), 0);
		assert_int_equal(t_bulk(d, USBIF_PIPE_TYPE_ISOC, 2, true, b, 64, &n), USBIF_STATUS_STALL);
		t_usb_close(d);
	}
}

static void test_loopback_round_trip(void **state)
{
	struct usb_dev *d = t_usb_open("emu:zero,qlen=2,buflen=512", 2);
	static uint8_t b[4096], back[4096];
	struct t_xfer *in, *out;
	uint32_t n;

	for (unsigned i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i * 13 + 1);
	t_set_config(d, 2);
	/* short packets end an IN transfer */
	assert_int_equal(t_bulk(d, BULK, 1, false, b, 100, &n), 0);
	assert_int_equal(t_bulk(d, BULK, 1, false, b + 100, 50, &n), 0);
	assert_int_equal(t_bulk(d, BULK, 1, true, back, 4096, &n), 0);
	assert_int_equal(n, 100);
	assert_memory_equal(back, b, 100);
	assert_int_equal(t_bulk(d, BULK, 1, true, back, 20, &n), 0);
	assert_int_equal(n, 20);
	assert_int_equal(t_bulk(d, BULK, 1, true, back + 20, 4096, &n), 0);
	assert_int_equal(n, 30);
	assert_memory_equal(back, b + 100, 50);
	/* an IN waits for data; full packets do not end it, a short one does */
	in = t_xfer_new(BULK, 1, true, 4096);
	assert_false(t_submit(d, in));
	assert_int_equal(t_bulk(d, BULK, 1, false, b, 512, &n), 0);
	assert_int_equal(in->done, 0);
	assert_int_equal(t_bulk(d, BULK, 1, false, b + 512, 10, &n), 0);
	assert_int_equal(in->done, 1);
	assert_int_equal(in->x.actual, 522);
	assert_memory_equal(in->buf, b, 522);
	t_xfer_free(in);
	/* full: the OUT waits until an IN makes room */
	assert_int_equal(t_bulk(d, BULK, 1, false, b, 1000, &n), 0);
	out = t_xfer_new(BULK, 1, false, 100);
	assert_false(t_submit(d, out));
	assert_int_equal(t_bulk(d, BULK, 1, true, back, 4096, &n), 0);
	assert_int_equal(n, 1000);
	assert_int_equal(out->done, 1);
	assert_int_equal(out->x.status, 0);
	t_xfer_free(out);
	/* cancel of a waiting IN gets what it has */
	in = t_xfer_new(BULK, 1, true, 4096);
	assert_int_equal(t_bulk(d, BULK, 1, true, back, 4096, &n), 0);   /* the 100 */
	assert_false(t_submit(d, in));
	assert_int_equal(t_bulk(d, BULK, 1, false, b, 512, &n), 0);
	d->ops->cancel(d, &in->x);
	assert_int_equal(in->done, 1);
	assert_int_equal(in->x.status, USBIF_STATUS_SHUTDOWN);
	assert_int_equal(in->x.actual, 512);
	t_xfer_free(in);
	/* a reconfiguration drops what was kept */
	assert_int_equal(t_bulk(d, BULK, 1, false, b, 10, &n), 0);
	t_set_config(d, 2);
	in = t_xfer_new(BULK, 1, true, 64);
	assert_false(t_submit(d, in));
	d->ops->cancel(d, &in->x);
	assert_int_equal(in->x.actual, 0);
	t_xfer_free(in);
	t_usb_close(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source_and_sink_patterns),
		cmocka_unit_test(test_vendor_control_write_read),
		cmocka_unit_test(test_usbtest_ctrl_queue_subcases),
		cmocka_unit_test(test_iso_descriptors_filled),
		cmocka_unit_test(test_loopback_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
