// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pvblk: a fio external ioengine (ioengine=external:<path>/pvblk.so) that
 * drives a vbd through the userspace blkfront, so a fio job benchmarks the
 * PV block path as a guest would see it.  The job acts as a guest domain:
 * either it inherits the environment of `eval "$(pvsim env g1)"`, or the
 * `domain=` (and `pvsim_dir=`) options make the engine set that environment
 * itself.  Feature switches (ring_order, queues, indirect, persistent) are
 * negotiated as blkfront_opts; submissions are spread over the queues.
 *
 * One blkfront per job (a vbd has one frontend): the job process holds an
 * flock on a per-vbd lock file and a second job on the same vbd fails with
 * a clear message.  setup() runs in fio's parent before the jobs fork: it
 * connects once to learn the disk size and disconnects again; init() opens
 * the connection the job uses.  All state is per job (td->io_ops_data); the
 * only global is a mutex serialising the environment switch + connect, for
 * thread=1 runs where jobs share one process environment.
 *
 * Built against the configured fio source of the installed Debian fio
 * (scripts/fio-src), since Debian ships no fio headers.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "fio.h"
#include "optgroup.h"

#include "pvcommon.h"
#include "blkfront.h"
#include "abi/blkif.h"

#define PVBLK "pvblk"

struct pvblk_options {
	void *pad;              /* fio: off1 of the first option must not be 0 */
	char *pvsim_dir;        /* pvsim state directory (PVSIM_DIR) */
	char *domain;           /* guest name or domid; NULL: inherit the environment */
	char *vdev;             /* xvda, or a device number */
	unsigned int ring_order;
	unsigned int queues;
	unsigned int indirect;  /* max indirect segments, 0 = off */
	unsigned int persistent;
	unsigned int poll_us;   /* busy-poll the rings before sleeping on the event channel */
	unsigned int timeout_ms;
	unsigned int zerocopy;  /* io_u buffers granted in place (persistent grants) */
};

struct pvblk {
	struct blkfront *bf;
	const struct blkfront_info *info;
	unsigned nr_queues, next_q;
	int lock_fd;
	bool iomem_malloced;    /* td->orig_buffer came from malloc */
	struct io_u **events;   /* completed, returned by ->event() */
	unsigned nr_events, ev_given;
	unsigned ev_cap;
	unsigned queued;        /* submitted since the last commit */
	bool dirty[16];         /* queue has requests not yet kicked */
};

static struct fio_option options[] = {
	{
		.name = "pvsim_dir",
		.lname = "pvsim directory",
		.type = FIO_OPT_STR_STORE,
		.off1 = offsetof(struct pvblk_options, pvsim_dir),
		.help = "pvsim state directory (default: $PVSIM_DIR, else pvsim's default, /run/pvsim as root)",
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = "domain",
		.lname = "guest domain",
		.type = FIO_OPT_STR_STORE,
		.off1 = offsetof(struct pvblk_options, domain),
		.help = "act as this pvsim guest (name or domid); unset: inherit the "
			"environment of `eval \"$(pvsim env NAME)\"`",
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = "vdev",
		.lname = "virtual device",
		.type = FIO_OPT_STR_STORE,
		.off1 = offsetof(struct pvblk_options, vdev),
		.help = "vbd of the domain: xvda.. or a device number (51712)",
		.def = "xvda",
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = "ring_order",
		.lname = "ring page order",
		.type = FIO_OPT_INT,
		.off1 = offsetof(struct pvblk_options, ring_order),
		.help = "ring-page-order to request (0..4, clamped to the backend's max)",
		.def = "0",
		.minval = 0,
		.maxval = 4,
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = "queues",
		.lname = "ring queues",
		.type = FIO_OPT_INT,
		.off1 = offsetof(struct pvblk_options, queues),
		.help = "number of queues (rings) to request; submissions are spread over them",
		.def = "1",
		.minval = 1,
		.maxval = 16,
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = "indirect",
		.lname = "indirect segments",
		.type = FIO_OPT_INT,
		.off1 = offsetof(struct pvblk_options, indirect),
		.help = "max indirect segments per request (0 = no indirect descriptors)",
		.def = "256",
		.minval = 0,
		.maxval = 4096,
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = "persistent",
		.lname = "persistent grants",
		.type = FIO_OPT_BOOL,
		.off1 = offsetof(struct pvblk_options, persistent),
		.help = "ask for feature-persistent (1) or grant per request (0)",
		.def = "1",
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = "poll_us",
		.lname = "frontend poll",
		.type = FIO_OPT_INT,
		.off1 = offsetof(struct pvblk_options, poll_us),
		.help = "busy-poll the rings this long before sleeping on the event channel",
		.def = "0",
		.minval = 0,
		.maxval = 1000000,
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = "zerocopy",
		.lname = "zero copy buffers",
		.type = FIO_OPT_BOOL,
		.off1 = offsetof(struct pvblk_options, zerocopy),
		.help = "with persistent grants, allocate fio's buffers granted to the backend "
			"so I/O needs no bounce copy (fio's mem= option then conflicts)",
		.def = "1",
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = "connect_timeout",
		.lname = "connect timeout",
		.type = FIO_OPT_INT,
		.off1 = offsetof(struct pvblk_options, timeout_ms),
		.help = "handshake timeout in milliseconds",
		.def = "10000",
		.minval = 1,
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = NULL,
	},
};

