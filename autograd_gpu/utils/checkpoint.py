"""Activation checkpointing: trade compute for memory by recomputing a segment's forward during backward.

`checkpoint(fn, *args)` returns fn(*args) but keeps none of the tensors fn's ops saved for backward; the
first time backward needs one of them, fn is run again on the same inputs (with the random-number state of
the first run restored) and the saved tensors of that recomputation are handed to the original nodes.

- use_reentrant=False (default): the forward is recorded as usual (so gradients reach the parameters fn
  uses through the ordinary graph, and autograd.grad works), then its saved tensors are dropped at once.
- use_reentrant=True: the forward runs under no_grad; one CheckpointFunction node recomputes fn and runs a
  nested backward, which accumulates the parameters' .grad directly (so only .backward() is supported).

>>> h = checkpoint(block, x, use_reentrant=False)
"""
import warnings

from ..autograd import engine, grad_mode
from ..autograd.function import Function
from ..tensor import Tensor
from .. import _device, _random
from ..autograd import backward
from ..ops.core import save_tensor
from ..ops.core import SavedTensor

__all__ = ["checkpoint", "checkpoint_sequential"]


def _tensor_type():
    return Tensor


# ---- random-number state ---------------------------------------------------------------------------
def _rng_state(args):
    """A snapshot of the CPU generator and of the generators of the GPUs the tensor args live on."""
    Tensor = _tensor_type()
    state = {"cpu": _random._rng(_device.CPU, None).bit_generator.state}
    for a in args:
        if isinstance(a, Tensor) and a.is_cuda:
            dev = a.device
            gen = _random._rng(dev, None)
            buf = getattr(gen.bit_generator, "_state", None)  # CuPy keeps the cuRAND states in a device array
            if buf is None or not hasattr(buf, "copy"):
                warnings.warn("checkpoint: cannot snapshot the CUDA random-number state; random ops recomputed in "
                              "backward may differ from the forward.")
                continue
            state[dev] = (gen, buf.copy())  # NOTE: a device-to-device copy, no host sync
    return state


def _set_rng_state(state):
    _random._rng(_device.CPU, None).bit_generator.state = state["cpu"]
    for dev, val in state.items():
        if dev != "cpu":
            gen, buf = val
            gen.bit_generator._state[...] = buf


class _fork_rng:
    """Run a block with the RNG state `state`, and put the current state back afterwards."""

    def __init__(self, state, args):
        self.state, self.args = state, args

    def __enter__(self):
        if self.state is not None:
            self.prev = _rng_state(self.args)
            _set_rng_state(self.state)

    def __exit__(self, *exc):
        if self.state is not None:
            _set_rng_state(self.prev)
        return False


def _detached(args):
    Tensor = _tensor_type()
    return tuple(a.detach().requires_grad_(a.requires_grad) if isinstance(a, Tensor) else a for a in args)


# ---- use_reentrant=True ---------------------------------------------------------------------------------
class CheckpointFunction(Function):
    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        Tensor = _tensor_type()
        if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None")
        ctx.run_function = run_function
        ctx.rng = _rng_state(args) if preserve_rng_state else None
        ctx.args = [None if isinstance(a, Tensor) else a for a in args]
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        return run_function(*args)  # Function.apply runs forward under no_grad

    @staticmethod
    def backward(ctx, *grads):
        Tensor = _tensor_type()
        saved = iter(ctx.saved_tensors)
        args = tuple(next(saved) if a is None else a for a in ctx.args)
        inputs = _detached(args)
        with _fork_rng(ctx.rng, args), grad_mode.enable_grad():
            outputs = ctx.run_function(*inputs)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grads) if isinstance(o, Tensor) and o.requires_grad]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None) + tuple(x.grad if isinstance(x, Tensor) else None for x in inputs)


# ---- use_reentrant=False --------------------------------------------------------------------------------
def _segment_nodes(outputs, start, end):
    """The nodes created between sequence numbers start and end that the outputs reach, oldest first."""
    Tensor = _tensor_type()
    outs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
    stack = [o.grad_fn for o in outs if isinstance(o, Tensor) and o.grad_fn is not None]
    seen, nodes = set(), []
    while stack:
        n = stack.pop()
        if id(n) in seen or not start < n._seq < end:
            continue
        seen.add(id(n))
        nodes.append(n)
        stack.extend(c for c, _ in n.next_functions if c is not None)
    return sorted(nodes, key=lambda n: n._seq)


