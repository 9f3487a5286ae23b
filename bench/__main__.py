"""python -m bench [--device cpu|cuda] [--quick] [--max-log2 N] [--out DIR]: autograd_gpu against PyTorch."""
from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

# NOTE: TF32 off for both frameworks' float32 matmuls. CuPy reads CUPY_TF32 at its first matmul (0, the
# default, keeps cuBLAS's default full-float32 math); NVIDIA_TF32_OVERRIDE=0 makes cuBLAS/cuDNN refuse
# TF32 for every library in the process. Both must be set before CUDA is initialised, hence here.
os.environ["CUPY_TF32"] = "0"
os.environ["NVIDIA_TF32_OVERRIDE"] = "0"


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--quick", action="store_true", help="seconds-long smoke run: tiny sizes, 2 repeats")
    p.add_argument("--max-log2", type=int, default=None,
                   help="largest elementwise size is 2**N (default 24 on cpu, 28 on cuda; 12 with --quick)")
    p.add_argument("--repeats", type=int, default=None, help="timed repeats per measurement (default 10, min 5)")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads for numpy's BLAS and torch (default: what numpy's BLAS uses)")
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results",
                   help="directory for <device>-<date>.json and .png (default bench/results)")
    return p.parse_args(argv)


_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def blas_threads(limit: int | None = None) -> int:
    """Threads numpy's BLAS uses (threadpoolctl if installed, else the CPU count), after capping them at
    `limit` (through threadpoolctl, or the environment when numpy is not loaded yet)."""
    if limit is not None and "numpy" not in sys.modules:
        for var in _THREAD_VARS:
            os.environ[var] = str(limit)
    import numpy  # noqa: F401  (loads the BLAS whose thread count we read)
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
        if limit is not None:
            threadpool_limits(limit, user_api="blas")
        counts = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
        if counts:
            return max(counts)
    except ImportError:
        pass
    return limit or os.cpu_count() or 1


def main(argv=None) -> int:
    args = parse_args(argv)
    threads = blas_threads(args.threads)
    import torch

    import autograd_gpu

    from . import report, workloads

    device = args.device
    if device == "cuda" and not (torch.cuda.is_available() and autograd_gpu.cuda.is_available()):
        print("python -m bench: --device cuda needs a GPU visible to both PyTorch and CuPy", file=sys.stderr)
        return 2
    torch.set_num_threads(threads)  # NOTE: same thread count as numpy's BLAS, for a fair CPU comparison
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False

    quick = args.quick
    cfg = workloads.Config(
        device=device, quick=quick, warmup=1 if quick else 3,
        repeats=args.repeats or (2 if quick else 10),
        max_log2=args.max_log2 or (12 if quick else (28 if device == "cuda" else 24)),
        launches=20 if quick else 1000, loss_steps=2 if quick else 3)
    if not quick:
        cfg.repeats = max(cfg.repeats, 5)
    ours = workloads.Framework("autograd_gpu", autograd_gpu, device)
    ref = workloads.Framework("PyTorch", torch, device)

    began = time.perf_counter()
    load_before = os.getloadavg()
    sections = {}
    rows = []

    def run(name, fn):
        t0 = time.perf_counter()
        out = fn()
        print(f"[bench] {name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
        return out

    sections["per_op"] = run("per-op", lambda: workloads.per_op(ours, ref, cfg))
    rows += sections["per_op"]
    if device == "cuda":
        sections["launch_floor"] = run("launch floor", lambda: workloads.launch_floor(ours, ref, cfg))
        rows += sections["launch_floor"]
    else:
        sections["launch_floor"] = {"skipped": "GPU only"}
    bw_rows, copy = run("bandwidth", lambda: workloads.bandwidth(ours, ref, cfg))
    sections["bandwidth"] = {"copy": copy, "rows": bw_rows}
    rows += bw_rows
    train_rows, checks, memory = run("train steps", lambda: workloads.train(ours, ref, cfg))
    sections["mlp"] = [r for r in train_rows if r.section == "mlp"]
    sections["cnn"] = [r for r in train_rows if r.section == "cnn"]
    sections["peak_memory"] = memory
    sections["loss_check"] = checks
    rows += train_rows + memory
    report.apply_targets(rows, device)

    machine = report.machine_info(device, threads)
    machine["loadavg_1min_before_after"] = [load_before[0], os.getloadavg()[0]]
    table = report.format_table(rows)
    lines = [f"autograd_gpu vs PyTorch on {device} ({machine.get('gpu', machine['cpu'])}); "
             f"ratio = autograd_gpu / reference, below 1 is faster; medians of {cfg.repeats} repeats "
             f"({5 * cfg.repeats} for the per-op chains)"
             + (" (QUICK smoke run: sizes and repeats too small to mean anything)" if quick else ""),
             f"threads: numpy BLAS {threads}, torch.set_num_threads({threads}); float32; TF32 off",
             f"{'device-to-device' if device == 'cuda' else 'host memory'} copy bandwidth "
             f"(2^{copy['copy_log2']} float32): {copy['copy_gbs']:.1f} GB/s",
             "", table, "", report.format_loss_checks(checks)]
    if device == "cpu":
        lines.append("peak memory on the CPU: the high-water mark of bytes allocated during one step minus those "
                     "it freed again; ours from tracemalloc (numpy buffers + Python objects), PyTorch's from "
                     "the signed allocation events of torch.profiler(profile_memory=True) (n/a if unreadable). "
                     "Neither sees frees of blocks from before the step (e.g. old grads).")
    lines.append(f"load average (1 min) before/after: {load_before[0]:.2f} / {os.getloadavg()[0]:.2f} "
                 f"on {os.cpu_count()} CPUs")
    text = "\n".join(lines)
    print(text)

    def jsonable(v):
        if isinstance(v, list):
            return [jsonable(x) for x in v]
        if isinstance(v, dict):
            return {k: jsonable(x) for k, x in v.items()}
        return v.to_json() if isinstance(v, report.Row) else v

    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"{device}-{datetime.date.today().isoformat()}"
    payload = {"device": device, "date": datetime.date.today().isoformat(), "quick": quick,
               "config": vars(cfg), "machine": machine, "sections": jsonable(sections),
               "rows": jsonable(rows), "table": table,
               "seconds": time.perf_counter() - began}
    report.write_json(args.out / f"{stem}.json", payload)
    report.plot(rows, args.out / f"{stem}.png", f"autograd_gpu / PyTorch on {device}, {payload['date']}")
    print(f"\nwrote {args.out / (stem + '.json')} and {stem}.png ({payload['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
