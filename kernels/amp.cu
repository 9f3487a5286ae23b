// Mixed precision: torch.amp.GradScaler's checks and updates on the device (autograd_gpu/amp/grad_scaler.py),
// so that no training step reads a value back to the host. found_inf, inv_scale, scale and growth_tracker are
// one-element float arrays on the device; found_inf is 1 when a gradient held an inf or a NaN, else 0.
#include "common.cuh"

// NOTE: x - x is 0 for every finite x and NaN for an inf or a NaN: a finiteness test without isfinite(),
// the same under NVRTC and g++ (and under -ftz, which flushes only subnormals).
template <typename T>
__device__ __forceinline__ bool ag_finite(T x) {
    return x - x == T(0);
}

// torch._amp_foreach_non_finite_check_and_unscale_, for one gradient: g *= inv_scale, and found_inf = 1 when
// an element of g is not finite (every thread that sees one writes the same 1). Launched over g's elements;
// found_inf and inv_scale are read and written at [0] only.
template <typename T>
__global__ void amp_non_finite_check_and_unscale(T* __restrict__ g, T* __restrict__ found_inf,
                                                 const T* __restrict__ inv_scale, long long n) {
    const T s = inv_scale[0];
    AG_GRID_STRIDE_LOOP(i, n) {
        const T v = g[i];
        if (!ag_finite(v)) found_inf[0] = T(1);
        g[i] = v * s;
    }
}

// torch._amp_update_scale_: after a step whose gradients overflowed the scale backs off and the count of
// clean steps restarts; after growth_interval clean steps in a row the scale grows (unless that overflows).
template <typename T>
__global__ void amp_update_scale(T* __restrict__ scale, T* __restrict__ growth_tracker,
                                 const T* __restrict__ found_inf, T growth_factor, T backoff_factor,
                                 T growth_interval, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        if (found_inf[i] != T(0)) {
            scale[i] = scale[i] * backoff_factor;
            growth_tracker[i] = T(0);
        } else {
            const T successful = growth_tracker[i] + T(1);
            if (successful == growth_interval) {
                const T grown = scale[i] * growth_factor;
                if (ag_finite(grown)) scale[i] = grown;
                growth_tracker[i] = T(0);
            } else {
                growth_tracker[i] = successful;
            }
        }
    }
}
