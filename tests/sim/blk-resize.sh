#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: online resize while the frontend stays connected.  The
# backing file grows; each of the three triggers (`pvback-blk resize
# DEVICE`, SIGHUP to the daemon, a rewrite of the backend's `params` key
# with the same path) makes the daemon rewrite `sectors` and re-write
# Connected; the frontend, which re-reads `sectors` only on that state
# event as Linux blkfront does, sees each new size, and the grown space
# takes writes that read back.  A resize with no size change pokes nothing.
. "$(dirname "$0")/blk-lib.sh"

g1_xvda
check "xvda reaches InitWait" wait_until 10 state_is g1 51712 2
shell_start g1 --indirect 64
check "the frontend connects with 131072 sectors ($sh_ready)" grep -q "^ready sectors 131072" <<<"$sh_ready"

resize_says() { dom0 pvback-blk resize vbd-1-51712 | grep -q "resized $1 device"; }
check "an unchanged size resizes nothing" resize_says 0
check "so the frontend sees no new size" test "$(sh_cmd wait-resize 300)" = "err Connection timed out"

truncate -s 128M "$W/a.img"
check "pvback-blk resize vbd-1-51712 reports one device resized" resize_says 1
check "the frontend sees sectors 262144 on the Connected re-poke" \
	test "$(sh_cmd wait-resize 10000)" = "sectors 262144"
check "the backend's sectors key says so" test "$(be_read g1 51712 sectors)" = 262144
check "the backend is still Connected" state_is g1 51712 4
check "the whole grown disk takes writes" sh_ok write 5 128
check "and reads them back" sh_ok check 5 128

truncate -s 192M "$W/a.img"
kill -HUP "$daemon_pid"
check "SIGHUP: the frontend sees sectors 393216" test "$(sh_cmd wait-resize 10000)" = "sectors 393216"

truncate -s 256M "$W/a.img"
dom0 xenstore-write "$(be_path g1 51712)/params" "$W/a.img"
check "a params rewrite: the frontend sees sectors 524288" \
	test "$(sh_cmd wait-resize 10000)" = "sectors 524288"
check "data past the first resize still verifies" sh_ok check 5 128
check "an unknown device is an error" fails dom0 pvback-blk resize vbd-9-9
check "the frontend closes cleanly" shell_stop
check "SIGTERM stops the daemon with exit status 0" stop_daemon
check "no error was logged" sh -c "! grep -q ' ERR ' '$W/blk.log'"
t_done
