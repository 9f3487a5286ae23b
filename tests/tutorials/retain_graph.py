# retain_graph: a second backward needs it; a graph that saved nothing does not.
import torch

x = torch.tensor([1., 2., 3.], requires_grad=True)
y = (x * x).sum()
y.backward(retain_graph=True)
print(x.grad)
y.backward()
print(x.grad)
try:
    y.backward()
except RuntimeError as e:
    print("RuntimeError:", str(e).split(".")[0])

s = (x + x).sum()
s.backward()
s.backward()
print(x.grad)

e = x.exp()
out = e.sum()
e.add_(1)
try:
    out.backward()
except RuntimeError as err:
    print("RuntimeError:", str(err).split(":")[0])
