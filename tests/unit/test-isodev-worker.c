/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: the worker side of --isolate domain's device protocol
 * (common/isodev.c), driven over its socket as the xenbus process drives
 * it: START hands the body and fds to the backend and answers its rc, a
 * second START of the same device is refused with its fds closed; STATS
 * answers the backend's counters, zeros for a device it does not run;
 * a user request is answered when it has a reply and silent when not, and
 * one about an unknown device leaks none of its fds; STOP drains and
 * answers STOPPED with the counters; a violation from another thread
 * arrives as VIOLATION; a malformed message or the socket's end stops
 * every device (each answered STOPPED) and ends the worker.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "fd-count.h"
#include "pvcommon.h"

/* The wire format (common/isodev.c): a header, then the type's body. */
enum {
	START = 1, STOP, STATS, USER = 8,
	STARTED = 16, STOPPED, STATS_REPLY, VIOLATION, REPLY = 24,
};
#define REASON_MAX 160

struct hdr {
	uint32_t type, id;
};

struct start_body {
	int32_t rc;      /* what w_start returns */
	uint32_t magic;
};

/* ---------------------------------------------------------- the backend */

static unsigned started, stopped_n, messages;
static uint32_t last_magic;
static int last_nfds;
static struct pv_isodev_w *last_dev;

static int w_start(struct pv_isodev_w *d, void *start, int *fds, unsigned nfds)
{
	struct start_body *b = start;

	last_nfds = (int)nfds;
	for (unsigned i = 0; i < nfds; i++)
		close(fds[i]);
	if (b->rc < 0)
		return b->rc;
	started++;
	last_magic = b->magic;
	last_dev = d;
	return pv_isodev_w_set(d, (void *)(uintptr_t)b->magic, NULL, 0);
}

static void w_stats(struct pv_isodev_w *d, void *stats)
{
	*(uint64_t *)stats = 1000 + (uintptr_t)pv_isodev_w_priv(d);
}

static void w_stopped(struct pv_isodev_w *d, void *past)
{
	stopped_n++;
	*(uint64_t *)past = 2000 + (uintptr_t)pv_isodev_w_priv(d);
}

static void w_message(struct pv_isodev_w *d, unsigned n, void *req, int *fds, unsigned nfds,
		      void *reply)
{
	(void)d;
	messages++;
	for (unsigned i = 0; i < nfds; i++)
		close(fds[i]);
	if (reply)
		*(uint32_t *)reply = *(uint32_t *)req + n;
}

static const struct pv_isodev_desc desc = {
	.start_size = sizeof(struct start_body),
	.stats_size = sizeof(uint64_t),
	.past_size = sizeof(uint64_t),
	.user = { [0] = { sizeof(uint32_t), sizeof(uint32_t) }, [1] = { sizeof(uint32_t), 0 } },
	.w_start = w_start,
	.w_stats = w_stats,
	.w_stopped = w_stopped,
	.w_message = w_message,
};

/* ---------------------------------------------------------- the harness */

struct fixture {
	int sv[2];
	struct pv_loop *loop;
	pthread_t thread;
	bool joined;
	int rc;
};

static void *run(void *opaque)
{
	struct fixture *f = opaque;

	f->rc = pv_isodev_worker(NULL, f->loop, f->sv[1], &desc);
	return NULL;
}

static int setup(void **state)
{
	static struct fixture f;

	started = stopped_n = messages = 0;
	last_dev = NULL;
	f.joined = false;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, f.sv), 0);
	assert_int_equal(pv_loop_create(&f.loop), 0);
	assert_int_equal(pthread_create(&f.thread, NULL, run, &f), 0);
	*state = &f;
	return 0;
}

/* The worker ends (its socket's end, closed by it) and is joined. */
static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->sv[0] >= 0)
		close(f->sv[0]);
	if (!f->joined)
		pthread_join(f->thread, NULL);
	pv_loop_destroy(f->loop);
	return 0;
}

