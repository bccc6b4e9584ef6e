# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by bench/demo and bench/bench-blk (sourced, bash): a private pvsim,
# one guest g1 with a vbd xvda backed by a disk image on /var/tmp (a real
# filesystem: tmpfs reads are punted to io-wq workers and would skew the raw
# baseline), pvback-blk (re)started with the options of each run group, and
# one fio run per side (raw io_uring on the image, or the pvblk engine through
# the PV path), recorded by bench/blk-report.  Everything started here is
# torn down by blk_cleanup, which the callers trap on EXIT.
#
# Callers set: O (build dir), BLK_IMG_MB, BLK_RUNTIME, BLK_RAMP, RESULTS.

blk_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BLK_BIN=$blk_top/$O/bin
BLK_ENGINE=$blk_top/$O/lib/pvblk.so
BLK_REPORT=$blk_top/bench/blk-report
BLK_W=
BLK_S=
blk_daemon_pid=
blk_fio_pid=
blk_daemon_log=
blk_nbd_pid=

blk_die() { printf '\n%s: %s\n' "${0##*/}" "$*" >&2; exit 1; }

blk_cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	[ -n "$blk_fio_pid" ] && kill "$blk_fio_pid" 2>/dev/null && wait "$blk_fio_pid" 2>/dev/null
	blk_daemon_stop
	[ -n "$blk_nbd_pid" ] && kill "$blk_nbd_pid" 2>/dev/null && wait "$blk_nbd_pid" 2>/dev/null
	# ceph-lib.sh's hooks (ceph_down), once the daemon let go of the cluster.
	declare -F t_run_hooks >/dev/null && t_run_hooks
	[ -n "${T_TMP:-}" ] && rm -rf "$T_TMP"
	[ -n "$BLK_S" ] && "$BLK_BIN/pvsim" --dir "$BLK_S" stop >/dev/null 2>&1
	if [ -n "$BLK_W" ]; then
		if [ "$rc" -ne 0 ] && [ -n "$blk_daemon_log" ] && [ -s "$blk_daemon_log" ]; then
			echo "--- pvback-blk log (last lines) ---" >&2
			tail -15 "$blk_daemon_log" >&2
		fi
		rm -rf "$BLK_W"
	fi
	exit "$rc"
}

blk_check_env() {
	local b fstype
	for b in pvsim pvback-blk; do
		[ -x "$BLK_BIN/$b" ] || blk_die "$BLK_BIN/$b is not built (run make)"
	done
	[ -f "$BLK_ENGINE" ] || blk_die "$BLK_ENGINE is not built (make fio-engine)"
	command -v fio >/dev/null || blk_die "fio is not installed (scripts/install-deps)"
	fstype=$(stat -f -c %T /var/tmp)
	case "$fstype" in
	tmpfs|ramfs) blk_die "/var/tmp is $fstype: the benchmark needs a disk filesystem" ;;
	esac
	avail=$(df -Pm /var/tmp | awk 'NR == 2 { print $4 }')
	[ "$avail" -gt $((BLK_IMG_MB + 256)) ] || blk_die "/var/tmp needs $((BLK_IMG_MB + 256)) MiB free"
}

# A private pvsim with guest g1, and the disk image (written, so O_DIRECT
# reads hit the disk rather than holes, then synced and read into the cache).
blk_setup() {
	BLK_W=$(mktemp -d /var/tmp/pvback-blk-bench.XXXXXX)
	BLK_S=$BLK_W/sim
	BLK_IMG=$BLK_W/disk.img
	"$BLK_BIN/pvsim" --dir "$BLK_S" start >"$BLK_W/pvsim.log" 2>&1 || blk_die "pvsim start failed"
	"$BLK_BIN/pvsim" --dir "$BLK_S" create g1 --mem 512M >/dev/null || blk_die "pvsim create failed"
	dd if=/dev/zero of="$BLK_IMG" bs=1M count="$BLK_IMG_MB" conv=fsync status=none ||
		blk_die "cannot write $BLK_IMG"
	"$BLK_BIN/pvsim" --dir "$BLK_S" attach g1 vbd target="$BLK_IMG" vdev=xvda access=rw \
		>/dev/null || blk_die "pvsim attach failed"
	blk_warm
}

blk_warm() {
	cat "$BLK_IMG" >/dev/null
}

