# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Description: a real single-node Ceph cluster (one mon, one memstore OSD,
# no mgr) for tests/sim/*.sh (sourced, not run; after blk-lib.sh, or alone:
# then it sources tap.sh), entirely in one directory: its ceph.conf, the keyring
# with client.admin, the daemons' data, logs ($name.log), admin sockets and
# pid files.  The mon listens on 127.0.0.1 (msgr v2 only) on a port picked
# free in 10000-19999 (below the ephemeral range, apart from the other
# suites' ports), so several suites may each run a cluster at once.
#
#   ceph_up DIR            the cluster in DIR (made if missing) with the pool
#                          "pvback" ready for rbd; bails out (the logs as #
#                          lines) when it is not within its deadlines
#   ceph_down              stop the daemons and wait for them (registered
#                          with on_exit by ceph_up; safe to call twice)
#   ceph_conf              the path of ceph.conf (what rbd -c, fio --conf
#                          and rados_conf_read_file take; client id admin)
#   cephc ARGS / rbdc ARGS the ceph and rbd CLIs on it, bounded in time
#   ceph_grant USER        let USER (pvback-blk's, once it dropped root) read
#                          ceph.conf and the keyring, and write its client log
#   rbd_create IMG SIZE, rbd_resize IMG SIZE, rbd_snap_create IMG@SNAP,
#   rbd_rm IMG, rbd_size IMG[@SNAP] (bytes), rbd_sha256 IMG[@SNAP] (of its
#   whole content), rbd_import IMG FILE (a new image with FILE's content),
#   rbd_write IMG FILE [OFFSET] (into an existing image, via python3-rbd)
#   ceph_stop_osd          SIGTERM the OSD and wait: memstore writes all its
#                          objects to DIR/osd.0 (0.1 s for 48 MiB)...
#   ceph_start_osd         ...and a new OSD reads them back; returns once the
#                          OSD is up (0.5 s): clients resend what was in flight
#   ceph_kill_osd          SIGKILL the OSD, with CEPH_STORE=bluestore only (it
#                          loses nothing); memstore would restart with the
#                          objects of the last clean stop, or with no PGs at
#                          all, where I/O then hangs: it refuses
#
# IMG is POOL/IMAGE.  CEPH_STORE=bluestore (set before ceph_up) puts the OSD
# on a sparse 2 GiB file in DIR instead: ceph_up takes 6.5 s instead of 2.5.
# The daemons run as root in the foreground as our children (no systemd, no
# /etc/ceph, no /var/lib/ceph), so ceph_* must run in the shell that ran
# ceph_up, not in a subshell.
# on_exit, wait_until, bail_out, t_not_running: tap.sh's (blk-lib.sh sources it).
# shellcheck source=/dev/null # (tap.sh: the same directory)
declare -F wait_until >/dev/null || . "$(dirname "${BASH_SOURCE[0]}")/tap.sh"
CEPH_DIR=
CEPH_PORT=
ceph_mon_pid=
ceph_osd_pid=
ceph_osd_uuid=

ceph_conf() { echo "$CEPH_DIR/ceph.conf"; }
# A broken cluster must not hang a test: every CLI call is bounded.
cephc() { timeout 60 ceph -c "$CEPH_DIR/ceph.conf" --connect-timeout 20 "$@"; }
rbdc() { timeout 300 rbd -c "$CEPH_DIR/ceph.conf" --client-mount-timeout 20 "$@"; }

