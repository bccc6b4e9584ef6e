#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvback-net --isolate domain: each guest domain's vif queues
# run in a worker process of their own, started at its first connect (stats
# answer before, while a vif waits for its frontend).  The
# two vifs of g1 share one worker, g2 has another; each worker holds only
# its domain's TAP queues (handed over: it opens none, and the workers'
# user cannot attach a queue to a vif, whose owner is root) and maps guest
# memory while the xenbus process keeps one TAP fd per vif and maps none;
# workers run as the daemon's user, keep only CAP_DAC_OVERRIDE on their
# main thread (not the xenbus process's CAP_NET_ADMIN and CAP_NET_RAW) and
# run their queue threads with no capabilities under the seccomp filter; a
# SIGTERM meant for the daemon's name does not reach them.  Traffic flows
# both ways through each vif, stats come from the workers, the toolstack's
# rate reaches a worker's queues and leaves them again.  SIGKILL of g1's
# worker fails g1's vifs only: g2's traffic, its worker and the daemon
# carry on, and g1 reconnects through a new worker.  SIGTERM stops the
# daemon with exit status 0 and takes every worker with it.  --isolate
# domain with --port dpdk or --dpdk-lcores is refused, saying why.
. "$(dirname "$0")/net-lib.sh"
. "$(dirname "$0")/confine-lib.sh"
net_requires_front

bridge_add "$NET_BR" "$NET_PFX.1/24"
be_ns ip addr add 10.98.0.1/24 dev "$NET_BR"
net_up --isolate domain
guest_create g1 128M
guest_create g2 128M
dom1=$(domid_of g1) dom2=$(domid_of g2)
# g1 has two interfaces: each answers only for its own address.
ns_run "$(guest_ns g1)" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2

