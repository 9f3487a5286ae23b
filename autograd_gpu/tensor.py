"""Tensor: an array (numpy on the CPU, CuPy on the GPU) plus the autograd bookkeeping.

Storage sharing follows PyTorch: views share the array memory and one version counter with their base;
`detach()` shares both; `.data` shares memory only. A view of a tensor in the graph remembers how it was
made (`_view_chain`), so an in-place write through it can rewrite the base's history (CopySlices) and the
view can rebuild its own grad_fn when the base changes.
"""
import warnings
import weakref

import numpy as np

from . import _device, _dtype
from ._dtype import _C_TYPE_NAMES, SCALAR_TYPE_NAMES  # noqa: F401  (re-exported)
from ._tensor_str import tensor_repr
from .size import Size
from .autograd import grad_mode
from .autograd.engine import AccumulateGrad, _HookDict, add_hook

_NONLEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute won't "
    "be populated during autograd.backward(). If you indeed want the .grad field to be populated for a "
    "non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by "
    "mistake, make sure you access the leaf Tensor instead.")

_NO_GRAD_VIEW_HINT = (" Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your "
                      "code by moving both the view and the inplace either both inside the no_grad block (if you "
                      "don't want the inplace to be tracked) or both outside (if you want the inplace to be tracked).")
NO_GRAD_VIEW_INPLACE = ("A view was created in no_grad mode and is being modified inplace with grad mode enabled."
                        + _NO_GRAD_VIEW_HINT)
NO_GRAD_VIEW_REBASED = ("A view was created in no_grad mode and its base or another view of its base has been "
                        "modified inplace with grad mode enabled." + _NO_GRAD_VIEW_HINT)


def _check_can_require_grad(data, flag):
    if flag and not _dtype.is_floating(data.dtype):
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")


