# SPDX-License-Identifier: GPL-2.0-or-later
# Description: fio verify (randwrite, then sequential write; crc32c,
# verify_fatal) in domUs with vcpus=2, once with blkfront's features all on
# (feature_persistent=1 max_indirect_segments=256 max_queues=2) and once all
# off (feature_persistent=0 max_indirect_segments=0 max_queues=1):
# xen-blkfront module parameters from the agent's BLKFRONT_OPTS. What was
# negotiated is checked in xenstore (frontend + backend dirs, recorded as
# record-blk-negotiated-{on,off}.txt), in the domU's queue limits, and in
# pvback-blk's own view (stats, connect log line); pvback-blk runs confined
# in dom0 (docs/security.md: user pvback, CAP_DAC_OVERRIDE and CAP_IPC_LOCK
# only on the main thread, queue threads without capabilities under the
# seccomp filter).
xt_blk_start || { xt_fail "pvback-blk starts"; return 0; }
FIO_SIZE=32m

# fe_key ID KEY: the frontend's value or "-"
fe_key() { xenstore-read "$(xt_blk_fe "$1")/$2" 2>/dev/null || echo -; }
be_key() { xenstore-read "$(xt_blk_be "$1")/$2" 2>/dev/null || echo -; }

run_set() { # LABEL MEM_MB OPTS WANT_QUEUES WANT_PERSISTENT WANT_MAXSEG
	local label=$1 mem=$2 opts=$3 wq=$4 wp=$5 wseg=$6 name=fio$1 id f st
	xt_blk_img $XT_IMG/$name.img 64
	if ! xt_check "[$label] domU (vcpus=2, ${mem} MiB, $opts) connects" \
		xt_blk_domu "$name" -c 2 -m "$mem" -e "BLKFRONT_OPTS='$opts'" -- "$(xt_blk_disk $XT_IMG/$name.img)"; then
		return
	fi
	id=$(xt_domid "$name")
	xt_record "blk-negotiated-$label" "$(xt_blk_be "$id")" "$(xt_blk_fe "$id")"
	xt_check "[$label] backend offers multi-queue-max-queues=4, feature-persistent=1, indirect 256" \
		test "$(be_key "$id" multi-queue-max-queues)/$(be_key "$id" feature-persistent)/$(be_key "$id" feature-max-indirect-segments)" = 4/1/256
	if [ "$wq" = 1 ]; then
		xt_check "[$label] frontend: one ring (ring-ref, no multi-queue-num-queues)" \
			test "$(fe_key "$id" multi-queue-num-queues)" = - -a "$(fe_key "$id" ring-ref)$(fe_key "$id" ring-ref0)" != --
	else
		xt_check "[$label] frontend: multi-queue-num-queues=$wq, queue-0 and queue-1 dirs" \
			test "$(fe_key "$id" multi-queue-num-queues)" = "$wq" -a "$(xenstore-list "$(xt_blk_fe "$id")/queue-1" 2>/dev/null | wc -l)" -gt 0
	fi
	xt_check "[$label] frontend: feature-persistent=$wp" test "$(fe_key "$id" feature-persistent)" = "$wp"
	f=$(xt_domu_run "$name" 'sh /extra/blk.sh features xvda' 30)
	xt_log "[$label] domU xvda: $f"
	xt_check "[$label] domU: $wq blk-mq queue(s), max_segments $wseg" \
		sh -c "echo '$f' | grep -q 'queues=$wq max_segments=$wseg '"
	st=$(pvback-blk stats "vbd-$id-51712" 2>&1)
	echo "$st" | sed 's/^/    stats| /'
	xt_check "[$label] pvback-blk stats: $wq queue(s)" sh -c "echo '$st' | grep -q 'queues $wq '"
	xt_check "[$label] pvback-blk runs confined: user pvback, main thread dac_override and ipc_lock only, queue threads no capability + seccomp" \
		xt_pvd_confined pvback-blk "blk${id}q[0-9]+" 0000000000004002
	if [ "$wp" = 1 ]; then
		xt_check "[$label] pvback-blk connected with persistent grants" \
			grep -q "vbd-$id-51712: connected: $wq queue(s).*persistent grants" "$XT_BLK_LOG"
	else
		xt_check "[$label] pvback-blk connected without persistent grants" sh -c \
			"grep 'vbd-$id-51712: connected: $wq queue(s)' '$XT_BLK_LOG' | grep -qv 'persistent grants'"
	fi
	xt_check "[$label] fio randwrite + write, bs 4k-128k, crc32c verify ($FIO_SIZE)" \
		xt_domu_run "$name" "sh /extra/blk.sh fio xvda $FIO_SIZE $label" 400
	st=$(pvback-blk stats "vbd-$id-51712" 2>&1)
	echo "$st" | sed 's/^/    stats| /'
	xt_check "[$label] no I/O error in the domU's dmesg" xt_blk_no_io_error "$name"
	xt_domu_poweroff "$name"
}

# Memory: with persistent grants blkfront bounces through pages it allocates
# up front, (max_indirect_segments + 1) * 32 ring slots per queue: 2 queues x
# 32 x 257 pages = 64 MiB.  A 128 MiB domU (80 MiB MemTotal once the agent's
# initramfs is unpacked) cannot hold them: the GFP_NOIO allocations in
# blkfront_setup_indirect() never fail and never OOM-kill, so `modprobe
# xen-blkfront` spins for ever (state r) after the backend is Connected.
# Linux's own blkback offers 256 indirect segments too: same outcome.
run_set on 256 'feature_persistent=1 max_indirect_segments=256 max_queues=2' 2 1 256
run_set off 128 'feature_persistent=0 max_indirect_segments=0 max_queues=1' 1 0 11
xt_check "pvback-blk is still running" xt_blk_alive
xt_blk_stop_check "SIGTERM stops pvback-blk (exit status 0)"
