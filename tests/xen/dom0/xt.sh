# SPDX-License-Identifier: GPL-2.0-or-later
# xt.sh: helpers for tests/xen scenarios (busybox sh, sourced in dom0).
#
# Results      xt_pass NAME | xt_fail NAME [DETAIL] | xt_skip NAME WHY | xt_todo NAME WHY
#              xt_check NAME CMD...      pass iff CMD exits 0 (its output is shown on failure)
# waits        xt_wait SEC CMD...         CMD every 0.2 s until it succeeds (no xenstore event)
# xenstore     xt_xs_wait PATH ERE [SEC] wait (xenstore-watch, no polling) until PATH's value matches
#              xt_xs_wait_gone PATH [SEC]
#              xt_wait_event PATH SEC CMD...  re-run CMD on each watch event until it succeeds
#              xt_record LABEL PATH...   print `xenstore-ls -fp` of PATHs as an XT-RECORD block;
#                                        the host saves it to tests/xen/out/record-LABEL.txt
# domUs        xt_domu_start NAME [-j JOBFILE] [-e ENVLINE]... [-p] -- 'cfg line'...
#              xt_domu_wait NAME ERE [SEC]   wait for a line in the domU console
#              xt_domu_run NAME CMD [SEC]    run CMD in the domU agent, print its output, return its rc
#              xt_domu_send NAME CMD / xt_domu_collect NAME ID [SEC]   the same in two halves
#              xt_domu_poweroff NAME [SEC]  poweroff -f inside, wait for the shutdown, destroy
#              xt_domu_destroy NAME
# stand-ins    xt_standin_start TYPE...     move backend/TYPE/*/*/state 1 -> 2 (what a backend
#                                           does in probe), snapshot the device first, and 5 -> 6
# daemons      xt_pvd_start|stop|kill|alive PROG   any pvback daemon; xt_blk_* and xt_net_* wrap them
# pvback-blk   xt_blk_*  disks, images, domUs with /extra/blk.sh   (see that section)
# pvback-net   xt_net_*  bridges, vifs, domUs with /extra/net.sh, counters, verified
#                        transfers and streams                        (see that section)
# Every background process a scenario starts goes into /tmp/xt/pids; the
# runner kills them after the scenario.
XT_DOMU_KERNEL=/xt/domu/vmlinux
XT_DOMU_INITRD=/xt/domu/initrd.cpio
XT_DOMU_NET=/xt/domu/net.cpio
XT_CONSOLE_DIR=/var/log/xen/console

xt_now() { cut -d' ' -f1 /proc/uptime; }
xt_log() { echo "XT-LOG [$(xt_now)] ${XT_SCENARIO:-?}: $*"; }
xt_result() { # KIND NAME [DETAIL]
	local kind=$1 name=$2
	shift 2
	echo "XT-RESULT $kind ${XT_SCENARIO:-?}: $name${*:+ -- $*}"
	echo "$kind" >>/tmp/xt/results
}
xt_pass() { xt_result PASS "$@"; }
xt_fail() { xt_result FAIL "$@"; }
xt_skip() { xt_result SKIP "$@"; }
xt_todo() { xt_result TODO "$@"; }

xt_check() { # NAME CMD...
	local name=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc = 0 ]; then
		xt_pass "$name"
	else
		echo "$out" | tail -n 30 | sed 's/^/    | /'
		xt_fail "$name" "rc=$rc: $*"
	fi
	return $rc
}

xt_bg() { # remember a background pid for the runner's cleanup
	echo "$1" >>/tmp/xt/pids
}

# xt_wait_event WATCHPATH SEC CMD...: re-run CMD each time xenstore fires a
# watch on WATCHPATH (once when the watch is set, then on every change below
# it; special paths @releaseDomain / @introduceDomain work too) until CMD
# succeeds. Event driven: no polling loop, one xenstore-watch process.
xt_wait_event() {
	local path=$1 to=$2 f w rc=1 end left
	shift 2
	f=/tmp/xt/xsw.$$.$RANDOM
	mkfifo "$f"
	xenstore-watch "$path" >"$f" 2>/dev/null &
	w=$!
	exec 9<"$f"
	end=$(($(date +%s) + to))
	while :; do
		"$@" && { rc=0; break; }
		left=$((end - $(date +%s)))
		[ $left -gt 0 ] || break
		# a dead watcher gives EOF at once: fall back to a short sleep then
		read -r -t "$left" _ <&9 || sleep 0.2
	done
	exec 9<&-
	kill $w 2>/dev/null
	wait $w 2>/dev/null
	rm -f "$f"
	return $rc
}
# xt_wait SEC CMD...: re-run CMD every 0.2 s until it succeeds, at most SEC
# seconds; for conditions xenstore does not announce (interfaces, sockets)
xt_wait() {
	local end=$(($(date +%s) + $1))
	shift
	while ! "$@"; do
		[ "$(date +%s)" -lt $end ] || return 1
		sleep 0.2
	done
}
xt_xs_matches() { # PATH ERE
	local v
	v=$(xenstore-read "$1" 2>/dev/null) && echo "$v" | grep -Eqx -- "$2"
}
xt_xs_wait() { # PATH ERE [SEC]
	xt_wait_event "$1" "${3:-30}" xt_xs_matches "$1" "$2" && return 0
	xt_log "xt_xs_wait $1 =~ /$2/: timeout after ${3:-30}s (value: '$(xenstore-read "$1" 2>&1)')"
	return 1
}
xt_xs_absent() { ! xenstore-exists "$1" 2>/dev/null; }
xt_xs_wait_gone() { # PATH [SEC]
	xt_wait_event "$1" "${2:-30}" xt_xs_absent "$1"
}

xt_record() { # LABEL PATH...: keys and permissions, framed for the host
	local label=$1 p
	shift
	echo "XT-RECORD-BEGIN $label"
	for p in "$@"; do
		xenstore-ls -fp "$p" 2>&1
	done
	echo "XT-RECORD-END $label"
}

# ---------------------------------------------------------------- domUs
xt_domid() { xl domid "$1" 2>/dev/null; }
xt_domu_log() { echo "$XT_CONSOLE_DIR/guest-$1.log"; }

