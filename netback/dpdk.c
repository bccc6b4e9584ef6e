// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The DPDK side the dpdk ports share (dpdk.h): the EAL, started once from
 * main.c's start hook (after daemon(): the EAL's threads do not survive a
 * fork), the daemon's two mbuf pools, ethdevs hot-plugged from devargs,
 * guest TX packets as mbufs and mbufs as guest RX packets, the wake-ups of
 * a polled queue, and the counters.
 *
 * Threads: the EAL's main lcore is the main (xenbus) thread; queue threads
 * register as EAL threads on first use (net_dpdk_thread), so the pools'
 * per-lcore caches serve them, and unregister when they end.  An external
 * buffer's free callback runs where the mbuf is freed: inside the owner's
 * own rte_eth_tx_burst for the software PMDs we zero-copy into (tap,
 * af_packet, af_xdp, null), where tx_done is called at once; anywhere else
 * it is deferred to the owner queue through an atomic list and a kick.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>
#include <netinet/in.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mempool.h>

#include "dpdk.h"
#include "pvnet.h"

#define EAL_MAX_ARGS   64

static bool eal_up;
static struct rte_mempool *pool, *hdr_pool;
static pthread_key_t thread_key;

/* ---------------------------------------------------------------- EAL */

static bool hugepages_free(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[128];
	unsigned long n = 0;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %lu", &n) == 1)
			break;
	fclose(f);
	return n > 0;
}

static void thread_end(void *v)
{
	rte_thread_unregister();
}

/* Split s at blanks into argv (s is modified); no quoting. */
static int split_args(char *s, char **argv, int argc, int max)
{
	char *save = NULL, *tok;

	for (tok = strtok_r(s, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
		if (argc >= max - 1)
			return -E2BIG;
		argv[argc++] = tok;
	}
	return argc;
}

int net_dpdk_init(const struct net_config *cfg)
{
	static char defaults[256], user[1024];
	char *argv[EAL_MAX_ARGS], lcore[16], shown[1024] = "";
	cpu_set_t cpus;
	int argc = 0, rc, i, first = 0;
	unsigned n = cfg->dpdk_mbufs;

	if (eal_up)
		return 0;
	/* The EAL pins its main lcore's thread; ours (and every thread it
	 * starts later) keeps the affinity it had. */
	CPU_ZERO(&cpus);
	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0)
		for (first = 0; first < CPU_SETSIZE && !CPU_ISSET(first, &cpus); first++)
			;
	argv[argc++] = (char *)"pvback-net";
	if (cfg->dpdk_args) {
		snprintf(user, sizeof(user), "%s", cfg->dpdk_args);
		rc = split_args(user, argv, argc, EAL_MAX_ARGS);
	} else {
		/* Only the main lcore: our queue threads poll.  Hugepages when
		 * the host has some free, else memfd memory shareable with
		 * memif zero-copy peers (single file) and vhost-user. */
		snprintf(lcore, sizeof(lcore), "%d", first < CPU_SETSIZE ? first : 0);
		snprintf(defaults, sizeof(defaults), "-l %s --no-pci --no-telemetry %s", lcore,
			 hugepages_free() ? "--in-memory -m 256" :
			 "--no-huge -m 256 --no-shconf --single-file-segments");
		rc = split_args(defaults, argv, argc, EAL_MAX_ARGS);
	}
	if (rc < 0) {
		pv_err(NULL, "dpdk: too many EAL arguments");
		return rc;
	}
	argc = rc;
	argv[argc] = NULL;
	for (i = 1; i < argc; i++)
		snprintf(shown + strlen(shown), sizeof(shown) - strlen(shown), " %s", argv[i]);
	pv_info(NULL, "dpdk: EAL arguments:%s", shown);
	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		rc = -rte_errno;
		pv_err(NULL, "dpdk: EAL initialisation failed: %s (arguments:%s; --dpdk-args "
		       "replaces them)", rte_strerror(rte_errno), shown);
		return rc < 0 ? rc : -EINVAL;
	}
	sched_setaffinity(0, sizeof(cpus), &cpus);
	eal_up = true;
	pthread_key_create(&thread_key, thread_end);
	pool = rte_pktmbuf_pool_create("pvback-mbuf", n, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	hdr_pool = rte_pktmbuf_pool_create("pvback-ext", n, 256, 0, 0, SOCKET_ID_ANY);
	if (!pool || !hdr_pool) {
		rc = -rte_errno;
		pv_err(NULL, "dpdk: cannot create the mbuf pools of %u mbufs: %s (--dpdk-mbufs, "
		       "or -m in --dpdk-args)", n, rte_strerror(rte_errno));
		net_dpdk_fini();
		return rc < 0 ? rc : -ENOMEM;
	}
	pv_info(NULL, "dpdk: EAL up, IOVA as %s, %u mbufs", rte_eal_iova_mode() == RTE_IOVA_VA ?
		"VA" : "PA", n);
	return 0;
}

void net_dpdk_fini(void)
{
	if (!eal_up)
		return;
	rte_mempool_free(pool);
	rte_mempool_free(hdr_pool);
	pool = hdr_pool = NULL;
	rte_eal_cleanup();
	eal_up = false;
}

