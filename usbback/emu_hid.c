// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * emu:keyboard[,text=T] and emu:tablet: HID devices (HID 1.11).
 *
 * The keyboard is a boot keyboard (interface 3/1/1) whose report
 * descriptor is the boot one of HID appendix B.1: 8-byte input reports
 * (modifiers, reserved, six key codes) and a 1-byte LED output report.
 * The tablet is an absolute pointer as QEMU's usb-tablet: 3 buttons, X and
 * Y 0..32767, a wheel (6-byte reports, interface 3/0/0).
 *
 * Input comes from usb_emu_hid_type (keyboard: text as key presses and
 * releases; tablet: commands "move X Y", "click [B]", "press B",
 * "release B", "wheel N") and usb_emu_hid_pointer, into a bounded queue of
 * reports; an interrupt IN transfer waits parked until a report is there.
 * text=T types T once, after the first SET_CONFIGURATION.  Class requests:
 * GET_REPORT, SET_REPORT (the LEDs), GET/SET_IDLE, GET/SET_PROTOCOL.  The
 * idle rate is kept and reported but does not repeat reports (no timer):
 * Linux sets it to 0 for keyboards anyway.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"

#define REPORTS_MAX 4096u       /* queued input reports */
#define REPORT_MAX  8u
#define EP_INT      (USB_DIR_IN | 1)

#define HID_GET_REPORT   0x01
#define HID_GET_IDLE     0x02
#define HID_GET_PROTOCOL 0x03
#define HID_SET_REPORT   0x09
#define HID_SET_IDLE     0x0a
#define HID_SET_PROTOCOL 0x0b
#define HID_DT_HID       0x21
#define HID_DT_REPORT    0x22

static const uint8_t kbd_report_desc[] = {
	0x05, 0x01, 0x09, 0x06, 0xa1, 0x01,       /* Generic Desktop, Keyboard, Application */
	0x05, 0x07, 0x19, 0xe0, 0x29, 0xe7,       /* modifiers: usages e0..e7 */
	0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x08, 0x81, 0x02,
	0x95, 0x01, 0x75, 0x08, 0x81, 0x01,       /* reserved byte */
	0x95, 0x05, 0x75, 0x01, 0x05, 0x08, 0x19, 0x01, 0x29, 0x05, 0x91, 0x02, /* LEDs */
	0x95, 0x01, 0x75, 0x03, 0x91, 0x01,       /* LED padding */
	0x95, 0x06, 0x75, 0x08, 0x15, 0x00, 0x25, 0x65,
	0x05, 0x07, 0x19, 0x00, 0x29, 0x65, 0x81, 0x00, /* six key codes */
	0xc0,
};

static const uint8_t tablet_report_desc[] = {
	0x05, 0x01, 0x09, 0x02, 0xa1, 0x01,       /* Generic Desktop, Mouse, Application */
	0x09, 0x01, 0xa1, 0x00,                   /* Pointer, Physical */
	0x05, 0x09, 0x19, 0x01, 0x29, 0x03,       /* buttons 1..3 */
	0x15, 0x00, 0x25, 0x01, 0x95, 0x03, 0x75, 0x01, 0x81, 0x02,
	0x95, 0x01, 0x75, 0x05, 0x81, 0x01,       /* padding */
	0x05, 0x01, 0x09, 0x30, 0x09, 0x31,       /* X, Y absolute 0..32767 */
	0x15, 0x00, 0x26, 0xff, 0x7f, 0x35, 0x00, 0x46, 0xff, 0x7f,
	0x75, 0x10, 0x95, 0x02, 0x81, 0x02,
	0x05, 0x01, 0x09, 0x38,                   /* wheel, relative -127..127 */
	0x15, 0x81, 0x25, 0x7f, 0x35, 0x00, 0x45, 0x00,
	0x75, 0x08, 0x95, 0x01, 0x81, 0x06,
	0xc0, 0xc0,
};

struct hid {
	struct usb_emu e;
	bool tablet;
	uint8_t hid_desc[9];
	const uint8_t *report_desc;
	uint16_t report_desc_len;
	uint8_t report_len;         /* 8 keyboard, 6 tablet */
	uint8_t protocol;           /* 0 boot, 1 report */
	uint8_t idle;               /* SET_IDLE's duration, 4 ms units */
	uint8_t leds;
	uint8_t cur[REPORT_MAX];    /* the last report queued: GET_REPORT's answer */
	uint8_t (*q)[REPORT_MAX];   /* REPORTS_MAX reports, a ring */
	unsigned q_head, q_len;
	char *text;                 /* text=, typed after the first SET_CONFIGURATION */
	bool typed;
};

