// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbfront-tool: drive a vusb controller of our own domain through the
 * userspace usbfront, for integration tests, benchmarks and by hand (run
 * inside `pvsim env NAME`, or in a Xen guest's userspace).
 *
 *   list                 every port: speed, IDs, class, strings, configs,
 *                        interfaces, endpoints (lsusb -v, short)
 *   wait-port PORT present|empty
 *   zero PORT ...        usbtest-style cases against a gadget-zero device
 *                        (usbfront-zero.c)
 *   storage PORT ...     BOT/SCSI from the host side (usbfront-storage.c)
 *   bench PORT ...       throughput through emu:storage, URB latency
 *   keyboard PORT --expect TEXT   boot-keyboard reports decoded to text
 *   hold PORT ...        an IN transfer the device does not answer (yet):
 *                        unlinked after a while, or waited for (unplug)
 *   raw RULE ...         hostile urb/conn requests built by hand
 *   attack MODE PORT     a sustained hostile guest (usbfront-hostile.c):
 *                        flip, never-consume, revoke
 *   shell                stay connected, run commands from stdin
 *
 * Options before the command; each command's own after it.  One thread.
 * Exit status 0 on success, 1 on a failure (message on stderr), 2 for a
 * usage error.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/xenbus.h>
#include <xen/io/usbif.h>

#include "pvcommon.h"
#include "pvring.h"
#include "pvfront.h"
#include "usbfront.h"
#include "usbfront-tool.h"

/* ------------------------------------------------------------- helpers */

double uft_now(void)
{
	return (double)pv_now_ns() / 1e9;
}

int uft_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int uft_port(struct uft *t, const char *s, unsigned *port)
{
	unsigned long v;

	if (uft_uint(s, USBFRONT_MAX_PORTS, &v) < 0 || v < 1 ||
	    v > usbfront_info(t->uf)->num_ports) {
		fprintf(stderr, "usbfront-tool: port '%s': not 1..%u\n", s ? s : "",
			usbfront_info(t->uf)->num_ports);
		return -EINVAL;
	}
	*port = (unsigned)v;
	return 0;
}

const char *uft_err(int err)
{
	static char buf[32];

	switch (err < 0 ? -err : err) {
	case 0: return "OK";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case EPIPE: return "EPIPE";
	case EPROTO: return "EPROTO";
	case EOVERFLOW: return "EOVERFLOW";
	case ESHUTDOWN: return "ESHUTDOWN";
	case ECONNRESET: return "ECONNRESET";
	case ETIMEDOUT: return "ETIMEDOUT";
	case E2BIG: return "E2BIG";
	case EIO: return "EIO";
	case EBADMSG: return "EBADMSG";
	default:
		snprintf(buf, sizeof(buf), "%d", err);
		return buf;
	}
}

static const char *speed_name(int s)
{
	static const char *const n[] = { "none", "low", "full", "high" };

	return s >= 0 && s <= 3 ? n[s] : "?";
}

static const char *state_name(int s)
{
	return s < 0 ? "gone" : pv_xb_state_name(s);
}

int uft_open_dev(struct uft *t, unsigned port, int config, struct usbfront_dev *d)
{
	int rc = usbfront_wait_port(t->uf, port, true, t->wait_ms);

	if (rc < 0) {
		fprintf(stderr, "usbfront-tool: port %u: no device (%s)\n", port, uft_err(rc));
		return rc;
	}
	rc = usbfront_enumerate(t->uf, port, config, d, t->xfer_ms);
	if (rc < 0)
		fprintf(stderr, "usbfront-tool: port %u: enumeration failed: %s\n", port, uft_err(rc));
	return rc;
}

int uft_xfer(struct uft *t, const struct usbfront_dev *d, uint8_t type, uint8_t ep_addr,
	     void *buf, uint32_t len, uint16_t flags)
{
	struct usbfront_urb u = {
		.port = (uint8_t)d->port, .devnum = d->addr, .ep = ep_addr & 0x0f, .type = type,
		.in = (ep_addr & 0x80) != 0, .buf = buf, .length = len, .flags = flags,
		.interval = 1,
	};
	int rc = usbfront_run(t->uf, &u, t->xfer_ms);

	return rc < 0 ? rc : (int)u.actual;
}

/* ---------------------------------------------------------------- list */

static const char *const ep_types[] = { "control", "iso", "bulk", "interrupt" };

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* The string of index idx, or "". */
static void get_str(struct uft *t, const struct usbfront_dev *d, uint8_t idx, char *out, size_t n)
{
	if (!d->langid || usbfront_get_string(t->uf, d, idx, out, n, t->xfer_ms) < 0)
		out[0] = 0;
}

static void print_dev(struct uft *t, const struct usbfront_dev *d, const char *spec, bool first)
{
	const uint8_t *dd = d->desc;
	char s[USBFRONT_STR_MAX];
	unsigned c, o;

	if (t->json) {
		printf("%s{\"port\":%u,\"speed\":\"%s\",\"addr\":%u,\"spec\":", first ? "" : ",",
		       d->port, speed_name(d->speed), d->addr);
		json_str(spec);
		printf(",\"vid\":\"%04x\",\"pid\":\"%04x\",\"bcdUSB\":\"%x.%02x\",\"class\":%u,"
		       "\"subclass\":%u,\"protocol\":%u,\"maxpacket0\":%u,\"manufacturer\":",
		       dd[8] | dd[9] << 8, dd[10] | dd[11] << 8, dd[3], dd[2], dd[4], dd[5], dd[6],
		       dd[7]);
		json_str(d->manufacturer);
		printf(",\"product\":");
		json_str(d->product);
		printf(",\"serial\":");
		json_str(d->serial);
		printf(",\"configs\":[");
	} else {
		printf("port %u: %s-speed %04x:%04x class %02x/%02x/%02x usb %x.%02x addr %u "
		       "\"%s\" \"%s\" \"%s\" (%s)\n", d->port, speed_name(d->speed),
		       dd[8] | dd[9] << 8, dd[10] | dd[11] << 8, dd[4], dd[5], dd[6], dd[3], dd[2],
		       d->addr, d->manufacturer, d->product, d->serial, spec);
	}
	for (c = 0; c < d->nr_configs; c++) {
		const uint8_t *p = d->config[c];
		bool first_if = true, first_ep = true;

		get_str(t, d, p[6], s, sizeof(s));
		if (t->json) {
			printf("%s{\"value\":%u,\"name\":", c ? "," : "", p[5]);
			json_str(s);
			printf(",\"attributes\":%u,\"maxpower_ma\":%u,\"interfaces\":[", p[7], p[8] * 2);
		} else {
			printf("  config %u \"%s\" attributes 0x%02x %umA, %u interface(s)\n", p[5], s,
			       p[7], p[8] * 2, p[4]);
		}
		for (o = 0; o + 2 <= d->config_len[c] && p[o] >= 2 &&
			    o + p[o] <= d->config_len[c]; o += p[o]) {
			if (p[o + 1] == 4 && p[o] >= 9) {
				get_str(t, d, p[o + 8], s, sizeof(s));
				if (t->json) {
					printf("%s%s{\"number\":%u,\"alt\":%u,\"class\":%u,"
					       "\"subclass\":%u,\"protocol\":%u,\"name\":",
					       first_if ? "" : "]},", first_if ? "" : "",
					       p[o + 2], p[o + 3], p[o + 5], p[o + 6], p[o + 7]);
					json_str(s);
					printf(",\"endpoints\":[");
					first_ep = true;
				} else {
					printf("    interface %u alt %u class %02x/%02x/%02x \"%s\", "
					       "%u endpoint(s)\n", p[o + 2], p[o + 3], p[o + 5],
					       p[o + 6], p[o + 7], s, p[o + 4]);
				}
				first_if = false;
			} else if (p[o + 1] == 5 && p[o] >= 7) {
				unsigned maxp = p[o + 4] | p[o + 5] << 8;

				if (t->json)
					printf("%s{\"address\":\"0x%02x\",\"type\":\"%s\","
					       "\"maxpacket\":%u,\"mult\":%u,\"interval\":%u}",
					       first_ep ? "" : ",", p[o + 2], ep_types[p[o + 3] & 3],
					       maxp & 0x7ff, ((maxp >> 11) & 3) + 1, p[o + 6]);
				else
					printf("      ep 0x%02x %s %s maxpacket %u%s interval %u\n",
					       p[o + 2], ep_types[p[o + 3] & 3],
					       p[o + 2] & 0x80 ? "in" : "out", maxp & 0x7ff,
					       maxp >> 11 ? " x2+" : "", p[o + 6]);
				first_ep = false;
			}
		}
		if (t->json)
			printf("%s]}", first_if ? "" : "]}");
	}
	if (t->json)
		printf("]}");
}

/* Ports the backend says hold a device (port/N non-empty). */
static bool spec_present(struct uft *t, unsigned port, char *spec, size_t n)
{
	char *s = usbfront_port_spec(t->uf, port);

	snprintf(spec, n, "%s", s ? s : "");
	free(s);
	return spec[0] != 0;
}

static int do_list(struct uft *t, int argc, char **argv)
{
	unsigned n = usbfront_info(t->uf)->num_ports, p, found = 0;
	char spec[256];
	int rc = 0, r;
	bool first = true;

	(void)argc;
	(void)argv;
	/* The conn events of the ports the backend has a device on. */
	for (p = 1; p <= n; p++) {
		if (!spec_present(t, p, spec, sizeof(spec)))
			continue;
		r = usbfront_wait_port(t->uf, p, true, t->wait_ms);
		if (r < 0) {
			fprintf(stderr, "usbfront-tool: port %u (%s): no connect event (%s)\n", p,
				spec, uft_err(r));
			rc = r;
		}
	}
	usbfront_poll(t->uf, 0);
	if (t->json)
		printf("{\"num_ports\":%u,\"usb_ver\":%u,\"ports\":[", n,
		       usbfront_info(t->uf)->usb_ver);
	else
		printf("controller: %u ports, USB %s\n", n,
		       usbfront_info(t->uf)->usb_ver == 1 ? "1.1" : "2.0");
	for (p = 1; p <= n; p++) {
		struct usbfront_dev d;

		spec_present(t, p, spec, sizeof(spec));
		if (usbfront_port_speed(t->uf, p) == USBIF_SPEED_NONE) {
			if (!t->json)
				printf("port %u: empty%s%s\n", p, spec[0] ? " (backend: " : "",
				       spec[0] ? spec : "");
			if (spec[0] && !t->json)
				printf(")\n");
			continue;
		}
		r = usbfront_enumerate(t->uf, p, -1, &d, t->xfer_ms);
		if (r < 0) {
			fprintf(stderr, "usbfront-tool: port %u: enumeration failed: %s\n", p,
				uft_err(r));
			rc = r;
			continue;
		}
		print_dev(t, &d, spec, first);
		first = false;
		found++;
		usbfront_dev_free(&d);
	}
	if (t->json)
		printf("]}\n");
	return rc;
}

static int do_wait_port(struct uft *t, int argc, char **argv)
{
	unsigned port;
	char spec[256];
	bool want;
	int rc;

	if (argc != 3 || (strcmp(argv[2], "present") && strcmp(argv[2], "empty")))
		return -EINVAL;
	if (uft_port(t, argv[1], &port) < 0)
		return -EINVAL;
	want = !strcmp(argv[2], "present");
	rc = usbfront_wait_port(t->uf, port, want, t->wait_ms);
	/* Empty also means the backend has nothing there any more (a fresh
	 * connection may not have had the port's event yet). */
	if (rc == 0 && !want) {
		uint64_t end = pv_now_ns() + (uint64_t)t->wait_ms * 1000000ull;

		while (spec_present(t, port, spec, sizeof(spec)) && pv_now_ns() < end)
			usbfront_poll(t->uf, 20);
		rc = usbfront_port_speed(t->uf, port) == USBIF_SPEED_NONE && !spec[0] ? 0 :
			-ETIMEDOUT;
	}
	if (rc < 0) {
		fprintf(stderr, "usbfront-tool: port %u not %s after %d ms\n", port, argv[2],
			t->wait_ms);
		return rc;
	}
	printf("port %u %s%s%s\n", port, argv[2], want ? " " : "",
	       want ? speed_name(usbfront_port_speed(t->uf, port)) : "");
	return 0;
}

/* ------------------------------------------------------------ keyboard */

/* The boot keyboard's usage ids 0x04.. as text, unshifted and shifted. */
static char key_char(uint8_t usage, bool shift)
{
	static const char map[2][54] = {
		"abcdefghijklmnopqrstuvwxyz1234567890\n\x1b\b\t -=[]\\#;'`,./",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ!@#$%^&*()\n\x1b\b\t _+{}|~:\"~<>?",
	};

	if (usage < 0x04 || usage > 0x38)
		return 0;
	return map[shift][usage - 0x04];
}

static const uint8_t *hid_int_in(const struct usbfront_dev *d)
{
	unsigned c, o;

	for (c = 0; c < d->nr_configs; c++) {
		const uint8_t *p = d->config[c];
		int ifnum = -1;

		for (o = 0; o + 2 <= d->config_len[c] && p[o] >= 2; o += p[o]) {
			if (p[o + 1] == 4 && p[o] >= 9)
				ifnum = p[o + 5] == 3 ? p[o + 2] : -1;
			else if (p[o + 1] == 5 && ifnum >= 0 && (p[o + 3] & 3) == 3 && (p[o + 2] & 0x80))
				return p + o;
		}
	}
	return NULL;
}

static int do_keyboard(struct uft *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "expect", required_argument, NULL, 'e' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *expect = NULL;
	char typed[1024] = "";
	size_t nt = 0;
	uint8_t prev[8] = { 0 }, rep[8];
	struct usbfront_dev d;
	const uint8_t *ep;
	unsigned port, i, j, nrep = 0;
	unsigned long secs = (unsigned long)t->wait_ms / 1000;
	double end;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'e')
			expect = optarg;
		else if (c == 't' && uft_uint(optarg, 3600, &secs) == 0)
			;
		else
			return -EINVAL;
	}
	if (!expect || optind != argc - 1 || uft_port(t, argv[optind], &port) < 0)
		return -EINVAL;
	rc = uft_open_dev(t, port, -1, &d);
	if (rc < 0)
		return rc;
	ep = hid_int_in(&d);
	if (!ep) {
		fprintf(stderr, "usbfront-tool: port %u: no HID interrupt IN endpoint\n", port);
		usbfront_dev_free(&d);
		return -ENODEV;
	}
	/* Boot protocol, no idle reports (as usbhid on a boot keyboard). */
	usbfront_control(t->uf, port, d.addr, 0x21, 0x0b, 0, 0, NULL, 0, t->xfer_ms);
	usbfront_control(t->uf, port, d.addr, 0x21, 0x0a, 0, 0, NULL, 0, t->xfer_ms);
	end = uft_now() + (double)secs;
	rc = -ETIMEDOUT;
	while (!strstr(typed, expect)) {
		struct usbfront_urb u = {
			.port = (uint8_t)port, .devnum = d.addr, .ep = ep[2] & 0x0f,
			.type = USBFRONT_INT, .in = true, .buf = rep, .length = 8,
			.interval = ep[6],
		};
		double left = end - uft_now();

		if (left <= 0)
			break;
		memset(rep, 0, sizeof(rep));
		/* A pending interrupt IN: unlinked when the time is up. */
		rc = usbfront_run(t->uf, &u, (int)(left * 1000) + 1);
		if (rc < 0)
			break;
		nrep++;
		for (i = 2; i < 8 && u.actual == 8; i++) {
			bool held = false;

			for (j = 2; j < 8; j++)
				held |= prev[j] == rep[i];
			if (rep[i] && !held && nt + 1 < sizeof(typed)) {
				char ch = key_char(rep[i], rep[0] & 0x22);

				if (ch)
					typed[nt++] = ch;
			}
		}
		typed[nt] = 0;
		memcpy(prev, rep, sizeof(prev));
		rc = 0;
	}
	usbfront_dev_free(&d);
	printf("typed \"%s\" (%u reports)\n", typed, nrep);
	if (strstr(typed, expect))
		return 0;
	fprintf(stderr, "usbfront-tool: keyboard: \"%s\" not typed: %s\n", expect, uft_err(rc));
	return rc < 0 ? rc : -ETIMEDOUT;
}

