#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the real-Xen test images from Debian bookworm packages only.
#
#   tests/xen/out/xen          Xen 4.17 hypervisor, uncompressed multiboot ELF
#   tests/xen/out/vmlinux      Debian 6.1 kernel as a plain ELF (dom0 and domU)
#   tests/xen/out/dom0.cpio    dom0 base initramfs, uncompressed: busybox, the Xen
#                              toolstack and its libraries, kernel modules, and the
#                              domU kernel + base ramdisk under /xt/domu/
#   tests/xen/out/qemu.cpio    a layer on top of dom0.cpio (run --bench adds it):
#                              QEMU's Xen device model for qdisk disks
#   tests/xen/out/domu.cpio    domU base initramfs, uncompressed: busybox, the
#                              domU agent (/init), e2fsprogs, fio, blkfront/netfront/ext4
#   tests/xen/out/domu-net.cpio  a layer on top of domu.cpio for the net scenarios'
#                              domUs: iperf3, nc.openbsd and their libraries
#   tests/xen/out/domu-usb.cpio  a layer on top of domu.cpio for the usb scenarios'
#                              domUs: xen-hcd.ko (built here: Debian does not build
#                              it), usbcore and the class drivers, lsusb, testusb
#   tests/xen/out/dom0.manifest  every path in dom0.cpio (run skips these libs in its overlay)
#
# Packages come from Debian's archive through `apt-get download` (binary .debs,
# cached in tests/xen/debs/) and `apt-get source` (fio, rebuilt without its
# Ceph/Gluster/RDMA/PMEM engines: Debian's fio pulls ~80 MB of libraries).
# Nothing is installed into the host root fs; .debs are unpacked with dpkg -x.
# xen-hcd.ko (CONFIG_USB_XEN_HCD is not set in Debian's 6.1) is built out of
# tree from linux-source-6.1 (one file of its tarball) against the unpacked
# linux-headers of the image's kernel, cached in out/usb-bin/ like fio.
# The images are rebuilt only when an input changes (this script, domu/init,
# the set of .debs): see the stamp at the end. The scenario scripts, the dom0
# /init and our binaries are NOT in these images: `run` appends them as an
# overlay cpio at every boot, so editing a scenario never rebuilds anything.
#
# usage: tests/xen/build-images.sh [--force]
# Host needs: apt-get, dpkg-deb, cpio, readelf (binutils), python3, cc/make (fio).
set -euo pipefail

XT=$(cd "$(dirname "$0")" && pwd)
DEBS=$XT/debs
OUT=$XT/out
EXT=$OUT/ext          # all binary packages unpacked here
EXTQ=$OUT/ext-qemu    # qemu-system-xen and its dependency closure unpacked here
STAGE=$OUT/stage      # image trees before they are packed
FORCE=0
[ "${1:-}" = --force ] && FORCE=1

log() { echo "[build-images] $*" >&2; }
die() { echo "[build-images] error: $*" >&2; exit 1; }

# The kernel ABI that linux-image-amd64 points to (e.g. 6.1.0-56-amd64). We use
# the same kernel for dom0 and domU, so one vmlinux serves both.
kernel_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -1
}

# Binary packages. dom0: hypervisor, toolstack, the libraries xl needs.
# domU: only what the agent and later scenarios run (e2fsprogs, fio's libs).
DOM0_PKGS="xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common xenstore-utils
 libxenmisc4.17 libxencall1 libxenevtchn1 libxenforeignmemory1 libxengnttab1 libxenstore4
 libxentoollog1 libxendevicemodel1 libxenhypfs1 libxentoolcore1 libyajl2 liblzma5 libuuid1
 libzstd1 zlib1g libc6 libgcc-s1 libncurses6 libtinfo6 busybox-static"
DOMU_PKGS="e2fsprogs libext2fs2 libcom-err2 libblkid1 libuuid1 libaio1
 iperf3 libiperf0 libsctp1 libssl3 netcat-openbsd libbsd0 libmd0"
