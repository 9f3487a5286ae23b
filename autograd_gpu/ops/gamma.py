"""The gamma family: lgamma, digamma and (private) polygamma rows, and the reparameterised gradient of a standard
gamma draw (PyTorch's _standard_gamma_grad) that Gamma, Beta and Dirichlet rsample use.

Each is one formula over `xp` (numpy or CuPy), computed in float64 and rounded once: the same arithmetic on both
devices. x > 0 is shifted up by _SHIFT with the recurrence, then the asymptotic (Stirling) series takes over;
x < 0 goes through the reflection formulas."""
import contextlib
import math

import numpy as np

from .core import apply, defop
from .unary import unary

_SHIFT = 10  # the series below are good to ~1e-16 relative from x = 10 up
# B_2k / (2k (2k - 1)), k = 1..8: lgamma's Stirling series in 1/z
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156, -3617 / 122400)
# B_2k / (2k), k = 1..8: digamma's asymptotic series in 1/z^2
_PSI = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12, -3617 / 8160)
# B_2k / (2k)!, k = 1..9: the Euler-Maclaurin tail of the Hurwitz zeta function
_ZETA = (1 / 6 / 2, -1 / 30 / 24, 1 / 42 / 720, -1 / 30 / 40320, 5 / 66 / 3628800, -691 / 2730 / 479001600,
         7 / 6 / 87178291200, -3617 / 510 / 20922789888000, 43867 / 798 / 6402373705728000)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _quiet(xp):
    # (inf and nan are results here, as in PyTorch: numpy is told not to warn about them)
    return np.errstate(all="ignore") if xp is np else contextlib.nullcontext()


def _sinpi(xp, x):
    """sin(pi x), exact at the integers (x reduced to [-1/2, 1/2] first, with the sign of the period)."""
    n = xp.round(x)
    sign = 1 - 2 * xp.remainder(xp.abs(n), 2)
    return sign * xp.sin(math.pi * (x - n))


def _lgamma_pos(xp, t):
    """log Gamma(t) for t > 0 (inf at 0)."""
    z = t + _SHIFT
    shift = xp.log(t)
    for k in range(1, _SHIFT):
        shift = shift + xp.log(t + k)
    w = 1 / (z * z)
    series = _STIRLING[-1]
    for c in _STIRLING[-2::-1]:
        series = series * w + c
    return (z - 0.5) * xp.log(z) - z + _HALF_LOG_2PI + series / z - shift


def _lgamma_array(xp, x):
    """log |Gamma(x)|: inf at 0 and the negative integers, inf at +-inf."""
    x64 = x.astype(np.float64)
    with _quiet(xp):
        neg = x64 < 0
        t = xp.where(neg, 1 - x64, x64)
        out = _lgamma_pos(xp, t)
        reflected = math.log(math.pi) - xp.log(xp.abs(_sinpi(xp, x64))) - out
        out = xp.where(neg, reflected, out)
        out = xp.where(xp.isinf(x64), np.inf, out)
    return out.astype(x.dtype, copy=False)


def _digamma_pos(xp, t):
    z = t + _SHIFT
    shift = 1 / t
    for k in range(1, _SHIFT):
        shift = shift + 1 / (t + k)
    w = 1 / (z * z)
    series = _PSI[-1]
    for c in _PSI[-2::-1]:
        series = series * w + c
    return xp.log(z) - 0.5 / z - series * w - shift


def _digamma_array(xp, x):
    """d/dx log Gamma(x): -inf at +0, +inf at -0, nan at the negative integers and -inf (as PyTorch)."""
    x64 = x.astype(np.float64)
    with _quiet(xp):
        neg = x64 < 0
        t = xp.where(neg, 1 - x64, x64)
        out = _digamma_pos(xp, t)
        n = xp.round(x64)
        # psi(x) = psi(1 - x) - pi / tan(pi x), tan(pi x) = tan(pi (x - n))
        reflected = out - math.pi / xp.tan(math.pi * (x64 - n))
        out = xp.where(neg, xp.where(x64 == n, np.nan, reflected), out)
        out = xp.where(x64 == 0, xp.where(xp.signbit(x64), np.inf, -np.inf), out)
        out = xp.where(x64 == np.inf, np.inf, out)
    return out.astype(x.dtype, copy=False)


