#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvback-net end to end on pvsim: two guests (userspace
# netfront with a TAP in their own netns) and the host on one bridge.
# Ping guest <-> host and guest <-> guest; a TCP stream each way whose
# sha256 matches at the other end; iperf3 TCP and UDP both ways (UDP: at
# most 5% of 20 Mbit/s lost); the daemon's stats count the traffic
# per queue with the rings' indexes; the frontend's close and the vif's
# unplug end cleanly while the daemon keeps answering and the other guest
# keeps its traffic; the interface leaves the bridge and goes.
. "$(dirname "$0")/net-lib.sh"
net_requires_front

bridge_add "$NET_BR" "$NET_PFX.1/24"
net_up
guest_create g1 128M
guest_create g2 128M
check "g1's vif connects and its interface joins the bridge" vif_connect g1 eth0 "$NET_PFX.11/24"
d1=$vif_devid
check "g2's vif connects" vif_connect g2 eth0 "$NET_PFX.12/24"
d2=$vif_devid
check "the backend's interface is a bridge port, up" in_bridge "$(vif_name g1 "$d1")" "$NET_BR"
check "the daemon's TAP queues are non-blocking (io_uring issues them inline, in order)" \
	tun_fds_nonblocking "$netpid"
check "so are netfront-tool's (io_uring mode)" tun_fds_nonblocking "${front_pid[g1/eth0]}"
check "g1 pings the host" ping_from "$(guest_ns g1)" "$NET_PFX.1" 3
check "the host pings g1" ping_from - "$NET_PFX.11" 3
check "g1 pings g2 across the bridge" ping_from "$(guest_ns g1)" "$NET_PFX.12" 3
check "16 MiB from g1 to the host arrive intact (sha256)" \
	tcp_verify "$(guest_ns g1)" - "$NET_PFX.1" 16 5001
check "16 MiB from the host to g2 arrive intact" tcp_verify - "$(guest_ns g2)" "$NET_PFX.12" 16 5002
check "16 MiB from g2 to g1 arrive intact" \
	tcp_verify "$(guest_ns g2)" "$(guest_ns g1)" "$NET_PFX.11" 16 5003
iperf_udp() { # NS ADDR PORT [ARGS]: 20 Mbit/s of UDP for 2 s, more than 1000 datagrams, at most 5% lost
	local ns=$1 addr=$2 port=$3
	shift 3
	iperf_server - "$port" || return 1
	ns_run "$ns" timeout 60 iperf3 -c "$addr" -p "$port" -u -b 20M -l 1200 -t 2 -J "$@" >"$W/udp.json" ||
		{ cat "$W/udp.json"; return 1; }
	python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))["end"]["sum"]
print(s["packets"], "datagrams,", s["lost_packets"], "lost")
sys.exit(not (s["packets"] > 1000 and s["lost_percent"] <= 5))' "$W/udp.json"
}
iperf_server - 5004
check "iperf3 TCP g1 -> host" iperf_client "$(guest_ns g1)" "$NET_PFX.1" 5004 -t 2
iperf_server - 5005
check "iperf3 TCP host -> g1" iperf_client "$(guest_ns g1)" "$NET_PFX.1" 5005 -t 2 -R
check "iperf3 UDP g1 -> host" iperf_udp "$(guest_ns g1)" "$NET_PFX.1" 5006
check "iperf3 UDP host -> g1" iperf_udp "$(guest_ns g1)" "$NET_PFX.1" 5007 -R

net_stats --json >"$W/s.json"
counted() {
	python3 - "$W/s.json" "vif-$(domid_of g1)-$d1" <<'PY'
import json, sys
d = {x['name']: x for x in json.load(open(sys.argv[1]))['devices']}[sys.argv[2]]
q = d['queues'][0]
ok = (d['connected'] and q['tx_packets'] > 100 and q['rx_packets'] > 100 and q['tx_gso'] > 0 and
      q['tx_bytes'] > 16 << 20 and q['rx_bytes'] > 16 << 20 and q['tx_slot_violations'] == 0 and
      q['tx_ring']['ring_req_cons'] == q['tx_ring']['ring_rsp_prod'] > 0 and
      q['rx_ring']['ring_rsp_prod'] > 0 and q['tx_ring']['ring_dead'] == 0)
print(json.dumps(q)) if not ok else None
sys.exit(0 if ok else 1)
PY
}
check "stats count both directions on g1's queue with its rings' indexes" counted
prom_counts() {
	net_stats --prometheus | grep -qE "^pvback_net_tx_packets_total\{device=\"vif-$(domid_of g1)-$d1\",domid=\"[0-9]+\",queue=\"0\"\} [1-9]"
}
check "stats --prometheus has them too" prom_counts
check "g1's netfront closes in order" front_stop g1 eth0
check "g1's backend goes Closed" wait_until 10 state_is g1 "$d1" 6
check "the daemon still answers" net_ready
check "g2 still reaches the host" ping_from "$(guest_ns g2)" "$NET_PFX.1" 2
check "unplugging g1's vif removes it" vif_detach g1 "$d1"
check "its interface is gone" wait_until 10 link_gone - "$(vif_name g1 "$d1")"
check "g2 still carries a verified stream" tcp_verify "$(guest_ns g2)" - "$NET_PFX.1" 4 5004
check "SIGTERM stops the daemon with status 0" net_stop
check "no error was logged" sh -c "! grep -E ' ERR ' '$W/net.log'"
t_done
