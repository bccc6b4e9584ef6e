# SPDX-License-Identifier: GPL-2.0-or-later
# NOT YET RUN (placeholder, issue 4): restart pvback-blk while a domU is idle (stretch: under I/O)
#
# domU with mounted ext4, idle; kill pvback-blk (SIGTERM), start it again; domU keeps
# working (write + sync + read back) without an I/O error in its dmesg.
#
# Building blocks (tests/xen/dom0/xt.sh): xt_domu_start NAME -j JOB -e 'BLKFRONT_OPTS=...' -c VCPUS -m MB -- "disk = [ '...' ]",
# xt_domu_wait, xt_domu_run, xt_xs_wait backend/vbd/<domid>/51712/state 4, xt_domu_poweroff.
# pvback-blk is in PATH (/xt/bin) when build/bin/pvback-blk exists; its hotplug
# script goes to /etc/xen/scripts/ if the tree has an executable */pvback-block.
xt_todo "restart pvback-blk while a domU is idle (stretch: under I/O)" "placeholder, not yet run (needs pvback-blk)"
