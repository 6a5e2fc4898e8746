/* attention.cu — causal sliding-window attention over the ring KV cache, GQA, online softmax.
 *
 * One kernel for encoder chunks (many queries) and the decode step (one query, up to 8192
 * keys). Rows are (query i, head h) pairs of one KV head g: row R -> i = R / G,
 * h = g*G + R % G, with G = n_heads / n_kv_heads, so the G query heads that share K/V read
 * each K/V tile once. Grid: x = tiles of TQ rows, y = KV head, z = key splits. The key range
 * of a tile, [max(0, P_lo - window + 1), P_hi], is computed on the device from the position
 * register and cut into gridDim.z equal parts (flash-decoding), so the grid never depends on
 * the position and a captured decode graph stays valid as the position moves.
 *
 *   q    [n, n_heads*hd] f32, row i at position P = *pos_reg + i
 *   kc,vc bf16 [capacity, n_kv_heads*hd], position j in slot j % capacity
 *   keys seen by query P: P - window < j <= P, j >= 0; scale 1/sqrt(hd)
 *   out  [n, n_heads*hd] f32 when gridDim.z == 1; else part [splits, n*n_heads, 2 + hd]
 *        = (max logit (log2 units), sum of exp2, unnormalised sum of p*v), merged by
 *        vox_attn_combine.
 * Per key tile (KT keys) a thread of row r scores KT/TPR keys against its row's query (from
 * shared memory), the row's TPR threads agree on the running max with shuffles, write
 * probabilities to shared memory, and each then accumulates HD/2/TPR dimension pairs of P·V. */
#include "common.cuh"

#define ATT_THREADS 128
#define KT 64

