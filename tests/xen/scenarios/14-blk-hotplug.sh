# SPDX-License-Identifier: GPL-2.0-or-later
# NOT YET RUN (placeholder, issue 4): xl block-attach / block-detach at runtime, during I/O
#
# xl block-attach NAME 'format=raw,vdev=xvdb,access=rw,backendtype=phy,script=pvback-block,target=...';
# xt_xs_wait backend/vbd/<id>/51728/state 4; domU sees xvdb; fio on xvdb;
# xl block-detach NAME xvdb while fio runs on xvda (must not be disturbed).
#
# Building blocks (tests/xen/dom0/xt.sh): xt_domu_start NAME -j JOB -e 'BLKFRONT_OPTS=...' -c VCPUS -m MB -- "disk = [ '...' ]",
# xt_domu_wait, xt_domu_run, xt_xs_wait backend/vbd/<domid>/51712/state 4, xt_domu_poweroff.
# pvback-blk is in PATH (/xt/bin) when build/bin/pvback-blk exists; its hotplug
# script goes to /etc/xen/scripts/ if the tree has an executable */pvback-block.
xt_todo "xl block-attach / block-detach at runtime, during I/O" "placeholder, not yet run (needs pvback-blk)"
