// SPDX-License-Identifier: GPL-2.0-or-later
/* Driving emulated usb devices in unit tests (usb-emu-harness.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "usb-emu-harness.h"

static void t_done(struct usb_xfer *x)
{
	struct t_xfer *t = (struct t_xfer *)x;

	t->done++;
	assert_int_equal(t->done, 1);
	assert_true(x->actual <= x->req.length);
}

struct usb_dev *t_usb_open(const char *spec, unsigned usb_ver)
{
	struct usb_spec s;
	struct usb_dev *d = NULL;
	const char *why;

	assert_int_equal(usb_spec_parse(spec, &s, &why), 0);
	assert_int_equal(usb_dev_open(&s, -1, "test", usb_ver, &d), 0);
	d->done = t_done;
	d->owner = d;
	assert_int_equal(d->ops->attach(d, NULL), 0);
	assert_int_equal(d->ops->reset(d), 0);
	return d;
}

void t_usb_close(struct usb_dev *d)
{
	d->ops->detach(d);
	d->ops->close(d);
}

struct t_xfer *t_xfer_new(uint8_t type, uint8_t ep, bool in, uint32_t len)
{
	struct t_xfer *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->x.req.type = type;
	t->x.req.ep = ep;
	t->x.req.in = in;
	t->x.req.length = len;
	t->x.buf = t->buf;
	t->x.iso = t->iso;
	t->x.status = 12345;
	return t;
}

void t_xfer_free(struct t_xfer *t)
{
	free(t);
}

bool t_submit(struct usb_dev *d, struct t_xfer *t)
{
	t->x.dev = d;
	d->ops->submit(d, &t->x);
	return t->done == 1;
}

int t_ctrl(struct usb_dev *d, uint8_t type, uint8_t req, uint16_t value, uint16_t index,
	   uint16_t len, void *data, uint32_t *actual)
{
	struct t_xfer *t = t_xfer_new(USBIF_PIPE_TYPE_CTRL, 0, type & USB_DIR_IN, len);
	int st;

	t->x.req.setup = (struct usb_setup){ type, req, value, index, len };
	if (!(type & USB_DIR_IN) && data)
		memcpy(t->buf, data, len);
	assert_true(t_submit(d, t));
	if ((type & USB_DIR_IN) && data)
		memcpy(data, t->buf, t->x.actual);
	if (actual)
		*actual = t->x.actual;
	st = t->x.status;
	t_xfer_free(t);
	return st;
}

int t_bulk(struct usb_dev *d, uint8_t type, uint8_t ep, bool in, void *data, uint32_t len,
	   uint32_t *actual)
{
	struct t_xfer *t = t_xfer_new(type, ep, in, len);
	int st;

	if (!in)
		memcpy(t->buf, data, len);
	assert_true(t_submit(d, t));
	if (in)
		memcpy(data, t->buf, t->x.actual);
	if (actual)
		*actual = t->x.actual;
	st = t->x.status;
	t_xfer_free(t);
	return st;
}

void t_set_config(struct usb_dev *d, unsigned value)
{
	assert_int_equal(t_ctrl(d, 0, USB_REQ_SET_CONFIGURATION, (uint16_t)value, 0, 0, NULL, NULL), 0);
}
