#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: `pvback-blk stats [--json|--prometheus]` through the
# daemon's control socket ($PVSIM_DIR/pvback-blk.sock on pvsim): per device
# and queue, Linux's counters (oo_req rd_req wr_req f_req ds_req rd_sect
# wr_sect), latency p50/p99, the persistent-grant cache and the ring's
# indexes (as Linux netback's io_ring debugfs dump), exact for a known
# workload; the Prometheus text format is valid (names, # HELP and
# # TYPE before each metric's one group of samples, histogram buckets) and
# its counters move with the I/O and sum over queue labels to the JSON
# totals; counters survive the frontend's disconnect in the device total;
# a device filter; errors for an unknown device and an absent daemon; a
# second daemon on the same socket refuses to start without touching the
# first one's devices.
. "$(dirname "$0")/blk-lib.sh"

guest_create g1 256M
truncate -s 64M "$W/a.img" "$W/b.img"
no_daemon() { dom0 pvback-blk stats 2>&1 | grep -q 'cannot reach the daemon'; }
check "stats without a daemon fails with a message" no_daemon
daemon_up
check "the control socket is in the pvsim directory, mode 0600" \
	test "$(stat -c %a "$S/pvback-blk.sock")" = 600
vbd_attach g1 "$W/a.img" xvda rw
vbd_attach g1 "$W/b.img" xvdb rw
check "both devices reach InitWait" wait_until 10 state_is g1 51728 2

# prom FILE [DEVICE METRIC]: check FILE is valid Prometheus text exposition
# format (version 0.0.4); with DEVICE METRIC, print METRIC's sum over the
# device's series.
cat >"$W/prom.py" <<'PY'
import re, sys
name = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
lv = r'"(?:[^"\\\n]|\\[\\"n])*"'
sample = re.compile(r'^(%s)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*=%s)(?:,[a-zA-Z_][a-zA-Z0-9_]*=%s)*)?\})? (\S+)$' % (name, lv, lv))
helps, types, done, sums, cur = {}, {}, set(), {}, None
for ln in open(sys.argv[1]).read().splitlines():
    m = re.match(r'^# (HELP|TYPE) (%s) (.*)$' % name, ln)
    if m:
        kind, fam, rest = m.groups()
        d = helps if kind == 'HELP' else types
        assert fam not in d, 'second %s for %s' % (kind, fam)
        assert fam not in done, '%s after its samples' % fam
        assert kind == 'HELP' or rest in ('counter', 'gauge', 'histogram', 'summary'), ln
        d[fam] = rest
        if cur and cur != fam:
            done.add(cur)
        cur = fam
        continue
    m = sample.match(ln)
    assert m, 'not a sample line: %r' % ln
    metric, labels, value = m.groups()
    float(value)
    fam = metric
    if fam not in types:
        fam = re.sub(r'_(bucket|sum|count)$', '', metric)
        assert types.get(fam) == 'histogram', 'no TYPE before %s' % metric
    assert fam in helps, 'no HELP before %s' % metric
    assert fam == cur and fam not in done, '%s samples are not one group' % fam
    assert types[fam] != 'counter' or metric.endswith('_total'), metric
    lab = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)=(%s)' % lv, labels or ''))
    key = (lab.get('device', '""')[1:-1], metric)
    sums[key] = sums.get(key, 0) + float(value)
if len(sys.argv) > 3:
    print(int(sums.get((sys.argv[2], sys.argv[3]), 0)))
PY
prom() { python3 "$W/prom.py" "$@"; }
stats --prometheus >"$W/p0.prom"
check "stats --prometheus is valid exposition format" prom "$W/p0.prom"
check "before any I/O it counts 0 sectors written on xvda" \
	test "$(prom "$W/p0.prom" vbd-1-51712 pvback_blk_wr_sect_total)" = 0
check "and shows the device's state and size" \
	grep -qE '^pvback_blk_state\{device="vbd-1-51712",domid="1"\} 2$' "$W/p0.prom"

shell_start g1 --queues 2 --persistent
check "a 2-queue persistent frontend connects" grep -q "^ready" <<<"$sh_ready"
check "4 MiB written" sh_ok write 1 4
check "4 MiB read back (after one flush)" sh_ok check 1 4
guest_of g1 --devid 51728 discard 0 2048 >/dev/null 2>&1

