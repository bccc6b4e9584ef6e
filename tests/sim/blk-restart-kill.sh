#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvback-blk killed with SIGKILL while requests are in flight
# loses none of them: each queue's journal ($PVSIM_DIR/pvback-blk.state)
# holds the requests consumed but not answered, and the next daemon
# re-issues exactly those before consuming more.  First deterministically:
# a daemon that holds every other request (PVBACK_BLK_FAULT=stall-io) and
# answers the rest, out of order, is killed with 14 of the frontend's 26
# writes in flight; the next one re-issues those 14 (resuming at rsp_prod
# instead would answer some twice and others never), the frontend's write
# succeeds and reads back, and the journals go when the frontend closes.  Then under load: a 2-queue verify keeps running
# while the daemon is killed and restarted three times, and verifies.
. "$(dirname "$0")/blk-lib.sh"

J=$S/pvback-blk.state
PVBACK_BLK_FAULT=stall-io g1_xvda
check "xvda reaches InitWait" wait_until 10 state_is g1 51712 2

shell_start g1 --queues 2 --persistent --indirect 64
check "the frontend connects ($sh_ready)" grep -q "^ready sectors 131072" <<<"$sh_ready"
check "a journal per queue" test -f "$J/vbd-1-51712-q0.journal" -a -f "$J/vbd-1-51712-q1.journal"

# blkfront-tool's write sweep of 2 MiB with 64 segments per request at most:
# 1, 2, 4 .. 512 sectors, twice 512, then again from 1, until 4096 sectors.
nreq=0; sec=0; i=0
while [ $sec -lt 4096 ]; do
	len=$((1 << (i % 12))); [ $len -gt 512 ] && len=512
	[ $len -gt $((4096 - sec)) ] && len=$((4096 - sec))
	sec=$((sec + len)); i=$((i + 1)); nreq=$((nreq + 1))
done
echo "write 1 2" >&"$sh_in"
counts() { # prints "wr_req inflight" summed over the device's queues
	stats --json | python3 -c '
import json, sys
d = [x for x in json.load(sys.stdin)["devices"] if x["name"] == "vbd-1-51712"][0]
print(sum(q["wr_req"] for q in d["queues"]), sum(q["inflight"] for q in d["queues"]))'
}
# Round robin over the queues from q0; each queue holds its 1st, 3rd, ...
held=$(( (nreq / 2 + 1) / 2 + (nreq - nreq / 2 + 1) / 2 ))
all_held() { [ "$(counts)" = "$nreq $held" ]; }
check "the daemon took all $nreq writes and holds $held in flight" wait_until 20 all_held

{ kill -KILL "$daemon_pid"; wait "$daemon_pid"; } 2>/dev/null; rc=$?; daemon_pid=
check "SIGKILL ends it (status $rc)" test $rc = 137
check "the backend stays Connected" state_is g1 51712 4
check "the journals stay behind" test -f "$J/vbd-1-51712-q0.journal" -a -f "$J/vbd-1-51712-q1.journal"

start_daemon
check "a new daemon starts" wait_until 10 daemon_ready
reissued() { grep -o 're-issuing [0-9]* request' "$W/blk.log" | awk '{ s += $2 } END { print s + 0 }'; }
all_reissued() { [ "$(reissued)" = "$held" ]; }
check "it re-issues the $held unanswered requests from the journals" wait_until 10 all_reissued
IFS= read -r -t 60 reply <&"$sh_out"
check "the frontend's write completes without an error ($reply)" test "$reply" = ok
check "the data reads back" sh_ok check 1 2
check "new writes verify" sh_ok write 2 8
check "and read back" sh_ok check 2 8
check "the frontend closes cleanly" shell_stop
check "the backend is Closed" state_is g1 51712 6
gone() { [ ! -e "$J/vbd-1-51712-q0.journal" ] && [ ! -e "$J/vbd-1-51712-q1.journal" ]; }
check "the journals are removed once the queues stopped" wait_until 10 gone

# Under load: kill the daemon three times while a verify runs on 2 queues.
guest_of g1 --queues 2 --persistent --indirect 64 --seed 5 verify 48 >"$W/verify.out" 2>&1 &
vpid=$!
wr_total() { stats --json | python3 -c '
import json, sys
d = [x for x in json.load(sys.stdin)["devices"] if x["name"] == "vbd-1-51712"]
print(sum(q["wr_req"] + q["rd_req"] for q in d[0]["queues"]) if d and d[0]["queues"] else 0)'; }
busy() { [ "$(wr_total)" -gt 0 ]; }
for k in 1 2 3; do
	# Kill once this daemon has served requests, unless the verify is over.
	kill -0 "$vpid" 2>/dev/null || break
	wait_until 30 busy
	{ kill -KILL "$daemon_pid"; wait "$daemon_pid"; } 2>/dev/null; daemon_pid=
	start_daemon
	wait_until 10 daemon_ready || break
	kills=$k
done
wait "$vpid"; rc=$?
check "a verify with ${kills:-0} kills of the daemon passes ($(tail -1 "$W/verify.out"))" test $rc = 0
check "the daemon was killed under load at least once" test "${kills:-0}" -ge 1
check "SIGTERM stops the last daemon with exit status 0" stop_daemon
check "no error was logged" sh -c "! grep -q ' ERR ' '$W/blk.log'"
t_done
