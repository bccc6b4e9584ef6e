/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: pv_ctl, a daemon's control socket, both sides: a server on
 * a loop thread answers a client's request line with "ok" and the
 * command's output, a failing command with "err <its text>" (or strerror),
 * an unknown one with "err" and the list of commands; the socket is mode
 * 0600; a second server on the same path gets -EADDRINUSE and leaves the
 * first serving; a stale socket file is replaced; stop removes the file.
 * The loop never waits for a client: one that connects and says nothing,
 * or sends its line in pieces, does not hold up anyone else's request;
 * at most 32 such connections wait, more are closed at once.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "pvcommon.h"

struct fixture {
	char dir[64];
	char path[128];
	struct pv_loop *loop;
	struct pv_ctl *ctl;
	pthread_t thread;
	unsigned calls;        /* echo's, on the loop thread; read after join */
};

static int echo_run(void *opaque, const char *arg, struct pv_out *o)
{
	struct fixture *f = opaque;

	f->calls++;
	pv_out_printf(o, "echo %s\n", arg ? arg : "(none)");
	return 0;
}

static int fail_run(void *opaque, const char *arg, struct pv_out *o)
{
	if (arg)
		pv_out_printf(o, "no device %s\n", arg);
	return -ENOENT;
}

static const struct pv_ctl_cmd cmds[] = {
	{ .name = "echo", .args = "[WORD]", .help = "say it back", .run = echo_run },
	{ .name = "fail", .args = "[WORD]", .help = "always fails", .run = fail_run },
};

static void *loop_thread(void *opaque)
{
	struct fixture *f = opaque;

	pv_loop_run(f->loop);
	return NULL;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/pvctl-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/ctl.sock", f->dir);
	assert_int_equal(pv_loop_create(&f->loop), 0);
	*state = f;
	return 0;
}

static void serve(struct fixture *f)
{
	assert_int_equal(pv_ctl_start(f->loop, f->path, cmds, 2, f, &f->ctl), 0);
	assert_int_equal(pthread_create(&f->thread, NULL, loop_thread, f), 0);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->ctl) {
		pv_loop_stop(f->loop);
		pthread_join(f->thread, NULL);
		pv_ctl_stop(f->ctl);
	}
	pv_loop_destroy(f->loop);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* The whole reply to req, or the pv_ctl_call error as "-errno". */
static char *call(const char *path, const char *req)
{
	struct pv_out *o;
	char *s;
	int rc;

	assert_int_equal(pv_out_create(&o), 0);
	rc = pv_ctl_call(path, req, o);
	if (rc < 0)
		assert_true(asprintf(&s, "%d", rc) > 0);
	else
		s = strdup(pv_out_str(o));
	pv_out_destroy(o);
	return s;
}

static void expect_reply(const char *path, const char *req, const char *want)
{
	char *got = call(path, req);

	assert_string_equal(got, want);
	free(got);
}

static void test_a_request_gets_ok_and_the_output(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	serve(f);
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	expect_reply(f->path, "echo hello", "ok\necho hello\n");
	expect_reply(f->path, "echo", "ok\necho (none)\n");
	expect_reply(f->path, "  echo\tworld  extra", "ok\necho world\n");
}

static void test_a_failing_command_gets_err_with_its_text(void **state)
{
	struct fixture *f = *state;

	serve(f);
	expect_reply(f->path, "fail vbd-7-7", "err no device vbd-7-7\n");
	/* Nothing written: the errno's text. */
	expect_reply(f->path, "fail", "err No such file or directory\n");
}

static void test_an_unknown_command_gets_err_and_the_list(void **state)
{
	struct fixture *f = *state;

	serve(f);
	expect_reply(f->path, "reboot now", "err unknown request (echo, fail)\n");
	expect_reply(f->path, "", "err unknown request (echo, fail)\n");
}

