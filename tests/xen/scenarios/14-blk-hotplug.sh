# SPDX-License-Identifier: GPL-2.0-or-later
# Description: Hot-plug and unplug at run time. While fio verifies on xvda: xl
# block-attach xvdb, fio verify on it, xl block-detach once it finished (clean
# unplug). Then xl block-detach of xvdc while fio is running on it: blkfront
# fails the outstanding I/O (the disk is gone), the detach completes, the domU
# and its other disk go on, pvback-blk serves on.
xt_blk_start || { xt_fail "pvback-blk starts"; return 0; }
for d in a b c; do xt_blk_img $XT_IMG/hp-$d.img 48; done
if xt_check "domU with xvda connects" xt_blk_domu hp1 -- "$(xt_blk_disk $XT_IMG/hp-a.img xvda)"; then
	id=$(xt_domid hp1)
	xt_check "fio verify starts on xvda in the background" \
		xt_domu_run hp1 'sh /extra/blk.sh fio-bg xvda 24m bga' 30
	xt_check "xl block-attach xvdb during I/O on xvda" \
		timeout 120 xl block-attach hp1 "$(xt_blk_disk $XT_IMG/hp-b.img xvdb)"
	xt_check "xvdb backend connects (state 4)" xt_xs_wait "$(xt_blk_be $id 51728)/state" 4 60
	xt_check "the domU sees xvdb" xt_domu_run hp1 'sh /extra/blk.sh wait-dev xvdb 30' 40
	xt_check "fio verify on the hot-plugged xvdb (16m)" xt_domu_run hp1 'sh /extra/blk.sh fio xvdb 16m hpb' 300
	t0=$(date +%s)
	xt_check "xl block-detach xvdb after its I/O finished" timeout 120 xl block-detach hp1 xvdb
	xt_log "block-detach xvdb took $(($(date +%s) - t0)) s"
	xt_check "xvdb backend dir removed" xt_xs_wait_gone "$(xt_blk_be $id 51728)" 30
	xt_check "the domU lost xvdb" xt_domu_run hp1 'sh /extra/blk.sh wait-gone xvdb 30' 40
	xt_check "fio verify on xvda was undisturbed" xt_domu_run hp1 'sh /extra/blk.sh wait-bg bga 300' 320

	xt_check "xl block-attach xvdc" timeout 120 xl block-attach hp1 "$(xt_blk_disk $XT_IMG/hp-c.img xvdc)"
	xt_check "xvdc backend connects (state 4)" xt_xs_wait "$(xt_blk_be $id 51744)/state" 4 60
	xt_check "the domU sees xvdc" xt_domu_run hp1 'sh /extra/blk.sh wait-dev xvdc 30' 40
	xt_check "fio verify starts on xvdc in the background (48m)" \
		xt_domu_run hp1 'sh /extra/blk.sh fio-bg xvdc 48m bgc' 30
	sleep 4
	ws=$(pvback-blk stats "vbd-$id-51744" 2>&1 | awk '/total/ { print $5, $7 }')
	xt_log "xvdc before the detach: rd_req/wr_req $ws"
	t0=$(date +%s)
	timeout 120 xl block-detach hp1 xvdc >/tmp/xt/detach.out 2>&1
	rc=$?
	t1=$(date +%s)
	if [ $rc = 0 ]; then xt_pass "xl block-detach xvdc during fio returns ($((t1 - t0)) s)"; else
		cat /tmp/xt/detach.out | sed 's/^/    | /'
		xt_fail "xl block-detach xvdc during fio returns" "rc=$rc after $((t1 - t0)) s"
	fi
	xt_check "xvdc backend dir removed" xt_xs_wait_gone "$(xt_blk_be $id 51744)" 30
	out=$(xt_domu_run hp1 'sh /extra/blk.sh wait-bg bgc 90' 100)
	rc=$?
	echo "$out" | sed 's/^/    bgc| /'
	echo "$out" >/tmp/xt/bgc.out
	xt_check "fio on the unplugged xvdc ended (fio rc=$rc: I/O errors expected), it did not hang" \
		sh -c "! grep -q 'still running' /tmp/xt/bgc.out"
	xt_check "the domU lost xvdc" xt_domu_run hp1 'sh /extra/blk.sh wait-gone xvdc 30' 40
	xt_check "the domU still answers and xvda verifies (fio 8m)" xt_domu_run hp1 'sh /extra/blk.sh fio xvda 8m after' 200
	xt_domu_poweroff hp1
fi
xt_check "pvback-blk is still running" xt_blk_alive
xt_blk_stop_check "SIGTERM stops pvback-blk (exit status 0)"
