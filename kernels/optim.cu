// Fused optimizer updates. Each optimizer's update of element i is written once, as a __device__
// function `<name>_update` (given the element's gradient), and launched two ways: `<name>_step`, one
// launch per parameter (its state in place), and `<name>_step_multi_tensor`, one launch for every
// parameter of a group (foreach=True: the table of the multi-tensor block below). SGD, Adam and
// Adagrad also have a fused step, `<name>_fused_step` (and its multi-tensor twin), that decides on
// the device, as PyTorch's fused optimizers: see "fused steps" below.
// Argument order (the loader relies on it): inputs (the updated ones as `T*`), scalars, n.
// Each formula is torch.optim's single-tensor step (torch/optim/<name>.py), operation for
// operation, so rounding matches. Scalars that only depend on the step count (bias
// corrections, decayed lr) are computed on the host in double and passed as T.
// Flags (maximize, nesterov, first) are passed as T: nonzero means true. They are the same
// for every thread, so the branches on them never diverge.
#include "common.cuh"

__device__ __forceinline__ float ag_sqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double ag_sqrt(double x) { return sqrt(x); }

// torch.maximum: NaN if either operand is NaN.
template <typename T>
__device__ __forceinline__ T ag_maximum(T a, T b) {
    return (a != a || a > b) ? a : b;
}

// torch.lerp(start, end, w), as ATen writes it: the formula depends on |w| < 0.5.
template <typename T>
__device__ __forceinline__ T ag_lerp(T start, T end, T w) {
    return (w < T(0.5) && w > T(-0.5)) ? start + w * (end - start)
                                       : end - (end - start) * (T(1) - w);
}

// The gradient every optimizer starts from: -g if maximize, plus weight_decay * p (L2).
template <typename T>
__device__ __forceinline__ T ag_grad(T g, T p, T weight_decay, T maximize) {
    if (maximize != T(0)) g = -g;
    if (weight_decay != T(0)) g = g + weight_decay * p;
    return g;
}

// ---------------------------------------------------------------- the updates of element i

// SGD without momentum: p -= lr * g
template <typename T>
__device__ __forceinline__ void sgd_update(long long i, T* __restrict__ p, T g, T lr, T weight_decay,
                                           T maximize) {
    const T pi = p[i];
    p[i] = pi - lr * ag_grad(g, pi, weight_decay, maximize);
}

// SGD with momentum: buf = g on the first step, else buf * momentum + (1 - dampening) * g;
// p -= lr * (nesterov ? g + momentum * buf : buf)
template <typename T>
__device__ __forceinline__ void sgd_momentum_update(long long i, T* __restrict__ p, T g, T* __restrict__ buf,
                                                    T lr, T weight_decay, T momentum, T damp_alpha,
                                                    T nesterov, T maximize, T first) {
    const T pi = p[i];
    const T gi = ag_grad(g, pi, weight_decay, maximize);
    const T bi = first != T(0) ? gi : buf[i] * momentum + damp_alpha * gi;
    buf[i] = bi;
    p[i] = pi - lr * (nesterov != T(0) ? gi + momentum * bi : bi);
}

// Adam / AdamW. decay = 1 - lr * weight_decay for AdamW (1 for Adam, whose weight_decay
// is the L2 term instead); m = lerp(m, g, 1 - beta1); v = v * beta2 + (1 - beta2) * g * g;
// p += (-step_size * m) / (sqrt(v) / sqrt(bias_correction2) + eps)
template <typename T, bool AMSGRAD>
__device__ __forceinline__ void adam_update(long long i, T* __restrict__ p, T g,
                                            T* __restrict__ exp_avg, T* __restrict__ exp_avg_sq,
                                            T* __restrict__ max_exp_avg_sq, T beta1_weight, T beta2,
                                            T one_minus_beta2, T weight_decay, T decay, T eps,
                                            T neg_step_size, T bias_correction2_sqrt, T maximize) {
    const T pi = p[i] * decay;
    const T gi = ag_grad(g, pi, weight_decay, maximize);
    const T mi = ag_lerp(exp_avg[i], gi, beta1_weight);
    T vi = exp_avg_sq[i] * beta2 + (one_minus_beta2 * gi) * gi;
    exp_avg[i] = mi;
    exp_avg_sq[i] = vi;
    if (AMSGRAD) {
        vi = ag_maximum(max_exp_avg_sq[i], vi);
        max_exp_avg_sq[i] = vi;
    }
    const T denom = ag_sqrt(vi) / bias_correction2_sqrt + eps;
    p[i] = pi + (neg_step_size * mi) / denom;
}

// RMSprop: sq = sq * alpha + (1 - alpha) * g * g; centered: ga = lerp(ga, g, 1 - alpha),
// avg = sqrt(sq - ga * ga) + eps, else sqrt(sq) + eps; with momentum:
// buf = buf * momentum + g / avg, p -= lr * buf; without: p += (-lr * g) / avg
template <typename T, bool CENTERED, bool MOMENTUM>
__device__ __forceinline__ void rmsprop_update(long long i, T* __restrict__ p, T g, T* __restrict__ square_avg,
                                               T* __restrict__ grad_avg, T* __restrict__ buf, T lr, T alpha,
                                               T one_minus_alpha, T eps, T weight_decay, T momentum,
                                               T maximize) {
    const T pi = p[i];
    const T gi = ag_grad(g, pi, weight_decay, maximize);
    const T sq = square_avg[i] * alpha + (one_minus_alpha * gi) * gi;
    square_avg[i] = sq;
    T avg;
    if (CENTERED) {
        const T ga = ag_lerp(grad_avg[i], gi, one_minus_alpha);
        grad_avg[i] = ga;
        avg = ag_sqrt(sq - ga * ga) + eps;
    } else {
        avg = ag_sqrt(sq) + eps;
    }
    if (MOMENTUM) {
        const T bi = buf[i] * momentum + gi / avg;
        buf[i] = bi;
        p[i] = pi - lr * bi;
    } else {
        p[i] = pi + (-lr * gi) / avg;
    }
}

