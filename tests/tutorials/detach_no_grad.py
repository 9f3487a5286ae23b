# Disabling gradient tracking: no_grad, detach, set_grad_enabled, inference_mode.
import torch

x = torch.ones(5)
w = torch.linspace(0, 1, 15).reshape(5, 3).requires_grad_()
b = torch.zeros(3, requires_grad=True)
z = torch.matmul(x, w) + b
print(z.requires_grad)
with torch.no_grad():
    z = torch.matmul(x, w) + b
print(z.requires_grad)
z = torch.matmul(x, w) + b
z_det = z.detach()
print(z_det.requires_grad, z_det.is_leaf, z_det)
z_det[0] = 100.
print(z)


@torch.no_grad()
def doubler(t):
    return t * 2


print(doubler(w).requires_grad, torch.is_grad_enabled())
with torch.set_grad_enabled(False):
    print((w * 2).requires_grad)
torch.set_grad_enabled(True)
print((w * 2).requires_grad)
with torch.inference_mode():
    print((w * 2).requires_grad)

with torch.no_grad():
    w[0, 0] = 5.
    w.mul_(2)
print(w.is_leaf, w.requires_grad, w[0])
print(w.data[1:3], w.data.requires_grad)