template <int HDP, int TQ>
__device__ void attn_tile(float *out, float *part, const float *q, const uint16_t *kc,
                          const uint16_t *vc, const long long *pos_reg, int n, int H, int KVH,
                          int hd, int cap, int window, float scale_log2) {
    constexpr int TPR = ATT_THREADS / TQ;   /* threads per row */
    constexpr int KPT = KT / TPR;           /* keys per thread when scoring */
    constexpr int NP = HDP / 2 / TPR;       /* dimension pairs per thread in P·V */
    static_assert(NP >= 1 && KPT >= 1, "tile shape");
    __shared__ float Qs[TQ][HDP + 4];
    __shared__ uint32_t Ks[KT][HDP / 2 + 1];  /* odd row stride: conflict-free column reads */
    __shared__ uint32_t Vs[KT][HDP / 2];
    __shared__ float Ps[TQ][KT + 1];

    const int g = blockIdx.y, tile = blockIdx.x, split = blockIdx.z, nsplit = gridDim.z;
    const int G = H / KVH, nrows = n * G, hd2 = hd / 2, kvd = KVH * hd;
    const int tid = threadIdx.x, r = tid / TPR, c = tid % TPR;
    const long long pos0 = *pos_reg;

    const int R = tile * TQ + r;
    const bool row_ok = R < nrows;
    const int qi = row_ok ? R / G : 0, h = g * G + (row_ok ? R % G : 0);
    const long long P = pos0 + qi;

    /* key range of the tile, then this block's share of it */
    const int i_lo = tile * TQ / G, i_hi = min(n - 1, (tile * TQ + TQ - 1) / G);
    const long long klo = max(0LL, pos0 + i_lo - window + 1), khi = pos0 + i_hi;
    const long long per = (khi - klo + 1 + nsplit - 1) / nsplit;
    const long long start = klo + split * per, end = min(khi + 1, start + per);

    for (int idx = tid; idx < TQ * HDP; idx += ATT_THREADS) {
        int rr = idx / HDP, d = idx % HDP, RR = tile * TQ + rr;
        float v = 0.f;
        if (RR < nrows && d < hd)
            v = q[(long long)(RR / G) * H * hd + (long long)(g * G + RR % G) * hd + d] * scale_log2;
        Qs[rr][d] = v;
    }

    float m = -INFINITY, l = 0.f;
    float2 acc[NP];
#pragma unroll
    for (int jp = 0; jp < NP; jp++) acc[jp] = make_float2(0.f, 0.f);

    for (long long kt0 = start; kt0 < end; kt0 += KT) {
        __syncthreads();   /* previous tile fully consumed (and Qs written, first time) */
        for (int idx = tid; idx < KT * hd2; idx += ATT_THREADS) {
            int kk = idx / hd2, w = idx % hd2;
            long long j = kt0 + kk;
            uint32_t kw = 0, vw = 0;
            if (j < end) {
                long long off = (j % cap) * kvd + (long long)g * hd;
                kw = ((const uint32_t *)(kc + off))[w];
                vw = ((const uint32_t *)(vc + off))[w];
            }
            Ks[kk][w] = kw;
            Vs[kk][w] = vw;
        }
        __syncthreads();

        float sc[KPT];
#pragma unroll
        for (int jj = 0; jj < KPT; jj++) sc[jj] = 0.f;
        for (int d2 = 0; d2 < hd2; d2++) {
            float2 qv = *(const float2 *)&Qs[r][2 * d2];
#pragma unroll
            for (int jj = 0; jj < KPT; jj++) {
                uint32_t kw = Ks[c + TPR * jj][d2];
                sc[jj] = fmaf(qv.x, bf16_lo(kw), fmaf(qv.y, bf16_hi(kw), sc[jj]));
            }
        }
        float mx = -INFINITY;
#pragma unroll
        for (int jj = 0; jj < KPT; jj++) {
            long long j = kt0 + c + TPR * jj;
            bool ok = row_ok && j < end && j <= P && j > P - window;
            sc[jj] = ok ? sc[jj] : -INFINITY;
            mx = fmaxf(mx, sc[jj]);
        }
#pragma unroll
        for (int o = TPR / 2; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
        float m_new = fmaxf(m, mx), corr = 1.f;
        if (m_new == -INFINITY) {
#pragma unroll
            for (int jj = 0; jj < KPT; jj++) Ps[r][c + TPR * jj] = 0.f;
        } else {
            corr = exp2f(m - m_new);
            l *= corr;
#pragma unroll
            for (int jj = 0; jj < KPT; jj++) {
                float p = exp2f(sc[jj] - m_new);
                l += p;
                Ps[r][c + TPR * jj] = p;
            }
            m = m_new;
        }
        __syncwarp();   /* a row's TPR threads share one warp */
#pragma unroll
        for (int jp = 0; jp < NP; jp++) { acc[jp].x *= corr; acc[jp].y *= corr; }
        int kn = (int)min((long long)KT, end - kt0);
        for (int kk = 0; kk < kn; kk++) {
            float p = Ps[r][kk];
#pragma unroll
            for (int jp = 0; jp < NP; jp++) {
                int d2 = c + TPR * jp;
                if (d2 < hd2) {
                    uint32_t vw = Vs[kk][d2];
                    acc[jp].x = fmaf(p, bf16_lo(vw), acc[jp].x);
                    acc[jp].y = fmaf(p, bf16_hi(vw), acc[jp].y);
                }
            }
        }
    }

#pragma unroll
    for (int o = TPR / 2; o > 0; o >>= 1) l += __shfl_xor_sync(0xffffffffu, l, o);
    if (!row_ok) return;
    const long long orow = (long long)qi * H + h;   /* (query, head) index */
    if (nsplit == 1) {
        float inv = l > 0.f ? 1.f / l : 0.f;
        float *o = out + orow * hd;
#pragma unroll
        for (int jp = 0; jp < NP; jp++) {
            int d2 = c + TPR * jp;
            if (d2 < hd2) *(float2 *)&o[2 * d2] = make_float2(acc[jp].x * inv, acc[jp].y * inv);
        }
    } else {
        float *p = part + ((long long)split * n * H + orow) * (2 + hd);
        if (c == 0) { p[0] = m; p[1] = l; }
#pragma unroll
        for (int jp = 0; jp < NP; jp++) {
            int d2 = c + TPR * jp;
            if (d2 < hd2) { p[2 + 2 * d2] = acc[jp].x; p[3 + 2 * d2] = acc[jp].y; }
        }
    }
}

#define ATTN_KERNEL(name, HDP, TQ)                                                            \
    VOX_KERNEL void __launch_bounds__(ATT_THREADS)                                            \
    name(float *out, float *part, const float *q, const uint16_t *kc, const uint16_t *vc,     \
         const long long *pos_reg, int n, int H, int KVH, int hd, int cap, int window,         \
         float scale_log2) {                                                                  \
        attn_tile<HDP, TQ>(out, part, q, kc, vc, pos_reg, n, H, KVH, hd, cap, window,        \
                           scale_log2);                                                       \
    }
ATTN_KERNEL(vox_attn_d32_q16, 32, 16)
ATTN_KERNEL(vox_attn_d64_q16, 64, 16)
ATTN_KERNEL(vox_attn_d128_q16, 128, 16)
ATTN_KERNEL(vox_attn_d64_q4, 64, 4)
ATTN_KERNEL(vox_attn_d128_q4, 128, 4)

/* Merge the splits: one block per (query, head) row; out [n*H, hd]. */
VOX_KERNEL void vox_attn_combine(float *out, const float *part, int rows, int hd, int nsplit) {
    const long long row = blockIdx.x;
    const long long stride = (long long)rows * (2 + hd);
    const float *p0 = part + row * (2 + hd);
    float M = -INFINITY;
    for (int s = 0; s < nsplit; s++) M = fmaxf(M, p0[s * stride]);
    float L = 0.f;
    for (int s = 0; s < nsplit; s++) {
        float ms = p0[s * stride];
        if (ms != -INFINITY) L += p0[s * stride + 1] * exp2f(ms - M);
    }
    float inv = L > 0.f ? 1.f / L : 0.f;
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
        float acc = 0.f;
        for (int s = 0; s < nsplit; s++) {
            float ms = p0[s * stride];
            if (ms != -INFINITY) acc += p0[s * stride + 2 + d] * exp2f(ms - M);
        }
        out[row * hd + d] = acc * inv;
    }
}
