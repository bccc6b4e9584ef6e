#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvsim's xenstored watches and transactions through
# libxenstore: a watch on a directory fires for a write deep below it, a
# relative watch of a guest reports relative paths, a conflicting write
# makes xs_transaction_end fail with EAGAIN, a clean transaction commits,
# sim_xs_release fires @releaseDomain to dom0 and closes the guest's
# connections, and xenstore-watch sees a removal.
. "$(dirname "$0")/xs-lib.sh"
t_plan 8
testd_start

# Start "pvsim-xs-client watch ..." as domain $1 in the background, output in $D/w.out,
# and wait (bounded, no sleep) until it printed "watching".
watch_start() {
	local dom=$1 line; shift
	rm -f "$D/w.fifo"; mkfifo "$D/w.fifo"
	XENSTORED_PATH=$D/xs$dom pvsim-xs-client watch "$@" >"$D/w.fifo" 2>"$D/w.err" &
	WATCH_PID=$!
	exec 5<"$D/w.fifo"
	read -r -t 10 line <&5 && [ "$line" = watching ] || { cat "$D/w.err"; return 1; }
}
# Wait for the watcher to exit; its remaining output goes to $D/w.out.
watch_wait() {
	cat <&5 >"$D/w.out"
	exec 5<&-
	wait "$WATCH_PID" || { cat "$D/w.out" "$D/w.err"; return 1; }
}

deep_write() {
	watch_start 0 /w tok 5 /w/x/y || return 1
	as_dom 0 xenstore-write /w/x/y v || return 1
	watch_wait && grep -qx "/w/x/y tok" "$D/w.out"
}
check "a watch on /w fires for a write of /w/x/y" deep_write

relative_watch() {
	as_dom 0 xenstore-write /local/domain/1/dev "" && as_dom 0 xenstore-chmod /local/domain/1 n1 &&
	as_dom 0 xenstore-chmod /local/domain/1/dev n1 || return 1
	watch_start 1 dev rel 5 dev/state || return 1
	as_dom 0 xenstore-write /local/domain/1/dev/state 4 || return 1
	watch_wait && grep -qx "dev/state rel" "$D/w.out"
}
check "a relative watch reports relative paths" relative_watch

check "conflicting write yields EAGAIN from xs_transaction_end" outputs EAGAIN \
	as_dom 0 pvsim-xs-client txn-conflict /txn/k
check "a clean transaction commits" bash -c \
	'as_dom 1 pvsim-xs-client txn-commit data/t 1 >/dev/null && [ "$(as_dom 0 xenstore-read /local/domain/1/data/t)" = 1 ]'

removal() {
	watch_start 0 /gone tok 5 /gone/a/b || return 1
	as_dom 0 xenstore-write /gone/a/b 1 || return 1
	as_dom 0 xenstore-rm /gone || return 1
	watch_wait && grep -qx "/gone/a/b tok" "$D/w.out"
}
check "removing a tree fires the watch" removal

release() {
	watch_start 0 @releaseDomain rel 5 @releaseDomain || return 1
	testd_cmd release 1 || return 1
	watch_wait && grep -qx "@releaseDomain rel" "$D/w.out"
}
check "sim_xs_release fires @releaseDomain for dom0" release
release_closes() {
	testd_cmd introduce 1 || return 1
	watch_start 1 dev x 5 || return 1
	testd_cmd release 1 || return 1
	! watch_wait # the watcher loses its connection instead of timing out
}
check "a released domain's watch connection is closed" release_closes
check "xenstore-watch sees the initial event" bash -c \
	'as_dom 0 xenstore-watch -n 1 /local >/dev/null'
t_done
