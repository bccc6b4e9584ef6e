# SPDX-License-Identifier: GPL-2.0-or-later
# Description: the domain library of tests/sim/net-*.sh (sourced, not run),
# on top of tap.sh: a private pvsim, pvback-net in a private network
# namespace (the backend netns: its TAP vifs, the test bridges and the
# hotplug scripts pvsim attach runs all live there), one network namespace
# per guest for its netfront-tool TAP, and the conditions scripts wait on.
# Nothing touches the machine's own networking; every namespace (and so
# every bridge and interface in it) and every process started here goes at
# exit, also when a test failed.  W is the test's directory, S the pvsim's
# in it, $W/net.log the daemon's log and $W/front-GUEST-IF.log each
# netfront's (shown when a test failed).  Needs root.
#
# Daemon    net_up [OPTS]               pvback-net --foreground OPTS in the backend netns as
#                                       dom0; returns once it answers (bails out after 10 s);
#                                       $PVBACK_TEST_OPTS go first (as backend-lib.sh's), but
#                                       not --isolate with --port dpdk* or --dpdk-lcores (said)
#           net_start [OPTS]            the same without waiting (netpid is its pid); the
#                                       binary is $NET_DAEMON when set (another build's)
#           net_stop                    SIGTERM, wait (SIGKILL after 30 s); its exit status
#           net_stats [ARGS]            `pvback-net stats ARGS` of the running daemon
# Netns     netns_add NAME              a namespace (loopback up), deleted at exit
#           ns_run NS CMD...            CMD in netns NS (`-`: the backend's)
#           be_ns CMD...                CMD in the backend netns
#           guest_ns GUEST              the name of GUEST's netns (made by guest_create)
#           in_guest GUEST CMD...       CMD in GUEST's netns, as domain GUEST (pvsim env GUEST)
#           dom0 CMD...                 CMD as dom0 (pvsim env), e.g. xenstore-read
# Bridges   bridge_add BR [ADDR/LEN] [MTU]  a bridge in the backend netns, up (and its address)
#           tap_add NS IF [BR]          a persistent TAP (vnet_hdr, multi-queue: pvback-net's
#                                       flags) in NS (`-`: the backend's), up, a port of BR
#           veth_add NS IF BR           a veth pair: IF in NS, its peer IF-br a port of BR
#           ns_no_ipv6 NS               no IPv6 in NS (no router or MLD chatter on its links)
#           master_of IF                the bridge backend interface IF is a port of (fails
#                                       when IF does not exist)
#           in_bridge IF BR             IF exists and is a port of BR (BR empty: of none)
#           link_up NS IF               IF in netns NS (`-` for the backend's) is administratively up
#           link_gone NS IF             IF does not exist in NS
#           link_mtu NS IF              IF's MTU in NS
# Guests    guest_create GUEST MEM      a pvsim guest and its netns (bails out when refused)
#           domid_of GUEST              its domid
#           vif_attach GUEST [--FLAG...] K=V...  `pvsim attach FLAGS GUEST vif K=V...` in the
#                                       backend netns (the hotplug script runs there); prints
#                                       the devid
#           vif_detach GUEST DEVID [--FLAG...]  `pvsim detach FLAGS GUEST vif DEVID`, same netns
#           vif_name GUEST DEVID        the backend's interface: vifname key, else vif<domid>.<devid>
#           be_path GUEST DEVID         /local/domain/0/backend/vif/<domid>/<devid>
#           be_read GUEST DEVID KEY     a backend key (fails when absent)
#           be_is GUEST DEVID KEY VAL   the backend key KEY is VAL
#           be_error GUEST DEVID        the backend's error node (error/backend/vif/...)
#           fe_read GUEST DEVID KEY     a frontend key
#           state_is GUEST DEVID N      the backend's state is N
#           be_gone GUEST DEVID         the backend directory is gone
#           linux_probe_keys MAXQ       the keys Linux 6.1's netback_probe writes ("KEY VALUE"
#                                       lines, sorted), with multi-queue-max-queues MAXQ
#           be_probe_keys GUEST DEVID   the backend's keys of that set, in the same form
# Frontend  net_requires_front          skip (exit 77) without netfront-tool
#           front_start GUEST IF [OPTS] [-- TAP_OPTS]  `netfront-tool OPTS tap TAP_OPTS IF` as
#                                       GUEST in its netns, in the background; returns once it
#                                       printed "ready" (1 after 30 s, or at once when it
#                                       exited); its pid in front_pid[GUEST/IF]
#           front_stop GUEST IF         SIGTERM it, wait; its exit status
#           guest_bg NAME GUEST CMD...  CMD as GUEST in its netns in the background, killed
#                                       at exit; pid (CMD's own) in bg_pid[NAME]
#           hotplug_connected           the hotplug script that only writes hotplug-status=
#                                       connected (scripts/pvback-vif-dpdk), for VIF_KEYS=
#                                       "script=..." when no interface is bridged: DPDK ports
#           guest_ip GUEST IF ADDR/LEN  give the guest's TAP an address and bring it up
#           vif_connect GUEST IF ADDR/LEN [OPTS]  attach a vif to the bridge $NET_BR (none
#                                       when empty; and $VIF_KEYS, e.g. "mtu=9000 rate=...",
#                                       with the attach flags $VIF_FLAGS, e.g. --no-script),
#                                       front_start, wait for Connected (4), guest_ip; the
#                                       devid in vif_devid (not in $(...): front_pid is kept)
# Traffic   ping_from NS ADDR [COUNT]   COUNT (3) pings from netns NS all answered
#           iperf_server NS [PORT]      a one-shot iperf3 server in NS, listening on return
#           iperf_client NS ADDR [PORT] [ARGS]  iperf3 -c ADDR -J ARGS from NS; prints the
#                                       received bits per second
#           tcp_verify FROM_NS TO_NS ADDR MIB [PORT]  MIB of random data over one TCP
#                                       connection (socat) from FROM_NS to ADDR in TO_NS;
#                                       succeeds when the sha256 of what arrived is what left
#           listening NS PORT           a TCP socket listens on PORT in NS
#           tun_fds_nonblocking PID     every /dev/net/tun fd of PID is O_NONBLOCK
#           bg_ns NAME NS CMD...        CMD in netns NS in the background, killed at exit;
#                                       pid in bg_pid[NAME]
#           frames_reflected NS IF N [MAC]  N frames of 60..1514 bytes (ethertype 0x88b5, each
#                                       with its own random payload) out of IF in NS, at most
#                                       32 unanswered; succeeds when each came back intact
#                                       exactly once within 10 s (with MAC, a peer that swaps
#                                       MACs: sent to MAC, back from it to IF's)
#           link_packets NS IF rx|tx    IF's packet counter in NS (`-`: the backend's)
# Guest TX  tx_accounting MIN           every queue's TX ring fully answered (req_prod ==
#                                       req_cons == rsp_prod, no slot busy), no page mapped,
#                                       no map error or slot violation, and at least MIN
#                                       packets sent zero copy (tx_mapped) over all vifs
#           raw_tx GUEST DEVID CASE...  `netfront-tool --devid DEVID raw CASE...` as GUEST (30 s
#                                       at most); its output in $W/raw.out and on stdout
#           raw_responses STATUS        the "response STATUS" lines of $W/raw.out (OKAY, ERROR)
#           vif_fatal GUEST DEVID REASON CASE...  raw_tx, then the vif fails: REASON in its
#                                       error node and in the log's "protocol violation: " line
# Hostile   net_hostile_setup [OPTS]   the hostile suites' start: the bridge $NET_BR (the host
#                                       $NET_PFX.1), net_up OPTS, the bystander g2 connected
#                                       ($NET_PFX.12), the offender g1's vif d1 waiting
#           attack GUEST DEVID MODE [ARGS]  `netfront-tool --devid DEVID attack ARGS MODE` as
#                                       GUEST (120 s at most); its output in $W/attack.out
#           frames_to_start MAC         frames to MAC out of the bridge $NET_BR, about 8000 a
#                                       second, until frames_to_stop (killed at exit)
#           res_mark, res_bounded RSS_KIB FDS, res_slack BINARY, daemon_rss, daemon_fds
#                                       the daemon's resources (hostile-lib.sh)
#           alive_and_bounded CASE      after CASE: the daemon answers, its VmRSS and fds
#                                       are back within bounds of res_mark's
# DPDK      net_requires_dpdk           skip (exit 77) when pvback-net was built without DPDK
#                                       (its --port dpdk and dpdk-switch then only fail)
#           veth_pair NS1 IF1 NS2 IF2   a veth pair, IF1 in NS1 and IF2 in NS2 (`-`: the
#                                       backend's), both up, no IPv6 chatter on either end
#           tx_offloads_off NS IF       IF sends no checksum-partial and no GSO frames (ethtool
#                                       -K IF tx off sg off tso off gso off, by ioctl): a
#                                       packet socket or XDP on its peer (DPDK's af_packet and
#                                       af_xdp) takes frames as they are, unfinished checksums
#                                       and 64 KiB super-frames included
#           testpmd_start NAME NS VDEV [TESTPMD_ARGS]  dpdk-testpmd on VDEV in netns NS, no
#                                       hugepages, its own --file-prefix, stdin /dev/null,
#                                       forwarding at once (default io; TESTPMD_ARGS after --,
#                                       e.g. --forward-mode=macswap) with stats every second,
#                                       log in $W/testpmd-NAME.log; returns once it forwards
#                                       (1 when it exited); pid in bg_pid[testpmd-NAME];
#                                       TESTPMD_EAL adds EAL options (default -l 0-1)
#           testpmd_stop NAME           SIGINT, wait (it prints its totals); its exit status
#           testpmd_total NAME KEY      KEY (RX-packets, TX-packets, RX-missed, TX-errors) of
#                                       port 0 in its last per-second report
#           testpmd_pps NAME Rx|Tx      the median of port 0's per-second Rx-pps / Tx-pps,
#                                       its first two seconds left out
# Variables NET_ID (prefix of this test's netns names), BE_NS, NET_BR (the bridge
#           vif_connect uses: br0), NET_PFX (10.99.0: the /24 tests put on it; every
#           namespace is private, so tests running at once do not collide).
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"
requires pvsim pvback-net xenstore-read xenstore-write xenstore-ls ip python3
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP network namespaces need root"
	exit 77
