# SPDX-License-Identifier: GPL-2.0-or-later
# Description: Optional: our hypervisor-ops layer on real Xen, loopback in
# dom0 (dom0 shares pages with gntalloc and maps them back through gntdev,
# binds an unbound event channel to itself): build/bin/pvbench-hv with
# PVBACK_HV=xen and --guest 0. Its output is recorded as
# tests/xen/out/record-hv-xen.txt, to set beside bench-sim's figures (TCG:
# compare ratios, not absolutes).
if ! command -v pvbench-hv >/dev/null; then
	xt_skip "pvbench-hv on xen" "build/bin/pvbench-hv not built"
else
	out=$(timeout 240 pvbench-hv --xen --iters 2000 2>&1)
	rc=$?
	echo "XT-RECORD-BEGIN hv-xen"
	echo "$out"
	echo "XT-RECORD-END hv-xen"
	if [ $rc = 0 ]; then xt_pass "pvbench-hv on xen (loopback in dom0)"; else
		xt_fail "pvbench-hv on xen (loopback in dom0)" "rc=$rc"; fi
fi
