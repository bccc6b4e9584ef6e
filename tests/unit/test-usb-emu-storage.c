// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: emu:storage (usbback/emu_storage.c) on a temporary file,
 * driven as Linux's usb-storage would: Bulk-Only CBW / data / CSW with the
 * tag echoed and the residue; INQUIRY with its VPD pages, READ CAPACITY
 * 10 and 16, MODE SENSE (write protect, caching page), REQUEST SENSE after
 * failures; data written then read back across data stages split into
 * transfers of odd sizes, landing in the file; readonly refusing writes;
 * LBA out of range; SYNCHRONIZE CACHE; the BOT 6.7 host/device
 * mismatches; an invalid CBW wedging both endpoints until reset recovery;
 * and random CBWs and transfers (a deterministic fuzz loop).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "usb-emu-harness.h"

#define BULK USBIF_PIPE_TYPE_BULK
#define BLOCKS 2048u

static char path[] = "/tmp/test-usb-emu-storage.XXXXXX";

static int setup(void **state)
{
	int fd = mkstemp(path);

	if (fd < 0 || ftruncate(fd, BLOCKS * 512) < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	unlink(path);
	return 0;
}

static struct usb_dev *open_disk(const char *opts, unsigned ver)
{
	char spec[256];
	struct usb_dev *d;

	snprintf(spec, sizeof(spec), "emu:storage,file=%s%s", path, opts);
	d = t_usb_open(spec, ver);
	t_set_config(d, 1);
	return d;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void send_cbw(struct usb_dev *d, uint32_t tag, uint32_t len, bool in, const uint8_t *cdb,
		     unsigned cblen)
{
	uint8_t c[31] = { 'U', 'S', 'B', 'C' };

	put32(c + 4, tag);
	put32(c + 8, len);
	c[12] = in ? 0x80 : 0;
	c[14] = (uint8_t)cblen;
	memcpy(c + 15, cdb, cblen);
	assert_int_equal(t_bulk(d, BULK, 2, false, c, 31, NULL), 0);
}

/* Read the CSW: its status; *residue. */
static int recv_csw(struct usb_dev *d, uint32_t tag, uint32_t *residue)
{
	uint8_t c[64];
	uint32_t n;

	assert_int_equal(t_bulk(d, BULK, 1, true, c, 64, &n), 0);
	assert_int_equal(n, 13);
	assert_int_equal(get32(c), 0x53425355);
	assert_int_equal(get32(c + 4), tag);
	if (residue)
		*residue = get32(c + 8);
	return c[12];
}

static uint32_t tag = 1;

/* One command with data in of len bytes, moved in transfers of chunk. */
static int cmd_in(struct usb_dev *d, const uint8_t *cdb, unsigned cblen, uint8_t *buf, uint32_t len,
		  uint32_t chunk, uint32_t *residue)
{
	uint32_t n;

	send_cbw(d, ++tag, len, true, cdb, cblen);
	for (uint32_t off = 0; off < len; off += n) {
		uint32_t want = len - off < chunk ? len - off : chunk;

		assert_int_equal(t_bulk(d, BULK, 1, true, buf + off, want, &n), 0);
		assert_int_equal(n, want);
	}
	return recv_csw(d, tag, residue);
}

static int cmd_out(struct usb_dev *d, const uint8_t *cdb, unsigned cblen, const uint8_t *buf,
		   uint32_t len, uint32_t chunk, uint32_t *residue)
{
	uint32_t n;

	send_cbw(d, ++tag, len, false, cdb, cblen);
	for (uint32_t off = 0; off < len; off += n) {
		uint32_t want = len - off < chunk ? len - off : chunk;

		assert_int_equal(t_bulk(d, BULK, 2, false, (uint8_t *)buf + off, want, &n), 0);
		assert_int_equal(n, want);
	}
	return recv_csw(d, tag, residue);
}

static int cmd(struct usb_dev *d, const uint8_t *cdb, unsigned cblen)
{
	return cmd_in(d, cdb, cblen, NULL, 0, 1, NULL);
}

/* REQUEST SENSE: key << 16 | asc << 8 | ascq */
static unsigned sense(struct usb_dev *d)
{
	uint8_t cdb[6] = { 0x03, 0, 0, 0, 18 }, b[18];

	assert_int_equal(cmd_in(d, cdb, 6, b, 18, 18, NULL), 0);
	assert_int_equal(b[0], 0x70);
	return (unsigned)(b[2] & 0xf) << 16 | b[12] << 8 | b[13];
}

static void test_inquiry_and_vpd(void **state)
{
	struct usb_dev *d = open_disk(",vendor=ACME,serial=S123", 2);
	uint8_t cdb[6] = { 0x12, 0, 0, 0, 36 }, b[256];
	uint32_t res;

	assert_int_equal(cmd_in(d, cdb, 6, b, 36, 36, &res), 0);
	assert_int_equal(res, 0);
	assert_int_equal(b[0], 0);
	assert_int_equal(b[1], 0x80);
	assert_memory_equal(b + 8, "ACME    ", 8);
	assert_memory_equal(b + 16, "emu storage     ", 16);
	cdb[1] = 1;
	assert_int_equal(cmd_in(d, cdb, 6, b, 36, 36, &res), 0);
	assert_int_equal(res, 36 - 7);            /* padded, the residue says so */
	assert_int_equal(b[3], 3);
	assert_int_equal(b[5], 0x80);
	assert_int_equal(b[6], 0x83);
	assert_int_equal(b[7], 0);
	cdb[2] = 0x80;
	assert_int_equal(cmd_in(d, cdb, 6, b, 36, 36, NULL), 0);
	assert_int_equal(b[3], 4);
	assert_memory_equal(b + 4, "S123", 4);
	cdb[2] = 0x83;
	assert_int_equal(cmd_in(d, cdb, 6, b, 36, 36, NULL), 0);
	assert_int_equal(b[3], 16);
	assert_memory_equal(b + 8, "ACME    S123", 12);
	cdb[2] = 0xb0;
	assert_int_equal(cmd_in(d, cdb, 6, b, 36, 36, NULL), 1);
	assert_int_equal(sense(d), 0x052400);
	assert_int_equal(sense(d), 0);            /* read once */
	/* unknown command */
	uint8_t bad[10] = { 0xe7 };

	assert_int_equal(cmd(d, bad, 10), 1);
	assert_int_equal(sense(d), 0x052000);
	/* a successful command clears the sense */
	assert_int_equal(cmd(d, bad, 10), 1);
	assert_int_equal(cmd(d, (uint8_t[6]){ 0 }, 6), 0);
	assert_int_equal(sense(d), 0);
	t_usb_close(d);
}

static void test_capacity_and_mode_sense(void **state)
{
	struct usb_dev *d = open_disk("", 1);
	uint8_t c10[10] = { 0x25 }, c16[16] = { 0x9e, 0x10 }, b[256];

	assert_int_equal(cmd_in(d, c10, 10, b, 8, 8, NULL), 0);
	assert_int_equal(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3], BLOCKS - 1);
	assert_int_equal(b[6] << 8 | b[7], 512);
	c16[13] = 32;
	assert_int_equal(cmd_in(d, c16, 16, b, 32, 32, NULL), 0);
	assert_int_equal(b[6] << 8 | b[7], BLOCKS - 1);
	assert_int_equal(b[10] << 8 | b[11], 512);

	uint8_t ms6[6] = { 0x1a, 0, 0x3f, 0, 192 };
	uint32_t res;

	assert_int_equal(cmd_in(d, ms6, 6, b, 192, 64, &res), 0);
	assert_int_equal(b[0] + 1, 192 - res);
	assert_int_equal(b[2], 0);                /* not write protected */
	assert_int_equal(b[4], 0x08);
	assert_int_equal(b[6] & 0x04, 0x04);      /* WCE */
	uint8_t ms10[10] = { 0x5a, 0, 0x08, 0, 0, 0, 0, 0, 64 };

	assert_int_equal(cmd_in(d, ms10, 10, b, 64, 64, NULL), 0);
	assert_int_equal(b[8], 0x08);
	ms10[2] = 0x1c;
	assert_int_equal(cmd_in(d, ms10, 10, b, 64, 64, NULL), 1);
	assert_int_equal(sense(d), 0x052400);
	t_usb_close(d);
}

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static void test_write_then_read_back_across_transfers(void **state)
{
	static uint8_t data[100 * 512], back[100 * 512];
	static const uint32_t chunks[] = { 65535, 4096, 513, 31, 1 };
	uint32_t s = 99;
	int fd;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)((s = s * 1103515245 + 12345) >> 16);
	for (unsigned ver = 1; ver <= 2; ver++) {
		struct usb_dev *d = open_disk("", ver);

		for (unsigned c = 0; c < 5; c++) {
			uint8_t w10[10] = { 0x2a, 0, 0, 0, 0, 7, 0, 0, 100 };
			uint8_t r16[16] = { 0x88 };
			uint8_t w12[12] = { 0xaa, 0, 0, 0, 0x07, 0xd0, 0, 0, 0, 1 };
			uint32_t res = 1;

			data[0] = (uint8_t)c;
			assert_int_equal(cmd_out(d, w10, 10, data, sizeof(data), chunks[c], &res), 0);
			assert_int_equal(res, 0);
			memset(back, 0xaa, sizeof(back));
			r16[9] = 7;
			r16[13] = 100;
			assert_int_equal(cmd_in(d, r16, 16, back, sizeof(back), chunks[4 - c], &res), 0);
			assert_int_equal(res, 0);
			assert_int_equal(fnv(back, sizeof(back)), fnv(data, sizeof(data)));
			/* the last block, by WRITE(12) */
			assert_int_equal(cmd_out(d, w12, 12, data, 512, 512, NULL), 0);
		}
		t_usb_close(d);
	}
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, back, sizeof(back), 7 * 512), sizeof(back));
	assert_int_equal(fnv(back, sizeof(back)), fnv(data, sizeof(data)));
	assert_int_equal(pread(fd, back, 512, (BLOCKS - 48) * 512), 512);
	assert_memory_equal(back, data, 512);
	close(fd);
}

