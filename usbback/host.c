// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Passthrough of a host USB device through libusb (usbfs), as QEMU's
 * usb-host does: every transfer becomes one async libusb transfer, many in
 * flight per endpoint; the standard requests that change the host's view
 * of the device (SET_CONFIGURATION, SET_INTERFACE, CLEAR_FEATURE(HALT)) go
 * through libusb's calls instead (they block for one short control
 * transfer), SET_ADDRESS never comes here (ring.c's address table).
 *
 * One libusb context per device: its fds (the usbfs fd, libusb's event and
 * timer fds) live in the queue's pv_loop from attach to detach, and only
 * the queue thread handles its events, so no libusb lock is ever contended
 * and two devices on two controllers never share an event loop.  libusb
 * callbacks only note what happened; completions and the unplug notice are
 * given to ring.c after libusb_handle_events returns (ring.c may detach and
 * close the device from usb_xfer_done or usb_dev_gone).
 *
 * Not done: SuperSpeed (reported as high speed, usbif has none), control
 * transfers with more than 4096 bytes of data (libusb's usbfs limit: they
 * fail with USBIF_STATUS_INVAL), bulk streams.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libusb.h>

#include "usbback.h"

#define HOST_MAX_IFACES 32u   /* libusb's USB_MAXINTERFACES: claimed_interfaces is a bit mask */
#define HOST_MAX_FDS    8u    /* usbfs fd, event fd, timerfd (+ spares) */

struct host_dev {
	struct usb_dev d;
	libusb_context *ctx;
	libusb_device_handle *h;
	libusb_device *dev;                /* libusb_get_device(h): the hot-unplug match */
	struct pv_loop *loop;              /* set from attach to detach */
	int fds[HOST_MAX_FDS];
	unsigned nr_fds;
	unsigned nr_unwatched;             /* fds epoll refuses: polled by tick_timer */
	int fd_err;                        /* an fd the loop could not take: -errno */
	int64_t tick_timer;
	libusb_hotplug_callback_handle hotplug;
	bool hotplug_on;
	uint32_t claimed;                  /* interface numbers we claimed */
	uint32_t detached;                 /* kernel drivers we detached: reattached at close */
	bool gone;                         /* unplugged (hotplug event or NO_DEVICE) */
	bool gone_told;                    /* usb_dev_gone called */
	int64_t gone_timer;                /* the deferred usb_dev_gone */
	struct usb_xfer *done_head, *done_tail; /* finished inside libusb's callbacks */
	int wrapped_fd;                    /* usb_host_open_fd's (libusb keeps it open): -1 */
	/* bConfigurationValue (0: unconfigured), read at open and kept by
	 * SET_CONFIGURATION: libusb reads it from sysfs (an openat the queue
	 * thread's filter refuses), so the queue thread never asks libusb. */
	int config;
};

/* Per transfer: the libusb transfer and, when the data cannot be used in
 * place, the bounce buffer (control: setup + data; iso: packed packets). */
struct host_xfer {
	struct libusb_transfer *t;
	struct host_dev *hd;
	uint8_t *bounce;
};

static struct host_dev *host_of(struct usb_dev *d)
{
	return (struct host_dev *)d;
}

/* ------------------------------------------------------------ helpers */

static int host_errno(int r)
{
	switch (r) {
	case LIBUSB_SUCCESS: return 0;
	case LIBUSB_ERROR_INVALID_PARAM: return -EINVAL;
	case LIBUSB_ERROR_ACCESS: return -EACCES;
	case LIBUSB_ERROR_NO_DEVICE: return -ENODEV;
	case LIBUSB_ERROR_NOT_FOUND: return -ENOENT;
	case LIBUSB_ERROR_BUSY: return -EBUSY;
	case LIBUSB_ERROR_TIMEOUT: return -ETIMEDOUT;
	case LIBUSB_ERROR_OVERFLOW: return -EOVERFLOW;
	case LIBUSB_ERROR_PIPE: return -EPIPE;
	case LIBUSB_ERROR_INTERRUPTED: return -EINTR;
	case LIBUSB_ERROR_NO_MEM: return -ENOMEM;
	case LIBUSB_ERROR_NOT_SUPPORTED: return -ENOTSUP;
	default: return -EIO;
	}
}

/* A libusb call's error as a transfer's usbif status. */
static int32_t host_err_status(int r)
{
	switch (r) {
	case LIBUSB_SUCCESS: return USBIF_STATUS_OK;
	case LIBUSB_ERROR_NO_DEVICE: return USBIF_STATUS_NODEV;
	case LIBUSB_ERROR_PIPE: return USBIF_STATUS_STALL;
	case LIBUSB_ERROR_OVERFLOW: return USBIF_STATUS_BABBLE;
	case LIBUSB_ERROR_INVALID_PARAM:
	case LIBUSB_ERROR_NOT_SUPPORTED:
	case LIBUSB_ERROR_NOT_FOUND: return USBIF_STATUS_INVAL;
	default: return USBIF_STATUS_IOERROR;
	}
}

/* A transfer's (or an iso packet's) libusb status as usbif's. */
static int32_t host_xfer_status(enum libusb_transfer_status s)
{
	switch (s) {
	case LIBUSB_TRANSFER_COMPLETED: return USBIF_STATUS_OK;
	case LIBUSB_TRANSFER_STALL: return USBIF_STATUS_STALL;
	case LIBUSB_TRANSFER_NO_DEVICE: return USBIF_STATUS_NODEV;
	case LIBUSB_TRANSFER_OVERFLOW: return USBIF_STATUS_BABBLE;
	case LIBUSB_TRANSFER_CANCELLED: return USBIF_STATUS_SHUTDOWN;
	case LIBUSB_TRANSFER_ERROR:
	case LIBUSB_TRANSFER_TIMED_OUT:
	default: return USBIF_STATUS_IOERROR;
	}
}

static uint8_t host_speed(struct host_dev *hd, unsigned usb_ver)
{
	int s = libusb_get_device_speed(hd->dev);
	uint8_t max = usb_ver >= 2 ? USBIF_SPEED_HIGH : USBIF_SPEED_FULL;
	uint8_t speed;

	switch (s) {
	case LIBUSB_SPEED_LOW: return USBIF_SPEED_LOW;
	case LIBUSB_SPEED_FULL: return USBIF_SPEED_FULL;
	case LIBUSB_SPEED_HIGH: speed = USBIF_SPEED_HIGH; break;
	case LIBUSB_SPEED_SUPER:
	case LIBUSB_SPEED_SUPER_PLUS:
		pv_info(hd->d.name, "%s: a SuperSpeed device, reported to the guest as high speed",
			hd->d.spec);
		speed = USBIF_SPEED_HIGH;
		break;
	default:
		pv_warn(hd->d.name, "%s: the host does not say the device's speed: reported as %s",
			hd->d.spec, max == USBIF_SPEED_HIGH ? "high speed" : "full speed");
		return max;
	}
	if (speed > max)
		pv_warn(hd->d.name, "%s: a high-speed device on a USB 1.1 controller (usb-ver 1): "
			"reported as full speed, it may misbehave", hd->d.spec);
	return speed > max ? max : speed;
}

/* The libusb device at bus-port path s, referenced, or NULL. */
static libusb_device *host_find(libusb_context *ctx, const struct usb_spec *s, int *err)
{
	libusb_device **list, *found = NULL;
	ssize_t n = libusb_get_device_list(ctx, &list);
	uint8_t ports[8];

	if (n < 0) {
		*err = host_errno((int)n);
		return NULL;
	}
	for (ssize_t i = 0; i < n && !found; i++) {
		int np;

		if (libusb_get_bus_number(list[i]) != s->bus)
			continue;
		np = libusb_get_port_numbers(list[i], ports, sizeof(ports));
		if (np == (int)s->nr_ports && !memcmp(ports, s->ports, s->nr_ports))
			found = libusb_ref_device(list[i]);
	}
	libusb_free_device_list(list, 1);
	*err = found ? 0 : -ENODEV;
	return found;
}

/* Detach the kernel drivers of the active configuration's interfaces and
 * claim them all (those already claimed are left alone).  0 or -errno,
 * logged. */
static int host_claim(struct host_dev *hd)
{
	struct libusb_config_descriptor *cfg;
	int r;

	if (!hd->config)
		return 0; /* unconfigured: nothing to claim */
	/* From the descriptors libusb read at open: no I/O. */
	r = libusb_get_config_descriptor_by_value(hd->dev, (uint8_t)hd->config, &cfg);
	if (r == LIBUSB_ERROR_NOT_FOUND)
		return 0;
	if (r < 0) {
		pv_err(hd->d.name, "%s: reading the active configuration: %s", hd->d.spec,
		       libusb_strerror(r));
		return host_errno(r);
	}
	for (unsigned i = 0; i < cfg->bNumInterfaces; i++) {
		unsigned n = cfg->interface[i].altsetting[0].bInterfaceNumber;

		if (n >= HOST_MAX_IFACES || (hd->claimed & (1u << n)))
			continue;
		if (libusb_kernel_driver_active(hd->h, (int)n) == 1) {
			r = libusb_detach_kernel_driver(hd->h, (int)n);
			if (r < 0 && r != LIBUSB_ERROR_NOT_FOUND) {
				pv_err(hd->d.name, "%s: detaching the host's driver of interface %u: %s",
				       hd->d.spec, n, libusb_strerror(r));
				goto fail;
			}
			if (!r)
				hd->detached |= 1u << n;
		}
		r = libusb_claim_interface(hd->h, (int)n);
		if (r < 0) {
			pv_err(hd->d.name, "%s: claiming interface %u: %s%s", hd->d.spec, n,
			       libusb_strerror(r),
			       r == LIBUSB_ERROR_BUSY ? " (another program holds it)" : "");
			goto fail;
		}
		hd->claimed |= 1u << n;
	}
	libusb_free_config_descriptor(cfg);
	return 0;
fail:
	libusb_free_config_descriptor(cfg);
	return host_errno(r);
}

static void host_release(struct host_dev *hd)
{
	for (unsigned n = 0; n < HOST_MAX_IFACES; n++)
		if (hd->claimed & (1u << n))
			libusb_release_interface(hd->h, (int)n);
	hd->claimed = 0;
}

/* ----------------------------------------------------------- the loop */

static void host_tick_arm(struct host_dev *hd);

static void host_gone_fire(struct pv_loop *loop, void *opaque)
{
	struct host_dev *hd = opaque;

	(void)loop;
	hd->gone_timer = 0;
	if (hd->gone_told)
		return;
	hd->gone_told = true;
	usb_dev_gone(&hd->d); /* may close hd */
}

/* The device is unplugged: tell ring.c once, from the loop (never from
 * inside a libusb callback or ring.c's own call into us). */
static void host_gone(struct host_dev *hd)
{
	int64_t id;

	if (hd->gone)
		return;
	hd->gone = true;
	pv_info(hd->d.name, "%s: the device left the host", hd->d.spec);
	if (!hd->loop)
		return; /* attach tells it */
	id = pv_loop_add_timer(hd->loop, 0, host_gone_fire, hd);
	if (id > 0)
		hd->gone_timer = id;
}

/* Run libusb's events, then give ring.c what finished. */
static void host_events(struct host_dev *hd)
{
	struct timeval zero = { 0, 0 };
	struct usb_xfer *x, *next;
	int r = libusb_handle_events_timeout_completed(hd->ctx, &zero, NULL);

	if (r < 0 && r != LIBUSB_ERROR_INTERRUPTED && r != LIBUSB_ERROR_TIMEOUT)
		pv_debug(hd->d.name, "libusb events: %s", libusb_strerror(r));
	/* ring.c may close hd from the last usb_xfer_done: take the list first. */
	x = hd->done_head;
	hd->done_head = hd->done_tail = NULL;
	for (; x; x = next) {
		next = x->next;
		x->next = NULL;
		usb_xfer_done(x);
	}
}

static void host_fd_ready(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	(void)loop; (void)fd; (void)events;
	host_events(opaque);
}

static void host_tick(struct pv_loop *loop, void *opaque)
{
	struct host_dev *hd = opaque;

	(void)loop;
	hd->tick_timer = 0;
	host_tick_arm(hd); /* first: host_events may close hd */
	host_events(hd);
}

static void host_tick_arm(struct host_dev *hd)
{
	int64_t id;

	if (hd->tick_timer || !hd->nr_unwatched || !hd->loop)
		return;
	id = pv_loop_add_timer(hd->loop, 1, host_tick, hd);
	if (id > 0)
		hd->tick_timer = id;
}

static uint32_t host_poll_events(short ev)
{
	return ((ev & POLLIN) ? PV_LOOP_IN : 0) | ((ev & POLLOUT) ? PV_LOOP_OUT : 0);
}

static void host_fd_add(int fd, short events, void *opaque)
{
	struct host_dev *hd = opaque;
	int r;

	if (hd->nr_fds >= HOST_MAX_FDS) {
		pv_err(hd->d.name, "libusb fd %d: more than %u fds", fd, HOST_MAX_FDS);
		hd->fd_err = -EMFILE;
		return;
	}
	r = pv_loop_add_fd(hd->loop, fd, host_poll_events(events), host_fd_ready, hd);
	if (r == -EPERM) {
		/* Not a usbfs node but a file epoll cannot watch (umockdev's
		 * fake device node in the tests): always ready to poll(2),
		 * so libusb's events are looked at every millisecond. */
		pv_debug(hd->d.name, "libusb fd %d cannot be watched: polled", fd);
		if (!hd->nr_unwatched++)
			host_tick_arm(hd);
		fd = -1 - fd;
	} else if (r < 0) {
		pv_err(hd->d.name, "libusb fd %d: %s", fd, strerror(-r));
		hd->fd_err = r;
		return;
	}
	hd->fds[hd->nr_fds++] = fd;
}

static void host_fd_del(int fd, void *opaque)
{
	struct host_dev *hd = opaque;

	for (unsigned i = 0; i < hd->nr_fds; i++) {
		if (hd->fds[i] == fd)
			pv_loop_del_fd(hd->loop, fd);
		else if (hd->fds[i] == -1 - fd)
			hd->nr_unwatched--;
		else
			continue;
		hd->fds[i] = hd->fds[--hd->nr_fds];
		return;
	}
}

static int LIBUSB_CALL host_hotplug(libusb_context *ctx, libusb_device *dev,
				    libusb_hotplug_event ev, void *opaque)
{
	struct host_dev *hd = opaque;

	(void)ctx;
	if (ev == LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT && dev == hd->dev) {
		host_gone(hd);
		hd->hotplug_on = false;
		return 1; /* deregister */
	}
	return 0;
}

static void host_detach(struct usb_dev *d)
{
	struct host_dev *hd = host_of(d);

	if (!hd->loop)
		return;
	libusb_set_pollfd_notifiers(hd->ctx, NULL, NULL, NULL);
	while (hd->nr_fds) {
		int fd = hd->fds[--hd->nr_fds];

		if (fd >= 0)
			pv_loop_del_fd(hd->loop, fd);
	}
	hd->nr_unwatched = 0;
	if (hd->gone_timer > 0)
		pv_loop_del_timer(hd->loop, hd->gone_timer);
	if (hd->tick_timer > 0)
		pv_loop_del_timer(hd->loop, hd->tick_timer);
	hd->gone_timer = hd->tick_timer = 0;
	hd->loop = NULL;
}

static int host_attach(struct usb_dev *d, struct pv_loop *loop)
{
	struct host_dev *hd = host_of(d);
	const struct libusb_pollfd **fds;

	/* We give libusb no timeouts, and Linux libusb has timerfd anyway:
	 * without it a transfer timeout would need a pv_loop timer. */
	if (!libusb_pollfds_handle_timeouts(hd->ctx))
		pv_debug(d->name, "libusb without timerfd: transfers have no timeouts anyway");
	hd->loop = loop;
	fds = libusb_get_pollfds(hd->ctx);
	if (!fds) {
		pv_err(d->name, "%s: libusb gives no pollfds", d->spec);
		hd->loop = NULL;
		return -EIO;
	}
	for (unsigned i = 0; fds[i]; i++)
		host_fd_add(fds[i]->fd, fds[i]->events, hd);
	libusb_free_pollfds(fds);
	libusb_set_pollfd_notifiers(hd->ctx, host_fd_add, host_fd_del, hd);
	if (hd->fd_err) {
		int r = hd->fd_err;

		host_detach(d);
		hd->fd_err = 0;
		return r;
	}
	if (hd->gone) {
		hd->gone = false;
		host_gone(hd); /* unplugged before attach */
	}
	/* Hot-plug events that came before attach wait in libusb's queue. */
	host_events(hd);
	return 0;
}

static int host_reset(struct usb_dev *d)
{
	struct host_dev *hd = host_of(d);
	int r;

	if (hd->gone)
		return -ENODEV;
	/* ring.c counts resets.  libusb releases our interfaces, resets, and claims them again. */
	r = libusb_reset_device(hd->h);
	if (r == LIBUSB_ERROR_NOT_FOUND || r == LIBUSB_ERROR_NO_DEVICE) {
		/* Gone, or it came back as another device: ring.c unplugs
		 * the port on our error, no usb_dev_gone. */
		pv_err(d->name, "%s: the device is lost in a reset (%s)", d->spec,
		       libusb_strerror(r));
		hd->gone = true;
		return -ENODEV;
	}
	if (r < 0) {
		pv_err(d->name, "%s: reset: %s", d->spec, libusb_strerror(r));
		return host_errno(r);
	}
	return host_claim(hd);
}

/* -------------------------------------------------------------- transfers */

static void host_xfer_free(struct usb_xfer *x)
{
	struct host_xfer *hx = x->dev_priv;

	libusb_free_transfer(hx->t);
	free(hx->bounce);
	free(hx);
	x->dev_priv = NULL;
}

/* Queue x for usb_xfer_done after libusb's events (or at once, when we are
 * not inside them: a submit that failed). */
static void host_finish(struct host_dev *hd, struct usb_xfer *x, bool now)
{
	if (x->dev_priv)
		host_xfer_free(x);
	if (now) {
		usb_xfer_done(x);
		return;
	}
	x->next = NULL;
	if (hd->done_tail)
		hd->done_tail->next = x;
	else
		hd->done_head = x;
	hd->done_tail = x;
}

/*
 * Linux's iso descriptors carry each packet's offset in the buffer; libusb
 * (usbfs) packs the packets one after the other by their lengths.  When
 * the offsets are exactly that packing (what Linux drivers do), the buffer
 * is used in place; otherwise a packed bounce buffer is copied in (OUT) or
 * out (IN, each packet's actual_length bytes).
 */
static bool host_iso_packed(const struct usb_xfer *x, size_t *total)
{
	size_t off = 0;
	bool packed = true;

	for (unsigned i = 0; i < x->req.nr_packets; i++) {
		if (x->iso[i].offset != off)
			packed = false;
		off += x->iso[i].length;
	}
	*total = off;
	return packed;
}

static void host_iso_done(struct usb_xfer *x, struct libusb_transfer *t, const uint8_t *bounce)
{
	size_t off = 0;

	x->actual = 0;
	x->error_count = 0;
	for (unsigned i = 0; i < x->req.nr_packets; i++) {
		const struct libusb_iso_packet_descriptor *p = &t->iso_packet_desc[i];
		uint32_t got = p->actual_length <= x->iso[i].length ? p->actual_length : x->iso[i].length;

		x->iso[i].actual_length = got;
		x->iso[i].status = host_xfer_status(p->status);
		if (x->iso[i].status)
			x->error_count++;
		if (bounce && x->req.in && got)
			memcpy(x->buf + x->iso[i].offset, bounce + off, got);
		x->actual += got;
		off += x->iso[i].length;
	}
}

static void LIBUSB_CALL host_xfer_cb(struct libusb_transfer *t)
{
	struct usb_xfer *x = t->user_data;
	struct host_xfer *hx = x->dev_priv;
	struct host_dev *hd = hx->hd;
	uint32_t got = t->actual_length > 0 ? (uint32_t)t->actual_length : 0;

	x->status = host_xfer_status(t->status);
	switch (x->req.type) {
	case USBIF_PIPE_TYPE_CTRL:
		if (got > x->req.length)
			got = x->req.length;
		if (x->req.in && got)
			memcpy(x->buf, hx->bounce + LIBUSB_CONTROL_SETUP_SIZE, got);
		x->actual = got;
		break;
	case USBIF_PIPE_TYPE_ISOC:
		host_iso_done(x, t, hx->bounce);
		break;
	default:
		x->actual = got <= x->req.length ? got : x->req.length;
		break;
	}
	if (t->status == LIBUSB_TRANSFER_NO_DEVICE)
		host_gone(hd);
	host_finish(hd, x, false);
}

/* Standard requests that must change libusb's view of the device too, as
 * QEMU's usb-host does.  These block for one control transfer.  Returns
 * true when x was handled (and finished). */
static bool host_std_request(struct host_dev *hd, struct usb_xfer *x)
{
	const struct usb_setup *s = &x->req.setup;
	int r;

	if ((s->bmRequestType & USB_TYPE_MASK) != USB_TYPE_STANDARD || x->req.in)
		return false;
	switch ((s->bmRequestType & USB_RECIP_MASK) << 8 | s->bRequest) {
	case USB_RECIP_DEVICE << 8 | USB_REQ_SET_CONFIGURATION:
		host_release(hd);
		r = libusb_set_configuration(hd->h, (s->wValue & 0xff) ? (s->wValue & 0xff) : -1);
		if (r < 0)
			pv_warn(hd->d.name, "%s: SET_CONFIGURATION %u: %s", hd->d.spec,
				s->wValue & 0xff, libusb_strerror(r));
		else
			hd->config = s->wValue & 0xff;
		/* Claim what is active now, the new configuration or the old. */
		if (r != LIBUSB_ERROR_NO_DEVICE && host_claim(hd) < 0 && !r)
			r = LIBUSB_ERROR_BUSY;
		break;
	case USB_RECIP_INTERFACE << 8 | USB_REQ_SET_INTERFACE:
		r = libusb_set_interface_alt_setting(hd->h, s->wIndex & 0xff, s->wValue & 0xff);
		break;
	case USB_RECIP_ENDPOINT << 8 | USB_REQ_CLEAR_FEATURE:
		if (s->wValue != USB_FEATURE_ENDPOINT_HALT)
			return false;
		r = libusb_clear_halt(hd->h, s->wIndex & 0xff);
		break;
	default:
		return false;
	}
	/* usbfs says EINVAL (libusb: NOT_FOUND) for a configuration, an
	 * interface or an altsetting the device does not have: the device
	 * itself would stall the request. */
	if (r == LIBUSB_ERROR_NOT_FOUND || r == LIBUSB_ERROR_INVALID_PARAM)
		r = LIBUSB_ERROR_PIPE;
	x->status = host_err_status(r);
	x->actual = 0;
	if (r == LIBUSB_ERROR_NO_DEVICE)
		host_gone(hd);
	host_finish(hd, x, true);
	return true;
}

static int host_fill(struct host_dev *hd, struct usb_xfer *x, struct host_xfer *hx)
{
	struct libusb_transfer *t = hx->t;
	uint8_t ep = x->req.ep | (x->req.in ? LIBUSB_ENDPOINT_IN : LIBUSB_ENDPOINT_OUT);
	size_t total;

	switch (x->req.type) {
	case USBIF_PIPE_TYPE_CTRL:
		/* libusb wants the setup packet before the data, in one
		 * buffer; wLength is what the guest's buffer holds, so the
		 * device never writes past it.  Zeroed: an IN's room is
		 * compared whole by umockdev's replay. */
		hx->bounce = calloc(1, LIBUSB_CONTROL_SETUP_SIZE + x->req.length);
		if (!hx->bounce)
			return LIBUSB_ERROR_NO_MEM;
		libusb_fill_control_setup(hx->bounce, x->req.setup.bmRequestType,
					  x->req.setup.bRequest, x->req.setup.wValue,
					  x->req.setup.wIndex, (uint16_t)x->req.length);
		if (!x->req.in && x->req.length)
			memcpy(hx->bounce + LIBUSB_CONTROL_SETUP_SIZE, x->buf, x->req.length);
		libusb_fill_control_transfer(t, hd->h, hx->bounce, host_xfer_cb, x, 0);
		t->endpoint = x->req.ep; /* control endpoints have no direction bit */
		break;
	case USBIF_PIPE_TYPE_BULK:
		libusb_fill_bulk_transfer(t, hd->h, ep, x->buf, (int)x->req.length, host_xfer_cb, x, 0);
		if (x->req.zero_packet && !x->req.in)
			t->flags |= LIBUSB_TRANSFER_ADD_ZERO_PACKET;
		break;
	case USBIF_PIPE_TYPE_INT:
		libusb_fill_interrupt_transfer(t, hd->h, ep, x->buf, (int)x->req.length,
					       host_xfer_cb, x, 0);
		break;
	case USBIF_PIPE_TYPE_ISOC:
		if (host_iso_packed(x, &total)) {
			libusb_fill_iso_transfer(t, hd->h, ep, x->buf, (int)total, x->req.nr_packets,
						 host_xfer_cb, x, 0);
		} else {
			size_t off = 0;

			/* Packets that overlap (more than the buffer in all):
			 * nonsense that would make us allocate up to 64 MiB. */
			if (total > x->req.length)
				return LIBUSB_ERROR_INVALID_PARAM;
			hx->bounce = malloc(total ? total : 1);
			if (!hx->bounce)
				return LIBUSB_ERROR_NO_MEM;
			for (unsigned i = 0; i < x->req.nr_packets && !x->req.in; i++) {
				memcpy(hx->bounce + off, x->buf + x->iso[i].offset, x->iso[i].length);
				off += x->iso[i].length;
			}
			libusb_fill_iso_transfer(t, hd->h, ep, hx->bounce, (int)total,
						 x->req.nr_packets, host_xfer_cb, x, 0);
		}
		for (unsigned i = 0; i < x->req.nr_packets; i++)
			t->iso_packet_desc[i].length = x->iso[i].length;
		break;
	default:
		return LIBUSB_ERROR_INVALID_PARAM;
	}
	if (x->req.short_not_ok && x->req.in)
		t->flags |= LIBUSB_TRANSFER_SHORT_NOT_OK;
	return 0;
}

static void host_submit(struct usb_dev *d, struct usb_xfer *x)
{
	struct host_dev *hd = host_of(d);
	struct host_xfer *hx;
	int r;

	x->actual = 0;
	x->error_count = 0;
	x->dev_priv = NULL;
	if (hd->gone) {
		x->status = USBIF_STATUS_NODEV;
		host_finish(hd, x, true);
		return;
	}
	if (x->req.type == USBIF_PIPE_TYPE_CTRL && host_std_request(hd, x))
		return;
	hx = calloc(1, sizeof(*hx));
	if (!hx) {
		x->status = USBIF_STATUS_IOERROR;
		host_finish(hd, x, true);
		return;
	}
	hx->hd = hd;
	hx->t = libusb_alloc_transfer(x->req.type == USBIF_PIPE_TYPE_ISOC ? x->req.nr_packets : 0);
	x->dev_priv = hx;
	r = hx->t ? host_fill(hd, x, hx) : LIBUSB_ERROR_NO_MEM;
	if (!r)
		r = libusb_submit_transfer(hx->t);
	if (r < 0) {
		pv_debug(d->name, "%s: submit ep %u type %u: %s", d->spec, x->req.ep, x->req.type,
			 libusb_strerror(r));
		x->status = host_err_status(r);
		if (r == LIBUSB_ERROR_NO_DEVICE)
			host_gone(hd);
		host_finish(hd, x, true);
		return;
	}
}

static void host_cancel(struct usb_dev *d, struct usb_xfer *x)
{
	struct host_xfer *hx = x->dev_priv;

	(void)d;
	/* Not found: it finished already and waits in done_head. */
	if (hx)
		libusb_cancel_transfer(hx->t);
}

/* --------------------------------------------------------- open / close */

static void host_close(struct usb_dev *d)
{
	struct host_dev *hd = host_of(d);

	host_detach(d);
	if (hd->hotplug_on)
		libusb_hotplug_deregister_callback(hd->ctx, hd->hotplug);
	if (hd->h) {
		host_release(hd);
		for (unsigned n = 0; n < HOST_MAX_IFACES && !hd->gone; n++)
			if (hd->detached & (1u << n))
				libusb_attach_kernel_driver(hd->h, (int)n);
		libusb_close(hd->h);
	}
	if (hd->dev)
		libusb_unref_device(hd->dev);
	if (hd->ctx)
		libusb_exit(hd->ctx);
	if (hd->wrapped_fd >= 0)
		close(hd->wrapped_fd);
	free(hd);
}

static const struct usb_dev_ops host_ops = {
	.kind = "host",
	.attach = host_attach,
	.detach = host_detach,
	.reset = host_reset,
	.submit = host_submit,
	.cancel = host_cancel,
	.close = host_close,
};

static void host_spec_str(const struct usb_spec *s, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%u-", s->bus);

	for (unsigned i = 0; i < s->nr_ports && n > 0 && (size_t)n < len; i++)
		n += snprintf(buf + n, len - (size_t)n, i ? ".%u" : "%u", s->ports[i]);
}

/* A host_dev for s with a libusb context of its own: discovery lists the
 * host's devices; without, libusb only wraps an fd.  0 or -errno (said). */
static int host_new(const struct usb_spec *s, const char *name, bool discovery,
		    struct host_dev **out)
{
	struct host_dev *hd;
	int r;

	if (s->kind != USB_SPEC_HOST || !s->nr_ports || s->nr_ports > sizeof(s->ports))
		return -EINVAL;
	hd = calloc(1, sizeof(*hd));
	if (!hd)
		return -ENOMEM;
	hd->d.ops = &host_ops;
	hd->wrapped_fd = -1;
	snprintf(hd->d.name, sizeof(hd->d.name), "%s", name);
	host_spec_str(s, hd->d.spec, sizeof(hd->d.spec));
	r = discovery ? 0 : libusb_set_option(NULL, LIBUSB_OPTION_NO_DEVICE_DISCOVERY);
	if (r == 0)
		r = libusb_init(&hd->ctx);
	if (r < 0) {
		pv_err(name, "host device %s: libusb: %s", hd->d.spec, libusb_strerror(r));
		hd->ctx = NULL;
		host_close(&hd->d);
		return host_errno(r);
	}
	*out = hd;
	return 0;
}

/* The device is open (hd->h, hd->dev): claim it, watch for its unplug. */
static int host_setup(struct host_dev *hd, const char *name, unsigned usb_ver, bool hotplug,
		      struct usb_dev **out)
{
	int r, err;

	/* On the xenbus thread (or a worker's main thread): libusb may read sysfs. */
	r = libusb_get_configuration(hd->h, &hd->config);
	if (r < 0) {
		pv_err(name, "%s: reading the active configuration: %s", hd->d.spec,
		       libusb_strerror(r));
		err = host_errno(r);
		goto fail;
	}
	err = host_claim(hd);
	if (err < 0)
		goto fail;
	if (hotplug && libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG)) {
		struct libusb_device_descriptor dd;

		libusb_get_device_descriptor(hd->dev, &dd); /* cached: cannot fail */
		r = libusb_hotplug_register_callback(hd->ctx, LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT, 0,
						     dd.idVendor, dd.idProduct,
						     LIBUSB_HOTPLUG_MATCH_ANY, host_hotplug, hd,
						     &hd->hotplug);
		if (!r)
			hd->hotplug_on = true;
		else /* transfers still say NO_DEVICE */
			pv_debug(name, "host device %s: no hot-plug events: %s", hd->d.spec,
				 libusb_strerror(r));
	}
	hd->d.speed = host_speed(hd, usb_ver);
	*out = &hd->d;
	return 0;
fail:
	host_close(&hd->d);
	return err;
}

