/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: common/confine.c in-process (issue 13, confinement).  A
 * data-path thread that confined itself (pv_confine_thread) has no
 * capabilities, no_new_privs and seccomp mode 2, and keeps working with
 * what the allow-list names (pipes, memory, clocks); a syscall not on the
 * list kills the whole process with SIGSYS (the default), or under trap
 * fails with ENOSYS and is named on stderr; ioctl passes only for the
 * listed types (gntdev 'G' yes, the tty/FIONREAD 'T' no), tgkill only
 * to our own process.  The main
 * thread's drop keeps exactly the named capability, makes the user the
 * uid of every thread, and threads created after it inherit that user.
 * Without pv_confine_init a thread is left alone (unit tests, frontends).
 * Sixteen confined threads alive at once each allocate their first memory
 * (glibc's arena limit is fixed before, not asked on a filtered thread);
 * a confined thread mallocs and frees megabytes round after round (its
 * heap is never shrunk: glibc would open /proc for that).
 * Each case runs in a forked child: the policy is once per process.
 */
#include <errno.h>
#include <linux/capability.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "pvcommon.h"

/* Child exit codes: 0 passed, 10 + n the n-th check failed. */
typedef int child_fn(void);

/* Run fn in a forked child; its wait status (stderr into err when given). */
static int in_child(child_fn *fn, char *err, size_t len)
{
	int p[2] = { -1, -1 }, status = 0;
	char scratch[256];
	size_t n = 0;
	ssize_t r;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		_exit(fn());
	}
	close(p[1]);
	/* Drain it all (a trap's line must not meet a closed pipe: SIGPIPE). */
	while ((r = read(p[0], scratch, sizeof(scratch))) > 0) {
		size_t room = err ? len - 1 - n : 0, k = (size_t)r < room ? (size_t)r : room;

		if (k)
			memcpy(err + n, scratch, k);
		n += k;
	}
	if (err)
		err[n] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void *run_thread(void *arg)
{
	child_fn *fn = (child_fn *)arg;

	return (void *)(intptr_t)fn();
}

/* fn on a new thread of this process; its return value. */
static int on_thread(child_fn *fn)
{
	pthread_t t;
	void *ret;

	if (pthread_create(&t, NULL, run_thread, (void *)fn))
		return 99;
	pthread_join(t, &ret);
	return (int)(intptr_t)ret;
}

/* This thread's /proc status line "<key>:\t<value>": the value's number. */
static long long status_of(const char *key, int base)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/status", (long)syscall(SYS_gettid));
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			v = strtoll(line + klen + 1, NULL, base);
	fclose(f);
	return v;
}

/* The policy and the thread body of confined_child. */
static enum pv_confine_action child_action;
static child_fn *child_thread;

static int confined_child(void)
{
	if (pv_confine_init(NULL, child_action) < 0)
		return 10;
	return on_thread(child_thread);
}

/* A child with the data-path policy of action runs fn on a new thread. */
static int confined(enum pv_confine_action action, child_fn *fn, char *err, size_t len)
{
	child_action = action;
	child_thread = fn;
	return in_child(confined_child, err, len);
}

/* ------------------------------------------------------------ bodies */

/* Many confined threads alive at once, each with its first malloc: glibc
 * makes each an arena, and the ninth used to ask for the CPU count
 * (sched_getaffinity, openat: a kill).  Seen in blk-hostile-dos. */
#define MANY_THREADS 16
static pthread_barrier_t many_barrier;

static void *many_body(void *arg)
{
	void *p;

	pv_confine_thread();
	p = malloc(4096);
	if (p)
		memset(p, 1, 4096);
	pthread_barrier_wait(&many_barrier); /* all alive: no arena reused */
	free(p);
	return p ? NULL : (void *)1;
}

static int many_first_mallocs(void)
{
	pthread_t t[MANY_THREADS];
	void *ret;
	int bad = 0;

	pthread_barrier_init(&many_barrier, NULL, MANY_THREADS);
	for (unsigned i = 0; i < MANY_THREADS; i++)
		if (pthread_create(&t[i], NULL, many_body, NULL))
			return 30;
	for (unsigned i = 0; i < MANY_THREADS; i++) {
		pthread_join(t[i], &ret);
		bad |= ret != NULL;
	}
	return bad ? 31 : 0;
}

