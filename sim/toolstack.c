// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pvsim's toolstack role: write and remove device nodes in xenstore exactly as
 * libxl 4.17 does for `xl block-attach`, `xl network-attach` and
 * `xl usbctrl-attach` (libxl__device_generic_add and the per-kind key sets),
 * so a backend sees the same on pvsim as on Xen.  Runs in the CLI process and
 * speaks to xenstored through libxenstore as dom0, in one transaction per
 * device (EAGAIN retried).  A vif then goes through libxl's device_hotplug:
 * wait for the backend's InitWait (10 s), run its hotplug script `online`
 * (hotplug.c).  Detach follows libxl's graceful removal: online=0,
 * state=Closing, wait for the backend to reach Closed (10 s), run a vif's
 * script `offline`, then remove the frontend, backend and /libxl nodes.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xenstore.h>
#include <xen/io/xenbus.h>

#include "pvcommon.h"
#include "toolstack.h"

#define KV_MAX 64

struct kv {
	const char *k[KV_MAX];
	char *v[KV_MAX];
	bool ro[KV_MAX]; /* frontend key the guest may only read (libxl's ro_fents) */
	unsigned n;
	int err;         /* the first kv_set failure: -ENOMEM or -E2BIG */
};

/* Set k; a failure is kept in kv->err (the first one), so a run of sets is
 * checked once at the end. */
static void kv_set(struct kv *kv, const char *k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void kv_set(struct kv *kv, const char *k, const char *fmt, ...)
{
	va_list ap;
	char *v;
	unsigned i;

	va_start(ap, fmt);
	if (vasprintf(&v, fmt, ap) < 0)
		v = NULL;
	va_end(ap);
	if (!v) {
		kv->err = kv->err ? kv->err : -ENOMEM;
		return;
	}
	for (i = 0; i < kv->n; i++) {
		if (!strcmp(kv->k[i], k)) {
			free(kv->v[i]);
			kv->v[i] = v;
			return;
		}
	}
	if (kv->n == KV_MAX) {
		free(v);
		kv->err = kv->err ? kv->err : -E2BIG;
		return;
	}
	kv->k[kv->n] = k;
	kv->ro[kv->n] = false;
	kv->v[kv->n++] = v;
}

/* Mark the last key set as read-only for the guest. */
static void kv_last_ro(struct kv *kv)
{
	if (kv->n)
		kv->ro[kv->n - 1] = true;
}

static void kv_free(struct kv *kv)
{
	for (unsigned i = 0; i < kv->n; i++)
		free(kv->v[i]);
	kv->n = 0;
}

/* Find the value of key= among argv-style "key=value" options. */
static const char *opt_get(int argc, char **argv, const char *key)
{
	size_t kl = strlen(key);

	for (int i = 0; i < argc; i++)
		if (!strncmp(argv[i], key, kl) && argv[i][kl] == '=')
			return argv[i] + kl + 1;
	return NULL;
}

/* Lowest unused devid under /libxl/<domid>/device/<kind>. */
static int next_devid(struct xs_handle *xs, unsigned domid, const char *kind)
{
	char path[128];
	unsigned n = 0, i;
	char **ents;
	int id = 0;
	bool used;

	snprintf(path, sizeof(path), "/local/domain/%u/device/%s", domid, kind);
	ents = xs_directory(xs, XBT_NULL, path, &n);
	do {
		used = false;
		for (i = 0; ents && i < n; i++)
			if (atoi(ents[i]) == id) {
				used = true;
				id++;
				break;
			}
	} while (used);
	free(ents);
	return id;
}

static bool write_kv(struct xs_handle *xs, xs_transaction_t t, const char *dir, const struct kv *kv,
		     struct xs_permissions *ro_perms)
{
	char path[512];

	for (unsigned i = 0; i < kv->n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, kv->k[i]);
		if (!xs_write(xs, t, path, kv->v[i], strlen(kv->v[i])))
			return false;
		if (kv->ro[i] && !xs_set_permissions(xs, t, path, ro_perms, 2))
			return false;
	}
	return true;
}