ceph_write_conf() {
	local d=$CEPH_DIR
	cat >"$d/ceph.conf" <<EOF
[global]
fsid = $(uuidgen)
mon host = [v2:127.0.0.1:$CEPH_PORT]
ms bind msgr1 = false
ms bind ipv4 = true
ms bind ipv6 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $d/keyring
run dir = $d
# Clients (rbd, fio, pvback-blk's librbd) log here too: DIR/client.admin.log.
log file = $d/\$name.log
crash dir = $d/crash
log to stderr = false
err to stderr = true
# Nothing outside DIR.
log to syslog = false
log to journald = false
# Small and quick: one replica, few PGs, no waiting for peers that do not exist.
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
mon warn on insecure global id reclaim allowed = false
# Commit map changes at once (one mon: nobody to batch for).
paxos propose interval = 0.05
paxos min wait = 0.01
# Fewer threads: CI has two CPUs for the daemons, the backend and the guest.
ms async op threads = 2
osd op num shards = 1
osd op num threads per shard = 2

# Daemons only: two clients of one name would fight over one socket.
[mon]
admin socket = $d/\$name.asok
pid file = $d/\$name.pid
# A port taken between our look and the bind: fail at once, we pick another.
ms bind retry count = 1
mon data = $d/\$name
mon cluster log file = $d/\$cluster.log

[osd]
admin socket = $d/\$name.asok
pid file = $d/\$name.pid
# The mon's address is its monmap's; the OSD picks free ports on this one.
public addr = 127.0.0.1
cluster addr = 127.0.0.1
osd data = $d/\$name
osd objectstore = ${CEPH_STORE:-memstore}
# A ceiling, not an allocation: memstore holds only what was written.
memstore device bytes = 1073741824
# Pages, not bufferlists: random 4 KiB overwrites do not fragment the
# objects (bufferlists took 2.4 times the image's size in RSS, pages 1.6).
memstore page set = true
memstore page size = 4096
# bluestore (CEPH_STORE=bluestore): a sparse 2 GiB file, a small cache.
bluestore block create = true
bluestore block size = 2147483648
bluestore cache autotune = false
bluestore cache size = 67108864
osd memory target = 268435456
# Short PG logs: no peer ever needs them to recover from, and the default
# (10000 entries a PG) let the OSD grow by 250 MiB a pass of random writes.
osd min pg log entries = 100
osd max pg log entries = 100
osd pg log dups tracked = 100
osd pg log trim min = 100
osd crush update on start = true
# A TERM unmounts the store: memstore writes its objects to osd data then
# and reads them back when the OSD starts again.
osd fast shutdown = false
EOF
}

