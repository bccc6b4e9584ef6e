# SPDX-License-Identifier: GPL-2.0-or-later
# Description: what the --isolate domain suites (blk-isolate.sh,
# usb-isolate.sh) look at in /proc (sourced after a backend library, not
# run): the daemon's worker processes, which of them holds a file of $W,
# the guest memory a process maps, its status fields, whether a worker's
# queue threads are confined, and the checks both suites make of the
# workers' memory, user and capabilities.
workers() { pgrep -P "$daemon_pid" || true; }
# has_open PID FILE: PID has $W/FILE open.
has_open() { ls -l "/proc/$1/fd" 2>/dev/null | grep -q "$W/$2"; }
# worker_of FILE: the worker process that has $W/FILE open.
worker_of() {
	local p
	for p in $(workers); do
		has_open "$p" "$1" && echo "$p"
	done
}
# sim_maps PID: how many pvsim guest-memory mappings PID has.
sim_maps() { grep -cE 'memfd:pvsim-(ram|gnttab|active)' "/proc/$1/maps" || true; }
status_of() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# confined_threads PID ERE MIN: every thread of PID whose name matches ERE
# has no capability, the seccomp filter and no_new_privs; at least MIN do.
confined_threads() {
	local t n=0
	for t in /proc/"$1"/task/*; do
		grep -qE "$2" "$t/comm" || continue
		[ "$(status_of "${t#/proc/}" Seccomp)" = 2 ] || return 1
		[ "$(status_of "${t#/proc/}" CapEff)" = 0000000000000000 ] || return 1
		[ "$(status_of "${t#/proc/}" NoNewPrivs)" = 1 ] || return 1
		n=$((n + 1))
	done
	[ "$n" -ge "$3" ]
}
# worker_checks BASE0 W1 W2: the xenbus process maps no guest memory beyond
# the BASE0 mappings of its own hv handle, the workers W1 and W2 do; they
# run as the daemon's user (not root) and their main threads keep only
# CAP_DAC_OVERRIDE.  Prints their VmRSS.
worker_checks() {
	local base0=$1 w1=$2 w2=$3 uid
	check "the xenbus process maps no guest memory (its own hv handle's $base0 mappings)" \
		test "$(sim_maps "$daemon_pid")" = "$base0"
	check "the workers do" eval 'test "$(sim_maps $w1)" -gt 0 && test "$(sim_maps $w2)" -gt 0'
	echo "# VmRSS: xenbus process $(status_of "$daemon_pid" VmRSS) kB, workers $(status_of "$w1" VmRSS) and $(status_of "$w2" VmRSS) kB"
	uid=$(status_of "$daemon_pid" Uid)
	check "workers run as the daemon's user ($uid)" eval \
		'test "$(status_of $w1 Uid)" = "$uid" && test "$(status_of $w2 Uid)" = "$uid" && ! test "${uid%%[[:space:]]*}" = 0'
	check "the workers' main threads keep only CAP_DAC_OVERRIDE and CAP_IPC_LOCK" eval \
		'test "$(status_of $w1 CapEff)" = 0000000000004002 && test "$(status_of $w2 CapEff)" = 0000000000004002'
}
