// CPU shim: lets g++ compile kernels/*.cu unchanged so the tests can run each
// kernel's arithmetic on the CPU (see tests/test_kernels.py).
//
// A "launch" runs every (block, thread) of the grid one after another. That is exact
// for kernels whose threads touch disjoint elements, which all of ours do.
#pragma once
#include <math.h>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline

struct ag_shim_dim3 {
    unsigned int x = 1, y = 1, z = 1;
};
// inline (C++17): one set shared by every translation unit of the test library.
inline ag_shim_dim3 blockIdx, blockDim, gridDim, threadIdx;

template <typename... Params, typename... Args>
void ag_shim_launch(void (*kernel)(Params...), unsigned int grid, unsigned int block,
                    Args... args) {
    gridDim.x = grid;
    blockDim.x = block;
    for (unsigned int b = 0; b < grid; ++b) {
        for (unsigned int t = 0; t < block; ++t) {
            blockIdx.x = b;
            threadIdx.x = t;
            kernel(args...);
        }
    }
}