struct dev_paths {
	char fe[256], be[256], lx[256];
};

static void dev_paths(struct dev_paths *p, unsigned bdomid, unsigned domid, const char *kind,
		      const char *bkind, int devid)
{
	snprintf(p->fe, sizeof(p->fe), "/local/domain/%u/device/%s/%d", domid, kind, devid);
	snprintf(p->be, sizeof(p->be), "/local/domain/%u/backend/%s/%u/%d", bdomid, bkind, domid,
		 devid);
	snprintf(p->lx, sizeof(p->lx), "/libxl/%u/device/%s/%d", domid, kind, devid);
}

/* libxl__device_generic_add: the same paths, order, keys and permissions. */
static int generic_add(struct xs_handle *xs, unsigned bdomid, unsigned domid, const char *kind,
		       const char *bkind, int devid, const struct kv *back, const struct kv *front)
{
	struct xs_permissions fe_perms[2] = {
		{ .id = domid, .perms = XS_PERM_NONE },
		{ .id = bdomid, .perms = XS_PERM_READ },
	};
	struct xs_permissions be_perms[2] = {
		{ .id = bdomid, .perms = XS_PERM_NONE },
		{ .id = domid, .perms = XS_PERM_READ },
	};
	struct xs_permissions lx_perms[1] = { { .id = 0, .perms = XS_PERM_NONE } };
	struct xs_permissions ro_perms[2] = {
		{ .id = 0, .perms = XS_PERM_NONE },
		{ .id = domid, .perms = XS_PERM_READ },
	};
	struct dev_paths p;
	char path[512];
	int tries;

	dev_paths(&p, bdomid, domid, kind, bkind, devid);
	for (tries = 0; tries < 16; tries++) {
		xs_transaction_t t = xs_transaction_start(xs);
		char *exists;
		bool ok = true;

		if (t == XBT_NULL)
			return -errno;
		snprintf(path, sizeof(path), "%s/state", p.fe);
		exists = xs_read(xs, t, path, NULL);
		if (exists) {
			free(exists);
			xs_transaction_end(xs, t, true);
			return -EEXIST;
		}
		xs_rm(xs, t, p.lx);
		ok = ok && xs_mkdir(xs, t, p.lx) && xs_set_permissions(xs, t, p.lx, lx_perms, 1);
		snprintf(path, sizeof(path), "%s/frontend", p.lx);
		ok = ok && xs_write(xs, t, path, p.fe, strlen(p.fe));
		snprintf(path, sizeof(path), "%s/backend", p.lx);
		ok = ok && xs_write(xs, t, path, p.be, strlen(p.be));

		xs_rm(xs, t, p.fe);
		ok = ok && xs_mkdir(xs, t, p.fe) && xs_set_permissions(xs, t, p.fe, fe_perms, 2);
		snprintf(path, sizeof(path), "%s/backend", p.fe);
		ok = ok && xs_write(xs, t, path, p.be, strlen(p.be));
		ok = ok && write_kv(xs, t, p.fe, front, ro_perms);

		xs_rm(xs, t, p.be);
		ok = ok && xs_mkdir(xs, t, p.be) && xs_set_permissions(xs, t, p.be, be_perms, 2);
		snprintf(path, sizeof(path), "%s/frontend", p.be);
		ok = ok && xs_write(xs, t, path, p.fe, strlen(p.fe));
		ok = ok && write_kv(xs, t, p.be, back, ro_perms);
		if (!ok) {
			int err = errno ? errno : EIO;

			xs_transaction_end(xs, t, true);
			return -err;
		}
		if (xs_transaction_end(xs, t, false))
			return devid;
		if (errno != EAGAIN)
			return -errno;
	}
	return -EAGAIN;
}