workers() { pgrep -P "$netpid" || true; }
worker_of() { # DOMID: the domain's last worker, as the daemon logged it
	sed -nE "s/.*INFO domain $1: worker process ([0-9]+)$/\1/p" "$W/net.log" | tail -1
}
started_for() { grep -cE "INFO domain $1: worker process [0-9]+$" "$W/net.log"; }
# tun_ifs PID: the interface of each of its TAP fds, sorted, on one line.
tun_ifs() {
	local fd l=()
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd")" = /dev/net/tun ] || continue
		l+=("$(sed -n 's/^iff:[[:space:]]*//p' "/proc/$1/fdinfo/${fd##*/}")")
	done
	printf '%s\n' "${l[@]}" | sort | xargs
}
sim_maps() { grep -cE 'memfd:pvsim-(ram|gnttab|active)' "/proc/$1/maps" || true; }
status_of() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

dw=$(vif_attach g1 bridge="$NET_BR")
check "a vif waits for its frontend" wait_until 10 state_is g1 "$dw" 2
check "no worker before a frontend connects" test -z "$(workers)"
check "stats answers meanwhile (the vif runs nothing anywhere)" eval \
	'net_stats | grep -q "^vif-$dom1-$dw vif$dom1.$dw state InitWait queues 0"'
vif_detach g1 "$dw"
check "... and it goes" wait_until 10 be_gone g1 "$dw"
base0=$(sim_maps "$netpid")
check "g1's first vif connects with 2 queues" vif_connect g1 eth0 "$NET_PFX.11/24" --queues 2
d1=$vif_devid
check "g1's second vif connects" vif_connect g1 eth1 10.98.0.11/24
d1b=$vif_devid
check "g2's vif connects with 2 queues" vif_connect g2 eth0 "$NET_PFX.12/24" --queues 2
d2=$vif_devid
if1=$(vif_name g1 "$d1") if1b=$(vif_name g1 "$d1b") if2=$(vif_name g2 "$d2")
check "one worker per domain: two" test "$(workers | wc -l)" = 2
check "both of g1's vifs went to the same worker" test "$(started_for "$dom1")" = 1
w1=$(worker_of "$dom1") w2=$(worker_of "$dom2")
check "g1's worker ($w1) holds g1's TAP queues only: $(tun_ifs "$w1")" \
	test "$(tun_ifs "$w1")" = "$(printf '%s\n' "$if1" "$if1" "$if1b" | sort | xargs)"
check "g2's worker ($w2) holds g2's only: $(tun_ifs "$w2")" test "$(tun_ifs "$w2")" = "$if2 $if2"
check "the xenbus process keeps one TAP fd per vif: $(tun_ifs "$netpid")" \
	test "$(tun_ifs "$netpid")" = "$(printf '%s\n' "$if1" "$if1b" "$if2" | sort | xargs)"
# attach_as_pvback IF: a process of the workers' user without capabilities
# attaches a queue to the TAP IF (TUNSETIFF with pvback-net's flags); the
# system's python (the caller's may live in root's home).
attach_as_pvback() {
	be_ns setpriv --reuid=pvback --regid=pvback --clear-groups --inh-caps=-all \
		--bounding-set=-all "$(PATH=/usr/bin:/bin command -v python3)" -c '
import fcntl, os, struct, sys
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH22x", sys.argv[1].encode(), 0x0002 | 0x1000 | 0x4000 | 0x0100))
' "$1"
}
tap_add - probe0
check "a process of the workers' user attaches a queue to a TAP without owner" \
	attach_as_pvback probe0
check "but not to a guest's vif: a worker cannot take another guest's frames" \
	t_fails_with "Operation not permitted" attach_as_pvback "$if2"
check "the workers' TAP queues are non-blocking" eval 'tun_fds_nonblocking $w1 && tun_fds_nonblocking $w2'
check "the xenbus process maps no guest memory (its own hv handle's $base0 mappings)" \
	test "$(sim_maps "$netpid")" = "$base0"
check "the workers do" eval 'test "$(sim_maps $w1)" -gt 0 && test "$(sim_maps $w2)" -gt 0'
echo "# VmRSS: xenbus process $(status_of "$netpid" VmRSS) kB, workers $(status_of "$w1" VmRSS) and $(status_of "$w2" VmRSS) kB"
check "the xenbus process keeps CAP_DAC_OVERRIDE, CAP_IPC_LOCK, CAP_NET_ADMIN and CAP_NET_RAW" \
	main_thread_is "$netpid" 0000000000007002
# worker_main_is PID: CAP_DAC_OVERRIDE and CAP_IPC_LOCK only (its bounding set stays the
# xenbus process's: dropping it needs CAP_SETPCAP, and with no_new_privs
# nothing raises a capability again), nothing inheritable or ambient, no
# filter on the main thread.
worker_main_is() {
	local f
	f="$(field "$1" "$1" CapEff) $(field "$1" "$1" CapPrm) $(field "$1" "$1" CapInh)"
	f="$f $(field "$1" "$1" CapAmb) $(field "$1" "$1" NoNewPrivs) $(field "$1" "$1" Seccomp)"
	echo "main: CapEff CapPrm CapInh CapAmb NoNewPrivs Seccomp: $f"
	[ "$f" = "0000000000004002 0000000000004002 0000000000000000 0000000000000000 1 0" ]
}
for w in "$w1" "$w2"; do
	check "worker $w: every thread runs as pvback" all_threads_are_pvback "$w"
	check "worker $w: its main thread keeps only CAP_DAC_OVERRIDE" worker_main_is "$w"
done
qthreads="net$dom1"'q[0-9]+'
check "g1's worker's 3 queue threads: no capabilities, no_new_privs, seccomp filter" eval \
	'data_path_confined "$w1" "$qthreads" && test "$(data_path_threads "$w1" "$qthreads" | wc -l)" = 3'

check "g1 pings the host through its first vif" ping_from "$(guest_ns g1)" "$NET_PFX.1" 3
check "the host pings g1 there" ping_from - "$NET_PFX.11" 3
check "g1 pings the host through its second vif" ping_from "$(guest_ns g1)" 10.98.0.1 3
check "the host pings g1 there" ping_from - 10.98.0.11 3
check "g2 pings g1 across the bridge" ping_from "$(guest_ns g2)" "$NET_PFX.11" 3
check "4 MiB from the host to g2 arrive intact (sha256)" \
	tcp_verify - "$(guest_ns g2)" "$NET_PFX.12" 4 5001
check "4 MiB from g2 to the host arrive intact" tcp_verify "$(guest_ns g2)" - "$NET_PFX.1" 4 5002

# vif_counts NAME...: each vif has its queues, counted both ways in its worker.
vif_counts() {
	net_stats --json >"$W/s.json" || return 1
	python3 - "$W/s.json" "$@" <<'PY'
import json, sys
devs = {d["name"]: d for d in json.load(open(sys.argv[1]))["devices"]}
ok = True
for spec in sys.argv[2:]:
    name, nq = spec.split(":")
    d = devs[name]
    t = d["total"]
    good = (d["connected"] and len(d["queues"]) == int(nq) and t["tx_packets"] >= 3 and
            t["rx_packets"] >= 3 and
            all(q["tx_ring"]["ring_req_cons"] == q["tx_ring"]["ring_rsp_prod"] for q in d["queues"]) and
            sum(q["tx_ring"]["ring_rsp_prod"] for q in d["queues"]) > 0)
    if not good:
        print(name, json.dumps(t), len(d["queues"]))
        ok = False
sys.exit(0 if ok else 1)
PY
}
check "stats: every vif counted both ways, queue by queue, by its worker" \
	vif_counts "vif-$dom1-$d1:2" "vif-$dom1-$d1b:1" "vif-$dom2-$d2:2"
kill -TERM "$w1"
check "a worker ignores SIGTERM (pkill of the daemon's name)" eval \
	'ping_from "$(guest_ns g1)" "$NET_PFX.1" 2 && kill -0 $w1'

# The toolstack's rate (xl network-attach rate=...) reaches g2's worker.
credit_waits() {
	net_stats --json | python3 -c 'import json, sys
for d in json.load(sys.stdin)["devices"]:
    if d["name"] == sys.argv[1]:
        print(d["total"]["credit_waits"])' "vif-$dom2-$d2"
}
waits0=$(credit_waits)
dom0 xenstore-write "$(be_path g2 "$d2")/rate" 3000,1000000
check "a rate of 3000 bytes a second holds g2's pings back in its worker" \
	wait_until 10 eval 'ns_run "$(guest_ns g2)" ping -n -q -c 4 -i 0.05 -s 1400 -W 1 "$NET_PFX.1" >/dev/null; test "$(credit_waits)" -gt "$waits0"'
dom0 xenstore-rm "$(be_path g2 "$d2")/rate"
# 20 pings of 1428 bytes within 3 s: at 3000 bytes a second, 7 would be answered.
pings_unlimited() {
	ns_run "$(guest_ns g2)" ping -n -q -c 20 -i 0.05 -s 1400 -w 3 "$NET_PFX.1" | grep -q ' 20 received'
}
check "without it, 20 such pings go through within 3 s" wait_until 10 pings_unlimited

kill -KILL "$w1"
check "g1's worker killed: both of g1's vifs leave Connected" \
	wait_until 10 eval '! state_is g1 $d1 4 && ! state_is g1 $d1b 4'
check "the daemon says why" wait_until 5 grep -q "domain $dom1: worker process $w1: exited" "$W/net.log"
check "and so does the vifs' error node" be_error_has g1 "$d1" "worker process died"
check "g2 still pings the host" ping_from "$(guest_ns g2)" "$NET_PFX.1" 3
check "g2 still carries a verified stream" tcp_verify "$(guest_ns g2)" - "$NET_PFX.1" 4 5003
check "g2's worker and the daemon run" eval 'kill -0 $w2 && kill -0 $netpid'
front_stop g1 eth0
front_stop g1 eth1
check "g1's first vif reconnects" front_start g1 eth0 --devid "$d1" --queues 2
check "... to Connected" wait_until 10 state_is g1 "$d1" 4
guest_ip g1 eth0 "$NET_PFX.11/24"
check "through a new worker" test "$(started_for "$dom1")" = 2
check "which holds its TAP queues again" \
	wait_until 5 eval 'test "$(tun_ifs "$(worker_of $dom1)")" = "$if1 $if1"'
check "g1 pings the host again" ping_from "$(guest_ns g1)" "$NET_PFX.1" 3
check "and the host g1" ping_from - "$NET_PFX.11" 3

check "SIGTERM stops the daemon with exit status 0" net_stop
check "the workers are gone with it" eval '! kill -0 $w2 2>/dev/null && ! kill -0 $(worker_of $dom1) 2>/dev/null'
refused() { # OPTION...: pvback-net --isolate domain OPTION... refuses to start, naming both
	! dom0 be_ns pvback-net --foreground --isolate domain "$@" >"$W/refuse.out" 2>&1 &&
		grep -q -- "--isolate domain with $1" "$W/refuse.out" || { cat "$W/refuse.out"; return 1; }
}
check "--isolate domain --port dpdk is refused, saying why" refused --port dpdk
check "--isolate domain --port dpdk-switch too" refused --port dpdk-switch
check "--isolate domain --dpdk-lcores 0 too" refused --dpdk-lcores 0
check "no worker crashed" sh -c "! grep -qE 'AddressSanitizer|runtime error|SIGSYS' '$W/net.log'"
t_done
