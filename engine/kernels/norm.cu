/* norm.cu — RMSNorm, one block per row, fp32 throughout.
 *   y[r, :] = x[r, :] * rsqrt(mean(x[r, :]^2) + eps) * w * (1 + scale1p)
 * x, y [rows, dim] f32 (may alias); w [dim] f32; scale1p [dim] f32 or NULL (ada-norm). */
#include "common.cuh"

VOX_KERNEL void vox_rmsnorm(float *y, const float *x, const float *w, const float *scale1p, int dim, float eps) {
    const float *xr = x + (long long)blockIdx.x * dim;
    float *yr = y + (long long)blockIdx.x * dim;
    __shared__ float red[32];
    float ss = 0.f;
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
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        float s = w[i];
        if (scale1p) s *= 1.0f + scale1p[i];
        yr[i] = xr[i] * r * s;
    }
}
