/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: passthrough of a host USB device (usbback/host.c) against
 * fake devices, on a machine without USB: libusb sees the devices of
 * tests/usb/host.umockdev through umockdev's preload library, and the
 * usbfs ioctls of 001/002 (1-1) are replayed from tests/usb/host-bot.ioctl.
 * Covered: opening by bus-port path (also behind a hub), wrong paths
 * refused with -ENODEV and a message naming the device, the speed mapping
 * (SuperSpeed as high, high as full on a USB 1.1 controller), claiming the
 * active configuration's interfaces, control OUT / IN / stall, bulk OUT /
 * IN / stall / babble, interrupt IN, isochronous OUT with Linux's offsets
 * packed for libusb (overlapping packets refused), CLEAR_FEATURE(ENDPOINT_
 * HALT) through libusb_clear_halt, a reset libusb cannot finish, and the
 * device leaving (a NO_DEVICE transfer; a udev remove event) reported to
 * ring.c once; --isolate domain's way: the usbfs node found through sysfs
 * (usb_host_node), opened, and wrapped by libusb without device discovery
 * (usb_host_open_fd), the same control transfer replayed through it (the
 * fake node holds the descriptors, its replay answers CONNECTINFO: umockdev
 * does not make /proc/self/fd name /dev/bus/usb, where libusb looks first).
 * Not covered (umockdev 0.17's usbfs replay cannot): control IN data (its
 * replay copies data back for IN endpoints only, and endpoint 0 has no IN
 * bit), iso IN data and per-packet results (it replays the URB, not its
 * packet descriptors), more than one URB in flight (its replay keeps one),
 * cancel of a pending transfer (every replayed URB is reapable at once),
 * and SET_CONFIGURATION / SET_INTERFACE (usbfs ioctls it does not know).
 *
 * umockdev's preload library must be in LD_PRELOAD from the start: main()
 * re-executes this program with LD_PRELOAD set, after ASan's runtime when
 * this is the sanitizer build (ASan must come first in the initial library
 * list), and builds the testbed in this process with libumockdev (dlopen:
 * Debian ships no libumockdev-dev here).  tests/usb/README describes the
 * fake devices.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "usbback.h"

#define REEXEC_ENV "T_USB_HOST_PRELOADED"

/* ------------------------------------------------- umockdev's testbed */

struct umockdev {
	void *lib;
	void *tb;
	void *(*testbed_new)(void);
	int (*add_from_file)(void *tb, const char *path, void **err);
	int (*load_ioctl)(void *tb, const char *dev, const char *file, void **err);
	void (*uevent)(void *tb, const char *syspath, const char *action);
	void (*remove_device)(void *tb, const char *syspath);
	void (*unref)(void *obj);
};
static struct umockdev um;
static char fixtures[PATH_MAX];

#define SYS_USB1 "/sys/devices/pci0000:00/0000:00:14.0/usb1"

static void fixture(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", fixtures, name);
}

static void find_fixtures(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *env = getenv("T_USB_FIXTURES");

	if (env) {
		snprintf(fixtures, sizeof(fixtures), "%s", env);
		return;
	}
	/* <top>/<build>/tests/test-usb-host, or run from the top directory */
	if (n > 0) {
		exe[n] = 0;
		for (int i = 0; i < 2; i++)
			*strrchr(exe, '/') = 0;
		snprintf(fixtures, sizeof(fixtures), "%.*s/../tests/usb", (int)(sizeof(fixtures) - 20), exe);
		if (access(fixtures, R_OK) == 0)
			return;
	}
	snprintf(fixtures, sizeof(fixtures), "tests/usb");
}

/* The path of ASan's runtime when this program has one. */
static bool asan_runtime(char *out, size_t len)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[PATH_MAX + 128];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, '/');

		if (p && strstr(p, "/libasan.so")) {
			p[strcspn(p, "\n")] = 0;
			snprintf(out, len, "%s", p);
			found = true;
		}
	}
	fclose(f);
	return found;
}

