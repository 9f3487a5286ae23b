// Backward kernels of elementwise math ops, templated over float and double.
// Argument order (the loader relies on it): inputs, scalars, outputs, n.
// Each formula is PyTorch's (tools/autograd/derivatives.yaml), operation for operation.
#include "common.cuh"

// exp: g * result
template <typename T>
__global__ void exp_bwd(const T* __restrict__ g, const T* __restrict__ y,
                        T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) { gx[i] = g[i] * y[i]; }
}

// log: g / self
template <typename T>
__global__ void log_bwd(const T* __restrict__ g, const T* __restrict__ x,
                        T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) { gx[i] = g[i] / x[i]; }
}

// log1p: g / (self + 1)
template <typename T>
__global__ void log1p_bwd(const T* __restrict__ g, const T* __restrict__ x,
                          T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) { gx[i] = g[i] / (x[i] + T(1)); }
}

// sqrt: g / (2 * result)
template <typename T>
__global__ void sqrt_bwd(const T* __restrict__ g, const T* __restrict__ y,
                         T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) { gx[i] = g[i] / (T(2) * y[i]); }
}

// rsqrt: -0.5 * g * result^3
template <typename T>
__global__ void rsqrt_bwd(const T* __restrict__ g, const T* __restrict__ y,
                          T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T yi = y[i];
        gx[i] = T(-0.5) * g[i] * (yi * yi * yi);
    }
}

// atan: g / (self * self + 1)
template <typename T>
__global__ void atan_bwd(const T* __restrict__ g, const T* __restrict__ x,
                         T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T xi = x[i];
        gx[i] = g[i] / (xi * xi + T(1));
    }
}

// pow(a, b) = y:  ga = where(b == 0, 0, g * (b * a^(b-1)))
//                 gb = g * where(a == 0 & b >= 0, 0, y * log(a))
template <typename T>
__global__ void pow_bwd(const T* __restrict__ g, const T* __restrict__ a,
                        const T* __restrict__ b, const T* __restrict__ y,
                        T* __restrict__ ga, T* __restrict__ gb, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T gi = g[i], ai = a[i], bi = b[i];
        ga[i] = bi == T(0) ? T(0) : gi * (bi * ag_pow(ai, bi - T(1)));
        gb[i] = gi * ((ai == T(0) && bi >= T(0)) ? T(0) : y[i] * ag_log(ai));
    }
}

// a / b:  ga = g / b,  gb = -g * ((a / b) / b)
template <typename T>
__global__ void div_bwd(const T* __restrict__ g, const T* __restrict__ a,
                        const T* __restrict__ b, T* __restrict__ ga,
                        T* __restrict__ gb, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T gi = g[i], bi = b[i];
        ga[i] = gi / bi;
        gb[i] = -gi * ((a[i] / bi) / bi);
    }
}

// abs: g * sgn(self)
template <typename T>
__global__ void abs_bwd(const T* __restrict__ g, const T* __restrict__ x,
                        T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) { gx[i] = g[i] * ag_sign(x[i]); }
}

// clamp: g where lo <= x <= hi else 0 (an absent bound is passed as +-inf; NaN x gets 0)
template <typename T>
__global__ void clamp_bwd(const T* __restrict__ g, const T* __restrict__ x,
                          T lo, T hi, T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T xi = x[i];
        gx[i] = (xi >= lo && xi <= hi) ? g[i] : T(0);
    }
}

// maximum/minimum: ties split the gradient; a NaN operand gives both inputs g,
// as torch's where(a == b, g / 2, g).masked_fill_(a < b, 0) does.
template <typename T, bool IS_MAX>
__device__ __forceinline__ void maxmin_bwd_impl(const T* __restrict__ g, const T* __restrict__ a,
                                                const T* __restrict__ b, T* __restrict__ ga,
                                                T* __restrict__ gb, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T gi = g[i], ai = a[i], bi = b[i];
        const T shared = ai == bi ? gi / T(2) : gi;
        const bool a_loses = IS_MAX ? ai < bi : ai > bi;
        const bool b_loses = IS_MAX ? ai > bi : ai < bi;
        ga[i] = a_loses ? T(0) : shared;
        gb[i] = b_loses ? T(0) : shared;
    }
}

