// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The protocol-neutral backend daemon (pvcommon.h "daemon"): options every
 * backend has, the client mode, signals through a signalfd, daemon(), the
 * run directories, the control socket with the built-in `stats` commands,
 * and one xenbus backend per --type, all on one main (xenbus) loop.  The
 * protocol comes in through a struct pv_backend_desc.
 *
 * Threads: everything here runs on the main loop's thread; the backend's
 * queue threads start inside its xenbus ops and inherit the signal mask
 * blocked here first.  Start-up runs as root up to the backend's start
 * hook, then the daemon confines itself (common/confine.c): the user, the
 * main thread's kept capabilities, the data-path filter; only then do the
 * backend's serve hook and the devices start.  Holds no protocol logic.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <linux/capability.h>
#include <unistd.h>

#include "pvcommon.h"

#define MAX_TYPES 8
#define POLL_US_MAX 1000000u
#define DEFAULT_USER "pvback"
/* What every main thread keeps: it opens backing files and devices,
 * /dev/xen/gntdev and evtchn for each queue (root's, mode 0600), pvsim's
 * sockets, and a predecessor's journals, all as root left them
 * (CAP_DAC_OVERRIDE); and it makes the queues' io_urings, which the kernel
 * charges, rings and registered buffers, to the user's locked memory unless
 * their maker has CAP_IPC_LOCK.  That budget is one RLIMIT_MEMLOCK for
 * every process of the user (every daemon and worker runs as pvback):
 * Debian's 8 MiB ran out with a few queues, and the next io_uring_setup
 * failed with ENOMEM (a vif that could not connect). */
#define MAIN_CAPS (PV_CAP(CAP_DAC_OVERRIDE) | PV_CAP(CAP_IPC_LOCK))

struct pv_backend {
	const struct pv_backend_desc *d;
	struct pv_xb_backend *be[MAX_TYPES]; /* NULL until started */
	unsigned nr_be;
	struct pv_ctl_cmd *cmds;             /* built-in + the backend's */
	unsigned nr_cmds;
	int argc;                            /* as given: a worker parses them again */
	char **argv;
	char exe[PATH_MAX];                  /* this binary, for workers ("": unknown) */
	uint64_t main_caps;                  /* what the main thread kept (PV_CAP bits) */
	struct pv_loop *loop;                /* the main loop, once serve() made it */
};

/* What the options say beyond the backend's config. */
struct daemon_opts {
	const char *types[MAX_TYPES];
	unsigned nr_types;
	enum pv_log_level level;
	bool use_syslog, foreground;
	const char *ctl_path, *state_dir;   /* NULL: the default */
	unsigned guest_map_pages;           /* the mapping budget (common/budget.c) */
	const char *user;                   /* --user; NULL: the default */
	bool no_confine;
	enum pv_confine_action seccomp;
	int worker_fd;                      /* --worker FD: a worker process; -1: not */
};

void *pv_backend_config(struct pv_backend *b)
{
	return b->d->cfg;
}

struct pv_loop *pv_backend_loop(struct pv_backend *b)
{
	return b->loop;
}

void pv_backend_foreach_dev(struct pv_backend *b, pv_xb_dev_fn *fn, void *opaque)
{
	for (unsigned i = 0; i < b->nr_be; i++)
		if (b->be[i])
			pv_xb_backend_foreach(b->be[i], fn, opaque);
}

