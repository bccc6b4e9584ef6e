#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""bench-report: make bench-xen's figures -> JSON and a side-by-side table.

  bench-report.py RECORD.txt OUT.json [CONSOLE.log HOSTLOAD.txt]
                                           write OUT.json, print the tables
  bench-report.py --markdown OUT.json      the same tables from OUT.json, in Markdown
  bench-report.py --net RECORD.txt OUT.json [CONSOLE.log HOSTLOAD.txt]
  bench-report.py --net --markdown OUT.json
                                           the same for 91-bench-net (below)
  bench-report.py --usb RECORD.txt OUT.json [CONSOLE.log HOSTLOAD.txt]
  bench-report.py --usb --markdown OUT.json
                                           the same for 92-bench-usb (below)

RECORD.txt is tests/xen/out/record-bench-blk.txt, the XT-RECORD block the
dom0 scenario 90-bench-blk printed: one line per fio run,
`backend=kernel|qdisk|pvback round=N name=... rw=... bs=... iodepth=N iops=N
mbps=X lat_p50_us=N lat_p99_us=N lat_mean_us=X wall_s=X dom0_cpu_s=X
domu_cpu_s=X runtime_s=N ramp_s=N` (fio's total-latency percentiles, µs; CPU
seconds from `xl list` over the job's wall time), and per backend one
`name=idle` line (the CPU both domains burn with the disk connected, no I/O).

CONSOLE.log and HOSTLOAD.txt (tests/xen/out/, written by tests/xen/run
--bench) give each run host_other_cores: how many of the host's cores other
processes than QEMU kept busy while it ran (the scenario's `XT-BENCH
begin|end` lines, stamped by the host, bound the job; the host samples
/proc/stat and QEMU's CPU time every second). TCG slows down with each core
taken from it, so that is the noise a run suffered.

OUT.json is a list of records, one per job and backend: name, backend, rw,
bs, iodepth, iops, mbps, lat_p50_us, lat_p99_us, lat_mean_us (each the
median over the rounds), dom0_cpu_ms_per_io (dom0 CPU time of the jobs / the
I/Os they did, ramp included, idle not subtracted), rounds, and runs (each
round's figures).
The table puts the three backends side by side per job with the ratios
pvback/kernel and pvback/qdisk (IOPS: above 1 is better for pvback; p50
latency: below 1 is better for pvback).

--net: RECORD.txt is tests/xen/out/record-bench-net.txt (scenario
91-bench-net): one line per iperf3 run, `backend=kernel|pvback round=N
name=tcp-tx|tcp-rx|udp64-tx|udp64-rx args=... mbps=X [pps=N lost_pct=X]
wall_s=X dom0_cpu_s=X domu_cpu_s=X runtime_s=N omit_s=N` (the receiver's
figures: for UDP the datagrams that arrived), and per backend a
`name=idle` line.  OUT.json (bench/results/xen-net.json) holds one record
per job and backend: name, backend, mbps, pps, lost_pct (medians over the
rounds), dom0_cpu_share and domu_cpu_share (CPU seconds over wall seconds,
medians), rounds, runs.  The table gives pvback/kernel ratios (above 1 is
better for pvback).

--usb: RECORD.txt is tests/xen/out/record-bench-usb.txt (scenario
92-bench-usb): one line per read job, `backend=dom0|pvback|qusb round=N
name=seq-read mib=N secs=X mbps=X` or `name=read-4k-qd1 reads=N secs=X
lat_us=X`, then `wall_s=X dom0_cpu_s=X domu_cpu_s=X dom0_load=L1/L5/L15`;
and `todo backend=B: WHY` lines for a path that could not run.  OUT.json
(bench/results/xen-usb.json) holds one record per job and backend: name,
backend, mbps or lat_us (medians over the rounds), dom0_cpu_ms_per_unit
(dom0's CPU time per MiB of seq-read or per 4 KiB read, median), vs_dom0 (the ratio to
dom0's own usb-storage on the same stick: MB/s pvback/dom0, latency
pvback/dom0), rounds, runs (each with host_other_cores and host_load1, the
host's load average at the job's end); then one `{"backend": B, "todo": WHY}`
record per path that could not run.
"""
import json
import os
import sys

BACKENDS = ("kernel", "qdisk", "pvback")
RUN_KEYS = ("round", "iops", "mbps", "lat_p50_us", "lat_p99_us", "lat_mean_us", "wall_s",
            "dom0_cpu_s", "domu_cpu_s", "runtime_s", "ramp_s", "host_other_cores")


def conv(v):
    for t in (int, float):
        try:
            return t(v)
        except ValueError:
            pass
    return v


def parse_record(path):
    runs, idle = [], []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("backend="):
                continue
            kv = {k: conv(v) for k, v in (item.split("=", 1) for item in line.split() if "=" in item)}
            (idle if kv.get("name") == "idle" else runs).append(kv)
    return runs, idle


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    if not n:
        return 0
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def host_load(runs, console, hostload):
    """Annotate each run with host_other_cores over its XT-BENCH window."""
    windows = {}
    with open(console, errors="replace") as f:
        for line in f:
            if "XT-BENCH " not in line or not line.startswith("["):
                continue
            t = float(line[1:line.index("]")]) * 1000
            w = line.split("XT-BENCH ", 1)[1].split()
            if len(w) >= 4:
                windows.setdefault((w[1], str(w[2]), w[3]), {})[w[0]] = t
    samples = []
    with open(hostload) as f:
        for line in f:
            v = line.split()
            if len(v) in (4, 5):  # the 5th, the host's load1, since bench-usb
                samples.append(tuple(int(x) for x in v[:4]) + (float(v[4]) if len(v) == 5 else None,))
    ncpu = os.cpu_count() or 1
    for r in runs:
        w = windows.get((r["backend"], str(r["round"]), r["name"]), {})
        if "begin" not in w or "end" not in w:
            continue
        a = [s for s in samples if s[0] <= w["begin"]]
        b = [s for s in samples if s[0] >= w["end"]]
        if not a or not b or b[0][2] == a[-1][2]:
            continue
        a, b = a[-1], b[0]
        other = (b[1] - a[1]) - (b[3] - a[3])
        r["host_other_cores"] = round(max(other, 0) / (b[2] - a[2]) * ncpu, 2)
        if b[4] is not None:
            r["host_load1"] = b[4]


def aggregate(runs):
    recs = []
    keyed = {}
    for r in runs:
        k = (r["name"], r["backend"])
        if k not in keyed:
            keyed[k] = {"name": r["name"], "backend": r["backend"], "rw": r["rw"],
                        "bs": r["bs"], "iodepth": r["iodepth"], "runs": []}
            recs.append(keyed[k])
        keyed[k]["runs"].append({x: r[x] for x in RUN_KEYS if x in r})
    for rec in recs:
        rs = rec["runs"]
        rec["iops"] = round(median([r["iops"] for r in rs]))
        rec["mbps"] = round(median([r["mbps"] for r in rs]), 1)
        for x in ("lat_p50_us", "lat_p99_us", "lat_mean_us"):
            rec[x] = round(median([r[x] for r in rs]), 1)
        ios = sum(r["iops"] * (r.get("runtime_s", 0) + r.get("ramp_s", 0)) for r in rs)
        cpu = sum(r.get("dom0_cpu_s", 0) for r in rs)
        rec["dom0_cpu_ms_per_io"] = round(cpu * 1000 / ios, 2) if ios else None
        rec["rounds"] = len(rs)
        rec["runs"] = rec.pop("runs")  # last in the JSON
    return recs


def ratio(a, b):
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) or not b:
        return "-"
    return "%.2fx" % (a / b)


def fmt(v):
    if isinstance(v, float):
        return "%.0f" % v if v >= 100 else "%.1f" % v if v >= 10 else "%.2f" % v
    return str(v)


def by_job(recs):
    names, by = [], {}
    for r in recs:
        if r["name"] not in names:
            names.append(r["name"])
        by[(r["name"], r["backend"])] = r
    return names, by


def three(k, q, p, key):
    return " / ".join(fmt(r.get(key, "-")) if r.get(key) is not None else "-" for r in (k, q, p))


HEAD = ["job", "kernel IOPS", "qdisk IOPS", "pvback IOPS", "pvback/kernel", "pvback/qdisk",
        "p50 µs k / q / pv", "p50 pv/k", "p50 pv/q", "p99 µs k / q / pv", "MB/s k / q / pv",
        "dom0 CPU ms/IO k / q / pv"]


def rows(recs):
    names, by = by_job(recs)
    out = []
    for n in names:
        k, q, p = (by.get((n, b), {}) for b in BACKENDS)
        g = lambda r, key: r.get(key, "-")  # noqa: E731
        out.append([
            n, g(k, "iops"), g(q, "iops"), g(p, "iops"),
            ratio(g(p, "iops"), g(k, "iops")), ratio(g(p, "iops"), g(q, "iops")),
            three(k, q, p, "lat_p50_us"),
            ratio(g(p, "lat_p50_us"), g(k, "lat_p50_us")), ratio(g(p, "lat_p50_us"), g(q, "lat_p50_us")),
            three(k, q, p, "lat_p99_us"), three(k, q, p, "mbps"), three(k, q, p, "dom0_cpu_ms_per_io"),
        ])
    return out


def rounds_rows(recs):
    names, by = by_job(recs)
    out = []
    for n in names:
        row = [n]
        for b in BACKENDS:
            rs = by.get((n, b), {}).get("runs", [])
            row.append(" / ".join(str(r["iops"]) + ("" if r.get("host_other_cores") is None else
                                                      " (%.1f)" % r["host_other_cores"]) for r in rs) or "-")
        out.append(row)
    return out


def text_table(head, body):
    rs = [head] + [[str(c) for c in r] for r in body]
    w = [max(len(r[i]) for r in rs) for i in range(len(head))]
    lines = []
    for j, r in enumerate(rs):
        lines.append("  ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(r)))
        if j == 0:
            lines.append("  ".join("-" * x for x in w))
    return "\n".join(lines)


def md_table(head, body):
    lines = ["| " + " | ".join(head) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for r in body:
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(lines)


ROUNDS_HEAD = ["job", "kernel IOPS per round (host cores others took)", "qdisk ...", "pvback ..."]


def idle_line(idle):
    return "; ".join("%s: dom0 %.1f s, domU %.1f s CPU in %.1f s" % (
        i["backend"], i.get("dom0_cpu_s", 0), i.get("domu_cpu_s", 0), i.get("wall_s", 0)) for i in idle)


# ------------------------------------------------------------------ net

NET_BACKENDS = ("kernel", "pvback")
NET_RUN_KEYS = ("round", "mbps", "pps", "lost_pct", "wall_s", "dom0_cpu_s", "domu_cpu_s",
                "runtime_s", "omit_s", "host_other_cores")


def net_aggregate(runs):
    recs, keyed = [], {}
    for r in runs:
        k = (r["name"], r["backend"])
        if k not in keyed:
            keyed[k] = {"name": r["name"], "backend": r["backend"], "args": r.get("args", ""),
                        "runs": []}
            recs.append(keyed[k])
        keyed[k]["runs"].append({x: r[x] for x in NET_RUN_KEYS if x in r})
    for rec in recs:
        rs = rec["runs"]
        rec["mbps"] = round(median([r["mbps"] for r in rs]), 1)
        if any("pps" in r for r in rs):
            rec["pps"] = round(median([r.get("pps", 0) for r in rs]))
            rec["lost_pct"] = round(median([r.get("lost_pct", 0) for r in rs]), 2)
        for who in ("dom0", "domu"):
            shares = [r["%s_cpu_s" % who] / r["wall_s"] for r in rs
                      if r.get("wall_s") and "%s_cpu_s" % who in r]
            rec["%s_cpu_share" % who] = round(median(shares), 2) if shares else None
        rec["rounds"] = len(rs)
        rec["runs"] = rec.pop("runs")
    return recs


NET_HEAD = ["job", "kernel Mbit/s", "pvback Mbit/s", "pvback/kernel", "kernel pps", "pvback pps",
            "pvback/kernel pps", "lost % k / pv", "dom0 CPU k / pv", "domU CPU k / pv"]


def net_rows(recs):
    names, by = by_job(recs)
    out = []
    for n in names:
        k, p = (by.get((n, b), {}) for b in NET_BACKENDS)
        g = lambda r, key: r.get(key, "-") if r.get(key) is not None else "-"  # noqa: E731
        out.append([
            n, g(k, "mbps"), g(p, "mbps"), ratio(g(p, "mbps"), g(k, "mbps")),
            g(k, "pps"), g(p, "pps"), ratio(g(p, "pps"), g(k, "pps")),
            "%s / %s" % (fmt(g(k, "lost_pct")), fmt(g(p, "lost_pct"))),
            "%s / %s" % (fmt(g(k, "dom0_cpu_share")), fmt(g(p, "dom0_cpu_share"))),
            "%s / %s" % (fmt(g(k, "domu_cpu_share")), fmt(g(p, "domu_cpu_share"))),
        ])
    return out


NET_ROUNDS_HEAD = ["job", "kernel Mbit/s or pps per round (host cores others took)", "pvback ..."]


def net_rounds_rows(recs):
    names, by = by_job(recs)
    out = []
    for n in names:
        row = [n]
        for b in NET_BACKENDS:
            rs = by.get((n, b), {}).get("runs", [])
            row.append(" / ".join(str(r.get("pps", r["mbps"])) + (
                "" if r.get("host_other_cores") is None else " (%.1f)" % r["host_other_cores"])
                for r in rs) or "-")
        out.append(row)
    return out


def net_main(argv):
    if len(argv) == 3 and argv[1] == "--markdown":
        with open(argv[2]) as f:
            recs = json.load(f)
        print(md_table(NET_HEAD, net_rows(recs)))
        print()
        print(md_table(NET_ROUNDS_HEAD, net_rounds_rows(recs)))
        return 0
    if len(argv) not in (3, 5):
        sys.stderr.write(__doc__)
        return 2
    runs, idle = parse_record(argv[1])
    if not runs:
        sys.stderr.write("bench-report: no figures in %s\n" % argv[1])
        return 1
    if len(argv) == 5 and os.path.exists(argv[3]) and os.path.exists(argv[4]):
        host_load(runs, argv[3], argv[4])
    recs = net_aggregate(runs)
    write_json(argv[2], recs)
    print("[bench-xen] net: %d runs -> %d records in %s (medians over %d round(s));"
          " under TCG only the ratios mean something" %
          (len(runs), len(recs), argv[2], max(r["rounds"] for r in recs)))
    print(text_table(NET_HEAD, net_rows(recs)))
    print(text_table(NET_ROUNDS_HEAD, net_rounds_rows(recs)))
    if idle:
        print("[bench-xen] net idle, vif connected: " + idle_line(idle))
    missing = [b for b in NET_BACKENDS if not any(r["backend"] == b for r in recs)]
    if missing:
        print("[bench-xen] no net figures for: %s (see tests/xen/out/console.log)" % " ".join(missing))
    return 0

# ------------------------------------------------------------------ usb

USB_BACKENDS = ("dom0", "pvback", "qusb")
USB_RUN_KEYS = ("round", "mbps", "lat_us", "mib", "reads", "secs", "wall_s", "dom0_cpu_s", "domu_cpu_s",
                "dom0_load", "host_other_cores", "host_load1")


def usb_parse_todo(path):
    todo = []
    with open(path) as f:
        for line in f:
            if line.startswith("todo backend="):
                b, why = line[len("todo backend="):].strip().split(":", 1)
                todo.append({"backend": b, "todo": why.strip()})
    return todo


def usb_aggregate(runs):
    recs, keyed = [], {}
    for r in runs:
        k = (r["name"], r["backend"])
        if k not in keyed:
            keyed[k] = {"name": r["name"], "backend": r["backend"], "runs": []}
            recs.append(keyed[k])
        keyed[k]["runs"].append({x: r[x] for x in USB_RUN_KEYS if x in r})
    for rec in recs:
        rs = rec["runs"]
        for x in ("mbps", "lat_us"):
            if any(x in r for r in rs):
                rec[x] = round(median([r[x] for r in rs if x in r]), 2)
        # dom0's CPU per MiB read (seq-read) or per 4 KiB read, ms
        per = [r["dom0_cpu_s"] * 1000 / (r.get("mib") or r.get("reads")) for r in rs
               if "dom0_cpu_s" in r and (r.get("mib") or r.get("reads"))]
        rec["dom0_cpu_ms_per_unit"] = round(median(per), 2) if per else None
        rec["rounds"] = len(rs)
        rec["runs"] = rec.pop("runs")
    _, by = by_job(recs)
    for rec in recs:
        base = by.get((rec["name"], "dom0"), {})
        for x in ("mbps", "lat_us"):
            if x in rec and base.get(x):
                rec["vs_dom0"] = round(rec[x] / base[x], 3)
    return recs


USB_HEAD = ["job", "dom0 usb-storage", "pvback-usb", "pvback/dom0", "qusb", "qusb/dom0", "pvback/qusb",
            "dom0 CPU ms per MiB or read: dom0 / pv / qusb"]


def usb_val(r):
    if "mbps" in r:
        return "%s MB/s" % fmt(r["mbps"])
    if "lat_us" in r:
        return "%s µs" % fmt(r["lat_us"])
    return "-"


def usb_key(n):
    return "lat_us" if n.startswith("read-4k") else "mbps"


def usb_rows(recs):
    names, by = by_job(recs)
    out = []
    for n in names:
        d, p, q = (by.get((n, b), {}) for b in USB_BACKENDS)
        k = usb_key(n)
        out.append([n, usb_val(d), usb_val(p), ratio(p.get(k, "-"), d.get(k, "-")),
                    usb_val(q), ratio(q.get(k, "-"), d.get(k, "-")), ratio(p.get(k, "-"), q.get(k, "-")),
                    " / ".join(fmt(r["dom0_cpu_ms_per_unit"]) if r.get("dom0_cpu_ms_per_unit") is not None
                               else "-" for r in (d, p, q))])
    return out


USB_ROUNDS_HEAD = ["job", "dom0 per round (host load1; host cores others took)", "pvback ...", "qusb ..."]


def usb_rounds_rows(recs):
    names, by = by_job(recs)
    out = []
    for n in names:
        row = [n]
        k = usb_key(n)
        for b in USB_BACKENDS:
            rs = by.get((n, b), {}).get("runs", [])
            row.append(" / ".join(fmt(r.get(k, "-")) + (
                "" if r.get("host_load1") is None else " (%.2f; %.1f)" % (r["host_load1"], r.get("host_other_cores", 0)))
                for r in rs) or "-")
        out.append(row)
    return out


def usb_print(recs, table):
    jobs = [r for r in recs if "name" in r]
    print(table(USB_HEAD, usb_rows(jobs)))
    print()
    print(table(USB_ROUNDS_HEAD, usb_rounds_rows(jobs)))
    for t in recs:
        if "todo" in t:
            print("\nTODO %s: %s" % (t["backend"], t["todo"]))


def usb_main(argv):
    if len(argv) == 3 and argv[1] == "--markdown":
        with open(argv[2]) as f:
            recs = json.load(f)
        usb_print(recs, md_table)
        return 0
    if len(argv) not in (3, 5):
        sys.stderr.write(__doc__)
        return 2
    runs, _ = parse_record(argv[1])
    todo = usb_parse_todo(argv[1])
    if not runs:
        sys.stderr.write("bench-report: no figures in %s\n" % argv[1])
        return 1
    if len(argv) == 5 and os.path.exists(argv[3]) and os.path.exists(argv[4]):
        host_load(runs, argv[3], argv[4])
    recs = usb_aggregate(runs) + todo
    write_json(argv[2], recs)
    print("[bench-xen] usb: %d runs -> %d records in %s (medians over %d round(s));"
          " under TCG only the ratios mean something" %
          (len(runs), len(recs) - len(todo), argv[2], max(r["rounds"] for r in recs if "rounds" in r)))
    usb_print(recs, text_table)
    return 0


def write_json(path, recs):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(recs, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def main(argv):
    if len(argv) > 1 and argv[1] == "--net":
        return net_main(argv[:1] + argv[2:])
    if len(argv) > 1 and argv[1] == "--usb":
        return usb_main(argv[:1] + argv[2:])
    if len(argv) == 3 and argv[1] == "--markdown":
        with open(argv[2]) as f:
            recs = json.load(f)
        print(md_table(HEAD, rows(recs)))
        print()
        print(md_table(ROUNDS_HEAD, rounds_rows(recs)))
        return 0
    if len(argv) not in (3, 5):
        sys.stderr.write(__doc__)
        return 2
    runs, idle = parse_record(argv[1])
    if not runs:
        sys.stderr.write("bench-report: no figures in %s\n" % argv[1])
        return 1
    if len(argv) == 5 and os.path.exists(argv[3]) and os.path.exists(argv[4]):
        host_load(runs, argv[3], argv[4])
    recs = aggregate(runs)
    write_json(argv[2], recs)
    print("[bench-xen] %d runs -> %d records in %s (medians over %d round(s));"
          " under TCG only the ratios mean something" %
          (len(runs), len(recs), argv[2], max(r["rounds"] for r in recs)))
    print(text_table(HEAD, rows(recs)))
    print(text_table(ROUNDS_HEAD, rounds_rows(recs)))
    if idle:
        print("[bench-xen] idle, disk connected: " + idle_line(idle))
    missing = [b for b in BACKENDS if not any(r["backend"] == b for r in recs)]
    if missing:
        print("[bench-xen] no figures for: %s (see tests/xen/out/console.log)" % " ".join(missing))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
