#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# extract-vmlinux.py BZIMAGE OUT: write the plain ELF kernel embedded in an
# x86 bzImage (Debian compresses it with XZ). Xen loads dom0 and libxenguest
# loads a PV domU from a plain ELF directly, which saves the several seconds
# XZ decompression costs under QEMU TCG at every domain start.
import lzma
import sys

data = open(sys.argv[1], "rb").read()
start = data.find(b"\xfd7zXZ\x00")
if start < 0:
    sys.exit("extract-vmlinux: no XZ stream in %s" % sys.argv[1])
elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data[start:])
if elf[:4] != b"\x7fELF":
    sys.exit("extract-vmlinux: payload is not an ELF image")
with open(sys.argv[2], "wb") as f:
    f.write(elf)
print("extract-vmlinux: %d bytes" % len(elf))
