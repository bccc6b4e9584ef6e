// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: emu:keyboard and emu:tablet (usbback/emu_hid.c): the HID
 * and report descriptors; typed text becomes press/release reports with
 * shift, each answering one interrupt IN transfer, which otherwise waits
 * until there is input and completes when cancelled or the device is
 * reset; text= types once after SET_CONFIGURATION; the class requests
 * (idle, protocol, reports, LEDs); tablet commands and pointer reports;
 * input for the wrong kind of device is refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "usb-emu-harness.h"

#define INT USBIF_PIPE_TYPE_INT
#define CLASS_IN  (USB_DIR_IN | USB_TYPE_CLASS | USB_RECIP_INTERFACE)
#define CLASS_OUT (USB_TYPE_CLASS | USB_RECIP_INTERFACE)

static struct usb_dev *open_hid(const char *spec)
{
	struct usb_dev *d = t_usb_open(spec, 2);

	t_set_config(d, 1);
	return d;
}

/* The next report, which must be there. */
static void report(struct usb_dev *d, uint8_t *r, uint32_t len)
{
	uint32_t n;

	assert_int_equal(t_bulk(d, INT, 1, true, r, 8, &n), 0);
	assert_int_equal(n, len);
}

static void expect_key(struct usb_dev *d, uint8_t mod, uint8_t key)
{
	uint8_t r[8], up[8] = { 0 };

	report(d, r, 8);
	assert_int_equal(r[0], mod);
	assert_int_equal(r[2], key);
	assert_int_equal(r[3], 0);
	report(d, r, 8);
	assert_memory_equal(r, up, 8);
}

static void test_descriptors(void **state)
{
	struct usb_dev *d = open_hid("emu:keyboard");
	uint8_t b[256];
	uint32_t n;

	assert_int_equal(t_ctrl(d, USB_DIR_IN, USB_REQ_GET_DESCRIPTOR, 0x0200, 0, 255, b, &n), 0);
	assert_int_equal(n, 9 + 9 + 9 + 7);
	assert_int_equal(b[9 + 5], 3);
	assert_int_equal(b[9 + 6], 1);
	assert_int_equal(b[9 + 7], 1);
	assert_int_equal(b[18 + 1], 0x21);
	unsigned rlen = b[18 + 7] | b[18 + 8] << 8;

	assert_int_equal(b[27 + 2], 0x81);
	assert_int_equal(b[27 + 4], 8);
	assert_int_equal(t_ctrl(d, USB_DIR_IN | USB_RECIP_INTERFACE, USB_REQ_GET_DESCRIPTOR, 0x2200, 0,
				255, b, &n), 0);
	assert_int_equal(n, rlen);
	assert_int_equal(b[0], 0x05);
	assert_int_equal(b[n - 1], 0xc0);
	assert_int_equal(t_ctrl(d, USB_DIR_IN | USB_RECIP_INTERFACE, USB_REQ_GET_DESCRIPTOR, 0x2100, 0,
				255, b, &n), 0);
	assert_int_equal(n, 9);
	assert_int_equal(t_ctrl(d, USB_DIR_IN | USB_RECIP_INTERFACE, USB_REQ_GET_DESCRIPTOR, 0x2300, 0,
				255, b, &n), USBIF_STATUS_STALL);
	assert_int_equal(t_ctrl(d, USB_DIR_IN | USB_RECIP_INTERFACE, USB_REQ_GET_DESCRIPTOR, 0x2200, 1,
				255, b, &n), USBIF_STATUS_STALL);
	t_usb_close(d);
}