static int vbd_keys(int argc, char **argv, unsigned domid, unsigned bdomid, int *devid,
		    struct kv *back, struct kv *front, char *err, size_t errlen)
{
	const char *target = opt_get(argc, argv, "target");
	const char *vdev = opt_get(argc, argv, "vdev");
	const char *access = opt_get(argc, argv, "access");
	const char *devtype = opt_get(argc, argv, "devtype");
	const char *script = opt_get(argc, argv, "script");
	const char *discard = opt_get(argc, argv, "discard");
	const char *backendtype = opt_get(argc, argv, "backendtype");
	const char *trusted = opt_get(argc, argv, "trusted");
	const char *protocol = opt_get(argc, argv, "protocol");
	bool cdrom = devtype && !strcmp(devtype, "cdrom");
	bool ro = access && (!strcmp(access, "r") || !strcmp(access, "ro"));
	uint32_t id;

	if (!target || !vdev) {
		snprintf(err, errlen, "vbd needs target=PATH and vdev=NAME (e.g. vdev=xvda)");
		return -EINVAL;
	}
	if (pv_vdev_to_devid(vdev, &id) < 0 || id > INT32_MAX) {
		snprintf(err, errlen, "vbd: invalid vdev '%s'", vdev);
		return -EINVAL;
	}
	*devid = (int)id;
	if (access && !ro && strcmp(access, "w") && strcmp(access, "rw")) {
		snprintf(err, errlen, "vbd: access must be r, ro, w or rw, not '%s'", access);
		return -EINVAL;
	}
	kv_set(back, "frontend-id", "%u", domid);
	kv_set(back, "online", "1");
	kv_set(back, "removable", "%d", cdrom ? 1 : 0);
	kv_set(back, "bootable", "1");
	kv_set(back, "state", "%d", XenbusStateInitialising);
	kv_set(back, "dev", "%s", vdev);
	kv_set(back, "type", "%s", backendtype ? backendtype : "phy");
	kv_set(back, "mode", "%s", ro ? "r" : "w");
	kv_set(back, "device-type", "%s", cdrom ? "cdrom" : "disk");
	kv_set(back, "discard-enable", "%s", discard && !strcmp(discard, "no-discard") ? "0" : "1");
	kv_set(back, "specification", "xen");
	kv_set(back, "params", "%s", target);
	/* libxl: script defaults to "block", relative names live in the script dir */
	kv_set(back, "script", "%s%s", script && script[0] == '/' ? "" : "/etc/xen/scripts/",
		     script ? script : "block");
	kv_set(front, "backend-id", "%u", bdomid);
	kv_set(front, "state", "%d", XenbusStateInitialising);
	kv_set(front, "virtual-device", "%d", *devid);
	kv_set(front, "device-type", "%s", cdrom ? "cdrom" : "disk");
	kv_set(front, "trusted", "%s", trusted ? trusted : "1");
	kv_set(front, "protocol", "%s", protocol ? protocol : "x86_64-abi");
	return back->err ? back->err : front->err;
}