# USB scenarios (29-usb-*): lsusb (usbutils, with libusb and libudev) in
# the domU's usb layer and in dom0; aplay (alsa-utils: libasound and its
# /usr/share/alsa configuration) in the usb layer, to stream to QEMU's
# usb-audio (isochronous OUT).
USB_PKGS="usbutils libusb-1.0-0 libudev1 alsa-utils libasound2 libasound2-data"
# Modules of the domU's usb layer (xen-hcd's own is added to the kernel's
# tree before depmod): the class drivers the usb scenarios' devices bind
# (no udev loads them: domu/init does when the layer is there).
USB_DOMU_MODS="xen-hcd usb-storage sd_mod usbhid hid-generic usbtest snd-usb-audio"
# dom0: xHCI for QEMU's USB devices, dummy_hcd + a configfs gadget zero
# (libcomposite, usb_f_ss_lb: SourceSink and Loopback), and the drivers a
# passed-through device is detached from. Copied, loaded only by usb scenarios.
USB_DOM0_MODS="xhci-pci usb-storage sd_mod usbhid hid-generic dummy_hcd libcomposite usb_f_ss_lb configfs"
# Network scenarios (20-29, 91) run iperf3 and netcat-openbsd (nc -N: a TCP
# stream that ends at EOF, whose sha256 both ends compare; busybox's nc may
# close before its data left) in dom0 and in the domU alike.
NET_BINS="usr/bin/iperf3:usr/bin/iperf3 bin/nc.openbsd:usr/bin/nc.openbsd"
# QEMU's Xen device model, for `backendtype=qdisk` disks (make bench-xen):
# libxl 4.17 starts /usr/libexec/xen-qemu-system-i386 (qemu-system-xen) for a
# PV domain with a qdisk disk. Its whole Depends closure (from the host's apt
# metadata) is downloaded and unpacked apart; only the binary and the
# libraries it links (NEEDED, recursively) go into qemu.cpio, plus the one
# keymap it reads; not the firmware (seabios, ipxe, qemu-system-data's ROMs)
# a PV device model never loads.
QEMU_PKG=qemu-system-xen
QEMU_BIN=usr/libexec/xen-qemu-system-i386

# qemu_pkgs: qemu-system-xen and every package it depends on, recursively
# (alternatives included; virtual packages, shown as <name>, skipped).
qemu_pkgs() {
	apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances "$QEMU_PKG" 2>/dev/null |
		grep -E '^[a-z0-9][a-z0-9.+-]*$' | sort -u
}

# download PKG...: fetch the .debs not yet cached. Any cached version is kept
# (delete tests/xen/debs/ to pick up archive updates), which keeps runs offline.
download() {
	local need="" p
	mkdir -p "$DEBS"
	for p in "$@"; do
		compgen -G "$DEBS/${p}_*.deb" >/dev/null || need="$need $p"
	done
	[ -z "$need" ] && return 0
	log "apt-get download:$need"
	# shellcheck disable=SC2086
	(cd "$DEBS" && apt-get download $need 2>&1 | grep -v 'unsandboxed' >&2) || true
	for p in $need; do
		compgen -G "$DEBS/${p}_*.deb" >/dev/null || die "could not download $p"
	done
}

deb_of() { ls "$DEBS/${1}"_*.deb | tail -1; }

# fio from Debian's source package, configured without the engines that drag in
# Ceph, Gluster, RDMA, PMEM, NUMA and HTTP: the result needs libc, libm, libz, libaio.
build_fio() {
	local src=$OUT/fio-src bin=$OUT/fio-bin/fio
	[ -x "$bin" ] && [ -s "$OUT/fio-bin/version" ] && return 0
	log "building fio from Debian source (~20 s)"
	rm -rf "$src" "$OUT/fio-bin"; mkdir -p "$src" "$OUT/fio-bin"
	mkdir -p "$DEBS/src"
	if ! compgen -G "$DEBS/src/fio_*.orig.tar.*" >/dev/null; then
		(cd "$DEBS/src" && apt-get source --download-only fio 2>&1 | grep -v unsandboxed >&2) ||
			die "apt-get source fio failed (deb-src entry missing?)"
	fi
	tar -C "$src" --strip-components=1 -xf "$(ls "$DEBS"/src/fio_*.orig.tar.* | grep -v '\.asc$' | tail -1)"
	(cd "$src" && ./configure --disable-native --disable-numa --disable-rdma --disable-rados \
		--disable-rbd --disable-http --disable-gfapi --disable-libnfs --disable-pmem \
		--disable-xnvme --disable-libzbc --disable-tcmalloc --disable-dfs --disable-lex \
		>"$OUT/fio-configure.log" 2>&1 && make -j"$(nproc)" fio >"$OUT/fio-make.log" 2>&1) ||
		die "fio build failed, see $OUT/fio-make.log"
	cp "$src/fio" "$bin"
	basename "$(ls "$DEBS"/src/fio_*.dsc | tail -1)" .dsc >"$OUT/fio-bin/version"
	rm -rf "$src"
}