// Adagrad: sum += g * g; p += (-clr * g) / (sqrt(sum) + eps), clr = lr / (1 + (step - 1) * lr_decay)
template <typename T>
__device__ __forceinline__ void adagrad_update(long long i, T* __restrict__ p, T g, T* __restrict__ sum,
                                               T neg_clr, T eps, T weight_decay, T maximize) {
    const T pi = p[i];
    const T gi = ag_grad(g, pi, weight_decay, maximize);
    const T si = sum[i] + gi * gi;
    sum[i] = si;
    p[i] = pi + (neg_clr * gi) / (ag_sqrt(si) + eps);
}

// Adadelta: sq = sq * rho + ((1 - rho) * g) * g; delta = sqrt(acc + eps) / sqrt(sq + eps) * g;
// acc = acc * rho + ((1 - rho) * delta) * delta; p += -lr * delta
template <typename T>
__device__ __forceinline__ void adadelta_update(long long i, T* __restrict__ p, T g,
                                                T* __restrict__ square_avg, T* __restrict__ acc_delta,
                                                T neg_lr, T rho, T one_minus_rho, T eps, T weight_decay,
                                                T maximize) {
    const T pi = p[i];
    const T gi = ag_grad(g, pi, weight_decay, maximize);
    const T sq = square_avg[i] * rho + (one_minus_rho * gi) * gi;
    square_avg[i] = sq;
    const T delta = ag_sqrt(acc_delta[i] + eps) / ag_sqrt(sq + eps) * gi;
    acc_delta[i] = acc_delta[i] * rho + (one_minus_rho * delta) * delta;
    p[i] = pi + neg_lr * delta;
}

// NAdam's and RAdam's first lines: the decayed parameter, the gradient (L2 term, maximize) and Adam's two
// moments of element i, the moments written back.
template <typename T>
struct ag_moments {
    T p, g, m, v;
};

template <typename T>
__device__ __forceinline__ ag_moments<T> ag_adam_moments(long long i, const T* __restrict__ p,
                                                         const T* __restrict__ g, T* __restrict__ exp_avg,
                                                         T* __restrict__ exp_avg_sq, T beta1_weight, T beta2,
                                                         T one_minus_beta2, T weight_decay, T decay,
                                                         T maximize) {
    const T pi = p[i] * decay;
    const T gi = ag_grad(g[i], pi, weight_decay, maximize);
    const T mi = ag_lerp(exp_avg[i], gi, beta1_weight);
    const T vi = exp_avg_sq[i] * beta2 + (one_minus_beta2 * gi) * gi;
    exp_avg[i] = mi;
    exp_avg_sq[i] = vi;
    return {pi, gi, mi, vi};
}

// NAdam: m = lerp(m, g, 1 - beta1); v = v * beta2 + ((1 - beta2) * g) * g;
// denom = sqrt(v / bias_correction2) + eps; p += (grad_coef * g) / denom, then
// p += (exp_avg_coef * m) / denom (two roundings of p, as torch's two addcdiv_).
// decay = 1 - lr * weight_decay when decoupled (weight_decay, the L2 term, is then 0).
template <typename T>
__device__ __forceinline__ void nadam_update(long long i, T* __restrict__ p, const T* __restrict__ g,
                                             T* __restrict__ exp_avg, T* __restrict__ exp_avg_sq,
                                             T beta1_weight, T beta2, T one_minus_beta2, T weight_decay,
                                             T decay, T eps, T bias_correction2, T grad_coef,
                                             T exp_avg_coef, T maximize) {
    const ag_moments<T> a = ag_adam_moments(i, p, g, exp_avg, exp_avg_sq, beta1_weight, beta2, one_minus_beta2,
                                            weight_decay, decay, maximize);
    const T pi = a.p, gi = a.g, mi = a.m, vi = a.v;
    const T denom = ag_sqrt(vi / bias_correction2) + eps;
    const T q = pi + (grad_coef * gi) / denom;
    p[i] = q + (exp_avg_coef * mi) / denom;
}

// RAdam: m, v as Adam; with the variance rectified (rectify != 0, rho_t > 5):
// p -= ((m / bias_correction1) * lr) * ((1 / (sqrt(v) + eps)) * bias_correction2_sqrt) * rect,
// else p -= (m / bias_correction1) * lr. (torch's `scalar / tensor` is tensor.reciprocal() * scalar.)
template <typename T>
__device__ __forceinline__ void radam_update(long long i, T* __restrict__ p, const T* __restrict__ g,
                                             T* __restrict__ exp_avg, T* __restrict__ exp_avg_sq,
                                             T beta1_weight, T beta2, T one_minus_beta2, T weight_decay,
                                             T decay, T eps, T lr, T bias_correction1,
                                             T bias_correction2_sqrt, T rect, T rectify, T maximize) {
    const ag_moments<T> a = ag_adam_moments(i, p, g, exp_avg, exp_avg_sq, beta1_weight, beta2, one_minus_beta2,
                                            weight_decay, decay, maximize);
    const T pi = a.p, gi = a.g, mi = a.m, vi = a.v;
    const T step = (mi / bias_correction1) * lr;
    p[i] = rectify != T(0) ? pi - step * ((T(1) / (ag_sqrt(vi) + eps)) * bias_correction2_sqrt) * rect
                           : pi - step;
}

