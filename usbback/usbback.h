/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pvback-usb private types and the few functions that cross files.
 *
 *  xenbus.c   struct usb_ctrl: one vusb controller (num-ports, usb-ver,
 *             port/N), negotiation, opens the devices port/N names
 *  ring.c     the urb and conn rings of the controller's one queue:
 *             requests -> transfers -> devices -> responses; the address
 *             table (SET_ADDRESS is never passed on), hot-plug events
 *  request.c  urb request parsing and validation (pure: unit tests, fuzz)
 *  dev.c      the device layer: specs ("emu:storage,file=X", "3-1.5"),
 *             open / close, transfer completion
 *  emu.c      what every emulated device shares: descriptors, the
 *             standard requests, endpoint halt
 *  emu_storage.c, emu_hid.c, emu_zero.c   the emulated devices
 *  host.c     passthrough through libusb (HAVE_LIBUSB only)
 *  isolate.c  --isolate domain: a domain's controllers in its worker process
 *  ctl.c      stats tables; main.c  the descriptor and usb's options
 *
 * Threads: the xenbus thread runs xenbus.c and opens devices (with
 * --isolate domain: what they need, for the worker's loop thread to open
 * them from); the controller's one pv_queue thread runs ring.c and owns
 * every device while the controller is connected (struct usb_dev_ops run
 * there, except open and close of a device never attached).  Never include this header outside
 * usbback/ (unit tests and fuzzers excepted).
 */
#ifndef USBBACK_H
#define USBBACK_H

#include <stdbool.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/usbif.h>

#include "pvcommon.h"

#define USB_PAGE_SIZE      4096u
#define USB_MAX_PORTS      USBIF_MAX_PORTNR              /* 31 */
#define USB_MAX_SEGS       USBIF_MAX_SEGMENTS_PER_REQUEST /* 16: buffer + iso descriptors */
#define USB_MAX_ADDR       128u                          /* device addresses 0..127 */
#define USB_MAX_LEN        65536u                        /* 16 whole pages (buffer_length 0) */
/* Linux's struct usb_iso_packet_descriptor, as xen-hcd grants them. */
#define USB_ISO_DESC_SIZE  16u
/* Packets of one isochronous transfer: xen-hcd's own bound is the
 * descriptor pages (256 a page); usbcore's HCDs take at most 1024. */
#define USB_MAX_ISO_PKTS   1024u
/* Interfaces whose alternate setting a restarted daemon restores. */
#define USB_MAX_IFACES     32u

/* transfer_flags: xen-hcd passes Linux's urb->transfer_flags truncated to
 * 16 bits; usbif.h defines only SHORT_NOT_OK, every other bit is ignored
 * except Linux's URB_ZERO_PACKET (a bulk OUT ends with a zero-length
 * packet when its length is a multiple of the endpoint's packet size). */
#define USB_XFER_ZERO_PACKET 0x0040u

/* The standard requests the backend looks at (USB 2.0 ch. 9). */
#define USB_REQ_GET_STATUS        0x00
#define USB_REQ_CLEAR_FEATURE     0x01
#define USB_REQ_SET_FEATURE       0x03
#define USB_REQ_SET_ADDRESS       0x05
#define USB_REQ_GET_DESCRIPTOR    0x06
#define USB_REQ_SET_DESCRIPTOR    0x07
#define USB_REQ_GET_CONFIGURATION 0x08
#define USB_REQ_SET_CONFIGURATION 0x09
#define USB_REQ_GET_INTERFACE     0x0a
#define USB_REQ_SET_INTERFACE     0x0b
#define USB_REQ_SYNCH_FRAME       0x0c
#define USB_FEATURE_ENDPOINT_HALT 0x00
#define USB_DIR_IN                0x80
#define USB_TYPE_MASK             0x60
#define USB_TYPE_STANDARD         0x00
#define USB_TYPE_CLASS            0x20
#define USB_TYPE_VENDOR           0x40
#define USB_RECIP_MASK            0x1f
#define USB_RECIP_DEVICE          0x00
#define USB_RECIP_INTERFACE       0x01
#define USB_RECIP_ENDPOINT        0x02

/* ------------------------------------------------------- urb requests */

/* A control transfer's setup packet (little endian on the wire). */
struct usb_setup {
	uint8_t bmRequestType;
	uint8_t bRequest;
	uint16_t wValue, wIndex, wLength;
};

/* Linux's struct usb_iso_packet_descriptor: what xen-hcd grants after the
 * buffer segments.  We read offset and length, write actual_length and
 * status (0 or a negative Linux errno, as the usbif status codes). */
struct usb_iso_desc {
	uint32_t offset;
	uint32_t length;
	uint32_t actual_length;
	int32_t status;
};

/*
 * One urb request, copied out of the ring once and validated (request.c):
 * every field below is in range, so nothing after usb_req_parse() looks at
 * the guest's request again.
 */
