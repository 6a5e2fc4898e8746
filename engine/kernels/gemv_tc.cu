/* gemv_tc.cu — y[n, out] (+)= x[n, in] · Wᵀ (+ b) for a few rows on tensor cores (n up to
 * VOX_GEMV_TC_MAX_ROWS: batched streams' decoder forwards, speculation blocks), for up to
 * VOX_GEMV_SEGS weights on one x in one launch (the segments of gemv_args.cuh, as the GEMV).
 *
 * Like the GEMV, it streams W once with 16-byte loads and is bound by memory bandwidth; the
 * n rows' products run on mma.sync m16n8k16 (BF16 operands, FP32 accumulate) instead of
 * FP32 FMAs, so the cost stays that of one weight read for any n up to 32 (cuBLASLt's GEMMs
 * at these n read the weights at well under the bandwidth: engine/PERF.md).
 *
 * Block = MT * 16 consecutive output rows (all in one segment: the host checks that every
 * segment's rows are a multiple of 32) over the whole of `in`; its VOX_GEMV_TC_WARPS warps split
 * `in` into equal ranges (in % (warps * 32) == 0). Per chunk of 32 columns a lane (group
 * g = lane / 4, t = lane % 4) loads 8 consecutive weights of rows g and g + 8 of each 16-row tile
 * and 8 consecutive inputs of x row g of each 8-row tile. The sum over k does not care in which
 * order the 32 columns enter it, only that W and x agree: lane t's k slots 2t, 2t+1, 2t+8, 2t+9
 * of the first mma are its columns 8t .. 8t+3, of the second 8t+4 .. 8t+7, in both fragments, so
 * the fragments are the loaded registers as they are, with no shuffle or shared-memory staging.
 * x arrives as bf16 (gemm.c's staging kernel, the rounding the cuBLASLt path gives it); rows of a
 * tile past n read row n - 1 and are never stored.
 * The warps' partial sums meet in shared memory and are added in warp order, then bias and the
 * residual (accumulate): the bits depend only on n, in and the weights, not on the grid or timing.
 *   vox_gemv_tc_m1  16 rows per block (more blocks: the narrow weights, wo / w2 / q,k,v)
 *   vox_gemv_tc_m2  32 rows per block (each lane keeps twice the weights in flight) */
#include "common.cuh"
#include "gemv_args.cuh"

#define TC_WARPS VOX_GEMV_TC_WARPS
#define TC_NT    (VOX_GEMV_TC_MAX_ROWS / 8) /* 8-row tiles of x at most */

