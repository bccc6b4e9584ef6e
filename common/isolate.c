// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --isolate domain, the parts every backend shares (pvcommon.h "daemon"):
 * messages with file descriptors on the socket between the xenbus process
 * and a domain's worker process, and the start of a worker.
 *
 * A worker is the same binary exec'd afresh (its own address space layout,
 * none of the xenbus process's memory or fds), as the same user with only
 * the capabilities the xenbus process's main thread kept: raised into the
 * ambient set between fork and exec, which is the only way an unprivileged
 * user carries a capability across exec.  Between fork and exec the child
 * of this multi-threaded process makes raw system calls only.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <unistd.h>

#include "pvcommon.h"

int pv_isolate_send(int fd, const void *msg, size_t len, const int *fds, unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * PV_ISOLATE_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	ssize_t n;

	if (nfds > PV_ISOLATE_MAX_FDS)
		return -EINVAL;
	if (nfds) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EMSGSIZE;
}

ssize_t pv_isolate_recv(int fd, void *msg, size_t len, int *fds, unsigned max_fds,
			unsigned *nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * PV_ISOLATE_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = msg, .iov_len = len };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c;
	unsigned kept = 0;
	ssize_t n;

	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		size_t nr;
		int got[PV_ISOLATE_MAX_FDS];

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		nr = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (nr > PV_ISOLATE_MAX_FDS)
			nr = PV_ISOLATE_MAX_FDS;
		memcpy(got, CMSG_DATA(c), nr * sizeof(int));
		for (size_t i = 0; i < nr; i++) {
			if (kept < max_fds)
				fds[kept++] = got[i];
			else
				close(got[i]);
		}
	}
	if (nfds)
		*nfds = kept;
	/* A message cut short is not the message that was sent. */
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		while (kept)
			close(fds[--kept]);
		if (nfds)
			*nfds = 0;
		return -EMSGSIZE;
	}
	return n;
}

/* The child, between fork and exec: raw system calls, no allocation. */
static void child_exec(const char *exe, char *const *argv, int fd, uint64_t caps)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		_exit(127);
	if (fd == 3 ? syscall(SYS_fcntl, 3, F_SETFD, 0) < 0
		    : syscall(SYS_dup2, fd, 3) < 0 || syscall(SYS_close, fd) < 0)
		_exit(127);
	/* fd 3 without close-on-exec (dup2 clears it); nothing else past it. */
	if (syscall(SYS_close_range, 4, ~0u, 0) < 0)
		_exit(127);
	if (caps && getuid() != 0 && syscall(SYS_capget, &h, d) == 0) {
		for (unsigned i = 0; i < 2; i++)
			d[i].inheritable = d[i].permitted & (uint32_t)(caps >> (32 * i));
		if (syscall(SYS_capset, &h, d) < 0)
			_exit(127);
		for (unsigned c = 0; c < 64; c++)
			if (caps & PV_CAP(c) && (d[c / 32].permitted >> (c % 32)) & 1 &&
			    syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
				_exit(127);
	}
	execv(exe, argv);
	_exit(127);
}

int pv_isolate_spawn(const char *exe, char *const *argv, uint64_t caps, pid_t *pid, int *fd)
{
	int sv[2];
	pid_t p;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	p = fork();
	if (p < 0) {
		int rc = -errno;

		close(sv[0]);
		close(sv[1]);
		return rc;
	}
	if (p == 0)
		child_exec(exe, argv, sv[1], caps);
	close(sv[1]);
	*pid = p;
	*fd = sv[0];
	return 0;
}
