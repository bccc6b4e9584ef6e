#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvback-blk restarted (SIGTERM, then a new daemon) while a
# frontend stays connected and idle: the old daemon answers its in-flight
# I/O and leaves the xenstore state Connected; the new one finds the live
# connection and re-attaches to its rings at rsp_prod without any state
# change, so the frontend goes on (data written before reads back, new
# writes verify) with two queues and persistent grants.  Then a frontend
# that reconnects after another restart is served too.
. "$(dirname "$0")/blk-lib.sh"

g1_xvda
check "xvda reaches InitWait" wait_until 10 state_is g1 51712 2

shell_start g1 --queues 2 --persistent --indirect 64
check "the frontend connects ($sh_ready)" grep -q "^ready sectors 131072" <<<"$sh_ready"
check "data written before the restart" sh_ok write 1 8
check "reads back before the restart" sh_ok check 1 8

check "SIGTERM stops the first daemon with exit status 0" stop_daemon
check "the backend state stays Connected for the frontend" state_is g1 51712 4
start_daemon
check "a new daemon starts" wait_until 10 daemon_ready
attached() { stats | grep -q "^vbd-1-51712 .* state Connected"; }
check "it re-attaches to the live connection" wait_until 10 attached
check "without a state change: it logged a re-attach, no InitWait" \
	grep -q "vbd-1-51712: re-attaching to the live connection" "$W/blk.log"
check "data written before the restart reads back through the new daemon" sh_ok check 1 8
check "new writes verify" sh_ok write 2 16
check "and read back" sh_ok check 2 16
check "the frontend closes cleanly" shell_stop
check "the backend is Closed" state_is g1 51712 6

check "SIGTERM stops the second daemon" stop_daemon
start_daemon
check "a third daemon starts" wait_until 10 daemon_ready
check "a reconnecting frontend is served by it" guest_of g1 --order 4 --persistent --seed 3 verify 8
check "SIGTERM stops the daemon with exit status 0" stop_daemon
check "no error was logged" sh -c "! grep -q ' ERR ' '$W/blk.log'"
t_done
