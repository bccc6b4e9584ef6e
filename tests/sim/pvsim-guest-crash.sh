#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: a guest whose owning frontend process dies is destroyed as a
# crashed guest: @releaseDomain fires, its tree and its device nodes (backend
# and frontend) are removed, and other guests are untouched.
. "$(dirname "$0")/tap.sh"
requires xenstore-exists xenstore-read xenstore-watch
t_plan 6
t_pvsim_start
pvsim --dir "$PVSIM_DIR" create g1 --mem 16M >/dev/null
pvsim --dir "$PVSIM_DIR" create g2 --mem 16M >/dev/null
eval "$(pvsim --dir "$PVSIM_DIR" env)"
pvsim --dir "$PVSIM_DIR" attach g1 vbd target=/dev/null vdev=xvda >/dev/null
check "attach wrote the backend node" xenstore-exists /local/domain/0/backend/vbd/1/51712

coproc W { exec xenstore-watch @releaseDomain; }
exec {wfd}<&"${W[0]}"
read -r -t 10 first <&"$wfd"
# The guest's "kernel": a process that owns g1 and is then killed.
coproc G { exec pvsim --dir "$PVSIM_DIR" run --crash-on-exit g1 -- sh -c 'echo up; exec cat'; }
gpid=$G_PID
read -r -t 10 up <&"${G[0]}"
check "the owning process runs as g1" test "${up:-}" = up
kill -KILL "$(pgrep -P "$gpid" cat)"
read -r -t 10 ev <&"$wfd"
check "its death fires @releaseDomain" test "${ev:-}" = "@releaseDomain"
kill "$W_PID" 2>/dev/null
check "the crashed guest's tree is gone" sh -c '! xenstore-exists /local/domain/1'
check "its backend device node is gone" sh -c '! xenstore-exists /local/domain/0/backend/vbd/1/51712'
check "the other guest is untouched" test "$(xenstore-read /local/domain/2/name)" = g2
t_done
