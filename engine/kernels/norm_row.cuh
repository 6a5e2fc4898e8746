/* norm_row.cuh — one row of RMSNorm for one block (norm.cu: rows of one stream; rows.cu: rows
 * with their own ada scale; gemv.cu: the norm after a GEMV, in its last block), fp32 throughout:
 *   yr = xr * rsqrt(mean(xr^2) + eps) * w * (1 + scale1p)    (scale1p [dim] or NULL; yr may alias xr)
 * The sum of squares is reduced as by `vt` threads (a multiple of 32, at most 1024): virtual thread t
 * sums elements t, t + vt, ..., then each virtual warp, then the warps in order. A block of any size
 * (a multiple of 32) gives the bits of a block of vt threads, so the GEMV's last block of 256 threads
 * norms exactly as the rmsnorm launch of vox_cuda_norm_threads(dim) threads does. x is read through
 * L2 (__ldcg): the GEMV's last block reads rows other blocks have just written. */
#pragma once
#include "common.cuh"

__device__ __forceinline__ void vox_rmsnorm_row(float *yr, const float *xr, const float *w, const float *scale1p,
                                                int dim, float eps, int vt) {
    __shared__ float red[32];
    /* (unrolled, so that a thread's loads are in flight together: the sums keep their order) */
#pragma unroll 2
    for (int t = threadIdx.x; t < vt; t += blockDim.x) { /* warp-uniform: vt and blockDim are multiples of 32 */
        float ss = 0.f;
#pragma unroll 8
        for (int i = t; i < dim; i += vt) {
            float v = __ldcg(xr + i);
            ss += v * v;
        }
        ss = warp_sum(ss);
        if ((t & 31) == 0) red[t >> 5] = ss;
    }
    __syncthreads();
    if (threadIdx.x < 32) {
        float v = threadIdx.x < (vt >> 5) ? red[threadIdx.x] : 0.f;
        v = warp_sum(v);
        if (threadIdx.x == 0) red[0] = v;
    }
    __syncthreads();
    float r = rsqrtf(red[0] / dim + eps);
#pragma unroll 4
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        float s = w[i];
        if (scale1p) s *= 1.0f + scale1p[i];
        yr[i] = __ldcg(xr + i) * r * s;
    }
    __syncthreads(); /* red is free again for a next row */
}
