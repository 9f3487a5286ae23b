# backward(gradient): the vector-Jacobian product of a non-scalar output.
import torch

x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
y = x * 2
while y.data.norm() < 1000:
    y = y * 2
print(y)
v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
y.backward(v)
print(x.grad)

try:
    (x * 2).backward()
except RuntimeError as e:
    print("RuntimeError:", e)

# the "Automatic differentiation with torch.autograd" tutorial, with fixed weights
x = torch.ones(5)
y = torch.zeros(3)
w = torch.linspace(-1, 1, 15).reshape(5, 3).requires_grad_()
b = torch.tensor([0.1, -0.2, 0.3], requires_grad=True)
z = torch.matmul(x, w) + b
p = z.sigmoid()
loss = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
print(f"Gradient function for z = {z.grad_fn.name()}")
print(f"Gradient function for loss = {loss.grad_fn.name()}")
loss.backward()
print(w.grad)
print(b.grad)
