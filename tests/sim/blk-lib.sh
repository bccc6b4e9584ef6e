# SPDX-License-Identifier: GPL-2.0-or-later
# Description: the domain library of tests/sim/blk-*.sh (sourced, not run),
# on top of tap.sh: a private pvsim in a /var/tmp directory (a real
# filesystem, not tmpfs), pvback-blk start/stop, guests and their
# blkfront-tool, and the conditions the scripts wait on.  W is the test's
# directory, S the pvsim's in it, $W/blk.log the daemon's log (shown when a
# test failed).
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
# grant tables); they all go when no queue runs.
guest_maps() { grep -cE 'memfd:pvsim-(ram|gnttab|active)' "/proc/$1/maps"; }
be_gone() { ! be_read "$1" "$2" state; }
# not_listed NAME (vbd-DOMID-DEVID): the daemon no longer lists the device (freed).
not_listed() { local s; s=$(stats 2>&1) || return 1; ! grep -q "^$1 " <<<"$s"; }
sh_cmd() {
	local reply
	echo "$*" >&"$sh_in" || return 1
	IFS= read -r -t 60 reply <&"$sh_out" || { echo "no reply to: $*"; return 1; }
	echo "$reply"
}
sh_ok() { local r; r=$(sh_cmd "$@"); echo "$r"; [ "$r" = ok ]; }
# stream_start GUEST OPTIONS... stream N ACKED: blkfront-tool's write stream
# as GUEST in the background (pid in spid, its output on fd $sfd); returns
# once it says "running", 1 when it does not within 30 s.
stream_start() {
	local g=$1 line
	shift
	coproc STREAM { guest_of "$g" "$@" 2>&1; }
	# bash drops STREAM when the coprocess exits: keep our own copy of its output.
	exec {sfd}<&"${STREAM[0]}"
	spid=$STREAM_PID
	while IFS= read -r -t 30 line <&"$sfd"; do
		[ "$line" = running ] && return 0
		echo "$line"
	done
	return 1
}

# pvfio_setup SIZE: then `pvfio ARGS...` runs fio with the pvblk engine as
# guest g1 on its xvda (the first SIZE of it).  In the sanitizer build the
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
	--domain=g1 --vdev=xvda --filename=xvda --size="$pvfio_size" --output-format=terse \
	--verify_state_save=0 "$@"; }
