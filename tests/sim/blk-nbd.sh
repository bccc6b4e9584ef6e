#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvback-blk on NBD exports (libnbd): params
# nbd+unix:///EXPORT?socket=PATH and nbd://HOST:PORT/EXPORT, served by
# nbdkit (memory and file plugins) and qemu-nbd.  fio's crc32c verify
# through the fio engine over mixed sizes with 1 and 2 queues (one
# connection each: the servers offer multi-conn), persistent grants on and
# off; trims reach the server (holes in nbdkit's file); a write flushed by
# the guest reads back from a restarted server; a server killed and
# restarted under the guest's writes costs the guest nothing (the queue
# reconnects and re-issues what was in flight), but a flush after it fails
# (writes answered without FUA before it may be lost); the connect keys follow
# what the server offers (flush, trim, one queue without multi-conn); a
# read-only export attached rw and an absent server fail the device with
# the reason in the log, and the daemon serves on; with --nbd-timeout, a
# server gone longer fails the guest's I/O until it is back.
. "$(dirname "$0")/blk-lib.sh"

command -v nbdkit >/dev/null || bail_out "nbdkit missing (scripts/install-deps)"
command -v qemu-nbd >/dev/null || bail_out "qemu-nbd missing (scripts/install-deps)"
pvfio_setup 24m
cd "$W" # fio writes any state files to its working directory

# nbd_serve NAME ARGS...: nbdkit ARGS on the socket $W/NAME.sock, in the
# background (pid in nbd_pid), once it listens.
nbd_serve() {
	local name=$1
	shift
	rm -f "$W/$name.sock"
	nbdkit --exit-with-parent -f -U "$W/$name.sock" "$@" &
	nbd_pid=$!
	on_exit "kill $nbd_pid 2>/dev/null"
	wait_until 10 test -S "$W/$name.sock"
}
uri() { echo "nbd+unix:///?socket=$W/$1.sock"; }
be_key() { be_read g1 "$1" "$2"; }
log_has() { grep -q "$1" "$W/blk.log"; }

guest_create g1 256M
daemon_up

# --- nbdkit memory: the verify matrix
check "nbdkit's memory plugin serves" nbd_serve mem memory 64M
check "xvda on it attaches" vbd_attach g1 "$(uri mem)" xvda rw
check "it reaches InitWait" wait_until 10 state_is g1 51712 2
check "the log names the NBD export and what the server offers" \
	log_has "NBD export read-write, 131072 sectors, flush, fua, trim, multi-conn"
for queues in 1 2; do for pers in 1 0; do
	f="--queues=$queues --persistent=$pers"
	for rw in randwrite write; do
		check "fio $rw verify crc32c 512-1m ($f)" pvfio --name=v --rw=$rw \
			--bsrange=512-1m --iodepth=16 --verify=crc32c --verify_fatal=1 \
			--do_verify=1 $f
	done
done; done
check "fio randwrite with fsync (FLUSH) every 8 writes completes" pvfio --name=s \
	--rw=randwrite --bs=4k --fsync=8 --iodepth=4
check "sectors is the export's size" test "$(be_key 51712 sectors)" = 131072
check "the guest's disconnect is logged" wait_until 10 log_has "vbd-1-51712: disconnected"

# --- nbdkit file: trims and a flushed write across a server restart
truncate -s 64M "$W/f.img"
check "nbdkit's file plugin serves" nbd_serve file file "$W/f.img"
check "xvdb on it attaches" vbd_attach g1 "$(uri file)" xvdb rw
check "it reaches InitWait" wait_until 10 state_is g1 51728 2
pvfio_b() { pvfio_vdev=xvdb pvfio "$@"; }
check "fio writes 16 MiB with crc32c headers and fsyncs at the end" pvfio_b --name=w \
	--rw=write --bs=64k --iodepth=8 --verify=crc32c --do_verify=0 --end_fsync=1 --size=16m
check "the server is killed (SIGKILL)" eval 'kill -KILL $nbd_pid; wait $nbd_pid 2>/dev/null; true'
check "and restarted on the same file" nbd_serve file file "$W/f.img"
check "fio verifies all 16 MiB through the restarted server" pvfio_b --name=w --rw=write \
	--bs=64k --iodepth=8 --verify=crc32c --verify_only=1 --verify_fatal=1 --size=16m
