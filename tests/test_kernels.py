"""Kernel tests that need no GPU, all driven by the kernels the sources declare (autograd_gpu._kernels.KERNELS).

1. every kernels/*.cu compiles under NVRTC (compute_75 and compute_90) with all
   template instantiations;
2. every backward kernel's arithmetic, compiled for the CPU by g++ through tests/kernel_shim.h,
   matches its reference formula, going through the same Python launch path as CuPy;
3. the image kernels' references match torch (the other references are the CPU backward of their op
   rows, checked against torch by tests/test_ops_parity.py; the optimizer kernels run in
   tests/test_optim.py, on the 'cuda' device against torch and against the reference on the CPU);
4. through the CuPy launch (a GPU, or the stand-in), every backward kernel matches its reference.
"""

import ctypes
import math
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch

import autograd_gpu
from autograd_gpu import _kernels as K

DTYPES = [np.float32, np.float64]
SHAPES = {1: (1, 1), 255: (15, 17), 4097: (17, 241)}
LAYOUTS = ["contiguous", "transposed", "strided"]
SHIM = Path(__file__).with_name("kernel_shim.h")


# ------------------------------------------------------------------ the table itself

def test_every_kernel_has_a_reference_and_a_test():
    assert K.KERNEL_FAMILIES == sorted({k.family for k in K.KERNELS.values()})
    for family in K.KERNEL_FAMILIES:
        declared = set(re.findall(r"__global__\s+void\s+(\w+)", K.source(family)))
        assert declared == set(K.kernel_names(family)), family
    from autograd_gpu.ops import OP_TABLE
    backing = {op.kernel for op in OP_TABLE.values() if op.kernel}
    for name, k in K.KERNELS.items():
        assert k.reference is not None, f"{name}: give it a reference formula (kernel_grad / _kernels.kernel)"
        assert name in backing or k.family in STEP_FAMILIES or name in ORACLES or name in FUSED_CELL_FORWARDS, \
            f"{name}: no op row uses it"


