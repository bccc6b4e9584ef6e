/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: pv_stats_prom writes the Prometheus text exposition format
 * (0.0.4) that node_exporter's textfile collector reads, checked by
 * parsing it back: every sample line has a valid metric name, its metric's
 * # HELP and # TYPE come first and its samples are one group, even when the
 * series were added device by device; counters end in _total; label values
 * and help text are escaped; a latency histogram has cumulative buckets in
 * seconds up to le="+Inf", which equals _count; the prefix becomes a valid
 * name; two tables whose fields give one metric name are refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pvcommon.h"

struct qstats {
	uint64_t rd_req;
	struct pv_stats_hist lat;
	uint64_t inflight;
};

static const struct pv_stats_field qfields[] = {
	{ "rd_req", "Read requests", offsetof(struct qstats, rd_req), PV_STATS_COUNTER },
	{ "lat", "Latency \\ from request\nto response", offsetof(struct qstats, lat), PV_STATS_HIST },
	{ "inflight", "Requests in flight", offsetof(struct qstats, inflight), PV_STATS_GAUGE },
};

static const struct pv_stats_table qtable = { qfields, 3, sizeof(struct qstats) };

struct dstats {
	uint64_t sectors;
};

static const struct pv_stats_field dfields[] = {
	{ "sectors", "Size", offsetof(struct dstats, sectors), PV_STATS_GAUGE },
};

static const struct pv_stats_table dtable = { dfields, 1, sizeof(struct dstats) };

/* ------------------------------------------------- a strict reader */

#define MAX_FAMS 16
#define MAX_SAMPLES 256

struct sample {
	char name[96];
	char labels[8][2][64]; /* unescaped name, value */
	unsigned nr_labels;
	double value;
};

struct parsed {
	char fam[MAX_FAMS][96], type[MAX_FAMS][16], help[MAX_FAMS][128];
	unsigned nr_fams;
	struct sample s[MAX_SAMPLES];
	unsigned nr;
};

static bool name_ok(const char *s, size_t n, bool colon)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
		      (colon && c == ':') || (i && c >= '0' && c <= '9')))
			return false;
	}
	return n > 0;
}

/* The family a sample belongs to, as its TYPE says. */
static int family_of(struct parsed *p, const char *name)
{
	static const char *const hist_sfx[] = { "_bucket", "_sum", "_count" };
	int i = (int)p->nr_fams - 1;

	if (i < 0)
		return -1;
	if (!strcmp(p->fam[i], name))
		return i;
	for (unsigned k = 0; k < 3; k++) {
		size_t fl = strlen(p->fam[i]);

		if (!strcmp(p->type[i], "histogram") && !strncmp(name, p->fam[i], fl) &&
		    !strcmp(name + fl, hist_sfx[k]))
			return i;
	}
	return -1;
}

static void parse_labels(const char **pp, struct sample *s)
{
	const char *p = *pp;

	while (*p != '}') {
		const char *eq = strchr(p, '=');
		size_t vl = 0;

		assert_non_null(eq);
		assert_true(name_ok(p, (size_t)(eq - p), false));
		assert_true(s->nr_labels < 8);
		snprintf(s->labels[s->nr_labels][0], 64, "%.*s", (int)(eq - p), p);
		p = eq + 1;
		assert_int_equal(*p++, '"');
		while (*p != '"') {
			char c = *p++;

			assert_true(c != '\0' && c != '\n');
			if (c == '\\') {
				c = *p++;
				assert_true(c == '\\' || c == '"' || c == 'n');
				c = c == 'n' ? '\n' : c;
			}
			assert_true(vl < 63);
			s->labels[s->nr_labels][1][vl++] = c;
		}
		s->labels[s->nr_labels][1][vl] = '\0';
		s->nr_labels++;
		p++;
		if (*p == ',')
			p++;
	}
	*pp = p + 1;
}

static void parse(const char *text, struct parsed *p)
{
	char *copy = strdup(text), *save = NULL, *line;

	memset(p, 0, sizeof(*p));
	assert_non_null(copy);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct sample *s;
		const char *c;
		char *end;
		int f;

		if (!strncmp(line, "# HELP ", 7)) {
			char *sp = strchr(line + 7, ' ');

			assert_non_null(sp);
			assert_true(p->nr_fams < MAX_FAMS);
			*sp = '\0';
			for (unsigned i = 0; i < p->nr_fams; i++)
				assert_string_not_equal(p->fam[i], line + 7); /* one group each */
			snprintf(p->fam[p->nr_fams], 96, "%s", line + 7);
			snprintf(p->help[p->nr_fams], 128, "%s", sp + 1);
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			char *sp = strchr(line + 7, ' ');

			assert_non_null(sp);
			*sp = '\0';
			/* TYPE right after the HELP of the same metric, before any sample */
			assert_string_equal(line + 7, p->fam[p->nr_fams]);
			assert_true(!strcmp(sp + 1, "counter") || !strcmp(sp + 1, "gauge") ||
				    !strcmp(sp + 1, "histogram"));
			snprintf(p->type[p->nr_fams++], 16, "%s", sp + 1);
			continue;
		}
		assert_true(line[0] != '#');
		assert_true(p->nr < MAX_SAMPLES);
		s = &p->s[p->nr++];
		c = line + strcspn(line, "{ ");
		assert_true(name_ok(line, (size_t)(c - line), true));
		snprintf(s->name, sizeof(s->name), "%.*s", (int)(c - line), line);
		if (*c == '{') {
			c++;
			parse_labels(&c, s);
		}
		assert_int_equal(*c++, ' ');
		s->value = strtod(c, &end);
		assert_true(end != c && *end == '\0');
		f = family_of(p, s->name);
		assert_true(f >= 0); /* HELP and TYPE of this metric came just before */
		if (!strcmp(p->type[f], "counter"))
			assert_string_equal(s->name + strlen(s->name) - 6, "_total");
	}
	free(copy);
}

