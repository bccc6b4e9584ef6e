# SPDX-License-Identifier: GPL-2.0-or-later
# Description: the domain library of tests/sim/blk-*.sh (sourced, not run),
# on top of tap.sh: a private pvsim in a /var/tmp directory (a real
# filesystem, not tmpfs), pvback-blk start/stop, guests and their
# blkfront-tool (also in the background: guest_bg), the conditions the
# scripts wait on, and the hostile suites' setup: the offender g1, the
# bystander g2 and its verified I/O, the daemon's log per device.  W is the
# test's directory, S the pvsim's in it, $W/blk.log the daemon's log (shown
# when a test failed).
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"
BACKEND=pvback-blk BE_TYPE=vbd BE_LOG=blk.log
. "$(dirname "${BASH_SOURCE[0]}")/backend-lib.sh" blkfront-tool

guest_of() { local g=$1; shift; (eval "$(pvsim --dir "$S" env "$g")"; exec timeout 120 blkfront-tool "$@"); }

# guest_create NAME MEM: a pvsim guest (bails out when pvsim refuses).
guest_create() { pvsim --dir "$S" create "$1" --mem "$2" >/dev/null || bail_out "pvsim create $1"; }
# vbd_attach GUEST TARGET VDEV ACCESS: libxl's nodes for a vbd, as xl block-attach.
vbd_attach() { pvsim --dir "$S" attach "$1" vbd target="$2" vdev="$3" access="$4" >/dev/null; }
# g1_xvda [DAEMON OPTIONS]: guest g1 (256 MiB) with a 64 MiB $W/a.img as its
# xvda, and a daemon that answers; the backend's InitWait is the caller's check.
g1_xvda() {
	guest_create g1 256M
	truncate -s 64M "$W/a.img"
	daemon_up "$@"
	vbd_attach g1 "$W/a.img" xvda rw
}
# Guest mappings of the daemon: the pvsim memfds it maps (guest RAM pages,
# grant tables), its worker processes' too (--isolate domain); they all go
# when no queue runs.
guest_maps() {
	local p n=0 c
	for p in "$1" $(pgrep -P "$1"); do
		c=$(grep -cE 'memfd:pvsim-(ram|gnttab|active)' "/proc/$p/maps" 2>/dev/null) || true
		n=$((n + ${c:-0}))
	done
	echo "$n"
}
be_gone() { ! be_read "$1" "$2" state; }
# not_listed NAME (vbd-DOMID-DEVID): the daemon no longer lists the device (freed).
not_listed() { local s; s=$(stats 2>&1) || return 1; ! grep -q "^$1 " <<<"$s"; }
# sh_cmd LINE: a command to the shell_start'ed blkfront-tool; prints its
# reply line, after the diagnostics its failure wrote first ("verify: ...",
# stderr), which would otherwise be taken for the reply, one behind.
sh_cmd() {
	local reply
	echo "$*" >&"$sh_in" || return 1
	while IFS= read -r -t 60 reply <&"$sh_out"; do
		echo "$reply"
		[[ "$reply" == verify:* ]] || return 0
	done
	echo "no reply to: $*"
	return 1
}
sh_ok() { local r; r=$(sh_cmd "$@"); echo "$r"; [ "${r##*$'\n'}" = ok ]; }
# guest_bg LINE GUEST ARGS...: blkfront-tool ARGS as GUEST in the background
# (a coprocess: pid in bg_pid, its stdin on fd $bg_in, its output on fd
# $bg_out); returns once it printed LINE (the lines before go to stdout), 1
# when it does not within 60 s.  guest_bg_end closes its stdin (an attack
# --until-stdin stops), puts the rest of its output (120 s at most) in
# $W/bg.out and returns its exit status.
guest_bg() {
	local want=$1 g=$2 line
	shift 2
	coproc GUESTBG { guest_of "$g" "$@" 2>&1; }
	# bash drops GUESTBG when the coprocess exits: keep our own copies.
	exec {bg_in}>&"${GUESTBG[1]}" {bg_out}<&"${GUESTBG[0]}"
	# Ours is then the only write end: closing it is the tool's EOF.
	eval "exec ${GUESTBG[1]}>&-"
	bg_pid=$GUESTBG_PID
	while IFS= read -r -t 60 line <&"$bg_out"; do
		[ "$line" = "$want" ] && return 0
		echo "$line"
	done
	return 1
}
guest_bg_end() {
	exec {bg_in}>&-
	timeout 120 cat <&"$bg_out" >"$W/bg.out"
	exec {bg_out}<&-
	wait "$bg_pid"
}
# stream_start GUEST OPTIONS... stream N ACKED: blkfront-tool's write stream
# as GUEST in the background (pid in spid, its output on fd $sfd); returns
# once it says "running", 1 when it does not within 60 s.
stream_start() {
	local rc=0
	guest_bg running "$@" || rc=1
	spid=$bg_pid sfd=$bg_out
	return $rc
}

