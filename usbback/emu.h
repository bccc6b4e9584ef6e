/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The emulated devices' shared framework (emu.c), private to emu*.c and
 * their unit tests.  A device is a struct usb_emu (its usb_dev first)
 * described by tables: configurations, interfaces with their alternate
 * settings, endpoints with full- and high-speed packet sizes, strings.
 * emu.c answers the standard requests on endpoint 0 from the tables, keeps
 * each endpoint's halt and its queue of pending transfers, and hands the
 * device only what is its own: class and vendor requests (ops->control)
 * and transfers to an existing, non-halted endpoint of the current
 * configuration (ops->data).  Everything runs on the queue thread.
 */
#ifndef USBBACK_EMU_H
#define USBBACK_EMU_H

#include "usbback.h"

#define USB_EMU_MAX_IFACES  4
#define USB_EMU_MAX_ALTS    4
#define USB_EMU_MAX_EPS     4    /* per alternate setting */
#define USB_EMU_MAX_CONFIGS 2
#define USB_EMU_MAX_STRINGS 8    /* indexes 1..7 */
#define USB_EMU_EP0_MAXP    64u

/* bmAttributes transfer types (USB 2.0 table 9-13) */
#define USB_EMU_EP_ISO  1
#define USB_EMU_EP_BULK 2
#define USB_EMU_EP_INT  3

/* Descriptor types */
#define USB_DT_DEVICE           1
#define USB_DT_CONFIG           2
#define USB_DT_STRING           3
#define USB_DT_INTERFACE        4
#define USB_DT_ENDPOINT         5
#define USB_DT_DEVICE_QUALIFIER 6
#define USB_DT_OTHER_SPEED      7
#define USB_DT_BOS              15

struct usb_emu_ep {
	uint8_t addr;             /* bEndpointAddress: number | USB_DIR_IN */
	uint8_t type;             /* USB_EMU_EP_* */
	uint16_t fs_maxp, hs_maxp; /* wMaxPacketSize per speed (hs: mult in bits 11-12) */
	uint8_t fs_interval, hs_interval; /* bInterval per speed */
};

struct usb_emu_alt {
	uint8_t cls, subclass, protocol, istr;
	const uint8_t *extra;     /* class descriptors after the interface's (HID) */
	uint16_t extra_len;
	uint8_t nr_eps;
	struct usb_emu_ep eps[USB_EMU_MAX_EPS];
};

struct usb_emu_iface {
	uint8_t nr_alts;
	struct usb_emu_alt alts[USB_EMU_MAX_ALTS];
};

struct usb_emu_config {
	uint8_t value;            /* bConfigurationValue (not 0) */
	uint8_t istr, attributes, max_power;
	uint8_t nr_ifaces;
	struct usb_emu_iface ifaces[USB_EMU_MAX_IFACES];
};

struct usb_emu_desc {
	uint16_t vendor, product, bcd_device;
	uint8_t cls, subclass, protocol;
	uint8_t nr_configs;
	struct usb_emu_config configs[USB_EMU_MAX_CONFIGS];
	/* [1..] manufacturer, product, serial, then the device's own; NULL: none */
	const char *strings[USB_EMU_MAX_STRINGS];
};

struct usb_emu;

struct usb_emu_ops {
	const char *kind;         /* "emu:storage" */
	/*
	 * A class or vendor request on endpoint 0, or a standard request
	 * emu.c does not answer (GET_DESCRIPTOR of an interface: HID).  IN:
	 * write at most len bytes to buf; OUT: buf holds len bytes.  Returns
	 * the bytes done, or -EPIPE to stall.  NULL: everything stalls.
	 */
	int (*control)(struct usb_emu *e, const struct usb_setup *s, uint8_t *buf, uint32_t len);
	/* A transfer to an endpoint of the current configuration and
	 * alternate setting, not halted: complete it (usb_emu_complete) or
	 * park it on its endpoint (usb_emu_park). */
	void (*data)(struct usb_emu *e, struct usb_xfer *x);
	/* The endpoints changed (SET_CONFIGURATION, SET_INTERFACE, a bus
	 * reset: e->config may be 0): every transfer parked on them was
	 * completed, every halt cleared.  Restart the device-side state. */
	void (*configured)(struct usb_emu *e);
	/* Optional: attach / detach (timers), both on the queue thread. */
	int (*attach)(struct usb_emu *e, struct pv_loop *loop);
	void (*detach)(struct usb_emu *e);
	/* Free the device's own memory (not e itself). */
	void (*fini)(struct usb_emu *e);
};