def _zeta_pos(xp, s, t):
    """The Hurwitz zeta function sum_k (t + k)^-s for an integer s >= 2 and t > 0 (Euler-Maclaurin)."""
    total = t ** -s
    for k in range(1, _SHIFT):
        total = total + (t + k) ** -s
    a = t + _SHIFT
    total = total + a ** (1 - s) / (s - 1) + 0.5 * a ** -s
    rising, power = float(s), a ** (-s - 1)
    for j, c in enumerate(_ZETA):
        total = total + c * rising * power
        rising *= (s + 2 * j + 1) * (s + 2 * j + 2)
        power = power / (a * a)
    return total


def _polygamma_array(xp, x, n):
    """The n-th derivative of digamma (n >= 1): (-1)^(n+1) n! zeta(n + 1, x). Below 0 the reflection formula is
    used for n = 1 and 2 (digamma's first and second derivatives); n >= 3 there is nan."""
    x64 = x.astype(np.float64)
    with _quiet(xp):
        neg = x64 < 0
        t = xp.where(neg, 1 - x64, x64)
        out = (-1) ** (n + 1) * math.factorial(n) * _zeta_pos(xp, n + 1, t)
        if n == 1:
            # psi1(x) = pi^2 / sin^2(pi x) - psi1(1 - x)
            reflected = math.pi ** 2 / _sinpi(xp, x64) ** 2 - out
        elif n == 2:
            # psi2(x) = psi2(1 - x) - 2 pi^3 cot(pi x) / sin^2(pi x)
            s = _sinpi(xp, x64)
            reflected = out - 2 * math.pi ** 3 / (xp.tan(math.pi * (x64 - xp.round(x64))) * s * s)
        else:
            reflected = xp.full_like(out, np.nan)
        out = xp.where(neg, reflected, out)
        out = xp.where(x64 == 0, np.inf if n % 2 else -np.inf, out)
        out = xp.where(x64 == np.inf, 0.0, out)
    return out.astype(x.dtype, copy=False)


POLYGAMMA = defop("polygamma", lambda xp, x, n: _polygamma_array(xp, x, n),
                  lambda ctx, g: g * apply(POLYGAMMA, ctx.saved[0], n=ctx.params["n"] + 1),
                  save=(0,), group="unary", dtype="float", public=False)
lgamma = unary("lgamma", _lgamma_array, lambda ctx, g: g * digamma(ctx.saved[0]), save=(0,))
digamma = unary("digamma", _digamma_array, lambda ctx, g: g * apply(POLYGAMMA, ctx.saved[0], n=1), save=(0,))


def polygamma(n, input):
    """The n-th derivative of digamma (the row is private: PyTorch's polygamma(n, input) puts n first)."""
    return digamma(input) if n == 0 else apply(POLYGAMMA, input, n=int(n))


# ---- the reparameterised gradient of a standard gamma draw -------------------------------------------------
# A bivariate rational approximation in u = log(x / alpha), v = log(alpha) (PyTorch's table)
_COEF_UV = ((0.16009398, -0.094634809, 0.025146376, -0.0030648343, 1, 0.32668115, 0.10406089, 0.0014179084),
            (0.53487893, 0.1298071, 0.065735949, -0.0015649758, 0.16639465, 0.020070113, -0.0035938915,
             -0.00058392623),
            (0.040121004, -0.0065914022, -0.0026286047, -0.0013441777, 0.017050642, -0.0021309326, 0.00085092367,
             -1.5247877e-07))


