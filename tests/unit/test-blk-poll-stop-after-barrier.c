// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: a polling pvback-blk queue (--poll-us) whose stop begins
 * while a barrier is in flight still answers every request pushed before
 * the stop, and the stop ends (issue 13, found by
 * tests/fuzz/fuzz-blk-queue.c).  The barrier blocks the ring; when its
 * completion (an fsync: io_uring hands it to a worker) came while the
 * queue thread spun in its poll hook, the hook reaped it but ran the ring
 * only when the queue was not stopping, and with the completion queue
 * empty no event came either: the stop waited for ever for the requests
 * behind the barrier.  Here the stop reaches the queue with the event that
 * brings the barrier, and the fsync of DIRTY bytes ends well inside a
 * 1 s poll spin.  A real blkif queue (blkback/ring.c, no xenstore:
 * vbd->dev is NULL) on the in-process pvsim, the guest side by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "blkback.h"
#include "hv-harness.h"

#define ROUNDS 10
#define DIRTY  (4u << 20) /* what the barrier's fsync writes back: it takes a while */

struct fix {
	struct t_sim *ts;
	struct pv_hv *guest;
	struct pv_loop *home;
	char path[64];
	struct blk_backing bs;
	char dirty[DIRTY];
};

static int group_setup(void **state)
{
	static struct fix f;
	int fd;

	*state = &f;
	if (t_sim_start(&f.ts) < 0 || !(f.guest = t_hv_open(1)))
		return -1;
	setenv("PVSIM_DOMID", "0", 1); /* the queue's own handles act as dom0 */
	if (pv_loop_create(&f.home) < 0)
		return -1;
	/* /var/tmp: a real filesystem, where an fsync has work to do. */
	strcpy(f.path, "/var/tmp/pvback-blk-poll.XXXXXX");
	fd = mkstemp(f.path);
	if (fd < 0 || ftruncate(fd, DIRTY) < 0)
		return -1;
	close(fd);
	return blk_backing_open(f.path, false, BLK_DIRECT_OFF, &f.bs);
}

static int group_teardown(void **state)
{
	struct fix *f = *state;

	blk_backing_close(&f->bs);
	unlink(f->path);
	pv_loop_destroy(f->home);
	pv_hv_close(f->guest);
	t_sim_stop(f->ts);
	return 0;
}

static void on_stopped(void *opaque)
{
	*(bool *)opaque = true;
}

static void push(struct pv_ring_front *front, uint8_t op, uint64_t id)
{
	struct blkif_request *r = pv_ring_front_req_slot(front);

	*r = (struct blkif_request){ .operation = op, .id = id };
	pv_ring_front_push(front);
}

/* A barrier and three flushes behind it, the event, and at once the stop. */
static void one_round(struct fix *f, const struct blk_config *cfg, int round)
{
	struct blk_vbd vbd = {
		.cfg = cfg, .name = "vbd-1-51712", .bs = f->bs, .nr_queues = 1,
		.lim = { .sectors = f->bs.size >> BLK_SECTOR_SHIFT },
	};
	struct blk_queue_params qp = { .domid = 1, .nr_ring_pages = 1, .abi = BLK_ABI_NATIVE };
	struct pv_ring_front front;
	struct blk_queue *q;
	bool done = false;
	unsigned seen = 0;
	void *sring;
	int port, i;

	assert_int_equal(pv_hv_share(f->guest, 0, 1, true, qp.ring_refs, &sring), 0);
	assert_int_equal(pv_ring_front_init(&front, sring, PV_PAGE_SIZE, BLKIF_NATIVE_ENT_SIZE), 0);
	port = pv_hv_evtchn_alloc(f->guest, 0);
	assert_true(port >= 0);
	qp.evtchn = (uint32_t)port;
	assert_int_equal(blk_queue_start(&vbd, &qp, &q), 0);
	memset(f->dirty, round, DIRTY);
	assert_int_equal(pwrite(f->bs.fd_buffered, f->dirty, DIRTY, 0), DIRTY);
	for (i = 0; i < 4; i++)
		push(&front, i ? BLKIF_OP_FLUSH_DISKCACHE : BLKIF_OP_WRITE_BARRIER, 100 + i);
	assert_int_equal(pv_hv_evtchn_notify(f->guest, (uint32_t)port), 0);
	assert_int_equal(pv_queue_stop_begin(blk_queue_pq(q), f->home, on_stopped, &done), 0);
	for (i = 0; !done && i < 10; i++)
		assert_true(pv_loop_run_once(f->home, 1000) >= 0);
	assert_true(done);
	blk_queue_stop(q);
	/* The barrier first; the flushes behind it in any order. */
	assert_int_equal(pv_ring_front_avail(&front), 4);
	for (i = 0; i < 4; i++) {
		struct blkif_response rsp;

		pv_ring_front_copy_rsp(&front, &rsp, sizeof(rsp));
		assert_true(i ? rsp.id > 100 && rsp.id < 104 && !(seen & 1u << (rsp.id - 100)) :
				rsp.id == 100);
		seen |= 1u << (rsp.id - 100);
		assert_int_equal(rsp.status, BLKIF_RSP_OKAY);
	}
	assert_int_equal(pv_hv_evtchn_close(f->guest, (uint32_t)port), 0);
	assert_int_equal(pv_hv_unshare(f->guest, sring, 1), 0);
}

static void test_a_polling_queue_stopped_behind_a_barrier_answers_all(void **state)
{
	struct blk_config cfg = {
		.pv = { .hv_kind = PV_HV_SIM, .poll_us = 1000000, .max_queues = 1 },
		.io_kind = BLK_IO_URING, .max_ring_order = 0, .max_pgrants = 32,
		.grant_mode = BLK_GRANT_MAP, .fixed_bufs = BLK_FIXED_OFF,
	};
	int i;

	for (i = 0; i < ROUNDS; i++)
		one_round(*state, &cfg, i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_polling_queue_stopped_behind_a_barrier_answers_all),
	};

	pv_log_init("test-blk-poll", false, PV_LOG_ERR);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
