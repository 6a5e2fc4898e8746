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
#include "attn_window.cuh"
#include "rows_args.cuh"

#include <type_traits>

#define ATT_THREADS 128
#define KT          64
/* 16-byte K and V loads in flight per thread while a tile loads (each waited on before its store to
 * shared memory; a decode tile of hd 128 is 8 per thread): 4 keeps the decode kernel at 4 blocks per SM. */
#define TL 4

/* Shared-memory tile of K or V for one block. HDP <= 64: unpacked to f32 once at load (each
 * element is then read by every row of the tile without re-unpacking); HDP = 128: bf16 pairs
 * (f32 would not fit in 48 KB). Row stride is padded so the column reads of the score phase
 * (one key per lane) hit distinct banks. */
template <int HDP> struct kv_tile {
    static constexpr bool F32 = HDP <= 64;
    static constexpr int KSTRIDE = F32 ? HDP + 2 : HDP / 2 + 1; /* floats | bf16-pair words */
    static constexpr int VSTRIDE = F32 ? HDP : HDP / 2;
    typedef typename std::conditional<F32, float, uint32_t>::type T;
};

/* (k, k') of key row `row`, dimension pair d2, as floats. */
template <int HDP> __device__ __forceinline__ float2 pair_at(const typename kv_tile<HDP>::T *base, int d2) {
    if constexpr (kv_tile<HDP>::F32) {
        return *(const float2 *)(base + 2 * d2);
    } else {
        uint32_t w = base[d2];
        return make_float2(bf16_lo(w), bf16_hi(w));
    }
}

template <int HDP> __device__ __forceinline__ void put8(typename kv_tile<HDP>::T *dst, uint4 v) { /* 8 bf16 values */
    if constexpr (kv_tile<HDP>::F32) {
        float2 *d = (float2 *)dst;
        d[0] = make_float2(bf16_lo(v.x), bf16_hi(v.x));
        d[1] = make_float2(bf16_lo(v.y), bf16_hi(v.y));
        d[2] = make_float2(bf16_lo(v.z), bf16_hi(v.z));
        d[3] = make_float2(bf16_lo(v.w), bf16_hi(v.w));
    } else {
        dst[0] = v.x;
        dst[1] = v.y;
        dst[2] = v.z;
        dst[3] = v.w;
    }
}
template <int HDP> __device__ __forceinline__ void put2(typename kv_tile<HDP>::T *dst, uint32_t w) { /* 2 bf16 values */
    if constexpr (kv_tile<HDP>::F32)
        *(float2 *)dst = make_float2(bf16_lo(w), bf16_hi(w));
    else
        dst[0] = w;
}

/* One block's work: row tile `tile` of KV head g, key split `split` of `nsplit`, for n queries at
 * positions pos0, pos0 + 1, ... of one ring. Partials go to part + (split * part_rows + orow) *
 * (2 + hd), part_rows being the (query, head) rows of the whole launch (several streams may share it,
 * see vox_attn_rows_*). */
