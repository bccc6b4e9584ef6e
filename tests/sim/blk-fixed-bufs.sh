#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: persistent-grant pages as io_uring registered buffers
# (pvback-blk --fixed-bufs, auto = on for pvsim).  A persistent frontend's
# single-page requests run as READ/WRITE_FIXED, the others vectored, which
# `pvback-blk stats --json` counts per queue (io_fixed, io_vec): fio with
# the pvblk engine doing 4 KiB crc32c-verified writes and reads on O_DIRECT
# makes every read and write fixed; mixed sizes split between the two;
# durable writes (flush and barrier with data) work on them; data written
# through registered buffers reads back through readv (--fixed-bufs off)
# and the other way round; --fixed-bufs off, --io aio and frontends without
# persistent grants never use them.
. "$(dirname "$0")/blk-lib.sh"

pvfio_setup 8m

guest_create g1 256M
truncate -s 64M "$W/a.img"
cd "$W" # fio writes any state files to its working directory

# xvda's counters summed over its queues, as "io_fixed io_vec rd_req wr_req errors".
counters() {
	stats --json | python3 -c '
import json, sys
d = [x for x in json.load(sys.stdin)["devices"] if x["name"] == "vbd-1-51712"][0]
t = d["total"]
print(t["io_fixed"], t["io_vec"], t["rd_req"], t["wr_req"], t["errors"])'
}
# Run the daemon with these options until the next restart; returns once it
# has probed xvda (InitWait, or Closed after a frontend left).
listed() { stats | grep -q '^vbd-1-51712 '; }
restart() {
	[ -n "$daemon_pid" ] && { stop_daemon || return 1; }
	start_daemon --direct on "$@"
	wait_until 10 listed
}
check "xvda attaches" vbd_attach g1 "$W/a.img" xvda rw
check "the daemon serves it (O_DIRECT, --fixed-bufs auto)" restart

# 4 KiB requests on zero-copy fio buffers: one whole persistent page each.
check "fio 4 KiB randwrite + crc32c verify, persistent grants" pvfio --name=v \
	--rw=randwrite --bs=4k --iodepth=16 --verify=crc32c --verify_fatal=1 --do_verify=1 \
	--persistent=1
all_fixed() {
	local fx vec rd wr err
	read -r fx vec rd wr err < <(counters)
	echo "io_fixed $fx io_vec $vec rd_req $rd wr_req $wr errors $err"
	[ "$rd" -gt 0 ] && [ "$wr" -gt 0 ] && [ "$fx" -eq $((rd + wr)) ] && [ "$vec" -eq 0 ] &&
		[ "$err" -eq 0 ]
}
check "every read and write ran on a registered buffer (io_fixed = rd_req + wr_req)" all_fixed
check "the text stats show the counters" \
	grep -qE '^  total .* io_fixed [1-9][0-9]* io_vec 0$' <(stats)

# Mixed sizes (512 B .. 1 MiB): the one-page ones fixed, the rest vectored.
check "blkfront-tool verify, mixed sizes, persistent grants" guest_of g1 --persistent verify 4
some_of_each() {
	local fx vec rd wr err
	read -r fx vec rd wr err < <(counters)
	echo "io_fixed $fx io_vec $vec rd_req $rd wr_req $wr errors $err"
	[ "$vec" -gt 0 ] && [ "$fx" -gt 0 ] && [ "$((fx + vec))" -eq $((rd + wr)) ] && [ "$err" -eq 0 ]
}
check "single-page requests fixed, larger ones vectored" some_of_each
# Flushes and barriers with data: the write is linked to its fsync.
check "ordered writes, barriers and flushes with data complete" guest_of g1 --persistent ordered

# Written through registered buffers, read through readv, and back.
shell_start g1 --persistent
check "write 4 MiB (fixed buffers on)" sh_ok write 11 4
shell_stop
check "restart with --fixed-bufs off" restart --fixed-bufs off
shell_start g1 --persistent
check "read back through readv" sh_ok check 11 4
check "write 4 MiB (fixed buffers off)" sh_ok write 12 4
shell_stop
none_fixed() {
	local fx vec rd wr err
	read -r fx vec rd wr err < <(counters)
	echo "io_fixed $fx io_vec $vec rd_req $rd wr_req $wr errors $err"
	[ "$fx" -eq 0 ] && [ "$vec" -eq $((rd + wr)) ] && [ "$rd" -gt 0 ] && [ "$err" -eq 0 ]
}
check "--fixed-bufs off: nothing ran fixed" none_fixed
check "restart with --fixed-bufs on" restart --fixed-bufs on
shell_start g1 --persistent
check "read back through registered buffers" sh_ok check 12 4
shell_stop
check "and they were used" some_of_each

# Where they do not apply, requests just run vectored.
check "restart with --io aio --fixed-bufs on" restart --io aio --fixed-bufs on
check "fio verify on libaio" pvfio --name=a --rw=randwrite --bs=4k --iodepth=16 \
	--verify=crc32c --verify_fatal=1 --do_verify=1 --persistent=1
check "libaio: nothing ran fixed" none_fixed
check "restart (io_uring, --fixed-bufs auto)" restart
check "fio verify without persistent grants" pvfio --name=n --rw=randwrite --bs=4k \
	--iodepth=16 --verify=crc32c --verify_fatal=1 --do_verify=1 --persistent=0
check "no persistent grants: nothing ran fixed" none_fixed
check "SIGTERM stops the daemon with exit status 0" stop_daemon
t_done
