"""The backward graph and the engine that walks it.

A Node is one recorded operation. `next_functions` holds one edge `(node, output_nr)` per input:
`(None, 0)` for an input that needs no gradient, an AccumulateGrad node for a leaf. The engine is a
worklist: one iterative pass counts each node's consumers, then nodes run off a heap (consumers before
producers, newest first, as PyTorch does), each once, with the sum of all gradients sent to it.
"""
import heapq
import itertools
import sys
import threading
import weakref

from numpy import ndarray as _np_ndarray

from .. import _kernels
from .._dtype import legacy_type_name
from . import anomaly_mode, grad_mode

_seq = itertools.count()

_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they have "
    "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
    "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or "
    "if you need to access saved tensors after calling backward.")


# nodes PyTorch implements by hand in C++: their name() carries the namespace (type(node).__name__ does not)
_CPP_NODES = frozenset({"AccumulateGrad", "CopySlices", "CopyBackwards"})


class RemovableHandle:
    """Returned by register_hook; `remove()` unregisters the hook."""
    _ids = itertools.count()
    __slots__ = ("_dict_ref", "id")

    def __init__(self, hooks_dict):
        self.id = next(RemovableHandle._ids)
        self._dict_ref = weakref.ref(hooks_dict) if hooks_dict is not None else None

    def remove(self):
        d = self._dict_ref() if self._dict_ref is not None else None
        if d is not None:
            d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.remove()


class _HookDict(dict):
    __slots__ = ("__weakref__",)


def add_hook(hooks, fn):
    h = RemovableHandle(hooks)
    hooks[h.id] = fn
    return h


class Node:
    """A node of the backward graph (PyTorch's `grad_fn`)."""
    # NOTE: the rarely set fields are class defaults (an instance writes its own, into __dict__, only when set):
    # a node is made per recorded op, so its creation writes as little as it can.
    __slots__ = ("next_functions", "_seq", "metadata", "__weakref__", "__dict__")
    num_outputs = 1
    _pre_hooks = None   # output_nr -> _HookDict of tensor hooks (register_hook on a non-leaf)
    _retain = None      # output_nr -> weakref to a tensor that called retain_grad()
    _post_hooks = None
    _hooks_prehook = None
    _trace = None
    _hooked = False     # any of the four above set: the engine looks at them only then

    def __init__(self):
        self._seq = next(_seq)

    def name(self):
        n = type(self).__name__
        return "torch::autograd::" + n if n in _CPP_NODES else n

    def __repr__(self):
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    def __call__(self, *grads):
        return self.apply(list(grads))

    def register_hook(self, fn):
        """fn(grad_inputs, grad_outputs) runs after this node; it may return new grad_inputs."""
        if self._post_hooks is None:
            self._post_hooks = _HookDict()
            self._hooked = True
        return add_hook(self._post_hooks, fn)

    def register_prehook(self, fn):
        """fn(grad_outputs) runs before this node; it may return new grad_outputs."""
        if self._hooks_prehook is None:
            self._hooks_prehook = _HookDict()
            self._hooked = True
        return add_hook(self._hooks_prehook, fn)

    def _tensor_hooks(self, output_nr):
        if self._pre_hooks is None:
            self._pre_hooks = {}
            self._hooked = True
        d = self._pre_hooks.get(output_nr)
        if d is None:
            d = self._pre_hooks[output_nr] = _HookDict()
        return d

    def _release(self):
        pass

    def apply(self, grads):
        raise NotImplementedError(f"{self.name()} has no backward")


class AccumulateGrad(Node):
    """The sink for a leaf tensor: adds the incoming gradient into `variable.grad`."""
    __slots__ = ("variable",)
    num_outputs = 1

    def __init__(self, variable):
        super().__init__()
        self._seq = float("inf")  # run as soon as ready, as PyTorch does
        self.variable = variable
        self.next_functions = ()

    def accumulate(self, g, create_graph):
        var = self.variable
        with _ACCUMULATE_LOCK:  # (backward() from several threads into one leaf: no update lost)
            if var._grad is None:
                if create_graph:
                    var._grad = g
                else:
                    var._grad = _tensor_class()._make(g._data) if grad_may_take_buffer(g) else g._owned_copy()
            elif create_graph or var._grad.requires_grad:
                var._grad = var._grad + g
            else:
                var._grad._iadd_data(g)