stats --json >"$W/s.json"
check "stats --json shows the counters of the known workload" python3 - "$W/s.json" <<'PY'
import json, sys
d = {x['name']: x for x in json.load(open(sys.argv[1]))['devices']}
a, b = d['vbd-1-51712'], d['vbd-1-51728']
qs = a['queues']
def tot(k): return sum(q[k] for q in qs)
checks = [
    (len(qs) == 2, 'two queues'),
    (a['state'] == 'Connected' and a['connected'], 'connected'),
    (tot('wr_sect') == 8192, 'wr_sect %d == 8192' % tot('wr_sect')),
    (tot('rd_sect') == 8192, 'rd_sect %d == 8192' % tot('rd_sect')),
    (tot('f_req') == 1, 'f_req %d == 1' % tot('f_req')),
    (tot('ds_req') == 0 and tot('oo_req') >= 0, 'no discard on xvda'),
    (all(q['wr_req'] > 0 and q['rd_req'] > 0 for q in qs), 'both queues worked'),
    (tot('errors') == 0, 'no errors'),
    (all(q['persistent'] and 0 < q['pgrants'] <= q['pgrants_max'] for q in qs), 'pgrants cached'),
    (a['pgrants'] == tot('pgrants'), 'device pgrants is the sum'),
    (all(0 < q['lat_p50_us'] <= q['lat_p99_us'] for q in qs), 'latency p50 <= p99'),
    (all(q['lat_count'] == q['rd_req'] + q['wr_req'] + q['f_req'] + q['ds_req'] for q in qs),
     'every request timed'),
    (a['total']['wr_sect'] == 8192, 'total'),
    (b['total']['ds_req'] == 1 and b['queues'] == [], 'xvdb: one discard, now closed'),
    # The rings' indexes (pv_queue): idle, every request consumed and answered.
    (all(q['ring_req_cons'] == q['ring_req_prod'] == q['ring_rsp_prod'] ==
         q['ring_rsp_prod_pvt'] > 0 for q in qs), 'ring indexes: all consumed and answered'),
    (all(q['ring_entries'] == q['ring_slots'] and q['ring_slots_busy'] == 0 and
         q['ring_dead'] == 0 for q in qs), 'ring slots all free, queues alive'),
    (all(q['ring_events'] > 0 and q['ring_notifies'] > 0 for q in qs), 'ring events counted'),
]
bad = [m for ok, m in checks if not ok]
print('failed:', bad) if bad else None
sys.exit(1 if bad else 0)
PY
stats --prometheus >"$W/p1.prom"
check "stats --prometheus after the I/O is valid" prom "$W/p1.prom"
check "its counters moved: 8192 sectors written on xvda" \
	test "$(prom "$W/p1.prom" vbd-1-51712 pvback_blk_wr_sect_total)" = 8192
prom_matches_json() {
	python3 - "$W/s.json" <<'PY' || return 1
import json, sys
for d in json.load(open(sys.argv[1]))['devices']:
    t = d['total']
    for k in ('oo_req', 'rd_req', 'wr_req', 'f_req', 'ds_req', 'rd_sect', 'wr_sect', 'errors', 'eopnotsupp', 'io_fixed', 'io_vec'):
        print(d['name'], 'pvback_blk_%s_total' % k, t[k])
    print(d['name'], 'pvback_blk_lat_seconds_count', t['lat_count'])
    print(d['name'], 'pvback_blk_pgrants', d['pgrants'])
PY
}
prom_vs_json() {
	local dev m v got
	prom_matches_json >"$W/pj" || return 1
	[ -s "$W/pj" ] || return 1
	while read -r dev m v; do
		got=$(prom "$W/p1.prom" "$dev" "$m")
		[ "$got" = "$v" ] || { echo "$dev $m: prometheus $got, json $v"; return 1; }
	done <"$W/pj"
}
check "summed over queues, the Prometheus counters are the JSON totals" prom_vs_json
check "per queue, with the latency histogram up to le=+Inf" \
	grep -qE '^pvback_blk_lat_seconds_bucket\{device="vbd-1-51712",domid="1",queue="1",le="\+Inf"\} [1-9]' "$W/p1.prom"
stats >"$W/s.txt"
sed 's/^/# /' "$W/s.txt"
check "the text form has Linux's counter names per queue" \
	grep -qE '^  q1 +oo_req [0-9]+ rd_req [0-9]+ wr_req [0-9]+ f_req [0-9]+ ds_req [0-9]+ rd_sect [0-9]+ wr_sect [0-9]+ .*lat_p50_us [0-9.]+ lat_p99_us [0-9.]+' "$W/s.txt"
check "and the persistent-grant cache" grep -qE '^ +pgrants [1-9][0-9]*/1056 ' "$W/s.txt"
check "and each ring's indexes" \
	grep -qE '^ +ring_req_prod [1-9][0-9]* ring_req_cons [1-9][0-9]* ring_req_event [0-9]+ ring_rsp_prod [1-9]' "$W/s.txt"
check "which Prometheus has per queue too" \
	grep -qE '^pvback_blk_ring_req_cons\{device="vbd-1-51712",domid="1",queue="0"\} [1-9]' "$W/p1.prom"
check "a device filter shows just that device" \
	test "$(stats vbd-1-51728 | grep -c '^vbd-')" = 1
check "an unknown device is an error" fails stats vbd-7-7
check "the frontend closes" shell_stop
totals() { stats --json | python3 -c '
import json,sys; a=[x for x in json.load(sys.stdin)["devices"] if x["name"]=="vbd-1-51712"][0]
sys.exit(0 if a["queues"]==[] and a["total"]["wr_sect"]==8192 and a["total"]["rd_sect"]==8192 else 1)'; }
check "after the disconnect the device total keeps the counters" totals
past_only() {
	stats --prometheus vbd-1-51712 >"$W/p2.prom" && prom "$W/p2.prom" &&
		test "$(prom "$W/p2.prom" vbd-1-51712 pvback_blk_wr_sect_total)" = 8192 &&
		grep -q '^pvback_blk_wr_sect_total{device="vbd-1-51712",domid="1",queue="past"} 8192$' "$W/p2.prom" &&
		! grep -q 'queue="0"' "$W/p2.prom"
}
check "and in Prometheus the stopped queues count as queue=\"past\"" past_only
second_refuses() {
	! dom0 timeout 10 pvback-blk --foreground >"$W/2nd.log" 2>&1 &&
		grep -q 'another pvback-blk' "$W/2nd.log"
}
check "a second daemon on the same control socket refuses to start" second_refuses
check "the first daemon's devices were not touched" state_is g1 51712 6
check "and still serve" guest_of g1 --seed 4 verify 2
check "SIGTERM stops the daemon with exit status 0" stop_daemon
check "it removed its socket" test ! -e "$S/pvback-blk.sock"
t_done
