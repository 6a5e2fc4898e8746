/* elementwise.cu — pointwise ops over f32 activations, grid-stride loops.
 *   vox_gelu      x[n] = x * 0.5 * (1 + erf(x / sqrt 2))        (exact GELU, in place)
 *   vox_silu_mul  a[n] = a / (1 + exp(-a)) * b
 *   vox_add       y[n] += x[n]
 *   vox_bias_add  y[rows, cols] += b[cols]
 *   vox_f32_to_bf16  out[n] = bf16(x[n])  (GEMM operand staging, round to nearest even)
 *   vox_set_pos   *reg = pos  (the position register, written in stream order)
 *   vox_copy16    device-to-device copy in 16-byte words */
#include "common.cuh"

VOX_KERNEL void vox_gelu(float *x, long long n) {
    VOX_PDL_ENTER();
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        float v = x[i];
        x[i] = 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
    }
}

VOX_KERNEL void vox_silu_mul(float *a, const float *b, long long n) {
    VOX_PDL_ENTER();
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        float v = a[i];
        a[i] = v / (1.0f + expf(-v)) * b[i];
    }
}

VOX_KERNEL void vox_add(float *y, const float *x, long long n) {
    VOX_PDL_ENTER();
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        y[i] += x[i];
}

VOX_KERNEL void vox_bias_add(float *y, const float *b, long long rows, int cols) {
    VOX_PDL_ENTER();
    long long n = rows * cols;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        y[i] += b[i % cols];
}

VOX_KERNEL void vox_f32_to_bf16(uint16_t *out, const float *x, long long n) {
    VOX_PDL_ENTER();
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        out[i] = f_bf16(x[i]);
}

VOX_KERNEL void vox_set_pos(long long *reg, long long pos) {
    VOX_PDL_ENTER();
    *reg = pos;
}

/* dst[n16] = src[n16] in 16-byte words, four loads in flight per thread (device copies). */
VOX_KERNEL void vox_copy16(uint4 *dst, const uint4 *src, long long n16) {
    VOX_PDL_ENTER();
    long long stride = (long long)gridDim.x * blockDim.x;
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    for (; i + 3 * stride < n16; i += 4 * stride) {
        uint4 a = __ldcs(src + i), b = __ldcs(src + i + stride);
        uint4 c = __ldcs(src + i + 2 * stride), d = __ldcs(src + i + 3 * stride);
        __stcs(dst + i, a);
        __stcs(dst + i + stride, b);
        __stcs(dst + i + 2 * stride, c);
        __stcs(dst + i + 3 * stride, d);
    }
    for (; i < n16; i += stride) __stcs(dst + i, __ldcs(src + i));
}
