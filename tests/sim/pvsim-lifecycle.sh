#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvsim start/create/env/list/destroy/stop as a user runs them:
# domains appear in xenstore (read with Debian's xenstore-utils), `pvsim env
# NAME` makes a process act as that domain, destroy fires @releaseDomain and
# removes the domain's nodes, and stop leaves no process or socket behind.
set -u
. "$(dirname "$0")/lib.sh"
t_plan 12
t_pvsim_start

d1=$(pvsim --dir "$D" create g1 --mem 64M)
t_ok "create prints the new domid" test "$d1" = 1
t_ok "a bad size is refused with a message" t_fails_with "invalid memory size" pvsim --dir "$D" create g2 --mem 12x
t_ok "a duplicate name is refused" t_fails_with "already exists" pvsim --dir "$D" create g1 --mem 64M

eval "$(pvsim --dir "$D" env)"
t_ok "xenstore-ls shows domain 0 and g1" sh -c 'xenstore-ls /local/domain | grep -q "^0 =" && xenstore-ls /local/domain | grep -q "^1 ="'
t_ok "the domain's name is in xenstore" test "$(xenstore-read /local/domain/1/name)" = g1
t_ok "list names both domains" sh -c "pvsim --dir '$D' list | grep -q '^Domain-0 ' && pvsim --dir '$D' list | grep -q '^g1 '"

# As the guest: its own domain path, and no access to dom0's private nodes.
t_ok "the guest reads its own name through its socket" \
	sh -c "eval \"\$(pvsim --dir '$D' env g1)\"; test \"\$(xenstore-read name)\" = g1"
xenstore-write /local/domain/0/secret s3cret
t_ok "the guest cannot read dom0's nodes (EACCES)" \
	sh -c "eval \"\$(pvsim --dir '$D' env g1)\"; ! xenstore-read /local/domain/0/secret 2>/dev/null"

# @releaseDomain fires on destroy: watch it, destroy, expect the event.
coproc W { exec xenstore-watch -n 2 @releaseDomain; }
wpid=$W_PID
exec {wfd}<&"${W[0]}"   # keep the pipe: bash drops W[] when the coproc exits
read -r -t 10 first <&"$wfd"   # the initial fire on registration
pvsim --dir "$D" destroy g1
read -r -t 10 ev <&"$wfd"
t_ok "destroy fires @releaseDomain" test "${ev:-}" = "@releaseDomain"
wait "$wpid" 2>/dev/null
t_ok "destroy removes /local/domain/1" sh -c '! xenstore-exists /local/domain/1'

pid=$(cat "$D/pvsim.pid")
pvsim --dir "$D" stop
t_ok "stop ends the daemon" t_not_running "$pid"
t_ok "stop leaves no socket behind" sh -c "! ls '$D'/ctl.sock '$D'/xs/0 '$D'/hv/0 2>/dev/null | grep -q ."
t_done