void net_dpdk_thread(void)
{
	static __thread bool tried;
	static bool warned;

	if (tried)
		return;
	tried = true;
	if (rte_lcore_id() != LCORE_ID_ANY)
		return;
	if (rte_thread_register() < 0) {
		if (!__atomic_exchange_n(&warned, true, __ATOMIC_RELAXED))
			pv_warn(NULL, "dpdk: cannot register a queue thread as an EAL thread (%s): "
				"it runs without mempool caches", rte_strerror(rte_errno));
		return;
	}
	pthread_setspecific(thread_key, (void *)1);
}

struct rte_mempool *net_dpdk_pool(void)
{
	return pool;
}

struct rte_mempool *net_dpdk_hdr_pool(void)
{
	return hdr_pool;
}

/* --------------------------------------------------------------- ethdev */

/* Drivers that read a TX mbuf's data by its virtual address and are done
 * with it when rte_eth_tx_burst returns: external buffers are fine.  Not
 * memif (zero-copy peers see only memory it exported), virtio_user (a
 * vhost-user backend sees only the EAL's memory table), vhost (kept
 * conservative), nor any NIC (no IOVA for our memory in a PV dom0). */
static const char *const zc_drivers[] = { "net_null", "net_tap", "net_af_packet",
					  "net_af_xdp", "net_pcap", NULL };

static bool driver_zero_copy(const char *driver)
{
	unsigned i;

	for (i = 0; zc_drivers[i]; i++)
		if (!strcmp(driver, zc_drivers[i]))
			return true;
	return false;
}

int net_dpdk_dev_open(const char *devargs, unsigned nq, unsigned mtu, const uint8_t *mac,
		      struct net_dpdk_dev *d, const char **why)
{
	const uint64_t tx_want = RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
				 RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	const uint64_t rx_want = RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM |
				 RTE_ETH_RX_OFFLOAD_SCATTER;
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	struct rte_dev_iterator it;
	struct rte_ether_addr ea;
	uint16_t pid = RTE_MAX_ETHPORTS, nrx, ntx;
	bool found = false;
	unsigned i;
	int rc;

	memset(d, 0, sizeof(*d));
	rc = rte_dev_probe(devargs);
	if (rc < 0) {
		*why = "rte_dev_probe failed (see the EAL's log)";
		return rc;
	}
	RTE_ETH_FOREACH_MATCHING_DEV(pid, devargs, &it) {
		found = true;
		rte_eth_iterator_cleanup(&it);
		break;
	}
	if (!found) {
		*why = "no ethdev matches the devargs";
		return -ENODEV;
	}
	d->port_id = pid;
	rc = rte_eth_dev_info_get(pid, &info);
	if (rc < 0) {
		*why = "rte_eth_dev_info_get failed";
		goto fail_remove_nodev;
	}
	d->rdev = info.device;
	rte_eth_dev_get_name_by_port(pid, d->name);
	snprintf(d->driver, sizeof(d->driver), "%s", info.driver_name ? info.driver_name : "?");
	d->tx_kick = !strcmp(d->driver, "net_af_xdp");

	d->nq = nq;
	/* memif: the peer decides how many ring pairs run, and DPDK 22.11's
	 * queues beyond them read ring 0 (each frame came up to 4 times, some
	 * stale, tests/sim/net-dpdk.sh): one queue pair, the vif's queues
	 * share it. */
	if (!strcmp(d->driver, "net_memif"))
		d->nq = 1;
	if (d->nq > info.max_rx_queues)
		d->nq = info.max_rx_queues;
	if (d->nq > info.max_tx_queues)
		d->nq = info.max_tx_queues;
	if (!d->nq) {
		*why = "the device has no queues";
		rc = -ENODEV;
		goto fail;
	}
	/* net_tap's offloads are software (its TSO is rte_gso: IPv4 only, and
	 * its writes of such frames failed here): ours do both families. */
	d->tx_capa = strcmp(d->driver, "net_tap") ? info.tx_offload_capa & tx_want :
						    RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	conf.txmode.offloads = d->tx_capa;
	conf.rxmode.offloads = info.rx_offload_capa & rx_want;
	if (info.max_mtu && mtu > info.max_mtu)
		mtu = info.max_mtu;
	rc = rte_eth_dev_configure(pid, (uint16_t)d->nq, (uint16_t)d->nq, &conf);
	if (rc < 0) {
		*why = "rte_eth_dev_configure failed";
		goto fail;
	}
	nrx = NET_DPDK_RXD;
	ntx = NET_DPDK_TXD;
	rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nrx, &ntx);
	for (i = 0; i < d->nq; i++) {
		rc = rte_eth_rx_queue_setup(pid, (uint16_t)i, nrx, rte_eth_dev_socket_id(pid), NULL,
					    pool);
		if (rc < 0) {
			*why = "rte_eth_rx_queue_setup failed (too few mbufs? --dpdk-mbufs)";
			goto fail;
		}
		rc = rte_eth_tx_queue_setup(pid, (uint16_t)i, ntx, rte_eth_dev_socket_id(pid), NULL);
		if (rc < 0) {
			*why = "rte_eth_tx_queue_setup failed";
			goto fail;
		}
	}
	/* Best effort: not every driver sets an MTU, an address, promiscuity. */
	if (mtu)
		rte_eth_dev_set_mtu(pid, (uint16_t)mtu);
	if (mac) {
		memcpy(ea.addr_bytes, mac, RTE_ETHER_ADDR_LEN);
		rte_eth_dev_default_mac_addr_set(pid, &ea);
	}
	rc = rte_eth_dev_start(pid);
	if (rc < 0) {
		*why = "rte_eth_dev_start failed";
		goto fail;
	}
	rte_eth_promiscuous_enable(pid);
	d->zero_copy = driver_zero_copy(d->driver);
	d->open = true;
	return 0;