static void send_msg(struct fixture *f, uint32_t type, uint32_t id, const void *body, size_t len,
		     const int *fds, unsigned nfds)
{
	unsigned char m[256];
	struct hdr h = { type, id };

	memcpy(m, &h, sizeof(h));
	if (len)
		memcpy(m + sizeof(h), body, len);
	assert_int_equal(pv_isolate_send(f->sv[0], m, sizeof(h) + len, fds, nfds), 0);
}

/* The next message: its length; its header and body into h and body. */
static size_t recv_msg(struct fixture *f, struct hdr *h, void *body, size_t max)
{
	unsigned char m[256];
	struct pollfd p = { .fd = f->sv[0], .events = POLLIN };
	ssize_t n;

	assert_int_equal(poll(&p, 1, 10000), 1); /* the worker answers */
	n = pv_isolate_recv(f->sv[0], m, sizeof(m), NULL, 0, NULL);
	assert_true(n >= (ssize_t)sizeof(*h));
	memcpy(h, m, sizeof(*h));
	if ((size_t)n > sizeof(*h))
		memcpy(body, m + sizeof(*h), (size_t)n - sizeof(*h) < max ? (size_t)n - sizeof(*h) : max);
	return (size_t)n;
}

static int32_t start(struct fixture *f, uint32_t id, int32_t rc, uint32_t magic, unsigned nfds)
{
	struct start_body b = { rc, magic };
	int fds[2] = { -1, -1 };
	struct hdr h;
	int32_t got = 1;

	for (unsigned i = 0; i < nfds; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	send_msg(f, START, id, &b, sizeof(b), fds, nfds);
	for (unsigned i = 0; i < nfds; i++)
		close(fds[i]);
	assert_int_equal(recv_msg(f, &h, &got, sizeof(got)), sizeof(h) + sizeof(got));
	assert_int_equal(h.type, STARTED);
	assert_int_equal(h.id, id);
	return got;
}

/* ------------------------------------------------------------- the cases */

static void test_start_hands_over_body_and_fds_once(void **state)
{
	struct fixture *f = *state;
	unsigned before = open_fds();

	assert_int_equal(start(f, 51712, 0, 7, 2), 0);
	assert_int_equal(started, 1);
	assert_int_equal(last_magic, 7);
	assert_int_equal(last_nfds, 2);
	/* The same device again: refused, its fds not leaked. */
	assert_int_equal(start(f, 51712, 0, 8, 2), -EEXIST);
	assert_int_equal(started, 1);
	/* The backend's failure is the answer; nothing runs. */
	assert_int_equal(start(f, 51728, -EIO, 9, 1), -EIO);
	assert_int_equal(open_fds(), before);
}

static void test_stats_answer_for_running_devices_only(void **state)
{
	struct fixture *f = *state;
	uint64_t v = 1;
	struct hdr h;

	assert_int_equal(start(f, 1, 0, 5, 0), 0);
	send_msg(f, STATS, 1, NULL, 0, NULL, 0);
	assert_int_equal(recv_msg(f, &h, &v, sizeof(v)), sizeof(h) + sizeof(v));
	assert_int_equal(h.type, STATS_REPLY);
	assert_int_equal(v, 1005);
	send_msg(f, STATS, 99, NULL, 0, NULL, 0);
	assert_int_equal(recv_msg(f, &h, &v, sizeof(v)), sizeof(h) + sizeof(v));
	assert_int_equal(h.id, 99);
	assert_int_equal(v, 0);
}

static void test_user_requests_and_their_fds(void **state)
{
	struct fixture *f = *state;
	unsigned before = open_fds();
	uint32_t req = 40, got = 0;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct hdr h;

	assert_int_equal(start(f, 1, 0, 5, 0), 0);
	/* Request 1 has no reply; request 0 has one: the next message is its. */
	send_msg(f, USER + 1, 1, &req, sizeof(req), &fd, 1);
	send_msg(f, USER + 0, 1, &req, sizeof(req), NULL, 0);
	assert_int_equal(recv_msg(f, &h, &got, sizeof(got)), sizeof(h) + sizeof(got));
	assert_int_equal(h.type, REPLY + 0);
	assert_int_equal(got, 40);
	assert_int_equal(messages, 2);
	/* About a device it does not run: not the backend's, fds closed. */
	send_msg(f, USER + 1, 77, &req, sizeof(req), &fd, 1);
	send_msg(f, USER + 0, 77, &req, sizeof(req), NULL, 0);
	assert_int_equal(recv_msg(f, &h, &got, sizeof(got)), sizeof(h) + sizeof(got));
	assert_int_equal(h.id, 77);
	assert_int_equal(messages, 2);
	close(fd);
	assert_int_equal(open_fds(), before);
}

static void test_stop_answers_stopped_with_the_counters(void **state)
{
	struct fixture *f = *state;
	uint64_t past = 0;
	struct hdr h;

	assert_int_equal(start(f, 3, 0, 6, 0), 0);
	send_msg(f, STOP, 3, NULL, 0, NULL, 0);
	assert_int_equal(recv_msg(f, &h, &past, sizeof(past)), sizeof(h) + sizeof(past));
	assert_int_equal(h.type, STOPPED);
	assert_int_equal(h.id, 3);
	assert_int_equal(past, 2006);
	assert_int_equal(stopped_n, 1);
	/* Gone: it may start again. */
	assert_int_equal(start(f, 3, 0, 6, 0), 0);
}

static void *violate(void *d)
{
	pv_isodev_w_violation(d, "bad\nrequest");
	return NULL;
}

static void test_a_violation_from_a_queue_thread_arrives(void **state)
{
	struct fixture *f = *state;
	char reason[REASON_MAX] = "";
	pthread_t t;
	struct hdr h;

	assert_int_equal(start(f, 4, 0, 1, 0), 0);
	assert_int_equal(pthread_create(&t, NULL, violate, last_dev), 0);
	pthread_join(t, NULL);
	assert_int_equal(recv_msg(f, &h, reason, sizeof(reason)), sizeof(h) + REASON_MAX);
	assert_int_equal(h.type, VIOLATION);
	assert_int_equal(h.id, 4);
	assert_string_equal(reason, "bad\nrequest"); /* the xenbus side sanitises it */
}

static void test_a_malformed_message_ends_the_worker_after_its_stops(void **state)
{
	struct fixture *f = *state;
	uint32_t junk = 0;
	uint64_t past;
	struct hdr h;

	assert_int_equal(start(f, 1, 0, 1, 0), 0);
	assert_int_equal(start(f, 2, 0, 2, 0), 0);
	/* STATS with a body: not what the xenbus process sends. */
	send_msg(f, STATS, 1, &junk, sizeof(junk), NULL, 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(recv_msg(f, &h, &past, sizeof(past)), sizeof(h) + sizeof(past));
		assert_int_equal(h.type, STOPPED);
	}
	pthread_join(f->thread, NULL);
	f->joined = true;
	assert_int_equal(f->rc, 0);
	assert_int_equal(stopped_n, 2);
}

static void test_the_sockets_end_stops_every_device(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(start(f, 1, 0, 1, 0), 0);
	assert_int_equal(start(f, 2, 0, 2, 0), 0);
	close(f->sv[0]);
	f->sv[0] = -1;
	pthread_join(f->thread, NULL);
	f->joined = true;
	assert_int_equal(f->rc, 0);
	assert_int_equal(stopped_n, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_start_hands_over_body_and_fds_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stats_answer_for_running_devices_only, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_user_requests_and_their_fds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_answers_stopped_with_the_counters, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_violation_from_a_queue_thread_arrives, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_malformed_message_ends_the_worker_after_its_stops,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_sockets_end_stops_every_device, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