# kbuild_pkgs KVER: what building a module for KVER out of tree takes: the
# flavour's headers, the common headers and kbuild they depend on, and the
# kernel's source package (linux-source-6.1, for drivers/usb/host/xen-hcd.c)
kbuild_pkgs() {
	local h=linux-headers-$1 deps kb
	deps=$(apt-cache depends "$h" 2>/dev/null | sed -n 's/.*Depends: \(linux-\(headers-.*-common\|kbuild-.*\)\)$/\1/p')
	kb=$(echo "$deps" | grep '^linux-kbuild-') || return 0
	# shellcheck disable=SC2086
	echo "$h" $deps "linux-source-${kb#linux-kbuild-}"
}

# build_usb KERNELPKG HEADERPKG... linux-source-X.Y: out/usb-bin/xen-hcd.ko
# (Debian's kernel has no CONFIG_USB_XEN_HCD) and testusb (tools/usb, the
# userspace half of usbtest), from the two files taken out of the kernel's
# source tarball; the module built against the unpacked headers of the
# image's kernel (a one-line Kbuild), its vermagic checked against the
# image's own usbcore.ko. Cached: rebuilt when a .deb or this recipe changes.
build_usb() {
	local kpkg=$1 bin=$OUT/usb-bin b=$OUT/usb-build srcpkg p ver hdr common vm want
	shift
	srcpkg=$(echo "$@" | tr ' ' '\n' | grep '^linux-source-')
	ver=$( (for p in "$kpkg" "$@"; do basename "$(deb_of "$p")"; done; declare -f build_usb) | sha256sum | cut -c1-16)
	[ -s "$bin/xen-hcd.ko" ] && [ -x "$bin/testusb" ] && [ "$(cat "$bin/version" 2>/dev/null)" = "$ver" ] && return 0
	# the source of the image's kernel: same Debian version, or say so
	p=$(basename "$(deb_of "$kpkg")" | cut -d_ -f2)
	[ "$(basename "$(deb_of "$srcpkg")" | cut -d_ -f2)" = "$p" ] ||
		log "warning: $(basename "$(deb_of "$srcpkg")") is not the image's kernel version $p"
	log "building xen-hcd.ko and testusb from $srcpkg against linux-headers-$KVER (~15 s)"
	rm -rf "$b" "$bin"; mkdir -p "$b/kh" "$b/m" "$b/src" "$bin"
	for p in "$@"; do
		case $p in linux-source-*) ;; *) dpkg -x "$(deb_of "$p")" "$b/kh" ;; esac
	done
	# the flavour's Makefile includes the common tree by its absolute path
	hdr=$b/kh/usr/src/linux-headers-$KVER
	common=$(sed -n 's|^include /usr/src/\([^/]*\)/Makefile$|\1|p' "$hdr/Makefile")
	[ -n "$common" ] && [ -d "$b/kh/usr/src/$common" ] || die "unexpected $hdr/Makefile"
	echo "include $b/kh/usr/src/$common/Makefile" >"$hdr/Makefile"
	# two files of the 1.3 GB tree (xz: the whole stream is read, ~10 s)
	dpkg-deb --fsys-tarfile "$(deb_of "$srcpkg")" | tar -xO "./usr/src/$srcpkg.tar.xz" |
		tar -xJ -C "$b/src" --strip-components=1 --wildcards \
			'*/drivers/usb/host/xen-hcd.c' '*/tools/usb/testusb.c' ||
		die "xen-hcd.c / testusb.c not found in $srcpkg"
	cp "$b/src/drivers/usb/host/xen-hcd.c" "$b/m/"
	echo 'obj-m := xen-hcd.o' >"$b/m/Kbuild"
	make -C "$hdr" M="$b/m" modules >"$OUT/usb-make.log" 2>&1 ||
		die "xen-hcd.ko build failed, see $OUT/usb-make.log"
	# the same vermagic as the kernel's own modules, or it will not load
	vm=$(tr '\0' '\n' <"$b/m/xen-hcd.ko" | sed -n 's/^vermagic=//p')
	want=$(tr '\0' '\n' <"$EXT/lib/modules/$KVER/kernel/drivers/usb/core/usbcore.ko" | sed -n 's/^vermagic=//p')
	[ -n "$vm" ] && [ "$vm" = "$want" ] || die "xen-hcd.ko vermagic '$vm', the kernel's '$want'"
	# Debian's modules carry no debug info either (475 KB -> ~60 KB)
	strip --strip-debug -o "$bin/xen-hcd.ko" "$b/m/xen-hcd.ko"
	${CC:-cc} -O2 -Wall -pthread -o "$bin/testusb" "$b/src/tools/usb/testusb.c" >>"$OUT/usb-make.log" 2>&1 ||
		die "testusb build failed, see $OUT/usb-make.log"
	rm -rf "$b"
	log "xen-hcd.ko: vermagic $vm"
	echo "$ver" >"$bin/version"
}

