/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The xenbus backend device framework: enumerate <dompath>/backend/<type>/
 * <domid>/<devid> from watch events (never polling), validate each device's
 * frontend link as Linux xenbus does, and drive the backend half of the xenbus
 * state machine (research/handshakes.md): probe -> hotplug-status=connected ->
 * InitWait; connect on frontend Initialised (blk/usb) or Connected, Connected
 * at once or, with a hotplug script, once it wrote hotplug-status=connected;
 * Reconfiguring -> Reconfigured -> Connected (netfront); Closing and Closed
 * teardown; online=0 removal; reconnect from Closed; removal when the
 * backend directory or the frontend domain goes away.
 *
 * Everything runs on the loop thread that owns the pv_xs; the only other entry
 * is pv_xb_dev_request_disconnect(), which goes through pv_loop_call() and
 * finds the device again by serial number, so a device freed meanwhile is
 * simply not found, and carries the connection generation it was raised in,
 * so a request that arrives after that connection ended (the frontend closed
 * first, or already reconnected) is dropped instead of closing a device that
 * is Closed or serving a new connection.  Framework writes to our backend
 * directory happen in a transaction that first checks the directory still
 * exists, so a write racing with the toolstack's removal never recreates a
 * half directory.  A restarted daemon re-attaches to connections its
 * predecessor left live (dev_resume).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>
#include <xen/xen.h>
#include <xen/io/xenbus.h>

#include "pvcommon.h"

struct pv_xb_backend {
	struct pv_loop *loop;
	struct pv_xs *xs;
	const struct pv_xb_backend_ops *ops;
	void *ctx;
	char *dompath;               /* our domain's home, e.g. /local/domain/0 */
	char *root;                  /* <dompath>/backend/<type> */
	struct pv_xs_watch *root_watch;
	struct pv_xs_watch *release_watch; /* @releaseDomain */
	struct pv_xb_dev *devs;
	uint64_t next_serial;
	unsigned pending_calls;      /* pv_xb_dev_call()s queued (atomic) */
	bool stopping;
};

struct pv_xb_dev {
	struct pv_xb_dev *next;
	struct pv_xb_backend *be;
	uint64_t serial;             /* unique per device incarnation */
	uint16_t domid;
	uint32_t devid;
	char name[48];
	char *bepath;
	char *fepath;
	char *errpath;               /* <dompath>/error/backend/<type>/<domid>/<devid> */
	struct pv_xs_watch *be_watch;   /* bepath: keys, online, removal */
	struct pv_xs_watch *fe_watch;   /* fepath/state */
	void *priv;
	int state;                   /* our XenbusState as last written */
	int fe_state;                /* frontend state as last handled */
	bool probed;                 /* ops->probe succeeded; ops->remove owed */
	bool connected;              /* ops->connect succeeded; ops->disconnect owed */
	bool gone;                   /* removed (online=0); waiting for the dir to vanish */
	bool resuming;               /* ops->connect re-attaches to a live ring (restart) */
	uint64_t conn_gen;           /* bumped before each ops->connect (atomic: read by
				      * data-path threads in request_disconnect) */
	char failed_key[64];         /* the key the last failed ring-key read stopped at */
	struct pv_ratelimit rl;      /* lines the frontend can cause */
	/* pv_xb_dev_hold: a disconnect still draining, and what waits for it. */
	unsigned holds;
	bool settle;                 /* re-read the frontend at the release */
	bool remove_pending, destroy_pending;
};

/* ------------------------------------------------------------ accessors */

struct pv_xs *pv_xb_dev_xs(struct pv_xb_dev *dev) { return dev->be->xs; }
struct pv_loop *pv_xb_dev_loop(struct pv_xb_dev *dev) { return dev->be->loop; }
void *pv_xb_dev_ctx(struct pv_xb_dev *dev) { return dev->be->ctx; }
uint16_t pv_xb_dev_domid(const struct pv_xb_dev *dev) { return dev->domid; }
uint32_t pv_xb_dev_devid(const struct pv_xb_dev *dev) { return dev->devid; }
const char *pv_xb_dev_name(const struct pv_xb_dev *dev) { return dev->name; }
const char *pv_xb_dev_bepath(const struct pv_xb_dev *dev) { return dev->bepath; }
const char *pv_xb_dev_fepath(const struct pv_xb_dev *dev) { return dev->fepath; }
void pv_xb_dev_set_priv(struct pv_xb_dev *dev, void *priv) { dev->priv = priv; }
void *pv_xb_dev_priv(const struct pv_xb_dev *dev) { return dev->priv; }
int pv_xb_dev_state(const struct pv_xb_dev *dev) { return dev->state; }
bool pv_xb_dev_resuming(const struct pv_xb_dev *dev) { return dev->resuming; }
bool pv_xb_dev_daemon_stopping(const struct pv_xb_dev *dev) { return dev->be->stopping; }
void pv_xb_dev_hold(struct pv_xb_dev *dev) { dev->holds++; }
void *pv_xb_backend_ctx(struct pv_xb_backend *be) { return be->ctx; }
/* A queue started without a device (pv_queue_params.dev NULL: the stateful
 * fuzz harness) logs through one limiter of the process. */
static struct pv_ratelimit no_dev_rl;

struct pv_ratelimit *pv_xb_dev_ratelimit(struct pv_xb_dev *dev)
{
	return dev ? &dev->rl : &no_dev_rl;
}

