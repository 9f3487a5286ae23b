"""SyncBatchNorm: batch normalization whose training statistics are those of the whole global batch (every rank's
part), as if one process saw it; `convert_sync_batchnorm` swaps it in for the BatchNorm layers of a model."""
from ... import creation, distributed as dist
from ...autograd import grad_mode
from ...autograd.function import Function, once_differentiable
from ...ops.shape import cat
from .normalization import _BatchNorm


class _AllReduceSum(Function):
    """The sum over the ranks, differentiable: the gradient of each rank's part is the sum of the ranks' gradients."""

    @staticmethod
    def forward(ctx, x):
        out = x.clone()
        dist.all_reduce(out)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


class SyncBatchNorm(_BatchNorm):
    """BatchNorm over N, C, ... whose training mean and variance are taken over all ranks' batches (one
    all-reduce of the per-channel sums and count, one of the centred sums of squares; backward all-reduces
    their gradients); in eval mode, or alone in its world, it is BatchNorm. The weight and bias gradients are
    the rank's own (DistributedDataParallel averages them).

    >>> model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def forward(self, input):
        self._check_input_dim(input)
        synced = (self.training and dist.is_initialized()
                  and dist.get_world_size(self.process_group) > 1)
        if not synced:
            return super().forward(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats and self.num_batches_tracked is not None:
            with grad_mode.no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / self.num_batches_tracked.to(self.running_mean.dtype)
        c = input.shape[1]
        shape = (1, c) + (1,) * (input.dim() - 2)
        dims = (0,) + tuple(range(2, input.dim()))
        local_count = creation.full((1,), input.numel() // c, dtype=input.dtype, device=input.device)
        sums = _AllReduceSum.apply(cat([input.sum(dims), local_count]))
        count = sums[c:]
        mean = sums[:c] / count
        xc = input - mean.reshape(shape)
        var = _AllReduceSum.apply((xc * xc).sum(dims)) / count
        if self.track_running_stats and self.running_mean is not None:
            with grad_mode.no_grad():
                self.running_mean.mul_(1 - factor).add_(mean * factor)
                self.running_var.mul_(1 - factor).add_(var * (count / (count - 1)) * factor)
        out = xc * (var + self.eps).rsqrt().reshape(shape)
        if self.weight is not None:
            out = out * self.weight.reshape(shape)
        if self.bias is not None:
            out = out + self.bias.reshape(shape)
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """The module with every BatchNorm*D in it replaced by a SyncBatchNorm holding the same parameters,
        running statistics and mode."""
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats,
                      process_group)
            if module.affine:
                with grad_mode.no_grad():
                    out.weight = module.weight
                    out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
            if hasattr(module, "qconfig"):
                out.qconfig = module.qconfig
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out
