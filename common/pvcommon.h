/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libpvcommon: what every pvback backend and frontend stands on.
 *
 *  - pv_log_*   logging with per-device prefixes (stderr or syslog)
 *  - pv_loop_*  a per-thread epoll event loop with timers and cross-thread calls
 *  - pv_hv_*    the hypervisor-ops layer: grants, event channels (xen | sim)
 *  - pv_xs_*    xenstore (libxenstore) bound to a loop: watches, transactions
 *  - pv_xb_*    the xenbus backend device framework (state machine, keys)
 *  - pv_stats_* statistics counters and latency histograms
 *  - pv_sim_*   the pvsim environment and the daemons' run-file layout
 *  - util       strict number parsing, unix sockets, mkdir -p, vdev names
 *
 * Conventions: functions return 0 (or a count / port) on success and -errno on
 * failure; constructors fill an out-pointer.  Lower layers never log; the
 * caller that knows the device does.  A pv_loop, pv_hv and pv_xs handle is
 * used by one thread at a time; pv_loop_call() is the only cross-thread entry.
 */
#ifndef PVCOMMON_H
#define PVCOMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ------------------------------------------------------------------ log */

enum pv_log_level { PV_LOG_ERR, PV_LOG_WARN, PV_LOG_INFO, PV_LOG_DEBUG };

