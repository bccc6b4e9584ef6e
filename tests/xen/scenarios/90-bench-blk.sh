# SPDX-License-Identifier: GPL-2.0-or-later
# Description: bench-xen (only with tests/xen/run --bench, i.e. make
# bench-xen): the same fio jobs in a PV domU (Linux's xen-blkfront with its
# default module parameters; 1 vCPU, pinned to a pCPU dom0 does not use when
# there is one) against three backends in dom0, one after the other, each
# serving the same fully written 256 MiB raw file on a dom0 tmpfs, in
# XB_ROUNDS rounds (kernel, qdisk, pvback, kernel, qdisk, pvback):
#   kernel  Linux's xen-blkback (modprobe; backendtype=phy, the `block` hotplug
#           stand-in gives it a loop device over the file, as Debian's does),
#           rmmod'ed again before pvback-blk starts
#   qdisk   QEMU's xen-block (backendtype=qdisk: libxl starts Debian's
#           qemu-system-xen, /usr/libexec/xen-qemu-system-i386, for the domU)
#   pvback  pvback-blk (backendtype=phy, script=pvback-block)
# Jobs (libaio, direct=1, time_based, XB_RAMP s ramp + XB_RT s measured, the
# whole disk): 4k randread QD1/QD32, 4k randwrite QD1/QD32, 64k read QD8.
# Figures go to the XT-RECORD block bench-blk (tests/xen/out/record-bench-blk.txt,
# one `backend=... round=N name=... iops=...` line per job, with the wall time
# of the job and the CPU time dom0 and the domU used meanwhile (xl list), and
# per backend one `name=idle` line: the same with no I/O); tests/xen/run turns
# it into bench/results/xen-blk.json and a table, with the host's own CPU load
# during each job (XT-BENCH begin/end lines). TCG: read the ratios only.
XB_MB=256
XB_RT=6
XB_RAMP=1
XB_ROUNDS=3
XB_DIR=$XT_IMG
XB_IMG=$XB_DIR/bench.img
XB_OUT=/tmp/xt/bench-blk.txt
XB_QEMU=/usr/libexec/xen-qemu-system-i386
# the domU's vCPU on a pCPU of its own when dom0 has fewer vCPUs than Xen has
# pCPUs (tests/xen/run --bench: dom0 1 vCPU pinned to pCPU 0)
XB_PIN=
[ "$(xl info | sed -n 's/^nr_cpus *: //p')" -gt "$(xl vcpu-list Domain-0 | awk 'NR > 1' | wc -l)" ] &&
	XB_PIN="cpus = '$(($(xl info | sed -n 's/^nr_cpus *: //p') - 1))'"
# name:rw:bs:iodepth
XB_JOBS="randread-4k-qd1:randread:4k:1 randread-4k-qd32:randread:4k:32
 randwrite-4k-qd1:randwrite:4k:1 randwrite-4k-qd32:randwrite:4k:32 read-64k-qd8:read:64k:8"

# xb_parse: a fio terse v3 line on stdin -> the figures of its main direction
# (read block: fields 6-46, write block: 47-87; percentiles are total latency
# with lat_percentiles=1, in µs)
xb_parse() {
	awk -F';' '{
		o = ($47 > $6) ? 41 : 0
		p50 = p99 = 0
		for (i = 18 + o; i <= 37 + o; i++) {
			split($i, kv, "=")
			if (kv[1] == "50.000000%") p50 = kv[2]
			if (kv[1] == "99.000000%") p99 = kv[2]
		}
		printf "iops=%d mbps=%.1f lat_p50_us=%s lat_p99_us=%s lat_mean_us=%.1f\n",
			$(8 + o), $(7 + o) * 1024 / 1e6, p50, p99, $(40 + o)
	}'
}

