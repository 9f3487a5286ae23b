"""Compare autograd_gpu._tensor_str.tensor_repr with repr() of real torch tensors."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from autograd_gpu import _tensor_str as ts  # noqa: E402
from autograd_gpu._tensor_str import get_printoptions, set_printoptions, tensor_repr  # noqa: E402


def _ours(t, **kw):
    """tensor_repr for the same values/flags as torch tensor ``t``."""
    d = t.detach()
    arr = d.float().numpy() if d.dtype == torch.bfloat16 else d.numpy()
    name = str(d.dtype).replace("torch.", "")
    grad_fn = type(t.grad_fn).__name__ if t.grad_fn is not None else None
    kw.setdefault("device", "cpu")
    return tensor_repr(
        arr,
        dtype=name,
        requires_grad=t.requires_grad,
        is_leaf=t.is_leaf,
        grad_fn_name=grad_fn,
        **kw,
    )


def _rng(seed=0):
    return np.random.default_rng(seed)


def _normal(shape, scale=1.0, dtype=np.float32, seed=0):
    return lambda: torch.tensor((_rng(seed).standard_normal(shape) * scale).astype(dtype))


CASES = {}

# --- random normal floats: shapes x scales x dtypes -------------------------
for shape in [(5,), (3, 4), (2, 3, 4), (2, 2, 2, 3), (1,), (1, 1)]:
    for scale in [1e-5, 1.0, 1e5, 1e10]:
        CASES[f"normal{shape}x{scale:g}"] = _normal(shape, scale)
for dt in [np.float16, np.float32, np.float64]:
    for scale in [1e-3, 1.0, 100.0, 1e4]:
        CASES[f"normal-{np.dtype(dt).name}-x{scale:g}"] = _normal((4, 5), scale, dt, seed=1)
CASES["bfloat16"] = lambda: torch.tensor(_rng(2).standard_normal((3, 4)), dtype=torch.bfloat16)
CASES["bfloat16-int"] = lambda: torch.tensor([1.0, 2.0, 3.0], dtype=torch.bfloat16)

# --- wide rows (line wrapping) ---------------------------------------------
CASES["wrap-1d"] = _normal((50,), seed=3)
CASES["wrap-2d"] = _normal((3, 40), seed=4)
CASES["wrap-3d"] = _normal((2, 2, 30), 1e5, seed=5)
CASES["wrap-sci"] = _normal((30,), 1e-6, seed=6)
CASES["wrap-int"] = lambda: torch.arange(100)
CASES["wrap-int-2d"] = lambda: torch.arange(-200, 200).reshape(4, 100)

# --- summarised --------------------------------------------------------------
CASES["big-1d-2000"] = _normal((2000,), seed=7)
CASES["big-3d-20x30x40"] = _normal((20, 30, 40), seed=8)
CASES["big-2d-int"] = lambda: torch.arange(5000).reshape(50, 100)
CASES["big-1d-int"] = lambda: torch.arange(1001)
CASES["big-bool"] = lambda: torch.tensor(_rng(9).random((40, 40)) > 0.5)
CASES["big-rows-small-cols"] = _normal((1000, 2), seed=10)
CASES["big-small-rows"] = _normal((2, 1000), seed=11)
CASES["big-float64-sci"] = _normal((30, 40), 1e-8, np.float64, seed=12)
CASES["big-with-outlier"] = lambda: torch.cat([torch.ones(1500), torch.tensor([1e9])])

# --- integers ---------------------------------------------------------------
for dt in [torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8]:
    CASES[f"int-{dt}"] = (lambda dt=dt: torch.tensor([[1, 2, 3], [4, 5, 100]], dtype=dt))
CASES["int-neg"] = lambda: torch.tensor([-1, 20, -300])
CASES["int-large"] = lambda: torch.tensor([2**62, -(2**63), 7])
CASES["int-0d"] = lambda: torch.tensor(42)
CASES["int32-0d"] = lambda: torch.tensor(-7, dtype=torch.int32)

# --- floats with integral values (int_mode) --------------------------------
CASES["float-int-mode"] = lambda: torch.tensor([1.0, 2.0, -3.0])
CASES["float-int-mode-big"] = lambda: torch.tensor([1.0, 1e9])
CASES["float-int-mode-sci"] = lambda: torch.tensor([1.0, 2000.0])
CASES["float-int-2d"] = lambda: torch.tensor([[1.0, 10.0], [100.0, -5.0]])
CASES["zeros"] = lambda: torch.zeros(2, 3)
CASES["neg-zero"] = lambda: torch.tensor([-0.0, 0.0, 1.5])
CASES["neg-zero-only"] = lambda: torch.tensor([-0.0, 0.0])
CASES["neg-zero-0d"] = lambda: torch.tensor(-0.0)
CASES["float64-int"] = lambda: torch.tensor([1.0, 2.0], dtype=torch.float64)
CASES["float16-big"] = lambda: torch.tensor([60000.0, 0.001, 1.0], dtype=torch.float16)
CASES["float16-int"] = lambda: torch.tensor([1.0, 2.0], dtype=torch.float16)

# --- nan / inf ---------------------------------------------------------------
CASES["nan-inf"] = lambda: torch.tensor([float("nan"), float("inf"), -float("inf"), 1.5])
CASES["nan-inf-int"] = lambda: torch.tensor([float("nan"), float("inf"), -float("inf"), 2.0])
CASES["nan-only"] = lambda: torch.tensor([float("nan"), float("nan")])
CASES["inf-0d"] = lambda: torch.tensor(float("-inf"))
CASES["nan-sci"] = lambda: torch.tensor([[float("nan"), 1e-7], [3.0, float("inf")]])
CASES["nan-inf-zero"] = lambda: torch.tensor([0.0, float("nan"), float("inf")])
CASES["nan-f16"] = lambda: torch.tensor([float("nan"), 0.5, float("inf")], dtype=torch.float16)
CASES["nan-f64"] = lambda: torch.tensor([float("nan"), 1e-5, 1e5], dtype=torch.float64)

# --- 0-dim ------------------------------------------------------------------
CASES["0d-3"] = lambda: torch.tensor(3.0)
CASES["0d-pi"] = lambda: torch.tensor(3.14159265)
CASES["0d-tiny"] = lambda: torch.tensor(1.2e-7)
CASES["0d-huge"] = lambda: torch.tensor(1.2e12)
CASES["0d-f64"] = lambda: torch.tensor(2.5, dtype=torch.float64)
CASES["0d-f16"] = lambda: torch.tensor(2.5, dtype=torch.float16)
CASES["0d-bool"] = lambda: torch.tensor(True)

# --- bool -------------------------------------------------------------------
CASES["bool-1d"] = lambda: torch.tensor([True, False])
CASES["bool-2d"] = lambda: torch.tensor([[True, False, True], [False, False, True]])
CASES["bool-wrap"] = lambda: torch.tensor(_rng(13).random(40) > 0.5)

# --- empty ------------------------------------------------------------------
CASES["empty-1d"] = lambda: torch.tensor([])
CASES["empty-0x3"] = lambda: torch.zeros(0, 3)
CASES["empty-3x0"] = lambda: torch.zeros(3, 0)
CASES["empty-2x0x4"] = lambda: torch.zeros(2, 0, 4)
CASES["empty-int"] = lambda: torch.zeros(0, dtype=torch.int64)
CASES["empty-int32-2d"] = lambda: torch.zeros(0, 2, dtype=torch.int32)
CASES["empty-bool"] = lambda: torch.zeros(0, dtype=torch.bool)
CASES["empty-f64"] = lambda: torch.zeros(0, dtype=torch.float64)
CASES["empty-f16-2d"] = lambda: torch.zeros(1, 0, dtype=torch.float16)
CASES["empty-requires-grad"] = lambda: torch.zeros(0, 2, requires_grad=True)

# --- complex (not required, but supported) ---------------------------------
CASES["complex64"] = lambda: torch.tensor([1 + 2j, -0.5 - 1e-3j])
CASES["complex128-2d"] = lambda: torch.tensor([[1 + 1j, 2], [3, 4j]], dtype=torch.complex128)
CASES["complex-big"] = lambda: torch.tensor(
    (_rng(17).standard_normal((30, 40)) + 1j * _rng(18).standard_normal((30, 40))).astype(np.complex64)
)
CASES["complex-0d"] = lambda: torch.tensor(1 - 0j)

# --- autograd suffixes ------------------------------------------------------
CASES["requires-grad"] = lambda: torch.ones(2, requires_grad=True)
CASES["grad-fn-mul"] = lambda: torch.ones(2, requires_grad=True) * 2
CASES["grad-fn-add-f64"] = lambda: torch.ones(3, dtype=torch.float64, requires_grad=True) + 1
CASES["grad-fn-sum-0d"] = lambda: (torch.ones(3, requires_grad=True) * 2).sum()
CASES["grad-fn-wrap"] = lambda: torch.tensor(
    _rng(14).standard_normal((3, 11)).astype(np.float32), requires_grad=True
) * 3
CASES["grad-fn-suffix-newline"] = lambda: torch.tensor(
    _rng(15).standard_normal(8), dtype=torch.float64, requires_grad=True
).exp()
CASES["requires-grad-f64-wrap"] = lambda: torch.tensor(
    _rng(16).standard_normal(8), dtype=torch.float64, requires_grad=True
)
CASES["grad-fn-big"] = lambda: torch.ones(30, 40, requires_grad=True) * 0.5


@pytest.mark.parametrize("name", list(CASES))
def test_repr_matches_torch(name):
    t = CASES[name]()
    assert _ours(t) == repr(t)


# --- print options ----------------------------------------------------------

_OPTION_SETS = [
    dict(precision=2),
    dict(precision=8),
    dict(threshold=5),
    dict(threshold=5, edgeitems=1),
    dict(edgeitems=0, threshold=5),
    dict(linewidth=40),
    dict(linewidth=200),
    dict(sci_mode=True),
    dict(sci_mode=False),
    dict(profile="short"),
    dict(profile="full"),
    dict(precision=3, sci_mode=True, linewidth=50),
]
_OPTION_CASES = [
    "normal(3, 4)x1",
    "normal(5,)x1e-05",
    "normal(2, 3, 4)x100000",
    "wrap-1d",
    "wrap-int",
    "big-3d-20x30x40",
    "big-1d-2000",
    "float-int-mode",
    "nan-inf",
    "0d-pi",
    "bool-2d",
    "grad-fn-wrap",
    "empty-0x3",
]


@pytest.fixture
def restore_printoptions():
    ours = get_printoptions()
    theirs = torch._tensor_str.get_printoptions()
    try:
        yield
    finally:
        set_printoptions(**ours)
        torch.set_printoptions(**theirs)


@pytest.mark.parametrize("opts", _OPTION_SETS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_printoptions_match_torch(opts, restore_printoptions):
    tensors = {n: CASES[n]() for n in _OPTION_CASES}
    torch.set_printoptions(**opts)
    set_printoptions(**opts)
    assert get_printoptions() == torch._tensor_str.get_printoptions()
    for n, t in tensors.items():
        assert _ours(t) == repr(t), n


def test_printoptions_restore_and_context(restore_printoptions):
    default = get_printoptions()
    assert default == dict(precision=4, threshold=1000, edgeitems=3, linewidth=80, sci_mode=None)
    with ts.printoptions(precision=1):
        assert get_printoptions()["precision"] == 1
        assert tensor_repr(np.array([1.25, 2.5], np.float32), dtype="float32", device="cpu") == (
            "tensor([1.2, 2.5])"
        )
    assert get_printoptions() == default
    set_printoptions(profile="default")
    assert get_printoptions() == default


# --- Parameter prefix --------------------------------------------------------

@pytest.mark.parametrize("case", ["normal(3, 4)x1", "wrap-2d", "big-3d-20x30x40", "requires-grad-f64-wrap"])
def test_parameter_prefix(case):
    p = torch.nn.Parameter(CASES[case]().detach())
    assert _ours(p, prefix="Parameter containing:\ntensor(") == repr(p)


# --- device suffix -----------------------------------------------------------

def test_device_suffix_cuda():
    a = np.array([1.0, 2.0], np.float32)
    assert tensor_repr(a, dtype="float32", device="cuda:0") == "tensor([1., 2.], device='cuda:0')"
    assert tensor_repr(a, dtype="float32", device="cuda") == "tensor([1., 2.], device='cuda:0')"
    assert tensor_repr(a, dtype="float32", device="cuda:0", default_device="cuda") == "tensor([1., 2.])"
    assert (
        tensor_repr(a, dtype="float32", device="cuda:1", default_device="cuda")
        == "tensor([1., 2.], device='cuda:1')"
    )
    assert tensor_repr(a, dtype="float32", device="cpu", default_device="cuda") == (
        "tensor([1., 2.], device='cpu')"
    )
    assert (
        tensor_repr(a, dtype="float64", device="cuda:0", requires_grad=True)
        == "tensor([1., 2.], device='cuda:0', dtype=torch.float64, requires_grad=True)"
    )
    assert (
        tensor_repr(np.zeros((0, 3), np.int64), dtype="int64", device="cuda:0")
        == "tensor([], device='cuda:0', size=(0, 3), dtype=torch.int64)"
    )


@pytest.mark.parametrize("case", ["wrap-2d", "grad-fn-suffix-newline", "requires-grad-f64-wrap", "empty-0x3", "0d-pi"])
def test_device_suffix_matches_torch_default_device(case, monkeypatch):
    """Make torch's default device differ from 'cpu' so it prints device='cpu'."""
    t = CASES[case]()
    # torch's printer asks torch._C._get_default_device() for the default type.
    monkeypatch.setattr(torch._C, "_get_default_device", lambda: "meta")
    expected = repr(t)
    monkeypatch.undo()
    assert "device='cpu'" in expected
    assert _ours(t, default_device="meta") == expected


def test_dtype_spellings():
    a = np.array([1.5, 2.0])
    want = "tensor([1.5000, 2.0000], dtype=torch.float64)"
    assert tensor_repr(a, dtype="float64", device="cpu") == want
    assert tensor_repr(a, dtype="torch.float64", device="cpu") == want
    assert tensor_repr(a, dtype=np.float64, device="cpu") == want