# xt_domu_start NAME [-j JOBFILE] [-e 'VAR=value']... [-f FILE]... [-l CPIO]... [-p] [-m MB] [-c VCPUS] -- 'cfg line'...
# Boots a PV domU with the agent initramfs. JOBFILE becomes /extra/job.sh,
# run by the agent after boot; -e lines go to /extra/env (e.g. BLKFRONT_OPTS);
# -f FILE is added as /extra/<basename> (e.g. -f /xt/guest/blk.sh);
# -l CPIO appends an image layer (e.g. /xt/domu/net.cpio: iperf3, nc.openbsd).
# -p leaves the domain paused (xl create -p). The extra cfg lines are
# appended to the xl config verbatim, as a user would write them.
xt_domu_start() {
	local name=$1 job= env= files= layers= pause= mem=128 vcpus=1 cfg ramdisk x rc f
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		-j) job=$2; shift 2 ;;
		-f) files="$files $2"; shift 2 ;;
		-l) layers="$layers $2"; shift 2 ;;
		-e) env="$env$2
"; shift 2 ;;
		-p) pause=-p; shift ;;
		-m) mem=$2; shift 2 ;;
		-c) vcpus=$2; shift 2 ;;
		--) shift; break ;;
		*) break ;;
		esac
	done
	cfg=/tmp/xt/$name.cfg
	ramdisk=$XT_DOMU_INITRD
	if [ -n "$job$env$files$layers" ]; then
		# the kernel unpacks concatenated newc archives in order: the job
		# cpio adds /extra on top of the shared agent image
		x=/tmp/xt/$name.extra
		rm -rf "$x"
		mkdir -p "$x/extra"
		[ -n "$job" ] && cp "$job" "$x/extra/job.sh" && chmod +x "$x/extra/job.sh"
		[ -n "$env" ] && printf '%s' "$env" >"$x/extra/env"
		for f in $files; do cp "$f" "$x/extra/"; done
		# on /run, not the rootfs: dom0's rootfs is a tmpfs of ~135 MB the
		# images fill to ~120 MB, too little for a domU ramdisk with the
		# usb layer (20 MB); the domain holds its copy after xl create
		mkdir -p /run/xt
		ramdisk=/run/xt/$name.cpio
		(cd "$x" && find . | cpio -o -H newc 2>/dev/null) >"$ramdisk.tmp"
		cat "$XT_DOMU_INITRD" $layers "$ramdisk.tmp" >"$ramdisk"
		rm -f "$ramdisk.tmp"
	fi
	{
		echo "name = '$name'"
		echo "type = 'pv'"
		echo "kernel = '$XT_DOMU_KERNEL'"
		echo "ramdisk = '$ramdisk'"
		echo "cmdline = 'console=hvc0 rdinit=/init loglevel=4'"
		echo "memory = $mem"
		echo "vcpus = $vcpus"
		echo "on_poweroff = 'destroy'"
		echo "on_reboot = 'destroy'"
		echo "on_crash = 'destroy'"
		for x in "$@"; do echo "$x"; done
	} >"$cfg"
	rm -f "$(xt_domu_log "$name")"
	# -e: no background xl monitor process (it crashes in this setup, and
	# the runner destroys leftover domains anyway)
	xl -vvv create -e $pause "$cfg" >"/tmp/xt/$name.xl.log" 2>&1
	rc=$?
	# the domain holds its copy now; dom0's RAM is small (rootfs is tmpfs)
	[ "$ramdisk" = "$XT_DOMU_INITRD" ] || rm -f "$ramdisk"
	[ $rc = 0 ] || {
		xt_log "xl create $name failed rc=$rc; config:"
		sed 's/^/    cfg| /' "$cfg"
		grep -E 'rror|fail|timed out|Timeout' "/tmp/xt/$name.xl.log" | tail -n 15 | sed 's/^/    xl| /'
	}
	return $rc
}

# xt_domu_wait NAME ERE [SEC]: the console log is a plain file written by
# xenconsoled, so this polls it (0.2 s); it gives up early if the domain dies.
xt_domu_wait() {
	local name=$1 re=$2 to=${3:-120} log end
	log=$(xt_domu_log "$name")
	end=$(($(date +%s) + to))
	while [ "$(date +%s)" -lt $end ]; do
		grep -Eq -- "$re" "$log" 2>/dev/null && return 0
		# xl domid can fail transiently (xl's lock, a busy xenstored): ask twice
		xt_domid "$name" >/dev/null || { sleep 1; xt_domid "$name" >/dev/null; } || {
			grep -Eq -- "$re" "$log" 2>/dev/null && return 0
			xt_log "domU $name is gone while waiting for /$re/"
			return 1
		}
		sleep 0.2
	done
	xt_log "timeout (${to}s) waiting for /$re/ on the console of $name"
	return 1
}

# xt_domu_run NAME CMD [SEC]: send a command line to the agent through the
# console pty xenconsoled publishes in xenstore, wait for its exit marker,
# print its output, return its exit code.
#   xt_domu_send NAME CMD           the first half: send, print the command's id
#   xt_domu_collect NAME ID [SEC]   the second: wait, print the output, return the rc
# (the bench sleeps in between: no console polling while it measures)
xt_domu_run() {
	local id
	id=$(xt_domu_send "$1" "$2") || { echo "$id"; return 1; }
	xt_domu_collect "$1" "$id" "${3:-120}"
}
xt_domu_send() {
	local name=$1 cmd=$2 id tty seq
	id=$(xt_domid "$name") || { sleep 1; id=$(xt_domid "$name"); } || { xt_log "no domain $name"; return 1; }
	tty=$(xenstore-read "/local/domain/$id/console/tty" 2>/dev/null)
	[ -c "$tty" ] || { xt_log "domU $name: no console tty ($tty)"; return 1; }
	# a file, not a variable: callers often run this in $(...)
	seq=$(($(cat /tmp/xt/cmdseq 2>/dev/null || echo 0) + 1))
	echo $seq >/tmp/xt/cmdseq
	printf 'XTC %s %s\n' "c$seq" "$cmd" >"$tty"
	echo "c$seq"
}
xt_domu_collect() {
	local name=$1 id=$2 to=${3:-120} log rc
	log=$(xt_domu_log "$name")
	xt_domu_wait "$name" "XTD: cmd-exit $id rc=" "$to" || return 1
	# the console log has CRLF line ends
	tr -d '\r' <"$log" | sed -n "/^XTD: cmd-begin $id\$/,/^XTD: cmd-exit $id rc=/p" | sed '1d;$d'
	rc=$(tr -d '\r' <"$log" | sed -n "s/^XTD: cmd-exit $id rc=\([0-9]*\)\$/\1/p" | tail -n 1)
	return "${rc:-1}"
}

