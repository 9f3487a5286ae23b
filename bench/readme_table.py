"""Write the README's benchmark table from one results file, so the README shows exactly what a run measured.

    python -m bench.readme_table bench/results/cpu-2026-11-26.json           # rewrite README.md's block
    python -m bench.readme_table bench/results/cpu-2026-11-26.json --check   # exit 1 if the block is stale
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .report import fmt_value

ROOT = Path(__file__).resolve().parent.parent


def markers(device: str) -> tuple[str, str]:
    return f"<!-- bench-{device}:start -->", f"<!-- bench-{device}:end -->"


def render(data: dict, path: str) -> str:
    """The machine line and the table of `data` (a results JSON); bandwidth rows at the largest size only."""
    m = data["machine"]
    rows = data["rows"]
    bandwidth = [r for r in rows if r["section"] == "bandwidth"]
    top = max((r["extra"]["log2"] for r in bandwidth), default=None)
    where = (f"{m['gpu']}, driver {m['driver']}, CUDA runtime {m['cuda_runtime']}, CuPy {m['cupy']}"
             if data["device"] == "cuda" else f"{m['cpu']}, {m['cpu_count']} cores, {m['threads']} thread{'s' if m['threads'] != 1 else ''} each")
    head = (f"`{path}` ({where}; Python {m['python']}, numpy {m['numpy']}, PyTorch {m['torch']}; {data['date']}; "
            f"`python -m bench --device {data['device']}"
            + (f" --threads {m['threads']}`" if data["device"] == "cpu" else "`")
            + (f"; bandwidth rows at 2^{top} elements only, the JSON has them all" if top is not None else "")
            + "):")
    lines = [head, "", "| workload | autograd_gpu | PyTorch | ratio | target |", "|---|---|---|---|---|"]
    for r in rows:
        if r["section"] == "bandwidth" and r["extra"]["log2"] != top:
            continue
        name = ("peak memory, " if r["section"] == "peak_memory" else "") + r["name"]
        ratio = "n/a" if r["ratio"] is None else f"{r['ratio']:.2f}"
        target = f"{r['target']} {r['status']}" if r["target"] else "—"
        lines.append(f"| {name} | {fmt_value(r['ours'], r['unit'])} | {fmt_value(r['ref'], r['unit'])} | {ratio} "
                     f"| {target} |")
    return "\n".join(lines)


def splice(text: str, block: str, device: str) -> str:
    start, end = markers(device)
    i, j = text.find(start), text.find(end)
    if i < 0 or j < i:
        raise ValueError(f"README needs {start} followed by {end}")
    return text[:i + len(start)] + "\n" + block + "\n" + text[j:]


def main(argv=None, readme: Path = ROOT / "README.md") -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results", help="a bench/results/<device>-<date>.json")
    p.add_argument("--check", action="store_true", help="exit 1 if README.md does not show this file's table")
    args = p.parse_args(argv)
    path = Path(args.results)
    data = json.loads(path.read_text())
    shown = path.resolve().relative_to(ROOT).as_posix() if path.resolve().is_relative_to(ROOT) else path.name
    text = readme.read_text()
    new = splice(text, render(data, shown), data["device"])
    if args.check:
        if new != text:
            print(f"{readme.name}: the {data['device']} benchmark table is not {shown}'s; run "
                  f"python -m bench.readme_table {shown}", file=sys.stderr)
            return 1
        return 0
    readme.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
