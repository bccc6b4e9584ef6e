# SPDX-License-Identifier: GPL-2.0-or-later
# Description: Two queues: a domU with 2 vCPUs and xen-netfront
# max_queues=2 negotiates multi-queue-num-queues=2 (queue-0/ and queue-1/
# each with their rings and split event channels) against pvback-net's
# multi-queue-max-queues; pvback-net runs a thread and a TAP queue for each.
# Parallel TCP streams both ways (iperf3 -P 8, more rounds until every
# queue counted traffic, at most 4) show both queues carrying guest TX and
# guest RX; a verified transfer each way; netfront has nothing to complain.
xt_check "bridge $XT_NET_BR with $XT_NET_DOM0/24 in dom0" xt_net_bridge
xt_net_start || { xt_fail "pvback-net starts"; return 0; }
if xt_check "domU (2 vCPUs, xen-netfront max_queues=2) connects, eth0 up" \
	xt_net_domu g1 -c 2 -e 'NETFRONT_OPTS=max_queues=2' -a 10.0.0.21/24 -- "$(xt_net_vif)"; then
	id=$(xt_domid g1)
	dev=vif-$id-0
	be=$(xt_net_be "$id") fe=$(xt_net_fe "$id")
	xt_record net-multiqueue "$be" "$fe"
	xt_check "backend offers multi-queue-max-queues=4" test "$(xenstore-read "$be/multi-queue-max-queues")" = 4
	xt_check "netfront asks for multi-queue-num-queues=2" test "$(xenstore-read "$fe/multi-queue-num-queues")" = 2
	for q in 0 1; do
		xt_check "queue-$q/ has tx-ring-ref, rx-ring-ref, event-channel-tx/-rx" sh -c \
			"for k in tx-ring-ref rx-ring-ref event-channel-tx event-channel-rx; do xenstore-read $fe/queue-$q/\$k >/dev/null || exit 1; done"
	done
	xt_check "pvback-net connected 2 queues" grep -q "$dev: connected: 2 queue(s)" "$XT_NET_LOG"
	xt_check "pvback-net stats: queues 2" sh -c "pvback-net stats $dev | grep -q 'queues 2\$'"
	xt_check "a queue thread each (net${id}q0, net${id}q1)" sh -c \
		"cat /proc/$(xt_pvd_pid pvback-net)/task/*/comm | grep -qx net${id}q0 && cat /proc/$(xt_pvd_pid pvback-net)/task/*/comm | grep -qx net${id}q1"
	# the fds' flags: O_NONBLOCK (04000), io_uring's inline, in-order path
	tunfds() {
		local p=$(xt_pvd_pid pvback-net) fd n=0
		for fd in /proc/$p/fd/*; do
			[ "$(readlink "$fd")" = /dev/net/tun ] || continue
			[ $((0$(sed -n 's/^flags:[[:space:]]*//p' "/proc/$p/fdinfo/${fd##*/}") & 04000)) != 0 ] || return 1
			n=$((n + 1))
		done
		[ $n -ge 2 ]
	}
	xt_check "the TAP has 2 queues open, both O_NONBLOCK" tunfds
	xt_check "domU: eth0 has 2 tx and 2 rx queues" xt_domu_run g1 \
		'test "$(ls -d /sys/class/net/eth0/queues/tx-* | wc -l)/$(ls -d /sys/class/net/eth0/queues/rx-* | wc -l)" = 2/2' 30
	f() { xt_net_field "$dev" "$@"; }
	used() { # every queue carried more than 100 packets each way
		[ "$(f tx_packets 0)" -gt 100 ] && [ "$(f tx_packets 1)" -gt 100 ] &&
			[ "$(f rx_packets 0)" -gt 100 ] && [ "$(f rx_packets 1)" -gt 100 ]
	}
	r=0 port=5200
	while [ $r -lt 4 ]; do
		r=$((r + 1))
		for dir in "" -R; do
			port=$((port + 1))
			xt_iperf_server $port
			out=$(xt_domu_run g1 "sh /extra/net.sh iperf $XT_NET_DOM0 $port -t 3 -P 8 $dir" 120)
			xt_log "round $r iperf3 -P 8 ${dir:-(guest TX)}: $out"
		done
		used && break
	done
	pvback-net stats "$dev" | sed 's/^/    stats| /'
	xt_check "queue 0 carried guest TX ($(f tx_packets 0) packets) and guest RX ($(f rx_packets 0))" \
		sh -c "[ $(f tx_packets 0) -gt 100 ] && [ $(f rx_packets 0) -gt 100 ]"
	xt_check "queue 1 carried guest TX ($(f tx_packets 1) packets) and guest RX ($(f rx_packets 1))" \
		sh -c "[ $(f tx_packets 1) -gt 100 ] && [ $(f rx_packets 1) -gt 100 ]"
	xt_log "$r round(s) of 8 streams each way until both queues counted both ways"
	xt_check "16 MiB domU -> dom0, sha256 and length match" xt_net_to_dom0 g1 "$XT_NET_DOM0" 5301 16
	xt_check "16 MiB dom0 -> domU, sha256 and length match" xt_net_from_dom0 g1 10.0.0.21 5302 16
	xt_check "no drop, error or violation on either queue" test \
		"$(f tx_drops)/$(f tx_errors)/$(f tx_slot_violations)/$(f rx_drops)/$(f rx_errors)" = 0/0/0/0/0
	xt_check "netfront logged no complaint (domU dmesg)" xt_net_fe_clean g1
	xt_check "domU powers off" xt_domu_poweroff g1
	xt_check "backend dir removed" xt_xs_wait_gone "/local/domain/0/backend/vif/$id" 30
	xt_check "both queue threads ended" xt_wait 10 sh -c "! grep -qx 'net${id}q[01]' /proc/$(xt_pvd_pid pvback-net)/task/*/comm"
fi
xt_check "pvback-net is still running" xt_net_alive
xt_net_stop_check "SIGTERM stops pvback-net (exit status 0)"
xt_check "no error logged by pvback-net" sh -c "! grep ' ERR ' $XT_NET_LOG"
