#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: the protocol side of Linux 6.1's xen-netback that pvback-net
# claims, seen from a userspace netfront (netfront-tool tap --rx-log
# --control) on pvsim, with frames built by hand on the host's bridge:
#  - `pvsim attach` with scripts/pvback-vif-bridge: the backend's keys are
#    exactly what libxl writes plus what netback_probe writes, it waits in
#    InitWait for hotplug-status=connected, writes nothing more at connect;
#    the vif is in the bridge and carries traffic;
#  - a frontend that goes Initialising -> Connected (never Initialised, as
#    Linux netfront) is connected;
#  - Reconfiguring with xdp-headroom 128: the backend answers Reconfigured
#    (then Connected again after the frontend's Connected: Linux stays
#    Reconfigured), and guest RX carries its data at offset 128 with
#    Linux's XDP extra; back to 0;
#  - the ctrl ring: each of the 7 hash messages with the status Linux 6.1's
#    hash.c gives, and the Toeplitz hash of Microsoft's RSS verification
#    suite (IPv4/IPv6, with and without ports) in the HASH extra;
#  - multicast control: the filter (unlisted group dropped, listed passes,
#    broadcast always), request-multicast-control switched while connected,
#    Linux's list (duplicates are entries, a del of an absent address is
#    fine, 64 at most: the 65th add is refused and the filter stays on);
#  - `pvsim detach`: the frontend sees the backend go, the vif leaves the
#    bridge and the backend directory goes.
# Regressions: SET_HASH_FLAGS without an algorithm and an oversized key
# answered NOT_SUPPORTED / BUFFER_OVERFLOW (Linux: INVALID_PARAMETER);
# request-multicast-control not watched while connected; a duplicate add
# not counted; netfront's reconfigure waiting for a Connected that Linux
# netback never writes.
. "$(dirname "$0")/net-lib.sh"
net_requires_front
requires xenstore-ls

script=$T_TOP/scripts/pvback-vif-bridge
bridge_add "$NET_BR" "$NET_PFX.1/24"
net_up --max-queues 4
guest_create g1 64M
guest_create g2 64M

# ---------------------------------------------------------------- helpers

# Frames onto the bridge from the host, one spec a line on stdin:
#   v4|v6 tcp|udp SRC DST SPORT DPORT TAG   to the guest's address DSTMAC
#   eth MAC TAG                             ethertype 0x88b5 to MAC
# each ending with the 4 bytes of TAG (hex), which --rx-log prints as tail=.
cat >"$W/inject.py" <<'PY'
import socket, struct, sys
ifname, gmac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", ""))
src_mac = bytes.fromhex("020000000001")
def csum(b):
    if len(b) & 1: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
for line in sys.stdin:
    w = line.split()
    if not w: continue
    tag = bytes.fromhex(w[-1])
    if w[0] == "eth":
        s.send(bytes.fromhex(w[1].replace(":", "")) + src_mac + b"\x88\xb5" + b"\0" * 46 + tag)
        continue
    v6, tcp = w[0] == "v6", w[1] == "tcp"
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    sa, da = socket.inet_pton(fam, w[2]), socket.inet_pton(fam, w[3])
    sp, dp = int(w[4]), int(w[5])
    pay = b"pvback rss" + tag
    if tcp:
        l4 = struct.pack("!HHIIBBHHH", sp, dp, 1, 0, 5 << 4, 0x02, 8192, 0, 0) + pay
    else:
        l4 = struct.pack("!HHHH", sp, dp, 8 + len(pay), 0) + pay
    proto = 6 if tcp else 17
    if v6:
        ip = struct.pack("!IHBB", 6 << 28, len(l4), proto, 64) + sa + da
        et = b"\x86\xdd"
    else:
        h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0, 64, proto, 0, sa, da)
        ip = h[:10] + struct.pack("!H", csum(h)) + h[12:]
        et = b"\x08\x00"
    s.send(gmac + src_mac + et + ip + l4)
