#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: a hostile guest's xenstore against pvback-blk (issue 13),
# while the bystander g2 verifies its I/O.  Absurd frontend keys, written by
# the guest itself (ring-page-order 99, multi-queue-num-queues 0 and 1000,
# a garbage event-channel, a garbage protocol, a ring-ref never granted, a
# ring-ref missing): the device fails to connect with the reason logged and
# in its error node, and recovers when the frontend starts over.  State
# flapping: 400 random frontend states written without waiting on a
# connected device, which then verifies again.  Many devices: the toolstack
# gives one guest 32 vbds, two of them connect and verify, all are removed.
# After each: the daemon runs, and its VmRSS and fds come back within bounds.
. "$(dirname "$0")/blk-lib.sh"

hostile_setup
# Each case on a vbd of its own (the log's rate limit is per device):
# xvdb, xvdc, ...; dev is its devid, fe its frontend directory, err its
# error node.  fe_keys KEY=VALUE...: the keys (hostile-lib.sh's fe_write)
# over a plausible base, then Initialised.
fe_keys() { fe_write g1 "$fe" 3 ring-ref=8 event-channel=3 protocol=x86_64-abi "$@"; }

cases=(
	"ring-page-order 99|bad ring-page-order|ring-page-order=99"
	"multi-queue-num-queues 0|bad multi-queue-num-queues|multi-queue-num-queues=0"
	"multi-queue-num-queues 1000|bad multi-queue-num-queues|multi-queue-num-queues=1000"
	"a garbage event-channel|frontend event-channel|event-channel=garbage"
	"a garbage protocol|unknown protocol|protocol=x86_99-abi garbage"
	"a ring-ref never granted|connect failed|ring-ref=2147483632"
	"ring-ref missing|frontend ring-ref|ring-ref=-"
	"ring-page-order 2 with one ring-ref|frontend ring-ref0|ring-page-order=2"
	"two queues without queue-N keys|frontend queue-0/ring-ref|multi-queue-num-queues=2"
)
letters=(b c d e f g h i j)
for i in "${!cases[@]}"; do
	IFS='|' read -r what reason kv <<<"${cases[$i]}"
	dev=$((51728 + 16 * i))
	fe=/local/domain/$(domid_of g1)/device/vbd/$dev
	err=/local/domain/0/error/backend/vbd/$(domid_of g1)/$dev/error
	truncate -s 16M "$W/k.img"
	vbd_attach g1 "$W/k.img" "xvd${letters[$i]}" rw
	wait_until 10 state_is g1 "$dev" 2 || not_ok "$what: xvd${letters[$i]} does not wait"
	log_mark
	fe_keys "$kv"
	check "$what: the device fails to connect, \"$reason\" logged" \
		be_failed g1 "$dev" "$(dev_name g1 "$dev")" "$reason"
	check "$what: ... and its error node says why" dom0 xenstore-read "$err"
	check "$what: the daemon runs" kill -0 "$daemon_pid"
	check "$what: the bystander verifies" guest_of g2 --seed $RANDOM verify 1
	check "$what: the frontend starts over" fe_restart g1 "$dev"
	pvsim --dir "$S" detach g1 vbd "$dev"
	check "$what: the device is removed" wait_until 10 not_listed "$(dev_name g1 "$dev")"
done
check "after the absurd keys g1 connects and verifies" guest_of g1 --seed 2 verify 2
alive_and_bounded "absurd keys"

# State flapping on a connected device: g1's xvda.
dev=51712
guest_of g1 --order 2 --queues 2 --count 400 --seed 23 attack flap >"$W/flap.out" 2>&1
sed 's/^/# /' "$W/flap.out"
check "flap: 400 random states written" grep -q '^flap: 400 writes' "$W/flap.out"
check "flap: the frontend starts over" fe_restart g1 "$dev"
check "flap: g1 connects and verifies again" guest_of g1 --queues 2 --seed 4 verify 2
alive_and_bounded flap

# Many devices: 32 vbds for one guest.
guest_create g4 256M
names=({a..z} a{a..f})
for n in "${names[@]}"; do
	truncate -s 16M "$W/g4-$n.img"
	vbd_attach g4 "$W/g4-$n.img" "xvd$n" rw || not_ok "attach xvd$n"
done
g4_path=/local/domain/0/backend/vbd/$(domid_of g4)
all_waiting() {
	local d n=0
	for d in $(dom0 xenstore-list "$g4_path"); do
		[ "$(dom0 xenstore-read "$g4_path/$d/state")" = 2 ] && n=$((n + 1))
	done
	echo "$n of 32 in InitWait"
	[ "$n" = 32 ]
}
check "many: 32 vbds of g4 all reach InitWait" wait_until 30 all_waiting
last=$(dom0 xenstore-list "$g4_path" | sort -n | tail -1)
check "many: g4's xvda verifies" guest_of g4 --seed 8 verify 2
check "many: g4's 32nd vbd ($last) verifies" guest_of g4 --devid "$last" --seed 9 verify 2
check "many: the bystander verifies" bystander_ok
for d in $(dom0 xenstore-list "$g4_path"); do pvsim --dir "$S" detach g4 vbd "$d" || not_ok "detach $d"; done
check "many: all 32 removed" wait_until 30 eval '! stats | grep -q "^vbd-$(domid_of g4)-"'
alive_and_bounded many

check "SIGTERM stops the daemon with exit status 0" stop_daemon
t_done