class _Segment:
    """One checkpointed call: what is needed to run it again, and the nodes waiting for their saved tensors."""

    def __init__(self, fn, args, kwargs, rng, holders):
        Tensor = _tensor_type()
        self.fn, self.kwargs, self.rng, self.holders = fn, kwargs, rng, holders
        self.args = [save_tensor(a) if isinstance(a, Tensor) else a for a in args]  # version-checked

    def recompute(self):
        args = tuple(a.unpack(self.holders[0]) if type(a) is SavedTensor else a for a in self.args)
        create_graph = grad_mode.is_grad_enabled()  # the engine runs backward in grad mode iff create_graph
        with _fork_rng(self.rng, args), grad_mode.enable_grad():
            start = next(engine._seq)
            # with create_graph the recomputed graph must reach the real inputs, for a double backward
            out = self.fn(*(args if create_graph else _detached(args)), **self.kwargs)
            end = next(engine._seq)
        fresh = [n for n in _segment_nodes(out, start, end) if n._saved]
        if len(fresh) != len(self.holders) or any(type(a) is not type(b) for a, b in zip(fresh, self.holders)):
            raise RuntimeError("torch.utils.checkpoint: Recomputed values for the following tensors have different "
                               "metadata than during the forward pass: the checkpointed function recorded "
                               f"{[type(n).__name__ for n in self.holders]} in the forward and "
                               f"{[type(n).__name__ for n in fresh]} when recomputed. The function must do the same "
                               "operations every time it runs.")
        for old, new in zip(self.holders, fresh):
            if type(old._saved) is _Pending:  # not freed meanwhile
                old._saved = new._saved
            if not create_graph:  # else the recomputed graph is what a double backward goes through
                new._saved = None
        self.holders = self.args = None  # drop the inputs: each node now holds what it needs


class _Pending(list):
    """Stands in a node's `_saved` until the first read, which recomputes the whole segment."""
    __slots__ = ("segment", "node")

    def __init__(self, segment, node):
        super().__init__()
        self.segment, self.node = segment, node

    def _real(self):
        if self.segment.holders is not None:
            self.segment.recompute()
        return self.node._saved

    def __bool__(self):
        return True

    def __iter__(self):
        return iter(self._real())

    def __len__(self):
        return len(self._real())

    def __getitem__(self, i):
        return self._real()[i]


def _checkpoint_without_reentrant(function, preserve_rng_state, args, kwargs):
    if not grad_mode.is_grad_enabled():
        return function(*args, **kwargs)
    rng = _rng_state(args) if preserve_rng_state else None
    start = next(engine._seq)
    out = function(*args, **kwargs)
    end = next(engine._seq)
    holders = [n for n in _segment_nodes(out, start, end) if n._saved]
    if holders:
        segment = _Segment(function, args, kwargs, rng, holders)
        for n in holders:
            n._saved = _Pending(segment, n)
    return out


def checkpoint(function, *args, use_reentrant=False, context_fn=None, determinism_check="default", debug=False,
               preserve_rng_state=True, **kwargs):
    """function(*args, **kwargs), recomputed in backward instead of keeping its intermediate tensors.

    >>> y = checkpoint(block, x, use_reentrant=False)
    >>> y.sum().backward()       # block runs again here; gradients equal those of block(x)
    """
    if use_reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        if context_fn is not None or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve_rng_state, *args)
    return _checkpoint_without_reentrant(function, preserve_rng_state, args, kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=False, **kwargs):
    """Run a sequence of modules / functions in `segments` chunks, checkpointing all but the last chunk."""
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if hasattr(functions, "children") and not isinstance(functions, (list, tuple)):
        functions = list(functions.children())
    functions = list(functions)

    def run(start, end):
        def forward(x):
            for f in functions[start:end + 1]:
                x = f(x)
            return x
        return forward

    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run(end + 1, len(functions) - 1)(input)