check "fio randtrim completes" pvfio_b --name=t --rw=randtrim --bs=64k --iodepth=4 --size=16m
check "the trims punched holes in the server's file" python3 -c "
import os,sys; fd=os.open('$W/f.img',os.O_RDONLY); sys.exit(0 if os.lseek(fd,0,os.SEEK_HOLE)<16<<20 else 1)"

# --- the server restarts under the guest's I/O: the queue reconnects and
# re-issues what was in flight; a flush after it cannot vouch for writes
# answered before (--nbd-restart error, the default)
truncate -s 64M "$W/r.img"
check "nbdkit's file plugin serves another file" nbd_serve rs file "$W/r.img"
check "xvdg on it attaches" vbd_attach g1 "$(uri rs)" xvdg rw
check "it reaches InitWait" wait_until 10 state_is g1 51808 2
pvfio_g() { pvfio_vdev=xvdg pvfio "$@"; }
fio_error() { awk -F';' '$1 == 3 { print $5 }' "$1"; } # terse v3: the job's errno
written_kib() { [ "$(du -k "$W/r.img" | cut -f1)" -ge "$1" ]; }
restart_under() { # KIB: once the server's file holds KIB, kill it and start it again
	wait_until 30 written_kib "$1" || return 1
	kill -KILL "$nbd_pid"
	wait "$nbd_pid" 2>/dev/null
	nbd_serve rs file "$W/r.img"
}
pvfio_g --name=r --rw=write --bs=64k --iodepth=8 --rate=4m --size=16m --verify=crc32c \
	--do_verify=1 --verify_fatal=1 >"$W/r.out" 2>&1 &
fio_pid=$!
check "nbdkit is killed and restarted while fio writes" restart_under 2048
fio_ok() { wait "$1" || { cut -c1-400 "$2"; return 1; }; }
check "fio completes with every block verified, no error seen" fio_ok "$fio_pid" "$W/r.out"
check "fio's terse report has no error" test "$(fio_error "$W/r.out")" = 0
check "the daemon logged no I/O error" fails log_has "vbd-1-51808.*I/O error"
rm -f "$W/r.img"
truncate -s 64M "$W/r.img"
pvfio_g --name=e --rw=write --bs=64k --iodepth=8 --rate=4m --size=16m --end_fsync=1 \
	>"$W/e.out" 2>&1 &
fio_pid=$!
check "nbdkit is killed and restarted again" restart_under 2048
wait "$fio_pid"
check "a flush after it fails: writes answered before may be lost" \
	log_has "vbd-1-51808/q0: I/O error on request id [0-9]* (flush): Input/output error"
check "and only the flush" fails log_has "vbd-1-51808/q0: I/O error on request id [0-9]* (write)"

# --- qemu-nbd over TCP (shared: multi-conn)
truncate -s 32M "$W/q.img"
port=$((20000 + $$ % 20000))
qemu-nbd -f raw -t --shared=4 -b 127.0.0.1 -p "$port" -x disk --cache=none "$W/q.img" &
on_exit "kill $! 2>/dev/null"
check "qemu-nbd listens on TCP" wait_until 10 eval "echo > /dev/tcp/127.0.0.1/$port"
check "xvdc on nbd://127.0.0.1:$port/disk attaches" \
	vbd_attach g1 "nbd://127.0.0.1:$port/disk" xvdc rw
check "it reaches InitWait" wait_until 10 state_is g1 51744 2
pvfio_c() { pvfio_vdev=xvdc pvfio "$@"; }
check "fio verify crc32c through qemu-nbd, 2 queues" pvfio_c --name=q --queues=2 \
	--rw=randwrite --bsrange=4k-256k --iodepth=16 --verify=crc32c --verify_fatal=1 \
	--do_verify=1 --size=16m

# --- a server without multi-conn: one queue
check "nbdkit serves without multi-conn" nbd_serve one --filter=multi-conn \
	memory 32M multi-conn-mode=disable
check "xvdd on it attaches" vbd_attach g1 "$(uri one)" xvdd rw
check "it reaches InitWait" wait_until 10 state_is g1 51760 2
check "the log says one connection" \
	log_has "vbd-1-51760: .*NBD export read-write, 65536 sectors, flush, fua, trim, one connection"
check "the backend offers one queue" test "$(be_key 51760 multi-queue-max-queues)" = 1
pvfio_d() { pvfio_vdev=xvdd pvfio "$@"; }
check "fio verify crc32c with fsync every 4 writes" pvfio_d --name=o --rw=randwrite \
	--bsrange=4k-128k --iodepth=8 --fsync=4 --verify=crc32c --verify_fatal=1 \
	--do_verify=1 --size=16m

