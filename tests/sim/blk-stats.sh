#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: `pvback-blk stats [--json]` through the daemon's control
# socket ($PVSIM_DIR/pvback-blk.sock on pvsim): per device and queue,
# Linux's counters (oo_req rd_req wr_req f_req ds_req rd_sect wr_sect),
# latency p50/p99 and the persistent-grant cache, exact for a known
# workload; counters survive the frontend's disconnect in the device total;
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
]
bad = [m for ok, m in checks if not ok]
print('failed:', bad) if bad else None
sys.exit(1 if bad else 0)
PY
stats >"$W/s.txt"
sed 's/^/# /' "$W/s.txt"
check "the text form has Linux's counter names per queue" \
	grep -qE '^  q1 +oo_req [0-9]+ rd_req [0-9]+ wr_req [0-9]+ f_req [0-9]+ ds_req [0-9]+ rd_sect [0-9]+ wr_sect [0-9]+ .*lat_p50_us [0-9.]+ lat_p99_us [0-9.]+' "$W/s.txt"
check "and the persistent-grant cache" grep -qE '^ +pgrants [1-9][0-9]*/1056 ' "$W/s.txt"
check "a device filter shows just that device" \
	test "$(stats vbd-1-51728 | grep -c '^vbd-')" = 1
check "an unknown device is an error" fails stats vbd-7-7
check "the frontend closes" shell_stop
totals() { stats --json | python3 -c '
import json,sys; a=[x for x in json.load(sys.stdin)["devices"] if x["name"]=="vbd-1-51712"][0]
sys.exit(0 if a["queues"]==[] and a["total"]["wr_sect"]==8192 and a["total"]["rd_sect"]==8192 else 1)'; }
check "after the disconnect the device total keeps the counters" totals
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
