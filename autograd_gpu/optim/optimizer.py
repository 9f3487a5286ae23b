"""Optimizer: the base of every optimizer, as torch.optim.Optimizer.

It owns the parameter groups (each a dict of options and a "params" list), the per-parameter
state (a defaultdict keyed by the parameter tensor) and the state_dict format. A subclass
declares its defaults and one method, ``_step_args(p, group)``: for one parameter that has a
gradient, it makes or advances p's state and returns the kernel of kernels/optim.cu that updates
p, the tensors it takes (p, p.grad, the state buffers) and its scalars. The base runs it either
per parameter (``foreach=False``, and on the CPU: the kernel's numpy reference) or, on the GPU,
with one multi-tensor launch for all the group's parameters of one device and dtype (``foreach``
True, or None as in torch: on when every parameter with a gradient is on the GPU). Both give the
same numbers: they run the same per-element update. (A subclass may instead override
``_update(p, group)``, updating p itself; it then has the per-parameter path only.)

A subclass with ``_step_supports_amp_scaling = True`` (SGD, Adam, AdamW, Adagrad: those PyTorch fuses) also has
a fused step, ``_step_args(p, group, fused=True)``, taken under a GradScaler (which then sets ``found_inf`` and
``grad_scale`` on the optimizer) and for ``fused=True``: PyTorch's fused optimizers, deciding on the device. Its
kernel takes GradScaler's scale and flag (put in by the base, per device) and skips the step when found_inf is
set; the step count is a float32 tensor on the parameter's device, which the base counts on the device
(fused_step_count) before the kernel computes the bias corrections from it. No host read.
"""
import warnings
from collections import defaultdict
from copy import deepcopy
from itertools import chain

import numpy as np

from .. import _device, _dtype, _kernels
from ..autograd import grad_mode
from ..tensor import Tensor

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """The default of an option a parameter group must give (torch.optim.optimizer.required)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _typename(obj):
    if isinstance(obj, Tensor):
        return obj.type()
    t = type(obj)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _check_hyperparameter(name, value, message):
    """Validate a number option as torch does (``0 <= value``); a Tensor is not accepted."""
    if isinstance(value, Tensor):
        raise NotImplementedError(f"{name} as a Tensor is not supported; pass a Python number")
    if not 0.0 <= value:
        raise ValueError(f"{message}: {value}")


def _check_fused(fused, foreach):
    """torch's refusal of fused=True beside foreach=True (our fused step still launches once per group)."""
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def _zeros_like(p, fill=0):
    """A state tensor like p (same device, dtype and memory layout), outside autograd."""
    with _device.on(p.device):
        return Tensor._make(p._xp.full_like(p._data, fill))


def _step_tensor(fused_for=None):
    # NOTE: as torch (capturable=False), the step count is a 0-d float tensor on the CPU, so
    # reading it for the bias corrections never waits for the GPU. A fused step (`fused_for`: its parameter)
    # keeps it as torch's fused optimizers do: a float32 tensor on the parameter's device, read there.
    if fused_for is not None:
        with _device.on(fused_for.device):
            return Tensor._make(fused_for._xp.zeros((), np.float32))
    dt = np.float64 if _dtype.get_default_dtype() == _dtype.float64 else np.float32
    return Tensor._make(np.zeros((), dt))


def _fused_step_tensor(state, p):
    """state["step"] as a fused step keeps it (a float32 tensor on p's device), moved there once (an upload, no
    synchronisation) when a step of the default path left it on the CPU."""
    step = state["step"]
    a, pa = step._data, p._data
    if type(a) is not type(pa) or a.dtype != np.float32 or (type(a) is not np.ndarray and a.device != pa.device):
        step = state["step"] = step.to(device=p.device, dtype=_dtype.float32)
    return step


