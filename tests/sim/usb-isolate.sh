#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvback-usb --isolate domain: each guest domain's controller
# runs in a worker process of its own, started at its first connect.  The
# xenbus process opens the devices' files and hands them over: each worker
# holds only its domain's storage files and maps guest memory, while the
# xenbus process maps none and keeps no device file open; workers run as
# the daemon's user, keep only CAP_DAC_OVERRIDE on their main thread and
# run their queue threads with no capabilities under the seccomp filter.
# Enumeration and storage I/O go through a worker; hot-plug of a zero and
# a storage device (its file handed over at the attach) works and a detach
# takes the file from the worker; stats come from the workers.  SIGKILL of
# g1's worker fails g1's controller only: g2's I/O, its worker and the
# daemon carry on, and g1 reconnects through a new worker.  A SIGKILLed
# isolated daemon's successor serves the same connection again with the
# ports restored from the port file; SIGTERM stops the daemon with exit
# status 0 and takes every worker with it, and its successor too serves
# the connection on with the port's address kept.
. "$(dirname "$0")/usb-lib.sh"
. "$(dirname "$0")/isolate-lib.sh"

guest_create g1
guest_create g2
img a.img; img b.img; img c.img
daemon_up --isolate domain
vusb_attach g1 version=2 ports=8 || bail_out "vusb attach g1"
vusb_attach g2 version=2 ports=8 || bail_out "vusb attach g2"
dev_attach g1 0 1 emu:storage,file=$W/a.img
dev_attach g1 0 2 emu:keyboard
dev_attach g2 0 1 emu:storage,file=$W/b.img
check "both controllers reach InitWait" wait_until 10 eval 'state_is g1 0 2 && state_is g2 0 2'
d1=$(domid_of g1) d2=$(domid_of g2)

nworkers() { grep -cE "INFO domain $1: worker process [0-9]+$" "$W/usb.log"; }

check "no worker before a frontend connects" test -z "$(workers)"
base0=$(sim_maps "$daemon_pid")
shell_start g2 || bail_out "shell: $sh_ready"
check "g2 connects through a worker" sh_cmd wait-port 1 present
check "g2 enumerates its storage device" eval 'out=$(sh_cmd list) && grep -q "1209:0001" <<<"$out"'
check "g2 writes" sh_cmd storage 1 write --offset 0 --length 1048576 --seed 3
w=$(guest_of g1 storage 1 write --offset 1048576 --length 1048576 --seed 4); echo "# $w"
check "g1 writes through its own worker" grep -q "ok checksum" <<<"$w"
check "the image file holds those bytes" \
	test "$(fnv_of "$W/a.img" 1048576 1048576)" = "$(checksum_of "$w")"
check "g1's worker went with its controller's frontend" \
	wait_until 10 eval 'test "$(workers | wc -l)" = 1'

# g1 holds an interrupt IN on its keyboard: connected, idle.
guest_of g1 --timeout 60 hold 2 >"$W/hold.out" 2>&1 & hpid=$!
check "g1 reconnects and holds an interrupt IN" wait_until 10 grep -q '^held' "$W/hold.out"
check "one worker per domain: two" test "$(workers | wc -l)" = 2
w1=$(worker_of a.img) w2=$(worker_of b.img)
check "g1's worker ($w1) holds g1's file, not g2's" eval 'has_open $w1 a.img && ! has_open $w1 b.img'
check "g2's worker ($w2) holds g2's file, not g1's" eval 'has_open $w2 b.img && ! has_open $w2 a.img'
check "the xenbus process keeps no device file open" eval \
	'! has_open $daemon_pid a.img && ! has_open $daemon_pid b.img'
worker_checks "$base0" "$w1" "$w2"
check "each worker's queue thread: no capabilities, seccomp filter, no_new_privs" \
	eval 'confined_threads $w1 "^usb${d1}q0\$" 1 && confined_threads $w2 "^usb${d2}q0\$" 1'
check "stats shows g2's storage counters, counted in its worker" eval \
	"stats vusb-$d2-0 | grep -A1 '^  port1  emu:storage' | grep -qE '^ +xfers [1-9][0-9]* .*bytes_out [1-9]'"
check "and its rings" eval "stats vusb-$d2-0 | grep -qE '^  urb  .*req_cons [1-9]'"
check "stats shows g1's held keyboard transfer" eval \
	"stats vusb-$d1-0 | grep -qE '^  port2  emu:keyboard .* inflight 1\$'"

