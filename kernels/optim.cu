// Fused optimizer updates: one launch per parameter updates it and its state in place.
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

// SGD without momentum: p -= lr * g
template <typename T>
__global__ void sgd_step(T* __restrict__ p, const T* __restrict__ g, T lr, T weight_decay,
                         T maximize, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T pi = p[i];
        p[i] = pi - lr * ag_grad(g[i], pi, weight_decay, maximize);
    }
}

// SGD with momentum: buf = g on the first step, else buf * momentum + (1 - dampening) * g;
// p -= lr * (nesterov ? g + momentum * buf : buf)
template <typename T>
__global__ void sgd_momentum_step(T* __restrict__ p, const T* __restrict__ g,
                                  T* __restrict__ buf, T lr, T weight_decay, T momentum,
                                  T damp_alpha, T nesterov, T maximize, T first,
                                  long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T pi = p[i];
        const T gi = ag_grad(g[i], pi, weight_decay, maximize);
        const T bi = first != T(0) ? gi : buf[i] * momentum + damp_alpha * gi;
        buf[i] = bi;
        p[i] = pi - lr * (nesterov != T(0) ? gi + momentum * bi : bi);
    }
}

// Adam / AdamW. decay = 1 - lr * weight_decay for AdamW (1 for Adam, whose weight_decay
// is the L2 term instead); m = lerp(m, g, 1 - beta1); v = v * beta2 + (1 - beta2) * g * g;
// p += (-step_size * m) / (sqrt(v) / sqrt(bias_correction2) + eps)
template <typename T, bool AMSGRAD>
__device__ __forceinline__ void adam_impl(T* __restrict__ p, const T* __restrict__ g,
                                          T* __restrict__ exp_avg, T* __restrict__ exp_avg_sq,
                                          T* __restrict__ max_exp_avg_sq, T beta1_weight,
                                          T beta2, T one_minus_beta2, T weight_decay, T decay,
                                          T eps, T neg_step_size, T bias_correction2_sqrt,
                                          T maximize, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T pi = p[i] * decay;
        const T gi = ag_grad(g[i], pi, weight_decay, maximize);
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
}

template <typename T>
__global__ void adam_step(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ exp_avg,
                          T* __restrict__ exp_avg_sq, T beta1_weight, T beta2,
                          T one_minus_beta2, T weight_decay, T decay, T eps, T neg_step_size,
                          T bias_correction2_sqrt, T maximize, long long n) {
    adam_impl<T, false>(p, g, exp_avg, exp_avg_sq, nullptr, beta1_weight, beta2,
                        one_minus_beta2, weight_decay, decay, eps, neg_step_size,
                        bias_correction2_sqrt, maximize, n);
}

template <typename T>
__global__ void adam_amsgrad_step(T* __restrict__ p, const T* __restrict__ g,
                                  T* __restrict__ exp_avg, T* __restrict__ exp_avg_sq,
                                  T* __restrict__ max_exp_avg_sq, T beta1_weight, T beta2,
                                  T one_minus_beta2, T weight_decay, T decay, T eps,
                                  T neg_step_size, T bias_correction2_sqrt, T maximize,
                                  long long n) {
    adam_impl<T, true>(p, g, exp_avg, exp_avg_sq, max_exp_avg_sq, beta1_weight, beta2,
                       one_minus_beta2, weight_decay, decay, eps, neg_step_size,
                       bias_correction2_sqrt, maximize, n);
}

// RMSprop: sq = sq * alpha + (1 - alpha) * g * g; centered: ga = lerp(ga, g, 1 - alpha),
// avg = sqrt(sq - ga * ga) + eps, else sqrt(sq) + eps; with momentum:
// buf = buf * momentum + g / avg, p -= lr * buf; without: p += (-lr * g) / avg
template <typename T, bool CENTERED, bool MOMENTUM>
__device__ __forceinline__ void rmsprop_impl(T* __restrict__ p, const T* __restrict__ g,
                                             T* __restrict__ square_avg, T* __restrict__ grad_avg,
                                             T* __restrict__ buf, T lr, T alpha,
                                             T one_minus_alpha, T eps, T weight_decay,
                                             T momentum, T maximize, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T pi = p[i];
        const T gi = ag_grad(g[i], pi, weight_decay, maximize);
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
}

