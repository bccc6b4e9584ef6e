# SPDX-License-Identifier: GPL-2.0-or-later
# NOT YET RUN (placeholder, issue 4): bench-xen: fio in a domU against xen-blkback, qdisk and pvback-blk
#
# Only with tests/xen/run --bench. One boot, the same fio jobs (4k randread/randwrite
# QD1 + QD32, 64k seq) against (a) modprobe xen-blkback, (b) backendtype=qdisk
# (needs Debian's qemu-system-xen in dom0: add it to build-images.sh), (c) pvback-blk.
# Emit an XT-RECORD block (JSON) -> tests/xen/out/record-bench-blk.txt; ratios only (TCG).
#
# Building blocks (tests/xen/dom0/xt.sh): xt_domu_start NAME -j JOB -e 'BLKFRONT_OPTS=...' -c VCPUS -m MB -- "disk = [ '...' ]",
# xt_domu_wait, xt_domu_run, xt_xs_wait backend/vbd/<domid>/51712/state 4, xt_domu_poweroff.
# pvback-blk is in PATH (/xt/bin) when build/bin/pvback-blk exists; its hotplug
# script goes to /etc/xen/scripts/ if the tree has an executable */pvback-block.
xt_todo "bench-xen: fio in a domU against xen-blkback, qdisk and pvback-blk" "placeholder, not yet run (needs pvback-blk)"