// Adamax: m = lerp(m, g, 1 - beta1); u = maximum(u * beta2, |g| + eps); p += (-clr * m) / u,
// clr = lr / (1 - beta1^step)
template <typename T>
__device__ __forceinline__ void adamax_update(long long i, T* __restrict__ p, const T* __restrict__ g,
                                              T* __restrict__ exp_avg, T* __restrict__ exp_inf,
                                              T beta1_weight, T beta2, T eps, T weight_decay, T neg_clr,
                                              T maximize) {
    const T pi = p[i];
    const T gi = ag_grad(g[i], pi, weight_decay, maximize);
    const T mi = ag_lerp(exp_avg[i], gi, beta1_weight);
    const T ui = ag_maximum(exp_inf[i] * beta2, (gi < T(0) ? -gi : gi) + eps);
    exp_avg[i] = mi;
    exp_inf[i] = ui;
    p[i] = pi + (neg_clr * mi) / ui;
}

// ASGD: p = p * (1 - lambd * eta) + (-eta) * g; ax = ax + (p - ax) * mu when averaging
// (mu != 1), else ax = p.
template <typename T>
__device__ __forceinline__ void asgd_update(long long i, T* __restrict__ p, const T* __restrict__ g,
                                            T* __restrict__ ax, T decay, T neg_eta, T mu, T average,
                                            T weight_decay, T maximize) {
    const T pi = p[i];
    const T gi = ag_grad(g[i], pi, weight_decay, maximize);
    const T qi = pi * decay + neg_eta * gi;
    p[i] = qi;
    ax[i] = average != T(0) ? ax[i] + (qi - ax[i]) * mu : qi;
}

// Rprop: s = sign(g * prev); step_size = clamp(step_size * (s > 0 ? etaplus : s < 0 ? etaminus : 1),
// step_size_min, step_size_max); g = 0 where s < 0; p -= sign(g) * step_size; prev = g.
// (clamp as ATen's min(max(x, lo), hi), which keeps a NaN.)
template <typename T>
__device__ __forceinline__ void rprop_update(long long i, T* __restrict__ p, const T* __restrict__ g,
                                             T* __restrict__ prev, T* __restrict__ step_size, T etaminus,
                                             T etaplus, T step_size_min, T step_size_max, T maximize) {
    const T gi = ag_grad(g[i], p[i], T(0), maximize);
    const T s = ag_sign(gi * prev[i]);
    T ss = step_size[i] * (s > T(0) ? etaplus : (s < T(0) ? etaminus : T(1)));
    ss = ss < step_size_min ? step_size_min : ss;
    ss = ss > step_size_max ? step_size_max : ss;
    step_size[i] = ss;
    const T gz = s < T(0) ? T(0) : gi;
    p[i] = p[i] - ag_sign(gz) * ss;
    prev[i] = gz;
}

// ---------------------------------------------------------------- multi-tensor launches (foreach)
// One launch updates every tensor of a parameter group, as PyTorch's multi_tensor_apply: the
// grid strides over table blocks, each a chunk of one tensor; a block's threads stride over its
// chunk. `tensors` is an int64 table on the device (autograd_gpu/optim/optimizer.py builds it):
//   tensors[0]                          chunk: the elements of one table block
//   tensors[1 + 2b], tensors[2 + 2b]    block b's tensor t and chunk c: elements [c * chunk, (c + 1) * chunk)
//   tensors[1 + 2n + t * (D + 1) ...]   tensor t's D array addresses (the per-parameter kernel's order), its size
// n is the number of table blocks. Scalars are those of the per-parameter kernel, the same for
// every tensor of the launch (and so are the device scalars a fused step shares: passed once).
// `per_tensor(t)` is evaluated once per block, for what depends on the tensor alone (a fused step's
// bias corrections, from its step count), and handed to `update(t, that, i)`.
template <int D, typename P, typename F>
__device__ __forceinline__ void ag_multi_tensor_each(const long long* __restrict__ tensors, long long n,
                                                     P per_tensor, F update) {
    const long long chunk = tensors[0];
    for (long long b = blockIdx.x; b < n; b += gridDim.x) {
        const long long* t = tensors + 1 + 2 * n + tensors[1 + 2 * b] * (D + 1);
        const long long begin = tensors[2 + 2 * b] * chunk;
        const long long end = begin + chunk < t[D] ? begin + chunk : t[D];
        const auto own = per_tensor(t);
        for (long long i = begin + threadIdx.x; i < end; i += blockDim.x) update(t, own, i);
    }
}

template <int D, typename F>
__device__ __forceinline__ void ag_multi_tensor(const long long* __restrict__ tensors, long long n,
                                                F update) {
    ag_multi_tensor_each<D>(tensors, n, [](const long long*) { return 0; },
                            [=](const long long* t, int, long long i) { update(t, i); });
}

// array k of a table tensor
template <typename T>
__device__ __forceinline__ T* ag_array(const long long* t, int k) {
    return reinterpret_cast<T*>(t[k]);
}