/* ---------------------------------------------------------------- hold */

static int do_hold(struct uft *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ep", required_argument, NULL, 'e' },
		{ "config", required_argument, NULL, 'c' },
		{ "unlink-after", required_argument, NULL, 'u' },
		{ "length", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long ep_addr = 0, cfg = 0, after = 0, len = 8;
	bool unlink = false;
	uint8_t buf[4096];
	struct usbfront_dev d;
	const uint8_t *ep = NULL;
	unsigned port;
	double t0, limit;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'e' && uft_uint(optarg, 0xff, &ep_addr) == 0 && (ep_addr & 0x80))
			;
		else if (c == 'c' && uft_uint(optarg, 255, &cfg) == 0)
			;
		else if (c == 'u' && uft_uint(optarg, 3600000, &after) == 0)
			unlink = true;
		else if (c == 'l' && uft_uint(optarg, sizeof(buf), &len) == 0)
			;
		else
			return -EINVAL;
	}
	if (optind != argc - 1 || uft_port(t, argv[optind], &port) < 0)
		return -EINVAL;
	rc = uft_open_dev(t, port, cfg ? (int)cfg : -1, &d);
	if (rc < 0)
		return rc;
	if (ep_addr)
		ep = usbfront_find_ep(&d, d.cur_config, -1, -1, (uint8_t)ep_addr);
	else if (!(ep = hid_int_in(&d)))
		ep = usbfront_first_ep(&d, d.cur_config, -1, -1, USBFRONT_BULK, true);
	if (!ep) {
		fprintf(stderr, "usbfront-tool: hold: no such IN endpoint\n");
		usbfront_dev_free(&d);
		return -ENODEV;
	}
	{
		struct usbfront_urb u = {
			.port = (uint8_t)port, .devnum = d.addr, .ep = ep[2] & 0x0f,
			.type = (ep[3] & 3) == 3 ? USBFRONT_INT : USBFRONT_BULK, .in = true,
			.buf = buf, .length = (uint32_t)len, .interval = ep[6],
		};

		rc = usbfront_submit(t->uf, &u);
		if (rc < 0)
			goto out;
		/* Once it is on the ring: the backend has it with the next event. */
		printf("held ep 0x%02x\n", ep[2]);
		fflush(stdout);
		t0 = uft_now();
		limit = unlink ? (double)after : (double)t->wait_ms;
		while (!u.completed) {
			int left = (int)(limit - (uft_now() - t0) * 1000);

			if (left <= 0 && !u.unlinked) {
				/* Time is up (or the unlink is the test): unlink it
				 * and give the backend a transfer timeout to answer. */
				usbfront_unlink(t->uf, &u);
				limit = (uft_now() - t0) * 1000 + t->xfer_ms;
				continue;
			}
			if (left <= 0 || (usbfront_poll(t->uf, left) < 0 && !u.completed))
				break;
		}
		if (!u.completed) {
			printf("not completed%s\n", u.unlinked ? " after the unlink" : "");
			rc = -ETIMEDOUT;
			goto out;
		}
		printf("completed %s after %.0f ms: backend status %s, %s, actual %u\n",
		       uft_err(u.status), (uft_now() - t0) * 1000, u.answered ?
		       uft_err(u.rsp_status) : "-", u.unlinked ? "unlinked" : "not unlinked",
		       u.actual);
		rc = 0;
	}
