# SPDX-License-Identifier: GPL-2.0-or-later
# Description: bench-xen's network half (only with tests/xen/run --bench,
# i.e. make bench-xen): the same iperf3 jobs in a PV domU (Linux's
# xen-netfront with its default module parameters; 1 vCPU, pinned to a pCPU
# dom0 does not use when there is one, 256 MiB) against dom0 over xenbr0,
# the vif served by two backends one after the other, in XN_ROUNDS rounds
# (kernel, pvback, kernel, pvback, ...):
#   kernel  Linux's xen-netback (modprobe for the domU, rmmod after it)
#   pvback  pvback-net (started once xen-netback is unloaded)
# both with script=pvback-vif-bridge (the same bridge port either way).
# Jobs (iperf3 in the domU, the server in dom0; XN_OMIT s omitted + XN_RT s):
#   tcp-tx     TCP domU -> dom0 (guest TX)     tcp-rx     the same with -R (guest RX)
#   udp64-tx   UDP, 64-byte payloads, unlimited rate, domU -> dom0: datagrams
#              that arrived per second     udp64-rx   the same with -R
# Figures go to the XT-RECORD block bench-net (tests/xen/out/record-bench-net.txt,
# one `backend=... round=N name=... mbps=... [pps=... lost_pct=...]` line per
# job with its wall time and the CPU time dom0 and the domU used meanwhile,
# and per backend one `name=idle` line); tests/xen/run turns it into
# bench/results/xen-net.json and a table of pvback/kernel ratios, with the
# host's own CPU load during each job (XT-BENCH begin/end). TCG: read the
# ratios only.
XN_RT=6
XN_OMIT=1
XN_ROUNDS=3
XN_OUT=/tmp/xt/bench-net.txt
# name:iperf3 arguments
XN_JOBS="tcp-tx: tcp-rx:-R udp64-tx:-u,-l,64,-b,0 udp64-rx:-R,-u,-l,64,-b,0"
XN_PIN=
[ "$(xl info | sed -n 's/^nr_cpus *: //p')" -gt "$(xl vcpu-list Domain-0 | awk 'NR > 1' | wc -l)" ] &&
	XN_PIN="cpus = '$(($(xl info | sed -n 's/^nr_cpus *: //p') - 1))'"

xn_cpu() { # NAME: "uptime dom0-cpu-seconds domU-cpu-seconds"
	xl list 2>/dev/null | awk -v u="$(xt_now)" -v n="$1" '
		$1 == "Domain-0" { d0 = $NF } $1 == n { du = $NF }
		END { print u, d0 + 0, du + 0 }'
}

xn_domu() { # NAME: the bench domU, its vif connected, eth0 up
	local id
	xt_domu_start "$1" -f /xt/guest/net.sh -l "$XT_DOMU_NET" -c 1 -m 256 -- \
		"vif = [ '$(xt_net_vif mac=00:16:3e:00:91:01)' ]" ${XN_PIN:+"$XN_PIN"} || return 1
	id=$(xt_domid "$1")
	xt_xs_wait "$(xt_net_be "$id")/state" 4 120 || return 1
	xt_domu_wait "$1" 'XTD: ready' 120 || return 1
	xt_domu_run "$1" 'sh /extra/net.sh up eth0 10.0.0.91/24' 60
}

# xn_measure NAME BACKEND ROUND JOB ARGS: one iperf3 run, its figures and the
# CPU time both domains used meanwhile appended to XN_OUT
xn_measure() {
	local name=$1 b=$2 r=$3 n=$4 args c0 c1 cid out rc cpu fig port=$((5200 + $3 * 10))
	args=$(echo "$5" | tr , ' ')
	case $n in tcp-rx) port=$((port + 1)) ;; udp64-tx) port=$((port + 2)) ;; udp64-rx) port=$((port + 3)) ;; esac
	xt_iperf_server "$port" || { xt_fail "[$b #$r] $n: no iperf3 server"; return; }
	echo "XT-BENCH begin $b $r $n"
	c0=$(xn_cpu "$name")
	# no console polling (xl, grep) in dom0 while iperf3 measures
	cid=$(xt_domu_send "$name" "sh /extra/net.sh bench $XT_NET_DOM0 $port -t $XN_RT -O $XN_OMIT $args")
	sleep $((XN_RT + XN_OMIT))
	out=$(xt_domu_collect "$name" "$cid" 90)
	rc=$?
	c1=$(xn_cpu "$name")
	echo "XT-BENCH end $b $r $n"
	cpu=$(echo "$c0 $c1" | awk '{ printf "wall_s=%.1f dom0_cpu_s=%.1f domu_cpu_s=%.1f", $4 - $1, $5 - $2, $6 - $3 }')
	if [ $rc = 0 ] && fig=$(echo "$out" | grep '^mbps=' | tail -n 1) && [ -n "$fig" ]; then
		echo "backend=$b round=$r name=$n args=$(echo "$5" | tr , _) $fig $cpu runtime_s=$XN_RT omit_s=$XN_OMIT" >>"$XN_OUT"
		xt_pass "[$b #$r] iperf3 $n: $fig $cpu"
	else
		echo "$out" | tail -n 20 | sed 's/^/    | /'
		xt_fail "[$b #$r] iperf3 $n"
	fi
}

