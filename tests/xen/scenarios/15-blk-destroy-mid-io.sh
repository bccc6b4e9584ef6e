# SPDX-License-Identifier: GPL-2.0-or-later
# NOT YET RUN (placeholder, issue 4): xl destroy of a domU mid-I/O leaves pvback-blk serving another domU
#
# Two domUs (A, B) with fio verify running; xl destroy A mid-run; B's fio completes
# with verify OK; pvback-blk still alive; backend/vbd/<A> is cleaned up.
#
# Building blocks (tests/xen/dom0/xt.sh): xt_domu_start NAME -j JOB -e 'BLKFRONT_OPTS=...' -c VCPUS -m MB -- "disk = [ '...' ]",
# xt_domu_wait, xt_domu_run, xt_xs_wait backend/vbd/<domid>/51712/state 4, xt_domu_poweroff.
# pvback-blk is in PATH (/xt/bin) when build/bin/pvback-blk exists; its hotplug
# script goes to /etc/xen/scripts/ if the tree has an executable */pvback-block.
xt_todo "xl destroy of a domU mid-I/O leaves pvback-blk serving another domU" "placeholder, not yet run (needs pvback-blk)"
