// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * emu:storage,file=PATH[,readonly=1][,vendor=V][,product=P][,serial=S]:
 * a USB mass storage device, Bulk-Only Transport (BOT 1.0) carrying the
 * SCSI transparent command set over one LUN of 512-byte blocks, the file
 * (its size a multiple of 512) being the medium.
 *
 * BOT: a 31-byte CBW on bulk OUT, the data stage in any number of
 * transfers of any size in the CBW's direction, a 13-byte CSW on bulk IN.
 * A CBW that is not valid or not meaningful wedges both bulk endpoints
 * until reset recovery (class request 0xff, then CLEAR_FEATURE on each),
 * BOT 6.6.1.  The thirteen host/device cases of BOT 6.7: a device with
 * less data in than the host expects pads with zeros (the residue says
 * how much was real); more data than the host expects is cut for response
 * data, and a phase error for READ/WRITE; data in the wrong direction is
 * a phase error; OUT data beyond what the command takes is discarded.
 *
 * The file is read and written synchronously with pread/pwrite on the
 * queue thread (plain and enough on pvsim; io_uring later): every
 * transfer completes inside submit.  WRITE data reaches the file before
 * its transfer completes; SYNCHRONIZE CACHE is fdatasync (the caching
 * page says WCE so that Linux sends it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu.h"

#define BLOCK       512u
#define CBW_LEN     31u
#define CSW_LEN     13u
#define CBW_SIG     0x43425355u  /* "USBC" */
#define CSW_SIG     0x53425355u  /* "USBS" */
#define EP_IN       (USB_DIR_IN | 1)
#define EP_OUT      2
#define RESP_MAX    256u

/* sense keys and additional sense codes (SPC-4) */
#define SK_NONE            0x0
#define SK_MEDIUM_ERROR    0x3
#define SK_ILLEGAL_REQUEST 0x5
#define SK_DATA_PROTECT    0x7
#define ASC_INVALID_OPCODE 0x2000
#define ASC_LBA_RANGE      0x2100
#define ASC_INVALID_FIELD  0x2400
#define ASC_WRITE_PROTECT  0x2700
#define ASC_SAVE_NOT_SUPP  0x3900
#define ASC_WRITE_ERROR    0x0c00
#define ASC_READ_ERROR     0x1100

enum bot_state { BOT_CBW, BOT_DATA_IN, BOT_DATA_OUT, BOT_CSW };
enum data_kind { DATA_NONE, DATA_RESP, DATA_READ, DATA_WRITE, DATA_DISCARD };

struct storage {
	struct usb_emu e;
	int fd;
	bool readonly;
	uint64_t blocks;
	char vendor[9], product[17], serial[33];

	enum bot_state state;
	uint32_t tag, h_len;       /* the CBW's tag and dCBWDataTransferLength */
	uint32_t h_left;           /* data-stage bytes the host still moves */
	uint64_t d_left;           /* of them, bytes the device means (the rest: padding / discarded) */
	uint32_t d_done;           /* bytes of the device's data moved: the residue is h_len - d_done */
	enum data_kind kind;
	uint64_t offset;           /* file offset of the next READ/WRITE byte */
	uint8_t status;            /* bCSWStatus: 0 good, 1 failed, 2 phase error */
	uint8_t sense_key;
	uint16_t asc;              /* ASC << 8 | ASCQ */
	uint8_t resp[RESP_MAX];    /* response data of the current command */
	uint32_t resp_len, resp_off;
};

static struct storage *st_of(struct usb_emu *e)
{
	return (struct storage *)e;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void fail(struct storage *s, uint8_t key, uint16_t asc)
{
	s->status = 1;
	s->sense_key = key;
	s->asc = asc;
}

/* ------------------------------------------------------- SCSI commands */

static void resp_set(struct storage *s, const uint8_t *p, uint32_t len, uint32_t alloc)
{
	if (len > alloc)
		len = alloc;
	if (p != s->resp)
		memcpy(s->resp, p, len);
	s->resp_len = len;
	s->kind = DATA_RESP;
}

static void pad(uint8_t *p, const char *src, unsigned n)
{
	unsigned i;

	for (i = 0; i < n && src[i]; i++)
		p[i] = (uint8_t)src[i];
	memset(p + i, ' ', n - i);
}

static void inquiry(struct storage *s, const uint8_t *cdb)
{
	uint32_t alloc = (uint32_t)cdb[3] << 8 | cdb[4];
	uint8_t *r = s->resp;
	size_t sl = strlen(s->serial);

	memset(r, 0, RESP_MAX);
	if (!(cdb[1] & 1)) {
		if (cdb[2]) {
			fail(s, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
			return;
		}
		r[1] = 0x80;       /* removable */
		r[2] = 0x05;       /* SPC-3 */
		r[3] = 0x02;
		r[4] = 31;
		pad(r + 8, s->vendor, 8);
		pad(r + 16, s->product, 16);
		pad(r + 32, "1.0", 4);
		resp_set(s, r, 36, alloc);
		return;
	}
	r[1] = cdb[2];
	switch (cdb[2]) {
	case 0x00:             /* supported pages */
		r[3] = 3;
		r[5] = 0x80;
		r[6] = 0x83;
		resp_set(s, r, 7, alloc);
		return;
	case 0x80:             /* unit serial number */
		r[3] = (uint8_t)sl;
		memcpy(r + 4, s->serial, sl);
		resp_set(s, r, 4 + (uint32_t)sl, alloc);
		return;
	case 0x83:             /* one T10 vendor id designator: vendor + serial */
		r[4] = 0x02;       /* ASCII */
		r[5] = 0x01;       /* T10 vendor id, associated with the LU */
		r[7] = (uint8_t)(8 + sl);
		pad(r + 8, s->vendor, 8);
		memcpy(r + 16, s->serial, sl);
		r[3] = (uint8_t)(4 + r[7]);
		resp_set(s, r, 4 + r[3], alloc);
		return;
	default:
		fail(s, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
		return;
	}
}

static void request_sense(struct storage *s, uint32_t alloc)
{
	uint8_t r[18] = { 0x70, 0, s->sense_key, 0, 0, 0, 0, 10 };

	r[12] = (uint8_t)(s->asc >> 8);
	r[13] = (uint8_t)s->asc;
	s->sense_key = SK_NONE;
	s->asc = 0;
	resp_set(s, r, sizeof(r), alloc);
}

/* MODE SENSE (6 or 10): no block descriptors, the caching page (WCE). */
static void mode_sense(struct storage *s, const uint8_t *cdb, bool ten)
{
	unsigned page = cdb[2] & 0x3f, pc = cdb[2] >> 6, hl = ten ? 8 : 4;
	uint32_t alloc = ten ? (uint32_t)cdb[7] << 8 | cdb[8] : cdb[4];
	uint8_t *r = s->resp;
	uint32_t len = hl;

	if (pc == 3) {
		fail(s, SK_ILLEGAL_REQUEST, ASC_SAVE_NOT_SUPP);
		return;
	}
	if (page != 0x08 && page != 0x3f) {
		fail(s, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
		return;
	}
	memset(r, 0, RESP_MAX);
	r[len] = 0x08;
	r[len + 1] = 0x12;
	if (pc != 1)           /* changeable values: none */
		r[len + 2] = 0x04; /* WCE */
	len += 20;
	if (ten) {
		put_be(r, len - 2, 2);
		r[3] = s->readonly ? 0x80 : 0;
	} else {
		r[0] = (uint8_t)(len - 1);
		r[2] = s->readonly ? 0x80 : 0;
	}
	resp_set(s, r, len, alloc);
}

static void capacity(struct storage *s, const uint8_t *cdb, bool sixteen)
{
	uint8_t r[32] = { 0 };

	if (sixteen) {
		put_be(r, s->blocks - 1, 8);
		put_be(r + 8, BLOCK, 4);
		resp_set(s, r, 32, be32(cdb + 10));
		return;
	}
	put_be(r, s->blocks - 1 > 0xffffffffu ? 0xffffffffu : s->blocks - 1, 4);
	put_be(r + 4, BLOCK, 4);
	resp_set(s, r, 8, UINT32_MAX);
}

static void format_capacities(struct storage *s, uint32_t alloc)
{
	uint8_t r[12] = { 0, 0, 0, 8 };

	put_be(r + 4, s->blocks > 0xffffffffu ? 0xffffffffu : s->blocks, 4);
	r[8] = 0x02;           /* formatted media */
	put_be(r + 9, BLOCK, 3);
	resp_set(s, r, sizeof(r), alloc);
}

/* READ/WRITE/VERIFY's LBA and block count; false (sense set) when out of range. */
static bool rw_range(struct storage *s, uint64_t lba, uint64_t n)
{
	if (n > s->blocks || lba > s->blocks - n) {
		fail(s, SK_ILLEGAL_REQUEST, ASC_LBA_RANGE);
		return false;
	}
	return true;
}

static void rw(struct storage *s, uint64_t lba, uint64_t n, bool write)
{
	if (write && s->readonly) {
		fail(s, SK_DATA_PROTECT, ASC_WRITE_PROTECT);
		return;
	}
	if (!rw_range(s, lba, n))
		return;
	s->kind = write ? DATA_WRITE : DATA_READ;
	s->offset = lba * BLOCK;
	s->d_left = n * BLOCK;
}

/* Run the CDB far enough to know its data stage (kind, d_left) and
 * status; the data moves with the transfers that follow. */
static void scsi(struct storage *s, const uint8_t *cdb)
{
	uint8_t op = cdb[0];

	s->kind = DATA_NONE;
	s->d_left = 0;
	s->resp_len = s->resp_off = 0;
	s->status = 0;
	if (op != 0x03) {
		s->sense_key = SK_NONE;
		s->asc = 0;
	}
	switch (op) {
	case 0x00:  /* TEST UNIT READY */
	case 0x1b:  /* START STOP UNIT */
	case 0x1e:  /* PREVENT ALLOW MEDIUM REMOVAL */
		break;
	case 0x03:  /* REQUEST SENSE */
		request_sense(s, cdb[4]);
		break;
	case 0x12:
		inquiry(s, cdb);
		break;
	case 0x1a:
	case 0x5a:
		mode_sense(s, cdb, op == 0x5a);
		break;
	case 0x15:  /* MODE SELECT(6)/(10): the data is taken and ignored */
	case 0x55:
		s->kind = DATA_DISCARD;
		s->d_left = op == 0x15 ? cdb[4] : (uint32_t)cdb[7] << 8 | cdb[8];
		break;
	case 0x23:
		format_capacities(s, (uint32_t)cdb[7] << 8 | cdb[8]);
		break;
	case 0x25:
		capacity(s, cdb, false);
		break;
	case 0x9e:  /* SERVICE ACTION IN(16) */
		if ((cdb[1] & 0x1f) != 0x10) {
			fail(s, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
			return;
		}
		capacity(s, cdb, true);
		break;
	case 0x08:  /* READ(6), WRITE(6): 0 blocks means 256 */
	case 0x0a:
		rw(s, (uint64_t)(cdb[1] & 0x1f) << 16 | (uint64_t)cdb[2] << 8 | cdb[3],
		   cdb[4] ? cdb[4] : 256, op == 0x0a);
		break;
	case 0x28:
	case 0x2a:
		rw(s, be32(cdb + 2), (uint32_t)cdb[7] << 8 | cdb[8], op == 0x2a);
		break;
	case 0xa8:
	case 0xaa:
		rw(s, be32(cdb + 2), be32(cdb + 6), op == 0xaa);
		break;
	case 0x88:
	case 0x8a:
		rw(s, be64(cdb + 2), be32(cdb + 10), op == 0x8a);
		break;
	case 0x2f:  /* VERIFY(10): the medium is always fine; no byte compare */
		if (cdb[1] & 0x02) {
			fail(s, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
			return;
		}
		rw_range(s, be32(cdb + 2), (uint32_t)cdb[7] << 8 | cdb[8]);
		break;
	case 0x35:  /* SYNCHRONIZE CACHE(10)/(16) */
	case 0x91:
		if (fdatasync(s->fd) < 0)
			fail(s, SK_MEDIUM_ERROR, ASC_WRITE_ERROR);
		break;
	default:
		fail(s, SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
		break;
	}
	if (s->kind == DATA_RESP)
		s->d_left = s->resp_len;
}

/* ------------------------------------------------------------------ BOT */

/* A CBW (BOT 6.2): false when not valid or not meaningful. */
static bool cbw(struct storage *s, const uint8_t *p, uint32_t len)
{
	uint8_t cdb[16] = { 0 };
	bool host_in;
	unsigned cblen;

	if (len != CBW_LEN || le32(p) != CBW_SIG)
		return false;
	cblen = p[14];
	if ((p[13] & 0x0f) || p[12] & 0x7f || p[13] & 0xf0 || !cblen || cblen > 16)
		return false;
	memcpy(cdb, p + 15, cblen);
	s->tag = le32(p + 4);
	s->h_len = s->h_left = le32(p + 8);
	s->d_done = 0;
	host_in = p[12] & 0x80;
	scsi(s, cdb);

	/* BOT 6.7: match the device's intent against the host's. */
	bool dev_in = s->kind == DATA_RESP || s->kind == DATA_READ;
	bool dev_out = s->kind == DATA_WRITE || s->kind == DATA_DISCARD;

	if (!s->h_len) {
		if (s->d_left)                     /* cases 2, 3 */
			s->status = 2;
		s->d_left = 0;
		s->state = BOT_CSW;
		return true;
	}
	if ((host_in && dev_out) || (!host_in && dev_in)) {   /* cases 8, 10 */
		s->status = 2;
		s->d_left = 0;
	} else if (s->d_left > s->h_len) {     /* cases 7, 13 */
		if (s->kind == DATA_RESP)
			s->d_left = s->h_len;          /* response data: cut */
		else {
			s->status = 2;
			s->d_left = 0;
		}
	}
	s->state = host_in ? BOT_DATA_IN : BOT_DATA_OUT;
	return true;
}

static void csw(struct storage *s, struct usb_xfer *x)
{
	uint8_t c[CSW_LEN];
	uint32_t n = x->req.length < CSW_LEN ? x->req.length : CSW_LEN;

	put_le32(c, CSW_SIG);
	put_le32(c + 4, s->tag);
	put_le32(c + 8, s->h_len - s->d_done);
	c[12] = s->status;
	memcpy(x->buf, c, n);
	s->state = BOT_CBW;
	/* A CSW does not fit a smaller buffer: the host sees babble. */
	usb_emu_complete(x, n < CSW_LEN ? USBIF_STATUS_BABBLE : USBIF_STATUS_OK, n);
}

/* n bytes between buf and the file at s->offset, all or false. */
static bool file_io(struct storage *s, uint8_t *buf, uint32_t n, bool write)
{
	for (uint32_t done = 0; done < n;) {
		off_t at = (off_t)(s->offset + done);
		ssize_t r = write ? pwrite(s->fd, buf + done, n - done, at) :
				    pread(s->fd, buf + done, n - done, at);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		done += (uint32_t)r;
	}
	s->offset += n;
	return true;
}

/* Move n bytes of the device's data in (to buf); false on a read error
 * (the rest of the stage is padding then). */
static bool data_in(struct storage *s, uint8_t *buf, uint32_t n)
{
	if (s->kind == DATA_RESP) {
		memcpy(buf, s->resp + s->resp_off, n);
		s->resp_off += n;
		return true;
	}
	if (file_io(s, buf, n, false))
		return true;
	memset(buf, 0, n);
	return false;
}

/* One transfer of the data stage, in the CBW's direction: at most what
 * the host still expects; the device's data first, then padding (IN) or
 * discarding (OUT). */
static void data_stage(struct storage *s, struct usb_xfer *x)
{
	uint32_t n = x->req.length < s->h_left ? x->req.length : s->h_left;
	uint32_t d = s->d_left < n ? (uint32_t)s->d_left : n;
	bool ok;

	if (x->req.in) {
		ok = data_in(s, x->buf, d);
		memset(x->buf + d, 0, n - d);
	} else {
		ok = s->kind != DATA_WRITE || file_io(s, x->buf, d, true);
	}
	if (!ok) {
		fail(s, SK_MEDIUM_ERROR, x->req.in ? ASC_READ_ERROR : ASC_WRITE_ERROR);
		s->d_left = 0;
	} else {
		s->d_left -= d;
		s->d_done += d;
	}
	s->h_left -= n;
	if (!s->h_left)
		s->state = BOT_CSW;
	usb_emu_complete(x, USBIF_STATUS_OK, n);
}

static void storage_data(struct usb_emu *e, struct usb_xfer *x)
{
	struct storage *s = st_of(e);

	switch (s->state) {
	case BOT_CBW:
		if (!x->req.in) {
			if (!cbw(s, x->buf, x->req.length)) {
				/* BOT 6.6.1: stall both until reset recovery */
				pv_debug(e->dev.name, "invalid CBW (%u bytes): reset recovery needed",
					 x->req.length);
				usb_emu_halt(e, EP_IN, true);
				usb_emu_halt(e, EP_OUT, true);
			}
			usb_emu_complete(x, USBIF_STATUS_OK, x->req.length);
			return;
		}
		break;
	case BOT_DATA_IN:
	case BOT_DATA_OUT:
		if (x->req.in == (s->state == BOT_DATA_IN)) {
			data_stage(s, x);
			return;
		}
		break;
	case BOT_CSW:
		if (x->req.in) {
			csw(s, x);
			return;
		}
		break;
	}
	/* The host went the wrong way: the endpoint stalls (and stays
	 * halted until cleared), the stage goes on. */
	usb_emu_halt(e, x->req.in ? EP_IN : EP_OUT, false);
	usb_emu_complete(x, USBIF_STATUS_STALL, 0);
}

static int storage_control(struct usb_emu *e, const struct usb_setup *s, uint8_t *buf, uint32_t len)
{
	struct storage *st = st_of(e);

	if (!e->config || s->wIndex != 0)
		return -EPIPE;
	if (s->bmRequestType == (USB_TYPE_CLASS | USB_RECIP_INTERFACE) && s->bRequest == 0xff &&
	    !s->wValue && !s->wLength) {
		/* Bulk-Only Mass Storage Reset: ready for a CBW; the halts
		 * stay until the host clears them. */
		st->state = BOT_CBW;
		usb_emu_unwedge(e, EP_IN);
		usb_emu_unwedge(e, EP_OUT);
		return 0;
	}
	if (s->bmRequestType == (USB_DIR_IN | USB_TYPE_CLASS | USB_RECIP_INTERFACE) &&
	    s->bRequest == 0xfe && !s->wValue && s->wLength == 1) {
		if (len)
			buf[0] = 0;        /* Get Max LUN: one LUN */
		return len ? 1 : 0;
	}
	return -EPIPE;
}

static void storage_configured(struct usb_emu *e)
{
	st_of(e)->state = BOT_CBW;
}

static void storage_fini(struct usb_emu *e)
{
	close(st_of(e)->fd);
}

static const struct usb_emu_ops storage_ops = {
	.kind = "emu:storage",
	.control = storage_control,
	.data = storage_data,
	.configured = storage_configured,
	.fini = storage_fini,
};

static void opt_str(const struct usb_spec *sp, const char *key, const char *def, char *out, size_t size)
{
	const char *v = usb_spec_opt(sp, key);
	size_t n = 0;

	/* printable ASCII only: it goes into descriptors and INQUIRY data */
	for (v = v ? v : def; *v && n + 1 < size; v++)
		if (*v >= 0x20 && *v < 0x7f)
			out[n++] = *v;
	out[n] = 0;
}

int usb_emu_storage_open(const struct usb_spec *sp, int fd, const char *name, unsigned usb_ver,
			 struct usb_dev **out)
{
	const char *file = usb_spec_opt(sp, "file");
	char serial[33];
	unsigned ro;
	struct storage *s;
	struct stat sb;
	uint32_t h = 2166136261u;
	int rc;

	if (!file || !*file) {
		pv_err(name, "emu:storage needs file=PATH");
		rc = -EINVAL;
		goto fail_given;
	}
	if (usb_emu_opt_uint(sp, "readonly", 0, 1, 0, name, &ro) < 0) {
		rc = -EINVAL;
		goto fail_given;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		rc = -ENOMEM;
		goto fail_given;
	}
	s->readonly = ro;
	/* An fd given (--isolate domain: the xenbus process opened file). */
	s->fd = fd >= 0 ? fd : open(file, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (s->fd < 0) {
		rc = -errno;
		pv_err(name, "emu:storage: %s: %s", file, strerror(errno));
		goto fail;
	}
	if (fstat(s->fd, &sb) < 0 || !S_ISREG(sb.st_mode) || !sb.st_size || sb.st_size % BLOCK) {
		rc = -EINVAL;
		pv_err(name, "emu:storage: %s: not a regular file of a non-zero multiple of %u bytes",
		       file, BLOCK);
		goto fail_fd;
	}
	s->blocks = (uint64_t)sb.st_size / BLOCK;
	/* A default serial number that stays with the file (FNV-1a of its path). */
	for (const char *c = file; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	snprintf(serial, sizeof(serial), "PVB%08X", h);
	opt_str(sp, "vendor", "pvback", s->vendor, sizeof(s->vendor));
	opt_str(sp, "product", "emu storage", s->product, sizeof(s->product));
	opt_str(sp, "serial", serial, s->serial, sizeof(s->serial));

	s->e.desc = (struct usb_emu_desc){
		.vendor = 0x1209, .product = 0x0001, .bcd_device = 0x0100, .nr_configs = 1,
		.strings = { NULL, s->vendor, s->product, s->serial },
	};
	s->e.desc.configs[0] = (struct usb_emu_config){ .value = 1, .attributes = 0x40,
							.max_power = 50, .nr_ifaces = 1 };
	s->e.desc.configs[0].ifaces[0] = (struct usb_emu_iface){ .nr_alts = 1, .alts = { {
		.cls = 0x08, .subclass = 0x06, .protocol = 0x50, .nr_eps = 2, .eps = {
			{ EP_IN, USB_EMU_EP_BULK, 64, 512, 0, 0 },
			{ EP_OUT, USB_EMU_EP_BULK, 64, 512, 0, 0 },
		} } } };
	usb_emu_init(&s->e, &storage_ops, sp, name, usb_ver);
	*out = &s->e.dev;
	return 0;

fail_fd:
	close(s->fd);
fail:
	free(s);
	return rc;
fail_given:
	if (fd >= 0)
		close(fd);
	return rc;
}