out:
	usbfront_dev_free(&d);
	return rc;
}

/* ----------------------------------------------------------------- raw */

static void print_rsp(const struct usbif_urb_response *r)
{
	printf("response id %u status %s actual %d error_count %d\n", r->id,
	       uft_err(r->status), r->actual_length, r->error_count);
}

/*
 * One hostile request (or index) on the rings, then what came back and the
 * backend's state.  The requests address the device on port (enumerated
 * first when present) so that only the rule's own fault is wrong.
 */
static int do_raw(struct uft *t, int argc, char **argv)
{
	static const char *const rules[] = {
		"bad-pipe-port0", "bad-pipe-port", "bad-pipe-dev", "len-beyond-segs",
		"too-many-segs", "iso-count", "unlink-unknown", "bad-gref", "prod-overflow",
		"conn-flood", "seg-cross-page", "readonly-in", NULL,
	};
	struct usbif_urb_request req = { 0 };
	struct usbif_urb_response rsp[16];
	struct pvfront_ring *r;
	struct usbfront_dev d = { 0 };
	const char *rule;
	unsigned port = 1, n = 0, got = 0, i, k;
	uint32_t refs[2];
	uint8_t *pages = NULL;
	bool have_dev = false;
	double end;
	int rc = 0, state;

	if (argc < 2)
		return -EINVAL;
	rule = argv[1];
	for (i = 0; rules[i] && strcmp(rules[i], rule); i++)
		;
	if (!rules[i]) {
		fprintf(stderr, "usbfront-tool: raw: unknown rule '%s'\n", rule);
		return -EINVAL;
	}
	if (argc > 2 && uft_port(t, argv[2], &port) < 0)
		return -EINVAL;
	if (usbfront_wait_port(t->uf, port, true, argc > 2 ? t->wait_ms : 0) == 0)
		have_dev = usbfront_enumerate(t->uf, port, -1, &d, t->xfer_ms) == 0;
	/* readonly-in: the device's answer goes into a page granted readonly. */
	rc = usbfront_share(t->uf, 2, strcmp(rule, "readonly-in") != 0, refs, (void **)&pages);
	if (rc < 0)
		goto out;
	memset(pages, 0, 8192);
	/* A GET_STATUS(device) to the device, 2 bytes into page 0. */
	req.id = 3;
	req.pipe = ((uint32_t)USBIF_PIPE_TYPE_CTRL << USBIF_PIPE_TYPE_SHIFT) | USBIF_PIPE_DIR |
		   ((uint32_t)d.addr << USBIF_PIPE_DEV_SHIFT) | port;
	req.buffer_length = 2;
	req.nr_buffer_segs = 1;
	req.u.ctrl[0] = 0x80;
	req.u.ctrl[6] = 2;
	req.seg[0] = (struct usbif_request_segment){ .gref = refs[0], .offset = 0, .length = 2 };
	if (!strcmp(rule, "bad-pipe-port0")) {
		req.pipe &= ~(uint32_t)USBIF_PIPE_PORT_MASK;
	} else if (!strcmp(rule, "bad-pipe-port")) {
		req.pipe = (req.pipe & ~(uint32_t)USBIF_PIPE_PORT_MASK) |
			   (usbfront_info(t->uf)->num_ports + 1);
	} else if (!strcmp(rule, "bad-pipe-dev")) {
		req.pipe = (req.pipe & ~((uint32_t)USBIF_PIPE_DEV_MASK << USBIF_PIPE_DEV_SHIFT)) |
			   (99u << USBIF_PIPE_DEV_SHIFT);
	} else if (!strcmp(rule, "len-beyond-segs")) {
		req.buffer_length = 4096; /* one 2-byte segment */
		req.u.ctrl[6] = 0;
		req.u.ctrl[7] = 0x10;
	} else if (!strcmp(rule, "too-many-segs")) {
		req.nr_buffer_segs = 17;
	} else if (!strcmp(rule, "iso-count")) {
		/* 10 packets, but the descriptor segment holds 2. */
		req.pipe = (req.pipe & ~((uint32_t)3 << USBIF_PIPE_TYPE_SHIFT)) |
			   ((uint32_t)USBIF_PIPE_TYPE_ISOC << USBIF_PIPE_TYPE_SHIFT) |
			   (1u << USBIF_PIPE_EP_SHIFT);
		memset(req.u.ctrl, 0, 8);
		req.u.isoc.interval = 1;
		req.u.isoc.number_of_packets = 10;
		req.u.isoc.nr_frame_desc_segs = 1;
		req.seg[1] = (struct usbif_request_segment){ .gref = refs[1], .offset = 0,
							      .length = 2 * USBFRONT_ISO_DESC_SIZE };
		req.nr_buffer_segs = 1;
	} else if (!strcmp(rule, "unlink-unknown")) {
		req.pipe |= USBIF_PIPE_UNLINK;
		req.nr_buffer_segs = 0;
		req.buffer_length = 0;
		memset(req.u.ctrl, 0, 8);
		req.u.unlink.unlink_id = 7; /* nothing in flight there */
	} else if (!strcmp(rule, "bad-gref")) {
		req.seg[0].gref = 0x7ffffff0; /* never granted */
	} else if (!strcmp(rule, "seg-cross-page")) {
		req.buffer_length = 200;
		req.u.ctrl[6] = 200;
		req.seg[0] = (struct usbif_request_segment){ .gref = refs[0], .offset = 4000,
							      .length = 200 };
	}
	r = usbfront_urb_ring(t->uf);
	if (!strcmp(rule, "prod-overflow")) {
		volatile struct pv_sring_hdr *h = pvfront_ring_sring(r);

		pvfront_ring_set_req_prod(r, h->rsp_prod + r->front.nr_ents + 5);
		usbfront_notify(t->uf);
	} else if (!strcmp(rule, "conn-flood")) {
		struct pvfront_ring *cr = usbfront_conn_ring(t->uf);
		volatile struct pv_sring_hdr *h = pvfront_ring_sring(cr);

		/* Every slot is posted already: publish far more than the ring. */
		pvfront_ring_set_req_prod(cr, h->req_prod + cr->front.nr_ents + 100);
		usbfront_notify(t->uf);
	} else {
		rc = usbfront_submit_raw(t->uf, &req);
		if (rc < 0)
			goto out;
		n = 1;
	}
	printf("sent %u raw request(s)\n", n);
	/* What comes back: responses, or a disconnect. */
	state = XenbusStateConnected;
	for (end = uft_now() + 3; uft_now() < end;) {
		int prc = usbfront_poll(t->uf, 50);

		k = usbfront_raw_responses(t->uf, rsp, 16);
		for (i = 0; i < k; i++)
			print_rsp(&rsp[i]);
		got += k;
		state = usbfront_backend_state(t->uf);
		if (prc < 0 || state != XenbusStateConnected)
			break;
		if (n && got >= n)
			break;
	}
	if (usbfront_broken(t->uf))
		printf("usbfront broken: %s\n", usbfront_broken(t->uf));
	printf("backend %s\n", state_name(state));
	/* Does the controller still serve this guest? */
	if (state == XenbusStateConnected && !usbfront_broken(t->uf) && have_dev) {
		uint8_t st[2];

		rc = usbfront_control(t->uf, port, d.addr, 0x80, 0x00, 0, 0, st, 2, t->xfer_ms);
		printf("then GET_STATUS: %s\n", rc < 0 ? uft_err(rc) : "OK");
	}
	rc = 0;
out:
	/* Ended at close if the backend still maps it. */
	if (pages)
		usbfront_unshare(t->uf, pages, 2);
	usbfront_dev_free(&d);
	return rc;
}

