// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pvsim-xs-client: libxenstore scenarios for tests/sim/xs-*.sh (reaches the
 * daemon through XENSTORED_PATH).  Subcommands:
 *   txn-conflict <path>   a write outside a transaction that read and wrote
 *                         path must make xs_transaction_end fail with EAGAIN;
 *                         prints "EAGAIN"
 *   txn-commit <path> <v> write v in a transaction and commit; prints "committed"
 *   watch <path> <token> <n> [expect]
 *                         watch, print "watching" after the initial event, then
 *                         print each event "path token" until n more events
 *                         (or one whose path is expect) arrived; 10 s bound
 *   read <path>           print the value, or the errno name (EACCES...) and fail
 *   raw-oversize          on a plain socket, announce a payload beyond
 *                         XENSTORE_PAYLOAD_MAX: the daemon must close it
 *   raw-unknown           send type 999: expect ERROR "ENOSYS" with req_id echoed
 * Exit status 0 on success, 1 on a failed expectation.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <xenstore.h>
#include <xen/io/xs_wire.h>

static int txn_conflict(struct xs_handle *h, const char *path)
{
	xs_transaction_t t;
	unsigned int len;
	char *v;

	if (!xs_write(h, XBT_NULL, path, "a", 1))
		return perror("write"), 1;
	t = xs_transaction_start(h);
	if (t == XBT_NULL)
		return perror("transaction_start"), 1;
	v = xs_read(h, t, path, &len);
	if (!v || strcmp(v, "a"))
		return fprintf(stderr, "read in txn: %s\n", v ? v : "NULL"), 1;
	free(v);
	if (!xs_write(h, XBT_NULL, path, "b", 1))
		return perror("conflicting write"), 1;
	if (!xs_write(h, t, path, "c", 1))
		return perror("write in txn"), 1;
	if (xs_transaction_end(h, t, false)) {
		fprintf(stderr, "transaction committed despite the conflict\n");
		return 1;
	}
	if (errno != EAGAIN)
		return perror("transaction_end"), 1;
	v = xs_read(h, XBT_NULL, path, &len);
	if (!v || strcmp(v, "b"))
		return fprintf(stderr, "after abort: %s\n", v ? v : "NULL"), 1;
	free(v);
	printf("EAGAIN\n");
	return 0;
}

static int do_read(struct xs_handle *h, const char *path)
{
	unsigned int len;
	char *v = xs_read(h, XBT_NULL, path, &len);

	if (!v) {
		printf("%s\n", strerrorname_np(errno));
		return 1;
	}
	printf("%s\n", v);
	free(v);
	return 0;
}

static int txn_commit(struct xs_handle *h, const char *path, const char *val)
{
	xs_transaction_t t = xs_transaction_start(h);

	if (t == XBT_NULL)
		return perror("transaction_start"), 1;
	if (!xs_write(h, t, path, val, (unsigned int)strlen(val)))
		return perror("write in txn"), 1;
	if (!xs_transaction_end(h, t, false))
		return perror("transaction_end"), 1;
	printf("committed\n");
	return 0;
}

/* Next watch event within 10 s, or NULL. */
static char **next_event(struct xs_handle *h)
{
	struct pollfd p = { .fd = xs_fileno(h), .events = POLLIN };
	char **ev;

	for (;;) {
		ev = xs_check_watch(h);
		if (ev)
			return ev;
		if (errno != EAGAIN)
			return NULL;
		if (poll(&p, 1, 10000) <= 0)
			return NULL;
	}
}

static int watch(struct xs_handle *h, const char *path, const char *token, int n,
		 const char *expect)
{
	char **ev;

	if (!xs_watch(h, path, token))
		return perror("watch"), 1;
	ev = next_event(h);
	if (!ev)
		return fprintf(stderr, "no initial event\n"), 1;
	free(ev);
	printf("watching\n");
	fflush(stdout);
	while (n-- > 0) {
		ev = next_event(h);
		if (!ev)
			return fprintf(stderr, "timed out waiting for an event\n"), 1;
		printf("%s %s\n", ev[XS_WATCH_PATH], ev[XS_WATCH_TOKEN]);
		fflush(stdout);
		if (expect && !strcmp(ev[XS_WATCH_PATH], expect)) {
			free(ev);
			return 0;
		}
		free(ev);
	}
	return expect ? 1 : 0;
}

static int raw_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = getenv("XENSTORED_PATH");
	int fd;

	if (!path || strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("connect");
		return -1;
	}
	return fd;
}

/* Read exactly len bytes within 10 s; returns bytes read (short on EOF) or -1. */
static ssize_t raw_read(int fd, void *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if (poll(&p, 1, 10000) <= 0)
			return -1;
		n = read(fd, (char *)buf + got, len - got);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int raw(bool oversize)
{
	struct xsd_sockmsg m = { .type = oversize ? XS_READ : 999, .req_id = 42,
				 .len = oversize ? XENSTORE_PAYLOAD_MAX + 1 : 0 };
	char buf[64];
	int fd = raw_connect();
	ssize_t n;

	if (fd < 0 || write(fd, &m, sizeof(m)) != (ssize_t)sizeof(m))
		return 1;
	n = raw_read(fd, &m, sizeof(m));
	if (oversize) {
		close(fd);
		if (n != 0)
			return fprintf(stderr, "connection not closed (%zd)\n", n), 1;
		printf("closed\n");
		return 0;
	}
	if (n != (ssize_t)sizeof(m) || m.type != XS_ERROR || m.req_id != 42 || m.len > sizeof(buf) ||
	    raw_read(fd, buf, m.len) != (ssize_t)m.len || strcmp(buf, "ENOSYS")) {
		close(fd);
		return fprintf(stderr, "unexpected reply\n"), 1;
	}
	close(fd);
	printf("%s\n", buf);
	return 0;
}

int main(int argc, char **argv)
{
	struct xs_handle *h;
	int rc = 2;

	if (argc < 2)
		goto usage;
	if (!strcmp(argv[1], "raw-oversize") || !strcmp(argv[1], "raw-unknown"))
		return raw(!strcmp(argv[1], "raw-oversize"));
	h = xs_open(0);
	if (!h)
		return perror("xs_open"), 1;
	if (!strcmp(argv[1], "txn-conflict") && argc == 3)
		rc = txn_conflict(h, argv[2]);
	else if (!strcmp(argv[1], "read") && argc == 3)
		rc = do_read(h, argv[2]);
	else if (!strcmp(argv[1], "txn-commit") && argc == 4)
		rc = txn_commit(h, argv[2], argv[3]);
	else if (!strcmp(argv[1], "watch") && (argc == 5 || argc == 6))
		rc = watch(h, argv[2], argv[3], atoi(argv[4]), argc == 6 ? argv[5] : NULL);
	xs_close(h);
	if (rc != 2)
		return rc;
usage:
	fprintf(stderr, "usage: %s txn-conflict <path> | txn-commit <path> <v> |"
		" watch <path> <token> <n> [expect]\n", argv[0]);
	return 2;
}