fail:
	rte_eth_dev_close(pid);
	rte_dev_remove(d->rdev);
	return rc < 0 ? rc : -EIO;
fail_remove_nodev:
	rte_eth_dev_close(pid);
	return rc < 0 ? rc : -EIO;
}

void net_dpdk_dev_close(struct net_dpdk_dev *d)
{
	if (!d->open)
		return;
	d->open = false;
	/* Stopping frees what the device still holds (external buffers'
	 * callbacks run here, on this thread: deferred to their owners). */
	rte_eth_dev_stop(d->port_id);
	rte_eth_dev_close(d->port_id);
	/* A DPDK port does not outlive the process: nothing to keep. */
	rte_dev_remove(d->rdev);
}

int net_dpdk_dev_set_mtu(struct net_dpdk_dev *d, unsigned mtu)
{
	int rc = rte_eth_dev_set_mtu(d->port_id, (uint16_t)mtu);

	return rc == -ENOTSUP ? 0 : rc;
}

#define NET_DPDK_KICK_NS 2000000ull /* keep kicking 2 ms after a send */

void net_dpdk_dev_kick(struct net_dpdk_dev *d, uint16_t qid, pthread_mutex_t *lock)
{
	if (!d->tx_kick ||
	    pv_now_ns() >= __atomic_load_n(&d->kick_until[qid], __ATOMIC_RELAXED))
		return;
	if (lock && pthread_mutex_trylock(lock))
		return; /* a sender has it: its burst kicks */
	rte_eth_tx_burst(d->port_id, qid, NULL, 0);
	if (lock)
		pthread_mutex_unlock(lock);
}

void net_dpdk_dev_send(struct net_dpdk_dev *d, uint16_t qid, pthread_mutex_t *lock,
		       struct rte_mbuf **m, unsigned n, struct net_dpdk_stats *st)
{
	unsigned sent = 0;
	uint16_t k;

	if (!n)
		return;
	if (d->tx_kick)
		__atomic_store_n(&d->kick_until[qid], pv_now_ns() + NET_DPDK_KICK_NS,
				 __ATOMIC_RELAXED);
	if (lock)
		pthread_mutex_lock(lock);
	do {
		k = rte_eth_tx_burst(d->port_id, qid, m + sent, (uint16_t)(n - sent));
		sent += k;
	} while (k && sent < n);
	if (lock)
		pthread_mutex_unlock(lock);
	st->tx_full += n - sent;
	while (sent < n)
		rte_pktmbuf_free(m[sent++]);
}

/* ------------------------------------------------------------ counters */

#define COUNTER(m, help) { #m, help, offsetof(struct net_dpdk_stats, m), PV_STATS_COUNTER }
#define GAUGE(m, help) { #m, help, offsetof(struct net_dpdk_stats, m), PV_STATS_GAUGE }

#define DEV_FIELDS \
	COUNTER(ipackets, "Frames the device received (rte_eth_stats)"), \
	COUNTER(opackets, "Frames the device sent"), \
	COUNTER(imissed, "Frames the device dropped: its RX ring was full"), \
	COUNTER(ierrors, "Frames the device received in error"), \
	COUNTER(oerrors, "Frames the device failed to send"), \
	COUNTER(rx_nombuf, "Device RX without an mbuf")
#define OUR_FIELDS \
	COUNTER(tx_zero_copy, "Guest-TX packets sent as external buffers (no copy)"), \
	COUNTER(tx_copied, "Guest-TX packets copied into mbufs"), \
	COUNTER(tx_full, "Guest-TX frames the device did not take (dropped)"), \
	COUNTER(tx_nombuf, "Guest-TX packets dropped: the mbuf pool was empty"), \
	COUNTER(tx_gso_sw, "Guest-TX GSO super-frames segmented in software"), \
	COUNTER(tx_csum_sw, "Guest-TX checksums completed in software"), \
	COUNTER(tx_bad_offload, "Guest-TX packets dropped: offloads the frame cannot carry"), \
	COUNTER(rx_paused, "Polls that left frames in the device: no guest buffers"), \
	COUNTER(rx_too_long, "Received frames dropped: longer than a netif packet"), \
	COUNTER(rx_linearised, "Received multi-segment frames copied into one buffer"), \
	COUNTER(rx_gso_unsupported, "Received GSO frames dropped: the frontend takes no GSO"), \
	GAUGE(pool_in_use, "mbufs of the daemon's pool in use"), \
	GAUGE(pool_avail, "mbufs of the daemon's pool available")

static const struct pv_stats_field dpdk_fields[] = { DEV_FIELDS, OUR_FIELDS };
static const struct pv_stats_field switch_fields[] = {
	DEV_FIELDS, OUR_FIELDS,
	COUNTER(sw_local, "Frames switched to another vif (never left the daemon)"),
	COUNTER(sw_uplink, "Frames switched out of the uplink"),
	COUNTER(sw_flood, "Frames flooded (broadcast, multicast, unknown destination)"),
	COUNTER(sw_drop_hairpin, "Frames dropped: the destination is on the port they came from"),
	COUNTER(sw_inbox_full, "Frames dropped: the destination queue's inbox was full"),
	GAUGE(fdb_entries, "MAC table entries"),
	COUNTER(fdb_learned, "MAC addresses learned"),
	COUNTER(fdb_moved, "MAC addresses that moved to another port"),
	COUNTER(fdb_refused, "MAC addresses not learned (table, per-port limit, pinned)"),
	COUNTER(fdb_aged, "MAC table entries aged out"),
};

