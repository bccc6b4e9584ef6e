// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: libFuzzer harness for the frontend's xenstore keys as a
 * backend reads them: the real common/xenbus.c, xs.c and util.c over a fake
 * libxenstore (fake-xenstore.c), so no xenstored runs.  One vbd device of
 * domain 1 is probed once; each input then becomes its frontend directory
 * ("key=value" lines; a value may hold any byte but a newline, a NUL too,
 * as a guest can write) and the readers run on it as the backends call
 * them: ring-page-order within a fuzzed maximum, the grant refs of one of
 * the layouts (ring-ref / ring-refN, tx-/rx-/urb-/conn-/ctrl-ring-ref,
 * under "" or queue-N/), the event channel(s) incl. the split tx/rx pair,
 * multi-queue-num-queues within a fuzzed maximum, the protocol string
 * (blk_abi_parse) and one number within fuzzed bounds.  Invariants: a
 * value accepted is within the bounds asked for and is exactly what the
 * node holds, all of it decimal digits; a refused read names its key.
 * Input: 4 knob bytes (layout, maximum order, maximum queues, bounds),
 * then the lines.
 * Build: make fuzz-xb-keys (clang); make fuzz runs every harness for a
 * while, make check for a few seconds (tests/sim/fuzz-smoke.sh).
 */
#include <errno.h>
#include <xen/io/xenbus.h>

#include "blkback.h"
#include "fake-xenstore.h"
#include "fuzz-common.h"

#define FE "/local/domain/1/device/vbd/51712"
#define BE "/local/domain/0/backend/vbd/1/51712"

static struct pv_xb_dev *dev;

static int probe(struct pv_xb_dev *d)
{
	dev = d;
	return 0;
}

static int connect(struct pv_xb_dev *d) { (void)d; return 0; }
static void disconnect(struct pv_xb_dev *d) { (void)d; }
static void changed(struct pv_xb_dev *d, const char *key) { (void)d; (void)key; }
static int reconfigure(struct pv_xb_dev *d) { (void)d; return 0; }

static const struct pv_xb_backend_ops ops = {
	.type = "vbd", .connect_on_initialised = true, .hotplug = PV_XB_HOTPLUG_SELF,
	.probe = probe, .connect = connect, .disconnect = disconnect, .remove = disconnect,
	.changed = changed, .reconfigure = reconfigure,
};

