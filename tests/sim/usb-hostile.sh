#!/usr/bin/env bash
# Description: hostile usbif requests built by hand (usbfront-tool raw):
# a bad pipe (port 0, a port beyond num-ports, an unknown address), a
# buffer_length beyond its segments, 17 segments, an iso packet count the
# descriptor segments do not hold, an ungranted ref, a segment crossing its
# page, an IN transfer into a page granted readonly (a violation: the copy
# to the guest fails)
# and req_prod far beyond the ring: each is answered with an error or
# disconnects the offending controller.  An unlink of an id not in flight
# is answered once (its status is the backend's: Linux ignores it) and
# nothing else is; a conn ring flooded beyond its size harms nobody else;
# absurd ring keys and 300 rounds of state flapping cost a bounded log
# (the rest counted as suppressed).
# The daemon and a second guest's verified storage I/O carry on throughout.
# The sustained attacks (double fetch, grants ended in flight, responses
# never consumed) are usb-hostile-attack.sh's.
. "$(dirname "$0")/usb-lib.sh"

hostile_setup
for rule in bad-pipe-port0 bad-pipe-port bad-pipe-dev len-beyond-segs too-many-segs \
	    iso-count bad-gref seg-cross-page readonly-in; do
	out=$(guest_of g1 raw $rule 1 2>&1); echo "$out" | sed 's/^/# /'
	answered() { grep -qE "^response id 3 status (EINVAL|ENODEV|EPIPE|ESHUTDOWN|EPROTO)" <<<"$out" ||
		grep -qE "^backend (Closing|Closed)" <<<"$out"; }
	check "$rule: an error response or a disconnect" answered
	check "$rule: the frontend did not see a protocol error" fails grep -q "usbfront broken" <<<"$out"
	check "$rule: the daemon runs" kill -0 "$daemon_pid"
	check "$rule: the other guest's storage I/O verifies" other_guest_ok
done
out=$(guest_of g1 raw unlink-unknown 1 2>&1); echo "$out" | sed 's/^/# /'
check "unlink-unknown: answered once" test "$(grep -c '^response id 3 ' <<<"$out")" = 1
check "unlink-unknown: nothing else answered, no protocol error" fails grep -q "usbfront broken" <<<"$out"
check "unlink-unknown: the controller still serves" grep -q "^then GET_STATUS: OK" <<<"$out"
for rule in prod-overflow conn-flood; do
	out=$(guest_of g1 raw $rule 1 2>&1); echo "$out" | sed 's/^/# /'
	[ $rule = prod-overflow ] &&
		check "$rule: the controller is disconnected" grep -qE "^backend (Closing|Closed)" <<<"$out"
	check "$rule: the daemon runs" kill -0 "$daemon_pid"
	check "$rule: the other guest's storage I/O verifies" other_guest_ok
	check "$rule: a fresh frontend of the guest is served again" guest_of g1 zero 1 --case 1,2 --iterations 2
done

# xenstore abuse: absurd ring keys, then 300 rounds of state flapping (an
# Initialised after InitWait is a failing connect, a word a bad state): the log stays bounded, the
# daemon and the other guest carry on, and the guest is served again.
before=$(log_lines vusb-1-0)
check "xenstore abuse of g1's controller is written" fe_abuse g1 0 300 urb-ring-ref 99999999 \
	conn-ring-ref 4294967296 event-channel garbage
check "xenstore abuse: the daemon runs" kill -0 "$daemon_pid"
check "xenstore abuse: the other guest's storage I/O verifies" other_guest_ok
settled() { state_is g1 0 6 || state_is g1 0 2; }
check "xenstore abuse: the controller settles (Closed or InitWait)" wait_until 10 settled
check "xenstore abuse: at most 60 log lines for 375 state writes ($(( $(log_lines vusb-1-0) - before )))" \
	test $(( $(log_lines vusb-1-0) - before )) -le 60
check "xenstore abuse: a fresh frontend of the guest is served again" \
	guest_of g1 zero 1 --case 1,2 --iterations 2
check "the daemon exits 0 on SIGTERM" stop_daemon
suppressed() { # the lines of vusb-1-0 the rate limit dropped, summed
	sed -n 's/.* vusb-1-0: \([0-9]*\) message(s) suppressed.*/\1/p' "$W/usb.log" |
		awk '{ n += $1 } END { print n + 0 }'
}
check "the abuse made lines, most suppressed and counted ($(suppressed) >= 100)" \
	test "$(suppressed)" -ge 100
t_done
