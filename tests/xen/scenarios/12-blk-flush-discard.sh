# SPDX-License-Identifier: GPL-2.0-or-later
# Description: Flush and discard reach the backing file. A marker written in
# the domU and flushed (dd conv=fsync: a FLUSH/FUA request) is in the backing
# file when the domU's write returns; `sync` on a mounted ext4 sends a flush;
# blkdiscard on the raw disk and fstrim on a mounted ext4 punch holes in the
# backing file (st_blocks drops).
xt_blk_start || { xt_fail "pvback-blk starts"; return 0; }
img=$XT_IMG/fd.img
xt_blk_img $img 64
blocks() { stat -c %b "$img"; }
stat_field() { # DEV FIELD: a counter summed over the device's queue lines
	pvback-blk stats "$1" 2>/dev/null | awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) s += $(i + 1) } END { print s + 0 }'
}
if xt_check "domU with a file disk connects" xt_blk_domu fd1 -- "$(xt_blk_disk $img)"; then
	id=$(xt_domid fd1)
	dev=vbd-$id-51712
	xt_check "backend offers feature-flush-cache=1 and feature-discard=1" \
		test "$(xenstore-read "$(xt_blk_be $id)/feature-flush-cache")$(xenstore-read "$(xt_blk_be $id)/feature-discard")" = 11
	f0=$(stat_field $dev f_req)
	marker="XT-FLUSH-MARKER-$$-$(date +%s)"
	xt_check "domU writes a marker at 8 MiB with conv=fsync" \
		xt_domu_run fd1 "printf '%-4096s' '$marker' | dd of=/dev/xvda bs=4096 seek=2048 conv=fsync 2>&1" 60
	xt_check "the marker is in the backing file when the domU's fsync returned" sh -c \
		"dd if=$img bs=4096 skip=2048 count=1 2>/dev/null | grep -q '$marker'"
	f1=$(stat_field $dev f_req)
	xt_check "pvback-blk counted flush requests ($f0 -> $f1)" test "$f1" -gt "$f0"
	# data for blkdiscard to punch (2 MiB..10 MiB lies inside it)
	xt_check "domU writes 16 MiB at 1 MiB (conv=fsync)" xt_domu_run fd1 \
		"dd if=/dev/urandom of=/dev/xvda bs=1M seek=1 count=16 conv=fsync 2>/dev/null" 120
	out=$(xt_domu_run fd1 'sh /extra/blk.sh features xvda' 30)
	xt_log "domU xvda: $out"
	xt_check "the domU sees discard ($out)" sh -c "echo '$out' | grep -q 'discard_max=[1-9]'"
	b0=$(blocks)
	d0=$(stat_field $dev ds_req)
	xt_check "blkdiscard -o 2M -l 8M /dev/xvda in the domU" xt_domu_run fd1 'blkdiscard -o 2097152 -l 8388608 /dev/xvda' 60
	b1=$(blocks)
	d1=$(stat_field $dev ds_req)
	xt_check "pvback-blk counted discard requests ($d0 -> $d1)" test "$d1" -gt "$d0"
	xt_check "blkdiscard punched a hole: st_blocks $b0 -> $b1 (8 MiB = 16384)" test $((b0 - b1)) -ge 16384
	xt_check "the discarded range reads back as zeros in the domU" xt_domu_run fd1 \
		'test "$(dd if=/dev/xvda bs=1M skip=3 count=6 iflag=direct 2>/dev/null | tr -d "\000" | wc -c)" = 0' 60
	# fstrim: ext4 with a big file, deleted, then trimmed
	xt_check "mkfs.ext4 (no discard at mkfs), mount" xt_domu_run fd1 \
		'/sbin/mkfs.ext4 -q -F -E nodiscard /dev/xvda && mount -t ext4 /dev/xvda /mnt' 180
	# sync(2) on a raw block device only writes back its page cache (Linux's
	# sync_bdevs issues no cache flush); a filesystem's sync_fs does (ext4:
	# the jbd2 commit carries a PREFLUSH), so the sync check is on ext4
	f2=$(stat_field $dev f_req)
	xt_check "24 MiB file on ext4, sync" xt_domu_run fd1 \
		'dd if=/dev/urandom of=/mnt/big bs=1M count=24 2>/dev/null && sync' 180
	f3=$(stat_field $dev f_req)
	xt_check "sync on ext4 issued a flush ($f2 -> $f3)" test "$f3" -gt "$f2"
	b2=$(blocks)
	xt_check "delete the file, fstrim -v /mnt" xt_domu_run fd1 'rm /mnt/big && sync && fstrim -v /mnt' 120
	b3=$(blocks)
	xt_check "fstrim punched holes: st_blocks $b2 -> $b3 (24 MiB = 49152)" test $((b2 - b3)) -ge 40000
	xt_check "umount, e2fsck clean" xt_domu_run fd1 'umount /mnt && /sbin/e2fsck -fn /dev/xvda' 120
	xt_check "no I/O error in the domU's dmesg" xt_blk_no_io_error fd1
	xt_domu_poweroff fd1
fi
xt_blk_stop_check "SIGTERM stops pvback-blk (exit status 0)"
