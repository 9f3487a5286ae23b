"""torch.set_num_threads / get_num_threads for the CPU path: the threads of numpy's BLAS library.

They are set through threadpoolctl when it is installed (scikit-learn brings it); without it the call can only
warn, since the BLAS thread count is otherwise fixed when numpy loads (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS).
"""
import os
import warnings

_limits = []


def set_num_threads(n):
    """Use `n` threads for CPU matrix products (numpy's BLAS)."""
    if not isinstance(n, int) or n < 1:
        raise RuntimeError(f"set_num_threads expects a positive integer, got {n!r}")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        warnings.warn("set_num_threads needs the threadpoolctl package to change numpy's BLAS threads; "
                      "set OMP_NUM_THREADS before starting Python instead", RuntimeWarning, stacklevel=2)
        return
    _limits[:] = [threadpool_limits(n, user_api="blas")]


def get_num_threads():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1))
    counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    return max(counts) if counts else 1
