# SPDX-License-Identifier: GPL-2.0-or-later
# Description: The Xen toolstack is up in dom0: device nodes a userspace
# backend opens, xenstored, xl. Everything later depends on this.
xt_check "/dev/xen/{evtchn,gntdev,gntalloc,privcmd,xenbus} present" \
	sh -c 'for d in evtchn gntdev gntalloc privcmd xenbus xenbus_backend; do [ -c /dev/xen/$d ] || { echo "missing /dev/xen/$d"; exit 1; }; done'
xt_check "xenstored answers on /run/xenstored/socket" \
	sh -c '[ -S /run/xenstored/socket ] && xenstore-read /local/domain/0/domid'
xt_check "xl list shows Domain-0" sh -c 'xl list | grep -q "^Domain-0 *0 "'
xt_check "kernel xen-blkback/xen-netback not loaded (userspace backends serve)" \
	sh -c '! grep -Eq "^xen_(blkback|netback) " /proc/modules'
xl info | grep -E '^(xen_version|xen_caps|total_memory|free_memory|nr_cpus)' | sed 's/^/    /'
