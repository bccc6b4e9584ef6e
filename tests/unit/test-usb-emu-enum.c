// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: the standard requests every emulated device answers from
 * its tables (usbback/emu.c): device, configuration (with its interfaces
 * and endpoints, packet sizes per speed), string, qualifier and
 * other-speed descriptors; BOS, interface and endpoint descriptors stall;
 * SET/GET_CONFIGURATION and INTERFACE; GET_STATUS; endpoint halt set and
 * cleared; transfers to endpoints the configuration lacks stall; unknown
 * requests stall; and random setup packets (a deterministic fuzz loop)
 * always complete exactly once without touching memory outside the buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "usb-emu-harness.h"

#define IN_STD_DEV  (USB_DIR_IN | USB_TYPE_STANDARD | USB_RECIP_DEVICE)

static int get_desc(struct usb_dev *d, unsigned type, unsigned idx, uint8_t *buf, uint16_t len,
		    uint32_t *actual)
{
	return t_ctrl(d, IN_STD_DEV, USB_REQ_GET_DESCRIPTOR, (uint16_t)(type << 8 | idx),
		      type == USB_DT_STRING && idx ? 0x0409 : 0, len, buf, actual);
}

static void test_device_descriptor_per_speed(void **state)
{
	uint8_t b[64];
	uint32_t n;

	for (unsigned ver = 1; ver <= 2; ver++) {
		struct usb_dev *d = t_usb_open("emu:zero", ver);

		assert_int_equal(d->speed, ver == 2 ? USBIF_SPEED_HIGH : USBIF_SPEED_FULL);
		assert_int_equal(get_desc(d, USB_DT_DEVICE, 0, b, 64, &n), 0);
		assert_int_equal(n, 18);
		assert_int_equal(b[0], 18);
		assert_int_equal(b[1], USB_DT_DEVICE);
		assert_int_equal(b[2] | b[3] << 8, ver == 2 ? 0x0200 : 0x0110);
		assert_int_equal(b[7], 64);
		assert_int_equal(b[8] | b[9] << 8, 0x0525);
		assert_int_equal(b[10] | b[11] << 8, 0xa4a0);
		assert_int_equal(b[17], 2);
		/* a short read gets the first bytes */
		assert_int_equal(get_desc(d, USB_DT_DEVICE, 0, b, 8, &n), 0);
		assert_int_equal(n, 8);
		/* the qualifier and other-speed only for high speed */
		assert_int_equal(get_desc(d, USB_DT_DEVICE_QUALIFIER, 0, b, 10, &n),
				 ver == 2 ? 0 : USBIF_STATUS_STALL);
		if (ver == 2) {
			assert_int_equal(n, 10);
			assert_int_equal(b[1], USB_DT_DEVICE_QUALIFIER);
			assert_int_equal(b[8], 2);
		}
		assert_int_equal(get_desc(d, USB_DT_OTHER_SPEED, 0, b, 64, &n),
				 ver == 2 ? 0 : USBIF_STATUS_STALL);
		assert_int_equal(get_desc(d, USB_DT_BOS, 0, b, 5, &n), USBIF_STATUS_STALL);
		assert_int_equal(get_desc(d, USB_DT_INTERFACE, 0, b, 9, &n), USBIF_STATUS_STALL);
		assert_int_equal(get_desc(d, USB_DT_ENDPOINT, 0, b, 7, &n), USBIF_STATUS_STALL);
		assert_int_equal(get_desc(d, USB_DT_CONFIG, 2, b, 9, &n), USBIF_STATUS_STALL);
		t_usb_close(d);
	}
}

/* Walk a configuration descriptor: the wMaxPacketSize of endpoint addr in
 * the first alternate setting that has it, -1 when none. */
static int find_maxp(const uint8_t *b, unsigned len, uint8_t addr)
{
	for (unsigned i = 0; i + 2 <= len && b[i] >= 2; i += b[i])
		if (b[i + 1] == USB_DT_ENDPOINT && b[i + 2] == addr)
			return b[i + 4] | b[i + 5] << 8;
	return -1;
}