# NOTE: one lock for every leaf's .grad: a read-modify-write of .grad (numpy's += releases the GIL on large
# arrays) must not interleave with another thread's; uncontended it costs ~0.05 us per leaf per backward.
_ACCUMULATE_LOCK = threading.Lock()


def _tensor_class():
    from ..tensor import Tensor  # layering: the engine runs below the tensor; .grad holds a Tensor
    return Tensor


def grad_may_take_buffer(g):
    """Whether a leaf's new `.grad` may take the gradient g's array as it is, without a copy: only when the array
    is C-contiguous and nothing but the engine can reach g, its array or the array that array is a view of. Then
    no one else can see a later in-place update of `.grad` (optimizer steps, accumulation), nor can such an
    update reach anyone else. (PyTorch's AccumulateGrad steals a gradient on the same condition.)

    NOTE: CPython reference counts, as numpy's own temporary elision uses them, so the count of the engine's own
    references is exact: g is held by `_accumulate_step`'s `g`, accumulate's `g`, ours and getrefcount's
    argument; its array by g's slot, `d` and the argument; the array a view was taken from by the view's
    `.base`, `b`, the argument and the view's base Tensor (itself held by g alone). A gradient also held
    elsewhere (sent to two inputs, passed in by the user, kept by a hook, saved for backward) has more
    references and is copied. Calling this from elsewhere, or adding a frame between, changes the counts: the
    tests in tests/test_engine.py pin both sides of the rule.
    """
    d = g._data
    if not d.flags.c_contiguous or sys.getrefcount(g) > 4 or sys.getrefcount(d) > 3:
        return False
    b = d.base
    if b is not None:
        if type(b) is not type(d) or b.base is not None:
            return False
        owners = 3
        t = g._base
        if t is not None:
            if t._data is not b or sys.getrefcount(t) > 3:
                return False
            owners = 4
        if sys.getrefcount(b) > owners:
            return False
    return True


def run_leaf_hooks(var, g):
    if var._hooks:
        for fn in list(var._hooks.values()):
            g = _hooked_value(fn, fn(g), g)
    return g


def _hook_name(fn):
    return getattr(fn, "__name__", type(fn).__name__)


def _hooked_value(fn, r, g):
    """What tensor hook `fn` returned for gradient `g`: g when None; else a tensor of g's size, dtype and device
    (PyTorch's checks: a hook may change the values of a gradient, never what it is the gradient of)."""
    if r is None:
        return g
    d = getattr(r, "_data", None)
    if d is None or not hasattr(d, "dtype"):
        raise TypeError(f"expected Variable, but hook returned '{type(r).__name__}'")
    if g is not None:
        gd = g._data
        if d.dtype != gd.dtype or type(d) is not type(gd) or getattr(d, "device", None) != getattr(gd, "device", None):
            raise RuntimeError(f"hook '{_hook_name(fn)}' has changed the type of value (was {legacy_type_name(gd)} "
                               f"got {legacy_type_name(d)})")
        if d.shape != gd.shape:
            raise RuntimeError(f"hook '{_hook_name(fn)}' has changed the size of value")
    return r


def _hooked_values(fn, r, gs):
    """What node hook `fn` returned for the gradients `gs`: gs when None; else a tuple of as many, each as
    _hooked_value allows (None allowed)."""
    if r is None:
        return gs
    if not isinstance(r, tuple):
        raise TypeError(f"expected tuple, but hook returned '{type(r).__name__}'")
    if len(r) != len(gs):
        raise RuntimeError(f"hook '{_hook_name(fn)}' has returned an incorrect number of values (got {len(r)}, but "
                           f"expected {len(gs)})")
    return [None if x is None else _hooked_value(fn, x, g) for x, g in zip(r, gs)]


def _dependencies(root_nodes):
    """For each node reachable from the roots (a set): how many edges of reachable nodes point at it (absent: none)."""
    deps = {}
    stack = list(root_nodes)
    while stack:
        for c, _ in stack.pop().next_functions:
            if c is None:
                continue
            if c in deps:
                deps[c] += 1
            else:
                deps[c] = 1
                if c not in root_nodes:  # (a node enters deps once: only the roots were on the stack before)
                    stack.append(c)
    return deps


