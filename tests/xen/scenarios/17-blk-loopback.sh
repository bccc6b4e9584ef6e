# SPDX-License-Identifier: GPL-2.0-or-later
# NOT YET RUN (placeholder, issue 4): our userspace blkfront (gntalloc) against pvback-blk in dom0
#
# Run the same integrity tests make check runs on pvsim, with PVBACK_HV=xen, in dom0
# (frontend and backend both in dom0 over real grants and event channels).
#
# Building blocks (tests/xen/dom0/xt.sh): xt_domu_start NAME -j JOB -e 'BLKFRONT_OPTS=...' -c VCPUS -m MB -- "disk = [ '...' ]",
# xt_domu_wait, xt_domu_run, xt_xs_wait backend/vbd/<domid>/51712/state 4, xt_domu_poweroff.
# pvback-blk is in PATH (/xt/bin) when build/bin/pvback-blk exists; its hotplug
# script goes to /etc/xen/scripts/ if the tree has an executable */pvback-block.
xt_todo "our userspace blkfront (gntalloc) against pvback-blk in dom0" "placeholder, not yet run (needs pvback-blk)"
