"""torch.amp.GradScaler: loss scaling for float16 training, with the inf/NaN check on the device.

The scale, the count of clean steps and each step's found_inf flag are one-element float32 tensors on the
gradients' device. `unscale_` runs kernels/amp.cu's amp_non_finite_check_and_unscale over each gradient (PyTorch's
_amp_foreach_non_finite_check_and_unscale_) and `update` its amp_update_scale (_amp_update_scale_): neither reads
anything back to the host.

`step` skips the optimizer's step when found_inf is set. An optimizer that declares
``_step_supports_amp_scaling = True`` (ours: SGD, Adam, AdamW, Adagrad) is handed the flag (``optimizer.found_inf``,
and ``optimizer.grad_scale`` when its gradients are still scaled) and decides on the device, as PyTorch's fused
optimizers do; that step never waits for the GPU. For any other optimizer the skip is a Python branch on the flag, a host read, as in PyTorch's
GradScaler (its ``_maybe_opt_step``): a skipped step must not move the optimizer's host-side step count.

>>> scaler = torch.amp.GradScaler("cuda")
>>> with torch.autocast("cuda"):
...     loss = loss_fn(model(x), y)
>>> scaler.scale(loss).backward()
>>> scaler.step(opt)
>>> scaler.update()
"""
import warnings
from collections import defaultdict
from enum import Enum

import numpy as np

from .. import _device, _dtype, _kernels
from ..autograd import grad_mode
from ..creation import full
from ..tensor import Tensor

__all__ = ["GradScaler", "OptState"]


_F32, _F16 = _dtype.float32, _dtype.float16