static void test_out_of_range_and_sync(void **state)
{
	struct usb_dev *d = open_disk("", 2);
	uint8_t r10[10] = { 0x28, 0, 0, 0, 0x07, 0xff, 0, 0, 2 }, b[1024];
	uint8_t sync[10] = { 0x35 }, v10[10] = { 0x2f, 0, 0, 0, 0, 0, 0, 0, 8 };
	uint32_t res;

	memset(b, 0xaa, sizeof(b));
	assert_int_equal(cmd_in(d, r10, 10, b, 1024, 1024, &res), 1);
	assert_int_equal(res, 1024);
	assert_int_equal(b[0], 0);                /* padding, not stale data */
	assert_int_equal(sense(d), 0x052100);
	r10[2] = 0xff;                            /* LBA near 2^32: no overflow */
	assert_int_equal(cmd_in(d, r10, 10, b, 1024, 1024, NULL), 1);
	assert_int_equal(cmd(d, sync, 10), 0);
	assert_int_equal(cmd(d, v10, 10), 0);
	v10[2] = 0x10;
	assert_int_equal(cmd(d, v10, 10), 1);
	assert_int_equal(cmd(d, (uint8_t[6]){ 0x1e, 0, 0, 0, 1 }, 6), 0);
	assert_int_equal(cmd(d, (uint8_t[6]){ 0x1b, 0, 0, 0, 1 }, 6), 0);
	t_usb_close(d);
}

