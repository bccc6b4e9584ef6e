// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Confinement of a daemon (pvcommon.h "confine", docs/security.md): the
 * main thread's drop from root to an unprivileged user with a few kept
 * capabilities, and the data-path threads' self-confinement (no
 * capabilities, no_new_privs, a seccomp-bpf allow-list).
 *
 * Linux keeps credentials, capability sets, no_new_privs and seccomp filters
 * per thread; only glibc's set*id() wrappers reach every thread (by a
 * signal).  So the main thread changes the user through glibc (no thread
 * stays root behind its back, DPDK's included) while no data-path thread
 * exists yet, and each data-path thread drops the rest itself with the raw
 * system calls.  The filter is compiled once by libseccomp into a BPF
 * program (pv_confine_init) that each thread loads with one prctl.
 *
 * Owns the one process-wide, write-once policy (the program and its
 * action); nothing here runs on a hot path.
 */
#include <errno.h>
#include <grp.h>
#include <malloc.h>
#include <sys/sysinfo.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "pvcommon.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

#if defined(__SANITIZE_ADDRESS__)
#define PV_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PV_SANITIZED 1
#endif
#endif

/*
 * What every data-path thread may do: wait on its loop, move data through
 * fds it already has (rings, io_uring, libaio, sync I/O, sockets), map and
 * unmap grants (gntdev ioctls, pvsim's memfds), notify (evtchn ioctls,
 * eventfds), allocate memory, take locks, read clocks, log, and end.  No
 * open, no exec, no set*id, no ptrace, no new sockets.  Derived by running
 * the whole suite with --seccomp log and reading the kernel log
 * (docs/security.md says how).
 */
static const int common_syscalls[] = {
	/* the loop, timers, eventfds */
	SYS_epoll_wait, SYS_epoll_pwait, SYS_epoll_pwait2, SYS_epoll_ctl, SYS_poll, SYS_ppoll,
	SYS_timerfd_settime, SYS_timerfd_gettime, SYS_eventfd2,
	/* data through fds we hold */
	SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_pread64, SYS_pwrite64, SYS_preadv,
	SYS_pwritev, SYS_preadv2, SYS_pwritev2, SYS_fdatasync, SYS_fsync, SYS_fallocate,
	SYS_lseek, SYS_fstat, SYS_newfstatat, SYS_close, SYS_fcntl, SYS_dup,
	SYS_sendmsg, SYS_recvmsg, SYS_sendto, SYS_recvfrom, SYS_sendmmsg, SYS_recvmmsg,
	/* io_uring (its requests bypass this filter: docs/security.md) and libaio */
	SYS_io_uring_enter, SYS_io_uring_register, SYS_io_submit, SYS_io_getevents,
	SYS_io_pgetevents, SYS_io_cancel,
	/* memory: grant maps, pvsim's memfds, malloc */
	SYS_mmap, SYS_munmap, SYS_mremap, SYS_madvise, SYS_mprotect, SYS_brk,
	/* threads, locks, time */
	SYS_futex, SYS_sched_yield, SYS_nanosleep, SYS_clock_nanosleep, SYS_clock_gettime,
	SYS_gettimeofday, SYS_restart_syscall, SYS_rt_sigreturn, SYS_rt_sigprocmask,
	SYS_getpid, SYS_gettid, SYS_getrandom, SYS_membarrier, SYS_rseq,
	/* the end (abort()'s tgkill: to our own process only, pv_confine_init) */
	SYS_exit, SYS_exit_group,
#ifdef PV_SANITIZED
	/* The ASan/UBSan/LSan runtimes on a data-path thread: their allocator,
	 * shadow memory, stacks and reports. */
	SYS_sigaltstack, SYS_prctl, SYS_rt_sigaction, SYS_getrlimit, SYS_prlimit64,
	SYS_sched_getaffinity, SYS_openat, SYS_readlink, SYS_readlinkat, SYS_getppid, SYS_uname,
	SYS_sysinfo, SYS_munlock, SYS_msync, SYS_pipe2, SYS_wait4,
#endif
};

/* ioctl types (_IOC_TYPE) every data-path thread may use: Xen's gntdev and
 * evtchn ('G', 'E'; pvsim needs neither). */
static const uint8_t common_ioctl_types[] = { 'G', 'E' };

#define NAMES_MAX 512 /* syscall numbers the trap handler names */

static struct {
	bool enabled;
	enum pv_confine_action action;
	struct sock_fprog prog;          /* the compiled filter (len 0: none) */
	const char *names[NAMES_MAX];    /* TRAP: resolved before any trap */
} policy;

bool pv_confine_enabled(void)
{
	return __atomic_load_n(&policy.enabled, __ATOMIC_ACQUIRE);
}

int pv_confine_action_parse(const char *s, enum pv_confine_action *out)
{
	static const char *const names[] = { "kill", "trap", "log", "off", NULL };
	int v = pv_opt_choice(s, names);

	if (v < 0)
		return v;
	*out = (enum pv_confine_action)v;
	return 0;
}

/* ------------------------------------------------------- capabilities */

static int caps_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };

	return syscall(SYS_capget, &h, d) < 0 ? -errno : 0;
}

