/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Latency histograms with log2 buckets of nanoseconds: bucket i counts
 * samples in [2^i, 2^(i+1)) ns (bucket 0 also takes 0 ns, the last one
 * everything above).  Adding is O(1) and allocation-free so data paths can
 * record every request.  No locking: each thread keeps its own histogram and
 * a reader merges copies (pv_stats_hist_merge).
 *
 * Stats tables (pvcommon.h "stats tables"): a backend's counter struct
 * described once, summed and written as text, JSON and Prometheus from the
 * description.  The Prometheus collector copies what it is given, so the
 * caller's snapshots may be short-lived; it is used by one thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvcommon.h"

static unsigned bucket_of(uint64_t ns)
{
	unsigned b;

	if (ns < 2)
		return 0;
	b = 63u - (unsigned)__builtin_clzll(ns);
	return b < PV_STATS_HIST_BUCKETS ? b : PV_STATS_HIST_BUCKETS - 1;
}

void pv_stats_hist_add(struct pv_stats_hist *h, uint64_t ns)
{
	h->bucket[bucket_of(ns)]++;
	h->count++;
	h->sum_ns += ns;
}

void pv_stats_hist_merge(struct pv_stats_hist *dst, const struct pv_stats_hist *src)
{
	for (unsigned i = 0; i < PV_STATS_HIST_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	dst->count += src->count;
	dst->sum_ns += src->sum_ns;
}

uint64_t pv_stats_hist_percentile(const struct pv_stats_hist *h, double pct)
{
	uint64_t total = 0, rank, seen = 0;
	unsigned i;

	for (i = 0; i < PV_STATS_HIST_BUCKETS; i++)
		total += h->bucket[i];
	if (!total)
		return 0;
	if (!(pct > 0.0)) /* also catches NaN */
		pct = 0.0;
	if (pct > 100.0)
		pct = 100.0;
	/* The smallest rank r (1-based) with r >= pct% of the samples. */
	rank = (uint64_t)((pct / 100.0) * (double)total + 0.999999999);
	if (rank == 0)
		rank = 1;
	if (rank > total)
		rank = total;
	for (i = 0; i < PV_STATS_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank)
			break;
	}
	if (i == 0)
		return 1; /* midpoint of [0, 2) */
	/* Midpoint of [2^i, 2^(i+1)) */
	return (1ull << i) + (1ull << (i - 1));
}

/* ------------------------------------------------------------- tables */

static uint64_t *u64_at(void *st, const struct pv_stats_field *f)
{
	return (uint64_t *)((char *)st + f->off);
}

static uint64_t u64_of(const void *st, const struct pv_stats_field *f)
{
	return *(const uint64_t *)((const char *)st + f->off);
}

static const struct pv_stats_hist *hist_of(const void *st, const struct pv_stats_field *f)
{
	return (const struct pv_stats_hist *)((const char *)st + f->off);
}

void pv_stats_sum(const struct pv_stats_table *t, void *dst, const void *src)
{
	for (unsigned i = 0; i < t->nr; i++) {
		const struct pv_stats_field *f = &t->fields[i];

		if (f->kind == PV_STATS_HIST)
			pv_stats_hist_merge((struct pv_stats_hist *)((char *)dst + f->off),
					    hist_of(src, f));
		else
			*u64_at(dst, f) += u64_of(src, f);
	}
}

static double pct_us(const struct pv_stats_hist *h, double pct)
{
	return h->count ? (double)pv_stats_hist_percentile(h, pct) / 1000.0 : 0.0;
}