static void test_readonly_refuses_writes(void **state)
{
	struct usb_dev *d = open_disk(",readonly=1", 2);
	uint8_t w10[10] = { 0x2a, 0, 0, 0, 0, 0, 0, 0, 1 }, b[512] = { 1 };
	uint8_t ms6[6] = { 0x1a, 0, 0x3f, 0, 64 };
	uint32_t res;

	assert_int_equal(cmd_out(d, w10, 10, b, 512, 512, &res), 1);
	assert_int_equal(res, 512);
	assert_int_equal(sense(d), 0x072700);
	assert_int_equal(cmd_in(d, ms6, 6, b, 64, 64, NULL), 0);
	assert_int_equal(b[2], 0x80);
	t_usb_close(d);
}

static void test_host_device_mismatches(void **state)
{
	struct usb_dev *d = open_disk("", 2);
	uint8_t r10[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 2 }, b[2048];
	uint32_t res;

	/* Hn < Di: phase error */
	assert_int_equal(cmd(d, r10, 10), 2);
	/* Hi < Di on a READ: phase error */
	assert_int_equal(cmd_in(d, r10, 10, b, 512, 512, NULL), 2);
	/* Ho for a READ: phase error, the data taken */
	assert_int_equal(cmd_out(d, r10, 10, b, 1024, 1024, &res), 2);
	assert_int_equal(res, 1024);
	/* Ho > Do on a WRITE: the rest discarded */
	r10[0] = 0x2a;
	assert_int_equal(cmd_out(d, r10, 10, b, 2048, 2048, &res), 0);
	assert_int_equal(res, 1024);
	/* Hi for TEST UNIT READY: padded */
	assert_int_equal(cmd_in(d, (uint8_t[6]){ 0 }, 6, b, 100, 100, &res), 0);
	assert_int_equal(res, 100);
	/* the CSW where data was expected: stall; the CSW comes after */
	send_cbw(d, 77, 512, true, (uint8_t[10]){ 0x28, 0, 0, 0, 0, 0, 0, 0, 1 }, 10);
	assert_int_equal(t_bulk(d, BULK, 2, false, b, 31, NULL), USBIF_STATUS_STALL);
	assert_int_equal(t_bulk(d, BULK, 1, true, b, 512, NULL), 0);
	assert_int_equal(recv_csw(d, 77, NULL), 0);
	assert_int_equal(t_ctrl(d, USB_RECIP_ENDPOINT, USB_REQ_CLEAR_FEATURE, 0, 0x02, 0, NULL, NULL), 0);
	/* a CSW into a too small buffer */
	send_cbw(d, 78, 0, true, (uint8_t[6]){ 0 }, 6);
	assert_int_equal(t_bulk(d, BULK, 1, true, b, 8, NULL), USBIF_STATUS_BABBLE);
	t_usb_close(d);
}