void pv_xb_dev_log(struct pv_xb_dev *dev, enum pv_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pv_vlog_rl(&dev->rl, lvl, dev->name, fmt, ap);
	va_end(ap);
}

char *pv_xb_dev_read_be(struct pv_xb_dev *dev, const char *key)
{
	return pv_xs_read_at(dev->be->xs, XBT_NULL, dev->bepath, key);
}

char *pv_xb_dev_read_fe(struct pv_xb_dev *dev, const char *key)
{
	return pv_xs_read_at(dev->be->xs, XBT_NULL, dev->fepath, key);
}

int pv_xb_dev_read_fe_uint(struct pv_xb_dev *dev, const char *key, uint64_t min, uint64_t max,
			   uint64_t *out)
{
	return pv_xs_read_uint_at(dev->be->xs, XBT_NULL, dev->fepath, key, min, max, out);
}

int pv_xb_dev_read_be_uint(struct pv_xb_dev *dev, const char *key, uint64_t min, uint64_t max,
			   uint64_t *out)
{
	return pv_xs_read_uint_at(dev->be->xs, XBT_NULL, dev->bepath, key, min, max, out);
}

int pv_xb_dev_printf_be(struct pv_xb_dev *dev, pv_xs_txn t, const char *key, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = pv_xs_vprintf_at(dev->be->xs, t, dev->bepath, key, fmt, ap);
	va_end(ap);
	return ret;
}

/* --------------------------------------------------------- ring keys */