int usb_host_open(const struct usb_spec *s, const char *name, unsigned usb_ver,
		  struct usb_dev **out)
{
	struct host_dev *hd;
	int r, err;

	err = host_new(s, name, true, &hd);
	if (err < 0)
		return err;
	hd->dev = host_find(hd->ctx, s, &err);
	if (!hd->dev) {
		if (err == -ENODEV)
			pv_err(name, "host device %s: no USB device at bus %u port %s (see lsusb -t)",
			       hd->d.spec, s->bus, strchr(hd->d.spec, '-') + 1);
		else
			pv_err(name, "host device %s: listing USB devices: %s", hd->d.spec,
			       strerror(-err));
		goto fail;
	}
	r = libusb_open(hd->dev, &hd->h);
	if (r < 0) {
		err = host_errno(r);
		pv_err(name, "host device %s: opening /dev/bus/usb/%03u/%03u: %s%s", hd->d.spec,
		       libusb_get_bus_number(hd->dev), libusb_get_device_address(hd->dev),
		       libusb_strerror(r),
		       r == LIBUSB_ERROR_ACCESS ? " (run as root or give the daemon the device node)" : "");
		hd->h = NULL;
		goto fail;
	}
	return host_setup(hd, name, usb_ver, true, out);
fail:
	host_close(&hd->d);
	return err;
}

