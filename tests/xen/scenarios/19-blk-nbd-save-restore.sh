# SPDX-License-Identifier: GPL-2.0-or-later
# Description: `xl save` + `xl restore` of a domU whose disks are NBD exports
# (issue 12). nbdkit's file plugin serves two image files in dom0 on unix
# sockets; pvback-blk serves them as xvda (ext4: mkfs, checksummed files,
# mounted across the save) and xvdb (fio crc32c verify in the background).
# While fio writes: xl save (the domain suspends, its image goes to a file,
# it is destroyed; pvback-blk drains and lets both devices go), then xl
# restore (a new domid; blkfront reconnects and re-issues what it had in
# flight): fio's verify ends with no error, the files read back from the
# exports, e2fsck clean, no I/O error in the domU. Then the same with the
# images as plain files: the baseline that says whether a failure is NBD's.
xt_blk_start || { xt_fail "pvback-blk starts"; return 0; }
XT_SAVE_DIR=/run/xt # a tmpfs apart from the rootfs the images fill
mkdir -p $XT_SAVE_DIR

# nbd_serve NAME IMG: nbdkit's file plugin on /tmp/xt/NAME.sock, in the
# background; nbd_up NAME...: each one listens and is still running
nbd_serve() {
	local sock=/tmp/xt/$1.sock
	rm -f "$sock"
	nbdkit -f -U "$sock" file "$2" >>/tmp/xt/nbdkit-$1.daemon.log 2>&1 &
	xt_bg $!
	echo $! >/tmp/xt/nbdkit-$1.pid
	xt_wait 30 test -S "$sock" || return 1
	# the daemon runs as user pvback (docs/security.md): give it the
	# socket as an administrator would, not through its DAC override
	chgrp pvback "$sock" && chmod 0660 "$sock"
}
nbd_up() {
	local n
	for n in "$@"; do
		test -S "/tmp/xt/$n.sock" && test -d "/proc/$(cat "/tmp/xt/nbdkit-$n.pid")" ||
			{ echo "nbdkit $n is not serving"; return 1; }
	done
}
nbd_uri() { echo "nbd+unix:///?socket=/tmp/xt/$1.sock"; }
both_connected() { # DOMID: both vbds' backends Connected
	xt_xs_wait "$(xt_blk_be "$1" 51712)/state" 4 90 && xt_xs_wait "$(xt_blk_be "$1" 51728)/state" 4 90
}
poweroff_gone() { # NAME DOMID
	xt_domu_poweroff "$1" && xt_xs_wait_gone "/local/domain/0/backend/vbd/$2" 30
}

