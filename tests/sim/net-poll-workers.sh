#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvback-net's queues on a polling worker (--dpdk-lcores, the
# pv_worker of a poll-mode port) instead of a thread each, on the TAP port:
# two guests' vifs (two queues each) are served by one worker pinned to CPU
# 0; ping and sha256-verified streams between the guests and the host;
# while the worker polls, a frontend need not notify (a generator's 50000
# frames pushed one by one take fewer than 50 notifies; ~200 event driven);
# a vif's unplug leaves the other guest's traffic running on the same
# worker; SIGTERM ends the daemon cleanly.
. "$(dirname "$0")/net-lib.sh"
net_requires_front

bridge_add "$NET_BR" "$NET_PFX.1/24"
net_up --dpdk-lcores 0 --max-queues 2
guest_create g1 128M
guest_create g2 128M
check "g1's vif connects with 2 queues" vif_connect g1 eth0 "$NET_PFX.11/24" --queues 2
d1=$vif_devid
check "g2's vif connects with 2 queues" vif_connect g2 eth0 "$NET_PFX.12/24" --queues 2
d2=$vif_devid
polled_by_one() { # every queue of both vifs on the one worker, no queue thread of its own
	[ "$(grep -c 'polled by netpoll-c0' "$W/net.log")" = 4 ] &&
		[ "$(net_stats --json | grep -o '"worker":"netpoll-c0"' | wc -l)" = 4 ] &&
		! ls /proc/"$netpid"/task/*/comm | xargs cat | grep -q '^net[0-9]*q[0-9]'
}
check "the four queues are polled by the worker on CPU 0, no thread per queue" polled_by_one
check "g1 pings the host" ping_from "$(guest_ns g1)" "$NET_PFX.1" 3
check "g1 pings g2" ping_from "$(guest_ns g1)" "$NET_PFX.12" 3
check "16 MiB from g1 to the host arrive intact (sha256)" \
	tcp_verify "$(guest_ns g1)" - "$NET_PFX.1" 16 5001
check "16 MiB from the host to g2 arrive intact" tcp_verify - "$(guest_ns g2)" "$NET_PFX.12" 16 5002
check "16 MiB from g2 to g1 arrive intact" \
	tcp_verify "$(guest_ns g2)" "$(guest_ns g1)" "$NET_PFX.11" 16 5003
gen_vif=$(vif_attach g2 bridge="$NET_BR") || bail_out "cannot attach the generator's vif"
seldom_notifies() { # 50000 frames pushed one by one, fewer than 50 notifies
	in_guest g2 netfront-tool --devid "$gen_vif" gen --count 50000 --batch 1 --dst 02:00:00:00:00:99 \
		>"$W/gen.json" || { cat "$W/gen.json"; return 1; }
	python3 - "$W/gen.json" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
print(g["frames"], "frames,", g["notifies"], "notifies", file=sys.stderr)
sys.exit(0 if g["frames"] == 50000 and g["notifies"] * 1000 < g["frames"] else 1)
PY
}
check "while polled a frontend seldom notifies (gen: < 50 notifies for 50000 frames)" seldom_notifies
check "unplugging g1's vif removes it" vif_detach g1 "$d1"
check "its interface is gone" wait_until 10 link_gone - "$(vif_name g1 "$d1")"
check "g2 still carries a verified stream on the same worker" \
	tcp_verify "$(guest_ns g2)" - "$NET_PFX.1" 4 5004
check "SIGTERM stops the daemon with status 0" net_stop
check "no error was logged" sh -c "! grep -E ' ERR ' '$W/net.log'"
t_done