/*
 * --isolate domain: the worker gets the usbfs node the xenbus process
 * opened.  libusb without device discovery (no sysfs scan, no netlink
 * monitor: its init only checks that /dev/bus/usb is there) wraps it; an
 * unplug is then seen by the transfers (NO_DEVICE), not by a hot-plug
 * event.  libusb's no-discovery default is the process's from here on.
 */
int usb_host_open_fd(const struct usb_spec *s, int fd, const char *name, unsigned usb_ver,
		     struct usb_dev **out)
{
	struct host_dev *hd;
	int r, err;

	err = host_new(s, name, false, &hd);
	if (err < 0) {
		close(fd);
		return err;
	}
	hd->wrapped_fd = fd;
	r = libusb_wrap_sys_device(hd->ctx, (intptr_t)fd, &hd->h);
	if (r < 0) {
		pv_err(name, "host device %s: libusb cannot use its usbfs node: %s", hd->d.spec,
		       libusb_strerror(r));
		hd->h = NULL;
		host_close(&hd->d);
		return host_errno(r);
	}
	hd->dev = libusb_ref_device(libusb_get_device(hd->h));
	return host_setup(hd, name, usb_ver, false, out);
}

/* sysfs names a device as libxl's port/N does: BUS-PORT[.PORT...]. */
static int sysfs_uint(const char *dev, const char *attr, unsigned *out)
{
	char path[128], buf[16], *end;
	unsigned long v;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/usb/devices/%s/%s", dev, attr);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n') || v > 255)
		return -EIO;
	*out = (unsigned)v;
	return 0;
}

int usb_host_node(const struct usb_spec *s, const char *name, char *path, size_t len)
{
	unsigned bus, dev;
	char spec[64];
	int rc;

	if (s->kind != USB_SPEC_HOST || !s->nr_ports || s->nr_ports > sizeof(s->ports))
		return -EINVAL;
	host_spec_str(s, spec, sizeof(spec));
	rc = sysfs_uint(spec, "busnum", &bus);
	if (rc == 0)
		rc = sysfs_uint(spec, "devnum", &dev);
	if (rc < 0) {
		pv_err(name, "host device %s: %s", spec,
		       rc == -ENOENT ? "no USB device at that bus and port (see lsusb -t)"
				     : strerror(-rc));
		return rc;
	}
	snprintf(path, len, "/dev/bus/usb/%03u/%03u", bus, dev);
	return 0;
}
