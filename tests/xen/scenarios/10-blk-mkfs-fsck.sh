# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvback-blk (kernel xen-blkback not loaded) serves a domU two
# disks from a plain xl config: xvda on a file, xvdb on a loop block device
# (losetup in dom0). In the domU, on each: mkfs.ext4, mount, files with
# sha256, umount, drop caches, mount, compare, umount, e2fsck -fn clean.
xt_check "kernel xen-blkback not loaded" sh -c '! grep -q "^xen_blkback " /proc/modules'
xt_blk_start || { xt_fail "pvback-blk starts"; return 0; }
xt_pass "pvback-blk --hv xen starts (control socket answers)"
xt_blk_img $XT_IMG/fs-file.img 64
xt_blk_img $XT_IMG/fs-loop.img 64
loopdev=$(losetup -f)
losetup "$loopdev" $XT_IMG/fs-loop.img
xt_check "loop device $loopdev over a file" test -b "$loopdev"
if xt_check "domU with a file disk and a loop-device disk connects (state 4)" \
	xt_blk_domu fs1 -- "$(xt_blk_disk $XT_IMG/fs-file.img xvda)" "$(xt_blk_disk "$loopdev" xvdb)"; then
	id=$(xt_domid fs1)
	xt_check "backend xvda params is the file, xvdb the loop device" sh -c \
		"xenstore-read $(xt_blk_be $id)/params | grep -q fs-file.img && xenstore-read $(xt_blk_be $id 51728)/params | grep -q $loopdev"
	xt_check "pvback-blk logged the loop device as a block device" grep -q "$loopdev: block device" "$XT_BLK_LOG"
	xt_check "file disk: mkfs.ext4, files with sha256, remount, compare, e2fsck clean" \
		xt_domu_run fs1 'sh /extra/blk.sh fs xvda' 300
	xt_check "loop-device disk: mkfs.ext4, files with sha256, remount, compare, e2fsck clean" \
		xt_domu_run fs1 'sh /extra/blk.sh fs xvdb' 300
	xt_check "no I/O error in the domU's dmesg" xt_blk_no_io_error fs1
	xt_check "the ext4 superblock magic is in the backing file" sh -c \
		"dd if=$XT_IMG/fs-file.img bs=1 skip=1080 count=2 2>/dev/null | od -An -tx1 | grep -q '53 ef'"
	xt_check "domU powers off" xt_domu_poweroff fs1
	xt_check "backend dirs removed after destroy" xt_xs_wait_gone "/local/domain/0/backend/vbd/$id" 30
fi
xt_check "pvback-blk is still running" xt_blk_alive
xt_blk_stop_check "SIGTERM stops pvback-blk (exit status 0)"
losetup -d "$loopdev"