def test_signatures_are_read_from_the_source():
    adam = K.KERNELS["adam_amsgrad_step"]
    assert adam.inputs == ("p", "g", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    assert adam.inplace == ("p", "exp_avg", "exp_avg_sq", "max_exp_avg_sq") and adam.outputs == ()
    assert adam.scalars[:2] == ("beta1_weight", "beta2") and adam.sizes == ("n",)
    clamp = K.KERNELS["clamp_bwd"]
    assert (clamp.inputs, clamp.scalars, clamp.outputs, clamp.inplace) == (("g", "x"), ("lo", "hi"), ("gx",), ())
    where = K.KERNELS["where_bwd"]
    assert where.input_dtypes["cond"] == np.bool_ and where.outputs == ("ga", "gb")
    assert K.KERNELS["softmax_bwd"].rowwise and K.KERNELS["softmax_bwd"].sizes == ("rows", "cols")
    pool = K.KERNELS["max_pool2d_bwd"]
    assert pool.input_dtypes["idx"] == np.int64 and pool.geometry[:4] == ("N", "C", "H", "W")


def test_scalars_go_by_name():
    x = np.array([-1.0, 0.2, 2.0])
    (got,) = K.run_kernel("clamp_bwd", np.ones(3), x, hi=1.0, lo=0.0)
    np.testing.assert_array_equal(got, [0.0, 1.0, 0.0])
    with pytest.raises(TypeError, match="scalars"):
        K.run_kernel("clamp_bwd", np.ones(3), x, lo=0.0)


def test_import_does_not_touch_cupy():
    code = "import sys, autograd_gpu._kernels; assert 'cupy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])


def test_launch_config_strides_over_large_sizes():
    assert K.launch_config(1, 100) == (1, 256)
    assert K.launch_config(257, 100) == (2, 256)
    assert K.launch_config(2**40, 100) == (100, 256)


# ------------------------------------------------------------------ 1. NVRTC compile

def _cuda_include_dirs():
    try:
        import nvidia.cuda_runtime
    except ImportError:
        return []
    return [str(Path(p) / "include") for p in nvidia.cuda_runtime.__path__
            if (Path(p) / "include").is_dir()]


@pytest.mark.parametrize("arch", ["compute_75", "compute_90"])
@pytest.mark.parametrize("family", K.KERNEL_FAMILIES)
def test_nvrtc_compiles(family, arch):
    from cuda.bindings import nvrtc  # CI installs it: a missing nvrtc fails, not skips

    def check(result):
        err, *rest = result
        assert err == nvrtc.nvrtcResult.NVRTC_SUCCESS, err
        return rest[0] if rest else None

    prog = check(nvrtc.nvrtcCreateProgram(K.source(family).encode(), f"{family}.cu".encode(),
                                          0, [], []))
    try:
        names = [e.encode() for e in K.name_expressions(family)]
        for name in names:
            check(nvrtc.nvrtcAddNameExpression(prog, name))
        options = [*K.COMPILE_OPTIONS, "-ftz=true", f"--gpu-architecture={arch}",  # as CuPy
                   *(f"--include-path={d}" for d in _cuda_include_dirs())]
        (err,) = nvrtc.nvrtcCompileProgram(prog, len(options), [o.encode() for o in options])
        size = check(nvrtc.nvrtcGetProgramLogSize(prog))
        log = bytearray(size)  # NOTE: b" " * 1 is the interned b" ", which nvrtc would overwrite
        check(nvrtc.nvrtcGetProgramLog(prog, log))
        assert err == nvrtc.nvrtcResult.NVRTC_SUCCESS, log.decode(errors="replace")
        for name in names:
            assert check(nvrtc.nvrtcGetLoweredName(prog, name))
    finally:
        nvrtc.nvrtcDestroyProgram(prog)


# ------------------------------------------------------------------ 2. CPU shim

_CTYPES = {"float": ctypes.c_float, "double": ctypes.c_double}


def _wrapper(spec, ctype):
    """extern "C" entry point that runs spec's kernel over a simulated grid."""
    declared = K.parameters(spec.family)[spec.name]
    params = [f"{'const ' if const else ''}{ctype if t == 'T' else t}{'*' if ptr else ''} {n}"
              for t, ptr, const, n in declared]
    names = [n for *_, n in declared]
    return (f'extern "C" void shim_{spec.name}_{ctype}(unsigned grid, unsigned block, '
            f'{", ".join(params)}) {{\n'
            f'    ag_shim_launch(&{spec.name}<{ctype}>, grid, block, {", ".join(names)});\n}}\n')


@pytest.fixture(scope="session")
def shim_lib(tmp_path_factory):
    gxx = shutil.which("g++")
    assert gxx, "g++ is needed to run the kernels on the CPU"
    out = tmp_path_factory.mktemp("kernel_shim")
    flags = ["-std=c++17", "-O2", "-fPIC", "-ffp-contract=off", "-include", str(SHIM)]

    def compile_family(family):
        wrappers = "".join(_wrapper(K.KERNELS[n], c) for n in K.kernel_names(family)
                           for c in K.CTYPES.values())
        src = out / f"{family}.cpp"
        src.write_text(K.source(family) + "\n" + wrappers)
        obj = out / f"{family}.o"
        subprocess.run([gxx, *flags, "-c", str(src), "-o", str(obj)], check=True)
        return str(obj)

    with ThreadPoolExecutor(2) as pool:
        objects = list(pool.map(compile_family, K.KERNEL_FAMILIES))
    lib = out / "kernels_shim.so"
    subprocess.run([gxx, "-shared", *objects, "-o", str(lib)], check=True)
    return ctypes.CDLL(str(lib))


def _shim_launcher(lib):
    def launch(spec, ctype, args, work):
        fn = getattr(lib, f"shim_{spec.name}_{ctype}")
        c_args = []
        for a in args:
            if isinstance(a, np.ndarray):
                assert a.flags.c_contiguous
                c_args.append(ctypes.c_void_p(a.ctypes.data))
            elif isinstance(a, np.int64):
                c_args.append(ctypes.c_longlong(int(a)))
            else:
                assert a.dtype == {"float": np.float32, "double": np.float64}[ctype]
                c_args.append(_CTYPES[ctype](float(a)))
        grid, block = K.launch_config(work, 3)  # few blocks, so the grid-stride loop wraps
        fn(ctypes.c_uint(grid), ctypes.c_uint(block), *c_args)
    return launch


_SPECIALS = [0.0, -0.0, 1.0, 2.0, 0.5, -1.0, np.nan, np.inf, -np.inf]


def _values(rng, shape, dtype, special):
    positive = rng.random(shape) < 0.6
    x = np.where(positive, rng.uniform(0.1, 2.0, shape), rng.uniform(-2.0, 0.0, shape))
    if special:
        pick = rng.random(shape) < 0.2
        x = np.where(pick, rng.choice(_SPECIALS, shape), x)
    return x.astype(dtype)


def _layout(x, layout, xp=np):
    if layout == "transposed":
        return xp.ascontiguousarray(x.T).T
    if layout == "strided":
        wide = xp.empty(x.shape[:-1] + (2 * x.shape[-1],), x.dtype)
        wide[..., ::2] = x
        return wide[..., ::2]
    return x


def _inputs(spec, size, dtype, layout, seed):
    rng = np.random.default_rng(seed)
    shape = SHAPES[size]
    arrays = []
    for name in spec.inputs:
        if spec.input_dtypes[name] == np.bool_:
            x = rng.random(shape) < 0.5
        else:
            x = _values(rng, shape, dtype, special=not spec.rowwise)
            if arrays and arrays[-1].dtype == dtype:  # ties with the previous input
                x = np.where(rng.random(shape) < 0.2, arrays[-1], x)
        arrays.append(x)
    return [_layout(a, layout) for a in arrays]


def _ordered(x):
    """Floats mapped to integers in the same order, one apart per ulp (-0 == +0)."""
    i = x.view(np.int32 if x.itemsize == 4 else np.int64).astype(np.int64)
    return np.where(i < 0, -(i & ((1 << (8 * x.itemsize - 1)) - 1)), i)


def assert_ulp_equal(actual, expected, maxulp):
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    nan = np.isnan(expected)
    np.testing.assert_array_equal(np.isnan(actual), nan)
    a, e = actual[~nan], expected[~nan]
    np.testing.assert_array_equal(np.isinf(a), np.isinf(e))
    diff = np.abs(_ordered(a) - _ordered(e))
    assert diff.max(initial=0) <= maxulp, (diff.max(), a[diff.argmax()], e[diff.argmax()])


def _maxulp(spec):
    """0 (exact) for plain arithmetic (sqrt included: correctly rounded everywhere). A kernel calling exp/exp2/log/
    pow/sinh/cosh gets a few ulp: numpy's SIMD float32 log differs from libm's (and CUDA's) by up to ~3.5 ulp."""
    body = re.search(rf"void {spec.name}\(.*?\n}}\n", K.source(spec.family), re.DOTALL)
    return 4 if re.search(r"\bag_(exp|exp2|log|pow|sinh|cosh)\(", body.group(0)) else 0


# the scalar values each kernel with scalars is tested at
_KERNEL_SCALARS = {
    "clamp_bwd": [dict(lo=-0.5, hi=0.75), dict(lo=-math.inf, hi=0.3), dict(lo=0.0, hi=math.inf)],
    "logit_bwd": [dict(lo=0.0, hi=1.0, outside=math.nan), dict(lo=0.25, hi=0.75, outside=0.0)],
    "lerp_scalar_bwd": [dict(w=0.3), dict(w=-1.5)],
    "xlogy_self_bwd": [dict(s=2.5), dict(s=0.0)],
    "xlogy_other_bwd": [dict(o=3.0, log_o=math.log(3.0)), dict(o=0.0, log_o=-math.inf),
                        dict(o=math.nan, log_o=math.nan)],
    "hardtanh_bwd": [dict(min_val=-0.5, max_val=0.75), dict(min_val=0.0, max_val=6.0)],
    "threshold_bwd": [dict(threshold=0.25), dict(threshold=-1.0)],
    "softshrink_bwd": [dict(lambd=0.5), dict(lambd=0.0)],
    "hardshrink_bwd": [dict(lambd=0.5), dict(lambd=1.5)],
    "elu_bwd": [dict(alpha=1.0, scale=1.0, input_scale=1.0), dict(alpha=2.5, scale=1.0, input_scale=0.4),
                dict(alpha=1.6732632423543772, scale=1.0507009873554805, input_scale=1.0)],
}


def _scalar_cases(spec):
    if spec.name in _KERNEL_SCALARS:
        return _KERNEL_SCALARS[spec.name]
    assert not spec.scalars, f"add scalar values for {spec.name} here"
    return [{}]


# (the optimizer kernels: tests/test_optim.py runs them with the hyperparameters of its cases; GradScaler's,
# whose flags and scales are one-element arrays: tests/test_amp.py)
STEP_FAMILIES = ("optim", "amp")
ELEMENTWISE_KERNELS = sorted(n for n, k in K.KERNELS.items() if not k.geometry and k.family not in STEP_FAMILIES)
IMAGE_KERNELS = sorted(n for n, k in K.KERNELS.items() if k.geometry and k.family != "rnn")


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("size", sorted(SHAPES))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", ELEMENTWISE_KERNELS)
def test_kernel_matches_reference(shim_lib, name, dtype, size, layout):
    spec = K.KERNELS[name]
    launcher = _shim_launcher(shim_lib)
    for scalars in _scalar_cases(spec):
        for dim in ((0, -1) if spec.rowwise else (-1,)):
            results = []
            for run_with in (launcher, None):  # fresh inputs each: in-place kernels update them
                arrays = _inputs(spec, size, dtype, layout, seed=size)
                outs = K.run_kernel(name, *arrays, dim=dim, launcher=run_with, **scalars)
                updated = [a for n, a in zip(spec.inputs, arrays) if n in spec.inplace]
                results.append((*outs, *updated))
            got, want = results
            assert len(got) == len(want) == len(spec.outputs) + len(spec.inplace)
            for out_got, out_want in zip(got, want):
                if spec.rowwise:  # sums: the kernel accumulates in order, numpy pairwise
                    tol = 1e-5 if dtype == np.float32 else 1e-12
                    np.testing.assert_allclose(out_got, out_want, rtol=tol, atol=tol)
                    assert out_got.dtype == out_want.dtype
                else:
                    assert_ulp_equal(out_got, out_want, maxulp=_maxulp(spec))


# Image kernels (conv.cu) take a window geometry instead of a broadcast shape. Each case is
# (N, C, H, W), kernel, stride, padding, dilation, ceil_mode; the grid of windows is the one
# torch's max_pool2d makes, so max_pool2d and fold serve as oracles below. "large" has more
# pixels than the 3 simulated blocks have threads, so the grid-stride loop wraps.
IMAGE_CASES = {
    "plain": ((2, 3, 5, 6), (2, 2), (2, 2), (0, 0), (1, 1), False),
    "overlap-padded": ((1, 2, 7, 6), (3, 3), (1, 2), (1, 1), (1, 1), False),
    "dilated-ceil": ((2, 2, 9, 8), (3, 2), (2, 3), (1, 0), (2, 2), True),
    "large": ((2, 3, 17, 19), (3, 3), (2, 2), (1, 1), (1, 1), True),
}


def _image_geometry(case):
    (n, c, h, w), k, s, p, d, ceil = IMAGE_CASES[case]
    oh, ow = torch.nn.functional.max_pool2d(torch.zeros(n, c, h, w), k, s, p, d, ceil_mode=ceil).shape[2:]
    return dict(N=n, C=c, H=h, W=w, KH=k[0], KW=k[1], OH=oh, OW=ow, SH=s[0], SW=s[1], PH=p[0], PW=p[1],
                DH=d[0], DW=d[1])


def _image_inputs(name, case, dtype, rng, special=True):
    """The kernel's inputs for a geometry; max-pool indices come from torch on random pixels."""
    geo = _image_geometry(case)
    if name == "col2im":
        return [_values(rng, (geo["C"], geo["KH"], geo["KW"], geo["N"], geo["OH"], geo["OW"]), dtype, special)]
    assert name == "max_pool2d_bwd", f"add inputs for the image kernel {name} here"
    (n, c, h, w), k, s, p, d, ceil = IMAGE_CASES[case]
    x = torch.tensor(rng.normal(size=(n, c, h, w)))
    _, idx = torch.nn.functional.max_pool2d(x, k, s, p, d, ceil_mode=ceil, return_indices=True)
    return [_values(rng, tuple(idx.shape), dtype, special), idx.numpy()]


@pytest.mark.parametrize("case", sorted(IMAGE_CASES))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", IMAGE_KERNELS)
def test_image_kernel_matches_reference(shim_lib, name, dtype, case):
    """Bit for bit: each pixel sums its windows in the same (ki, kj) order in the kernel and the reference."""
    spec = K.KERNELS[name]
    arrays = _image_inputs(name, case, dtype, np.random.default_rng(len(case)))
    geo = _image_geometry(case)
    got = K.run_kernel(name, *arrays, sizes=geo, launcher=_shim_launcher(shim_lib))
    want = K.run_kernel(name, *arrays, sizes=geo)
    assert len(got) == len(want) == len(spec.outputs)
    for out_got, out_want in zip(got, want):
        assert out_got.shape == spec.out_shape(**geo)
        assert_ulp_equal(out_got, np.ascontiguousarray(out_want), maxulp=0)


# The optimizer kernels with a multi-tensor twin (kernels/optim.cu `<name>_multi_tensor`), and a value for each
# scalar they take (the trajectories of tests/test_optim.py run them with real hyperparameters)
MULTI_TENSOR_KERNELS = sorted(n for n, k in K.KERNELS.items() if k.multi_tensor is not None)
_OPTIM_SCALARS = dict(lr=0.1, weight_decay=0.1, maximize=1.0, momentum=0.9, damp_alpha=0.7, nesterov=1.0, first=0.0,
                      beta1_weight=0.1, beta2=0.999, one_minus_beta2=0.001, decay=0.99, eps=1e-8, neg_step_size=-0.01,
                      bias_correction2_sqrt=0.3, alpha=0.9, one_minus_alpha=0.1, neg_clr=-0.1, neg_lr=-0.5, rho=0.9,
                      one_minus_rho=0.1, bias_correction2=0.05, grad_coef=-0.02, exp_avg_coef=-0.05,
                      bias_correction1=0.2, rect=0.7, rectify=1.0, neg_eta=-0.05, mu=0.3, average=1.0, etaminus=0.5,
                      etaplus=1.2, step_size_min=0.01, step_size_max=1.5, log_beta1=math.log(0.9),
                      log_beta2=math.log(0.999), lr_decay=0.1, unscale=1.0)
_FLAGS = ("first", "nesterov", "maximize", "unscale", "rectify", "average")  # the flags the kernels branch on
# the fused steps (GradScaler's, fused=True): their device scalars are one-element float32 arrays; steps differ per
# tensor (so do their bias corrections), the scale and found_inf are shared by every tensor of a launch
FUSED_KERNELS = sorted(n for n, k in K.KERNELS.items() if "found_inf" in k.inputs and k.family == "optim"
                       and not n.endswith("_multi_tensor"))


def test_every_optimizer_kernel_has_a_multi_tensor_twin():
    from autograd_gpu import optim  # noqa: F401  (registers the optimizer kernels)
    twins = {n for n, k in K.KERNELS.items() if k.family == "optim" and n.endswith("_multi_tensor")}
    assert twins == {K.KERNELS[n].multi_tensor.name for n in MULTI_TENSOR_KERNELS} and twins
    assert FUSED_KERNELS == ["adagrad_fused_step", "adam_amsgrad_fused_step", "adam_fused_step", "fused_step_count",
                             "sgd_fused_step", "sgd_momentum_fused_step"]
    for name in MULTI_TENSOR_KERNELS:  # the convention the optimizers' per-parameter and foreach paths rely on
        k = K.KERNELS[name]
        assert not k.outputs and set(k.multi_tensor.inputs[1:]) <= set(k.device_scalars)
        if name == "fused_step_count":
            assert k.inputs == ("step", "found_inf") and k.inplace == ("step",)
            assert k.multi_tensor.inputs == ("tensors", "found_inf")
        elif name in FUSED_KERNELS:  # p, g, (step,) GradScaler's scale and flag (shared), then the state; the
            # unscaled gradient is written back
            assert k.inputs[:2] == ("p", "g") and k.multi_tensor.inputs == ("tensors", "grad_scale", "found_inf")
            assert k.inputs[2:2 + len(k.device_scalars)] == k.device_scalars
            assert set(k.device_scalars) - {"step"} == {"grad_scale", "found_inf"}
            assert set(k.inplace) == set(k.inputs) - set(k.device_scalars) and k.scalars[-1] == "unscale"
        else:
            assert k.inputs[:2] == ("p", "g") and set(k.inplace) == set(k.inputs) - {"g"}
            assert not k.device_scalars and k.multi_tensor.inputs == ("tensors",)


def _optim_case(spec, dtype, rng, sizes, found_inf):
    """Each tensor's inputs of optimizer kernel `spec` (its device scalars: a step of its own, the shared scale and
    flag), and the shared arrays."""
    shared = {"grad_scale": np.array([8.0], np.float32), "found_inf": np.array([found_inf], np.float32)}
    tensors = [[shared[name] if name in shared else np.array([j + 1.0], np.float32) if name == "step"
                else _values(rng, (size,), dtype, special=True) for name in spec.inputs]
               for j, size in enumerate(sizes)]
    return tensors, shared


def _flag_cases(scalars):
    return [dict(scalars, **{flag: 1.0 - scalars[flag]}) if flag in scalars else scalars for flag in _FLAGS]


@pytest.mark.parametrize("chunk", [64, 65536])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", MULTI_TENSOR_KERNELS)
def test_multi_tensor_kernel_matches_the_per_tensor_kernel(shim_lib, name, dtype, chunk):
    """One launch over several tensors (an empty one, one of many chunks; 3 simulated blocks, so the grid strides
    over the table's blocks) updates each tensor bit for bit as its own launch of the per-tensor kernel does; a
    fused step also with found_inf set (then nothing changes)."""
    from autograd_gpu.optim.optimizer import multi_tensor_table
    spec = K.KERNELS[name]
    launcher = _shim_launcher(shim_lib)
    scalars = {s: _OPTIM_SCALARS[s] for s in spec.scalars}
    shared_names = spec.multi_tensor.inputs[1:]
    sizes = [1] * 5 if name == "fused_step_count" else [5, 0, 4097, 1, 300]  # (a step count has one element)
    for found_inf in ((0.0, 1.0) if "found_inf" in spec.inputs else (0.0,)):
        for scalars_ in _flag_cases(scalars):
            rng = np.random.default_rng(len(name))
            tensors, shared = _optim_case(spec, dtype, rng, sizes, found_inf)
            before = [[a.copy() for a in arrays] for arrays in tensors]
            copies = [[a.copy() for a in arrays] for arrays in tensors]
            for arrays in copies:
                K.run_kernel(name, *arrays, launcher=launcher, **scalars_)
            rows = [[a.ctypes.data for n, a in zip(spec.inputs, arrays) if n not in shared_names] for arrays in tensors]
            table, n = multi_tensor_table(rows, sizes, chunk)
            K.run_multi_tensor(spec.multi_tensor, table, n, np.dtype(dtype), scalars_,
                               shared=[shared[s] for s in shared_names], launcher=launcher)
            for arrays, want, old in zip(tensors, copies, before):
                for input_name, got, expected, was in zip(spec.inputs, arrays, want, old):
                    assert_ulp_equal(got, expected, maxulp=0)
                    if found_inf and input_name != "step":  # skipped: nothing written (the count is put back)
                        assert_ulp_equal(got, was, maxulp=0)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", FUSED_KERNELS)
def test_fused_step_kernel_matches_its_reference(shim_lib, name, dtype):
    """A fused step's arithmetic (g++) against its numpy reference (optim/<name>.py): the unscaled gradient written
    back, the bias corrections from the step, the skip when found_inf is set (the count then put back)."""
    from autograd_gpu import optim  # noqa: F401  (registers the optimizer kernels)
    spec = K.KERNELS[name]
    scalars = {s: _OPTIM_SCALARS[s] for s in spec.scalars}
    for found_inf in (0.0, 1.0):
        for scalars_ in _flag_cases(scalars):
            results = []
            for launcher in (_shim_launcher(shim_lib), None):
                tensors, _ = _optim_case(spec, dtype, np.random.default_rng(7), [1] if "p" not in spec.inputs
                                         else [4097], found_inf)
                K.run_kernel(name, *tensors[0], launcher=launcher, **scalars_)
                results.append(tensors[0])
            for input_name, got, want in zip(spec.inputs, *results):
                assert_ulp_equal(got, want, maxulp=0)
            if name == "fused_step_count":
                assert results[0][0].tolist() == [1.0 + (not found_inf)]


def test_reference_keeps_dtype_and_broadcasts():
    g = np.ones((2, 3), np.float16)
    y = np.full((3,), 0.5, np.float16)
    (gx,) = K.run_kernel("tanh_bwd", g, y)
    assert gx.dtype == np.float16 and gx.shape == (2, 3)


def test_rowwise_kernel_on_0d_and_empty(shim_lib):
    launcher = _shim_launcher(shim_lib)
    for shape in [(), (0, 3), (3, 0)]:
        g = np.ones(shape)
        (got,) = K.run_kernel("softmax_bwd", g, g, dim=-1, launcher=launcher)
        np.testing.assert_array_equal(got, K.run_kernel("softmax_bwd", g, g, dim=-1)[0])


# ------------------------------------------------------------------ 3. torch oracle

def _col2im_case(rng):
    """col2im is fold, with the columns channel-major: (C, KH, KW, N, OH, OW) instead of (N, C*KH*KW, L)."""
    cases = []
    for case in ("plain", "overlap-padded"):  # fold's grid is floor-mode
        (cols,) = _image_inputs("col2im", case, np.float64, rng, special=False)
        geo = _image_geometry(case)
        (n, c, h, w), k, s, p, d, _ = IMAGE_CASES[case]
        batched = torch.tensor(cols.transpose(3, 0, 1, 2, 4, 5).reshape(n, c * k[0] * k[1], -1))
        folded = torch.nn.functional.fold(batched, (h, w), k, d, p, s)
        cases.append((K.run_kernel("col2im", cols, sizes=geo), [folded.numpy()]))
    return cases


def _max_pool2d_bwd_case(rng):
    cases = []
    for case in sorted(IMAGE_CASES):
        (n, c, h, w), k, s, p, d, ceil = IMAGE_CASES[case]
        x = torch.tensor(rng.normal(size=(n, c, h, w)), requires_grad=True)
        y, idx = torch.nn.functional.max_pool2d(x, k, s, p, d, ceil_mode=ceil, return_indices=True)
        g = rng.normal(size=tuple(y.shape))
        (gx,) = torch.autograd.grad(y, x, torch.tensor(g))
        cases.append((K.run_kernel("max_pool2d_bwd", g, idx.numpy(), sizes=_image_geometry(case)), [gx.numpy()]))
    return cases


ORACLES = {"col2im": _col2im_case, "max_pool2d_bwd": _max_pool2d_bwd_case}


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_reference_matches_torch(name):
    rng = np.random.default_rng(0)
    for ours, theirs in ORACLES[name](rng):
        ours = ours if isinstance(ours, tuple) else (ours,)
        assert len(ours) == len(theirs)
        for got, want in zip(ours, theirs):
            assert got.dtype == np.float64
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15, equal_nan=True)