static const char *label(const struct sample *s, const char *name)
{
	for (unsigned i = 0; i < s->nr_labels; i++)
		if (!strcmp(s->labels[i][0], name))
			return s->labels[i][1];
	return NULL;
}

static const struct sample *find(const struct parsed *p, const char *name, const char *key,
				 const char *val)
{
	for (unsigned i = 0; i < p->nr; i++) {
		const char *v = label(&p->s[i], key);

		if (!strcmp(p->s[i].name, name) && v && !strcmp(v, val))
			return &p->s[i];
	}
	return NULL;
}

/* ------------------------------------------------------------ tests */

static char *write_all(struct pv_stats_prom *pr)
{
	struct pv_out *o;
	char *s;

	assert_int_equal(pv_out_create(&o), 0);
	pv_stats_prom_write(pr, o);
	s = strdup(pv_out_str(o));
	pv_out_destroy(o);
	return s;
}

static void test_every_metric_is_one_group_after_its_help_and_type(void **state)
{
	struct qstats q0 = { .rd_req = 12, .inflight = 1 }, q1 = { .rd_req = 3 };
	struct dstats d = { .sectors = 131072 };
	struct pv_stats_prom *pr;
	struct parsed *p = malloc(sizeof(*p));
	const char *const l0[] = { "device", "vbd-1-51712", "domid", "1", "queue", "0", NULL };
	const char *const l1[] = { "device", "vbd-1-51712", "domid", "1", "queue", "1", NULL };
	const char *const ld[] = { "device", "vbd-1-51712", "domid", "1", NULL };
	const char *const l2[] = { "device", "vbd-2-51712", "domid", "2", "queue", "0", NULL };
	const struct sample *s;
	char *text;

	assert_non_null(p);
	assert_int_equal(pv_stats_prom_create("pvback-blk", &pr), 0);
	/* Device by device, as the stats command adds them. */
	assert_int_equal(pv_stats_prom_add(pr, &qtable, &q0, l0), 0);
	assert_int_equal(pv_stats_prom_add(pr, &qtable, &q1, l1), 0);
	assert_int_equal(pv_stats_prom_add(pr, &dtable, &d, ld), 0);
	q0.rd_req = 99; /* copied when added */
	assert_int_equal(pv_stats_prom_add(pr, &qtable, &q0, l2), 0);
	text = write_all(pr);
	parse(text, p);
	assert_int_equal(p->nr_fams, 4);
	assert_string_equal(p->fam[0], "pvback_blk_rd_req_total");
	assert_string_equal(p->type[0], "counter");
	assert_string_equal(p->fam[1], "pvback_blk_lat_seconds");
	assert_string_equal(p->type[1], "histogram");
	assert_string_equal(p->fam[2], "pvback_blk_inflight");
	assert_string_equal(p->type[2], "gauge");
	assert_string_equal(p->fam[3], "pvback_blk_sectors");
	s = find(p, "pvback_blk_rd_req_total", "queue", "1");
	assert_non_null(s);
	assert_true(s->value == 3);
	assert_string_equal(label(s, "device"), "vbd-1-51712");
	assert_string_equal(label(s, "domid"), "1");
	s = find(p, "pvback_blk_rd_req_total", "device", "vbd-2-51712");
	assert_non_null(s);
	assert_true(s->value == 99);
	s = find(p, "pvback_blk_rd_req_total", "device", "vbd-1-51712");
	assert_true(s->value == 12);
	s = find(p, "pvback_blk_sectors", "device", "vbd-1-51712");
	assert_non_null(s);
	assert_true(s->value == 131072);
	assert_null(label(s, "queue"));
	free(text);
	free(p);
	pv_stats_prom_destroy(pr);
}

