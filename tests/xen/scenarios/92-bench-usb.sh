# SPDX-License-Identifier: GPL-2.0-or-later
# Description: bench-xen's USB part (only with tests/xen/run --bench, i.e.
# make bench-xen): QEMU's high-speed usb-storage stick ("1-1" in dom0, 480
# Mb/s, a sparse 64 MiB image) read the same way, in XU_ROUNDS rounds, by
#   dom0    dom0's own usb-storage on QEMU's xHCI: the limit on this machine
#   pvback  a PV domU (1 vCPU pinned to a pCPU dom0 does not use, 256 MiB)
#           whose xen-hcd is served by pvback-usb (backend/vusb, usbctrl
#           type=pv): the stick put on port 1 by pvback-usbdev (libxl's
#           usbdev-attach binds to a kernel usbback Linux lacks)
#   qusb    a second such domU with `usbctrl = [ 'type=qusb' ]`: libxl starts
#           QEMU (qemu-system-xen, machine xenpv) for it, whose xen-usb
#           backend serves backend/qusb and opens the stick with usb-host
#           (libusb); `xl usbdev-attach` works there (no usbback binding
#           for qusb). Where libxl or QEMU cannot, a TODO line says why.
# Jobs (usbbench.sh: busybox dd, O_DIRECT, timed with /proc/uptime):
#   seq-read     XU_MB MiB in 1 MiB reads (usb-storage splits them into SCSI
#                READ(10)s of at most 120 KiB): MB/s
#   read-4k-qd1  XU_LAT_N 4 KiB reads one at a time: µs per read, i.e. a CBW,
#                a data and a CSW URB and the SCSI layers of the reader
# pvback-usb (and QEMU) give the stick back to dom0's usb-storage when its
# port is emptied, so every round reads all three paths. The domUs stay up
# the whole run (idle when not measured). Figures go to the XT-RECORD block
# bench-usb (tests/xen/out/record-bench-usb.txt: one `backend=dom0|pvback|qusb
# round=N name=... mbps=...|lat_us=...` line per job, with its wall time, the
# CPU time dom0 and the domU used meanwhile and dom0's load average; `todo`
# lines for a path that could not run); tests/xen/run turns it into
# bench/results/xen-usb.json and a table (lib/bench-report.py --usb) with the
# host's CPU load and load average during each job (XT-BENCH begin/end).
# TCG: everything is slow; read the ratios.
XU_MB=32
XU_LAT_N=500
XU_ROUNDS=3
XU_OUT=/tmp/xt/bench-usb.txt
XU_SH=/xt/guest/usbbench.sh
XU_PV=bench-pvusb
XU_Q=bench-qusb
XU_QEMU=/usr/libexec/xen-qemu-system-i386
XU_PIN=
[ "$(xl info | sed -n 's/^nr_cpus *: //p')" -gt "$(xl vcpu-list Domain-0 | awk 'NR > 1' | wc -l)" ] &&
	XU_PIN="cpus = '$(($(xl info | sed -n 's/^nr_cpus *: //p') - 1))'"
XU_USBDEV=$(command -v pvback-usbdev || echo /etc/xen/scripts/pvback-usbdev)

xu_cpu() { # NAME: "uptime dom0-cpu-seconds domU-cpu-seconds" (as 90/91)
	xl list 2>/dev/null | awk -v u="$(xt_now)" -v n="$1" '
		$1 == "Domain-0" { d0 = $NF } $1 == n { du = $NF }
		END { print u, d0 + 0, du + 0 }'
}
xu_todo() { # PATH WHY: a path that cannot run here, in the results and the record
	xt_todo "[$1] $2"
	echo "todo backend=$1: $2" >>"$XU_OUT"
}
xu_dom0_disk() { sh "$XU_SH" disk "$stick"; }
# xu_quiet NAME ID SEC: wait for a domU command's exit marker with one grep of
# the console file a second (xt_domu_collect polls with xl every 0.2 s: CPU
# dom0's one vCPU would take from the backend being measured)
xu_quiet() {
	local log n=0
	log=$(xt_domu_log "$1")
	while [ $n -lt "$3" ]; do
		grep -q "XTD: cmd-exit $2 rc=" "$log" 2>/dev/null && return 0
		sleep 1
		n=$((n + 1))
	done
	return 1
}

