# SPDX-License-Identifier: GPL-2.0-or-later
# Description: Jumbo frames: xenbr0 at MTU 9000 and a vif with mtu=9000
# (libxl writes it for the backend and the frontend). pvback-net creates
# its TAP with that MTU, netfront (feature-sg) takes it; 8000-byte pings
# cross both ways in one frame each (no IP reassembly on either side: every
# guest TX frame spans 3 slots, every guest RX frame 2 pages), and 16 MiB
# each way over TCP arrive with their sha256 and length.
xt_check "bridge $XT_NET_BR at MTU 9000 with $XT_NET_DOM0/24" xt_net_bridge "$XT_NET_BR" "$XT_NET_DOM0/24" 9000
xt_net_start || { xt_fail "pvback-net starts"; return 0; }
if xt_check "domU with vif mtu=9000 connects" xt_net_domu g1 -- "$(xt_net_vif mtu=9000)"; then
	id=$(xt_domid g1)
	dev=vif-$id-0
	be=$(xt_net_be "$id") fe=$(xt_net_fe "$id")
	xt_check "backend and frontend mtu keys are 9000" \
		test "$(xenstore-read "$be/mtu")/$(xenstore-read "$fe/mtu")" = 9000/9000
	xt_check "pvback-net created vif$id.0 with MTU 9000" grep -q "$dev: tap interface vif$id.0 created (mtu 9000)" "$XT_NET_LOG"
	xt_check "vif$id.0 is at MTU 9000 in $XT_NET_BR" sh -c \
		"test \$(cat /sys/class/net/vif$id.0/mtu) = 9000 -a -e /sys/class/net/$XT_NET_BR/brif/vif$id.0"
	xt_check "netfront negotiated feature-sg (jumbo frames need it)" test "$(xenstore-read "$fe/feature-sg")" = 1
	out=$(xt_domu_run g1 'cat /sys/class/net/eth0/mtu' 30)
	xt_log "domU eth0 mtu as netfront set it: $out"
	xt_check "domU: eth0 at MTU 9000, 10.0.0.21/24, up" xt_domu_run g1 'sh /extra/net.sh up eth0 10.0.0.21/24 9000' 60
	r0=$(xt_net_sh counter Ip:ReasmReqds) g0=$(xt_domu_run g1 'sh /extra/net.sh counter Ip:ReasmReqds' 30)
	tx0=$(xt_net_field "$dev" tx_packets)
	xt_check "domU pings dom0 with 8000-byte payloads (10 of 10)" \
		xt_domu_run g1 "sh /extra/net.sh ping $XT_NET_DOM0 10 8000" 60
	xt_check "dom0 pings the domU with 8000-byte payloads (10 of 10)" xt_net_sh ping 10.0.0.21 10 8000
	r1=$(xt_net_sh counter Ip:ReasmReqds) g1=$(xt_domu_run g1 'sh /extra/net.sh counter Ip:ReasmReqds' 30)
	tx1=$(xt_net_field "$dev" tx_packets)
	xt_check "no IP reassembly in dom0 ($r0 -> $r1) nor in the domU ($g0 -> $g1): one frame each" \
		test "$r0" = "$r1" -a "$g0" = "$g1"
	xt_check "the 20 8028-byte packets were 20 guest TX frames ($tx0 -> $tx1, ARP aside)" \
		test $((tx1 - tx0)) -ge 20 -a $((tx1 - tx0)) -le 24
	xt_check "16 MiB domU -> dom0 over TCP, sha256 and length match" xt_net_to_dom0 g1 "$XT_NET_DOM0" 5301 16
	xt_check "16 MiB dom0 -> domU over TCP, sha256 and length match" xt_net_from_dom0 g1 10.0.0.21 5302 16
	xt_iperf_server 5201
	out=$(xt_domu_run g1 "sh /extra/net.sh iperf $XT_NET_DOM0 5201 -t 3" 60)
	xt_check "iperf3 at MTU 9000 domU -> dom0: $out Mbit/s" test -n "$out"
	pvback-net stats "$dev" | sed 's/^/    stats| /'
	f() { xt_net_field "$dev" "$@"; }
	xt_check "no drop, error or violation either way" test \
		"$(f tx_drops)/$(f tx_errors)/$(f tx_slot_violations)/$(f rx_drops)/$(f rx_errors)" = 0/0/0/0/0
	xt_check "netfront logged no complaint (domU dmesg)" xt_net_fe_clean g1
	xt_check "domU powers off" xt_domu_poweroff g1
fi
xt_check "pvback-net is still running" xt_net_alive
xt_net_stop_check "SIGTERM stops pvback-net (exit status 0)"
xt_check "no error logged by pvback-net" sh -c "! grep ' ERR ' $XT_NET_LOG"
xt_check "$XT_NET_BR back at MTU 1500" xt_net_bridge
