/* rows.cu — decoder ops over rows that each belong to their own stream (rows_args.cuh): RoPE at
 * per-row positions, K/V writes into per-row rings, RMSNorm with per-row ada scales, and
 * sliding-window GQA attention of each row over its own ring (FP32, online softmax). The
 * batched multi-stream step runs these (src/cuda/rows.c); built for every arch, not yet run
 * on a GPU by the project's tests (dev/opcheck.c has their checks). */
#include "common.cuh"
#include "rows_args.cuh"

/* x [n, n_heads*head_dim]: pair (2j, 2j+1) of row r rotates by pos[r] * inv_freq_j, inv_freq_j =
 * theta^(-2j/head_dim) rounded to f32 as in rope.cu and the CPU backend; angle in double, mod 2*pi. */
VOX_KERNEL void vox_rope_rows(float *x, vox_rows_args a, int n_heads, int head_dim, float theta) {
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
    long long total = (long long)a.n * kvd;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total;
         t += (long long)gridDim.x * blockDim.x) {
        int row = (int)(t / kvd), d = (int)(t % kvd);
        long long slot = a.pos[row] % a.cap[row];
        a.k[row][slot * kvd + d] = f_bf16(k[t]);
        a.v[row][slot * kvd + d] = f_bf16(v[t]);
    }
}

/* One block per row: y = x * rsqrt(mean(x^2) + eps) * w * (1 + scale[row]) (scale may be NULL). */
VOX_KERNEL void vox_rmsnorm_rows(float *y, const float *x, const float *w, vox_rows_args a, int dim, float eps) {
    const float *xr = x + (long long)blockIdx.x * dim;
    float *yr = y + (long long)blockIdx.x * dim;
    const float *scale1p = a.scale[blockIdx.x];
    __shared__ float red[32];
    float ss = 0.f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) ss += xr[i] * xr[i];
    ss = warp_sum(ss);
    if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = ss;
    __syncthreads();
    if (threadIdx.x < 32) {
        float v = threadIdx.x < (blockDim.x >> 5) ? red[threadIdx.x] : 0.f;
        v = warp_sum(v);
        if (threadIdx.x == 0) red[0] = v;
    }
    __syncthreads();
    float r = rsqrtf(red[0] / dim + eps);
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        float s = w[i];
        if (scale1p) s *= 1.0f + scale1p[i];
        yr[i] = xr[i] * r * s;
    }
}

#define ROWS_ATT_WARPS 8
/* Grid (rows, n_heads), 256 threads. Row r, query head h (kv head h / (n_heads / kvh)) sees keys
 * at positions pos[r]-window < j <= pos[r] (j >= 0) of ring r. Warp w takes keys lo + w,
 * lo + w + 8, ...; lane l holds dims l, l+32, l+64, l+96 (head_dim <= 128); each warp keeps an
 * online softmax (max, sum, weighted V) and the block merges the 8 at the end. */
VOX_KERNEL void vox_attn_rows(float *out, const float *q, vox_rows_args a, int n_heads, int kvh, int hd, int window,
                              float scale) {
    int row = blockIdx.x, h = blockIdx.y, g = h / (n_heads / kvh), kvd = kvh * hd;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    long long P = a.pos[row], lo = P - window + 1 > 0 ? P - window + 1 : 0;
    int cap = a.cap[row];
    const uint16_t *K = a.k[row], *V = a.v[row];
    const float *qr = q + ((long long)row * n_heads + h) * hd;
    float qv[4], acc[4];
    for (int c = 0; c < 4; c++) {
        int d = lane + 32 * c;
        qv[c] = d < hd ? qr[d] : 0.f;
        acc[c] = 0.f;
    }
    float m = -INFINITY, l = 0.f;
    for (long long j = lo + warp; j <= P; j += ROWS_ATT_WARPS) {
        const uint16_t *kr = K + (j % cap) * kvd + (long long)g * hd, *vr = V + (j % cap) * kvd + (long long)g * hd;
        float s = 0.f;
        for (int c = 0; c < 4; c++) {
            int d = lane + 32 * c;
            if (d < hd) s += qv[c] * bf16_f(kr[d]);
        }
        s = warp_sum(s) * scale;
        float mn = fmaxf(m, s), corr = m == -INFINITY ? 0.f : expf(m - mn), p = expf(s - mn);
        l = l * corr + p;
        for (int c = 0; c < 4; c++) {
            int d = lane + 32 * c;
            acc[c] = acc[c] * corr + (d < hd ? p * bf16_f(vr[d]) : 0.f);
        }
        m = mn;
    }
    __shared__ float sm[ROWS_ATT_WARPS], sl[ROWS_ATT_WARPS], sacc[ROWS_ATT_WARPS][128];
    if (lane == 0) {
        sm[warp] = m;
        sl[warp] = l;
    }
    for (int c = 0; c < 4; c++) {
        int d = lane + 32 * c;
        if (d < hd) sacc[warp][d] = acc[c];
    }
    __syncthreads();
    float M = -INFINITY;
    for (int w = 0; w < ROWS_ATT_WARPS; w++) M = fmaxf(M, sm[w]);
    float L = 0.f;
    for (int w = 0; w < ROWS_ATT_WARPS; w++) L += sm[w] == -INFINITY ? 0.f : sl[w] * expf(sm[w] - M);
    float *orow = out + ((long long)row * n_heads + h) * hd;
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
        float o = 0.f;
        for (int w = 0; w < ROWS_ATT_WARPS; w++)
            if (sm[w] != -INFINITY) o += sacc[w][d] * expf(sm[w] - M);
        orow[d] = o / L;
    }
}