/* Megabyte blocks malloc'd and freed on a confined thread: after the first
 * round glibc would serve them from the thread's heap (the mmap threshold
 * grows to the size freed), and freeing them would shrink that heap, which
 * first opens /proc/sys/vm/overcommit_memory: a kill.  Seen with the NBD
 * engine's one-piece buffers. */
static void *big_body(void *arg)
{
	void *p[4];

	(void)arg;
	pv_confine_thread();
	for (unsigned round = 0; round < 4; round++) {
		for (unsigned i = 0; i < 4; i++) {
			p[i] = malloc(1u << 20);
			if (!p[i])
				return (void *)1;
			memset(p[i], (int)i, 1u << 20);
		}
		for (unsigned i = 0; i < 4; i++)
			free(p[i]);
	}
	return NULL;
}

static int big_blocks(void)
{
	pthread_t t;
	void *ret;

	if (pthread_create(&t, NULL, big_body, NULL))
		return 40;
	pthread_join(t, &ret);
	return ret ? 41 : 0;
}

static int socket_call(void)
{
	pv_confine_thread();
	return syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0) >= 0 ? 1 : errno == ENOSYS ? 0 : 2;
}

static int confined_state(void)
{
	int fds[2];
	char c = 'x';
	struct timespec ts;
	void *m;

	/* Read before the filter: the bodies below only use what it allows. */
	if (pipe(fds) < 0)
		return 20;
	pv_confine_thread();
	if (status_of("CapEff", 16) != 0 || status_of("CapPrm", 16) != 0)
		return 21;
	if (status_of("CapInh", 16) != 0 || status_of("CapAmb", 16) != 0)
		return 22;
	if (status_of("NoNewPrivs", 10) != 1 || status_of("Seccomp", 10) != 2)
		return 23;
	if (write(fds[1], &c, 1) != 1 || read(fds[0], &c, 1) != 1 || c != 'x')
		return 24;
	m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || munmap(m, 1 << 20) < 0)
		return 25;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 26;
	return 0;
}

static int ioctl_types(void)
{
	int fds[2], n = 0;

	if (pipe(fds) < 0)
		return 30;
	pv_confine_thread();
	/* 'G' (gntdev) passes the filter; the pipe itself refuses it. */
	if (ioctl(fds[0], _IO('G', 0), 0) == 0 || errno != ENOTTY)
		return 31;
	/* FIONREAD ('T') is not listed: the trap fails it. */
	if (ioctl(fds[0], FIONREAD, &n) == 0 || errno != ENOSYS)
		return 32;
	return 0;
}

static pid_t other_pid; /* the test's own process: not the child's */

static int signal_targets(void)
{
	pid_t me = getpid();

	pv_confine_thread();
	/* Signal 0: only the permission and the filter are checked. */
	if (syscall(SYS_tgkill, me, (pid_t)syscall(SYS_gettid), 0) != 0)
		return 60;
	if (syscall(SYS_tgkill, other_pid, other_pid, 0) == 0 || errno != ENOSYS)
		return 61;
	return 0;
}

static int untouched(void)
{
	pv_confine_thread(); /* no policy: nothing happens */
	if (status_of("Seccomp", 10) != 0 || status_of("NoNewPrivs", 10) != 0)
		return 40;
	if (status_of("CapEff", 16) != status_of("CapBnd", 16))
		return 41; /* root's test: every capability still there */
	return 0;
}

static int without_init(void)
{
	return on_thread(untouched);
}

static uid_t nobody_uid;

static int later_thread(void)
{
	if (getuid() != nobody_uid || geteuid() != nobody_uid)
		return 50;
	pv_confine_thread();
	if (status_of("CapEff", 16) != 0 || status_of("CapPrm", 16) != 0 ||
	    status_of("CapBnd", 16) != (long long)PV_CAP(CAP_DAC_OVERRIDE))
		return 51;
	return 0;
}