PY
inject() { be_ns python3 "$W/inject.py" "$NET_BR" "$1"; }
rxlog() { echo "$W/rx-$1.log"; }
# The --rx-log line of the frame tagged TAG to GUEST (fails until it came).
rx_line() { grep -m1 "tail=$2 " "$(rxlog "$1")"; }
rx_came() { rx_line "$@" >/dev/null; }
# FIELD=VALUE of that line.
rx_field() {
	local l
	l=$(rx_line "$1" "$2") || { echo "no frame tagged $2"; return 1; }
	sed -nE "s/.* $3=([^ ]*).*/\1/p" <<<"$l"
}
rx_is() { # GUEST TAG FIELD VALUE
	local v
	v=$(rx_field "$1" "$2" "$3") || return 1
	[ "$v" = "$4" ] || { echo "$3 is '$v', not '$4' in: $(rx_line "$1" "$2")"; return 1; }
}
# Frames that must not arrive are sent before a broadcast sentinel on the
# same path: once the sentinel came, so would have they.
seq_tag=0
new_tag() { seq_tag=$((seq_tag + 1)); tag=$(printf 'c0de%04x' "$seq_tag"); }
sentinel() { # GUEST: a broadcast after whatever was sent, seen by GUEST
	new_tag
	echo "eth ff:ff:ff:ff:ff:ff $tag" | inject ff:ff:ff:ff:ff:ff &&
		wait_until 5 rx_came "$1" "$tag"
}

# The control FIFO of GUEST's netfront-tool: CTL_REPLY is the reply to the
# command (what follows "control N: ").
declare -A ctl_n=()
CTL_REPLY=
ctl() { # GUEST CMD...
	local g=$1 n
	shift
	n=$((${ctl_n[$g]:-0} + 1))
	ctl_n[$g]=$n
	CTL_REPLY=
	timeout 5 bash -c 'printf "%s\n" "$1" >"$2"' _ "$*" "$W/ctl-$g" || return 1
	wait_until 10 grep -q "^control $n: " "$W/front-$g-eth0.log" || return 1
	CTL_REPLY=$(sed -n "s/^control $n: //p" "$W/front-$g-eth0.log")
}
ctl_is() { # GUEST "CMD" REPLY
	local cmd=$2
	# shellcheck disable=SC2086 # CMD: words
	ctl "$1" $cmd || return 1
	[ "$CTL_REPLY" = "$3" ] || { echo "'$cmd' answered '$CTL_REPLY', not '$3'"; return 1; }
}
logged() { grep -qF -- "$1" "$W/net.log"; }
not_logged() { ! grep -qF -- "$1" "$W/net.log" || { grep -F -- "$1" "$W/net.log"; return 1; }; }
be_key_names() {
	dom0 xenstore-ls "$(be_path "$1" "$2")" | sed -nE 's/^([a-z0-9-]+) = .*/\1/p' | sort
}
fe_state_is() { [ "$(fe_read "$1" "$2" state)" = "$3" ]; }

# ------------------------------------------- handshake keys, no Initialised

d1=$(vif_attach g1 bridge="$NET_BR" script="$script")
check "attach g1 vif bridge=br0 with pvback-vif-bridge succeeds" test "$d1" = 0
vif1=$(vif_name g1 "$d1")
# What libxl writes into the backend directory (libxl__device_nic_add and
# the generic device keys), then netback_probe's keys.
libxl_keys="bridge frontend frontend-id handle hotplug-status mac online script state type"
expected_keys() {
	{ printf '%s\n' $libxl_keys; linux_probe_keys 4 | cut -d' ' -f1; } | sort
}
check "the backend's keys are libxl's plus Linux netback_probe's, no other" \
	diff -u <(expected_keys) <(be_key_names g1 "$d1")
check "the probe keys have Linux's values (multi-queue-max-queues 4)" \
	diff -u <(linux_probe_keys 4) <(be_probe_keys g1 "$d1")
check "the backend waits in InitWait (2)" state_is g1 "$d1" 2
check "pvback-vif-bridge put $vif1 into br0" in_bridge "$vif1" "$NET_BR"
check "and wrote hotplug-status=connected" be_is g1 "$d1" hotplug-status connected

