"""What a benchmark run shows: the rows of the ratio table, the issue's targets, the machine, the JSON and the chart.

A Row holds both frameworks' medians; its ratio is autograd_gpu / reference (below 1: we are faster).
"""
from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Target:
    """A goal from the issue: ``metric`` ("ratio" or "pct_copy") compared by ``op`` ("<=" or ">=") to ``value``."""

    metric: str
    op: str
    value: float

    def __str__(self):
        return f"{self.op} {self.value:g}" + ("% copy" if self.metric == "pct_copy" else "")

    def met(self, row: "Row") -> bool | None:
        got = row.ratio if self.metric == "ratio" else row.extra.get("ours_pct_copy")
        if got is None:
            return None
        return got <= self.value if self.op == "<=" else got >= self.value


#: The issue's targets, per device and section ("bandwidth" applies to the 2^26 rows only).
TARGETS = {
    "cpu": {"per_op": Target("ratio", "<=", 1.5), "mlp": Target("ratio", "<=", 1.2),
            "cnn": Target("ratio", "<=", 2.0)},
    "cuda": {"per_op": Target("ratio", "<=", 1.5), "mlp": Target("ratio", "<=", 1.5),
             "bandwidth": Target("pct_copy", ">=", 80.0), "peak_memory": Target("ratio", "<=", 1.2)},
}
BANDWIDTH_TARGET_LOG2 = 26


@dataclass
class Row:
    """One line of the table: ``ours`` and ``ref`` are medians in ``unit`` ("s" or "B"), None when not measured."""

    section: str
    name: str
    ours: float | None
    ref: float | None
    unit: str = "s"
    ref_name: str = "PyTorch"
    note: str = ""
    extra: dict = field(default_factory=dict)
    target: Target | None = None

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.ref:
            return None
        return self.ours / self.ref

    @property
    def status(self) -> str:
        if self.target is None:
            return ""
        met = self.target.met(self)
        return "n/a" if met is None else ("PASS" if met else "MISS")

    def to_json(self) -> dict:
        d = asdict(self)
        d["target"] = str(self.target) if self.target else None
        d["ratio"] = self.ratio
        d["status"] = self.status or None
        return d


def apply_targets(rows: list[Row], device: str) -> None:
    goals = TARGETS[device]
    for row in rows:
        at_size = row.section != "bandwidth" or row.extra.get("log2") == BANDWIDTH_TARGET_LOG2
        row.target = goals.get(row.section) if at_size else None


# ------------------------------------------------------------------------------------------------ table

def fmt_value(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "B":
        for scale, name in ((2 ** 30, "GiB"), (2 ** 20, "MiB"), (2 ** 10, "KiB")):
            if value >= scale:
                return f"{value / scale:.2f} {name}"
        return f"{value:.0f} B"
    for scale, name in ((1, "s"), (1e-3, "ms"), (1e-6, "us")):
        if value >= scale:
            return f"{value / scale:.3g} {name}"
    return f"{value / 1e-9:.3g} ns"


def format_table(rows: list[Row]) -> str:
    head = ("section", "workload", "autograd_gpu", "reference", "ratio", "target", "status", "note")
    body = [(r.section, r.name, fmt_value(r.ours, r.unit), f"{fmt_value(r.ref, r.unit)} ({r.ref_name})",
             "n/a" if r.ratio is None else f"{r.ratio:.2f}", str(r.target) if r.target else "", r.status, r.note)
            for r in rows]
    widths = [max(len(line[i]) for line in (head, *body)) for i in range(len(head))]
    sep = "-+-".join("-" * w for w in widths)

    def line(cells):
        return " | ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    out = [line(head), sep]
    prev = None
    for cells in body:
        if prev is not None and cells[0] != prev:
            out.append(sep)
        out.append(line(cells))
        prev = cells[0]
    return "\n".join(out)


def format_loss_checks(checks: list[dict]) -> str:
    lines = []
    for c in checks:
        verdict = "OK" if c["ok"] else "MISMATCH"
        lines.append(f"loss check {c['workload']}: {verdict} over {len(c['ours'])} steps, "
                     f"max |diff| {c['max_abs_diff']:.2e}, max rel {c['max_rel_diff']:.2e} (rtol {c['rtol']:g}); "
                     f"first losses ours {c['ours'][0]:.6f} torch {c['ref'][0]:.6f}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ machine

def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(device: str, threads: int) -> dict:
    import numpy
    import torch

    import autograd_gpu

    info = {
        "cpu": cpu_model(), "cpu_count": os.cpu_count(), "threads": threads,
        "platform": platform.platform(), "python": sys.version.split()[0],
        "numpy": numpy.__version__, "torch": torch.__version__, "autograd_gpu": autograd_gpu.__version__,
        "torch_num_threads": torch.get_num_threads(),
    }
    if device == "cuda":
        import cupy

        rt = cupy.cuda.runtime
        props = rt.getDeviceProperties(cupy.cuda.Device().id)
        name = props["name"]
        info.update({
            "gpu": name.decode() if isinstance(name, bytes) else str(name),
            "driver": _cuda_version(rt.driverGetVersion()), "cuda_runtime": _cuda_version(rt.runtimeGetVersion()),
            "cupy": cupy.__version__, "torch_cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(),
            "tf32": {"torch_matmul": torch.backends.cuda.matmul.allow_tf32,
                     "torch_cudnn": torch.backends.cudnn.allow_tf32,
                     "CUPY_TF32": os.environ.get("CUPY_TF32"),
                     "NVIDIA_TF32_OVERRIDE": os.environ.get("NVIDIA_TF32_OVERRIDE"),
                     "cupy_float32_compute_type": _cupy_compute_type()},
        })
    return info


def _cuda_version(v: int) -> str:
    return f"{v // 1000}.{v % 1000 // 10}"


def _cupy_compute_type():
    """CuPy's cuBLAS compute type for float32 (it uses TF32 only when CUPY_TF32 > 0 at first matmul)."""
    try:
        import numpy
        from cupy._core import _routines_linalg as linalg

        kind = linalg.get_compute_type(numpy.float32)
        names = {getattr(linalg, n, None): n for n in dir(linalg) if n.startswith("COMPUTE_TYPE_")}
        return names.get(kind, kind)
    except Exception as e:  # private API: record that we could not read it
        return f"unknown ({type(e).__name__})"


# ------------------------------------------------------------------------------------------------ files

def write_json(path: Path, payload: dict) -> None:
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")


def plot(rows: list[Row], path: Path, title: str) -> None:
    """A horizontal bar chart of the ratios (log scale; the line at 1 is parity)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FormatStrFormatter, NullFormatter

    shown = [r for r in rows if r.ratio is not None]
    colors = {"PASS": "tab:green", "MISS": "tab:red"}
    fig, ax = plt.subplots(figsize=(12, 0.3 * len(shown) + 1.6))
    labels = [f"{r.section}: {r.name}" + ("" if r.ref_name == "PyTorch" else f" vs {r.ref_name}") for r in shown]
    ratios = [r.ratio for r in shown]
    ax.barh(range(len(shown)), ratios, color=[colors.get(r.status, "tab:blue") for r in shown])
    for i, v in enumerate(ratios):
        ax.text(v, i, f" {v:.2f}", va="center", fontsize=7)
    ax.set_yticks(range(len(shown)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("autograd_gpu / reference (log scale; below 1: faster)")
    ax.set_title(f"{title}\ngreen: meets the issue's target, red: misses it, blue: no target", fontsize=9)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