template <typename T>
__global__ void maximum_bwd(const T* __restrict__ g, const T* __restrict__ a,
                            const T* __restrict__ b, T* __restrict__ ga,
                            T* __restrict__ gb, long long n) {
    maxmin_bwd_impl<T, true>(g, a, b, ga, gb, n);
}

template <typename T>
__global__ void minimum_bwd(const T* __restrict__ g, const T* __restrict__ a,
                            const T* __restrict__ b, T* __restrict__ ga,
                            T* __restrict__ gb, long long n) {
    maxmin_bwd_impl<T, false>(g, a, b, ga, gb, n);
}

// where(cond, a, b): ga = g where cond else 0, gb = 0 where cond else g
template <typename T>
__global__ void where_bwd(const T* __restrict__ g, const bool* __restrict__ cond,
                          T* __restrict__ ga, T* __restrict__ gb, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T gi = g[i];
        const bool c = cond[i];
        ga[i] = c ? gi : T(0);
        gb[i] = c ? T(0) : gi;
    }
}

// ---- issue 11: more elementwise ops -------------------------------------------------------------
// The math of these kernels, one overload per float type (*f for float keeps float math single).
// sqrt is correctly rounded on both sides; the others are within a few ulp of libm / numpy.
__device__ __forceinline__ float ag_sqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double ag_sqrt(double x) { return sqrt(x); }
__device__ __forceinline__ float ag_sinh(float x) { return sinhf(x); }
__device__ __forceinline__ double ag_sinh(double x) { return sinh(x); }
__device__ __forceinline__ float ag_cosh(float x) { return coshf(x); }
__device__ __forceinline__ double ag_cosh(double x) { return cosh(x); }
__device__ __forceinline__ float ag_exp2(float x) { return exp2f(x); }
__device__ __forceinline__ double ag_exp2(double x) { return exp2(x); }

// asin: g / sqrt(1 - x * x)
template <typename T>
__global__ void asin_bwd(const T* __restrict__ g, const T* __restrict__ x,
                         T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T xi = x[i];
        gx[i] = g[i] / ag_sqrt(T(1) - xi * xi);
    }
}

// acos: -g / sqrt(1 - x * x)
template <typename T>
__global__ void acos_bwd(const T* __restrict__ g, const T* __restrict__ x,
                         T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T xi = x[i];
        gx[i] = -g[i] / ag_sqrt(T(1) - xi * xi);
    }
}

// sinh: g * cosh(x)
template <typename T>
__global__ void sinh_bwd(const T* __restrict__ g, const T* __restrict__ x,
                         T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) { gx[i] = g[i] * ag_cosh(x[i]); }
}

// cosh: g * sinh(x)
template <typename T>
__global__ void cosh_bwd(const T* __restrict__ g, const T* __restrict__ x,
                         T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) { gx[i] = g[i] * ag_sinh(x[i]); }
}

// asinh: g / sqrt(x * x + 1)
template <typename T>
__global__ void asinh_bwd(const T* __restrict__ g, const T* __restrict__ x,
                          T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T xi = x[i];
        gx[i] = g[i] / ag_sqrt(xi * xi + T(1));
    }
}

// acosh: g / sqrt(x * x - 1)
template <typename T>
__global__ void acosh_bwd(const T* __restrict__ g, const T* __restrict__ x,
                          T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T xi = x[i];
        gx[i] = g[i] / ag_sqrt(xi * xi - T(1));
    }
}

// atanh: g / (1 - x * x)
template <typename T>
__global__ void atanh_bwd(const T* __restrict__ g, const T* __restrict__ x,
                          T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T xi = x[i];
        gx[i] = g[i] / (T(1) - xi * xi);
    }
}

// erf: g * (2 / sqrt(pi) * exp(-x^2)); erfc: the same, negated
template <typename T>
__global__ void erf_bwd(const T* __restrict__ g, const T* __restrict__ x,
                        T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T xi = x[i];
        gx[i] = g[i] * (T(1.1283791670955126) * ag_exp(-(xi * xi)));
    }
}

template <typename T>
__global__ void erfc_bwd(const T* __restrict__ g, const T* __restrict__ x,
                         T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T xi = x[i];
        gx[i] = g[i] * (T(-1.1283791670955126) * ag_exp(-(xi * xi)));
    }
}