xt_domu_destroy() { xl destroy "$1" >/dev/null 2>&1; }

# xt_domu_shutdown_seen NAME: the domain has shut down (xl list state has 's')
# or is gone. With `xl create -e` no xl monitor runs on_poweroff=destroy for
# us, so a powered-off domU stays until xt_domu_poweroff destroys it.
xt_domu_shutdown_seen() {
	xl list "$1" 2>/dev/null | awk 'NR == 2 { exit($5 ~ /s/ ? 0 : 1) } END { if (NR < 2) exit 0 }'
}
xt_domu_poweroff() { # NAME [SEC]: clean poweroff from inside, then destroy
	local tty id
	id=$(xt_domid "$1") || return 0
	tty=$(xenstore-read "/local/domain/$id/console/tty" 2>/dev/null)
	[ -c "$tty" ] && printf 'XTC p poweroff -f\n' >"$tty"
	# xenstored fires @releaseDomain when a domain shuts down or dies
	xt_wait_event @releaseDomain "${2:-60}" xt_domu_shutdown_seen "$1" || {
		xt_log "domU $1 did not shut down in ${2:-60}s"
		return 1
	}
	xl destroy "$1" >/dev/null 2>&1
	return 0
}

# ---------------------------------------------------------------- stand-ins
# xt_standin_start TYPE...: a stand-in backend for device types no driver
# serves (kernel backend unloaded, pvback not started). Watch-driven: on each
# event under backend/TYPE it snapshots every device still at state 1 (so the
# snapshot holds exactly what libxl wrote) into /tmp/xt/standin-TYPE-DOMID-DEVID.txt,
# then writes state 2 (InitWait) so libxl goes on to the hotplug script.
xt_standin_start() {
	local t f
	for t in "$@"; do
		xenstore-exists /local/domain/0/backend/$t || xenstore-write /local/domain/0/backend/$t ""
		# two processes joined by a fifo, so both pids are known and killable
		f=/tmp/xt/standin-$t.fifo
		rm -f "$f"
		mkfifo "$f"
		xenstore-watch /local/domain/0/backend/$t >"$f" 2>/dev/null &
		xt_bg $!
		xt_standin_loop "$t" <"$f" &
		xt_bg $!
	done
}
xt_standin_loop() { # TYPE, watch events on stdin
	local t=$1 dev st d
	while read -r _; do
		xenstore-ls -f /local/domain/0/backend/$t 2>/dev/null |
			sed -n 's|^\(/local/domain/0/backend/[a-z]*/[0-9]*/[0-9]*\)/state = "\([15]\)"$|\1 \2|p' |
			while read -r dev st; do
				set -- $(echo "$dev" | tr / ' ')
				d=$6
				if [ "$st" = 1 ]; then
					# parents included, so the device directories' own permissions show
					{
						xenstore-ls -fp /local/domain/0/backend/$t/$d
						xenstore-ls -fp /local/domain/$d/device/$t
					} >"/tmp/xt/standin-$t-$d-$7.txt" 2>&1
					# netfront refuses a backend without feature-rx-copy (every
					# netback since 2.6.x writes it in probe), so say it
					[ "$t" = vif ] && xenstore-write "$dev/feature-rx-copy" 1
					xenstore-write "$dev/state" 2
				else
					# libxl's remove sets online=0, state=5 and waits for 6 (10 s otherwise)
					xenstore-write "$dev/state" 6
				fi
			done
	done
}
xt_standin_stop() {
	[ -s /tmp/xt/pids ] && kill $(cat /tmp/xt/pids) 2>/dev/null
	: >/tmp/xt/pids
}

