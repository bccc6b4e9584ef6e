#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: a hostile guest g1 against pvback-blk (blkfront-tool hostile
# and attack) while the bystander g2 verifies its I/O (issue 13).  One
# request per rule: field abuse (bad operation, segments, sectors, discard
# ranges, indirect requests with 0 / too many / garbage segments or an
# unknown indirect_op, id reuse, flushes with bogus segments), grant abuse
# (ungranted, granted to another domain, readonly for a read; copied and
# mapped) and ring index abuse (req_prod beyond the ring, far ahead,
# behind; rsp_event far away): each gets its response status, or costs the
# device its connection, with the reason logged.  Then sustained: a second
# thread flipping request fields and indirect pages while the ring is full
# (double fetch), a guest that never consumes its responses, and grants
# ended while their requests are in flight.  Throughout: the daemon runs,
# g2 verifies, the daemon's VmRSS and fds come back within bounds.
. "$(dirname "$0")/blk-lib.sh"

hostile_setup

# RULE:STATUS:BACKEND:LOGGED (LOGGED: text of the device's log lines, - none).
rules=(
	bad-op:-2:Connected:-
	too-many-segs:-1:Connected:"too many segments for a direct request"
	first-after-last:-1:Connected:"first_sect > last_sect"
	last-beyond-page:-1:Connected:"last_sect beyond the page"
	past-end:-1:Connected:"I/O past the end of the device"
	overflow:-1:Connected:"sector range overflows"
	bad-gref:-1:Connected:"I/O error"
	foreign-gref:-1:Connected:"I/O error"
	ro-read:-1:Connected:"I/O error"
	ro-write:0:Connected:-
	id-reuse:0:Connected:-
	flush-bad-gref:-1:Connected:"data grant refused"
	flush-too-many-segs:-1:Connected:"too many segments for a flush"
	discard-past-end:-1:Connected:"discard past the end of the device"
	discard-overflow:-1:Connected:"sector range overflows"
	rsp-event:0:Connected:-
	indirect-too-many:-1:Connected:"more segments than negotiated"
	indirect-zero-segs:-1:Connected:"indirect request without segments"
	indirect-bad-op:-1:Connected:"indirect_op must be READ or WRITE"
	indirect-short-page:-1:Connected:"last_sect beyond the page"
	indirect-extra-grefs:0:Connected:-
	map-bad-gref:-1:Connected:"data grant refused"
	map-foreign-gref:-1:Connected:"data grant refused"
	map-ro-read:-1:Connected:"data grant refused"
	bad-indirect-gref:-1:Closing:"protocol violation: bad indirect page grant"
	prod-overflow:sent-overflow:Closing:"protocol violation: ring producer overflow"
	prod-far-ahead:sent-overflow:Closing:"protocol violation: ring producer overflow"
	prod-behind:sent-overflow:Closing:"protocol violation: ring producer overflow"
)
for entry in "${rules[@]}"; do
	IFS=: read -r rule want state logged <<<"$entry"
	log_mark
	guest_of g1 --indirect 256 hostile "$rule" >"$W/h.out" 2>&1
	got=$(sed -n 's/^status //p' "$W/h.out")
	be=$(sed -n 's/^backend //p' "$W/h.out")
	# Closing: the device went (the backend may be Closed by the time we look).
	[ "$state" = Closing ] && [ "$be" = Closed ] && be=Closing
	if [ "$got" = "$want" ] && [ "$be" = "$state" ]; then
		ok "$rule: status $want, backend $state"
	else
		not_ok "$rule: status '$got' backend '$be', want $want $state"
		sed 's/^/# /' "$W/h.out"
	fi
	[ "$state" = Connected ] &&
		check "$rule: the device still serves g1" grep -q '^then read: 0$' "$W/h.out"
	[ "$rule" = id-reuse ] && check "$rule: both requests answered" grep -q '^answers 2$' "$W/h.out"
	[ "$logged" = - ] ||
		check "$rule: logged \"$logged\"" wait_until 5 eval 'log_since_of "$d1" | grep -qF "$logged"'
	check "$rule: the daemon runs" kill -0 "$daemon_pid"
	check "$rule: the bystander verifies" guest_of g2 --indirect 256 --seed $RANDOM verify 1
done
check "g1 reconnects and verifies after the rules" guest_of g1 --indirect 256 --seed 5 verify 4
alive_and_bounded rules

# Double fetch: the flipper thread against a full ring, g2 verifying meanwhile.
bystander_ok >"$W/by.out" 2>&1 &
by=$!
guest_of g1 --indirect 256 --order 1 --count 20000 --seed 17 attack flip >"$W/flip.out" 2>&1
rc=$?
sed 's/^/# /' "$W/flip.out"
check "flip: 20000 requests answered while their fields flipped" \
	test "$rc" = 0 -a "$(sed -n 's/^flip: answered \([0-9]*\) .*/\1/p' "$W/flip.out")" -ge 20000
check "flip: the flipper flipped" grep -qE '^flip: .* flips [1-9]' "$W/flip.out"
wait "$by"; rc=$?
check "flip: meanwhile the bystander verified" test "$rc" = 0
# Any disconnect was a logged violation of g1's, nothing else.
check "flip: each disconnect logged a violation of g1's" sh -c "
	n=\$(sed -n 's/.* disconnects \([0-9]*\)\$/\1/p' '$W/flip.out')
	v=\$(grep -c ' $d1/q0: protocol violation' '$W/$BE_LOG')
	[ \"\$v\" -ge \"\$n\" ]"
alive_and_bounded flip

# A guest that never consumes its responses (its ring stays full of them).
bystander_ok >"$W/by.out" 2>&1 &
by=$!
guest_of g1 --order 2 --count 200 attack never-consume >"$W/nc.out" 2>&1
rc=$?
sed 's/^/# /' "$W/nc.out"
check "never-consume: 200 rounds answered, rsp_cons never moved" \
	test "$rc" = 0 -a -n "$(grep '^never-consume: rounds 200 .* backend Connected' "$W/nc.out")"
wait "$by"; rc=$?
check "never-consume: meanwhile the bystander verified" test "$rc" = 0
alive_and_bounded never-consume

# Grants ended while their requests are in flight.
guest_of g1 --indirect 256 --count 2000 attack revoke >"$W/rv.out" 2>&1
rc=$?
sed 's/^/# /' "$W/rv.out"
check "revoke: 2000 requests answered, no grant kept by the backend" \
	test "$rc" = 0 -a -n "$(grep '^revoke: requests 2000 answered 2000 .* leaked 0$' "$W/rv.out")"
alive_and_bounded revoke

check "no violation was logged for another device" \
	sh -c "! grep 'protocol violation' '$W/$BE_LOG' | grep -v ' $d1/'"
check "SIGTERM stops the daemon with exit status 0" stop_daemon
t_done