int pv_signalfd_open(const int *signals, unsigned n)
{
	sigset_t mask;
	int rc, fd;

	sigemptyset(&mask);
	for (unsigned i = 0; i < n; i++)
		sigaddset(&mask, signals[i]);
	rc = pthread_sigmask(SIG_BLOCK, &mask, NULL);
	if (rc)
		return -rc;
	fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* ------------------------------------------------------------- stats */

/* What every device has, whatever its protocol. */
struct dev_stats {
	uint64_t state;
};

static const struct pv_stats_field dev_fields[] = {
	{ "state", "XenbusState of the backend (2 InitWait, 4 Connected, 6 Closed)",
	  offsetof(struct dev_stats, state), PV_STATS_GAUGE },
};

static const struct pv_stats_table dev_table = {
	.fields = dev_fields, .nr = 1, .size = sizeof(struct dev_stats),
};

int pv_stats_dump_add(struct pv_stats_dump *d, struct pv_xb_dev *dev,
		      const struct pv_stats_table *t, const void *st, const char *key,
		      const char *value)
{
	char domid[8];
	const char *labels[] = { "device", pv_xb_dev_name(dev), "domid", domid, key, value, NULL };
	int rc;

	snprintf(domid, sizeof(domid), "%u", pv_xb_dev_domid(dev));
	rc = pv_stats_prom_add(d->prom, t, st, labels);
	if (rc < 0 && !d->err)
		d->err = rc;
	return rc;
}

struct stats_walk {
	struct pv_backend *b;
	struct pv_stats_dump d;
	const char *only;  /* device name filter or NULL */
	unsigned n;        /* devices written */
};

static void stats_dev(struct pv_xb_dev *dev, void *opaque)
{
	struct stats_walk *w = opaque;
	size_t mark = w->d.out ? pv_out_len(w->d.out) : 0;
	struct dev_stats ds = { .state = (uint64_t)pv_xb_dev_state(dev) };

	if (w->only && strcmp(w->only, pv_xb_dev_name(dev)))
		return;
	if (w->d.fmt == PV_STATS_JSON && w->n)
		pv_out_printf(w->d.out, ",");
	if (!w->b->d->stats(dev, &w->d)) {
		if (w->d.out)
			pv_out_truncate(w->d.out, mark);
		return;
	}
	if (w->d.fmt == PV_STATS_PROM)
		pv_stats_dump_add(&w->d, dev, &dev_table, &ds, NULL, NULL);
	w->n++;
}

static int stats_run(struct pv_backend *b, const char *arg, struct pv_out *o, enum pv_stats_fmt fmt)
{
	struct stats_walk w = { .b = b, .d = { .fmt = fmt, .out = o }, .only = arg };
	int rc;

	if (fmt == PV_STATS_PROM) {
		w.d.out = NULL; /* series only: they are written grouped below */
		rc = pv_stats_prom_create(b->d->prog, &w.d.prom);
		if (rc < 0)
			return rc;
	}
	if (fmt == PV_STATS_JSON)
		pv_out_printf(o, "{\"devices\":[");
	pv_backend_foreach_dev(b, stats_dev, &w);
	if (fmt == PV_STATS_JSON)
		pv_out_printf(o, "]}\n");
	if (fmt == PV_STATS_PROM) {
		if (!w.d.err)
			pv_stats_prom_write(w.d.prom, o);
		pv_stats_prom_destroy(w.d.prom);
	}
	if (arg && !w.n) {
		pv_out_truncate(o, 0);
		pv_out_printf(o, "no device %s", arg);
		return -ENOENT;
	}
	return w.d.err;
}

static int stats_text(void *opaque, const char *arg, struct pv_out *o)
{
	return stats_run(opaque, arg, o, PV_STATS_TEXT);
}

static int stats_json(void *opaque, const char *arg, struct pv_out *o)
{
	return stats_run(opaque, arg, o, PV_STATS_JSON);
}

static int stats_prom(void *opaque, const char *arg, struct pv_out *o)
{
	return stats_run(opaque, arg, o, PV_STATS_PROM);
}

static const struct pv_ctl_cmd stats_cmds[] = {
	{ .name = "stats", .args = "[DEVICE]", .help = "counters of the running daemon",
	  .run = stats_text },
	{ .name = "stats-json", .args = "[DEVICE]", .run = stats_json },
	{ .name = "stats-prometheus", .args = "[DEVICE]", .run = stats_prom },
};

#define NR_STATS_CMDS (sizeof(stats_cmds) / sizeof(stats_cmds[0]))

/* ----------------------------------------------------------- options */

enum { O_HV = 256, O_TYPE, O_LOG, O_SYSLOG, O_FG, O_CTL, O_STATE, O_POLL, O_MAXQ, O_GMAP,
       O_USER, O_NO_CONFINE, O_SECCOMP, O_ISOLATE, O_WORKER, O_HELP, O_BACKEND = 512 };

static const struct option common_opts[] = {
	{ "hv", required_argument, NULL, O_HV },
	{ "type", required_argument, NULL, O_TYPE },
	{ "log-level", required_argument, NULL, O_LOG },
	{ "syslog", no_argument, NULL, O_SYSLOG },
	{ "foreground", no_argument, NULL, O_FG },
	{ "ctl", required_argument, NULL, O_CTL },
	{ "state-dir", required_argument, NULL, O_STATE },
	{ "poll-us", required_argument, NULL, O_POLL },
	{ "max-queues", required_argument, NULL, O_MAXQ },
	{ "guest-map-pages", required_argument, NULL, O_GMAP },
	{ "user", required_argument, NULL, O_USER },
	{ "no-confine", no_argument, NULL, O_NO_CONFINE },
	{ "seccomp", required_argument, NULL, O_SECCOMP },
	{ "isolate", required_argument, NULL, O_ISOLATE },
	{ "worker", required_argument, NULL, O_WORKER }, /* internal: pv_backend_spawn_worker */
	{ "help", no_argument, NULL, O_HELP },
};

#define NR_COMMON_OPTS (sizeof(common_opts) / sizeof(common_opts[0]))

/* "  --name ARG   help", help lines after the first indented under it. */
static void opt_usage(FILE *f, const char *name, const char *arg, const char *help)
{
	char left[64];
	const char *nl;

	snprintf(left, sizeof(left), "--%s%s%s", name, arg ? " " : "", arg ? arg : "");
	fprintf(f, "  %-25s%s", left, strlen(left) > 25 ? "  " : " ");
	while ((nl = strchr(help, '\n'))) {
		fprintf(f, "%.*s\n%28s", (int)(nl - help), help, "");
		help = nl + 1;
	}
	fprintf(f, "%s\n", help);
}

static void usage(FILE *f, const struct pv_backend *b)
{
	const struct pv_backend_desc *d = b->d;
	char help[768], xen[256], sim[256];
	struct pv_out *o;

	fprintf(f, "usage: %s [options]\n", d->prog);
	opt_usage(f, "hv", "xen|sim|auto", "hypervisor interface (default auto)");
	snprintf(help, sizeof(help), "serve backend/NAME/ (repeatable; default %s)", d->type);
	opt_usage(f, "type", "NAME", help);
	snprintf(help, sizeof(help), "adaptive polling budget per queue (default %u)",
		 d->common->poll_us);
	opt_usage(f, "poll-us", "N", help);
	snprintf(help, sizeof(help), "multi-queue-max-queues (default %u, max %u)",
		 d->common->max_queues, d->max_queues);
	opt_usage(f, "max-queues", "N", help);
	snprintf(help, sizeof(help),
		 "guest pages one domain may have mapped beyond\nits queues' reserves "
		 "(default %u)", PV_BUDGET_GUEST_PAGES);
	opt_usage(f, "guest-map-pages", "N", help);
	for (unsigned i = 0; i < d->nr_opts; i++) {
		const struct pv_backend_opt *op = &d->opts[i];

		/* The descriptor's own text: a format of up to 3 %u. */
		snprintf(help, sizeof(help), op->help, op->help_args[0], op->help_args[1],
			 op->help_args[2]);
		opt_usage(f, op->name, op->arg, help);
	}
	opt_usage(f, "log-level", "err|warn|info|debug", "default info");
	opt_usage(f, "syslog", NULL, "log to syslog");
	opt_usage(f, "foreground", NULL, "do not daemonize");
	opt_usage(f, "user", "NAME", "run as NAME after start-up (default " DEFAULT_USER
		  " when\nstarted as root; root: stay root, docs/security.md)");
	opt_usage(f, "no-confine", NULL, "no user change, capability drop or system-call\n"
		  "filter (debugging only)");
	opt_usage(f, "seccomp", "kill|trap|log|off", "a data-path system call not on the "
		  "allow-list:\nkill the daemon (default), fail it and name it\non stderr "
		  "(trap), allow and log it in the kernel\nlog (log), or no filter (off); default "
		  "from\n$PVBACK_SECCOMP");
	if (d->worker)
		opt_usage(f, "isolate", "none|domain", "domain: each guest domain's queues in a "
			  "worker\nprocess of their own (docs/security.md)");
	if (pv_run_path(PV_HV_XEN, d->prog, PV_RUN_CTL, xen, sizeof(xen)) == 0 &&
	    pv_run_path(PV_HV_SIM, d->prog, PV_RUN_CTL, sim, sizeof(sim)) == 0) {
		snprintf(help, sizeof(help), "control socket (default %s on xen,\n%s on pvsim)", xen,
			 sim);
		opt_usage(f, "ctl", "PATH|none", help);
	}
	if (pv_run_path(PV_HV_XEN, d->prog, PV_RUN_STATE, xen, sizeof(xen)) == 0 &&
	    pv_run_path(PV_HV_SIM, d->prog, PV_RUN_STATE, sim, sizeof(sim)) == 0) {
		snprintf(help, sizeof(help),
			 "in-flight journals, so a restart after a kill\nre-issues what was "
			 "unanswered (default\n%s on xen,\n%s on pvsim)", xen, sim);
		opt_usage(f, "state-dir", "DIR|none", help);
	}
	if (pv_out_create(&o) == 0) {
		pv_ctl_usage(o, "", d->prog, b->cmds, b->nr_cmds);
		fputs(pv_out_str(o), f);
		pv_out_destroy(o);
	}
}

int pv_opt_uint(const char *arg, unsigned min, unsigned max, unsigned *out)
{
	uint64_t v;
	int rc = pv_parse_uint(arg, min, max, &v);

	if (rc == 0)
		*out = (unsigned)v;
	return rc;
}

int pv_opt_choice(const char *arg, const char *const *names)
{
	for (int i = 0; names[i]; i++)
		if (!strcmp(arg, names[i]))
			return i;
	return -EINVAL;
}

static int set_common(struct pv_backend *b, struct daemon_opts *o, int c, const char *arg)
{
	struct pv_backend_cfg *cfg = b->d->common;

	switch (c) {
	case O_HV:
		return pv_hv_kind_parse(arg, &cfg->hv_kind);
	case O_TYPE:
		if (o->nr_types == MAX_TYPES)
			return -E2BIG;
		o->types[o->nr_types++] = arg;
		return 0;
	case O_LOG:
		return pv_log_level_parse(arg, &o->level);
	case O_SYSLOG:
		o->use_syslog = true;
		return 0;
	case O_FG:
		o->foreground = true;
		return 0;
	case O_CTL:
		o->ctl_path = arg;
		return 0;
	case O_STATE:
		o->state_dir = arg;
		return 0;
	case O_POLL:
		return pv_opt_uint(arg, 0, POLL_US_MAX, &cfg->poll_us);
	case O_MAXQ:
		return pv_opt_uint(arg, 1, b->d->max_queues, &cfg->max_queues);
	case O_GMAP:
		return pv_opt_uint(arg, 0, UINT32_MAX / 2, &o->guest_map_pages);
	case O_USER:
		o->user = arg;
		return 0;
	case O_NO_CONFINE:
		o->no_confine = true;
		return 0;
	case O_SECCOMP:
		return pv_confine_action_parse(arg, &o->seccomp);
	case O_ISOLATE: {
		static const char *const modes[] = { "none", "domain", NULL };
		int m = pv_opt_choice(arg, modes);

		if (m < 0)
			return m;
		cfg->isolate = m == 1;
		return 0;
	}
	case O_WORKER: {
		unsigned fd;
		int rc = pv_opt_uint(arg, 3, 1023, &fd);

		o->worker_fd = rc < 0 ? -1 : (int)fd;
		return rc;
	}
	}
	return -EINVAL;
}

/* 0: serve; > 0: exit with status - 1 (help, usage error, bad value). */
static int parse_options(struct pv_backend *b, struct daemon_opts *o, int argc, char **argv)
{
	const struct pv_backend_desc *d = b->d;
	unsigned n = (unsigned)NR_COMMON_OPTS + d->nr_opts, i;
	struct option *opts = calloc(n + 1, sizeof(*opts));
	int c, rc, ret = 0;

	if (!opts) {
		fprintf(stderr, "%s: out of memory\n", d->prog);
		return 2;
	}
	memcpy(opts, common_opts, sizeof(common_opts));
	for (i = 0; i < d->nr_opts; i++)
		opts[NR_COMMON_OPTS + i] = (struct option){
			d->opts[i].name, d->opts[i].arg ? required_argument : no_argument, NULL,
			O_BACKEND + (int)i,
		};
	while (!ret && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h' || c == O_HELP) {
			usage(stdout, b);
			ret = 1;
			break;
		}
		if (c < O_HV) {
			usage(stderr, b);
			ret = 2;
			break;
		}
		rc = c >= O_BACKEND ? d->opts[c - O_BACKEND].set(d->cfg, optarg)
				    : set_common(b, o, c, optarg);
		if (rc == -E2BIG) {
			fprintf(stderr, "%s: at most %u --type\n", d->prog, MAX_TYPES);
			ret = 2;
		} else if (rc < 0) {
			fprintf(stderr, "%s: bad value for --%s: %s\n", d->prog,
				c >= O_BACKEND ? d->opts[c - O_BACKEND].name : common_opts[c - O_HV].name,
				optarg ? optarg : "");
			ret = 2;
		}
	}
	if (!ret && optind < argc) {
		usage(stderr, b);
		ret = 2;
	}
	free(opts);
	if (!ret && d->common->isolate && !d->worker) {
		fprintf(stderr, "%s: --isolate domain: not supported by %s yet\n", d->prog, d->prog);
		ret = 2;
	}
	if (!ret && !o->nr_types)
		o->types[o->nr_types++] = d->type;
	return ret;
}

