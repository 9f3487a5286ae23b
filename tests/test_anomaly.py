"""Anomaly mode: NaN produced by a backward node is an error naming the node, with the forward traceback."""
import warnings

import numpy as np
import pytest
import torch

import autograd_gpu as ag


def _run(T, build, device="cpu", **kw):
    """Backward of build(T) (its input on `device`) under detect_anomaly: (error message, [warning messages])."""
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with T.autograd.detect_anomaly(**kw):
            x = T.zeros(3, requires_grad=True, device=device)
            y = build(T, x)
            try:
                y.sum().backward()
                err = None
            except RuntimeError as e:
                err = str(e)
    return err, [str(m.message) for m in w]


def sqrt_times_zero(T, x):
    return T.sqrt(x) * 0  # SqrtBackward0: 0 / (2 * sqrt(0)) = nan


def zero_over_zero(T, x):
    return x / x  # DivBackward0: its second output is -g * x / x**2 = 0/0 = nan


@pytest.mark.parametrize("build", [sqrt_times_zero, zero_over_zero])
def test_nan_in_backward_raises_like_torch(build, device):
    err, msgs = _run(ag, build, device)
    terr, tmsgs = _run(torch, build)
    assert err == terr and err is not None
    assert "returned nan values in its" in err
    assert msgs[0] == tmsgs[0]  # "Anomaly Detection has been enabled. ..."
    node = err.split("'")[1]
    trace = [m for m in msgs if m.startswith(f"Error detected in {node}. Traceback of forward call that caused the "
                                             "error:")]
    assert len(trace) == 1
    assert __file__ in trace[0] and "y = build(T, x)" in trace[0]  # the user's forward line
    assert "autograd_gpu" not in trace[0].split("\n")[-2]  # it ends in user code, not in the library


def test_check_nan_false_and_mode_off_do_not_raise(device):
    err, _ = _run(ag, sqrt_times_zero, device, check_nan=False)
    terr, _ = _run(torch, sqrt_times_zero, check_nan=False)
    assert err is None and terr is None
    x = ag.zeros(2, requires_grad=True, device=device)
    y = ag.sqrt(x) * 0
    assert y.grad_fn._trace is None  # nothing recorded while off
    y.sum().backward()
    assert np.isnan(x.grad.cpu().numpy()).all()


def test_flags_and_set_detect_anomaly(device):
    assert not ag.autograd.is_anomaly_enabled()
    ag.autograd.set_detect_anomaly(True)
    try:
        assert ag.autograd.is_anomaly_enabled() and ag.autograd.is_anomaly_check_nan_enabled()
        x = ag.zeros(2, requires_grad=True, device=device)
        y = ag.sqrt(x) * 0
        with pytest.raises(RuntimeError, match="Function 'SqrtBackward0' returned nan values in its 0th output."):
            with pytest.warns(UserWarning, match="Error detected in SqrtBackward0"):
                y.sum().backward()
    finally:
        ag.autograd.set_detect_anomaly(False)
    assert not ag.autograd.is_anomaly_enabled()
    with ag.autograd.set_detect_anomaly(True, check_nan=False):
        assert ag.autograd.is_anomaly_enabled() and not ag.autograd.is_anomaly_check_nan_enabled()
    assert not ag.autograd.is_anomaly_enabled() and ag.autograd.is_anomaly_check_nan_enabled()


def test_decorator_and_errors_other_than_nan_show_the_trace(device):
    class Boom(ag.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            raise ValueError("boom")

    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        deco = ag.autograd.detect_anomaly()

    @deco
    def run():
        x = ag.ones(2, requires_grad=True, device=device)
        y = Boom.apply(x)  # the custom node's creation is recorded too
        y.sum().backward()

    with pytest.warns(UserWarning, match=r"Error detected in BoomBackward\. Traceback of forward call") as w:
        with pytest.raises(ValueError, match="boom"):
            run()
    assert any("y = Boom.apply(x)" in str(m.message) for m in w)
    assert not ag.autograd.is_anomaly_enabled()
