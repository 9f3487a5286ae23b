// Scatter kernels of convolution and pooling, templated over float and double.
// Argument order (the loader relies on it): inputs, outputs, the `long long` geometry
// (the KernelSpec's `sizes`), then n, the number of output elements.
//
// Both are written as gathers: one thread owns one image pixel and sums what every
// window covering it contributes, in (ki, kj) order. So no atomics are needed, the result
// is deterministic, and it matches the numpy reference (which adds one window offset at a
// time) bit for bit.
//
// Geometry of a window: output position (oh, ow) reads image pixel
//     h = oh * SH - PH + ki * DH,  w = ow * SW - PW + kj * DW,  0 <= ki < KH, 0 <= kj < KW,
// so a pixel h is read by (oh, ki) exactly when h + PH - ki * DH is a non-negative multiple
// of SH below OH * SH: for a given oh there is at most one ki.
#include "common.cuh"

// col2im (the adjoint of im2col): cols (C, KH, KW, N, OH, OW) -> img (N, C, H, W).
template <typename T>
__global__ void col2im(const T* __restrict__ cols, T* __restrict__ img,
                       long long N, long long C, long long H, long long W,
                       long long KH, long long KW, long long OH, long long OW,
                       long long SH, long long SW, long long PH, long long PW,
                       long long DH, long long DW, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const long long w = i % W;
        const long long h = (i / W) % H;
        const long long c = (i / (W * H)) % C;
        const long long b = i / (W * H * C);
        T acc = T(0);
        for (long long ki = 0; ki < KH; ++ki) {
            const long long th = h + PH - ki * DH;
            if (th < 0 || th % SH != 0 || th / SH >= OH) continue;
            const long long oh = th / SH;
            for (long long kj = 0; kj < KW; ++kj) {
                const long long tw = w + PW - kj * DW;
                if (tw < 0 || tw % SW != 0 || tw / SW >= OW) continue;
                const long long ow = tw / SW;
                acc += cols[((((c * KH + ki) * KW + kj) * N + b) * OH + oh) * OW + ow];
            }
        }
        img[i] = acc;
    }
}

// max_pool2d backward: g and idx (N, C, OH, OW), idx the flat h * W + w of each window's
// maximum -> gx (N, C, H, W): the sum of g over the windows whose maximum is this pixel.
template <typename T>
__global__ void max_pool2d_bwd(const T* __restrict__ g, const long long* __restrict__ idx,
                               T* __restrict__ gx,
                               long long N, long long C, long long H, long long W,
                               long long KH, long long KW, long long OH, long long OW,
                               long long SH, long long SW, long long PH, long long PW,
                               long long DH, long long DW, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const long long w = i % W;
        const long long h = (i / W) % H;
        const long long plane = i / (W * H);  // b * C + c
        const long long self = h * W + w;
        T acc = T(0);
        for (long long ki = 0; ki < KH; ++ki) {
            const long long th = h + PH - ki * DH;
            if (th < 0 || th % SH != 0 || th / SH >= OH) continue;
            const long long oh = th / SH;
            for (long long kj = 0; kj < KW; ++kj) {
                const long long tw = w + PW - kj * DW;
                if (tw < 0 || tw % SW != 0 || tw / SW >= OW) continue;
                const long long o = (plane * OH + oh) * OW + tw / SW;
                if (idx[o] == self) acc += g[o];
            }
        }
        gx[i] = acc;
    }
}