/* ------------------------------------------------------------- serve */

static void on_signal(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct pv_backend *b = opaque;
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM) {
		pv_info(NULL, "signal %u: stopping", si.ssi_signo);
		pv_loop_stop(loop);
	} else if (si.ssi_signo == SIGHUP) {
		b->d->sighup(b);
	}
}

static int start_ctl(struct pv_backend *b, const struct daemon_opts *o, struct pv_loop *loop,
		     struct pv_ctl **ctl)
{
	const char *prog = b->d->prog, *path = o->ctl_path;
	char def[PATH_MAX], xen[PATH_MAX], *slash;
	int rc;

	if (path && !strcmp(path, "none"))
		return 0;
	rc = pv_run_path(b->d->common->hv_kind, prog, PV_RUN_CTL, def, sizeof(def));
	if (!path && rc < 0) {
		pv_err(NULL, "control socket: the default path is too long");
		return rc;
	}
	path = path ? path : def;
	/* /run/<prog>/ is ours to make (pvsim's directory is pvsim's). */
	if (pv_run_path(PV_HV_XEN, prog, PV_RUN_CTL, xen, sizeof(xen)) == 0 && !strcmp(path, xen)) {
		slash = strrchr(xen, '/');
		*slash = '\0';
		pv_mkdir_p(xen, 0755); /* pv_ctl_start reports what fails */
	}
	rc = pv_ctl_start(loop, path, b->cmds, b->nr_cmds, b, ctl);
	if (rc < 0) {
		*ctl = NULL;
		pv_err(NULL, "control socket %s: %s%s%s%s", path, strerror(-rc),
		       rc == -EADDRINUSE ? " (another " : "", rc == -EADDRINUSE ? prog : "",
		       rc == -EADDRINUSE ? " runs: give it --ctl)" : "");
	}
	return rc;
}