mkfifo "$W/ctl-g1" "$W/ctl-g2"
check "g1's netfront (mcast control, ctrl ring) connects" \
	front_start g1 eth0 --devid "$d1" --mcast-control --ctrl-ring \
	-- --rx-log "$(rxlog g1)" --control "$W/ctl-g1"
check "the backend is Connected (4)" wait_until 10 state_is g1 "$d1" 4
check "so is the frontend" fe_state_is g1 "$d1" 4
state_is g1 "$d1" 4 || bail_out "g1 did not connect"
fe=vif-$(domid_of g1)-$d1
check "the frontend went Initialising -> Connected: the backend saw no Initialised" \
	not_logged "$fe: frontend Initialised"
check "and connected on the frontend's Connected while in InitWait" \
	logged "$fe: frontend Connected (we are InitWait)"
check "the daemon logged the connection" logged "$fe: connected: 1 queue(s)"
check "connect wrote no backend key beyond those" \
	diff -u <(expected_keys) <(be_key_names g1 "$d1")
check "the frontend's keys include request-multicast-control=1 and a ctrl ring" \
	test "$(fe_read g1 "$d1" request-multicast-control)" = 1 -a -n "$(fe_read g1 "$d1" ctrl-ring-ref)"
guest_ip g1 eth0 "$NET_PFX.11/24"
check "ping host -> guest through pvback-vif-bridge's bridge" ping_from - "$NET_PFX.11"
check "ping guest -> host" ping_from "$(guest_ns g1)" "$NET_PFX.1"
gmac=$(fe_read g1 "$d1" mac)

# ------------------------------------------------------- XDP headroom

check "without headroom, guest RX data starts at offset 0 with no XDP extra" \
	sentinel g1
check "(offset 0, xdp 0)" rx_is g1 "$tag" offset 0
check "(no XDP extra: bit 5 clear)" rx_is g1 "$tag" xdp 0
check "reconfigure xdp-headroom 128 (Reconfiguring) returns" ctl g1 reconfigure 128
check "once the backend answered Reconfigured (8)" \
	logged "$fe: state Connected -> Reconfigured"
check "it read xdp-headroom 128" logged "$fe: reconfigured: xdp-headroom 128"
check "the frontend wrote xdp-headroom=128" test "$(fe_read g1 "$d1" xdp-headroom)" = 128
check "the frontend is Connected again (7 -> 4)" fe_state_is g1 "$d1" 4
# Linux 6.1's netback stays Reconfigured; ours follows the frontend back.
check "pvback-net goes back to Connected after the frontend's Connected (Linux stays in 8)" \
	wait_until 10 state_is g1 "$d1" 4
check "guest RX with headroom arrives" sentinel g1
check "its data at offset 128 of the page" rx_is g1 "$tag" offset 128
check "its response's offset field 0, as Linux's netback" rx_is g1 "$tag" rsp_offset 0
check "with Linux's XDP extra saying 128" rx_is g1 "$tag" xdp 128
check "(extras: XDP only)" rx_is g1 "$tag" extras 0x20
check "traffic is intact with headroom: 4 MiB host -> guest" \
	tcp_verify - "$(guest_ns g1)" "$NET_PFX.11" 4 5911
check "reconfigure back to 0" ctl g1 reconfigure 0
check "(the backend read 0)" logged "$fe: reconfigured: xdp-headroom 0"
check "and is Connected" wait_until 10 state_is g1 "$d1" 4
check "guest RX is back at offset 0" sentinel g1
check "without the XDP extra" rx_is g1 "$tag" extras 0x0
check "(offset 0)" rx_is g1 "$tag" offset 0

# ------------------------------------------------------------ ctrl ring

# Types: 1 GET_HASH_FLAGS, 2 SET_HASH_FLAGS, 3 SET_HASH_KEY,
# 4 GET_HASH_MAPPING_SIZE, 5 SET_HASH_MAPPING_SIZE, 6 SET_HASH_MAPPING,
# 7 SET_HASH_ALGORITHM.  Statuses: 0 SUCCESS, 1 NOT_SUPPORTED,
# 2 INVALID_PARAMETER.
check "GET_HASH_FLAGS without an algorithm: NOT_SUPPORTED" \
	ctl_is g1 "ctrl 1" "ctrl 1 status 1 data 0"