blk_daemon_stop() {
	if [ -n "$blk_daemon_pid" ]; then
		kill -TERM "$blk_daemon_pid" 2>/dev/null
		wait "$blk_daemon_pid" 2>/dev/null || true
		blk_daemon_pid=
	fi
}

# blk_add_guests N: guests g2..gN, each with its own vbd xvda on the same
# image (for the device-scaling read cases); blk_daemon_start then waits for
# all N vbds.
BLK_GUESTS=1
blk_add_guests() {
	local g
	for ((g = 2; g <= $1; g++)); do
		"$BLK_BIN/pvsim" --dir "$BLK_S" create "g$g" --mem 256M >/dev/null ||
			blk_die "pvsim create g$g failed"
		"$BLK_BIN/pvsim" --dir "$BLK_S" attach "g$g" vbd target="$BLK_IMG" vdev=xvda \
			access=rw >/dev/null || blk_die "pvsim attach g$g failed"
	done
	BLK_GUESTS=$1
}

# Network stores (bench-blk's nbd/ and rbd/ cases): a guest of its own per
# store, its xvda on the store's target; blk_daemon_start waits for it too.
# The file guests keep their image, so the other cases are unchanged.
BLK_NET_VBDS=0
blk_net_guest() {
	"$BLK_BIN/pvsim" --dir "$BLK_S" create "$1" --mem 256M >/dev/null ||
		blk_die "pvsim create $1 failed"
	"$BLK_BIN/pvsim" --dir "$BLK_S" attach "$1" vbd target="$2" vdev=xvda access=rw \
		>/dev/null || blk_die "pvsim attach $1 ($2) failed"
	BLK_NET_VBDS=$((BLK_NET_VBDS + 1))
}

# blk_nbd_missing / blk_rbd_missing: why the store cannot be benchmarked here
# (printed; status 0), or status 1 when it can.
blk_nbd_missing() {
	command -v nbdkit >/dev/null || { echo "nbdkit missing (scripts/install-deps)"; return 0; }
	grep -q '^HAVE_LIBNBD := y' "$blk_top/$O/config.mk" 2>/dev/null ||
		{ echo "pvback-blk built without libnbd"; return 0; }
	fio --enghelp=nbd >/dev/null 2>&1 || { echo "fio has no nbd engine"; return 0; }
	return 1
}
blk_rbd_missing() {
	local c
	for c in ceph ceph-mon ceph-osd ceph-authtool monmaptool rbd uuidgen ss; do
		command -v "$c" >/dev/null || { echo "$c missing (scripts/install-deps)"; return 0; }
	done
	grep -q '^HAVE_LIBRBD := y' "$blk_top/$O/config.mk" 2>/dev/null ||
		{ echo "pvback-blk built without librbd"; return 0; }
	fio --enghelp=rbd >/dev/null 2>&1 || { echo "fio has no rbd engine"; return 0; }
	return 1
}

# blk_nbd_up: nbdkit's file plugin on the (page-cache-hot) image, on a Unix
# socket, and guest gnbd's xvda on it.  Sets BLK_NBD_URI.
blk_nbd_up() {
	local sock=$BLK_W/nbd.sock i
	nbdkit --exit-with-parent -f -U "$sock" file "$BLK_IMG" >"$BLK_W/nbdkit.log" 2>&1 &
	blk_nbd_pid=$!
	for ((i = 0; i < 500; i++)); do
		[ -S "$sock" ] && break
		kill -0 "$blk_nbd_pid" 2>/dev/null || blk_die "nbdkit exited: $(cat "$BLK_W/nbdkit.log")"
		sleep 0.02
	done
	[ -S "$sock" ] || blk_die "nbdkit does not listen on $sock within 10 s"
	BLK_NBD_URI="nbd+unix:///?socket=$sock"
	blk_net_guest gnbd "$BLK_NBD_URI"
}

