# SPDX-License-Identifier: GPL-2.0-or-later
# NOT YET RUN (placeholder, issue 4): readonly disk refuses writes; resize seen by the domU
#
# access=ro: domU sees ro=1 in /sys/block/xvda/ro, dd of=/dev/xvda fails (EROFS/EIO)
# and the file is unchanged. Resize: truncate -s +32M the backing file, tell pvback-blk
# (sectors in backend/vbd/.../sectors, then the domU's /sys/block/xvda/size grows).
#
# Building blocks (tests/xen/dom0/xt.sh): xt_domu_start NAME -j JOB -e 'BLKFRONT_OPTS=...' -c VCPUS -m MB -- "disk = [ '...' ]",
# xt_domu_wait, xt_domu_run, xt_xs_wait backend/vbd/<domid>/51712/state 4, xt_domu_poweroff.
# pvback-blk is in PATH (/xt/bin) when build/bin/pvback-blk exists; its hotplug
# script goes to /etc/xen/scripts/ if the tree has an executable */pvback-block.
xt_todo "readonly disk refuses writes; resize seen by the domU" "placeholder, not yet run (needs pvback-blk)"