static void reexec_preloaded(char **argv)
{
	char asan[PATH_MAX], preload[2 * PATH_MAX + 64];
	const char *old = getenv("LD_PRELOAD");

	if (asan_runtime(asan, sizeof(asan)))
		snprintf(preload, sizeof(preload), "%s:libumockdev-preload.so.0%s%s", asan,
			 old ? ":" : "", old ? old : "");
	else
		snprintf(preload, sizeof(preload), "libumockdev-preload.so.0%s%s",
			 old ? ":" : "", old ? old : "");
	setenv("LD_PRELOAD", preload, 1);
	setenv(REEXEC_ENV, "1", 1);
	execv("/proc/self/exe", argv);
	fprintf(stderr, "Bail out! re-executing with %s: %s\n", preload, strerror(errno));
	exit(1);
}

static int testbed_start(void)
{
	static const struct { const char *dev, *file; } ioctls[] = {
		{ "/dev/bus/usb/001/002", "host-bot.ioctl" },
		{ "/dev/bus/usb/001/003", "host-caps.ioctl" },
		{ "/dev/bus/usb/001/004", "host-caps.ioctl" },
		{ "/dev/bus/usb/001/005", "host-caps.ioctl" },
		{ "/dev/bus/usb/001/006", "host-caps.ioctl" },
		{ "/dev/bus/usb/002/002", "host-caps.ioctl" },
	};
	char path[PATH_MAX + 64];
	void *err = NULL;

	um.lib = dlopen("libumockdev.so.0", RTLD_NOW);
	if (!um.lib) {
		fprintf(stderr, "Bail out! libumockdev.so.0 (umockdev): %s\n", dlerror());
		return -1;
	}
	*(void **)&um.testbed_new = dlsym(um.lib, "umockdev_testbed_new");
	*(void **)&um.add_from_file = dlsym(um.lib, "umockdev_testbed_add_from_file");
	*(void **)&um.load_ioctl = dlsym(um.lib, "umockdev_testbed_load_ioctl");
	*(void **)&um.uevent = dlsym(um.lib, "umockdev_testbed_uevent");
	*(void **)&um.remove_device = dlsym(um.lib, "umockdev_testbed_remove_device");
	*(void **)&um.unref = dlsym(um.lib, "g_object_unref");
	if (!um.testbed_new || !um.add_from_file || !um.load_ioctl || !um.uevent ||
	    !um.remove_device || !um.unref) {
		fprintf(stderr, "Bail out! libumockdev.so.0 lacks the testbed API\n");
		return -1;
	}
	um.tb = um.testbed_new();
	fixture(path, sizeof(path), "host.umockdev");
	if (!um.tb || !um.add_from_file(um.tb, path, &err)) {
		fprintf(stderr, "Bail out! umockdev cannot load %s\n", path);
		return -1;
	}
	for (size_t i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++) {
		fixture(path, sizeof(path), ioctls[i].file);
		if (!um.load_ioctl(um.tb, ioctls[i].dev, path, &err)) {
			fprintf(stderr, "Bail out! umockdev cannot load %s\n", path);
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ helpers */

struct t_ctx {
	struct pv_loop *loop;
	struct usb_dev *d;
	int done, gone;
	struct usb_xfer *last;
};
static struct t_ctx *cur;

static void t_done(struct usb_xfer *x)
{
	cur->done++;
	cur->last = x;
}

static void t_gone(struct usb_dev *d)
{
	(void)d;
	cur->gone++;
}

static struct usb_spec t_spec(const char *s)
{
	struct usb_spec spec;
	const char *why;

	assert_int_equal(usb_spec_parse(s, &spec, &why), 0);
	return spec;
}

static int t_open(const char *s, unsigned usb_ver, struct usb_dev **d)
{
	struct usb_spec spec = t_spec(s);

	return usb_host_open(&spec, "vusb-1-0/port1", usb_ver, d);
}

/* Opens s on a USB 2.0 controller and attaches it to a fresh loop. */
static void t_attach(struct t_ctx *c, const char *s)
{
	memset(c, 0, sizeof(*c));
	cur = c;
	assert_int_equal(pv_loop_create(&c->loop), 0);
	assert_int_equal(t_open(s, 2, &c->d), 0);
	c->d->done = t_done;
	c->d->gone = t_gone;
	assert_int_equal(c->d->ops->attach(c->d, c->loop), 0);
}

static void t_detach(struct t_ctx *c)
{
	c->d->ops->detach(c->d);
	c->d->ops->close(c->d);
	pv_loop_destroy(c->loop);
	cur = NULL;
}

static bool t_run_until(struct t_ctx *c, const int *what, int want)
{
	uint64_t end = pv_now_ns() + 3000000000ull;

	while (*what < want && pv_now_ns() < end)
		pv_loop_run_once(c->loop, 10);
	return *what >= want;
}

/* Submit x and wait for its completion. */
static void t_xfer(struct t_ctx *c, struct usb_xfer *x)
{
	int before = c->done;

	x->dev = c->d;
	c->d->ops->submit(c->d, x);
	assert_true(t_run_until(c, &c->done, before + 1));
	assert_ptr_equal(c->last, x);
}

static void t_xfer_expect(struct t_ctx *c, struct usb_xfer *x, int32_t status)
{
	t_xfer(c, x);
	assert_int_equal(x->status, status);
}

static struct usb_xfer t_ctrl(uint8_t type, uint8_t req, uint16_t val, uint16_t idx, uint8_t *buf,
			      uint16_t len)
{
	struct usb_xfer x = { 0 };

	x.req.type = USBIF_PIPE_TYPE_CTRL;
	x.req.in = type & USB_DIR_IN;
	x.req.setup = (struct usb_setup){ type, req, val, idx, len };
	x.req.length = len;
	x.buf = buf;
	return x;
}

static struct usb_xfer t_data(uint8_t type, uint8_t ep, bool in, uint8_t *buf, uint32_t len)
{
	struct usb_xfer x = { 0 };

	x.req.type = type;
	x.req.ep = ep;
	x.req.in = in;
	x.req.length = len;
	x.buf = buf;
	return x;
}

/* What the code under test logs while f runs (pv_log writes fd 2). */
static void t_log_of(char *out, size_t len, int (*f)(const char *), const char *arg, int *rc)
{
	FILE *tmp = tmpfile();
	int saved = dup(2);
	size_t n;

	assert_non_null(tmp);
	assert_true(saved >= 0);
	dup2(fileno(tmp), 2);
	*rc = f(arg);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, len - 1, tmp);
	out[n] = 0;
	fclose(tmp);
	fprintf(stderr, "# logged: %s", out);
}

static int t_open_close(const char *s)
{
	struct usb_dev *d = NULL;
	int rc = t_open(s, 2, &d);

	if (!rc)
		d->ops->close(d);
	return rc;
}

/* -------------------------------------------------------------- tests */

static void test_open_by_bus_port_finds_the_device(void **state)
{
	struct usb_dev *d;

	(void)state;
	assert_int_equal(t_open("1-1", 2, &d), 0);
	assert_string_equal(d->ops->kind, "host");
	assert_string_equal(d->spec, "1-1");
	assert_string_equal(d->name, "vusb-1-0/port1");
	d->ops->close(d);
	/* behind a hub: a two-port path */
	assert_int_equal(t_open("1-4.2", 2, &d), 0);
	assert_string_equal(d->spec, "1-4.2");
	d->ops->close(d);
}

static void test_a_wrong_path_is_refused_with_enodev_and_a_message(void **state)
{
	static const char *const bad[] = { "1-7", "3-1", "1-4.3", "1-1.1", "2-2" };
	char log[1024];
	int rc;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t_log_of(log, sizeof(log), t_open_close, bad[i], &rc);
		assert_int_equal(rc, -ENODEV);
		assert_non_null(strstr(log, "vusb-1-0/port1"));
		assert_non_null(strstr(log, bad[i]));
		assert_non_null(strstr(log, "no USB device at bus"));
	}
}

static void test_speeds_map_to_what_usbif_knows(void **state)
{
	static const struct { const char *spec; unsigned usb_ver; uint8_t speed; } cases[] = {
		{ "1-2", 2, USBIF_SPEED_LOW },
		{ "1-3", 2, USBIF_SPEED_FULL },
		{ "1-1", 2, USBIF_SPEED_HIGH },
		{ "1-1", 1, USBIF_SPEED_FULL },   /* high speed on a USB 1.1 controller */
		{ "1-2", 1, USBIF_SPEED_LOW },
		{ "2-1", 2, USBIF_SPEED_HIGH },   /* SuperSpeed reported as high */
		{ "2-1", 1, USBIF_SPEED_FULL },
		{ "1-4.2", 2, USBIF_SPEED_FULL },
	};
	struct usb_dev *d;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(t_open(cases[i].spec, cases[i].usb_ver, &d), 0);
		assert_int_equal(d->speed, cases[i].speed);
		d->ops->close(d);
	}
}