def _increment_step(step_t):
    """step_t += 1 in place; returns the new count as a Python float."""
    data = step_t._data
    if type(data) is not np.ndarray:  # a step tensor moved to the GPU by hand, or by a fused step (read once)
        data = data.get()
        step_t._data = data
    data += 1
    step_t._bump_version()
    return float(data)


def _grad(g, p, weight_decay, maximize):
    """The gradient every optimizer's reference step starts from: -g if maximize, plus weight_decay * p (L2)."""
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + weight_decay * p
    return g


def _lerp_(start, end, weight):
    """start = torch.lerp(start, end, weight), in place, as ATen writes it: the formula depends on |weight| < 0.5."""
    if -0.5 < weight < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1 - weight)


def _bump_version(*tensors):
    """Mark tensors written in place, as PyTorch's in-place ops do."""
    for t in tensors:
        if t is not None:
            t._bump_version()


def _fused_reference(reference, step_scalars=None):
    """The reference of a fused kernel (kernels/optim.cu, "fused steps") made from `reference`, its default
    kernel's: the inputs are the default kernel's with (step,) grad_scale, found_inf after p and g, and the scalars
    with `unscale` (and, given step_scalars, those that `step_scalars(xp, t, **scalars)` turns into the default
    kernel's step-count scalars at step t). Written without a branch on the flag: the device decides, and the
    reference also runs on GPU arrays (float16)."""
    def fused(xp, p, g, *arrays, unscale, **scalars):
        if step_scalars is not None:
            step, *arrays = arrays
            scalars = step_scalars(xp, step.astype(p.dtype), **scalars)
        grad_scale, found_inf, *state = arrays
        keep = found_inf == 0
        if unscale:  # (float16 in float32, as torch's opmath)
            wide = np.promote_types(g.dtype, np.float32)
            unscaled = (g.astype(wide, copy=False) / grad_scale.astype(wide)).astype(g.dtype, copy=False)
            xp.copyto(g, unscaled, where=keep)
            g = unscaled
        new = [p.copy(), *(b.copy() for b in state)]
        reference(xp, new[0], g, *new[1:], **scalars)
        for old, value in zip([p, *state], new):
            xp.copyto(old, value, where=keep)
    return fused


def _count_step_ref(xp, step, found_inf):
    """The step of kernels/optim.cu's fused_step_count: one more, unless found_inf is set."""
    step += 1
    step -= (found_inf != 0).astype(step.dtype)


_COUNT_STEP = _kernels.kernel("fused_step_count", _count_step_ref)


#: Elements per block of a multi-tensor launch (PyTorch's multi_tensor_apply kChunkSize).
CHUNK = 65536