static void test_config_descriptor_holds_everything(void **state)
{
	uint8_t b[1024];
	uint32_t n;
	char path[] = "/tmp/test-usb-emu-enum.XXXXXX";
	int fd = mkstemp(path);
	char spec[128];

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	close(fd);
	snprintf(spec, sizeof(spec), "emu:storage,file=%s", path);
	for (unsigned ver = 1; ver <= 2; ver++) {
		struct usb_dev *d = t_usb_open(spec, ver);

		assert_int_equal(get_desc(d, USB_DT_CONFIG, 0, b, 9, &n), 0);
		assert_int_equal(n, 9);
		assert_int_equal(b[2] | b[3] << 8, 9 + 9 + 7 + 7);
		assert_int_equal(b[7] & 0x80, 0x80);
		assert_int_equal(get_desc(d, USB_DT_CONFIG, 0, b, 1024, &n), 0);
		assert_int_equal(n, 32);
		assert_int_equal(b[9 + 5], 0x08);   /* mass storage */
		assert_int_equal(b[9 + 7], 0x50);   /* bulk-only */
		assert_int_equal(find_maxp(b, n, 0x81), ver == 2 ? 512 : 64);
		assert_int_equal(find_maxp(b, n, 0x02), ver == 2 ? 512 : 64);
		if (ver == 2) {
			assert_int_equal(get_desc(d, USB_DT_OTHER_SPEED, 0, b, 1024, &n), 0);
			assert_int_equal(b[1], USB_DT_OTHER_SPEED);
			assert_int_equal(find_maxp(b, n, 0x81), 64);
		}
		/* strings: languages, then UTF-16LE */
		assert_int_equal(get_desc(d, USB_DT_STRING, 0, b, 255, &n), 0);
		assert_int_equal(n, 4);
		assert_int_equal(b[2] | b[3] << 8, 0x0409);
		assert_int_equal(get_desc(d, USB_DT_STRING, 2, b, 255, &n), 0);
		assert_int_equal(n, 2 + 2 * strlen("emu storage"));
		assert_int_equal(b[2], 'e');
		assert_int_equal(b[3], 0);
		assert_int_equal(get_desc(d, USB_DT_STRING, 7, b, 255, &n), USBIF_STATUS_STALL);
		assert_int_equal(get_desc(d, USB_DT_STRING, 200, b, 255, &n), USBIF_STATUS_STALL);
		t_usb_close(d);
	}
	unlink(path);
}

