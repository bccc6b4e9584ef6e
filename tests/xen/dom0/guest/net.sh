#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# domU side of the net scenarios (busybox sh, iperf3, nc.openbsd). Shipped
# in dom0 as /xt/guest/net.sh and added to a domU as /extra/net.sh
# (xt_domu_start -f); dom0 runs the same kind of helpers from xt.sh.
# usage: sh /extra/net.sh CMD ARGS; prints what it checked, exit 0 = ok.
#   up IF ADDR/LEN [MTU]     wait for IF, (MTU,) address, up, wait for its carrier
#   wait-if IF SEC | wait-gone IF SEC   until /sys/class/net/IF exists / does not
#   info IF                  mtu, carrier, queues and the driver's features of IF
#   ping ADDR COUNT [SIZE]   COUNT pings (0.2 s apart), every one answered
#   mkdata NAME MIB          MIB random bytes in /tmp/NAME; prints "SHA256 BYTES"
#   send ADDR PORT NAME      /tmp/NAME over one TCP connection (nc -N: FIN at EOF)
#   listen PORT TAG          receive one TCP connection in the background, hashing
#                            it on the fly; returns once it listens
#   received TAG SEC         wait for that connection's end; prints "SHA256 BYTES"
#   rx-kill TAG              end a receiver whose sender is gone
#   stream-bg ADDR PORT TAG NAME   send /tmp/NAME again and again over one TCP
#                            connection until stream-stop (background)
#   stream-stop TAG SEC      end it after the copy in flight; prints "SHA256 BYTES" of
#                            everything it sent, returns nc's exit status
#   stream-count TAG         copies of NAME the stream sent so far
#   iperf ADDR PORT ARGS...  iperf3 -c (Mbit/s); prints "sender X receiver Y" (Mbit/s)
#   iperf-server PORT        a one-shot iperf3 server in the background, listening on return
#   counter Proto:Field      a /proc/net/snmp counter (Tcp:EstabResets, Ip:ReasmReqds...)
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
cmd=$1
[ $# -gt 0 ] && shift

wait_cond() { # SEC CMD...: CMD until it succeeds, at most SEC seconds (checked every 0.2 s)
	local n=$(($1 * 5))
	shift
	while ! "$@"; do
		[ $n -gt 0 ] || return 1
		sleep 0.2
		n=$((n - 1))
	done
}
if_exists() { [ -e "/sys/class/net/$1" ]; }
if_gone() { [ ! -e "/sys/class/net/$1" ]; }
carrier() { [ "$(cat "/sys/class/net/$1/carrier" 2>/dev/null)" = 1 ]; }
listening() { # PORT
	local hex
	hex=$(printf '%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v p=":$hex" '$2 ~ p "$" && $4 == "0A" { f = 1 } END { exit !f }'
}

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

info() {
	local d=/sys/class/net/$1
	echo "mtu $(cat $d/mtu) carrier $(cat $d/carrier) tx_queues $(ls -d $d/queues/tx-* | wc -l)" \
		"rx_queues $(ls -d $d/queues/rx-* | wc -l)"
}

ping_n() { # ADDR COUNT [SIZE]
	local out
	out=$(ping -c "$2" -i 0.2 -W 5 ${3:+-s "$3"} "$1" 2>&1)
	echo "$out" | tail -n 2
	echo "$out" | grep -q " $2 packets received"
}

mkdata() { # NAME MIB
	dd if=/dev/urandom of="/tmp/$1" bs=1M count="$2" 2>/dev/null || return 1
	echo "$(sha256sum <"/tmp/$1" | cut -d' ' -f1) $(stat -c %s "/tmp/$1")"
}

listen() { # PORT TAG
	local port=$1 t=/tmp/$2
	rm -f "$t.fifo" "$t.sum" "$t.bytes" "$t.done" "$t.pid"
	mkfifo "$t.fifo"
	(
		wc -c <"$t.fifo" >"$t.bytes" &
		sh -c 'echo $$ >"$1.pid"; exec nc.openbsd -l "$2" </dev/null' - "$t" "$port" |
			tee "$t.fifo" | sha256sum | cut -d' ' -f1 >"$t.sum"
		wait
		touch "$t.done"
	) >/dev/null 2>&1 </dev/null &
	wait_cond 20 listening "$port" || { echo "nothing listens on $port"; return 1; }
}
done_file() { [ -e "$1" ]; }
received() { # TAG SEC
	wait_cond "${2:-120}" done_file "/tmp/$1.done" || { echo "receiver $1 still running"; return 1; }
	echo "$(cat "/tmp/$1.sum") $(cat "/tmp/$1.bytes")"
}

# stream-bg: one TCP connection carrying NAME over and over; /tmp/TAG.n
# counts the copies handed to nc (a copy is written whole or the stream
# failed), /tmp/TAG.rc is nc's exit status
stream_bg() { # ADDR PORT TAG NAME
	local addr=$1 port=$2 t=/tmp/$3 name=$4
	rm -f "$t.stop" "$t.rc" "$t.n"
	echo 0 >"$t.n"
	(
		n=0
		while [ ! -e "$t.stop" ]; do
			cat "/tmp/$name" || break
			n=$((n + 1))
			echo $n >"$t.n"
		done | nc.openbsd -N "$addr" "$port"
		echo $? >"$t.rc"
	) >/dev/null 2>"$t.err" </dev/null &
}
stream_stop() { # TAG SEC
	local t=/tmp/$1 n i=0 name
	touch "$t.stop"
	wait_cond "${2:-120}" done_file "$t.rc" || { echo "stream $1 does not end"; return 1; }
	n=$(cat "$t.n")
	cat "$t.err"
	name=$(cat "$t.name")
	echo "$(while [ $i -lt "$n" ]; do cat "/tmp/$name"; i=$((i + 1)); done | sha256sum | cut -d' ' -f1)" \
		"$((n * $(stat -c %s "/tmp/$name")))"
	return "$(cat "$t.rc")"
}

iperf() { # ADDR PORT ARGS...
	local addr=$1 port=$2 out rc
	shift 2
	out=$(timeout 180 iperf3 -c "$addr" -p "$port" -f m "$@" 2>&1)
	rc=$?
	[ $rc = 0 ] || { echo "$out" | tail -n 15; return $rc; }
	# "[SUM] 0.00-5.00 sec 50.0 MBytes 83.9 Mbits/sec ... receiver" (or [  5] with -P 1)
	echo "$out" | awk '/(sender|receiver)$/ { for (i = 1; i < NF; i++) if ($(i + 1) == "Mbits/sec") r[$NF] = $i }
		END { printf "sender %s receiver %s\n", r["sender"], r["receiver"]; exit !(r["receiver"] > 0) }'
}

counter() {
	awk -v p="${1%%:*}:" -v f="${1#*:}" '
		$1 == p && !h { for (i = 2; i <= NF; i++) c[$i] = i; h = 1; next }
		$1 == p && h { print $c[f]; exit }' /proc/net/snmp
}

case $cmd in
up) up "$@" ;;
wait-if) wait_cond "${2:-30}" if_exists "$1" || { echo "no interface $1"; exit 1; } ;;
wait-gone) wait_cond "${2:-30}" if_gone "$1" || { echo "$1 is still there"; exit 1; } ;;
info) info "$@" ;;
ping) ping_n "$@" ;;
mkdata) mkdata "$@" ;;
send) timeout 300 nc.openbsd -N "$1" "$2" <"/tmp/$3" ;;
listen) listen "$@" ;;
received) received "$@" ;;
rx-kill) kill "$(cat "/tmp/$1.pid")" ;;
stream-bg) echo "$4" >"/tmp/$3.name" && stream_bg "$@" ;;
stream-stop) stream_stop "$@" ;;
stream-count) cat "/tmp/$1.n" ;;
iperf) iperf "$@" ;;
iperf-server)
	(iperf3 -s -1 -p "$1" >"/tmp/iperf-server-$1.log" 2>&1 &) </dev/null
	wait_cond 20 listening "$1" || { echo "iperf3 does not listen on $1"; exit 1; }
	;;
counter) counter "$@" ;;
*) echo "net.sh: unknown command '$cmd'"; exit 2 ;;
esac