void pv_stats_emit(struct pv_out *o, const struct pv_stats_table *t, const void *st, bool json)
{
	const char *sep = json ? "," : " ";
	const char *fmt = json ? "%s\"%s%s\":" : "%s%s%s ";

	for (unsigned i = 0; i < t->nr; i++) {
		const struct pv_stats_field *f = &t->fields[i];
		const char *lead = i ? sep : "";

		if (f->kind != PV_STATS_HIST) {
			pv_out_printf(o, fmt, lead, f->name, "");
			pv_out_printf(o, "%llu", (unsigned long long)u64_of(st, f));
			continue;
		}
		if (json) {
			pv_out_printf(o, fmt, lead, f->name, "_count");
			pv_out_printf(o, "%llu", (unsigned long long)hist_of(st, f)->count);
			lead = sep;
		}
		pv_out_printf(o, fmt, lead, f->name, "_p50_us");
		pv_out_printf(o, "%.1f", pct_us(hist_of(st, f), 50));
		pv_out_printf(o, fmt, sep, f->name, "_p99_us");
		pv_out_printf(o, "%.1f", pct_us(hist_of(st, f), 99));
	}
}

/* --------------------------------------------------------- Prometheus */

/* One pv_stats_prom_add: a table's values under one label set. */
struct prom_series {
	const struct pv_stats_table *t;
	char *labels;              /* name="value",... escaped; "" for none */
	struct prom_series *next;
	unsigned char st[];        /* copy of the stats struct */
};

struct pv_stats_prom {
	char *prefix;
	const struct pv_stats_table **tables; /* in the order first added */
	unsigned nr_tables;
	struct prom_series *head, **tail;
};

static bool name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

int pv_stats_prom_create(const char *prefix, struct pv_stats_prom **out)
{
	struct pv_stats_prom *p = calloc(1, sizeof(*p));

	if (!p || !(p->prefix = strdup(prefix))) {
		free(p);
		return -ENOMEM;
	}
	for (char *c = p->prefix; *c; c++)
		if (!name_char(*c, c == p->prefix))
			*c = '_';
	p->tail = &p->head;
	*out = p;
	return 0;
}

void pv_stats_prom_destroy(struct pv_stats_prom *p)
{
	struct prom_series *s, *next;

	if (!p)
		return;
	for (s = p->head; s; s = next) {
		next = s->next;
		free(s->labels);
		free(s);
	}
	free(p->tables);
	free(p->prefix);
	free(p);
}

static const char *suffix_of(enum pv_stats_kind kind)
{
	return kind == PV_STATS_COUNTER ? "_total" : kind == PV_STATS_HIST ? "_seconds" : "";
}

static void metric_name(char *buf, size_t len, const struct pv_stats_field *f)
{
	snprintf(buf, len, "%s%s", f->name, suffix_of(f->kind));
}

/* Does a field of table a have the metric name of a field of table b? */
static bool tables_clash(const struct pv_stats_table *a, const struct pv_stats_table *b)
{
	char na[128], nb[128];

	for (unsigned i = 0; i < a->nr; i++) {
		metric_name(na, sizeof(na), &a->fields[i]);
		for (unsigned j = 0; j < b->nr; j++) {
			metric_name(nb, sizeof(nb), &b->fields[j]);
			if (!strcmp(na, nb))
				return true;
		}
	}
	return false;
}

static int add_table(struct pv_stats_prom *p, const struct pv_stats_table *t)
{
	const struct pv_stats_table **nt;
	unsigned i;

	for (i = 0; i < p->nr_tables; i++)
		if (p->tables[i] == t)
			return 0;
	for (i = 0; i < p->nr_tables; i++)
		if (tables_clash(t, p->tables[i]))
			return -EEXIST;
	nt = realloc(p->tables, (p->nr_tables + 1) * sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	nt[p->nr_tables++] = t;
	p->tables = nt;
	return 0;
}

/* Label values: backslash, double quote and line feed are escaped. */
static void label_value(struct pv_out *o, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			pv_out_printf(o, "\\%c", *v);
		else if (*v == '\n')
			pv_out_printf(o, "\\n");
		else
			pv_out_printf(o, "%c", *v);
	}
}