/* The block's rows: MT tiles of 16 from global row row0 of segment seg, NT tiles of 8 input rows. */
template <int MT, int NT>
__device__ __forceinline__ void gemv_tc(const vox_gemv_args &a, const uint16_t *x, int n, int in, int accumulate,
                                        float *red) {
    constexpr int ROWS = MT * 16, STRIDE = ROWS + 4; /* + 4: the fragments' stores hit 32 banks */
    constexpr int U = 4 / MT;                        /* chunks of 32 columns in flight per lane */
    int warp = (int)threadIdx.x >> 5, lane = (int)threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    int row0 = (int)blockIdx.x * ROWS, first, seg = find_seg(a, row0, &first);
    const uint16_t *w = pick(a.w, seg) + (long long)(row0 - first) * in;
    int span = in / TC_WARPS, k0 = warp * span + 8 * t, k1 = k0 + span;
    /* lane's weights: rows g + 8h of tile m at wg + (2m + h) * in8; its inputs: row j*8 + g of x */
    const uint16_t *wg = w + (long long)g * in, *xr[NT];
    int in8 = 8 * in;
#pragma unroll
    for (int j = 0; j < NT; j++) xr[j] = x + (long long)min(j * 8 + g, n - 1) * in;
    float acc[MT][NT][4];
#pragma unroll
    for (int m = 0; m < MT; m++)
#pragma unroll
        for (int j = 0; j < NT; j++) acc[m][j][0] = acc[m][j][1] = acc[m][j][2] = acc[m][j][3] = 0.f;

    /* The weights of the first U chunks are loaded before the kernel's dependency wait (gemv.cu,
     * VOX_GEMV_PRELOAD: no kernel writes a weight), so they are in flight while the kernel before (the
     * input's BF16 staging) runs; x is read after it. Each round then loads the next round's weights
     * once it has used its own. */
    int k = k0;
    uint4 wv[U][MT][2];
    auto load_w = [&](int at) {
#pragma unroll
        for (int u = 0; u < U; u++)
#pragma unroll
            for (int m = 0; m < MT; m++) {
                wv[u][m][0] = ld_stream((const uint4 *)(wg + (2 * m) * in8 + at + 32 * u));
                wv[u][m][1] = ld_stream((const uint4 *)(wg + (2 * m + 1) * in8 + at + 32 * u));
            }
    };
    bool more = k + 32 * (U - 1) < k1;
    if (VOX_GEMV_PRELOAD && more) load_w(k);
    VOX_PDL_ENTER();
    for (; more; k += 32 * U) {
        if (!VOX_GEMV_PRELOAD) load_w(k);
#pragma unroll
        for (int u = 0; u < U; u++)
#pragma unroll
            for (int j = 0; j < NT; j++) {
                uint4 xv = __ldg((const uint4 *)(xr[j] + k + 32 * u));
#pragma unroll
                for (int m = 0; m < MT; m++) {
                    const uint4 &lo = wv[u][m][0], &hi = wv[u][m][1];
                    const uint32_t f0[4] = {lo.x, hi.x, lo.y, hi.y}, f1[4] = {lo.z, hi.z, lo.w, hi.w};
                    mma16816(acc[m][j], f0, xv.x, xv.y);
                    mma16816(acc[m][j], f1, xv.z, xv.w);
                }
            }
        more = k + 32 * U + 32 * (U - 1) < k1;
        if (VOX_GEMV_PRELOAD && more) load_w(k + 32 * U);
    }
    for (; k < k1; k += 32) /* ranges that are not a multiple of U chunks */
#pragma unroll
        for (int m = 0; m < MT; m++) {
            uint4 lo = ld_stream((const uint4 *)(wg + (2 * m) * in8 + k)),
                  hi = ld_stream((const uint4 *)(wg + (2 * m + 1) * in8 + k));
            const uint32_t f0[4] = {lo.x, hi.x, lo.y, hi.y}, f1[4] = {lo.z, hi.z, lo.w, hi.w};
#pragma unroll
            for (int j = 0; j < NT; j++) {
                uint4 xv = __ldg((const uint4 *)(xr[j] + k));
                mma16816(acc[m][j], f0, xv.x, xv.y);
                mma16816(acc[m][j], f1, xv.z, xv.w);
            }
        }

    /* c fragment: c0, c1 = (row g, inputs 2t, 2t+1), c2, c3 = (row g + 8, the same inputs). */
    float *mine = red + warp * (TC_NT * 8 * STRIDE);
#pragma unroll
    for (int m = 0; m < MT; m++)
#pragma unroll
        for (int j = 0; j < NT; j++) {
            int o = m * 16 + g, r = j * 8 + 2 * t;
            mine[r * STRIDE + o] = acc[m][j][0];
            mine[(r + 1) * STRIDE + o] = acc[m][j][1];
            mine[r * STRIDE + o + 8] = acc[m][j][2];
            mine[(r + 1) * STRIDE + o + 8] = acc[m][j][3];
        }
    __syncthreads();
    float *y = pick(a.y, seg);
    const float *bias = pick(a.bias, seg);
    int out = pick(a.out, seg), orow = row0 - first;
    for (int i = (int)threadIdx.x; i < n * ROWS; i += TC_WARPS * 32) {
        int r = i / ROWS, o = i - r * ROWS;
        float v = 0.f;
#pragma unroll
        for (int q = 0; q < TC_WARPS; q++) v += red[q * (TC_NT * 8 * STRIDE) + r * STRIDE + o];
        if (bias) v += bias[orow + o];
        float *yp = y + (long long)r * out + orow + o;
        *yp = accumulate ? *yp + v : v;
    }
}

/* Block: TC_WARPS * 32 threads; grid: a.rows / (MT * 16) blocks; n in 1..VOX_GEMV_TC_MAX_ROWS. */
#define GEMV_TC_KERNEL(name, MT)                                                                                       \
    VOX_KERNEL void __launch_bounds__(TC_WARPS * 32, 2)                                                                \
        name(vox_gemv_args a, const uint16_t *x, int n, int in, int accumulate) {                                      \
        __shared__ float red[TC_WARPS * TC_NT * 8 * (MT * 16 + 4)];                                                    \
        /* gemv_tc waits, after its first weight loads */                                                              \
        switch ((n + 7) / 8) {                                                                                         \
        case 1: gemv_tc<MT, 1>(a, x, n, in, accumulate, red); break;                                                   \
        case 2: gemv_tc<MT, 2>(a, x, n, in, accumulate, red); break;                                                   \
        case 3: gemv_tc<MT, 3>(a, x, n, in, accumulate, red); break;                                                   \
        default: gemv_tc<MT, 4>(a, x, n, in, accumulate, red); break;                                                  \
        }                                                                                                              \
    }

GEMV_TC_KERNEL(vox_gemv_tc_m1, 1)
GEMV_TC_KERNEL(vox_gemv_tc_m2, 2)