# mkskel ROOT: a busybox-based root tree (applet symlinks only where nothing
# else will be installed; real binaries copied later overwrite them).
mkskel() {
	local r=$1 a
	rm -rf "$r"
	mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,etc,root,mnt,var/lib,var/log,lib64}
	mkdir -p "$r"/lib/x86_64-linux-gnu "$r"/usr/lib/x86_64-linux-gnu
	cp "$EXT/bin/busybox" "$r/bin/busybox"
	for a in $("$EXT/bin/busybox" --list-full); do
		[ -e "$r/$a" ] || ln -s /bin/busybox "$r/$a"
	done
	ln -sfn /run "$r/var/run"
	echo "root:x:0:0:root:/root:/bin/sh" >"$r/etc/passwd"
	echo "root:x:0:" >"$r/etc/group"
}

# find_lib SONAME: its path inside the unpacked packages (relative to EXT).
find_lib() {
	local d
	for d in lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu lib64; do
		[ -e "$EXT/$d/$1" ] && { echo "$d/$1"; return 0; }
	done
	return 1
}

# copy_rel ROOT RELPATH: copy a file from EXT keeping its path; follow one
# level of symlink so both the soname link and its target arrive.
copy_rel() {
	local r=$1 rel=$2 tgt
	mkdir -p "$r/$(dirname "$rel")"
	cp -a "$EXT/$rel" "$r/$rel"
	if [ -L "$EXT/$rel" ]; then
		tgt=$(readlink "$EXT/$rel")
		case $tgt in
		/*) copy_rel "$r" "${tgt#/}" ;;
		*) copy_rel "$r" "$(dirname "$rel")/$tgt" ;;
		esac
	fi
}

# add_elf ROOT SRC DEST: install an ELF binary and, recursively, every NEEDED
# library, taken from the unpacked Debian packages only. A missing soname is an
# error naming it, so the package list above is easy to complete.
add_elf() {
	local r=$1 src=$2 dest=$3 lib rel
	mkdir -p "$r/$(dirname "$dest")"
	rm -f "$r/$dest"   # may be a busybox applet link (busybox has a mke2fs too)
	cp -L "$src" "$r/$dest"
	for lib in $(readelf -d "$src" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		[ -e "$r/lib/x86_64-linux-gnu/$lib" ] || [ -e "$r/usr/lib/x86_64-linux-gnu/$lib" ] && continue
		rel=$(find_lib "$lib") || die "$dest needs $lib: add its package to DOMU_PKGS"
		copy_rel "$r" "$rel"
		add_elf_libs "$r" "$EXT/$rel"
	done
}
add_elf_libs() {
	local r=$1 src=$2 lib rel
	for lib in $(readelf -d "$src" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		[ -e "$r/lib/x86_64-linux-gnu/$lib" ] || [ -e "$r/usr/lib/x86_64-linux-gnu/$lib" ] && continue
		rel=$(find_lib "$lib") || die "$src needs $lib: add its package"
		copy_rel "$r" "$rel"
		add_elf_libs "$r" "$EXT/$rel"
	done
}

# add_modules ROOT MOD...: copy kernel modules and their dependencies (from the
# kernel's modules.dep) and write a modules.dep covering exactly those, so
# busybox `modprobe NAME` works in the image. Modules are only copied, never
# loaded here: the dom0 /init decides what is loaded.
add_modules() {
	local r=$1 m line f dep mdir=lib/modules/$KVER
	shift
	mkdir -p "$r/$mdir"
	for m in "$@"; do
		m=${m//_/-}
		# modules.dep names files with - or _ as the source tree has them
		line=$(grep -E "(^|/)(${m}|${m//-/_})\.ko:" "$EXT/$mdir/modules.dep" | head -1) ||
			die "module $m not in modules.dep"
		for f in ${line%%:*} ${line#*:}; do
			[ -e "$r/$mdir/$f" ] && continue
			mkdir -p "$r/$mdir/$(dirname "$f")"
			cp "$EXT/$mdir/$f" "$r/$mdir/$f"
			dep=$(grep -E "^${f}:" "$EXT/$mdir/modules.dep")
			echo "$dep" >>"$r/$mdir/modules.dep"
		done
	done
	cp "$EXT/$mdir/modules.builtin" "$r/$mdir/" 2>/dev/null || true
}

add_net_bins() { # ROOT: iperf3 and nc.openbsd (NET_BINS), their libraries
	local b
	for b in $NET_BINS; do
		add_elf "$1" "$EXT/${b%%:*}" "${b#*:}"
	done
}

pack() { # pack TREE OUTFILE: uncompressed newc (decompressing under TCG costs seconds)
	(cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$2.tmp"
	mv "$2.tmp" "$2"
}

build_domu() {
	local r=$STAGE/domu b
	mkskel "$r"
	add_elf "$r" "$OUT/fio-bin/fio" usr/bin/fio
	for b in mke2fs e2fsck resize2fs tune2fs dumpe2fs; do
		add_elf "$r" "$EXT/sbin/$b" "sbin/$b"
	done
	ln -sf mke2fs "$r/sbin/mkfs.ext4"; ln -sf e2fsck "$r/sbin/fsck.ext4"
	cp -a "$EXT/etc/mke2fs.conf" "$r/etc/" 2>/dev/null || true
	copy_rel "$r" lib64/ld-linux-x86-64.so.2
	add_modules "$r" xen-blkfront xen-netfront ext4 crc32c-generic
	install -m 0755 "$XT/domu/init" "$r/init"
	pack "$r" "$OUT/domu.cpio"
	# the net layer: iperf3, nc.openbsd and their libraries (libssl, 5 MB:
	# every MB of initramfs costs a domU's boot about a second under TCG),
	# appended only by the net scenarios' domUs (xt_net_domu)
	(cd "$r" && find . | LC_ALL=C sort) >"$STAGE/domu.list"
	add_net_bins "$r"
	(cd "$r" && find . | LC_ALL=C sort) | LC_ALL=C comm -13 "$STAGE/domu.list" - >"$STAGE/domu-net.list"
	(cd "$r" && cpio -o -H newc --quiet <"$STAGE/domu-net.list") >"$OUT/domu-net.cpio.tmp"
	mv "$OUT/domu-net.cpio.tmp" "$OUT/domu-net.cpio"
	# the usb layer: xen-hcd, usbcore, the class drivers (domu/init loads
	# them when xen-hcd is listed in modules.dep), lsusb, testusb; appended
	# only by the usb scenarios' domUs (xt_usb_domu). Its modules.dep is the
	# whole file (the base's modules and its own): it replaces the base's.
	(cd "$r" && find . | LC_ALL=C sort) >"$STAGE/domu-pre-usb.list"
	# shellcheck disable=SC2086
	add_modules "$r" $USB_DOMU_MODS
	add_elf "$r" "$EXT/usr/bin/lsusb" usr/bin/lsusb
	add_elf "$r" "$OUT/usb-bin/testusb" usr/bin/testusb
	add_elf "$r" "$EXT/usr/bin/aplay" usr/bin/aplay
	mkdir -p "$r/usr/share"
	cp -a "$EXT/usr/share/alsa" "$r/usr/share/"
	{
		(cd "$r" && find . | LC_ALL=C sort) | LC_ALL=C comm -13 "$STAGE/domu-pre-usb.list" -
		echo "./lib/modules/$KVER/modules.dep"
	} >"$STAGE/domu-usb.list"
	(cd "$r" && cpio -o -H newc --quiet <"$STAGE/domu-usb.list") >"$OUT/domu-usb.cpio.tmp"
	mv "$OUT/domu-usb.cpio.tmp" "$OUT/domu-usb.cpio"
}

build_dom0() {
	local r=$STAGE/dom0 l
	mkskel "$r"
	mkdir -p "$r"/usr/lib/xen-4.17 "$r"/var/lib/xen "$r"/var/log/xen/console "$r"/etc/xen/scripts \
		"$r"/xt/domu
	copy_rel "$r" lib64/ld-linux-x86-64.so.2
	# all libraries of the toolstack packages (small; xl dlopens nothing else)
	for l in "$EXT"/lib/x86_64-linux-gnu/*.so* "$EXT"/usr/lib/x86_64-linux-gnu/*.so*; do
		cp -a "$l" "$r${l#"$EXT"}"
	done
	cp -a "$EXT"/usr/lib/xen-4.17/bin "$r"/usr/lib/xen-4.17/
	cp -a "$EXT"/usr/bin/xenstore* "$r"/usr/bin/
	cp -a "$EXT"/etc/xen/xl.conf "$r"/etc/xen/
	add_net_bins "$r"
	# xen-blkback / xen-netback are present but not loaded: pvback serves
	# backend/vbd and backend/vif unless a scenario modprobes them to compare.
	add_modules "$r" xen-privcmd xenfs xen-evtchn xen-gntdev xen-gntalloc loop \
		xen-blkback xen-netback bridge tun
	# USB (29-usb-*): loaded by the scenarios (xt_usb_dom0), not by /init
	# shellcheck disable=SC2086
	add_modules "$r" $USB_DOM0_MODS
	add_elf "$r" "$EXT/usr/bin/lsusb" usr/bin/lsusb
	cp "$OUT/vmlinux" "$r/xt/domu/vmlinux"
	cp "$OUT/domu.cpio" "$r/xt/domu/initrd.cpio"
	cp "$OUT/domu-net.cpio" "$r/xt/domu/net.cpio"
	cp "$OUT/domu-usb.cpio" "$r/xt/domu/usb.cpio"
	build_qemu_layer "$r"
	pack "$r" "$OUT/dom0.cpio"
	(cd "$r" && find . -type f -o -type l | sed 's|^\.||' | LC_ALL=C sort) >"$OUT/dom0.manifest"
}

# build_qemu_layer ROOT: out/qemu.cpio, QEMU's Xen device model for qdisk
# disks as a layer on top of dom0.cpio (the files it adds to ROOT, which are
# then taken out of ROOT again). tests/xen/run appends it only for --bench:
# its 31 MB would not fit the rootfs of check-xen's 512 MiB dom0 (a tmpfs
# limited to half its RAM) next to the domU images the scenarios write.
build_qemu_layer() {
	local r=$1 f
	(cd "$r" && find . | LC_ALL=C sort) >"$STAGE/dom0.list"
	# where libxl looks for it; libraries (NEEDED, recursively) from its own closure
	EXT=$EXTQ add_elf "$r" "$EXTQ/$QEMU_BIN" "$QEMU_BIN"
	# QEMU 7.2 loads a keymap even for libxl's `-vnc none` (qemu-system-data)
	EXT=$EXTQ copy_rel "$r" usr/share/qemu/keymaps/en-us
	(cd "$r" && find . | LC_ALL=C sort) | LC_ALL=C comm -13 "$STAGE/dom0.list" - >"$STAGE/qemu.list"
	(cd "$r" && cpio -o -H newc --quiet <"$STAGE/qemu.list") >"$OUT/qemu.cpio.tmp"
	mv "$OUT/qemu.cpio.tmp" "$OUT/qemu.cpio"
	# files first, then the directories they leave empty (deepest first)
	while read -r f; do
		[ -d "$r/$f" ] || rm -f "$r/$f"
	done <"$STAGE/qemu.list"
	sort -r "$STAGE/qemu.list" | while read -r f; do
		[ ! -d "$r/$f" ] || rmdir "$r/$f"
	done
}

main() {
	local kpkg stamp qpkgs kbpkgs
	kpkg=$(kernel_pkg)
	[ -n "$kpkg" ] || die "apt-cache cannot resolve linux-image-amd64 (apt-get update?)"
	KVER=${kpkg#linux-image-}
	qpkgs=$(qemu_pkgs)
	echo "$qpkgs" | grep -qx "$QEMU_PKG" || die "apt-cache does not know $QEMU_PKG (apt-get update?)"
	mkdir -p "$OUT"
	kbpkgs=$(kbuild_pkgs "$KVER")
	[ -n "$kbpkgs" ] || die "apt-cache cannot resolve linux-headers-$KVER (apt-get update?)"
	# shellcheck disable=SC2086
	download $(echo $DOM0_PKGS $DOMU_PKGS $USB_PKGS "$kpkg" $kbpkgs $qpkgs | tr ' ' '\n' | sort -u)

	# Inputs of the images: this script, the domU agent, the .deb file names
	# (they carry versions). The fio binary is cached on its own.
	stamp=$( (cat "$0" "$XT/domu/init" "$XT/lib/extract-vmlinux.py"; ls "$DEBS"; echo "$KVER") | sha256sum | cut -c1-16)
	if [ $FORCE = 0 ] && [ "$(cat "$OUT/stamp" 2>/dev/null)" = "$stamp" ] &&
		[ -s "$OUT/dom0.cpio" ] && [ -s "$OUT/qemu.cpio" ] && [ -s "$OUT/domu-net.cpio" ] &&
		[ -s "$OUT/domu-usb.cpio" ] && [ -s "$OUT/xen" ] && [ -s "$OUT/vmlinux" ]; then
		log "images up to date ($stamp)"
		return 0
	fi
	log "building images for kernel $KVER"
	build_fio
	rm -rf "$EXT" "$EXTQ" "$STAGE"; mkdir -p "$EXT" "$EXTQ" "$STAGE"
	local p
	for p in $DOM0_PKGS $DOMU_PKGS $USB_PKGS "$kpkg"; do dpkg -x "$(deb_of "$p")" "$EXT"; done
	for p in $qpkgs; do dpkg -x "$(deb_of "$p")" "$EXTQ"; done

	build_usb "$kpkg" $kbpkgs
	# xen-hcd.ko joins the kernel's tree, so that depmod lists it (depends=usbcore)
	mkdir -p "$EXT/lib/modules/$KVER/extra"
	cp "$OUT/usb-bin/xen-hcd.ko" "$EXT/lib/modules/$KVER/extra/xen-hcd.ko"
	# the .deb has no modules.dep (its postinst runs depmod): make one
	"$EXT/bin/busybox" depmod -b "$EXT" "$KVER"

	zcat "$EXT"/boot/xen-4.17-amd64.gz >"$OUT/xen"
	# Xen and libxenguest load a plain ELF directly: no XZ decompression under TCG
	python3 "$XT/lib/extract-vmlinux.py" "$EXT/boot/vmlinuz-$KVER" "$OUT/vmlinux" >&2
	build_domu
	build_dom0
	echo "$KVER" >"$OUT/kver"
	rm -rf "$EXT" "$EXTQ" "$STAGE"   # ~500 MB unpacked; the stamp says the images are current
	echo "$stamp" >"$OUT/stamp"
	log "done: $(cd "$OUT" && du -sh xen vmlinux dom0.cpio qemu.cpio domu.cpio domu-net.cpio domu-usb.cpio | tr '\t\n' ': ')"
}

main "$@"
