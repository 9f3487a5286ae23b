# Tensor hooks: see, replace, remove.
import torch

v = torch.tensor([0., 0., 0.], requires_grad=True)
h = v.register_hook(lambda grad: grad * 2)
v.backward(torch.tensor([1., 2., 3.]))
print(v.grad)
h.remove()
v.grad = None
v.backward(torch.tensor([1., 2., 3.]))
print(v.grad)

x = torch.tensor([1., 2.], requires_grad=True)
y = x * x
y.register_hook(lambda g: print("grad of y:", g))
y.register_hook(lambda g: g + 1)
y.register_hook(lambda g: print("after +1:", g))
x.register_hook(lambda g: print("grad of x:", g))
y.retain_grad()
y.sum().backward()
print(x.grad, y.grad)