# blk_rbd_up MB: a one-node Ceph cluster (tests/sim/ceph-lib.sh: one mon, a
# memstore OSD, so the image lives in RAM) in $BLK_W/ceph, an image
# pvback/bench of MB MiB written all over (reads of unwritten objects would
# not reach the OSD's store), and guest grbd's xvda on it.  fio's rbd engine
# reads $BLK_RBD_CONF: ceph.conf with librbd's cache off, as pvback-blk has it.
blk_rbd_up() {
	local mb=$1
	# shellcheck source=/dev/null # (tests/sim/ceph-lib.sh)
	. "$blk_top/tests/sim/ceph-lib.sh"
	# tap.sh, which it sources, took the traps: blk_cleanup runs its hooks.
	trap blk_cleanup EXIT
	trap 'exit 130' INT TERM
	trap - PIPE
	ceph_up "$BLK_W/ceph"
	rbdc create pvback/bench --size "${mb}M" >/dev/null || blk_die "rbd create failed"
	rbdc bench --io-type write --io-pattern seq --io-size 4M --io-threads 4 \
		--io-total "${mb}M" pvback/bench >"$BLK_W/rbd-fill.log" 2>&1 ||
		blk_die "rbd bench (filling the image) failed: $(tail -3 "$BLK_W/rbd-fill.log")"
	BLK_RBD_CONF=$BLK_W/ceph/fio-ceph.conf
	{ cat "$(ceph_conf)"; printf '\n[client]\nrbd cache = false\n'; } >"$BLK_RBD_CONF"
	blk_net_guest grbd "rbd:pvback/bench:conf=$(ceph_conf)"
}

# (Re)start pvback-blk with these options; returns when it has opened the
# backing file (or network store) of every guest's xvda (its log says so),
# bounded at 10 s.
blk_daemon_start() {
	local i
	blk_daemon_stop
	blk_daemon_log=$BLK_W/pvback-blk.$RANDOM.log
	(eval "$("$BLK_BIN/pvsim" --dir "$BLK_S" env)"
	 # Own session: a Ctrl-C must reach fio (which then closes its vbd
	 # cleanly) and not kill the backend under it; blk_cleanup stops it.
	 exec setsid "$BLK_BIN/pvback-blk" --foreground --log-level info "$@") \
		>"$blk_daemon_log" 2>&1 &
	blk_daemon_pid=$!
	for ((i = 0; i < 500; i++)); do
		[ "$(grep -c "vbd-[0-9]*-51712: .*sectors" "$blk_daemon_log")" -ge \
			$((BLK_GUESTS + BLK_NET_VBDS)) ] &&
			return 0
		kill -0 "$blk_daemon_pid" 2>/dev/null || blk_die "pvback-blk $* exited"
		sleep 0.02
	done
	blk_die "pvback-blk $* did not open the vbd within 10 s"
}

# blk_children_ms FILE: the CPU time (ms, user + system) of this shell's
# reaped children so far, `times` into FILE first (a builtin in this shell:
# in a $(...) subshell it would see the subshell's children only).
blk_children_ms() {
	awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/)
		printf "%d\n", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 1000 }' "$1"
}

# blk_fio OUT.json LABEL fio-args...: one fio run with a progress line.
# Sets blk_fio_cpu_ms and blk_fio_wall_ms: the CPU of fio's whole process tree
# over the run (its job processes with every thread: libnbd's, librbd's;
# fio's own usr_cpu / sys_cpu count the job's thread only, RUSAGE_THREAD).
blk_fio_cpu_ms=
blk_fio_wall_ms=
blk_fio() {
	local out=$1 label=$2 t0 now rc ns0
	shift 2
	t0=$SECONDS
	times >"$out.t0"
	ns0=$(date +%s%N)
	# invalidate=0: fio would otherwise drop the image from the page cache
	# before each job, and "page-cache-hot" runs would read the disk.
	fio --output-format=json --output="$out" --lat_percentiles=1 --time_based --invalidate=0 \
		--runtime="$BLK_RUNTIME" --ramp_time="$BLK_RAMP" "$@" 2>"$out.err" &
	blk_fio_pid=$!
	if [ -t 2 ]; then
		while kill -0 "$blk_fio_pid" 2>/dev/null; do
			now=$((SECONDS - t0))
			printf '\r  %-62s %3ds ' "$label" "$now" >&2
			sleep 0.25 # display tick only: the wait below is what synchronises
		done
	else
		printf '  %s\n' "$label" >&2
	fi
	rc=0
	wait "$blk_fio_pid" || rc=$?
	times >"$out.t1"
	blk_fio_wall_ms=$((($(date +%s%N) - ns0) / 1000000))
	blk_fio_cpu_ms=$(($(blk_children_ms "$out.t1") - $(blk_children_ms "$out.t0")))
	blk_fio_pid=
	[ -t 2 ] && printf '\r%*s\r' 72 '' >&2
	if [ "$rc" -ne 0 ]; then
		cat "$out.err" >&2
		blk_die "fio failed: $label"
	fi
}

