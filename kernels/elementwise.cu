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
