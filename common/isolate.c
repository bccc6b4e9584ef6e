// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --isolate domain, the parts every backend shares (pvcommon.h "isolate"):
 * messages with file descriptors on the socket between the xenbus process
 * and a domain's worker process, the start of a worker, and the xenbus
 * process's table of workers: one per domain, counted references, a
 * bounded wait for a reply (what else arrives meanwhile is delivered from
 * the loop later), and a worker that dies or misbehaves killed and
 * reported once.  What the messages say is the backend's.
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
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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

void pv_isolate_close_fds(int *fds, unsigned n)
{
	while (n--)
		if (fds[n] >= 0) /* one already taken (usb's ports) */
			close(fds[n]);
}

int pv_isolate_refuse(int *fds, unsigned n, int rc)
{
	pv_isolate_close_fds(fds, n);
	return rc;
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

/* ------------------------------------------------- the xenbus process */

/* A message that arrived while a reply was awaited: handed to ops->message
 * from the loop afterwards, never from inside the caller's callback. */
struct iso_kept {
	struct iso_kept *next;
	size_t len;
	unsigned char msg[];
};

struct pv_iso {
	struct pv_iso_table *t;
	struct pv_iso *next;
	uint16_t domid;
	pid_t pid;
	int fd;
	bool dead, told;        /* killed or gone; ops->died called */
	unsigned refs;
	void *priv;
	struct iso_kept *kept, **kept_tail;
	int64_t later;          /* the timer that delivers kept messages or the death */
};

struct pv_iso_table {
	struct pv_backend *daemon;
	struct pv_loop *loop;
	const struct pv_iso_ops *ops;
	struct pv_iso *workers;
	void *buf;              /* ops->max_msg bytes: one message read */
	void *priv;
};

int pv_iso_table_create(struct pv_backend *b, struct pv_loop *loop, const struct pv_iso_ops *ops,
			struct pv_iso_table **out)
{
	struct pv_iso_table *t = calloc(1, sizeof(*t));

	if (!t || !(t->buf = malloc(ops->max_msg))) {
		free(t);
		return -ENOMEM;
	}
	t->daemon = b;
	t->loop = loop;
	t->ops = ops;
	*out = t;
	return 0;
}

void pv_iso_table_destroy(struct pv_iso_table *t)
{
	if (!t)
		return;
	free(t->buf);
	free(t);
}

uint16_t pv_iso_domid(const struct pv_iso *w)
{
	return w->domid;
}

bool pv_iso_dead(const struct pv_iso *w)
{
	return w->dead;
}

void **pv_iso_priv(struct pv_iso *w)
{
	return &w->priv;
}

struct pv_iso_table *pv_iso_table_of(struct pv_iso *w)
{
	return w->t;
}

void **pv_iso_table_priv(struct pv_iso_table *t)
{
	return &t->priv;
}

static void iso_later(struct pv_loop *loop, void *opaque);

static void iso_schedule(struct pv_iso *w)
{
	if (w->later <= 0)
		w->later = pv_loop_add_timer(w->t->loop, 0, iso_later, w);
}

void pv_iso_kill(struct pv_iso *w, const char *why)
{
	if (w->dead)
		return;
	w->dead = true;
	pv_err(NULL, "domain %u: worker process %d: %s: its devices fail", w->domid, (int)w->pid,
	       why);
	kill(w->pid, SIGKILL);
	pv_loop_del_fd(w->t->loop, w->fd);
	iso_schedule(w);
}

void pv_iso_put(struct pv_iso *w)
{
	struct pv_iso **p = &w->t->workers;
	struct iso_kept *k;

	if (--w->refs)
		return;
	while (*p != w)
		p = &(*p)->next;
	*p = w->next;
	if (w->later > 0)
		pv_loop_del_timer(w->t->loop, w->later);
	if (!w->dead)
		pv_loop_del_fd(w->t->loop, w->fd);
	kill(w->pid, SIGKILL); /* nothing of it runs: its last user stopped */
	while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
		;
	close(w->fd);
	while ((k = w->kept)) {
		w->kept = k->next;
		free(k);
	}
	pv_debug(NULL, "domain %u: worker process %d ended", w->domid, (int)w->pid);
	free(w);
}

static void iso_later(struct pv_loop *loop, void *opaque)
{
	struct pv_iso *w = opaque;
	struct iso_kept *k;

	(void)loop;
	w->later = 0;
	w->refs++; /* not freed under our feet */
	while (!w->dead && (k = w->kept)) {
		w->kept = k->next;
		if (!w->kept)
			w->kept_tail = &w->kept;
		if (!w->t->ops->message(w, k->msg, k->len))
			pv_iso_kill(w, "a message that makes no sense");
		free(k);
	}
	if (w->dead && !w->told) {
		w->told = true;
		w->t->ops->died(w);
	}
	pv_iso_put(w);
}

static void iso_on_msg(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct pv_iso *w = opaque;
	void *buf = w->t->buf;
	ssize_t n;

	(void)loop;
	(void)events;
	n = pv_isolate_recv(fd, buf, w->t->ops->max_msg, NULL, 0, NULL);
	if (n == -EAGAIN)
		return;
	if (n <= 0) {
		pv_iso_kill(w, n == 0 ? "exited" : strerror((int)-n));
		return;
	}
	w->refs++;
	if (!w->t->ops->message(w, buf, (size_t)n))
		pv_iso_kill(w, "a message that makes no sense");
	pv_iso_put(w);
}

int pv_iso_get(struct pv_iso_table *t, uint16_t domid, struct pv_iso **out)
{
	struct pv_iso *w;
	int rc;

	for (w = t->workers; w; w = w->next)
		if (w->domid == domid && !w->dead) {
			w->refs++;
			*out = w;
			return 0;
		}
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	*w = (struct pv_iso){ .t = t, .domid = domid, .fd = -1, .refs = 1 };
	w->kept_tail = &w->kept;
	rc = pv_backend_spawn_worker(t->daemon, domid, &w->pid, &w->fd);
	if (rc == 0) {
		rc = pv_loop_add_fd(t->loop, w->fd, PV_LOOP_IN, iso_on_msg, w);
		if (rc < 0) {
			kill(w->pid, SIGKILL);
			waitpid(w->pid, NULL, 0);
			close(w->fd);
		}
	}
	if (rc < 0) {
		free(w);
		return rc;
	}
	w->next = t->workers;
	t->workers = w;
	*out = w;
	return 0;
}

int pv_iso_send(struct pv_iso *w, const void *msg, size_t len, const int *fds, unsigned nfds)
{
	int rc;

	if (w->dead)
		return -EPIPE;
	rc = pv_isolate_send(w->fd, msg, len, fds, nfds);
	if (rc < 0)
		pv_iso_kill(w, strerror(-rc));
	return rc;
}

int pv_iso_call(struct pv_iso *w, const void *req, size_t len, const int *fds, unsigned nfds,
		pv_iso_match_fn *is_reply, void *reply, size_t reply_len, int timeout_ms)
{
	uint64_t end = pv_now_ns() + (uint64_t)timeout_ms * 1000000u;
	struct pollfd pfd = { .fd = w->fd, .events = POLLIN };
	void *buf = w->t->buf;
	struct iso_kept *k;
	ssize_t n;
	int rc;

	rc = pv_iso_send(w, req, len, fds, nfds);
	if (rc < 0)
		return rc;
	for (;;) {
		uint64_t now = pv_now_ns();

		if (now >= end) {
			pv_iso_kill(w, "no answer");
			return -ETIMEDOUT;
		}
		rc = poll(&pfd, 1, (int)((end - now) / 1000000u) + 1);
		if (rc < 0 && errno != EINTR) {
			pv_iso_kill(w, strerror(errno));
			return -EIO;
		}
		if (rc <= 0)
			continue;
		n = pv_isolate_recv(w->fd, buf, w->t->ops->max_msg, NULL, 0, NULL);
		if (n == -EAGAIN)
			continue;
		if (n <= 0) {
			pv_iso_kill(w, n == 0 ? "exited" : strerror((int)-n));
			return -EPIPE;
		}
		if (is_reply(buf, (size_t)n, req)) {
			if ((size_t)n != reply_len) {
				pv_iso_kill(w, "a reply of the wrong size");
				return -EPROTO;
			}
			memcpy(reply, buf, reply_len);
			return 0;
		}
		k = malloc(sizeof(*k) + (size_t)n);
		if (!k) {
			pv_iso_kill(w, "out of memory");
			return -ENOMEM;
		}
		k->next = NULL;
		k->len = (size_t)n;
		memcpy(k->msg, buf, (size_t)n);
		*w->kept_tail = k;
		w->kept_tail = &k->next;
		iso_schedule(w);
	}
}