template <typename T>
__global__ void rmsprop_step(T* __restrict__ p, const T* __restrict__ g,
                             T* __restrict__ square_avg, T lr, T alpha, T one_minus_alpha,
                             T eps, T weight_decay, T maximize, long long n) {
    rmsprop_impl<T, false, false>(p, g, square_avg, nullptr, nullptr, lr, alpha,
                                  one_minus_alpha, eps, weight_decay, T(0), maximize, n);
}

template <typename T>
__global__ void rmsprop_centered_step(T* __restrict__ p, const T* __restrict__ g,
                                      T* __restrict__ square_avg, T* __restrict__ grad_avg,
                                      T lr, T alpha, T one_minus_alpha, T eps, T weight_decay,
                                      T maximize, long long n) {
    rmsprop_impl<T, true, false>(p, g, square_avg, grad_avg, nullptr, lr, alpha,
                                 one_minus_alpha, eps, weight_decay, T(0), maximize, n);
}

template <typename T>
__global__ void rmsprop_momentum_step(T* __restrict__ p, const T* __restrict__ g,
                                      T* __restrict__ square_avg, T* __restrict__ buf, T lr,
                                      T alpha, T one_minus_alpha, T eps, T weight_decay,
                                      T momentum, T maximize, long long n) {
    rmsprop_impl<T, false, true>(p, g, square_avg, nullptr, buf, lr, alpha, one_minus_alpha,
                                 eps, weight_decay, momentum, maximize, n);
}

template <typename T>
__global__ void rmsprop_centered_momentum_step(T* __restrict__ p, const T* __restrict__ g,
                                               T* __restrict__ square_avg,
                                               T* __restrict__ grad_avg, T* __restrict__ buf,
                                               T lr, T alpha, T one_minus_alpha, T eps,
                                               T weight_decay, T momentum, T maximize,
                                               long long n) {
    rmsprop_impl<T, true, true>(p, g, square_avg, grad_avg, buf, lr, alpha, one_minus_alpha,
                                eps, weight_decay, momentum, maximize, n);
}

// Adagrad: sum += g * g; p += (-clr * g) / (sqrt(sum) + eps), clr = lr / (1 + (step - 1) * lr_decay)
template <typename T>
__global__ void adagrad_step(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ sum,
                             T neg_clr, T eps, T weight_decay, T maximize, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T pi = p[i];
        const T gi = ag_grad(g[i], pi, weight_decay, maximize);
        const T si = sum[i] + gi * gi;
        sum[i] = si;
        p[i] = pi + (neg_clr * gi) / (ag_sqrt(si) + eps);
    }
}

// Adadelta: sq = sq * rho + ((1 - rho) * g) * g; delta = sqrt(acc + eps) / sqrt(sq + eps) * g;
// acc = acc * rho + ((1 - rho) * delta) * delta; p += -lr * delta
template <typename T>
__global__ void adadelta_step(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ square_avg,
                              T* __restrict__ acc_delta, T neg_lr, T rho, T one_minus_rho, T eps,
                              T weight_decay, T maximize, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T pi = p[i];
        const T gi = ag_grad(g[i], pi, weight_decay, maximize);
        const T sq = square_avg[i] * rho + (one_minus_rho * gi) * gi;
        square_avg[i] = sq;
        const T delta = ag_sqrt(acc_delta[i] + eps) / ag_sqrt(sq + eps) * gi;
        acc_delta[i] = acc_delta[i] * rho + (one_minus_rho * delta) * delta;
        p[i] = pi + neg_lr * delta;
    }
}