// erfinv (y = result): g * (sqrt(pi) / 2 * exp(y^2))
template <typename T>
__global__ void erfinv_bwd(const T* __restrict__ g, const T* __restrict__ y,
                           T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T yi = y[i];
        gx[i] = g[i] * (T(0.88622692545275801) * ag_exp(yi * yi));
    }
}

// exp2 (y = result): g * y * ln 2
template <typename T>
__global__ void exp2_bwd(const T* __restrict__ g, const T* __restrict__ y,
                         T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) { gx[i] = g[i] * y[i] * T(0.69314718055994531); }
}

// sinc (y = result, c = cos(pi x)): g * (c - y) / x, 0 at x = 0, where sinc is flat
// (= torch's (pi x cos(pi x) - sin(pi x)) / (pi x^2); cos is an input so that the kernel is plain arithmetic)
template <typename T>
__global__ void sinc_bwd(const T* __restrict__ g, const T* __restrict__ x,
                         const T* __restrict__ y, const T* __restrict__ c,
                         T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T xi = x[i];
        gx[i] = xi == T(0) ? T(0) : g[i] * (c[i] - y[i]) / xi;
    }
}

// logit: g / (x (1 - x)) inside [lo, hi], `outside` beyond (NaN without eps, 0 with it); NaN x gives NaN
template <typename T>
__global__ void logit_bwd(const T* __restrict__ g, const T* __restrict__ x, T lo, T hi, T outside,
                          T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T xi = x[i];
        gx[i] = (xi < lo || xi > hi) ? outside : g[i] / (xi * (T(1) - xi));
    }
}

// nan_to_num: g where x is finite, else 0 (g * isfinite(x); x - x is 0 exactly for finite x)
template <typename T>
__global__ void nan_to_num_bwd(const T* __restrict__ g, const T* __restrict__ x,
                               T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T xi = x[i];
        gx[i] = g[i] * T(xi - xi == T(0));
    }
}

// atan2(a, b):  r = 1 / (a^2 + b^2) (0 at the origin),  ga = g * b * r,  gb = g * -a * r
template <typename T>
__global__ void atan2_bwd(const T* __restrict__ g, const T* __restrict__ a,
                          const T* __restrict__ b, T* __restrict__ ga,
                          T* __restrict__ gb, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T gi = g[i], ai = a[i], bi = b[i];
        const T d = ai * ai + bi * bi;
        const T r = d == T(0) ? T(0) : T(1) / d;
        ga[i] = gi * bi * r;
        gb[i] = gi * -ai * r;
    }
}

// logaddexp(a, b):  ga = g / (1 + exp(b - a)),  gb = g / (1 + exp(a - b))
template <typename T>
__global__ void logaddexp_bwd(const T* __restrict__ g, const T* __restrict__ a,
                              const T* __restrict__ b, T* __restrict__ ga,
                              T* __restrict__ gb, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T gi = g[i], ai = a[i], bi = b[i];
        ga[i] = gi / (T(1) + ag_exp(bi - ai));
        gb[i] = gi / (T(1) + ag_exp(ai - bi));
    }
}

// logaddexp2(a, b):  ga = g / (1 + 2^(b - a)),  gb = g / (1 + 2^(a - b))
template <typename T>
__global__ void logaddexp2_bwd(const T* __restrict__ g, const T* __restrict__ a,
                               const T* __restrict__ b, T* __restrict__ ga,
                               T* __restrict__ gb, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T gi = g[i], ai = a[i], bi = b[i];
        ga[i] = gi / (T(1) + ag_exp2(bi - ai));
        gb[i] = gi / (T(1) + ag_exp2(ai - bi));
    }
}

// hypot(a, b) = y:  ga = g * a / y,  gb = g * b / y
template <typename T>
__global__ void hypot_bwd(const T* __restrict__ g, const T* __restrict__ a,
                          const T* __restrict__ b, const T* __restrict__ y,
                          T* __restrict__ ga, T* __restrict__ gb, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T gi = g[i], yi = y[i];
        ga[i] = gi * a[i] / yi;
        gb[i] = gi * b[i] / yi;
    }
}

// copysign(x, s) = y:  gx = g * (y / x), 0 where x is 0 (the sign's gradient is zero, not computed here)
template <typename T>
__global__ void copysign_bwd(const T* __restrict__ g, const T* __restrict__ x,
                             const T* __restrict__ y, T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T xi = x[i];
        gx[i] = g[i] * (xi == T(0) ? T(0) : y[i] / xi);
    }
}

