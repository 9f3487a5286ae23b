# Tensor gradients and Jacobian products: repeated backward with retain_graph, and zeroing grads.
import torch

inp = torch.eye(4, 5, requires_grad=True)
out = (inp + 1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"First call\n{inp.grad}")
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nSecond call\n{inp.grad}")
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nCall after zeroing gradients\n{inp.grad}")

# one Jacobian row per backward call
x = torch.tensor([1., 2., 3.], requires_grad=True)
y = torch.stack([x[0] * x[1], x[1] ** 2, x.sum(), (x * x).sum().sqrt()])
rows = []
for i in range(4):
    x.grad = None
    y.backward(torch.eye(4)[i], retain_graph=True)
    rows.append(x.grad)
print(torch.stack(rows))