# ------------------------------------------------------------------ 4. the real CUDA launch

if autograd_gpu.cuda.is_available():  # a real GPU, or the CuPy stand-in (always, on CPU-only CI)
    cupy = autograd_gpu._device.cupy()  # the real CuPy, or the stand-in tests/cupy_sim on a CPU-only machine

    def _on_gpu(arrays, layout):
        """The same values as cupy arrays, laid out on the device as `layout` says."""
        return [_layout(cupy.asarray(a), layout, cupy) for a in arrays]

    @pytest.mark.parametrize("layout", LAYOUTS)
    @pytest.mark.parametrize("size", sorted(SHAPES))
    @pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
    @pytest.mark.parametrize("name", ELEMENTWISE_KERNELS)
    def test_cuda_kernel_matches_reference(name, dtype, size, layout):
        spec = K.KERNELS[name]
        # --fmad=false and IEEE division/sqrt: plain arithmetic is exact; CUDA's exp/log/pow, like numpy's,
        # are within a few ulp of the correctly rounded result, so the two may differ by a few more
        maxulp = 4 * _maxulp(spec)
        for scalars in _scalar_cases(spec):
            for dim in ((0, -1) if spec.rowwise else (-1,)):
                host = _inputs(spec, size, dtype, layout, seed=size)  # fresh each: in-place kernels update them
                dev = _on_gpu(_inputs(spec, size, dtype, "contiguous", seed=size), layout)
                want = K.run_kernel(name, *host, dim=dim, **scalars)
                got = K.run_kernel(name, *dev, dim=dim, **scalars)
                assert all(isinstance(o, cupy.ndarray) for o in got)
                want = [*want, *(a for n, a in zip(spec.inputs, host) if n in spec.inplace)]
                got = [cupy.asnumpy(o) for o in (*got, *(a for n, a in zip(spec.inputs, dev) if n in spec.inplace))]
                assert len(got) == len(want) == len(spec.outputs) + len(spec.inplace)
                for out_got, out_want in zip(got, want):
                    if spec.rowwise:  # sums: the kernel accumulates in order, numpy pairwise
                        tol = 1e-5 if dtype == np.float32 else 1e-12
                        np.testing.assert_allclose(out_got, out_want, rtol=tol, atol=tol)
                        assert out_got.dtype == out_want.dtype
                    else:
                        assert_ulp_equal(out_got, np.asarray(out_want), maxulp=maxulp)

    @pytest.mark.parametrize("case", sorted(IMAGE_CASES))
    @pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
    @pytest.mark.parametrize("name", IMAGE_KERNELS)
    def test_cuda_image_kernel_matches_reference(name, dtype, case):
        arrays = _image_inputs(name, case, dtype, np.random.default_rng(len(case)))
        geo = _image_geometry(case)
        got = K.run_kernel(name, *(cupy.asarray(a) for a in arrays), sizes=geo)
        want = K.run_kernel(name, *arrays, sizes=geo)
        assert len(got) == len(want) == len(K.KERNELS[name].outputs)
        for out_got, out_want in zip(got, want):
            assert isinstance(out_got, cupy.ndarray)
            assert_ulp_equal(cupy.asnumpy(out_got), np.ascontiguousarray(out_want), maxulp=0)