static void test_label_values_and_help_are_escaped(void **state)
{
	struct qstats q = { .rd_req = 1 };
	struct pv_stats_prom *pr;
	struct parsed *p = malloc(sizeof(*p));
	const char *const l[] = { "params", "/a \"b\"\\c\nd", NULL };
	char *text;

	assert_non_null(p);
	assert_int_equal(pv_stats_prom_create("t", &pr), 0);
	assert_int_equal(pv_stats_prom_add(pr, &qtable, &q, l), 0);
	text = write_all(pr);
	assert_non_null(strstr(text, "t_rd_req_total{params=\"/a \\\"b\\\"\\\\c\\nd\"} 1\n"));
	assert_non_null(strstr(text, "# HELP t_lat_seconds Latency \\\\ from request\\nto response\n"));
	parse(text, p);
	assert_string_equal(label(&p->s[0], "params"), "/a \"b\"\\c\nd");
	free(text);
	free(p);
	pv_stats_prom_destroy(pr);
}

static void test_histogram_buckets_are_cumulative_seconds_up_to_inf(void **state)
{
	struct qstats q = { 0 };
	struct pv_stats_prom *pr;
	struct parsed *p = malloc(sizeof(*p));
	double prev_le = 0, prev = 0, inf = -1, count = -1, sum = -1;
	unsigned buckets = 0;
	char *text;

	assert_non_null(p);
	pv_stats_hist_add(&q.lat, 1500);        /* [1024, 2048) ns: le 2.048e-06 */
	pv_stats_hist_add(&q.lat, 3000);        /* [2048, 4096) ns */
	pv_stats_hist_add(&q.lat, 3000000000u); /* above 2^31 ns: only in +Inf */
	assert_int_equal(pv_stats_prom_create("t", &pr), 0);
	assert_int_equal(pv_stats_prom_add(pr, &qtable, &q, NULL), 0);
	text = write_all(pr);
	parse(text, p);
	for (unsigned i = 0; i < p->nr; i++) {
		const struct sample *s = &p->s[i];
		const char *le = label(s, "le");

		if (!strcmp(s->name, "t_lat_seconds_sum"))
			sum = s->value;
		if (!strcmp(s->name, "t_lat_seconds_count"))
			count = s->value;
		if (strcmp(s->name, "t_lat_seconds_bucket"))
			continue;
		assert_non_null(le);
		assert_true(s->value >= prev);
		prev = s->value;
		if (!strcmp(le, "+Inf")) {
			inf = s->value;
			continue;
		}
		assert_true(atof(le) > prev_le);
		prev_le = atof(le);
		if (atof(le) < 1.5e-6)
			assert_true(s->value == 0);
		else if (atof(le) < 3e-6)
			assert_true(s->value == 1);
		else
			assert_true(s->value == 2);
		buckets++;
	}
	assert_int_equal(buckets, PV_STATS_HIST_BUCKETS - 1);
	assert_true(prev_le > 2.0 && prev_le < 2.2); /* 2^31 ns */
	assert_true(inf == 3 && count == 3);
	assert_true(sum > 3.0000045 - 1e-9 && sum < 3.0000045 + 1e-9);
	free(text);
	free(p);
	pv_stats_prom_destroy(pr);
}

static void test_a_prefix_becomes_a_valid_metric_name(void **state)
{
	struct dstats d = { .sectors = 1 };
	struct pv_stats_prom *pr;
	char *text;

	assert_int_equal(pv_stats_prom_create("9pv back-usb.x", &pr), 0);
	assert_int_equal(pv_stats_prom_add(pr, &dtable, &d, NULL), 0);
	text = write_all(pr);
	assert_string_equal(text, "# HELP _pv_back_usb_x_sectors Size\n"
				  "# TYPE _pv_back_usb_x_sectors gauge\n"
				  "_pv_back_usb_x_sectors 1\n");
	free(text);
	pv_stats_prom_destroy(pr);
}

static void test_tables_that_give_one_metric_name_are_refused(void **state)
{
	static const struct pv_stats_field clash[] = {
		{ "rd_req", "Other reads", 0, PV_STATS_COUNTER },
	};
	static const struct pv_stats_field no_clash[] = {
		{ "rd_req", "Reads now", 0, PV_STATS_GAUGE }, /* rd_req, not rd_req_total */
	};
	const struct pv_stats_table tc = { clash, 1, sizeof(uint64_t) };
	const struct pv_stats_table tn = { no_clash, 1, sizeof(uint64_t) };
	struct qstats q = { 0 };
	uint64_t v = 0;
	struct pv_stats_prom *pr;

	assert_int_equal(pv_stats_prom_create("t", &pr), 0);
	assert_int_equal(pv_stats_prom_add(pr, &qtable, &q, NULL), 0);
	assert_int_equal(pv_stats_prom_add(pr, &tc, &v, NULL), -EEXIST);
	assert_int_equal(pv_stats_prom_add(pr, &tn, &v, NULL), 0);
	pv_stats_prom_destroy(pr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_metric_is_one_group_after_its_help_and_type),
		cmocka_unit_test(test_label_values_and_help_are_escaped),
		cmocka_unit_test(test_histogram_buckets_are_cumulative_seconds_up_to_inf),
		cmocka_unit_test(test_a_prefix_becomes_a_valid_metric_name),
		cmocka_unit_test(test_tables_that_give_one_metric_name_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
