# SPDX-License-Identifier: GPL-2.0-or-later
# NOT YET RUN (placeholder, issue 4): sync/flush reaching the backing file; blkdiscard/fstrim punching holes
#
# domU: write + sync; dom0: the data is in the file (read it, not the page cache only).
# domU: blkdiscard -o 1M -l 8M /dev/xvda; dom0: stat -c %b shows fewer blocks / holes.
# domU: mkfs.ext4, mount, create + delete a big file, fstrim -v /mnt.
#
# Building blocks (tests/xen/dom0/xt.sh): xt_domu_start NAME -j JOB -e 'BLKFRONT_OPTS=...' -c VCPUS -m MB -- "disk = [ '...' ]",
# xt_domu_wait, xt_domu_run, xt_xs_wait backend/vbd/<domid>/51712/state 4, xt_domu_poweroff.
# pvback-blk is in PATH (/xt/bin) when build/bin/pvback-blk exists; its hotplug
# script goes to /etc/xen/scripts/ if the tree has an executable */pvback-block.
xt_todo "sync/flush reaching the backing file; blkdiscard/fstrim punching holes" "placeholder, not yet run (needs pvback-blk)"