# ceph_dump_logs: the daemons' logs' tails (their lines cut short: PG states
# run to 600 characters), as # lines.
ceph_dump_logs() {
	local f
	for f in "$CEPH_DIR"/mon.a.log "$CEPH_DIR"/osd.0.log "$CEPH_DIR"/*.out; do
		[ -s "$f" ] || continue
		echo "# --- $f"
		grep -v '^$' "$f" | tail -12 | cut -c1-240 | sed 's/^/# /'
	done
}
ceph_fail() { ceph_dump_logs; bail_out "ceph: $*"; }

ceph_fsid() { sed -n 's/^fsid = //p' "$CEPH_DIR/ceph.conf"; }
# ceph_pick_port TRY: a port for the mon's TRYth start.
ceph_pick_port() { echo $((10000 + ($$ * 7 + $1 * 1009 + RANDOM) % 10000)); }
ceph_port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }
# The waits end when the daemon is ready or died (the caller tells which).
# Ready is the daemon's own word on its admin socket: a CLI call would wait
# out its connect timeout on a mon that dies meanwhile, and the mon may
# still list a killed OSD's predecessor as up.
ceph_mon_settled() {
	t_not_running "$ceph_mon_pid" ||
		timeout 20 ceph --admin-daemon "$CEPH_DIR/mon.a.asok" mon_status 2>/dev/null |
		grep -q '"state": "leader"'
}
ceph_osd_settled() { t_not_running "$ceph_osd_pid" || ceph_osd_active; }
# The OSD is "active" once it booted and saw itself up in the osdmap.
ceph_osd_active() {
	timeout 20 ceph --admin-daemon "$CEPH_DIR/osd.0.asok" status 2>/dev/null |
		grep -q '"state": "active"'
}
# rbd works: an image can be made and removed (a create that blocked on
# inactive PGs and was timed out may have made it: the rm decides).
ceph_probe() {
	timeout 20 rbd -c "$CEPH_DIR/ceph.conf" create pvback/probe --size 16M
	timeout 20 rbd -c "$CEPH_DIR/ceph.conf" rm --no-progress pvback/probe
}

# ceph_start_mon: the mon on a free port (another suite may take it between
# our look and the mon's bind: then the next port).
ceph_start_mon() {
	local try p
	for try in 1 2 3 4 5; do
		p=$(ceph_pick_port "$try")
		ceph_port_free "$p" || continue
		CEPH_PORT=$p
		rm -rf "$CEPH_DIR/mon.a"
		ceph_write_conf
		if ! { ceph-authtool --create-keyring "$CEPH_DIR/keyring" --gen-key -n mon. \
			--cap mon 'allow *' &&
			ceph-authtool "$CEPH_DIR/keyring" --gen-key -n client.admin \
				--cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' &&
			ceph-authtool "$CEPH_DIR/keyring" --gen-key -n osd.0 \
				--cap mon 'allow profile osd' --cap osd 'allow *'; } >/dev/null; then
			ceph_fail "ceph-authtool failed"
		fi
		monmaptool --create --clobber --fsid "$(ceph_fsid)" \
			--addv a "[v2:127.0.0.1:$p]" "$CEPH_DIR/monmap" >/dev/null ||
			ceph_fail "monmaptool failed"
		# The mon's auth database starts with every key of the keyring.
		ceph-mon -c "$CEPH_DIR/ceph.conf" --mkfs -i a --monmap "$CEPH_DIR/monmap" \
			--keyring "$CEPH_DIR/keyring" \
			>"$CEPH_DIR/mkfs-mon.out" 2>&1 || ceph_fail "ceph-mon --mkfs failed"
		ceph-mon -c "$CEPH_DIR/ceph.conf" -f -i a >"$CEPH_DIR/mon.out" 2>&1 &
		ceph_mon_pid=$!
		# The mon exits at once when the bind fails: try another port.
		wait_until 30 ceph_mon_settled >/dev/null ||
			ceph_fail "the mon is not the leader within 30 s"
		t_not_running "$ceph_mon_pid" || return 0
		ceph_reap "$ceph_mon_pid" KILL 5
		ceph_mon_pid=
	done
	ceph_fail "the mon does not start (last port $p)"
}

ceph_start_osd() {
	ceph-osd -c "$CEPH_DIR/ceph.conf" -f -i 0 >>"$CEPH_DIR/osd.out" 2>&1 &
	ceph_osd_pid=$!
	wait_until 60 ceph_osd_settled >/dev/null || ceph_fail "osd.0 is not up within 60 s"
	! t_not_running "$ceph_osd_pid" || ceph_fail "osd.0 exited (osd.out, osd.0.log)"
}
# ceph_reap PID SIGNAL SECS: send SIGNAL, KILL if it has not exited within
# SECS, reap it (polling too: a daemon a subshell started is no child of ours).
ceph_reap() {
	kill -"$2" "$1" 2>/dev/null
	wait_until "$3" t_not_running "$1" >/dev/null || kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}
ceph_stop_osd() {
	[ -z "$ceph_osd_pid" ] || ceph_reap "$ceph_osd_pid" TERM 120
	ceph_osd_pid=''
}
ceph_kill_osd() {
	if [ "${CEPH_STORE:-memstore}" = memstore ]; then
		echo "ceph_kill_osd: memstore would lose its PGs (CEPH_STORE=bluestore)"
		return 1
	fi
	[ -z "$ceph_osd_pid" ] || ceph_reap "$ceph_osd_pid" KILL 20
	ceph_osd_pid=''
}

ceph_up() {
	CEPH_DIR=$(mkdir -p "$1" && cd "$1" && pwd) || bail_out "ceph: no directory $1"
	requires ceph ceph-mon ceph-osd ceph-authtool monmaptool rbd uuidgen ss
	# The admin sockets' paths must fit a sockaddr_un (108 bytes).
	[ ${#CEPH_DIR} -le 90 ] || bail_out "ceph: $CEPH_DIR is too long a path for the sockets"
	on_exit ceph_down
	ceph_start_mon
	ceph_osd_uuid=$(uuidgen)
	[ "$(cephc osd new "$ceph_osd_uuid" 0 2>"$CEPH_DIR/osd-new.out")" = 0 ] ||
		ceph_fail "ceph osd new failed: $(cat "$CEPH_DIR/osd-new.out")"
	mkdir -p "$CEPH_DIR/osd.0" # memstore does not make it
	ceph-osd -c "$CEPH_DIR/ceph.conf" -i 0 --mkfs --osd-uuid "$ceph_osd_uuid" \
		>"$CEPH_DIR/mkfs-osd.out" 2>&1 || ceph_fail "ceph-osd --mkfs failed"
	ceph_start_osd
	if ! { cephc osd pool create pvback 8 8 &&
		cephc osd pool application enable pvback rbd; } >"$CEPH_DIR/pool.out" 2>&1; then
		ceph_fail "pool pvback: $(cat "$CEPH_DIR/pool.out")"
	fi
	# The pool's PGs are created and peered by now or soon: rbd works then.
	wait_until 60 ceph_probe || ceph_fail "rbd create does not work within 60 s"
}

# ceph_down: KILL the OSD (a TERM would have memstore write all its objects
# to DIR first), TERM the mon (KILL after 20 s), wait for both.
# ceph_grant USER: DIR, ceph.conf and the keyring readable by USER's group
# (root's only otherwise: mktemp -d is 0700, ceph-authtool writes 0600), and
# its librados log DIR/client.admin.log writable; fails when USER still
# cannot read them.
ceph_grant() {
	local g
	g=$(id -gn "$1") || return 1
	touch "$CEPH_DIR/client.admin.log" &&
		chgrp "$g" "$CEPH_DIR" "$CEPH_DIR/ceph.conf" "$CEPH_DIR/keyring" \
			"$CEPH_DIR/client.admin.log" &&
		chmod g+rx "$CEPH_DIR" && chmod g+r "$CEPH_DIR/ceph.conf" "$CEPH_DIR/keyring" &&
		chmod g+w "$CEPH_DIR/client.admin.log" || return 1
	# DIR's parents are the caller's (blk-lib.sh's $W is 0700).
	runuser -u "$1" -- test -r "$CEPH_DIR/keyring" || {
		echo "ceph_grant: $1 cannot reach $CEPH_DIR: a parent is not searchable (chgrp $g P; chmod g+x P)"
		return 1
	}
}

ceph_down() {
	[ -z "$ceph_osd_pid" ] || ceph_reap "$ceph_osd_pid" KILL 20
	[ -z "$ceph_mon_pid" ] || ceph_reap "$ceph_mon_pid" TERM 20
	ceph_osd_pid=''
	ceph_mon_pid=''
	if t_failed && [ -n "$CEPH_DIR" ]; then ceph_dump_logs; fi
}

rbd_create() { rbdc create "$1" --size "$2"; }
rbd_resize() { rbdc resize --no-progress "$1" --size "$2" --allow-shrink; }
rbd_snap_create() { rbdc snap create --no-progress "$1"; }
rbd_rm() { rbdc rm --no-progress "$1"; }
rbd_size() { rbdc info --format json "$1" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])'; }
rbd_sha256() { rbdc export --no-progress "$1" - | sha256sum | cut -d' ' -f1; }
rbd_import() { rbdc import --no-progress "$2" "$1"; }
# rbd_write IMG FILE [OFFSET]: FILE's bytes into the existing image at OFFSET
# (default 0), through librbd (python3-rbd: Debian's python, not a pyenv's).
rbd_write() {
	timeout 300 /usr/bin/python3 - "$CEPH_DIR/ceph.conf" "$@" <<'EOF'
import sys, rados, rbd
conf, img, path = sys.argv[1:4]
off = int(sys.argv[4]) if len(sys.argv) > 4 else 0
pool, name = img.split('/', 1)
with rados.Rados(conffile=conf, rados_id='admin') as c, c.open_ioctx(pool) as io, \
		rbd.Image(io, name) as im, open(path, 'rb') as f:
	while True:
		b = f.read(4 << 20)
		if not b:
			break
		im.write(b, off)
		off += len(b)
	im.flush()
EOF
}
