"""One rank of a job that `python -m autograd_gpu.distributed.run` started under mpiexec: runs the training script
(or module) and, when it fails, takes the whole job down.

NOTE: MPICH's mpiexec waits for every rank, so a rank that exits with an error while the others wait in a
collective would hang the job. A failing rank therefore ends by MPI_Abort when it has started MPI (the job ends
with its exit code), else by SIGKILL of itself (mpiexec then ends the others and exits non-zero).
"""
import os
import runpy
import signal
import sys
import traceback

ERROR_DIR = "AUTOGRAD_GPU_RUN_ERROR_DIR"  # where a failing rank writes its error for the launcher (run.py)


def _record(text):
    folder = os.environ.get(ERROR_DIR)
    if folder:
        with open(os.path.join(folder, f"{os.environ.get('RANK', '0')}.txt"), "w") as f:
            f.write(text)


def _code(e):
    if e.code is None:
        return 0
    if isinstance(e.code, int):
        return e.code
    print(e.code, file=sys.stderr)
    _record(str(e.code))
    return 1


def _abort(code):
    sys.stdout.flush()
    sys.stderr.flush()
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is not None and mpi.Is_initialized() and not mpi.Is_finalized():
        mpi.COMM_WORLD.Abort(code)
    os.kill(os.getpid(), signal.SIGKILL)


def main(argv):
    module = argv[0] == "-m"
    target = argv[1] if module else argv[0]
    sys.argv = argv[1:] if module else argv[:]
    if not module:
        sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
    try:
        if module:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(target, run_name="__main__")
    except SystemExit as e:
        code = _code(e)
        if code:
            if isinstance(e.code, int):
                _record(f"exit code {code}")
            _abort(code)
        raise
    except BaseException:
        text = traceback.format_exc()
        print(text, end="", file=sys.stderr)
        _record(text)
        _abort(1)


if __name__ == "__main__":
    main(sys.argv[1:])
