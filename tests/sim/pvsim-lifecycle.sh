#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvsim start/create/env/list/destroy/stop as a user runs them:
# domains appear in xenstore (read with Debian's xenstore-utils), `pvsim env
# NAME` makes a process act as that domain, destroy fires @releaseDomain and
# removes the domain's nodes, and stop leaves no process or socket behind.
. "$(dirname "$0")/tap.sh"
requires xenstore-exists xenstore-ls xenstore-read xenstore-watch xenstore-write
t_plan 12
t_pvsim_start

d1=$(pvsim --dir "$PVSIM_DIR" create g1 --mem 64M)
check "create prints the new domid" test "$d1" = 1
check "a bad size is refused with a message" t_fails_with "invalid memory size" pvsim --dir "$PVSIM_DIR" create g2 --mem 12x
check "a duplicate name is refused" t_fails_with "already exists" pvsim --dir "$PVSIM_DIR" create g1 --mem 64M

eval "$(pvsim --dir "$PVSIM_DIR" env)"
check "xenstore-ls shows domain 0 and g1" sh -c 'xenstore-ls /local/domain | grep -q "^0 =" && xenstore-ls /local/domain | grep -q "^1 ="'
check "the domain's name is in xenstore" test "$(xenstore-read /local/domain/1/name)" = g1
check "list names both domains" sh -c "pvsim --dir '$PVSIM_DIR' list | grep -q '^Domain-0 ' && pvsim --dir '$PVSIM_DIR' list | grep -q '^g1 '"

# As the guest: its own domain path, and no access to dom0's private nodes.
check "the guest reads its own name through its socket" \
	sh -c "eval \"\$(pvsim --dir '$PVSIM_DIR' env g1)\"; test \"\$(xenstore-read name)\" = g1"
xenstore-write /local/domain/0/secret s3cret
check "the guest cannot read dom0's nodes (EACCES)" \
	sh -c "eval \"\$(pvsim --dir '$PVSIM_DIR' env g1)\"; ! xenstore-read /local/domain/0/secret 2>/dev/null"

# @releaseDomain fires on destroy: watch it, destroy, expect the event.
coproc W { exec xenstore-watch -n 2 @releaseDomain; }
wpid=$W_PID
exec {wfd}<&"${W[0]}"   # keep the pipe: bash drops W[] when the coproc exits
read -r -t 10 first <&"$wfd"   # the initial fire on registration
pvsim --dir "$PVSIM_DIR" destroy g1
read -r -t 10 ev <&"$wfd"
check "destroy fires @releaseDomain" test "${ev:-}" = "@releaseDomain"
wait "$wpid" 2>/dev/null
check "destroy removes /local/domain/1" sh -c '! xenstore-exists /local/domain/1'

pid=$(cat "$PVSIM_DIR/pvsim.pid")
pvsim --dir "$PVSIM_DIR" stop
check "stop ends the daemon" t_not_running "$pid"
check "stop leaves no socket behind" sh -c "! ls '$PVSIM_DIR'/ctl.sock '$PVSIM_DIR'/xs/0 '$PVSIM_DIR'/hv/0 2>/dev/null | grep -q ."
t_done