static int ep_status(struct usb_dev *d, uint16_t ep)
{
	uint8_t b[2];

	assert_int_equal(t_ctrl(d, USB_DIR_IN | USB_RECIP_ENDPOINT, USB_REQ_GET_STATUS, 0, ep, 2, b,
				NULL), 0);
	return b[0];
}

static void clear_halt(struct usb_dev *d, uint16_t ep)
{
	assert_int_equal(t_ctrl(d, USB_RECIP_ENDPOINT, USB_REQ_CLEAR_FEATURE, 0, ep, 0, NULL, NULL), 0);
}

static void test_bad_cbw_stalls_until_reset_recovery(void **state)
{
	struct usb_dev *d = open_disk("", 2);
	uint8_t junk[31] = { 'U', 'S', 'B', 'X' }, b[64], lun[1] = { 0xee };

	assert_int_equal(t_ctrl(d, USB_DIR_IN | USB_TYPE_CLASS | USB_RECIP_INTERFACE, 0xfe, 0, 0, 1,
				lun, NULL), 0);
	assert_int_equal(lun[0], 0);
	assert_int_equal(t_bulk(d, BULK, 2, false, junk, 31, NULL), 0);
	assert_int_equal(ep_status(d, 0x81), 1);
	assert_int_equal(ep_status(d, 0x02), 1);
	assert_int_equal(t_bulk(d, BULK, 1, true, b, 13, NULL), USBIF_STATUS_STALL);
	assert_int_equal(t_bulk(d, BULK, 2, false, junk, 31, NULL), USBIF_STATUS_STALL);
	/* clearing alone does not help: wedged */
	clear_halt(d, 0x81);
	clear_halt(d, 0x02);
	assert_int_equal(ep_status(d, 0x81), 1);
	assert_int_equal(t_bulk(d, BULK, 2, false, junk, 31, NULL), USBIF_STATUS_STALL);
	/* reset recovery: Bulk-Only Mass Storage Reset, then clear both */
	assert_int_equal(t_ctrl(d, USB_TYPE_CLASS | USB_RECIP_INTERFACE, 0xff, 0, 0, 0, NULL, NULL), 0);
	assert_int_equal(ep_status(d, 0x81), 1);
	clear_halt(d, 0x81);
	clear_halt(d, 0x02);
	assert_int_equal(ep_status(d, 0x81), 0);
	assert_int_equal(cmd(d, (uint8_t[6]){ 0 }, 6), 0);
	/* a CBW with a LUN we do not have, or a CDB length of 0 or 17 */
	for (unsigned k = 0; k < 3; k++) {
		uint8_t c[31] = { 'U', 'S', 'B', 'C' };

		c[13] = k == 0;
		c[14] = k == 0 ? 6 : k == 1 ? 0 : 17;
		assert_int_equal(t_bulk(d, BULK, 2, false, c, 31, NULL), 0);
		assert_int_equal(ep_status(d, 0x02), 1);
		assert_int_equal(t_ctrl(d, USB_TYPE_CLASS | USB_RECIP_INTERFACE, 0xff, 0, 0, 0, NULL,
					NULL), 0);
		clear_halt(d, 0x81);
		clear_halt(d, 0x02);
	}
	assert_int_equal(cmd(d, (uint8_t[6]){ 0 }, 6), 0);
	t_usb_close(d);
}

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void test_random_cbws_and_transfers(void **state)
{
	static const uint8_t ops[] = { 0x00, 0x03, 0x12, 0x1a, 0x5a, 0x15, 0x55, 0x23, 0x25, 0x9e,
				       0x08, 0x0a, 0x28, 0x2a, 0xa8, 0xaa, 0x88, 0x8a, 0x2f, 0x35,
				       0x91, 0x1b, 0x1e, 0xff };
	struct usb_dev *d = open_disk("", 2);
	uint32_t seed = 0xdeadbeef;

	for (unsigned i = 0; i < 40000; i++) {
		uint32_t r = rnd(&seed);
		struct t_xfer *t;

		if (r % 4 == 0) {   /* a plausible CBW with a random CDB */
			uint8_t c[31] = { 'U', 'S', 'B', 'C' };

			for (unsigned j = 4; j < 31; j++)
				c[j] = (uint8_t)rnd(&seed);
			c[8 + rnd(&seed) % 4] &= 0x03;  /* mostly small lengths */
			c[10] = c[11] = 0;
			c[12] &= 0x80;
			c[13] = r % 64 ? 0 : c[13];
			c[14] = (uint8_t)(1 + rnd(&seed) % 16);
			c[15] = ops[rnd(&seed) % sizeof(ops)];
			if (r % 13 == 0)
				c[0] = 'X';
			t = t_xfer_new(BULK, 2, false, r % 50 ? 31 : r % 40);
			memcpy(t->buf, c, 31);
		} else if (r % 11 == 1) {   /* recovery, now and then */
			t_ctrl(d, USB_TYPE_CLASS | USB_RECIP_INTERFACE, 0xff, 0, 0, 0, NULL, NULL);
			t_ctrl(d, USB_RECIP_ENDPOINT, USB_REQ_CLEAR_FEATURE, 0, 0x81, 0, NULL, NULL);
			t_ctrl(d, USB_RECIP_ENDPOINT, USB_REQ_CLEAR_FEATURE, 0, 0x02, 0, NULL, NULL);
			continue;
		} else {
			bool in = r & 0x100;

			t = t_xfer_new(BULK, in ? 1 : 2, in, (rnd(&seed) % 3 ? rnd(&seed) % 1100 :
								rnd(&seed) % USB_MAX_LEN));
		}
		assert_true(t_submit(d, t));
		t_xfer_free(t);
	}
	t_usb_close(d);
}

