/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libpvcommon: what every pvback backend and frontend stands on.
 *
 *  - pv_log_*   logging with per-device prefixes (stderr or syslog)
 *  - pv_loop_*  a per-thread epoll event loop with timers and cross-thread calls
 *  - pv_hv_*    the hypervisor-ops layer: grants, event channels (xen | sim)
 *  - pv_xs_*    xenstore (libxenstore) bound to a loop: watches, transactions
 *  - pv_xb_*    the xenbus backend device framework (state machine, keys)
 *  - pv_stats_* statistics counters, latency histograms, and stats tables
 *               emitted as text, JSON and Prometheus exposition format
 *  - pv_queue_* the data-path skeleton of every backend: a queue's thread,
 *               rings, ports, slots, stop protocol and restart journal
 *  - pv_journal_*, pv_gcache_*, pv_copy_batch_*: the queue's in-flight
 *               journal, the grant cache, batched grant copy
 *  - pv_ctl_*, pv_out_*: the daemons' control socket (server and client)
 *  - pv_backend_main: a backend daemon from its descriptor (common options,
 *               signals, run files, control socket, stats)
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

/*
 * A rate limit for the lines a guest can cause (Linux's ___ratelimit): at
 * most PV_RATELIMIT_BURST lines per PV_RATELIMIT_MS per limiter; the first
 * line let through after some were dropped comes after "N message(s)
 * suppressed".  At --log-level debug nothing is dropped (asked for
 * everything).  Zero-initialised is ready; thread-safe (atomics: the counts
 * are approximate when threads race).  pv_ratelimit_flush reports what a
 * window still holds (when the object goes away).
 */