/* The journal directory: made owner-only; without it, run without journals. */
static void make_state_dir(struct pv_backend *b, const struct daemon_opts *o, char *buf,
			   size_t len)
{
	struct pv_backend_cfg *cfg = b->d->common;
	const char *dir = o->state_dir;
	int rc;

	cfg->state_dir = NULL;
	if (dir && !strcmp(dir, "none"))
		return;
	if (!dir) {
		rc = pv_run_path(cfg->hv_kind, b->d->prog, PV_RUN_STATE, buf, len);
		if (rc < 0) {
			pv_warn(NULL, "state directory: the default path is too long: "
				"running without in-flight journals");
			return;
		}
		dir = buf;
	}
	rc = pv_mkdir_p(dir, 0700);
	if (rc < 0)
		pv_warn(NULL, "state directory %s: %s: running without in-flight journals", dir,
			strerror(-rc));
	else
		cfg->state_dir = dir;
}

/* ----------------------------------------------------------- confine */

/* The capabilities a main thread keeps: the xenbus process's and a worker's. */
static uint64_t main_caps_of(const struct pv_backend_desc *d)
{
	return MAIN_CAPS | (d->confine ? d->confine->main_caps : 0);
}

/* ... and what a worker process's main thread does not keep of them. */
static uint64_t worker_drop_of(const struct pv_backend_desc *d)
{
	return d->confine ? d->confine->worker_drop_caps : 0;
}

