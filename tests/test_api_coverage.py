"""The README names, namespace by namespace, every public name of torch 2.13's torch.nn, torch.nn.functional,
torch.nn.utils, torch.optim and torch.optim.lr_scheduler that autograd_gpu does not have: this test computes that
set and requires the README's list to be exactly it (so the list cannot go stale either way).

The public names of a torch namespace, by this rule:
1. its `__all__` when it has one (torch.nn.utils, torch.optim, torch.optim.lr_scheduler), else every name of
   `dir()` without a leading underscore (torch.nn, torch.nn.functional);
2. only classes and functions (builtins included): modules (submodules such as torch.nn.utils.rnn or
   torch.optim.swa_utils, and imported ones such as torch.nn.functional.importlib), constants, dicts and typing
   forms are not API here;
3. only torch's own: an object whose `__module__` is neither `torch` nor `torch.*` (typing's Optional,
   collections.abc's Callable, `DType = int`) is an import of the namespace for its own use;
4. not the `__torch_function__` and TorchScript plumbing torch.nn.functional imports for itself: objects from
   torch.overrides and torch._jit_internal, and torch._C's has_torch_function*.
A public name is missing when the autograd_gpu namespace of the same path has no attribute of that name.

The README's list: the bullets of its section "What torch.nn and torch.optim have that autograd_gpu does not",
one per namespace, opening with the namespace in bold (`- **torch.nn**:`); every backticked word of a bullet is
one missing name (`LazyConv1d`/`2d`/`3d` is three), the reasons are plain text."""
import inspect
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional
import torch.nn.utils
import torch.optim
import torch.optim.lr_scheduler

import autograd_gpu
import autograd_gpu.nn.functional
import autograd_gpu.nn.utils
import autograd_gpu.optim
import autograd_gpu.optim.lr_scheduler

NAMESPACES = ["torch.nn", "torch.nn.functional", "torch.nn.utils", "torch.optim", "torch.optim.lr_scheduler"]
SECTION = "### What torch.nn and torch.optim have that autograd_gpu does not"
_PLUMBING_MODULES = ("torch.overrides", "torch._jit_internal")


def _resolve(root, path):
    obj = root
    for part in path.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def public_names(namespace):
    """The public API of a torch namespace, by the rule of this module's docstring."""
    names = getattr(namespace, "__all__", None)
    if names is None:
        names = [n for n in dir(namespace) if not n.startswith("_")]
    out = set()
    for name in names:
        obj = getattr(namespace, name)
        if inspect.ismodule(obj) or not (inspect.isclass(obj) or inspect.isroutine(obj)):
            continue
        module = getattr(obj, "__module__", None) or ""
        if module != "torch" and not module.startswith("torch."):
            continue
        if module in _PLUMBING_MODULES or name.startswith("has_torch_function"):
            continue
        out.add(name)
    return out


def missing(path):
    ours = _resolve(autograd_gpu, path)
    return {name for name in public_names(_resolve(torch, path)) if not hasattr(ours, name)}


def readme_lists():
    """{namespace: set of names} from the README's section."""
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert SECTION in text, f"README.md has no section {SECTION!r}"
    body = text.split(SECTION, 1)[1]
    body = re.split(r"\n#{1,3} ", body, maxsplit=1)[0]
    bullets = re.findall(r"^- \*\*(torch[\w.]*)\*\*:(.*?)(?=^- |^\S|\Z)", body, flags=re.M | re.S)
    lists = {}
    for namespace, items in bullets:
        assert namespace not in lists, f"two bullets for {namespace}"
        names = []
        for token in re.findall(r"`([^`]+)`", items):
            if re.fullmatch(r"\d+d", token):  # `LazyConv1d`/`2d`: the previous name with this suffix
                names.append(re.sub(r"\d+d$", token, names[-1]))
            else:
                names.append(token)
        assert len(names) == len(set(names)), f"a name listed twice for {namespace}"
        lists[namespace] = set(names)
    return lists


def test_the_rule_keeps_api_and_drops_the_rest():
    # what each clause of the rule is for, on names whose status is known
    assert {"Linear", "RMSNorm", "Buffer", "factory_kwargs"} <= public_names(torch.nn)
    assert not {"attention", "grad", "qat"} & public_names(torch.nn)  # submodules
    f = public_names(torch.nn.functional)
    assert {"gelu", "conv1d", "linear", "scaled_dot_product_attention", "conv_tbc"} <= f  # builtins of torch._C
    assert not {"Optional", "Callable", "DType", "TYPE_CHECKING", "GRID_SAMPLE_PADDING_MODES", "tf32_notes",
                "handle_torch_function", "has_torch_function_unary", "boolean_dispatch",
                "BroadcastingList2"} & f
    assert {"rnn", "parametrize", "stateless"} - public_names(torch.nn.utils) == {"rnn", "parametrize", "stateless"}
    assert "lr_scheduler" not in public_names(torch.optim)
    assert not {"Optimizer", "Tensor", "cast", "inf"} & public_names(torch.optim.lr_scheduler)  # not in __all__


@pytest.mark.parametrize("path", NAMESPACES)
def test_readme_lists_exactly_what_is_missing(path):
    listed = readme_lists().get(path)
    assert listed is not None, f"the README's section has no bullet for {path}"
    absent = missing(path)
    assert not listed - absent, f"the README lists as missing from {path} what autograd_gpu has: {listed - absent}"
    assert not absent - listed, f"missing from {path} and not in the README's list: {sorted(absent - listed)}"


def test_readme_has_one_bullet_per_namespace():
    assert sorted(readme_lists()) == sorted(NAMESPACES)