# xn_backend BACKEND ROUND: boot the domU on it, run every job, destroy it
xn_backend() {
	local b=$1 r=$2 name=bench-$1 id j c0 c1
	if ! xt_check "[$b #$r] domU connects (backend/vif state 4, eth0 up)" xn_domu "$name"; then
		xt_domu_destroy "$name"
		return 1
	fi
	id=$(xt_domid "$name")
	if [ "$r" = 1 ]; then
		xt_record "bench-net-$b-xenstore" "$(xt_net_be "$id")" "$(xt_net_fe "$id")"
		xt_log "[$b] vCPUs: $(xl vcpu-list | awk 'NR > 1 { printf "%s/%s on pCPU %s (affinity %s); ", $1, $3, $4, $7 }')"
		c0=$(xn_cpu "$name")
		sleep $XN_RT
		c1=$(xn_cpu "$name")
		echo "$c0 $c1" | awk -v b="$b" '{ printf "backend=%s round=1 name=idle wall_s=%.1f dom0_cpu_s=%.1f domu_cpu_s=%.1f\n",
			b, $4 - $1, $5 - $2, $6 - $3 }' >>"$XN_OUT"
	fi
	for j in $XN_JOBS; do
		xn_measure "$name" "$b" "$r" "${j%%:*}" "${j#*:}"
	done
	xt_check "[$b #$r] netfront logged no complaint" xt_net_fe_clean "$name"
	xt_domu_destroy "$name"
	xt_check "[$b #$r] backend/vif/$id removed" xt_xs_wait_gone "/local/domain/0/backend/vif/$id" 30
	xt_check "[$b #$r] vif$id.0 gone" xt_wait 30 test ! -e "/sys/class/net/vif$id.0"
}

: >"$XN_OUT"
xt_check "bridge $XT_NET_BR with $XT_NET_DOM0/24" xt_net_bridge
xt_log "bench-net: $XN_ROUNDS rounds x 2 backends x $(echo $XN_JOBS | wc -w) jobs x ${XN_OMIT}+${XN_RT} s;" \
	"$(xl info | grep -E 'free_memory|xen_commandline' | tr -s ' \n' ' ')"
r=1
while [ $r -le $XN_ROUNDS ]; do
	# (a) the kernel's xen-netback, unloaded again before pvback-net runs
	if xt_check "[kernel #$r] modprobe xen-netback" modprobe xen-netback &&
		xt_check "[kernel #$r] xen-netback serves backend/vif" test -d /sys/bus/xen-backend/drivers/vif; then
		xn_backend kernel $r
	fi
	xt_check "[kernel #$r] rmmod xen-netback" rmmod xen_netback

	# (b) pvback-net
	if xt_check "[pvback #$r] xen-netback not loaded" sh -c '! grep -q "^xen_netback " /proc/modules' &&
		xt_net_start; then
		xn_backend pvback $r
		xt_net_stop_check "[pvback #$r] SIGTERM stops pvback-net (exit status 0)"
	else
		xt_fail "[pvback #$r] pvback-net starts"
	fi
	r=$((r + 1))
done

{
	echo "XT-RECORD-BEGIN bench-net"
	echo "# make bench-xen $(date -u +%Y-%m-%dT%H:%MZ): iperf3 $XN_OMIT s omitted + $XN_RT s," \
		"domU 1 vCPU ${XN_PIN:-unpinned} 256 MiB, xen-netfront defaults, server in dom0, $XN_ROUNDS rounds"
	echo "# $(xl info | grep xen_commandline | tr -s ' ')"
	cat "$XN_OUT"
	echo "XT-RECORD-END bench-net"
}