static int vif_keys(struct xs_handle *xs, int argc, char **argv, unsigned domid, unsigned bdomid,
		    bool no_script, int *devid, struct kv *back, struct kv *front, char *err,
		    size_t errlen)
{
	const char *mac = opt_get(argc, argv, "mac");
	const char *bridge = opt_get(argc, argv, "bridge");
	const char *script = opt_get(argc, argv, "script");
	const char *rate = opt_get(argc, argv, "rate");
	const char *mtu = opt_get(argc, argv, "mtu");
	const char *ip = opt_get(argc, argv, "ip");
	const char *vifname = opt_get(argc, argv, "vifname");
	const char *devid_s = opt_get(argc, argv, "devid");
	char macbuf[18], script_path[PATH_MAX];
	int rc;

	*devid = devid_s ? atoi(devid_s) : next_devid(xs, domid, "vif");
	if (*devid < 0) {
		snprintf(err, errlen, "vif: invalid devid");
		return -EINVAL;
	}
	/* Only a script pvsim will run must exist now (libxl finds out later). */
	rc = sim_hotplug_resolve(script, !no_script && bdomid == 0, script_path,
				 sizeof(script_path), err, errlen);
	if (rc < 0)
		return rc;
	if (!mac) {
		/* libxl: 00:16:3e + random; ours is derived from domid/devid to be stable. */
		snprintf(macbuf, sizeof(macbuf), "00:16:3e:%02x:%02x:%02x", (domid >> 8) & 0xff,
			 domid & 0xff, *devid & 0xff);
		mac = macbuf;
	}
	kv_set(back, "frontend-id", "%u", domid);
	kv_set(back, "online", "1");
	kv_set(back, "state", "%d", XenbusStateInitialising);
	kv_set(back, "script", "%s", script_path);
	if (vifname)
		kv_set(back, "vifname", "%s", vifname);
	kv_set(back, "mac", "%s", mac);
	if (ip)
		kv_set(back, "ip", "%s", ip);
	if (rate)
		kv_set(back, "rate", "%s", rate);
	kv_set(back, "bridge", "%s", bridge ? bridge : "xenbr0");
	kv_set(back, "handle", "%d", *devid);
	kv_set(back, "type", "vif");
	kv_set(back, "hotplug-status", "%s", ""); /* libxl pre-creates it empty */
	kv_set(front, "backend-id", "%u", bdomid);
	kv_set(front, "state", "%d", XenbusStateInitialising);
	kv_set(front, "handle", "%d", *devid);
	kv_set(front, "mac", "%s", mac);
	kv_set(front, "trusted", "1");
	kv_set(front, "mtu", "%s", mtu ? mtu : "1500");
	kv_last_ro(front); /* dom0-owned, guest-readable, as libxl writes it */
	return back->err ? back->err : front->err;
}

static int vusb_keys(struct xs_handle *xs, int argc, char **argv, unsigned domid, unsigned bdomid,
		     int *devid, struct kv *back, struct kv *front, char *err, size_t errlen)
{
	const char *ver = opt_get(argc, argv, "version");
	const char *ports = opt_get(argc, argv, "ports");
	const char *devid_s = opt_get(argc, argv, "devid");
	int v = ver ? atoi(ver) : 2, n = ports ? atoi(ports) : 8;

	if (v != 1 && v != 2) {
		snprintf(err, errlen, "vusb: version must be 1 or 2 for a PV controller");
		return -EINVAL;
	}
	if (n < 1 || n > 31) {
		snprintf(err, errlen, "vusb: ports must be 1..31");
		return -EINVAL;
	}
	*devid = devid_s ? atoi(devid_s) : next_devid(xs, domid, "vusb");
	kv_set(back, "frontend-id", "%u", domid);
	kv_set(back, "online", "1");
	kv_set(back, "state", "%d", XenbusStateInitialising);
	kv_set(back, "type", "pv");
	kv_set(back, "usb-ver", "%d", v);
	kv_set(back, "num-ports", "%d", n);
	kv_set(back, "port", "%s", "");
	for (int i = 1; i <= n; i++) {
		static const char *port_keys[] = {
			"port/1",  "port/2",  "port/3",  "port/4",  "port/5",  "port/6",  "port/7",
			"port/8",  "port/9",  "port/10", "port/11", "port/12", "port/13", "port/14",
			"port/15", "port/16", "port/17", "port/18", "port/19", "port/20", "port/21",
			"port/22", "port/23", "port/24", "port/25", "port/26", "port/27", "port/28",
			"port/29", "port/30", "port/31",
		};
		kv_set(back, port_keys[i - 1], "%s", "");
	}
	kv_set(front, "backend-id", "%u", bdomid);
	kv_set(front, "state", "%d", XenbusStateInitialising);
	return back->err ? back->err : front->err;
}