/* ---------------------------------------------------------------- main */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: usbfront-tool [options] COMMAND [args]\n"
		"options:\n"
		"  --devid N            the vusb controller (device/vusb/N), default 0\n"
		"  --timeout S          waits for ports and typing, default 10\n"
		"  --xfer-timeout MS    per transfer (then unlinked), default 5000\n"
		"  --direct-connect     Initialising -> Connected as xen-hcd (no Initialised)\n"
		"  --poll-us N          spin N us for responses before sleeping (default 0)\n"
		"  --json               JSON output (list)\n"
		"commands:\n"
		"  list\n"
		"  wait-port PORT present|empty\n"
		"  zero PORT [--case N,...] [--iterations N] [--length B] [--sglen N] [--vary B]\n"
		"  storage PORT info | write|read|verify --offset B --length B [--seed N]\n"
		"  bench PORT --mode bulk-read|bulk-write|latency [--qd N] [--size B] [--seconds S]\n"
		"  keyboard PORT --expect TEXT [--timeout S]\n"
		"  hold PORT [--ep 0xEP] [--config N] [--length B] [--unlink-after MS]\n"
		"  raw RULE [PORT]   RULE: bad-pipe-port0 bad-pipe-port bad-pipe-dev\n"
		"                    len-beyond-segs too-many-segs iso-count unlink-unknown\n"
		"                    bad-gref prod-overflow conn-flood seg-cross-page readonly-in\n"
		"  attack [--count N] [--seed S] flip|never-consume|revoke PORT\n"
		"                    a sustained hostile guest against gadget zero\n"
		"  shell             commands from stdin, each answered by its output\n"
		"                    and \"ok\" or \"FAIL reason\"; quit ends\n"
		"zero cases: 1 bulk-write 2 bulk-read 3 bulk-write-vary 4 bulk-read-vary\n"
		"  5 bulk-write-queued 6 bulk-read-queued 9 ch9 10 ctrl-queue 11 unlink-read\n"
		"  12 unlink-write 13 halt 14 ctrl-out 15 iso-write 16 iso-read\n"
		"  17 bulk-write-unaligned 18 bulk-read-unaligned 24 unlink-queued\n"
		"  25 int-write 26 int-read 30 loopback 31 unlink-pending\n");
}