static void test_typed_text_becomes_reports(void **state)
{
	struct usb_dev *d = open_hid("emu:keyboard");
	struct t_xfer *t;

	assert_int_equal(usb_emu_hid_type(d, "aB1!\n ?"), 0);
	expect_key(d, 0, 0x04);
	expect_key(d, 2, 0x05);
	expect_key(d, 0, 0x1e);
	expect_key(d, 2, 0x1e);
	expect_key(d, 0, 0x28);
	expect_key(d, 0, 0x2c);
	expect_key(d, 2, 0x38);
	/* nothing queued: the transfer waits, typing answers it */
	t = t_xfer_new(INT, 1, true, 8);
	assert_false(t_submit(d, t));
	assert_int_equal(usb_emu_hid_type(d, "z"), 0);
	assert_int_equal(t->done, 1);
	assert_int_equal(t->x.status, 0);
	assert_int_equal(t->buf[2], 0x1d);
	t_xfer_free(t);
	uint8_t r[8], up[8] = { 0 };

	report(d, r, 8);
	assert_memory_equal(r, up, 8);
	t_usb_close(d);
}

static void test_pending_transfer_cancelled_or_reset(void **state)
{
	struct usb_dev *d = open_hid("emu:keyboard");
	struct t_xfer *a = t_xfer_new(INT, 1, true, 8), *b = t_xfer_new(INT, 1, true, 8);

	assert_false(t_submit(d, a));
	assert_false(t_submit(d, b));
	d->ops->cancel(d, &b->x);
	assert_int_equal(b->done, 1);
	assert_int_equal(b->x.status, USBIF_STATUS_SHUTDOWN);
	assert_int_equal(b->x.actual, 0);
	assert_int_equal(a->done, 0);
	assert_int_equal(d->ops->reset(d), 0);
	assert_int_equal(a->done, 1);
	assert_int_equal(a->x.status, USBIF_STATUS_SHUTDOWN);
	t_xfer_free(a);
	t_xfer_free(b);
	/* unconfigured after the reset: the endpoint is gone */
	uint8_t r[8];

	assert_int_equal(t_bulk(d, INT, 1, true, r, 8, NULL), USBIF_STATUS_STALL);
	/* a halted endpoint stalls even with input queued */
	t_set_config(d, 1);
	assert_int_equal(usb_emu_hid_type(d, "x"), 0);
	assert_int_equal(t_ctrl(d, USB_RECIP_ENDPOINT, USB_REQ_SET_FEATURE, 0, 0x81, 0, NULL, NULL), 0);
	assert_int_equal(t_bulk(d, INT, 1, true, r, 8, NULL), USBIF_STATUS_STALL);
	assert_int_equal(t_ctrl(d, USB_RECIP_ENDPOINT, USB_REQ_CLEAR_FEATURE, 0, 0x81, 0, NULL, NULL), 0);
	expect_key(d, 0, 0x1b);
	/* a buffer smaller than a report: babble, the buffer bounded */
	assert_int_equal(usb_emu_hid_type(d, "x"), 0);
	assert_int_equal(t_bulk(d, INT, 1, true, r, 4, NULL), USBIF_STATUS_BABBLE);
	t_usb_close(d);
}

static void test_text_option_types_once_configured(void **state)
{
	struct usb_dev *d = t_usb_open("emu:keyboard,text=hi", 2);
	uint8_t r[8];

	assert_int_equal(t_bulk(d, INT, 1, true, r, 8, NULL), USBIF_STATUS_STALL);
	t_set_config(d, 1);
	expect_key(d, 0, 0x0b);
	expect_key(d, 0, 0x0c);
	/* not again on the next configuration */
	t_set_config(d, 1);
	struct t_xfer *t = t_xfer_new(INT, 1, true, 8);

	assert_false(t_submit(d, t));
	d->ops->cancel(d, &t->x);
	t_xfer_free(t);
	t_usb_close(d);
}

