#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: tap.sh itself, on scripts written to a scratch directory: a
# failing check is a `not ok` with the command's output and exit status 1,
# check runs its command in the script's shell, wait_until gives up at its
# deadline and shows the condition's last output, a plan not run fails,
# exit hooks run last-registered first also when the script dies of
# SIGTERM, a hook's t_error fails the script, and requires exits 77 with a
# `1..0 # SKIP` plan.
. "$(dirname "$0")/tap.sh"
t_plan 8

# run_tap BODY: run a script that sources tap.sh and then BODY; its output
# in $T_TMP/run.out, its exit status returned.
run_tap() {
	printf '. %q\n%s\n' "$T_TOP/tests/sim/tap.sh" "$1" >"$T_TMP/self.sh"
	bash "$T_TMP/self.sh" >"$T_TMP/run.out" 2>&1
}
has() { grep -qx -- "$1" "$T_TMP/run.out" || { cat "$T_TMP/run.out"; return 1; }; }

failing_check() {
	! run_tap 'check "one" sh -c "echo why; exit 3"; t_done' &&
		has 'not ok 1 - one' && has '# why' && has '1..1'
}
check "a failing check is not ok, shows its output and fails the script" failing_check
in_shell() { run_tap 'x=1; set_x() { x=2; }; check "set" set_x; check "seen" test "$x" = 2; t_done' &&
	has 'ok 2 - seen'; }
check "check runs its command in the script's shell" in_shell
times_out() {
	! run_tap 'check "w" wait_until 1 sh -c "echo last; false"; t_done' &&
		has 'not ok 1 - w' && has '# # last'
}
check "wait_until gives up at its deadline with the last output" times_out
short_plan() { ! run_tap 't_plan 2; ok one; t_done' && has '# error: planned 2 tests, ran 1'; }
check "a plan that was not run fails the script" short_plan
hooks_order() {
	run_tap 'on_exit "echo first"; on_exit "echo second"; ok one; t_done' &&
		[ "$(grep -x 'first\|second' "$T_TMP/run.out" | tr '\n' ' ')" = "second first " ]
}
check "exit hooks run last-registered first" hooks_order
hooks_on_term() { run_tap 'on_exit "echo hook ran"; ok one; kill -TERM $$; sleep 30'; [ $? = 143 ] && has 'hook ran'; }
check "exit hooks run when the script is killed by SIGTERM" hooks_on_term
hook_error() { ! run_tap 'on_exit "t_error late"; ok one; t_done' && has '# error: late'; }
check "t_error in a hook fails a script whose tests passed" hook_error
skips() { run_tap 'requires no-such-tool-here; ok one'; [ $? = 77 ] && has '1..0 # SKIP no-such-tool-here missing'; }
check "requires exits 77 with a SKIP plan" skips
t_done