/* For sim_ts_wait: the node holds the integer *want (a XenbusState). */
static bool state_is(const char *val, const void *want)
{
	char *end;
	long n = strtol(val, &end, 10);

	return end != val && !*end && n == *(const int *)want;
}

int sim_ts_wait(struct xs_handle *xs, const char *path, sim_ts_done_fn *done, const void *arg,
		int timeout_ms, char **last)
{
	struct timespec t0, now;
	char *val = NULL;
	int rc = 0;

	if (!xs_watch(xs, path, "ts-wait"))
		return -errno;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = { .fd = xs_fileno(xs), .events = POLLIN };
		unsigned n;
		char **ev;
		long left;

		free(val);
		val = xs_read(xs, XBT_NULL, path, NULL);
		if (!val && errno == ENOENT) {
			rc = -ENOENT;
			break;
		}
		if (val && done(val, arg))
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = timeout_ms - ((now.tv_sec - t0.tv_sec) * 1000 +
				     (now.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0) {
			rc = -ETIMEDOUT;
			break;
		}
		if (poll(&pfd, 1, (int)left) > 0) {
			ev = xs_read_watch(xs, &n);
			free(ev);
		}
	}
	xs_unwatch(xs, path, "ts-wait");
	if (last)
		*last = val;
	else
		free(val);
	return rc;
}

/* libxl__wait_device_connection, then device_hotplug: a dom0 vif's
 * backend reaches InitWait (it made the interface), its script plumbs it. */
static int vif_online(struct xs_handle *xs, unsigned domid, int devid, char *err, size_t errlen)
{
	const int want = XenbusStateInitWait;
	char path[300], msg[512], *st = NULL, *why;
	int rc;

	snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u/%d/state", domid, devid);
	rc = sim_ts_wait(xs, path, state_is, &want, SIM_TS_INIT_TIMEOUT_MS, &st);
	if (rc < 0) {
		snprintf(path, sizeof(path), "/local/domain/0/error/backend/vif/%u/%d/error", domid,
			 devid);
		why = xs_read(xs, XBT_NULL, path, NULL);
		if (rc == -ETIMEDOUT)
			snprintf(err, errlen, "vif %d: the backend did not reach InitWait in %d s "
				 "(state %s%s%s; is pvback-net running?)", devid,
				 SIM_TS_INIT_TIMEOUT_MS / 1000, st ? pv_xb_state_name(atoi(st)) : "-",
				 why ? ", error: " : "", why ? why : "");
		else
			snprintf(err, errlen, "vif %d: waiting for the backend's InitWait: %s", devid,
				 rc == -ENOENT ? "the device was removed" : strerror(-rc));
		free(why);
		free(st);
		return rc;
	}
	free(st);
	rc = sim_hotplug_run_vif(xs, domid, devid, "online", msg, sizeof(msg));
	if (rc < 0)
		snprintf(err, errlen, "vif %d: %s", devid, msg);
	return rc;
}

