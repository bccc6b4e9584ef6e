# SPDX-License-Identifier: GPL-2.0-or-later
# NOT YET RUN (placeholder, issue 4): mkfs.ext4, mount, files with checksums, umount, fsck clean
#
# Start pvback-blk (xen-blkback stays unloaded). For a file-backed disk and for a
# loop-device-backed disk (losetup in dom0, target=/dev/loopN):
#   disk=['format=raw,vdev=xvda,access=rw,backendtype=phy,script=pvback-block,target=...']
# domU job: mkfs.ext4 -q /dev/xvda; mount; write files (dd from /dev/urandom),
# sha256sum them; umount; mount again; compare sums; umount; e2fsck -fn -> rc 0.
# Also check in dom0 after poweroff: e2fsck -fn on the backing file.
#
# Building blocks (tests/xen/dom0/xt.sh): xt_domu_start NAME -j JOB -e 'BLKFRONT_OPTS=...' -c VCPUS -m MB -- "disk = [ '...' ]",
# xt_domu_wait, xt_domu_run, xt_xs_wait backend/vbd/<domid>/51712/state 4, xt_domu_poweroff.
# pvback-blk is in PATH (/xt/bin) when build/bin/pvback-blk exists; its hotplug
# script goes to /etc/xen/scripts/ if the tree has an executable */pvback-block.
xt_todo "mkfs.ext4, mount, files with checksums, umount, fsck clean" "placeholder, not yet run (needs pvback-blk)"