def _topological_order(root_nodes):
    """Every node reachable from the roots, each after all of its consumers, newest first (the order in which
    execute runs them)."""
    deps = _dependencies(root_nodes)
    heap = [(-n._seq, id(n), n) for n in root_nodes if n not in deps]
    heapq.heapify(heap)
    order = []
    while heap:
        n = heapq.heappop(heap)[2]
        order.append(n)
        for c, _ in n.next_functions:
            if c is None:
                continue
            k = deps[c] - 1
            deps[c] = k
            if k == 0:
                heapq.heappush(heap, (-c._seq, id(c), c))
    return order


class _Targets:
    """The inputs of autograd.grad / backward(inputs=...): only the part of the graph that reaches them runs."""
    __slots__ = ("want", "run", "captured", "accumulate")

    def __init__(self, roots, targets, accumulate):
        self.want = {}  # node -> [(output_nr, index into captured)]
        for i, (n, nr) in enumerate(targets):
            self.want.setdefault(n, []).append((nr, i))
        self.run = set()  # the nodes whose backward must run
        self.captured = [None] * len(targets)  # the gradient that reached each target
        self.accumulate = accumulate  # whether the target leaves' .grad are also updated
        needed = set()
        for n in reversed(_topological_order(roots)):
            if any(c in needed for c, _ in n.next_functions if c is not None):
                self.run.add(n)
                needed.add(n)
            elif n in self.want:
                needed.add(n)


def execute(edges, grads, *, retain_graph, create_graph, targets=None, accumulate=True):
    """Run backward from `edges` (one (node, output_nr) per root) seeded with `grads`.

    targets: optional list of (node, output_nr) edges; when given, only the part of the graph that
    reaches them runs, and their gradients are returned (in order) instead of being accumulated into
    leaves unless `accumulate` is True.
    """
    g0 = next((g for g in grads if g is not None), None)
    callbacks = _final_callbacks()
    callbacks.append([])
    try:
        if g0 is not None and type(g0._data) is not _np_ndarray:
            # a GPU graph's backward runs on its GPU, whichever is current (ops and kernels also enter their own
            # arrays' device, so a node of another GPU still runs there)
            with g0._data.device:
                out = _execute(edges, grads, retain_graph, create_graph, targets, accumulate)
        else:
            out = _execute(edges, grads, retain_graph, create_graph, targets, accumulate)
        queued = callbacks[-1]
        while queued:  # (a callback may queue another)
            queued.pop(0)()
    finally:
        callbacks.pop()
    return out


_local = threading.local()


def _final_callbacks():
    """This thread's stack of running backward passes, each a list of its queued final callbacks."""
    stack = getattr(_local, "callbacks", None)
    if stack is None:
        stack = _local.callbacks = []
    return stack


def queue_callback(callback):
    """Run `callback()` once the backward pass now running has finished (from a hook; PyTorch's
    `Variable._execution_engine.queue_callback`, which DistributedDataParallel uses to wait for its all-reduces)."""
    stack = _final_callbacks()
    if not stack:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    stack[-1].append(callback)


def _plan(edges, grads, targets, accumulate):
    """Everything decided before a node runs: the gradient buffers seeded with `grads` (node -> one slot per
    output), each node's count of consumers yet to run, the heap of the nodes ready to start, and the
    _Targets (None: the whole graph runs)."""
    roots = {n for n, _ in edges}
    buffers = {}
    for (n, nr), g in zip(edges, grads):
        b = buffers.setdefault(n, [None] * n.num_outputs)
        b[nr] = g if b[nr] is None else b[nr] + g
    deps = _dependencies(roots)
    heap = [(-n._seq, id(n), n) for n in roots if n not in deps]
    heapq.heapify(heap)
    return buffers, deps, heap, (None if targets is None else _Targets(roots, targets, accumulate))


