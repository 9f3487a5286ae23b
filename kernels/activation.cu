// Backward kernels of activations, templated over float and double.
// Argument order (the loader relies on it): inputs, scalars, outputs, then n for
// elementwise kernels or (rows, cols) for row-wise kernels.
// Each formula is PyTorch's (tools/autograd/derivatives.yaml), operation for operation.
#include "common.cuh"

// relu (threshold_backward): 0 where result <= 0 else g (a NaN result passes g through)
template <typename T>
__global__ void relu_bwd(const T* __restrict__ g, const T* __restrict__ y,
                         T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) { gx[i] = y[i] <= T(0) ? T(0) : g[i]; }
}

// tanh: g * (1 - result^2)
template <typename T>
__global__ void tanh_bwd(const T* __restrict__ g, const T* __restrict__ y,
                         T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T yi = y[i];
        gx[i] = g[i] * (T(1) - yi * yi);
    }
}

// sigmoid: g * (1 - result) * result
template <typename T>
__global__ void sigmoid_bwd(const T* __restrict__ g, const T* __restrict__ y,
                            T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T yi = y[i];
        gx[i] = g[i] * (T(1) - yi) * yi;
    }
}

// Row-wise kernels: the loader moves the softmax dim last and makes the arrays
// contiguous; one thread walks one row of `cols` elements (grid-stride over rows).

// softmax: gx = y * (g - sum(g * y))
template <typename T>
__global__ void softmax_bwd(const T* __restrict__ g, const T* __restrict__ y,
                            T* __restrict__ gx, long long rows, long long cols) {
    typedef typename ag_acc<T>::type acc_t;
    AG_GRID_STRIDE_LOOP(r, rows) {
        const long long base = r * cols;
        acc_t dot = 0;
        for (long long j = 0; j < cols; ++j) dot += (acc_t)g[base + j] * (acc_t)y[base + j];
        const T s = (T)dot;
        for (long long j = 0; j < cols; ++j) gx[base + j] = y[base + j] * (g[base + j] - s);
    }
}

// log_softmax: gx = g - exp(y) * sum(g)
template <typename T>
__global__ void log_softmax_bwd(const T* __restrict__ g, const T* __restrict__ y,
                                T* __restrict__ gx, long long rows, long long cols) {
    typedef typename ag_acc<T>::type acc_t;
    AG_GRID_STRIDE_LOOP(r, rows) {
        const long long base = r * cols;
        acc_t sum = 0;
        for (long long j = 0; j < cols; ++j) sum += (acc_t)g[base + j];
        const T s = (T)sum;
        for (long long j = 0; j < cols; ++j) gx[base + j] = g[base + j] - ag_exp(y[base + j]) * s;
    }
}

// hardtanh: 0 where x <= min_val or x >= max_val, else g (a NaN x passes g through)
template <typename T>
__global__ void hardtanh_bwd(const T* __restrict__ g, const T* __restrict__ x, T min_val, T max_val,
                             T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) { gx[i] = (x[i] <= min_val || x[i] >= max_val) ? T(0) : g[i]; }
}

// threshold: 0 where x <= threshold, else g
template <typename T>
__global__ void threshold_bwd(const T* __restrict__ g, const T* __restrict__ x, T threshold,
                              T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) { gx[i] = x[i] <= threshold ? T(0) : g[i]; }
}

// softshrink: 0 where -lambd <= x <= lambd, else g
template <typename T>
__global__ void softshrink_bwd(const T* __restrict__ g, const T* __restrict__ x, T lambd,
                               T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) { gx[i] = (x[i] >= -lambd && x[i] <= lambd) ? T(0) : g[i]; }
}

// hardshrink: 0 where -lambd <= x <= lambd, else g
template <typename T>
__global__ void hardshrink_bwd(const T* __restrict__ g, const T* __restrict__ x, T lambd,
                               T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) { gx[i] = (x[i] >= -lambd && x[i] <= lambd) ? T(0) : g[i]; }
}

// hardsigmoid: g / 6 where -3 < x < 3, else 0
template <typename T>
__global__ void hardsigmoid_bwd(const T* __restrict__ g, const T* __restrict__ x,
                                T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) { gx[i] = (x[i] > T(-3) && x[i] < T(3)) ? g[i] / T(6) : T(0); }
}

// hardswish: 0 where x < -3, g * (x / 3 + 0.5) where x <= 3, else g
template <typename T>
__global__ void hardswish_bwd(const T* __restrict__ g, const T* __restrict__ x,
                              T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T xi = x[i];
        gx[i] = xi < T(-3) ? T(0) : (xi <= T(3) ? g[i] * (xi / T(3) + T(0.5)) : g[i]);
    }
}

// elu (and celu, selu): x <= 0: g * alpha * scale * input_scale * exp(x * input_scale); else g * scale
template <typename T>
__global__ void elu_bwd(const T* __restrict__ g, const T* __restrict__ x, T alpha, T scale, T input_scale,
                        T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T xi = x[i];
        gx[i] = xi <= T(0) ? g[i] * (alpha * scale * input_scale) * ag_exp(xi * input_scale) : g[i] * scale;
    }
}

// log_sigmoid: g * sigmoid(-x), as g * (x > 0 ? e : 1) / (1 + e) with e = exp(-|x|)
template <typename T>
__global__ void log_sigmoid_bwd(const T* __restrict__ g, const T* __restrict__ x,
                                T* __restrict__ gx, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T xi = x[i];
        const T e = ag_exp(xi > T(0) ? -xi : xi);
        gx[i] = g[i] * (xi > T(0) ? e : T(1)) / (T(1) + e);
    }
}
