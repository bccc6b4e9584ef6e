/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Driving an emulated usb device directly through its ops, as ring.c
 * does: a fake done callback that records each completion, and helpers
 * for control, bulk/interrupt and isochronous transfers.  Every transfer
 * the device is given must complete exactly once (checked).
 */
#ifndef USB_EMU_HARNESS_H
#define USB_EMU_HARNESS_H

#include "../../usbback/emu.h"

/* A transfer with its buffer; owner counts its completions. */
struct t_xfer {
	struct usb_xfer x;
	unsigned done;
	uint8_t buf[USB_MAX_LEN];
	struct usb_iso_desc iso[64];
};

/* Open spec (asserting it opens), wire it as ring.c would, attach, reset. */
struct usb_dev *t_usb_open(const char *spec, unsigned usb_ver);
void t_usb_close(struct usb_dev *d);
/* A fresh transfer (calloc'd: t_xfer_free). */
struct t_xfer *t_xfer_new(uint8_t type, uint8_t ep, bool in, uint32_t len);
void t_xfer_free(struct t_xfer *t);
/* Submit; returns whether it completed (exactly once) inside submit. */
bool t_submit(struct usb_dev *d, struct t_xfer *t);
/* A control transfer answered at once: the status, *actual its bytes;
 * data: OUT data or IN room of wLength bytes (may be NULL when 0). */
int t_ctrl(struct usb_dev *d, uint8_t type, uint8_t req, uint16_t value, uint16_t index,
	   uint16_t len, void *data, uint32_t *actual);
/* A bulk (or interrupt) transfer answered at once: the status. */
int t_bulk(struct usb_dev *d, uint8_t type, uint8_t ep, bool in, void *data, uint32_t len,
	   uint32_t *actual);
/* SET_CONFIGURATION value: asserts it succeeds. */
void t_set_config(struct usb_dev *d, unsigned value);

#endif
