"""PyTorch's autograd tutorial programs (tests/tutorials/*.py, each a plain `import torch` script) run twice:
once with real PyTorch, once with `torch` resolving to autograd_gpu; what they print must be identical."""
import contextlib
import io
import pathlib
import sys

import pytest
import torch

import autograd_gpu

PROGRAMS = sorted((pathlib.Path(__file__).parent / "tutorials").glob("*.py"))


def _run(path, lib, monkeypatch):
    out = io.StringIO()
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "torch", lib)  # the script's `import torch` gets `lib`
        with contextlib.redirect_stdout(out):
            exec(compile(path.read_text(), str(path), "exec"), {"__name__": "__main__"})
    return out.getvalue()


def test_every_tutorial_is_collected():
    assert len(PROGRAMS) >= 8


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True:UserWarning")
@pytest.mark.parametrize("path", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_tutorial_prints_the_same(path, monkeypatch):
    expected = _run(path, torch, monkeypatch)
    got = _run(path, autograd_gpu, monkeypatch)
    assert expected.strip(), "the program printed nothing"
    assert got == expected


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True:UserWarning")
@pytest.mark.parametrize("path", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_tutorial_on_cuda_prints_the_same(path, monkeypatch):
    """The same programs with every tensor on the cuda device (the GPU, or the CuPy stand-in without one):
    what they print is PyTorch's CPU output (a repr names no device when it is the default one)."""
    expected = _run(path, torch, monkeypatch)
    autograd_gpu.set_default_device("cuda")
    assert autograd_gpu.ones(1).device.type == "cuda"
    try:
        got = _run(path, autograd_gpu, monkeypatch)
    finally:
        autograd_gpu.set_default_device(None)
    assert got == expected