/* ------------------------------------------------------------ naming */

/*
 * Become the guest named by the options: set the variables `pvsim env NAME`
 * prints (pv_sim_become).  Without domain=, keep the environment we were
 * given.  Called with env_lock held.
 */
static int apply_env(const struct pvblk_options *o)
{
	const char *dir = o->pvsim_dir && *o->pvsim_dir ? o->pvsim_dir : NULL;
	int domid;

	if (!o->domain || !*o->domain) {
		if (dir)
			setenv("PVSIM_DIR", dir, 1); /* act as whoever we are, of that pvsim */
		return 0;
	}
	domid = pv_sim_become(dir, o->domain);
	if (domid < 0) {
		log_err(PVBLK ": no domain '%s' in pvsim at %s (%s)\n", o->domain,
			dir ? dir : pv_sim_dir(), strerror(-domid));
		return domid;
	}
	if (domid == 0) {
		log_err(PVBLK ": domain=%s: a guest domain id is 1..32751\n", o->domain);
		return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------------ connection */

static pthread_mutex_t env_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * One frontend per vbd: lock <pvsim dir>/pvblk-<domid>-<devid>.lock (or
 * /run/lock/pvblk-<devid>.lock on Xen) for as long as the job runs.  flock
 * locks belong to the open file, so two jobs in one process conflict too,
 * and a crashed job releases its lock.
 */
static int vbd_lock(const struct pvblk_options *o, uint32_t devid, int *out)
{
	const char *dom = o->domain && *o->domain ? o->domain : "self";
	char path[PATH_MAX], pid[32];
	uint16_t self = 0;
	int fd, len;

	if (pv_hv_kind_resolve(PV_HV_AUTO) == PV_HV_SIM && pv_sim_domid(&self) == 0)
		snprintf(path, sizeof(path), "%s/pvblk-%u-%u.lock", pv_sim_dir(), self, devid);
	else
		snprintf(path, sizeof(path), "/run/lock/pvblk-%u.lock", devid);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_err(PVBLK ": %s: %s\n", path, strerror(errno));
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);

		pid[n > 0 ? n : 0] = '\0';
		log_err(PVBLK ": vbd %s (device %u) of domain %s is already in use by another "
			"pvblk job (pid %s): a vbd has one frontend, use one fio job per vbd "
			"(numjobs=1; spread load with queues= and iodepth=)\n",
			o->vdev, devid, dom, pid[0] ? strtok(pid, "\n") : "?");
		close(fd);
		return -EBUSY;
	}
	/* The pid is only informative (the message above). */
	len = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)len, 0) != len)
		pid[0] = '\0';
	*out = fd;
	return 0;
}