# save_restore LABEL NAME TARGET_FS TARGET_FIO
save_restore() {
	local l=$1 name=$2 id nid d out rc t0 save=$XT_SAVE_DIR/$2.save
	if ! xt_check "[$l] domU (vcpus=2) with xvda and xvdb connects" \
		xt_blk_domu "$name" -c 2 -- "$(xt_blk_disk "$3" xvda)" "$(xt_blk_disk "$4" xvdb)"; then
		return 1
	fi
	id=$(xt_domid "$name")
	if [ "$l" = nbd ]; then
		grep -E "vbd-$id-517(12|28): .*NBD export" "$XT_BLK_LOG" | sed 's/^/    log| /'
		xt_check "[$l] pvback-blk opened both targets as NBD exports, read-write" sh -c \
			"grep -q 'vbd-$id-51712: .*NBD export read-write' '$XT_BLK_LOG' && grep -q 'vbd-$id-51728: .*NBD export read-write' '$XT_BLK_LOG'"
	fi
	xt_check "[$l] xvda: mkfs.ext4, mount, 10 MiB of files with sha256, sync" xt_domu_run "$name" \
		'modprobe crc32c_generic; /sbin/mkfs.ext4 -q -F /dev/xvda && mount -t ext4 /dev/xvda /mnt && for i in 1 2 3 4; do dd if=/dev/urandom of=/mnt/f$i bs=64k count=$((i * 16)) 2>/dev/null || exit 1; done && cd /mnt && sha256sum f1 f2 f3 f4 >/tmp/before.sums && sync' 180
	xt_check "[$l] xvdb: fio verify starts in the background (32m)" xt_domu_run "$name" \
		'sh /extra/blk.sh fio-bg xvdb 32m srf' 30
	# save while fio's writes are really flowing through pvback-blk
	d=$(xt_blk_writes_past "vbd-$id-51728" 100 120)
	xt_check "[$l] xvdb is busy ($d write requests so far)" test "${d:-0}" -gt 100
	xt_log "[$l] dom0 before the save: $(free -m | awk 'NR == 2 { print "free " $4 " MiB" }'), $XT_SAVE_DIR: $(df -m $XT_SAVE_DIR | awk 'NR == 2 { print $4 " MiB free" }')"
	t0=$(date +%s)
	xt_check "[$l] xl save $name while fio runs" timeout 240 sh -c \
		"xl -vvv save $name $save >/tmp/xt/$name-save.xl.log 2>&1"
	xt_log "[$l] xl save took $(($(date +%s) - t0)) s, $(du -m "$save" 2>/dev/null | cut -f1) MiB"
	xt_check "[$l] the saved domain is gone" sh -c "! xl domid $name"
	xt_check "[$l] its backend dirs are removed" xt_xs_wait_gone "/local/domain/0/backend/vbd/$id" 60
	# each queue stops only once it has answered every request the frontend
	# pushed (drain), then the device reports "disconnected"
	grep -E "vbd-$id-517(12|28)[^ ]*: (stopped|disconnected)" "$XT_BLK_LOG" | sed 's/^/    log| /'
	xt_check "[$l] pvback-blk drained and let both devices go (\"disconnected\")" sh -c \
		"grep -q 'vbd-$id-51712: disconnected' '$XT_BLK_LOG' && grep -q 'vbd-$id-51728: disconnected' '$XT_BLK_LOG'"
	xt_check "[$l] ... with no request answered in error" sh -c \
		"! grep -E 'vbd-$id-517(12|28)[^ ]*: stopped: .* errors [1-9]|vbd-$id-517(12|28).*I/O error' '$XT_BLK_LOG'"
	xt_check "[$l] pvback-blk no longer lists them" sh -c "! pvback-blk stats | grep -q '^vbd-$id-'"
	t0=$(date +%s)
	xt_check "[$l] xl restore" timeout 240 sh -c "xl -vvv restore -e $save >/tmp/xt/$name-restore.xl.log 2>&1"
	xt_log "[$l] xl restore took $(($(date +%s) - t0)) s"
	rm -f "$save" # ~130 MiB of dom0's RAM
	nid=$(xt_domid "$name") || { xt_fail "[$l] the restored domain exists"; return 1; }
	xt_check "[$l] the restored domain has a new domid ($id -> $nid)" test "$nid" != "$id"
	xt_check "[$l] xvda and xvdb reconnect to pvback-blk (backend state 4)" both_connected "$nid"
	grep -E "vbd-$nid-517(12|28): connected" "$XT_BLK_LOG" | sed 's/^/    log| /'
	xt_check "[$l] pvback-blk logged both connections of domain $nid" sh -c \
		"grep -q 'vbd-$nid-51712: connected' '$XT_BLK_LOG' && grep -q 'vbd-$nid-51728: connected' '$XT_BLK_LOG'"
	# fio took ~20 s after the restore when it went well: a bound that
	# leaves the scenario's budget to the baseline when it does not
	out=$(xt_domu_run "$name" 'sh /extra/blk.sh wait-bg srf 120' 150)
	rc=$?
	echo "$out" | sed 's/^/    srf| /'
	if [ $rc = 0 ]; then xt_pass "[$l] fio verify across save and restore completes with no error"; else
		xt_fail "[$l] fio verify across save and restore completes with no error" "rc=$rc"
		# what the domain and pvback-blk were doing (the domU's agent
		# may not answer: its console, xl's CPU time for it)
		xl list "$name" 2>&1 | sed 's/^/    xl| /'
		pvback-blk stats "vbd-$nid-51712" 2>&1 | sed 's/^/    stats| /'
		pvback-blk stats "vbd-$nid-51728" 2>&1 | sed 's/^/    stats| /'
		sleep 10
		xl list "$name" 2>&1 | sed 's/^/    xl+10s| /'
		pvback-blk stats "vbd-$nid-51728" 2>&1 | sed 's/^/    stats+10s| /'
		xt_domu_destroy "$name"
		return 1
	fi
	xt_check "[$l] the files read back with their sha256 (caches dropped)" xt_domu_run "$name" \
		'echo 3 >/proc/sys/vm/drop_caches; cd /mnt && sha256sum -c /tmp/before.sums' 120
	xt_check "[$l] a file written after the restore reads back (sync, caches dropped)" xt_domu_run "$name" \
		'dd if=/dev/urandom of=/mnt/after bs=64k count=32 2>/dev/null && sync && sha256sum /mnt/after >/tmp/after.sum && echo 3 >/proc/sys/vm/drop_caches && sha256sum -c /tmp/after.sum' 120
	xt_check "[$l] umount, e2fsck -fn clean" xt_domu_run "$name" 'umount /mnt && /sbin/e2fsck -fn /dev/xvda' 180
	xt_check "[$l] no I/O error in the domU's dmesg" xt_blk_no_io_error "$name"
	xt_check "[$l] domU powers off, backend dirs removed" poweroff_gone "$name" "$nid"
}

xt_blk_img $XT_IMG/sr-fs.img 64
xt_blk_img $XT_IMG/sr-fio.img 64
# nbdkit is started here, in the scenario's shell: started inside xt_check
# (a command substitution's subshell) it was gone, killed without a word and
# its socket left behind, by the time pvback-blk connected (refused)
nbd_serve nbd-fs $XT_IMG/sr-fs.img
nbd_serve nbd-fio $XT_IMG/sr-fio.img
if xt_check "nbdkit serves two image files on unix sockets" nbd_up nbd-fs nbd-fio; then
	save_restore nbd srn "$(nbd_uri nbd-fs)" "$(nbd_uri nbd-fio)"
	xt_check "nbdkit served on through it all" nbd_up nbd-fs nbd-fio
fi
# the images' RAM comes back only once nbdkit closes them
kill "$(cat /tmp/xt/nbdkit-nbd-fs.pid)" "$(cat /tmp/xt/nbdkit-nbd-fio.pid)" 2>/dev/null
rm -f $XT_IMG/sr-fs.img $XT_IMG/sr-fio.img
xt_blk_img $XT_IMG/srb-fs.img 64
xt_blk_img $XT_IMG/srb-fio.img 64
save_restore file srb $XT_IMG/srb-fs.img $XT_IMG/srb-fio.img
xt_check "pvback-blk is still running" xt_blk_alive
xt_blk_stop_check "SIGTERM stops pvback-blk (exit status 0)"
