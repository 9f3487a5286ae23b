"""torch.amp: mixed precision. `autocast` regions run PyTorch's listed ops in float16 / bfloat16 or float32;
`GradScaler` scales the loss so float16 gradients do not underflow and skips steps whose gradients overflowed."""
from .autocast_mode import autocast, is_autocast_available  # noqa: F401
from .grad_scaler import GradScaler, OptState  # noqa: F401