// NAdam: m = lerp(m, g, 1 - beta1); v = v * beta2 + ((1 - beta2) * g) * g;
// denom = sqrt(v / bias_correction2) + eps; p += (grad_coef * g) / denom, then
// p += (exp_avg_coef * m) / denom (two roundings of p, as torch's two addcdiv_).
// decay = 1 - lr * weight_decay when decoupled (weight_decay, the L2 term, is then 0).
template <typename T>
__global__ void nadam_step(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ exp_avg,
                           T* __restrict__ exp_avg_sq, T beta1_weight, T beta2,
                           T one_minus_beta2, T weight_decay, T decay, T eps,
                           T bias_correction2, T grad_coef, T exp_avg_coef, T maximize,
                           long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T pi = p[i] * decay;
        const T gi = ag_grad(g[i], pi, weight_decay, maximize);
        const T mi = ag_lerp(exp_avg[i], gi, beta1_weight);
        const T vi = exp_avg_sq[i] * beta2 + (one_minus_beta2 * gi) * gi;
        exp_avg[i] = mi;
        exp_avg_sq[i] = vi;
        const T denom = ag_sqrt(vi / bias_correction2) + eps;
        const T q = pi + (grad_coef * gi) / denom;
        p[i] = q + (exp_avg_coef * mi) / denom;
    }
}

// RAdam: m, v as Adam; with the variance rectified (rectify != 0, rho_t > 5):
// p -= ((m / bias_correction1) * lr) * ((1 / (sqrt(v) + eps)) * bias_correction2_sqrt) * rect,
// else p -= (m / bias_correction1) * lr. (torch's `scalar / tensor` is tensor.reciprocal() * scalar.)
template <typename T>
__global__ void radam_step(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ exp_avg,
                           T* __restrict__ exp_avg_sq, T beta1_weight, T beta2,
                           T one_minus_beta2, T weight_decay, T decay, T eps, T lr,
                           T bias_correction1, T bias_correction2_sqrt, T rect, T rectify,
                           T maximize, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T pi = p[i] * decay;
        const T gi = ag_grad(g[i], pi, weight_decay, maximize);
        const T mi = ag_lerp(exp_avg[i], gi, beta1_weight);
        const T vi = exp_avg_sq[i] * beta2 + (one_minus_beta2 * gi) * gi;
        exp_avg[i] = mi;
        exp_avg_sq[i] = vi;
        const T step = (mi / bias_correction1) * lr;
        p[i] = rectify != T(0) ? pi - step * ((T(1) / (ag_sqrt(vi) + eps)) * bias_correction2_sqrt) * rect
                               : pi - step;
    }
}

// Adamax: m = lerp(m, g, 1 - beta1); u = maximum(u * beta2, |g| + eps); p += (-clr * m) / u,
// clr = lr / (1 - beta1^step)
template <typename T>
__global__ void adamax_step(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ exp_avg,
                            T* __restrict__ exp_inf, T beta1_weight, T beta2, T eps,
                            T weight_decay, T neg_clr, T maximize, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T pi = p[i];
        const T gi = ag_grad(g[i], pi, weight_decay, maximize);
        const T mi = ag_lerp(exp_avg[i], gi, beta1_weight);
        const T ui = ag_maximum(exp_inf[i] * beta2, (gi < T(0) ? -gi : gi) + eps);
        exp_avg[i] = mi;
        exp_inf[i] = ui;
        p[i] = pi + (neg_clr * mi) / ui;
    }
}

// ASGD: p = p * (1 - lambd * eta) + (-eta) * g; ax = ax + (p - ax) * mu when averaging
// (mu != 1), else ax = p.
template <typename T>
__global__ void asgd_step(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ ax,
                          T decay, T neg_eta, T mu, T average, T weight_decay, T maximize,
                          long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
        const T pi = p[i];
        const T gi = ag_grad(g[i], pi, weight_decay, maximize);
        const T qi = pi * decay + neg_eta * gi;
        p[i] = qi;
        ax[i] = average != T(0) ? ax[i] + (qi - ax[i]) * mu : qi;
    }
}

// Rprop: s = sign(g * prev); step_size = clamp(step_size * (s > 0 ? etaplus : s < 0 ? etaminus : 1),
// step_size_min, step_size_max); g = 0 where s < 0; p -= sign(g) * step_size; prev = g.
// (clamp as ATen's min(max(x, lo), hi), which keeps a NaN.)
template <typename T>
__global__ void rprop_step(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ prev,
                           T* __restrict__ step_size, T etaminus, T etaplus, T step_size_min,
                           T step_size_max, T maximize, long long n) {
    AG_GRID_STRIDE_LOOP(i, n) {
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
}