const struct pv_stats_table net_dpdk_stats_table = {
	dpdk_fields, sizeof(dpdk_fields) / sizeof(dpdk_fields[0]), sizeof(struct net_dpdk_stats),
};
const struct pv_stats_table net_switch_stats_table = {
	switch_fields, sizeof(switch_fields) / sizeof(switch_fields[0]),
	sizeof(struct net_dpdk_stats),
};

void net_dpdk_stats_add(struct net_dpdk_stats *dst, const struct net_dpdk_stats *src)
{
	pv_stats_sum(&net_switch_stats_table, dst, src);
}

void net_dpdk_stats_dev(const struct net_dpdk_dev *d, struct net_dpdk_stats *st)
{
	struct rte_eth_stats es;

	if (d && d->open && rte_eth_stats_get(d->port_id, &es) == 0) {
		st->ipackets += es.ipackets;
		st->opackets += es.opackets;
		st->imissed += es.imissed;
		st->ierrors += es.ierrors;
		st->oerrors += es.oerrors;
		st->rx_nombuf += es.rx_nombuf;
	}
	if (pool) {
		st->pool_in_use = rte_mempool_in_use_count(pool);
		st->pool_avail = rte_mempool_avail_count(pool);
	}
}

/* ---------------------------------------------------------- wake-ups */

static void on_wake(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct net_dpdk_wake *w = opaque;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	w->fn(w->opaque);
}

/* The queue's polling worker (ring.c) polls it; the eventfd wakes a
 * sleeping worker at once when another thread has something for it (a
 * switch inbox, buffers freed elsewhere). */
int net_dpdk_wake_init(struct net_dpdk_wake *w, struct pv_loop *loop, void (*fn)(void *),
		       void *opaque)
{
	int rc;

	*w = (struct net_dpdk_wake){ .loop = loop, .efd = -1, .fn = fn, .opaque = opaque };
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0)
		return -errno;
	rc = pv_loop_add_fd(loop, w->efd, PV_LOOP_IN, on_wake, w);
	if (rc < 0) {
		close(w->efd);
		w->efd = -1;
	}
	return rc;
}

void net_dpdk_wake_fini(struct net_dpdk_wake *w)
{
	if (w->efd < 0)
		return;
	pv_loop_del_fd(w->loop, w->efd);
	close(w->efd);
	w->efd = -1;
}

void net_dpdk_wake_kick(struct net_dpdk_wake *w)
{
	uint64_t one = 1;

	if (__atomic_exchange_n(&w->armed, false, __ATOMIC_SEQ_CST) && write(w->efd, &one, 8) < 0)
		return; /* the eventfd is full: a wake-up is pending anyway */
}

/* ----------------------------------------------------------- guest TX */

struct net_dpdk_txc {                  /* one packet in flight as external buffers */
	struct rte_mbuf_ext_shared_info sh;
	struct net_dpdk_tx *t;
	struct txc_block *blk;
	struct net_pkt *pkt;
	struct net_dpdk_txc *next;
};

/* The block of contexts outlives a closed owner while mbufs hold some. */
struct txc_block {
	unsigned held;                 /* contexts in flight (atomic) */
	bool closed;
	struct net_dpdk_txc c[NET_DPDK_TXC];
};

static __thread struct net_dpdk_tx *cur_tx;

static struct txc_block *block_of(const struct net_dpdk_tx *t)
{
	return (struct txc_block *)((uint8_t *)t->ctx - offsetof(struct txc_block, c));
}

int net_dpdk_tx_init(struct net_dpdk_tx *t, const struct net_port_queue_cbs *cbs, void *opaque,
		     struct net_dpdk_wake *wake, struct net_dpdk_stats *st)
{
	struct txc_block *b = calloc(1, sizeof(*b));
	unsigned i;

