# "Autograd: automatic differentiation" (60-minute blitz): requires_grad, grad_fn, backward of a mean.
import torch

x = torch.ones(2, 2, requires_grad=True)
print(x)
y = x + 2
print(y)
print(y.grad_fn.name(), y.is_leaf, x.is_leaf)
z = y * y * 3
out = z.mean()
print(z, out)

a = torch.tensor([[2., 3.], [4., 5.]])
a = ((a * 3) / (a - 1))
print(a.requires_grad)
a.requires_grad_(True)
print(a.requires_grad)
b = (a * a).sum()
print(b.grad_fn.name())

out.backward()
print(x.grad)
print(torch.tensor([1, 2]).requires_grad, (x > 1).requires_grad)
try:
    torch.tensor([1, 2], requires_grad=True)
except RuntimeError as e:
    print("RuntimeError:", e)
