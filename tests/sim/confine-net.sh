#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvback-net confined on pvsim (issue 13, docs/security.md):
# while two guests exchange verified TCP data over the bridge every thread
# runs as pvback, the main thread keeps only CAP_DAC_OVERRIDE,
# CAP_IPC_LOCK, CAP_NET_ADMIN and CAP_NET_RAW (it creates the TAPs and the
# queues' io_urings), and the queue threads (net<domid>q<idx>), then the
# polling workers (netpoll*) of --dpdk-lcores on TAP ports, have no
# capability and the seccomp filter.  Started with 32 KiB of RLIMIT_MEMLOCK
# (io_uring's charge, shared by every process of user pvback), the daemon
# still makes its queues' rings and serves.
. "$(dirname "$0")/net-lib.sh"
. "$(dirname "$0")/confine-lib.sh"
net_requires_front

bridge_add "$NET_BR" "$NET_PFX.1/24"
net_up
guest_create g1 128M
guest_create g2 128M
g1id=$(domid_of g1)
check "g1's vif connects" vif_connect g1 eth0 "$NET_PFX.11/24"
check "g2's vif connects" vif_connect g2 eth0 "$NET_PFX.12/24"
check "the daemon logged its confinement" grep -q \
	"confined: uid $PVBACK_UID gid $PVBACK_GID; main thread keeps dac_override,net_admin,net_raw,ipc_lock;.*(kill)" \
	"$W/net.log"
check "g1 pings g2" ping_from "$(guest_ns g1)" "$NET_PFX.12" 3
check "8 MiB from g1 to g2 arrive intact (sha256)" \
	tcp_verify "$(guest_ns g1)" "$(guest_ns g2)" "$NET_PFX.12" 8 5101
check "8 MiB from the host to g1 arrive intact" tcp_verify - "$(guest_ns g1)" "$NET_PFX.11" 8 5102
confined_checks "$netpid" "net${g1id}q[0-9]+" 0000000000007002
front_stop g1 eth0
front_stop g2 eth0
check "the daemon is alive (no filter kill) and exits 0 on SIGTERM" net_stop

# Polling workers: the queues start on them (their TAP fd, their io_uring).
net_up --dpdk-lcores 0
check "g1 reconnects, served by a polling worker" vif_connect g1 eth0 "$NET_PFX.11/24"
check "g2 too" vif_connect g2 eth0 "$NET_PFX.12/24"
check "workers: 8 MiB from g2 to g1 arrive intact" \
	tcp_verify "$(guest_ns g2)" "$(guest_ns g1)" "$NET_PFX.11" 8 5103
confined_checks "$netpid" "netpoll-c0" 0000000000007002
front_stop g1 eth0
front_stop g2 eth0
check "workers: the daemon exits 0 on SIGTERM" net_stop

# io_uring charges the rings a thread without CAP_IPC_LOCK makes to the
# user's locked memory: one RLIMIT_MEMLOCK for every process of user pvback
# (CI's two lanes ran several daemons at once, and a vif's queue failed with
# ENOMEM).  The main thread keeps CAP_IPC_LOCK and makes the rings: a daemon
# started with 32 KiB (less than one queue's ring) serves as before.  Last:
# without CAP_SYS_RESOURCE the shell cannot raise it again.
ulimit -l 32
net_up
check "RLIMIT_MEMLOCK 32 KiB: g1's vif connects (its queue's io_uring made)" \
	vif_connect g1 eth0 "$NET_PFX.11/24"
check "RLIMIT_MEMLOCK 32 KiB: g2's too" vif_connect g2 eth0 "$NET_PFX.12/24"
check "RLIMIT_MEMLOCK 32 KiB: 8 MiB from g1 to g2 arrive intact" \
	tcp_verify "$(guest_ns g1)" "$(guest_ns g2)" "$NET_PFX.12" 8 5104
front_stop g1 eth0
front_stop g2 eth0
check "RLIMIT_MEMLOCK 32 KiB: the daemon exits 0 on SIGTERM" net_stop
t_done
