# SPDX-License-Identifier: GPL-2.0-or-later
# Description: Restart of pvback-blk while a domU is idle: ext4 mounted with
# files on it, SIGTERM (the daemon drains and leaves the backend Connected), a
# new pvback-blk re-attaches to the live rings; the domU writes, syncs and
# reads back without an I/O error. Stretch: a second restart while fio runs;
# then a SIGKILL while fio runs (the in-flight journal).
xt_blk_start || { xt_fail "pvback-blk starts"; return 0; }
xt_blk_img $XT_IMG/rst.img 64
if xt_check "domU (vcpus=2, 2 queues) connects" xt_blk_domu rs1 -c 2 -- "$(xt_blk_disk $XT_IMG/rst.img)"; then
	id=$(xt_domid rs1)
	# ext4's metadata_csum needs crc32c; the image has no modules.alias for the
	# kernel's own request_module (blk.sh loads it the same way)
	xt_check "mkfs.ext4, mount, files, sync" xt_domu_run rs1 \
		'modprobe crc32c_generic; /sbin/mkfs.ext4 -q -F /dev/xvda && mount -t ext4 /dev/xvda /mnt && dd if=/dev/urandom of=/mnt/before bs=1M count=4 2>/dev/null && sha256sum /mnt/before >/tmp/before.sum && sync' 180
	xt_blk_stop_check "SIGTERM stops pvback-blk while the domU is idle (exit status 0)"
	xt_check "the backend stays Connected for the idle domU" test "$(xenstore-read "$(xt_blk_be $id)/state")" = 4
	if xt_blk_start; then xt_pass "a new pvback-blk starts"; else xt_fail "a new pvback-blk starts"; fi
	xt_check "it re-attaches to the live connection" sh -c \
		"n=0; while ! pvback-blk stats vbd-$id-51712 2>/dev/null | grep -q 'state Connected'; do sleep 0.5; n=\$((n+1)); [ \$n -lt 40 ] || exit 1; done"
	grep "vbd-$id-51712.*re-attach" "$XT_BLK_LOG" | sed 's/^/    log| /'
	xt_check "the domU writes, syncs, reads back after the restart" xt_domu_run rs1 \
		'echo 3 >/proc/sys/vm/drop_caches; sha256sum -c /tmp/before.sum && dd if=/dev/urandom of=/mnt/after bs=1M count=4 2>/dev/null && sync && sha256sum /mnt/after >/tmp/after.sum && echo 3 >/proc/sys/vm/drop_caches && sha256sum -c /tmp/after.sum' 180
	xt_check "no I/O error in the domU's dmesg after the idle restart" xt_blk_no_io_error rs1
	# stretch: restart under I/O
	xt_check "umount; fio verify starts on xvda (48m)" xt_domu_run rs1 \
		'umount /mnt && sh /extra/blk.sh fio-bg xvda 48m bgr' 60
	sleep 5
	if xt_blk_stop && xt_blk_start; then
		xt_pass "stretch: pvback-blk restarted while fio runs"
		out=$(xt_domu_run rs1 'sh /extra/blk.sh wait-bg bgr 300' 320)
		rc=$?
		echo "$out" | sed 's/^/    bgr| /'
		if [ $rc = 0 ]; then xt_pass "stretch: fio verify across the restart under I/O"; else
			xt_fail "stretch: fio verify across the restart under I/O" "fio rc=$rc"; fi
	else
		xt_fail "stretch: pvback-blk restarted while fio runs"
	fi
	# SIGKILL under I/O: no drain; the next daemon re-issues what the journal
	# (/run/pvback-blk/state) says was consumed and not answered.  Here I/O
	# completes inline (page cache) so a kill rarely finds any in flight:
	# the daemon killed holds every other request (PVBACK_BLK_FAULT=stall-io)
	xt_blk_stop
	export PVBACK_BLK_FAULT=stall-io
	xt_blk_start
	unset PVBACK_BLK_FAULT
	xt_check "fio verify starts again on xvda (48m), half its requests held" xt_domu_run rs1 \
		'sh /extra/blk.sh fio-bg xvda 48m bgk' 60
	n=0
	while [ $n -lt 200 ] && ! pvback-blk stats "vbd-$id-51712" 2>/dev/null | grep -q 'inflight [1-9]'; do
		n=$((n + 1))
	done
	xt_check "the daemon to be killed holds requests in flight" sh -c \
		"pvback-blk stats vbd-$id-51712 | grep -q 'inflight [1-9]'"
	pvback-blk stats "vbd-$id-51712" 2>/dev/null | grep -o 'inflight [0-9]*' | sed 's/^/    held| /'
	if xt_blk_kill && xt_blk_start; then
		xt_pass "pvback-blk killed (SIGKILL) and restarted while fio runs"
		grep "vbd-$id-51712.*journal" "$XT_BLK_LOG" | sed 's/^/    log| /'
		xt_check "the new daemon re-issued the requests held by the killed one" sh -c \
			"grep 'vbd-$id-51712.*journal: re-issuing [1-9]' '$XT_BLK_LOG'"
		out=$(xt_domu_run rs1 'sh /extra/blk.sh wait-bg bgk 300' 320)
		rc=$?
		echo "$out" | sed 's/^/    bgk| /'
		if [ $rc = 0 ]; then xt_pass "fio verify across a SIGKILL and restart under I/O"; else
			xt_fail "fio verify across a SIGKILL and restart under I/O" "fio rc=$rc"; fi
		xt_check "no I/O error in the domU's dmesg after the kill" xt_blk_no_io_error rs1
	else
		xt_fail "pvback-blk killed (SIGKILL) and restarted while fio runs"
	fi
	xt_domu_poweroff rs1
fi
xt_blk_stop_check "SIGTERM stops pvback-blk (exit status 0)"