check "SET_HASH_FLAGS without an algorithm: INVALID_PARAMETER (as Linux)" \
	ctl_is g1 "ctrl 2 1" "ctrl 2 status 2 data 0"
check "SET_HASH_ALGORITHM 9: INVALID_PARAMETER" ctl_is g1 "ctrl 7 9" "ctrl 7 status 2 data 0"
check "SET_HASH_ALGORITHM TOEPLITZ: SUCCESS" ctl_is g1 "ctrl 7 1" "ctrl 7 status 0 data 0"
check "GET_HASH_FLAGS: SUCCESS, the four types (15)" ctl_is g1 "ctrl 1" "ctrl 1 status 0 data 15"
check "SET_HASH_FLAGS with an unknown type bit: INVALID_PARAMETER" \
	ctl_is g1 "ctrl 2 0x10" "ctrl 2 status 2 data 0"
check "SET_HASH_KEY of 41 octets: INVALID_PARAMETER (as Linux, not BUFFER_OVERFLOW)" \
	ctl_is g1 "ctrl 3 0 41" "ctrl 3 status 2 data 0"
check "SET_HASH_KEY from a grant never made: INVALID_PARAMETER" \
	ctl_is g1 "ctrl 3 0x7ffffff0 40" "ctrl 3 status 2 data 0"
rss_key=6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa
check "SET_HASH_KEY with Microsoft's RSS key (granted page): SUCCESS" \
	ctl_is g1 "hash-key $rss_key" "hash-key status 0"
check "GET_HASH_MAPPING_SIZE: SUCCESS, 128 entries" ctl_is g1 "ctrl 4" "ctrl 4 status 0 data 128"
check "SET_HASH_MAPPING_SIZE 129: INVALID_PARAMETER" ctl_is g1 "ctrl 5 129" "ctrl 5 status 2 data 0"
check "SET_HASH_MAPPING_SIZE 8: SUCCESS" ctl_is g1 "ctrl 5 8" "ctrl 5 status 0 data 0"
check "SET_HASH_MAPPING of 2 entries at 7 of 8: INVALID_PARAMETER" \
	ctl_is g1 "hash-mapping 7 0 0" "hash-mapping status 2"
check "SET_HASH_MAPPING naming queue 1 of a 1-queue vif: INVALID_PARAMETER" \
	ctl_is g1 "hash-mapping 0 1" "hash-mapping status 2"
check "SET_HASH_MAPPING of 8 entries: SUCCESS" \
	ctl_is g1 "hash-mapping 0 0 0 0 0 0 0 0 0" "hash-mapping status 0"
check "an unknown message (99): NOT_SUPPORTED" ctl_is g1 "ctrl 99" "ctrl 99 status 1 data 0"
check "ADD_GREF_MAPPING (9): NOT_SUPPORTED" ctl_is g1 "ctrl 9" "ctrl 9 status 1 data 0"
check "SET_HASH_FLAGS all four: SUCCESS" ctl_is g1 "ctrl 2 15" "ctrl 2 status 0 data 0"

# Microsoft's RSS verification suite ("Verifying the RSS Hash
# Calculation"): source, destination, ports, then the hash with ports
# (TCP: L4 type) and without (UDP: only the addresses are hashed).
# Type index: 0 IPv4, 1 IPv4+TCP, 2 IPv6, 3 IPv6+TCP.
rss_vectors="v4 66.9.149.187 161.142.100.80 2794 1766 51ccc178 323e8fc2
v4 199.92.111.2 65.69.140.83 14230 4739 c626b0ea d718262a
v4 24.19.198.95 12.22.207.184 12898 38024 5c2b394a d2d0a5de
v4 38.27.205.30 209.142.163.6 48228 2217 afc7327f 82989176
v4 153.39.163.191 202.188.127.2 44251 1303 10e828a2 5d1809c5
v6 3ffe:2501:200:1fff::7 3ffe:2501:200:3::1 2794 1766 40207d3d 2cc18cd5
v6 3ffe:501:8::260:97ff:fe40:efab ff02::1 14230 4739 dde51bbf 0f0c461c
v6 3ffe:1900:4545:3:200:f8ff:fe21:67cf fe80::200:f8ff:fe21:67cf 44251 38024 02d1feef 4b61e985"
specs=() tags=()
while read -r v src dst sp dp l4 l3; do
	for p in tcp udp; do
		new_tag
		specs+=("$v $p $src $dst $sp $dp $tag")
		tags+=("$tag $v $p $src $([ $p = tcp ] && echo "$l4" || echo "$l3")")
	done