int sim_ts_attach(struct xs_handle *xs, unsigned domid, const char *type, int argc, char **argv,
		  bool no_script, char *err, size_t errlen)
{
	const char *bdom = opt_get(argc, argv, "backend");
	unsigned bdomid = bdom ? (unsigned)atoi(bdom) : 0;
	struct kv back = { 0 }, front = { 0 };
	const char *kind, *bkind;
	int devid = -1, rc;

	/* Every option must be known: a typo must not be silently ignored. */
	static const char *const known[] = { "target", "vdev", "access", "devtype", "script",
		"discard", "backendtype", "trusted", "protocol", "mac", "bridge", "rate", "mtu",
		"ip", "vifname", "devid", "version", "ports", "backend", "format", NULL };
	for (int i = 0; i < argc; i++) {
		bool ok = false;

		for (const char *const *k = known; *k && !ok; k++) {
			size_t kl = strlen(*k);

			ok = !strncmp(argv[i], *k, kl) && argv[i][kl] == '=';
		}
		if (!ok) {
			snprintf(err, errlen, "unknown option '%s'", argv[i]);
			return -EINVAL;
		}
	}

	if (!strcmp(type, "vbd")) {
		kind = bkind = "vbd";
		rc = vbd_keys(argc, argv, domid, bdomid, &devid, &back, &front, err, errlen);
	} else if (!strcmp(type, "vif")) {
		kind = bkind = "vif";
		rc = vif_keys(xs, argc, argv, domid, bdomid, no_script, &devid, &back, &front, err,
			      errlen);
	} else if (!strcmp(type, "vusb")) {
		kind = bkind = "vusb";
		rc = vusb_keys(xs, argc, argv, domid, bdomid, &devid, &back, &front, err, errlen);
	} else {
		snprintf(err, errlen, "unknown device type '%s' (vbd, vif or vusb)", type);
		return -EINVAL;
	}
	if (rc == 0) {
		rc = generic_add(xs, bdomid, domid, kind, bkind, devid, &back, &front);
		if (rc == -EEXIST)
			snprintf(err, errlen, "%s %d of domain %u already exists", type, devid, domid);
		else if (rc < 0)
			snprintf(err, errlen, "writing xenstore nodes: %s", strerror(-rc));
	}
	/* libxl runs no script for a driver domain's devices. */
	if (rc >= 0 && !strcmp(kind, "vif") && bdomid == 0 && !no_script) {
		int hp = vif_online(xs, domid, devid, err, errlen);

		rc = hp < 0 ? hp : rc;
	}
	kv_free(&back);
	kv_free(&front);
	return rc;
}

int sim_ts_detach(struct xs_handle *xs, unsigned domid, const char *type, const char *devid_s,
		  bool force, bool no_script, char *err, size_t errlen)
{
	const int want = XenbusStateClosed;
	struct dev_paths p;
	char path[300], msg[512], *be;
	int devid, tries, rc = 0;
	xs_transaction_t t;
	uint64_t v;
	uint32_t id;

	if (!strcmp(type, "vbd"))
		rc = pv_vdev_to_devid(devid_s, &id);
	else if ((rc = pv_parse_uint(devid_s, 0, INT32_MAX, &v)) == 0)
		id = (uint32_t)v;
	devid = rc < 0 || id > INT32_MAX ? -1 : (int)id;
	rc = 0;
	if (devid < 0) {
		snprintf(err, errlen, "invalid device id '%s'", devid_s);
		return -EINVAL;
	}
	dev_paths(&p, 0, domid, type, type, devid);
	snprintf(path, sizeof(path), "%s/backend", p.lx);
	be = xs_read(xs, XBT_NULL, path, NULL);
	if (!be) {
		snprintf(err, errlen, "no %s %d on domain %u", type, devid, domid);
		return -ENOENT;
	}
	snprintf(p.be, sizeof(p.be), "%s", be);
	free(be);

	if (!force) {
		snprintf(path, sizeof(path), "%s/online", p.be);
		xs_write(xs, XBT_NULL, path, "0", 1);
		snprintf(path, sizeof(path), "%s/state", p.be);
		xs_write(xs, XBT_NULL, path, "5", 1);
		rc = sim_ts_wait(xs, path, state_is, &want, SIM_TS_DESTROY_TIMEOUT_MS, NULL);
		if (rc == -ETIMEDOUT)
			snprintf(err, errlen, "backend %s did not reach Closed in %d s; removed anyway",
				 p.be, SIM_TS_DESTROY_TIMEOUT_MS / 1000);
		/* libxl runs a dom0 vif's script once the backend closed; it only
		 * logs a failure of `offline` and removes the device all the same. */
		snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u/%d", domid, devid);
		if (rc == 0 && !no_script && !strcmp(type, "vif") && !strcmp(p.be, path) &&
		    sim_hotplug_run_vif(xs, domid, devid, "offline", msg, sizeof(msg)) < 0)
			snprintf(err, errlen, "vif %d: %s", devid, msg);
		rc = rc == -ENOENT ? 0 : rc;
	}
	for (tries = 0; tries < 16; tries++) {
		t = xs_transaction_start(xs);
		if (t == XBT_NULL)
			return -errno;
		xs_rm(xs, t, p.fe);
		xs_rm(xs, t, p.be);
		xs_rm(xs, t, p.lx);
		if (xs_transaction_end(xs, t, false))
			break;
		if (errno != EAGAIN)
			return -errno;
	}
	return rc;
}

