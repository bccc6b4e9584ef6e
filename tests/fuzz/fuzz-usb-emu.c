// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: libFuzzer harness for pvback-usb's emulated devices
 * (usbback/emu*.c), what a guest's xen-hcd talks to through the urb ring:
 * standard and class control requests, HID reports, mass storage's
 * Bulk-Only Transport with its SCSI commands (on a 64 KiB file in tmpfs,
 * emptied for each input), gadget zero's source/sink, loopback and iso
 * endpoints.  The input picks the device, then is a stream of transfers:
 * a byte of type / direction / endpoint (or, high bit set, cancel a
 * waiting transfer), 2 bytes of length, the setup packet (control), the
 * packet count and descriptors (iso), then the OUT data.  Each becomes a
 * usbif urb request that usb_req_parse() and usb_iso_check() must accept,
 * as ring.c requires before the device sees it.  Invariants: every
 * transfer completes exactly once (at once, or when cancelled), with a
 * USBIF_STATUS_* status and no more bytes than its length (iso: each
 * packet within its own and the buffer, the sum as actual, which may
 * exceed the buffer when a guest overlaps packets: ring.c clamps it); a
 * reset after all completed
 * succeeds; no device touches memory past a transfer's buffer.
 * Build: make fuzz-usb (clang); make fuzz runs every harness for a while,
 * make check for a few seconds (tests/sim/fuzz-smoke.sh).
 */
#include <fcntl.h>

#include "usbback.h"
#include "fuzz-common.h"

#define DISK_SIZE 65536
#define WAITING   16

/* A transfer; its buffer and iso descriptors are allocations of exactly
 * their size, so ASan sees a device writing past them. */
struct t_xfer {
	struct usb_xfer x;
	unsigned done;
};

static char disk[64];
static struct t_xfer *waiting[WAITING];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	pv_log_init("fuzz-usb-emu", false, PV_LOG_ERR);
	snprintf(disk, sizeof(disk), "%s/disk", fuzz_tmpdir("fuzz-usb-emu"));
	return 0;
}

static void done(struct usb_xfer *x)
{
	struct t_xfer *t = (struct t_xfer *)x;
	uint64_t sum = 0;

	FUZZ_CHECK(++t->done == 1);
	/* iso: the packets' sum, which overlapping packets (a guest's
	 * choice) take beyond the buffer; ring.c clamps what it answers. */
	FUZZ_CHECK(x->req.type == USBIF_PIPE_TYPE_ISOC || x->actual <= x->req.length);
	FUZZ_CHECK(x->status == USBIF_STATUS_OK || x->status == USBIF_STATUS_NODEV ||
		   x->status == USBIF_STATUS_INVAL || x->status == USBIF_STATUS_STALL ||
		   x->status == USBIF_STATUS_IOERROR || x->status == USBIF_STATUS_BABBLE ||
		   x->status == USBIF_STATUS_SHUTDOWN);
	if (x->req.type != USBIF_PIPE_TYPE_ISOC || x->status == USBIF_STATUS_SHUTDOWN)
		return;
	for (unsigned i = 0; i < x->req.nr_packets; i++) {
		FUZZ_CHECK(x->iso[i].actual_length <= x->iso[i].length);
		FUZZ_CHECK(x->iso[i].offset + x->iso[i].actual_length <= x->req.length);
		sum += x->iso[i].actual_length;
	}
	FUZZ_CHECK(sum == x->actual);
}

static struct usb_dev *open_dev(unsigned which)
{
	char spec[128];
	struct usb_spec s;
	struct usb_dev *d = NULL;
	const char *why;
	int fd;

	/* A fresh, empty medium for every input. */
	fd = open(disk, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0 && ftruncate(fd, DISK_SIZE) == 0);
	close(fd);
	switch (which % 6) {
	case 0: snprintf(spec, sizeof(spec), "emu:storage,file=%s", disk); break;
	case 1: snprintf(spec, sizeof(spec), "emu:storage,file=%s,readonly=1", disk); break;
	case 2: snprintf(spec, sizeof(spec), "emu:keyboard,text=hi"); break;
	case 3: snprintf(spec, sizeof(spec), "emu:tablet"); break;
	case 4: snprintf(spec, sizeof(spec), "emu:zero,pattern=1"); break;
	default: snprintf(spec, sizeof(spec), "emu:zero,loopdefault=1,qlen=2,buflen=512"); break;
	}
	FUZZ_CHECK(usb_spec_parse(spec, &s, &why) == 0);
	FUZZ_CHECK(usb_dev_open(&s, -1, "fuzz", which & 8 ? 1 : 2, &d) == 0);
	d->done = done;
	d->owner = d;
	FUZZ_CHECK(d->ops->attach(d, NULL) == 0);
	FUZZ_CHECK(d->ops->reset(d) == 0);
	return d;
}