struct usb_req {
	uint16_t id;
	uint8_t port;          /* pipe bits 0-4: the root-hub port, 0..31 */
	uint8_t devnum;        /* 0..127 */
	uint8_t ep;            /* endpoint number 0..15 */
	uint8_t type;          /* USBIF_PIPE_TYPE_* */
	bool in;               /* data from the device (control: the setup's direction) */
	bool unlink;           /* an unlink request for unlink_id */
	bool short_not_ok;     /* USBIF_SHORT_NOT_OK: a short IN is an error */
	bool zero_packet;      /* USB_XFER_ZERO_PACKET on a bulk OUT */
	uint16_t unlink_id;
	uint32_t length;       /* data bytes (control: min(buffer_length, wLength)) */
	struct usb_setup setup;            /* control only, host order */
	uint16_t interval;                 /* interrupt, isochronous */
	uint16_t start_frame, nr_packets;  /* isochronous */
	uint8_t nr_segs;                   /* buffer segments */
	uint8_t nr_iso_segs;               /* iso descriptor segments, after them */
	/* Buffer segments (the data: offset + length within a page, lengths
	 * summing to length) then the iso descriptor segments (their lengths
	 * summing to nr_packets * USB_ISO_DESC_SIZE). */
	struct usbif_request_segment seg[USB_MAX_SEGS];
};

/*
 * Parse and validate r (our private copy): 0 with *out filled, or
 * -EINVAL with *why naming the first rule broken (for the bad-request
 * log).  Rules: nr_buffer_segs (+ nr_frame_desc_segs) <= 16; every segment
 * within its page and non-empty; buffer segments summing to buffer_length
 * modulo 2^16 (xen-hcd truncates: 16 whole pages arrive as 0);
 * iso: 1 <= number_of_packets <= USB_MAX_ISO_PKTS and descriptor segments
 * holding exactly number_of_packets descriptors; the transfer type's own
 * fields.  Unknown transfer_flags bits are ignored (xen-hcd sends Linux's).
 */
int usb_req_parse(const struct usbif_urb_request *r, struct usb_req *out, const char **why);
/* The iso descriptors as read from the guest, checked against the buffer:
 * every packet within length.  0 or -EINVAL (*why). */
int usb_iso_check(const struct usb_req *req, const struct usb_iso_desc *d, const char **why);

/* ------------------------------------------------------------- devices */

struct usb_dev;
struct usb_xfer;

/*
 * One transfer in a device's hands: a validated request with its data in
 * our memory.  The device fills status, actual and, for iso, every
 * descriptor's actual_length and status, then calls usb_xfer_done().
 */
struct usb_xfer {
	struct usb_req req;
	uint8_t *buf;             /* req.length bytes: OUT data, or the IN room */
	struct usb_iso_desc *iso; /* req.nr_packets descriptors (iso only) */
	int32_t status;           /* USBIF_STATUS_* */
	uint32_t actual;          /* bytes done (iso: the sum of the packets') */
	uint32_t error_count;     /* iso: packets that failed */
	struct usb_dev *dev;
	bool cancelled;           /* an unlink or a detach asked for it */
	void *dev_priv;           /* the device's, while it holds the transfer */
	struct usb_xfer *next;    /* the device's own lists, while it holds it */
};

/* ring.c's: called by the device for every transfer it was given, exactly
 * once, on the queue thread (maybe from inside submit). */
typedef void usb_xfer_done_fn(struct usb_xfer *x);

struct usb_dev_ops {
	const char *kind;         /* "emu:storage", "host" */
	/* Queue thread, when the device is given to a connected controller:
	 * add fds and timers to loop.  0 or -errno. */
	int (*attach)(struct usb_dev *d, struct pv_loop *loop);
	/* Queue thread: every transfer has completed; remove fds and timers. */
	void (*detach)(struct usb_dev *d);
	/* A bus reset: default state (address 0, unconfigured, no halts).
	 * Every transfer completed first.  0 or -errno (the device is lost). */
	int (*reset)(struct usb_dev *d);
	/* Start x (devnum already resolved; SET_ADDRESS never comes here).
	 * The device calls usb_xfer_done(x) when it is done, maybe before
	 * returning. */
	void (*submit)(struct usb_dev *d, struct usb_xfer *x);
	/* Stop x early: it completes (usb_xfer_done) soon, maybe at once,
	 * with whatever status and data it got (typically -ECONNRESET mapped
	 * to USBIF_STATUS_SHUTDOWN by the caller). */
	void (*cancel)(struct usb_dev *d, struct usb_xfer *x);
	/* Any thread, the device detached (or never attached): free it. */
	void (*close)(struct usb_dev *d);
};