	memset(t, 0, sizeof(*t));
	if (!b)
		return -ENOMEM;
	t->lin = mmap(NULL, NET_MAX_PKT, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (t->lin == MAP_FAILED) {
		t->lin = NULL;
		free(b);
		return -ENOMEM;
	}
	t->cbs = cbs;
	t->opaque = opaque;
	t->wake = wake;
	t->st = st;
	t->ctx = b->c;
	for (i = NET_DPDK_TXC; i-- > 0;) {
		b->c[i].t = t;
		b->c[i].blk = b;
		b->c[i].next = t->free_ctx;
		t->free_ctx = &b->c[i];
	}
	return 0;
}

void net_dpdk_tx_fini(struct net_dpdk_tx *t)
{
	struct txc_block *b;

	if (!t->ctx)
		return;
	b = block_of(t);
	if (t->lin)
		munmap(t->lin, NET_MAX_PKT);
	/* A device that still holds some of our mbufs frees the block with
	 * the last one (ext_free); their packets' buffers are gone with
	 * their queue, and nothing reads them any more. */
	__atomic_store_n(&b->closed, true, __ATOMIC_RELEASE);
	if (__atomic_load_n(&b->held, __ATOMIC_ACQUIRE) == 0)
		free(b);
	t->ctx = NULL;
}

static void ctx_done(struct net_dpdk_tx *t, struct net_dpdk_txc *c)
{
	struct net_pkt *pkt = c->pkt;

	c->next = t->free_ctx;
	t->free_ctx = c;
	__atomic_sub_fetch(&block_of(t)->held, 1, __ATOMIC_ACQ_REL);
	t->cbs->tx_done(t->opaque, pkt);
}

static void ext_free(void *addr, void *opaque)
{
	struct net_dpdk_txc *c = opaque;
	struct txc_block *b = c->blk;
	struct net_dpdk_tx *t = c->t;
	struct net_dpdk_txc *head;

	if (__atomic_load_n(&b->closed, __ATOMIC_ACQUIRE)) {
		if (__atomic_sub_fetch(&b->held, 1, __ATOMIC_ACQ_REL) == 0)
			free(b);
		return;
	}
	if (cur_tx == t) {
		ctx_done(t, c);
		return;
	}
	head = __atomic_load_n(&t->deferred, __ATOMIC_RELAXED);
	do
		c->next = head;
	while (!__atomic_compare_exchange_n(&t->deferred, &head, c, true, __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED));
	if (t->wake)
		net_dpdk_wake_kick(t->wake);
}

void net_dpdk_tx_enter(struct net_dpdk_tx *t)
{
	cur_tx = t;
}

void net_dpdk_tx_leave(void)
{
	cur_tx = NULL;
}

unsigned net_dpdk_tx_reap(struct net_dpdk_tx *t)
{
	struct net_dpdk_txc *c = __atomic_exchange_n(&t->deferred, NULL, __ATOMIC_ACQUIRE), *next;
	unsigned n = 0;

	for (; c; c = next, n++) {
		next = c->next;
		ctx_done(t, c);
	}
	return n;
}

bool net_dpdk_tx_idle(const struct net_dpdk_tx *t)
{
	return !t->ctx || __atomic_load_n(&block_of(t)->held, __ATOMIC_ACQUIRE) == 0;
}

static rte_iova_t iova_of(void *va)
{
	return rte_eal_iova_mode() == RTE_IOVA_VA ? (rte_iova_t)(uintptr_t)va : RTE_BAD_IOVA;
}

/* The packet's data as regions: its head, then its segments. */
static unsigned regions(const struct net_pkt *pkt, struct net_seg *r)
{
	unsigned i, n = 0;

	r[n++] = (struct net_seg){ pkt->data, pkt->head_len };
	for (i = 0; i < pkt->nr_segs && i < NET_PKT_MAX_SEGS; i++)
		if (pkt->segs[i].len)
			r[n++] = pkt->segs[i];
	return n;
}

/* Copy len bytes of regions into a chain of pool mbufs. */
static struct rte_mbuf *copy_in(const struct net_seg *r, unsigned nr)
{
	struct rte_mbuf *head = rte_pktmbuf_alloc(pool), *cur = head;
	unsigned i;

	if (!head)
		return NULL;
	for (i = 0; i < nr; i++) {
		const uint8_t *src = r[i].base;
		uint32_t left = r[i].len;

		while (left) {
			uint32_t room = rte_pktmbuf_tailroom(cur), n;

			if (!room) {
				struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

				if (!m) {
					rte_pktmbuf_free(head);
					return NULL;
				}
				cur->next = m;
				cur = m;
				head->nb_segs++;
				continue;
			}
			n = left < room ? left : room;
			memcpy(rte_pktmbuf_mtod_offset(cur, uint8_t *, cur->data_len), src, n);
			cur->data_len = (uint16_t)(cur->data_len + n);
			head->pkt_len += n;
			src += n;
			left -= n;
		}
	}
	return head;
}

#define EXT_CHUNK 32768u /* an mbuf's buf_len is 16 bits */

/* The regions as external buffers of one context (its refcnt: one per mbuf). */
static struct rte_mbuf *attach(struct net_dpdk_txc *c, const struct net_seg *r, unsigned nr)
{
	struct rte_mbuf *m[NET_PKT_MAX_SEGS + 4], *head;
	unsigned i, k = 0, n = 0;

