#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Both ends of the net scenarios' traffic (busybox sh, iperf3, nc.openbsd):
# shipped in dom0 as /xt/guest/net.sh, added to a domU as /extra/net.sh
# (xt_domu_start -f); dom0 runs it through xt_net_sh (xt.sh) with NET_DIR
# on a tmpfs of its own and NET_PIDS naming the runner's list of background
# processes to kill.
# usage: sh net.sh CMD ARGS; prints what it checked, exit 0 = ok.
#   up IF ADDR/LEN [MTU]     wait for IF, (MTU,) address, up, wait for its carrier
#   wait-if IF SEC | wait-gone IF SEC   until /sys/class/net/IF exists / does not
#   ping ADDR COUNT [SIZE]   COUNT pings (0.2 s apart), every one answered
#   mkdata NAME MIB          MIB random MiB in NET_DIR/NAME; prints "SHA256 BYTES"
#   send ADDR PORT NAME      NET_DIR/NAME over one TCP connection (nc -N: FIN at EOF)
#   listen PORT TAG [hash]   receive one TCP connection in the background (into a
#                            file; hash: through sha256sum, for streams of any
#                            length); returns once it listens
#   received TAG SEC [keep]  wait for that connection's end; prints "SHA256 BYTES"
#                            ("SHA256" for hash); keep: the data stays as NET_DIR/TAG
#   rx-kill TAG              end a receiver whose sender is gone
#   stream-bg ADDR PORT TAG NAME [PAUSE]   send NET_DIR/NAME over and over on one
#                            TCP connection until stream-stop (in the background),
#                            PAUSE seconds between copies (a traffic shape that
#                            leaves TCG the CPU for the rest of the scenario)
#   stream-count TAG         copies sent so far
#   stream-stop TAG SEC      end it after the copy in flight; prints how many copies
#                            it sent; its status is nc's
#   repeat-sum NAME N        SHA256 of N copies of NET_DIR/NAME (what such a stream
#                            carried: dom0, the faster hasher, keeps the same NAME)
#   stream-kill TAG          kill its nc (a stream whose interface went away)
#   iperf ADDR PORT ARGS...  iperf3 -c; prints "sender X receiver Y" (Mbit/s)
#   iperf-server PORT        a one-shot iperf3 server in the background, listening on return
#   bench ADDR PORT ARGS...  one iperf3 -c run for make bench-xen; prints the receiver's
#                            "mbps=X" and for UDP "pps=Y lost_pct=Z" (datagrams that arrived)
#   counter Proto:Field      a /proc/net/snmp counter (Tcp:EstabResets, Ip:ReasmReqds...)
# Every system call of a PV domain under TCG costs: whole files, big buffers, no
# tee-to-a-fifo pipelines (16 MiB through one took 30 s, as a file 1 s).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
D=${NET_DIR:-/tmp}
mkdir -p "$D"
cmd=$1
[ $# -gt 0 ] && shift

bg_pid() { [ -z "${NET_PIDS:-}" ] || echo "$1" >>"$NET_PIDS"; }
wait_cond() { # SEC CMD...: CMD until it succeeds, at most SEC seconds (checked every 0.2 s)
	local end=$(($(date +%s) + $1))
	shift
	while ! "$@"; do
		[ "$(date +%s)" -lt $end ] || return 1
		sleep 0.2
	done
}
if_exists() { [ -e "/sys/class/net/$1" ]; }
if_gone() { [ ! -e "/sys/class/net/$1" ]; }
carrier() { [ "$(cat "/sys/class/net/$1/carrier" 2>/dev/null)" = 1 ]; }
exists() { [ -e "$1" ]; }
listening() { # PORT: a TCP socket listens on it
	local hex
	hex=$(printf '%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		awk -v p=":$hex" '$2 ~ p "$" && $4 == "0A" { f = 1 } END { exit !f }'
}
sum_of() { sha256sum <"$1" | cut -d' ' -f1; }

up() { # IF ADDR/LEN [MTU]
	wait_cond 30 if_exists "$1" || { echo "no interface $1"; return 1; }
	ip link set dev lo up
	if [ -n "${3:-}" ]; then
		ip link set dev "$1" mtu "$3" || { echo "cannot set $1's mtu to $3"; return 1; }
	fi
	ip addr add "$2" dev "$1" || return 1
	ip link set dev "$1" up || return 1
	wait_cond 30 carrier "$1" || { echo "$1 has no carrier"; return 1; }
	echo "$1: $2 mtu $(cat "/sys/class/net/$1/mtu") up"
}

ping_n() { # ADDR COUNT [SIZE]
	local out
	out=$(ping -c "$2" -i 0.2 -W 5 ${3:+-s "$3"} "$1" 2>&1)
	echo "$out" | tail -n 2
	echo "$out" | grep -q " $2 packets received"
}

mkdata() { # NAME MIB
	dd if=/dev/urandom of="$D/$1" bs=1M count="$2" 2>/dev/null || return 1
	echo "$(sum_of "$D/$1") $(stat -c %s "$D/$1")"
}

listen() { # PORT TAG [hash]
	local port=$1 t=$D/$2
	rm -f "$t.data" "$t.sum" "$t.done" "$t.pid"
	# nc execs in a shell that noted its pid first: rx-kill's target
	if [ "${3:-}" = hash ]; then
		(sh -c 'echo $$ >"$1.pid"; exec nc.openbsd -l "$2"' - "$t" "$port" </dev/null |
			sha256sum | cut -d' ' -f1 >"$t.sum"
			touch "$t.done") >/dev/null 2>&1 &
	else
		(sh -c 'echo $$ >"$1.pid"; exec nc.openbsd -l "$2" >"$1.data"' - "$t" "$port" </dev/null
			touch "$t.done") >/dev/null 2>&1 &
	fi
	bg_pid $!
	wait_cond 20 listening "$port" || { echo "nothing listens on $port"; return 1; }
}
received() { # TAG SEC
	local t=$D/$1
	wait_cond "${2:-120}" exists "$t.done" || { echo "receiver $1 still running"; return 1; }
	if [ -e "$t.data" ]; then
		echo "$(sum_of "$t.data") $(stat -c %s "$t.data")"
		if [ "${3:-}" = keep ]; then mv "$t.data" "$D/$1"; else rm -f "$t.data"; fi
	else
		cat "$t.sum"
	fi
}

# stream-bg: one TCP connection carrying NAME over and over; TAG.n counts
# the copies handed to nc (each whole, or the stream failed), TAG.rc is
# nc's exit status
stream_bg() { # ADDR PORT TAG NAME [PAUSE]
	local addr=$1 port=$2 t=$D/$3 name=$4 pause=${5:-0}
	rm -f "$t.stop" "$t.rc" "$t.n" "$t.pid"
	echo "$name" >"$t.name"
	echo 0 >"$t.n"
	(
		n=0
		while [ ! -e "$t.stop" ]; do
			cat "$D/$name" || break
			n=$((n + 1))
			echo $n >"$t.n"
			[ "$pause" = 0 ] || sleep "$pause"
		done | sh -c 'echo $$ >"$1.pid"; exec nc.openbsd -N "$2" "$3"' - "$t" "$addr" "$port"
		echo $? >"$t.rc"
	) >/dev/null 2>"$t.err" </dev/null &
	bg_pid $!
}
stream_stop() { # TAG SEC
	local t=$D/$1
	touch "$t.stop"
	wait_cond "${2:-120}" exists "$t.rc" || { echo "stream $1 does not end"; return 1; }
	cat "$t.err" >&2
	cat "$t.n"
	return "$(cat "$t.rc")"
}
repeat_sum() { # NAME N
	local i=0
	while [ $i -lt "$2" ]; do cat "$D/$1"; i=$((i + 1)); done | sha256sum | cut -d' ' -f1
}

iperf() { # ADDR PORT ARGS...
	local addr=$1 port=$2 out rc
	shift 2
	out=$(timeout 180 iperf3 -c "$addr" -p "$port" -f m "$@" 2>&1)
	rc=$?
	[ $rc = 0 ] || { echo "$out" | tail -n 15; return $rc; }
	# "[SUM] 0.00-5.00 sec 50.0 MBytes 83.9 Mbits/sec ... receiver" (or [  5] with one stream)
	echo "$out" | awk '/(sender|receiver)$/ { for (i = 1; i < NF; i++) if ($(i + 1) == "Mbits/sec") r[$NF] = $i }
		END { printf "sender %s receiver %s\n", r["sender"], r["receiver"]; exit !(r["receiver"] > 0) }'
}

bench() { # ADDR PORT ARGS...
	local addr=$1 port=$2 out rc
	shift 2
	out=$(timeout 120 iperf3 -c "$addr" -p "$port" -f m "$@" 2>&1)
	rc=$?
	[ $rc = 0 ] || { echo "$out" | tail -n 15; return $rc; }
	# the receiver's line: "[  5] 0.00-6.00 sec 31.2 MBytes 131 Mbits/sec [0.002 ms 5024/516460 (0.97%)] receiver"
	echo "$out" | awk '/receiver$/ {
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^[0-9.]+-[0-9.]+$/) { split($i, t, "-"); secs = t[2] - t[1] }
			if ($(i + 1) == "Mbits/sec") mbps = $i
			if ($i ~ /^[0-9]+\/[0-9]+$/) { split($i, l, "/"); lost = l[1]; total = l[2] }
		}
	}
	END {
		if (mbps == "") exit 1
		printf "mbps=%s", mbps
		if (total > 0 && secs > 0) printf " pps=%d lost_pct=%.2f", (total - lost) / secs, lost * 100 / total
		printf "\n"
	}'
}

