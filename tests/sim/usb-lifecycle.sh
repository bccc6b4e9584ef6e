#!/usr/bin/env bash
# Description: guests and the daemon going away under USB traffic: a guest
# destroyed (pvsim destroy) in the middle of a storage write: the daemon
# survives and drops its controller, another guest's device still works;
# the daemon restarted with SIGTERM: a reconnecting frontend is served, its
# data still there; and killed with SIGKILL and restarted: the same, from
# the port file the queue thread rewrote in place (rings, ports, "end").
. "$(dirname "$0")/usb-lib.sh"

g1_vusb
img a.img; img b.img
dev_attach g1 0 1 emu:storage,file=$W/a.img
guest_create g2
vusb_attach g2
wait_until 10 state_is g2 0 2
dev_attach g2 0 1 emu:storage,file=$W/b.img
check "g2 writes its data" guest_of g2 storage 1 write --offset 0 --length 4194304 --seed 9
guest_of g1 bench 1 --mode bulk-write --qd 8 --seconds 20 >"$W/bench.out" 2>&1 & bp=$!
busy() { stats | grep -q "^vusb-$(domid_of g1)-0 .*Connected"; }
wait_until 10 busy
d1=$(domid_of g1)
pvsim --dir "$S" destroy g1 >/dev/null
wait $bp
check "the daemon survives the destroy of a guest in mid-transfer" kill -0 "$daemon_pid"
gone() { ! stats | grep -q "^vusb-$d1-0 .*Connected"; }
check "its controller is dropped" wait_until 10 gone
check "g2's device still works" guest_of g2 storage 1 verify --offset 0 --length 4194304 --seed 9

check "SIGTERM stops the daemon with exit status 0" stop_daemon
daemon_up
check "after a restart, g2 reconnects and its data verifies" \
	guest_of g2 storage 1 verify --offset 0 --length 4194304 --seed 9
check "new writes verify" guest_of g2 storage 1 write --offset 4194304 --length 1048576 --seed 10
shell_start g2 || bail_out "shell: $sh_ready"
check "a shell connects" true
check "it reads back" sh_cmd storage 1 verify --offset 4194304 --length 1048576 --seed 10
# The port file the queue thread rewrites in place: its rings, the port, "end".
ports_file() { ls "$S"/pvback-usb.state/*.ports 2>/dev/null | head -n 1; }
check "the port file ends with its end line" eval \
	'f=$(ports_file) && head -n 1 "$f" | grep -q "^rings " && grep -q "^port 1 " "$f" && test "$(tail -n 1 "$f")" = end'
kill9_daemon
daemon_up
check "after SIGKILL and a restart, the same connection is served again" \
	sh_cmd storage 1 verify --offset 4194304 --length 1048576 --seed 10
check "the frontend closes cleanly" shell_stop
check "SIGTERM stops the last daemon" stop_daemon
t_done
