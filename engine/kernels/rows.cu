/* rows.cu — decoder ops over rows that each belong to their own stream (rows_args.cuh): RoPE at
 * per-row positions, K/V writes into per-row rings and RMSNorm with per-row ada scales (the rows'
 * attention is in attention.cu, on the single-step kernel's tiles). The batched multi-stream step
 * runs these (src/cuda/rows.c); dev/opcheck.c checks them against a CPU reference. */
#include "norm_row.cuh"
#include "rows_args.cuh"

/* x [n, n_heads*head_dim]: pair (2j, 2j+1) of row r rotates at pos[r] (rope_rotate, common.cuh). */
VOX_KERNEL void vox_rope_rows(float *x, vox_rows_args a, int n_heads, int head_dim, float theta) {
    VOX_PDL_ENTER();
    int half = head_dim / 2;
    long long pairs = (long long)a.n * n_heads * half;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < pairs;
         t += (long long)gridDim.x * blockDim.x) {
        int j = (int)(t % half);
        int row = (int)(t / ((long long)n_heads * half));
        float2 *p = (float2 *)(x + 2 * t);
        *p = rope_rotate(*p, a.pos[row], j, head_dim, theta);
    }
}

/* k, v [n, kvd] f32: row r goes to slot pos[r] % cap[r] of ring r. */
VOX_KERNEL void vox_kv_write_rows(vox_rows_args a, const float *k, const float *v, int kvd) {
    VOX_PDL_ENTER();
    long long total = (long long)a.n * kvd;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total;
         t += (long long)gridDim.x * blockDim.x) {
        int row = (int)(t / kvd), d = (int)(t % kvd);
        long long slot = a.pos[row] % a.cap[row];
        a.k[row][slot * kvd + d] = f_bf16(k[t]);
        a.v[row][slot * kvd + d] = f_bf16(v[t]);
    }
}

/* rope_rows(q), rope_rows(k) and kv_write_rows in one launch (the same bits as the three): as
 * vox_rope_kv_write (kv.cu) with row r at a.pos[r] in ring r. */
VOX_KERNEL void vox_rope_kv_write_rows(float *q, float *k, const float *v, vox_rows_args a, int H, int KVH, int hd,
                                       float theta) {
    VOX_PDL_ENTER();
    int half = hd / 2, heads = H + KVH;
    long long pairs = (long long)a.n * heads * half;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < pairs;
         t += (long long)gridDim.x * blockDim.x) {
        int j = (int)(t % half), h = (int)((t / half) % heads), row = (int)(t / ((long long)heads * half));
        long long kvd = (long long)KVH * hd, slot = a.pos[row] % a.cap[row];
        rope_kv_pair(q + (long long)row * H * hd, k + row * kvd, v + row * kvd, a.k[row] + slot * kvd,
                     a.v[row] + slot * kvd, h, j, H, hd, a.pos[row], theta);
    }
}

/* One block per row (norm_row.cuh), row r with its own ada scale a.scale[r] (may be NULL). */
VOX_KERNEL void vox_rmsnorm_rows(float *y, const float *x, const float *w, vox_rows_args a, int dim, float eps) {
    VOX_PDL_ENTER();
    vox_rmsnorm_row(y + (long long)blockIdx.x * dim, x + (long long)blockIdx.x * dim, w, a.scale[blockIdx.x], dim, eps);
}