static void test_class_requests(void **state)
{
	struct usb_dev *d = open_hid("emu:keyboard");
	uint8_t b[8], led = 0x03;
	uint32_t n;

	assert_int_equal(t_ctrl(d, CLASS_OUT, 0x0a, 0x7d00, 0, 0, NULL, NULL), 0);
	assert_int_equal(t_ctrl(d, CLASS_IN, 0x02, 0, 0, 1, b, &n), 0);
	assert_int_equal(b[0], 0x7d);
	assert_int_equal(t_ctrl(d, CLASS_IN, 0x03, 0, 0, 1, b, &n), 0);
	assert_int_equal(b[0], 1);
	assert_int_equal(t_ctrl(d, CLASS_OUT, 0x0b, 0, 0, 0, NULL, NULL), 0);
	assert_int_equal(t_ctrl(d, CLASS_IN, 0x03, 0, 0, 1, b, &n), 0);
	assert_int_equal(b[0], 0);
	assert_int_equal(t_ctrl(d, CLASS_OUT, 0x0b, 2, 0, 0, NULL, NULL), USBIF_STATUS_STALL);
	assert_int_equal(t_ctrl(d, CLASS_OUT, 0x09, 0x0200, 0, 1, &led, NULL), 0);
	assert_int_equal(t_ctrl(d, CLASS_OUT, 0x09, 0x0200, 0, 0, NULL, NULL), USBIF_STATUS_STALL);
	assert_int_equal(t_ctrl(d, CLASS_IN, 0x01, 0x0100, 0, 8, b, &n), 0);
	assert_int_equal(n, 8);
	assert_int_equal(t_ctrl(d, CLASS_IN, 0x01, 0x0300, 0, 8, b, &n), USBIF_STATUS_STALL);
	assert_int_equal(t_ctrl(d, CLASS_IN, 0x02, 0, 1, 1, b, &n), USBIF_STATUS_STALL);
	assert_int_equal(t_ctrl(d, CLASS_IN, 0x07, 0, 0, 1, b, &n), USBIF_STATUS_STALL);
	t_usb_close(d);
}

static void test_tablet_reports(void **state)
{
	struct usb_dev *d = open_hid("emu:tablet");
	uint8_t r[8];

	assert_int_equal(usb_emu_hid_type(d, "move 100 32767; click 1\nwheel -3"), 0);
	report(d, r, 6);
	assert_int_equal(r[0], 0);
	assert_int_equal(r[1] | r[2] << 8, 100);
	assert_int_equal(r[3] | r[4] << 8, 32767);
	report(d, r, 6);
	assert_int_equal(r[0], 1);
	assert_int_equal(r[1] | r[2] << 8, 100);
	report(d, r, 6);
	assert_int_equal(r[0], 0);
	report(d, r, 6);
	assert_int_equal((int8_t)r[5], -3);
	assert_int_equal(usb_emu_hid_pointer(d, 40000, 5, 4, 0), 0);
	report(d, r, 6);
	assert_int_equal(r[0], 4);
	assert_int_equal(r[1] | r[2] << 8, 32767);
	assert_int_equal(usb_emu_hid_type(d, "jump 1 2"), -EINVAL);
	assert_int_equal(usb_emu_hid_type(d, "click 4"), -EINVAL);
	assert_int_equal(usb_emu_hid_type(d, "move -1 2"), -EINVAL);
	t_usb_close(d);
}

static void test_input_for_the_wrong_device_is_refused(void **state)
{
	struct usb_dev *k = open_hid("emu:keyboard"), *z = t_usb_open("emu:zero", 2);
	static char big[5000];

	assert_int_equal(usb_emu_hid_pointer(k, 1, 1, 0, 0), -ENOTSUP);
	assert_int_equal(usb_emu_hid_type(z, "a"), -ENOTSUP);
	assert_int_equal(usb_emu_hid_pointer(z, 1, 1, 0, 0), -ENOTSUP);
	assert_int_equal(usb_emu_hid_type(k, "caf\xc3\xa9"), -EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	assert_int_equal(usb_emu_hid_type(k, big), -ENOSPC);
	t_usb_close(k);
	t_usb_close(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_descriptors),
		cmocka_unit_test(test_typed_text_becomes_reports),
		cmocka_unit_test(test_pending_transfer_cancelled_or_reset),
		cmocka_unit_test(test_text_option_types_once_configured),
		cmocka_unit_test(test_class_requests),
		cmocka_unit_test(test_tablet_reports),
		cmocka_unit_test(test_input_for_the_wrong_device_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