# xu_measure BACKEND ROUND JOB DOMU ARGS: one job (in dom0 when DOMU is -),
# its figures, wall and CPU time and dom0's load average appended to XU_OUT
xu_measure() {
	local b=$1 r=$2 n=$3 dom=$4 args=$5 c0 c1 cid out rc cpu fig
	echo "XT-BENCH begin $b $r $n"
	c0=$(xu_cpu "$dom")
	if [ "$dom" = - ]; then
		out=$(sh "$XU_SH" $args 2>&1)
		rc=$?
	else
		cid=$(xt_domu_send "$dom" "sh /extra/usbbench.sh $args")
		xu_quiet "$dom" "$cid" 600
		out=$(xt_domu_collect "$dom" "$cid" 30)
		rc=$?
	fi
	c1=$(xu_cpu "$dom")
	echo "XT-BENCH end $b $r $n"
	cpu=$(echo "$c0 $c1" | awk '{ printf "wall_s=%.1f dom0_cpu_s=%.1f domu_cpu_s=%.1f", $4 - $1, $5 - $2, $6 - $3 }')
	if [ $rc = 0 ] && fig=$(echo "$out" | grep -E '^(mib|reads)=' | tail -n 1) && [ -n "$fig" ]; then
		echo "backend=$b round=$r name=$n $fig $cpu dom0_load=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' /)" >>"$XU_OUT"
		xt_pass "[$b #$r] $n: $fig $cpu"
	else
		echo "$out" | tail -n 10 | sed 's/^/    | /'
		xt_fail "[$b #$r] $n"
	fi
}
# xu_jobs BACKEND ROUND DOMU DISK
xu_jobs() {
	xu_measure "$1" "$2" seq-read "$3" "read $4 $XU_MB"
	xu_measure "$1" "$2" read-4k-qd1 "$3" "lat $4 $XU_LAT_N"
}

# xu_domu NAME CTRLLINE: a domU with the usb layer, /extra/usb.sh and
# /extra/usbbench.sh, its controller line as given
xu_domu() {
	xt_domu_start "$1" -f /xt/guest/usb.sh -f "$XU_SH" -l "$XT_DOMU_USB" -e XT_NOENV=1 -c 1 -m 256 -- \
		"$2" ${XU_PIN:+"$XU_PIN"}
}
# xu_back_in_dom0 LABEL: the stick left the domU and dom0's usb-storage has
# its disk again (in d0)
xu_back_in_dom0() {
	xt_wait 90 xu_dom0_disk >/dev/null || { xt_fail "[$1] the stick's disk is back in dom0"; return 1; }
	d0=$(xu_dom0_disk)
}

: >"$XU_OUT"
command -v pvback-usb >/dev/null || { xt_todo "bench-usb" "no build/bin/pvback-usb"; return 0; }
xt_check "dom0: QEMU's USB devices" xt_usb_dom0 || return 0
stick=$(xt_usb_find $XT_USB_STICK)
xt_wait 60 xu_dom0_disk >/dev/null || { xt_fail "dom0: usb-storage gives the stick a disk"; return 0; }
d0=$(xu_dom0_disk)
xt_pass "dom0: the stick $stick ($(cat /sys/bus/usb/devices/$stick/speed) Mb/s) is /dev/$d0" \
	"$(cat /sys/block/$d0/size) sectors, max_sectors_kb $(cat /sys/block/$d0/queue/max_sectors_kb)"
xt_log "bench-usb: $XU_ROUNDS rounds x dom0/pvback/qusb x seq-read ${XU_MB} MiB + read-4k-qd1 x $XU_LAT_N;" \
	"$(xl info | grep -E 'free_memory|xen_commandline' | tr -s ' \n' ' ')"

# pvback-usb and its domU
pv=
if xt_usb_start; then
	xt_pass "pvback-usb --hv xen starts"
	if xu_domu "$XU_PV" "$(xt_usb_ctrl)" && xt_xs_wait "$(xt_usb_be "$(xt_domid $XU_PV)")/state" 4 90 &&
		xt_domu_wait "$XU_PV" 'XTD: ready' 120; then
		pv=$(xt_domid $XU_PV)
		xt_pass "[pvback] domU with usbctrl type=pv: backend/vusb/$pv/0 Connected"
		xt_log "[pvback] vCPUs: $(xl vcpu-list | awk 'NR > 1 { printf "%s/%s on pCPU %s (affinity %s); ", $1, $3, $4, $7 }')"
	else
		xt_fail "[pvback] domU connects"
		xt_domu_destroy "$XU_PV"
	fi
else
	xt_fail "pvback-usb starts"
fi

# QEMU's qusb: libxl starts a device model for a PV domain with such a controller
q=
if [ ! -x "$XU_QEMU" ]; then
	xu_todo qusb "no $XU_QEMU in dom0 (tests/xen/run adds out/qemu.cpio with --bench only)"
elif ! xu_domu "$XU_Q" "usbctrl = [ 'type=qusb,version=2,ports=8' ]"; then
	xu_todo qusb "xl create with usbctrl type=qusb failed: $(grep -E 'rror|fail' /tmp/xt/$XU_Q.xl.log | tail -n 3 | tr -s '\n\t' ' ')"
	xt_domu_destroy "$XU_Q"
