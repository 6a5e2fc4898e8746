/* gemv.cu — y[n, out] (+)= x[n, in] · Wᵀ (+ b) for few rows (n <= 8, the decode step).
 * W bf16 [out, in] is read exactly once, so this is bound by memory bandwidth: one warp per
 * output row (8 rows per 256-thread block) streams its W row with 16-byte loads, four in
 * flight per lane, and dots it against all n input rows at once (x is tiny and stays in L1/L2).
 * FP32 accumulation; lane sums are combined with shuffles. (Measured on an H200: 4.1-4.4 TB/s
 * on the big matrices, ahead of cuBLASLt at n = 1 on every decoder shape; splitting a row over
 * several warps to even out the last wave was slower, see engine/README.md.)
 *   vox_gemv_bf16_vec     in % 8 == 0 and x 16-byte aligned (the usual case)
 *   vox_gemv_bf16_scalar  any in (tiny test models) */
#include "common.cuh"

#define GEMV_WARPS 8

__device__ __forceinline__ uint4 ld_stream(const uint4 *p) {
    uint4 r;
    asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r.x), "=r"(r.y), "=r"(r.z), "=r"(r.w) : "l"(p));
    return r;
}

template <int N>
__device__ __forceinline__ void dot8(float (&s)[N], uint4 w, const float *x, int in, int c) {
#pragma unroll
    for (int t = 0; t < N; t++) {
        const float4 *xp = (const float4 *)(x + (long long)t * in) + 2 * c;
        float4 a = __ldg(xp), b = __ldg(xp + 1);
        float acc = s[t];
        acc = fmaf(bf16_lo(w.x), a.x, acc); acc = fmaf(bf16_hi(w.x), a.y, acc);
        acc = fmaf(bf16_lo(w.y), a.z, acc); acc = fmaf(bf16_hi(w.y), a.w, acc);
        acc = fmaf(bf16_lo(w.z), b.x, acc); acc = fmaf(bf16_hi(w.z), b.y, acc);
        acc = fmaf(bf16_lo(w.w), b.z, acc); acc = fmaf(bf16_hi(w.w), b.w, acc);
        s[t] = acc;
    }
}

template <int N>
__device__ __forceinline__ void store_rows(float (&s)[N], float *y, const float *bias, int out,
                                           int row, int accumulate) {
#pragma unroll
    for (int t = 0; t < N; t++) {
        float v = warp_sum(s[t]);
        if ((threadIdx.x & 31) == 0) {
            if (bias) v += bias[row];
            float *yp = y + (long long)t * out + row;
            *yp = accumulate ? *yp + v : v;
        }
    }
}

template <int N>
__device__ void gemv_vec(float *y, const float *x, const uint16_t *W, const float *bias, int out,
                         int in, int accumulate) {
    int row = blockIdx.x * GEMV_WARPS + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= out) return;
    int in8 = in >> 3;
    const uint4 *wr = (const uint4 *)(W + (long long)row * in);
    float s[N];
#pragma unroll
    for (int t = 0; t < N; t++) s[t] = 0.f;
    int c = lane;
    for (; c + 96 < in8; c += 128) {
        uint4 w0 = ld_stream(wr + c), w1 = ld_stream(wr + c + 32);
        uint4 w2 = ld_stream(wr + c + 64), w3 = ld_stream(wr + c + 96);
        dot8<N>(s, w0, x, in, c);
        dot8<N>(s, w1, x, in, c + 32);
        dot8<N>(s, w2, x, in, c + 64);
        dot8<N>(s, w3, x, in, c + 96);
    }
    for (; c < in8; c += 32) dot8<N>(s, ld_stream(wr + c), x, in, c);
    store_rows<N>(s, y, bias, out, row, accumulate);
}

template <int N>
__device__ void gemv_scalar(float *y, const float *x, const uint16_t *W, const float *bias,
                            int out, int in, int accumulate) {
    int row = blockIdx.x * GEMV_WARPS + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= out) return;
    const uint16_t *wr = W + (long long)row * in;
    float s[N];
#pragma unroll
    for (int t = 0; t < N; t++) s[t] = 0.f;
    for (int i = lane; i < in; i += 32) {
        float w = bf16_f(wr[i]);
#pragma unroll
        for (int t = 0; t < N; t++) s[t] = fmaf(w, x[(long long)t * in + i], s[t]);
    }
    store_rows<N>(s, y, bias, out, row, accumulate);
}

/* Block: GEMV_WARPS*32 threads; grid: ceil(out / GEMV_WARPS). n in 1..8. */
#define GEMV_DISPATCH(fn)                                                      \
    switch (n) {                                                               \
    case 1: fn<1>(y, x, W, bias, out, in, accumulate); break;                  \
    case 2: fn<2>(y, x, W, bias, out, in, accumulate); break;                  \
    case 3: fn<3>(y, x, W, bias, out, in, accumulate); break;                  \
    case 4: fn<4>(y, x, W, bias, out, in, accumulate); break;                  \
    case 5: fn<5>(y, x, W, bias, out, in, accumulate); break;                  \
    case 6: fn<6>(y, x, W, bias, out, in, accumulate); break;                  \
    case 7: fn<7>(y, x, W, bias, out, in, accumulate); break;                  \
    default: fn<8>(y, x, W, bias, out, in, accumulate); break;                 \
    }

VOX_KERNEL void __launch_bounds__(GEMV_WARPS * 32)
vox_gemv_bf16_vec(float *y, const float *x, const uint16_t *W, const float *bias, int n, int out,
                  int in, int accumulate) {
    GEMV_DISPATCH(gemv_vec)
}

VOX_KERNEL void __launch_bounds__(GEMV_WARPS * 32)
vox_gemv_bf16_scalar(float *y, const float *x, const uint16_t *W, const float *bias, int n,
                     int out, int in, int accumulate) {
    GEMV_DISPATCH(gemv_scalar)
}