/* An endpoint's state: desc NULL when not in the current alternate setting. */
struct usb_emu_epstate {
	const struct usb_emu_ep *desc;
	bool halted, wedged;      /* wedged: a CLEAR_FEATURE does not clear the halt */
	struct usb_xfer *head, *tail; /* parked transfers, in order */
};

struct usb_emu {
	struct usb_dev dev;       /* first: usb_dev <-> usb_emu */
	struct usb_dev_ops dev_ops;
	const struct usb_emu_ops *ops;
	struct usb_emu_desc desc; /* filled by the device before usb_emu_init */
	bool hs;                  /* high speed (usb_ver 2), else full speed */
	bool remote_wakeup;
	uint8_t config;           /* bConfigurationValue, 0: unconfigured */
	const struct usb_emu_config *cfg;
	uint8_t alt[USB_EMU_MAX_IFACES];
	struct usb_emu_epstate ep[2][16]; /* [in][number], number 0 unused */
	struct pv_loop *loop;     /* while attached */
};

static inline struct usb_emu *usb_emu_of(struct usb_dev *d)
{
	return (struct usb_emu *)d;
}

/* Set up e (zeroed by the caller, desc filled): its usb_dev ops, speed for
 * usb_ver, name ("<name> <kind>") and spec as text. */
void usb_emu_init(struct usb_emu *e, const struct usb_emu_ops *ops, const struct usb_spec *s,
		  const char *name, unsigned usb_ver);

/* Is d an emulated device with these ops? */
bool usb_emu_is(struct usb_dev *d, const struct usb_emu_ops *ops);
/* Answer x now: status (USBIF_STATUS_*) and actual bytes. */
void usb_emu_complete(struct usb_xfer *x, int32_t status, uint32_t actual);
/* Park x on its endpoint's queue until the device completes it. */
void usb_emu_park(struct usb_emu *e, struct usb_xfer *x);
/* The first transfer parked on endpoint addr (USB_DIR_IN | number), or NULL. */
struct usb_xfer *usb_emu_parked(struct usb_emu *e, uint8_t addr);
/* Take x (the first parked on its endpoint) off its queue and complete it. */
void usb_emu_unpark(struct usb_emu *e, struct usb_xfer *x, int32_t status, uint32_t actual);
/* Halt endpoint addr: what is parked on it and every later transfer
 * stalls until a CLEAR_FEATURE(ENDPOINT_HALT).  wedge: until
 * usb_emu_unwedge too (Bulk-Only's reset recovery). */
void usb_emu_halt(struct usb_emu *e, uint8_t addr, bool wedge);
void usb_emu_unwedge(struct usb_emu *e, uint8_t addr);
/* wMaxPacketSize of an endpoint at the current speed (without the mult bits). */
unsigned usb_emu_maxp(const struct usb_emu *e, const struct usb_emu_ep *ep);
/* The endpoint state of addr in the current configuration, or NULL. */
struct usb_emu_epstate *usb_emu_ep(struct usb_emu *e, uint8_t addr);
/* An integer option of s in [min, max], or def when absent.  -EINVAL
 * (logged with name) when present but not such a number. */
int usb_emu_opt_uint(const struct usb_spec *s, const char *key, unsigned min, unsigned max,
		     unsigned def, const char *name, unsigned *out);

/* The HID devices' input, beyond usb_emu_hid_type (keyboard text): a
 * tablet's absolute position (0..32767 each), buttons (bit 0 left, 1
 * right, 2 middle) and wheel steps.  Queue thread.  0, -ENOSPC (too much
 * queued) or -ENOTSUP (not a tablet). */
int usb_emu_hid_pointer(struct usb_dev *d, unsigned x, unsigned y, unsigned buttons, int wheel);

#endif /* USBBACK_EMU_H */
