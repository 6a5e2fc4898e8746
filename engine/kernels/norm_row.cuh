/* norm_row.cuh — one row of RMSNorm for one block (norm.cu: rows of one stream; rows.cu: rows
 * with their own ada scale), fp32 throughout:
 *   yr = xr * rsqrt(mean(xr^2) + eps) * w * (1 + scale1p)    (scale1p [dim] or NULL; yr may alias xr) */
#pragma once
#include "common.cuh"

__device__ __forceinline__ void vox_rmsnorm_row(float *yr, const float *xr, const float *w, const float *scale1p,
                                                int dim, float eps) {
    __shared__ float red[32];
    float ss = 0.f;
#pragma unroll 8 /* (a thread's loads in flight together; the sum keeps its order) */
    for (int i = threadIdx.x; i < dim; i += blockDim.x) ss += xr[i] * xr[i];
    ss = warp_sum(ss);
    if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = ss;
    __syncthreads();
    if (threadIdx.x < 32) {
        float v = threadIdx.x < (blockDim.x >> 5) ? red[threadIdx.x] : 0.f;
        v = warp_sum(v);
        if (threadIdx.x == 0) red[0] = v;
    }
    __syncthreads();
    float r = rsqrtf(red[0] / dim + eps);
#pragma unroll 4
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        float s = w[i];
        if (scale1p) s *= 1.0f + scale1p[i];
        yr[i] = xr[i] * r * s;
    }
}