# blk_run_guests NAME PATH NGUESTS RW BS QD: one fio job per guest (g1..gN,
# each on its own vbd; raw: N io_uring jobs on the image), IOPS summed
# (group_reporting); the record gets guests=N.
blk_run_guests() {
	local name=$1 path=$2 ng=$3 rw=$4 bs=$5 qd=$6 out g
	local -a args=(--group_reporting)
	out=$BLK_W/fio-$RANDOM$RANDOM.json
	for ((g = 1; g <= ng; g++)); do
		args+=(--name="$name-g$g" --rw="$rw" --bs="$bs" --iodepth="$qd")
		if [ "$path" = raw ]; then
			args+=(--ioengine=io_uring --filename="$BLK_IMG")
		else
			args+=(--ioengine=external:"$BLK_ENGINE" --pvsim_dir="$BLK_S" --domain="g$g"
			       --vdev=xvda --queues=1)
		fi
	done
	blk_fio "$out" "[$BLK_STEP] $name: $path" "${args[@]}"
	"$BLK_REPORT" add "$RESULTS" "$out" name="$name" path="$path" backing=cache \
		rw="$rw" bs="$bs" iodepth="$qd" queues=1 guests="$ng" \
		fio_cpu_ms="$blk_fio_cpu_ms" fio_wall_ms="$blk_fio_wall_ms" ||
		blk_die "cannot record $name"
}

# CPU time (clock ticks) the daemon used so far, all its threads.
# The daemon's CPU ticks, with its worker processes' (--isolate domain):
# the live ones' own, the ended ones' in the daemon's cutime/cstime (it
# reaps them when a guest's last vbd disconnects, at the end of a fio run).
blk_daemon_ticks() {
	local p t
	t=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$blk_daemon_pid/stat")
	for p in $(pgrep -P "$blk_daemon_pid"); do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo "$t"
}

# blk_run NAME PATH BACKING RW BS QD QUEUES [key=value...] -- [extra fio args]
# One side of a comparison; the record goes to $RESULTS.  pvback records
# also get the daemon's CPU time over the fio run (be_cpu_us_per_io).
# A caller's BLK_RAW_IO (fio's engine and target for the raw side) and
# BLK_DOMAIN (the guest whose xvda the pvback side drives) replace the
# defaults, io_uring on the image and g1: the network stores' cases.
blk_run() {
	local name=$1 path=$2 backing=$3 rw=$4 bs=$5 qd=$6 queues=$7 out c0= t0
	local -a kv=() extra=() args
	shift 7
	while [ $# -gt 0 ] && [ "$1" != -- ]; do kv+=("$1"); shift; done
	[ "${1:-}" = -- ] && shift
	extra=("$@")
	out=$BLK_W/fio-$RANDOM$RANDOM.json
	args=(--name="$name" --rw="$rw" --bs="$bs" --iodepth="$qd")
	if [ "$path" = raw ] && [ -n "${BLK_RAW_IO+set}" ]; then
		args+=("${BLK_RAW_IO[@]}")
	elif [ "$path" = raw ]; then
		args+=(--ioengine=io_uring --filename="$BLK_IMG")
	else
		args+=(--ioengine=external:"$BLK_ENGINE" --pvsim_dir="$BLK_S"
		       --domain="${BLK_DOMAIN:-g1}" --vdev=xvda --queues="$queues")
	fi
	if [ "$path" = pvback ] && [ -n "$blk_daemon_pid" ]; then
		c0=$(blk_daemon_ticks)
		t0=$(date +%s%N)
	fi
	blk_fio "$out" "[$BLK_STEP] $name: $path" "${args[@]}" "${extra[@]}"
	[ -n "$c0" ] && kv+=(be_cpu_ticks=$(($(blk_daemon_ticks) - c0))
			     be_wall_ms=$((($(date +%s%N) - t0) / 1000000)))
	"$BLK_REPORT" add "$RESULTS" "$out" name="$name" path="$path" backing="$backing" \
		rw="$rw" bs="$bs" iodepth="$qd" queues="$queues" "${kv[@]}" \
		fio_cpu_ms="$blk_fio_cpu_ms" fio_wall_ms="$blk_fio_wall_ms" ||
		blk_die "cannot record $name"
}