/* This thread's effective and permitted sets become caps (& permitted),
 * its inheritable set empty.  The raw syscall: this thread only. */
static int caps_set(uint64_t caps)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	int rc = caps_get(d);

	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < 2; i++) {
		d[i].permitted &= (uint32_t)(caps >> (32 * i));
		d[i].effective = d[i].permitted;
		d[i].inheritable = 0;
	}
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

static bool cap_effective(unsigned cap)
{
	struct __user_cap_data_struct d[2];

	return caps_get(d) == 0 && (d[cap / 32].effective >> (cap % 32)) & 1;
}

/* Reduce this thread's bounding set to keep (needs CAP_SETPCAP; without it
 * the set stays, which only matters across an execve we forbid anyway). */
static int bounding_reduce(uint64_t keep)
{
	if (!cap_effective(CAP_SETPCAP))
		return 0;
	for (unsigned c = 0; c < 64; c++) {
		if (keep & PV_CAP(c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
			if (errno == EINVAL) /* past the kernel's last capability */
				break;
			return -errno;
		}
	}
	return 0;
}

/* Every set of this thread but the bounding set to keep, and no_new_privs. */
static int thread_caps(uint64_t keep)
{
	int rc = bounding_reduce(keep);

	if (rc == 0 && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL) /* EINVAL: a kernel without ambient capabilities */
		rc = -errno;
	if (rc == 0)
		rc = caps_set(keep);
	if (rc == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		rc = -errno;
	return rc;
}

/* --------------------------------------------------------------- user */

int pv_confine_lookup(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *res = NULL;
	char buf[1024];
	int rc;

	rc = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
	if (rc)
		return -rc;
	if (!res)
		return -ENOENT;
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 0;
}

int pv_confine_drop(const char *user, uint64_t keep)
{
	uid_t uid = 0;
	gid_t gid = 0;
	bool become = false;
	int rc;

	if (user) {
		rc = pv_confine_lookup(user, &uid, &gid);
		if (rc < 0)
			return rc;
		if (geteuid() != 0 && uid != geteuid())
			return -EPERM;
		become = uid != geteuid() || gid != getegid();
	}
	if (become && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return -errno;
	/* While we still hold CAP_SETPCAP. */
	rc = bounding_reduce(keep);
	if (rc < 0)
		return rc;
	if (become && geteuid() == 0) {
		/* The io_urings a thread without CAP_IPC_LOCK makes (polling
		 * workers') are charged to the user's locked memory, shared by
		 * every process of the user (daemon.c, MAIN_CAPS): lift the
		 * limit while root may (CAP_SYS_RESOURCE; the units' LimitMEMLOCK
		 * does it otherwise). */
		struct rlimit inf = { RLIM_INFINITY, RLIM_INFINITY };

		if (setrlimit(RLIMIT_MEMLOCK, &inf) < 0)
			pv_debug(NULL, "RLIMIT_MEMLOCK stays: %s", strerror(errno));
	}
	if (become) {
		/* glibc's wrappers: every thread of the process, not just this one.
		 * The user's groups too (an admin may give pvback group access
		 * to the backing stores), as su and runuser do. */
		if (initgroups(user, gid) < 0 || setresgid(gid, gid, gid) < 0 ||
		    setresuid(uid, uid, uid) < 0)
			return -errno;
		if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
			return -errno;
	}
	rc = thread_caps(keep);
	if (rc < 0)
		return rc;
#ifdef PV_SANITIZED
	/* A set*id made us non-dumpable; LeakSanitizer ptraces its own
	 * process at exit and needs it back (sanitizer builds only). */
	if (become)
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
	return 0;
}

/* ------------------------------------------------------------ seccomp */

/* TRAP: say which syscall the filter refused, and fail it with ENOSYS.
 * Async-signal-safe: one write(2) of a line built by hand. */
static char *put_str(char *p, char *end, const char *s)
{
	while (*s && p < end)
		*p++ = *s++;
	return p;
}

static char *put_num(char *p, char *end, unsigned long v, unsigned base)
{
	char tmp[24];
	unsigned n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (base == 16)
		p = put_str(p, end, "0x");
	while (n && p < end)
		*p++ = tmp[--n];
	return p;
}

static __thread char thread_name[16]; /* the trap handler's: no prctl there */

static void on_sigsys(int sig, siginfo_t *si, void *uctx)
{
	ucontext_t *uc = uctx;
	char line[256], *p = line, *end = line + sizeof(line) - 1;
	int nr = si->si_syscall;

	p = put_str(p, end, "seccomp: thread ");
	p = put_str(p, end, thread_name);
	p = put_str(p, end, " made syscall ");
	p = put_num(p, end, (unsigned long)nr, 10);
	if (nr >= 0 && nr < NAMES_MAX && policy.names[nr]) {
		p = put_str(p, end, " (");
		p = put_str(p, end, policy.names[nr]);
		p = put_str(p, end, ")");
	}
#ifdef __x86_64__
	p = put_str(p, end, " args ");
	p = put_num(p, end, (unsigned long)uc->uc_mcontext.gregs[REG_RDI], 16);
	p = put_str(p, end, " ");
	p = put_num(p, end, (unsigned long)uc->uc_mcontext.gregs[REG_RSI], 16);
	uc->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
#else
	(void)uc;
#endif
	p = put_str(p, end, ", not on the allow-list: failed with ENOSYS\n");
	if (write(STDERR_FILENO, line, (size_t)(p - line)) < 0)
		return;
}

static uint32_t scmp_action(enum pv_confine_action a)
{
	switch (a) {
	case PV_CONFINE_KILL:
		return SCMP_ACT_KILL_PROCESS;
	case PV_CONFINE_TRAP:
		return SCMP_ACT_TRAP;
	default:
		return SCMP_ACT_LOG;
	}
}

static int rules_add(scmp_filter_ctx ctx, const int *nrs, unsigned n, const uint8_t *types,
		     unsigned nt)
{
	int rc;

	for (unsigned i = 0; i < n; i++) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nrs[i], 0);
		if (rc < 0 && rc != -EEXIST)
			return rc;
	}
	for (unsigned i = 0; i < nt; i++) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				      SCMP_A1(SCMP_CMP_MASKED_EQ, 0xff00, (uint64_t)types[i] << 8));
		if (rc < 0 && rc != -EEXIST)
			return rc;
	}
	return 0;
}

