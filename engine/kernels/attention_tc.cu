/* attention_tc.cu — the same attention as attention.cu on tensor cores, for head_dim 64 / 128
 * and many rows (encoder chunks, prefill): mma.sync m16n8k16, BF16 operands, FP32 accumulate.
 *
 * Same contract, grid and outputs as vox_attn_* (see attention.cu): rows are (query, head of
 * KV head g) pairs; grid (row tiles of 64, KV heads, key splits); out [n, H*hd] when
 * gridDim.z == 1, else partials [splits, n*H, 2 + hd] merged by vox_attn_combine.
 * Block: 4 warps, 16 rows each. Per tile of 64 keys (K/V staged in shared memory as bf16,
 * rows padded by 16 bytes so fragment reads are conflict-free):
 *   S[16 x 64] = Q·Kᵀ      Q fragments (pre-scaled by log2(e)/sqrt(hd)) stay in registers,
 *                           K fragments are 32-bit shared loads
 *   online softmax on the S fragments (each row's 4 lanes agree with two shuffles)
 *   O[16 x hd] += P·V      P re-packed from the S accumulators as bf16 A fragments,
 *                           V fragments by ldmatrix.trans
 * Numerics: Q and P rounded to bf16 (K/V are bf16 in the cache), sums in fp32. */
#include "common.cuh"
#include "attn_window.cuh"

#define TC_ROWS 64
#define TC_KT   64

__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
    return (uint32_t)f_bf16(lo) | ((uint32_t)f_bf16(hi) << 16);
}

template <int HD>
__device__ void attn_tc(float *out, float *part, const float *q, const uint16_t *kc, const uint16_t *vc,
                        const long long *pos_reg, int n, int H, int KVH, int cap, int window, float scale_log2) {
    constexpr int KS = HD / 16;    /* k-steps over the head dimension */
    constexpr int NT = HD / 8;     /* n-tiles of the output */
    constexpr int STRIDE = HD + 8; /* bf16 per shared row (16-byte pad) */
    __shared__ __align__(16) uint16_t Ks[TC_KT][STRIDE];
    __shared__ __align__(16) uint16_t Vs[TC_KT][STRIDE];
    __shared__ long long soff[TC_KT];

    const int g = blockIdx.y, tile = blockIdx.x, split = blockIdx.z, nsplit = gridDim.z;
    const int G = H / KVH, nrows = n * G, hd = HD, kvd = KVH * HD;
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, grp = lane >> 2, tig = lane & 3;
    const long long pos0 = *pos_reg;

    /* this thread's two rows: grp and grp + 8 of the warp's 16 */
    int R[2], qi[2], hh[2];
    bool ok[2];
    long long P[2];
#pragma unroll
    for (int k = 0; k < 2; k++) {
        R[k] = tile * TC_ROWS + warp * 16 + grp + 8 * k;
        ok[k] = R[k] < nrows;
        qi[k] = ok[k] ? R[k] / G : 0;
        hh[k] = g * G + (ok[k] ? R[k] % G : 0);
        P[k] = pos0 + qi[k];
    }
    const vox_attn_span span = vox_attn_block_span(tile * TC_ROWS, TC_ROWS, G, n, pos0, window, split, nsplit);
    const long long start = span.start, end = span.end;

    /* Q fragments (A operand): regs {row grp | row grp+8} x {cols tig*2 | tig*2 + 8} */
    uint32_t qf[KS][4];
#pragma unroll
    for (int ks = 0; ks < KS; ks++) {
#pragma unroll
        for (int half = 0; half < 2; half++) {
#pragma unroll
            for (int k = 0; k < 2; k++) {
                float2 v = make_float2(0.f, 0.f);
                if (ok[k])
                    v = *(const float2 *)(q + ((long long)qi[k] * H + hh[k]) * hd + ks * 16 + half * 8 + tig * 2);
                qf[ks][half * 2 + k] = pack_bf16(v.x * scale_log2, v.y * scale_log2);
            }
        }
    }

    float o[NT][4];
#pragma unroll
    for (int t = 0; t < NT; t++) o[t][0] = o[t][1] = o[t][2] = o[t][3] = 0.f;
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f};

    for (long long kt0 = start; kt0 < end; kt0 += TC_KT) {
        __syncthreads(); /* the previous tile is consumed */
        if (tid < TC_KT) {
            long long j = kt0 + tid;
            soff[tid] = j < end ? vox_kv_slot(j, cap, kvd, g, hd) : -1;
        }
        __syncthreads();
        for (int idx = tid; idx < TC_KT * (HD / 8); idx += 128) {
            int kk = idx / (HD / 8), w = idx % (HD / 8);
            long long off = soff[kk];
            uint4 kv4 = make_uint4(0, 0, 0, 0), vv4 = kv4;
            if (off >= 0) {
                kv4 = __ldg((const uint4 *)(kc + off) + w);
                vv4 = __ldg((const uint4 *)(vc + off) + w);
            }
            *(uint4 *)&Ks[kk][w * 8] = kv4;
            *(uint4 *)&Vs[kk][w * 8] = vv4;
        }
        __syncthreads();

        /* S = Q·Kᵀ over 8 key n-tiles */
        float s[8][4];
#pragma unroll
        for (int t = 0; t < 8; t++) {
            s[t][0] = s[t][1] = s[t][2] = s[t][3] = 0.f;
#pragma unroll
            for (int ks = 0; ks < KS; ks++) {
                uint32_t b0 = *(const uint32_t *)&Ks[t * 8 + grp][ks * 16 + tig * 2];
                uint32_t b1 = *(const uint32_t *)&Ks[t * 8 + grp][ks * 16 + 8 + tig * 2];
                mma16816(s[t], qf[ks], b0, b1);
            }
        }
        /* mask + running max per row (c0,c1: row grp; c2,c3: row grp+8) */
        float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
        for (int t = 0; t < 8; t++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                int k = e >> 1;
                long long j = kt0 + t * 8 + tig * 2 + (e & 1);
                bool valid = ok[k] && j < end && vox_attn_sees(j, P[k], window);
                s[t][e] = valid ? s[t][e] : -INFINITY;
                mx[k] = fmaxf(mx[k], s[t][e]);
            }
        float corr[2], mu[2];
#pragma unroll
        for (int k = 0; k < 2; k++) {
            mx[k] = fmaxf(mx[k], __shfl_xor_sync(0xffffffffu, mx[k], 1));
            mx[k] = fmaxf(mx[k], __shfl_xor_sync(0xffffffffu, mx[k], 2));
            float mn = fmaxf(m[k], mx[k]);
            mu[k] = mn == -INFINITY ? 0.f : mn; /* a row with no key yet: p = 0, no NaN */
            corr[k] = exp2f(m[k] - mu[k]);
            m[k] = mn;
            l[k] *= corr[k];
        }
#pragma unroll
        for (int t = 0; t < NT; t++) {
            o[t][0] *= corr[0];
            o[t][1] *= corr[0];
            o[t][2] *= corr[1];
            o[t][3] *= corr[1];
        }
        /* P·V: 4 k-steps of 16 keys; P fragments from S n-tiles 2kk and 2kk+1 */
#pragma unroll
        for (int kk = 0; kk < 4; kk++) {
            uint32_t pf[4];
#pragma unroll
            for (int hf = 0; hf < 2; hf++) {
                float *st = s[2 * kk + hf];
                float p0 = exp2f(st[0] - mu[0]), p1 = exp2f(st[1] - mu[0]);
                float p2 = exp2f(st[2] - mu[1]), p3 = exp2f(st[3] - mu[1]);
                l[0] += p0 + p1;
                l[1] += p2 + p3;
                pf[hf * 2 + 0] = pack_bf16(p0, p1);
                pf[hf * 2 + 1] = pack_bf16(p2, p3);
            }
            /* lanes 0-15 address key rows kk*16 + 0..15 */
            const uint16_t *vrow = &Vs[kk * 16 + (lane & 15)][0];
#pragma unroll
            for (int t = 0; t < NT; t++) {
                uint32_t b0, b1;
                unsigned addr = (unsigned)__cvta_generic_to_shared(vrow + t * 8);
                asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0,%1}, [%2];"
                             : "=r"(b0), "=r"(b1)
                             : "r"(addr));
                mma16816(o[t], pf, b0, b1);
            }
        }
    }