# xb_cpu NAME: "uptime dom0-cpu-seconds domU-cpu-seconds" (xl list's Time(s):
# every vCPU of the domain, Xen's work on its behalf included)
xb_cpu() {
	xl list 2>/dev/null | awk -v u="$(xt_now)" -v n="$1" '
		$1 == "Domain-0" { d0 = $NF } $1 == n { du = $NF }
		END { print u, d0 + 0, du + 0 }'
}

# xb_domu NAME XSTYPE DISKSPEC: the bench domU with one disk (xvda), connected
xb_domu() {
	local id
	xt_domu_start "$1" -f /xt/guest/blk.sh -c 1 -m 256 -- "disk = [ '$3' ]" ${XB_PIN:+"$XB_PIN"} || return 1
	id=$(xt_domid "$1")
	xt_xs_wait "/local/domain/0/backend/$2/$id/51712/state" 4 120 || return 1
	xt_domu_wait "$1" 'XTD: ready' 120 || return 1
	xt_domu_run "$1" 'sh /extra/blk.sh wait-dev xvda 60' 70
}

# xb_measure NAME BACKEND ROUND JOBNAME RW BS QD: one fio job in the domU, its
# figures and the CPU time both domains used meanwhile appended to XB_OUT
xb_measure() {
	local name=$1 b=$2 r=$3 n=$4 c0 c1 cid out rc cpu line fig
	# the host stamps these two lines: its own CPU load in between is known
	echo "XT-BENCH begin $b $r $n"
	c0=$(xb_cpu "$name")
	# no console polling (xl, grep) in dom0 while fio measures
	cid=$(xt_domu_send "$name" "sh /extra/blk.sh bench xvda $n $5 $6 $7 $XB_RT $XB_RAMP")
	sleep $((XB_RT + XB_RAMP))
	out=$(xt_domu_collect "$name" "$cid" 90)
	rc=$?
	c1=$(xb_cpu "$name")
	echo "XT-BENCH end $b $r $n"
	cpu=$(echo "$c0 $c1" | awk '{ printf "wall_s=%.1f dom0_cpu_s=%.1f domu_cpu_s=%.1f", $4 - $1, $5 - $2, $6 - $3 }')
	if [ $rc = 0 ] && line=$(echo "$out" | grep '^3;') && fig=$(echo "$line" | head -n 1 | xb_parse); then
		echo "backend=$b round=$r name=$n rw=$5 bs=$6 iodepth=$7 $fig $cpu runtime_s=$XB_RT ramp_s=$XB_RAMP" >>"$XB_OUT"
		xt_pass "[$b #$r] fio $n: $fig $cpu"
	else
		echo "$out" | tail -n 20 | sed 's/^/    | /'
		xt_fail "[$b #$r] fio $n"
	fi
}

# xb_backend BACKEND XSTYPE ROUND DISKSPEC: boot a domU on it, run every job, power off
xb_backend() {
	local b=$1 t=$2 r=$3 name=bench-$1 id j c0 c1
	if ! xt_check "[$b #$r] domU connects (backend/$t state 4, /dev/xvda)" xb_domu "$name" "$t" "$4"; then
		xt_domu_destroy "$name"
		return 1
	fi
	id=$(xt_domid "$name")
	[ "$t" != qdisk ] || xt_check "[$b #$r] libxl started QEMU's device model" pidof xen-qemu-system-i386
	if [ "$r" = 1 ]; then
		xt_record "bench-blk-$b-xenstore" "/local/domain/0/backend/$t/$id" "/local/domain/$id/device/vbd"
		xt_log "[$b] vCPUs: $(xl vcpu-list | awk 'NR > 1 { printf "%s/%s on pCPU %s (affinity %s); ", $1, $3, $4, $7 }')"
		# what both domains burn with the disk connected and no I/O
		c0=$(xb_cpu "$name")
		sleep $XB_RT
		c1=$(xb_cpu "$name")
		echo "$c0 $c1" | awk -v b="$b" '{ printf "backend=%s round=1 name=idle wall_s=%.1f dom0_cpu_s=%.1f domu_cpu_s=%.1f\n",
			b, $4 - $1, $5 - $2, $6 - $3 }' >>"$XB_OUT"
	fi
	for j in $XB_JOBS; do
		xb_measure "$name" "$b" "$r" $(echo "$j" | tr : ' ')
	done
	xt_check "[$b #$r] no I/O error in the domU's dmesg" xt_blk_no_io_error "$name"
	xt_check "[$b #$r] domU powers off" xt_domu_poweroff "$name"
	xt_check "[$b #$r] backend/$t/$id removed" xt_xs_wait_gone "/local/domain/0/backend/$t/$id" 30
}