else
	id=$(xt_domid $XU_Q)
	if ! pidof xen-qemu-system-i386 >/dev/null; then
		xu_todo qusb "libxl started no device model for the qusb controller"
		xt_domu_destroy "$XU_Q"
	elif ! xt_xs_wait "/local/domain/0/backend/qusb/$id/0/state" 4 90; then
		xu_todo qusb "QEMU's xen-usb did not connect backend/qusb/$id/0 (state $(xenstore-read /local/domain/0/backend/qusb/$id/0/state 2>&1);" \
			"frontend $(xenstore-read /local/domain/$id/device/vusb/0/state 2>&1)): $(tail -n 3 /var/log/xen/qemu-dm-$XU_Q.log 2>/dev/null | tr -s '\n' ' ')"
		xt_domu_destroy "$XU_Q"
	elif ! xt_domu_wait "$XU_Q" 'XTD: ready' 120; then
		xt_fail "[qusb] domU boots"
		xt_domu_destroy "$XU_Q"
	else
		q=$id
		xt_pass "[qusb] libxl started QEMU (xenpv) and its xen-usb connected backend/qusb/$id/0"
		xt_record bench-usb-qusb-xenstore "/local/domain/0/backend/qusb/$id" "/local/domain/$id/device/vusb"
	fi
fi

r=1
while [ $r -le $XU_ROUNDS ]; do
	# (a) dom0's own usb-storage
	xu_back_in_dom0 "dom0 #$r" && xu_jobs dom0 $r - "$d0"

	# (b) pvback-usb
	if [ -n "$pv" ] && xt_check "[pvback #$r] pvback-usbdev attach $XU_PV --port 1 $stick" \
		"$XU_USBDEV" attach "$XU_PV" --controller 0 --port 1 "$stick"; then
		if d=$(xt_usb_sh "$XU_PV" disk port:1 120) && [ -n "$d" ]; then
			[ $r != 1 ] || xt_log "[pvback] domU: $(xt_usb_sh "$XU_PV" info port:1 | tr '\n' ' ')"
			xu_jobs pvback $r "$XU_PV" "$d"
		else
			xt_fail "[pvback #$r] the stick's disk in the domU" "$d"
		fi
		xt_check "[pvback #$r] pvback-usbdev detach: the stick leaves the domU" sh -c \
			". /xt/xt.sh; $XU_USBDEV detach $XU_PV --controller 0 --port 1 && xt_usb_sh $XU_PV gone $XT_USB_STICK 60"
	fi

	# (c) QEMU's qusb
	if [ -n "$q" ]; then
		xu_back_in_dom0 "qusb #$r" || break
		if ! out=$(xt_usb_xl_attach "$XU_Q" "$stick" 2>&1); then
			xu_todo qusb "xl usbdev-attach $XU_Q (qusb) failed: $(echo "$out" | grep -iE 'rror|fail' | tail -n 2 | tr -s '\n' ' ')"
			q=
		elif d=$(xt_usb_sh "$XU_Q" disk $XT_USB_STICK 120) && [ -n "$d" ]; then
			[ $r != 1 ] || xt_log "[qusb] domU: $(xt_usb_sh "$XU_Q" info $XT_USB_STICK | tr '\n' ' ')"
			xu_jobs qusb $r "$XU_Q" "$d"
			xt_check "[qusb #$r] xl usbdev-detach: the stick leaves the domU" sh -c \
				". /xt/xt.sh; xl usbdev-detach $XU_Q 0 1 && xt_usb_sh $XU_Q gone $XT_USB_STICK 60"
		else
			xu_todo qusb "xl usbdev-attach wrote backend/qusb/$q/0/port/1 = $(xenstore-read /local/domain/0/backend/qusb/$q/0/port/1 2>&1)" \
				"but no disk in the domU ($d; $(xt_domu_run "$XU_Q" 'dmesg | grep -iE "usb|xen_hcd|vusb" | tail -n 3' 30 | tr -s '\n' ' '));" \
				"QEMU: $(grep -v '^$' /var/log/xen/qemu-dm-$XU_Q.log 2>/dev/null | tail -n 3 | tr -s '\n' ' ')"
			xl usbdev-detach "$XU_Q" 0 1 >/dev/null 2>&1
			q=
		fi
	fi
	r=$((r + 1))
done

[ -z "$pv" ] || xt_check "[pvback] no xen-hcd complaint in the domU's dmesg" xt_usb_hcd_clean "$XU_PV"
[ -z "$pv" ] || xt_check "[pvback] domU powers off" xt_domu_poweroff "$XU_PV"
xt_domu_destroy "$XU_Q"
xt_usb_stop_check "[pvback] SIGTERM stops pvback-usb (exit status 0)"
xt_check "[pvback] no error logged by pvback-usb" sh -c "! grep ' ERR ' $XT_USB_LOG"

{
	echo "XT-RECORD-BEGIN bench-usb"
	echo "# make bench-xen $(date -u +%Y-%m-%dT%H:%MZ): QEMU usb-storage stick $stick" \
		"($(cat /sys/bus/usb/devices/$stick/speed) Mb/s, xHCI), busybox dd iflag=direct: $XU_MB MiB in 1 MiB reads," \
		"$XU_LAT_N 4 KiB reads at QD1; domUs 1 vCPU ${XU_PIN:-unpinned} 256 MiB; $XU_ROUNDS rounds"
	echo "# $(xl info | grep xen_commandline | tr -s ' ')"
	cat "$XU_OUT"
	echo "XT-RECORD-END bench-usb"
}