template <typename T>
__global__ void sgd_step_multi_tensor(const long long* __restrict__ tensors, T lr, T weight_decay,
                                      T maximize, long long n) {
    ag_multi_tensor<2>(tensors, n, [=](const long long* t, long long i) {
        sgd_update(i, ag_array<T>(t, 0), ag_array<T>(t, 1)[i], lr, weight_decay, maximize);
    });
}

template <typename T>
__global__ void sgd_momentum_step_multi_tensor(const long long* __restrict__ tensors, T lr,
                                               T weight_decay, T momentum, T damp_alpha, T nesterov,
                                               T maximize, T first, long long n) {
    ag_multi_tensor<3>(tensors, n, [=](const long long* t, long long i) {
        sgd_momentum_update(i, ag_array<T>(t, 0), ag_array<T>(t, 1)[i], ag_array<T>(t, 2), lr,
                            weight_decay, momentum, damp_alpha, nesterov, maximize, first);
    });
}

template <typename T>
__global__ void adam_step_multi_tensor(const long long* __restrict__ tensors, T beta1_weight, T beta2,
                                       T one_minus_beta2, T weight_decay, T decay, T eps,
                                       T neg_step_size, T bias_correction2_sqrt, T maximize,
                                       long long n) {
    ag_multi_tensor<4>(tensors, n, [=](const long long* t, long long i) {
        adam_update<T, false>(i, ag_array<T>(t, 0), ag_array<T>(t, 1)[i], ag_array<T>(t, 2),
                              ag_array<T>(t, 3), nullptr, beta1_weight, beta2, one_minus_beta2,
                              weight_decay, decay, eps, neg_step_size, bias_correction2_sqrt,
                              maximize);
    });
}

template <typename T>
__global__ void adam_amsgrad_step_multi_tensor(const long long* __restrict__ tensors, T beta1_weight,
                                               T beta2, T one_minus_beta2, T weight_decay, T decay,
                                               T eps, T neg_step_size, T bias_correction2_sqrt,
                                               T maximize, long long n) {
    ag_multi_tensor<5>(tensors, n, [=](const long long* t, long long i) {
        adam_update<T, true>(i, ag_array<T>(t, 0), ag_array<T>(t, 1)[i], ag_array<T>(t, 2),
                             ag_array<T>(t, 3), ag_array<T>(t, 4), beta1_weight, beta2,
                             one_minus_beta2, weight_decay, decay, eps, neg_step_size,
                             bias_correction2_sqrt, maximize);
    });
}

template <typename T>
__global__ void rmsprop_step_multi_tensor(const long long* __restrict__ tensors, T lr, T alpha,
                                          T one_minus_alpha, T eps, T weight_decay, T maximize,
                                          long long n) {
    ag_multi_tensor<3>(tensors, n, [=](const long long* t, long long i) {
        rmsprop_update<T, false, false>(i, ag_array<T>(t, 0), ag_array<T>(t, 1)[i], ag_array<T>(t, 2),
                                        nullptr, nullptr, lr, alpha, one_minus_alpha, eps,
                                        weight_decay, T(0), maximize);
    });
}

template <typename T>
__global__ void rmsprop_centered_step_multi_tensor(const long long* __restrict__ tensors, T lr,
                                                   T alpha, T one_minus_alpha, T eps,
                                                   T weight_decay, T maximize, long long n) {
    ag_multi_tensor<4>(tensors, n, [=](const long long* t, long long i) {
        rmsprop_update<T, true, false>(i, ag_array<T>(t, 0), ag_array<T>(t, 1)[i], ag_array<T>(t, 2),
                                       ag_array<T>(t, 3), nullptr, lr, alpha, one_minus_alpha, eps,
                                       weight_decay, T(0), maximize);
    });
}

template <typename T>
__global__ void rmsprop_momentum_step_multi_tensor(const long long* __restrict__ tensors, T lr,
                                                   T alpha, T one_minus_alpha, T eps,
                                                   T weight_decay, T momentum, T maximize,
                                                   long long n) {
    ag_multi_tensor<4>(tensors, n, [=](const long long* t, long long i) {
        rmsprop_update<T, false, true>(i, ag_array<T>(t, 0), ag_array<T>(t, 1)[i], ag_array<T>(t, 2),
                                       nullptr, ag_array<T>(t, 3), lr, alpha, one_minus_alpha, eps,
                                       weight_decay, momentum, maximize);
    });
}

template <typename T>
__global__ void rmsprop_centered_momentum_step_multi_tensor(const long long* __restrict__ tensors,
                                                            T lr, T alpha, T one_minus_alpha, T eps,
                                                            T weight_decay, T momentum, T maximize,
                                                            long long n) {
    ag_multi_tensor<5>(tensors, n, [=](const long long* t, long long i) {
        rmsprop_update<T, true, true>(i, ag_array<T>(t, 0), ag_array<T>(t, 1)[i], ag_array<T>(t, 2),
                                      ag_array<T>(t, 3), ag_array<T>(t, 4), lr, alpha,
                                      one_minus_alpha, eps, weight_decay, momentum, maximize);
    });
}

template <typename T>
__global__ void adagrad_step_multi_tensor(const long long* __restrict__ tensors, T neg_clr, T eps,
                                          T weight_decay, T maximize, long long n) {
    ag_multi_tensor<3>(tensors, n, [=](const long long* t, long long i) {
        adagrad_update(i, ag_array<T>(t, 0), ag_array<T>(t, 1)[i], ag_array<T>(t, 2), neg_clr, eps,
                       weight_decay, maximize);
    });
}