/* The urb request xen-hcd would send for this transfer: whole pages. */
static int make_req(struct t_xfer *t, uint8_t b, uint32_t len, const uint8_t *setup,
		    unsigned npkts)
{
	struct usbif_urb_request r = { .id = 1 };
	unsigned i, nseg = (len + USB_PAGE_SIZE - 1) / USB_PAGE_SIZE, niso;
	const char *why;

	niso = (npkts * USB_ISO_DESC_SIZE + USB_PAGE_SIZE - 1) / USB_PAGE_SIZE;
	r.pipe = 1u | 1u << USBIF_PIPE_DEV_SHIFT | (uint32_t)(b >> 3 & 0xf) << USBIF_PIPE_EP_SHIFT |
		 (uint32_t)(b & 3) << USBIF_PIPE_TYPE_SHIFT | (b & 4 ? USBIF_PIPE_DIR : 0);
	r.buffer_length = (uint16_t)len;
	r.nr_buffer_segs = (uint8_t)nseg;
	if ((b & 3) == USBIF_PIPE_TYPE_CTRL)
		memcpy(r.u.ctrl, setup, 8);
	else if ((b & 3) == USBIF_PIPE_TYPE_ISOC)
		r.u.isoc = (typeof(r.u.isoc)){ .interval = 1, .number_of_packets = (uint16_t)npkts,
					       .nr_frame_desc_segs = (uint16_t)niso };
	else if ((b & 3) == USBIF_PIPE_TYPE_INT)
		r.u.intr.interval = 4;
	for (i = 0; i < nseg + niso && i < USBIF_MAX_SEGMENTS_PER_REQUEST; i++) {
		uint32_t left = i < nseg ? len - i * USB_PAGE_SIZE
					 : npkts * USB_ISO_DESC_SIZE - (i - nseg) * USB_PAGE_SIZE;

		r.seg[i] = (struct usbif_request_segment){
			.gref = i, .offset = 0,
			.length = (uint16_t)(left < USB_PAGE_SIZE ? left : USB_PAGE_SIZE),
		};
	}
	return usb_req_parse(&r, &t->x.req, &why);
}

static void xfer_free(struct t_xfer *t)
{
	free(t->x.buf);
	free(t->x.iso);
	free(t);
}

static void finish(struct usb_dev *d, unsigned i)
{
	struct t_xfer *t = waiting[i];

	if (!t)
		return;
	waiting[i] = NULL;
	if (!t->done)
		d->ops->cancel(d, &t->x);
	FUZZ_CHECK(t->done == 1);
	xfer_free(t);
}

static void transfer(struct usb_dev *d, struct fuzz_in *in, uint8_t b)
{
	uint32_t len = (uint32_t)fuzz_uint(in, 2);
	struct t_xfer *t = calloc(1, sizeof(*t));
	uint8_t setup[8] = { 0 };
	unsigned npkts = 0, i;
	const char *why;

	FUZZ_CHECK(t);
	if ((b & 3) == USBIF_PIPE_TYPE_CTRL)
		fuzz_take(in, setup, sizeof(setup));
	if ((b & 3) == USBIF_PIPE_TYPE_ISOC)
		npkts = (unsigned)fuzz_uint(in, 1);
	if (make_req(t, b, len, setup, npkts) < 0 || t->x.req.unlink) {
		free(t);
		return;
	}
	t->x.buf = malloc(t->x.req.length ? t->x.req.length : 1);
	t->x.iso = malloc((npkts ? npkts : 1) * sizeof(*t->x.iso));
	FUZZ_CHECK(t->x.buf && t->x.iso);
	for (i = 0; i < npkts; i++)
		t->x.iso[i] = (struct usb_iso_desc){ .offset = (uint32_t)fuzz_uint(in, 2),
						     .length = (uint32_t)fuzz_uint(in, 2) };
	if (npkts && usb_iso_check(&t->x.req, t->x.iso, &why) < 0) {
		xfer_free(t);
		return;
	}
	if (!t->x.req.in)
		fuzz_take(in, t->x.buf, t->x.req.length);
	t->x.dev = d;
	d->ops->submit(d, &t->x);
	if (t->done) {
		xfer_free(t);
		return;
	}
	for (i = 0; i < WAITING && waiting[i]; i++)
		;
	if (i == WAITING)
		finish(d, i = 0); /* the oldest slot: cancelled */
	waiting[i] = t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct usb_dev *d = open_dev((unsigned)fuzz_uint(&in, 1));
	unsigned i;

	while (in.n) {
		uint8_t b = (uint8_t)fuzz_uint(&in, 1);

		if (b & 0x80)
			finish(d, (b >> 3) % WAITING);
		else
			transfer(d, &in, b);
	}
	for (i = 0; i < WAITING; i++)
		finish(d, i);
	FUZZ_CHECK(d->ops->reset(d) == 0);
	d->ops->detach(d);
	d->ops->close(d);
	return 0;
}