fi

W=$(mktemp -d /tmp/pvback-net-test.XXXXXX)
S=$W/sim
NET_ID=pvn$$
BE_NS=$NET_ID-be
NET_BR=br0
NET_PFX=10.99.0
netpid=
vif_devid=
net_nss=()
declare -A front_pid=() bg_pid=()
on_exit 'rm -rf "$W"'
t_pvsim_start "$S"

net_cleanup() {
	local p ns
	for p in "${front_pid[@]}" "${bg_pid[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${front_pid[@]}" "${bg_pid[@]}"; do
		wait "$p" 2>/dev/null
	done
	[ -z "$netpid" ] || daemon_end "$netpid" 2>/dev/null
	# The bridges and interfaces go with their namespace.
	for ns in "${net_nss[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	t_keep "$W"
	if t_failed; then
		for p in "$W"/net.log "$W"/front-*.log; do
			[ -f "$p" ] || continue
			echo "# ${p##*/}:"
			tail -40 "$p" | sed 's/^/# /'
		done
	fi
}
on_exit net_cleanup

# netns_add NAME: a namespace that goes at exit, with its loopback up.
netns_add() {
	ip netns add "$1" || bail_out "ip netns add $1"
	net_nss+=("$1")
	ip netns exec "$1" ip link set lo up
}
netns_add "$BE_NS"