static int connect_vbd(struct thread_data *td, struct blkfront **bf, int *lock_fd)
{
	struct pvblk_options *o = td->eo;
	struct blkfront_opts bo = {
		.ring_order = o->ring_order,
		.nr_queues = o->queues,
		.max_indirect = o->indirect,
		.persistent = o->persistent != 0,
		.timeout_ms = (int)o->timeout_ms,
	};
	int rc;

	if (pv_vdev_to_devid(o->vdev, &bo.devid)) {
		log_err(PVBLK ": vdev=%s: expected xvdX or a device number\n", o->vdev);
		return -EINVAL;
	}
	pthread_mutex_lock(&env_lock);
	rc = apply_env(o);
	if (rc == 0 && lock_fd)
		rc = vbd_lock(o, bo.devid, lock_fd);
	if (rc == 0) {
		rc = blkfront_open(&bo, bf);
		if (rc < 0) {
			log_err(PVBLK ": connecting vbd %s (device %u) of domain %s: %s%s\n", o->vdev,
				bo.devid, o->domain && *o->domain ? o->domain : "self", strerror(-rc),
				rc == -ENOENT ? " (no such vbd: attach it first, e.g. "
						"`pvsim attach g1 vbd target=IMG vdev=xvda`)" : "");
			if (lock_fd) {
				close(*lock_fd);
				*lock_fd = -1;
			}
		}
	}
	pthread_mutex_unlock(&env_lock);
	return rc;
}

/*
 * In fio's parent, before the jobs start: learn the disk size (the backend
 * publishes `sectors` only when it connects) and describe the one "file".
 */
static int pvblk_setup(struct thread_data *td)
{
	struct pvblk *pv = td->io_ops_data;
	struct blkfront *bf = NULL;
	uint64_t bytes;
	struct fio_file *f;
	int rc;

	if (td->o.nr_files > 1 || td->files_index > 1) {
		log_err(PVBLK ": one vbd per job (nrfiles=1; give the vbd with vdev=)\n");
		return 1;
	}
	if (!td->files_index) {
		struct pvblk_options *o = td->eo;

		add_file(td, o->vdev ? o->vdev : "xvda", 0, 0);
		td->o.nr_files = td->o.nr_files ? : 1;
		td->o.open_files++;
	}
	if (pv && pv->bf) {
		/* create_serialize=0: setup runs in the job, after init. */
		bytes = pv->info->sectors << 9;
	} else {
		int lock_fd = -1;

		/* Locked too: a handshake on a vbd in use would disconnect
		 * the frontend that is using it. */
		rc = connect_vbd(td, &bf, &lock_fd);
		if (rc < 0)
			return 1;
		bytes = blkfront_info(bf)->sectors << 9;
		blkfront_close(bf);
		close(lock_fd);
	}
	f = td->files[0];
	f->real_file_size = bytes;
	fio_file_set_size_known(f);
	return 0;
}

static int pvblk_init(struct thread_data *td)
{
	unsigned long long max_bytes;
	struct pvblk *pv;
	int rc;

	pv = calloc(1, sizeof(*pv));
	if (!pv)
		return 1;
	pv->lock_fd = -1;
	pv->ev_cap = td->o.iodepth + 1;
	pv->events = calloc(pv->ev_cap, sizeof(*pv->events));
	if (!pv->events)
		goto fail;
	rc = connect_vbd(td, &pv->bf, &pv->lock_fd);
	if (rc < 0)
		goto fail;
	pv->info = blkfront_info(pv->bf);
	/* One io_u is one blkif request (no splitting): it must fit the
	 * negotiated segments, as a guest's max_hw_sectors does. */
	max_bytes = (unsigned long long)(pv->info->max_indirect ? pv->info->max_indirect :
					 BLKIF_MAX_SEGMENTS_PER_REQUEST) * 4096;
	if (td->o.max_bs[DDIR_READ] > max_bytes || td->o.max_bs[DDIR_WRITE] > max_bytes) {
		log_err(PVBLK ": bs up to %llu KiB per request with %u segments (negotiated "
			"indirect=%u): lower bs or raise indirect=\n", max_bytes >> 10,
			(unsigned)(max_bytes >> 12), pv->info->max_indirect);
		blkfront_close(pv->bf);
		close(pv->lock_fd);
		goto fail;
	}
	pv->nr_queues = pv->info->nr_queues;
	if (pv->nr_queues > sizeof(pv->dirty) / sizeof(pv->dirty[0]))
		pv->nr_queues = sizeof(pv->dirty) / sizeof(pv->dirty[0]);
	td->io_ops_data = pv;
	return 0;
fail:
	free(pv->events);
	free(pv);
	return 1;
}

/* fio's I/O buffers: granted to the backend (blkfront_buf_alloc; released by
 * blkfront_close) when zerocopy=1 and grants are persistent, else malloc. */