# --- a server with flush and without FUA (nbdkit's eval plugin on a file, a
# shell per request; its flushes counted): a write the guest wants durable
# is followed by a flush
truncate -s 16M "$W/n.img"
: >"$W/flushes"
# shellcheck disable=SC2016 # $3, $4: the eval plugin's arguments
check "nbdkit serves flush without FUA" nbd_serve nofua eval get_size='echo 16777216' \
	pread="dd if=$W/n.img skip=\$4 count=\$3 iflag=skip_bytes,count_bytes status=none" \
	pwrite="dd of=$W/n.img seek=\$4 conv=notrunc oflag=seek_bytes status=none" \
	can_write='exit 0' can_flush='exit 0' flush="echo f >>$W/flushes" can_fua='echo none'
check "xvdh on it attaches" vbd_attach g1 "$(uri nofua)" xvdh rw
check "it reaches InitWait" wait_until 10 state_is g1 51824 2
check "the log says flush and no fua" \
	log_has "vbd-1-51824: .*NBD export read-write, 32768 sectors, flush, one connection"
flushes() { wc -l <"$W/flushes"; }
f0=$(flushes)
# writes, a barrier with data, a write, a flush with data, a write, a barrier
# and a flush without: two data writes to make durable, two bare flushes.
check "writes, barriers and flushes with and without data read back" \
	guest_of g1 ordered --devid 51824
check "the server saw four flushes: one after each durable write, two bare" \
	test "$(($(flushes) - f0))" = 4
pvfio_h() { pvfio_vdev=xvdh pvfio "$@"; }
check "fio verify crc32c with fsync every 4 writes, no FUA" pvfio_h --name=n \
	--rw=randwrite --bsrange=4k-64k --iodepth=4 --fsync=4 --verify=crc32c --verify_fatal=1 \
	--do_verify=1 --size=4m

# --- what fails, fails one device with the reason
check "nbdkit serves a read-only export" nbd_serve ro memory 16M -r
vbd_attach g1 "$(uri ro)" xvde rw
check "attached rw, it fails (state Closed)" wait_until 10 state_is g1 51776 6
check "and the log says the export is read-only" log_has "the export is read-only"
vbd_attach g1 "nbd+unix:///?socket=$W/nobody.sock" xvdf rw
check "an absent server fails its device" wait_until 10 state_is g1 51792 6
check "and the log names the socket" log_has "cannot open nbd+unix:///?socket=$W/nobody.sock"
check "xvda still verifies" guest_of g1 verify 8
check "SIGTERM stops the daemon with exit status 0" stop_daemon

# --- --nbd-timeout: a server gone longer than that fails the guest's I/O
# (EIO) instead of holding it, until it is back
daemon_up --nbd-timeout 2
truncate -s 16M "$W/t.img"
check "nbdkit's file plugin serves (--nbd-timeout 2)" nbd_serve to file "$W/t.img"
check "xvdi on it attaches" vbd_attach g1 "$(uri to)" xvdi rw
check "it reaches InitWait" wait_until 10 state_is g1 51840 2
check "a frontend stays connected" shell_start g1 --devid 51840
check "it writes 1 MiB" sh_ok write 1 1
check "the server is killed" eval 'kill -KILL $nbd_pid; wait $nbd_pid 2>/dev/null; true'
check "the next write fails (EIO) instead of waiting for the server" \
	eval '[[ "$(sh_cmd write 2 1)" == *"err Input/output error" ]]'
check "the log says why, naming the queue" \
	log_has "vbd-1-51840/q0: NBD server .* unreachable for 2 s (--nbd-timeout): I/O fails"
check "the server is started again" nbd_serve to file "$W/t.img"
check "the queue connects again, and says so" wait_until 10 log_has "vbd-1-51840/q0: NBD server .* back after"
check "writes go through again" sh_ok write 3 1
check "the first flush fails: writes answered before the server went may be lost" \
	eval '[[ "$(sh_cmd check 3 1)" == *"err Input/output error" ]]'
check "then the writes read back" sh_ok check 3 1
check "and so does what was written before the server went" sh_ok check 1 1
check "the frontend closes" shell_stop
check "SIGTERM stops the daemon with exit status 0" stop_daemon
t_done