static struct hid *hid_of(struct usb_emu *e)
{
	return (struct hid *)e;
}

static const struct usb_emu_ops keyboard_ops, tablet_ops;

static struct hid *hid_get(struct usb_dev *d, bool tablet)
{
	return usb_emu_is(d, tablet ? &tablet_ops : &keyboard_ops) ? hid_of(usb_emu_of(d)) : NULL;
}

/* Answer parked interrupt IN transfers with queued reports. */
static void pump(struct hid *h)
{
	struct usb_xfer *x;

	while (h->q_len && (x = usb_emu_parked(&h->e, EP_INT))) {
		uint32_t n = x->req.length < h->report_len ? x->req.length : h->report_len;

		memcpy(x->buf, h->q[h->q_head], n);
		h->q_head = (h->q_head + 1) % REPORTS_MAX;
		h->q_len--;
		/* a report longer than the buffer is babble, as on the wire */
		usb_emu_unpark(&h->e, x, n < h->report_len ? USBIF_STATUS_BABBLE : USBIF_STATUS_OK, n);
	}
}

static void push(struct hid *h, const uint8_t *r)
{
	memcpy(h->q[(h->q_head + h->q_len) % REPORTS_MAX], r, h->report_len);
	memcpy(h->cur, r, h->report_len);
	h->q_len++;
}

/* ------------------------------------------------------------ keyboard */

/* HID usage (0: none) and shift of an ASCII character. */
static uint8_t usage_of(char c, bool *shift)
{
	static const char plain[] = "-=[]\\\0;'`,./", shifted[] = "_+{}|\0:\"~<>?";
	static const char digits_shifted[] = ")!@#$%^&*(";
	const char *p;

	*shift = false;
	if (c >= 'a' && c <= 'z')
		return (uint8_t)(0x04 + c - 'a');
	if (c >= 'A' && c <= 'Z') {
		*shift = true;
		return (uint8_t)(0x04 + c - 'A');
	}
	if (c >= '1' && c <= '9')
		return (uint8_t)(0x1e + c - '1');
	if (c == '0')
		return 0x27;
	if (c && (p = memchr(digits_shifted, c, 10))) {
		*shift = true;
		return p == digits_shifted ? 0x27 : (uint8_t)(0x1e + (p - digits_shifted) - 1);
	}
	switch (c) {
	case '\n': return 0x28;
	case '\b': return 0x2a;
	case '\t': return 0x2b;
	case ' ': return 0x2c;
	}
	if (c && (p = memchr(plain, c, sizeof(plain) - 1)))
		return (uint8_t)(0x2d + (p - plain));
	if (c && (p = memchr(shifted, c, sizeof(shifted) - 1))) {
		*shift = true;
		return (uint8_t)(0x2d + (p - shifted));
	}
	return 0;
}

static int type_text(struct hid *h, const char *text)
{
	size_t n = strlen(text);
	bool shift;

	if (n > (REPORTS_MAX - h->q_len) / 2)
		return -ENOSPC;
	for (size_t i = 0; i < n; i++)
		if (!usage_of(text[i], &shift))
			return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		uint8_t down[REPORT_MAX] = { 0 }, up[REPORT_MAX] = { 0 };

		down[2] = usage_of(text[i], &shift);
		down[0] = shift ? 0x02 : 0;   /* left shift */
		push(h, down);
		push(h, up);
	}
	pump(h);
	return 0;
}

/* -------------------------------------------------------------- tablet */

static int pointer(struct hid *h, unsigned x, unsigned y, unsigned buttons, int wheel)
{
	uint8_t r[REPORT_MAX] = { (uint8_t)(buttons & 7) };

	if (h->q_len >= REPORTS_MAX)
		return -ENOSPC;
	r[1] = (uint8_t)(x > 0x7fff ? 0x7fff : x);
	r[2] = (uint8_t)((x > 0x7fff ? 0x7fff : x) >> 8);
	r[3] = (uint8_t)(y > 0x7fff ? 0x7fff : y);
	r[4] = (uint8_t)((y > 0x7fff ? 0x7fff : y) >> 8);
	r[5] = (uint8_t)(int8_t)(wheel < -127 ? -127 : wheel > 127 ? 127 : wheel);
	push(h, r);
	pump(h);
	return 0;
}