# ------------------------------------------------------------------ 5. the fused RNN cells (rnn.cu)
# One thread per (batch row, hidden unit): the gates are (B, G*H), the biases (G*H), the states (B, H); a backward
# kernel writes buffers the caller allocates (its first, non-const parameters). (9, 100) has more units than the
# 3 shim blocks have threads, so the grid-stride loop wraps.
RNN_KERNELS = sorted(n for n, k in K.KERNELS.items() if k.family == "rnn")
# the fused cells' forward kernels: their rows (ops/rnn_ops.py) name the backward kernel, tests/test_nn_rnn.py
# runs both against torch
FUSED_CELL_FORWARDS = {"lstm_cell_fwd", "gru_cell_fwd"}
RNN_SIZES = [(1, 1), (3, 5), (9, 100)]


def assert_rnn_close(actual, expected):
    """exp and tanh (a few ulp apart in numpy, libm and CUDA) compose through the gates and the cell update, where
    1 - tanh^2 and 1 - sigmoid cancel: close, not ulp-equal (NaN and infinities where the reference has them)."""
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    tol = 1e-5 if actual.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol, equal_nan=True)


def _rnn_arrays(spec, B, H, dtype, seed, xp=np):
    rng = np.random.default_rng(seed)
    G = 4 if spec.name.startswith("lstm") else 3
    arrays = []
    for name in spec.inputs:
        shape = (B, G * H) if "gates" in name else (G * H,) if name.startswith("b_") else (B, H)
        if name in spec.inplace:  # written, never read
            arrays.append(xp.full(shape, np.nan, dtype))
        else:
            arrays.append(xp.asarray(_values(rng, shape, dtype, special=True) * 2))
    return arrays