/* Per-device counters (struct of uint64_t: usb_dev_stats_table). */
struct usb_dev_stats {
	uint64_t xfers, xfer_ctrl, xfer_bulk, xfer_int, xfer_iso;
	uint64_t bytes_in, bytes_out;
	uint64_t stalls, errors, unlinks, resets;
	struct pv_stats_hist lat;  /* submit to done, ns */
};

struct usb_dev {
	const struct usb_dev_ops *ops;
	uint8_t speed;            /* USBIF_SPEED_LOW/FULL/HIGH as the guest sees it */
	char name[64];            /* "vusb-5-0/port1 emu:storage": log prefix */
	char spec[128];           /* the port/N value it was opened from */
	usb_xfer_done_fn *done;   /* set by ring.c before attach */
	void (*gone)(struct usb_dev *d); /* set by ring.c: usb_dev_gone's */
	void *owner;              /* ring.c's */
	struct usb_dev_stats stats;
};

/* Complete x: counts it, then the owner's callback. */
void usb_xfer_done(struct usb_xfer *x);
/* The device went away on its own (a passthrough device unplugged from the
 * host): the port is reported empty, transfers still held complete as the
 * device finishes them (USBIF_STATUS_NODEV).  Queue thread. */
void usb_dev_gone(struct usb_dev *d);

/* What a device spec names (dev.c). */
enum usb_spec_kind { USB_SPEC_HOST, USB_SPEC_EMU };
struct usb_spec {
	enum usb_spec_kind kind;
	/* host: bus and the port path "1.5" of "3-1.5" (libxl's form) */
	unsigned bus;
	uint8_t ports[7];
	unsigned nr_ports;
	/* emu: the device kind ("storage", "keyboard", "tablet", "zero") and
	 * its options, "k=v" pairs as written */
	char emu[16];
	unsigned nr_opts;
	char opt_key[8][16];
	char opt_val[8][256];
};
/* Parse a port/N value: "BUS-PORT[.PORT...]" or "emu:KIND[,k=v...]".
 * 0 or -EINVAL (*why). */
int usb_spec_parse(const char *s, struct usb_spec *out, const char **why);

/* One "port N ADDR CONFIG ALT*32 SPEC" line of a controller's state file
 * (ring.c writes it; a restarted daemon reads it back, maybe corrupt). */
struct usb_state_port {
	unsigned port, addr, config;
	uint8_t alt[USB_MAX_IFACES];
	const char *spec;        /* points into the line */
};

/* Parse line (modified: its newline goes).  0, or -EINVAL for another kind
 * of line, a malformed one, port 0, an address >= USB_MAX_ADDR or a
 * configuration > 255; an alternate setting > 255 reads as 0. */
int usb_state_port_parse(char *line, struct usb_state_port *out);
/* An option of an emu spec, or NULL. */
const char *usb_spec_opt(const struct usb_spec *s, const char *key);

/*
 * Open the device s names for a controller of usb_ver (1: USB 1.1, 2: USB
 * 2.0; a device faster than the controller runs at the controller's
 * speed, a SuperSpeed one is reported as high speed).  name is the log
 * prefix ("vusb-5-0/port1").  fd: what usb_dev_open_fd opened for it,
 * taken (closed on failure too), or -1: the device opens what it needs
 * itself.  0, or -errno after logging why with name.
 */
int usb_dev_open(const struct usb_spec *s, int fd, const char *name, unsigned usb_ver,
		 struct usb_dev **out);
/*
 * --isolate domain, xenbus process: open what the device s names needs
 * from the host, for a worker that opens no path: emu:storage its file, a
 * host device its usbfs node /dev/bus/usb/BBB/DDD; *fd = -1 for the
 * devices that need none.  0, or -errno after logging why with name.
 */
int usb_dev_open_fd(const struct usb_spec *s, const char *name, int *fd);

/* The emulated devices (emu_*.c) and passthrough (host.c): constructors
 * behind usb_dev_open.  Each logs its own failures with name. */
int usb_emu_storage_open(const struct usb_spec *s, int fd, const char *name, unsigned usb_ver,
			 struct usb_dev **out);
int usb_emu_hid_open(const struct usb_spec *s, const char *name, unsigned usb_ver,
		     struct usb_dev **out);
int usb_emu_zero_open(const struct usb_spec *s, const char *name, unsigned usb_ver,
		      struct usb_dev **out);
int usb_host_open(const struct usb_spec *s, const char *name, unsigned usb_ver,
		  struct usb_dev **out);
/* A host device from its open usbfs node (libusb_wrap_sys_device): no
 * device discovery, no path opened; fd is taken (closed on failure too).
 * Unplugged from the host, it says so through its transfers (NO_DEVICE). */
int usb_host_open_fd(const struct usb_spec *s, int fd, const char *name, unsigned usb_ver,
		     struct usb_dev **out);
/* The usbfs node of the host device s: /dev/bus/usb/BBB/DDD from sysfs
 * (xenbus process).  0 or -errno, logged with name. */