	for (i = 0; i < nr; i++)
		n += (r[i].len + EXT_CHUNK - 1) / EXT_CHUNK;
	if (n > sizeof(m) / sizeof(m[0]) || rte_pktmbuf_alloc_bulk(hdr_pool, m, n) < 0)
		return NULL;
	c->sh.free_cb = ext_free;
	c->sh.fcb_opaque = c;
	rte_mbuf_ext_refcnt_set(&c->sh, (uint16_t)n);
	for (i = 0; i < nr; i++) {
		uint32_t off;

		for (off = 0; off < r[i].len; off += EXT_CHUNK) {
			uint32_t len = r[i].len - off < EXT_CHUNK ? r[i].len - off : EXT_CHUNK;
			uint8_t *va = r[i].base + off;

			rte_pktmbuf_attach_extbuf(m[k], va, iova_of(va), (uint16_t)len, &c->sh);
			m[k]->data_len = (uint16_t)len;
			m[k]->pkt_len = len;
			if (k)
				m[k - 1]->next = m[k];
			k++;
		}
	}
	head = m[0];
	head->nb_segs = (uint16_t)n;
	head->pkt_len = 0;
	for (i = 0; i < n; i++)
		head->pkt_len += m[i]->data_len;
	return head;
}

/* The regions copied into the scratch buffer, which becomes the only one. */
static uint8_t *linearise(struct net_dpdk_tx *t, struct net_seg *r, unsigned *nr)
{
	uint32_t off = 0;
	unsigned i;

	for (i = 0; i < *nr && off + r[i].len <= NET_MAX_PKT; i++) {
		memcpy(t->lin + off, r[i].base, r[i].len);
		off += r[i].len;
	}
	r[0] = (struct net_seg){ t->lin, off };
	*nr = 1;
	return t->lin;
}

/* The offloads left to the device (or to the switch's peer) as mbuf flags. */
static void set_flags(struct rte_mbuf *m, const struct virtio_net_hdr *vh,
		      const struct pv_net_l4 *l4, bool csum, bool tso, bool virt)
{
	/* Keep RTE_MBUF_F_EXTERNAL: without it the free skips the callback. */
	m->ol_flags &= RTE_MBUF_F_EXTERNAL;
	if (!csum && !tso) {
		if (virt && (vh->flags & VIRTIO_NET_HDR_F_DATA_VALID))
			m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		return;
	}
	m->l2_len = l4->l3;
	m->l3_len = l4->l4 - l4->l3;
	m->ol_flags |= l4->v6 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4;
	m->ol_flags |= l4->proto == IPPROTO_TCP ? RTE_MBUF_F_TX_TCP_CKSUM : RTE_MBUF_F_TX_UDP_CKSUM;
	if (tso) {
		m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
		m->tso_segsz = vh->gso_size;
		m->l4_len = vh->hdr_len > l4->l4 ? vh->hdr_len - l4->l4 : 20;
	}
}

struct gso_out {
	struct rte_mbuf **out;
	unsigned n, max;
};

static int gso_emit(void *opaque, const uint8_t *frame, uint32_t len)
{
	struct gso_out *g = opaque;
	struct net_seg r = { (uint8_t *)frame, len };

	if (g->n == g->max)
		return -E2BIG;
	g->out[g->n] = copy_in(&r, 1);
	if (!g->out[g->n])
		return -ENOBUFS;
	g->out[g->n++]->ol_flags = 0;
	return 0;
}

int net_dpdk_tx_pkt(struct net_dpdk_tx *t, struct net_pkt *pkt, uint64_t capa, bool zc,
		    struct rte_mbuf **out, unsigned max, bool *held)
{
	const struct virtio_net_hdr *vh = &pkt->vh;
	bool virt = capa & NET_DPDK_CAPA_VIRT, csum = vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;
	bool gso = (vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_NONE;
	bool hw_csum = false, hw_tso = false;
	struct net_seg r[NET_PKT_MAX_SEGS + 1];
	uint8_t *frame = pkt->data;
	struct pv_net_l4 l4 = { 0 };
	unsigned nr = regions(pkt, r);
	struct net_dpdk_txc *c;
	struct rte_mbuf *m;
	int rc;

	*held = false;
	if (!max)
		return -E2BIG;
	if (csum || gso) {
		/* The headers must be ours and in one piece: linearise a frame
		 * whose headers run into the guest's pages. */
		if (pv_net_l4_find(frame, pkt->head_len, PV_NET_F_VLAN, &l4) < 0 ||
		    (gso && vh->hdr_len > pkt->head_len)) {
			if (nr > 1) {
				frame = linearise(t, r, &nr);
				zc = false;
			}
			if (pv_net_l4_find(frame, r[0].len, PV_NET_F_VLAN, &l4) < 0) {
				t->st->tx_bad_offload++;
				return -EINVAL;
			}
		}
		hw_tso = gso && (capa & RTE_ETH_TX_OFFLOAD_TCP_TSO) && l4.proto == IPPROTO_TCP;
		hw_csum = csum && (capa & (l4.proto == IPPROTO_TCP ? RTE_ETH_TX_OFFLOAD_TCP_CKSUM :
					   RTE_ETH_TX_OFFLOAD_UDP_CKSUM));
	}
	if (gso && !hw_tso) {
		struct gso_out g = { out, 0, max };

		if (nr > 1) /* the segmenter reads one linear frame */
			frame = linearise(t, r, &nr);
		rc = net_gso_segment(frame, r[0].len, vh, gso_emit, &g);
		if (rc < 0) {
			while (g.n)
				rte_pktmbuf_free(out[--g.n]);
			if (rc == -ENOBUFS)
				t->st->tx_nombuf++;
			else if (rc == -EINVAL)
				t->st->tx_bad_offload++;
			return rc;
		}
		t->st->tx_gso_sw++;
		t->st->tx_copied++;
		return (int)g.n;
	}
	if (csum && !hw_csum) {
		if (nr > 1) { /* the checksum covers the guest's pages: copy first */
			frame = linearise(t, r, &nr);
			zc = false;
		}
		if (net_csum_complete(frame, r[0].len, vh) < 0) {
			t->st->tx_bad_offload++;
			return -EINVAL;
		}
		t->st->tx_csum_sw++;
	}
	if (hw_tso && !virt) {
		/* A device's TSO wants the pseudo-header sum without the length;
		 * the header is ours (head or scratch). */
		uint16_t ps = pv_net_pseudo_sum(frame, &l4, 0);

		frame[l4.l4 + 16] = (uint8_t)(ps >> 8);
		frame[l4.l4 + 17] = (uint8_t)ps;
	}
	c = zc ? t->free_ctx : NULL;
	if (c) {
		c->pkt = pkt;
		m = attach(c, r, nr);
		if (m) {
			t->free_ctx = c->next;
			__atomic_add_fetch(&block_of(t)->held, 1, __ATOMIC_ACQ_REL);
			*held = true;
			t->st->tx_zero_copy++;
		}
	} else {
		m = NULL;
	}
	if (!m) {
		m = copy_in(r, nr);
		if (!m) {
			t->st->tx_nombuf++;
			return -ENOBUFS;
		}
		t->st->tx_copied++;
	}
	set_flags(m, vh, &l4, hw_csum, hw_tso, virt);
	out[0] = m;
	return 1;
}

/* ----------------------------------------------------------- guest RX */

struct net_dpdk_rxd {
	struct net_pkt pkt;
	struct rte_mbuf *m;
	int bounce;                   /* its bounce buffer, or -1 */
	struct net_dpdk_rxd *next;
};

int net_dpdk_rx_init(struct net_dpdk_rx *r, struct net_dpdk_stats *st)
{
	unsigned i;

	memset(r, 0, sizeof(*r));
	r->st = st;
	r->d = calloc(NET_DPDK_RX_PKTS, sizeof(*r->d));
	if (!r->d)
		return -ENOMEM;
	r->bounce = mmap(NULL, (size_t)NET_DPDK_BOUNCE * NET_MAX_PKT, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r->bounce == MAP_FAILED) {
		r->bounce = NULL;
		free(r->d);
		r->d = NULL;
		return -ENOMEM;
	}
	r->bounce_free = (1u << NET_DPDK_BOUNCE) - 1;
	for (i = NET_DPDK_RX_PKTS; i-- > 0;) {
		r->d[i].pkt.owner = &r->d[i];
		r->d[i].next = r->free_d;
		r->free_d = &r->d[i];
	}
	return 0;
}

void net_dpdk_rx_fini(struct net_dpdk_rx *r)
{
	unsigned i;

	if (!r->d)
		return;
	for (i = 0; i < NET_DPDK_RX_PKTS; i++)
		if (r->d[i].m)
			rte_pktmbuf_free(r->d[i].m);
	free(r->d);
	munmap(r->bounce, (size_t)NET_DPDK_BOUNCE * NET_MAX_PKT);
	r->d = NULL;
}

/* The mbuf's offload flags (a PMD's RX flags, or a switch peer's TX ones)
 * as the virtio_net_hdr rx.c maps to netif. */
static void rx_flags(const struct rte_mbuf *m, uint8_t *data, uint32_t len,
		     struct virtio_net_hdr *vh)
{
	uint64_t ol = m->ol_flags;
	struct pv_net_l4 l4;
	bool partial, gso;

