/* rows.cu — ops over rows that each belong to their own stream (rows_args.cuh: pos[r], and ring[r]
 * of one layer): RoPE at per-row positions, K/V writes into per-row rings and RMSNorm with per-row
 * ada scales (the rows' attention is in attention.cu, on the single-step kernel's tiles). Rows at a
 * negative position are padding: nothing is written for them. The batched multi-stream step and the
 * encoder passes run these (src/cuda/rows.c); dev/opcheck.c checks them against a CPU reference. */
#include "norm_row.cuh"
#include "rows_args.cuh"

/* x [n, n_heads*head_dim]: pair (2j, 2j+1) of row r rotates at pos[r] (rope_rotate, common.cuh). */
VOX_KERNEL void vox_rope_rows(float *x, const long long *pos, int n, int n_heads, int head_dim, float theta) {
    VOX_PDL_ENTER();
    int half = head_dim / 2;
    long long pairs = (long long)n * n_heads * half;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < pairs;
         t += (long long)gridDim.x * blockDim.x) {
        int j = (int)(t % half);
        int row = (int)(t / ((long long)n_heads * half));
        if (pos[row] < 0) continue;
        float2 *p = (float2 *)(x + 2 * t);
        *p = rope_rotate(*p, pos[row], j, head_dim, theta);
    }
}

/* k, v [n, kvd] f32: row r goes to slot pos[r] % cap of its ring. */
VOX_KERNEL void vox_kv_write_rows(const long long *pos, const vox_row_ring *ring, int n, const float *k, const float *v,
                                  int kvd) {
    VOX_PDL_ENTER();
    long long total = (long long)n * kvd;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total;
         t += (long long)gridDim.x * blockDim.x) {
        int row = (int)(t / kvd), d = (int)(t % kvd);
        if (pos[row] < 0) continue;
        long long slot = pos[row] % ring[row].cap;
        ring[row].k[slot * kvd + d] = f_bf16(k[t]);
        ring[row].v[slot * kvd + d] = f_bf16(v[t]);
    }
}

/* rope_rows(q), rope_rows(k) and kv_write_rows in one launch (the same bits as the three): as
 * vox_rope_kv_write (kv.cu) with row r at pos[r] in its ring. */
VOX_KERNEL void vox_rope_kv_write_rows(float *q, float *k, const float *v, const long long *pos,
                                       const vox_row_ring *ring, int n, int H, int KVH, int hd, float theta) {
    VOX_PDL_ENTER();
    int half = hd / 2, heads = H + KVH;
    long long pairs = (long long)n * heads * half;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < pairs;
         t += (long long)gridDim.x * blockDim.x) {
        int j = (int)(t % half), h = (int)((t / half) % heads), row = (int)(t / ((long long)heads * half));
        if (pos[row] < 0) continue;
        long long kvd = (long long)KVH * hd, slot = pos[row] % ring[row].cap;
        rope_kv_pair(q + (long long)row * H * hd, k + row * kvd, v + row * kvd, ring[row].k + slot * kvd,
                     ring[row].v + slot * kvd, h, j, H, hd, pos[row], theta);
    }
}

/* One block per row (norm_row.cuh), row r with its own ada scale ring[r].scale (may be NULL); a
 * padding row is normed without one. */
VOX_KERNEL void vox_rmsnorm_rows(float *y, const float *x, const float *w, const vox_row_ring *ring, int dim,
                                 float eps) {
    VOX_PDL_ENTER();
    vox_rmsnorm_row(y + (long long)blockIdx.x * dim, x + (long long)blockIdx.x * dim, w, ring[blockIdx.x].scale, dim,
                    eps);
}