int usb_host_node(const struct usb_spec *s, const char *name, char *path, size_t len);

/* Emulated HID input: a keyboard's text as key presses and releases, a
 * tablet's pointer commands (emu_hid.c's header).  No control command
 * feeds it: the unit tests do, and a keyboard's text= option goes the same
 * way once the guest configures it.  Queue thread. */
int usb_emu_hid_type(struct usb_dev *d, const char *text);

extern const struct pv_stats_table usb_dev_stats_table;

/* ---------------------------------------------------------- controller */

struct usb_config {
	struct pv_backend_cfg pv;
	struct pv_isodev_table *iso; /* --isolate domain: the workers (isolate.c); else NULL */
};

struct usb_ctrl;              /* xenbus.c */
struct usb_queue;             /* ring.c */

/* ring.c: the queue of a connected controller. */
struct usb_queue_params {
	const char *name;         /* the controller's: "vusb-5-0" (outlives the queue) */
	uint16_t domid;
	struct pv_xb_dev *dev;    /* a violation disconnects it; NULL (a worker): */
	void (*violation)(void *opaque, const char *reason); /* this is called */
	void *violation_opaque;
	const struct usb_config *cfg;
	unsigned usb_ver, num_ports;
	struct usb_dev *ports[USB_MAX_PORTS + 1]; /* [1..num_ports], NULL: empty; the queue owns them */
	uint32_t urb_ref, conn_ref, evtchn;
	/* The ports' state file, opened read-write by the xenbus process (the
	 * queue reads a predecessor's and rewrites it in place), owned by the
	 * queue from here on; -1: none (no --state-dir). */
	int state_fd;
	bool resume;
};
int usb_queue_start(const struct usb_queue_params *p, struct usb_queue **out);
/* Closes every device and the state file (which stays: the caller removes
 * it when the controller goes for good). */
void usb_queue_stop(struct usb_queue *uq);
/* Put d on port (NULL: unplug); the queue owns d after this, and closes
 * the device it replaces once its transfers are done.  Not the queue's
 * thread (the xenbus thread, or a worker's loop). */
int usb_queue_plug(struct usb_queue *uq, unsigned port, struct usb_dev *d);
/* Any thread: counters of the ports' devices and the rings. */
struct usb_port_info {
	bool present;
	uint8_t speed, addr;
	char spec[128];
	struct usb_dev_stats stats;
	uint64_t inflight;
};
enum { USB_RING_URB, USB_RING_CONN };
/* What `pvback-usb stats` shows of a controller (ctl.c; a worker's STATS
 * reply, isolate.c). */
struct usb_ctrl_snap {
	uint32_t num_ports, usb_ver;
	bool connected;
	struct usb_port_info port[USB_MAX_PORTS + 1];
	struct pv_queue_ring_info ring[2];
};
/* Any thread: the queue's ports and rings into s (num_ports, connected too). */
void usb_queue_snap(struct usb_queue *uq, struct usb_ctrl_snap *s);
struct pv_queue *usb_queue_pv(struct usb_queue *uq);

extern const struct pv_xb_backend_ops usb_vusb_ops;
/* xenbus.c, for ctl.c (xenbus thread): the controller's ports and rings
 * (its own queue's, or its worker's); false when dev is no controller. */
bool usb_ctrl_snap(struct pv_xb_dev *dev, struct usb_ctrl_snap *s);
bool usb_ctl_stats(struct pv_xb_dev *dev, struct pv_stats_dump *d);

/* ------------------------------------------------------------ isolate */

/*
 * --isolate domain (isolate.c): in the xenbus process each domain's
 * controllers run in that domain's worker.  The xenbus process opens what
 * the devices need (usb_dev_open_fd) and the state file and hands the fds
 * over; xenbus.c branches on cfg->iso.
 */
struct pv_isodev;
/* The serve hook: the worker table when cfg->pv.isolate. */
int usb_iso_init(struct pv_backend *b);
/* Start p's queue in dev's worker with p's devices given as specs (and
 * the fds state_fd and fds[port] (-1: none), which stay the caller's).
 * 0 or -errno. */
int usb_iso_start(struct pv_isodev *d, struct pv_xb_dev *dev, const struct usb_queue_params *p,
		  char *const *spec, const int *fds);
/* Plug port's spec with fd (-1: none; the caller's), or unplug (spec NULL). */
int usb_iso_plug(struct pv_isodev *d, unsigned port, const char *spec, int fd);
/* The worker's snapshot of the controller's ports and rings. */
void usb_iso_snap(struct pv_isodev *d, struct usb_ctrl_snap *s);
/* The backend descriptor's worker hook. */
int usb_iso_worker(struct pv_backend *b, struct pv_loop *loop, int fd);

#endif /* USBBACK_H */