def _rnn_results(spec, arrays, outs):
    return [*outs, *(a for n, a in zip(spec.inputs, arrays) if n in spec.inplace)]


def test_rnn_kernels_are_the_fused_cells():
    from autograd_gpu.ops import OP_TABLE
    assert RNN_KERNELS == ["gru_cell_bwd", "gru_cell_fwd", "lstm_cell_bwd", "lstm_cell_fwd"]
    assert OP_TABLE["_thnn_fused_lstm_cell"].kernel == "lstm_cell_bwd"
    assert OP_TABLE["_thnn_fused_gru_cell"].kernel == "gru_cell_bwd"
    assert K.KERNELS["lstm_cell_bwd"].inplace == ("grad_gates", "grad_cx")
    assert K.KERNELS["lstm_cell_fwd"].outputs == ("hy", "cy") and K.KERNELS["lstm_cell_fwd"].geometry == ("B", "H")


@pytest.mark.parametrize("size", RNN_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", RNN_KERNELS)
def test_rnn_kernel_matches_reference(shim_lib, name, dtype, size):
    spec = K.KERNELS[name]
    B, H = size
    results = []
    for launcher in (_shim_launcher(shim_lib), None):
        arrays = _rnn_arrays(spec, B, H, dtype, seed=B * H)
        results.append(_rnn_results(spec, arrays, K.run_kernel(name, *arrays, sizes=dict(B=B, H=H),
                                                                launcher=launcher)))
    got, want = results
    assert len(got) == len(want) == len(spec.outputs) + len(spec.inplace)
    for out_got, out_want in zip(got, want):
        assert_rnn_close(out_got, out_want)


if autograd_gpu.cuda.is_available():
    @pytest.mark.parametrize("size", RNN_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    @pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
    @pytest.mark.parametrize("name", RNN_KERNELS)
    def test_cuda_rnn_kernel_matches_reference(name, dtype, size):
        spec = K.KERNELS[name]
        B, H = size
        host = _rnn_arrays(spec, B, H, dtype, seed=B * H)
        want = _rnn_results(spec, host, K.run_kernel(name, *host, sizes=dict(B=B, H=H)))
        dev = [cupy.asarray(a) for a in _rnn_arrays(spec, B, H, dtype, seed=B * H)]
        got = _rnn_results(spec, dev, K.run_kernel(name, *dev, sizes=dict(B=B, H=H)))
        assert all(isinstance(o, cupy.ndarray) for o in got)
        for out_got, out_want in zip(got, want):
            assert_rnn_close(cupy.asnumpy(out_got), out_want)