counter() { # Proto:Field
	awk -v p="${1%%:*}:" -v f="${1#*:}" '
		$1 == p && !h { for (i = 2; i <= NF; i++) c[$i] = i; h = 1; next }
		$1 == p && h { print $c[f]; exit }' /proc/net/snmp
}

case $cmd in
up) up "$@" ;;
wait-if) wait_cond "${2:-30}" if_exists "$1" || { echo "no interface $1"; exit 1; } ;;
wait-gone) wait_cond "${2:-30}" if_gone "$1" || { echo "$1 is still there"; exit 1; } ;;
ping) ping_n "$@" ;;
mkdata) mkdata "$@" ;;
send) timeout 300 nc.openbsd -N "$1" "$2" <"$D/$3" ;;
listen) listen "$@" ;;
received) received "$@" ;;
rx-kill) kill "$(cat "$D/$1.pid")" ;;
stream-bg) stream_bg "$@" ;;
stream-count) cat "$D/$1.n" ;;
stream-kill) kill "$(cat "$D/$1.pid")" ;;
stream-stop) stream_stop "$@" ;;
repeat-sum) repeat_sum "$@" ;;
iperf) iperf "$@" ;;
bench) bench "$@" ;;
iperf-server)
	(iperf3 -s -1 -p "$1" >"$D/iperf-server-$1.log" 2>&1 </dev/null &
		echo $! >"$D/iperf-server-$1.pid")
	bg_pid "$(cat "$D/iperf-server-$1.pid")"
	wait_cond 20 listening "$1" || { echo "iperf3 does not listen on $1"; exit 1; }
	;;
counter) counter "$@" ;;
*) echo "net.sh: unknown command '$cmd'"; exit 2 ;;
esac
