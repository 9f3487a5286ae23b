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


def _readme_results(device):
    """The results file whose table README.md shows for `device` (named on the block's first line)."""
    from bench import readme_table
    text = (ROOT / "README.md").read_text()
    start, end = readme_table.markers(device)
    block = text[text.index(start) + len(start):text.index(end)]
    return block.split("`")[1]


def test_readme_shows_the_committed_cpu_results():
    from bench import readme_table
    path = _readme_results("cpu")
    assert (ROOT / path).is_file()
    assert readme_table.main([str(ROOT / path), "--check"]) == 0


def test_readme_table_rewrites_its_block_and_detects_a_stale_one(tmp_path):
    from bench import readme_table
    start, end = readme_table.markers("cpu")
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{start}\nold\n{end}\noutro\n")
    results = ROOT / _readme_results("cpu")
    assert readme_table.main([str(results), "--check"], readme=readme) == 1
    assert readme_table.main([str(results)], readme=readme) == 0
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith(f"{end}\noutro\n") and "old" not in text
    data = json.loads(results.read_text())
    per_op = next(r for r in data["rows"] if r["section"] == "per_op")
    assert f"| {per_op['name']} | " in text and f"| {per_op['ratio']:.2f} |" in text
    assert readme_table.main([str(results), "--check"], readme=readme) == 0


def test_readme_table_of_a_gpu_run(tmp_path):
    """A cuda results file renders with its GPU, driver and CUDA runtime, bandwidth rows at the largest size."""
    from bench import readme_table
    data = json.loads((ROOT / _readme_results("cpu")).read_text())
    data["device"] = "cuda"
    data["machine"].update(gpu="NVIDIA H100 80GB HBM3", driver="13.0", cuda_runtime="13.0", cupy="14.0.0")
    for r in data["rows"]:
        if r["section"] == "bandwidth":
            r["extra"]["log2"] += 4
    results = tmp_path / "cuda-2026-01-01.json"
    results.write_text(json.dumps(data))
    start, end = readme_table.markers("cuda")
    readme = tmp_path / "README.md"
    readme.write_text(f"{start}\nnot yet measured\n{end}\n")
    assert readme_table.main([str(results)], readme=readme) == 0
    text = readme.read_text()
    top = max(r["extra"]["log2"] for r in data["rows"] if r["section"] == "bandwidth")
    assert "NVIDIA H100 80GB HBM3, driver 13.0, CUDA runtime 13.0, CuPy 14.0.0" in text
    assert f"2^{top} elements only" in text and "`python -m bench --device cuda`" in text
    assert "not yet measured" not in text
