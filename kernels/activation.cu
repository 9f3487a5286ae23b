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
