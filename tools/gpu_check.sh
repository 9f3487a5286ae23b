#!/usr/bin/env bash
# `make gpu-check`: everything that needs a real NVIDIA GPU, in one command, for a machine that already has
# CuPy, numpy, pytest and a CUDA build of PyTorch and can install nothing. It runs from the checkout
# (PYTHONPATH=.) with that machine's python3:
#   1. the whole test suite, where the `device` fixture's cuda variant is the real GPU (test id `cuda`);
#   2. the demo on cuda (2 epochs);
#   3. the benchmark on cuda (python -m bench --device cuda), which writes bench/results/cuda-<date>.json/.png;
#   4. data parallelism on NCCL, one rank per GPU present, started by the launcher: tools/ddp_check.py (the
#      collectives against numpy, DistributedDataParallel with SyncBatchNorm against one process on the whole
#      batch) and the demo with --ddp: the real NCCL, which CI runs only on the CuPy stand-in's simulated one.
#      (Without mpi4py on the machine, the suite leaves out tests/test_distributed.py, the MPI backend's CPU ranks
#      and the simulated NCCL ranks on one node, which CI runs.)
# The log goes to bench/results/cuda-<date>.log, and the last lines are one summary. Budget: ~8 minutes on one
# H200 (suite ~2 min, demo ~0.5 min, bench ~4 min); each part has its own time limit so one hang cannot eat
# the rest. Set QUICK=1 for the benchmark's seconds-long smoke run.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=.
PY=${PYTHON:-python3}
day=$(date -u +%F)
mkdir -p bench/results
log=bench/results/cuda-$day.log
: > "$log"
summary=()

step() {  # step NAME SECONDS CMD...
    local name=$1 secs=$2
    shift 2
    echo "== $name: $*" | tee -a "$log"
    local t0=$SECONDS
    timeout "$secs" "$@" 2>&1 | tee -a "$log"
    local rc=${PIPESTATUS[0]}
    summary+=("$name: rc=$rc in $((SECONDS - t0)) s")
}

$PY - <<'PY' 2>&1 | tee -a "$log"
import cupy, numpy, torch
import autograd_gpu
print("cupy", cupy.__version__, "numpy", numpy.__version__, "torch", torch.__version__,
      "torch.cuda", torch.cuda.is_available(), "autograd_gpu.cuda", autograd_gpu.cuda.is_available(),
      autograd_gpu.cuda.get_device_name() if autograd_gpu.cuda.is_available() else "")
PY
skip_mpi=()
$PY -c "import mpi4py" 2>/dev/null || skip_mpi=(--ignore=tests/test_distributed.py)
step "tests on cuda" 240 "$PY" -m pytest -q -p no:cacheprovider ${skip_mpi[@]+"${skip_mpi[@]}"} tests
step "demo on cuda" 90 "$PY" -m autograd_gpu.demo --device cuda --epochs 2 --out out/demo-cuda
step "bench on cuda" 300 "$PY" -m bench --device cuda ${QUICK:+--quick}
step "ddp check on nccl" 120 "$PY" -m autograd_gpu.distributed.run --nproc-per-node gpu tools/ddp_check.py
step "demo --ddp on nccl" 120 "$PY" -m autograd_gpu.distributed.run --nproc-per-node gpu -m autograd_gpu.demo \
    --ddp --epochs 2 --out out/demo-ddp
echo "== summary" | tee -a "$log"
for line in "${summary[@]}"; do echo "$line" | tee -a "$log"; done
grep -E "passed|failed" "$log" | tail -1
grep -E "^test accuracy" "$log" | tail -2
grep -E "^ddp check:" "$log"