int usb_emu_hid_pointer(struct usb_dev *d, unsigned x, unsigned y, unsigned buttons, int wheel)
{
	struct hid *h = hid_get(d, true);

	return h ? pointer(h, x, y, buttons, wheel) : -ENOTSUP;
}

/* One tablet command: "move X Y", "click B", "press B", "release B",
 * "wheel N" (buttons 1 left, 2 right, 3 middle). */
static int tablet_cmd(struct hid *h, const char *cmd)
{
	unsigned x = h->cur[1] | h->cur[2] << 8, y = h->cur[3] | h->cur[4] << 8;
	unsigned buttons = h->cur[0], bit;
	char word[16], junk;
	int a, b, n;

	n = sscanf(cmd, "%15s %d %d %c", word, &a, &b, &junk);
	if (n == 3 && !strcmp(word, "move") && a >= 0 && b >= 0)
		return pointer(h, (unsigned)a, (unsigned)b, buttons, 0);
	if (n != 2)
		return -EINVAL;
	if (!strcmp(word, "wheel"))
		return pointer(h, x, y, buttons, a);
	if (a < 1 || a > 3)
		return -EINVAL;
	bit = 1u << (a - 1);
	if (!strcmp(word, "press"))
		return pointer(h, x, y, buttons | bit, 0);
	if (!strcmp(word, "release"))
		return pointer(h, x, y, buttons & ~bit, 0);
	if (strcmp(word, "click") || h->q_len + 2 > REPORTS_MAX)
		return strcmp(word, "click") ? -EINVAL : -ENOSPC;
	pointer(h, x, y, buttons | bit, 0);
	return pointer(h, x, y, buttons & ~bit, 0);
}