template <int HDP, int TQ>
__device__ void attn_tile(float *out, float *part, long long part_rows, const float *q, const uint16_t *kc,
                          const uint16_t *vc, long long pos0, int n, int H, int KVH, int hd, int cap, int window,
                          float scale_log2, int tile, int g, int split, int nsplit) {
    typedef kv_tile<HDP> KV;
    typedef typename KV::T T;
    constexpr int TPR = ATT_THREADS / TQ; /* threads per row */
    constexpr int KPT = KT / TPR;         /* keys per thread when scoring */
    constexpr int NP = HDP / 2 / TPR;     /* dimension pairs per thread in P·V */
    constexpr int EPW = KV::F32 ? 2 : 1;  /* tile elements per bf16 pair */
    static_assert(NP >= 1 && KPT >= 1, "tile shape");
    __shared__ float Qs[TQ][HDP + 4];
    __shared__ __align__(16) T Ks[KT][KV::KSTRIDE];
    __shared__ __align__(16) T Vs[KT][KV::VSTRIDE];
    __shared__ float Ps[TQ][KT + 1];
    __shared__ long long soff[KT]; /* element offset of each key's row in kc/vc; -1: none */

    const int G = H / KVH, nrows = n * G, hd2 = hd / 2, kvd = KVH * hd;
    const int tid = threadIdx.x, r = tid / TPR, c = tid % TPR;

    const int R = tile * TQ + r;
    const bool row_ok = R < nrows;
    const int qi = row_ok ? R / G : 0, h = g * G + (row_ok ? R % G : 0);
    const long long P = pos0 + qi;

    /* key range of the tile, then this block's share of it */
    const vox_attn_span span = vox_attn_block_span(tile * TQ, TQ, G, n, pos0, window, split, nsplit);
    const long long start = span.start, end = span.end;

    { /* all of this thread's query loads in flight at once, then their stores */
        constexpr int QL = (TQ * HDP + ATT_THREADS - 1) / ATT_THREADS;
        float qv[QL];
#pragma unroll
        for (int u = 0; u < QL; u++) {
            int idx = tid + u * ATT_THREADS, rr = idx / HDP, d = idx % HDP, RR = tile * TQ + rr;
            qv[u] = idx < TQ * HDP && RR < nrows && d < hd
                        ? q[(long long)(RR / G) * H * hd + (long long)(g * G + RR % G) * hd + d] * scale_log2
                        : 0.f;
        }
#pragma unroll
        for (int u = 0; u < QL; u++) {
            int idx = tid + u * ATT_THREADS;
            if (idx < TQ * HDP) Qs[idx / HDP][idx % HDP] = qv[u];
        }
    }

    float m = -INFINITY, l = 0.f;
    float2 acc[NP];
#pragma unroll
    for (int jp = 0; jp < NP; jp++) acc[jp] = make_float2(0.f, 0.f);

    for (long long kt0 = start; kt0 < end; kt0 += KT) {
        __syncthreads(); /* previous tile fully consumed (and Qs written, first time) */
        if (tid < KT) {
            long long j = kt0 + tid;
            soff[tid] = j < end ? vox_kv_slot(j, cap, kvd, g, hd) : -1;
        }
        __syncthreads();
        if ((hd & 7) == 0) { /* 16-byte loads: 8 values per load, TL of K and of V in flight per thread */
            const int c8 = hd >> 3;
            for (int base = tid; base < KT * c8; base += TL * ATT_THREADS) {
                uint4 kr[TL], vr[TL];
#pragma unroll
                for (int u = 0; u < TL; u++) {
                    int idx = base + u * ATT_THREADS, kk = idx / c8, w = idx - kk * c8;
                    long long off = idx < KT * c8 ? soff[kk] : -1;
                    kr[u] = vr[u] = make_uint4(0, 0, 0, 0);
                    if (off >= 0) {
                        kr[u] = __ldg((const uint4 *)(kc + off) + w);
                        vr[u] = __ldg((const uint4 *)(vc + off) + w);
                    }
                }
#pragma unroll
                for (int u = 0; u < TL; u++) {
                    int idx = base + u * ATT_THREADS, kk = idx / c8, w = idx - kk * c8;
                    if (idx < KT * c8) {
                        put8<HDP>(&Ks[kk][4 * EPW * w], kr[u]);
                        put8<HDP>(&Vs[kk][4 * EPW * w], vr[u]);
                    }
                }
            }
        } else { /* any even hd: 4-byte loads */
            for (int idx = tid; idx < KT * hd2; idx += ATT_THREADS) {
                int kk = idx / hd2, w = idx - kk * hd2;
                long long off = soff[kk];
                uint32_t kw = 0, vw = 0;
                if (off >= 0) {
                    kw = __ldg((const uint32_t *)(kc + off) + w);
                    vw = __ldg((const uint32_t *)(vc + off) + w);
                }
                put2<HDP>(&Ks[kk][EPW * w], kw);
                put2<HDP>(&Vs[kk][EPW * w], vw);
            }
        }
        __syncthreads();

        float sc[KPT];
#pragma unroll
        for (int jj = 0; jj < KPT; jj++) sc[jj] = 0.f;
        for (int d2 = 0; d2 < hd2; d2++) {
            float2 qv = *(const float2 *)&Qs[r][2 * d2];
#pragma unroll
            for (int jj = 0; jj < KPT; jj++) {
                float2 kv = pair_at<HDP>(Ks[c + TPR * jj], d2);
                sc[jj] = fmaf(qv.x, kv.x, fmaf(qv.y, kv.y, sc[jj]));
            }
        }
        float mx = -INFINITY;
#pragma unroll
        for (int jj = 0; jj < KPT; jj++) {
            long long j = kt0 + c + TPR * jj;
            bool ok = row_ok && j < end && vox_attn_sees(j, P, window);
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
        __syncwarp(); /* a row's TPR threads share one warp */
#pragma unroll
        for (int jp = 0; jp < NP; jp++) {
            acc[jp].x *= corr;
            acc[jp].y *= corr;
        }
        int kn = (int)min((long long)KT, end - kt0);
        for (int kk = 0; kk < kn; kk++) {
            float p = Ps[r][kk];
#pragma unroll
            for (int jp = 0; jp < NP; jp++) {
                int d2 = c + TPR * jp;
                if (d2 < hd2) {
                    float2 v = pair_at<HDP>(Vs[kk], d2);
                    acc[jp].x = fmaf(p, v.x, acc[jp].x);
                    acc[jp].y = fmaf(p, v.y, acc[jp].y);
                }
            }
        }
    }

#pragma unroll
    for (int o = TPR / 2; o > 0; o >>= 1) l += __shfl_xor_sync(0xffffffffu, l, o);
    if (!row_ok) return;
    const long long orow = (long long)qi * H + h; /* (query, head) index */
    if (nsplit == 1) {
        float inv = l > 0.f ? 1.f / l : 0.f;
        float *o = out + orow * hd;
#pragma unroll
        for (int jp = 0; jp < NP; jp++) {
            int d2 = c + TPR * jp;
            if (d2 < hd2) *(float2 *)&o[2 * d2] = make_float2(acc[jp].x * inv, acc[jp].y * inv);
        }
    } else {
        float *p = part + ((long long)split * part_rows + orow) * (2 + hd);
        if (c == 0) {
            p[0] = m;
            p[1] = l;
        }
#pragma unroll
        for (int jp = 0; jp < NP; jp++) {
            int d2 = c + TPR * jp;
            if (d2 < hd2) {
                p[2 + 2 * d2] = acc[jp].x;
                p[3 + 2 * d2] = acc[jp].y;
            }
        }
    }
}

#define ATTN_KERNEL(name, HDP, TQ)                                                                                     \
    VOX_KERNEL void __launch_bounds__(ATT_THREADS)                                                                     \
        name(float *out, float *part, const float *q, const uint16_t *kc, const uint16_t *vc,                          \
             const long long *pos_reg, int n, int H, int KVH, int hd, int cap, int window, float scale_log2) {         \
        VOX_PDL_ENTER();                                                                                               \
        attn_tile<HDP, TQ>(out, part, (long long)n * H, q, kc, vc, *pos_reg, n, H, KVH, hd, cap, window, scale_log2,   \
                           blockIdx.x, blockIdx.y, blockIdx.z, gridDim.z);                                             \
    }
ATTN_KERNEL(vox_attn_d32_q16, 32, 16)
ATTN_KERNEL(vox_attn_d64_q16, 64, 16)
ATTN_KERNEL(vox_attn_d128_q16, 128, 16)
ATTN_KERNEL(vox_attn_d64_q4, 64, 4)
ATTN_KERNEL(vox_attn_d128_q4, 128, 4)

/* The decode step's attention: one query (n = 1) whose KV head serves exactly 4 q heads, head_dim 128
 * (the real model's shape). Grid (splits, KV heads), 4 warps; block `split` takes the keys
 * vox_attn_block_span gives it (the same cut as attn_tile's), a warp 8 of them per round (round t, warp w:
 * keys start + (4t + w) * 8 + 0..7). Lane l holds dimensions 4l..4l+3 of the 4 heads' queries and of each
 * key's K and V row (8-byte loads), so a key's row is one 256-byte read of the warp and no shared memory
 * is needed until the warps merge. A round's 32 (key, head) partial dots are summed over the warp in
 * 31 shuffles that leave lane l with the score of key l / 4, head l % 4; its probability then reaches
 * every lane for P·V by one shuffle per (key, head). The warps' running (max, sum, P·V) are merged in
 * shared memory and written as the split's partial, merged over the splits by vox_attn_combine (or,
 * with one split, normalised into out).
 * Every key before the query's own was written by an earlier step, so round 0's K/V loads of those keys
 * are issued before the dependency wait, while the RoPE + K/V write kernel before is still running; the
 * query and the newest key are read after it. Same span and arithmetic per key for any grid. */
#define DEC_G    4
#define DEC_HD   128
#define DEC_KEYS 8 /* keys per warp per round: DEC_KEYS x DEC_G = 32 scores, one per lane */

/* Loads of a warp's round: keys j0 .. j0 + 7 below `lim` (others zero). */
__device__ __forceinline__ void dec_load(uint2 (&kr)[DEC_KEYS], uint2 (&vr)[DEC_KEYS], const uint16_t *kc,
                                         const uint16_t *vc, long long j0, long long lim, int cap, int kvd, int g,
                                         int lane) {
#pragma unroll
    for (int k = 0; k < DEC_KEYS; k++) {
        kr[k] = vr[k] = make_uint2(0, 0);
        if (j0 + k < lim) {
            long long off = vox_kv_slot(j0 + k, cap, kvd, g, DEC_HD) + 4 * lane;
            kr[k] = __ldg((const uint2 *)(kc + off));
            vr[k] = __ldg((const uint2 *)(vc + off));
        }
    }
}

/* One stage of the transposing butterfly over v[0 .. 2 O): a lane keeps the half of its values whose
 * index bit O matches its lane bit O, each summed with its partner's (lane ^ O) value of the same index;
 * after the stages 16, 8, 4, 2, 1 lane l holds the warp's sum of index l in v[0]. */
template <int O> __device__ __forceinline__ void dec_fold(float (&v)[DEC_KEYS * DEC_G], int lane) {
    const bool up = lane & O;
#pragma unroll
    for (int i = 0; i < O; i++) {
        float send = up ? v[i] : v[i + O], keep = up ? v[i + O] : v[i];
        v[i] = keep + __shfl_xor_sync(0xffffffffu, send, O);
    }
}

VOX_KERNEL void __launch_bounds__(128)
    vox_attn_dec_g4_d128(float *out, float *part, const float *q, const uint16_t *kc, const uint16_t *vc,
                         const long long *pos_reg, int H, int KVH, int cap, int window, float scale_log2) {
    __shared__ float sm_m[4][DEC_G], sm_l[4][DEC_G];
    __shared__ __align__(16) float sm_acc[4][DEC_G][DEC_HD];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = blockIdx.y, split = blockIdx.x;
    const int kvd = KVH * DEC_HD;
    /* The position register was set before the step's first kernel, which every kernel since has waited on. */
    const long long P = *pos_reg;
    const vox_attn_span span = vox_attn_block_span(0, DEC_G, DEC_G, 1, P, window, split, gridDim.x);
    uint2 kr[DEC_KEYS], vr[DEC_KEYS];
    long long j0 = span.start + (long long)warp * DEC_KEYS;
    dec_load(kr, vr, kc, vc, j0, min(span.end, P), cap, kvd, g, lane); /* keys before the query's own */
    VOX_PDL_ENTER();
    if (span.end > P) { /* the newest key, just written (constant indices: the rounds stay in registers) */
        const long long off = vox_kv_slot(P, cap, kvd, g, DEC_HD) + 4 * lane;
#pragma unroll
        for (int k = 0; k < DEC_KEYS; k++)
            if (j0 + k == P) {
                kr[k] = __ldg((const uint2 *)(kc + off));
                vr[k] = __ldg((const uint2 *)(vc + off));
            }
    }
    float4 qv[DEC_G];
#pragma unroll
    for (int h = 0; h < DEC_G; h++) {
        qv[h] = __ldg((const float4 *)(q + (long long)(g * DEC_G + h) * DEC_HD) + lane);
        qv[h].x *= scale_log2;
        qv[h].y *= scale_log2;
        qv[h].z *= scale_log2;
        qv[h].w *= scale_log2;
    }
    float m = -INFINITY, l = 0.f; /* of head lane % 4 */
    float4 acc[DEC_G];
#pragma unroll
    for (int h = 0; h < DEC_G; h++) acc[h] = make_float4(0.f, 0.f, 0.f, 0.f);
    for (; j0 < span.end; j0 += 4 * DEC_KEYS) {
        /* v[k * 4 + h]: this lane's part of key k's dot with head h */
        float v[DEC_KEYS * DEC_G];
#pragma unroll
        for (int k = 0; k < DEC_KEYS; k++) {
            float k0 = bf16_lo(kr[k].x), k1 = bf16_hi(kr[k].x), k2 = bf16_lo(kr[k].y), k3 = bf16_hi(kr[k].y);
#pragma unroll
            for (int h = 0; h < DEC_G; h++)
                v[k * DEC_G + h] = fmaf(qv[h].w, k3, fmaf(qv[h].z, k2, fmaf(qv[h].y, k1, qv[h].x * k0)));
        }
        dec_fold<16>(v, lane);
        dec_fold<8>(v, lane);
        dec_fold<4>(v, lane);
        dec_fold<2>(v, lane);
        dec_fold<1>(v, lane);
        const long long j = j0 + (lane >> 2);
        float sc = j < span.end ? v[0] : -INFINITY;
        float mx = sc;
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 4));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 8));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 16));
        const float m_new = fmaxf(m, mx);
        const float p = m_new == -INFINITY ? 0.f : exp2f(sc - m_new);
        const float corr = m_new == -INFINITY ? 1.f : exp2f(m - m_new);
        float ps = p;
        ps += __shfl_xor_sync(0xffffffffu, ps, 4);
        ps += __shfl_xor_sync(0xffffffffu, ps, 8);
        ps += __shfl_xor_sync(0xffffffffu, ps, 16);
        l = l * corr + ps;
        m = m_new;
        /* next round's loads in flight while this one's P·V runs */
        uint2 kn[DEC_KEYS], vn[DEC_KEYS];
        dec_load(kn, vn, kc, vc, j0 + 4 * DEC_KEYS, span.end, cap, kvd, g, lane);