/* The backend directory of vusb devid of domid, from /libxl (as xl finds it). */
static int vusb_be(struct xs_handle *xs, unsigned domid, unsigned devid, char *be, size_t n,
		   char *err, size_t errlen)
{
	char path[128], *v;

	snprintf(path, sizeof(path), "/libxl/%u/device/vusb/%u/backend", domid, devid);
	v = xs_read(xs, XBT_NULL, path, NULL);
	if (!v) {
		snprintf(err, errlen, "no vusb controller %u on domain %u", devid, domid);
		return -ENOENT;
	}
	snprintf(be, n, "%s", v);
	free(v);
	return 0;
}

int sim_ts_usbdev(struct xs_handle *xs, unsigned domid, unsigned devid, unsigned port,
		  const char *spec, char *err, size_t errlen)
{
	char be[256], path[300], *v;
	uint64_t nports;
	int rc, tries;

	rc = vusb_be(xs, domid, devid, be, sizeof(be), err, errlen);
	if (rc < 0)
		return rc;
	snprintf(path, sizeof(path), "%s/num-ports", be);
	v = xs_read(xs, XBT_NULL, path, NULL);
	rc = v ? pv_parse_uint(v, 1, 31, &nports) : -ENOENT;
	free(v);
	if (rc < 0) {
		snprintf(err, errlen, "vusb %u of domain %u has no valid num-ports", devid, domid);
		return -EINVAL;
	}
	if (port < 1 || port > nports) {
		snprintf(err, errlen, "port %u out of range: vusb %u has ports 1..%u", port, devid,
			 (unsigned)nports);
		return -EINVAL;
	}
	if (spec && (!*spec || strpbrk(spec, " \t\n") || strlen(spec) > 127)) {
		snprintf(err, errlen, "invalid device '%s' (BUS-PORT[.PORT...] or emu:KIND[,k=v...])",
			 spec);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/port/%u", be, port);
	for (tries = 0; tries < 16; tries++) {
		xs_transaction_t t = xs_transaction_start(xs);

		if (t == XBT_NULL)
			return -errno;
		v = xs_read(xs, t, path, NULL);
		if (!v) {
			xs_transaction_end(xs, t, true);
			snprintf(err, errlen, "vusb %u has no port/%u node", devid, port);
			return -ENOENT;
		}
		if (spec && *v) {
			snprintf(err, errlen, "port %u of vusb %u is already used by '%s'", port,
				 devid, v);
			free(v);
			xs_transaction_end(xs, t, true);
			return -EBUSY;
		}
		if (!spec && !*v) {
			free(v);
			xs_transaction_end(xs, t, true);
			snprintf(err, errlen, "port %u of vusb %u is empty", port, devid);
			return -ENOENT;
		}
		free(v);
		if (!xs_write(xs, t, path, spec ? spec : "", spec ? strlen(spec) : 0)) {
			rc = -errno;
			xs_transaction_end(xs, t, true);
			snprintf(err, errlen, "writing %s: %s", path, strerror(-rc));
			return rc;
		}
		if (xs_transaction_end(xs, t, false))
			return 0;
		if (errno != EAGAIN)
			return -errno;
	}
	return -EAGAIN;
}
