# Building a tensor by writing graph values into a zeros tensor (CopySlices).
import torch

m = torch.tensor([[1., 2.], [3., 4.]], requires_grad=True)
n = torch.zeros(1, 2)
n[0, 0] = m[0, 0] ** 2
n[0, 1] = m[0, 1] ** 3
print(n)
print(n.grad_fn.name())
n.backward(torch.tensor([[1., 1.]]))
print(m.grad)

out = torch.zeros(3, 2)
for i in range(3):
    out[i] = m[i % 2] * (i + 1)
print(out)
out.sum().backward()
print(m.grad)