/* Configure once at start-up.  ident names the program in every line. */
void pv_log_init(const char *ident, bool use_syslog, enum pv_log_level level);
void pv_log_set_level(enum pv_log_level level);
enum pv_log_level pv_log_get_level(void);
int pv_log_level_parse(const char *s, enum pv_log_level *out);
/* prefix names the object (e.g. "vbd-5-51712"); may be NULL. Thread-safe. */
void pv_log(enum pv_log_level lvl, const char *prefix, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void pv_vlog(enum pv_log_level lvl, const char *prefix, const char *fmt, va_list ap);

#define pv_err(prefix, ...)   pv_log(PV_LOG_ERR, prefix, __VA_ARGS__)
#define pv_warn(prefix, ...)  pv_log(PV_LOG_WARN, prefix, __VA_ARGS__)
#define pv_info(prefix, ...)  pv_log(PV_LOG_INFO, prefix, __VA_ARGS__)
#define pv_debug(prefix, ...) pv_log(PV_LOG_DEBUG, prefix, __VA_ARGS__)

/* ----------------------------------------------------------------- loop */

struct pv_loop;

#define PV_LOOP_IN  0x1u /* EPOLLIN */
#define PV_LOOP_OUT 0x4u /* EPOLLOUT */

typedef void pv_loop_fd_fn(struct pv_loop *loop, int fd, uint32_t events, void *opaque);
typedef void pv_loop_timer_fn(struct pv_loop *loop, void *opaque);
typedef void pv_loop_call_fn(void *opaque);

int pv_loop_create(struct pv_loop **out);
/* Runs no callbacks; fds registered are not closed. */
void pv_loop_destroy(struct pv_loop *loop);
/* events: PV_LOOP_IN | PV_LOOP_OUT (level-triggered). One callback per fd. */
int pv_loop_add_fd(struct pv_loop *loop, int fd, uint32_t events, pv_loop_fd_fn *fn, void *opaque);
int pv_loop_mod_fd(struct pv_loop *loop, int fd, uint32_t events);
/* Safe to call from inside any callback of the same loop, also for fd itself. */
int pv_loop_del_fd(struct pv_loop *loop, int fd);
/* One-shot timer after delay_ms; returns an id > 0 or -errno. */
int64_t pv_loop_add_timer(struct pv_loop *loop, uint64_t delay_ms, pv_loop_timer_fn *fn, void *opaque);
/* Returns 0, or -ENOENT when it already fired or never existed. */
int pv_loop_del_timer(struct pv_loop *loop, int64_t id);
/* Thread-safe: queue fn(opaque) to run in the loop's thread; wakes the loop. */
int pv_loop_call(struct pv_loop *loop, pv_loop_call_fn *fn, void *opaque);
/* Poll hook: called with no timeout while it returns true (adaptive polling). */
typedef bool pv_loop_poll_fn(void *opaque);
void pv_loop_set_poll(struct pv_loop *loop, pv_loop_poll_fn *fn, void *opaque, uint32_t poll_us);
/* Dispatch one round: waits up to timeout_ms (-1 forever). Returns #events or -errno. */
int pv_loop_run_once(struct pv_loop *loop, int timeout_ms);
/* Run until pv_loop_stop(). Returns 0 or -errno. */
int pv_loop_run(struct pv_loop *loop);
/* Thread-safe. */
void pv_loop_stop(struct pv_loop *loop);
uint64_t pv_now_ns(void); /* CLOCK_MONOTONIC */

/* ------------------------------------------------------------------- hv */

/*
 * The hypervisor-ops layer.  Two implementations behind one ops table:
 * "xen" (libxengnttab, libxengntshr, libxenevtchn) and "sim" (pvsim).
 * Selection: pv_hv_open(PV_HV_AUTO) reads $PVBACK_HV (xen|sim|auto); auto is
 * sim when $PVSIM_DIR is set, else xen when /dev/xen/gntdev exists, else sim.
 * In sim mode the process acts as domain pv_sim_domid() of the pvsim
 * instance in pv_sim_dir() (see "pvsim environment" below).
 *
 * A handle holds a grant-map, a grant-share and an event-channel instance;
 * open one per thread.  After fork() the child must open its own.
 */
enum pv_hv_kind { PV_HV_AUTO, PV_HV_XEN, PV_HV_SIM };

struct pv_hv;

/* One grant-copy segment: one side is a grant of domid, the other local memory. */
struct pv_hv_copy_seg {
	uint32_t ref;       /* grant reference of the foreign side */
	uint16_t domid;     /* domain that granted ref */
	uint16_t offset;    /* offset in the granted page; offset + len <= 4096 */
	void *local;        /* local buffer */
	uint16_t len;
	bool to_guest;      /* true: local -> grant (needs a writable grant) */
	int16_t status;     /* out: 0 or -errno for this segment */
};

int pv_hv_kind_parse(const char *s, enum pv_hv_kind *out);
/* What PV_HV_AUTO (or kind, if not AUTO) opens in this environment: never AUTO. */
enum pv_hv_kind pv_hv_kind_resolve(enum pv_hv_kind kind);
int pv_hv_open(enum pv_hv_kind kind, struct pv_hv **out);
void pv_hv_close(struct pv_hv *hv);
enum pv_hv_kind pv_hv_kind(const struct pv_hv *hv); /* never AUTO */
const char *pv_hv_name(const struct pv_hv *hv);     /* "xen" or "sim" */
/* The domain this process acts as (0 for dom0 backends). */
uint16_t pv_hv_domid(const struct pv_hv *hv);

/*
 * Backend side. Map count grant refs of domid at one contiguous address.
 * All-or-nothing: on failure nothing stays mapped. Returns 0 or -errno
 * (-EINVAL bad ref/frame, -EACCES wrong domid / readonly grant, -ENOENT not granted).
 */
int pv_hv_map(struct pv_hv *hv, uint16_t domid, unsigned count, const uint32_t *refs,
	      bool writable, void **addr);
int pv_hv_unmap(struct pv_hv *hv, void *addr, unsigned count);
/* Batched grant copy. Returns 0 when every segment succeeded, else the first
 * failing segment's -errno; per-segment results in seg->status. */
int pv_hv_copy(struct pv_hv *hv, unsigned count, struct pv_hv_copy_seg *segs);

/*
 * Frontend side. Allocate count pages, grant them to domid and map them here
 * contiguously; refs[] receives the grant references.  Unshare ends access:
 * -EBUSY (sim) while the peer still has a page mapped.
 */
int pv_hv_share(struct pv_hv *hv, uint16_t domid, unsigned count, bool writable,
		uint32_t *refs, void **addr);
int pv_hv_unshare(struct pv_hv *hv, void *addr, unsigned count);

/*
 * Event channels.  The handle has one pollable fd (put it in a pv_loop);
 * pv_hv_evtchn_pending() returns a fired port (>= 0) or -EAGAIN; a fired port
 * stays masked until pv_hv_evtchn_unmask(), as with Linux's /dev/xen/evtchn.
 * A fired port comes out once until unmasked, so a handle with a single
 * port needs one pending() per wake-up, not a loop until -EAGAIN.
 */
int pv_hv_evtchn_fd(struct pv_hv *hv);
int pv_hv_evtchn_bind(struct pv_hv *hv, uint16_t domid, uint32_t remote_port); /* -> local port */
int pv_hv_evtchn_alloc(struct pv_hv *hv, uint16_t remote_domid);             /* -> unbound port */
int pv_hv_evtchn_notify(struct pv_hv *hv, uint32_t port);
int pv_hv_evtchn_pending(struct pv_hv *hv);
int pv_hv_evtchn_unmask(struct pv_hv *hv, uint32_t port);
int pv_hv_evtchn_close(struct pv_hv *hv, uint32_t port);

/*
 * sim only: this handle owns its domain, like a guest kernel: when the handle
 * is closed or the process exits, pvsim destroys the domain as a crashed
 * guest (grants revoked, channels closed, @releaseDomain).  -EOPNOTSUPP on xen.
 */
int pv_hv_sim_claim(struct pv_hv *hv);

/* ------------------------------------------------------------- xenstore */

/*
 * libxenstore in every mode (sim: XENSTORED_PATH points at pvsim's socket).
 * A pv_xs may be attached to a loop, which then dispatches watch events to
 * their callbacks.  Strings returned are malloc'd; the caller frees them.
 */
struct pv_xs;
struct pv_xs_watch;
typedef uint32_t pv_xs_txn; /* 0 = no transaction (XBT_NULL) */

typedef void pv_xs_watch_fn(struct pv_xs *xs, const char *path, void *opaque);

int pv_xs_open(struct pv_loop *loop, struct pv_xs **out); /* loop may be NULL */
void pv_xs_close(struct pv_xs *xs);
struct xs_handle *pv_xs_handle(struct pv_xs *xs);
/* Fires once at registration, as xenstored does, then on every change under path. */
int pv_xs_watch(struct pv_xs *xs, const char *path, pv_xs_watch_fn *fn, void *opaque,
		struct pv_xs_watch **out);
void pv_xs_unwatch(struct pv_xs *xs, struct pv_xs_watch *w);
/* Dispatch pending watch events without a loop (blocking up to timeout_ms). */
int pv_xs_dispatch(struct pv_xs *xs, int timeout_ms);

char *pv_xs_read(struct pv_xs *xs, pv_xs_txn t, const char *path);      /* NULL + errno */
int pv_xs_read_uint(struct pv_xs *xs, pv_xs_txn t, const char *path, uint64_t min,
		    uint64_t max, uint64_t *out); /* -ENOENT, -EINVAL (not a number / out of range) */
int pv_xs_write(struct pv_xs *xs, pv_xs_txn t, const char *path, const char *val);
int pv_xs_printf(struct pv_xs *xs, pv_xs_txn t, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int pv_xs_rm(struct pv_xs *xs, pv_xs_txn t, const char *path);
/* The same on "<dir>/<key>" (a key relative to a device directory); a path
 * longer than xenstore takes is -ENAMETOOLONG (errno for pv_xs_read_at). */
char *pv_xs_read_at(struct pv_xs *xs, pv_xs_txn t, const char *dir, const char *key);
int pv_xs_read_uint_at(struct pv_xs *xs, pv_xs_txn t, const char *dir, const char *key,
		       uint64_t min, uint64_t max, uint64_t *out);
int pv_xs_write_at(struct pv_xs *xs, pv_xs_txn t, const char *dir, const char *key,
		   const char *val);
int pv_xs_printf_at(struct pv_xs *xs, pv_xs_txn t, const char *dir, const char *key,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int pv_xs_vprintf_at(struct pv_xs *xs, pv_xs_txn t, const char *dir, const char *key,
		     const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
int pv_xs_rm_at(struct pv_xs *xs, pv_xs_txn t, const char *dir, const char *key);
/* NULL-terminated array of malloc'd names (free with pv_xs_free_list), NULL + errno. */
char **pv_xs_directory(struct pv_xs *xs, pv_xs_txn t, const char *path, unsigned *n);
void pv_xs_free_list(char **list);
/* Run fn inside a transaction, retrying on EAGAIN (bounded). fn returns 0 or -errno;
 * a non-zero return aborts the transaction and is returned. */
typedef int pv_xs_txn_fn(struct pv_xs *xs, pv_xs_txn t, void *opaque);
int pv_xs_transaction(struct pv_xs *xs, pv_xs_txn_fn *fn, void *opaque);
bool pv_xs_domain_exists(struct pv_xs *xs, uint16_t domid);

/* ---------------------------------------------------------------- xenbus */

/*
 * The backend device framework. pv_xb_backend_start() watches
 * backend/<type>/ under this domain's path and creates a pv_xb_dev for every
 * <domid>/<devid> entry, drives the xenbus state machine and calls the ops:
 *
 *   probe       device found: open the host side, write feature keys.
 *               The framework then writes hotplug-status=connected (hotplug
 *               SELF) and InitWait.
 *   connect     frontend Initialised (if connect_on_initialised) or Connected:
 *               read ring refs, map, start I/O, write connect-time keys.
 *               The framework then switches to Connected (hotplug SCRIPT:
 *               once the script wrote hotplug-status=connected).
 *   disconnect  frontend Closing/Closed, online=0, domain gone: stop I/O, drain,
 *               unmap.  Called only after a successful connect.
 *   remove      backend directory gone: free everything probe made.
 *   changed     a key in the backend directory changed (the toolstack's:
 *               params, rate, mac, port/N...); keys the framework owns
 *               (state, online, hotplug-status) are not passed on.
 *   reconfigure frontend Reconfiguring while we are Connected (netfront's
 *               xdp-headroom): re-read what may change.  0: the framework
 *               switches to Reconfigured, and back to Connected when the
 *               frontend is; -EOPNOTSUPP: the protocol has no
 *               reconfiguration, the frontend's state is ignored; other
 *               -errno: the device fails (disconnect, error node, Closing).
 *
 * Every op is required (pv_xb_backend_start() returns -EINVAL otherwise):
 * a backend with nothing to do supplies a trivial one.  A failing
 * probe/connect leaves the device in Closed with error/<path> written.
 */
struct pv_xb_backend;
struct pv_xb_dev;

/* Who writes hotplug-status=connected in the backend directory. */
enum pv_xb_hotplug {
	/* The framework, after probe: no hotplug script, or one that only
	 * validates (blkback's pvback-block). */
	PV_XB_HOTPLUG_SELF = 1,
	/* The toolstack's script (xl's vif-bridge, run after InitWait): the
	 * framework watches the key and switches to Connected only once it is
	 * "connected" (ops->connect runs before, as in Linux netback);
	 * "error" fails the device (logged with hotplug-error, error node,
	 * Closed). */
	PV_XB_HOTPLUG_SCRIPT,
};

struct pv_xb_backend_ops {
	const char *type;            /* "vbd", "vif", "vusb" */
	bool connect_on_initialised; /* blk/usb: true; netback: false */
	enum pv_xb_hotplug hotplug;  /* required: SELF or SCRIPT */
	int (*probe)(struct pv_xb_dev *dev);
	int (*connect)(struct pv_xb_dev *dev);
	void (*disconnect)(struct pv_xb_dev *dev);
	void (*remove)(struct pv_xb_dev *dev);
	void (*changed)(struct pv_xb_dev *dev, const char *key);
	int (*reconfigure)(struct pv_xb_dev *dev);
};

int pv_xb_backend_start(struct pv_loop *loop, struct pv_xs *xs,
			const struct pv_xb_backend_ops *ops, void *ctx,
			struct pv_xb_backend **out);
/* Disconnects and removes every device (drains I/O through ops->disconnect). */
void pv_xb_backend_stop(struct pv_xb_backend *be);
void *pv_xb_backend_ctx(struct pv_xb_backend *be);

struct pv_xs *pv_xb_dev_xs(struct pv_xb_dev *dev);
struct pv_loop *pv_xb_dev_loop(struct pv_xb_dev *dev);
void *pv_xb_dev_ctx(struct pv_xb_dev *dev);            /* the backend's ctx */
uint16_t pv_xb_dev_domid(const struct pv_xb_dev *dev); /* frontend domain */
uint32_t pv_xb_dev_devid(const struct pv_xb_dev *dev);
const char *pv_xb_dev_name(const struct pv_xb_dev *dev);   /* "vbd-5-51712": log prefix */
const char *pv_xb_dev_bepath(const struct pv_xb_dev *dev); /* backend/vbd/5/51712 (absolute) */
const char *pv_xb_dev_fepath(const struct pv_xb_dev *dev); /* the frontend dir */
void pv_xb_dev_set_priv(struct pv_xb_dev *dev, void *priv);
void *pv_xb_dev_priv(const struct pv_xb_dev *dev);
int pv_xb_dev_state(const struct pv_xb_dev *dev);          /* our XenbusState */
/* True only inside ops->connect when a restarted daemon re-attaches to a
 * connection its predecessor left live (our state Connected, the frontend
 * Initialised or Connected): the rings are in use, resume at rsp_prod. */
bool pv_xb_dev_resuming(const struct pv_xb_dev *dev);
/* Call fn for every device of the backend (loop thread only; fn must not
 * add or remove devices). */
typedef void pv_xb_dev_fn(struct pv_xb_dev *dev, void *opaque);
void pv_xb_backend_foreach(struct pv_xb_backend *be, pv_xb_dev_fn *fn, void *opaque);
/* Write our state key (and nothing else). */
int pv_xb_dev_switch_state(struct pv_xb_dev *dev, int state);
/* Read a key of our backend / the frontend dir (relative name). */
char *pv_xb_dev_read_be(struct pv_xb_dev *dev, const char *key);
char *pv_xb_dev_read_fe(struct pv_xb_dev *dev, const char *key);
int pv_xb_dev_read_fe_uint(struct pv_xb_dev *dev, const char *key, uint64_t min, uint64_t max,
			   uint64_t *out);
int pv_xb_dev_read_be_uint(struct pv_xb_dev *dev, const char *key, uint64_t min, uint64_t max,
			   uint64_t *out);
/*
 * Ring keys, read from the frontend directory as the three layouts have
 * them.  dir is "" or a subdirectory with its slash ("queue-1/"); name is
 * the protocol's key: blkif "ring-ref", netif "tx-ring-ref"/"rx-ring-ref",
 * usbif "urb-ring-ref"/"conn-ring-ref"; "event-channel" for all.  Grant
 * refs and ports are 32-bit decimals.  These return -errno (-ENOENT
 * missing, -EINVAL not a number or out of range) and log nothing:
 * pv_xb_dev_failed_key() then names the key ("queue-1/ring-ref3") for the
 * caller's message.  Loop thread only.
 */
#define PV_XB_RING_ORDER_MAX 4u /* Xen's XENBUS_MAX_RING_GRANT_ORDER: 16 pages */
/* The key of page i of a ring of 1 << order pages: <dir><name> for order 0,
 * <dir><name><i> (ring-ref0..N-1) above.  0 or -ENAMETOOLONG. */
int pv_xb_ring_key(char *buf, size_t len, const char *dir, const char *name, unsigned order,
		   unsigned i);
/* The 1 << order grant refs of one ring into refs[]; -EINVAL for an order
 * above PV_XB_RING_ORDER_MAX. */
int pv_xb_dev_read_grefs(struct pv_xb_dev *dev, const char *dir, const char *name,
			 unsigned order, uint32_t *refs);
/* The event channel(s) of a ring set: <dir><name> into ports[0]; with split
 * (netif's feature-split-event-channels; ports has room for two) the pair
 * <dir><name>-tx and -rx into ports[0] and [1] is tried first.  Returns how
 * many ports were read (1 or 2); half a pair is -ENOENT naming the missing
 * half. */
int pv_xb_dev_read_evtchns(struct pv_xb_dev *dev, const char *dir, const char *name, bool split,
			   uint32_t *ports);
/* multi-queue-num-queues: 1 when absent, else 1..max (-EINVAL outside). */
int pv_xb_dev_read_nr_queues(struct pv_xb_dev *dev, unsigned max, unsigned *out);
/* The relative key the last failed read above stopped at. */
const char *pv_xb_dev_failed_key(const struct pv_xb_dev *dev);
/* Write keys in our backend dir; t may be 0. */
int pv_xb_dev_printf_be(struct pv_xb_dev *dev, pv_xs_txn t, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/*
 * Keys of our backend directory written together, as a backend's probe and
 * connect do:
 *
 *	struct pv_xb_keys *k = pv_xb_keys_begin(dev);
 *	pv_xb_keys_printf(k, "feature-sg", "%u", 1);
 *	...
 *	rc = pv_xb_keys_end(k);
 *
 * The keys are recorded, then written in one transaction that first checks
 * the backend directory still exists (a write racing with the toolstack's
 * removal never recreates a half directory), retried on EAGAIN (bounded).
 * The first error sticks: pv_xb_keys_end() returns it, be it an allocation
 * failure while recording (begin may return NULL: printf then does nothing
 * and end returns -ENOMEM), -ENOENT for a removed directory or the write's
 * -errno; nothing is written then.  end frees k.  Loop thread only.
 */
struct pv_xb_keys;
struct pv_xb_keys *pv_xb_keys_begin(struct pv_xb_dev *dev);
void pv_xb_keys_printf(struct pv_xb_keys *k, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int pv_xb_keys_end(struct pv_xb_keys *k);
/* Report a fatal device error: logs, writes error/<bepath>/error, goes Closing. */
void pv_xb_dev_fatal(struct pv_xb_dev *dev, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* From a data-path thread: schedule disconnect of this device on the xenbus
 * loop (protocol violation by the frontend). Thread-safe. */
void pv_xb_dev_request_disconnect(struct pv_xb_dev *dev, const char *reason);

/* --------------------------------------------------------------- stats */

#define PV_STATS_HIST_BUCKETS 32 /* log2 buckets of nanoseconds */

struct pv_stats_hist {
	uint64_t bucket[PV_STATS_HIST_BUCKETS]; /* bucket i: [2^i, 2^(i+1)) ns */
	uint64_t count;
	uint64_t sum_ns;
};

void pv_stats_hist_add(struct pv_stats_hist *h, uint64_t ns);
void pv_stats_hist_merge(struct pv_stats_hist *dst, const struct pv_stats_hist *src);
/* Percentile (0..100) estimate in ns, from the bucket midpoints. */
uint64_t pv_stats_hist_percentile(const struct pv_stats_hist *h, double pct);

/* ---------------------------------------------------- pvsim environment */

/*
 * The one owner of how a process finds pvsim (common/sim_env.c): the
 * variables `pvsim env NAME` prints (PVSIM_DIR, PVSIM_DOMID, PVBACK_HV,
 * XENSTORED_PATH) and the layout of pvsim's run directory.  Read when
 * asked, never cached.  Not thread-safe against setenv (pv_sim_become):
 * call it before starting threads, as the fio engine does under its lock.
 */
/* root: /run/pvsim; others: $XDG_RUNTIME_DIR/pvsim, else /tmp/pvsim-<uid>. */
const char *pv_sim_default_dir(void);
/* $PVSIM_DIR, else pv_sim_default_dir(). */
const char *pv_sim_dir(void);
/* True when $PVSIM_DIR names a pvsim instance (PV_HV_AUTO then opens sim). */
bool pv_sim_configured(void);
/* $PVSIM_DOMID (0 when unset): 0, or -EINVAL when it is not a domid. */
int pv_sim_domid(uint16_t *out);
/* <dir>/<leaf> (domid < 0) or <dir>/<leaf>/<domid>; dir NULL: pv_sim_dir().
 * Leaves: "ctl.sock", "xs", "hv".  0 or -ENAMETOOLONG. */
int pv_sim_path(char *buf, size_t len, const char *dir, const char *leaf, int domid);
/* The domid of the domain called name (a decimal id is taken as is) in
 * pvsim at dir (NULL: pv_sim_dir()), asked of its control socket.
 * -ENOENT when there is none, other -errno when pvsim does not answer. */
int pv_sim_lookup(const char *dir, const char *name);
/* Act as domain name of pvsim at dir from now on (sets the variables
 * `pvsim env NAME` prints).  Returns the domid or -errno. */
int pv_sim_become(const char *dir, const char *name);

/* A daemon's run files: on sim <pv_sim_dir()>/<prog>.sock and .state, on
 * xen /run/<prog>/control.sock and /run/<prog>/state.  0 or -ENAMETOOLONG. */
enum pv_run_file { PV_RUN_CTL, PV_RUN_STATE };
int pv_run_path(enum pv_hv_kind kind, const char *prog, enum pv_run_file f, char *buf,
		size_t len);

/* ----------------------------------------------------------------- util */

/* Strict decimal: digits only (no sign, space or 0x), within [min, max].
 * 0 or -EINVAL. */
int pv_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* "Unknown" ... "Reconfigured" (xen/io/xenbus.h), "invalid" otherwise. */
const char *pv_xb_state_name(int state);
/* A connected unix socket of type (SOCK_STREAM, SOCK_SEQPACKET; close-on-
 * exec, blocking): the fd or -errno. */
int pv_unix_connect(const char *path, int type);
/* A listening, non-blocking unix socket at path with permissions mode.  A
 * stale socket file (nobody answers) is replaced; -EADDRINUSE when a live
 * process answers there, -EEXIST when path is not a socket. */
int pv_unix_listen(const char *path, int type, mode_t mode);
/* mkdir -p: parents 0755, the last component last_mode.  0 or -errno. */
int pv_mkdir_p(const char *path, mode_t last_mode);
/* xl's vdev names as libxl parses them: xvdX[N] (202, extended above xvdp
 * or partition 15), hdX[N] (3), sdX[N] (8), or a decimal devid.
 * 0 or -EINVAL. */
int pv_vdev_to_devid(const char *vdev, uint32_t *devid);

#endif /* PVCOMMON_H */