static void test_control_transfers_are_replayed(void **state)
{
	uint8_t out[4] = { 0xde, 0xad, 0xbe, 0xef }, in[8];
	struct t_ctx c;
	struct usb_xfer x;

	(void)state;
	t_attach(&c, "1-1");
	x = t_ctrl(0x40, 0x01, 0x1234, 0, out, sizeof(out));
	t_xfer_expect(&c, &x, USBIF_STATUS_OK);
	assert_int_equal(x.actual, 4);

	x = t_ctrl(0xc0, 0x02, 0, 0, in, 4);
	t_xfer_expect(&c, &x, USBIF_STATUS_OK);
	assert_int_equal(x.actual, 4);

	x = t_ctrl(0xc0, 0x03, 0, 0, in, 8);
	t_xfer_expect(&c, &x, USBIF_STATUS_STALL);
	assert_int_equal(x.actual, 0);

	/* CLEAR_FEATURE(ENDPOINT_HALT) goes through libusb_clear_halt: no
	 * URB (the replay has none for it, a raw one would fail). */
	x = t_ctrl(0x02, USB_REQ_CLEAR_FEATURE, USB_FEATURE_ENDPOINT_HALT, 0x81, NULL, 0);
	t_xfer_expect(&c, &x, USBIF_STATUS_OK);
	assert_int_equal(c.gone, 0);
	t_detach(&c);
}