template <typename T>
__global__ void adadelta_step_multi_tensor(const long long* __restrict__ tensors, T neg_lr, T rho,
                                           T one_minus_rho, T eps, T weight_decay, T maximize,
                                           long long n) {
    ag_multi_tensor<4>(tensors, n, [=](const long long* t, long long i) {
        adadelta_update(i, ag_array<T>(t, 0), ag_array<T>(t, 1)[i], ag_array<T>(t, 2), ag_array<T>(t, 3),
                        neg_lr, rho, one_minus_rho, eps, weight_decay, maximize);
    });
}

template <typename T>
__global__ void nadam_step_multi_tensor(const long long* __restrict__ tensors, T beta1_weight, T beta2,
                                        T one_minus_beta2, T weight_decay, T decay, T eps,
                                        T bias_correction2, T grad_coef, T exp_avg_coef, T maximize,
                                        long long n) {
    ag_multi_tensor<4>(tensors, n, [=](const long long* t, long long i) {
        nadam_update(i, ag_array<T>(t, 0), ag_array<T>(t, 1), ag_array<T>(t, 2), ag_array<T>(t, 3),
                     beta1_weight, beta2, one_minus_beta2, weight_decay, decay, eps, bias_correction2,
                     grad_coef, exp_avg_coef, maximize);
    });
}

template <typename T>
__global__ void radam_step_multi_tensor(const long long* __restrict__ tensors, T beta1_weight, T beta2,
                                        T one_minus_beta2, T weight_decay, T decay, T eps, T lr,
                                        T bias_correction1, T bias_correction2_sqrt, T rect, T rectify,
                                        T maximize, long long n) {
    ag_multi_tensor<4>(tensors, n, [=](const long long* t, long long i) {
        radam_update(i, ag_array<T>(t, 0), ag_array<T>(t, 1), ag_array<T>(t, 2), ag_array<T>(t, 3),
                     beta1_weight, beta2, one_minus_beta2, weight_decay, decay, eps, lr, bias_correction1,
                     bias_correction2_sqrt, rect, rectify, maximize);
    });
}

template <typename T>
__global__ void adamax_step_multi_tensor(const long long* __restrict__ tensors, T beta1_weight, T beta2,
                                         T eps, T weight_decay, T neg_clr, T maximize, long long n) {
    ag_multi_tensor<4>(tensors, n, [=](const long long* t, long long i) {
        adamax_update(i, ag_array<T>(t, 0), ag_array<T>(t, 1), ag_array<T>(t, 2), ag_array<T>(t, 3),
                      beta1_weight, beta2, eps, weight_decay, neg_clr, maximize);
    });
}

template <typename T>
__global__ void asgd_step_multi_tensor(const long long* __restrict__ tensors, T decay, T neg_eta, T mu,
                                       T average, T weight_decay, T maximize, long long n) {
    ag_multi_tensor<3>(tensors, n, [=](const long long* t, long long i) {
        asgd_update(i, ag_array<T>(t, 0), ag_array<T>(t, 1), ag_array<T>(t, 2), decay, neg_eta, mu,
                    average, weight_decay, maximize);
    });
}

template <typename T>
__global__ void rprop_step_multi_tensor(const long long* __restrict__ tensors, T etaminus, T etaplus,
                                        T step_size_min, T step_size_max, T maximize, long long n) {
    ag_multi_tensor<4>(tensors, n, [=](const long long* t, long long i) {
        rprop_update(i, ag_array<T>(t, 0), ag_array<T>(t, 1), ag_array<T>(t, 2), ag_array<T>(t, 3),
                     etaminus, etaplus, step_size_min, step_size_max, maximize);
    });
}

// ---------------------------------------------------------------- one launch per parameter

template <typename T>
__global__ void sgd_step(T* __restrict__ p, const T* __restrict__ g, T lr, T weight_decay,
                         T maximize, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) sgd_update(i, p, g[i], lr, weight_decay, maximize);
}

template <typename T>
__global__ void sgd_momentum_step(T* __restrict__ p, const T* __restrict__ g,
                                  T* __restrict__ buf, T lr, T weight_decay, T momentum,
                                  T damp_alpha, T nesterov, T maximize, T first,
                                  long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        sgd_momentum_update(i, p, g[i], buf, lr, weight_decay, momentum, damp_alpha, nesterov, maximize,
                            first);
    }
}

template <typename T>
__global__ void adam_step(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ exp_avg,
                          T* __restrict__ exp_avg_sq, T beta1_weight, T beta2,
                          T one_minus_beta2, T weight_decay, T decay, T eps, T neg_step_size,
                          T bias_correction2_sqrt, T maximize, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        adam_update<T, false>(i, p, g[i], exp_avg, exp_avg_sq, nullptr, beta1_weight, beta2,
                              one_minus_beta2, weight_decay, decay, eps, neg_step_size,
                              bias_correction2_sqrt, maximize);
    }
}

template <typename T>
__global__ void adam_amsgrad_step(T* __restrict__ p, const T* __restrict__ g,
                                  T* __restrict__ exp_avg, T* __restrict__ exp_avg_sq,
                                  T* __restrict__ max_exp_avg_sq, T beta1_weight, T beta2,
                                  T one_minus_beta2, T weight_decay, T decay, T eps,
                                  T neg_step_size, T bias_correction2_sqrt, T maximize,
                                  long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        adam_update<T, true>(i, p, g[i], exp_avg, exp_avg_sq, max_exp_avg_sq, beta1_weight, beta2,
                             one_minus_beta2, weight_decay, decay, eps, neg_step_size,
                             bias_correction2_sqrt, maximize);
    }
}

