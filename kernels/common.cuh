// Shared helpers for every kernels/<family>.cu file.
//
// The loader (autograd_gpu/_kernels.py) inlines this header into each family's
// source, so NVRTC needs no include path and CuPy's compile cache sees header edits.
// No CUDA headers are included: NVRTC provides the math built-ins, and the g++ shim
// (tests/kernel_shim.h) provides the same names on the CPU.
#pragma once

// NOTE: sizes and indices are `long long`: an `int` index silently wraps for tensors
// with 2^31 or more elements, and blockIdx.x * blockDim.x overflows 32 bits long before.
#define AG_GRID_STRIDE_LOOP(i, n)                                              \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;     \
         i < (long long)(n); i += (long long)blockDim.x * gridDim.x)

// Math helpers overloaded on the float type, so templates call one name for both
// precisions (the *f functions for float keep float math in single precision).
__device__ __forceinline__ float ag_exp(float x) { return expf(x); }
__device__ __forceinline__ double ag_exp(double x) { return exp(x); }
__device__ __forceinline__ float ag_expm1(float x) { return expm1f(x); }
__device__ __forceinline__ double ag_expm1(double x) { return expm1(x); }
__device__ __forceinline__ float ag_log(float x) { return logf(x); }
__device__ __forceinline__ double ag_log(double x) { return log(x); }
__device__ __forceinline__ float ag_pow(float x, float y) { return powf(x, y); }
__device__ __forceinline__ double ag_pow(double x, double y) { return pow(x, y); }

// sign(x) as torch computes it: 0 for NaN (numpy's sign would give NaN).
template <typename T>
__device__ __forceinline__ T ag_sign(T x) {
    return (T)((T(0) < x) - (x < T(0)));
}

// Accumulator type for row reductions: float rows are summed in double.
template <typename T> struct ag_acc { typedef T type; };
template <> struct ag_acc<float> { typedef double type; };
