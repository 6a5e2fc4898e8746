/* rows.cu — decoder ops over rows that each belong to their own stream (rows_args.cuh): RoPE at
 * per-row positions, K/V writes into per-row rings and RMSNorm with per-row ada scales (the rows'
 * attention is in attention.cu, on the single-step kernel's tiles). The batched multi-stream step
 * runs these (src/cuda/rows.c); dev/opcheck.c checks them against a CPU reference. */
#include "norm_row.cuh"
#include "rows_args.cuh"

/* x [n, n_heads*head_dim]: pair (2j, 2j+1) of row r rotates by pos[r] * inv_freq_j, inv_freq_j =
 * theta^(-2j/head_dim) rounded to f32 as in rope.cu and the CPU backend; angle in double, mod 2*pi. */
VOX_KERNEL void vox_rope_rows(float *x, vox_rows_args a, int n_heads, int head_dim, float theta) {
    VOX_PDL_ENTER();
    int half = head_dim / 2;
    long long pairs = (long long)a.n * n_heads * half;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < pairs;
         t += (long long)gridDim.x * blockDim.x) {
        int j = (int)(t % half);
        int row = (int)(t / ((long long)n_heads * half));
        double inv_freq = (double)(float)(1.0 / pow((double)theta, (2.0 * j) / head_dim));
        double ang = (double)a.pos[row] * inv_freq;
        ang -= 6.283185307179586 * floor(ang * 0.15915494309189535);
        float s, c;
        sincosf((float)ang, &s, &c);
        float2 *p = (float2 *)(x + 2 * t);
        float2 v = *p;
        *p = make_float2(v.x * c - v.y * s, v.x * s + v.y * c);
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

/* One block per row (norm_row.cuh), row r with its own ada scale a.scale[r] (may be NULL). */
VOX_KERNEL void vox_rmsnorm_rows(float *y, const float *x, const float *w, vox_rows_args a, int dim, float eps) {
    VOX_PDL_ENTER();
    vox_rmsnorm_row(y + (long long)blockIdx.x * dim, x + (long long)blockIdx.x * dim, w, a.scale[blockIdx.x], dim, eps);
}