static void set(const char *path, const char *val)
{
	FUZZ_CHECK(fake_xs_set(path, val, (unsigned)strlen(val)) == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct pv_xb_backend *be;
	struct pv_xs *xs;

	(void)argc;
	(void)argv;
	pv_log_init("fuzz-xb-keys", false, PV_LOG_ERR);
	set("domid", "0");
	set(BE, "");
	set(BE "/frontend-id", "1");
	set(BE "/frontend", FE);
	set(BE "/online", "1");
	set(FE "/state", "1");
	FUZZ_CHECK(pv_xs_open(NULL, &xs) == 0);
	FUZZ_CHECK(pv_xb_backend_start(NULL, xs, &ops, NULL, &be) == 0);
	while (!dev && pv_xs_dispatch(xs, 0) > 0)
		;
	FUZZ_CHECK(dev);
	return 0;
}

/* The node as a guest wrote it, parsed the strict way by hand. */
static int node_uint(const char *key, uint64_t *out)
{
	char path[256];
	const uint8_t *v;
	unsigned len, i;
	uint64_t x = 0;

	snprintf(path, sizeof(path), FE "/%s", key);
	v = fake_xs_get(path, &len);
	if (!v)
		return -ENOENT;
	if (!len)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (v[i] < '0' || v[i] > '9' || __builtin_mul_overflow(x, 10, &x) ||
		    __builtin_add_overflow(x, v[i] - '0', &x))
			return -EINVAL;
	*out = x;
	return 0;
}

static void check_uint(int rc, const char *key, uint64_t min, uint64_t max, uint64_t got)
{
	uint64_t want;

	if (rc < 0)
		return;
	FUZZ_CHECK(node_uint(key, &want) == 0 && want == got);
	FUZZ_CHECK(got >= min && got <= max);
}

/* The directory as the input says: "key=value" lines. */
static void load(struct fuzz_in *in)
{
	char path[256], *eq;

	fake_xs_clear_under(FE);
	while (in->n) {
		const uint8_t *nl = memchr(in->p, '\n', in->n);
		size_t len = nl ? (size_t)(nl - in->p) : in->n;
		char line[200];

		if (len < sizeof(line)) {
			memcpy(line, in->p, len);
			line[len] = 0;
			eq = memchr(line, '=', len);
			if (eq && eq > line && !memchr(line, 0, (size_t)(eq - line))) {
				*eq = 0; /* the key: no NUL, no '=' */
				snprintf(path, sizeof(path), FE "/%s", line);
				fake_xs_set(path, eq + 1, (unsigned)(len - (size_t)(eq + 1 - line)));
			}
		}
		in->p += len + (nl != NULL);
		in->n -= len + (nl != NULL);
	}
}

static void check_refs(const char *dir, const char *name, unsigned order, int rc,
		       const uint32_t *refs)
{
	char key[64];
	unsigned i;

	if (rc < 0) {
		FUZZ_CHECK(*pv_xb_dev_failed_key(dev));
		return;
	}
	FUZZ_CHECK(order <= PV_XB_RING_ORDER_MAX);
	for (i = 0; i < 1u << order; i++) {
		FUZZ_CHECK(pv_xb_ring_key(key, sizeof(key), dir, name, order, i) == 0);
		check_uint(0, key, 0, UINT32_MAX, refs[i]);
	}
}

static void check_evtchns(const char *dir, bool split, int rc, const uint32_t *ports)
{
	char key[64], tx[72], rx[72];
	uint64_t a, b;

	snprintf(key, sizeof(key), "%sevent-channel", dir);
	snprintf(tx, sizeof(tx), "%s-tx", key);
	snprintf(rx, sizeof(rx), "%s-rx", key);
	if (split && node_uint(tx, &a) == 0 && a <= UINT32_MAX && node_uint(rx, &b) == 0 &&
	    b <= UINT32_MAX)
		FUZZ_CHECK(rc == 2 && ports[0] == a && ports[1] == b);
	if (rc == 2) {
		FUZZ_CHECK(split);
		check_uint(0, tx, 0, UINT32_MAX, ports[0]);
		check_uint(0, rx, 0, UINT32_MAX, ports[1]);
	} else if (rc == 1) {
		check_uint(0, key, 0, UINT32_MAX, ports[0]);
	} else {
		FUZZ_CHECK(rc < 0 && *pv_xb_dev_failed_key(dev));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const dirs[] = { "", "queue-0/", "queue-1/", "queue-15/" };
	static const char *const names[] = { "ring-ref", "tx-ring-ref", "rx-ring-ref",
					     "urb-ring-ref", "conn-ring-ref", "ctrl-ring-ref" };
	struct fuzz_in in = { data, size };
	uint8_t sel = (uint8_t)fuzz_uint(&in, 1);
	unsigned max_order = (unsigned)fuzz_uint(&in, 1) % (PV_XB_RING_ORDER_MAX + 2);
	unsigned max_queues = (unsigned)fuzz_uint(&in, 1), nq = 0;
	uint8_t bounds = (uint8_t)fuzz_uint(&in, 1);
	uint64_t order = 0, min = bounds & 0xf, max = min + (bounds >> 4) * 1000, v = 0;
	const char *dir = dirs[sel & 3], *name = names[(sel >> 2) % 6];
	uint32_t refs[1u << PV_XB_RING_ORDER_MAX], ports[2];
	enum blk_abi abi;
	char *proto;
	int rc;

	load(&in);
	rc = pv_xb_dev_read_fe_uint(dev, "ring-page-order", 0, max_order, &order);
	check_uint(rc, "ring-page-order", 0, max_order, order);
	if (rc < 0)
		order = 0;
	rc = pv_xb_dev_read_grefs(dev, dir, name, (unsigned)order, refs);
	check_refs(dir, name, (unsigned)order, rc, refs);
	rc = pv_xb_dev_read_evtchns(dev, dir, "event-channel", sel & 0x80, ports);
	check_evtchns(dir, sel & 0x80, rc, ports);
	rc = pv_xb_dev_read_nr_queues(dev, max_queues, &nq);
	if (rc == 0 && node_uint("multi-queue-num-queues", &v) == -ENOENT)
		FUZZ_CHECK(nq == 1);
	else
		check_uint(rc, "multi-queue-num-queues", 1, max_queues, nq);
	proto = pv_xb_dev_read_fe(dev, "protocol");
	if (blk_abi_parse(proto, &abi) == 0)
		FUZZ_CHECK(!proto || !*proto || !strcmp(proto, XEN_IO_PROTO_ABI_X86_64) ||
			   !strcmp(proto, XEN_IO_PROTO_ABI_X86_32) || !strcmp(proto, "native"));
	free(proto);
	rc = pv_xb_dev_read_fe_uint(dev, "feature-persistent", min, max, &v);
	check_uint(rc, "feature-persistent", min, max, v);
	return 0;
}