static int pvblk_iomem_alloc(struct thread_data *td, size_t total)
{
	struct pvblk_options *o = td->eo;
	struct pvblk *pv = td->io_ops_data;
	void *addr;

	if (pv && o->zerocopy && pv->info->persistent &&
	    blkfront_buf_alloc(pv->bf, total, &addr) == 0) {
		td->orig_buffer = addr;
		pv->iomem_malloced = false;
		return 0;
	}
	td->orig_buffer = malloc(total);
	if (!td->orig_buffer)
		return 1;
	if (pv)
		pv->iomem_malloced = true;
	return 0;
}

static void pvblk_iomem_free(struct thread_data *td)
{
	struct pvblk *pv = td->io_ops_data;

	if (!pv || pv->iomem_malloced)
		free(td->orig_buffer);
	td->orig_buffer = NULL;
}

static void pvblk_cleanup(struct thread_data *td)
{
	struct pvblk *pv = td->io_ops_data;

	if (!pv)
		return;
	blkfront_close(pv->bf);
	if (pv->lock_fd >= 0)
		close(pv->lock_fd);
	free(pv->events);
	free(pv);
	td->io_ops_data = NULL;
}

static int pvblk_open_file(struct thread_data *td, struct fio_file *f)
{
	return 0;
}

static int pvblk_close_file(struct thread_data *td, struct fio_file *f)
{
	return 0;
}

/* ------------------------------------------------------------ data path */

static enum fio_q_status pvblk_queue(struct thread_data *td, struct io_u *io_u)
{
	struct pvblk *pv = td->io_ops_data;
	const struct blkfront_info *in = pv->info;
	unsigned q = pv->next_q;
	uint64_t sector = io_u->offset >> 9;
	struct iovec iov;
	int rc;

	fio_ro_check(td, io_u);
	if ((io_u->offset | io_u->xfer_buflen) & 511) {
		io_u->error = EINVAL;
		return FIO_Q_COMPLETED;
	}
	switch (io_u->ddir) {
	case DDIR_READ:
	case DDIR_WRITE:
		iov = (struct iovec){ io_u->xfer_buf, io_u->xfer_buflen };
		rc = blkfront_submit(pv->bf, q, io_u->ddir == DDIR_READ ? BLKFRONT_READ :
						BLKFRONT_WRITE, sector, &iov, 1, (uintptr_t)io_u);
		break;
	case DDIR_TRIM:
		if (!in->discard) {
			io_u->error = EOPNOTSUPP;
			return FIO_Q_COMPLETED;
		}
		rc = blkfront_discard(pv->bf, q, sector, io_u->xfer_buflen >> 9, false,
				      (uintptr_t)io_u);
		break;
	case DDIR_SYNC:
	case DDIR_DATASYNC:
	case DDIR_SYNC_FILE_RANGE:
		/* A FLUSH covers the writes completed before it (as a guest's
		 * REQ_PREFLUSH): let everything in flight complete first. */
		if (pv->queued)
			return FIO_Q_BUSY;
		for (q = 0; q < pv->nr_queues; q++)
			if (blkfront_inflight(pv->bf, q))
				return FIO_Q_BUSY;
		q = 0;
		if (!in->flush && !in->barrier)
			return FIO_Q_COMPLETED; /* no cache to flush */
		rc = blkfront_submit(pv->bf, q, in->flush ? BLKFRONT_FLUSH : BLKFRONT_BARRIER,
				     0, NULL, 0, (uintptr_t)io_u);
		break;
	default:
		io_u->error = EINVAL;
		return FIO_Q_COMPLETED;
	}
	if (rc == -EAGAIN)
		return FIO_Q_BUSY; /* ring full: fio commits and reaps */
	if (rc < 0) {
		io_u->error = -rc;
		return FIO_Q_COMPLETED;
	}
	pv->dirty[q] = true;
	pv->queued++;
	if (++pv->next_q >= pv->nr_queues)
		pv->next_q = 0;
	return FIO_Q_QUEUED;
}

