#!/usr/bin/env python3
"""Score keylint against a labelled corpus made by gen_corpus.py.

Usage:
    python3 scripts/eval/score.py OUTDIR [--keylint PATH] [--min-confidence low|medium|high]
                                  [--json REPORT.json] [--max-list N]

Runs `KEYLINT scan OUTDIR --format json --show-secrets --no-ignore` and compares
the findings with OUTDIR/labels.jsonl:

* recall: a positive file counts as detected when some finding in that file has a
  secret equal to, containing, or contained in the labelled secret (the contained
  case needs at least 8 characters so a stray short match does not count);
* false-positive rate: negative files with at least one finding;
* stray findings: findings in positive files that do not correspond to the label.

Exit status: 0 unless keylint itself fails (exit code other than 0/1, or bad JSON).
Standard library only (Python 3.11).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import defaultdict

MIN_CONTAINED = 8  # a finding shorter than this must equal the label exactly


def load_labels(outdir: str) -> dict[str, dict]:
    path = os.path.join(outdir, "labels.jsonl")
    labels: dict[str, dict] = {}
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                sys.exit(f"score.py: {path}:{n}: bad JSON: {exc}")
            labels[os.path.normpath(rec["path"])] = rec
    return labels


def run_keylint(keylint: str, outdir: str, min_conf: str | None) -> dict:
    cmd = [keylint, "scan", outdir, "--format", "json", "--show-secrets", "--no-ignore"]
    if min_conf:
        cmd += ["--min-confidence", min_conf]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as exc:
        print(f"score.py: cannot run {keylint}: {exc}", file=sys.stderr)
        sys.exit(2)
    if proc.returncode not in (0, 1):
        print(f"score.py: keylint exited {proc.returncode}", file=sys.stderr)
        print(proc.stderr[-4000:], file=sys.stderr)
        sys.exit(proc.returncode or 2)
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        print(f"score.py: keylint output is not JSON: {exc}", file=sys.stderr)
        print(proc.stdout[:2000], file=sys.stderr)
        print(proc.stderr[-2000:], file=sys.stderr)
        sys.exit(2)


def rel_path(p: str, outdir: str) -> str:
    """Map a finding path (absolute, or relative to cwd or to OUTDIR) to a label key."""
    out_abs = os.path.abspath(outdir)
    cands = []
    if os.path.isabs(p):
        cands.append(p)
    else:
        cands.append(os.path.abspath(p))
        cands.append(os.path.join(out_abs, p))
    for c in cands:
        c = os.path.normpath(c)
        if c == out_abs or c.startswith(out_abs + os.sep):
            return os.path.normpath(os.path.relpath(c, out_abs))
    return os.path.normpath(p)


def matches(found: str, label: str) -> bool:
    if not found or not label:
        return False
    if found == label:
        return True
    if label in found:  # finding includes surrounding text (e.g. a whole URL)
        return True
    if found in label and len(found) >= MIN_CONTAINED:  # finding is part of the label
        return True
    return False


def pct(a: int, b: int) -> str:
    return f"{100.0 * a / b:5.1f}%" if b else "  n/a"


def short(s: str, n: int = 60) -> str:
    s = s.replace("\n", "\\n")
    return s if len(s) <= n else s[: n - 3] + "..."


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir", help="corpus directory made by gen_corpus.py")
    ap.add_argument("--keylint", default="keylint", help="path to the keylint binary (default: keylint on PATH)")
    ap.add_argument("--min-confidence", choices=["low", "medium", "high"], default=None,
                    help="passed through to keylint scan")
    ap.add_argument("--json", metavar="FILE", help="also write a machine-readable summary here")
    ap.add_argument("--max-list", type=int, default=40,
                    help="max entries printed per list (misses per provider, FPs, strays); 0 = all")
    args = ap.parse_args()

    outdir = args.outdir
    labels = load_labels(outdir)
    report = run_keylint(args.keylint, outdir, args.min_confidence)
    findings = report.get("findings", [])

    by_file: dict[str, list[dict]] = defaultdict(list)
    unlabelled: list[dict] = []
    in_labels_file = 0
    for f in findings:
        key = rel_path(str(f.get("path", "")), outdir)
        if key == "labels.jsonl":  # the answer key itself holds every secret: not part of the corpus
            in_labels_file += 1
            continue
        if key in labels:
            by_file[key].append(f)
        else:
            unlabelled.append(f)

    lim = args.max_list if args.max_list > 0 else None

    # ---- positives -------------------------------------------------------
    pos = {k: v for k, v in labels.items() if v["label"] == "positive"}
    neg = {k: v for k, v in labels.items() if v["label"] == "negative"}
    prov_total: dict[str, int] = defaultdict(int)
    prov_hit: dict[str, int] = defaultdict(int)
    prov_miss: dict[str, list[str]] = defaultdict(list)
    kind_total: dict[str, int] = defaultdict(int)
    kind_hit: dict[str, int] = defaultdict(int)
    strays: list[tuple[str, dict]] = []
    hit_rules: dict[str, set] = defaultdict(set)
    detected = 0
    for path, rec in sorted(pos.items()):
        prov = rec.get("provider", "?")
        pk = f"{prov}/{rec.get('kind', '?')}"
        prov_total[prov] += 1
        kind_total[pk] += 1
        ok = False
        for f in by_file.get(path, []):
            if matches(str(f.get("secret") or ""), rec.get("secret", "")):
                ok = True
                hit_rules[prov].add(str(f.get("rule_id")))
            else:
                strays.append((path, f))
        if ok:
            detected += 1
            prov_hit[prov] += 1
            kind_hit[pk] += 1
        else:
            prov_miss[prov].append(path)

    # ---- negatives -------------------------------------------------------
    cat_total: dict[str, int] = defaultdict(int)
    cat_flag: dict[str, int] = defaultdict(int)
    fp_files: list[tuple[str, list[dict]]] = []
    fp_rules: dict[str, int] = defaultdict(int)
    for path, rec in sorted(neg.items()):
        cat = rec.get("kind") or rec.get("provider") or "?"
        cat_total[cat] += 1
        fs = by_file.get(path, [])
        if fs:
            cat_flag[cat] += 1
            fp_files.append((path, fs))
            for f in fs:
                fp_rules[str(f.get("rule_id"))] += 1

    # ---- print -----------------------------------------------------------
    print(f"keylint corpus score: {outdir}")
    print(f"  keylint: {args.keylint}  min-confidence: {args.min_confidence or '(default)'}")
    print(f"  files: {len(pos)} positive, {len(neg)} negative; findings: {len(findings)}")
    print()
    print(f"RECALL      {detected}/{len(pos)} = {pct(detected, len(pos)).strip()}")
    print(f"FP RATE     {len(fp_files)}/{len(neg)} negative files flagged = {pct(len(fp_files), len(neg)).strip()}")
    print(f"STRAYS      {len(strays)} findings in positive files not matching the labelled secret")
    if unlabelled:
        print(f"UNLABELLED  {len(unlabelled)} findings in files missing from labels.jsonl")
    if in_labels_file:
        print(f"  ({in_labels_file} findings in labels.jsonl itself were ignored)")
    print()

    print("Per-provider recall:")
    width = max((len(p) for p in prov_total), default=8)
    for prov in sorted(prov_total, key=lambda p: (prov_hit[p] / prov_total[p], p)):
        rules = ",".join(sorted(hit_rules[prov]))
        print(f"  {prov:<{width}}  {prov_hit[prov]:3d}/{prov_total[prov]:<3d} {pct(prov_hit[prov], prov_total[prov])}"
              + (f"   rules: {rules}" if rules else ""))
    print()

    partial = [k for k in kind_total if 0 < kind_hit[k] < kind_total[k] or
               (kind_hit[k] == 0 and prov_hit[k.split('/')[0]] > 0)]
    if partial:
        print("Kinds missed within otherwise-detected providers:")
        for k in sorted(partial):
            print(f"  {k:<{width + 20}} {kind_hit[k]}/{kind_total[k]}")
        print()

    print("Misses (positive files with no matching finding):")
    any_miss = False
    for prov in sorted(prov_miss):
        files = prov_miss[prov]
        any_miss = True
        shown = files[:lim]
        more = f" (+{len(files) - len(shown)} more)" if len(files) > len(shown) else ""
        print(f"  {prov}: {', '.join(shown)}{more}")
    if not any_miss:
        print("  none")
    print()

    print("False positives per negative category:")
    for cat in sorted(cat_total):
        mark = "  <--" if cat_flag[cat] else ""
        print(f"  {cat:<28} {cat_flag[cat]:3d}/{cat_total[cat]:<3d}{mark}")
    print()
    if fp_files:
        print("False-positive rule ids (findings in negative files):")
        for rid, n in sorted(fp_rules.items(), key=lambda x: (-x[1], x[0])):
            print(f"  {rid:<40} {n}")
        print()
        print("Flagged negative files:")
        for path, fs in fp_files[:lim]:
            desc = "; ".join(f"{f.get('rule_id')} L{f.get('line')} '{short(str(f.get('secret') or ''), 50)}'" for f in fs)
            print(f"  {path}: {desc}")
        if lim and len(fp_files) > lim:
            print(f"  ... +{len(fp_files) - lim} more")
        print()

    if strays:
        print("Stray findings in positive files (not the labelled secret):")
        for path, f in strays[:lim]:
            print(f"  {path}: {f.get('rule_id')} L{f.get('line')} '{short(str(f.get('secret') or ''), 50)}'"
                  f"  (label: {labels[path].get('provider')}/{labels[path].get('kind')})")
        if lim and len(strays) > lim:
            print(f"  ... +{len(strays) - lim} more")
        print()
    if unlabelled:
        print("Findings in unlabelled files:")
        for f in unlabelled[:lim]:
            print(f"  {f.get('path')}: {f.get('rule_id')}")
        print()

    if args.json:
        summary = {
            "positives": len(pos), "detected": detected,
            "recall": detected / len(pos) if pos else None,
            "negatives": len(neg), "negatives_flagged": len(fp_files),
            "fp_rate": len(fp_files) / len(neg) if neg else None,
            "strays": len(strays),
            "per_provider": {p: {"total": prov_total[p], "detected": prov_hit[p], "misses": prov_miss[p]}
                             for p in sorted(prov_total)},
            "per_negative_category": {c: {"total": cat_total[c], "flagged": cat_flag[c]} for c in sorted(cat_total)},
            "fp_files": {p: [f.get("rule_id") for f in fs] for p, fs in fp_files},
            "fp_rules": dict(fp_rules),
            "stray_findings": [{"path": p, "rule_id": f.get("rule_id"), "line": f.get("line")} for p, f in strays],
        }
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(summary, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