static void test_bulk_and_interrupt_transfers_are_replayed(void **state)
{
	static const uint8_t cbw[31] = {
		0x55, 0x53, 0x42, 0x43, 1, 0, 0, 0, 0, 2, 0, 0, 0x80, 0, 10,
		0x28, 0, 0, 0, 0, 0, 0, 0, 1,
	};
	static const uint8_t csw[13] = { 0x55, 0x53, 0x42, 0x53, 1 };
	static const uint8_t irq[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t buf[512];
	struct t_ctx c;
	struct usb_xfer x;

	(void)state;
	t_attach(&c, "1-1");
	memcpy(buf, cbw, sizeof(cbw));
	x = t_data(USBIF_PIPE_TYPE_BULK, 2, false, buf, sizeof(cbw));
	t_xfer_expect(&c, &x, USBIF_STATUS_OK);
	assert_int_equal(x.actual, 31);

	memset(buf, 0xaa, sizeof(buf));
	x = t_data(USBIF_PIPE_TYPE_BULK, 1, true, buf, 13);
	t_xfer_expect(&c, &x, USBIF_STATUS_OK);
	assert_int_equal(x.actual, 13);
	assert_memory_equal(buf, csw, sizeof(csw));

	x = t_data(USBIF_PIPE_TYPE_BULK, 1, true, buf, 512);
	t_xfer_expect(&c, &x, USBIF_STATUS_STALL);

	x = t_data(USBIF_PIPE_TYPE_BULK, 1, true, buf, 64);
	t_xfer_expect(&c, &x, USBIF_STATUS_BABBLE);

	memset(buf, 0, sizeof(buf));
	x = t_data(USBIF_PIPE_TYPE_INT, 3, true, buf, 8);
	t_xfer_expect(&c, &x, USBIF_STATUS_OK);
	assert_int_equal(x.actual, 8);
	assert_memory_equal(buf, irq, sizeof(irq));
	assert_int_equal(c.gone, 0);
	t_detach(&c);
}

static void test_iso_out_packets_at_linux_offsets_are_packed_for_libusb(void **state)
{
	/* Three 4-byte packets 8 bytes apart: libusb wants them back to back
	 * ("AAAABBBBCCCC", what the replay's SUBMITURB must match). */
	uint8_t buf[20] = "AAAA____BBBB____CCCC";
	struct usb_iso_desc iso[3] = { { 0, 4, 9, 9 }, { 8, 4, 9, 9 }, { 16, 4, 9, 9 } };
	struct t_ctx c;
	struct usb_xfer x;
	const char *why;

	(void)state;
	t_attach(&c, "1-1");
	x = t_data(USBIF_PIPE_TYPE_ISOC, 3, false, buf, sizeof(buf));
	x.req.nr_packets = 3;
	x.iso = iso;
	assert_int_equal(usb_iso_check(&x.req, iso, &why), 0);
	t_xfer_expect(&c, &x, USBIF_STATUS_OK);
	assert_int_equal(x.error_count, 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(iso[i].status, 0);
		assert_true(iso[i].actual_length <= iso[i].length);
	}
	assert_true(x.actual <= 12);

	/* Packets overlapping beyond the buffer are refused, not bounced. */
	struct usb_iso_desc same[3] = { { 0, 20, 0, 0 }, { 0, 20, 0, 0 }, { 0, 20, 0, 0 } };

	x = t_data(USBIF_PIPE_TYPE_ISOC, 3, false, buf, sizeof(buf));
	x.req.nr_packets = 3;
	x.iso = same;
	assert_int_equal(usb_iso_check(&x.req, same, &why), 0);
	t_xfer_expect(&c, &x, USBIF_STATUS_INVAL);
	t_detach(&c);
}

static void test_a_vanished_device_is_reported_gone_once(void **state)
{
	uint8_t buf[16];
	struct t_ctx c;
	struct usb_xfer x, y;

	(void)state;
	t_attach(&c, "1-1");
	x = t_data(USBIF_PIPE_TYPE_BULK, 1, true, buf, 16);
	t_xfer_expect(&c, &x, USBIF_STATUS_NODEV);
	assert_true(t_run_until(&c, &c.gone, 1));
	/* Later transfers fail at once, and it is told only once. */
	y = t_data(USBIF_PIPE_TYPE_BULK, 1, true, buf, 16);
	t_xfer_expect(&c, &y, USBIF_STATUS_NODEV);
	pv_loop_run_once(c.loop, 20);
	assert_int_equal(c.gone, 1);
	t_detach(&c);
}

/* libusb re-claims the interfaces after a reset; umockdev knows no
 * USBDEVFS_DISCONNECT_CLAIM nor USBDEVFS_IOCTL, so that fails as it does
 * when the device came back from the reset changed: the device is lost
 * (ring.c unplugs the port on the error; no usb_dev_gone). */
static void test_a_reset_libusb_cannot_finish_loses_the_device(void **state)
{
	uint8_t buf[8];
	struct t_ctx c;
	struct usb_xfer x;

	(void)state;
	t_attach(&c, "1-2");
	assert_int_equal(c.d->ops->reset(c.d), -ENODEV);
	x = t_data(USBIF_PIPE_TYPE_INT, 1, true, buf, sizeof(buf));
	t_xfer_expect(&c, &x, USBIF_STATUS_NODEV);
	pv_loop_run_once(c.loop, 20);
	assert_int_equal(c.gone, 0);
	t_detach(&c);
}

static void test_a_device_removed_from_the_host_is_reported_gone(void **state)
{
	struct t_ctx c;

	(void)state;
	t_attach(&c, "1-3");
	pv_loop_run_once(c.loop, 20);
	assert_int_equal(c.gone, 0);
	um.uevent(um.tb, SYS_USB1 "/1-3", "remove");
	assert_true(t_run_until(&c, &c.gone, 1));
	t_detach(&c);
	um.remove_device(um.tb, SYS_USB1 "/1-3");
	assert_int_equal(t_open_close("1-3"), -ENODEV);
}

/* --isolate domain: the xenbus process finds the usbfs node through sysfs
 * and opens it, the worker wraps the fd (no device discovery): the same
 * device, the same transfers.  Last: libusb's no-discovery default stays
 * set for the process. */
static void test_a_device_opened_from_its_usbfs_node_fd_works(void **state)
{
	uint8_t out[4] = { 0xde, 0xad, 0xbe, 0xef };
	struct usb_spec spec = t_spec("1-1");
	struct usb_xfer x;
	struct t_ctx c;
	char node[64];
	int fd;

	(void)state;
	assert_int_equal(usb_host_node(&spec, "vusb-1-0/port1", node, sizeof(node)), 0);
	assert_string_equal(node, "/dev/bus/usb/001/002");
	fd = open(node, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	memset(&c, 0, sizeof(c));
	cur = &c;
	assert_int_equal(pv_loop_create(&c.loop), 0);
	assert_int_equal(usb_host_open_fd(&spec, fd, "vusb-1-0/port1", 2, &c.d), 0);
	assert_string_equal(c.d->spec, "1-1");
	assert_int_equal(c.d->speed, USBIF_SPEED_HIGH);
	c.d->done = t_done;
	c.d->gone = t_gone;
	assert_int_equal(c.d->ops->attach(c.d, c.loop), 0);
	x = t_ctrl(0x40, 0x01, 0x1234, 0, out, sizeof(out));
	t_xfer_expect(&c, &x, USBIF_STATUS_OK);
	assert_int_equal(x.actual, 4);
	t_detach(&c);
	spec = t_spec("1-7");
	assert_int_equal(usb_host_node(&spec, "vusb-1-0/port1", node, sizeof(node)), -ENOENT);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_by_bus_port_finds_the_device),
		cmocka_unit_test(test_a_wrong_path_is_refused_with_enodev_and_a_message),
		cmocka_unit_test(test_speeds_map_to_what_usbif_knows),
		cmocka_unit_test(test_control_transfers_are_replayed),
		cmocka_unit_test(test_bulk_and_interrupt_transfers_are_replayed),
		cmocka_unit_test(test_iso_out_packets_at_linux_offsets_are_packed_for_libusb),
		cmocka_unit_test(test_a_vanished_device_is_reported_gone_once),
		cmocka_unit_test(test_a_reset_libusb_cannot_finish_loses_the_device),
		cmocka_unit_test(test_a_device_removed_from_the_host_is_reported_gone),
		cmocka_unit_test(test_a_device_opened_from_its_usbfs_node_fd_works),
	};
	int rc;

	(void)argc;
	if (!getenv(REEXEC_ENV))
		reexec_preloaded(argv);
	find_fixtures();
	pv_log_init("test-usb-host", false, PV_LOG_INFO);
	if (testbed_start() < 0)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	um.unref(um.tb);
	return rc;
}