template <typename T>
__global__ void rmsprop_step(T* __restrict__ p, const T* __restrict__ g,
                             T* __restrict__ square_avg, T lr, T alpha, T one_minus_alpha,
                             T eps, T weight_decay, T maximize, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        rmsprop_update<T, false, false>(i, p, g[i], square_avg, nullptr, nullptr, lr, alpha,
                                        one_minus_alpha, eps, weight_decay, T(0), maximize);
    }
}

template <typename T>
__global__ void rmsprop_centered_step(T* __restrict__ p, const T* __restrict__ g,
                                      T* __restrict__ square_avg, T* __restrict__ grad_avg,
                                      T lr, T alpha, T one_minus_alpha, T eps, T weight_decay,
                                      T maximize, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        rmsprop_update<T, true, false>(i, p, g[i], square_avg, grad_avg, nullptr, lr, alpha,
                                       one_minus_alpha, eps, weight_decay, T(0), maximize);
    }
}

template <typename T>
__global__ void rmsprop_momentum_step(T* __restrict__ p, const T* __restrict__ g,
                                      T* __restrict__ square_avg, T* __restrict__ buf, T lr,
                                      T alpha, T one_minus_alpha, T eps, T weight_decay,
                                      T momentum, T maximize, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        rmsprop_update<T, false, true>(i, p, g[i], square_avg, nullptr, buf, lr, alpha, one_minus_alpha,
                                       eps, weight_decay, momentum, maximize);
    }
}

template <typename T>
__global__ void rmsprop_centered_momentum_step(T* __restrict__ p, const T* __restrict__ g,
                                               T* __restrict__ square_avg,
                                               T* __restrict__ grad_avg, T* __restrict__ buf,
                                               T lr, T alpha, T one_minus_alpha, T eps,
                                               T weight_decay, T momentum, T maximize,
                                               long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        rmsprop_update<T, true, true>(i, p, g[i], square_avg, grad_avg, buf, lr, alpha, one_minus_alpha,
                                      eps, weight_decay, momentum, maximize);
    }
}

template <typename T>
__global__ void adagrad_step(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ sum,
                             T neg_clr, T eps, T weight_decay, T maximize, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) adagrad_update(i, p, g[i], sum, neg_clr, eps, weight_decay, maximize);
}

template <typename T>
__global__ void adadelta_step(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ square_avg,
                              T* __restrict__ acc_delta, T neg_lr, T rho, T one_minus_rho, T eps,
                              T weight_decay, T maximize, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        adadelta_update(i, p, g[i], square_avg, acc_delta, neg_lr, rho, one_minus_rho, eps, weight_decay,
                        maximize);
    }
}

template <typename T>
__global__ void nadam_step(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ exp_avg,
                           T* __restrict__ exp_avg_sq, T beta1_weight, T beta2,
                           T one_minus_beta2, T weight_decay, T decay, T eps,
                           T bias_correction2, T grad_coef, T exp_avg_coef, T maximize,
                           long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        nadam_update(i, p, g, exp_avg, exp_avg_sq, beta1_weight, beta2, one_minus_beta2, weight_decay,
                     decay, eps, bias_correction2, grad_coef, exp_avg_coef, maximize);
    }
}

template <typename T>
__global__ void radam_step(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ exp_avg,
                           T* __restrict__ exp_avg_sq, T beta1_weight, T beta2,
                           T one_minus_beta2, T weight_decay, T decay, T eps, T lr,
                           T bias_correction1, T bias_correction2_sqrt, T rect, T rectify,
                           T maximize, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        radam_update(i, p, g, exp_avg, exp_avg_sq, beta1_weight, beta2, one_minus_beta2, weight_decay,
                     decay, eps, lr, bias_correction1, bias_correction2_sqrt, rect, rectify, maximize);
    }
}

template <typename T>
__global__ void adamax_step(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ exp_avg,
                            T* __restrict__ exp_inf, T beta1_weight, T beta2, T eps,
                            T weight_decay, T neg_clr, T maximize, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        adamax_update(i, p, g, exp_avg, exp_inf, beta1_weight, beta2, eps, weight_decay, neg_clr,
                      maximize);
    }
}

template <typename T>
__global__ void asgd_step(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ ax,
                          T decay, T neg_eta, T mu, T average, T weight_decay, T maximize,
                          long long n) {
    AG_GRID_STRIDE_LOOP(i, n) asgd_update(i, p, g, ax, decay, neg_eta, mu, average, weight_decay, maximize);
}

template <typename T>
__global__ void rprop_step(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ prev,
                           T* __restrict__ step_size, T etaminus, T etaplus, T step_size_min,
                           T step_size_max, T maximize, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        rprop_update(i, p, g, prev, step_size, etaminus, etaplus, step_size_min, step_size_max, maximize);
    }
}

// ---------------------------------------------------------------- fused steps (GradScaler, fused=True)
// PyTorch's fused optimizers (torch/optim/adam.py _fused_adam, sgd.py _fused_sgd, adagrad.py
// _fused_adagrad; aten/src/ATen/native/cuda/fused_adam_utils.cuh): the step decides on the device.
// found_inf (GradScaler's flag; 0 outside a GradScaler) set: the kernel returns at once, leaving the
// parameter, its state and its (still scaled) gradient as they are. Else, with `unscale`, the gradient
// is divided by grad_scale and written back unscaled, and the element update above runs, given the
// scalars of the step count computed here, in T, from the device step (which fused_step_count has
// counted before). step, grad_scale and found_inf are device scalars: one-element float32 arrays.

