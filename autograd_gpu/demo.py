"""A short autograd demo: ``python -m autograd_gpu.demo`` (or ``make demo``)."""

import autograd_gpu as torch


def main():
    x = torch.tensor([-2.0, -1.0, 0.0, 0.5, 1.0, 2.0], requires_grad=True)
    y = (x**2 + 3 * x).sum()
    y.backward()

    with torch.no_grad():
        expected = 2 * x + 3  # d/dx (x^2 + 3x)

    print(f"device:          {x.device}")
    print(f"x:               {x}")
    print(f"y = sum(x^2+3x): {y}")
    print(f"x.grad:          {x.grad}")
    print(f"2x + 3:          {expected}")
    if ((x.grad - expected) ** 2).sum().item() > 1e-12:
        raise SystemExit("x.grad does not match 2x + 3")
    print("x.grad matches the analytic gradient 2x + 3")


if __name__ == "__main__":
    main()