static void caps_text(uint64_t caps, char *buf, size_t len)
{
	static const struct { unsigned cap; const char *name; } names[] = {
		{ CAP_DAC_OVERRIDE, "dac_override" }, { CAP_DAC_READ_SEARCH, "dac_read_search" },
		{ CAP_NET_ADMIN, "net_admin" }, { CAP_NET_RAW, "net_raw" },
		{ CAP_IPC_LOCK, "ipc_lock" }, { CAP_SYS_ADMIN, "sys_admin" },
		{ CAP_SYS_RAWIO, "sys_rawio" }, { CAP_SYS_RESOURCE, "sys_resource" },
	};
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (caps & PV_CAP(names[i].cap) && n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "", names[i].name);
	if (!n)
		snprintf(buf, len, "none");
}

/* Journals (and usbback's port files) are written in the state directory
 * from now on: hand it to the user, but only a private one root made (mode
 * 0700, as make_state_dir does), never a shared directory --state-dir may
 * name.  Otherwise the main thread's CAP_DAC_OVERRIDE still writes there. */
static void give_state_dir(const char *dir, const char *user, uid_t uid, gid_t gid)
{
	struct stat st;

	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid == uid)
		return;
	if (st.st_uid != 0 || (st.st_mode & 07777) != 0700) {
		pv_info(NULL, "state directory %s: not a private directory of root's (mode %04o): "
			"left as it is", dir, (unsigned)(st.st_mode & 07777));
		return;
	}
	if (chown(dir, uid, gid) < 0)
		pv_warn(NULL, "state directory %s: chown to %s: %s", dir, user, strerror(errno));
}

