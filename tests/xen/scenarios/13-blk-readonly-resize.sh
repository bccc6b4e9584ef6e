# SPDX-License-Identifier: GPL-2.0-or-later
# Description: A readonly disk (access=ro -> mode=r) refuses writes: the domU
# sees ro=1, a write fails, and the backing file is unchanged. Online resize:
# the backing file grows in dom0, `pvback-blk resize` re-checks it, the new
# size goes to the backend's `sectors` and the domU's /sys/block/xvda/size.
xt_blk_start || { xt_fail "pvback-blk starts"; return 0; }
rw=$XT_IMG/rs.img
ro=$XT_IMG/ro.img
xt_blk_img $rw 32
xt_blk_img $ro 32
dd if=/dev/urandom of=$ro bs=1M count=4 conv=notrunc 2>/dev/null
ro_sum=$(sha256sum $ro | cut -d' ' -f1)
if xt_check "domU with a rw xvda and a readonly xvdb (access=ro) connects" \
	xt_blk_domu rs1 -- "$(xt_blk_disk $rw xvda)" "$(xt_blk_disk $ro xvdb ro)"; then
	id=$(xt_domid rs1)
	xt_check "libxl wrote mode=r, pvback-blk wrote info=4 (VDISK_READONLY)" \
		test "$(xenstore-read "$(xt_blk_be $id 51728)/mode")/$(xenstore-read "$(xt_blk_be $id 51728)/info")" = r/4
	xt_check "the domU sees xvdb read-only (/sys/block/xvdb/ro = 1)" \
		xt_domu_run rs1 'test "$(cat /sys/block/xvdb/ro)" = 1' 30
	out=$(xt_domu_run rs1 'sha256sum /dev/xvdb' 60)
	xt_check "the domU reads xvdb: same sha256 as the file in dom0" sh -c "echo '$out' | grep -q '^$ro_sum '"
	xt_check "a write to xvdb fails in the domU" xt_domu_run rs1 \
		'! dd if=/dev/zero of=/dev/xvdb bs=4096 count=16 oflag=direct 2>&1' 60
	xt_check "the readonly backing file is unchanged" test "$(sha256sum $ro | cut -d' ' -f1)" = "$ro_sum"
	# resize
	s0=$(xenstore-read "$(xt_blk_be $id)/sectors")
	xt_check "domU xvda is 32 MiB (65536 sectors; backend says $s0)" \
		xt_domu_run rs1 'test "$(cat /sys/block/xvda/size)" = 65536' 30
	xt_check "domU writes a pattern in the first 32 MiB" xt_domu_run rs1 \
		'dd if=/dev/urandom of=/tmp/pat bs=1M count=2 2>/dev/null && dd if=/tmp/pat of=/dev/xvda bs=1M seek=30 conv=fsync 2>/dev/null' 60
	truncate -s 48M $rw
	xt_check "pvback-blk resize" pvback-blk resize
	xt_check "the backend's sectors become 98304" xt_xs_wait "$(xt_blk_be $id)/sectors" 98304 30
	xt_check "the domU sees 98304 sectors" xt_domu_run rs1 \
		'n=0; while [ "$(cat /sys/block/xvda/size)" != 98304 ] && [ $n -lt 100 ]; do sleep 0.2; n=$((n+1)); done; cat /sys/block/xvda/size; test "$(cat /sys/block/xvda/size)" = 98304' 60
	xt_check "the domU writes and reads back past the old end" xt_domu_run rs1 \
		'dd if=/tmp/pat of=/dev/xvda bs=1M seek=40 conv=fsync 2>/dev/null && dd if=/dev/xvda bs=1M skip=40 count=2 iflag=direct 2>/dev/null | cmp - /tmp/pat' 60
	xt_check "data before the old end is intact" xt_domu_run rs1 \
		'dd if=/dev/xvda bs=1M skip=30 count=2 iflag=direct 2>/dev/null | cmp - /tmp/pat' 60
	out=$(xt_domu_run rs1 'dmesg | grep -i "capacity change\|xvda.*size\|changed capacity"' 30)
	xt_log "domU dmesg on the resize: $out"
	xt_check "no I/O error in the domU's dmesg" xt_blk_no_io_error rs1
	xt_domu_poweroff rs1
fi
xt_blk_stop_check "SIGTERM stops pvback-blk (exit status 0)"
