# SPDX-License-Identifier: GPL-2.0-or-later
# NOT YET RUN (placeholder, issue 4): fio verify (random + sequential, crc32c), vcpus=2, persistent grants / indirect on and off
#
# One domU per blkfront option set, -c 2 so blkfront uses 2 queues:
#   BLKFRONT_OPTS='' ; 'feature_persistent=0' ; 'max_indirect_segments=0' ; 'max_queues=1'
# domU job: fio --name=v --filename=/dev/xvda --direct=1 --ioengine=libaio --iodepth=16
#   --rw=randwrite --bs=4k-128k --size=48m --verify=crc32c --verify_fatal=1 (and --rw=write).
# Record which features the frontend negotiated (xenstore-ls device/vbd).
#
# Building blocks (tests/xen/dom0/xt.sh): xt_domu_start NAME -j JOB -e 'BLKFRONT_OPTS=...' -c VCPUS -m MB -- "disk = [ '...' ]",
# xt_domu_wait, xt_domu_run, xt_xs_wait backend/vbd/<domid>/51712/state 4, xt_domu_poweroff.
# pvback-blk is in PATH (/xt/bin) when build/bin/pvback-blk exists; its hotplug
# script goes to /etc/xen/scripts/ if the tree has an executable */pvback-block.
xt_todo "fio verify (random + sequential, crc32c), vcpus=2, persistent grants / indirect on and off" "placeholder, not yet run (needs pvback-blk)"
