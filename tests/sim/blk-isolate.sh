#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: --isolate domain: each guest domain's queues run in a worker
# process of their own, started at its first connect.  Two disks of g1 share
# one worker, g2 has another; each worker holds only its domain's backing
# files and maps guest memory while the xenbus process maps none; workers
# run as the daemon's user, keep only CAP_DAC_OVERRIDE on their main thread
# and run their queue threads with no capabilities under the seccomp
# filter; a SIGTERM meant for the daemon's name does not reach them.
# Stats come from the workers, a resize reaches a worker's validation, a
# protocol violation in a worker disconnects only that device.  SIGKILL of
# g1's worker fails g1's devices only: g2's I/O, its worker and the daemon
# carry on, and g1 reconnects through a new worker.  SIGTERM stops the
# daemon with exit status 0 and takes every worker with it.  pvback-net and
# pvback-usb have the option too (net-isolate.sh, usb-isolate.sh).
. "$(dirname "$0")/blk-lib.sh"
. "$(dirname "$0")/isolate-lib.sh"

guest_create g1 256M
guest_create g2 256M
for f in a b c; do truncate -s 64M "$W/$f.img"; done
daemon_up --isolate domain
vbd_attach g1 "$W/a.img" xvda rw
vbd_attach g1 "$W/c.img" xvdb rw
vbd_attach g2 "$W/b.img" xvda rw
check "the three devices reach InitWait" wait_until 10 eval \
	'state_is g1 51712 2 && state_is g1 51728 2 && state_is g2 51712 2'

check "no worker before a frontend connects" test -z "$(workers)"
base0=$(sim_maps "$daemon_pid")
check "g2 connects" shell_start g2 --queues 2 --persistent
check "g2 writes" sh_ok write 1 8
stream_start g1 --queues 2 stream 1024 "$W/s1.txt"
check "g1 streams on xvda" test -n "$spid"
check "g1's xvdb verifies meanwhile" guest_of g1 --devid 51728 --indirect 64 --seed 2 verify 4
check "one worker per domain: two" test "$(workers | wc -l)" = 2
w1=$(worker_of a.img) w2=$(worker_of b.img)
check "g1's worker ($w1) holds g1's disk, not g2's" eval 'has_open $w1 a.img && ! has_open $w1 b.img'
check "g2's worker ($w2) holds g2's disk, not g1's" eval 'has_open $w2 b.img && ! has_open $w2 a.img'
check "both of g1's disks went to the same worker" \
	test "$(grep -cE 'INFO domain 1: worker process [0-9]+$' "$W/blk.log")" = 1
worker_checks "$base0" "$w1" "$w2"
check "its queue threads: no capabilities, seccomp filter, no_new_privs" \
	confined_threads "$w1" "^blk" 2
check "stats shows g1's queues, counted in its worker" eval \
	'stats vbd-1-51712 | grep -qE "^  q1 .* wr_req [1-9]"'
kill -TERM "$w1"
check "a worker ignores SIGTERM (pkill of the daemon's name)" eval 'sh_ok check 1 8 && kill -0 $w1'

truncate -s 128M "$W/b.img"
check "a resize reaches g2's worker" eval \
	'dom0 pvback-blk resize vbd-2-51712 | grep -q "resized 1" && test "$(sh_cmd wait-resize 10000)" = "sectors 262144"'
check "the whole grown disk takes writes there" sh_ok write 5 128
check "and reads them back" sh_ok check 5 128

kill -KILL "$w1"
check "g1's worker killed: g1's xvda leaves Connected" wait_until 10 eval '! state_is g1 51712 4'
check "the daemon says why" wait_until 5 grep -q "domain 1: worker process $w1: exited" "$W/blk.log"
guest_bg_end >/dev/null
check "g1's stream ended with the backend" grep -q '^stopping: backend left Connected' "$W/bg.out"
check "g2's data still verifies" sh_ok check 5 128
check "g2 writes on" sh_ok write 6 8
check "g2's worker and the daemon run" eval 'kill -0 $w2 && kill -0 $daemon_pid'
check "g1 reconnects through a new worker and verifies" \
	guest_of g1 --queues 2 --indirect 256 --seed 7 verify 8
check "a new worker was started for domain 1" \
	test "$(grep -cE 'INFO domain 1: worker process [0-9]+$' "$W/blk.log")" = 2

guest_of g1 --indirect 256 hostile prod-overflow >"$W/h.out" 2>&1
check "a violation in g1's worker disconnects g1's device" grep -qE '^backend (Closing|Closed)$' "$W/h.out"
check "logged by the worker with the reason" grep -q "vbd-1-51712/q0: protocol violation: ring producer overflow" "$W/blk.log"
check "g2 is untouched" sh_ok check 6 8
check "g1 verifies again afterwards" guest_of g1 --seed 8 verify 2

check "SIGTERM stops the daemon with exit status 0" stop_daemon
check "g2's worker is gone with it" eval '! kill -0 $w2 2>/dev/null'
check "g2's frontend closes cleanly" shell_stop
check "no worker crashed" sh -c "! grep -qE 'AddressSanitizer|runtime error|SIGSYS' '$W/blk.log'"
t_done