def standard_gamma_grad_array(xp, alpha, x):
    """dx/dalpha for x ~ Gamma(alpha, 1) held at its quantile: -(d/dalpha cdf(x; alpha)) / pdf(x; alpha).
    PyTorch's three regimes (Distributions.h, standard_gamma_grad_one), each computed over the whole array and
    selected: a Taylor series of the cdf for x < 0.8, Rice's saddle-point expansion for alpha > 8, else the
    rational approximation."""
    a, x = xp.broadcast_arrays(alpha.astype(np.float64), x.astype(np.float64))
    with _quiet(xp):
        # x < 0.8: the cdf's series, x^alpha sum_i (-x)^i / (i! (alpha + i)), and its derivative in alpha
        numer, denom = xp.ones_like(x), a
        series1, series2 = numer / denom, numer / (denom * denom)
        for i in range(1, 6):
            numer = numer * (-x / i)
            denom = denom + 1
            series1 = series1 + numer / denom
            series2 = series2 + numer / (denom * denom)
        pow_x_alpha = x ** a
        pdf = x ** (a - 1) * xp.exp(-x)
        cdf = pow_x_alpha * series1
        cdf_alpha = (xp.log(x) - _digamma_array(xp, a)) * cdf - pow_x_alpha * series2
        small = -cdf_alpha / pdf
        small = xp.where(xp.isnan(small), 0.0, small)
        # alpha > 8: the saddle-point expansion (a polynomial within 10% of alpha)
        near = (1 + 24 * a * (1 + 12 * a)) * (1440 * a * a + 6 * x * (53 - 120 * x) - 65 * x * x / a
                                              + a * (107 + 3600 * x)) / (1244160 * a * a * a * a)
        root = xp.sqrt(8 * a)
        term2 = root / (a - x)
        term3 = (x - a - a * xp.log(x / a)) ** -1.5
        term23 = xp.where(x < a, term2 - term3, term2 + term3)
        term1 = xp.log(x / a) * term23 - xp.sqrt(2 / a) * (a + x) / ((a - x) * (a - x))
        stirling = 1 + 1 / (12 * a) * (1 + 1 / (24 * a))
        far = -stirling * x * term1 / root
        large = xp.where((0.9 * a <= x) & (x <= 1.1 * a), near, far)
        u, v = xp.log(x / a), xp.log(a)
        cv = [c0 + u * (c1 + u * c2) for c0, c1, c2 in zip(*_COEF_UV)]
        p = cv[0] + v * (cv[1] + v * (cv[2] + v * cv[3]))
        q = cv[4] + v * (cv[5] + v * (cv[6] + v * cv[7]))
        rational = xp.exp(p / q)
        out = xp.where(x < 0.8, small, xp.where(a > 8, large, rational))
    return out


# ---- the reparameterised gradient of a Dirichlet draw, through its Beta marginals -------------------------------
# PyTorch's rational correction (Distributions.h, dirichlet_grad_one): c[0] the numerator's, c[1] the denominator's
# coefficients, indexed [power of u][power of a][power of b]
_DIRICHLET_C = (
    (((1.003668233, -0.01061107488, -0.0657888334, 0.01201642863),
      (0.6336835991, -0.3557432599, 0.05486251648, -0.001465281033),
      (-0.03276231906, 0.004474107445, 0.002429354597, -0.0001557569013)),
     ((0.221950385, -0.3187676331, 0.01799915743, 0.01074823814),
      (-0.2951249643, 0.06219954479, 0.01535556598, 0.001550077057),
      (0.02155310298, 0.004170831599, 0.001292462449, 6.976601077e-05)),
     ((-0.05980841433, 0.008441916499, 0.01085618172, 0.002319392565),
      (0.02911413504, 0.01400243777, -0.002721828457, 0.000751041181),
      (0.005900514878, -0.001936558688, -9.495446725e-06, 5.385558597e-05))),
    (((1, -0.02924021934, -0.04438342661, 0.007285809825),
      (0.6357567472, -0.3473456711, 0.05454656494, -0.002407477521),
      (-0.03301322327, 0.004845219414, 0.00231480583, -0.0002307248149)),
     ((0.5925320577, -0.1757678135, 0.01505928619, 0.000564515273),
      (0.1014815858, -0.06589186703, 0.01272886114, -0.0007316646956),
      (-0.007258481865, 0.001096195486, 0.0003934994223, -4.12701925e-05)),
     ((0.06469649321, -0.0236701437, 0.002902096474, -5.896963079e-05),
      (0.001925008108, -0.002869809258, 0.0008000589141, -6.063713228e-05),
      (-0.0003477407336, 6.959756487e-05, 1.097287507e-05, -1.650964693e-06))))


def _nan_to_zero(xp, v):
    return xp.where(xp.isnan(v), 0.0, v)


def _beta_grad_alpha_small(xp, x, alpha, beta):
    """x near 0: a Taylor series of the Beta cdf in x."""
    factor = _digamma_array(xp, alpha) - _digamma_array(xp, alpha + beta) - xp.log(x)
    numer = xp.ones_like(x)
    series = numer / alpha * (factor + 1 / alpha)
    for i in range(1, 11):
        numer = numer * ((i - beta) * x / i)
        denom = alpha + i
        series = series + numer / denom * (factor + 1 / denom)
    return _nan_to_zero(xp, x * (1 - x) ** -beta * series)