#pragma unroll
        for (int h = 0; h < DEC_G; h++) {
            const float c = __shfl_sync(0xffffffffu, corr, h);
            acc[h].x *= c;
            acc[h].y *= c;
            acc[h].z *= c;
            acc[h].w *= c;
        }
#pragma unroll
        for (int k = 0; k < DEC_KEYS; k++) {
            float v0 = bf16_lo(vr[k].x), v1 = bf16_hi(vr[k].x), v2 = bf16_lo(vr[k].y), v3 = bf16_hi(vr[k].y);
#pragma unroll
            for (int h = 0; h < DEC_G; h++) {
                const float pk = __shfl_sync(0xffffffffu, p, k * DEC_G + h);
                acc[h].x = fmaf(pk, v0, acc[h].x);
                acc[h].y = fmaf(pk, v1, acc[h].y);
                acc[h].z = fmaf(pk, v2, acc[h].z);
                acc[h].w = fmaf(pk, v3, acc[h].w);
            }
        }
#pragma unroll
        for (int k = 0; k < DEC_KEYS; k++) {
            kr[k] = kn[k];
            vr[k] = vn[k];
        }
    }
    /* merge the 4 warps: lanes 0..3 hold heads 0..3's (m, l) */
    if (lane < DEC_G) {
        sm_m[warp][lane] = m;
        sm_l[warp][lane] = l;
    }