be_ns() { ip netns exec "$BE_NS" "$@"; }
dom0() { (eval "$(pvsim --dir "$S" env)"; "$@"); }
guest_ns() { echo "$NET_ID-$1"; }
in_guest() {
	local g=$1; shift
	(eval "$(pvsim --dir "$S" env "$g")"; exec ip netns exec "$(guest_ns "$g")" "$@")
}

net_start() {
	local opts=${PVBACK_TEST_OPTS:-}
	# --isolate domain is refused with a port or workers that serve many
	# guests in one thread: those daemons run as the suite wrote them, and
	# the output says so.
	if [[ "$opts" == *isolate* && " $* " =~ \ --(port\ dpdk|dpdk-lcores) ]]; then
		echo "# PVBACK_TEST_OPTS='$opts' not applied to pvback-net $* (refused with dpdk" \
			"ports and polling workers)"
		opts=
	fi
	[ -z "$opts" ] || echo "# pvback-net with PVBACK_TEST_OPTS='$opts'"
	# shellcheck disable=SC2086 # word splitting of the options is meant
	(eval "$(pvsim --dir "$S" env)"; exec ip netns exec "$BE_NS" \
		"${NET_DAEMON:-pvback-net}" --foreground --log-level debug $opts "$@") \
		>>"$W/net.log" 2>&1 &
	netpid=$!
}
net_stats() { dom0 pvback-net stats "$@"; }
net_ready() { net_stats >/dev/null 2>&1; }
net_up() {
	net_start "$@"
	wait_until 10 net_ready || bail_out "pvback-net does not answer"
}
# daemon_end PID: SIGTERM, at most 30 s for it to end (then SIGKILL); its
# exit status (137 when it had to be killed).
daemon_end() {
	kill -TERM "$1" || return
	wait_until 30 t_not_running "$1" >/dev/null ||
		{ echo "# pid $1 did not end within 30 s of SIGTERM: killed"; kill -KILL "$1"; }
	wait "$1"
}
net_stop() {
	daemon_end "$netpid"; local rc=$?; netpid=; return $rc
}