static void test_configuration_and_interfaces(void **state)
{
	struct usb_dev *d = t_usb_open("emu:zero", 2);
	uint8_t b[64];
	uint32_t n;

	/* unconfigured: no endpoint but 0, no interface */
	assert_int_equal(t_ctrl(d, USB_DIR_IN, USB_REQ_GET_CONFIGURATION, 0, 0, 1, b, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(b[0], 0);
	assert_int_equal(t_bulk(d, USBIF_PIPE_TYPE_BULK, 1, true, b, 64, &n), USBIF_STATUS_STALL);
	assert_int_equal(t_ctrl(d, USB_DIR_IN | USB_RECIP_INTERFACE, USB_REQ_GET_STATUS, 0, 0, 2, b, &n),
			 USBIF_STATUS_STALL);
	assert_int_equal(t_ctrl(d, 0, USB_REQ_SET_CONFIGURATION, 7, 0, 0, NULL, NULL), USBIF_STATUS_STALL);

	t_set_config(d, 3);
	assert_int_equal(t_ctrl(d, USB_DIR_IN, USB_REQ_GET_CONFIGURATION, 0, 0, 1, b, &n), 0);
	assert_int_equal(b[0], 3);
	assert_int_equal(t_bulk(d, USBIF_PIPE_TYPE_BULK, 1, true, b, 64, &n), 0);
	/* alt 0 has no iso endpoint; alt 1 has */
	assert_int_equal(t_bulk(d, USBIF_PIPE_TYPE_ISOC, 2, true, b, 64, &n), USBIF_STATUS_STALL);
	assert_int_equal(t_ctrl(d, USB_RECIP_INTERFACE, USB_REQ_SET_INTERFACE, 1, 0, 0, NULL, NULL), 0);
	assert_int_equal(t_ctrl(d, USB_DIR_IN | USB_RECIP_INTERFACE, USB_REQ_GET_INTERFACE, 0, 0, 1,
				b, &n), 0);
	assert_int_equal(b[0], 1);
	assert_int_equal(t_ctrl(d, USB_RECIP_INTERFACE, USB_REQ_SET_INTERFACE, 3, 0, 0, NULL, NULL),
			 USBIF_STATUS_STALL);
	assert_int_equal(t_ctrl(d, USB_RECIP_INTERFACE, USB_REQ_SET_INTERFACE, 0, 1, 0, NULL, NULL),
			 USBIF_STATUS_STALL);
	/* a bulk pipe to an interrupt endpoint stalls too (alt 2 has 0x83) */
	assert_int_equal(t_ctrl(d, USB_RECIP_INTERFACE, USB_REQ_SET_INTERFACE, 2, 0, 0, NULL, NULL), 0);
	assert_int_equal(t_bulk(d, USBIF_PIPE_TYPE_INT, 3, true, b, 64, &n), 0);
	assert_int_equal(t_bulk(d, USBIF_PIPE_TYPE_BULK, 3, true, b, 64, &n), USBIF_STATUS_STALL);
	/* config 0 back to the address state; a bus reset too */
	t_set_config(d, 0);
	assert_int_equal(t_bulk(d, USBIF_PIPE_TYPE_BULK, 1, true, b, 64, &n), USBIF_STATUS_STALL);
	t_set_config(d, 2);
	assert_int_equal(d->ops->reset(d), 0);
	assert_int_equal(t_ctrl(d, USB_DIR_IN, USB_REQ_GET_CONFIGURATION, 0, 0, 1, b, &n), 0);
	assert_int_equal(b[0], 0);
	t_usb_close(d);
}

static int ep_status(struct usb_dev *d, uint16_t ep)
{
	uint8_t b[2] = { 0xee, 0xee };
	uint32_t n;
	int st = t_ctrl(d, USB_DIR_IN | USB_RECIP_ENDPOINT, USB_REQ_GET_STATUS, 0, ep, 2, b, &n);

	return st ? st : b[0] | b[1] << 8;
}

static void test_halt_stalls_until_cleared(void **state)
{
	struct usb_dev *d = t_usb_open("emu:zero", 2);
	uint8_t b[512] = { 0 };
	uint32_t n;

	t_set_config(d, 3);
	assert_int_equal(t_ctrl(d, USB_DIR_IN, USB_REQ_GET_STATUS, 0, 0, 2, b, &n), 0);
	assert_int_equal(b[0], 1);              /* self powered */
	assert_int_equal(ep_status(d, 0), 0);
	assert_int_equal(ep_status(d, 0x81), 0);
	assert_int_equal(ep_status(d, 0x85), USBIF_STATUS_STALL);
	assert_int_equal(ep_status(d, 0x181), USBIF_STATUS_STALL);
	assert_int_equal(t_ctrl(d, USB_RECIP_ENDPOINT, USB_REQ_SET_FEATURE, USB_FEATURE_ENDPOINT_HALT,
				0x81, 0, NULL, NULL), 0);
	assert_int_equal(ep_status(d, 0x81), 1);
	assert_int_equal(ep_status(d, 0x01), 0);
	assert_int_equal(t_bulk(d, USBIF_PIPE_TYPE_BULK, 1, true, b, 512, &n), USBIF_STATUS_STALL);
	assert_int_equal(t_bulk(d, USBIF_PIPE_TYPE_BULK, 1, true, b, 512, &n), USBIF_STATUS_STALL);
	memset(b, 0, sizeof(b));
	assert_int_equal(t_bulk(d, USBIF_PIPE_TYPE_BULK, 1, false, b, 512, &n), 0);
	assert_int_equal(t_ctrl(d, USB_RECIP_ENDPOINT, USB_REQ_CLEAR_FEATURE, USB_FEATURE_ENDPOINT_HALT,
				0x81, 0, NULL, NULL), 0);
	assert_int_equal(ep_status(d, 0x81), 0);
	assert_int_equal(t_bulk(d, USBIF_PIPE_TYPE_BULK, 1, true, b, 512, &n), 0);
	assert_int_equal(n, 512);
	/* endpoint 0 never halts: usbtest's queued control test clears it */
	assert_int_equal(t_ctrl(d, USB_RECIP_ENDPOINT, USB_REQ_CLEAR_FEATURE, 0, 0, 0, NULL, NULL), 0);
	/* a SET_CONFIGURATION clears halts */
	assert_int_equal(t_ctrl(d, USB_RECIP_ENDPOINT, USB_REQ_SET_FEATURE, 0, 0x01, 0, NULL, NULL), 0);
	t_set_config(d, 3);
	assert_int_equal(ep_status(d, 0x01), 0);
	t_usb_close(d);
}

static void test_unknown_requests_stall(void **state)
{
	struct usb_dev *d = t_usb_open("emu:keyboard", 2);
	uint8_t b[64];
	uint32_t n;

	t_set_config(d, 1);
	assert_int_equal(t_ctrl(d, USB_DIR_IN, 0x42, 0, 0, 8, b, &n), USBIF_STATUS_STALL);
	assert_int_equal(t_ctrl(d, 0, USB_REQ_SET_DESCRIPTOR, 0x0100, 0, 18, b, &n), USBIF_STATUS_STALL);
	assert_int_equal(t_ctrl(d, USB_DIR_IN | USB_RECIP_ENDPOINT, USB_REQ_SYNCH_FRAME, 0, 0x81, 2, b,
				&n), USBIF_STATUS_STALL);
	assert_int_equal(t_ctrl(d, USB_DIR_IN | USB_TYPE_VENDOR, 0x5c, 0, 0, 8, b, &n), USBIF_STATUS_STALL);
	/* a GET request sent as OUT, a SET as IN */
	assert_int_equal(t_ctrl(d, 0, USB_REQ_GET_DESCRIPTOR, 0x0100, 0, 0, NULL, &n), USBIF_STATUS_STALL);
	assert_int_equal(t_ctrl(d, USB_DIR_IN, USB_REQ_SET_CONFIGURATION, 1, 0, 0, NULL, &n),
			 USBIF_STATUS_STALL);
	/* a control pipe to another endpoint */
	struct t_xfer *t = t_xfer_new(USBIF_PIPE_TYPE_CTRL, 1, true, 8);

	t->x.req.setup = (struct usb_setup){ USB_DIR_IN, USB_REQ_GET_STATUS, 0, 0, 2 };
	assert_true(t_submit(d, t));
	assert_int_equal(t->x.status, USBIF_STATUS_STALL);
	t_xfer_free(t);
	t_usb_close(d);
}

/* xorshift: deterministic */
static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void test_random_setup_packets_complete_once(void **state)
{
	static const char *const specs[] = { "emu:zero", "emu:zero,loopdefault=1", "emu:keyboard",
					     "emu:tablet", "emu:storage,file=%s" };
	char path[] = "/tmp/test-usb-emu-fuzz.XXXXXX";
	int fd = mkstemp(path);
	uint32_t seed = 0x12345678;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 64 * 512), 0);
	close(fd);
	for (unsigned k = 0; k < sizeof(specs) / sizeof(specs[0]); k++) {
		char spec[128];

		snprintf(spec, sizeof(spec), specs[k], path);
		for (unsigned ver = 1; ver <= 2; ver++) {
			struct usb_dev *d = t_usb_open(spec, ver);

			for (unsigned i = 0; i < 20000; i++) {
				uint32_t r = rnd(&seed), r2 = rnd(&seed);
				/* bias toward plausible requests */
				uint8_t type = (uint8_t)(r & 0xe3);
				uint8_t req = (uint8_t)(i % 3 ? (r >> 8) % 13 : r >> 8);
				uint16_t wlen = (uint16_t)(r2 % 7 ? r2 % 300 : r2 >> 16);
				struct t_xfer *t = t_xfer_new(USBIF_PIPE_TYPE_CTRL, 0, type & USB_DIR_IN,
							      wlen);

				if (req == USB_REQ_SET_ADDRESS)
					req = USB_REQ_SET_CONFIGURATION;
				t->x.req.setup = (struct usb_setup){ type, req,
					(uint16_t)(i % 2 ? (r2 >> 8) % 4 | (r & 0x700) : r2 >> 3),
					(uint16_t)(i % 5 ? (r >> 20) % 0x84 : r >> 16), wlen };
				for (unsigned j = 0; j < wlen; j++)
					t->buf[j] = (uint8_t)rnd(&seed);
				assert_true(t_submit(d, t));
				t_xfer_free(t);
			}
			t_usb_close(d);
		}
	}
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_descriptor_per_speed),
		cmocka_unit_test(test_config_descriptor_holds_everything),
		cmocka_unit_test(test_configuration_and_interfaces),
		cmocka_unit_test(test_halt_stalls_until_cleared),
		cmocka_unit_test(test_unknown_requests_stall),
		cmocka_unit_test(test_random_setup_packets_complete_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