// xlogy(x, y) = x log y, 0 where x is 0 (and y not NaN):
//   gx = xlogy(g, y), 0 where x == 0 and y <= 0;  gy = g * x / y
template <typename T>
__global__ void xlogy_bwd(const T* __restrict__ g, const T* __restrict__ x,
                          const T* __restrict__ y, T* __restrict__ gx,
                          T* __restrict__ gy, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T gi = g[i], xi = x[i], yi = y[i];
        const T glog = (gi == T(0) && yi == yi) ? T(0) : gi * ag_log(yi);
        gx[i] = (xi == T(0) && yi <= T(0)) ? T(0) : glog;
        gy[i] = gi * xi / yi;
    }
}

// fmax / fmin: a takes g where it wins, ties included, or where b is NaN; b takes it elsewhere
template <typename T, bool IS_MAX>
__device__ __forceinline__ void fmaxmin_bwd_impl(const T* __restrict__ g, const T* __restrict__ a,
                                                 const T* __restrict__ b, T* __restrict__ ga,
                                                 T* __restrict__ gb, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T gi = g[i], ai = a[i], bi = b[i];
        const bool take_a = (IS_MAX ? ai >= bi : ai <= bi) || bi != bi;
        ga[i] = take_a ? gi : T(0);
        gb[i] = take_a ? T(0) : gi;
    }
}

template <typename T>
__global__ void fmax_bwd(const T* __restrict__ g, const T* __restrict__ a,
                         const T* __restrict__ b, T* __restrict__ ga,
                         T* __restrict__ gb, long long n) {
    fmaxmin_bwd_impl<T, true>(g, a, b, ga, gb, n);
}

template <typename T>
__global__ void fmin_bwd(const T* __restrict__ g, const T* __restrict__ a,
                         const T* __restrict__ b, T* __restrict__ ga,
                         T* __restrict__ gb, long long n) {
    fmaxmin_bwd_impl<T, false>(g, a, b, ga, gb, n);
}

// lerp(a, b, w) with a tensor weight:  ga = g * (1 - w),  gb = g * w,  gw = g * (b - a)
template <typename T>
__global__ void lerp_bwd(const T* __restrict__ g, const T* __restrict__ a,
                         const T* __restrict__ b, const T* __restrict__ w,
                         T* __restrict__ ga, T* __restrict__ gb, T* __restrict__ gw, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T gi = g[i], wi = w[i];
        ga[i] = gi * (T(1) - wi);
        gb[i] = gi * wi;
        gw[i] = gi * (b[i] - a[i]);
    }
}

// lerp(a, b, w) with a scalar weight:  ga = g * (1 - w),  gb = g * w
template <typename T>
__global__ void lerp_scalar_bwd(const T* __restrict__ g, T w, T* __restrict__ ga, T* __restrict__ gb,
                                long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T gi = g[i];
        ga[i] = gi * (T(1) - w);
        gb[i] = gi * w;
    }
}

// xlogy(s, y) with a scalar s:  gy = g * s / y
template <typename T>
__global__ void xlogy_self_bwd(const T* __restrict__ g, const T* __restrict__ y, T s,
                               T* __restrict__ gy, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) { gy[i] = g[i] * s / y[i]; }
}

// xlogy(x, o) with a scalar o (log_o = log(o), computed once):
//   gx = xlogy(g, o), and 0 where x == 0 unless o > 0
template <typename T>
__global__ void xlogy_other_bwd(const T* __restrict__ g, const T* __restrict__ x, T o, T log_o,
                                T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T gi = g[i];
        const T glog = (gi == T(0) && o == o) ? T(0) : gi * log_o;
        gx[i] = (o > T(0) || x[i] != T(0)) ? glog : T(0);
    }
}

// deg2rad: g * pi / 180; rad2deg: g * 180 / pi
template <typename T>
__global__ void deg2rad_bwd(const T* __restrict__ g, T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) { gx[i] = g[i] * T(0.017453292519943295); }
}

template <typename T>
__global__ void rad2deg_bwd(const T* __restrict__ g, T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) { gx[i] = g[i] * T(57.29577951308232); }
}
