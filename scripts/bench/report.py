#!/usr/bin/env python3
"""Helpers for scripts/bench.sh (standard library only).

    report.py count FORMAT REPORT_FILE
        Prints how many findings a tool's report holds (FORMAT: keylint,
        kingfisher, betterleaks, rg, none); prints nothing when it cannot tell.

    report.py table RUN_DIR
        Prints the Markdown results of a bench.sh run from RUN_DIR/index.tsv
        (one line per measured command: target, kind, bytes, files or blobs,
        tool, command, hyperfine JSON, peak RSS in KiB, findings, load) and
        RUN_DIR/machine.txt.
"""

from __future__ import annotations

import json
import os
import statistics
import sys


def count(fmt: str, path: str) -> str:
    if fmt == "none" or not os.path.exists(path):
        return ""
    try:
        if fmt == "rg":
            # `rg -c` prints PATH:COUNT per file with matches
            total = 0
            with open(path, "rb") as f:
                for line in f:
                    total += int(line.rsplit(b":", 1)[-1])
            return str(total)
        with open(path, "rb") as f:
            data = json.load(f)
        if isinstance(data, dict):
            data = data.get("findings", [])
        return str(len(data)) if isinstance(data, list) else ""
    except (ValueError, OSError):
        return ""


def fmt_time(s: float) -> str:
    if s < 1:
        return f"{s * 1000:.0f} ms"
    return f"{s:.2f} s"


def fmt_rss(kib: str) -> str:
    if not kib or not kib.isdigit() or kib == "0":
        return "–"
    mib = int(kib) / 1024
    return f"{mib:.0f} MiB"


def table(run: str) -> str:
    rows = []
    with open(os.path.join(run, "index.tsv"), encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 10:
                continue
            target, kind, nbytes, nfiles, tool, cmd, hjson, rss, findings, load = parts
            with open(hjson, encoding="utf-8") as h:
                result = json.load(h)["results"][0]
            times = result["times"]
            cpu = result.get("user", 0) + result.get("system", 0) if "user" in result else None
            rows.append({"target": target, "kind": kind, "bytes": int(nbytes), "files": int(nfiles),
                         "tool": tool, "cmd": cmd, "times": times, "median": statistics.median(times),
                         "rss": rss, "findings": findings, "load": load, "cpu": cpu})
    commits = {}
    path = os.path.join(run, "commits.tsv")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                name, n = line.rstrip("\n").split("\t")
                commits[name] = int(n)

    out = ["# keylint benchmark", ""]
    with open(os.path.join(run, "machine.txt"), encoding="utf-8") as f:
        out += [f"    {line.rstrip()}" for line in f]
    out.append("")
    targets = []
    for r in rows:
        if r["target"] not in targets:
            targets.append(r["target"])
    for t in targets:
        rs = [r for r in rows if r["target"] == t]
        kind, nbytes, nfiles = rs[0]["kind"], rs[0]["bytes"], rs[0]["files"]
        if kind == "history":
            c = commits.get(t)
            out.append(f"## {t}: {c if c is not None else '?'} commits, {nfiles} blobs, "
                       f"{nbytes / 1e6:.0f} MB of blobs")
        else:
            out.append(f"## {t}: {nfiles} files, {nbytes / 1e6:.1f} MB")
        out.append("")
        base = next((r for r in rs if r["tool"] == "keylint"), None)
        out.append("| tool | median | min–max | MB/s | time vs keylint | CPU (user+sys) | CPU vs keylint "
                   "| peak RSS | findings |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in rs:
            mbps = nbytes / 1e6 / r["median"] if r["median"] > 0 else 0
            ratio = f"{r['median'] / base['median']:.2f}×" if base else "–"
            cpu = fmt_time(r["cpu"]) if r["cpu"] is not None else "–"
            cratio = (f"{r['cpu'] / base['cpu']:.2f}×" if base and base["cpu"] and r["cpu"] is not None
                      else "–")
            out.append(f"| {r['tool']} | {fmt_time(r['median'])} | {fmt_time(min(r['times']))}–"
                       f"{fmt_time(max(r['times']))} | {mbps:.0f} | {ratio} | {cpu} | {cratio} | "
                       f"{fmt_rss(r['rss'])} | {r['findings'] or '–'} |")
        out.append("")
        notes = []
        j1 = next((r for r in rs if r["tool"] == "keylint -j1"), None)
        if base and j1:
            notes.append(f"keylint on all threads is {j1['median'] / base['median']:.2f}× as fast as on one.")
        floor = next((r for r in rs if r["tool"].endswith("(floor)")), None)
        if floor:
            name = floor["tool"].replace(" (floor)", "")
            for r in rs:
                if r is not floor and not r["tool"].endswith("-j1"):
                    notes.append(f"{r['tool']} takes {r['median'] / floor['median']:.2f}× the time of {name}.")
        for n in notes:
            out.append(f"- {n}")
        out += ["", "CPU is the mean user+system time of the timed runs (all threads); on a busy",
                "machine it varies less than wall time. Commands (1-minute load average when each",
                "started):", ""]
        out += [f"    {r['tool']} (load {r['load']}): {r['cmd']}" for r in rs]
        out.append("")
    return "\n".join(out)


def main(argv: list) -> int:
    if len(argv) >= 3 and argv[1] == "count":
        print(count(argv[2], argv[3] if len(argv) > 3 else ""))
        return 0
    if len(argv) == 3 and argv[1] == "table":
        print(table(argv[2]))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
