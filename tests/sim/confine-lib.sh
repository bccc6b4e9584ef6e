# SPDX-License-Identifier: GPL-2.0-or-later
# Description: the /proc checks of tests/sim/confine-*.sh (sourced after a
# backend library, not run): a running daemon is confined as
# docs/security.md says.  Every thread runs as the user pvback (uid, gid,
# saved and filesystem ids, exactly pvback's groups) with no_new_privs;
# the main thread keeps exactly the backend's capability set and has no
# system-call filter; each
# data-path thread (queue threads "<proto><domid>q<idx>", polling workers
# "netpoll*") has no capability at all and seccomp mode 2 (filter); its
# bounding set is at most the main thread's (dropping it needs the
# CAP_SETPCAP it no longer has; with no_new_privs and no execve it grants
# nothing).
requires getent

PVBACK_UID=$(getent passwd pvback | cut -d: -f3)
PVBACK_GID=$(getent passwd pvback | cut -d: -f4)
PVBACK_GROUPS=$(id -G pvback | tr ' ' '\n' | sort -n | xargs)
[ -n "$PVBACK_UID" ] || bail_out "no user pvback (scripts/install-deps creates it)"
# The default action: a stray PVBACK_SECCOMP from the caller must not weaken the test.
unset PVBACK_SECCOMP

# field PID TID KEY: the value of KEY in /proc/PID/task/TID/status.
field() { sed -n "s/^$3:[[:space:]]*//; T; s/[[:space:]]*$//; p" "/proc/$1/task/$2/status"; }
# data_path_threads PID PATTERN: the tids whose name matches PATTERN (ERE).
data_path_threads() {
	local t
	for t in /proc/"$1"/task/*; do
		grep -qE "^($2)\$" "$t/comm" 2>/dev/null && echo "${t##*/}"
	done
}
# all_threads_are_pvback PID: uid and gid lines (real, effective, saved, fs).
all_threads_are_pvback() {
	local t ok=0
	for t in /proc/"$1"/task/*; do
		t=${t##*/}
		[ "$(field "$1" "$t" Uid)" = "$(printf '%s\t%s\t%s\t%s' $PVBACK_UID $PVBACK_UID $PVBACK_UID $PVBACK_UID)" ] ||
			{ echo "thread $t ($(cat /proc/$1/task/$t/comm)): Uid $(field "$1" "$t" Uid)"; ok=1; }
		[ "$(field "$1" "$t" Gid)" = "$(printf '%s\t%s\t%s\t%s' $PVBACK_GID $PVBACK_GID $PVBACK_GID $PVBACK_GID)" ] ||
			{ echo "thread $t: Gid $(field "$1" "$t" Gid)"; ok=1; }
		[ "$(field "$1" "$t" Groups | tr ' ' '\n' | sort -n | xargs)" = "$PVBACK_GROUPS" ] ||
			{ echo "thread $t: Groups $(field "$1" "$t" Groups)"; ok=1; }
	done
	return $ok
}
# main_thread_is PID CAPEFF: the main thread's capabilities (hex, as
# /proc shows them), no_new_privs, no filter.
main_thread_is() {
	local e p b n s
	e=$(field "$1" "$1" CapEff) p=$(field "$1" "$1" CapPrm) b=$(field "$1" "$1" CapBnd)
	n=$(field "$1" "$1" NoNewPrivs) s=$(field "$1" "$1" Seccomp)
	echo "main: CapEff $e CapPrm $p CapBnd $b NoNewPrivs $n Seccomp $s"
	[ "$e" = "$2" ] && [ "$p" = "$2" ] && [ "$b" = "$2" ] && [ "$n" = 1 ] && [ "$s" = 0 ]
}
# data_path_confined PID PATTERN: at least one such thread, every one with
# no capability, no_new_privs and seccomp mode 2.
data_path_confined() {
	local t n=0 ok=0 z=0000000000000000
	for t in $(data_path_threads "$1" "$2"); do
		n=$((n + 1))
		local e p b i a nn s
		e=$(field "$1" "$t" CapEff) p=$(field "$1" "$t" CapPrm) b=$(field "$1" "$t" CapBnd)
		i=$(field "$1" "$t" CapInh) a=$(field "$1" "$t" CapAmb)
		nn=$(field "$1" "$t" NoNewPrivs) s=$(field "$1" "$t" Seccomp)
		echo "$(cat "/proc/$1/task/$t/comm"): CapEff $e CapPrm $p CapBnd $b CapInh $i CapAmb $a NoNewPrivs $nn Seccomp $s"
		[ "$e$p$i$a" = "$z$z$z$z" ] && [ "$nn" = 1 ] && [ "$s" = 2 ] || ok=1
		[ $((0x$b & ~0x$(field "$1" "$1" CapBnd))) = 0 ] || ok=1
	done
	[ "$n" -gt 0 ] || { echo "no thread matches $2"; return 1; }
	return $ok
}
# queue_process PID PATTERN: PID, or the worker process of PID's that runs
# a thread matching PATTERN (--isolate domain, e.g. PVBACK_TEST_OPTS).
queue_process() {
	local p
	for p in $(pgrep -P "$1"); do
		[ -n "$(data_path_threads "$p" "$2")" ] && { echo "$p"; return; }
	done
	echo "$1"
}
# confined_checks PID PATTERN CAPEFF: the three checks above as TAP tests.
confined_checks() {
	check "every thread runs as pvback ($PVBACK_UID:$PVBACK_GID, groups $PVBACK_GROUPS)" \
		all_threads_are_pvback "$1"
	check "the main thread keeps only $3, has no_new_privs and no filter" main_thread_is "$1" "$3"
	check "data-path threads ($2): no capabilities, no_new_privs, seccomp filter" \
		data_path_confined "$1" "$2"
}