__device__ __forceinline__ bool ag_skipped(const float* found_inf) { return found_inf[0] != 0.0f; }

// g[i], divided by the scale when unscaling (and so written back)
template <typename T>
__device__ __forceinline__ T ag_unscaled(long long i, T* g, const float* grad_scale, T unscale) {
    T gi = g[i];
    if (unscale != T(0)) {
        gi = gi / T(grad_scale[0]);
        g[i] = gi;
    }
    return gi;
}

// The count of a fused step, before its update reads it (PyTorch: _foreach_add_(steps, 1), and after
// the kernel _foreach_sub_(steps, found_inf)): one more, unless the step is skipped.
__device__ __forceinline__ void ag_count_step(float* step, const float* found_inf) {
    step[0] = (step[0] + 1.0f) - (ag_skipped(found_inf) ? 1.0f : 0.0f);
}

// Adam's -lr / bias_correction1 and sqrt(bias_correction2) at step t.
// NOTE: 1 - beta^t as -expm1(t * log(beta)): beta rounded to float would move 1 - 0.999^t by 1e-5.
template <typename T>
struct ag_adam_bias {
    T neg_step_size, bias_correction2_sqrt;
};

template <typename T>
__device__ __forceinline__ ag_adam_bias<T> adam_bias(const float* step, T neg_lr, T log_beta1, T log_beta2) {
    const T t = T(step[0]);
    return {neg_lr / -ag_expm1(t * log_beta1), ag_sqrt(-ag_expm1(t * log_beta2))};
}

// Adagrad's -clr at step t: -lr / (1 + (t - 1) * lr_decay)
template <typename T>
__device__ __forceinline__ T adagrad_neg_clr(const float* step, T neg_lr, T lr_decay) {
    return neg_lr / (T(1) + (T(step[0]) - T(1)) * lr_decay);
}

template <typename T>
__global__ void fused_step_count(float* __restrict__ step, const float* __restrict__ found_inf, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) ag_count_step(step + i, found_inf);
}

template <typename T>
__global__ void fused_step_count_multi_tensor(const long long* __restrict__ tensors,
                                              const float* __restrict__ found_inf, long long n) {
    ag_multi_tensor<1>(tensors, n, [=](const long long* t, long long i) {
        ag_count_step(ag_array<float>(t, 0) + i, found_inf);
    });
}

template <typename T>
__global__ void sgd_fused_step(T* __restrict__ p, T* __restrict__ g, const float* __restrict__ grad_scale,
                               const float* __restrict__ found_inf, T lr, T weight_decay, T maximize,
                               T unscale, long long n) {
    if (ag_skipped(found_inf)) return;
    AG_GRID_STRIDE_LOOP(i, n) {
        sgd_update(i, p, ag_unscaled(i, g, grad_scale, unscale), lr, weight_decay, maximize);
    }
}

template <typename T>
__global__ void sgd_fused_step_multi_tensor(const long long* __restrict__ tensors,
                                            const float* __restrict__ grad_scale,
                                            const float* __restrict__ found_inf, T lr, T weight_decay,
                                            T maximize, T unscale, long long n) {
    if (ag_skipped(found_inf)) return;
    ag_multi_tensor<2>(tensors, n, [=](const long long* t, long long i) {
        sgd_update(i, ag_array<T>(t, 0), ag_unscaled(i, ag_array<T>(t, 1), grad_scale, unscale), lr,
                   weight_decay, maximize);
    });
}

template <typename T>
__global__ void sgd_momentum_fused_step(T* __restrict__ p, T* __restrict__ g,
                                        const float* __restrict__ grad_scale,
                                        const float* __restrict__ found_inf, T* __restrict__ buf, T lr,
                                        T weight_decay, T momentum, T damp_alpha, T nesterov, T maximize,
                                        T first, T unscale, long long n) {
    if (ag_skipped(found_inf)) return;
    AG_GRID_STRIDE_LOOP(i, n) {
        sgd_momentum_update(i, p, ag_unscaled(i, g, grad_scale, unscale), buf, lr, weight_decay, momentum,
                            damp_alpha, nesterov, maximize, first);
    }
}

template <typename T>
__global__ void sgd_momentum_fused_step_multi_tensor(const long long* __restrict__ tensors,
                                                     const float* __restrict__ grad_scale,
                                                     const float* __restrict__ found_inf, T lr,
                                                     T weight_decay, T momentum, T damp_alpha,
                                                     T nesterov, T maximize, T first, T unscale,
                                                     long long n) {
    if (ag_skipped(found_inf)) return;
    ag_multi_tensor<3>(tensors, n, [=](const long long* t, long long i) {
        sgd_momentum_update(i, ag_array<T>(t, 0), ag_unscaled(i, ag_array<T>(t, 1), grad_scale, unscale),
                            ag_array<T>(t, 2), lr, weight_decay, momentum, damp_alpha, nesterov, maximize,
                            first);
    });
}

template <typename T>
__global__ void adam_fused_step(T* __restrict__ p, T* __restrict__ g, const float* __restrict__ step,
                                const float* __restrict__ grad_scale, const float* __restrict__ found_inf,
                                T* __restrict__ exp_avg, T* __restrict__ exp_avg_sq, T beta1_weight,
                                T beta2, T one_minus_beta2, T weight_decay, T decay, T eps, T neg_lr,
                                T log_beta1, T log_beta2, T maximize, T unscale, long long n) {
    if (ag_skipped(found_inf)) return;
    const ag_adam_bias<T> b = adam_bias(step, neg_lr, log_beta1, log_beta2);
    AG_GRID_STRIDE_LOOP(i, n) {
        adam_update<T, false>(i, p, ag_unscaled(i, g, grad_scale, unscale), exp_avg, exp_avg_sq, nullptr,
                              beta1_weight, beta2, one_minus_beta2, weight_decay, decay, eps,
                              b.neg_step_size, b.bias_correction2_sqrt, maximize);
    }
}

