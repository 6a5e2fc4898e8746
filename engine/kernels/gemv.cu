/* gemv.cu — y[n, out] (+)= x[n, in] · Wᵀ (+ b) for few rows (n <= 8, the decode step), for up
 * to VOX_GEMV_SEGS weights on the same x in one launch (gemv_args.cuh: linear = 1 segment,
 * linear_multi = q/k/v or w1/w3 together; each row is computed the same way either way).
 * x is rounded to bf16 as it is read, exactly as the cuBLASLt path stages it (gemm.c), so a row gives
 * the same products here as in a GEMM of many rows (a step of one stream and the same position in a
 * batched or speculating forward differ only in the fp32 order of the sums).
 * W bf16 [out, in] is read exactly once, so this is bound by memory bandwidth: one warp per
 * output row streams its W row with 16-byte loads, four in flight per lane, and dots it
 * against all n input rows at once (x is tiny and stays in L1/L2). FP32 accumulation; lane
 * sums are combined with shuffles. The grid is sized by the host (gemm.c) to at most the
 * warps that fit on the GPU at once, and each warp takes rows round-robin (row g, g + warps,
 * ...), so every warp gets the same number of rows, +-1, instead of a last partial wave of
 * blocks. The per-row arithmetic does not depend on the grid: any grid gives the same bits.
 * (ptxas, sm_90: 64 registers, so 4 blocks per SM; the n = 7 and 8 paths spill 8 bytes.)
 * (Measured on an H200: 4.1-4.4 TB/s on the big matrices, ahead of cuBLASLt at n = 1 on every
 * decoder shape; splitting a row over several warps was slower, see engine/README.md.)
 *   vox_gemv_bf16_vec     in % 8 == 0 and x 16-byte aligned (the usual case)
 *   vox_gemv_bf16_scalar  any in (tiny test models)
 *   vox_gemv_bf16_gated   the FFN gate, y = silu(x·w1ᵀ) ⊙ (x·w3ᵀ): a warp dots row r of both weights
 *                         (segments 0 and 1), each sum in the order gemv_vec gives it, then applies
 *                         silu_mul's arithmetic (elementwise.cu), so the bits are those of the vec
 *                         launch followed by vox_silu_mul, with one launch and no f3 round trip. */
#include "common.cuh"
#include "gemv_args.cuh"

#define GEMV_WARPS VOX_GEMV_WARPS

template <int N> __device__ __forceinline__ void dot8(float (&s)[N], uint4 w, const float *x, int in, int c) {
#pragma unroll
    for (int t = 0; t < N; t++) {
        const float4 *xp = (const float4 *)(x + (long long)t * in) + 2 * c;
        float4 a = __ldg(xp), b = __ldg(xp + 1);
        float2 x0 = bf16_round2(a.x, a.y), x1 = bf16_round2(a.z, a.w);
        float2 x2 = bf16_round2(b.x, b.y), x3 = bf16_round2(b.z, b.w);
        float acc = s[t];
        acc = fmaf(bf16_lo(w.x), x0.x, acc);
        acc = fmaf(bf16_hi(w.x), x0.y, acc);
        acc = fmaf(bf16_lo(w.y), x1.x, acc);
        acc = fmaf(bf16_hi(w.y), x1.y, acc);
        acc = fmaf(bf16_lo(w.z), x2.x, acc);
        acc = fmaf(bf16_hi(w.z), x2.y, acc);
        acc = fmaf(bf16_lo(w.w), x3.x, acc);
        acc = fmaf(bf16_hi(w.w), x3.y, acc);
        s[t] = acc;
    }
}