dev_attach g2 0 3 emu:zero
check "a device attached to g2 shows up" sh_cmd wait-port 3 present
check "and runs usbtest's cases through the worker" sh_cmd zero 3 --case 1,2,9,10 --iterations 3
dev_detach g2 0 3
check "detached, it goes" sh_cmd wait-port 3 empty
dev_attach g2 0 4 emu:storage,file=$W/c.img
check "a storage device attached to g2 shows up" sh_cmd wait-port 4 present
check "its file went to g2's worker" eval 'has_open $w2 c.img && ! has_open $daemon_pid c.img'
check "it takes writes" sh_cmd storage 4 write --offset 0 --length 524288 --seed 5
check "and reads them back" sh_cmd storage 4 verify --offset 0 --length 524288 --seed 5
dev_detach g2 0 4
check "detached, it goes" sh_cmd wait-port 4 empty
check "and the worker closed its file" wait_until 10 eval '! has_open $w2 c.img'

kill -TERM "$w1"
check "a worker ignores SIGTERM (pkill of the daemon's name)" eval \
	'sh_cmd storage 1 verify --offset 0 --length 1048576 --seed 3 && kill -0 $w1'
n1=$(nworkers "$d1")
kill -KILL "$w1"
check "g1's worker killed: g1's controller leaves Connected" wait_until 10 eval '! state_is g1 0 4'
check "the daemon says why" wait_until 5 grep -q "domain $d1: worker process $w1: exited" "$W/usb.log"
kill "$hpid"; wait "$hpid" 2>/dev/null # its frontend does not watch the backend's state
check "g2's data still verifies" sh_cmd storage 1 verify --offset 0 --length 1048576 --seed 3
check "g2 writes on" sh_cmd storage 1 write --offset 2097152 --length 1048576 --seed 6
check "g2's worker and the daemon run" eval 'kill -0 $w2 && kill -0 $daemon_pid'
check "g1 reconnects through a new worker and its data verifies" \
	guest_of g1 storage 1 verify --offset 1048576 --length 1048576 --seed 4
check "a new worker was started for domain $d1" test "$(nworkers "$d1")" = $((n1 + 1))

addr_of() { stats vusb-$d2-0 | sed -n 's/^  port1 .* addr \([0-9]*\) .*/\1/p'; }
a0=$(addr_of)
restored() { grep -c "vusb-$d2-0/port1 emu:storage: restoring address $a0, configuration 1" "$W/usb.log"; }
ports_file() { echo "$S/pvback-usb.state/vusb-$d2-0.ports"; }
check "the worker keeps g2's port file (rings, the port, its end line)" eval \
	'f=$(ports_file) && head -n 1 "$f" | grep -q "^rings " && grep -q "^port 1 $a0 1 .* emu:storage,file=$W/b.img\$" "$f" && test "$(tail -n 1 "$f")" = end'
kill9_daemon
check "the workers go with a SIGKILLed daemon" wait_until 10 eval '! kill -0 $w2 2>/dev/null'
daemon_up --isolate domain
check "after SIGKILL and a restart, the same connection is served again" \
	sh_cmd storage 1 verify --offset 2097152 --length 1048576 --seed 6
check "through a new worker" test -n "$(worker_of b.img)"
check "with the port's address restored from the port file ($a0)" \
	eval 'test -n "$a0" && test "$a0" != 0 && test "$(addr_of)" = "$a0"'
check "(the worker read it: address and configuration restored)" test "$(restored)" = 1
w2=$(worker_of b.img)
check "SIGTERM stops the daemon with exit status 0" stop_daemon
check "g2's worker is gone with it" eval '! kill -0 $w2 2>/dev/null'
daemon_up --isolate domain
check "after SIGTERM and a restart, the same connection is served again" \
	sh_cmd storage 1 verify --offset 2097152 --length 1048576 --seed 6
check "with the port's address kept for it ($a0) in the port file" \
	eval 'test "$(addr_of)" = "$a0" && test "$(restored)" = 2'
check "g2's frontend closes cleanly" shell_stop
check "the last worker goes with its controller's frontend" wait_until 10 eval 'test -z "$(workers)"'
check "the port file goes with the controller's connection" \
	wait_until 10 eval '! ls "$S"/pvback-usb.state/*.ports >/dev/null 2>&1'
check "SIGTERM stops the last daemon" stop_daemon
check "no worker crashed" sh -c "! grep -qE 'AddressSanitizer|runtime error|SIGSYS' '$W/usb.log'"
t_done