#pragma unroll
    for (int h = 0; h < DEC_G; h++) *(float4 *)&sm_acc[warp][h][4 * lane] = acc[h];
    __syncthreads();
    const int d = threadIdx.x; /* 128 threads: one dimension of every head */
#pragma unroll
    for (int h = 0; h < DEC_G; h++) {
        float M = fmaxf(fmaxf(sm_m[0][h], sm_m[1][h]), fmaxf(sm_m[2][h], sm_m[3][h])), L = 0.f, A = 0.f;
#pragma unroll
        for (int w = 0; w < 4; w++) {
            const float wt = sm_m[w][h] == -INFINITY ? 0.f : exp2f(sm_m[w][h] - M);
            L = fmaf(sm_l[w][h], wt, L);
            A = fmaf(sm_acc[w][h][d], wt, A);
        }
        const long long orow = (long long)g * DEC_G + h;
        if (gridDim.x == 1) {
            out[orow * DEC_HD + d] = L > 0.f ? A / L : 0.f;
        } else {
            float *pp = part + ((long long)split * H + orow) * (2 + DEC_HD);
            if (d == 0) {
                pp[0] = M;
                pp[1] = L;
            }
            pp[2 + d] = A;
        }
    }
}

/* Rows that each belong to their own stream (rows_args.cuh: position, ring). Grid (query tiles,
 * KV heads, key splits), tiles of TQ = 4 query rows sharing a KV head, so each K/V tile is read once
 * for all of them: tiles == NULL, the G = H / KVH heads of one row (G >= 4: G / 4 tiles per row);
 * else tiles[blockIdx.x], a run of up to 4 consecutive positions of one stream (G = 1, an encoder
 * push; blocks past the last run return). Every row's window is cut into the same splits as a single
 * step's (merged by vox_attn_combine over the rows * H outputs). A padding row (negative position)
 * has no keys: its output is zero. */