def multi_tensor_table(addresses, sizes, chunk=CHUNK):
    """The table a multi-tensor kernel of kernels/optim.cu walks, as a numpy int64 array, and its number of
    blocks: ``[chunk, (tensor, chunk index) of each block, then each tensor's array addresses and its size]``.
    `addresses`: one row of D array addresses per tensor (the kernel's argument order); `sizes`: their lengths."""
    sizes = np.asarray(sizes, np.int64)
    counts = -(-sizes // chunk)  # (an empty tensor has no block)
    starts = np.cumsum(counts) - counts
    tensor_of_block = np.repeat(np.arange(len(sizes), dtype=np.int64), counts)
    chunk_of_block = np.arange(len(tensor_of_block), dtype=np.int64) - np.repeat(starts, counts)
    rows = np.column_stack([np.asarray(addresses, np.int64).reshape(len(sizes), -1), sizes])
    blocks = np.column_stack([tensor_of_block, chunk_of_block])
    return np.concatenate([[chunk], blocks.ravel(), rows.ravel()]).astype(np.int64), len(tensor_of_block)


_TABLES_KEPT = 8  # device tables cached per optimizer (a group's sets of tensors, alternating steps)


def _launch(k, tensors, arrays, scalars, fused):
    """One parameter's update by kernel k (its reference on the CPU): a fused step counts its step first."""
    if fused and "step" in k.inputs:
        _COUNT_STEP(arrays[k.inputs.index("step")], arrays[k.inputs.index("found_inf")])
    k(*arrays, **scalars)
    _bump_version(tensors[0], *tensors[1 if fused else 2:])  # (a fused step writes the unscaled gradient too)


def _float32_on(t, p):
    """The array of one-element tensor t (GradScaler's scale or flag) as a float32 array on p's device."""
    a, pa = t._data, p._data
    if type(a) is type(pa) and a.dtype == np.float32 and (type(a) is np.ndarray or a.device == pa.device):
        return a
    return t.to(device=p.device, dtype=_dtype.float32)._data


class Optimizer:
    """Base class of all optimizers.

    ``params`` is an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts, each a
    parameter group with its own options (missing ones come from ``defaults``)::

        >>> opt = SGD([{"params": net.body.parameters()},
        ...            {"params": net.head.parameters(), "lr": 1e-3}], lr=1e-2)
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got " + _typename(params))
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)

    def __repr__(self):
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    def add_param_group(self, param_group):
        """Add a parameter group (a dict with "params" and any options) to ``param_groups``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        param_group["params"] = params
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names

        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + _typename(param))
            if not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)

        if len(params) != len(set(params)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        param_set = set()
        for group in self.param_groups:
            param_set.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if not param_set.isdisjoint(params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Reset the gradients: to None (default) or, with ``set_to_none=False``, to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    if grad.grad_fn is not None:
                        grad.detach_()
                    else:
                        grad.requires_grad_(False)
                    grad.zero_()

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()`` (run with grad
        enabled) when a closure is given."""
        loss = None
        if closure is not None:
            with grad_mode.enable_grad():
                loss = closure()
        with grad_mode.no_grad():
            amp = {}  # a fused step's GradScaler inputs, per device
            for group in self.param_groups:
                params = [p for p in group["params"] if p._grad is not None]
                # fused: under a GradScaler (it set found_inf) or asked for, where the optimizer has a fused step
                fused = self._step_supports_amp_scaling and (hasattr(self, "found_inf") or bool(group.get("fused")))
                foreach = group.get("foreach")
                if foreach is None:  # as torch: on when every parameter with a gradient is on the GPU
                    foreach = all(type(p._data) is not np.ndarray for p in params)
                if foreach and (fused or type(self)._update is Optimizer._update):
                    self._foreach_update(params, group, fused, amp)
                else:
                    for p in params:
                        self._update_on_its_device(p, group, fused, amp)
        return loss

    #: True where ``_step_args`` has a fused step (GradScaler hands such an optimizer found_inf and grad_scale)
    _step_supports_amp_scaling = False

    def _update_on_its_device(self, p, group, fused=False, amp=None):
        if type(p._data) is np.ndarray:
            self._update_one(p, group, fused, amp)
        else:
            with p._data.device:  # (its state and kernel on the parameter's GPU)
                self._update_one(p, group, fused, amp)

    def _update_one(self, p, group, fused, amp):
        if fused:
            _launch(*self._kernel_args(p, group, True, amp), True)
        else:
            self._update(p, group)

    def _kernel_args(self, p, group, fused, amp):
        """``(kernel, tensors, arrays, scalars)`` of p's update: `_step_args`, and the kernel's arrays; for a fused
        step with GradScaler's scale and flag put in (before the state buffers) and the `unscale` flag."""
        if not fused:
            k, tensors, scalars = self._step_args(p, group)
            return k, tensors, [t._data for t in tensors], scalars
        k, tensors, scalars = self._step_args(p, group, fused=True)
        grad_scale, found_inf = self._amp_inputs(p, amp)
        arrays = [t._data for t in tensors]
        at = k.inputs.index("grad_scale")
        arrays[at:at] = [found_inf if grad_scale is None else grad_scale, found_inf]
        return k, tensors, arrays, dict(scalars, unscale=grad_scale is not None)

    def _amp_inputs(self, p, amp):
        """GradScaler's scale (None once unscale_ ran) and found_inf as p's fused kernel takes them: one-element
        float32 arrays on p's device, copied there once a step (cached in `amp`). Outside a GradScaler
        (fused=True) found_inf is a zero kept for the device."""
        where = None if type(p._data) is np.ndarray else p._data.device.id
        hit = amp.get(where)
        if hit is None:
            found_inf, grad_scale = getattr(self, "found_inf", None), getattr(self, "grad_scale", None)
            if found_inf is None:
                zeros = self.__dict__.setdefault("_no_inf", {})
                if where not in zeros:
                    with _device.on(p.device):
                        zeros[where] = p._xp.zeros((), np.float32)
                hit = (None, zeros[where])
            else:
                hit = (None if grad_scale is None else _float32_on(grad_scale, p), _float32_on(found_inf, p))
            amp[where] = hit
        return hit

    def _foreach_update(self, params, group, fused=False, amp=None):
        """Update `params` (of `group`, each with a gradient): on the GPU one multi-tensor launch for all those of
        one device, dtype and kernel scalars (one per device and dtype once their step counts agree; a fused step,
        whose kernel reads the step counts, one launch more to count them); the others (CPU, float16, a kernel
        without a multi-tensor twin, a non-contiguous buffer) one by one."""
        launches, seen, again = {}, set(), []
        for p in params:
            if id(p) in seen:  # a duplicate parameter: updated again after the launches, as by the other path
                again.append(p)
                continue
            seen.add(id(p))
            if type(p._data) is np.ndarray:
                self._update_one(p, group, fused, amp)
                continue
            with p._data.device:  # (state made on the parameter's GPU)
                k, tensors, arrays, scalars = self._kernel_args(p, group, fused, amp)
            twin, a0 = k.multi_tensor, arrays[0]
            shared = () if twin is None else twin.inputs[1:]
            rows = [a for n, a in zip(k.inputs, arrays) if n not in shared]
            mem0 = a0.data
            if twin is None or a0.dtype not in _kernels.CTYPES or not all(
                    type(a) is type(a0) and a.flags.c_contiguous and a.data.device_id == mem0.device_id
                    and ((a.dtype == np.float32 and a.size == 1) if n in k.device_scalars
                         else (a.dtype == a0.dtype and a.size == a0.size))
                    for n, a in zip(k.inputs, arrays) if n not in shared):
                with a0.device:
                    _launch(k, tensors, arrays, scalars, fused)  # (a buffer on another device raises there)
                continue
            named = dict(zip(k.inputs, arrays))
            shared_arrays = [named[n] for n in shared]
            key = (mem0.device_id, a0.dtype, twin, *(a.data.ptr for a in shared_arrays), *scalars.values())
            launch = launches.get(key)
            if launch is None:
                launch = launches[key] = (a0.device, scalars, shared_arrays, [], [], [], [])
            launch[3].append(tensors)
            launch[4].append([a.data.ptr for a in rows])
            launch[5].append(a0.size)
            if fused and "step" in k.inputs:
                launch[6].append(named["step"].data.ptr)
        for (_, dtype, twin, *_), (device, scalars, shared_arrays, tensors, addresses, sizes, steps) in \
                launches.items():
            with device:
                if steps:  # counted before the update kernel reads them
                    table, n = self._device_table(device.id, [[s] for s in steps], [1] * len(steps))
                    found_inf = shared_arrays[twin.inputs[1:].index("found_inf")]
                    _kernels.run_multi_tensor(_COUNT_STEP.multi_tensor, table, n, np.dtype(np.float32), {},
                                              shared=[found_inf])
                table, n = self._device_table(device.id, addresses, sizes)
                if n:
                    _kernels.run_multi_tensor(twin, table, n, dtype, scalars, shared=shared_arrays)
            for ts in tensors:
                _bump_version(ts[0], *ts[1 if fused else 2:])
        for p in again:
            self._update_on_its_device(p, group, fused, amp)

    def _device_table(self, device_id, addresses, sizes):
        """The multi-tensor table of these arrays on the current GPU, uploaded once and reused while the same
        arrays (addresses and sizes) come again: in a steady state a step copies nothing to the device."""
        tables = self.__dict__.setdefault("_multi_tensor_tables", {})
        key = (device_id, CHUNK, tuple(sizes), *(a for row in addresses for a in row))
        hit = tables.get(key)
        if hit is None:
            table, n = multi_tensor_table(addresses, sizes)
            if len(tables) >= _TABLES_KEPT:
                del tables[next(iter(tables))]
            # NOTE: an upload, not a synchronisation: CuPy stages a host array through pinned memory and copies
            # it asynchronously on the current stream
            hit = tables[key] = (_device.cupy().asarray(table), n)
        return hit

    def _stepped_state(self, p, buffers, fill=0, fused=False):
        """p's state, with its step count incremented (returned as a float); made on p's first step: "step"
        (a CPU tensor) and, for each name in `buffers`, a tensor like p filled with `fill`. For a fused step the
        count is the device's (None is returned): "step" is then a float32 tensor on p's device."""
        state = self.state[p]
        if len(state) == 0:
            state["step"] = _step_tensor(p if fused else None)
            for name in buffers:
                state[name] = _zeros_like(p, fill)
        if fused:
            _fused_step_tensor(state, p)
            return state, None
        return state, _increment_step(state["step"])

    def _step_args(self, p, group):
        """For parameter p (whose ``_grad`` is set): make or advance its state and return ``(kernel, tensors,
        scalars)``: the kernel that updates p, its tensors (p, p.grad, then the state buffers it updates in
        place) and its scalars by name. With ``fused=True`` (where the optimizer has a fused step): the fused
        kernel, its tensors (p, p.grad, the step tensor if it reads one, the state buffers) and its scalars but
        `unscale`; the base puts in GradScaler's inputs."""
        raise NotImplementedError

    def _update(self, p, group):
        """Update parameter p (whose ``_grad`` is set) and its state in place: one kernel launch (the numpy
        reference on the CPU)."""
        _launch(*self._kernel_args(p, group, False, None), False)

    # ------------------------------------------------------------------------ state_dict

    def state_dict(self):
        """The optimizer state as torch's: ``{"state": {index: {...}}, "param_groups": [{...,
        "params": [indices]}]}``, parameters numbered in group order. Tensors are not copied."""
        mapping = {}
        start = 0

        def pack_group(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            mapping.update({id(p): i for i, p in enumerate(group["params"], start) if id(p) not in mapping})
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict):
        """Load a state from :meth:`state_dict` (of an optimizer with groups of the same sizes).
        State tensors are moved to their parameter's device and dtype; "step" stays as is (as torch: float32 on
        the parameter's device for a ``fused`` group)."""
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        # as torch: "step" stays as it is, but for a fused (or capturable) group: float32 on the parameter's device
        on_device = {i for g in saved_groups if g.get("fused") or g.get("capturable") for i in g["params"]}

        def cast(param, value, key=None, step_on_device=False):
            if isinstance(value, Tensor):
                if key == "step":
                    return value.to(dtype=_dtype.float32, device=param.device) if step_on_device else value
                if param.is_floating_point():
                    return value.to(dtype=param.dtype, device=param.device)
                return value.to(device=param.device)
            if isinstance(value, dict):
                return {k: cast(param, v, key=k, step_on_device=step_on_device) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v) for v in value)
            return value

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                state[id_map[k]] = cast(id_map[k], v, step_on_device=k in on_device)
            else:
                state[k] = v

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        self.__setstate__({"state": state,
                           "param_groups": [update_group(g, ng) for g, ng in zip(groups, saved_groups)]})
