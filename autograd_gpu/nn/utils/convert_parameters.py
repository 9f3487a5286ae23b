"""Flatten parameters into one vector and back."""
from ...ops.shape import cat
from ...tensor import Tensor


def parameters_to_vector(parameters):
    """One 1-D tensor holding all the parameters, in order (differentiable)."""
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of `vec` into the parameters (their .data, as PyTorch does)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    pointer = 0
    for p in parameters:
        n = p.numel()
        p.data = vec[pointer:pointer + n].view_as(p).data  # shares vec's memory, as in PyTorch
        pointer += n