static int run_cmd(struct uft *t, int argc, char **argv);

/* Split a shell line into words; "..." groups (no escapes). */
static int split(char *line, char **argv, int max)
{
	int n = 0;
	char *p = line;

	while (*p && n < max - 1) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		if (*p == '"') {
			argv[n++] = ++p;
			while (*p && *p != '"')
				p++;
		} else {
			argv[n++] = p;
			while (*p && !isspace((unsigned char)*p))
				p++;
		}
		if (*p)
			*p++ = 0;
	}
	argv[n] = NULL;
	return n;
}

static int do_shell(struct uft *t)
{
	char line[1024], *argv[32];
	int argc, rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready ports %u usb-ver %u\n", usbfront_info(t->uf)->num_ports,
	       usbfront_info(t->uf)->usb_ver);
	while (fgets(line, sizeof(line), stdin)) {
		argc = split(line, argv, 32);
		if (!argc)
			continue;
		if (!strcmp(argv[0], "quit"))
			break;
		if (!strcmp(argv[0], "shell")) {
			printf("FAIL no nested shell\n");
			continue;
		}
		optind = 0; /* a full re-initialisation of getopt */
		rc = run_cmd(t, argc, argv);
		fflush(stderr);
		if (rc < 0)
			printf("FAIL %s%s%s\n", uft_err(rc), usbfront_broken(t->uf) ? " broken: " : "",
			       usbfront_broken(t->uf) ? usbfront_broken(t->uf) : "");
		else
			printf("ok\n");
	}
	return 0;
}