def _beta_grad_beta_small(xp, x, alpha, beta):
    """The gradient in beta for x near 0 (used at 1 - x for x near 1)."""
    factor = _digamma_array(xp, alpha + beta) - _digamma_array(xp, beta)
    numer, betas, dbetas, series = xp.ones_like(x), xp.ones_like(x), xp.zeros_like(x), factor / alpha
    for i in range(1, 9):
        numer = numer * (-x / i)
        dbetas = dbetas * (beta - i) + betas
        betas = betas * (beta - i)
        series = series + numer / (alpha + i) * (dbetas + factor * betas)
    return _nan_to_zero(xp, -(1 - x) ** (1 - beta) * series)


def _beta_grad_alpha_mid(xp, x, alpha, beta):
    """alpha and beta both large: Rice's saddle-point expansion (a polynomial right at the mean)."""
    total = alpha + beta
    mean = alpha / total
    std = xp.sqrt(alpha * beta / (total + 1)) / total
    poly = 47 * x * (beta * beta) * (beta * beta) + alpha * (
        (43 + 20 * (16 + 27 * beta) * x) * (beta * beta) * beta + alpha * (
            3 * (59 + 180 * beta - 90 * x) * (beta * beta) + alpha * (
                (453 + 1620 * beta * (1 - x) - 455 * x) * beta + alpha * (8 * (1 - x) * (135 * beta - 11)))))
    prefactor_num = (1 + 12 * alpha) * (1 + 12 * beta) / (total * total)
    prefactor_den = 12960 * alpha * alpha * alpha * beta * beta * (1 + 12 * total)
    at_mean = prefactor_num / (1 - x) * poly / prefactor_den
    prefactor = -x / xp.sqrt(2 * alpha * beta / total)
    stirling = ((1 + 1 / (12 * alpha) + 1 / (288 * alpha * alpha)) * (1 + 1 / (12 * beta) + 1 / (288 * beta * beta))
                / (1 + 1 / (12 * total) + 1 / (288 * total * total)))
    axbx = alpha * (x - 1) + beta * x
    term1 = ((2 * (alpha * alpha) * (x - 1) + alpha * beta * (x - 1) - x * (beta * beta))
             / (xp.sqrt(2 * alpha / beta) * total ** 1.5 * axbx * axbx))
    term2 = 0.5 * xp.log(alpha / (total * x))
    term3 = xp.sqrt(8 * alpha * beta / total) / (beta * x + alpha * (x - 1))
    term4 = (beta * xp.log(beta / (total * (1 - x))) + alpha * xp.log(alpha / (total * x))) ** -1.5
    away = stirling * prefactor * (term1 + term2 * (term3 + xp.where(x < mean, term4, -term4)))
    return xp.where((mean - 0.1 * std <= x) & (x <= mean + 0.1 * std), at_mean, away)


def dirichlet_grad_array(xp, x, alpha, total):
    """PyTorch's _dirichlet_grad: -(d/dalpha cdf(x; alpha, total - alpha)) / pdf(x; ...) / (1 - x) for x a Beta
    draw, the Dirichlet's reparameterised gradient coordinate by coordinate. Four regimes, as in PyTorch, each
    computed over the whole array and selected."""
    x, alpha, total = (a.astype(np.float64) for a in xp.broadcast_arrays(x, alpha, total))
    with _quiet(xp):
        beta = total - alpha
        boundary = total * x * (1 - x)
        u = xp.log(x)
        a = xp.log(alpha) - u
        b = xp.log(total) - a
        p = q = 0.0
        for i in range(3):
            for j in range(3):
                ua = u ** i * a ** j
                cp, cq = _DIRICHLET_C[0][i][j], _DIRICHLET_C[1][i][j]
                p = p + ua * (cp[0] + b * (cp[1] + b * (cp[2] + b * cp[3])))
                q = q + ua * (cq[0] + b * (cq[1] + b * (cq[2] + b * cq[3])))
        rational = p / q * (x * (_digamma_array(xp, total) - _digamma_array(xp, alpha)) / beta)
        out = xp.where((alpha > 6) & (beta > 6), _beta_grad_alpha_mid(xp, x, alpha, beta), rational)
        out = xp.where((x >= 0.5) & (boundary < 0.75), -_beta_grad_beta_small(xp, 1 - x, beta, alpha), out)
        out = xp.where((x <= 0.5) & (boundary < 2.5), _beta_grad_alpha_small(xp, x, alpha, beta), out)
    return out