/*
 * After the privileged start-up, before any data-path thread: the filter,
 * the state directory handed to the user, the drop.  Default user: pvback
 * when started as root (refused when it does not exist: a shared user such
 * as nobody would let other daemons signal and trace ours); who we are
 * otherwise.  --user root keeps root and every capability on the main
 * thread; the data path is confined either way.
 */
static int confine(struct pv_backend *b, const struct daemon_opts *o)
{
	const struct pv_backend_desc *d = b->d;
	const char *user = o->user, *state = d->common->state_dir;
	uint64_t keep = main_caps_of(d);
	char caps[128];
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int rc;

	if (o->no_confine) {
		pv_warn(NULL, "--no-confine: running as uid %u with every capability and no "
			"system-call filter", (unsigned)uid);
		return 0;
	}
	if (!user && uid == 0)
		user = DEFAULT_USER;
	if (user) {
		rc = pv_confine_lookup(user, &uid, &gid);
		if (rc == -ENOENT) {
			pv_err(NULL, "user %s does not exist: create it (adduser --system --group "
			       "--no-create-home %s), or pass --user NAME (--no-confine to run as "
			       "root, unconfined)", user, user);
			return rc;
		}
		if (rc < 0) {
			pv_err(NULL, "user %s: %s", user, strerror(-rc));
			return rc;
		}
	}
	if (uid == 0)
		keep = ~0ull; /* --user root: the main thread as it was */
	rc = pv_confine_init(d->confine, o->seccomp);
	if (rc < 0) {
		pv_err(NULL, "cannot build the system-call filter: %s", strerror(-rc));
		return rc;
	}
	if (state && geteuid() == 0 && uid != 0)
		give_state_dir(state, user, uid, gid);
	rc = pv_confine_drop(user, keep);
	if (rc == -EPERM) {
		pv_err(NULL, "--user %s: only root can become another user", user);
		return rc;
	}
	if (rc < 0) {
		pv_err(NULL, "cannot drop privileges: %s", strerror(-rc));
		return rc;
	}
	b->main_caps = keep;
	caps_text(keep, caps, sizeof(caps));
	pv_info(NULL, "confined: uid %u gid %u; main thread keeps %s; data path: no "
		"capabilities, system-call filter %s", (unsigned)geteuid(), (unsigned)getegid(),
		uid == 0 ? "every capability" : caps,
		o->seccomp == PV_CONFINE_NONE ? "off" :
		o->seccomp == PV_CONFINE_KILL ? "(kill)" :
		o->seccomp == PV_CONFINE_TRAP ? "(trap)" : "(log)");
	return 0;
}

