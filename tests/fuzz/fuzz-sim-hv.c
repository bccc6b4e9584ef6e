// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: libFuzzer harness for what pvsim's hypervisor takes from
 * other processes: grant entries a guest writes into its shared table, pins
 * and copies a mapping process makes of them (common/hv_sim_gnttab.c), the
 * pin journal records a dead process leaves (garbled ones too), which the
 * daemon settles with sim_gnt_release, its lock words left held by a dead
 * holder; and the event-channel requests of the hv socket (struct
 * sim_hv_req: alloc unbound, bind interdomain, close, info) with their raw
 * 32-bit arguments, on three domains' port tables (sim/evtchn.c).  The
 * input is a stream of operations: one byte picks the operation, the
 * following bytes are its fields.  Invariants after each: no entry lock is
 * left held; a pin count never exceeds the pins ever taken of it (a
 * release never drops one that is not there); a settle leaves no in-use
 * bit without its pin; a pin maps only a frame below the domain's RAM; a
 * released record changes its count by the one it reports; interdomain
 * ports pair up both ways, a port is returned only in range, and only the
 * handle that bound a port may use it.
 * Build: make fuzz-sim-hv (clang); make fuzz runs every harness for a
 * while, make check for a few seconds (tests/sim/fuzz-smoke.sh).
 */
#include <errno.h>

#include "evtchn.h"
#include "hv_sim_abi.h"
#include "fuzz-common.h"

#define REFS     8u   /* a small table: the fuzzer hits the same entries */
#define FRAMES   16u
#define MAPPER   1u   /* the mapping process's domain */
#define TAG_LIVE 5u   /* the mapping process's lock tag */
#define TAG_DEAD 7u   /* a dead process's lock tag */
#define DOMS     3u

static struct grant_entry_v1 shared[REFS];
static struct sim_gnt_active active[REFS];
static struct sim_pin_rec recs[REFS];
static uint32_t taken[REFS][2];           /* pins ever taken, per kind */
static struct sim_evtchn_dom doms[DOMS];  /* domids 0, 1, 2 */
static unsigned ports_hi[DOMS];           /* ports below this may be in use */
static int owners[4];                     /* handles: their addresses */

static const struct sim_gnt_table mapper_view = {
	.shared = shared, .active = active, .nr_entries = REFS, .owner = TAG_LIVE,
	.nr_frames = FRAMES,
};
static const struct sim_gnt_table daemon_view = {
	.shared = shared, .active = active, .nr_entries = REFS, .owner = 0, .nr_frames = FRAMES,
};

static struct sim_evtchn_dom *lookup(void *opaque, uint16_t domid)
{
	(void)opaque;
	return domid < DOMS ? &doms[domid] : NULL;
}

static uint16_t count(unsigned ref, bool w)
{
	return w ? active[ref].pin_rw : active[ref].pin_ro;
}

static void check_grants(void)
{
	for (unsigned i = 0; i < REFS; i++) {
		FUZZ_CHECK(active[i].lock == 0);
		FUZZ_CHECK(active[i].pin_ro <= taken[i][0] && active[i].pin_rw <= taken[i][1]);
	}
}

static void check_ports(void)
{
	for (unsigned d = 0; d < DOMS; d++)
		for (unsigned p = 0; p < ports_hi[d]; p++) {
			const struct sim_evtchn_port *c = &doms[d].port[p];
			const struct sim_evtchn_port *r;

			FUZZ_CHECK(c->state <= SIM_ECS_INTERDOMAIN);
			FUZZ_CHECK(p || c->state == SIM_ECS_FREE);
			if (c->state != SIM_ECS_INTERDOMAIN)
				continue;
			FUZZ_CHECK(c->remote_dom < DOMS && c->remote_port < SIM_EVTCHN_PORTS);
			r = &doms[c->remote_dom].port[c->remote_port];
			FUZZ_CHECK(r->state == SIM_ECS_INTERDOMAIN && r->remote_dom == d &&
				   r->remote_port == p);
		}
}

/* A guest's own writes to its table: raw, or through Linux's helpers. */
static void guest_write(struct fuzz_in *in, bool raw)
{
	unsigned ref = (unsigned)fuzz_uint(in, 1) % REFS;
	uint16_t flags = (uint16_t)fuzz_uint(in, 2), domid = (uint16_t)fuzz_uint(in, 1);
	uint32_t frame = (uint32_t)fuzz_uint(in, 1);

	if (raw) {
		shared[ref] = (struct grant_entry_v1){ .flags = flags, .domid = domid,
						       .frame = frame };
	} else if (flags & 1) {
		sim_gnt_grant_access(&shared[ref], domid, frame, flags & 2);
	} else if (sim_gnt_end_access(&shared[ref]) == 0) {
		FUZZ_CHECK(!(shared[ref].flags & (GTF_reading | GTF_writing)));
	}
}

static void pin(struct fuzz_in *in)
{
	uint8_t b = (uint8_t)fuzz_uint(in, 1);
	unsigned ref = b >> 1, slot = ref % REFS;
	bool w = b & 1;
	uint32_t frame = ~0u;

	sim_pin_rec_want(&recs[slot], 0, 1, ref, w);
	if (sim_gnt_pin(&mapper_view, ref, MAPPER, w, &frame, &recs[slot]) == 0) {
		FUZZ_CHECK(ref < REFS && frame < FRAMES && active[ref].domid == MAPPER);
		FUZZ_CHECK(recs[slot].state == SIM_PIN_HELD);
		taken[ref][w]++;
	}
}

static void unpin(struct fuzz_in *in)
{
	uint8_t b = (uint8_t)fuzz_uint(in, 1);
	unsigned ref = (b >> 1) % REFS;

	sim_gnt_unpin(&mapper_view, ref, b & 1, &recs[ref]);
}