class OptState(Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _refresh_per_optimizer_state():
    return {"stage": OptState.READY, "found_inf_per_device": {}}


# ---- the kernels and their references (the CPU computation) ---------------------------------------------------
def _non_finite_check_and_unscale_ref(xp, g, found_inf, inv_scale):
    """The step of kernels/amp.cu's amp_non_finite_check_and_unscale: found_inf = 1 if g has an inf or NaN;
    g *= inv_scale (in place)."""
    if not xp.isfinite(g).all():
        found_inf[...] = 1
    g *= inv_scale.reshape(-1)[0]


def _update_scale_ref(xp, scale, growth_tracker, found_inf, *, growth_factor, backoff_factor, growth_interval):
    """The step of kernels/amp.cu's amp_update_scale, element for element (written with xp.where: it also runs on
    the device arrays of the stand-in)."""
    found = found_inf != 0
    successful = growth_tracker + 1
    grow = ~found & (successful == growth_interval)
    grown = scale * growth_factor
    scale[...] = xp.where(found, scale * backoff_factor, xp.where(grow & xp.isfinite(grown), grown, scale))
    growth_tracker[...] = xp.where(found | grow, 0, successful)


_CHECK_AND_UNSCALE = _kernels.kernel("amp_non_finite_check_and_unscale", _non_finite_check_and_unscale_ref)
_UPDATE_SCALE = _kernels.kernel("amp_update_scale", _update_scale_ref)


def _check_and_unscale(g, found_inf, inv_scale):
    """amp_non_finite_check_and_unscale over the array g, in place (found_inf and inv_scale: one-element arrays of
    g's dtype); returns g, or its unscaled copy where g cannot be written (a broadcast gradient)."""
    if type(g) is np.ndarray:
        if not g.flags.writeable:
            g = g.copy()
        with _kernels.quiet():  # (an inf times inv_scale is the inf we report, not a warning)
            _non_finite_check_and_unscale_ref(np, g, found_inf, inv_scale)
        return g
    if g.size == 0:
        return g
    # NOTE: launched here, not through run_kernel: found_inf and inv_scale are one element each, not broadcast to
    # g's shape (run_kernel's elementwise kernels see arrays of one shape). A non-contiguous gradient (a broadcast
    # one has zero strides: no place to write) is unscaled into a contiguous copy.
    if not g.flags.c_contiguous:
        g = _device.cupy().ascontiguousarray(g)
    if g.dtype not in _kernels.CTYPES:  # (float16, of a fused step's parameter: no kernel; the same, branch-free)
        xp = _device.cupy()
        found_inf[...] = xp.where(xp.isfinite(g).all(), found_inf, 1)
        g *= inv_scale.reshape(-1)[0]
        return g
    device_id = g.device.id
    grid, block = _kernels.launch_config(g.size, _kernels._max_blocks(device_id))
    fn = _kernels._function("amp_non_finite_check_and_unscale", _kernels.CTYPES[g.dtype], device_id)
    fn((grid,), (block,), (g, found_inf, inv_scale, np.int64(g.size)))
    return g


def _total(found_infs):
    """The sum of found_inf flags (on one device): nonzero when any is set."""
    total = found_infs[0]
    for f in found_infs[1:]:
        total = total + f
    return total


class GradScaler:
    """GradScaler(device="cuda", init_scale=2.**16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
    enabled=True): scales the loss, unscales the gradients before the step, skips steps whose gradients hold an
    inf or a NaN and adapts the scale (backs off after such a step, grows after growth_interval clean ones)."""

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        self._device = device
        self._enabled = enabled
        if self._device == "cuda" and enabled and not _device.cuda_available():
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                          stacklevel=2)
            self._enabled = False
        if self._enabled:
            assert growth_factor > 1.0, "The growth factor must be > 1.0."
            assert backoff_factor < 1.0, "The backoff factor must be < 1.0."
            self._init_scale = init_scale
            self._scale = None  # made on the first scale(), on the loss's device
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker = None
            self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    def is_enabled(self):
        return self._enabled

    def _check_scale_growth_tracker(self, funcname):
        fix = "This may indicate your script did not use scaler.scale(loss or outputs) earlier in the iteration."
        assert self._scale is not None, f"Attempted {funcname} but _scale is None.  " + fix
        assert self._growth_tracker is not None, f"Attempted {funcname} but _growth_tracker is None.  " + fix
        return self._scale, self._growth_tracker

    def _lazy_init_scale_growth_tracker(self, dev):
        assert self._growth_tracker is None, "_growth_tracker initialized before _scale"
        self._scale = full((), self._init_scale, dtype=_F32, device=dev)
        self._growth_tracker = full((), float(self._init_growth_tracker), dtype=_F32, device=dev)

    def scale(self, outputs):
        """outputs (a tensor, or an iterable of tensors) times the scale."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            if self._scale is None:
                self._lazy_init_scale_growth_tracker(outputs.device)
            return outputs * self._scale.to(outputs.device)

        def apply_scale(val):
            if isinstance(val, Tensor):
                if self._scale is None:
                    self._lazy_init_scale_growth_tracker(val.device)
                return val * self._scale.to(val.device)
            if isinstance(val, (list, tuple)):
                return type(val)(apply_scale(v) for v in val)
            if hasattr(val, "__iter__"):
                return map(apply_scale, val)
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")
        return apply_scale(outputs)

    def _unscale_grads_(self, optimizer, inv_scale, found_inf, allow_fp16):
        """Unscale the gradients of `optimizer`'s parameters in place, setting found_inf (per device) on the
        device; returns {device: found_inf}."""
        per_device = {}  # device -> (found_inf there, inv_scale there)
        with grad_mode.no_grad():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    g = p._grad
                    if g is None:
                        continue
                    if not allow_fp16 and g.dtype is _F16:
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    dev = g.device
                    if dev not in per_device:
                        per_device[dev] = (found_inf.to(dev), inv_scale.to(dev))
                    f, s = per_device[dev]
                    gd = g._data
                    if gd.dtype == f._data.dtype:
                        g._data = _check_and_unscale(gd, f._data, s._data)
                    else:  # (a float64 or float16 gradient: its own flag and inverse scale, of its dtype)
                        f_here = f._data.astype(gd.dtype)
                        g._data = _check_and_unscale(gd, f_here, s._data.astype(gd.dtype))
                        f._data[...] = f_here.astype(f._data.dtype)
                    g._bump_version()
        return {dev: f for dev, (f, _) in per_device.items()}

    def unscale_(self, optimizer):
        """Divide `optimizer`'s gradients by the scale, in place (once per step, before step())."""
        if not self._enabled:
            return
        self._check_scale_growth_tracker("unscale_")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        assert self._scale is not None
        # (the reciprocal in double, rounded to float32, as PyTorch computes it)
        inv_scale = self._scale.double().reciprocal().float()
        found_inf = full((), 0.0, dtype=_F32, device=self._scale.device)
        state["found_inf_per_device"] = self._unscale_grads_(optimizer, inv_scale, found_inf, False)
        state["stage"] = OptState.UNSCALED

    def _check_inf_per_device(self, optimizer):
        """found_inf per device without unscaling (for an optimizer that unscales in its own step)."""
        scale, _ = self._check_scale_growth_tracker("_check_inf_per_device")
        dummy_inv_scale = full((), 1.0, dtype=_F32, device=scale.device)
        found_inf = full((), 0.0, dtype=_F32, device=scale.device)
        self._per_optimizer_states[id(optimizer)]["found_inf_per_device"] = self._unscale_grads_(
            optimizer, dummy_inv_scale, found_inf, True)
        return self._per_optimizer_states[id(optimizer)]["found_inf_per_device"]

    def step(self, optimizer, *args, **kwargs):
        """optimizer.step(*args, **kwargs) unless the gradients hold an inf or a NaN (unscaling them first if
        unscale_ was not called); returns what optimizer.step returned (None for a skipped step)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale_growth_tracker("step")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if getattr(optimizer, "_step_supports_amp_scaling", False):
            # the optimizer decides on the device: it gets the flag (and the scale, if it unscales itself)
            if state["stage"] is OptState.READY:
                self._check_inf_per_device(optimizer)
            scale = self._scale
            optimizer.grad_scale = None if state["stage"] is OptState.UNSCALED else scale
            optimizer.found_inf = _total([f.to(scale.device) for f in state["found_inf_per_device"].values()])
            try:
                return optimizer.step(*args, **kwargs)
            finally:
                state["stage"] = OptState.STEPPED
                del optimizer.grad_scale
                del optimizer.found_inf
        if state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        assert len(state["found_inf_per_device"]) > 0, "No inf checks were recorded for this optimizer."
        retval = None
        # NOTE: a host read of the flag, as PyTorch's GradScaler._maybe_opt_step: the optimizer keeps its step
        # count on the host, which a skipped step must not move
        if not sum(f.item() for f in state["found_inf_per_device"].values()):
            retval = optimizer.step(*args, **kwargs)
        state["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale=None):
        """The scale for the next iteration: backed off after a step with inf/NaN gradients, grown after
        growth_interval clean steps in a row (computed on the device), or `new_scale` (a float or a 1-element
        float32 tensor)."""
        if not self._enabled:
            return
        scale, growth_tracker = self._check_scale_growth_tracker("update")
        if new_scale is not None:
            if isinstance(new_scale, float):
                scale.fill_(new_scale)
            else:
                reason = ("new_scale should be a float or a 1-element torch.cuda.FloatTensor or torch.FloatTensor "
                          "with requires_grad=False.")
                assert new_scale.device.type == scale.device.type, reason
                assert new_scale.numel() == 1, reason
                assert new_scale.requires_grad is False, reason
                scale.copy_(new_scale)
        else:
            found_infs = [f.to(scale.device) for state in self._per_optimizer_states.values()
                          for f in state["found_inf_per_device"].values()]
            assert len(found_infs) > 0, "No inf checks were recorded prior to update."
            total = _total(found_infs)
            _UPDATE_SCALE(scale._data, growth_tracker._data, total._data, growth_factor=self._growth_factor,
                          backoff_factor=self._backoff_factor, growth_interval=self._growth_interval)
            scale._bump_version()
            growth_tracker._bump_version()
        self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    # ---- the settings, and the state dict (host reads of the scale: not for every step) ----------------------
    def get_scale(self):
        """The current scale as a Python float (reads it back from the device)."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale.item()

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def _get_growth_tracker(self):
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None else int(self._growth_tracker.item())

    def state_dict(self):
        """PyTorch's keys: scale, growth_factor, backoff_factor, growth_interval, _growth_tracker ({} when
        disabled)."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled "
                               "instance of GradScaler.")
        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._scale.fill_(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._growth_tracker is not None:
            self._growth_tracker.fill_(float(state_dict["_growth_tracker"]))