# ---------------------------------------------------------------- daemons
# xt_pvd_start PROG [OPTION]...  start PROG (pvback-blk, pvback-net) --hv xen
#                            --foreground --log-level debug in the background (log:
#                            /tmp/xt/PROG.daemon.log, dumped by the runner), wait
#                            until its control socket answers
# xt_pvd_stop PROG           SIGTERM, wait, return its exit status
# xt_pvd_stop_check PROG NAME  the same as a check
# xt_pvd_kill PROG           SIGKILL, wait until it is gone
# xt_pvd_alive PROG          the daemon started last is still running
xt_pvd_log() { echo "/tmp/xt/$1.daemon.log"; }
xt_pvd_pid() { cat "/tmp/xt/$1.pid" 2>/dev/null; }
xt_pvd_start() {
	local prog=$1 log pid n=0
	shift
	log=$(xt_pvd_log "$prog")
	echo "==== $(xt_now) $prog --hv xen --foreground --log-level debug $*" >>"$log"
	"$prog" --hv xen --foreground --log-level debug "$@" >>"$log" 2>&1 &
	pid=$!
	xt_bg $pid
	echo $pid >"/tmp/xt/$prog.pid"
	while [ $n -lt 100 ]; do
		"$prog" stats >/dev/null 2>&1 && return 0
		kill -0 $pid 2>/dev/null || { xt_log "$prog exited at start"; tail -n 20 "$log"; return 1; }
		sleep 0.2
		n=$((n + 1))
	done
	xt_log "$prog control socket does not answer after 20 s"
	return 1
}
xt_pvd_alive() { kill -0 "$(xt_pvd_pid "$1")" 2>/dev/null; }
# xt_pvd_confined PROG PATTERN CAPEFF  PROG is confined (docs/security.md): every
#                            thread's Uid is pvback's (all four ids), the main thread's
#                            CapEff/CapPrm are CAPEFF (hex as /proc shows it) with
#                            NoNewPrivs 1, and the threads whose name matches PATTERN
#                            (a grep -E, e.g. 'blk5q[0-9]+'; at least one) have CapEff
#                            and CapPrm 0, NoNewPrivs 1, Seccomp 2
xt_pvd_confined() { xt_pid_confined "$(xt_pvd_pid "$1")" "$2" "$3"; }
# xt_pid_confined PID PATTERN CAPEFF: the same for the process PID (a worker of --isolate domain)
xt_pid_confined() {
	local pid=$1 uid t comm st bad=0 n=0 z=0000000000000000
	uid=$(sed -n 's/^pvback:[^:]*:\([0-9]*\):.*/\1/p' /etc/passwd)
	[ -n "$pid" ] && [ -n "$uid" ] || { echo "no pid or no user pvback"; return 1; }
	for t in /proc/$pid/task/*; do
		comm=$(cat "$t/comm")
		st=$(cat "$t/status")
		echo "$st" | grep -qE "^Uid:[[:space:]]+$uid[[:space:]]+$uid[[:space:]]+$uid[[:space:]]+$uid\$" ||
			{ echo "$comm: $(echo "$st" | grep ^Uid:)"; bad=1; }
		if [ "${t##*/}" = "$pid" ]; then
			echo "$st" | grep -q "^CapEff:[[:space:]]*$3\$" && echo "$st" | grep -q "^CapPrm:[[:space:]]*$3\$" &&
				echo "$st" | grep -q '^NoNewPrivs:[[:space:]]*1$' ||
				{ echo "main: $(echo "$st" | grep -E '^(CapEff|CapPrm|NoNewPrivs):' | tr '\n' ' ')"; bad=1; }
		elif echo "$comm" | grep -qE "^($2)\$"; then
			n=$((n + 1))
			echo "$st" | grep -q "^CapEff:[[:space:]]*$z\$" && echo "$st" | grep -q "^CapPrm:[[:space:]]*$z\$" &&
				echo "$st" | grep -q '^NoNewPrivs:[[:space:]]*1$' && echo "$st" | grep -q '^Seccomp:[[:space:]]*2$' ||
				{ echo "$comm: $(echo "$st" | grep -E '^(CapEff|CapPrm|NoNewPrivs|Seccomp):' | tr '\n' ' ')"; bad=1; }
		fi
	done
	[ $n -gt 0 ] || { echo "no thread matches $2"; bad=1; }
	return $bad
}
xt_children() { # PID: its child processes
	local st
	for st in /proc/[0-9]*/stat; do
		awk -v p="$1" '$4 == p { print $1 }' "$st" 2>/dev/null
	done
}
xt_pvd_gone() { # PID: exited (or a zombie)
	[ ! -d "/proc/$1" ] || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}
xt_pvd_stop() { # wait for exit: busybox wait works only on our children, so poll /proc
	local prog=$1 pid n=0 rc
	pid=$(xt_pvd_pid "$prog")
	[ -n "$pid" ] || return 1
	kill -TERM "$pid" 2>/dev/null || return 1
	while ! xt_pvd_gone "$pid"; do
		[ $n -lt 150 ] || { xt_log "$prog did not exit 30 s after SIGTERM"; return 1; }
		sleep 0.2
		n=$((n + 1))
	done
	# its exit status when it is our child (127: started from a subshell,
	# e.g. inside xt_check, or we are one: only "it exited" is known)
	wait "$pid" 2>/dev/null
	rc=$?
	[ $rc = 127 ] && rc=0
	[ $rc = 0 ] || xt_log "$prog exited with status $rc"
	return $rc
}
# xt_pvd_stop_check PROG NAME: xt_pvd_stop in this shell (not in xt_check's
# subshell), so the daemon's exit status is known
xt_pvd_stop_check() {
	xt_pvd_stop "$1"
	local rc=$?
	if [ $rc = 0 ]; then xt_pass "$2"; else xt_fail "$2" "rc=$rc"; fi
}
# xt_pvd_kill PROG: SIGKILL (no drain: the in-flight journal is all the next
# daemon has), wait until it is gone
xt_pvd_kill() {
	local prog=$1 pid n=0
	pid=$(xt_pvd_pid "$prog")
	[ -n "$pid" ] || return 1
	kill -KILL "$pid" 2>/dev/null || return 1
	while ! xt_pvd_gone "$pid"; do
		[ $n -lt 150 ] || { xt_log "$prog still there 30 s after SIGKILL"; return 1; }
		sleep 0.2
		n=$((n + 1))
	done
	wait "$pid" 2>/dev/null
	echo "==== $(xt_now) $prog $pid killed (SIGKILL)" >>"$(xt_pvd_log "$prog")"
	return 0
}

