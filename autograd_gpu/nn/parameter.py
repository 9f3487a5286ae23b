"""nn.Parameter and nn.Buffer: tensors that a Module registers as a parameter or a buffer when assigned."""
from ..tensor import Tensor
from ..creation import empty


class Parameter(Tensor):
    """A Tensor that requires grad by default and is registered when assigned to a Module attribute.

    It shares memory with `data`, as PyTorch's does.

    >>> p = nn.Parameter(torch.zeros(2))
    >>> p.requires_grad, p.is_leaf
    (True, True)
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = empty(0)
        p = cls._make(data._data, False)
        p.requires_grad_(requires_grad)
        return p

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return super().__repr__(prefix="Parameter containing:\ntensor(")

    __str__ = __repr__

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(Tensor._make(self._data.copy(), False), self.requires_grad)
        if self._grad is not None:
            result._grad = Tensor._make(self._grad._data.copy(), False)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, proto):
        return (_rebuild_parameter, (self.detach(), self.requires_grad))


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


class _BufferMeta(type):
    # isinstance(t, Buffer) is True for the tensors Buffer(...) returns (plain Tensors flagged _is_buffer)
    def __instancecheck__(cls, instance):
        if cls is Buffer and isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False):
            return True
        return super().__instancecheck__(instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """A tensor that a Module registers as a buffer when assigned as its attribute (persistent: in state_dict).

    As PyTorch's, it returns data detached (same memory, same requires_grad), flagged as a buffer.

    >>> m = nn.Module(); m.scale = nn.Buffer(torch.ones(3), persistent=False)
    >>> [n for n, _ in m.named_buffers()], list(m.state_dict())
    (['scale'], [])
    """

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = empty(0)
        t = data.detach().requires_grad_(data.requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t
