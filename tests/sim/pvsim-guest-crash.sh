#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: a guest whose owning frontend process dies is destroyed as a
# crashed guest: @releaseDomain fires, its tree and its device nodes (backend
# and frontend) are removed, and other guests are untouched.
set -u
. "$(dirname "$0")/lib.sh"
t_plan 6
t_pvsim_start
pvsim --dir "$D" create g1 --mem 16M >/dev/null
pvsim --dir "$D" create g2 --mem 16M >/dev/null
eval "$(pvsim --dir "$D" env)"
pvsim --dir "$D" attach g1 vbd target=/dev/null vdev=xvda >/dev/null
t_ok "attach wrote the backend node" xenstore-exists /local/domain/0/backend/vbd/1/51712

coproc W { exec xenstore-watch @releaseDomain; }
exec {wfd}<&"${W[0]}"
read -r -t 10 first <&"$wfd"
# The guest's "kernel": a process that owns g1 and is then killed.
coproc G { exec pvsim --dir "$D" run --crash-on-exit g1 -- sh -c 'echo up; exec cat'; }
gpid=$G_PID
read -r -t 10 up <&"${G[0]}"
t_ok "the owning process runs as g1" test "${up:-}" = up
kill -KILL "$(pgrep -P "$gpid" cat)"
read -r -t 10 ev <&"$wfd"
t_ok "its death fires @releaseDomain" test "${ev:-}" = "@releaseDomain"
kill "$W_PID" 2>/dev/null
t_ok "the crashed guest's tree is gone" sh -c '! xenstore-exists /local/domain/1'
t_ok "its backend device node is gone" sh -c '! xenstore-exists /local/domain/0/backend/vbd/1/51712'
t_ok "the other guest is untouched" test "$(xenstore-read /local/domain/2/name)" = g2
t_done
