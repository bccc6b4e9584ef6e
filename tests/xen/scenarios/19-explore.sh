# TEMPORARY exploration (not to be committed)
xt_blk_start || { xt_fail "pvback-blk starts"; return 0; }
try() { # LABEL MEM OPTS
	local label=$1 mem=$2 opts=$3 name=ex$1 id t0
	xt_blk_img $XT_IMG/$name.img 64
	t0=$(date +%s)
	xt_domu_start "$name" -f /xt/guest/blk.sh -e "BLKFRONT_OPTS='$opts'" -c 2 -m "$mem" -- \
		"disk = [ '$(xt_blk_disk $XT_IMG/$name.img)' ]"
	id=$(xt_domid $name)
	xt_xs_wait "$(xt_blk_be $id)/state" 4 60
	if xt_domu_wait "$name" 'XTD: ready' 75; then
		xt_pass "[$label] mem=$mem $opts: ready after $(($(date +%s) - t0)) s"
		xt_domu_run $name 'grep -E "MemTotal|MemFree|MemAvail" /proc/meminfo; sh /extra/blk.sh features xvda; dmesg | grep -i blkfront' 30
	else
		xt_fail "[$label] mem=$mem $opts: not ready"
		xl list
		xenstore-ls -f "$(xt_blk_fe $id)"
		cat "$(xt_domu_log $name)"
	fi
	xl destroy $name
	rm -f $XT_IMG/$name.img
}
try A 128 'feature_persistent=1 max_indirect_segments=256 max_queues=2'
try B 256 'feature_persistent=1 max_indirect_segments=256 max_queues=2'
try C 128 'feature_persistent=0 max_indirect_segments=256 max_queues=2'
try D 128 'feature_persistent=1 max_indirect_segments=0 max_queues=2'
try E 128 'feature_persistent=1 max_indirect_segments=256 max_queues=1'
echo "dom0 traps:"; dmesg | grep -E 'traps:|segfault' ; free -m
xt_blk_stop_check "stop"