# ns_run NS CMD...: CMD in netns NS; `-` is the backend's.
ns_run() {
	local ns=$1; shift
	[ "$ns" = - ] && ns=$BE_NS
	ip netns exec "$ns" "$@"
}
bridge_add() { # BR [ADDR/LEN] [MTU]
	be_ns ip link add "$1" type bridge || return 1
	[ -z "${3:-}" ] || be_ns ip link set dev "$1" mtu "$3" || return 1
	[ -z "${2:-}" ] || be_ns ip addr add "$2" dev "$1" || return 1
	be_ns ip link set dev "$1" up
}
tap_add() { # NS IF [BR]
	ns_run "$1" ip tuntap add dev "$2" mode tap vnet_hdr multi_queue || return 1
	[ -z "${3:-}" ] || ns_run "$1" ip link set dev "$2" master "$3" || return 1
	ns_run "$1" ip link set dev "$2" up
}
veth_add() { # NS IF BR
	be_ns ip link add "$2-br" type veth peer name "$2" netns "$1" || return 1
	be_ns ip link set dev "$2-br" master "$3" up && ns_run "$1" ip link set dev "$2" up
}
ns_no_ipv6() {
	ns_run "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}
master_of() {
	local l
	l=$(be_ns ip -o link show dev "$1") || return 1
	sed -n 's/.* master \([^ ]*\) .*/\1/p' <<<"$l"
}
in_bridge() {
	local m
	m=$(master_of "$1") || { echo "no interface $1"; return 1; }
	[ "$m" = "$2" ] || { echo "$1's master is '$m', not '$2'"; return 1; }
}
link_up() { ns_run "$1" ip -o link show dev "$2" | grep -Eq '[<,]UP[,>]'; }
link_gone() { ! ns_run "$1" ip link show dev "$2" >/dev/null 2>&1; }
link_mtu() { ns_run "$1" ip -o link show dev "$2" | sed -n 's/.* mtu \([0-9]*\) .*/\1/p'; }

guest_create() {
	pvsim --dir "$S" create "$1" --mem "$2" >/dev/null || bail_out "pvsim create $1"
	netns_add "$(guest_ns "$1")"
}
domid_of() { pvsim --dir "$S" env "$1" | sed -n 's/.*PVSIM_DOMID=\([0-9]*\).*/\1/p'; }
vif_attach() {
	local g=$1 flags=()
	shift
	while [ $# -gt 0 ] && [ "${1#--}" != "$1" ]; do flags+=("$1"); shift; done
	be_ns pvsim --dir "$S" attach "${flags[@]}" "$g" vif "$@"
}
vif_detach() { be_ns pvsim --dir "$S" detach "${@:3}" "$1" vif "$2"; }
be_path() { echo "/local/domain/0/backend/vif/$(domid_of "$1")/$2"; }
be_read() { dom0 xenstore-read "$(be_path "$1" "$2")/$3" 2>/dev/null; }
be_error() { dom0 xenstore-read "/local/domain/0/error/backend/vif/$(domid_of "$1")/$2/error"; }
fe_read() { dom0 xenstore-read "/local/domain/$(domid_of "$1")/device/vif/$2/$3" 2>/dev/null; }
be_is() {
	local v
	v=$(be_read "$1" "$2" "$3")
	[ "$v" = "$4" ] || { echo "$3 is '$v', not '$4'"; return 1; }
}
state_is() { [ "$(be_read "$1" "$2" state)" = "$3" ]; }
be_gone() { ! dom0 xenstore-read "$(be_path "$1" "$2")/state" >/dev/null 2>&1; }
# netback_probe (drivers/net/xen-netback/xenbus.c, v6.1): its transaction
# (feature-sg, -gso-tcpv4/6, -ipv6-csum-offload, -rx-copy, -xdp-headroom,
# -rx-flip, -multicast-control, -dynamic-multicast-control), then
# feature-split-event-channels, multi-queue-max-queues, feature-ctrl-ring.
linux_probe_keys() {
	sort <<EOF
feature-sg 1
feature-gso-tcpv4 1
feature-gso-tcpv6 1
feature-ipv6-csum-offload 1
feature-rx-copy 1
feature-xdp-headroom 1
feature-rx-flip 0
feature-multicast-control 1
feature-dynamic-multicast-control 1
feature-split-event-channels 1
multi-queue-max-queues $1
feature-ctrl-ring 1
EOF
}
be_probe_keys() {
	dom0 xenstore-ls "$(be_path "$1" "$2")" |
		sed -nE 's/^(feature-[a-z0-9-]*|multi-queue-max-queues) = "(.*)"$/\1 \2/p' | sort
}
vif_name() {
	local n
	n=$(be_read "$1" "$2" vifname) && [ -n "$n" ] && { echo "$n"; return; }
	echo "vif$(domid_of "$1").$2"
}

net_requires_front() { requires netfront-tool; }
front_start() { # GUEST IF [OPTS] [-- TAP_OPTS]
	local g=$1 ifn=$2 log=$W/front-$1-$2.log opts=() tapopts=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	tapopts=("$@")
	: >"$log"
	# exec all the way down: $! is netfront-tool itself.
	(eval "$(pvsim --dir "$S" env "$g")"; exec ip netns exec "$(guest_ns "$g")" \
		netfront-tool "${opts[@]}" tap "${tapopts[@]}" "$ifn") >"$log" 2>&1 &
	front_pid[$g/$ifn]=$!
	wait_until 30 front_settled "$g" "$ifn"
	grep -qx ready "$log" || { echo "netfront-tool did not start:"; cat "$log"; return 1; }
}
front_settled() { grep -qx ready "$W/front-$1-$2.log" || t_not_running "${front_pid[$1/$2]}"; }
front_stop() {
	local k=$1/$2 rc
	kill -TERM "${front_pid[$k]}"
	wait "${front_pid[$k]}"
	rc=$?
	unset "front_pid[$k]"
	return $rc
}
guest_bg() { # NAME GUEST CMD...
	local name=$1 g=$2
	shift 2
	(eval "$(pvsim --dir "$S" env "$g")"; exec ip netns exec "$(guest_ns "$g")" "$@") &
	bg_pid[$name]=$!
}
hotplug_connected() { echo pvback-vif-dpdk; }
guest_ip() {
	in_guest "$1" ip addr add "$3" dev "$2" && in_guest "$1" ip link set dev "$2" up
}
vif_connect() { # GUEST IF ADDR/LEN [OPTS]
	local g=$1 ifn=$2 addr=$3
	shift 3
	# shellcheck disable=SC2086 # VIF_FLAGS, VIF_KEYS: words for the attach
	vif_devid=$(vif_attach "$g" ${VIF_FLAGS:-} ${NET_BR:+bridge="$NET_BR"} ${VIF_KEYS:-}) ||
		return 1
	front_start "$g" "$ifn" --devid "$vif_devid" "$@" || { vif_log "$g" "$vif_devid"; return 1; }
	wait_until 10 state_is "$g" "$vif_devid" 4 || { vif_log "$g" "$vif_devid"; return 1; }
	guest_ip "$g" "$ifn" "$addr"
}
# vif_log GUEST DEVID: what the daemon logged of that vif (why a connect failed).
vif_log() {
	echo "# net.log of vif-$(domid_of "$1")-$2:"
	grep -F "vif-$(domid_of "$1")-$2" "$W/net.log" | tail -20
}

# tun_fds_nonblocking PID: every /dev/net/tun fd of PID is O_NONBLOCK (at
# least one).  io_uring issues a non-blocking TAP's requests at once, in
# order, and polls for reads; a blocking TAP sent every request to an io-wq
# worker thread on kernels whose tun lacks FMODE_NOWAIT (Debian 12's 6.1,
# a Xen dom0), reordering frames.
tun_fds_nonblocking() {
	local fd n=0 flags
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd")" = /dev/net/tun ] || continue
		flags=$(sed -n 's/^flags:[[:space:]]*//p' "/proc/$1/fdinfo/${fd##*/}")
		(( 8#$flags & 04000 )) || { echo "fd ${fd##*/} of $1: flags $flags, not O_NONBLOCK"; return 1; }
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || { echo "no /dev/net/tun fd in $1"; return 1; }
}

bg_ns() { # NAME NS CMD...
	local name=$1 ns=$2
	shift 2
	[ "$ns" = - ] && ns=$BE_NS
	(exec ip netns exec "$ns" "$@") &
	bg_pid[$name]=$!
}
ping_from() { # NS ADDR [COUNT]
	local n=${3:-3} out
	out=$(ns_run "$1" ping -n -c "$n" -i 0.2 -W 2 "$2" 2>&1)
	grep -q " $n received" <<<"$out" || { echo "$out"; return 1; }
}
listening() { ns_run "$1" ss -Htln "sport = :$2" | grep -q .; }
iperf_server() { # NS [PORT]
	local port=${2:-5201}
	bg_ns "iperf-$1-$port" "$1" iperf3 -s -1 -p "$port" >>"$W/iperf-server.log" 2>&1
	wait_until 10 listening "$1" "$port"
}
iperf_client() { # NS ADDR [PORT] [ARGS]
	local ns=$1 addr=$2 port=${3:-5201}
	shift $(($# < 3 ? $# : 3))
	ns_run "$ns" timeout 120 iperf3 -c "$addr" -p "$port" -J "$@" >"$W/iperf.json" || {
		cat "$W/iperf.json"; return 1; }
	python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"]))' \
		"$W/iperf.json"
}
tcp_verify() { # FROM_NS TO_NS ADDR MIB [PORT]
	local from=$1 to=$2 addr=$3 mib=$4 port=${5:-5301} rx=$W/tcp-rx.bin tx=$W/tcp-tx.bin
	local k=socat-$port a b rc=0
	head -c "$((mib << 20))" /dev/urandom >"$tx"
	rm -f "$rx"
	bg_ns "$k" "$to" timeout 120 socat -u TCP-LISTEN:"$port",reuseaddr OPEN:"$rx",creat,trunc
	wait_until 10 listening "$to" "$port" &&
		ns_run "$from" timeout 120 socat -u OPEN:"$tx" TCP:"$addr":"$port" || rc=1
	# The receiver ends with the connection; when the sender failed, end it.
	[ "$rc" = 0 ] || kill "${bg_pid[$k]}" 2>/dev/null
	wait "${bg_pid[$k]}" || rc=1
	unset "bg_pid[$k]"
	[ "$rc" = 0 ] || return 1
	a=$(sha256sum <"$tx") b=$(sha256sum <"$rx")
	[ "$a" = "$b" ] || { echo "sent $(stat -c %s "$tx") bytes ($a), received" \
		"$(stat -c %s "$rx") ($b)"; return 1; }
}

# frames_reflected NS IF N [MAC]: what left IF came back, each frame once.
frames_reflected() {
	ns_run "$1" timeout 30 python3 - "$2" "$3" "${4:-}" <<'PY'
import os, select, socket, sys, time
ifn, n, peer = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ETH_P = 0x88b5
mine = bytes.fromhex(open("/sys/class/net/%s/address" % ifn).read().strip().replace(":", ""))
dst = bytes.fromhex(peer.replace(":", "")) if peer else b"\x02\x00\x00\x00\x00\xfe"
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P))
s.bind((ifn, ETH_P))
sent, back, bad, dups = {}, set(), 0, 0
def frame(i):
    size = 60 + (i * 97) % 1455
    body = i.to_bytes(4, "big") + os.urandom(size - 18)
    return dst + mine + ETH_P.to_bytes(2, "big") + body
def expect(f):
    i = int.from_bytes(f[14:18], "big")
    want = sent.get(i)
    if want is None:
        return None
    if peer:  # a MAC swapper: back to us from the peer
        want = mine + dst + want[12:]
    return i if f == want else -1
i, deadline = 0, time.time() + 10
while len(back) < n and time.time() < deadline:
    while i < n and i - len(back) < 32:
        sent[i] = frame(i)
        s.send(sent[i])
        i += 1
    if not select.select([s], [], [], 0.2)[0]:
        continue
    f, addr = s.recvfrom(65536)
    if addr[2] == socket.PACKET_OUTGOING:
        continue
    k = expect(f)
    if k is None or k < 0:
        bad += 1
        if bad <= 3:
            i0 = int.from_bytes(f[14:18], "big")
            w = sent.get(i0, b"")
            print("unexpected: %d bytes %s, frame %d was %d bytes %s" % (
                len(f), f[:20].hex(), i0, len(w), w[:20].hex()))
    elif k in back:
        dups += 1
    else:
        back.add(k)
print("%d sent, %d back intact, %d damaged or foreign, %d duplicates" % (i, len(back), bad, dups))
sys.exit(0 if len(back) == n and not bad and not dups else 1)
PY
}
link_packets() { # NS IF rx|tx
	ns_run "$1" cat "/sys/class/net/$2/statistics/$3_packets"
}

# ---------------------------------------------------------------- DPDK
# The DPDK ports (--port dpdk, dpdk-switch) and dpdk-testpmd as their peer.
net_requires_dpdk() {
	# The binary itself: its --help lists the dpdk ports either way.
	grep -qa rte_eal_init "$(command -v pvback-net)" || {
		echo "1..0 # SKIP pvback-net was built without DPDK (libdpdk-dev)"
		exit 77
	}
}
veth_pair() { # NS1 IF1 NS2 IF2
	local ns1=$1 ns2=$3
	[ "$ns1" = - ] && ns1=$BE_NS
	[ "$ns2" = - ] && ns2=$BE_NS
	ip link add "$2" netns "$ns1" type veth peer name "$4" netns "$ns2" || return 1
	ns_no_ipv6 "$ns1" && ns_no_ipv6 "$ns2" &&
		ns_run "$ns1" ip link set dev "$2" up && ns_run "$ns2" ip link set dev "$4" up
}
tx_offloads_off() { # NS IF
	ns_run "$1" python3 - "$2" <<'PY'
import array, fcntl, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for cmd in (0x17, 0x19, 0x1f, 0x24):  # ETHTOOL_STXCSUM, _SSG, _STSO, _SGSO
    val = array.array("B", struct.pack("II", cmd, 0))
    ifr = struct.pack("16sP16x", sys.argv[1].encode(), val.buffer_info()[0])
    fcntl.ioctl(s, 0x8946, ifr)  # SIOCETHTOOL
PY
}
testpmd_start() { # NAME NS VDEV [TESTPMD_ARGS]
	local name=$1 ns=$2 vdev=$3 log=$W/testpmd-$1.log
	shift 3
	: >"$log"
	# shellcheck disable=SC2086 # TESTPMD_EAL: EAL words
	# stdbuf: its stdout is a file; the line we wait for must not sit in a buffer.
	bg_ns "testpmd-$name" "$ns" stdbuf -oL dpdk-testpmd ${TESTPMD_EAL:--l 0-1} --no-huge -m 512 \
		--no-shconf --single-file-segments --no-pci --file-prefix="$NET_ID-$name" \
		--vdev="$vdev" -- --total-num-mbufs=16384 --stats-period=1 -a "$@" \
		</dev/null >"$log" 2>&1
	wait_until 30 testpmd_settled "$name"
	testpmd_forwarding "$name" || { echo "dpdk-testpmd $name did not start:"; tail -20 "$log"; return 1; }
}
testpmd_forwarding() { grep -q 'packet forwarding - ports=' "$W/testpmd-$1.log"; }
testpmd_settled() { testpmd_forwarding "$1" || t_not_running "${bg_pid[testpmd-$1]}"; }
testpmd_stop() {
	local k=testpmd-$1 rc
	kill -INT "${bg_pid[$k]}"
	wait "${bg_pid[$k]}"
	rc=$?
	unset "bg_pid[$k]"
	return $rc
}
testpmd_total() { # NAME KEY
	awk -v k="$2:" '/NIC statistics for port 0/ { n = 1; next }
		n { for (i = 1; i < NF; i++) if ($i == k) v = $(i + 1) }
		/^ *#+ *$/ { n = 0 } END { print v + 0 }' "$W/testpmd-$1.log"
}
testpmd_pps() { # NAME Rx|Tx
	grep -o "$2-pps: *[0-9]*" "$W/testpmd-$1.log" | awk '{ print $2 }' |
		sed -n '3,$p' | sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 0 }'
}

# ------------------------------------------------------------ guest TX
tx_accounting() { # MIN
	net_stats --json >"$W/acct.json" || return 1
	python3 - "$W/acct.json" "$1" <<'PY'
import json, sys
ok, mapped = True, 0
for d in json.load(open(sys.argv[1]))["devices"]:
    # total: the queues and the vif's past connections
    mapped += d["total"]["tx_mapped"]
    for q in d["queues"] + [dict(d["total"], index="total")]:
        t = q.get("tx_ring", {})
        if not (t.get("ring_req_cons") == t.get("ring_rsp_prod") == t.get("ring_req_prod") and
                t.get("ring_slots_busy", 0) == 0 and q["tx_maps_inflight"] == 0 and
                q["tx_map_errors"] == 0 and q["tx_slot_violations"] == 0):
            print(d["name"], q["index"], json.dumps(q))
            ok = False
print("mapped packets:", mapped)
sys.exit(0 if ok and mapped >= int(sys.argv[2]) else 1)
PY
}
raw_tx() { # GUEST DEVID CASE...
	local g=$1 d=$2
	shift 2
	in_guest "$g" timeout 30 netfront-tool --devid "$d" raw "$@" >"$W/raw.out" 2>&1
	cat "$W/raw.out"
}
raw_responses() { grep -c "^response $1" "$W/raw.out"; }
net_hostile_setup() {
	bridge_add "$NET_BR" "$NET_PFX.1/24"
	net_up "$@"
	guest_create g1 128M
	guest_create g2 128M
	check "the bystander g2 connects" vif_connect g2 eth0 "$NET_PFX.12/24"
	d1=$(vif_attach g1 bridge="$NET_BR")
	check "the offender's vif is waiting" wait_until 10 state_is g1 "$d1" 2
}
attack() { # GUEST DEVID MODE [ARGS]
	local g=$1 d=$2 mode=$3
	shift 3
	in_guest "$g" timeout 120 netfront-tool --devid "$d" attack "$@" "$mode" >"$W/attack.out" 2>&1
}
frames_to_start() { # MAC
	bg_ns frames - python3 -c '
import os, socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
f = bytes.fromhex(sys.argv[2].replace(":", "")) + b"\x02\x00\x00\x00\x00\xfd\x88\xb5" + os.urandom(186)
while True:
    for i in range(16):
        try:
            s.send(f)
        except OSError:  # the queue is full: the next burst
            break
    time.sleep(0.002)  # pacing, not synchronisation
' "$NET_BR" "$1"
}
frames_to_stop() { kill "${bg_pid[frames]}"; wait "${bg_pid[frames]}" 2>/dev/null; unset "bg_pid[frames]"; }
res_pid() { echo "$netpid"; }
BE_LOG=net.log
. "$(dirname "${BASH_SOURCE[0]}")/hostile-lib.sh"
alive_and_bounded() { # CASE
	check "$1: the daemon answers" net_ready
	check "$1: VmRSS and fds back within bounds" wait_until 10 res_bounded "$(res_slack pvback-net)" 8
}
be_error_has() { be_error "$1" "$2" 2>/dev/null | grep -qF "$3"; } # GUEST DEVID TEXT
vif_fatal() { # GUEST DEVID REASON CASE...
	local g=$1 d=$2 reason=$3
	shift 3
	raw_tx "$g" "$d" "$@" >/dev/null
	wait_until 10 be_error_has "$g" "$d" "$reason" &&
		grep 'protocol violation: ' "$W/net.log" | grep -qF "$reason"
}