#define ATTN_ROWS_KERNEL(name, HDP)                                                                                    \
    VOX_KERNEL void __launch_bounds__(ATT_THREADS)                                                                     \
        name(float *out, float *part, const float *q, const long long *pos, const vox_row_ring *ring,                  \
             const vox_row_tile *tiles, int n, int H, int KVH, int hd, int window, float scale_log2) {                 \
        VOX_PDL_ENTER();                                                                                               \
        int row, nq = 1, tile = 0;                                                                                     \
        if (tiles) {                                                                                                   \
            const vox_row_tile t = tiles[blockIdx.x];                                                                  \
            if (t.n == 0) return;                                                                                      \
            row = t.row;                                                                                               \
            nq = t.n;                                                                                                  \
        } else {                                                                                                       \
            const int per = (H / KVH + 3) / 4;                                                                         \
            row = blockIdx.x / per;                                                                                    \
            tile = blockIdx.x % per;                                                                                   \
        }                                                                                                              \
        const long long at = (long long)row * H * hd;                                                                  \
        attn_tile<HDP, 4>(out + at, part + (long long)row * H * (2 + hd), (long long)n * H, q + at, ring[row].k,       \
                          ring[row].v, pos[row], nq, H, KVH, hd, (int)ring[row].cap, window, scale_log2, tile,         \
                          blockIdx.y, blockIdx.z, gridDim.z);                                                          \
    }