def _execute(edges, grads, retain_graph, create_graph, targets, accumulate):
    """The loop: pop the next node, run it, send its gradients on to its next_functions."""
    buffers, deps, heap, targets = _plan(edges, grads, targets, accumulate)
    # NOTE: nodes run straight off a heap (newest first, each once all its consumers have run): a node's
    # children are released before it runs, so it may send nothing on. The last child released waits in
    # `ready`, off the heap: in a chain (the heap empty) it simply runs next.
    pop, push, pushpop = heapq.heappop, heapq.heappush, heapq.heappushpop
    ready = None
    prev = grad_mode.is_grad_enabled()
    grad_mode._set(create_graph)
    quiet = _kernels.quiet()  # no numpy floating-point warnings in backward: inf/NaN propagate, as in torch
    quiet.__enter__()
    try:
        while True:
            if ready is None:
                if not heap:
                    break
                node = pop(heap)[2]
            elif heap:
                node = pushpop(heap, (-ready._seq, id(ready), ready))[2]
            else:
                node = ready
            ready = None
            for c, _ in node.next_functions:
                if c is not None:
                    k = deps[c] - 1
                    deps[c] = k
                    if k == 0:
                        if ready is not None:
                            push(heap, (-ready._seq, id(ready), ready))
                        ready = c
            buf = buffers.pop(node, None)
            if buf is None:
                continue
            outs = _run_node(node, buf, targets, retain_graph, create_graph)
            if outs is None:
                continue
            for (child, nr), g in zip(node.next_functions, outs):
                if child is None or g is None:
                    continue
                b = buffers.get(child)
                if b is None:
                    b = buffers[child] = [None] * child.num_outputs
                b[nr] = g if b[nr] is None else b[nr] + g
            # NOTE: the loop keeps no gradient alive, or a leaf's .grad would copy it (grad_may_take_buffer)
            outs = b = g = None
    finally:
        quiet.__exit__(None, None, None)
        grad_mode._set(prev)
    return None if targets is None else targets.captured


def _run_node(node, buf, targets, retain_graph, create_graph):
    """Run one node on the gradients sent to it (buf: one slot per output): the hooks on its outputs and
    retain_grad, then a leaf's accumulation, or its prehooks, backward (checked by anomaly mode when on) and post
    hooks. Returns the gradients to send to its next_functions, or None when it sends nothing."""
    if node._hooked:
        _output_hooks(node, buf, create_graph)
    if isinstance(node, AccumulateGrad):
        _accumulate_step(node, buf, targets, create_graph)
        return None
    if targets is not None:
        if node in targets.want:
            for nr, i in targets.want[node]:
                targets.captured[i] = buf[nr]
        if node not in targets.run:
            return None
    if node._hooked and node._hooks_prehook:
        for fn in list(node._hooks_prehook.values()):
            buf = _hooked_values(fn, fn(tuple(buf)), buf)
    outs = node.apply(buf) if not anomaly_mode._enabled else anomaly_mode.run_node(node, buf)
    if node._hooked and node._post_hooks:
        for fn in list(node._post_hooks.values()):
            outs = _hooked_values(fn, fn(tuple(outs), tuple(buf)), outs)
    if not retain_graph:
        node._release()
    return outs


def _output_hooks(node, buf, create_graph):
    """The tensor hooks (register_hook on a non-leaf) and retain_grad() of node's outputs, in place on buf."""
    if node._pre_hooks:
        for nr, hooks in node._pre_hooks.items():
            if buf[nr] is not None:
                for fn in list(hooks.values()):
                    buf[nr] = _hooked_value(fn, fn(buf[nr]), buf[nr])
    if node._retain:
        for nr, ref in node._retain.items():
            t = ref()
            if t is not None and buf[nr] is not None:
                g = buf[nr] if create_graph else buf[nr].detach()
                with _ACCUMULATE_LOCK:
                    t._grad = g if t._grad is None else t._grad + g


def _accumulate_step(node, buf, targets, create_graph):
    """A leaf's gradient: its hooks, then into the target list and/or its .grad."""
    if targets is not None and node not in targets.want:
        return  # a leaf off the way to the inputs: its hooks do not fire, its .grad stays
    g = run_leaf_hooks(node.variable, buf[0])
    buf[0] = None  # (the loop's list too: now `g` is the engine's only reference, see grad_may_take_buffer)
    if targets is not None:
        for _, i in targets.want[node]:
            targets.captured[i] = g
        if not targets.accumulate:
            return
    node.accumulate(g, create_graph)
    var = node.variable
    if var._post_accumulate_hooks:
        for fn in list(var._post_accumulate_hooks.values()):
            r = fn(var)
            if r is not None:
                if getattr(r, "_data", None) is None:
                    raise TypeError(f"expected Variable, but hook returned '{type(r).__name__}'")
                raise RuntimeError("Tensor post accumulate grad hooks should return None.")
