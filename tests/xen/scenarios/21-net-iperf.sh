# SPDX-License-Identifier: GPL-2.0-or-later
# Description: Throughput and data through pvback-net with Linux's
# xen-netfront (default module parameters, GSO and checksum offload on):
# iperf3 TCP domU -> dom0 (guest TX), dom0 -> domU (-R, guest RX) and both
# at once (--bidir), 4 streams; then 16 MiB of random data over one TCP connection
# each way, and both ways at the same time, whose sha256 and length match
# at the other end. pvback-net's counters show GSO and partial checksums
# both ways and no drop, error or violation; netfront logged no complaint.
xt_check "bridge $XT_NET_BR with $XT_NET_DOM0/24 in dom0" xt_net_bridge
xt_net_start || { xt_fail "pvback-net starts"; return 0; }
if xt_check "domU connects, eth0 10.0.0.21/24 up" xt_net_domu g1 -a 10.0.0.21/24 -- "$(xt_net_vif)"; then
	id=$(xt_domid g1)
	dev=vif-$id-0
	f() { xt_net_field "$dev" "$@"; }
	iperf() { # NAME PORT ARGS...: an iperf3 client run in the domU against dom0
		local name=$1 port=$2 out
		shift 2
		xt_iperf_server "$port" || { xt_fail "$name" "no iperf3 server in dom0"; return; }
		out=$(xt_domu_run g1 "sh /extra/net.sh iperf $XT_NET_DOM0 $port $*" 120)
		if [ $? = 0 ]; then xt_pass "$name: $out Mbit/s"; else
			echo "$out" | sed 's/^/    | /'
			xt_fail "$name"
		fi
	}
	iperf "iperf3 TCP domU -> dom0 (guest TX), 5 s" 5201 -t 5
	iperf "iperf3 TCP dom0 -> domU (guest RX, -R), 5 s" 5202 -t 5 -R
	iperf "iperf3 TCP both ways at once (--bidir), 5 s" 5203 -t 5 --bidir
	iperf "iperf3 TCP domU -> dom0, 4 streams (-P 4), 5 s" 5204 -t 5 -P 4
	xt_check "16 MiB domU -> dom0 over TCP, sha256 and length match" xt_net_to_dom0 g1 "$XT_NET_DOM0" 5301 16
	xt_check "16 MiB dom0 -> domU over TCP, sha256 and length match" xt_net_from_dom0 g1 10.0.0.21 5302 16
	# both ways at once: the domU's send runs while dom0 sends
	want_up=$(xt_domu_run g1 'sh /extra/net.sh mkdata up 16' 120)
	want_dn=$(xt_net_sh mkdata dn 16)
	if xt_net_sh listen 5303 rx5303 && xt_domu_run g1 'sh /extra/net.sh listen 5304 rx5304' 60; then
		cid=$(xt_domu_send g1 "sh /extra/net.sh send $XT_NET_DOM0 5303 up")
		xt_net_sh send 10.0.0.21 5304 dn
		rc_dn=$?
		xt_domu_collect g1 "$cid" 300 >/dev/null
		rc_up=$?
		got_up=$(xt_net_sh received rx5303 60)
		got_dn=$(xt_domu_run g1 'sh /extra/net.sh received rx5304 60' 70)
		xt_check "16 MiB each way at the same time: domU -> dom0 matches (rc $rc_up)" \
			test "$rc_up" = 0 -a "$want_up" = "$got_up"
		xt_check "16 MiB each way at the same time: dom0 -> domU matches (rc $rc_dn)" \
			test "$rc_dn" = 0 -a "$want_dn" = "$got_dn"
	else
		xt_fail "both ways at once: receivers listen"
	fi
	pvback-net stats "$dev" | sed 's/^/    stats| /'
	xt_check "guest TX carried GSO super-frames ($(f tx_gso)) and partial checksums ($(f tx_csum_blank))" \
		test "$(f tx_gso)" -gt 0 -a "$(f tx_csum_blank)" -gt 0
	xt_check "guest RX carried GSO super-frames ($(f rx_gso)) and partial checksums ($(f rx_csum_blank))" \
		test "$(f rx_gso)" -gt 0 -a "$(f rx_csum_blank)" -gt 0
	xt_check "more than 32 MiB each way counted" test "$(f tx_bytes)" -gt 33554432 -a "$(f rx_bytes)" -gt 33554432
	xt_check "no drop, error or violation either way" test \
		"$(f tx_drops)/$(f tx_errors)/$(f tx_slot_violations)/$(f rx_drops)/$(f rx_errors)" = 0/0/0/0/0
	xt_check "every TX request consumed was answered" \
		test "$(f ring_req_cons 0)" = "$(f ring_rsp_prod 0)"
	xt_check "netfront logged no complaint (domU dmesg)" xt_net_fe_clean g1
	xt_check "domU powers off" xt_domu_poweroff g1
	xt_check "backend dir removed" xt_xs_wait_gone "/local/domain/0/backend/vif/$id" 30
fi
xt_check "pvback-net is still running" xt_net_alive
xt_net_stop_check "SIGTERM stops pvback-net (exit status 0)"
xt_check "no error logged by pvback-net" sh -c "! grep ' ERR ' $XT_NET_LOG"