done <<<"$rss_vectors"
printf '%s\n' "${specs[@]}" | inject "$gmac"
for t in "${tags[@]}"; do
	read -r tg v p src want <<<"$t"
	case $v/$p in v4/tcp) ty=1 ;; v4/udp) ty=0 ;; v6/tcp) ty=3 ;; v6/udp) ty=2 ;; esac
	wait_until 5 rx_came g1 "$tg" >/dev/null
	check "Toeplitz $v $p from $src: HASH extra 0x$want, type $ty, Toeplitz" \
		rx_is g1 "$tg" hash "0x$want/$ty/1"
done
check "SET_HASH_FLAGS IPv4+TCP only: SUCCESS" ctl_is g1 "ctrl 2 2" "ctrl 2 status 0 data 0"
new_tag
echo "v4 udp 10.1.1.1 10.1.1.2 1000 2000 $tag" | inject "$gmac"
check "an IPv4 UDP frame then comes without a HASH extra" wait_until 5 rx_came g1 "$tag"
check "(no HASH extra)" rx_is g1 "$tag" extras 0x0
check "SET_HASH_ALGORITHM NONE: SUCCESS" ctl_is g1 "ctrl 7 0" "ctrl 7 status 0 data 0"
new_tag
echo "v4 tcp 10.1.1.1 10.1.1.2 1000 2000 $tag" | inject "$gmac"
check "a TCP frame then comes without a HASH extra" wait_until 5 rx_came g1 "$tag"
check "(no HASH extra either)" rx_is g1 "$tag" extras 0x0

# ------------------------------------------------------ multicast control

g1_group=01:00:5e:01:02:03
g2_group=01:00:5e:01:02:04
mcast_frame() { # GUEST MAC: a frame to MAC, then the sentinel; its tag in mtag
	new_tag
	mtag=$tag
	echo "eth $2 $mtag" | inject "$2" && sentinel "$1"
}
passes() { mcast_frame "$1" "$2" && rx_came "$1" "$mtag"; }
dropped() { mcast_frame "$1" "$2" && ! rx_came "$1" "$mtag"; }

check "g2's netfront with multicast control connects" \
	front_start g2 eth0 --devid "$(vif_attach g2 bridge="$NET_BR" script="$script")" \
	--mcast-control -- --rx-log "$(rxlog g2)" --control "$W/ctl-g2"
d2=0
check "(Connected)" wait_until 10 state_is g2 "$d2" 4
state_is g2 "$d2" 4 || bail_out "g2 did not connect"
check "the broadcast sentinel always passes" sentinel g2
check "a multicast frame to a group not added is dropped" dropped g2 "$g1_group"
check "mcast add $g1_group: OKAY" ctl_is g2 "mcast add $g1_group" "mcast add $g1_group OKAY"
check "a frame to it now passes" passes g2 "$g1_group"
check "a frame to another group is still dropped" dropped g2 "$g2_group"
check "a unicast frame to the guest passes (not filtered)" passes g2 "$(fe_read g2 "$d2" mac)"
check "adding $g1_group again: OKAY (Linux keeps a second entry)" \
	ctl_is g2 "mcast add $g1_group" "mcast add $g1_group OKAY"