# ---------------------------------------------------------------- pvback-blk
# xt_blk_start [OPTION]...   xt_pvd_start pvback-blk (log: $XT_BLK_LOG)
# xt_blk_stop                SIGTERM, wait, return its exit status
# xt_blk_kill                SIGKILL, wait until it is gone
# xt_blk_alive               the daemon started last is still running
# xt_blk_disk TARGET [VDEV] [ACCESS]   an xl disk spec as a user writes it
# xt_blk_img PATH MIB        a sparse backing file on the dom0 image tmpfs
# xt_blk_be DOMID [DEVID]    backend dir of a vbd;  xt_blk_fe DOMID [DEVID]: frontend dir
XT_BLK_LOG=/tmp/xt/pvback-blk.daemon.log
XT_IMG=/tmp/xt/img
xt_blk_start() { xt_pvd_start pvback-blk "$@"; }
xt_blk_pid() { xt_pvd_pid pvback-blk; }
xt_blk_alive() { xt_pvd_alive pvback-blk; }
xt_blk_stop() { xt_pvd_stop pvback-blk; }
xt_blk_stop_check() { xt_pvd_stop_check pvback-blk "$1"; }
xt_blk_kill() { xt_pvd_kill pvback-blk; }
xt_blk_script() {
	if [ -x /etc/xen/scripts/pvback-block ]; then echo pvback-block; else echo xt-hotplug; fi
}
xt_blk_disk() { # TARGET [VDEV] [ACCESS]
	echo "format=raw,vdev=${2:-xvda},access=${3:-rw},backendtype=phy,script=$(xt_blk_script),target=$1"
}
xt_blk_img() { # PATH MIB: the images live on a tmpfs (punch-hole capable, like ext4/xfs)
	if ! grep -q " $XT_IMG tmpfs " /proc/mounts; then
		mkdir -p "$XT_IMG"
		mount -t tmpfs -o size=256m tmpfs "$XT_IMG"
	fi
	rm -f "$1"
	truncate -s "${2}M" "$1"
}
xt_blk_be() { echo "/local/domain/0/backend/vbd/$1/${2:-51712}"; }
xt_blk_fe() { echo "/local/domain/$1/device/vbd/${2:-51712}"; }
# xt_blk_domu NAME [-e ENVLINE] [-c VCPUS] [-m MB] -- DISKSPEC...: start a domU
# with /extra/blk.sh and these disks, wait for every vbd to connect and the agent
xt_blk_domu() {
	local name=$1 env= vcpus=1 mem=128 d disks= id
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		-e) env=$2; shift 2 ;;
		-c) vcpus=$2; shift 2 ;;
		-m) mem=$2; shift 2 ;;
		--) shift; break ;;
		*) break ;;
		esac
	done
	for d in "$@"; do disks="$disks${disks:+, }'$d'"; done
	xt_domu_start "$name" -f /xt/guest/blk.sh -e "${env:-XT_NOENV=1}" -c "$vcpus" -m "$mem" -- \
		"disk = [ $disks ]" || return 1
	id=$(xt_domid "$name")
	for d in $(xenstore-list "/local/domain/0/backend/vbd/$id" 2>/dev/null); do
		xt_xs_wait "$(xt_blk_be "$id" "$d")/state" 4 90 || return 1
	done
	xt_domu_wait "$name" 'XTD: ready' 120
}
# xt_blk_writes_past DEVICE N SEC: wait until pvback-blk counted more than N
# write requests of DEVICE (TCG is slow to get fio going), at most SEC s;
# prints the count seen last
xt_blk_writes_past() {
	local w n=0
	while [ $n -lt $(($3 * 2)) ]; do
		w=$(pvback-blk stats "$1" 2>/dev/null | awk '/total/ { for (i = 1; i < NF; i++) if ($i == "wr_req") print $(i + 1) }')
		[ "${w:-0}" -gt "$2" ] && break
		sleep 0.5
		n=$((n + 1))
	done
	echo "${w:-0}"
}
xt_blk_no_io_error() { # NAME: the domU's kernel log has no block I/O error
	local out
	out=$(xt_domu_run "$1" dmesg 30) || return 1
	! echo "$out" | grep -Ei 'I/O error|blk_update_request|critical medium|Buffer I/O|EXT4-fs error'
}

