"""`python -m bench --quick` runs end to end (a smoke test: benchmarks are never timed by tests), and the
pieces it relies on measure what they claim: the torch CPU peak and the targets."""
import json
import subprocess
import sys
from pathlib import Path

import torch

from bench import report, workloads

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = {"per_op", "launch_floor", "bandwidth", "mlp", "cnn", "peak_memory", "loss_check"}


def test_quick_cpu_run_prints_the_table_and_writes_every_section(tmp_path):
    done = subprocess.run([sys.executable, "-m", "bench", "--device", "cpu", "--quick", "--threads", "1",
                           "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "section" in out and "ratio" in out and "status" in out
    for section in ("per_op", "bandwidth", "mlp", "cnn", "peak_memory"):
        assert f"\n{section} " in out
    assert out.count("loss check") == 3 and "MISMATCH" not in out

    (path,) = tmp_path.glob("cpu-*.json")
    assert (tmp_path / (path.stem + ".png")).stat().st_size > 0
    data = json.loads(path.read_text())
    assert set(data["sections"]) == SECTIONS
    assert data["sections"]["launch_floor"] == {"skipped": "GPU only"}
    assert all(c["ok"] for c in data["sections"]["loss_check"])
    assert {"cpu", "numpy", "torch", "threads"} <= set(data["machine"])
    for row in data["rows"]:
        assert row["ours"] > 0 and row["ref"] > 0
        assert abs(row["ratio"] - row["ours"] / row["ref"]) < 1e-12
    assert {r["status"] for r in data["rows"] if r["target"]} <= {"PASS", "MISS"}


def test_torch_cpu_peak_counts_the_bytes_a_step_allocates():
    x = torch.ones(256, 1024)  # 1 MiB

    def step():
        y = x * 2  # +1 MiB
        z = y + 1  # +1 MiB while y is alive
        return z.sum()

    peak = workloads._torch_cpu_peak(step)
    assert 2 * 2 ** 20 <= peak < 2 * 2 ** 20 + 4096


def test_targets_and_status():
    rows = [report.Row("per_op", "f", 3.1, 2.0), report.Row("mlp", "m", 1.0, 1.0),
            report.Row("bandwidth", "tanh 2^26", 1.0, 1.0, extra={"log2": 26, "ours_pct_copy": 79.0}),
            report.Row("bandwidth", "tanh 2^24", 1.0, 1.0, extra={"log2": 24, "ours_pct_copy": 10.0}),
            report.Row("peak_memory", "p", 5.0, None, unit="B")]
    report.apply_targets(rows, "cuda")
    assert [r.status for r in rows] == ["MISS", "PASS", "MISS", "", "n/a"]
    report.apply_targets(rows, "cpu")
    assert [r.status for r in rows] == ["MISS", "PASS", "", "", ""]
    assert "n/a" in report.format_table(rows)