static int pvblk_commit(struct thread_data *td)
{
	struct pvblk *pv = td->io_ops_data;
	unsigned q;
	int rc;

	for (q = 0; q < pv->nr_queues; q++) {
		if (!pv->dirty[q])
			continue;
		pv->dirty[q] = false;
		rc = blkfront_kick(pv->bf, q);
		if (rc < 0) {
			log_err(PVBLK ": kick queue %u: %s\n", q, strerror(-rc));
			return rc;
		}
	}
	if (pv->queued) {
		io_u_mark_submit(td, pv->queued);
		pv->queued = 0;
	}
	return 0;
}

static void on_done(void *opaque, uint64_t tag, int status)
{
	struct pvblk *pv = opaque;
	struct io_u *io_u = (struct io_u *)(uintptr_t)tag;

	switch (status) {
	case BLKIF_RSP_OKAY:
		io_u->error = 0;
		io_u->resid = 0;
		break;
	case BLKIF_RSP_EOPNOTSUPP:
		io_u->error = EOPNOTSUPP;
		break;
	default:
		io_u->error = EIO;
		break;
	}
	/* inflight <= iodepth < ev_cap: never full. */
	if (pv->nr_events < pv->ev_cap)
		pv->events[pv->nr_events++] = io_u;
}

static int reap(struct pvblk *pv)
{
	unsigned q;
	int rc;

	for (q = 0; q < pv->nr_queues; q++) {
		if (!blkfront_inflight(pv->bf, q))
			continue;
		rc = blkfront_complete(pv->bf, q, on_done, pv);
		if (rc < 0) {
			log_err(PVBLK ": completing queue %u: %s\n", q, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int pvblk_getevents(struct thread_data *td, unsigned int min, unsigned int max,
			   const struct timespec *t)
{
	struct pvblk *pv = td->io_ops_data;
	const struct pvblk_options *o = td->eo;
	int timeout_ms = t ? (int)(t->tv_sec * 1000 + t->tv_nsec / 1000000) : -1;
	uint64_t poll_end = 0;
	unsigned n, stalled_ms = 0;
	int rc;

	/* Drop the events fio took in the previous round. */
	if (pv->ev_given) {
		memmove(pv->events, pv->events + pv->ev_given,
			(pv->nr_events - pv->ev_given) * sizeof(*pv->events));
		pv->nr_events -= pv->ev_given;
		pv->ev_given = 0;
	}
	for (;;) {
		rc = reap(pv);
		if (rc < 0)
			return rc;
		if (pv->nr_events >= min)
			break;
		if (o->poll_us) {
			uint64_t now = now_ns();

			if (!poll_end)
				poll_end = now + o->poll_us * 1000ull;
			if (now < poll_end)
				continue;
		}
		/* Without a deadline from fio, wait in 1 s steps so that a
		 * terminating fio or a vanished backend ends the wait. */
		rc = blkfront_wait(pv->bf, timeout_ms >= 0 ? timeout_ms : 1000);
		if (rc == -ETIMEDOUT) {
			if (timeout_ms >= 0 || td->terminate)
				break;
			stalled_ms += 1000;
			if (stalled_ms >= o->timeout_ms) {
				log_err(PVBLK ": no response from the backend for %u ms "
					"(backend stopped or vbd disconnected?)\n", stalled_ms);
				return -ETIMEDOUT;
			}
			continue;
		}
		if (rc < 0) {
			log_err(PVBLK ": waiting for responses: %s\n", strerror(-rc));
			return rc;
		}
		stalled_ms = 0;
	}
	n = pv->nr_events < max ? pv->nr_events : max;
	pv->ev_given = n;
	return (int)n;
}

static struct io_u *pvblk_event(struct thread_data *td, int event)
{
	struct pvblk *pv = td->io_ops_data;

	return pv->events[event];
}

struct ioengine_ops ioengine = {
	.name = PVBLK,
	.version = FIO_IOOPS_VERSION,
	.flags = FIO_DISKLESSIO | FIO_NOEXTEND | FIO_NODISKUTIL,
	.setup = pvblk_setup,
	.init = pvblk_init,
	.queue = pvblk_queue,
	.commit = pvblk_commit,
	.getevents = pvblk_getevents,
	.event = pvblk_event,
	.cleanup = pvblk_cleanup,
	.iomem_alloc = pvblk_iomem_alloc,
	.iomem_free = pvblk_iomem_free,
	.open_file = pvblk_open_file,
	.close_file = pvblk_close_file,
	.options = options,
	.option_struct_size = sizeof(struct pvblk_options),
};