#pragma unroll
    for (int k = 0; k < 2; k++) {
        l[k] += __shfl_xor_sync(0xffffffffu, l[k], 1);
        l[k] += __shfl_xor_sync(0xffffffffu, l[k], 2);
    }
#pragma unroll
    for (int k = 0; k < 2; k++) {
        if (!ok[k]) continue;
        const long long orow = (long long)qi[k] * H + hh[k];
        if (nsplit == 1) {
            float inv = l[k] > 0.f ? 1.f / l[k] : 0.f;
#pragma unroll
            for (int t = 0; t < NT; t++)
                *(float2 *)&out[orow * hd + t * 8 + tig * 2] = make_float2(o[t][2 * k] * inv, o[t][2 * k + 1] * inv);
        } else {
            float *p = part + ((long long)split * n * H + orow) * (2 + hd);
            if (tig == 0) {
                p[0] = m[k];
                p[1] = l[k];
            }
#pragma unroll
            for (int t = 0; t < NT; t++) {
                p[2 + t * 8 + tig * 2] = o[t][2 * k];
                p[3 + t * 8 + tig * 2] = o[t][2 * k + 1];
            }
        }
    }
}

#define ATTN_TC_KERNEL(name, HD)                                                                                       \
    VOX_KERNEL void __launch_bounds__(128)                                                                             \
        name(float *out, float *part, const float *q, const uint16_t *kc, const uint16_t *vc,                          \
             const long long *pos_reg, int n, int H, int KVH, int hd, int cap, int window, float scale_log2) {         \
        VOX_PDL_ENTER();                                                                                               \
        attn_tc<HD>(out, part, q, kc, vc, pos_reg, n, H, KVH, cap, window, scale_log2);                                \
    }
ATTN_TC_KERNEL(vox_attn_tc_d64, 64)
ATTN_TC_KERNEL(vox_attn_tc_d128, 128)
