/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging for every pvback program: one line per message, to stderr
 * ("2026-11-22T10:00:00.123 pvback-blk[123] ERR vbd-5-51712: msg") or to
 * syslog.  Configuration is a few globals set once at start-up; the level may
 * change at run time (atomic).  Each line is formatted into one buffer and
 * written with one write(2), so lines of concurrent threads never interleave;
 * a mutex is not needed for that.  Lines longer than the buffer are truncated.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "pvcommon.h"

#define LOG_LINE_MAX 2048

static char log_ident[64] = "pvback";
static bool log_syslog;
static int log_level = PV_LOG_INFO; /* accessed atomically */

static const char *const level_names[] = {
	[PV_LOG_ERR] = "ERR",
	[PV_LOG_WARN] = "WARN",
	[PV_LOG_INFO] = "INFO",
	[PV_LOG_DEBUG] = "DEBUG",
};

void pv_log_init(const char *ident, bool use_syslog, enum pv_log_level level)
{
	if (ident)
		snprintf(log_ident, sizeof(log_ident), "%s", ident);
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	pv_log_set_level(level);
}

void pv_log_set_level(enum pv_log_level level)
{
	if (level > PV_LOG_DEBUG)
		level = PV_LOG_DEBUG;
	__atomic_store_n(&log_level, (int)level, __ATOMIC_RELAXED);
}

enum pv_log_level pv_log_get_level(void)
{
	return (enum pv_log_level)__atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

int pv_log_level_parse(const char *s, enum pv_log_level *out)
{
	static const struct {
		const char *name;
		enum pv_log_level lvl;
	} names[] = {
		{ "err", PV_LOG_ERR },     { "error", PV_LOG_ERR },
		{ "warn", PV_LOG_WARN },   { "warning", PV_LOG_WARN },
		{ "info", PV_LOG_INFO },   { "debug", PV_LOG_DEBUG },
	};

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcasecmp(s, names[i].name)) {
			*out = names[i].lvl;
			return 0;
		}
	}
	return -EINVAL;
}

static int syslog_prio(enum pv_log_level lvl)
{
	switch (lvl) {
	case PV_LOG_ERR:
		return LOG_ERR;
	case PV_LOG_WARN:
		return LOG_WARNING;
	case PV_LOG_INFO:
		return LOG_INFO;
	default:
		return LOG_DEBUG;
	}
}

void pv_vlog(enum pv_log_level lvl, const char *prefix, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	size_t len = 0;
	int n, saved_errno = errno;

	if ((int)lvl > __atomic_load_n(&log_level, __ATOMIC_RELAXED))
		return;
	if (lvl > PV_LOG_DEBUG)
		lvl = PV_LOG_DEBUG;

	if (!log_syslog) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		len = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		n = snprintf(line + len, sizeof(line) - len, ".%03ld %s[%d] %s ",
			     ts.tv_nsec / 1000000, log_ident, (int)getpid(), level_names[lvl]);
		if (n > 0)
			len += (size_t)n;
	}
	if (prefix && len < sizeof(line)) {
		n = snprintf(line + len, sizeof(line) - len, "%s: ", prefix);
		if (n > 0)
			len += (size_t)n;
	}
	if (len < sizeof(line)) {
		errno = saved_errno; /* so %m works */
		n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
		if (n > 0)
			len += (size_t)n;
	}
	if (len >= sizeof(line) - 1)
		len = sizeof(line) - 2;
	while (len > 0 && line[len - 1] == '\n')
		len--;

	if (log_syslog) {
		line[len] = '\0';
		syslog(syslog_prio(lvl), "%s", line);
	} else {
		const char *p = line;
		ssize_t w;

		line[len++] = '\n';
		while (len > 0) {
			w = write(STDERR_FILENO, p, len);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			p += w;
			len -= (size_t)w;
		}
	}
	errno = saved_errno;
}

void pv_log(enum pv_log_level lvl, const char *prefix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pv_vlog(lvl, prefix, fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------- rate limit */

static void report_missed(enum pv_log_level lvl, const char *prefix, unsigned missed)
{
	if (missed)
		pv_log(lvl, prefix, "%u message(s) suppressed (rate limit: %u per %u s)", missed,
		       PV_RATELIMIT_BURST, PV_RATELIMIT_MS / 1000);
}

void pv_vlog_rl(struct pv_ratelimit *rl, enum pv_log_level lvl, const char *prefix,
		const char *fmt, va_list ap)
{
	uint64_t now, begin;

	int level = __atomic_load_n(&log_level, __ATOMIC_RELAXED);

	if ((int)lvl > level)
		return;
	if (level == PV_LOG_DEBUG) {
		pv_vlog(lvl, prefix, fmt, ap); /* asked for everything */
		return;
	}
	now = pv_now_ns();
	begin = __atomic_load_n(&rl->begin_ns, __ATOMIC_RELAXED);
	if ((!begin || now - begin >= PV_RATELIMIT_MS * 1000000ull) &&
	    __atomic_compare_exchange_n(&rl->begin_ns, &begin, now, false, __ATOMIC_RELAXED,
					__ATOMIC_RELAXED)) {
		/* A new window: whoever opened it reports the last one's drops. */
		__atomic_store_n(&rl->printed, 0, __ATOMIC_RELAXED);
		report_missed(lvl, prefix, __atomic_exchange_n(&rl->missed, 0, __ATOMIC_RELAXED));
	}
	if (__atomic_fetch_add(&rl->printed, 1, __ATOMIC_RELAXED) >= PV_RATELIMIT_BURST) {
		__atomic_fetch_add(&rl->missed, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&rl->suppressed, 1, __ATOMIC_RELAXED);
		return;
	}
	pv_vlog(lvl, prefix, fmt, ap);
}

void pv_log_rl(struct pv_ratelimit *rl, enum pv_log_level lvl, const char *prefix,
	       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pv_vlog_rl(rl, lvl, prefix, fmt, ap);
	va_end(ap);
}

void pv_ratelimit_flush(struct pv_ratelimit *rl, const char *prefix)
{
	report_missed(PV_LOG_WARN, prefix, __atomic_exchange_n(&rl->missed, 0, __ATOMIC_RELAXED));
}