static int drop_keeps_one(void)
{
	gid_t gid;

	if (pv_confine_lookup("nobody", &nobody_uid, &gid) < 0)
		return 10;
	if (pv_confine_init(NULL, PV_CONFINE_LOG) < 0) /* later_thread reads /proc */
		return 11;
	if (pv_confine_drop("nobody", PV_CAP(CAP_DAC_OVERRIDE)) < 0)
		return 12;
	if (getuid() != nobody_uid || getgid() != gid)
		return 13;
	if (status_of("CapEff", 16) != (long long)PV_CAP(CAP_DAC_OVERRIDE) ||
	    status_of("CapPrm", 16) != (long long)PV_CAP(CAP_DAC_OVERRIDE) ||
	    status_of("CapBnd", 16) != (long long)PV_CAP(CAP_DAC_OVERRIDE))
		return 14;
	if (status_of("NoNewPrivs", 10) != 1 || status_of("Seccomp", 10) != 0)
		return 15; /* the main thread has no filter */
	return on_thread(later_thread);
}

static int drop_to_missing_user(void)
{
	return pv_confine_drop("pvback-no-such-user", 0) == -ENOENT ? 0 : 10;
}

/* ------------------------------------------------------------- cases */

/* The child exited 0 (every check passed); else which one failed. */
static void assert_passed(int st)
{
	if (WIFSIGNALED(st))
		print_message("# child killed by signal %d\n", WTERMSIG(st));
	else if (WEXITSTATUS(st))
		print_message("# child's check %d failed\n", WEXITSTATUS(st));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_many_confined_threads_allocate_their_first_memory(void **state)
{
	assert_passed(confined(PV_CONFINE_KILL, many_first_mallocs, NULL, 0));
}

static void test_a_confined_thread_frees_megabytes_round_after_round(void **state)
{
	assert_passed(confined(PV_CONFINE_KILL, big_blocks, NULL, 0));
}

static void test_a_syscall_off_the_list_kills_the_process(void **state)
{
	int st = confined(PV_CONFINE_KILL, socket_call, NULL, 0);

	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

static void test_trap_fails_it_with_enosys_and_names_it(void **state)
{
	char err[512];
	int st = confined(PV_CONFINE_TRAP, socket_call, err, sizeof(err));

	assert_passed(st);
	assert_non_null(strstr(err, "made syscall"));
	assert_non_null(strstr(err, "(socket)"));
}

static void test_a_confined_thread_has_no_capabilities_and_keeps_working(void **state)
{
	/* status_of opens /proc, on no list: log lets it through. */
	assert_passed(confined(PV_CONFINE_LOG, confined_state, NULL, 0));
}

static void test_ioctl_passes_only_for_listed_types(void **state)
{
	assert_passed(confined(PV_CONFINE_TRAP, ioctl_types, NULL, 0));
}

static void test_tgkill_reaches_only_our_own_process(void **state)
{
	other_pid = getpid();
	assert_passed(confined(PV_CONFINE_TRAP, signal_targets, NULL, 0));
}

/* Root's: the capabilities to lose. */
static void test_without_init_a_thread_is_left_alone(void **state)
{
	if (geteuid() != 0)
		skip();
	assert_passed(in_child(without_init, NULL, 0));
}

static void test_drop_keeps_exactly_the_named_capability(void **state)
{
	if (geteuid() != 0)
		skip();
	assert_passed(in_child(drop_keeps_one, NULL, 0));
}

static void test_a_missing_user_is_enoent(void **state)
{
	assert_passed(in_child(drop_to_missing_user, NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_syscall_off_the_list_kills_the_process),
		cmocka_unit_test(test_trap_fails_it_with_enosys_and_names_it),
		cmocka_unit_test(test_a_confined_thread_has_no_capabilities_and_keeps_working),
		cmocka_unit_test(test_many_confined_threads_allocate_their_first_memory),
		cmocka_unit_test(test_a_confined_thread_frees_megabytes_round_after_round),
		cmocka_unit_test(test_ioctl_passes_only_for_listed_types),
		cmocka_unit_test(test_tgkill_reaches_only_our_own_process),
		cmocka_unit_test(test_without_init_a_thread_is_left_alone),
		cmocka_unit_test(test_drop_keeps_exactly_the_named_capability),
		cmocka_unit_test(test_a_missing_user_is_enoent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