xb_no_qemu() { # libxl kills the device model when it destroys the domain
	local n=0
	while pidof xen-qemu-system-i386 >/dev/null; do
		[ $n -lt 60 ] || return 1
		sleep 0.5
		n=$((n + 1))
	done
}

: >"$XB_OUT"
mkdir -p "$XB_DIR"
grep -q " $XB_DIR tmpfs " /proc/mounts || mount -t tmpfs -o size=$((XB_MB + 16))m tmpfs "$XB_DIR"
# every block written (no holes), so all three read real pages
xt_check "backing file: $XB_MB MiB raw, fully written, on tmpfs" \
	dd if=/dev/zero of="$XB_IMG" bs=1M count=$XB_MB conv=fsync
xt_log "bench: $XB_ROUNDS rounds x 3 backends x $(echo $XB_JOBS | wc -w) jobs x ${XB_RAMP}+${XB_RT} s;" \
	"$(xl info | grep -E 'free_memory|xen_commandline' | tr -s ' \n' ' ')"
xt_check "[qdisk] $XB_QEMU is in dom0" test -x "$XB_QEMU"

# The three one after the other, in rounds: noise on the host (TCG shares its
# two cores) then hits every backend alike, and the rounds show its size.
r=1
while [ $r -le $XB_ROUNDS ]; do
	# (a) the kernel's xen-blkback, unloaded again before pvback-blk runs
	if xt_check "[kernel #$r] modprobe xen-blkback" modprobe xen-blkback &&
		xt_check "[kernel #$r] xen-blkback serves backend/vbd" test -d /sys/bus/xen-backend/drivers/vbd; then
		xb_backend kernel vbd $r "format=raw,vdev=xvda,access=rw,backendtype=phy,target=$XB_IMG"
		xt_check "[kernel #$r] block remove detached the loop device" sh -c '[ -z "$(losetup -a)" ]'
	fi
	xt_check "[kernel #$r] rmmod xen-blkback" rmmod xen_blkback

	# (b) QEMU's qdisk: libxl starts the device model with the domain
	if [ -x "$XB_QEMU" ]; then
		xb_backend qdisk qdisk $r "format=raw,vdev=xvda,access=rw,backendtype=qdisk,target=$XB_IMG"
		xt_check "[qdisk #$r] the device model exited with its domain" xb_no_qemu
	fi

	# (c) pvback-blk
	if xt_check "[pvback #$r] xen-blkback not loaded" sh -c '! grep -q "^xen_blkback " /proc/modules' &&
		xt_blk_start; then
		xb_backend pvback vbd $r "$(xt_blk_disk "$XB_IMG" xvda)"
		xt_blk_stop_check "[pvback #$r] SIGTERM stops pvback-blk (exit status 0)"
	else
		xt_fail "[pvback #$r] pvback-blk starts"
	fi
	r=$((r + 1))
done

{
	echo "XT-RECORD-BEGIN bench-blk"
	echo "# make bench-xen $(date -u +%Y-%m-%dT%H:%MZ): fio $XB_RAMP s ramp + $XB_RT s, libaio direct=1," \
		"domU 1 vCPU ${XB_PIN:-unpinned} 256 MiB, $XB_MB MiB raw file on dom0 tmpfs, $XB_ROUNDS rounds"
	echo "# $(xl info | grep xen_commandline | tr -s ' ')"
	cat "$XB_OUT"
	echo "XT-RECORD-END bench-blk"
}