# The hostile suites (blk-hostile*.sh): guest g2 is the bystander, its xvda
# the 64 MiB $W/by.img.  bystander_ok: its verified I/O, a fresh seed each
# time, mapped (indirect, no persistent grants), grant-copied and through
# persistent grants on two queues.
bystander_up() {
	guest_create g2 256M
	truncate -s 64M "$W/by.img"
	vbd_attach g2 "$W/by.img" xvda rw
	wait_until 10 state_is g2 51712 2
}
# hostile_setup: g1_xvda (the offender's device, InitWait), the bystander,
# its I/O checked, res_mark; d1 names g1's xvda in the log (vbd-D-51712).
hostile_setup() {
	g1_xvda
	wait_until 10 state_is g1 51712 2
	bystander_up
	check "the bystander verifies before the attacks" bystander_ok
	res_mark
	d1=$(dev_name g1 51712)
}
bystander_ok() {
	guest_of g2 --indirect 256 --seed $RANDOM verify 4 &&
		guest_of g2 --seed $RANDOM verify 1 &&
		guest_of g2 --persistent --queues 2 --indirect 64 --seed $RANDOM verify 2
}
# alive_and_bounded CASE: after CASE the daemon runs, the bystander
# verifies, and the daemon's VmRSS and fds come back to within 128 MiB and 8
# of res_mark's; in the sanitizer build 256 MiB more, ASan's quarantine of
# freed memory (ring contexts of full rings are tens of MiB).
alive_and_bounded() {
	local rss
	rss=$(res_slack "$BACKEND")
	check "$1: the daemon runs" kill -0 "$daemon_pid"
	check "$1: the bystander still verifies" bystander_ok
	check "$1: VmRSS and fds back within bounds" wait_until 10 res_bounded $rss 8
}
# log_mark / log_since_of DEV: hostile-lib.sh's.
dev_name() { echo "vbd-$(domid_of "$1")-$2"; } # GUEST DEVID

# pvfio_setup SIZE: then `pvfio ARGS...` runs fio with the pvblk engine as
# guest g1 on its xvda (the first SIZE of it; pvfio_vdev=xvdb: on that).  In the sanitizer build the
# engine is an ASan/UBSan .so, so fio runs with those runtimes preloaded.
pvfio_setup() {
	engine=$T_BUILD/lib/pvblk.so
	[ -f "$engine" ] || bail_out "$engine not built (make fio-engine)"
	pvfio_size=$1 pvfio_pre=
	if ldd "$engine" | grep -q libasan; then
		pvfio_pre="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
		export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 # fio itself is not leak-clean
	fi
}
pvfio() { LD_PRELOAD=$pvfio_pre timeout 120 fio --ioengine=external:"$engine" --pvsim_dir="$S" \
	--domain=g1 --vdev="${pvfio_vdev:-xvda}" --filename="${pvfio_vdev:-xvda}" \
	--size="$pvfio_size" --output-format=terse \
	--verify_state_save=0 "$@"; }