int pv_stats_prom_add(struct pv_stats_prom *p, const struct pv_stats_table *t, const void *st,
		      const char *const *labels)
{
	struct prom_series *s;
	struct pv_out *o;
	int rc;

	rc = add_table(p, t);
	if (rc < 0)
		return rc;
	rc = pv_out_create(&o);
	if (rc < 0)
		return rc;
	for (unsigned i = 0; labels && labels[i] && labels[i + 1]; i += 2) {
		pv_out_printf(o, "%s%s=\"", i ? "," : "", labels[i]);
		label_value(o, labels[i + 1]);
		pv_out_printf(o, "\"");
	}
	s = calloc(1, sizeof(*s) + t->size);
	if (!s || pv_out_failed(o) || !(s->labels = strdup(pv_out_str(o)))) {
		free(s);
		pv_out_destroy(o);
		return -ENOMEM;
	}
	pv_out_destroy(o);
	s->t = t;
	memcpy(s->st, st, t->size);
	*p->tail = s;
	p->tail = &s->next;
	return 0;
}

/* HELP text: backslash and line feed are escaped. */
static void help_text(struct pv_out *o, const char *h)
{
	for (; *h; h++) {
		if (*h == '\\')
			pv_out_printf(o, "\\\\");
		else if (*h == '\n')
			pv_out_printf(o, "\\n");
		else
			pv_out_printf(o, "%c", *h);
	}
}

/* A sample's label set: {labels}, or nothing without labels. */
static const char *open_of(const struct prom_series *s)
{
	return *s->labels ? "{" : "";
}

static const char *close_of(const struct prom_series *s)
{
	return *s->labels ? "}" : "";
}

static void write_hist(struct pv_stats_prom *p, struct pv_out *o, const char *name,
		       const struct prom_series *s, const struct pv_stats_hist *h)
{
	const char *comma = *s->labels ? "," : "";
	uint64_t cum = 0;

	/* Bucket i holds [2^i, 2^(i+1)) ns; the last one has no upper bound. */
	for (unsigned i = 0; i + 1 < PV_STATS_HIST_BUCKETS; i++) {
		cum += h->bucket[i];
		pv_out_printf(o, "%s_%s_bucket{%s%sle=\"%.10g\"} %llu\n", p->prefix, name, s->labels,
			      comma, (double)(2ull << i) / 1e9, (unsigned long long)cum);
	}
	pv_out_printf(o, "%s_%s_bucket{%s%sle=\"+Inf\"} %llu\n", p->prefix, name, s->labels, comma,
		      (unsigned long long)h->count);
	pv_out_printf(o, "%s_%s_sum%s%s%s %.9f\n", p->prefix, name, open_of(s), s->labels,
		      close_of(s), (double)h->sum_ns / 1e9);
	pv_out_printf(o, "%s_%s_count%s%s%s %llu\n", p->prefix, name, open_of(s), s->labels,
		      close_of(s), (unsigned long long)h->count);
}

void pv_stats_prom_write(struct pv_stats_prom *p, struct pv_out *o)
{
	static const char *const types[] = {
		[PV_STATS_COUNTER] = "counter", [PV_STATS_GAUGE] = "gauge",
		[PV_STATS_HIST] = "histogram",
	};
	char name[128];

	for (unsigned ti = 0; ti < p->nr_tables; ti++) {
		const struct pv_stats_table *t = p->tables[ti];

		for (unsigned i = 0; i < t->nr; i++) {
			const struct pv_stats_field *f = &t->fields[i];

			metric_name(name, sizeof(name), f);
			pv_out_printf(o, "# HELP %s_%s ", p->prefix, name);
			help_text(o, f->help);
			pv_out_printf(o, "\n# TYPE %s_%s %s\n", p->prefix, name, types[f->kind]);
			for (struct prom_series *s = p->head; s; s = s->next) {
				if (s->t != t)
					continue;
				if (f->kind == PV_STATS_HIST)
					write_hist(p, o, name, s, hist_of(s->st, f));
				else
					pv_out_printf(o, "%s_%s%s%s%s %llu\n", p->prefix, name,
						      open_of(s), s->labels, close_of(s),
						      (unsigned long long)u64_of(s->st, f));
			}
		}
	}
}
