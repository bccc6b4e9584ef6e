# SPDX-License-Identifier: GPL-2.0-or-later
# Description: Two domUs on the same pvback-net, each with TCP streams both
# ways to dom0. `xl destroy` of A in the middle of its traffic (grants and
# event channels gone, netfront never says Closing): pvback-net drops A's
# vif and its TAP, unmaps its rings (the domain leaves no zombie behind),
# libxl's cleanup completes, and B's streams go on and arrive intact (sha256
# of every byte), then B still carries a verified transfer each way.
xt_check "bridge $XT_NET_BR with $XT_NET_DOM0/24" xt_net_bridge
xt_net_start || { xt_fail "pvback-net starts"; return 0; }
okA=0 okB=0
xt_check "domU A connects, eth0 10.0.0.21/24" xt_net_domu dA -a 10.0.0.21/24 -- "$(xt_net_vif)" && okA=1
xt_check "domU B connects, eth0 10.0.0.22/24" xt_net_domu dB -a 10.0.0.22/24 -- "$(xt_net_vif)" && okB=1
tx_past() { [ "$(xt_net_field "$1" tx_bytes)" -gt "$2" ] && [ "$(xt_net_field "$1" rx_bytes)" -gt "$3" ]; }
flowing() { # DEV SEC: guest TX and RX both grow by 1 MiB
	xt_wait "$2" tx_past "$1" $(($(xt_net_field "$1" tx_bytes) + 1048576)) $(($(xt_net_field "$1" rx_bytes) + 1048576))
}
no_zombie() { ! xl list | grep -q '(null)'; }
if [ $okA = 1 ] && [ $okB = 1 ]; then
	idA=$(xt_domid dA) idB=$(xt_domid dB)
	xt_check "1 MiB dom0 -> A, kept for A's streams" xt_net_from_dom0 dA 10.0.0.21 5300 1 s
	xt_check "1 MiB dom0 -> B, kept for B's streams" xt_net_from_dom0 dB 10.0.0.22 5300 1 s
	# B's streams paced (1 MiB each 0.5 s), A's at full speed: A's rings
	# are busy both ways when it goes
	xt_check "B: streams to and from dom0 run" sh -c \
		". /xt/xt.sh; xt_net_stream_up dB $XT_NET_DOM0 5401 bu s 0.5 && xt_net_stream_down dB 10.0.0.22 5402 bd s 0.5"
	xt_check "A: streams to and from dom0 run" sh -c \
		". /xt/xt.sh; xt_net_stream_up dA $XT_NET_DOM0 5403 au s 0 && xt_net_stream_down dA 10.0.0.21 5404 ad s 0"
	xt_check "A's traffic flows both ways" flowing "vif-$idA-0" 60
	xt_check "B's traffic flows both ways" flowing "vif-$idB-0" 60
	nB=$(xt_domu_run dB 'sh /extra/net.sh stream-count bu' 30)
	t0=$(date +%s)
	xt_check "xl destroy A mid-traffic" timeout 90 xl destroy dA
	xt_log "xl destroy took $(($(date +%s) - t0)) s"
	xt_check "A's backend dir is removed" xt_xs_wait_gone "/local/domain/0/backend/vif/$idA" 30
	xt_check "A is gone for good: no zombie domain (its rings unmapped)" xt_wait_event @releaseDomain 30 no_zombie
	xt_check "vif$idA.0 is gone, and out of the bridge" xt_wait 30 sh -c \
		"test ! -e /sys/class/net/vif$idA.0 -a ! -e /sys/class/net/$XT_NET_BR/brif/vif$idA.0"
	xt_check "pvback-net is still running" xt_net_alive
	xt_check "pvback-net no longer lists vif-$idA-0" sh -c "! pvback-net stats | grep -q '^vif-$idA-0 '"
	xt_check "A's TX journal is gone (nothing owed)" sh -c "! ls /run/pvback-net/state/vif-$idA-0-* 2>/dev/null | grep -q ."
	# dom0's ends of A's streams would wait for ever
	xt_net_sh stream-kill ad
	xt_net_sh rx-kill au
	xt_check "B's streams go on past the destroy" xt_wait 60 sh -c \
		". /xt/xt.sh; [ \$(xt_domu_run dB 'sh /extra/net.sh stream-count bu' 30) -gt $((nB + 3)) ]"
	xt_check "B's stream to dom0 arrived intact" xt_net_stream_check dB up bu s 120
	xt_check "B's stream from dom0 arrived intact" xt_net_stream_check dB down bd s 120
	xt_check "B: 8 MiB to dom0 after A is gone, verified" xt_net_to_dom0 dB "$XT_NET_DOM0" 5311 8
	xt_check "B: 8 MiB from dom0 after A is gone, verified" xt_net_from_dom0 dB 10.0.0.22 5312 8
	xt_check "B: no drop, error or violation" test "$(xt_net_field "vif-$idB-0" tx_drops)/$(xt_net_field "vif-$idB-0" tx_errors)/$(xt_net_field "vif-$idB-0" rx_errors)/$(xt_net_field "vif-$idB-0" tx_slot_violations)" = 0/0/0/0
	xt_check "B: netfront logged no complaint" xt_net_fe_clean dB
	xt_domu_poweroff dB
fi
xt_check "no error logged by pvback-net" sh -c "! grep ' ERR ' $XT_NET_LOG"
xt_net_stop_check "SIGTERM stops pvback-net (exit status 0)"