# ---------------------------------------------------------------- pvback-net
# xt_net_start [OPTION]...   xt_pvd_start pvback-net (log: $XT_NET_LOG)
# xt_net_stop / xt_net_stop_check NAME / xt_net_kill / xt_net_alive   as for blk
# xt_net_bridge [BR] [ADDR/LEN] [MTU]  the bridge (default xenbr0, 10.0.0.1/24)
#                            with dom0's address on it, up (bridge and tun loaded)
# xt_net_vif [K=V,...]       an xl vif spec on xenbr0 with pvback-vif-bridge
# xt_net_be DOMID [DEVID]    backend dir of a vif;  xt_net_fe DOMID [DEVID]: frontend dir
# xt_net_domu NAME [-e ENVLINE] [-c VCPUS] [-m MB] [-a ADDR/LEN] -- VIFSPEC...
#                            a domU with /extra/net.sh and these vifs; waits for
#                            every vif's backend Connected and the agent, then
#                            gives eth0 ADDR (default none) and brings it up
# xt_net_field DEV FIELD [QUEUE]  a pvback-net counter of vif DEV (vif-DOMID-DEVID):
#                            queue QUEUE's, or the vif's total
# xt_net_port DEV FIELD      a field of vif DEV's "port" object in `stats --json`
#                            (the DPDK ports' counters: sw_local, fdb_entries, ipackets...)
# xt_net_sh CMD ARGS...      guest/net.sh in dom0 (listen, received, mkdata, send,
#                            stream-bg, iperf, counter...), its files on a tmpfs
# xt_net_fe_clean NAME       the domU's kernel log has no complaint of xen-netfront
# xt_net_to_dom0 NAME DOM0ADDR PORT MIB   MIB random MiB from the domU to dom0 over
#                            one TCP connection: sha256 and length compared
# xt_net_from_dom0 NAME DOMUADDR PORT MIB [KEEP]  the same from dom0 to the domU
#                            (KEEP: the file stays on both sides as KEEP, for streams)
# xt_net_stream_up/_down/_check   TCP streams of such a file, verified (see below)
# xt_iperf_server PORT       dom0: a one-shot iperf3 server, listening on return
XT_NET_LOG=/tmp/xt/pvback-net.daemon.log
XT_NET_BR=xenbr0
XT_NET_DOM0=10.0.0.1
xt_net_start() { xt_pvd_start pvback-net "$@"; }
xt_net_alive() { xt_pvd_alive pvback-net; }
xt_net_stop() { xt_pvd_stop pvback-net; }
xt_net_stop_check() { xt_pvd_stop_check pvback-net "$1"; }
xt_net_kill() { xt_pvd_kill pvback-net; }
xt_net_bridge() {
	local br=${1:-$XT_NET_BR} addr=${2:-$XT_NET_DOM0/24} mtu=${3:-1500}
	modprobe bridge && modprobe tun || return 1
	[ -d "/sys/class/net/$br/bridge" ] || ip link add "$br" type bridge || return 1
	ip link set dev "$br" mtu "$mtu" || return 1
	ip addr show dev "$br" | grep -q "inet $addr " || ip addr add "$addr" dev "$br" || return 1
	ip link set dev "$br" up
}
xt_net_vif() { echo "bridge=$XT_NET_BR,script=pvback-vif-bridge${1:+,$1}"; }
xt_net_be() { echo "/local/domain/0/backend/vif/$1/${2:-0}"; }
xt_net_fe() { echo "/local/domain/$1/device/vif/${2:-0}"; }
xt_net_domu() {
	local name=$1 env= vcpus=1 mem=256 addr= v vifs= id d
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		-e) env=$2; shift 2 ;;
		-c) vcpus=$2; shift 2 ;;
		-m) mem=$2; shift 2 ;;
		-a) addr=$2; shift 2 ;;
		--) shift; break ;;
		*) break ;;
		esac
	done
	for v in "$@"; do vifs="$vifs${vifs:+, }'$v'"; done
	xt_domu_start "$name" -f /xt/guest/net.sh -l "$XT_DOMU_NET" -e "${env:-XT_NOENV=1}" \
		-c "$vcpus" -m "$mem" -- "vif = [ $vifs ]" || return 1
	id=$(xt_domid "$name")
	for d in $(xenstore-list "/local/domain/0/backend/vif/$id" 2>/dev/null); do
		xt_xs_wait "$(xt_net_be "$id" "$d")/state" 4 90 || return 1
	done
	xt_domu_wait "$name" 'XTD: ready' 120 || return 1
	[ -z "$addr" ] || xt_domu_run "$name" "sh /extra/net.sh up eth0 $addr" 60
}
xt_net_field() { # DEV FIELD [QUEUE]
	local sec=total
	[ -z "$3" ] || sec=q$3
	# lines: "  q0     tx_packets N ...", "         tx ring_...", "  total  tx_packets N ..."
	pvback-net stats "$1" 2>/dev/null | awk -v k="$2" -v s="$sec" '
		$1 ~ /^q[0-9]+$/ || $1 == "total" { in_s = ($1 == s) }
		in_s { for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'
}
xt_net_port() { # DEV FIELD: the "port" object is flat: {"kind":"dpdk",...,"pool_avail":N}
	pvback-net stats --json "$1" 2>/dev/null | sed -n 's/.*"port":{\([^}]*\)}.*/\1/p' |
		tr ',' '\n' | sed -n "s/^\"$2\":\"*\([^\"]*\)\"*\$/\1/p"
}
xt_tcp_listening() { # PORT: a socket listens on TCP PORT here
	local hex
	hex=$(printf '%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		awk -v p=":$hex" '$2 ~ p "$" && $4 == "0A" { f = 1 } END { exit !f }'
}
xt_net_sh() {
	grep -q " $XT_IMG tmpfs " /proc/mounts || { mkdir -p "$XT_IMG" && mount -t tmpfs -o size=256m tmpfs "$XT_IMG"; }
	NET_DIR=$XT_IMG/net NET_PIDS=/tmp/xt/pids sh /xt/guest/net.sh "$@"
}
# xt_net_fe_clean NAME: none of the complaints of 6.1's xen-netfront.ko about
# its backend in the domU's kernel log
XT_NETFRONT_ERRORS='rides the rocket|too big for wire|going backwards|Illegal number of responses|incorrect id|inactive request|Grant still in use|Disabled for further use|GSO size must not|Bad GSO type|Missing extra info|Invalid extra type|Bad rx response|rx->offset|Need more slots|Too many slots|Driver BUG'
xt_net_fe_clean() {
	local out
	out=$(xt_domu_run "$1" dmesg 30) || return 1
	! echo "$out" | grep -E "$XT_NETFRONT_ERRORS"
}
xt_iperf_server() { xt_net_sh iperf-server "$1"; }
# Verified transfers: the sender makes MIB random MiB in a file (its sha256
# and length), the receiver takes one TCP connection into a file; equal
# "SHA256 BYTES" at both ends or the check fails.
xt_net_to_dom0() { # NAME DOM0ADDR PORT MIB
	local name=$1 addr=$2 port=$3 want got
	want=$(xt_domu_run "$name" "sh /extra/net.sh mkdata d$port $4" 120) || { echo "$want"; return 1; }
	xt_net_sh listen "$port" "rx$port" || return 1
	xt_domu_run "$name" "sh /extra/net.sh send $addr $port d$port && rm /tmp/d$port" 300 || {
		echo "the domU's send failed"; xt_net_sh rx-kill "rx$port"; return 1; }
	got=$(xt_net_sh received "rx$port" 60) || { echo "$got"; return 1; }
	[ "$want" = "$got" ] || { echo "the domU sent $want, dom0 received $got"; return 1; }
	echo "$got"
}
xt_net_from_dom0() { # NAME DOMUADDR PORT MIB [KEEP]: KEEP, the file stays on both sides
	local name=$1 addr=$2 port=$3 keep=${5:-} want got f
	f=${keep:-d$port}
	want=$(xt_net_sh mkdata "$f" "$4") || { echo "$want"; return 1; }
	xt_domu_run "$name" "sh /extra/net.sh listen $port ${keep:-rx$port}" 60 || return 1
	xt_net_sh send "$addr" "$port" "$f" || { echo "dom0's send failed"
		xt_domu_run "$name" "sh /extra/net.sh rx-kill ${keep:-rx$port}" 30; return 1; }
	[ -n "$keep" ] || rm -f "$XT_IMG/net/$f"
	got=$(xt_domu_run "$name" "sh /extra/net.sh received ${keep:-rx$port} 60 ${keep:+keep}" 70) ||
		{ echo "$got"; return 1; }
	[ "$want" = "$got" ] || { echo "dom0 sent $want, the domU received $got"; return 1; }
	echo "$got"
}
# Streams: one TCP connection carrying a file dom0 and the domU both hold
# (xt_net_from_dom0 ... KEEP), again and again, until stopped; the receiver
# hashes what arrives, dom0 hashes what the sender counted it sent.
# xt_net_stream_up NAME DOM0ADDR PORT TAG FILE [PAUSE]   from the domU to dom0
# xt_net_stream_down NAME DOMUADDR PORT TAG FILE [PAUSE] from dom0 to the domU
#                            (PAUSE s between copies: default 0.2, 0 none)
# xt_net_stream_check NAME up|down TAG FILE SEC   stop it, compare: prints
#                            "N copies", fails unless nc ended with 0 and the hashes agree
xt_net_stream_up() {
	xt_net_sh listen "$3" "$4" hash && xt_domu_run "$1" "sh /extra/net.sh stream-bg $2 $3 $4 $5 ${6:-0.2}" 30
}
xt_net_stream_down() {
	xt_domu_run "$1" "sh /extra/net.sh listen $3 $4 hash" 60 && xt_net_sh stream-bg "$2" "$3" "$4" "$5" "${6:-0.2}"
}
xt_net_stream_check() {
	local name=$1 dir=$2 tag=$3 file=$4 to=${5:-120} n rc got want
	if [ "$dir" = up ]; then
		n=$(xt_domu_run "$name" "sh /extra/net.sh stream-stop $tag $to" $((to + 10)))
		rc=$?
		got=$(xt_net_sh received "$tag" "$to")
	else
		n=$(xt_net_sh stream-stop "$tag" "$to")
		rc=$?
		got=$(xt_domu_run "$name" "sh /extra/net.sh received $tag $to" $((to + 10)))
	fi
	n=$(echo "$n" | tail -n 1)
	want=$(xt_net_sh repeat-sum "$file" "${n:-0}")
	echo "$n copies"
	[ "$rc" = 0 ] || { echo "the sender's nc ended with $rc"; return 1; }
	[ -n "$got" ] && [ "$want" = "$got" ] || { echo "sent $n copies ($want), received $got"; return 1; }
}

# ---------------------------------------------------------------- pvback-usb
# dom0's USB devices (tests/xen/run gives QEMU's xHCI to usb scenarios):
# xt_usb_dom0               load xHCI and the drivers dom0 would bind (usb-storage,
#                           usbhid), wait for QEMU's stick, keyboard and audio device
# xt_usb_find VID:PID       busid ("1-2": libxl's port/N form BUS-PORT[.PORT]) of the
#                           first dom0 USB device with that id, from sysfs; rc 1 if none
# xt_usb_busaddr BUSID      "BUS ADDR" (busnum devnum) of a dom0 device
# xt_usb_gadget_zero        dummy_hcd + a configfs gadget zero (0525:a4a0, SourceSink
#                           and Loopback configs) bound to dummy_udc.0; prints its busid
# xt_usb_gadget_zero_stop   unbind and remove it
# pvback-usb and its domUs:
# xt_usb_start [OPTION]...  xt_pvd_start pvback-usb (log: $XT_USB_LOG)
# xt_usb_stop / xt_usb_stop_check NAME / xt_usb_kill / xt_usb_alive   as for blk
# xt_usb_ctrl [PORTS] [VER] the xl usbctrl line (type=pv: backend/vusb, Linux's xen-hcd)
# xt_usb_be DOMID [DEVID]   backend dir of a controller;  xt_usb_fe: frontend dir
# xt_usb_domu NAME [-e ENVLINE] [-m MB] [-n] -- [CFGLINE]...
#                           a domU with the usb layer (xen-hcd, class drivers, lsusb,
#                           testusb), /extra/usb.sh and an 8-port USB 2.0 controller;
#                           waits for the controller Connected (-n: not) and the agent
# xt_usb_plug DOMID PORT SPEC   write port/PORT of controller 0: a host device
#                           ("1-2", as libxl writes it) or an emulated one ("emu:zero",
#                           "emu:storage,file=PATH", "emu:keyboard", "emu:tablet": no
#                           xl syntax for those); SPEC "" unplugs
# xt_usb_xl_attach NAME BUSID   `xl usbdev-attach NAME hostbus=B hostaddr=A`
# xt_usb_sh NAME CMD...     /extra/usb.sh CMD in the domU (see dom0/guest/usb.sh)
# xt_usb_testusb NAME VID:PID LABEL   usbtest's 30 cases through testusb in the domU:
#                           one "case N: RESULT" line each, also in record-usb-testusb-LABEL
XT_USB_LOG=/tmp/xt/pvback-usb.daemon.log
XT_DOMU_USB=/xt/domu/usb.cpio
XT_USB_STICK=46f4:0001   # QEMU usb-storage
XT_USB_KBD=0627:0001     # QEMU usb-kbd
XT_USB_AUDIO=46f4:0002   # QEMU usb-audio
XT_USB_ZERO=0525:a4a0    # gadget zero (NetChip), usbtest's gz_info
XT_USB_GADGET=/sys/kernel/config/usb_gadget/xtzero
xt_usb_start() { xt_pvd_start pvback-usb "$@"; }
# xt_usb_ready [OPTIONS]: pvback-usb started (OPTIONS), then domU g1 with
# an 8-port USB 2.0 controller whose backend is Connected; sets id, be and
# fe.  False (after the failed checks) when either does not happen.
xt_usb_ready() {
	xt_usb_start "$@" || { xt_fail "pvback-usb starts"; return 1; }
	xt_pass "pvback-usb --hv xen starts (control socket answers)"
	if ! xt_check "domU with an 8-port USB 2.0 controller: backend Connected" xt_usb_domu g1; then
		xt_check "pvback-usb is still running" xt_usb_alive
		return 1
	fi
	id=$(xt_domid g1)
	be=$(xt_usb_be "$id") fe=$(xt_usb_fe "$id")
}
xt_usb_alive() { xt_pvd_alive pvback-usb; }
xt_usb_stop() { xt_pvd_stop pvback-usb; }
xt_usb_stop_check() { xt_pvd_stop_check pvback-usb "$1"; }
xt_usb_kill() { xt_pvd_kill pvback-usb; }
xt_usb_be() { echo "/local/domain/0/backend/vusb/$1/${2:-0}"; }
xt_usb_fe() { echo "/local/domain/$1/device/vusb/${2:-0}"; }
xt_usb_ctrl() { echo "usbctrl = [ 'type=pv,version=${2:-2},ports=${1:-8}' ]"; }
xt_usb_find() { # VID:PID
	local d
	for d in /sys/bus/usb/devices/*; do
		[ -e "$d/idVendor" ] || continue
		[ "$(cat "$d/idVendor"):$(cat "$d/idProduct")" = "$1" ] || continue
		basename "$d"
		return 0
	done
	return 1
}
xt_usb_busaddr() { echo "$(cat "/sys/bus/usb/devices/$1/busnum") $(cat "/sys/bus/usb/devices/$1/devnum")"; }
xt_usb_dom0() {
	local m
	for m in xhci-pci usb-storage sd_mod usbhid hid-generic; do
		modprobe $m || { xt_log "modprobe $m failed"; return 1; }
	done
	xt_wait 60 xt_usb_find $XT_USB_STICK >/dev/null && xt_wait 30 xt_usb_find $XT_USB_KBD >/dev/null &&
		xt_wait 30 xt_usb_find $XT_USB_AUDIO >/dev/null || {
		xt_log "QEMU's USB devices did not appear in dom0 (run gives them to usb scenarios only)"
		return 1
	}
}
xt_usb_gadget_zero() {
	local g=$XT_USB_GADGET m
	for m in dummy_hcd libcomposite usb_f_ss_lb; do
		modprobe $m || { xt_log "modprobe $m failed"; return 1; }
	done
	grep -q ' /sys/kernel/config configfs ' /proc/mounts ||
		mount -t configfs configfs /sys/kernel/config || return 1
	if [ ! -d "$g" ]; then
		mkdir "$g" "$g/strings/0x409" "$g/functions/SourceSink.0" "$g/functions/Loopback.0" \
			"$g/configs/c.1" "$g/configs/c.2" "$g/configs/c.1/strings/0x409" \
			"$g/configs/c.2/strings/0x409" || return 1
		echo 0x0525 >"$g/idVendor"
		echo 0xa4a0 >"$g/idProduct"
		echo xt0001 >"$g/strings/0x409/serialnumber"
		echo pvback >"$g/strings/0x409/manufacturer"
		echo "Gadget Zero" >"$g/strings/0x409/product"
		echo "source/sink" >"$g/configs/c.1/strings/0x409/configuration"
		echo "loopback" >"$g/configs/c.2/strings/0x409/configuration"
		ln -s "$g/functions/SourceSink.0" "$g/configs/c.1/" &&
			ln -s "$g/functions/Loopback.0" "$g/configs/c.2/" || return 1
	fi
	[ -n "$(cat "$g/UDC")" ] || echo dummy_udc.0 >"$g/UDC" || return 1
	xt_wait 30 xt_usb_find $XT_USB_ZERO >/dev/null || { xt_log "gadget zero did not enumerate"; return 1; }
	xt_usb_find $XT_USB_ZERO
}
xt_usb_gadget_zero_stop() {
	local g=$XT_USB_GADGET
	[ -d "$g" ] || return 0
	echo "" >"$g/UDC" 2>/dev/null
	rm -f "$g/configs/c.1/SourceSink.0" "$g/configs/c.2/Loopback.0"
	rmdir "$g/configs/c.1/strings/0x409" "$g/configs/c.2/strings/0x409" "$g/configs/c.1" "$g/configs/c.2" \
		"$g/functions/SourceSink.0" "$g/functions/Loopback.0" "$g/strings/0x409" "$g"
}
xt_usb_domu() {
	local name=$1 env= mem=256 wait=1 id
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		-e) env="$env${env:+
}$2"; shift 2 ;;
		-m) mem=$2; shift 2 ;;
		-n) wait=0; shift ;;
		--) shift; break ;;
		*) break ;;
		esac
	done
	xt_domu_start "$name" -f /xt/guest/usb.sh -l "$XT_DOMU_USB" -e "${env:-XT_NOENV=1}" -m "$mem" -- \
		"$(xt_usb_ctrl)" "$@" || return 1
	id=$(xt_domid "$name")
	[ $wait = 0 ] || xt_xs_wait "$(xt_usb_be "$id")/state" 4 90 || return 1
	xt_domu_wait "$name" 'XTD: ready' 120
}
xt_usb_plug() { xenstore-write "$(xt_usb_be "$1")/port/$2" "$3"; }
xt_usb_xl_attach() {
	set -- "$1" $(xt_usb_busaddr "$2")
	xl usbdev-attach "$1" hostbus="$2" hostaddr="$3"
}
xt_usb_sh() {
	local name=$1
	shift
	xt_domu_run "$name" "sh /extra/usb.sh $*" 300
}
xt_usb_testusb() { # NAME VID:PID LABEL
	local out rc
	out=$(xt_domu_run "$1" "sh /extra/usb.sh testusb $2" 900)
	rc=$?
	echo "XT-RECORD-BEGIN usb-testusb-$3"
	echo "$out"
	echo "XT-RECORD-END usb-testusb-$3"
	return $rc
}
# xt_usb_testusb_judge LABEL OUTPUT REQUIRED EXPECTED_FAIL [WHY]: one result
# per case of REQUIRED (must be "ok") and of EXPECTED_FAIL (SKIP, with WHY and
# the exact result line); any other case must be "n/a" (usbtest found no
# endpoint for it) or ok
xt_usb_testusb_judge() {
	local label=$1 out=$2 req=$3 xf=$4 why=${5:+: $5} n line
	for n in $(seq 0 29); do
		# the last line of a case counts (the iso cases run again with alt 1)
		line=$(echo "$out" | grep "^case $n: " | tail -n 1)
		if echo " $req " | grep -q " $n "; then
			case $line in
			"case $n: ok"*) xt_pass "testusb on $label: ${line#case }" ;;
			*) xt_fail "testusb on $label: case $n" "${line#case $n: }" ;;
			esac
		elif echo " $xf " | grep -q " $n "; then
			xt_skip "testusb on $label: case $n (expected to fail$why)" "${line#case $n: }"
		else
			case $line in
			"case $n: ok"* | "case $n: n/a") ;;
			*) xt_fail "testusb on $label: case $n" "${line#case $n: }" ;;
			esac
		fi
	done
}
# xt_usb_hcd_clean NAME: none of 6.1's xen-hcd complaints about its backend
# in the domU's kernel log
XT_XENHCD_ERRORS='xen-hcd: protocol error|xenhcd: error|gnttab_alloc_grant_references|saw state .* at frontend|reading num-ports|invalid num-ports|reading usb-ver|invalid usb-ver'
xt_usb_hcd_clean() {
	local out
	out=$(xt_domu_run "$1" dmesg 30) || return 1
	! echo "$out" | grep -E "$XT_XENHCD_ERRORS"
}