template <typename T>
__global__ void adam_fused_step_multi_tensor(const long long* __restrict__ tensors,
                                             const float* __restrict__ grad_scale,
                                             const float* __restrict__ found_inf, T beta1_weight, T beta2,
                                             T one_minus_beta2, T weight_decay, T decay, T eps, T neg_lr,
                                             T log_beta1, T log_beta2, T maximize, T unscale,
                                             long long n) {
    if (ag_skipped(found_inf)) return;
    ag_multi_tensor_each<5>(
        tensors, n,
        [=](const long long* t) { return adam_bias(ag_array<const float>(t, 2), neg_lr, log_beta1, log_beta2); },
        [=](const long long* t, const ag_adam_bias<T>& b, long long i) {
            adam_update<T, false>(i, ag_array<T>(t, 0), ag_unscaled(i, ag_array<T>(t, 1), grad_scale, unscale),
                                  ag_array<T>(t, 3), ag_array<T>(t, 4), nullptr, beta1_weight, beta2,
                                  one_minus_beta2, weight_decay, decay, eps, b.neg_step_size,
                                  b.bias_correction2_sqrt, maximize);
        });
}

template <typename T>
__global__ void adam_amsgrad_fused_step(T* __restrict__ p, T* __restrict__ g, const float* __restrict__ step,
                                        const float* __restrict__ grad_scale,
                                        const float* __restrict__ found_inf, T* __restrict__ exp_avg,
                                        T* __restrict__ exp_avg_sq, T* __restrict__ max_exp_avg_sq,
                                        T beta1_weight, T beta2, T one_minus_beta2, T weight_decay, T decay,
                                        T eps, T neg_lr, T log_beta1, T log_beta2, T maximize, T unscale,
                                        long long n) {
    if (ag_skipped(found_inf)) return;
    const ag_adam_bias<T> b = adam_bias(step, neg_lr, log_beta1, log_beta2);
    AG_GRID_STRIDE_LOOP(i, n) {
        adam_update<T, true>(i, p, ag_unscaled(i, g, grad_scale, unscale), exp_avg, exp_avg_sq,
                             max_exp_avg_sq, beta1_weight, beta2, one_minus_beta2, weight_decay, decay, eps,
                             b.neg_step_size, b.bias_correction2_sqrt, maximize);
    }
}

template <typename T>
__global__ void adam_amsgrad_fused_step_multi_tensor(const long long* __restrict__ tensors,
                                                     const float* __restrict__ grad_scale,
                                                     const float* __restrict__ found_inf, T beta1_weight,
                                                     T beta2, T one_minus_beta2, T weight_decay, T decay,
                                                     T eps, T neg_lr, T log_beta1, T log_beta2, T maximize,
                                                     T unscale, long long n) {
    if (ag_skipped(found_inf)) return;
    ag_multi_tensor_each<6>(
        tensors, n,
        [=](const long long* t) { return adam_bias(ag_array<const float>(t, 2), neg_lr, log_beta1, log_beta2); },
        [=](const long long* t, const ag_adam_bias<T>& b, long long i) {
            adam_update<T, true>(i, ag_array<T>(t, 0), ag_unscaled(i, ag_array<T>(t, 1), grad_scale, unscale),
                                 ag_array<T>(t, 3), ag_array<T>(t, 4), ag_array<T>(t, 5), beta1_weight, beta2,
                                 one_minus_beta2, weight_decay, decay, eps, b.neg_step_size,
                                 b.bias_correction2_sqrt, maximize);
        });
}

template <typename T>
__global__ void adagrad_fused_step(T* __restrict__ p, T* __restrict__ g, const float* __restrict__ step,
                                   const float* __restrict__ grad_scale, const float* __restrict__ found_inf,
                                   T* __restrict__ sum, T neg_lr, T lr_decay, T eps, T weight_decay,
                                   T maximize, T unscale, long long n) {
    if (ag_skipped(found_inf)) return;
    const T neg_clr = adagrad_neg_clr(step, neg_lr, lr_decay);
    AG_GRID_STRIDE_LOOP(i, n) {
        adagrad_update(i, p, ag_unscaled(i, g, grad_scale, unscale), sum, neg_clr, eps, weight_decay,
                       maximize);
    }
}

template <typename T>
__global__ void adagrad_fused_step_multi_tensor(const long long* __restrict__ tensors,
                                                const float* __restrict__ grad_scale,
                                                const float* __restrict__ found_inf, T neg_lr, T lr_decay,
                                                T eps, T weight_decay, T maximize, T unscale,
                                                long long n) {
    if (ag_skipped(found_inf)) return;
    ag_multi_tensor_each<4>(
        tensors, n, [=](const long long* t) { return adagrad_neg_clr(ag_array<const float>(t, 2), neg_lr, lr_decay); },
        [=](const long long* t, T neg_clr, long long i) {
            adagrad_update(i, ag_array<T>(t, 0), ag_unscaled(i, ag_array<T>(t, 1), grad_scale, unscale),
                           ag_array<T>(t, 3), neg_clr, eps, weight_decay, maximize);
        });
}
