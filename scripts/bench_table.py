#!/usr/bin/env python3
"""Print a Markdown table from criterion results: subject vs baseline, same run.

Usage: scripts/bench_table.py GROUP BASELINE SUBJECT [TARGET_DIR]

Reads TARGET_DIR/criterion/GROUP/{BASELINE,SUBJECT}/<input>/new/sample.json (criterion's
raw samples) and prints, per input, the per-iteration time of each function as
min / median / max over the samples, and the ratio of the medians.
"""
import json
import os
import statistics
import sys


def per_iter(path):
    with open(path) as f:
        s = json.load(f)
    return sorted(t / n for t, n in zip(s["times"], s["iters"]))


def size_key(name):
    """Sort inputs like 512B < 2KiB < 16KiB; names without a size keep their name order."""
    digits = "".join(c for c in name if c.isdigit())
    scale = {"KiB": 1 << 10, "MiB": 1 << 20}
    unit = next((m for u, m in scale.items() if u in name), 1)
    return (int(digits) * unit if digits else float("inf"), name)


def fmt(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    group, base, subj = sys.argv[1:4]
    target = sys.argv[4] if len(sys.argv) > 4 else os.environ.get("CARGO_TARGET_DIR", "target")
    root = os.path.join(target, "criterion", group)
    inputs = sorted((i for i in os.listdir(os.path.join(root, base)) if i != "report"), key=size_key)
    print(f"| input | {base} min / median / max | {subj} min / median / max | ratio (median) |")
    print("|---|---|---|---|")
    for name in inputs:
        b = per_iter(os.path.join(root, base, name, "new", "sample.json"))
        s = per_iter(os.path.join(root, subj, name, "new", "sample.json"))
        bm, sm = statistics.median(b), statistics.median(s)
        print(
            f"| {name} | {fmt(b[0])} / {fmt(bm)} / {fmt(b[-1])} "
            f"| {fmt(s[0])} / {fmt(sm)} / {fmt(s[-1])} | {sm / bm:.2f} |"
        )


if __name__ == "__main__":
    main()