template <int N>
__device__ __forceinline__ void store_rows(float (&s)[N], const vox_gemv_args &a, int seg, int row, int accumulate) {
    float *y = pick(a.y, seg);
    const float *bias = pick(a.bias, seg);
    int out = pick(a.out, seg);
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

/* PRE: pre holds the row's first four chunks (lane, lane + 32, lane + 64, lane + 96), already loaded by
 * the caller (gemv_rows, before the kernel's dependency wait). The sums take the same order either way. */
template <int N, bool PRE>
__device__ void gemv_vec(const vox_gemv_args &a, int seg, int row, const float *x, int in, int accumulate,
                         const uint4 (&pre)[4]) {
    int lane = threadIdx.x & 31;
    int in8 = in >> 3;
    const uint4 *wr = (const uint4 *)(pick(a.w, seg) + (long long)row * in);
    float s[N];
#pragma unroll
    for (int t = 0; t < N; t++) s[t] = 0.f;
    int c = lane;
    if (PRE) {
#pragma unroll
        for (int u = 0; u < 4; u++) dot8<N>(s, pre[u], x, in, c + 32 * u);
        c += 128;
    }
    for (; c + 96 < in8; c += 128) {
        uint4 w0 = ld_stream(wr + c), w1 = ld_stream(wr + c + 32);
        uint4 w2 = ld_stream(wr + c + 64), w3 = ld_stream(wr + c + 96);
        dot8<N>(s, w0, x, in, c);
        dot8<N>(s, w1, x, in, c + 32);
        dot8<N>(s, w2, x, in, c + 64);
        dot8<N>(s, w3, x, in, c + 96);
    }
    for (; c < in8; c += 32) dot8<N>(s, ld_stream(wr + c), x, in, c);
    store_rows<N>(s, a, seg, row, accumulate);
}

template <int N>
__device__ void gemv_scalar(const vox_gemv_args &a, int seg, int row, const float *x, int in, int accumulate) {
    int lane = threadIdx.x & 31;
    const uint16_t *wr = pick(a.w, seg) + (long long)row * in;
    float s[N];
#pragma unroll
    for (int t = 0; t < N; t++) s[t] = 0.f;
    for (int i = lane; i < in; i += 32) {
        float w = bf16_f(wr[i]);
#pragma unroll
        for (int t = 0; t < N; t++) s[t] = fmaf(w, bf16_round(x[(long long)t * in + i]), s[t]);
    }
    store_rows<N>(s, a, seg, row, accumulate);
}

/* Row `row` of the gate (vec layout): s1 over w1's row and s3 over w3's, each in the order of
 * gemv_vec (lane, lane + 32, ... : the same fmaf sequence per lane), two loads of each in flight. */
template <int N, bool PRE>
__device__ void gemv_gated(const vox_gemv_args &a, int row, const float *x, int in, const uint4 (&pre)[8]) {
    int lane = threadIdx.x & 31;
    int in8 = in >> 3;
    const uint4 *w1 = (const uint4 *)(a.w[0] + (long long)row * in);
    const uint4 *w3 = (const uint4 *)(a.w[1] + (long long)row * in);
    float s1[N], s3[N];
#pragma unroll
    for (int t = 0; t < N; t++) s1[t] = s3[t] = 0.f;
    int c = lane;
    if (PRE) { /* pre[0..3]: w1's first four chunks, pre[4..7]: w3's */
#pragma unroll
        for (int u = 0; u < 4; u++) {
            dot8<N>(s1, pre[u], x, in, c + 32 * u);
            dot8<N>(s3, pre[4 + u], x, in, c + 32 * u);
        }
        c += 128;
    }
    for (; c + 96 < in8; c += 128) {
        uint4 p0 = ld_stream(w1 + c), q0 = ld_stream(w3 + c);
        uint4 p1 = ld_stream(w1 + c + 32), q1 = ld_stream(w3 + c + 32);
        uint4 p2 = ld_stream(w1 + c + 64), q2 = ld_stream(w3 + c + 64);
        uint4 p3 = ld_stream(w1 + c + 96), q3 = ld_stream(w3 + c + 96);
        dot8<N>(s1, p0, x, in, c);
        dot8<N>(s3, q0, x, in, c);
        dot8<N>(s1, p1, x, in, c + 32);
        dot8<N>(s3, q1, x, in, c + 32);
        dot8<N>(s1, p2, x, in, c + 64);
        dot8<N>(s3, q2, x, in, c + 64);
        dot8<N>(s1, p3, x, in, c + 96);
        dot8<N>(s3, q3, x, in, c + 96);
    }
    for (; c < in8; c += 32) {
        dot8<N>(s1, ld_stream(w1 + c), x, in, c);
        dot8<N>(s3, ld_stream(w3 + c), x, in, c);
    }
    int out = a.out[0];
#pragma unroll
    for (int t = 0; t < N; t++) {
        float v = warp_sum(s1[t]), b = warp_sum(s3[t]);
        if (lane == 0) a.y[0][(long long)t * out + row] = v / (1.0f + expf(-v)) * b;
    }
}

#define VOX_GEMV_PRELOAD_ROWS 1 /* one input row only: more would spill registers */

/* This warp's first chunks of weight `seg`'s row `row`, four per weight from segment `seg` on
 * (NW weights: 1, or 2 for the gate's w1 and w3), into pre; only when the row is whole chunks of
 * 128 lanes' loads (in8 >= 128), which gemv_vec then starts from. Returns whether it loaded. */
template <int NW>
__device__ __forceinline__ bool gemv_preload(const vox_gemv_args &a, int g, int in, uint4 (&pre)[4 * NW]) {
    if (!VOX_GEMV_PRELOAD || g >= a.rows || (in >> 3) < 128) return false;
    int first, seg = find_seg(a, g, &first), lane = threadIdx.x & 31;
#pragma unroll
    for (int i = 0; i < NW; i++) {
        const uint4 *wr = (const uint4 *)(pick(a.w, seg + i) + (long long)(g - first) * in) + lane;
#pragma unroll
        for (int u = 0; u < 4; u++) pre[4 * i + u] = ld_stream(wr + 32 * u);
    }
    return true;
}

/* The rows of this warp: g = its index in the grid, then every gridDim.x * GEMV_WARPS-th. The kernel's
 * dependency wait is here, after the first row's preload. */
template <int N, bool VEC>
__device__ __forceinline__ void gemv_rows(const vox_gemv_args &a, const float *x, int in, int accumulate) {
    int warps = (int)gridDim.x * GEMV_WARPS;
    int g = (int)blockIdx.x * GEMV_WARPS + (int)(threadIdx.x >> 5);
    uint4 pre[4];
    bool have = VEC && N <= VOX_GEMV_PRELOAD_ROWS && gemv_preload<1>(a, g, in, pre);
    VOX_PDL_ENTER();
    if (have) { /* the first row, from its preloaded chunks */
        int first, seg = find_seg(a, g, &first);
        gemv_vec<N, true>(a, seg, g - first, x, in, accumulate, pre);
        g += warps;
    }
    for (; g < a.rows; g += warps) {
        int first, seg = find_seg(a, g, &first);
        if (VEC)
            gemv_vec<N, false>(a, seg, g - first, x, in, accumulate, pre);
        else
            gemv_scalar<N>(a, seg, g - first, x, in, accumulate);
    }
}

/* Block: GEMV_WARPS*32 threads; grid: any size (gemm.c picks it). n in 1..8. */
#define GEMV_DISPATCH(vec)                                                                                             \
    switch (n) {                                                                                                       \
    case 1: gemv_rows<1, vec>(a, x, in, accumulate); break;                                                            \
    case 2: gemv_rows<2, vec>(a, x, in, accumulate); break;                                                            \
    case 3: gemv_rows<3, vec>(a, x, in, accumulate); break;                                                            \
    case 4: gemv_rows<4, vec>(a, x, in, accumulate); break;                                                            \
    case 5: gemv_rows<5, vec>(a, x, in, accumulate); break;                                                            \
    case 6: gemv_rows<6, vec>(a, x, in, accumulate); break;                                                            \
    case 7: gemv_rows<7, vec>(a, x, in, accumulate); break;                                                            \
    default: gemv_rows<8, vec>(a, x, in, accumulate); break;                                                           \
    }

VOX_KERNEL void __launch_bounds__(GEMV_WARPS * 32)
    vox_gemv_bf16_vec(vox_gemv_args a, const float *x, int n, int in, int accumulate){
        GEMV_DISPATCH(true) /* gemv_rows waits */
    }

VOX_KERNEL void __launch_bounds__(GEMV_WARPS * 32)
    vox_gemv_bf16_scalar(vox_gemv_args a, const float *x, int n, int in, int accumulate){
        GEMV_DISPATCH(false) /* gemv_rows waits */
    }

/* The gate: a.rows = w1's rows, segments 0 (w1) and 1 (w3); n = 1 or 2 (VOX_GEMV_GATED_ROWS: more
 * rows would not fit 4 blocks per SM), in % 8 == 0, x aligned. */
VOX_KERNEL void __launch_bounds__(GEMV_WARPS * 32, 4)
    vox_gemv_bf16_gated(vox_gemv_args a, const float *x, int n, int in, int accumulate) {
    (void)accumulate;
    int warps = (int)gridDim.x * GEMV_WARPS;
    int g = (int)blockIdx.x * GEMV_WARPS + (int)(threadIdx.x >> 5);
    uint4 pre[8];
    bool have = gemv_preload<2>(a, g, in, pre); /* w1's and w3's (segments 0, 1) */
    VOX_PDL_ENTER();
    if (have) {
        if (n == 1)
            gemv_gated<1, true>(a, g, x, in, pre);
        else
            gemv_gated<2, true>(a, g, x, in, pre);
        g += warps;
    }
    for (; g < a.rows; g += warps)
        if (n == 1)
            gemv_gated<1, false>(a, g, x, in, pre);
        else
            gemv_gated<2, false>(a, g, x, in, pre);
}