/* The filter as a BPF program: libseccomp writes it to an fd. */
static int export_prog(scmp_filter_ctx ctx, struct sock_fprog *prog)
{
	struct stat st;
	void *buf = NULL;
	int fd, rc;

	fd = memfd_create("pvback-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = seccomp_export_bpf(ctx, fd);
	if (rc == 0 && fstat(fd, &st) < 0)
		rc = -errno;
	if (rc == 0 && (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) ||
			st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS))
		rc = -E2BIG;
	if (rc == 0 && !(buf = malloc((size_t)st.st_size)))
		rc = -ENOMEM;
	if (rc == 0 && pread(fd, buf, (size_t)st.st_size, 0) != st.st_size)
		rc = -EIO;
	close(fd);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	prog->len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
	prog->filter = buf;
	return 0;
}

int pv_confine_init(const struct pv_confine_rules *r, enum pv_confine_action action)
{
	static const struct pv_confine_rules none;
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	scmp_filter_ctx ctx;
	int rc;

	if (pv_confine_enabled())
		return -EALREADY;
	if (!r)
		r = &none;
	policy.action = action;
	/* glibc's malloc sizes its arena limit from the CPU count the first
	 * time a thread needs a ninth arena (sched_getaffinity, then openat of
	 * /sys/devices/system/cpu/online): on a filtered data-path thread that
	 * is a kill.  Its own default, fixed now instead.  (The sanitizers'
	 * allocator has no arenas and refuses mallopt: nothing to fix.) */
	mallopt(M_ARENA_MAX, 8 * get_nprocs_conf());
	/* And a free that leaves much at the top of a thread's heap shrinks
	 * it, which first reads /proc/sys/vm/overcommit_memory (openat): a
	 * kill too (seen with 1 MiB buffers freed on an NBD queue).  A
	 * threshold above a thread heap's 64 MiB never shrinks one; the main
	 * heap still gives back what is above it.  Fixing it also stops the
	 * mmap threshold's growth: large blocks stay their own mappings. */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	if (action != PV_CONFINE_NONE) {
		ctx = seccomp_init(scmp_action(action));
		if (!ctx)
			return -ENOMEM;
		/* abort() and the sanitizers signal a thread of their own process
		 * (so an assertion still says why), never another process. */
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				      SCMP_A0(SCMP_CMP_EQ, (uint64_t)getpid()));
		if (rc == 0)
			rc = rules_add(ctx, common_syscalls, sizeof(common_syscalls) / sizeof(int),
				       common_ioctl_types, sizeof(common_ioctl_types));
		if (rc == 0)
			rc = rules_add(ctx, r->syscalls, r->nr_syscalls, r->ioctl_types,
				       r->nr_ioctl_types);
		if (rc == 0)
			rc = export_prog(ctx, &policy.prog);
		seccomp_release(ctx);
		if (rc < 0)
			return rc;
	}
	if (action == PV_CONFINE_TRAP) {
		for (int nr = 0; nr < NAMES_MAX; nr++)
			policy.names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGSYS, &sa, NULL) < 0)
			return -errno;
	}
	__atomic_store_n(&policy.enabled, true, __ATOMIC_RELEASE);
	return 0;
}

void pv_confine_thread(void)
{
	int rc;

	if (!pv_confine_enabled())
		return;
	prctl(PR_GET_NAME, thread_name, 0, 0, 0);
	rc = thread_caps(0);
	if (rc == 0 && policy.prog.len &&
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &policy.prog, 0, 0) < 0)
		rc = -errno;
	if (rc == 0)
		return;
	pv_err(NULL, "cannot confine data-path thread %s: %s: stopping rather than serve "
	       "unconfined", thread_name, strerror(-rc));
	abort();
}