static void test_bad_files_are_refused(void **state)
{
	char odd[] = "/tmp/test-usb-emu-odd.XXXXXX", spec[128];
	int fd = mkstemp(odd);
	struct usb_spec s;
	struct usb_dev *d;
	const char *why;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1000), 0);
	close(fd);
	snprintf(spec, sizeof(spec), "emu:storage,file=%s", odd);
	assert_int_equal(usb_spec_parse(spec, &s, &why), 0);
	assert_int_equal(usb_dev_open(&s, -1, "test", 2, &d), -EINVAL);
	unlink(odd);
	assert_int_equal(usb_dev_open(&s, -1, "test", 2, &d), -ENOENT);
	assert_int_equal(usb_spec_parse("emu:storage", &s, &why), 0);
	assert_int_equal(usb_dev_open(&s, -1, "test", 2, &d), -EINVAL);
	snprintf(spec, sizeof(spec), "emu:storage,file=%s,readonly=yes", path);
	assert_int_equal(usb_spec_parse(spec, &s, &why), 0);
	assert_int_equal(usb_dev_open(&s, -1, "test", 2, &d), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inquiry_and_vpd),
		cmocka_unit_test(test_capacity_and_mode_sense),
		cmocka_unit_test(test_write_then_read_back_across_transfers),
		cmocka_unit_test(test_out_of_range_and_sync),
		cmocka_unit_test(test_readonly_refuses_writes),
		cmocka_unit_test(test_host_device_mismatches),
		cmocka_unit_test(test_bad_cbw_stalls_until_reset_recovery),
		cmocka_unit_test(test_random_cbws_and_transfers),
		cmocka_unit_test(test_bad_files_are_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
