# SPDX-License-Identifier: GPL-2.0-or-later
# Description: A device-less PV domU boots Debian's kernel with our agent,
# runs a job given at create time, and runs commands sent later through its
# console: the two ways every later scenario drives a domU.
cat >/tmp/xt/agent-job.sh <<'EOJ'
#!/bin/sh
echo "job: kernel $(uname -r), $(nproc) cpu(s), $(grep MemTotal /proc/meminfo)"
EOJ
t0=$(xt_now)
if xt_check "xl create device-less domU" xt_domu_start agent -j /tmp/xt/agent-job.sh; then
	xt_check "domU agent ready and job ran" xt_domu_wait agent 'XTD: job-exit rc=0' 120 &&
		xt_log "domU boot to job end: $(awk -v a=$t0 -v b=$(xt_now) 'BEGIN{print b-a}')s"
	out=$(xt_domu_run agent 'echo hello-$((6*7)); ls /sys/bus/xen/devices' 60)
	rc=$?
	echo "$out" | sed 's/^/    domU| /'
	if [ $rc = 0 ] && echo "$out" | grep -q hello-42; then xt_pass "command through the console"; else
		xt_fail "command through the console" "rc=$rc"; fi
	xt_domu_run agent 'exit 3' 30
	rc=$?
	if [ $rc = 3 ]; then xt_pass "command exit code comes back"; else xt_fail "command exit code comes back" "got $rc"; fi
	# the domU image carries the tools the blk scenarios use: do they run?
	xt_check "domU tools: mkfs.ext4, e2fsck, fio (libraries complete)" \
		xt_domu_run agent '/sbin/mke2fs -V && /sbin/e2fsck -V && fio --version' 60
	xt_check "domU fio verify on a tmpfs file (crc32c)" xt_domu_run agent \
		'fio --name=t --filename=/tmp/f --size=4m --rw=randwrite --bs=4k --ioengine=psync --verify=crc32c --verify_fatal=1 --output-format=terse >/dev/null' 120
	xt_check "domU powers off cleanly (@releaseDomain), then destroyed" xt_domu_poweroff agent 60
	xt_check "domain is gone" sh -c '! xl domid agent'
fi