#define PV_RATELIMIT_MS    5000u
#define PV_RATELIMIT_BURST 10u
struct pv_ratelimit {
	uint64_t begin_ns;
	unsigned printed, missed;
	uint64_t suppressed;       /* lines dropped over the limiter's life */
};
void pv_log_rl(struct pv_ratelimit *rl, enum pv_log_level lvl, const char *prefix,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void pv_vlog_rl(struct pv_ratelimit *rl, enum pv_log_level lvl, const char *prefix,
		const char *fmt, va_list ap);
void pv_ratelimit_flush(struct pv_ratelimit *rl, const char *prefix);

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
/* The same with a nanosecond timeout (< 0 forever), no poll hook: the
 * round of a polling worker (pv_worker).  Returns #callbacks or -errno. */
int pv_loop_run_once_ns(struct pv_loop *loop, int64_t timeout_ns);
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
/* Does the peer have our grant ref mapped (or a copy of it running) now?
 * What ending access would fail on (Linux's gnttab_end_foreign_access_ref):
 * a frontend that keeps a page granted checks it on every response.  1 or
 * 0; -EOPNOTSUPP where the implementation cannot tell (xen: gntalloc does
 * not say); -EINVAL for a ref outside the table. */
int pv_hv_share_in_use(struct pv_hv *hv, uint32_t ref);

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
/* True in ops->disconnect and ops->remove when the daemon itself stops (a
 * successor will resume the connection), not the frontend or toolstack. */
bool pv_xb_dev_daemon_stopping(const struct pv_xb_dev *dev);
/*
 * A disconnect that finishes later (loop thread only).  ops->disconnect
 * holds the device while its data-path threads drain (a ring full of 1 MiB
 * requests takes seconds), so the loop thread goes on serving every other
 * device; meanwhile the framework defers what needs the disconnect done:
 * Closed (the frontend may then free its grants), ops->remove, the free of a
 * vanished device, a new connect.  The last release re-reads the frontend
 * and finishes them; it may free the device.  When the daemon stops,
 * disconnects are synchronous (pv_xb_dev_daemon_stopping).
 */
void pv_xb_dev_hold(struct pv_xb_dev *dev);
void pv_xb_dev_release(struct pv_xb_dev *dev);
/* Call fn for every device of the backend (loop thread only; fn must not
 * add or remove devices). */
typedef void pv_xb_dev_fn(struct pv_xb_dev *dev, void *opaque);
void pv_xb_backend_foreach(struct pv_xb_backend *be, pv_xb_dev_fn *fn, void *opaque);
/* A line the guest can cause by (re)connecting or by what it writes into
 * xenstore: through the device's rate limit (thread-safe; the device
 * outlives its queues, which may use the limiter under their own prefix). */
void pv_xb_dev_log(struct pv_xb_dev *dev, enum pv_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* dev may be NULL (a queue without a device): one limiter of the process. */
struct pv_ratelimit *pv_xb_dev_ratelimit(struct pv_xb_dev *dev);
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
/* From any thread (a data-path thread, a library's callback thread): fn(dev,
 * opaque) on the xenbus loop, or fn(NULL, opaque) when the device has gone by
 * then (fn frees what opaque owns either way).  The caller must know that dev
 * is not freed meanwhile (its own thread or callback is stopped before).
 * 0 or -ENOMEM (fn not called). */
int pv_xb_dev_call(struct pv_xb_dev *dev, pv_xb_dev_fn *fn, void *opaque);

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

/* ------------------------------------------------------------- out */

/*
 * A growable text buffer for replies (common/ctl.c): what a control-socket
 * command writes.  An allocation failure is sticky: later writes are
 * dropped and pv_out_failed() says so.  One thread at a time.
 */
struct pv_out;

int pv_out_create(struct pv_out **out);
void pv_out_destroy(struct pv_out *o);
void pv_out_printf(struct pv_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s as a JSON string, quotes included ("" for NULL): \" \\ and \u00XX for
 * control characters; other bytes as they are. */
void pv_out_json_str(struct pv_out *o, const char *s);
const char *pv_out_str(const struct pv_out *o); /* NUL-terminated, "" when empty */
size_t pv_out_len(const struct pv_out *o);
/* Keep the first len bytes (len <= pv_out_len()). */
void pv_out_truncate(struct pv_out *o, size_t len);
bool pv_out_failed(const struct pv_out *o);

/* ------------------------------------------------------- stats tables */

/*
 * Table-driven counters (common/stats.c).  A backend keeps its counters in
 * a struct of uint64_t (and struct pv_stats_hist) members and describes it
 * once with a table; summing (queues into a device total, stopped queues
 * into "past") and the text, JSON and Prometheus forms come from the table.
 *
 * Field names are [a-z_][a-z0-9_]*: the text and JSON key, and the
 * Prometheus metric <prefix>_<name> with _total (counters) or _seconds
 * (histograms, which are latencies in ns) appended.
 */
enum pv_stats_kind {
	PV_STATS_COUNTER, /* uint64_t that only grows */
	PV_STATS_GAUGE,   /* uint64_t that goes up and down (e.g. in flight) */
	PV_STATS_HIST,    /* struct pv_stats_hist of latencies in ns */
};

struct pv_stats_field {
	const char *name;
	const char *help;        /* one line: Prometheus # HELP */
	size_t off;              /* offsetof the member in the stats struct */
	enum pv_stats_kind kind;
};

struct pv_stats_table {
	const struct pv_stats_field *fields;
	unsigned nr;
	size_t size;             /* sizeof the stats struct */
};

/* dst += src for every field (histograms merged, gauges added too). */
void pv_stats_sum(const struct pv_stats_table *t, void *dst, const void *src);
/* Every field of st in table order.  Text: "name value" pairs joined by
 * one space, no newline; JSON: "name":value members joined by commas, no
 * braces.  A histogram is <name>_p50_us and <name>_p99_us (%.1f), in JSON
 * preceded by <name>_count. */
void pv_stats_emit(struct pv_out *o, const struct pv_stats_table *t, const void *st, bool json);

/*
 * The Prometheus text exposition format (version 0.0.4, what node_exporter's
 * textfile collector reads).  Samples of one metric must be one group after
 * its # HELP and # TYPE, so series are collected first and written at once.
 */
struct pv_stats_prom;

/* prefix: the metric name prefix; characters not valid in a metric name
 * ("pvback-blk") become '_'. */
int pv_stats_prom_create(const char *prefix, struct pv_stats_prom **out);
void pv_stats_prom_destroy(struct pv_stats_prom *p);
/* One series per field of t, valued from st now (copied).  labels: NULL-
 * terminated name, value pairs (names [a-zA-Z_][a-zA-Z0-9_]*; values are
 * escaped here).  -EEXIST when a field of a table not added before has the
 * metric name of another table's field; -ENOMEM. */
int pv_stats_prom_add(struct pv_stats_prom *p, const struct pv_stats_table *t, const void *st,
		      const char *const *labels);
/* Every metric in the order first added: # HELP, # TYPE, its samples.
 * Histograms have cumulative _bucket{le="..."} series in seconds up to
 * le="+Inf", then _sum and _count. */
void pv_stats_prom_write(struct pv_stats_prom *p, struct pv_out *o);

/* ------------------------------------------------------------------ ctl */

/*
 * A daemon's control socket, both sides (common/ctl.c).  The server listens
 * on a unix stream socket from a pv_loop, serves one request per connection
 * on that loop's thread: the client sends one line "<command> [ARG]\n" and
 * reads the reply until EOF.  The reply's first line is "ok" or
 * "err <text>", the rest is the command's output.
 */
struct pv_ctl;

struct pv_ctl_cmd {
	const char *name;  /* request word; "<cmd>-<flag>" is the client's `<cmd> --<flag>` */
	const char *args;  /* for the usage: "[DEVICE]", or "" */
	const char *help;  /* one line for the usage; NULL: a --flag variant, not listed */
	/* Loop thread.  arg: the request's second word or NULL.  Returns 0: the
	 * reply is "ok" and what run wrote to o; -errno: "err " and what run
	 * wrote (strerror when nothing).  opaque: given to pv_ctl_start. */
	int (*run)(void *opaque, const char *arg, struct pv_out *o);
};

/* Listen on path (mode 0600: root only, as /dev/xen/gntdev) from loop.
 * cmds (nr_cmds of them) must outlive the server.  -EADDRINUSE when a live
 * server answers there, -EEXIST when path is not a socket, other -errno;
 * a stale socket file is replaced. */
int pv_ctl_start(struct pv_loop *loop, const char *path, const struct pv_ctl_cmd *cmds,
		 unsigned nr_cmds, void *opaque, struct pv_ctl **out);
/* Stop serving and remove the socket file.  NULL is fine. */
void pv_ctl_stop(struct pv_ctl *ctl);

/* Client: send req (one line, without "\n") to the server at path and read
 * the whole reply into reply.  0 when a reply came (it may be "err ..."),
 * -ECONNREFUSED/-ENOENT when nobody listens, -ENODATA on an empty reply,
 * other -errno. */
int pv_ctl_call(const char *path, const char *req, struct pv_out *reply);
/* Where the daemon prog of this host listens when the client is not told:
 * on pvsim when $PVSIM_DIR is set, else the xen socket if it exists, else
 * the pvsim one if it exists, else the xen one (pv_run_path).  0 or
 * -ENAMETOOLONG. */
int pv_ctl_default_path(const char *prog, char *buf, size_t len);
/* Into o, one line per listed command: "<prog> <cmd> [--<flag>|...]
 * [--ctl PATH] <args>  <help>", the first after lead, the others after 7
 * spaces when lead is not "" ("usage: "). */
void pv_ctl_usage(struct pv_out *o, const char *lead, const char *prog,
		  const struct pv_ctl_cmd *cmds, unsigned nr);
/* `<prog> <cmd> [--<flag>] [--ctl PATH] [ARG]` (argv[0] is <cmd>): prints
 * the output to stdout, an error to stderr.  note (may be NULL) ends the
 * usage.  Returns the exit status: 0, 1 (error, no daemon), 2 (usage). */
int pv_ctl_client_main(const char *prog, const struct pv_ctl_cmd *cmds, unsigned nr_cmds,
		       const char *note, int argc, char **argv);

/* -------------------------------------------------------------- confine */

/*
 * Confinement (common/confine.c, docs/security.md): after start-up a daemon
 * runs as an unprivileged user; its main (xenbus) thread keeps the few
 * capabilities its backend declares, every data-path thread (queue threads,
 * pv_workers) has none and runs under a seccomp-bpf allow-list; every
 * thread has no_new_privs.  Credentials, capabilities and seccomp filters
 * are per thread in Linux: a thread confines itself (pv_confine_thread)
 * before it touches guest memory, and threads created after the main
 * thread dropped inherit its user.
 *
 * The data-path policy is process-wide, set once by pv_confine_init()
 * before any data-path thread starts and read-only after: the one piece of
 * global state here, because every thread of the process must agree on it.
 */
#define PV_CAP(c) (1ull << (c))  /* a bit of a capability set (<linux/capability.h>) */

/* What a backend needs beyond the common part (pv_backend_desc.confine). */
struct pv_confine_rules {
	uint64_t main_caps;          /* PV_CAP() bits the main thread keeps too */
	/* PV_CAP() bits of those a --isolate domain worker's main thread does
	 * not keep: only the xenbus process's work needs them (0: none). */
	uint64_t worker_drop_caps;
	const int *syscalls;         /* more syscalls its data-path threads make (SYS_*) */
	unsigned nr_syscalls;
	const uint8_t *ioctl_types;  /* more ioctl types (_IOC_TYPE) they may use */
	unsigned nr_ioctl_types;
};

/* What a data-path thread's filter does with a syscall not on the list. */
enum pv_confine_action {
	PV_CONFINE_KILL,  /* kill the process (SIGSYS; the kernel log names the syscall) */
	PV_CONFINE_TRAP,  /* fail it with ENOSYS and say which one on stderr */
	PV_CONFINE_LOG,   /* allow it and log it in the kernel log (deriving the list) */
	PV_CONFINE_NONE,  /* no filter (capabilities are still dropped) */
};

/* "kill", "trap", "log", "off": 0 or -EINVAL. */
int pv_confine_action_parse(const char *s, enum pv_confine_action *out);
/* Build the data-path filter from the common list and r (may be NULL) and
 * make pv_confine_thread() apply it.  Once per process, before any
 * data-path thread starts.  0 or -errno (-EALREADY the second time). */
int pv_confine_init(const struct pv_confine_rules *r, enum pv_confine_action action);
/* The main thread gives up root: supplementary groups (initgroups), gid
 * and uid become user's (in every thread that exists now: glibc's set*id), the main
 * thread keeps only the capabilities in keep (effective and permitted;
 * bounding set reduced to them, ambient and inheritable cleared), and it
 * gets no_new_privs.  user NULL: stay who we are (only capabilities are
 * dropped).  No data-path thread may exist yet: their filters forbid the
 * set*id that glibc broadcasts.  0, -ENOENT (no such user), -EPERM (not
 * root and user is someone else), other -errno. */
int pv_confine_drop(const char *user, uint64_t keep);
/* The uid and gid of user: 0 or -ENOENT (-errno when the lookup fails). */
int pv_confine_lookup(const char *user, uid_t *uid, gid_t *gid);
/* At the start of a data-path thread: no_new_privs, no capabilities (and
 * an empty bounding set when it may still drop it), then the filter of
 * pv_confine_init().  Nothing at all before pv_confine_init() (unit tests,
 * frontends).  Fails closed: a thread that cannot confine itself logs why
 * and aborts the process rather than serve a guest unconfined. */
void pv_confine_thread(void);
/* True once pv_confine_init() succeeded. */
bool pv_confine_enabled(void);

/* --------------------------------------------------------------- daemon */

/*
 * The protocol-neutral daemon (common/daemon.c), nbdkit's server/plugin
 * split: pv_backend_main() owns the options every backend has, signals,
 * daemon(), the run directories, the control socket with its built-in
 * `stats` commands, and the xenbus backends of each --type; a backend
 * supplies a descriptor.  Every callback is required (give a trivial one
 * where there is nothing to do); the descriptor is checked once.
 *
 * Common options: --hv --type (repeatable) --log-level --syslog
 * --foreground --ctl PATH|none --state-dir DIR|none --poll-us N
 * --max-queues N --user NAME --no-confine --seccomp kill|trap|log|off
 * --isolate none|domain (backends with a worker hook) --help.
 * `<prog> stats [--json|--prometheus] [DEVICE]`
 * and `<prog> <cmd> ...` for each of the backend's commands are clients.
 * SIGINT/SIGTERM stop every backend (drain, disconnect) and exit 0;
 * SIGHUP calls the descriptor's hook.
 */
struct pv_backend; /* the running daemon: every --type's pv_xb_backend */

/* The settings every backend has.  The backend fills the defaults; the
 * daemon sets them from the options before start().  Read-only after. */
struct pv_backend_cfg {
	enum pv_hv_kind hv_kind;   /* resolved (never AUTO) once the daemon runs */
	unsigned poll_us;          /* adaptive polling per queue; 0: event driven */
	unsigned max_queues;       /* multi-queue-max-queues */
	const char *state_dir;     /* in-flight journals; NULL: none */
	bool isolate;              /* --isolate domain: queues run in per-domain workers */
};

struct pv_backend_opt {
	const char *name;          /* long option, without "--" */
	const char *arg;           /* the value for the usage ("N", "on|off"); NULL: a flag */
	/* Usage text; may hold up to 3 %u conversions, filled from help_args.
	 * Lines after a '\n' are indented under the first. */
	const char *help;
	unsigned help_args[3];
	/* Parse arg (NULL for a flag) into cfg: 0 or -EINVAL. */
	int (*set)(void *cfg, const char *arg);
};

/* For option setters: a strict decimal in [min, max]; 0 or -EINVAL. */
int pv_opt_uint(const char *arg, unsigned min, unsigned max, unsigned *out);
/* arg's index in names (NULL-terminated), or -EINVAL. */
int pv_opt_choice(const char *arg, const char *const *names);

/* One `stats` request, written one device at a time by desc->stats. */
enum pv_stats_fmt { PV_STATS_TEXT, PV_STATS_JSON, PV_STATS_PROM };

struct pv_stats_dump {
	enum pv_stats_fmt fmt;
	struct pv_out *out;         /* TEXT, JSON: write the device here */
	struct pv_stats_prom *prom; /* PROM: add the device's series (pv_stats_dump_add) */
	int err;                    /* the first pv_stats_dump_add failure: the reply's */
};

/* PROM: t's series for dev, labelled device="<name>", domid="<domid>" and,
 * when key is not NULL, key="<value>".  0 or -errno (pv_stats_prom_add),
 * also kept in d->err. */
int pv_stats_dump_add(struct pv_stats_dump *d, struct pv_xb_dev *dev,
		      const struct pv_stats_table *t, const void *st, const char *key,
		      const char *value);

struct pv_backend_desc {
	const char *prog;                     /* "pvback-blk": log ident, run files, metric prefix */
	const char *type;                     /* default xenstore type: "vbd" */
	const struct pv_xb_backend_ops *xb;   /* its .type is replaced by each --type */
	unsigned max_queues;                  /* the largest --max-queues */
	const struct pv_backend_opt *opts;    /* the backend's own options */
	unsigned nr_opts;
	const struct pv_ctl_cmd *cmds;        /* its own commands ("resize"); opaque: struct pv_backend * */
	unsigned nr_cmds;
	/* Write dev in d->fmt (TEXT: its lines; JSON: one object; PROM: its
	 * series).  false: dev has nothing to show yet (not listed). */
	bool (*stats)(struct pv_xb_dev *dev, struct pv_stats_dump *d);
	void (*sighup)(struct pv_backend *b);
	/* Options parsed, hv kind resolved, control socket up, state dir made;
	 * still root, before any device is served: privileged set-up (the
	 * DPDK EAL).  Start no data-path thread here.  0, or -errno after
	 * logging why. */
	int (*start)(struct pv_backend *b);
	/* Confined (the daemon's user, the main thread's kept capabilities),
	 * before any device is served: start the data-path threads that serve
	 * many devices (netback's polling workers).  0, or -errno after
	 * logging why. */
	int (*serve)(struct pv_backend *b);
	/* --isolate domain (NULL: not supported): run a worker process, which
	 * pv_backend_spawn_worker() started, on loop; fd is its end of the
	 * socket to the xenbus process.  Options parsed as the xenbus process
	 * parsed them, hv opened, confined as its main thread is.  Returns when
	 * the worker is done (pv_loop_stop); the exit status. */
	int (*worker)(struct pv_backend *b, struct pv_loop *loop, int fd);
	/* What its threads need beyond the common confinement (NULL: nothing):
	 * the main thread's extra capabilities, data-path syscalls. */
	const struct pv_confine_rules *confine;
	void *cfg;                            /* protocol config, defaults filled; xb ctx */
	struct pv_backend_cfg *common;        /* the common part (usually inside cfg) */
};

/* Runs the daemon (or the client when argv[1] is a command); returns the
 * process exit status. */
int pv_backend_main(const struct pv_backend_desc *d, int argc, char **argv);
void *pv_backend_config(struct pv_backend *b);            /* d->cfg */
struct pv_loop *pv_backend_loop(struct pv_backend *b);    /* the main loop (hooks from serve on) */
/* fn for every device of every type (loop thread: commands, hooks). */
void pv_backend_foreach_dev(struct pv_backend *b, pv_xb_dev_fn *fn, void *opaque);
/* --isolate domain, in the xenbus process (main thread): start a worker
 * process for domid, the same binary with the same options plus --worker
 * (desc->worker runs there).  It keeps only what the main thread keeps
 * (its user, its capabilities), none of our fds but its end of a
 * SOCK_SEQPACKET socket pair (*fd is ours, close-on-exec), and dies with
 * this process (PR_SET_PDEATHSIG).  0 or -errno. */
int pv_backend_spawn_worker(struct pv_backend *b, uint16_t domid, pid_t *pid, int *fd);
/* One message on a worker socket, with up to PV_ISOLATE_MAX_FDS fds
 * (SCM_RIGHTS).  send: 0 or -errno.  recv: the length (0: the peer
 * closed) or -errno; fds received beyond max_fds are closed, *nfds says
 * how many were kept (may be NULL when max_fds is 0: any fd is closed). */
#define PV_ISOLATE_MAX_FDS 16
int pv_isolate_send(int fd, const void *msg, size_t len, const int *fds, unsigned nfds);
ssize_t pv_isolate_recv(int fd, void *msg, size_t len, int *fds, unsigned max_fds,
			unsigned *nfds);
/* Close the n fds a message brought (a handler that keeps none of them;
 * those < 0 are skipped: already taken). */
void pv_isolate_close_fds(int *fds, unsigned n);
/* A handler refusing a message: its fds closed, rc (-errno) returned. */
int pv_isolate_refuse(int *fds, unsigned n, int rc);
/* pv_backend_spawn_worker's fork and exec of exe with argv: the child's
 * fd 3 is its end of the pair, caps (PV_CAP bits) ambient.  0 or -errno. */
int pv_isolate_spawn(const char *exe, char *const *argv, uint64_t caps, pid_t *pid, int *fd);

/* ------------------------------------------------------------ isolate */

/*
 * The xenbus process's worker processes of --isolate domain
 * (common/isolate.c), one per guest domain, on the main loop's thread.  A
 * backend keeps a table, takes a reference on a domain's worker while it
 * runs something there (pv_iso_get starts it), sends it messages, waits
 * for replies with a bound, and hears of everything else through its ops.
 * A worker that exits, sends what ops->message refuses, or does not answer
 * in time is killed, and ops->died runs once, from the loop.  The last
 * pv_iso_put kills and reaps it.
 */
struct pv_iso;
struct pv_iso_table;

struct pv_iso_ops {
	size_t max_msg;  /* the largest message a worker sends */
	/* A message nobody waited for.  false: it makes no sense (the worker is killed). */
	bool (*message)(struct pv_iso *w, void *msg, size_t len);
	/* w is dead: fail what it served (it stays valid until its last put). */
	void (*died)(struct pv_iso *w);
};

int pv_iso_table_create(struct pv_backend *b, struct pv_loop *loop, const struct pv_iso_ops *ops,
			struct pv_iso_table **out);
/* After every worker was put. */
void pv_iso_table_destroy(struct pv_iso_table *t);
/* A reference on domid's live worker, started when it has none.  0 or -errno. */
int pv_iso_get(struct pv_iso_table *t, uint16_t domid, struct pv_iso **out);
void pv_iso_put(struct pv_iso *w);
uint16_t pv_iso_domid(const struct pv_iso *w);
bool pv_iso_dead(const struct pv_iso *w);
void **pv_iso_priv(struct pv_iso *w); /* the backend's pointer */
struct pv_iso_table *pv_iso_table_of(struct pv_iso *w);
void **pv_iso_table_priv(struct pv_iso_table *t); /* the backend's pointer */
/* Kill it for why (logged); ops->died follows from the loop. */
void pv_iso_kill(struct pv_iso *w, const char *why);
/* 0, or -errno after the worker was killed (-EPIPE: dead already). */
int pv_iso_send(struct pv_iso *w, const void *msg, size_t len, const int *fds, unsigned nfds);
/* Is msg (len bytes) the reply to req? */
typedef bool pv_iso_match_fn(const void *msg, size_t len, const void *req);
/* Send req and wait up to timeout_ms for the message is_reply accepts,
 * which must be reply_len long; other messages are delivered to
 * ops->message from the loop afterwards.  0, or -errno after the worker
 * was killed (-ETIMEDOUT, -EPIPE, -EPROTO). */
int pv_iso_call(struct pv_iso *w, const void *req, size_t len, const int *fds, unsigned nfds,
		pv_iso_match_fn *is_reply, void *reply, size_t reply_len, int timeout_ms);
/* ------------------------------------------------------------ isodev */

/*
 * A backend's devices under --isolate domain (common/isodev.c): the
 * protocol between the xenbus process and a domain's worker, shared by
 * every backend.  The backend says how big its START body (what the worker
 * needs to start a device's queues), STATS reply and STOPPED body (the
 * counters of the stopped queues) are, up to PV_ISODEV_USER_TYPES requests
 * of its own (a resize, a USB plug), and how its worker starts, reports
 * and stops a device.  Device ids are devids (unique in a domain, so in
 * its worker).  Xenbus side: main (xenbus) thread only.
 */
#define PV_ISODEV_USER_TYPES 8

struct pv_isodev_table;
struct pv_isodev;
struct pv_isodev_w;
struct pv_queue;

/* A stop is over: past is the STOPPED body, or NULL when the worker died
 * (or never ran the device). */
typedef void pv_isodev_done_fn(struct pv_isodev *d, const void *past);

/* In the backend's device; zero when the device runs no queues in a worker. */
struct pv_isodev {
	struct pv_isodev_table *t;
	struct pv_iso *w;         /* the worker running the queues; NULL: none */
	struct pv_isodev *next;   /* the worker's devices */
	struct pv_xb_dev *dev;
	uint32_t id;
	bool stopping;            /* STOP sent, the device held until STOPPED */
	pv_isodev_done_fn *done;  /* then this */
};

struct pv_isodev_desc {
	size_t start_size, stats_size, past_size; /* body sizes (fixed: any other is malformed) */
	struct {
		size_t size;       /* the request's body; 0: unused */
		size_t reply_size; /* 0: sent without a wait */
	} user[PV_ISODEV_USER_TYPES];
	/* --- in the worker process, on its loop --- */
	/* Start a device's queues from start (validated here: it comes from
	 * the xenbus process, trusted, but checked as any input), taking the
	 * fds (closed by it, on failure too), and pv_isodev_w_set the queues a
	 * stop drains.  0 or -errno (nothing left running). */
	int (*w_start)(struct pv_isodev_w *d, void *start, int *fds, unsigned nfds);
	/* The counters into stats (stats_size bytes, zeroed). */
	void (*w_stats)(struct pv_isodev_w *d, void *stats);
	/* Every queue of d has ended (or the worker ends): stop them (now
	 * immediate), the counters into past (past_size bytes), free priv. */
	void (*w_stopped)(struct pv_isodev_w *d, void *past);
	/* User request n: req, fds (closed by it), reply (reply_size bytes,
	 * zeroed; NULL when the request has no reply). */
	void (*w_message)(struct pv_isodev_w *d, unsigned n, void *req, int *fds, unsigned nfds,
			  void *reply);
};

int pv_isodev_table_create(struct pv_backend *b, const struct pv_isodev_desc *desc,
			   struct pv_isodev_table **out);
/* After every device stopped. */
void pv_isodev_table_destroy(struct pv_isodev_table *t);
/* Start dev's queues in its domain's worker (started when it has none):
 * START with start (desc->start_size bytes) and fds, wait for STARTED.
 * 0 or -errno (d then runs nothing). */
int pv_isodev_start(struct pv_isodev_table *t, struct pv_isodev *d, struct pv_xb_dev *dev,
		    const void *start, const int *fds, unsigned nfds);
/* Stop them: wait (the daemon stops; a failure is start's cleanup), or hold
 * the device until the worker says they answered everything.  done (may be
 * NULL) runs then, or at once when nothing needs a wait. */
void pv_isodev_stop(struct pv_isodev *d, bool wait, pv_isodev_done_fn *done);
/* Started, not stopping, its worker alive. */
bool pv_isodev_running(const struct pv_isodev *d);
/* The worker's counters (stats_size bytes; zeros when it does not answer).
 * 0, or -errno (-ENOTCONN: not running, stats untouched). */
int pv_isodev_stats(struct pv_isodev *d, void *stats);
/* User request n with req (its size) and fds; waits for the reply when it
 * has one.  0, or -errno (-ENOTCONN: not running). */
int pv_isodev_call(struct pv_isodev *d, unsigned n, const void *req, const int *fds,
		   unsigned nfds, void *reply);
/* The descriptor's worker hook calls this: the worker's whole life. */
int pv_isodev_worker(struct pv_backend *b, struct pv_loop *loop, int fd,
		     const struct pv_isodev_desc *desc);
/* In w_start and after: */
struct pv_backend *pv_isodev_w_backend(const struct pv_isodev_w *d);
void *pv_isodev_w_priv(const struct pv_isodev_w *d);
/* The backend's state of d and the queues a stop drains.  0 or -ENOMEM. */
int pv_isodev_w_set(struct pv_isodev_w *d, void *priv, struct pv_queue *const *q, unsigned nq);
/* A queue's protocol violation hook (pv_queue_params.violation, opaque d):
 * any thread; the xenbus process disconnects the device. */
void pv_isodev_w_violation(void *d, const char *reason);

/* Block signals (before any thread starts, so every thread inherits the
 * mask) and return a non-blocking signalfd that reads them, or -errno. */
int pv_signalfd_open(const int *signals, unsigned n);

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

/* --------------------------------------------------------------- worker */

/*
 * pv_worker: a polling thread serving many queues (common/worker.c), for
 * host ports no fd announces (DPDK): a round polls every poller; after
 * spin_us without work it arms them (queues set req_event) and sleeps,
 * backing off from 1 us to max_sleep_us (0: until an fd fires), woken at
 * once by its loop's fds (event channels) and calls.  A pv_queue runs on
 * one when its params name it; its loop is then the worker's.
 */
struct pv_worker;

struct pv_worker_params {
	const char *name;          /* thread name (15 bytes) */
	int cpu;                   /* pin to this CPU; -1: not pinned */
	unsigned spin_us;          /* keep polling this long after the last work */
	unsigned max_sleep_us;     /* idle back-off ceiling; 0: sleep until an fd fires */
	void (*thread_init)(void *opaque); /* on the thread, first; may be NULL */
	void *opaque;
};

/* Poll: look for work and do it, true when there was some.  Arm (may be
 * NULL): about to sleep, ask for notifications; true when work turned up. */
typedef bool pv_worker_poll_fn(void *opaque);
typedef int pv_worker_call_fn(void *opaque);

int pv_worker_start(const struct pv_worker_params *p, struct pv_worker **out);
/* Every user gone first.  Joins the thread. */
void pv_worker_stop(struct pv_worker *w);
/* Run fn(opaque) on the worker's thread and wait for it (directly when
 * called there); returns fn's value, or -errno when it could not be queued. */
int pv_worker_call(struct pv_worker *w, pv_worker_call_fn *fn, void *opaque);
/* The worker's thread only. */
int pv_worker_add_poll(struct pv_worker *w, pv_worker_poll_fn *poll, pv_worker_poll_fn *arm,
		       void *opaque);
void pv_worker_del_poll(struct pv_worker *w, void *opaque); /* safe inside a poll */
struct pv_loop *pv_worker_loop(struct pv_worker *w);
/* Any thread. */
const char *pv_worker_name(const struct pv_worker *w);
void pv_worker_attach(struct pv_worker *w, int delta); /* users count: placement */
unsigned pv_worker_load(const struct pv_worker *w);
void pv_worker_stats(const struct pv_worker *w, uint64_t *rounds, uint64_t *busy,
		     uint64_t *sleeps);

/* --------------------------------------------------------------- budget */

/*
 * Pages of guest memory a process maps for data at once (common/budget.c):
 * every user (a queue) has a reserve of its own, as large as its largest
 * request; beyond it, it draws from its guest domain's pool and from the
 * process pool.  A take that would exceed either returns false: wait for
 * your own completions (with nothing in flight the reserve always
 * suffices).  The _shared pair never touches the reserve, for mappings
 * kept beyond a request (persistent grants).  A user's counts belong to
 * its thread; the pools are atomic.
 */
#define PV_BUDGET_GUEST_PAGES 16384u /* default per guest beyond the reserves: 64 MiB */

struct pv_budget;
struct pv_budget_user {
	struct pv_budget *guest;
	unsigned reserve, used, shared;
	uint64_t waits;            /* takes refused */
};
struct pv_budget_info {
	unsigned guest_used, guest_limit, total_used, total_limit;
};

/* At start-up, before any user: per-guest pool, and the process pool
 * (0: half of vm.max_map_count). */
void pv_budget_set_limits(unsigned guest_pages, unsigned total_pages);
int pv_budget_user_init(struct pv_budget_user *u, uint16_t domid, unsigned reserve);
void pv_budget_user_fini(struct pv_budget_user *u);
bool pv_budget_take(struct pv_budget_user *u, unsigned n);
void pv_budget_give(struct pv_budget_user *u, unsigned n);
bool pv_budget_take_shared(struct pv_budget_user *u, unsigned n);
void pv_budget_give_shared(struct pv_budget_user *u, unsigned n);
void pv_budget_info(const struct pv_budget_user *u, struct pv_budget_info *out);

/* ---------------------------------------------------------------- queue */

/*
 * pv_queue: one data-path queue of a backend device, protocol-neutral
 * (common/queue.c).  It owns a thread with its own pv_loop and pv_hv handle,
 * the queue's shared rings (blkif: one; netif: tx + rx; usbif: urb + conn),
 * mapped, and its event channels (one, or two with netif's split channels),
 * bound; a slot per request-ring entry holding the protocol's context;
 * copy-once request fetch with the producer-overflow check; responses
 * batched into one push and at most one notify per port; the stop protocol
 * (answer every request pushed before the stop, then end); the restart
 * journal (pv_journal) and its re-issue after a kill; adaptive polling;
 * protocol violations and rate-limited bad-request logs; ring-index stats.
 *
 * A protocol supplies pv_queue_ops and, from its callbacks on the queue
 * thread, drives the data path:
 *
 *   while (pv_queue_next(q, ring, &slot, &req) > 0)   copy out, journal
 *           parse + validate req (the private copy), start the work;
 *   ... when a request is done: fill pv_queue_answer(q, ring, slot);
 *   pv_queue_flush(q);                push, notify, recycle the slots.
 *
 * A slot is reused only after its response was pushed, so the journal can
 * tell a successor exactly what is owed.  Threads: pv_queue_start/stop on
 * the xenbus thread; everything else on the queue thread unless it says
 * "any thread".
 */
#define PV_RING_MAX_PAGES  16u   /* ring-page-order 4 */
#define PV_QUEUE_MAX_RINGS 2u
#define PV_QUEUE_MAX_PORTS 2u
#define PV_QUEUE_MAX_ENT   512u  /* largest ring entry a protocol may have */
#define PV_QUEUE_KICK      (~0u) /* ops->run's events for a start, stop or kick */
/* Event storms (XSA-391): after this many events in a row that bring no
 * request, a queue's ports stay masked 1 ms, doubling up to the maximum,
 * until an event brings work again. */
#define PV_QUEUE_STORM_STREAK 64u
#define PV_QUEUE_STORM_MAX_MS 128u

struct pv_queue;

struct pv_queue_ring_params {
	const char *name;        /* "ring", "tx", "rx", "urb", "conn": logs, journal file */
	unsigned nr_refs;        /* ring pages: 1 << ring-page-order */
	uint32_t refs[PV_RING_MAX_PAGES];
	size_t ent_size;         /* sizeof the protocol's request/response union (its ABI) */
	size_t slot_size;        /* the protocol's context per request slot (> 0) */
	unsigned port;           /* index in pv_queue_params.ports: kicks us, we notify it */
	bool journal;            /* journal consumed requests for a restart after a kill */
	/* true: requests to serve; a stop answers what was pushed before it.
	 * false: buffers posted for us to fill (netif rx, usbif conn); a stop
	 * consumes no more of them. */
	bool drain_on_stop;
	uint32_t journal_tag;    /* the protocol's part of the journal's identity (blk: ABI) */
};

struct pv_queue_params {
	const char *name;        /* log prefix of the device, e.g. "vbd-5-51712" */
	struct pv_xb_dev *dev;   /* a violation asks it to disconnect; NULL: only marks dead */
	/* Without dev: a violation calls this on the queue's thread (a worker
	 * process tells its xenbus process, --isolate domain). */
	void (*violation)(void *opaque, const char *reason);
	void *violation_opaque;
	unsigned idx;            /* queue index: name "<name>/q<idx>" */
	uint16_t domid;          /* the frontend's domain */
	enum pv_hv_kind hv_kind; /* resolved (never AUTO) */
	unsigned poll_us;        /* adaptive polling budget, 0: event driven only */
	struct pv_worker *worker; /* run on this polling worker instead of a thread
				  * of its own (poll_us is then the worker's) */
	const char *journal_dir; /* NULL: no journal */
	bool resume;             /* a restarted daemon re-attaches to live rings (rsp_prod) */
	unsigned nr_rings;
	struct pv_queue_ring_params rings[PV_QUEUE_MAX_RINGS];
	unsigned nr_ports;       /* 1, or 2 (netif feature-split-event-channels) */
	uint32_t ports[PV_QUEUE_MAX_PORTS]; /* the frontend's ports */
	void *priv;              /* the protocol's queue state (pv_queue_priv) */
};

struct pv_queue_ops {            /* all required */
	const char *proto;       /* "blk": thread names "blk<domid>q<idx>" */
	/* Rings mapped, ports bound, slots allocated, thread not yet started
	 * (xenbus thread): set up the slots' contexts and the host side, add
	 * its fds to pv_queue_loop().  0 or -errno; fini runs either way. */
	int (*start)(struct pv_queue *q);
	/* Consume and process.  events: bit i when port i fired, or
	 * PV_QUEUE_KICK (start, stop, kick). */
	void (*run)(struct pv_queue *q, unsigned events);
	/* Adaptive polling (poll_us > 0): reap the host side, run when there is
	 * work (pv_queue_pending); true while busy. */
	bool (*poll)(struct pv_queue *q);
	/* Nothing in flight on the host side: a stopping queue ends once this
	 * holds and every request pushed before the stop was consumed. */
	bool (*idle)(struct pv_queue *q);
	/* The stop is complete; the thread ends next.  Give back what is tied
	 * to this thread (io_uring requests belong to the task that submitted
	 * them: cancel and reap them here, not after the join). */
	void (*quiesce)(struct pv_queue *q);
	/* After the thread ended, or after start (even a failed one): release
	 * the host side and remove its fds.  Rings are still mapped. */
	void (*fini)(struct pv_queue *q);
};

/* Map the rings, bind the ports, call ops->start, start the thread (which
 * runs ops->run once: requests may be waiting).  xenbus thread.  0 or -errno
 * (logged with the queue's name). */
int pv_queue_start(const struct pv_queue_ops *ops, const struct pv_queue_params *p,
		   struct pv_queue **out);
/* Answer every request pushed before now on the drain_on_stop rings (no
 * further: a frontend that keeps pushing cannot hold the stop up), wait for
 * ops->idle, push the last responses, join the thread, ops->fini, unmap,
 * unbind, close the journals (removed when nothing is owed).  xenbus thread. */
void pv_queue_stop(struct pv_queue *q);
/* The stop without the wait: done(opaque) runs on loop home once the queue
 * answered what it owes and its thread ended (or it left its worker); the
 * pv_queue_stop() that must still follow then returns at once. */
int pv_queue_stop_begin(struct pv_queue *q, struct pv_loop *home, pv_loop_call_fn *done,
			void *opaque);
/* A device's queues stopped without blocking the xenbus thread: the device
 * is held (pv_xb_dev_hold) while they drain; once the last one is done,
 * fn(dev, opaque) runs on the xenbus thread (it calls pv_queue_stop on each,
 * now immediate, and frees what it owns), then the device is released.
 * -errno (nothing begun): stop them synchronously instead. */
int pv_xb_dev_stop_queues(struct pv_xb_dev *dev, struct pv_queue *const *qs, unsigned n,
			  pv_xb_dev_fn *fn, void *opaque);

/* Any thread (immutable after start). */
void *pv_queue_priv(const struct pv_queue *q);
const char *pv_queue_name(const struct pv_queue *q);  /* "vbd-5-51712/q0" */
uint16_t pv_queue_domid(const struct pv_queue *q);
unsigned pv_queue_idx(const struct pv_queue *q);
unsigned pv_queue_nr_slots(const struct pv_queue *q, unsigned ring); /* = ring entries */
void *pv_queue_slot(struct pv_queue *q, unsigned ring, unsigned i);
unsigned pv_queue_slot_index(const struct pv_queue *q, unsigned ring, const void *slot);

/* ops->start and the queue thread. */
struct pv_loop *pv_queue_loop(struct pv_queue *q);
struct pv_hv *pv_queue_hv(struct pv_queue *q);

/*
 * The next request of ring, copied out of the shared ring once (and
 * journalled): 1 with *slot (a free slot, now the request's) and *req (our
 * private copy, valid until the next call).  A predecessor's unanswered
 * requests (restart after a kill) come first, from the journal.
 * 0: nothing now (the ring is empty and req_event armed, the stop limit is
 * reached, or the queue is dead); -ENOBUFS: no free slot (counted; a
 * response frees one); -EPROTO: producer overflow (a violation: the queue
 * is dead and its device disconnects).
 */
int pv_queue_next(struct pv_queue *q, unsigned ring, void **slot, const void **req);
/* A ring consumed only when its entries are needed (usbif conn: buffers
 * for events): check its producer now.  0, or -EPROTO after the violation
 * of an overflow, as pv_queue_next would find it. */
int pv_queue_check_prod(struct pv_queue *q, unsigned ring);
/* On a polling worker: a run may stop early (the worker polls again), and
 * an empty ring arms no event until the worker goes idle. */
bool pv_queue_polled(const struct pv_queue *q);
/* Would pv_queue_next() give a request now?  Reads req_prod, arms nothing. */
bool pv_queue_pending(struct pv_queue *q, unsigned ring);
/* How many requests pv_queue_next() would give now, in a row (owed ones
 * first, the rest bounded by the free slots).  Arms nothing. */
unsigned pv_queue_avail(struct pv_queue *q, unsigned ring);
/* Are n requests available?  If not, ask the frontend for an event when it
 * pushes the next one (req_event), closing the race: for a protocol that
 * needs several requests per unit of work (netif rx: a packet's slots). */
bool pv_queue_want(struct pv_queue *q, unsigned ring, unsigned n);
/* The response slot for slot's request: fill it before the next answer
 * or flush.  Journalled; slot is recycled by the next pv_queue_flush(). */
void *pv_queue_answer(struct pv_queue *q, unsigned ring, void *slot);
/* Push the answered responses of every ring, notify each port at most
 * once (when the frontend asked), recycle their slots. */
void pv_queue_flush(struct pv_queue *q);
/* From the protocol's own fd callbacks: ops->run, then end a finished stop. */
void pv_queue_run(struct pv_queue *q);
bool pv_queue_stopping(const struct pv_queue *q);
bool pv_queue_dead(const struct pv_queue *q);
/* A protocol violation: log it, mark the queue dead (nothing more is
 * consumed) and ask the xenbus thread to disconnect the device. */
void pv_queue_violation(struct pv_queue *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A line the guest can cause (a bad request answered with an error, an
 * I/O error on its request...): through the queue's rate limit, so a guest
 * cannot flood the log.  pv_queue_bad_request is the WARN of it. */
void pv_queue_log(struct pv_queue *q, enum pv_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void pv_queue_bad_request(struct pv_queue *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Lines its rate limit dropped so far (any thread). */
uint64_t pv_queue_log_suppressed(const struct pv_queue *q);

/* A ring's indexes and counters, as Linux netback's debugfs io_ring dump
 * (all uint64_t: pv_queue_ring_table emits them as ring_<name>). */
struct pv_queue_ring_info {
	uint64_t req_prod, req_event, rsp_prod, rsp_event; /* shared, read now */
	uint64_t req_cons, rsp_prod_pvt;                   /* ours */
	uint64_t entries, slots_busy;  /* slots consumed and not yet recycled */
	uint64_t no_slot;              /* requests that waited for a slot (blkif oo_req) */
	uint64_t events, notifies;     /* on this ring's port */
	uint64_t dead;                 /* 1 after a protocol violation */
	uint64_t spurious, delayed;    /* events without a new request; held masked */
};
/* Any thread: racy but tear-free reads of aligned counters. */
void pv_queue_info(struct pv_queue *q, unsigned ring, struct pv_queue_ring_info *out);
/* The stats table of struct pv_queue_ring_info (for `<prog> stats`). */
extern const struct pv_stats_table pv_queue_ring_table;

/* -------------------------------------------------------------- journal */

/*
 * The in-flight journal of one ring (common/journal.c; the format and the
 * recovery argument are in its header): what a daemon killed without
 * warning leaves for its successor, so that no request the frontend pushed
 * is lost or answered twice.  pv_queue runs it; tests call it on files.
 */
#define PV_JOURNAL_MAX_ENT PV_QUEUE_MAX_ENT

struct pv_journal_id {   /* which ring a journal belongs to (compared with memcmp) */
	uint32_t domid, evtchn, tag;
	uint32_t nr_refs;
	uint32_t refs[PV_RING_MAX_PAGES];
	uint32_t nr_slots;   /* one record each */
	uint32_t ent_size;   /* ring entry bytes, <= PV_JOURNAL_MAX_ENT */
};

struct pv_journal;

/* A fresh journal at path (replacing any file there).  0 or -errno. */
int pv_journal_create(const char *path, const struct pv_journal_id *id, struct pv_journal **out);
/* A predecessor's journal of the same ring: -ENOENT, -ESTALE (another
 * ring's, not a journal, or the wrong size), other -errno. */
int pv_journal_reopen(const char *path, const struct pv_journal_id *id, struct pv_journal **out);
/* remove: unlink the file (nothing is owed). */
void pv_journal_close(struct pv_journal *j, bool remove);
/* What a restarted queue owes, given the shared rsp_prod/req_prod: the
 * slots to re-issue (slots[] holds nr_slots entries), in ring order, and
 * where to go on consuming.  -EUCLEAN when the journal disagrees with the
 * ring or is corrupt (then resume at rsp_prod), -ENOMEM; on failure the
 * journal is left as it was. */
int pv_journal_recover(struct pv_journal *j, uint32_t rsp_prod, uint32_t req_prod,
		       uint32_t *req_cons, unsigned *slots, unsigned *nr);
const void *pv_journal_entry(const struct pv_journal *j, unsigned slot);
/* The data path's three stores: a request copied out of the ring into
 * slot; its response written at rsp_idx; that response pushed. */
void pv_journal_consumed(struct pv_journal *j, unsigned slot, uint32_t req_idx, const void *ent,
			 size_t len);
void pv_journal_answered(struct pv_journal *j, unsigned slot, uint32_t rsp_idx);
void pv_journal_released(struct pv_journal *j, unsigned slot);

/* ----------------------------------------------------------- grant cache */

/*
 * Persistently mapped grants, keyed by ref, with an LRU bound and an idle
 * purge (common/gcache.c).  One per queue, used by its thread only.  Each
 * mapping has a slot (0 .. max-1, reused only after unmap) passed to the
 * callbacks: blkback registers the page as an io_uring buffer under it.
 */
struct pv_gcache_ent {
	uint32_t ref;
	unsigned slot;           /* index in the cache's entry array, < max */
	void *addr;
	unsigned users;          /* requests using the mapping now */
	uint64_t last_use_ns;
	struct pv_gcache_ent *hnext;
	struct pv_gcache_ent *prev, *next; /* LRU list, most recent first */
};

struct pv_gcache_ops {
	int (*map)(void *opaque, uint32_t ref, unsigned slot, void **addr); /* one page, writable */
	void (*unmap)(void *opaque, unsigned slot, void *addr);
};

struct pv_gcache {
	const struct pv_gcache_ops *ops;
	void *opaque;
	unsigned max, count, hash_size;
	struct pv_gcache_ent **hash;
	struct pv_gcache_ent *head, *tail;
	struct pv_gcache_ent *ents;  /* max entries, one per slot */
	unsigned *free_slots;        /* stack of unused slots, nr_free of them */
	unsigned nr_free;
	uint64_t hits, misses, evictions, purged;
};

int pv_gcache_init(struct pv_gcache *c, unsigned max, const struct pv_gcache_ops *ops,
		   void *opaque);
/* Unmaps every entry; none may be in use. */
void pv_gcache_fini(struct pv_gcache *c);
/* Take a reference on ref's mapping, mapping it on a miss.  When the cache
 * is full the least recently used idle entry is unmapped; -ENOSPC when every
 * entry is in use (the caller maps without the cache).  Other -errno: map. */
int pv_gcache_get(struct pv_gcache *c, uint32_t ref, uint64_t now_ns,
		  struct pv_gcache_ent **out);
void pv_gcache_put(struct pv_gcache *c, struct pv_gcache_ent *e, uint64_t now_ns);
/* Unmap idle entries unused for idle_ns.  Returns how many. */
unsigned pv_gcache_purge(struct pv_gcache *c, uint64_t now_ns, uint64_t idle_ns);

/* ------------------------------------------------------ grant-copy batch */

/*
 * Grant-copy segments gathered and run as one pv_hv_copy (one hypercall
 * on Xen), as Linux netback's xenvif_copy_state batches its rx copies
 * (common/copy.c).  Each segment names an owner; after the copy, done()
 * hears every segment's status in order, so a caller can fail exactly the
 * requests whose copy failed.  Queue thread only.
 */
#define PV_COPY_BATCH_MAX 64u

typedef void pv_copy_done_fn(void *opaque, void *owner, const struct pv_hv_copy_seg *seg);

struct pv_copy_batch {
	struct pv_hv *hv;
	pv_copy_done_fn *done;   /* NULL: statuses only through flush's result */
	void *opaque;
	unsigned n;
	int err;                 /* first failure since the last flush() returned */
	struct pv_hv_copy_seg seg[PV_COPY_BATCH_MAX];
	void *owner[PV_COPY_BATCH_MAX];
};

void pv_copy_batch_init(struct pv_copy_batch *b, struct pv_hv *hv, pv_copy_done_fn *done,
			void *opaque);
/* Queue one segment (offset + len within its page) for owner; a full
 * batch is copied first. */
void pv_copy_batch_add(struct pv_copy_batch *b, const struct pv_hv_copy_seg *seg, void *owner);
/* Copy what is queued.  0, or the first failing segment's -errno among all
 * copied since the last flush (a full batch copies on its own). */
int pv_copy_batch_flush(struct pv_copy_batch *b);

#endif /* PVCOMMON_H */
