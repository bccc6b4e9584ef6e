#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvback-blk with a block device as backing store (a loop
# device over a file on /var/tmp): size and sector sizes come from the device
# ioctls, discard-granularity from its queue limits, data verifies, and a
# guest discard reaches the device as BLKDISCARD (the loop driver punches a
# hole in its file).
. "$(dirname "$0")/blk-lib.sh"

requires losetup
truncate -s 64M "$W/dev.img"
loop=$(losetup -f --show "$W/dev.img") || bail_out "losetup: no loop device"
on_exit 'losetup -d "$loop"'
ldev=$(basename "$loop")

guest_create g1 128M
daemon_up
check "a loop device attaches as xvda" vbd_attach g1 "$loop" xvda rw
check "the backend reaches InitWait" wait_until 10 state_is g1 51712 2
guest_of g1 info >"$W/info" 2>&1
check "the frontend sees the device's 131072 sectors" grep -q "^sectors 131072 " "$W/info"
check "sector-size is the device's logical block size" \
	test "$(be_read g1 51712 sector-size)" = "$(blockdev --getss "$loop")"
check "physical-sector-size is the device's physical block size" \
	test "$(be_read g1 51712 physical-sector-size)" = "$(blockdev --getpbsz "$loop")"
check "discard-granularity is the device's" \
	test "$(be_read g1 51712 discard-granularity)" = "$(cat /sys/block/$ldev/queue/discard_granularity)"
check "data verifies on the block device (2 queues, persistent)" \
	guest_of g1 --queues 2 --persistent --seed 11 verify 16
sync "$loop"
before=$(stat -c %b "$W/dev.img")
check "a discard of 4 MiB succeeds" guest_of g1 discard 0 8192
after=$(stat -c %b "$W/dev.img")
check "BLKDISCARD punched a hole in the loop file ($before -> $after blocks)" test "$after" -lt "$before"
check "the device still serves verified I/O after the discard" guest_of g1 --seed 11 verify 16
check "SIGTERM stops the daemon with exit status 0" stop_daemon
t_done