int pv_xb_ring_key(char *buf, size_t len, const char *dir, const char *name, unsigned order,
		   unsigned i)
{
	int n;

	if (order == 0)
		n = snprintf(buf, len, "%s%s", dir, name);
	else
		n = snprintf(buf, len, "%s%s%u", dir, name, i);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

const char *pv_xb_dev_failed_key(const struct pv_xb_dev *dev)
{
	return dev->failed_key;
}

/* Remember key as the one a reader failed on; passes ret through. */
static int key_failed(struct pv_xb_dev *dev, const char *key, int ret)
{
	snprintf(dev->failed_key, sizeof(dev->failed_key), "%s", key);
	return ret;
}

/* A uint32 of the frontend dir: grant refs and event channels. */
static int read_fe_u32(struct pv_xb_dev *dev, const char *key, uint32_t *out)
{
	uint64_t v;
	int ret = pv_xb_dev_read_fe_uint(dev, key, 0, UINT32_MAX, &v);

	if (ret < 0)
		return key_failed(dev, key, ret);
	*out = (uint32_t)v;
	return 0;
}

int pv_xb_dev_read_grefs(struct pv_xb_dev *dev, const char *dir, const char *name,
			 unsigned order, uint32_t *refs)
{
	char key[sizeof(dev->failed_key)];
	int ret;

	if (order > PV_XB_RING_ORDER_MAX)
		return key_failed(dev, name, -EINVAL);
	for (unsigned i = 0; i < 1u << order; i++) {
		ret = pv_xb_ring_key(key, sizeof(key), dir, name, order, i);
		if (ret < 0)
			return key_failed(dev, name, ret);
		ret = read_fe_u32(dev, key, &refs[i]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int pv_xb_dev_read_evtchns(struct pv_xb_dev *dev, const char *dir, const char *name, bool split,
			   uint32_t *ports)
{
	char key[sizeof(dev->failed_key)], tx[sizeof(key)], rx[sizeof(key)];
	int rtx, rrx;

	if (pv_xb_ring_key(key, sizeof(key), dir, name, 0, 0) < 0 ||
	    snprintf(tx, sizeof(tx), "%s-tx", key) >= (int)sizeof(tx) ||
	    snprintf(rx, sizeof(rx), "%s-rx", key) >= (int)sizeof(rx))
		return key_failed(dev, name, -ENAMETOOLONG);
	if (split) {
		/* The pair first, as Linux netback does; half a pair is broken,
		 * not absent (Linux would fall back to the single key). */
		rtx = read_fe_u32(dev, tx, &ports[0]);
		if (rtx < 0 && rtx != -ENOENT)
			return rtx;
		rrx = read_fe_u32(dev, rx, &ports[1]);
		if (rrx < 0 && rrx != -ENOENT)
			return rrx;
		if (rtx == 0 && rrx == 0)
			return 2;
		if (rtx == 0)
			return key_failed(dev, rx, -ENOENT);
		if (rrx == 0)
			return key_failed(dev, tx, -ENOENT);
	}
	return read_fe_u32(dev, key, &ports[0]) ?: 1;
}

int pv_xb_dev_read_nr_queues(struct pv_xb_dev *dev, unsigned max, unsigned *out)
{
	uint64_t v;
	int ret = pv_xb_dev_read_fe_uint(dev, "multi-queue-num-queues", 1, max, &v);

	if (ret == -ENOENT) {
		*out = 1; /* a frontend without multi-queue */
		return 0;
	}
	if (ret < 0)
		return key_failed(dev, "multi-queue-num-queues", ret);
	*out = (unsigned)v;
	return 0;
}

/* ------------------------------------------------------- guarded writes */

struct xb_key {
	const char *key, *val;
	char *buf;                   /* owns key and val ("key\0val"), or NULL */
};

struct pv_xb_keys {
	struct pv_xb_dev *dev;
	struct xb_key *v;
	unsigned n, cap;
	int err;                     /* first error while recording, sticky */
};

/* Write every recorded key, in a transaction that first checks our
 * directory still exists: never recreate one the toolstack just removed. */
static int keys_txn(struct pv_xs *xs, pv_xs_txn t, void *opaque)
{
	const struct pv_xb_keys *k = opaque;
	char *s;
	int ret = 0;

	s = pv_xs_read(xs, t, k->dev->bepath);
	if (!s)
		return errno ? -errno : -EIO;
	free(s);
	for (unsigned i = 0; i < k->n && !ret; i++)
		ret = pv_xs_write_at(xs, t, k->dev->bepath, k->v[i].key, k->v[i].val);
	return ret;
}

static int be_write_guarded(struct pv_xb_dev *dev, const char *key, const char *val)
{
	struct xb_key one = { key, val, NULL };
	struct pv_xb_keys k = { .dev = dev, .v = &one, .n = 1 };

	return pv_xs_transaction(dev->be->xs, keys_txn, &k);
}

struct pv_xb_keys *pv_xb_keys_begin(struct pv_xb_dev *dev)
{
	struct pv_xb_keys *k = calloc(1, sizeof(*k));

	if (k)
		k->dev = dev;
	return k;
}

void pv_xb_keys_printf(struct pv_xb_keys *k, const char *key, const char *fmt, ...)
{
	struct xb_key *e;
	char *val = NULL;
	va_list ap;
	int len;

	if (!k || k->err)
		return;
	if (k->n == k->cap) {
		unsigned cap = k->cap ? k->cap * 2 : 16;

		e = realloc(k->v, cap * sizeof(*e));
		if (!e) {
			k->err = -ENOMEM;
			return;
		}
		k->v = e;
		k->cap = cap;
	}
	va_start(ap, fmt);
	len = vasprintf(&val, fmt, ap);
	va_end(ap);
	if (len < 0) {
		k->err = -ENOMEM;
		return;
	}
	e = &k->v[k->n];
	if (asprintf(&e->buf, "%s%c%s", key, '\0', val) < 0) {
		free(val);
		k->err = -ENOMEM;
		return;
	}
	free(val);
	e->key = e->buf;
	e->val = e->buf + strlen(key) + 1;
	k->n++;
}

int pv_xb_keys_end(struct pv_xb_keys *k)
{
	int ret;

	if (!k)
		return -ENOMEM;
	ret = k->err;
	if (!ret)
		ret = pv_xs_transaction(k->dev->be->xs, keys_txn, k);
	for (unsigned i = 0; i < k->n; i++)
		free(k->v[i].buf);
	free(k->v);
	free(k);
	return ret;
}

int pv_xb_dev_switch_state(struct pv_xb_dev *dev, int state)
{
	char val[4];
	int ret;

	snprintf(val, sizeof(val), "%d", state);
	ret = be_write_guarded(dev, "state", val);
	if (ret < 0) {
		pv_err(dev->name, "cannot switch state %s -> %s: %s", pv_xb_state_name(dev->state),
		       pv_xb_state_name(state), strerror(-ret));
		return ret;
	}
	pv_debug(dev->name, "state %s -> %s", pv_xb_state_name(dev->state), pv_xb_state_name(state));
	dev->state = state;
	return 0;
}

/* Internal transitions skip redundant writes (each write fires watches). */
static void set_state(struct pv_xb_dev *dev, int state)
{
	if (dev->state != state)
		pv_xb_dev_switch_state(dev, state);
}

static void write_error(struct pv_xb_dev *dev, int err, const char *msg)
{
	int ret;

	/* As Linux xenbus_dev_error: "error/<nodename>/error" = "<errno> <text>". */
	ret = pv_xs_printf_at(dev->be->xs, XBT_NULL, dev->errpath, "error", "%d %s",
			      err < 0 ? -err : err, msg);
	if (ret < 0)
		pv_err(dev->name, "cannot write %s/error: %s", dev->errpath, strerror(-ret));
}

/* -------------------------------------------------------- state machine */

static void dev_disconnect(struct pv_xb_dev *dev)
{
	if (!dev->connected)
		return;
	pv_debug(dev->name, "disconnect");
	dev->be->ops->disconnect(dev);
	dev->connected = false;
	if (!dev->holds) /* else when the drain is over (pv_xb_dev_release) */
		pv_xb_dev_log(dev, PV_LOG_INFO, "disconnected");
}

/*
 * A restarted daemon finds a connection its predecessor left live (our state
 * Connected or Reconfigured, the frontend Initialised, Connected or
 * Reconfiguring, rings still granted):
 * connect to it again without a state change, so an idle frontend never
 * notices.  ops->connect sees pv_xb_dev_resuming() and re-attaches its rings
 * at rsp_prod.  On failure the device goes Closed like a failed connect.
 */
static void dev_resume(struct pv_xb_dev *dev)
{
	int ret;

	pv_info(dev->name, "re-attaching to the live connection (frontend %s)",
		pv_xb_state_name(dev->fe_state));
	__atomic_add_fetch(&dev->conn_gen, 1, __ATOMIC_RELEASE);
	ret = dev->be->ops->connect(dev);
	dev->resuming = false;
	if (ret < 0) {
		pv_err(dev->name, "re-attach failed: %s", strerror(-ret));
		write_error(dev, ret, "re-attach failed");
		set_state(dev, XenbusStateClosed);
		return;
	}
	dev->connected = true;
}

/*
 * PV_XB_HOTPLUG_SCRIPT: the toolstack's hotplug script (xl's vif-bridge)
 * writes hotplug-status once the host side is plumbed, and we go Connected
 * only then, as Linux netback's hotplug_status_watch does (our watch on
 * the backend directory sees the key).  "error" (the script's fatal(),
 * with its reason in hotplug-error) fails the device: 1 when the device
 * may be Connected, 0 while the script runs, -EIO once it failed.
 */
static int hotplug_ready(struct pv_xb_dev *dev)
{
	char *st, *why;
	int ret = 0;

	if (dev->be->ops->hotplug == PV_XB_HOTPLUG_SELF)
		return 1;
	st = pv_xb_dev_read_be(dev, "hotplug-status");
	if (st && !strcmp(st, "connected"))
		ret = 1;
	if (st && !strcmp(st, "error")) {
		why = pv_xb_dev_read_be(dev, "hotplug-error");
		pv_err(dev->name, "hotplug script failed: %s", why ? why : "no reason given");
		free(why);
		dev_disconnect(dev);
		write_error(dev, -EIO, "hotplug script failed");
		set_state(dev, XenbusStateClosed);
		ret = -EIO;
	}
	free(st);
	return ret;
}

/* hotplug-status changed: finish a connect that waited for the script
 * (connected, yet still InitWait or Initialised), or fail on "error". */
static void hotplug_changed(struct pv_xb_dev *dev)
{
	if (dev->be->ops->hotplug != PV_XB_HOTPLUG_SCRIPT || dev->state == XenbusStateClosed)
		return;
	if (hotplug_ready(dev) > 0 && dev->connected &&
	    (dev->state == XenbusStateInitWait || dev->state == XenbusStateInitialised)) {
		pv_debug(dev->name, "hotplug script done");
		set_state(dev, XenbusStateConnected);
	}
}

static void dev_probe(struct pv_xb_dev *dev)
{
	int ret;

	pv_debug(dev->name, "probe (frontend %s)", dev->fepath);
	ret = dev->be->ops->probe(dev);
	if (ret < 0) {
		pv_err(dev->name, "probe failed: %s", strerror(-ret));
		write_error(dev, ret, "probe failed");
		set_state(dev, XenbusStateClosed);
		return;
	}
	dev->probed = true;
	if (dev->be->ops->hotplug == PV_XB_HOTPLUG_SELF) {
		/* No hotplug script or kernel driver writes this for us. */
		ret = be_write_guarded(dev, "hotplug-status", "connected");
		if (ret < 0)
			pv_err(dev->name, "cannot write hotplug-status: %s", strerror(-ret));
	}
	if (dev->resuming) {
		dev_resume(dev);
		return;
	}
	set_state(dev, XenbusStateInitWait);
}

static void dev_connect(struct pv_xb_dev *dev)
{
	int ret;

	/* Initialised and Connected may both be seen: connect once. */
	if (dev->connected || !dev->probed)
		return;
	if (dev->holds) {
		dev->settle = true; /* the last connection still drains */
		return;
	}
	if (dev->state != XenbusStateInitWait && dev->state != XenbusStateInitialised) {
		pv_debug(dev->name, "frontend %s while we are %s: not connecting",
			 pv_xb_state_name(dev->fe_state), pv_xb_state_name(dev->state));
		return;
	}
	pv_debug(dev->name, "connect (frontend %s)", pv_xb_state_name(dev->fe_state));
	/* Before ops->connect starts any data-path thread: they see the new value. */
	__atomic_add_fetch(&dev->conn_gen, 1, __ATOMIC_RELEASE);
	ret = dev->be->ops->connect(dev);
	if (ret < 0) {
		pv_xb_dev_log(dev, PV_LOG_ERR, "connect failed: %s", strerror(-ret));
		write_error(dev, ret, "connect failed");
		set_state(dev, XenbusStateClosed);
		return;
	}
	dev->connected = true;
	ret = hotplug_ready(dev);
	if (ret == 0)
		pv_debug(dev->name, "connected; Connected once the hotplug script is done");
	if (ret <= 0)
		return;
	set_state(dev, XenbusStateConnected);
}

/*
 * Frontend Reconfiguring (netfront's XDP headroom change) on a live
 * connection: the backend re-reads what may change, then we say
 * Reconfigured; the frontend's return to Connected brings us back to
 * Connected (frontend_changed).  Also while Reconfigured: watches coalesce,
 * so a second Reconfiguring may arrive without the Connected between.
 */
static void dev_reconfigure(struct pv_xb_dev *dev)
{
	int ret;

	if (!dev->connected ||
	    (dev->state != XenbusStateConnected && dev->state != XenbusStateReconfigured)) {
		pv_debug(dev->name, "frontend Reconfiguring while we are %s: ignored",
			 pv_xb_state_name(dev->state));
		return;
	}
	ret = dev->be->ops->reconfigure(dev);
	if (ret == -EOPNOTSUPP) {
		pv_debug(dev->name, "frontend Reconfiguring: nothing to reconfigure, ignored");
		return;
	}
	if (ret < 0) {
		dev_disconnect(dev);
		pv_xb_dev_fatal(dev, ret, "reconfigure failed");
		return;
	}
	set_state(dev, XenbusStateReconfigured);
}

static bool dev_online(struct pv_xb_dev *dev)
{
	uint64_t v;

	/* As Linux xenbus_dev_is_online(): a missing key means offline. */
	if (pv_xb_dev_read_be_uint(dev, "online", 0, 1, &v) < 0)
		return false;
	return v == 1;
}

static void dev_free(struct pv_xb_dev *dev);

/* Disconnect and call ops->remove; the dev stays until its dir vanishes. */
static void dev_remove(struct pv_xb_dev *dev)
{
	if (dev->gone)
		return;
	dev_disconnect(dev);
	if (dev->holds) {
		dev->remove_pending = true;
		return;
	}
	if (dev->fe_watch) {
		pv_xs_unwatch(dev->be->xs, dev->fe_watch);
		dev->fe_watch = NULL;
	}
	if (dev->probed) {
		pv_debug(dev->name, "remove");
		dev->be->ops->remove(dev);
		dev->probed = false;
	}
	dev->gone = true;
}

/* Unlink and free; the device must not be used afterwards. */
static void dev_destroy(struct pv_xb_dev *dev)
{
	struct pv_xb_dev **pp;

	dev_remove(dev);
	if (dev->holds) {
		dev->destroy_pending = true;
		return;
	}
	for (pp = &dev->be->devs; *pp; pp = &(*pp)->next) {
		if (*pp == dev) {
			*pp = dev->next;
			break;
		}
	}
	pv_debug(dev->name, "device freed");
	dev_free(dev);
}

static void dev_closed(struct pv_xb_dev *dev)
{
	dev_disconnect(dev);
	if (dev->holds) {
		dev->settle = true; /* Closed once the grants are let go */
		return;
	}
	set_state(dev, XenbusStateClosed);
	if (!dev_online(dev)) {
		pv_debug(dev->name, "offline and closed: removing");
		dev_remove(dev);
	}
}

static void frontend_changed(struct pv_xb_dev *dev, int fe_state)
{
	pv_debug(dev->name, "frontend %s (we are %s)", pv_xb_state_name(fe_state), pv_xb_state_name(dev->state));
	dev->fe_state = fe_state;

	switch (fe_state) {
	case XenbusStateUnknown:
	case XenbusStateInitialising:
		if (dev->state == XenbusStateClosed && dev_online(dev)) {
			pv_debug(dev->name, "prepare for reconnect");
			if (!dev->probed)
				dev_probe(dev);
			else
				set_state(dev, XenbusStateInitWait);
		}
		break;
	case XenbusStateInitialised:
		if (dev->be->ops->connect_on_initialised)
			dev_connect(dev);
		break;
	case XenbusStateConnected:
		/* The end of a reconfiguration. */
		if (dev->connected && dev->state == XenbusStateReconfigured) {
			set_state(dev, XenbusStateConnected);
			break;
		}
		/* Also covers a missed Initialised: watches coalesce. */
		dev_connect(dev);
		break;
	case XenbusStateReconfiguring:
		dev_reconfigure(dev);
		break;
	case XenbusStateClosing:
		dev_disconnect(dev);
		set_state(dev, XenbusStateClosing);
		break;
	case XenbusStateClosed:
		dev_closed(dev);
		break;
	case XenbusStateInitWait:
	case XenbusStateReconfigured:
	default:
		break;
	}
}

static void fe_state_cb(struct pv_xs *xs, const char *path, void *opaque)
{
	struct pv_xb_dev *dev = opaque;
	uint64_t v;
	int ret;

	if (dev->gone || dev->be->stopping)
		return;
	ret = pv_xb_dev_read_fe_uint(dev, "state", 0, XenbusStateReconfigured, &v);
	if (ret == -ENOENT) {
		/* The frontend directory went away: treat as Closed. */
		if (dev->fe_state != XenbusStateClosed || dev->state != XenbusStateClosed)
			frontend_changed(dev, XenbusStateClosed);
		return;
	}
	if (ret < 0) {
		pv_xb_dev_log(dev, PV_LOG_ERR, "bad frontend state in %s/state: %s", dev->fepath,
			      strerror(-ret));
		return;
	}
	frontend_changed(dev, (int)v);
}

static void be_dir_cb(struct pv_xs *xs, const char *path, void *opaque)
{
	struct pv_xb_dev *dev = opaque;
	size_t len = strlen(dev->bepath);
	const char *key;
	uint64_t st;
	char *s;

	if (dev->be->stopping)
		return; /* pv_xb_backend_stop removes every device */
	s = pv_xs_read(xs, XBT_NULL, dev->bepath);
	if (!s) {
		if (errno == ENOENT) {
			pv_debug(dev->name, "backend directory removed");
			dev_destroy(dev);
		}
		return;
	}
	free(s);
	if (strncmp(path, dev->bepath, len) || path[len] != '/')
		return; /* the directory itself (registration) */
	key = path + len + 1;
	if (!strcmp(key, "state")) {
		/* libxl's removal writes Closing into our state after online=0;
		 * if we had closed (and removed) already, it would wait for
		 * Closed in vain: say it again. */
		if (dev->state == XenbusStateClosed && !dev_online(dev) &&
		    pv_xb_dev_read_be_uint(dev, "state", 0, XenbusStateReconfigured, &st) == 0 &&
		    st != XenbusStateClosed)
			pv_xb_dev_switch_state(dev, XenbusStateClosed);
		return;
	}
	if (dev->gone)
		return;
	if (!strcmp(key, "online")) {
		/* Unplug of a device whose frontend is not connected (closed, or
		 * never started): nobody will close it, so close now. */
		if (!dev_online(dev) && (dev->state == XenbusStateClosed ||
					 dev->fe_state == XenbusStateClosed ||
					 dev->fe_state == XenbusStateUnknown ||
					 dev->fe_state == XenbusStateInitialising)) {
			dev_closed(dev);
		}
		return;
	}
	if (!strcmp(key, "hotplug-status")) {
		hotplug_changed(dev);
		return;
	}
	if (dev->probed)
		dev->be->ops->changed(dev, key);
}

/* The last hold is gone: finish what waited for the disconnect. */
void pv_xb_dev_release(struct pv_xb_dev *dev)
{
	if (!dev->holds || --dev->holds || dev->be->stopping)
		return; /* pv_xb_backend_stop removes every device */
	pv_xb_dev_log(dev, PV_LOG_INFO, "disconnected");
	if (dev->destroy_pending) {
		dev_destroy(dev);
		return;
	}
	if (dev->remove_pending) {
		dev->remove_pending = false;
		dev_remove(dev);
		return;
	}
	if (dev->settle) {
		dev->settle = false;
		fe_state_cb(dev->be->xs, dev->fepath, dev);
	}
}

/* ------------------------------------------------------- enumeration */

static struct pv_xb_dev *find_dev(struct pv_xb_backend *be, uint16_t domid, uint32_t devid)
{
	struct pv_xb_dev *dev;

	for (dev = be->devs; dev; dev = dev->next)
		if (dev->domid == domid && dev->devid == devid)
			return dev;
	return NULL;
}

static void dev_free(struct pv_xb_dev *dev)
{
	if (dev->be_watch)
		pv_xs_unwatch(dev->be->xs, dev->be_watch);
	if (dev->fe_watch)
		pv_xs_unwatch(dev->be->xs, dev->fe_watch);
	free(dev->bepath);
	free(dev->fepath);
	free(dev->errpath);
	pv_ratelimit_flush(&dev->rl, dev->name);
	free(dev);
}

/* Checks the frontend link as Linux xenbus' read_otherend_details() does. */
static int check_frontend(struct pv_xb_backend *be, const char *name, uint16_t domid,
			  const char *bepath, char **fepath_out)
{
	char prefix[64], *fepath = NULL;
	uint64_t fid;
	int ret;

	ret = pv_xs_read_uint_at(be->xs, XBT_NULL, bepath, "frontend-id", 0, DOMID_FIRST_RESERVED - 1,
				 &fid);
	if (ret == -ENOENT)
		return -EAGAIN; /* not written yet: wait for the next event */
	if (ret < 0) {
		pv_err(name, "invalid %s/frontend-id", bepath);
		return ret;
	}
	fepath = pv_xs_read_at(be->xs, XBT_NULL, bepath, "frontend");
	if (!fepath)
		return errno == ENOENT ? -EAGAIN : -errno;
	snprintf(prefix, sizeof(prefix), "/local/domain/%u/device/", (unsigned)fid);
	if (fid != domid || strncmp(fepath, prefix, strlen(prefix)) || !fepath[strlen(prefix)] ||
	    strstr(fepath, "/../") || strstr(fepath, "//")) {
		pv_err(name, "frontend %s (frontend-id %u) does not belong to domain %u",
		       fepath, (unsigned)fid, domid);
		free(fepath);
		return -EINVAL;
	}
	*fepath_out = fepath;
	return 0;
}

/* Did a previous instance of this daemon leave this device connected? */
static bool live_connection(struct pv_xb_dev *dev)
{
	uint64_t bst, fst;

	if (pv_xb_dev_read_be_uint(dev, "state", 0, XenbusStateReconfigured, &bst) < 0 ||
	    (bst != XenbusStateConnected && bst != XenbusStateReconfigured) || !dev_online(dev))
		return false;
	if (pv_xb_dev_read_fe_uint(dev, "state", 0, XenbusStateReconfigured, &fst) < 0 ||
	    (fst != XenbusStateInitialised && fst != XenbusStateConnected &&
	     fst != XenbusStateReconfiguring))
		return false;
	/* As our predecessor left it; the first frontend watch event then
	 * finishes a reconfiguration it was in. */
	dev->state = (int)bst;
	dev->fe_state = (int)fst;
	return true;
}

static void dev_add(struct pv_xb_backend *be, uint16_t domid, uint32_t devid)
{
	struct pv_xb_dev *dev;
	char path[512];
	int ret;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return;
	dev->be = be;
	dev->domid = domid;
	dev->devid = devid;
	dev->state = XenbusStateInitialising;
	dev->fe_state = XenbusStateUnknown;
	snprintf(dev->name, sizeof(dev->name), "%s-%u-%u", be->ops->type, domid, devid);
	if (asprintf(&dev->bepath, "%s/%u/%u", be->root, domid, devid) < 0) {
		dev->bepath = NULL;
		goto err;
	}
	if (asprintf(&dev->errpath, "%s/error/backend/%s/%u/%u", be->dompath, be->ops->type, domid,
		     devid) < 0) {
		dev->errpath = NULL;
		goto err;
	}

	ret = check_frontend(be, dev->name, domid, dev->bepath, &dev->fepath);
	if (ret == -EAGAIN || (ret < 0 && ret != -EINVAL))
		goto err; /* incomplete: retried on the next event under root */
	if (ret == 0 && !pv_xs_domain_exists(be->xs, domid)) {
		pv_debug(dev->name, "frontend domain %u does not exist: ignored", domid);
		goto err;
	}
	dev->serial = be->next_serial++;
	dev->next = be->devs;
	be->devs = dev;
	pv_debug(dev->name, "new device %s", dev->bepath);

	ret = pv_xs_watch(be->xs, dev->bepath, be_dir_cb, dev, &dev->be_watch);
	if (ret < 0) {
		pv_err(dev->name, "cannot watch %s: %s", dev->bepath, strerror(-ret));
		dev->gone = true;
		return;
	}
	if (!dev->fepath) {
		/* Invalid frontend link: keep a closed stub until the dir goes. */
		write_error(dev, -EINVAL, "invalid frontend");
		set_state(dev, XenbusStateClosed);
		dev->gone = true;
		return;
	}
	dev->resuming = live_connection(dev);
	dev_probe(dev);
	snprintf(path, sizeof(path), "%s/state", dev->fepath);
	ret = pv_xs_watch(be->xs, path, fe_state_cb, dev, &dev->fe_watch);
	if (ret < 0) {
		pv_err(dev->name, "cannot watch %s: %s", path, strerror(-ret));
		write_error(dev, ret, "cannot watch frontend");
		dev_remove(dev);
		set_state(dev, XenbusStateClosed);
	}
	return;

err:
	free(dev->bepath);
	free(dev->errpath);
	free(dev);
}

/* Look at one <domid>/<devid> directory. */
static void scan_dev(struct pv_xb_backend *be, const char *sdomid, const char *sdevid)
{
	uint64_t domid, devid;

	if (pv_parse_uint(sdomid, 0, DOMID_FIRST_RESERVED - 1, &domid) < 0 ||
	    pv_parse_uint(sdevid, 0, UINT32_MAX, &devid) < 0)
		return;
	if (find_dev(be, (uint16_t)domid, (uint32_t)devid))
		return; /* known: its own watches handle it */
	dev_add(be, (uint16_t)domid, (uint32_t)devid);
}

static void scan_domain(struct pv_xb_backend *be, const char *sdomid)
{
	char path[512], **devids;

	snprintf(path, sizeof(path), "%s/%s", be->root, sdomid);
	devids = pv_xs_directory(be->xs, XBT_NULL, path, NULL);
	if (!devids)
		return;
	for (char **d = devids; *d; d++)
		scan_dev(be, sdomid, *d);
	pv_xs_free_list(devids);
}

static void scan_all(struct pv_xb_backend *be)
{
	char **domids;

	domids = pv_xs_directory(be->xs, XBT_NULL, be->root, NULL);
	if (!domids)
		return; /* ENOENT: no device of our type yet */
	for (char **d = domids; *d; d++)
		scan_domain(be, *d);
	pv_xs_free_list(domids);
}

static void root_cb(struct pv_xs *xs, const char *path, void *opaque)
{
	struct pv_xb_backend *be = opaque;
	size_t len = strlen(be->root);
	char sdomid[16], sdevid[16];
	const char *p, *slash;

	if (be->stopping)
		return;
	if (strncmp(path, be->root, len) || (path[len] && path[len] != '/') || !path[len] ||
	    !path[len + 1]) {
		scan_all(be);
		return;
	}
	/* <root>/<domid>[/<devid>[/key...]]: look at just that part. */
	p = path + len + 1;
	slash = strchr(p, '/');
	if (!slash) {
		scan_domain(be, p);
		return;
	}
	if ((size_t)(slash - p) >= sizeof(sdomid))
		return;
	memcpy(sdomid, p, (size_t)(slash - p));
	sdomid[slash - p] = '\0';
	p = slash + 1;
	slash = strchr(p, '/');
	len = slash ? (size_t)(slash - p) : strlen(p);
	if (len >= sizeof(sdevid))
		return;
	memcpy(sdevid, p, len);
	sdevid[len] = '\0';
	scan_dev(be, sdomid, sdevid);
}

static void release_cb(struct pv_xs *xs, const char *path, void *opaque)
{
	struct pv_xb_backend *be = opaque;
	struct pv_xb_dev *dev, *next;

	for (dev = be->devs; dev; dev = next) {
		next = dev->next;
		if (pv_xs_domain_exists(xs, dev->domid))
			continue;
		pv_debug(dev->name, "frontend domain %u is gone", dev->domid);
		/* Stale nodes may linger until the toolstack removes them. */
		dev_remove(dev);
		next = dev->next;
		dev_destroy(dev);
	}
}

/* Our domain id: the "domid" key of our home (relative paths resolve there). */
static uint16_t self_domid(struct pv_xs *xs)
{
	uint16_t domid;
	uint64_t v;

	if (pv_xs_read_uint(xs, XBT_NULL, "domid", 0, DOMID_FIRST_RESERVED - 1, &v) == 0)
		return (uint16_t)v;
	if (pv_sim_domid(&domid) == 0)
		return domid;
	return 0;
}

int pv_xb_backend_start(struct pv_loop *loop, struct pv_xs *xs,
			const struct pv_xb_backend_ops *ops, void *ctx,
			struct pv_xb_backend **out)
{
	struct pv_xb_backend *be;
	int ret;

	/* Complete once here, so no call site tests for NULL. */
	if (!ops || !ops->type || !ops->probe || !ops->connect || !ops->disconnect ||
	    !ops->remove || !ops->changed || !ops->reconfigure ||
	    (ops->hotplug != PV_XB_HOTPLUG_SELF && ops->hotplug != PV_XB_HOTPLUG_SCRIPT))
		return -EINVAL;
	be = calloc(1, sizeof(*be));
	if (!be)
		return -ENOMEM;
	be->loop = loop;
	be->xs = xs;
	be->ops = ops;
	be->ctx = ctx;
	be->next_serial = 1;
	be->dompath = xs_get_domain_path(pv_xs_handle(xs), self_domid(xs));
	if (!be->dompath) {
		ret = errno ? -errno : -EIO;
		goto err_free;
	}
	if (asprintf(&be->root, "%s/backend/%s", be->dompath, ops->type) < 0) {
		be->root = NULL;
		ret = -ENOMEM;
		goto err_free;
	}
	ret = pv_xs_watch(xs, "@releaseDomain", release_cb, be, &be->release_watch);
	if (ret < 0)
		goto err_free;
	/* Fires once now: that first event enumerates what already exists. */
	ret = pv_xs_watch(xs, be->root, root_cb, be, &be->root_watch);
	if (ret < 0)
		goto err_release;
	pv_debug(ops->type, "watching %s", be->root);
	*out = be;
	return 0;

err_release:
	pv_xs_unwatch(xs, be->release_watch);
err_free:
	free(be->root);
	free(be->dompath);
	free(be);
	return ret;
}

static bool any_held(const struct pv_xb_backend *be)
{
	const struct pv_xb_dev *dev;

	for (dev = be->devs; dev; dev = dev->next)
		if (dev->holds)
			return true;
	return false;
}

void pv_xb_backend_stop(struct pv_xb_backend *be)
{
	if (!be)
		return;
	be->stopping = true;
	pv_xs_unwatch(be->xs, be->root_watch);
	pv_xs_unwatch(be->xs, be->release_watch);
	/* Disconnects still draining finish first (they hold their device). */
	while (any_held(be))
		pv_loop_run_once(be->loop, 100);
	while (be->devs)
		dev_destroy(be->devs);
	/* Data-path threads are stopped by now (ops->disconnect); let their
	 * queued disconnect requests run and find nothing. */
	while (__atomic_load_n(&be->pending_calls, __ATOMIC_ACQUIRE))
		pv_loop_run_once(be->loop, 100);
	free(be->root);
	free(be->dompath);
	free(be);
}

/* ------------------------------------------------------- fatal errors */

void pv_xb_dev_fatal(struct pv_xb_dev *dev, int err, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pv_xb_dev_log(dev, PV_LOG_ERR, "fatal: %s (%s)", msg, strerror(err < 0 ? -err : err));
	write_error(dev, err, msg);
	set_state(dev, XenbusStateClosing);
}

struct dev_call {
	struct pv_xb_backend *be;
	uint64_t serial;
	pv_xb_dev_fn *fn;
	void *opaque;
};

static void dev_call_fn(void *opaque)
{
	struct dev_call *c = opaque;
	struct pv_xb_backend *be = c->be;
	struct pv_xb_dev *dev;

	for (dev = be->devs; dev; dev = dev->next)
		if (dev->serial == c->serial && !dev->gone)
			break;
	c->fn(dev, c->opaque);
	free(c);
	__atomic_fetch_sub(&be->pending_calls, 1, __ATOMIC_RELEASE);
}

int pv_xb_dev_call(struct pv_xb_dev *dev, pv_xb_dev_fn *fn, void *opaque)
{
	struct dev_call *c = malloc(sizeof(*c));

	/* dev->be and dev->serial are immutable: safe to read here. */
	if (!c)
		return -ENOMEM;
	*c = (struct dev_call){ dev->be, dev->serial, fn, opaque };
	__atomic_fetch_add(&dev->be->pending_calls, 1, __ATOMIC_RELAXED);
	if (pv_loop_call(dev->be->loop, dev_call_fn, c) < 0) {
		__atomic_fetch_sub(&dev->be->pending_calls, 1, __ATOMIC_RELAXED);
		free(c);
		return -ENOMEM;
	}
	return 0;
}

struct disconnect_req {
	uint64_t conn_gen;           /* the connection the violation was seen on */
	char reason[128];
};

static void disconnect_req_fn(struct pv_xb_dev *dev, void *opaque)
{
	struct disconnect_req *req = opaque;

	/* That connection is over (frontend closed first, maybe already
	 * reconnected): the request has nothing left to tear down. */
	if (dev && (!dev->connected || dev->conn_gen != req->conn_gen))
		pv_debug(dev->name, "stale disconnect request dropped (%s)", req->reason);
	else if (dev) {
		dev_disconnect(dev);
		pv_xb_dev_fatal(dev, -EPROTO, "%s", req->reason);
	}
	free(req);
}

void pv_xb_dev_request_disconnect(struct pv_xb_dev *dev, const char *reason)
{
	struct disconnect_req *req = calloc(1, sizeof(*req));

	/* dev->name is immutable: safe to read here. */
	if (req) {
		req->conn_gen = __atomic_load_n(&dev->conn_gen, __ATOMIC_ACQUIRE);
		snprintf(req->reason, sizeof(req->reason), "%s", reason ? reason : "protocol error");
	}
	if (!req || pv_xb_dev_call(dev, disconnect_req_fn, req) < 0) {
		pv_err(dev->name, "cannot queue disconnect (%s): out of memory",
		       reason ? reason : "protocol error");
		free(req);
	}
}

void pv_xb_backend_foreach(struct pv_xb_backend *be, pv_xb_dev_fn *fn, void *opaque)
{
	struct pv_xb_dev *dev;

	for (dev = be->devs; dev; dev = dev->next)
		if (!dev->gone && dev->probed)
			fn(dev, opaque);
}