check "one del: OKAY" ctl_is g2 "mcast del $g1_group" "mcast del $g1_group OKAY"
check "the second entry still lets it pass" passes g2 "$g1_group"
check "a second del: OKAY" ctl_is g2 "mcast del $g1_group" "mcast del $g1_group OKAY"
check "now it is dropped" dropped g2 "$g1_group"
check "a del of an address not listed: OKAY" \
	ctl_is g2 "mcast del $g2_group" "mcast del $g2_group OKAY"
check "request-multicast-control off while connected" \
	ctl_is g2 "mcast-control off" "mcast-control off ok"
check "the frontend's key says 0" test "$(fe_read g2 "$d2" request-multicast-control)" = 0
check "the backend saw it (watch)" wait_until 5 logged "vif-$(domid_of g2)-$d2: multicast control off"
check "an unlisted group then passes" passes g2 "$g2_group"
check "request-multicast-control on again" ctl_is g2 "mcast-control on" "mcast-control on ok"
check "the backend saw that too" wait_until 5 logged "vif-$(domid_of g2)-$d2: multicast control on"
check "the unlisted group is dropped again" dropped g2 "$g2_group"
fe_write() { dom0 xenstore-write "/local/domain/$(domid_of "$1")/device/vif/$2/$3" "$4"; }
log_count() { grep -cF -- "$1" "$W/net.log"; }
more_logged() { [ "$(log_count "$1")" -gt "$2" ]; }
mc_msg="vif-$(domid_of g2)-$d2: multicast control"
n_on=$(log_count "$mc_msg on")
n_off=$(log_count "$mc_msg off")
check "request-multicast-control=0 written by the guest: off" \
	eval 'fe_write g2 "$d2" request-multicast-control 0 && wait_until 5 more_logged "$mc_msg off" "$n_off"'
check "=2 is on, as Linux's xenbus_read_unsigned reads it" \
	eval 'fe_write g2 "$d2" request-multicast-control 2 && wait_until 5 more_logged "$mc_msg on" "$n_on"'
check "and the unlisted group is dropped" dropped g2 "$g2_group"
adds_ok() {
	local i m
	for i in $(seq 1 64); do
		m=$(printf '01:00:5e:7f:00:%02x' "$i")
		ctl_is g2 "mcast add $m" "mcast add $m OKAY" || return 1
	done
}
check "64 adds (XEN_NETBK_MCAST_MAX) are OKAY" adds_ok
check "a 65th add is refused: ERROR" ctl_is g2 "mcast add $g2_group" "mcast add $g2_group ERROR"
check "the filter stays on: the refused group is dropped" dropped g2 "$g2_group"
check "a listed group passes" passes g2 01:00:5e:7f:00:40
check "after one del there is room again" \
	ctl_is g2 "mcast del 01:00:5e:7f:00:01" "mcast del 01:00:5e:7f:00:01 OKAY"
check "and the add goes through" ctl_is g2 "mcast add $g2_group" "mcast add $g2_group OKAY"
check "the group passes" passes g2 "$g2_group"

# ----------------------------------------------------------------- detach

check "g2's netfront exits cleanly" front_stop g2 eth0
check "detach of g1's vif succeeds" vif_detach g1 "$d1"
check "g1's netfront sees the backend go and exits" wait_until 10 t_not_running "${front_pid[g1/eth0]}"
wait "${front_pid[g1/eth0]}"
rc=$?
unset "front_pid[g1/eth0]"
check "with status 1, saying the backend left (ECONNRESET)" \
	eval '[ $rc = 1 ] && grep -q "tap: Connection reset by peer" "$W/front-g1-eth0.log"'
check "$vif1 left the bridge and is gone" wait_until 10 link_gone - "$vif1"
check "the backend directory is removed" be_gone g1 "$d1"
check "the daemon logged the disconnection" logged "$fe: disconnected"
check "g1's netfront saw no frame without its XDP extra" \
	grep -q '"rx_no_xdp_extra":0' "$W/front-g1-eth0.log"
check "pvback-net exits 0 on SIGTERM" net_stop
no_sanitizer_report() { ! grep -l "Sanitizer\|runtime error" "$W"/*.log; }
check "no sanitizer report in the daemon's or the frontends' logs" no_sanitizer_report
t_done