static int serve(struct pv_backend *b, const struct daemon_opts *o)
{
	static const int signals[] = { SIGINT, SIGTERM, SIGHUP };
	const struct pv_backend_desc *d = b->d;
	struct pv_xb_backend_ops ops[MAX_TYPES];
	char state_def[PATH_MAX];
	struct pv_loop *loop = NULL;
	struct pv_ctl *ctl = NULL;
	struct pv_xs *xs = NULL;
	struct pv_hv *hv = NULL;
	int rc, sfd = -1, ret = 1;
	unsigned i;

	pv_log_init(d->prog, o->use_syslog, o->level);
	if (!o->foreground && daemon(0, 0) < 0) {
		pv_err(NULL, "daemon: %s", strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);

	/* Resolve the hv kind once so every queue thread opens the same kind. */
	rc = pv_hv_open(d->common->hv_kind, &hv);
	if (rc < 0) {
		pv_err(NULL, "cannot open the hypervisor interface: %s", strerror(-rc));
		return 1;
	}
	d->common->hv_kind = pv_hv_kind(hv);

	sfd = pv_signalfd_open(signals, sizeof(signals) / sizeof(signals[0]));
	if (sfd < 0) {
		pv_err(NULL, "signalfd: %s", strerror(-sfd));
		goto out;
	}
	rc = pv_loop_create(&loop);
	if (rc < 0) {
		loop = NULL;
		pv_err(NULL, "loop: %s", strerror(-rc));
		goto out;
	}
	b->loop = loop;
	rc = pv_loop_add_fd(loop, sfd, PV_LOOP_IN, on_signal, b);
	if (rc < 0) {
		pv_err(NULL, "loop: %s", strerror(-rc));
		goto out;
	}
	rc = pv_xs_open(loop, &xs);
	if (rc < 0) {
		xs = NULL;
		pv_err(NULL, "cannot open xenstore: %s", strerror(-rc));
		goto out;
	}
	/* Before any device is touched: a second daemon must not disturb them. */
	b->nr_be = o->nr_types;
	if (start_ctl(b, o, loop, &ctl) < 0)
		goto out;
	make_state_dir(b, o, state_def, sizeof(state_def));
	if (d->start(b) < 0)
		goto out;
	if (d->common->isolate && !b->exe[0]) {
		pv_err(NULL, "--isolate domain: cannot find this program's binary");
		goto out;
	}
	if (confine(b, o) < 0 || d->serve(b) < 0)
		goto out;
	for (i = 0; i < o->nr_types; i++) {
		ops[i] = *d->xb;
		ops[i].type = o->types[i];
		rc = pv_xb_backend_start(loop, xs, &ops[i], d->cfg, &b->be[i]);
		if (rc < 0) {
			b->be[i] = NULL;
			pv_err(NULL, "cannot watch backend/%s: %s", o->types[i], strerror(-rc));
			goto out;
		}
	}
	pv_info(NULL, "serving %s%s on %s", o->types[0], o->nr_types > 1 ? " and more" : "",
		pv_hv_name(hv));
	rc = pv_loop_run(loop);
	ret = rc < 0 ? 1 : 0;
out:
	pv_ctl_stop(ctl);
	for (i = b->nr_be; i-- > 0;)
		if (b->be[i])
			pv_xb_backend_stop(b->be[i]); /* drains and disconnects every device */
	if (xs)
		pv_xs_close(xs);
	if (loop)
		pv_loop_destroy(loop);
	if (sfd >= 0)
		close(sfd);
	pv_hv_close(hv);
	return ret;
}

/* ----------------------------------------------------------- worker */

int pv_backend_spawn_worker(struct pv_backend *b, uint16_t domid, pid_t *pid, int *fd)
{
	char **argv = calloc((size_t)b->argc + 3, sizeof(*argv));
	int rc;

	if (!argv)
		return -ENOMEM;
	argv[0] = b->argv[0];
	argv[1] = "--worker";
	argv[2] = "3";
	for (int i = 1; i < b->argc; i++)
		argv[i + 2] = b->argv[i];
	rc = pv_isolate_spawn(b->exe, argv, b->main_caps & ~worker_drop_of(b->d), pid, fd);
	free(argv);
	if (rc == 0)
		pv_info(NULL, "domain %u: worker process %d", domid, (int)*pid);
	return rc;
}

/*
 * A worker process (--worker FD): the xenbus process's options, its own hv
 * handle, confined as the xenbus process's main thread is (the user is
 * already the daemon's: only capabilities are dropped), then the backend's
 * worker hook.  Signals are the xenbus process's business: `pkill` of the
 * daemon's name must not take a worker away under its guest.
 */
static int worker_main(struct pv_backend *b, const struct daemon_opts *o)
{
	const struct pv_backend_desc *d = b->d;
	uint64_t keep = main_caps_of(d) & ~worker_drop_of(d);
	char state_def[PATH_MAX];
	struct pv_loop *loop = NULL;
	struct pv_hv *hv = NULL;
	int rc, ret = 1;

	pv_log_init(d->prog, o->use_syslog, o->level);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (!d->worker) {
		pv_err(NULL, "--worker: not supported by %s", d->prog);
		return 1;
	}
	rc = pv_hv_open(d->common->hv_kind, &hv);
	if (rc < 0) {
		pv_err(NULL, "worker: cannot open the hypervisor interface: %s", strerror(-rc));
		return 1;
	}
	d->common->hv_kind = pv_hv_kind(hv);
	make_state_dir(b, o, state_def, sizeof(state_def));
	if (d->start(b) < 0)
		goto out;
	if (!o->no_confine) {
		if (geteuid() == 0)
			keep = ~0ull; /* --user root */
		rc = pv_confine_init(d->confine, o->seccomp);
		if (rc == 0)
			rc = pv_confine_drop(NULL, keep);
		if (rc < 0) {
			pv_err(NULL, "worker: cannot confine: %s", strerror(-rc));
			goto out;
		}
	}
	rc = pv_loop_create(&loop);
	if (rc < 0) {
		loop = NULL;
		pv_err(NULL, "worker: loop: %s", strerror(-rc));
		goto out;
	}
	ret = d->worker(b, loop, o->worker_fd);
out:
	if (loop)
		pv_loop_destroy(loop);
	pv_hv_close(hv);
	return ret;
}

/* ------------------------------------------------------------- main */

static bool desc_complete(const struct pv_backend_desc *d)
{
	unsigned i;

	if (!d->prog || !d->type || !d->xb || !d->max_queues || (d->nr_opts && !d->opts) ||
	    (d->nr_cmds && !d->cmds) || !d->stats || !d->sighup || !d->start || !d->serve ||
	    !d->cfg || !d->common)
		return false;
	for (i = 0; i < d->nr_opts; i++)
		if (!d->opts[i].name || !d->opts[i].help || !d->opts[i].set)
			return false;
	for (i = 0; i < d->nr_cmds; i++)
		if (!d->cmds[i].name || !d->cmds[i].args || !d->cmds[i].run)
			return false;
	return true;
}

int pv_backend_main(const struct pv_backend_desc *d, int argc, char **argv)
{
	struct pv_backend b = { .d = d };
	struct daemon_opts o = { .level = PV_LOG_INFO, .guest_map_pages = PV_BUDGET_GUEST_PAGES,
				 .worker_fd = -1 };
	ssize_t n;
	const char *env;
	char note[128];
	unsigned i;
	int ret;

	if (!desc_complete(d)) {
		fprintf(stderr, "%s: incomplete backend descriptor\n", d->prog ? d->prog : argv[0]);
		return 1;
	}
	b.nr_cmds = (unsigned)NR_STATS_CMDS + d->nr_cmds;
	b.cmds = calloc(b.nr_cmds, sizeof(*b.cmds));
	if (!b.cmds) {
		fprintf(stderr, "%s: out of memory\n", d->prog);
		return 1;
	}
	memcpy(b.cmds, stats_cmds, sizeof(stats_cmds));
	if (d->nr_cmds)
		memcpy(b.cmds + NR_STATS_CMDS, d->cmds, d->nr_cmds * sizeof(*d->cmds));
	for (i = 0; argc > 1 && i < b.nr_cmds; i++) {
		if (b.cmds[i].help && !strcmp(argv[1], b.cmds[i].name)) {
			snprintf(note, sizeof(note),
				 "DEVICE is a name as in the log: %s-DOMID-DEVID.", d->type);
			ret = pv_ctl_client_main(d->prog, b.cmds, b.nr_cmds, note, argc - 1, argv + 1);
			free(b.cmds);
			return ret;
		}
	}
	env = getenv("PVBACK_SECCOMP");
	if (env && pv_confine_action_parse(env, &o.seccomp) < 0) {
		fprintf(stderr, "%s: PVBACK_SECCOMP=%s: not kill, trap, log or off\n", d->prog, env);
		free(b.cmds);
		return 2;
	}
	b.argc = argc;
	b.argv = argv;
	n = readlink("/proc/self/exe", b.exe, sizeof(b.exe) - 1);
	b.exe[n > 0 ? n : 0] = '\0';
	ret = parse_options(&b, &o, argc, argv);
	if (ret > 0) {
		ret--;
	} else {
		pv_budget_set_limits(o.guest_map_pages, 0);
		ret = o.worker_fd >= 0 ? worker_main(&b, &o) : serve(&b, &o);
	}
	free(b.cmds);
	return ret;
}