	memset(vh, 0, sizeof(*vh));
	partial = (ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_NONE ||
		  (ol & RTE_MBUF_F_TX_L4_MASK) || (ol & RTE_MBUF_F_TX_TCP_SEG);
	gso = ((ol & RTE_MBUF_F_TX_TCP_SEG) || (ol & RTE_MBUF_F_RX_LRO)) && m->tso_segsz;
	if (!partial && !gso) {
		if ((ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
			vh->flags = VIRTIO_NET_HDR_F_DATA_VALID;
		return;
	}
	if (pv_net_l4_find(data, len, PV_NET_F_VLAN, &l4) < 0)
		return; /* nothing we can describe: the guest checks it */
	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh->csum_start = (uint16_t)l4.l4;
	vh->csum_offset = l4.proto == IPPROTO_TCP ? 16 : 6;
	if (gso && l4.proto == IPPROTO_TCP && l4.l4 + 20 <= len) {
		vh->gso_type = l4.v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
		vh->gso_size = m->tso_segsz;
		vh->hdr_len = (uint16_t)(l4.l4 + (data[l4.l4 + 12] >> 4) * 4u);
	}
}

unsigned net_dpdk_rx_pkts(struct net_dpdk_rx *r, struct rte_mbuf **m, unsigned n,
			  struct net_pkt **pkts, unsigned max, unsigned *used)
{
	unsigned i, k = 0, off = __atomic_load_n(&r->offloads, __ATOMIC_RELAXED);

	for (i = 0; i < n && k < max && r->free_d; i++) {
		struct net_dpdk_rxd *d = r->free_d;
		struct rte_mbuf *mb = m[i];
		uint8_t *data;
		int b = -1;

		if (mb->pkt_len > NET_MAX_PKT || mb->pkt_len < NET_ETH_HLEN) {
			r->st->rx_too_long++;
			rte_pktmbuf_free(mb);
			continue;
		}
		if (mb->nb_segs > 1) {
			if (!r->bounce_free)
				break; /* the next rx_burst, once some came back */
			b = __builtin_ctz(r->bounce_free);
			data = r->bounce + (size_t)b * NET_MAX_PKT;
			if (!rte_pktmbuf_read(mb, 0, mb->pkt_len, data)) {
				rte_pktmbuf_free(mb);
				continue;
			}
			r->bounce_free &= ~(1u << b);
			r->st->rx_linearised++;
		} else {
			data = rte_pktmbuf_mtod(mb, uint8_t *);
		}
		rx_flags(mb, data, mb->pkt_len, &d->pkt.vh);
		if (d->pkt.vh.gso_type &&
		    !(off & (d->pkt.vh.gso_type == VIRTIO_NET_HDR_GSO_TCPV6 ? NET_OFF_TSO6 :
								      NET_OFF_TSO4))) {
			r->st->rx_gso_unsupported++;
			if (b >= 0)
				r->bounce_free |= 1u << b;
			rte_pktmbuf_free(mb);
			continue;
		}
		r->free_d = d->next;
		d->m = mb;
		d->bounce = b;
		d->pkt.data = data;
		d->pkt.len = d->pkt.head_len = mb->pkt_len;
		d->pkt.nr_segs = 0;
		d->pkt.segs = NULL;
		pkts[k++] = &d->pkt;
	}
	*used = i;
	return k;
}

void net_dpdk_rx_release(struct net_dpdk_rx *r, struct net_pkt **pkts, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		struct net_dpdk_rxd *d = pkts[i]->owner;

		if (d->bounce >= 0)
			r->bounce_free |= 1u << d->bounce;
		rte_pktmbuf_free(d->m);
		d->m = NULL;
		d->next = r->free_d;
		r->free_d = d;
	}
}

/* -------------------------------------------------- a polled port queue */

static bool q_poll(struct net_dpdk_q *c);

static void q_wake(void *opaque)
{
	q_poll(opaque);
}

int net_dpdk_q_init(struct net_dpdk_q *c, struct pv_loop *loop,
		    const struct net_port_queue_cbs *cbs, void *opaque,
		    unsigned (*fill)(struct net_dpdk_q *c), unsigned offloads)
{
	int rc;

	c->cbs = cbs;
	c->opaque = opaque;
	c->fill = fill;
	rc = net_dpdk_wake_init(&c->wake, loop, q_wake, c);
	if (rc < 0)
		return rc;
	rc = net_dpdk_tx_init(&c->tx, cbs, opaque, &c->wake, &c->st);
	if (rc < 0)
		goto fail_wake;
	rc = net_dpdk_rx_init(&c->rx, &c->st);
	if (rc < 0)
		goto fail_tx;
	c->rx.offloads = offloads;
	return 0;
fail_tx:
	net_dpdk_tx_fini(&c->tx);
fail_wake:
	net_dpdk_wake_fini(&c->wake);
	return rc;
}

void net_dpdk_q_fini(struct net_dpdk_q *c)
{
	net_dpdk_wake_fini(&c->wake);
	net_dpdk_tx_reap(&c->tx);
	while (c->stash_next < c->nr_stash)
		rte_pktmbuf_free(c->stash[c->stash_next++]);
	net_dpdk_tx_fini(&c->tx);
	net_dpdk_rx_fini(&c->rx);
}

/* A burst into the stash when it is empty and the guest takes frames. */
static unsigned q_fill(struct net_dpdk_q *c)
{
	if (c->paused || c->stash_next < c->nr_stash)
		return 0;
	c->nr_stash = c->stash_next = 0;
	c->nr_stash = c->fill(c);
	return c->nr_stash;
}

unsigned net_dpdk_q_rx_burst(struct net_port_queue *q, struct net_pkt **pkts, unsigned max)
{
	struct net_dpdk_q *c = (struct net_dpdk_q *)q;
	unsigned used, k;

	net_dpdk_thread();
	q_fill(c);
	k = net_dpdk_rx_pkts(&c->rx, c->stash + c->stash_next, c->nr_stash - c->stash_next, pkts,
			     max, &used);
	c->stash_next += used;
	return k;
}

void net_dpdk_q_rx_release(struct net_port_queue *q, struct net_pkt **pkts, unsigned n)
{
	net_dpdk_rx_release(&((struct net_dpdk_q *)q)->rx, pkts, n);
}

/* While paused the frames stay where they are (the device drops beyond
 * its ring, the switch's inbox beyond its size). */
void net_dpdk_q_rx_pause(struct net_port_queue *q, bool pause)
{
	((struct net_dpdk_q *)q)->paused = pause;
}

bool net_dpdk_q_poll(struct net_port_queue *q)
{
	return q_poll((struct net_dpdk_q *)q);
}

static bool q_poll(struct net_dpdk_q *c)
{
	bool found, reaped;

	net_dpdk_thread();
	/* Buffers back (a stop may wait for them): the queue runs. */
	reaped = net_dpdk_tx_reap(&c->tx) > 0;
	if (c->paused) {
		c->st.rx_paused++;
		if (reaped)
			c->cbs->rx_ready(c->opaque);
		return reaped;
	}
	found = q_fill(c) > 0 || c->stash_next < c->nr_stash;
	if (!found) {
		/* Arm, then look once more: another thread that queued for us
		 * before it saw armed did not kick (both sides seq_cst), and a
		 * worker sleeping until an fd fires would never come back. */
		__atomic_store_n(&c->wake.armed, true, __ATOMIC_SEQ_CST);
		found = q_fill(c) > 0;
	}
	if (found)
		__atomic_store_n(&c->wake.armed, false, __ATOMIC_RELAXED);
	if (found || reaped)
		c->cbs->rx_ready(c->opaque);
	return found;
}

void net_dpdk_q_set_offloads(struct net_port_queue *const *qs, unsigned n, unsigned off)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (qs[i])
			__atomic_store_n(&((struct net_dpdk_q *)qs[i])->rx.offloads, off,
					 __ATOMIC_RELAXED);
}

void net_dpdk_q_sum(struct net_dpdk_stats *st, const struct net_dpdk_stats *past,
		    struct net_port_queue *const *qs, unsigned n)
{
	unsigned i;

	*st = *past;
	for (i = 0; i < n; i++)
		if (qs[i])
			net_dpdk_stats_add(st, &((struct net_dpdk_q *)qs[i])->st);
}
