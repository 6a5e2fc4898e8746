/* attention.c — host side of the sliding-window attention kernels.
 *
 * Kernel: head_dim 64 / 128 with at least 64 rows (query, head) per KV head (encoder chunks,
 * prefill) run on tensor cores (kernels/attention_tc.cu, tiles of 64 rows); everything else
 * (the decode step, other head sizes) on the FP32 kernel (kernels/attention.cu) with TQ = 4
 * rows when a KV head has few rows (the decode step: one query x G heads), else 16. The grid is (row tiles, KV heads, splits). When those tiles alone
 * cannot fill the GPU (2 blocks per SM, 4 for TQ 4), the key range is split too (flash-decoding) and
 * vox_attn_combine merges the partial softmaxes. The split count depends only on n, the window
 * and the GPU, never on the position, so a captured decode step stays valid. Partials never
 * exceed 2 * target * TQ * (hd + 2) floats: for the FP32 kernel <= 4 * SMs * 16 * (hd + 2),
 * which kv_new reserved (decode needs no allocation); the tensor-core path may grow it once.
 * The caller keeps the ring's capacity >= window + n - 1 (backend.h), so every key a query
 * may see is still in it.
 * The decode step of the real model's shape (one query, 4 q heads per KV head, head_dim 128) has a
 * kernel of its own, vox_attn_dec_g4_d128: warps instead of tiles, no shared memory until the merge,
 * VOX_CUDA_ATTN_DEC blocks per SM (0: the FP32 kernel's TQ 4 tiles instead, for A/B builds). */
#include "cuda_impl.h"

#include <math.h>

int vox_cuda_attn_splits(long long blocks, long long target, long long keys) {
    if (blocks >= target) return 1;
    long long by_fill = (target + blocks - 1) / blocks, n = keys < by_fill ? keys : by_fill;
    if (n < 1) n = 1;
    return n > 1024 ? 1024 : (int)n; /* vox_attn_combine's limit */
}

int vox_cuda_attn_combine(vox_backend_t *be, float *out, float *part, int orows, int hd, int nsplit) {
    vox_cuda_t *c = vox_cuda(be);
    void *args[] = {&out, &part, &orows, &hd, &nsplit};
    return vox_cuda_launch(be, c->k.k_attn_combine, (unsigned)orows, 1, 1, 256, args);
}

/* Room for nsplit > 1 splits' partials of n queries x n_heads (kv_new reserved the decode step's). */
static int reserve_part(vox_backend_t *be, int nsplit, int n, int n_heads, int hd) {
    vox_cuda_t *c = vox_cuda(be);
    if (nsplit <= 1) return 0;
    size_t need = (size_t)nsplit * n * n_heads * (hd + 2) * sizeof(float);
    return vox_cuda_reserve(be, (void **)&c->attn_part, &c->attn_part_cap, need, "attention");
}

int vox_cuda_attention(vox_backend_t *be, float *out, const float *q, const vox_kv_t *kv, int n, int n_heads,
                       int window) {
    vox_cuda_t *c = vox_cuda(be);
    int kvh = kv->n_kv_heads, hd = kv->head_dim;
    if (n <= 0) return 0;
    if (n_heads % kvh || hd % 2 || hd > 128)
        return vox_fail(&be->err, VOX_EINTERNAL,
                        "attention: %d heads over %d KV heads, head_dim %d "
                        "(needs a multiple, even, <= 128)",
                        n_heads, kvh, hd);
    int G = n_heads / kvh, rows = n * G;
    float scale_log2 = (float)(1.4426950408889634 / sqrt((double)hd)); /* log2(e)/sqrt(hd) */
    int cap = kv->capacity, nsplit, rc;
    if (VOX_CUDA_ATTN_DEC > 0 && n == 1 && G == 4 && hd == 128) { /* the decode kernel: grid (splits, KV heads) */
        nsplit = vox_cuda_attn_splits(kvh, (long long)VOX_CUDA_ATTN_DEC * c->sm_count, (window + 31) / 32);
        if ((rc = reserve_part(be, nsplit, n, n_heads, hd))) return rc;
        void *args[] = {&out,     &c->attn_part, &q,   (void *)&kv->k, (void *)&kv->v, &c->pos,
                        &n_heads, &kvh,          &cap, &window,        &scale_log2};
        rc = vox_cuda_launch(be, c->k.k_attn_dec_g4_d128, (unsigned)nsplit, (unsigned)kvh, 1, 128, args);
    } else {
        int hdp = hd <= 32 ? 32 : hd <= 64 ? 64 : 128;
        int tc = (hd == 64 || hd == 128) && rows >= 64;
        int tq = tc ? 64 : (rows <= 8 && hdp >= 64) ? 4 : 16;
        CUfunction f = tc        ? (hd == 64 ? c->k.k_attn_tc_d64 : c->k.k_attn_tc_d128)
                       : tq == 4 ? (hdp == 64 ? c->k.k_attn_d64_q4 : c->k.k_attn_d128_q4)
                                 : (hdp == 32   ? c->k.k_attn_d32_q16
                                    : hdp == 64 ? c->k.k_attn_d64_q16
                                                : c->k.k_attn_d128_q16);
        int tiles = (rows + tq - 1) / tq;
        /* blocks wanted: 2 per SM; 4 for the light decode tiles (TQ 4), which wait on memory */
        nsplit =
            vox_cuda_attn_splits((long long)tiles * kvh, (tq == 4 ? 4LL : 2LL) * c->sm_count, (window + tq + 63) / 64);
        if ((rc = reserve_part(be, nsplit, n, n_heads, hd))) return rc;
        void *args[] = {&out,     &c->attn_part, &q,  (void *)&kv->k, (void *)&kv->v, &c->pos,    &n,
                        &n_heads, &kvh,          &hd, &cap,           &window,        &scale_log2};
        rc = vox_cuda_launch(be, f, (unsigned)tiles, (unsigned)kvh, (unsigned)nsplit, 128, args);
    }
    return rc || nsplit == 1 ? rc : vox_cuda_attn_combine(be, out, c->attn_part, n * n_heads, hd, nsplit);
}