/* Commands separated by newlines or ';': stops at the first bad one. */
static int tablet_cmds(struct hid *h, const char *text)
{
	char cmd[64];
	size_t n;
	int rc;

	for (const char *p = text; *p; p += n + !!p[n]) {
		n = strcspn(p, ";\n");
		if (n >= sizeof(cmd))
			return -EINVAL;
		memcpy(cmd, p, n);
		cmd[n] = 0;
		if (strspn(cmd, " ") == n)
			continue;
		rc = tablet_cmd(h, cmd);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int usb_emu_hid_type(struct usb_dev *d, const char *text)
{
	struct hid *h = hid_get(d, false);

	if (h)
		return type_text(h, text);
	h = hid_get(d, true);
	return h ? tablet_cmds(h, text) : -ENOTSUP;
}

/* -------------------------------------------------------------- device */

static void hid_data(struct usb_emu *e, struct usb_xfer *x)
{
	usb_emu_park(e, x);
	pump(hid_of(e));
}

static int hid_control(struct usb_emu *e, const struct usb_setup *s, uint8_t *buf, uint32_t len)
{
	struct hid *h = hid_of(e);
	const uint8_t *src = NULL;
	uint32_t n = 0;
	uint8_t v;

	if (!e->config || s->wIndex != 0)
		return -EPIPE;
	if (s->bmRequestType == (USB_DIR_IN | USB_RECIP_INTERFACE)) {
		/* GET_DESCRIPTOR of the interface: its HID or report descriptor */
		if (s->bRequest != USB_REQ_GET_DESCRIPTOR || (s->wValue & 0xff))
			return -EPIPE;
		if (s->wValue >> 8 == HID_DT_HID)
			src = h->hid_desc, n = sizeof(h->hid_desc);
		else if (s->wValue >> 8 == HID_DT_REPORT)
			src = h->report_desc, n = h->report_desc_len;
		else
			return -EPIPE;
	} else if (s->bmRequestType == (USB_DIR_IN | USB_TYPE_CLASS | USB_RECIP_INTERFACE)) {
		switch (s->bRequest) {
		case HID_GET_REPORT:   /* input report 0 */
			if (s->wValue != 0x0100)
				return -EPIPE;
			src = h->cur, n = h->report_len;
			break;
		case HID_GET_IDLE:
			v = h->idle;
			src = &v, n = 1;
			break;
		case HID_GET_PROTOCOL:
			v = h->protocol;
			src = &v, n = 1;
			break;
		default:
			return -EPIPE;
		}
	} else if (s->bmRequestType == (USB_TYPE_CLASS | USB_RECIP_INTERFACE)) {
		switch (s->bRequest) {
		case HID_SET_REPORT:   /* output report 0: the keyboard's LEDs */
			if (h->tablet || s->wValue != 0x0200 || len < 1)
				return -EPIPE;
			h->leds = buf[0] & 0x1f;
			return (int)len;
		case HID_SET_IDLE:
			h->idle = (uint8_t)(s->wValue >> 8);
			return 0;
		case HID_SET_PROTOCOL:
			if (s->wValue > 1)
				return -EPIPE;
			h->protocol = (uint8_t)s->wValue;
			return 0;
		default:
			return -EPIPE;
		}
	} else {
		return -EPIPE;
	}
	n = n < len ? n : len;
	memcpy(buf, src, n);
	return (int)n;
}

static void hid_configured(struct usb_emu *e)
{
	struct hid *h = hid_of(e);

	h->protocol = 1;
	h->idle = 0;
	if (e->config && h->text && !h->typed) {
		h->typed = true;
		if (type_text(h, h->text) < 0)
			pv_warn(e->dev.name, "text=: cannot type it (length or characters)");
	}
}

static void hid_fini(struct usb_emu *e)
{
	free(hid_of(e)->q);
	free(hid_of(e)->text);
}

static const struct usb_emu_ops keyboard_ops = {
	.kind = "emu:keyboard",
	.control = hid_control,
	.data = hid_data,
	.configured = hid_configured,
	.fini = hid_fini,
};

static const struct usb_emu_ops tablet_ops = {
	.kind = "emu:tablet",
	.control = hid_control,
	.data = hid_data,
	.configured = hid_configured,
	.fini = hid_fini,
};

int usb_emu_hid_open(const struct usb_spec *s, const char *name, unsigned usb_ver,
		     struct usb_dev **out)
{
	bool tablet = !strcmp(s->emu, "tablet");
	const char *text = usb_spec_opt(s, "text");
	struct usb_emu_alt *a;
	struct hid *h;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->q = calloc(REPORTS_MAX, sizeof(*h->q));
	h->text = text && !tablet ? strdup(text) : NULL;
	if (!h->q || (text && !tablet && !h->text)) {
		free(h->q);
		free(h->text);
		free(h);
		return -ENOMEM;
	}
	h->tablet = tablet;
	h->report_desc = tablet ? tablet_report_desc : kbd_report_desc;
	h->report_desc_len = tablet ? sizeof(tablet_report_desc) : sizeof(kbd_report_desc);
	h->report_len = tablet ? 6 : 8;
	h->protocol = 1;
	h->hid_desc[0] = 9;
	h->hid_desc[1] = HID_DT_HID;
	h->hid_desc[2] = 0x11;         /* HID 1.11 */
	h->hid_desc[3] = 0x01;
	h->hid_desc[5] = 1;
	h->hid_desc[6] = HID_DT_REPORT;
	h->hid_desc[7] = (uint8_t)h->report_desc_len;
	h->hid_desc[8] = (uint8_t)(h->report_desc_len >> 8);

	h->e.desc = (struct usb_emu_desc){
		.vendor = 0x1209, .product = tablet ? 0x0003 : 0x0002, .bcd_device = 0x0100,
		.nr_configs = 1,
		.strings = { NULL, "pvback", tablet ? "emu tablet" : "emu keyboard", "1" },
	};
	h->e.desc.configs[0] = (struct usb_emu_config){ .value = 1, .attributes = 0x20,
							.max_power = 50, .nr_ifaces = 1 };
	h->e.desc.configs[0].ifaces[0].nr_alts = 1;
	a = &h->e.desc.configs[0].ifaces[0].alts[0];
	a->cls = 3;
	a->subclass = tablet ? 0 : 1;
	a->protocol = tablet ? 0 : 1;
	a->extra = h->hid_desc;
	a->extra_len = sizeof(h->hid_desc);
	a->nr_eps = 1;
	a->eps[0] = (struct usb_emu_ep){ EP_INT, USB_EMU_EP_INT, REPORT_MAX, REPORT_MAX, 10, 7 };
	usb_emu_init(&h->e, tablet ? &tablet_ops : &keyboard_ops, s, name, usb_ver);
	*out = &h->e.dev;
	return 0;
}
