#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Writes the seed corpora of the harnesses added with issue 13
# (tests/fuzz/corpus/<harness>/<seed>): small, meaningful inputs in each
# harness's input layout (see the Description of each tests/fuzz/*.c).
# Run from the top of the tree after changing a layout; the seeds are
# committed, so make fuzz and make check do not need Python.
import os
import struct
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write(harness, name, data):
    d = os.path.join(TOP, "tests", "fuzz", "corpus", harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ------------------------------------------------------------ fuzz-blk-req
# abi(1) flags(1: readonly, discard) sectors(8) max_indirect(2) slot pages...
OP_READ, OP_WRITE, OP_BARRIER, OP_FLUSH, OP_DISCARD, OP_INDIRECT = 0, 1, 2, 3, 5, 6


def blk_limits(abi, readonly=False, discard=True, sectors=2048, max_indirect=256):
    return struct.pack("<BBQH", abi, readonly | discard << 1, sectors, max_indirect)


def blk_seg(gref, first, last):
    return struct.pack("<IBBH", gref, first, last, 0)


def blk_rw(abi, op, sector, segs, id_=42):
    segb = b"".join(blk_seg(*s) for s in segs)
    if abi == 0:
        ent = struct.pack("<BBHIQQ", op, len(segs), 0, 0, id_, sector) + segb
        return ent.ljust(112, b"\0")
    ent = struct.pack("<BBHQQ", op, len(segs), 0, id_, sector) + segb
    return ent.ljust(108, b"\0")


def blk_discard(abi, sector, nr, secure=0):
    if abi == 0:
        ent = struct.pack("<BBHIQQQ", OP_DISCARD, secure, 0, 0, 7, sector, nr)
        return ent.ljust(112, b"\0")
    return struct.pack("<BBHQQQ", OP_DISCARD, secure, 0, 7, sector, nr).ljust(108, b"\0")


def blk_indirect(abi, op, nsegs, sector, grefs):
    g = b"".join(struct.pack("<I", x) for x in grefs).ljust(32, b"\0")
    if abi == 0:
        ent = struct.pack("<BBHIQQHH", OP_INDIRECT, op, nsegs, 0, 9, sector, 0, 0) + g
        return ent.ljust(112, b"\0")
    ent = struct.pack("<BBHQQHH", OP_INDIRECT, op, nsegs, 9, sector, 0, 0) + g
    return ent.ljust(108, b"\0")


def blk_seeds():
    h = "fuzz-blk-req"
    for abi, tag in ((0, "native"), (1, "x86_32")):
        write(h, tag + "-read-3seg", blk_limits(abi) + blk_rw(abi, OP_READ, 8, [(100, 0, 7)] * 3))
        write(h, tag + "-write-ro", blk_limits(abi, readonly=True) + blk_rw(abi, OP_WRITE, 0, [(5, 2, 5)]))
        write(h, tag + "-flush", blk_limits(abi) + blk_rw(abi, OP_FLUSH, 0, []))
        write(h, tag + "-barrier-data", blk_limits(abi) + blk_rw(abi, OP_BARRIER, 16, [(1, 0, 0)]))
        write(h, tag + "-discard", blk_limits(abi) + blk_discard(abi, 64, 128, secure=1))
        write(h, tag + "-discard-wrap", blk_limits(abi) + blk_discard(abi, 2**64 - 8, 16))
        segs = b"".join(blk_seg(200 + i, i % 8, 7) for i in range(600))
        write(h, tag + "-indirect-600", blk_limits(abi, sectors=2**40, max_indirect=4096) +
              blk_indirect(abi, OP_WRITE, 600, 0, [11, 12]) + segs)
    write("fuzz-blk-req", "native-past-end",
          blk_limits(0, sectors=16) + blk_rw(0, OP_READ, 12, [(1, 0, 7)]))
    write("fuzz-blk-req", "native-indirect-beyond-abi",
          blk_limits(0, max_indirect=65535) + blk_indirect(0, OP_READ, 65535, 0, list(range(8))))


# ------------------------------------------------------------ fuzz-journal
# rsp_prod(4) req_prod(4) then the journal file (common/journal.c layout)
# of the harness's ring: domid 1, evtchn 5, one ref (8), 8 slots of 112.
J_FREE, J_INFLIGHT, J_ANSWERED = 0, 1, 2


def journal(req_cons, recs, magic=0x6c6e726a71727670, version=2):
    ident = struct.pack("<4I", 1, 5, 0, 1) + struct.pack("<16I", 8, *[0] * 15) + \
        struct.pack("<2I", 8, 112)
    hdr = struct.pack("<QII", magic, version, 112) + ident + struct.pack("<II", 128, req_cons)
    out = hdr.ljust(256, b"\0")
    for slot in range(8):
        st, req_idx, rsp_idx = recs.get(slot, (J_FREE, 0, 0))
        ent = bytes([req_idx & 0xff]) + bytes(111)
        out += struct.pack("<4I", st, req_idx & 0xffffffff, rsp_idx & 0xffffffff,
                           112 if st else 0) + ent
    return out


def journal_seeds():
    h = "fuzz-journal"

    def w(name, rsp, req, data):
        write(h, name, struct.pack("<II", rsp & 0xffffffff, req & 0xffffffff) + data)

    w("clean", 5, 5, journal(5, {}))
    # Four consumed in slots 3,1,0,2; the 2nd and 4th answered, one pushed.
    w("ring-order", 2, 6, journal(4, {3: (J_INFLIGHT, 0, 0), 0: (J_INFLIGHT, 2, 0),
                                      2: (J_ANSWERED, 3, 1)}))
    w("answer-not-pushed", 1, 3, journal(3, {0: (J_ANSWERED, 0, 1), 1: (J_INFLIGHT, 1, 0),
                                             2: (J_ANSWERED, 2, 0)}))
    w("wrap-around", 0xffffffff, 2, journal(2, {5: (J_INFLIGHT, -2, 0), 4: (J_ANSWERED, -1, -2),
                                                7: (J_INFLIGHT, 0, 0), 6: (J_INFLIGHT, 1, 0)}))
    w("req-cons-behind", 0, 2, journal(1, {0: (J_INFLIGHT, 0, 0), 1: (J_INFLIGHT, 1, 0)}))
    # Refused: one ring index owed twice; an unpushed answer beyond req_cons.
    w("duplicate-index", 10, 12, journal(12, {0: (J_INFLIGHT, 10, 0), 1: (J_INFLIGHT, 10, 0)}))
    w("answer-beyond-cons", 0, 1, journal(1, {0: (J_ANSWERED, 0, 7)}))
    w("bad-magic", 0, 0, journal(0, {}, magic=1))
    w("truncated", 0, 2, journal(2, {0: (J_INFLIGHT, 0, 0)})[:-64])


# ------------------------------------------------------------ fuzz-sim-ctl
# One request line as a ctl.sock client sends it; the same bytes are also
# parsed as a reply.
def sim_ctl_seeds():
    for name, line in (("create", b"create guest1 64M\n"), ("create-gib", b"create big 1GiB\n"),
                       ("create-bytes", b"create d.x-y_z 4096B\n"), ("destroy-num", b"destroy 3\n"),
                       ("lookup-name", b"lookup guest1\n"), ("list", b"list\n"),
                       ("ping", b"ping\n"), ("stop", b"stop\n"), ("empty", b" \t\n"),
                       ("create-wrap", b"create w 17592186044417M\n"),
                       ("reply-list", b"0 Domain-0 0\n1 guest1 67108864\nok\n"),
                       ("reply-err", b"err no domain 'x'\n")):
        write("fuzz-sim-ctl", name, line)


# ------------------------------------------------------------ fuzz-xb-keys
# knobs: layout (dir | name << 2 | split << 7), max order, max queues,
# bounds (min | span << 4); then the frontend dir as "key=value" lines.
def xb_seeds():
    def w(name, sel, max_order, max_queues, bounds, lines):
        write("fuzz-xb-keys", name, bytes([sel, max_order, max_queues, bounds]) +
              "".join(k + "=" + v + "\n" for k, v in lines).encode())

    w("blk-order0", 0, 4, 4, 0x10, [("ring-ref", "8"), ("event-channel", "5"),
                                    ("protocol", "x86_64-abi"), ("feature-persistent", "1")])
    w("blk-order2-mq", 1, 4, 4, 0x10,
      [("ring-page-order", "2"), ("multi-queue-num-queues", "2")] +
      [("queue-0/ring-ref%d" % i, str(100 + i)) for i in range(4)] +
      [("queue-0/event-channel", "7"), ("protocol", "x86_32-abi")])
    w("blk-order-above-max", 0, 1, 4, 0, [("ring-page-order", "3"), ("ring-ref", "8")])
    w("net-split", 1 << 2 | 0x80, 0, 8, 0,
      [("tx-ring-ref", "9"), ("rx-ring-ref", "10"), ("event-channel-tx", "3"),
       ("event-channel-rx", "4"), ("multi-queue-num-queues", "1")])
    w("net-half-split", 2 << 2 | 0x80, 0, 8, 0,
      [("rx-ring-ref", "10"), ("event-channel-tx", "3"), ("event-channel", "6")])
    w("usb", 3 << 2, 0, 1, 0, [("urb-ring-ref", "11"), ("conn-ring-ref", "12"),
                               ("event-channel", "2")])
    w("hostile-values", 0, 4, 16, 0x21,
      [("ring-ref", "-1"), ("event-channel", " 5"), ("multi-queue-num-queues", "17"),
       ("protocol", "x86_32-abi\0junk"), ("feature-persistent", "1\0 9"),
       ("ring-page-order", "0x1")])
    w("beyond-32-bits", 0, 4, 4, 0, [("ring-ref", "4294967296"), ("event-channel", "4294967295")])


# ------------------------------------------------------------ fuzz-sim-hv
# A stream of operations: op byte, then its fields (see fuzz-sim-hv.c).
def sim_hv_seeds():
    def grant(ref, domid, frame, ro=False):  # Linux's grant_foreign_access
        return bytes([1, ref]) + struct.pack("<H", 1 | ro << 1) + bytes([domid, frame])

    def raw(ref, flags, domid, frame):
        return bytes([0, ref]) + struct.pack("<H", flags) + bytes([domid, frame])

    def pin(ref, w):
        return bytes([2, ref << 1 | w])

    def unpin(ref, w):
        return bytes([3, ref << 1 | w])

    def copy(ref, w):
        return bytes([4, ref << 1 | w])

    def release(slot, inside=False):
        return bytes([6 if inside else 5, slot << 1])

    def release_rec(gen, ref, domid, w, seen, state, inside=True):
        return bytes([6 if inside else 5, 1]) + struct.pack("<IIHBBHBB", gen, ref, domid, w, 0,
                                                           seen, state, 0)

    def ev(op, who, a0, a1=0):
        return bytes([op, who]) + struct.pack("<II", a0, a1)

    h = "fuzz-sim-hv"
    write(h, "map-unmap", grant(0, 1, 3) + pin(0, 0) + pin(0, 1) + unpin(0, 1) + unpin(0, 0))
    write(h, "dead-mapper", grant(2, 1, 5) + pin(2, 1) + pin(2, 0) + release(2) + release(2))
    write(h, "readonly-and-bad-frame", grant(1, 1, 4, ro=True) + pin(1, 1) +
          raw(3, 1, 1, 200) + pin(3, 0) + copy(1, 0) + copy(1, 1))
    write(h, "end-access-while-mapped", grant(0, 1, 1) + pin(0, 0) + bytes([1, 0, 0, 0, 1, 1]) +
          unpin(0, 0) + bytes([1, 0, 0, 0, 1, 1]))
    write(h, "garbled-pinning-inside", grant(4, 1, 2) + pin(4, 0) +
          release_rec(1, 4, 0, 0, 0, 2) + release_rec(1, 4, 0, 0, 1, 4) +
          release_rec(1, 9999, 0, 0, 0, 3) + release_rec(1, 4, 0, 7, 0, 3))
    write(h, "evtchn-pair", ev(7, 1, 0) + ev(8, 0, 1, 1) + ev(9, 0x10, 1) + ev(9, 1, 1) +
          ev(9, 0, 1))
    write(h, "evtchn-loopback", ev(7, 2, 0x7ff0) + ev(8, 2, 2, 1) + ev(8, 2, 2, 2) +
          ev(9, 2, 2) + ev(8, 1, 0x10000, 1) + ev(9, 1, 4096))


# ------------------------------------------------------------ fuzz-net-ctrl
# queue count byte, then 16-byte ctrl requests (id, type, data[3]), each
# followed by the page bytes it copies; type 0 hashes a frame (len, bytes).
def net_ctrl_seeds():
    def req(type_, d0=0, d1=0, d2=0):
        return struct.pack("<HHIII", 1, type_, d0, d1, d2)

    def frame(b):
        return req(0) + struct.pack("<H", len(b)) + b

    eth = bytes(12)
    ip4 = bytes([0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2])
    tcp = struct.pack(">HHIIBBHHH", 1234, 80, 1, 0, 0x50, 0x02, 1024, 0, 0)
    v4 = eth + b"\x08\x00" + ip4 + tcp
    ip6 = bytes([0x60, 0, 0, 0, 0, 20, 6, 64]) + bytes(range(32))
    v6 = eth + b"\x86\xdd" + ip6 + tcp
    key = bytes(range(1, 41))
    setup = (req(7, 1) + req(2, 0xf) + req(3, 5, 40) + key + req(5, 8) +
             req(6, 6, 4, 2) + struct.pack("<4I", 0, 1, 2, 3))
    h = "fuzz-net-ctrl"
    write(h, "toeplitz-v4-v6", bytes([3]) + setup + frame(v4) + frame(v6) + req(4) + req(1))
    write(h, "no-algorithm", bytes([0]) + req(1) + req(2, 1) + req(7, 9) + frame(v4))
    write(h, "mapping-beyond-size", bytes([1]) + req(5, 4) + req(6, 6, 3, 2) + bytes(12) +
          req(6, 6, 0xffffffff, 2) + req(5, 129) + req(6, 6, 1, 0) + struct.pack("<I", 7))
    write(h, "bad-grant-key", bytes([1]) + req(7, 1) + req(3, 0xffffffff, 8) + req(3, 5, 41) +
          req(9, 1) + req(10) + req(8))


# ---------------------------------------------------------- fuzz-net-switch
# records: port | clock step << 4, virtio_net_hdr (10), len (2), frame.
def net_switch_seeds():
    GSO_NONE, GSO_TCPV4, GSO_TCPV6 = 0, 1, 4

    def vh(gso_type=GSO_NONE, gso_size=0, hdr_len=0):
        return struct.pack("<BBHHHH", 1 if gso_type else 0, gso_type, hdr_len, gso_size, 0, 0)

    def rec(port, step, hdr, frame):
        return bytes([port | step << 4]) + hdr + struct.pack("<H", len(frame)) + frame

    def eth(dst, src, ethertype=0x0800):
        return bytes(dst) + bytes(src) + struct.pack(">H", ethertype)

    def tcp(flags=0x18):
        return struct.pack(">HHIIBBHHH", 1234, 80, 1000, 0, 0x50, flags, 1024, 0, 0)

    def ip4(payload):
        return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 7, 0x4000, 64, 6, 0,
                           bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + payload

    def ip6(payload):
        return struct.pack(">IHBB", 0x60000000, len(payload), 6, 64) + bytes(range(32)) + payload

    g1, g2, up = [2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 9]
    bc = [0xff] * 6
    h = "fuzz-net-switch"
    v4 = eth(g2, g1) + ip4(tcp(0x19) + bytes(3000))
    v6 = eth(g1, g2, 0x86dd) + ip6(tcp() + bytes(2500))
    vlan = bytes(g2) + bytes(g1) + struct.pack(">HH", 0x8100, 5) + struct.pack(">H", 0x0800) + \
        ip4(tcp() + bytes(1500))
    write(h, "gso-v4", rec(1, 0, vh(GSO_TCPV4, 1000, 54), v4))
    write(h, "gso-v6", rec(2, 0, vh(GSO_TCPV6, 1400, 74), v6))
    write(h, "gso-vlan", rec(1, 0, vh(GSO_TCPV4, 700, 58), vlan))
    write(h, "gso-too-many-segs", rec(1, 0, vh(GSO_TCPV4, 1, 54), eth(g2, g1) + ip4(tcp() + bytes(600))))
    learn = b"".join(rec(1, 0, vh(), eth(bc, [2, 0, 0, 1, 0, i]) + ip4(tcp())) for i in range(8))
    write(h, "learn-beyond-limit", learn + rec(3, 15, vh(), eth(g1, up) + ip4(tcp())))
    write(h, "pinned-mac-spoofed", rec(2, 0, vh(), eth(bc, [0, 0x16, 0x3e, 0, 0, 1]) + ip4(tcp())) +
          rec(8, 1, vh(), eth([0, 0x16, 0x3e, 0, 0, 1], up) + ip4(tcp())) +
          rec(1, 0, vh(), eth(g1, g1) + ip4(tcp())))


# ------------------------------------------------------------- fuzz-usb-emu
# device byte (0 storage, 1 storage ro, 2 keyboard, 3 tablet, 4 zero,
# 5 zero loopback first), then transfers: type | in << 2 | ep << 3, length
# (2), setup (control), packets + (offset, length) pairs (iso), OUT data.
ISOC, INTR, CTRL, BULK = 0, 1, 2, 3


def usb_emu_seeds():
    def xfer(type_, ep, in_, data=b"", length=None, setup=None, iso=None):
        n = len(data) if length is None else length
        out = bytes([type_ | in_ << 2 | ep << 3]) + struct.pack("<H", n)
        if setup is not None:
            out += struct.pack("<BBHHH", *setup)
        if iso is not None:
            out += bytes([len(iso)]) + b"".join(struct.pack("<HH", o, l) for o, l in iso)
        return out + (b"" if in_ else data)

    def ctrl(rt, req, value=0, index=0, length=0, data=b""):
        return xfer(CTRL, 0, rt >> 7, data, length, (rt, req, value, index, length))

    def cbw(tag, n, in_, cb):
        return struct.pack("<IIIBBB", 0x43425355, tag, n, 0x80 if in_ else 0, 0, len(cb)) + \
            cb.ljust(16, b"\0")

    desc = ctrl(0x80, 6, 0x100, 0, 18) + ctrl(0x80, 6, 0x200, 0, 255) + ctrl(0x80, 6, 0x300, 0, 255)
    cfg1 = ctrl(0, 9, 1)
    h = "fuzz-usb-emu"
    inquiry = xfer(BULK, 2, 0, cbw(1, 36, 1, b"\x12\0\0\0\x24\0")) + xfer(BULK, 1, 1, length=36)
    csw = xfer(BULK, 1, 1, length=13)
    capacity = xfer(BULK, 2, 0, cbw(2, 8, 1, b"\x25" + bytes(9))) + xfer(BULK, 1, 1, length=8) + csw
    write10 = xfer(BULK, 2, 0, cbw(3, 512, 0, b"\x2a\0\0\0\0\x05\0\0\x01\0")) + \
        xfer(BULK, 2, 0, bytes(range(256)) * 2) + csw
    read10 = xfer(BULK, 2, 0, cbw(4, 512, 1, b"\x28\0\0\0\0\x05\0\0\x01\0")) + \
        xfer(BULK, 1, 1, length=512) + csw
    sense = xfer(BULK, 2, 0, cbw(5, 18, 1, b"\x03\0\0\0\x12\0")) + xfer(BULK, 1, 1, length=18) + csw
    badcbw = xfer(BULK, 2, 0, b"USBX" + bytes(27)) + csw + ctrl(0x21, 0xff) + \
        ctrl(0x02, 1, 0, 0x81) + ctrl(0x02, 1, 0, 0x02) + ctrl(0xa1, 0xfe, 0, 0, 1)
    write(h, "storage-bot", bytes([0]) + desc + cfg1 + inquiry + csw + capacity + write10 + read10)
    write(h, "storage-ro-write", bytes([1]) + cfg1 + write10 + sense)
    write(h, "storage-bad-cbw-reset", bytes([0]) + cfg1 + badcbw + inquiry + csw)
    hid = ctrl(0x81, 6, 0x2200, 0, 128) + ctrl(0x21, 0x0a) + ctrl(0x21, 9, 0x200, 0, 1, b"\x02") + \
        ctrl(0xa1, 1, 0x100, 0, 8) + xfer(INTR, 1, 1, length=8) + xfer(INTR, 1, 1, length=8) + \
        xfer(INTR, 1, 1, length=8) + bytes([0x80])
    write(h, "keyboard", bytes([2]) + desc + cfg1 + hid)
    write(h, "tablet", bytes([3]) + desc + cfg1 + ctrl(0x81, 6, 0x2200, 0, 128) +
          xfer(INTR, 1, 1, length=6) + bytes([0x88]))
    pattern = bytes((i % 512) % 63 for i in range(1024))
    zero = (ctrl(0, 9, 3) + ctrl(1, 11, 1, 0) + xfer(BULK, 1, 0, pattern) + xfer(BULK, 1, 1, length=1024) +
            xfer(ISOC, 2, 1, length=3072, iso=[(0, 1024), (1024, 1024), (2048, 1024)]) +
            xfer(ISOC, 2, 0, bytes(2048), iso=[(0, 1024), (1024, 1024)]) +
            ctrl(0x40, 0x5b, 0, 0, 16, bytes(range(16))) + ctrl(0xc0, 0x5c, 0, 0, 16) +
            ctrl(0x80, 0, 0, 0, 2) + ctrl(0x02, 3, 0, 0x81) + xfer(BULK, 1, 1, length=64))
    write(h, "zero-source-sink", bytes([4]) + desc + zero)
    loop = (ctrl(0, 9, 2) + xfer(BULK, 1, 1, length=512) + xfer(BULK, 1, 0, bytes(300)) +
            xfer(BULK, 1, 0, bytes(512)) + xfer(BULK, 1, 0, bytes(512)) + xfer(BULK, 1, 0, bytes(512)) +
            bytes([0x80, 0x88]) + xfer(BULK, 1, 1, length=1024))
    write(h, "zero-loopback", bytes([5]) + desc + loop)


# ----------------------------------------------------------- fuzz-usb-state
# A controller's state file as ring.c writes it, and corrupted lines.
def usb_state_seeds():
    alts = " ".join(["0"] * 32)
    alts1 = " ".join(["1"] + ["0"] * 31)
    h = "fuzz-usb-state"
    write(h, "two-ports", ("rings 8 9 5\nport 1 2 1 %s emu:storage,file=/srv/a.img\n"
                           "port 3 5 1 %s 1-2.4\n" % (alts, alts1)).encode())
    write(h, "out-of-range", ("port 0 2 1 %s emu:zero\nport 32 2 1 %s x\nport 1 128 1 %s x\n"
                              "port 1 2 256 %s x\nport 1 2 1 %s x\n"
                              % (alts, alts, alts, alts, alts.replace("0", "300", 1))).encode())
    write(h, "malformed", ("port 1 2\nport -1 2 1 %s x\nport 1 2 1 %s\nport  1 2 1 %s x\n"
                           "port 99999999999999999999 2 1 %s x\n" % (alts, alts, alts, alts)).encode())


# -------------------------------------------------------------- fuzz-sim-xs
# messages: who (bit 0: 1 = the guest; bit 7: raw header), header, payload.
(XS_CONTROL, XS_DIRECTORY, XS_READ, XS_GET_PERMS, XS_WATCH, XS_UNWATCH, XS_TXN_START, XS_TXN_END,
 XS_INTRODUCE, XS_RELEASE, XS_GET_DOMAIN_PATH, XS_WRITE, XS_MKDIR, XS_RM, XS_SET_PERMS) = range(15)
XS_IS_INTRODUCED, XS_RESUME, XS_SET_TARGET, XS_RESET_WATCHES, XS_DIRECTORY_PART = 17, 18, 19, 21, 22


def sim_xs_seeds():
    def m(who, type_, *args, tx=0, raw_len=None):
        payload = b"".join(a.encode() + b"\0" for a in args)
        if raw_len is not None:
            return bytes([who | 0x80]) + struct.pack("<IIII", type_, 7, tx, raw_len) + payload
        return bytes([who]) + struct.pack("<IIII", type_, 7, tx, len(payload)) + payload

    def w(who, path, val, tx=0):  # WRITE: path NUL value (no NUL)
        payload = path.encode() + b"\0" + val.encode()
        return bytes([who]) + struct.pack("<IIII", XS_WRITE, 7, tx, len(payload)) + payload

    h = "fuzz-sim-xs"
    write(h, "guest-rw-watch", m(1, XS_WATCH, "device", "tok") + w(1, "device/vbd/0/state", "1") +
          m(1, XS_READ, "device/vbd/0/state") + m(1, XS_DIRECTORY, "device") +
          m(1, XS_DIRECTORY_PART, "device/vbd", "0") + m(1, XS_DIRECTORY_PART, "device/vbd", "3") +
          m(1, XS_UNWATCH, "device", "tok") + m(1, XS_RM, "device/vbd/0"))
    write(h, "txn-conflict", m(1, XS_TXN_START, "") + w(1, "data/x", "1", tx=1) +
          w(0, "/local/domain/1/data/x", "2") + m(1, XS_TXN_END, "T", tx=1) +
          m(1, XS_TXN_START, "") + m(1, XS_TXN_END, "F", tx=2) + m(1, XS_READ, "data/x", tx=9))
    write(h, "guest-tries-dom0", m(1, XS_READ, "/local/domain/0/secret") +
          m(1, XS_INTRODUCE, "2", "0", "3") + m(1, XS_RELEASE, "1") + m(1, XS_CONTROL, "check") +
          m(1, XS_SET_TARGET, "1", "0") + m(1, XS_IS_INTRODUCED, "0") +
          m(1, XS_SET_PERMS, "/local/domain/0/secret", "b1") + m(1, XS_GET_PERMS, "/local/domain/0") +
          m(1, XS_WATCH, "@releaseDomain", "r"))
    write(h, "dom0-domains", m(0, XS_WATCH, "@introduceDomain", "i") + m(0, XS_INTRODUCE, "2", "0", "3") +
          m(0, XS_IS_INTRODUCED, "2") + m(0, XS_SET_TARGET, "2", "1") + m(0, XS_RESUME, "2") +
          m(0, XS_GET_DOMAIN_PATH, "2") + m(0, XS_RELEASE, "2") + m(0, XS_CONTROL, "help") +
          m(0, XS_SET_PERMS, "/local/domain/1/data", "n1", "r0") + m(0, XS_RESET_WATCHES))
    write(h, "bad-headers", m(1, 99, "x") + m(1, XS_READ, "a", raw_len=5000) + m(0, XS_READ, "/"))


# ------------------------------------------------------------- fuzz-xs-wire
# raw xenstore messages (req_id bit 0: privileged), applied as domain 1.
def xs_wire_seeds():
    def m(type_, payload, req_id=2):
        return struct.pack("<IIII", type_, req_id, 0, len(payload)) + payload

    h = "fuzz-xs-wire"
    write(h, "write-read-dir", m(XS_WRITE, b"device/vbd/0/state\x001") + m(XS_READ, b"device/vbd/0/state\0") +
          m(XS_MKDIR, b"data\0") + m(XS_DIRECTORY, b"device/vbd\0") + m(XS_RM, b"device\0"))
    write(h, "perms", m(XS_WRITE, b"/local/domain/1/x\0v", 1) +
          m(XS_SET_PERMS, b"/local/domain/1/x\0n1\0r0\0b2\0") + m(XS_GET_PERMS, b"x\0") +
          m(XS_SET_PERMS, b"x\0q1\0") + m(XS_READ, b"/local/domain/0/secret\0"))
    write(h, "odd-paths", m(XS_READ, b"/a//b\0") + m(XS_READ, b"@releaseDomain\0") +
          m(XS_WRITE, b"/local/domain/1/" + b"x" * 3000 + b"\0v") + m(XS_READ, b"a/../b\0"))


SEEDS = {"xs-wire": xs_wire_seeds, "sim-xs": sim_xs_seeds, "usb-state": usb_state_seeds, "usb-emu": usb_emu_seeds, "net-switch": net_switch_seeds, "net-ctrl": net_ctrl_seeds, "sim-hv": sim_hv_seeds, "xb": xb_seeds, "sim-ctl": sim_ctl_seeds, "blk": blk_seeds, "journal": journal_seeds}

if __name__ == "__main__":
    for name in sys.argv[1:] or SEEDS:
        SEEDS[name]()