ATTN_ROWS_KERNEL(vox_attn_rows_d64, 64)
ATTN_ROWS_KERNEL(vox_attn_rows_d128, 128)

/* Merge the splits: one block of 256 threads per (query, head) row; out [n*H, hd].
 * Weights w_s = exp2(m_s - max m) / sum(l_s w_s) are formed once in shared memory by threads
 * over the splits; then 256 / hd groups of threads each sum a share of the splits for every
 * dimension (independent loads, many in flight), and the groups are added. nsplit <= 1024. */
__device__ float block_reduce(float v, bool is_max, float *red) {
    for (int o = 16; o > 0; o >>= 1) {
        float u = __shfl_xor_sync(0xffffffffu, v, o);
        v = is_max ? fmaxf(v, u) : v + u;
    }
    __syncthreads(); /* red may still be read by a previous call */
    if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = v;
    __syncthreads();
    v = red[0];
    for (int w = 1; w < (int)(blockDim.x >> 5); w++) v = is_max ? fmaxf(v, red[w]) : v + red[w];
    return v;
}

VOX_KERNEL void __launch_bounds__(256) vox_attn_combine(float *out, const float *part, int rows, int hd, int nsplit) {
    VOX_PDL_ENTER();
    __shared__ float w[1024];
    __shared__ float red[8];
    __shared__ float acc_s[256];
    const int tid = threadIdx.x;
    const long long row = blockIdx.x, stride = (long long)rows * (2 + hd);
    const float *p0 = part + row * (2 + hd);
    float mx = -INFINITY;
    for (int s = tid; s < nsplit; s += blockDim.x) mx = fmaxf(mx, p0[s * stride]);
    mx = block_reduce(mx, true, red);
    float lsum = 0.f;
    for (int s = tid; s < nsplit; s += blockDim.x) {
        float ms = p0[s * stride];
        float ws = ms == -INFINITY ? 0.f : exp2f(ms - mx);
        w[s] = ws;
        lsum += p0[s * stride + 1] * ws;
    }
    lsum = block_reduce(lsum, false, red); /* its barriers also publish w[] */
    const int groups = blockDim.x / hd, d = tid % hd, grp = tid / hd;
    float acc = 0.f;
    if (grp < groups)
#pragma unroll 8
        for (int s = grp; s < nsplit; s += groups) acc += w[s] * p0[s * stride + 2 + d];
    acc_s[tid] = acc;
    __syncthreads();
    if (tid < hd) {
        float sum = 0.f;
        for (int k = 0; k < groups; k++) sum += acc_s[k * hd + tid];
        out[row * hd + tid] = lsum > 0.f ? sum / lsum : 0.f;
    }
}