static void test_a_second_server_gets_eaddrinuse_and_the_first_serves_on(void **state)
{
	struct fixture *f = *state;
	struct pv_loop *loop2;
	struct pv_ctl *ctl2 = NULL;

	serve(f);
	assert_int_equal(pv_loop_create(&loop2), 0);
	assert_int_equal(pv_ctl_start(loop2, f->path, cmds, 2, NULL, &ctl2), -EADDRINUSE);
	assert_null(ctl2);
	pv_loop_destroy(loop2);
	expect_reply(f->path, "echo still", "ok\necho still\n");
	pv_loop_stop(f->loop);
	pthread_join(f->thread, NULL);
	/* The refused start's probe was a connection too: it ran no command. */
	assert_int_equal(f->calls, 1);
	pv_ctl_stop(f->ctl);
	f->ctl = NULL;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	strcpy(sa.sun_path, path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Still open and unanswered: nothing to read yet, no EOF. */
static void assert_waiting(int fd)
{
	char c;

	assert_int_equal(recv(fd, &c, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
}

static void test_a_silent_client_holds_up_nobody(void **state)
{
	struct fixture *f = *state;
	char buf[64] = "";
	int silent, slow;
	ssize_t n;

	serve(f);
	silent = connect_to(f->path);
	slow = connect_to(f->path);
	assert_int_equal(write(slow, "ec", 2), 2);
	/* Answered while both are connected and unanswered. */
	expect_reply(f->path, "echo first", "ok\necho first\n");
	assert_waiting(silent);
	assert_waiting(slow);
	/* The rest of the slow one's line: it is answered in full. */
	assert_int_equal(write(slow, "ho piece\n", 9), 9);
	n = read(slow, buf, sizeof(buf) - 1); /* blocking: the loop answers */
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "ok\necho piece\n");
	assert_int_equal(read(slow, buf, sizeof(buf)), 0);
	close(slow);
	assert_waiting(silent);
	close(silent);
	expect_reply(f->path, "echo after", "ok\necho after\n");
}

static void test_waiting_clients_are_bounded(void **state)
{
	struct fixture *f = *state;
	int fds[32], extra;
	char c;

	serve(f);
	for (unsigned i = 0; i < 32; i++)
		fds[i] = connect_to(f->path);
	/* The 33rd is closed unanswered (read blocks until the loop does). */
	extra = connect_to(f->path);
	assert_int_equal(read(extra, &c, 1), 0);
	close(extra);
	for (unsigned i = 0; i < 32; i++)
		assert_waiting(fds[i]);
	/* One of them sends its line: answered, and its place is free again. */
	assert_int_equal(write(fds[0], "echo 0\n", 7), 7);
	while (read(fds[0], &c, 1) > 0)
		;
	close(fds[0]);
	expect_reply(f->path, "echo back", "ok\necho back\n");
	for (unsigned i = 1; i < 32; i++)
		close(fds[i]);
}

static void test_a_stale_socket_file_is_replaced(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	/* A socket file whose listener died: nobody answers. */
	strcpy(sa.sun_path, f->path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	close(fd);
	expect_reply(f->path, "echo x", "-111"); /* ECONNREFUSED */
	serve(f);
	expect_reply(f->path, "echo new", "ok\necho new\n");
}

static void test_a_path_that_is_not_a_socket_is_left_alone(void **state)
{
	struct fixture *f = *state;
	struct pv_ctl *ctl = NULL;
	FILE *file = fopen(f->path, "w");

	assert_non_null(file);
	fclose(file);
	assert_int_equal(pv_ctl_start(f->loop, f->path, cmds, 2, f, &ctl), -EEXIST);
	assert_null(ctl);
}

static void test_stop_removes_the_socket_file(void **state)
{
	struct fixture *f = *state;

	serve(f);
	pv_loop_stop(f->loop);
	pthread_join(f->thread, NULL);
	pv_ctl_stop(f->ctl);
	f->ctl = NULL;
	assert_int_equal(access(f->path, F_OK), -1);
	expect_reply(f->path, "echo", "-2"); /* ENOENT */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_request_gets_ok_and_the_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_failing_command_gets_err_with_its_text, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_an_unknown_command_gets_err_and_the_list, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_second_server_gets_eaddrinuse_and_the_first_serves_on,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_silent_client_holds_up_nobody, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waiting_clients_are_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_stale_socket_file_is_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_path_that_is_not_a_socket_is_left_alone, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stop_removes_the_socket_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
