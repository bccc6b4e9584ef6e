#!/usr/bin/env bash
# Description: the conn ring and in-flight URBs across hot-plug: a keyboard
# types its text; a pending interrupt IN (nothing typed) is unlinked and
# answered -ECONNRESET, the controller then still serves; devices attached
# and detached while a frontend stays connected show up and go as port
# events; a detach while an interrupt IN is pending completes it -ENODEV;
# a device re-attached to the same port enumerates again.
. "$(dirname "$0")/usb-lib.sh"

g1_vusb
dev_attach g1 0 1 emu:keyboard,text=hello
check "the keyboard types its text (boot reports decoded)" guest_of g1 keyboard 1 --expect hello --timeout 10
dev_attach g1 0 2 emu:keyboard
h=$(guest_of g1 hold 2 --unlink-after 300 2>&1); echo "$h" | sed 's/^/# /'
check "a pending interrupt IN is unlinked: ECONNRESET, answered by the backend" \
	grep -q "^completed ECONNRESET after .* backend status .*, unlinked" <<<"$h"

shell_start g1 || bail_out "shell: $sh_ready"
check "the shell connects ($sh_ready)" true
dev_attach g1 0 4 emu:zero
check "an attached device shows up on its port" sh_cmd wait-port 4 present
check "and works" sh_cmd zero 4 --case 1,2 --iterations 3
dev_detach g1 0 4
check "a detached device goes" sh_cmd wait-port 4 empty
dev_attach g1 0 4 emu:zero,pattern=1
check "re-attached, it enumerates again" sh_cmd zero 4 --case 2 --iterations 1
echo "hold 2" >&"$sh_in"
IFS= read -r -t 30 line <&"$sh_out"
check "an interrupt IN is held ($line)" test "$line" = "held ep 0x81"
dev_detach g1 0 2
IFS= read -r -t 30 line <&"$sh_out"; echo "# $line"
check "the detach completes it ENODEV" grep -q "^completed ENODEV" <<<"$line"
IFS= read -r -t 30 line <&"$sh_out"
check "hold ends ok" test "$line" = ok
check "port 2 is empty for the frontend" sh_cmd wait-port 2 empty
check "the other ports still work" sh_cmd zero 4 --case 1,2 --iterations 3
check "the frontend closes cleanly" shell_stop
check "the backend is Closed" wait_until 10 state_is g1 0 6
check "the daemon logged no error" sh -c "! grep -q ' ERR ' '$W/usb.log'"
t_done