static void copy(struct fuzz_in *in)
{
	uint8_t b = (uint8_t)fuzz_uint(in, 1);
	unsigned ref = b >> 1;
	uint32_t frame;

	if (sim_gnt_copy_begin(&mapper_view, ref, MAPPER, b & 1, &frame) == 0) {
		FUZZ_CHECK(ref < REFS && frame < FRAMES && active[ref].lock == TAG_LIVE);
		sim_gnt_copy_end(&mapper_view, ref);
	}
}

/*
 * The daemon settles one record of a dead process's journal: one the
 * operations above wrote, or 16 bytes of garbage; the process may have died
 * holding the entry's lock.
 */
static void release(struct fuzz_in *in, bool died_inside)
{
	uint8_t b = (uint8_t)fuzz_uint(in, 1);
	struct sim_pin_rec r;
	uint16_t before_ro, before_rw;
	unsigned ref;
	int rc;

	if (b & 1)
		fuzz_take(in, &r, sizeof(r));
	else
		r = recs[(b >> 1) % REFS];
	ref = r.ref < REFS ? r.ref : 0;
	if (died_inside && r.ref < REFS)
		active[ref].lock = TAG_DEAD;
	before_ro = active[ref].pin_ro;
	before_rw = active[ref].pin_rw;
	rc = sim_gnt_release(&daemon_view, &r, MAPPER, TAG_DEAD, 1);
	FUZZ_CHECK(rc == 0 || rc == 1 || rc == -EINVAL);
	if (rc < 0) {
		FUZZ_CHECK(r.ref >= REFS || r.writable > 1);
		active[ref].lock = 0; /* nothing took it over: the harness's own */
		return;
	}
	FUZZ_CHECK(active[ref].pin_ro + active[ref].pin_rw + rc == before_ro + before_rw);
	FUZZ_CHECK(!rc || count(ref, r.writable) + 1 == (r.writable ? before_rw : before_ro));
	if (died_inside) {
		FUZZ_CHECK(active[ref].pin_rw || !(shared[ref].flags & GTF_writing));
		FUZZ_CHECK(active[ref].pin_ro + active[ref].pin_rw ||
			   !(shared[ref].flags & GTF_reading));
	}
}

/* One hv socket request of a handle (owners[h]) of a domain. */
static void evtchn_req(struct fuzz_in *in, uint32_t op)
{
	uint8_t who = (uint8_t)fuzz_uint(in, 1);
	struct sim_evtchn_dom *d = &doms[who % DOMS], *rd;
	void *owner = &owners[(who >> 4) % 4];
	struct sim_hv_req req = { .op = op };
	int port;

	req.arg[0] = (uint32_t)fuzz_uint(in, 4);
	req.arg[1] = (uint32_t)fuzz_uint(in, 4);
	switch (op) {
	case SIM_HV_OP_EVTCHN_ALLOC:
		if (req.arg[0] > UINT16_MAX)
			return;
		port = sim_evtchn_alloc_unbound(d, (uint16_t)req.arg[0], owner);
		break;
	case SIM_HV_OP_EVTCHN_BIND:
		rd = req.arg[0] <= UINT16_MAX ? lookup(NULL, (uint16_t)req.arg[0]) : NULL;
		if (!rd)
			return;
		port = sim_evtchn_bind_interdomain(d, rd, req.arg[1], owner);
		break;
	default: /* close */
		if (!sim_evtchn_owned(d, req.arg[0], owner))
			return;
		FUZZ_CHECK(d->port[req.arg[0]].owner == owner && req.arg[0]);
		FUZZ_CHECK(sim_evtchn_close(d, req.arg[0], lookup, NULL) == 0);
		FUZZ_CHECK(d->port[req.arg[0]].state == SIM_ECS_FREE);
		return;
	}
	FUZZ_CHECK(port == -EINVAL || port == -ENOSPC || (port > 0 && port < (int)SIM_EVTCHN_PORTS));
	if (port <= 0)
		return;
	FUZZ_CHECK(sim_evtchn_owned(d, (uint32_t)port, owner));
	/* The lowest free port: every one in use stays below the highest. */
	if ((unsigned)port >= ports_hi[d - doms])
		ports_hi[d - doms] = (unsigned)port + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct fuzz_in in = { data, size };
	bool ports = false;

	memset(shared, 0, sizeof(shared));
	memset(active, 0, sizeof(active));
	memset(recs, 0, sizeof(recs));
	memset(taken, 0, sizeof(taken));
	for (unsigned d = 0; d < DOMS; d++) {
		if (!ready)
			sim_evtchn_dom_init(&doms[d], (uint16_t)d, NULL);
		/* Only what the last input used goes back to free. */
		memset(doms[d].port, 0, ports_hi[d] * sizeof(doms[d].port[0]));
		ports_hi[d] = 0;
	}
	ready = true;
	while (in.n) {
		switch (fuzz_uint(&in, 1) % 10) {
		case 0: guest_write(&in, true); break;
		case 1: guest_write(&in, false); break;
		case 2: pin(&in); break;
		case 3: unpin(&in); break;
		case 4: copy(&in); break;
		case 5: release(&in, false); break;
		case 6: release(&in, true); break;
		case 7: evtchn_req(&in, SIM_HV_OP_EVTCHN_ALLOC); ports = true; break;
		case 8: evtchn_req(&in, SIM_HV_OP_EVTCHN_BIND); ports = true; break;
		default: evtchn_req(&in, SIM_HV_OP_EVTCHN_CLOSE); ports = true; break;
		}
		check_grants();
	}
	if (ports)
		check_ports();
	return 0;
}
