// The pointwise part of one LSTM or GRU step (PyTorch's _thnn_fused_lstm_cell / _thnn_fused_gru_cell),
// templated over float and double. One thread owns one (batch row b, hidden unit j) and reads its G gate
// pre-activations: gates are (B, G*H), row b, gate k at column k*H + j, in PyTorch's order (LSTM: i, f, g, o;
// GRU: r, z, n); biases are (G*H), the states (B, H).
// Argument order (the loader relies on it): inputs, outputs, the `long long` geometry (B, H), then n = B*H.
// The backward kernels write gradients of different shapes (the gates' (B, G*H), the state's (B, H)), so they
// take them as buffers the caller allocates, first (written, never read).
// Every formula is the numpy reference's (autograd_gpu/ops/rnn_ops.py), operation for operation; the backward
// recomputes the gates from the saved pre-activations instead of keeping a workspace.
#include "common.cuh"

__device__ __forceinline__ float ag_tanh(float x) { return tanhf(x); }
__device__ __forceinline__ double ag_tanh(double x) { return tanh(x); }

template <typename T>
__device__ __forceinline__ T ag_sigmoid(T x) { return T(1) / (T(1) + ag_exp(-x)); }

// lstm: i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of (igates + hgates + b_ih + b_hh);
// cy = f * cx + i * g, hy = o * tanh(cy)
template <typename T>
__global__ void lstm_cell_fwd(const T* __restrict__ igates, const T* __restrict__ hgates,
                              const T* __restrict__ cx, const T* __restrict__ b_ih, const T* __restrict__ b_hh,
                              T* __restrict__ hy, T* __restrict__ cy, long long B, long long H, long long n) {
    AG_GRID_STRIDE_LOOP(idx, n) {
        const long long b = idx / H, j = idx % H, row = b * 4 * H;
        const T i = ag_sigmoid(igates[row + j] + hgates[row + j] + b_ih[j] + b_hh[j]);
        const T f = ag_sigmoid(igates[row + H + j] + hgates[row + H + j] + b_ih[H + j] + b_hh[H + j]);
        const T g = ag_tanh(igates[row + 2 * H + j] + hgates[row + 2 * H + j] + b_ih[2 * H + j] + b_hh[2 * H + j]);
        const T o = ag_sigmoid(igates[row + 3 * H + j] + hgates[row + 3 * H + j] + b_ih[3 * H + j] + b_hh[3 * H + j]);
        const T c = f * cx[idx] + i * g;
        cy[idx] = c;
        hy[idx] = o * ag_tanh(c);
    }
}

// the gradients of the gate pre-activations (B, 4H) and of cx, from those of hy and cy
template <typename T>
__global__ void lstm_cell_bwd(T* __restrict__ grad_gates, T* __restrict__ grad_cx,
                              const T* __restrict__ grad_hy, const T* __restrict__ grad_cy,
                              const T* __restrict__ igates, const T* __restrict__ hgates,
                              const T* __restrict__ cx, const T* __restrict__ b_ih, const T* __restrict__ b_hh,
                              long long B, long long H, long long n) {
    AG_GRID_STRIDE_LOOP(idx, n) {
        const long long b = idx / H, j = idx % H, row = b * 4 * H;
        const T i = ag_sigmoid(igates[row + j] + hgates[row + j] + b_ih[j] + b_hh[j]);
        const T f = ag_sigmoid(igates[row + H + j] + hgates[row + H + j] + b_ih[H + j] + b_hh[H + j]);
        const T g = ag_tanh(igates[row + 2 * H + j] + hgates[row + 2 * H + j] + b_ih[2 * H + j] + b_hh[2 * H + j]);
        const T o = ag_sigmoid(igates[row + 3 * H + j] + hgates[row + 3 * H + j] + b_ih[3 * H + j] + b_hh[3 * H + j]);
        const T c = f * cx[idx] + i * g;
        const T tc = ag_tanh(c);
        const T ghy = grad_hy[idx];
        const T gc = ghy * o * (T(1) - tc * tc) + grad_cy[idx];
        grad_gates[row + j] = gc * g * (T(1) - i) * i;
        grad_gates[row + H + j] = gc * cx[idx] * (T(1) - f) * f;
        grad_gates[row + 2 * H + j] = gc * i * (T(1) - g * g);
        grad_gates[row + 3 * H + j] = ghy * tc * (T(1) - o) * o;
        grad_cx[idx] = gc * f;
    }
}

// gru: r, z = sigmoid(igates + b_ih + hgates + b_hh) of their thirds; n = tanh(i_n + b_in + r * (h_n + b_hn));
// hy = n + z * (hx - n)
template <typename T>
__global__ void gru_cell_fwd(const T* __restrict__ igates, const T* __restrict__ hgates,
                             const T* __restrict__ hx, const T* __restrict__ b_ih, const T* __restrict__ b_hh,
                             T* __restrict__ hy, long long B, long long H, long long n) {
    AG_GRID_STRIDE_LOOP(idx, n) {
        const long long b = idx / H, j = idx % H, row = b * 3 * H;
        const T r = ag_sigmoid(igates[row + j] + b_ih[j] + (hgates[row + j] + b_hh[j]));
        const T z = ag_sigmoid(igates[row + H + j] + b_ih[H + j] + (hgates[row + H + j] + b_hh[H + j]));
        const T nn = ag_tanh(igates[row + 2 * H + j] + b_ih[2 * H + j] + r * (hgates[row + 2 * H + j] + b_hh[2 * H + j]));
        hy[idx] = nn + z * (hx[idx] - nn);
    }
}

// the gradients of the input gates, of the hidden gates (they differ in the n third: r scales h_n) and of hx
template <typename T>
__global__ void gru_cell_bwd(T* __restrict__ grad_igates, T* __restrict__ grad_hgates, T* __restrict__ grad_hx,
                             const T* __restrict__ grad_hy, const T* __restrict__ igates,
                             const T* __restrict__ hgates, const T* __restrict__ hx,
                             const T* __restrict__ b_ih, const T* __restrict__ b_hh,
                             long long B, long long H, long long n) {
    AG_GRID_STRIDE_LOOP(idx, n) {
        const long long b = idx / H, j = idx % H, row = b * 3 * H;
        const T r = ag_sigmoid(igates[row + j] + b_ih[j] + (hgates[row + j] + b_hh[j]));
        const T z = ag_sigmoid(igates[row + H + j] + b_ih[H + j] + (hgates[row + H + j] + b_hh[H + j]));
        const T hn = hgates[row + 2 * H + j] + b_hh[2 * H + j];
        const T nn = ag_tanh(igates[row + 2 * H + j] + b_ih[2 * H + j] + r * hn);
        const T ghy = grad_hy[idx];
        const T gn = ghy * (T(1) - z) * (T(1) - nn * nn);
        const T gz = ghy * (hx[idx] - nn) * (T(1) - z) * z;
        const T gr = gn * hn * (T(1) - r) * r;
        grad_igates[row + j] = gr;
        grad_igates[row + H + j] = gz;
        grad_igates[row + 2 * H + j] = gn;
        grad_hgates[row + j] = gr;
        grad_hgates[row + H + j] = gz;
        grad_hgates[row + 2 * H + j] = gn * r;
        grad_hx[idx] = ghy * z;
    }
}
