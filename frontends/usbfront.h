/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * usbfront: a userspace usbif frontend (the guest side of a vusb
 * controller) acting as Linux 6.1's xen-hcd does, for tests, benchmarks and
 * by hand, on pvsim (a guest domain's process, see `pvsim env`) and Xen.
 *
 * As in xen-hcd, the root hub is ours: a port reset only changes local
 * state, the backend never sees it.  Ports come and go through the conn
 * ring (every slot pre-posted, each response re-posted with its id).  An
 * URB is one urb-ring request with a shadow id: its buffer is granted as
 * page segments (the first at the buffer's own offset in its page, the rest
 * from 0; read-only for OUT), an isochronous URB's descriptors (Linux's
 * struct usb_iso_packet_descriptor) writable as the segments after them.
 * Data is bounced through granted pages, as blkfront does.  On a response
 * every grant's access ends before the URB completes; a grant the backend
 * still maps breaks the frontend for good (xen-hcd's "backend didn't
 * release grant"), as do an illegal response id or index.  URBs beyond the
 * ring wait in a software queue (xen-hcd's pending_submit_list).
 *
 * Threads: one usbfront is driven by one thread; completion callbacks run
 * inside usbfront_poll() (and the sync helpers).  Functions return 0 (or a
 * count) or -errno; nothing here logs.
 */
#ifndef USBFRONT_H
#define USBFRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct usbfront;
struct pvfront_ring;
struct usbif_urb_request;
struct usbif_urb_response;

#define USBFRONT_MAX_PORTS  31u
/* buffer_length is 16 bits: xen-hcd stores urb->transfer_buffer_length in
 * it truncated, so its largest URB (16 whole pages) goes with 0; so do we. */
#define USBFRONT_MAX_LEN    65536u
#define USBFRONT_MAX_SEGS   16u      /* buffer + iso descriptor segments */
#define USBFRONT_ZERO_PACKET 0x0040u /* Linux's URB_ZERO_PACKET, passed as xen-hcd does */
#define USBFRONT_ISO_DESC_SIZE 16u

/* Pipe types (usbif.h's USBIF_PIPE_TYPE_*). */
enum usbfront_type {
	USBFRONT_ISO = 0,
	USBFRONT_INT = 1,
	USBFRONT_CTRL = 2,
	USBFRONT_BULK = 3,
};

struct usbfront_opts {
	uint32_t devid;       /* the vusb controller (device/vusb/N) */
	int timeout_ms;       /* handshake waits, 0 = 10 s */
	/* Switch straight from Initialising to Connected after writing the
	 * keys, exactly as xen-hcd does (default: Initialised, wait for the
	 * backend's Connected, then Connected). */
	bool direct_connect;
	/* usbfront_poll spins this long for responses before it sleeps on
	 * the event channel (a wake-up costs tens of us on an idle VM). */
	unsigned poll_us;
};

struct usbfront_info {
	unsigned num_ports;   /* the backend's num-ports, 1..31 */
	unsigned usb_ver;     /* the backend's usb-ver: 1 (USB 1.1) or 2 (USB 2.0) */
	unsigned urb_slots;   /* urb ring entries (16) */
	unsigned conn_slots;  /* conn ring entries (512) */
};

/* Linux's struct usb_iso_packet_descriptor: what is granted. */
struct usbfront_iso_desc {
	uint32_t offset;
	uint32_t length;
	uint32_t actual_length;
	int32_t status;
};

struct usbfront_urb;
typedef void usbfront_done_fn(struct usbfront *uf, struct usbfront_urb *u);

/*
 * One URB.  The caller fills the first block and keeps the URB (and buf,
 * iso) alive and untouched until done runs.  buf's address decides the
 * first segment's offset (its offset in its page), as xen-hcd grants a
 * transfer buffer in place; the same for iso.
 */
struct usbfront_urb {
	uint8_t port;             /* root-hub port 1..num_ports */
	uint8_t devnum;           /* device address 0..127 */
	uint8_t ep;               /* endpoint number 0..15 */
	uint8_t type;             /* enum usbfront_type */
	bool in;                  /* direction (control: the setup's) */
	uint16_t flags;           /* transfer_flags: USBIF_SHORT_NOT_OK, USBFRONT_ZERO_PACKET */
	uint8_t setup[8];         /* control */
	uint16_t interval;        /* interrupt, iso */
	uint16_t start_frame;     /* iso */
	void *buf;                /* length bytes: OUT data, IN room */
	uint32_t length;          /* 0 .. USBFRONT_MAX_LEN */
	struct usbfront_iso_desc *iso; /* nr_packets descriptors (iso) */
	uint16_t nr_packets;
	usbfront_done_fn *done;   /* NULL: nothing called */
	void *opaque;
	/* Results, valid in done. */
	int status;               /* 0 or a negative Linux errno, as xen-hcd's giveback:
				   * -ENODEV, -EINVAL, -EPIPE (stall), -EPROTO, -EOVERFLOW,
				   * -ESHUTDOWN (unknown status, broken, closed),
				   * -ECONNRESET (unlinked) */
	int32_t rsp_status;       /* the backend's status as answered (0 if none came) */
	uint32_t actual;          /* clamped to length, as xen-hcd */
	uint32_t error_count;
	uint16_t rsp_start_frame;
	bool answered;            /* the backend answered it (not completed locally) */
	bool completed;           /* set before done runs */
	/* usbfront's own */
	int id;                   /* shadow id while on the ring, else -1 */
	bool unlinked;
	int unlink_id;            /* the unlink request's id, -1 */
	struct usbfront_urb *next;
};

/*
 * Connect to vusb devid of our own domain: open the hv and xenstore from
 * the environment, read num-ports and usb-ver from the backend directory,
 * wait for the backend's InitWait (or later), grant both rings, allocate
 * the event channel, write urb-ring-ref, conn-ring-ref and event-channel in
 * one transaction, pre-post every conn request, then the state dance of
 * opts->direct_connect.
 */
int usbfront_open(const struct usbfront_opts *opts, struct usbfront **out);
/* Orderly close: Closing/Closed with the backend, URBs still queued or in
 * flight complete -ESHUTDOWN, then every grant ends. */
void usbfront_close(struct usbfront *uf);
const struct usbfront_info *usbfront_info(const struct usbfront *uf);
/* NULL, or why the frontend gave up (a protocol error of the backend). */
const char *usbfront_broken(const struct usbfront *uf);
/* The backend's XenbusState read now, or -errno. */
int usbfront_backend_state(struct usbfront *uf);
/* The backend's port/N value (malloc'd; "" for an empty port), NULL + errno. */
char *usbfront_port_spec(struct usbfront *uf, unsigned port);

/* ------------------------------------------------------ root-hub ports */

/* A port's speed as the conn ring said: USBIF_SPEED_NONE (empty), _LOW,
 * _FULL, _HIGH; -EINVAL for a port out of range. */
int usbfront_port_speed(const struct usbfront *uf, unsigned port);
/* Conn events seen on port so far (each response counts). */
unsigned usbfront_port_events(const struct usbfront *uf, unsigned port);
/*
 * Wait (dispatching responses) until port is present (want true) or empty,
 * at most timeout_ms (< 0 forever).  0 or -ETIMEDOUT, -EIO when broken.
 */
int usbfront_wait_port(struct usbfront *uf, unsigned port, bool want, int timeout_ms);
/* Port reset, local as xen-hcd's: the device is in its default state
 * (address 0) for us.  -ENODEV when the port is empty. */
int usbfront_port_reset(struct usbfront *uf, unsigned port);

/* ----------------------------------------------------------------- URBs */

/*
 * Queue u (its results are reset): on the ring at once when a slot is free,
 * else in the software queue until one is.  -E2BIG: more than 16 grants
 * (as xen-hcd); -EINVAL: bad fields; -ESHUTDOWN: broken or closed.  When
 * this fails, done is not called.
 */
int usbfront_submit(struct usbfront *uf, struct usbfront_urb *u);
/*
 * Unlink u as usb_unlink_urb: a queued URB completes -ECONNRESET now; one
 * on the ring gets an unlink request (unlink bit + unlink_id) and completes
 * -ECONNRESET when the backend answers it.  -EBUSY: already unlinked;
 * -ENOENT: not submitted or done.
 */
int usbfront_unlink(struct usbfront *uf, struct usbfront_urb *u);
/*
 * Handle what the backend pushed (urb and conn responses), running
 * completions; waits up to timeout_ms (0: only look; < 0 forever) for an
 * event first when nothing is there.  Returns the responses handled, or
 * -EIO when broken (usbfront_broken says why).
 */
int usbfront_poll(struct usbfront *uf, int timeout_ms);
/* URBs submitted and not completed (queued or on the ring). */
unsigned usbfront_inflight(const struct usbfront *uf);

/*
 * Synchronous: submit u, wait for it (timeout_ms), and on timeout unlink
 * it and wait for that (as usb_start_wait_urb: then -ETIMEDOUT).  Returns
 * u->status (0: u->actual bytes) or -ETIMEDOUT, or the submit error.
 */
int usbfront_run(struct usbfront *uf, struct usbfront_urb *u, int timeout_ms);
/*
 * A control transfer to devnum on port (usb_control_msg): the setup from
 * the arguments, data in or out by bmRequestType's direction.  Returns the
 * bytes transferred or a negative errno as usbfront_run.
 */
int usbfront_control(struct usbfront *uf, unsigned port, unsigned devnum, uint8_t bmRequestType,
		     uint8_t bRequest, uint16_t wValue, uint16_t wIndex, void *data,
		     uint16_t wLength, int timeout_ms);

/* --------------------------------------------------------- enumeration */

#define USBFRONT_STR_MAX 128

/* What enumeration found on a port. */
struct usbfront_dev {
	unsigned port;
	uint8_t speed;            /* USBIF_SPEED_* */
	uint8_t addr;             /* the address we gave it */
	uint8_t desc[18];         /* device descriptor */
	uint8_t nr_configs;
	uint8_t *config[8];       /* full configuration descriptors (malloc'd) */
	uint16_t config_len[8];
	uint8_t cur_config;       /* bConfigurationValue set, 0 = none */
	uint16_t langid;
	char manufacturer[USBFRONT_STR_MAX], product[USBFRONT_STR_MAX], serial[USBFRONT_STR_MAX];
};

/*
 * Enumerate the device on port as Linux's hub_port_init does: port reset,
 * GET_DESCRIPTOR(device, 64) to address 0, reset again, SET_ADDRESS (the
 * lowest free address from 2, 1 being the root hub's), GET_DESCRIPTOR
 * (device, 18), each configuration (9 bytes, then wTotalLength), string 0
 * and the device's strings, then SET_CONFIGURATION(config) unless config
 * is 0 (use the first configuration's value: pass -1).  0, or the failing
 * request's errno (d is then released).  Release d with usbfront_dev_free.
 */
int usbfront_enumerate(struct usbfront *uf, unsigned port, int config, struct usbfront_dev *d,
		       int timeout_ms);
void usbfront_dev_free(struct usbfront_dev *d);
/* A string descriptor decoded to ASCII ('?' for the rest) into out. */
int usbfront_get_string(struct usbfront *uf, const struct usbfront_dev *d, uint8_t index,
			char *out, size_t outlen, int timeout_ms);
/* The endpoint descriptor (7 bytes) with address ep_addr (0x81...) in
 * configuration value cfg, interface ifnum, altsetting alt; NULL if none. */
const uint8_t *usbfront_find_ep(const struct usbfront_dev *d, uint8_t cfg, int ifnum, int alt,
				uint8_t ep_addr);
/* The first endpoint of a type (USBFRONT_BULK...) and direction in the
 * given configuration/interface/altsetting (ifnum or alt < 0: any). */
const uint8_t *usbfront_first_ep(const struct usbfront_dev *d, uint8_t cfg, int ifnum, int alt,
				 uint8_t type, bool in);

/* ---- hostile-frontend hooks (tests) ---- */

/* The urb and conn rings (pvfront.h's put_raw / set_req_prod / notify). */
struct pvfront_ring *usbfront_urb_ring(struct usbfront *uf);
struct pvfront_ring *usbfront_conn_ring(struct usbfront *uf);
/* Grant count pages to the backend (for raw requests' segments). */
int usbfront_share(struct usbfront *uf, unsigned count, bool writable, uint32_t *refs,
		   void **addr);
int usbfront_unshare(struct usbfront *uf, void *addr, unsigned count);
/*
 * Place req exactly as given as the next urb request and push it.  Its id
 * is reserved in the shadow when it is a free one; a response that matches
 * no URB of ours is a raw response while raw requests are out (instead of a
 * protocol error).  -EAGAIN: ring full.
 */
int usbfront_submit_raw(struct usbfront *uf, const struct usbif_urb_request *req);
/* Raw responses collected so far (up to max, oldest first; removed). */
unsigned usbfront_raw_responses(struct usbfront *uf, struct usbif_urb_response *out,
				unsigned max);
/* Raw requests not answered yet. */
unsigned usbfront_raw_outstanding(const struct usbfront *uf);
/* Notify the backend whether it asked or not. */
int usbfront_notify(struct usbfront *uf);

#endif /* USBFRONT_H */
