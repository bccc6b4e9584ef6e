#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: a hostile guest's xenstore against pvback-net (issue 13),
# while the bystander g2 streams verified TCP; the daemon at its default
# log level, so the log's rate limit applies.  Absurd frontend keys, each
# on a vif of its own, written by the guest itself (multi-queue-num-queues
# 0, huge and 2 without queue-N keys, request-rx-copy 0, a garbage
# event-channel, a tx-ring-ref never granted, an rx-ring-ref missing): the
# vif fails to connect with the reason logged and in its error node, and
# goes back to InitWait when the frontend starts over.  State flapping: 300
# rounds (375 writes) with absurd ring keys leave a bounded log and a
# "suppressed" count.  Many vifs: 16 for one guest, its last connects and
# pings, all are removed.  After each: the daemon answers, its VmRSS and
# fds come back within bounds, g2's stream verifies.
. "$(dirname "$0")/net-lib.sh"
net_requires_front

bridge_add "$NET_BR" "$NET_PFX.1/24"
net_up --log-level info
guest_create g1 128M
guest_create g2 128M
check "the bystander g2 connects" vif_connect g2 eth0 "$NET_PFX.12/24"
res_mark
port=5500
bystander_ok() {
	port=$((port + 1))
	tcp_verify "$(guest_ns g2)" - "$NET_PFX.1" 8 $port
}
# fe_keys KEY=VALUE...: the keys (hostile-lib.sh's fe_write) over a
# plausible base (rings never granted), then Connected as netfront.
fe_keys() {
	fe_write g1 "$fe" 4 tx-ring-ref=8 rx-ring-ref=9 event-channel=3 request-rx-copy=1 \
		feature-rx-notify=1 "$@"
}

cases=(
	"multi-queue-num-queues 0|bad multi-queue-num-queues|multi-queue-num-queues=0"
	"multi-queue-num-queues 4294967296|bad multi-queue-num-queues|multi-queue-num-queues=4294967296"
	"two queues without queue-N keys|frontend queue-0/tx-ring-ref|multi-queue-num-queues=2"
	"request-rx-copy 0|does not request rx-copy|request-rx-copy=0"
	"a garbage event-channel|frontend event-channel|event-channel=garbage"
	"a tx-ring-ref never granted|connect failed|tx-ring-ref=2147483632"
	"rx-ring-ref missing|frontend rx-ring-ref|rx-ring-ref=-"
)
for c in "${cases[@]}"; do
	IFS='|' read -r what reason kv <<<"$c"
	dev=$(vif_attach g1 bridge="$NET_BR")
	fe=/local/domain/$(domid_of g1)/device/vif/$dev
	wait_until 10 state_is g1 "$dev" 2 || not_ok "$what: vif $dev does not wait"
	log_mark
	fe_keys "$kv"
	check "$what: the vif fails to connect, \"$reason\" logged" \
		be_failed g1 "$dev" "vif-$(domid_of g1)-$dev" "$reason"
	check "$what: ... and its error node says why" be_error g1 "$dev"
	check "$what: the daemon answers" net_ready
	check "$what: the bystander's stream verifies" bystander_ok
	check "$what: the frontend starts over" fe_restart g1 "$dev"
	vif_detach g1 "$dev"
	check "$what: the vif is removed" wait_until 10 be_gone g1 "$dev"
done
alive_and_bounded "absurd keys"

# State flapping with absurd ring keys: a bounded log.
dev=$(vif_attach g1 bridge="$NET_BR")
wait_until 10 state_is g1 "$dev" 2 || not_ok "flap: vif $dev does not wait"
name=vif-$(domid_of g1)-$dev
before=$(log_lines "$name")
check "flap: 300 rounds of states with absurd keys are written" fe_abuse g1 "$dev" 300 \
	tx-ring-ref 99999999 rx-ring-ref 4294967296 event-channel garbage \
	multi-queue-num-queues 1000000 request-rx-copy 0
check "flap: the daemon answers" net_ready
check "flap: the bystander's stream verifies" bystander_ok
settled() { state_is g1 "$dev" 6 || state_is g1 "$dev" 2; }
check "flap: the vif settles (Closed or InitWait)" wait_until 10 settled
lines=$(($(log_lines "$name") - before))
check "flap: at most 60 log lines for 375 state writes ($lines)" test "$lines" -le 60
vif_detach g1 "$dev"
check "flap: the vif is removed" wait_until 10 be_gone g1 "$dev"
suppressed() { # the lines of the vif the rate limit dropped, summed
	sed -n "s/.* $name: \([0-9]*\) message(s) suppressed.*/\1/p" "$W/net.log" |
		awk '{ n += $1 } END { print n + 0 }'
}
check "flap: most lines were suppressed and counted ($(suppressed) >= 100)" \
	wait_until 10 eval 'test "$(suppressed)" -ge 100'
alive_and_bounded flap

# Many vifs for one guest.
guest_create g3 128M
devs=()
for i in $(seq 16); do devs+=("$(vif_attach g3 bridge="$NET_BR")") || not_ok "attach vif $i"; done
all_waiting() {
	local d n=0
	for d in "${devs[@]}"; do state_is g3 "$d" 2 && n=$((n + 1)); done
	echo "$n of 16 in InitWait"
	[ "$n" = 16 ]
}
check "many: 16 vifs of g3 all reach InitWait" wait_until 30 all_waiting
last=${devs[15]}
check "many: g3's 16th vif ($last) connects" front_start g3 eth0 --devid "$last"
check "many: ... Connected" wait_until 10 state_is g3 "$last" 4
guest_ip g3 eth0 "$NET_PFX.13/24"
check "many: ... and pings the host" ping_from "$(guest_ns g3)" "$NET_PFX.1" 2
check "many: the bystander's stream verifies" bystander_ok
front_stop g3 eth0
for d in "${devs[@]}"; do vif_detach g3 "$d" || not_ok "detach $d"; done
all_gone() { local d; for d in "${devs[@]}"; do be_gone g3 "$d" || return 1; done; }
check "many: all 16 removed" wait_until 30 all_gone
alive_and_bounded many

# The netfronts close while their backend is there (not their close's timeouts).
for k in "${!front_pid[@]}"; do front_stop "${k%/*}" "${k#*/}"; done
check "no sanitizer report in the daemon's log" fails grep -qE 'ERROR: AddressSanitizer|runtime error:' "$W/net.log"
check "SIGTERM stops the daemon with status 0" net_stop
t_done
