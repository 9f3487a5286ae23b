"""The generated bad-input and scalar-mixing set of issue 12 (tests/value_rules_gen.py, ~14,000 snippets), each
run under PyTorch (CPU) and autograd_gpu: every case gives PyTorch's value or exception type, or differs by one
of the rules we keep on purpose (value_rules_gen.INTENTIONAL, listed in the README), or is one of the cases
still different, listed by name in tests/value_rules_known.txt. A fixed case must leave that list and a new
difference fails: the list only shrinks."""
import pathlib

import pytest
import torch

import autograd_gpu as ag
import value_rules_gen as gen

KNOWN = pathlib.Path(__file__).with_name("value_rules_known.txt")


def _known():
    return {line for line in KNOWN.read_text().splitlines() if line and not line.startswith("#")}


@pytest.fixture(scope="module")
def results():
    return gen.run_all(ag, torch, "cpu")


def test_every_generated_case_matches_pytorch_or_is_listed(results):
    different = {code for code, (_, _, verdict) in results.items() if verdict is False}
    new = sorted(different - _known())
    fixed = sorted(_known() - different)
    assert not new, f"{len(new)} cases now differ from PyTorch, e.g. {new[:5]}"
    assert not fixed, f"{len(fixed)} listed cases match PyTorch now: remove them from {KNOWN.name}: {fixed[:5]}"


def test_the_set_is_large_and_mostly_matching(results):
    verdicts = [v for *_, v in results.values()]
    assert len(verdicts) >= 2000
    assert sum(v is True for v in verdicts) / len(verdicts) > 0.9


@pytest.mark.parametrize("rule", sorted(gen.INTENTIONAL))
def test_each_rule_kept_on_purpose_explains_some_case(results, rule):
    assert any(v == rule for *_, v in results.values())


def test_cuda_device_gives_the_cpu_outcome_on_a_sample(device):
    """On the (simulated) cuda device a sample of the cases gives the same outcome as on the CPU: the families
    whose tensors all live on `dev` (the others mix in CPU tensors, which PyTorch's CUDA ops refuse or take by
    rules a CPU run cannot show). Left out: integer division by zero (PyTorch's CUDA kernels skip the CPU-only
    check) and numpy array operands (numpy cannot read a CUDA tensor: a TypeError there, as in PyTorch)."""
    skip = ("// ", "%", "fmod", "remainder", "rounding_mode", "rand", "np.array")
    families = ("scalar_cases", "tensor_pair_cases", "reduction_cases", "shape_cases")
    codes = [c for c, fam in list(gen.all_cases().items())[::5] if fam in families and "dev" in c
             and not any(s in c for s in skip)]
    assert len(codes) > 1000
    bad = [(c, o, p) for c in codes for o, p in [(gen.outcome(c, ag, device), gen.outcome(c, ag, "cpu"))]
           if not gen.same(o, p, c)]
    assert not bad, f"{len(bad)} cases differ from the CPU, e.g. {bad[:3]}"