class Tensor:
    """An n-dimensional array with autograd, on 'cpu' (numpy) or 'cuda' (CuPy)."""
    # NOTE: the fields every tensor sets are slots; the rarely set ones are class defaults (an instance writes its
    # own only when it differs), so creating a tensor (every op) writes five fields instead of thirteen. Like
    # torch.Tensor, a tensor then also takes arbitrary attributes (the __dict__).
    # `_vc` is the in-place write count its storage's tensors share: a one-element list, the cheapest mutable int
    # to create (one per tensor, so per op; an object with a `value` attribute costs three times as much).
    __slots__ = ("_data", "_requires_grad", "_grad_fn", "_output_nr", "_vc", "__dict__", "__weakref__")
    _grad = None
    _base = None
    _view_chain = ()
    _view_version = 0
    _view_no_grad = False  # a view made in no_grad mode: it may not rewrite its base's history
    _hooks = None
    _post_accumulate_hooks = None
    _accumulate = None
    _retains_grad = False
    __array_priority__ = 1000  # numpy scalars on the left defer to our reflected operators

    def __new__(cls, *args, **kwargs):
        # legacy constructor: Tensor(2, 3) is an uninitialised float tensor; Tensor([1, 2]) copies the data
        from .creation import _legacy_new  # layering: the legacy constructor is creation's, above the tensor
        return _legacy_new(cls, *args, **kwargs)

    @classmethod
    def _make(cls, data, requires_grad=False, grad_fn=None, output_nr=0, version=None):
        t = object.__new__(cls)
        t._data = data
        t._requires_grad = requires_grad
        t._grad_fn = grad_fn
        t._output_nr = output_nr
        t._vc = version if version is not None else [0]
        return t

    # ---- basic properties -------------------------------------------------------------------
    @property
    def _xp(self):
        return np if type(self._data) is np.ndarray else _device.cupy()

    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return self.shape
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def dtype(self):
        return _dtype.from_numpy_dtype(self._data.dtype)

    @property
    def device(self):
        return _device.device_of_array(self._data)

    @property
    def is_cuda(self):
        return type(self._data) is not np.ndarray

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        return int(self._data.size)

    nelement = numel

    def element_size(self):
        return self._data.dtype.itemsize

    def is_floating_point(self):
        return _dtype.is_floating(self._data.dtype)

    def is_complex(self):
        return False  # (no complex dtypes here)

    def is_signed(self):
        return _dtype.from_numpy_dtype(self._data.dtype).is_signed

    def is_nonzero(self):
        if self._data.size == 0:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
        return self.__bool__()

    def is_same_size(self, other):
        if not isinstance(other, Tensor):
            raise TypeError(f"is_same_size(): argument 'other' (position 1) must be Tensor, not {type(other).__name__}")
        return self._data.shape == other._data.shape

    def is_contiguous(self, memory_format=None):
        return bool(self._data.flags.c_contiguous)

    def stride(self, dim=None):
        s = tuple(st // self._data.itemsize for st in self._data.strides)
        return s if dim is None else s[_wrap_dim(dim, self._data.ndim)]

    def data_ptr(self):
        if type(self._data) is np.ndarray:
            return self._data.__array_interface__["data"][0]
        return self._data.data.ptr

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __hash__(self):
        return id(self)

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        if type(self._data) is not np.ndarray:
            _device.raise_pending()
        return bool(self._data.reshape(()))

    def __float__(self):
        return float(self._scalar_item())

    def __int__(self):
        return int(self._scalar_item())

    def _scalar_item(self):
        """item() for int() / float() / bool(): PyTorch's ValueError for more than one element."""
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self):
        return complex(self.item())

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __repr__(self, *, prefix="tensor("):
        fn = self.grad_fn
        return tensor_repr(_device.to_host(self._data), dtype=self._data.dtype.name, device=str(self.device),
                           default_device=str(_device.get_default_device()), requires_grad=self.requires_grad,
                           is_leaf=fn is None, grad_fn_name=None if fn is None else type(fn).__name__, prefix=prefix)

    __str__ = __repr__

    # ---- host interop ------------------------------------------------------------------------
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        if type(self._data) is not np.ndarray:
            _device.raise_pending()
        return self._data.reshape(()).item()

    def tolist(self):
        return _device.to_host(self._data).tolist()

    def numpy(self, *, force=False):
        if type(self._data) is not np.ndarray:
            if not force:
                raise TypeError("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy "
                                "the tensor to host memory first.")
            return _device.to_host(self._data)
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                               "instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        if type(self._data) is not np.ndarray:
            raise TypeError("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the "
                            "tensor to host memory first.")
        return self._data if dtype is None else self._data.astype(dtype, copy=False)

    def __dlpack__(self, stream=None, **kwargs):
        if type(self._data) is np.ndarray:
            return self._data.__dlpack__(**kwargs)
        return self._data.__dlpack__(stream=stream, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    # ---- autograd attributes ----------------------------------------------------------------
    def _refresh_view(self):
        # NOTE: the base was written in place since this view last looked: rebuild grad_fn from the base's
        # current history, as PyTorch regenerates a view's grad_fn, so gradients never go to stale history.
        base = self._base
        if self._view_no_grad and base.requires_grad and grad_mode.is_grad_enabled():
            raise RuntimeError(NO_GRAD_VIEW_REBASED)
        self._view_version = self._vc[0]
        if base.requires_grad and grad_mode.is_grad_enabled():
            with grad_mode.enable_grad():
                t = _replay(base, self._view_chain)
            self._grad_fn, self._output_nr, self._requires_grad = t._grad_fn, t._output_nr, True

    @property
    def _version(self):
        """How many in-place writes this tensor's storage has seen (shared by its views and detach())."""
        return self._vc[0]

    def _bump_version(self):
        """Count one in-place write of this tensor's storage (its views and detach()es share the counter)."""
        self._vc[0] += 1

    @property
    def grad_fn(self):
        if self._base is not None and self._view_version != self._vc[0]:
            self._refresh_view()
        return self._grad_fn

    @property
    def requires_grad(self):
        if self._base is not None and self._view_version != self._vc[0]:
            self._refresh_view()
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if flag and not _dtype.is_floating(self._data.dtype):  # PyTorch words this unlike requires_grad_() and tensor(...)
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        if not isinstance(requires_grad, bool):
            raise TypeError(f"requires_grad_(): argument 'requires_grad' (position 1) must be bool, not "
                            f"{type(requires_grad).__name__}")
        if self.grad_fn is not None:
            if not requires_grad:
                raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to "
                                   "use a computed variable in a subgraph that doesn't require differentiation "
                                   "use var_no_grad = var.detach().")
            return self
        if requires_grad and not _dtype.is_floating(self._data.dtype):
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def output_nr(self):
        return self._output_nr

    @property
    def grad(self):
        if self.grad_fn is not None and not self._retains_grad and self._grad is None:
            warnings.warn(_NONLEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor of "
                                   f"size '{list(self.shape)}'. Please ensure that the gradient and the tensor are "
                                   "the same size")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError("attempting to assign a gradient with dtype "
                                   f"'{_C_TYPE_NAMES[value._data.dtype.name]}' to a tensor with grad_dtype '{SCALAR_TYPE_NAMES[self._data.dtype.name]}'. The "
                                   "gradient must match the tensor's grad_dtype (defaults to the tensor's dtype).")
            if value.device != self.device:
                raise RuntimeError(f"attempting to assign a gradient with device type '{value.device.type}' to a "
                                   f"tensor with device type '{self.device.type}'. Please ensure that the gradient "
                                   "and the tensor are on the same device")
        self._grad = value

    @property
    def retains_grad(self):
        return self._retains_grad

    def retain_grad(self):
        fn = self.grad_fn
        if fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if not self._retains_grad:
            if fn._retain is None:
                fn._retain = {}
                fn._hooked = True
            fn._retain[self._output_nr] = weakref.ref(self)
            self._retains_grad = True

    def register_hook(self, hook):
        """Register `hook(grad)` to run when this tensor's gradient is computed; it may return a new grad.

        >>> h = x.register_hook(lambda g: g * 2); ...; h.remove()
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        fn = self.grad_fn
        if fn is None:
            if self._hooks is None:
                self._hooks = _HookDict()
            return add_hook(self._hooks, hook)
        return add_hook(fn._tensor_hooks(self._output_nr), hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Register `hook(tensor)` (a leaf's) to run after backward has accumulated its gradient into `.grad`; it
        returns None (DistributedDataParallel starts its all-reduces from such hooks).

        >>> h = w.register_post_accumulate_grad_hook(lambda p: print(p.grad)); ...; h.remove()
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = _HookDict()
        return add_hook(self._post_accumulate_hooks, hook)

    def _grad_accumulator(self):
        node = self._accumulate() if self._accumulate is not None else None
        if node is None:
            node = AccumulateGrad(self)
            self._accumulate = weakref.ref(node)
        return node

    def _edge(self):
        fn = self.grad_fn
        if fn is not None:
            return (fn, self._output_nr)
        return (self._grad_accumulator(), 0)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into each leaf's .grad; `gradient` weights the vector-Jacobian product."""
        from .autograd._backward import backward  # layering: the autograd API sits above the tensor
        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self):
        """A new leaf sharing this tensor's storage and version counter, outside the graph."""
        return Tensor._make(self._data, False, None, 0, self._vc)

    def detach_(self):
        if self._base is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._requires_grad = False
        self._output_nr = 0
        return self

    @property
    def data(self):
        t = Tensor._make(self._data, False)
        return t

    @data.setter
    def data(self, value):
        self._data = value._data if isinstance(value, Tensor) else value

    def _owned_copy(self):
        """A detached copy with its own memory (for storing into .grad without aliasing)."""
        return Tensor._make(self._data.copy(), False)

    def _iadd_data(self, other):
        self._data += other._data
        self._bump_version()

    # ---- device and dtype moves -------------------------------------------------------------
    def to(self, *args, **kwargs):
        """to(device), to(dtype), to(device, dtype), to(other_tensor); copy=False and non_blocking accepted."""
        from .creation import _to  # layering: device and dtype moves make tensors: creation, above the tensor
        return _to(self, *args, **kwargs)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False):
        return self.to("cuda" if device is None else (device if not isinstance(device, int) else f"cuda:{device}"))

    def type(self, dtype=None):
        if dtype is None:
            return _legacy_type_name(self)
        if isinstance(dtype, str):  # a legacy type name: 'torch.IntTensor', 'torch.cuda.FloatTensor'
            names = {f"torch.{v}Tensor": k for k, v in SCALAR_TYPE_NAMES.items()}
            cuda = dtype.startswith("torch.cuda.")
            name = dtype.replace("torch.cuda.", "torch.")
            if name not in names:
                raise ValueError(f"invalid type: '{dtype}'")
            return self.to(device="cuda" if cuda else "cpu", dtype=_dtype.by_name(names[name]))
        return self.to(dtype)

    def float(self):
        return self.to(_dtype.float32)

    def double(self):
        return self.to(_dtype.float64)

    def half(self):
        return self.to(_dtype.float16)

    def bfloat16(self):
        return self.to(_dtype.bfloat16)

    def byte(self):
        return self.to(_dtype.uint8)

    def char(self):
        return self.to(_dtype.int8)

    def short(self):
        return self.to(_dtype.int16)

    def int(self):
        return self.to(_dtype.int32)

    def long(self):
        return self.to(_dtype.int64)

    def bool(self):
        return self.to(_dtype.bool)

    def type_as(self, other):
        return self.to(other.dtype)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        from .creation import tensor  # layering: creation sits above the tensor
        return tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def _new_filled(self, fill, size, dtype, device, requires_grad):
        from .creation import full  # layering: creation sits above the tensor
        if len(size) == 1 and isinstance(size[0], (tuple, list)):
            size = tuple(size[0])
        return full(size, fill, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return self._new_filled(0, size, dtype, device, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return self._new_filled(1, size, dtype, device, requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        return self._new_filled(fill_value, tuple(size), dtype, device, requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return self._new_filled(0, size, dtype, device, requires_grad)


def _legacy_type_name(t):
    """'torch.FloatTensor', 'torch.cuda.LongTensor', ...: the legacy name of t's type."""
    return _dtype.legacy_type_name(t._data)


def _wrap_dim(dim, ndim):
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def _replay(t, chain):
    """Re-apply the view ops of `chain` to `t` (a differentiable replay that shares t's memory)."""
    from .ops.core import apply  # layering: a view's history is replayed with the ops, which sit above the tensor
    for op, params, idx in chain:
        t = apply(op, t, **params)
        if idx is not None:
            t = t[idx]
    return t
