/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: the worker socket of --isolate domain (common/isolate.c):
 * a message and its fds arrive whole, the fds usable and close-on-exec;
 * fds beyond what the receiver takes are closed, not leaked; a message
 * longer than the buffer is refused (-EMSGSIZE) with its fds closed; the
 * peer's close reads as 0; more fds than a message may carry are refused
 * before sending.  pv_isolate_spawn gives the child its end as fd 3 and
 * none of the parent's other fds, even one without close-on-exec.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fd-count.h"
#include "pvcommon.h"

static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

static void test_a_message_and_its_fds_arrive_whole(void **state)
{
	int sv[2], p1[2], p2[2], got[PV_ISOLATE_MAX_FDS];
	char buf[64], c;
	unsigned n = 0;

	(void)state;
	pair(sv);
	assert_int_equal(pipe(p1), 0);
	assert_int_equal(pipe(p2), 0);
	int fds[2] = { p1[1], p2[1] };
	assert_int_equal(pv_isolate_send(sv[0], "start", 5, fds, 2), 0);
	assert_int_equal(pv_isolate_recv(sv[1], buf, sizeof(buf), got, PV_ISOLATE_MAX_FDS, &n), 5);
	assert_memory_equal(buf, "start", 5);
	assert_int_equal(n, 2);
	assert_true(fcntl(got[0], F_GETFD) & FD_CLOEXEC);
	assert_int_equal(write(got[0], "a", 1), 1);
	assert_int_equal(write(got[1], "b", 1), 1);
	assert_int_equal(read(p1[0], &c, 1), 1);
	assert_int_equal(c, 'a');
	assert_int_equal(read(p2[0], &c, 1), 1);
	assert_int_equal(c, 'b');
	for (int *f = (int[]){ got[0], got[1], p1[0], p1[1], p2[0], p2[1], sv[0], sv[1] }, i = 0;
	     i < 8; i++)
		close(f[i]);
}

static void test_fds_beyond_the_receivers_are_closed(void **state)
{
	int sv[2], p[2], got[1];
	unsigned before, n = 9;
	char buf[8];

	(void)state;
	pair(sv);
	assert_int_equal(pipe(p), 0);
	before = open_fds();
	int fds[3] = { p[0], p[1], p[1] };
	assert_int_equal(pv_isolate_send(sv[0], "x", 1, fds, 3), 0);
	assert_int_equal(pv_isolate_recv(sv[1], buf, sizeof(buf), got, 1, &n), 1);
	assert_int_equal(n, 1);
	close(got[0]);
	assert_int_equal(open_fds(), before);
	/* None taken at all. */
	assert_int_equal(pv_isolate_send(sv[0], "y", 1, fds, 2), 0);
	assert_int_equal(pv_isolate_recv(sv[1], buf, sizeof(buf), NULL, 0, NULL), 1);
	assert_int_equal(open_fds(), before);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

static void test_a_message_longer_than_the_buffer_is_refused(void **state)
{
	int sv[2], p[2], got[2];
	unsigned before, n = 9;
	char buf[4];

	(void)state;
	pair(sv);
	assert_int_equal(pipe(p), 0);
	before = open_fds();
	assert_int_equal(pv_isolate_send(sv[0], "too long", 8, p, 2), 0);
	assert_int_equal(pv_isolate_recv(sv[1], buf, sizeof(buf), got, 2, &n), -EMSGSIZE);
	assert_int_equal(n, 0);
	assert_int_equal(open_fds(), before);
	/* Nothing waits: the next read would block. */
	assert_int_equal(pv_isolate_recv(sv[1], buf, sizeof(buf), NULL, 0, NULL), -EAGAIN);
	close(sv[0]);
	assert_int_equal(pv_isolate_recv(sv[1], buf, sizeof(buf), NULL, 0, NULL), 0);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
}

static void test_too_many_fds_are_refused_before_sending(void **state)
{
	int sv[2], fds[PV_ISOLATE_MAX_FDS + 1] = { 0 };
	char buf[4];

	(void)state;
	pair(sv);
	assert_int_equal(pv_isolate_send(sv[0], "z", 1, fds, PV_ISOLATE_MAX_FDS + 1), -EINVAL);
	assert_int_equal(pv_isolate_recv(sv[1], buf, sizeof(buf), NULL, 0, NULL), -EAGAIN);
	close(sv[0]);
	close(sv[1]);
}

static void test_a_spawned_child_has_fd_3_and_nothing_else(void **state)
{
	char script[256], buf[64] = "";
	char *argv[] = { "sh", "-c", script, NULL };
	int decoy, fd, status;
	ssize_t n;
	pid_t pid;

	(void)state;
	fd = open("/dev/null", O_RDONLY);
	/* No close-on-exec, and far above the fds a shell saves a redirected
	 * one to (dash dups to 10 and up): the script below must find only
	 * what the spawn left open, not what the shell opened itself. */
	decoy = fcntl(fd, F_DUPFD, 200);
	close(fd);
	assert_true(decoy >= 200);
	snprintf(script, sizeof(script),
		 "exec >&3; if [ -e /proc/$$/fd/%d ]; then echo leaked; else echo clean; fi",
		 decoy);
	assert_int_equal(pv_isolate_spawn("/bin/sh", argv, 0, &pid, &fd), 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	do
		n = recv(fd, buf, sizeof(buf) - 1, 0);
	while (n < 0 && errno == EINTR);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "clean\n");
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(fd);
	close(decoy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_message_and_its_fds_arrive_whole),
		cmocka_unit_test(test_fds_beyond_the_receivers_are_closed),
		cmocka_unit_test(test_a_message_longer_than_the_buffer_is_refused),
		cmocka_unit_test(test_too_many_fds_are_refused_before_sending),
		cmocka_unit_test(test_a_spawned_child_has_fd_3_and_nothing_else),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