static int run_cmd(struct uft *t, int argc, char **argv)
{
	const char *cmd = argv[0];

	if (!strcmp(cmd, "list"))
		return do_list(t, argc, argv);
	if (!strcmp(cmd, "wait-port"))
		return do_wait_port(t, argc, argv);
	if (!strcmp(cmd, "zero"))
		return uft_zero(t, argc, argv);
	if (!strcmp(cmd, "storage"))
		return uft_storage(t, argc, argv);
	if (!strcmp(cmd, "bench"))
		return uft_bench(t, argc, argv);
	if (!strcmp(cmd, "keyboard"))
		return do_keyboard(t, argc, argv);
	if (!strcmp(cmd, "hold"))
		return do_hold(t, argc, argv);
	if (!strcmp(cmd, "raw"))
		return do_raw(t, argc, argv);
	if (!strcmp(cmd, "attack"))
		return uft_attack(t, argc, argv);
	if (!strcmp(cmd, "state")) {
		printf("backend %s\n", state_name(usbfront_backend_state(t->uf)));
		return 0;
	}
	fprintf(stderr, "usbfront-tool: unknown command '%s'\n", cmd);
	return -EINVAL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "devid", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 't' },
		{ "xfer-timeout", required_argument, NULL, 'x' },
		{ "direct-connect", no_argument, NULL, 'D' },
		{ "poll-us", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const commands[] = {
		"list", "wait-port", "zero", "storage", "bench", "keyboard", "hold", "raw", "shell",
		"state", "attack", NULL,
	};
	struct usbfront_opts o = { 0 };
	struct uft t = { .opts = &o, .xfer_ms = 5000, .wait_ms = 10000 };
	unsigned long v;
	const char *cmd;
	int c, rc;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (uft_uint(optarg, UINT32_MAX, &v) < 0)
				goto bad;
			o.devid = (uint32_t)v;
			break;
		case 't':
			if (uft_uint(optarg, 3600, &v) < 0)
				goto bad;
			t.wait_ms = (int)v * 1000;
			break;
		case 'x':
			if (uft_uint(optarg, 3600000, &v) < 0 || !v)
				goto bad;
			t.xfer_ms = (int)v;
			break;
		case 'D': o.direct_connect = true; break;
		case 'p':
			if (uft_uint(optarg, 1000000, &v) < 0)
				goto bad;
			o.poll_us = (unsigned)v;
			break;
		case 'j': t.json = true; break;
		case 'h': usage(stdout); return 0;
		default: goto bad;
		}
	}
	if (optind >= argc)
		goto bad;
	cmd = argv[optind];
	for (c = 0; commands[c] && strcmp(commands[c], cmd); c++)
		;
	if (!commands[c]) {
		fprintf(stderr, "usbfront-tool: unknown command '%s'\n", cmd);
		goto bad;
	}
	rc = usbfront_open(&o, &t.uf);
	if (rc < 0) {
		fprintf(stderr, "usbfront-tool: connect vusb %u: %s\n", o.devid, strerror(-rc));
		return 1;
	}
	argc -= optind;
	argv += optind;
	optind = 0; /* the command parses its own options */
	if (!strcmp(cmd, "shell"))
		rc = do_shell(&t);
	else
		rc = run_cmd(&t, argc, argv);
	if (rc == -EINVAL)
		usage(stderr);
	if (rc < 0)
		fprintf(stderr, "usbfront-tool: %s: %s%s%s\n", cmd, uft_err(rc),
			t.uf && usbfront_broken(t.uf) ? "; usbfront broken: " : "",
			t.uf && usbfront_broken(t.uf) ? usbfront_broken(t.uf) : "");
	fflush(stdout);
	if (t.uf)
		usbfront_close(t.uf);
	return rc == -EINVAL ? 2 : rc < 0 ? 1 : 0;
bad:
	usage(stderr);
	return 2;
}
